//! Credential changes reach the broker: a notification from the database (register,
//! rotate, revoke) refreshes that principal's credentials and drops a live session whose
//! key is no longer the device's (or whose device is revoked) at once; a periodic sweep
//! applies the same rule to every session, so no session outlives its key by more than a
//! few seconds even if a notification is lost, and the whole credential mirror is reloaded
//! now and then.

use std::sync::Arc;
use std::time::Duration;

use healthsync_core::devices::CREDENTIALS_CHANNEL;
use healthsync_core::ids::DeviceId;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use crate::Kicker;
use crate::auth::Authenticator;
use crate::tracker::Tracker;

const SWEEP_EVERY: Duration = Duration::from_secs(2);
/// Every this many sweeps, the whole credential mirror is reloaded.
const RELOAD_EVERY_SWEEPS: u32 = 15;

/// Starts the listener and the sweep; returns their tasks.
pub fn start(
    pool: PgPool,
    auth: Arc<Authenticator>,
    tracker: Tracker,
    kicker: Kicker,
) -> [tokio::task::JoinHandle<()>; 2] {
    [
        tokio::spawn(listen(
            pool.clone(),
            auth.clone(),
            tracker.clone(),
            kicker.clone(),
        )),
        tokio::spawn(sweep(pool, auth, tracker, kicker)),
    ]
}

async fn listen(pool: PgPool, auth: Arc<Authenticator>, tracker: Tracker, kicker: Kicker) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(%e, "credential notifications unavailable; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CREDENTIALS_CHANNEL).await {
            tracing::warn!(%e, "cannot LISTEN for credential changes; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    let client_id = notification.payload();
                    if let Err(e) = auth.reload(client_id).await {
                        tracing::warn!(%e, client_id, "cannot refresh credentials");
                    }
                    // A registration notifies too: only a revoked device, or a session older
                    // than its key, is dropped.
                    if let Ok(device) = client_id.parse::<DeviceId>() {
                        let sessions: Vec<_> = tracker
                            .session_key_prefix(device)
                            .map(|prefix| (device, prefix))
                            .into_iter()
                            .collect();
                        drop_stale_sessions(&pool, &auth, &sessions, &kicker).await;
                    }
                }
                Err(e) => {
                    // Notifications may have been missed meanwhile.
                    tracing::warn!(%e, "credential notifications interrupted");
                    if let Err(e) = auth.reload_all().await {
                        tracing::warn!(%e, "cannot reload credentials");
                    }
                    break;
                }
            }
        }
    }
}

async fn sweep(pool: PgPool, auth: Arc<Authenticator>, tracker: Tracker, kicker: Kicker) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sweeps = 0u32;
    loop {
        tick.tick().await;
        sweeps = sweeps.wrapping_add(1);
        if sweeps.is_multiple_of(RELOAD_EVERY_SWEEPS)
            && let Err(e) = auth.reload_all().await
        {
            tracing::warn!(%e, "cannot reload credentials");
        }
        drop_stale_sessions(&pool, &auth, &tracker.online(), &kicker).await;
    }
}

/// Drops the sessions (device, key prefix it authenticated with) whose device is revoked
/// or whose key is no longer the device's key.
async fn drop_stale_sessions(
    pool: &PgPool,
    auth: &Authenticator,
    sessions: &[(DeviceId, String)],
    kicker: &Kicker,
) {
    if sessions.is_empty() {
        return;
    }
    let ids: Vec<Uuid> = sessions.iter().map(|(d, _)| d.0).collect();
    let prefixes: Vec<&str> = sessions.iter().map(|(_, p)| p.as_str()).collect();
    let stale: Result<Vec<Uuid>, _> = sqlx::query_scalar(
        "SELECT d.id FROM devices d
         JOIN unnest($1::uuid[], $2::text[]) AS s(id, key_prefix) ON d.id = s.id
         WHERE d.status = 'revoked' OR d.api_key_prefix <> s.key_prefix",
    )
    .bind(&ids)
    .bind(&prefixes)
    .fetch_all(pool)
    .await;
    match stale {
        Ok(stale) => {
            for id in stale {
                // The sweep can see a change before its notification arrives: the mirror
                // is refreshed first, or the kicked device would reconnect with its old key.
                let device = DeviceId(id);
                if let Err(e) = auth.reload(&device.to_string()).await {
                    tracing::warn!(%e, %device, "cannot refresh credentials; kick postponed");
                    continue;
                }
                kicker.kick(device).await;
            }
        }
        Err(e) => tracing::warn!(%e, "cannot check sessions against key changes"),
    }
}
