//! The fleet roster: which simulated patients exist, with which physiology profile, and
//! which devices they wear, with the devices' API keys. `healthsync sim provision` writes
//! it (the credentials file); the fleet and the scenario generator read it.
//!
//! It holds API keys: it is written readable by its owner only.

use std::io::Write;
use std::path::Path;

use healthsync_core::ids::{DeviceId, UserId};
use serde::{Deserialize, Serialize};

use crate::models::Model;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    pub patients: Vec<RosterPatient>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterPatient {
    pub id: UserId,
    /// Stable within a roster: `patient-0001`, ...
    pub label: String,
    /// The physiology profile's name (see `data/profiles.toml`).
    pub profile: String,
    pub devices: Vec<RosterDevice>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterDevice {
    pub id: DeviceId,
    pub model: Model,
    pub api_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a healthsync roster: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: the roster has no devices")]
    Empty { path: String },
}

impl Roster {
    pub fn devices(&self) -> impl Iterator<Item = (&RosterPatient, &RosterDevice)> {
        self.patients
            .iter()
            .flat_map(|p| p.devices.iter().map(move |d| (p, d)))
    }

    pub fn load(path: &Path) -> Result<Roster, RosterError> {
        let shown = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| RosterError::Read {
            path: shown.clone(),
            source,
        })?;
        let roster: Roster =
            serde_json::from_slice(&text).map_err(|source| RosterError::Parse {
                path: shown.clone(),
                source,
            })?;
        if roster.devices().next().is_none() {
            return Err(RosterError::Empty { path: shown });
        }
        Ok(roster)
    }

    /// Writes the roster with mode 0600: it holds API keys.
    pub fn save(&self, path: &Path) -> Result<(), RosterError> {
        use std::os::unix::fs::OpenOptionsExt;
        let failed = |source| RosterError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(failed)?;
        let json = serde_json::to_vec_pretty(self).expect("a roster always serializes");
        file.write_all(&json).map_err(failed)?;
        file.write_all(b"\n").map_err(failed)
    }
}
