//! The database: connecting to the configured PostgreSQL or starting the embedded cluster,
//! enabling TimescaleDB, applying the migrations embedded in the binary, and reporting
//! readiness.

pub mod embedded;

use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::config::Settings;
pub use embedded::{ClusterStatus, EmbeddedCluster, EmbeddedError, RunningCluster, StartMode};

/// The SQL migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid database.url: {0}")]
    Url(String),
    #[error(
        "the database has no TimescaleDB extension available; run `deploy/setup.sh` to install it, or set database.allow_plain_postgres = true to run on plain tables"
    )]
    TimescaleUnavailable,
    #[error("{0}")]
    Blocking(String),
}

/// What the `readings` table is stored in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Storage {
    /// TimescaleDB with its license (`apache` or `timescale`): the latter alone has
    /// compression, continuous aggregates and background policies.
    Timescaledb {
        version: String,
        license: String,
    },
    PlainPostgres,
}

/// An open database: a pool, what it stores readings in, and the embedded cluster if this
/// process runs one.
pub struct Database {
    pub pool: PgPool,
    pub storage: Storage,
    /// Migrations this `open` applied (0 when the schema was already current).
    pub applied_migrations: usize,
    cluster: Option<RunningCluster>,
}

impl Database {
    /// Opens the configured database, starting the embedded cluster (attached to this
    /// process) when no URL is configured, creating the application database, enabling
    /// TimescaleDB and applying pending migrations.
    pub async fn open(settings: &Settings) -> Result<Self, DbError> {
        let (options, cluster) = match &settings.database.url {
            Some(url) => (
                PgConnectOptions::from_str(url).map_err(|e| DbError::Url(e.to_string()))?,
                None,
            ),
            None => {
                let running = start_embedded(settings, StartMode::Attached).await?;
                let options =
                    PgConnectOptions::from_str(&running.cluster().url(embedded::DATABASE))
                        .map_err(|e| DbError::Url(e.to_string()))?;
                create_database_if_missing(&options, embedded::DATABASE).await?;
                (options, Some(running))
            }
        };
        let pool = PgPoolOptions::new()
            .max_connections(settings.database.max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let storage = prepare_storage(&pool, settings.database.allow_plain_postgres).await?;
        let applied_migrations = migrate(&pool).await?;
        if applied_migrations > 0 {
            tracing::info!(applied_migrations, "database migrations applied");
        }
        Ok(Self {
            pool,
            storage,
            applied_migrations,
            cluster,
        })
    }

    /// Closes the pool and stops the embedded cluster if this process started it.
    pub async fn close(self) -> Result<(), DbError> {
        self.pool.close().await;
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop())
                .await
                .map_err(|e| DbError::Blocking(e.to_string()))??;
        }
        Ok(())
    }
}

/// Describes the embedded cluster of the configured data directory.
pub fn embedded_cluster(settings: &Settings) -> Result<EmbeddedCluster, EmbeddedError> {
    EmbeddedCluster::new(&settings.data_dir, !settings.database.allow_plain_postgres)
}

/// Starts (or reuses) the embedded cluster; the blocking work runs off the async runtime.
pub async fn start_embedded(
    settings: &Settings,
    mode: StartMode,
) -> Result<RunningCluster, DbError> {
    let cluster = embedded_cluster(settings)?;
    tokio::task::spawn_blocking(move || cluster.start(mode))
        .await
        .map_err(|e| DbError::Blocking(e.to_string()))?
        .map_err(DbError::from)
}

/// Creates `name` unless it exists, connecting to the maintenance database `postgres`.
pub async fn create_database_if_missing(
    options: &PgConnectOptions,
    name: &str,
) -> Result<(), DbError> {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone().database("postgres"))
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&admin)
            .await?;
    if !exists {
        // Identifiers cannot be bound; quote_ident makes the name safe.
        let quoted: String = sqlx::query_scalar("SELECT quote_ident($1)")
            .bind(name)
            .fetch_one(&admin)
            .await?;
        let created = sqlx::query(&format!("CREATE DATABASE {quoted}"))
            .execute(&admin)
            .await;
        // A concurrent starter may have won the race; that is fine.
        if let Err(e) = created
            && !is_duplicate_database(&e)
        {
            return Err(e.into());
        }
    }
    admin.close().await;
    Ok(())
}

fn is_duplicate_database(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "42P04" || code == "23505")
}

/// Enables TimescaleDB when the server offers it; otherwise refuses unless plain
/// PostgreSQL is allowed.
pub async fn prepare_storage(pool: &PgPool, allow_plain: bool) -> Result<Storage, DbError> {
    let available: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')",
    )
    .fetch_one(pool)
    .await?;
    if !available {
        if allow_plain {
            tracing::warn!(
                "TimescaleDB is not available: readings are stored in a plain PostgreSQL table"
            );
            return Ok(Storage::PlainPostgres);
        }
        return Err(DbError::TimescaleUnavailable);
    }
    sqlx::query("CREATE EXTENSION IF NOT EXISTS timescaledb")
        .execute(pool)
        .await?;
    storage(pool).await
}

/// What the connected database stores readings in.
pub async fn storage(pool: &PgPool) -> Result<Storage, DbError> {
    let version: Option<String> =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
            .fetch_optional(pool)
            .await?;
    Ok(match version {
        Some(version) => {
            let license: String =
                sqlx::query_scalar("SELECT current_setting('timescaledb.license')")
                    .fetch_one(pool)
                    .await?;
            Storage::Timescaledb { version, license }
        }
        None => Storage::PlainPostgres,
    })
}

/// Applies pending migrations and returns how many were applied.
pub async fn migrate(pool: &PgPool) -> Result<usize, DbError> {
    let before = applied_versions(pool).await?;
    MIGRATOR.run(pool).await?;
    let after = applied_versions(pool).await?;
    Ok(after.saturating_sub(before))
}

async fn applied_versions(pool: &PgPool) -> Result<usize, DbError> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if table.is_none() {
        return Ok(0);
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await?;
    Ok(n as usize)
}

/// Readiness of the database as `/readyz` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Readiness {
    pub database: bool,
    /// Every migration compiled into this binary has been applied successfully.
    pub migrations: bool,
    pub storage: Option<Storage>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.database && self.migrations
    }
}

pub async fn readiness(pool: &PgPool) -> Readiness {
    let reachable = sqlx::query("SELECT 1").execute(pool).await.is_ok();
    if !reachable {
        return Readiness {
            database: false,
            migrations: false,
            storage: None,
        };
    }
    let expected = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .count();
    let migrations = applied_versions(pool).await.ok() == Some(expected);
    Readiness {
        database: true,
        migrations,
        storage: storage(pool).await.ok(),
    }
}
