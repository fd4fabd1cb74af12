//! Provisioning: creates simulated patients and their devices in the platform's database,
//! with keys issued by the platform's own server secret, and returns the roster (the
//! credentials file) the fleet reads. Patients get no password: they are simulated, not
//! people who log in.

use std::sync::Arc;

use healthsync_core::api_keys::KeyHasher;
use healthsync_core::devices::{self, DeviceError, NewDevice};
use healthsync_core::users::{self, Email, NewUser, Role, UserError, UserStatus};
use indicatif::ProgressBar;
use sqlx::PgPool;
use tokio::task::JoinSet;

use crate::models::Model;
use crate::profiles::{Profile, Profiles};
use crate::roster::{Roster, RosterDevice, RosterPatient};

/// Patients registered at once.
const CONCURRENCY: usize = 8;

/// One patient to create.
#[derive(Clone, Debug)]
pub struct PlannedPatient {
    pub label: String,
    pub profile: String,
    pub models: Vec<Model>,
}

/// `count` patients `patient-0001`, ... Profiles are dealt in turn (sorted by name,
/// starting at `seed`), or all `only` when given; each patient wears one of every device
/// model their profile names.
pub fn plan(
    profiles: &Profiles,
    count: usize,
    seed: u64,
    only: Option<&str>,
) -> Result<Vec<PlannedPatient>, ProvisionError> {
    let mut chosen: Vec<&Profile> = match only {
        Some(name) => vec![
            profiles
                .profile(name)
                .ok_or_else(|| ProvisionError::UnknownProfile(name.to_owned()))?,
        ],
        None => profiles.profiles().collect(),
    };
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((0..count)
        .map(|i| {
            let profile = chosen[(seed as usize).wrapping_add(i) % chosen.len()];
            PlannedPatient {
                label: format!("patient-{:04}", i + 1),
                profile: profile.name.clone(),
                models: profile.devices.clone(),
            }
        })
        .collect())
}

/// `count` patients `{prefix}-000001`, ... of the healthy-adult profile, each wearing one
/// smartwatch: the fleet of load tests and benchmarks.
pub fn smartwatches(prefix: &str, count: usize) -> Vec<PlannedPatient> {
    (1..=count)
        .map(|i| PlannedPatient {
            label: format!("{prefix}-{i:06}"),
            profile: "healthy_adult".into(),
            models: vec![Model::Smartwatch],
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("unknown profile {0:?}")]
    UnknownProfile(String),
    #[error("creating patient {label}: {source}")]
    Patient { label: String, source: UserError },
    #[error("registering a {model} for {label}: {source}")]
    Device {
        label: String,
        model: Model,
        source: DeviceError,
    },
    #[error("provisioning task failed: {0}")]
    Task(String),
}

/// Creates the planned patients and devices; the roster keeps the plan's order. `run` tells
/// this provisioning's e-mail addresses apart from earlier ones (e.g. a short random id).
pub async fn provision(
    pool: &PgPool,
    hasher: &KeyHasher,
    plan: Vec<PlannedPatient>,
    run: &str,
    progress: &ProgressBar,
) -> Result<Roster, ProvisionError> {
    let plan = Arc::new(plan);
    let mut workers = JoinSet::new();
    for worker in 0..CONCURRENCY.min(plan.len()) {
        let (pool, hasher, plan, progress) =
            (pool.clone(), hasher.clone(), plan.clone(), progress.clone());
        let run = run.to_owned();
        workers.spawn(async move {
            let mut created = Vec::new();
            for index in (worker..plan.len()).step_by(CONCURRENCY) {
                let patient = create_patient(&pool, &hasher, &plan[index], &run).await?;
                created.push((index, patient));
                progress.inc(1);
            }
            Ok::<_, ProvisionError>(created)
        });
    }
    let mut patients = Vec::with_capacity(plan.len());
    while let Some(joined) = workers.join_next().await {
        patients.extend(joined.map_err(|e| ProvisionError::Task(e.to_string()))??);
    }
    patients.sort_by_key(|(index, _)| *index);
    Ok(Roster {
        patients: patients.into_iter().map(|(_, p)| p).collect(),
    })
}

async fn create_patient(
    pool: &PgPool,
    hasher: &KeyHasher,
    planned: &PlannedPatient,
    run: &str,
) -> Result<RosterPatient, ProvisionError> {
    let label = planned.label.clone();
    let (first_name, last_name) = name_for(&label);
    let email = Email::parse(&format!("{label}.{run}@sim.healthsync.test")).map_err(|source| {
        ProvisionError::Patient {
            label: label.clone(),
            source,
        }
    })?;
    let user = users::create(
        pool,
        NewUser {
            email,
            first_name,
            last_name,
            phone: None,
            role: Role::Patient,
            status: UserStatus::Active,
            password: None,
        },
    )
    .await
    .map_err(|source| ProvisionError::Patient {
        label: label.clone(),
        source,
    })?;
    let mut devices = Vec::with_capacity(planned.models.len());
    for &model in &planned.models {
        let new = NewDevice {
            patient_id: user.id,
            kind: model.kind(),
            display_name: None,
            manufacturer: Some("healthsync simulator".into()),
            model: Some(model.name().into()),
            firmware_version: Some(env!("CARGO_PKG_VERSION").into()),
        };
        let registered = devices::register(pool, hasher, new)
            .await
            .map_err(|source| ProvisionError::Device {
                label: label.clone(),
                model,
                source,
            })?;
        devices.push(RosterDevice {
            id: registered.device.id,
            model,
            api_key: registered.api_key,
        });
    }
    Ok(RosterPatient {
        id: user.id,
        label,
        profile: planned.profile.clone(),
        devices,
    })
}

const FIRST_NAMES: [&str; 16] = [
    "Ada", "Bram", "Chloé", "Dev", "Elif", "Femi", "Greta", "Hiro", "Inés", "Jonas", "Kaia",
    "Luca", "Mei", "Nils", "Oona", "Priya",
];
const LAST_NAMES: [&str; 16] = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Patel",
    "Yılmaz",
    "Adeyemi",
    "Novak",
    "Tanaka",
    "García",
    "Becker",
    "Rahman",
    "Rossi",
    "Chen",
    "Haddad",
    "Kowalski",
    "Silva",
];

/// A readable name derived from the label, so dashboards show people, not ids.
fn name_for(label: &str) -> (String, String) {
    let n: usize = label.bytes().filter(u8::is_ascii_digit).fold(0, |n, d| {
        n.wrapping_mul(10).wrapping_add((d - b'0') as usize)
    });
    (
        FIRST_NAMES[n % FIRST_NAMES.len()].to_owned(),
        LAST_NAMES[(n / FIRST_NAMES.len() + n) % LAST_NAMES.len()].to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_deal_every_profile_and_its_devices() {
        let profiles = Profiles::builtin();
        let count = profiles.profiles().count();
        let plan = plan(&profiles, count, 3, None).unwrap();
        let mut names: Vec<_> = plan.iter().map(|p| p.profile.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "each profile once in {count} patients");
        for planned in &plan {
            let profile = profiles.profile(&planned.profile).unwrap();
            assert_eq!(planned.models, profile.devices);
        }
        assert_eq!(plan[0].label, "patient-0001");
        let copd = super::plan(&profiles, 2, 0, Some("copd")).unwrap();
        assert!(copd.iter().all(|p| p.profile == "copd"));
        assert!(super::plan(&profiles, 1, 0, Some("vampire")).is_err());
    }

    #[test]
    fn names_are_stable_per_label() {
        assert_eq!(name_for("patient-0001"), name_for("patient-0001"));
        assert_ne!(name_for("patient-0001"), name_for("patient-0002"));
    }
}
