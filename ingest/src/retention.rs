//! Retention: readings older than the configured window are dropped, whole chunks at a time
//! (`drop_chunks`) where TimescaleDB runs, by a row delete on plain PostgreSQL; their
//! rollups go with them, so nothing is kept longer than the window says.

use std::time::Duration;

use healthsync_core::db::{self, Storage};
use sqlx::PgPool;

const EVERY: Duration = Duration::from_secs(3600);

/// Drops what is past retention now; returns how many chunks (or rows) went.
pub async fn enforce(pool: &PgPool, retention_days: u32) -> Result<u64, sqlx::Error> {
    let older_than = format!("{retention_days} days");
    for table in ["readings_5m", "readings_1d"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE slot < now() - $1::interval"
        ))
        .bind(&older_than)
        .execute(pool)
        .await?;
    }
    let storage = db::storage(pool)
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    match storage {
        Storage::Timescaledb { .. } => {
            let dropped: Vec<String> = sqlx::query_scalar(
                "SELECT drop_chunks('readings', older_than => now() - $1::interval)::text",
            )
            .bind(&older_than)
            .fetch_all(pool)
            .await?;
            Ok(dropped.len() as u64)
        }
        Storage::PlainPostgres => Ok(sqlx::query(
            "DELETE FROM readings WHERE measured_at < now() - $1::interval",
        )
        .bind(&older_than)
        .execute(pool)
        .await?
        .rows_affected()),
    }
}

/// Enforces retention now and then every hour, until the runtime stops.
pub fn spawn(pool: PgPool, retention_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            match enforce(&pool, retention_days).await {
                Ok(0) => {}
                Ok(dropped) => tracing::info!(dropped, "retention: dropped old readings"),
                Err(e) => tracing::warn!(%e, "retention job failed"),
            }
        }
    })
}
