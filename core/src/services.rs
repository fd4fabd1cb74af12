//! Service principals: internal clients of the broker (external ingest workers) with their
//! own API keys and broader, role-bound topic permissions. Their MQTT client id and
//! username is `service:<name>`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::api_keys::{KeyError, KeyHasher};
use crate::devices;

pub const CLIENT_ID_PREFIX: &str = "service:";

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("name: use 1 to 40 characters from a-z, 0-9 and '-'")]
    InvalidName,
    #[error("a service named {0:?} already exists")]
    Duplicate(String),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// What a service may do on the broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "service_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ServiceRole {
    /// Reads every device's telemetry and status (also through `$share/...`), writes acks.
    Ingest,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceWithKey {
    pub name: String,
    pub client_id: String,
    pub role: ServiceRole,
    pub api_key: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ServiceCredential {
    pub name: String,
    pub role: ServiceRole,
    pub revoked_at: Option<DateTime<Utc>>,
    pub api_key_hash: Vec<u8>,
}

pub fn valid_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub async fn create(
    pool: &PgPool,
    hasher: &KeyHasher,
    name: &str,
    role: ServiceRole,
) -> Result<ServiceWithKey, ServiceError> {
    if !valid_name(name) {
        return Err(ServiceError::InvalidName);
    }
    let key = hasher.issue()?;
    let client_id = format!("{CLIENT_ID_PREFIX}{name}");
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO service_principals (name, role, api_key_prefix, api_key_hash)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(name)
    .bind(role)
    .bind(&key.prefix)
    .bind(&key.hash)
    .execute(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().and_then(|d| d.code()) {
        Some(code) if code == "23505" => ServiceError::Duplicate(name.to_owned()),
        _ => ServiceError::Db(e),
    })?;
    devices::notify_credentials_changed(&mut tx, &client_id).await?;
    tx.commit().await?;
    Ok(ServiceWithKey {
        name: name.to_owned(),
        client_id,
        role,
        api_key: key.key,
    })
}

pub async fn credential(
    pool: &PgPool,
    name: &str,
) -> Result<Option<ServiceCredential>, sqlx::Error> {
    sqlx::query_as::<_, ServiceCredential>(
        "SELECT name, role, revoked_at, api_key_hash FROM service_principals WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await
}
