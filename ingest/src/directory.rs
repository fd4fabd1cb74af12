//! What validation needs to know about a device — its kind (which metrics it may send) and
//! its patient — cached after the first look-up, since neither ever changes.

use std::collections::HashMap;
use std::sync::Mutex;

use healthsync_core::devices::{DeviceKind, DeviceStatus};
use healthsync_core::ids::{DeviceId, UserId};
use sqlx::PgPool;

#[derive(Clone, Copy, Debug)]
pub struct DeviceInfo {
    pub kind: DeviceKind,
    pub patient: UserId,
}

pub struct Directory {
    pool: PgPool,
    known: Mutex<HashMap<DeviceId, DeviceInfo>>,
}

impl Directory {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            known: Mutex::default(),
        }
    }

    /// The device, or `None` if there is no active device with this id.
    pub async fn get(&self, id: DeviceId) -> Result<Option<DeviceInfo>, sqlx::Error> {
        if let Some(info) = self.known.lock().expect("directory lock").get(&id) {
            return Ok(Some(*info));
        }
        let row: Option<(DeviceKind, UserId, DeviceStatus)> =
            sqlx::query_as("SELECT kind, patient_id, status FROM devices WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((kind, patient, DeviceStatus::Active)) => {
                let info = DeviceInfo { kind, patient };
                self.known.lock().expect("directory lock").insert(id, info);
                Some(info)
            }
            _ => None,
        })
    }
}
