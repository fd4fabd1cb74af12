//! The device registry: every device belongs to one patient and authenticates with an API
//! key that is shown once, stored as a keyed hash, rotatable and revocable.
//!
//! Registration, rotation and revocation notify the [`CREDENTIALS_CHANNEL`] channel in the
//! same transaction, so a running broker knows the new credentials, and drops the live
//! session of a changed key, as soon as the change commits.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::api_keys::{KeyError, KeyHasher};
use crate::ids::{DeviceId, UserId};

/// PostgreSQL NOTIFY channel carrying the client id of a principal (device or service)
/// whose credentials were created, changed or revoked.
pub const CREDENTIALS_CHANNEL: &str = "device_credentials";

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("no device with id {0}")]
    NotFound(DeviceId),
    #[error("no patient with id {0}")]
    PatientNotFound(UserId),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("device {0} is revoked")]
    Revoked(DeviceId),
    #[error("device {0} holds manual entries: it has no key")]
    ManualEntry(DeviceId),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "device_kind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeviceKind {
    Smartwatch,
    BpMonitor,
    PulseOximeter,
    Glucometer,
    Thermometer,
    Scale,
    /// Not a device: what a patient or their clinician enters by hand through the API.
    /// Each patient has one, made at their first manual entry; it may record any metric,
    /// and it is never registered, given a key, or rotated.
    Manual,
}

impl DeviceKind {
    /// The kinds a device can be registered as (all but [`DeviceKind::Manual`]).
    pub const ALL: [DeviceKind; 6] = [
        DeviceKind::Smartwatch,
        DeviceKind::BpMonitor,
        DeviceKind::PulseOximeter,
        DeviceKind::Glucometer,
        DeviceKind::Thermometer,
        DeviceKind::Scale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Smartwatch => "smartwatch",
            DeviceKind::BpMonitor => "bp_monitor",
            DeviceKind::PulseOximeter => "pulse_oximeter",
            DeviceKind::Glucometer => "glucometer",
            DeviceKind::Thermometer => "thermometer",
            DeviceKind::Scale => "scale",
            DeviceKind::Manual => "manual",
        }
    }

    /// The name a device gets when none is given.
    pub fn default_display_name(self) -> &'static str {
        match self {
            DeviceKind::Smartwatch => "Smartwatch",
            DeviceKind::BpMonitor => "Blood-pressure monitor",
            DeviceKind::PulseOximeter => "Pulse oximeter",
            DeviceKind::Glucometer => "Glucometer",
            DeviceKind::Thermometer => "Thermometer",
            DeviceKind::Scale => "Scale",
            DeviceKind::Manual => "Manual entries",
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeviceKind {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DeviceError::Invalid {
                field: "kind",
                message: format!(
                    "unknown device kind {s:?}; one of {}",
                    Self::ALL.map(DeviceKind::as_str).join(", ")
                ),
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "device_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeviceStatus {
    Active,
    Revoked,
}

/// A device as operators and owners see it (never its key hash).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: DeviceId,
    pub patient_id: UserId,
    pub kind: DeviceKind,
    pub display_name: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub firmware_version: Option<String>,
    pub status: DeviceStatus,
    /// Non-secret start of the current API key, for recognising it in logs.
    pub api_key_prefix: String,
    pub online: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub battery: Option<f32>,
}

pub const DEVICE_COLUMNS: &str = "id, patient_id, kind, display_name, manufacturer, model, \
     firmware_version, status, api_key_prefix, online, created_at, last_seen_at, battery";

/// A device to register.
#[derive(Clone, Debug)]
pub struct NewDevice {
    pub patient_id: UserId,
    pub kind: DeviceKind,
    pub display_name: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub firmware_version: Option<String>,
}

/// A device with its API key in clear: returned once, at registration or rotation.
#[derive(Debug, Serialize)]
pub struct DeviceWithKey {
    pub device: Device,
    pub api_key: String,
}

/// What the broker needs to authenticate a device.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Credential {
    pub id: DeviceId,
    pub patient_id: UserId,
    pub kind: DeviceKind,
    pub status: DeviceStatus,
    pub api_key_prefix: String,
    pub api_key_hash: Vec<u8>,
}

fn optional_text(
    field: &'static str,
    value: Option<String>,
) -> Result<Option<String>, DeviceError> {
    match value.map(|v| v.trim().to_owned()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.chars().count() > 100 || v.chars().any(char::is_control) => {
            Err(DeviceError::Invalid {
                field,
                message: "must be at most 100 printable characters".into(),
            })
        }
        Some(v) => Ok(Some(v)),
    }
}

pub async fn register(
    pool: &PgPool,
    hasher: &KeyHasher,
    new: NewDevice,
) -> Result<DeviceWithKey, DeviceError> {
    if new.kind == DeviceKind::Manual {
        return Err(DeviceError::Invalid {
            field: "kind",
            message: "manual entries need no device: post them to the patient's metrics".into(),
        });
    }
    let display_name = optional_text("name", new.display_name)?
        .unwrap_or_else(|| new.kind.default_display_name().to_owned());
    let manufacturer = optional_text("manufacturer", new.manufacturer)?;
    let model = optional_text("model", new.model)?;
    let firmware_version = optional_text("firmware_version", new.firmware_version)?;
    let key = hasher.issue()?;
    let mut tx = pool.begin().await?;
    let device = sqlx::query_as::<_, Device>(&format!(
        "INSERT INTO devices (id, patient_id, kind, display_name, manufacturer, model,
                              firmware_version, api_key_prefix, api_key_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING {DEVICE_COLUMNS}"
    ))
    .bind(DeviceId::new())
    .bind(new.patient_id)
    .bind(new.kind)
    .bind(display_name)
    .bind(manufacturer)
    .bind(model)
    .bind(firmware_version)
    .bind(&key.prefix)
    .bind(&key.hash)
    .fetch_one(&mut *tx)
    .await
    .map_err(
        |e| match e.as_database_error().and_then(|d| d.constraint()) {
            Some("devices_patient_id_fkey") => DeviceError::PatientNotFound(new.patient_id),
            _ => DeviceError::Db(e),
        },
    )?;
    notify_credentials_changed(&mut tx, &device.id.to_string()).await?;
    tx.commit().await?;
    Ok(DeviceWithKey {
        device,
        api_key: key.key,
    })
}

/// The patient's manual-entry device, made on first use. Its key is issued and dropped at
/// once: nothing can connect as it. The patient's row is locked while looking, so that two
/// first entries at once make one device.
pub async fn manual_entry_device(
    pool: &PgPool,
    hasher: &KeyHasher,
    patient: UserId,
) -> Result<DeviceId, DeviceError> {
    let mut tx = pool.begin().await?;
    let exists: Option<UserId> =
        sqlx::query_scalar("SELECT user_id FROM patients WHERE user_id = $1 FOR UPDATE")
            .bind(patient)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Err(DeviceError::PatientNotFound(patient));
    }
    let found: Option<DeviceId> = sqlx::query_scalar(
        "SELECT id FROM devices WHERE patient_id = $1 AND kind = 'manual' AND status = 'active'",
    )
    .bind(patient)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    let key = hasher.issue()?;
    let id = DeviceId::new();
    sqlx::query(
        "INSERT INTO devices (id, patient_id, kind, display_name, api_key_prefix, api_key_hash)
         VALUES ($1, $2, 'manual', $3, $4, $5)",
    )
    .bind(id)
    .bind(patient)
    .bind(DeviceKind::Manual.default_display_name())
    .bind(&key.prefix)
    .bind(&key.hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Issues a new key; the old one stops working at once.
pub async fn rotate_key(
    pool: &PgPool,
    hasher: &KeyHasher,
    id: DeviceId,
) -> Result<DeviceWithKey, DeviceError> {
    let key = hasher.issue()?;
    let mut tx = pool.begin().await?;
    let device = sqlx::query_as::<_, Device>(&format!(
        "UPDATE devices SET api_key_prefix = $2, api_key_hash = $3, key_rotated_at = now()
         WHERE id = $1 RETURNING {DEVICE_COLUMNS}"
    ))
    .bind(id)
    .bind(&key.prefix)
    .bind(&key.hash)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DeviceError::NotFound(id))?;
    // Refusals roll the update back: the transaction is dropped uncommitted.
    if device.status == DeviceStatus::Revoked {
        return Err(DeviceError::Revoked(id));
    }
    if device.kind == DeviceKind::Manual {
        return Err(DeviceError::ManualEntry(id));
    }
    notify_credentials_changed(&mut tx, &id.to_string()).await?;
    tx.commit().await?;
    Ok(DeviceWithKey {
        device,
        api_key: key.key,
    })
}

/// Revokes a device for good: its key is refused and its live session dropped.
pub async fn revoke(pool: &PgPool, id: DeviceId) -> Result<Device, DeviceError> {
    let mut tx = pool.begin().await?;
    let device = sqlx::query_as::<_, Device>(&format!(
        "UPDATE devices SET status = 'revoked', revoked_at = coalesce(revoked_at, now())
         WHERE id = $1 RETURNING {DEVICE_COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DeviceError::NotFound(id))?;
    notify_credentials_changed(&mut tx, &id.to_string()).await?;
    tx.commit().await?;
    Ok(device)
}

/// Tells running brokers, once the transaction commits, that `client_id`'s credentials
/// changed.
pub async fn notify_credentials_changed(
    tx: &mut sqlx::PgConnection,
    client_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CREDENTIALS_CHANNEL)
        .bind(client_id)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn get(pool: &PgPool, id: DeviceId) -> Result<Option<Device>, sqlx::Error> {
    sqlx::query_as::<_, Device>(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Gives a device a new display name.
pub async fn rename(pool: &PgPool, id: DeviceId, name: String) -> Result<Device, DeviceError> {
    let name = optional_text("name", Some(name))?.ok_or(DeviceError::Invalid {
        field: "name",
        message: "must not be empty".into(),
    })?;
    sqlx::query_as::<_, Device>(&format!(
        "UPDATE devices SET display_name = $2 WHERE id = $1 RETURNING {DEVICE_COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .fetch_optional(pool)
    .await?
    .ok_or(DeviceError::NotFound(id))
}

/// All devices, newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<Device>, DeviceError> {
    Ok(sqlx::query_as::<_, Device>(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at DESC, id"
    ))
    .fetch_all(pool)
    .await?)
}

pub async fn credential(pool: &PgPool, id: DeviceId) -> Result<Option<Credential>, sqlx::Error> {
    sqlx::query_as::<_, Credential>(
        "SELECT id, patient_id, kind, status, api_key_prefix, api_key_hash
         FROM devices WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_kinds_name_the_valid_ones() {
        for kind in DeviceKind::ALL {
            assert_eq!(kind.as_str().parse::<DeviceKind>().unwrap(), kind);
        }
        let err = "toaster".parse::<DeviceKind>().unwrap_err().to_string();
        assert!(err.contains("smartwatch, bp_monitor"), "{err}");
    }

    #[test]
    fn optional_text_trims_and_bounds() {
        assert_eq!(
            optional_text("model", Some("  X1 ".into())).unwrap(),
            Some("X1".into())
        );
        assert_eq!(optional_text("model", Some("   ".into())).unwrap(), None);
        assert!(optional_text("model", Some("a".repeat(101))).is_err());
        assert!(optional_text("model", Some("a\u{7}".into())).is_err());
    }
}
