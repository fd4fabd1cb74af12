//! `healthsync user|device|service ...`: the registries by hand, for operators and demos.
//! They work on the same data directory (or database) as a running `healthsync up`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::Settings;
use healthsync_core::db::Database;
use healthsync_core::devices::{self, DeviceKind, NewDevice};
use healthsync_core::ids::DeviceId;
use healthsync_core::services::{self, ServiceRole};
use healthsync_core::users::{self, Email, NewUser, Phone, Role, UserStatus};
use serde_json::json;

/// Runs `work` on the opened database and closes it (stopping the embedded cluster if this
/// command started it) whatever the outcome.
async fn with_database<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&Database) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let db = Database::open(settings).await?;
    let result = work(&db).await;
    db.close().await?;
    result
}

fn hasher(settings: &Settings) -> anyhow::Result<KeyHasher> {
    Ok(KeyHasher::load(
        settings.secrets.api_key_hmac.as_deref(),
        &settings.data_dir,
    )?)
}

#[derive(Args)]
pub struct UserAdd {
    #[arg(long)]
    email: String,
    /// Full name, e.g. "Ada Lovelace".
    #[arg(long)]
    name: String,
    /// patient, clinician or admin.
    #[arg(long)]
    role: Role,
    /// Login password (8 to 256 characters); without it the user cannot log in yet.
    #[arg(long)]
    password: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn user_add(settings: &Settings, args: UserAdd) -> anyhow::Result<ExitCode> {
    let email = Email::parse(&args.email)?;
    let name = args.name.trim();
    let (first_name, last_name) = name.split_once(' ').unwrap_or((name, ""));
    let new = NewUser {
        email,
        first_name: first_name.to_owned(),
        // One-word names are allowed; the record needs some last name.
        last_name: if last_name.trim().is_empty() {
            "-".into()
        } else {
            last_name.trim().to_owned()
        },
        phone: args.phone.as_deref().map(Phone::parse).transpose()?,
        role: args.role,
        status: UserStatus::Active,
        password: args.password,
    };
    let user = with_database(settings, async |db| Ok(users::create(&db.pool, new).await?)).await?;
    if args.json {
        println!(
            "{}",
            json!({"user_id": user.id, "email": user.email, "role": user.role})
        );
    } else {
        println!("created {:?} {} ({})", user.role, user.email, user.id);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct DeviceAdd {
    /// Email of the patient who owns the device.
    #[arg(long)]
    patient: String,
    /// smartwatch, bp_monitor, pulse_oximeter, glucometer, thermometer or scale.
    #[arg(long)]
    kind: DeviceKind,
    /// Display name (default: the kind's name).
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    manufacturer: Option<String>,
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    firmware_version: Option<String>,
    #[arg(long)]
    json: bool,
}

pub async fn device_add(settings: &Settings, args: DeviceAdd) -> anyhow::Result<ExitCode> {
    let email = Email::parse(&args.patient)?;
    let hasher = hasher(settings)?;
    let registered = with_database(settings, async |db| {
        let patient = users::find_by_email(&db.pool, &email)
            .await?
            .with_context(|| format!("no user with email {email}"))?;
        anyhow::ensure!(patient.role == Role::Patient, "{email} is not a patient");
        let new = NewDevice {
            patient_id: patient.id,
            kind: args.kind,
            display_name: args.name,
            manufacturer: args.manufacturer,
            model: args.model,
            firmware_version: args.firmware_version,
        };
        Ok(devices::register(&db.pool, &hasher, new).await?)
    })
    .await?;
    print_key(&registered.device.id, &registered.api_key, args.json);
    Ok(ExitCode::SUCCESS)
}

pub async fn device_rotate_key(
    settings: &Settings,
    id: DeviceId,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let hasher = hasher(settings)?;
    let rotated = with_database(settings, async |db| {
        Ok(devices::rotate_key(&db.pool, &hasher, id).await?)
    })
    .await?;
    print_key(&rotated.device.id, &rotated.api_key, json);
    Ok(ExitCode::SUCCESS)
}

fn print_key(id: &DeviceId, api_key: &str, json: bool) {
    if json {
        println!("{}", json!({"device_id": id, "api_key": api_key}));
    } else {
        println!("device id  {id}");
        println!("API key    {api_key}");
        println!("(the key is shown only now; store it on the device)");
    }
}

pub async fn device_revoke(settings: &Settings, id: DeviceId) -> anyhow::Result<ExitCode> {
    let device = with_database(
        settings,
        async |db| Ok(devices::revoke(&db.pool, id).await?),
    )
    .await?;
    println!("revoked {} ({})", device.id, device.display_name);
    Ok(ExitCode::SUCCESS)
}

pub async fn device_list(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let list = with_database(settings, async |db| Ok(devices::list(&db.pool).await?)).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<36}  {:<14}  {:<8}  {:<7}  {:<12}  name",
        "id", "kind", "status", "online", "key"
    );
    for d in list {
        println!(
            "{:<36}  {:<14}  {:<8}  {:<7}  {:<12}  {}",
            d.id,
            d.kind.as_str(),
            format!("{:?}", d.status).to_lowercase(),
            d.online,
            d.api_key_prefix,
            d.display_name
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn service_add(settings: &Settings, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let hasher = hasher(settings)?;
    let service = with_database(settings, async |db| {
        Ok(services::create(&db.pool, &hasher, name, ServiceRole::Ingest).await?)
    })
    .await?;
    if json {
        println!("{}", serde_json::to_string(&service)?);
    } else {
        println!("client id / username  {}", service.client_id);
        println!("API key               {}", service.api_key);
        println!("(the key is shown only now)");
    }
    Ok(ExitCode::SUCCESS)
}
