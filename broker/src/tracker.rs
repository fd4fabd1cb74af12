//! Connection tracking: which devices are online, when each was last heard from, and the
//! history of connects, disconnects, refusals and ACL violations.
//!
//! Connections report to an in-memory session table (no I/O on the connection's path) and
//! a bounded event channel; one task writes both to the database in batches once a second,
//! never a write per message.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use healthsync_core::ids::DeviceId;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

const EVENT_BUFFER: usize = 10_000;
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Events kept while the database is unreachable; older ones are dropped (and counted).
const MAX_PENDING: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Connected,
    Disconnected,
    Refused,
    AclViolation,
}

impl EventKind {
    fn as_str(self) -> &'static str {
        match self {
            EventKind::Connected => "connected",
            EventKind::Disconnected => "disconnected",
            EventKind::Refused => "refused",
            EventKind::AclViolation => "acl_violation",
        }
    }
}

#[derive(Debug)]
struct Event {
    device: DeviceId,
    at: DateTime<Utc>,
    kind: EventKind,
    detail: Option<String>,
}

/// A live session of a device on this broker.
#[derive(Debug)]
pub struct Session {
    /// Distinguishes a reconnect's session from the one it replaced.
    pub token: u64,
    pub connected_at: DateTime<Utc>,
    /// The prefix of the API key the session authenticated with.
    pub key_prefix: String,
    /// Unix seconds of the last packet read from the device.
    pub last_seen: Arc<AtomicI64>,
    flushed_last_seen: AtomicI64,
}

/// The handle connections and the authenticator report through.
#[derive(Clone)]
pub struct Tracker {
    sessions: Arc<Mutex<HashMap<DeviceId, Session>>>,
    events: mpsc::Sender<Event>,
    next_token: Arc<AtomicU64>,
    stop: Arc<tokio::sync::Notify>,
    writer: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Tracker {
    /// Starts the writer task; it runs until the runtime stops.
    pub fn start(pool: PgPool) -> Tracker {
        let (events, rx) = mpsc::channel(EVENT_BUFFER);
        let tracker = Tracker {
            sessions: Arc::default(),
            events,
            next_token: Arc::new(AtomicU64::new(1)),
            stop: Arc::default(),
            writer: Arc::default(),
        };
        let writer = tokio::spawn(write_loop(
            pool,
            tracker.sessions.clone(),
            rx,
            tracker.stop.clone(),
        ));
        *tracker.writer.lock().expect("writer lock") = Some(writer);
        tracker
    }

    /// Writes what is pending, marks this broker's devices offline, and stops the writer.
    pub async fn shutdown(&self) {
        self.stop.notify_one();
        let writer = self.writer.lock().expect("writer lock").take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
    }

    pub fn record(&self, device: DeviceId, kind: EventKind, detail: Option<String>) {
        let event = Event {
            device,
            at: Utc::now(),
            kind,
            detail,
        };
        if self.events.try_send(event).is_err() {
            metrics::counter!("healthsync_broker_tracking_events_dropped_total").increment(1);
        }
    }

    /// Registers a live session and returns its token and last-seen cell.
    pub fn connected(&self, device: DeviceId, key_prefix: String) -> (u64, Arc<AtomicI64>) {
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let now = Utc::now();
        let last_seen = Arc::new(AtomicI64::new(now.timestamp()));
        let session = Session {
            token,
            connected_at: now,
            key_prefix,
            last_seen: last_seen.clone(),
            flushed_last_seen: AtomicI64::new(0),
        };
        let count = {
            let mut sessions = self.sessions.lock().expect("sessions lock");
            sessions.insert(device, session);
            sessions.len()
        };
        metrics::gauge!("healthsync_broker_device_sessions").set(count as f64);
        self.record(device, EventKind::Connected, None);
        (token, last_seen)
    }

    /// Ends a session, unless a newer session of the same device has replaced it.
    pub fn disconnected(&self, device: DeviceId, token: u64, reason: &str) {
        let count = {
            let mut sessions = self.sessions.lock().expect("sessions lock");
            if sessions.get(&device).is_some_and(|s| s.token == token) {
                sessions.remove(&device);
            }
            sessions.len()
        };
        metrics::gauge!("healthsync_broker_device_sessions").set(count as f64);
        self.record(device, EventKind::Disconnected, Some(reason.to_owned()));
    }

    pub fn is_online(&self, device: DeviceId) -> bool {
        self.sessions
            .lock()
            .expect("sessions lock")
            .contains_key(&device)
    }

    /// The key prefix the device's live session authenticated with, if it has one.
    pub fn session_key_prefix(&self, device: DeviceId) -> Option<String> {
        let sessions = self.sessions.lock().expect("sessions lock");
        sessions.get(&device).map(|s| s.key_prefix.clone())
    }

    /// Devices online now, with the key prefix each session authenticated with.
    pub fn online(&self) -> Vec<(DeviceId, String)> {
        let sessions = self.sessions.lock().expect("sessions lock");
        sessions
            .iter()
            .map(|(d, s)| (*d, s.key_prefix.clone()))
            .collect()
    }
}

async fn write_loop(
    pool: PgPool,
    sessions: Arc<Mutex<HashMap<DeviceId, Session>>>,
    mut rx: mpsc::Receiver<Event>,
    stop: Arc<tokio::sync::Notify>,
) {
    // Sessions of a previous run of this broker are gone.
    if let Err(e) = sqlx::query("UPDATE devices SET online = false WHERE online")
        .execute(&pool)
        .await
    {
        tracing::warn!(%e, "cannot reset online flags");
    }
    let mut pending: Vec<Event> = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            received = rx.recv() => match received {
                Some(event) => pending.push(event),
                None => return,
            },
            _ = stop.notified() => {
                while let Ok(event) = rx.try_recv() {
                    pending.push(event);
                }
                if let Err(e) = flush(&pool, &sessions, &mut pending).await {
                    tracing::warn!(%e, "connection tracking: final write failed");
                }
                let offline = sqlx::query("UPDATE devices SET online = false WHERE online")
                    .execute(&pool)
                    .await;
                if let Err(e) = offline {
                    tracing::warn!(%e, "cannot mark devices offline");
                }
                return;
            }
            _ = tick.tick() => {
                if let Err(e) = flush(&pool, &sessions, &mut pending).await {
                    tracing::warn!(%e, pending = pending.len(), "connection tracking: database write failed; will retry");
                    if pending.len() > MAX_PENDING {
                        let excess = pending.len() - MAX_PENDING;
                        pending.drain(..excess);
                        metrics::counter!("healthsync_broker_tracking_events_dropped_total").increment(excess as u64);
                    }
                }
            }
        }
    }
}

async fn flush(
    pool: &PgPool,
    sessions: &Mutex<HashMap<DeviceId, Session>>,
    pending: &mut Vec<Event>,
) -> Result<(), sqlx::Error> {
    // The session table, not the event order, says who is online: a replaced session's
    // disconnect can arrive after its successor connected.
    let touched: HashSet<DeviceId> = pending
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Connected | EventKind::Disconnected))
        .map(|e| e.device)
        .collect();
    let (online_ids, online_flags, seen_ids, seen_at) = {
        let sessions = sessions.lock().expect("sessions lock");
        let online_ids: Vec<Uuid> = touched.iter().map(|d| d.0).collect();
        let online_flags: Vec<bool> = touched.iter().map(|d| sessions.contains_key(d)).collect();
        let mut seen_ids = Vec::new();
        let mut seen_at = Vec::new();
        for (device, session) in sessions.iter() {
            let last = session.last_seen.load(Ordering::Relaxed);
            if session.flushed_last_seen.load(Ordering::Relaxed) != last {
                seen_ids.push(device.0);
                seen_at.push(last);
            }
        }
        (online_ids, online_flags, seen_ids, seen_at)
    };
    // A session that ended since the last flush is no longer in the table; its end is
    // when the device was last seen.
    let ended = pending
        .iter()
        .filter(|e| e.kind == EventKind::Disconnected)
        .map(|e| (e.device.0, e.at.timestamp() as f64));
    let (ended_ids, ended_at): (Vec<Uuid>, Vec<f64>) = ended.unzip();

    let mut tx = pool.begin().await?;
    if !pending.is_empty() {
        let ids: Vec<Uuid> = pending.iter().map(|e| e.device.0).collect();
        let ats: Vec<DateTime<Utc>> = pending.iter().map(|e| e.at).collect();
        let kinds: Vec<&str> = pending.iter().map(|e| e.kind.as_str()).collect();
        let details: Vec<Option<&str>> = pending.iter().map(|e| e.detail.as_deref()).collect();
        sqlx::query(
            "INSERT INTO device_events (device_id, at, kind, detail)
             SELECT id, at, kind::device_event_kind, detail
             FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[]) AS e(id, at, kind, detail)",
        )
        .bind(&ids)
        .bind(&ats)
        .bind(&kinds)
        .bind(&details)
        .execute(&mut *tx)
        .await?;
    }
    if !online_ids.is_empty() {
        sqlx::query(
            "UPDATE devices SET online = v.online
             FROM unnest($1::uuid[], $2::bool[]) AS v(id, online)
             WHERE devices.id = v.id AND devices.online IS DISTINCT FROM v.online",
        )
        .bind(&online_ids)
        .bind(&online_flags)
        .execute(&mut *tx)
        .await?;
    }
    let all_seen_ids: Vec<Uuid> = seen_ids.iter().copied().chain(ended_ids).collect();
    let all_seen_at: Vec<f64> = seen_at
        .iter()
        .map(|&at| at as f64)
        .chain(ended_at)
        .collect();
    if !all_seen_ids.is_empty() {
        sqlx::query(
            "UPDATE devices SET last_seen_at = greatest(last_seen_at, to_timestamp(v.at))
             FROM unnest($1::uuid[], $2::float8[]) AS v(id, at)
             WHERE devices.id = v.id",
        )
        .bind(&all_seen_ids)
        .bind(&all_seen_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    pending.clear();
    // Only what was committed counts as written; a failed flush is retried whole.
    let sessions = sessions.lock().expect("sessions lock");
    for (id, at) in seen_ids.iter().zip(&seen_at) {
        if let Some(session) = sessions.get(&DeviceId(*id)) {
            session.flushed_last_seen.store(*at, Ordering::Relaxed);
        }
    }
    Ok(())
}
