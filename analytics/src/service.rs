//! The running alert engine: restores its state from the database, takes committed readings
//! and device status reports from a bounded channel (the binary forwards them from ingest),
//! stores every alert it decides on (retrying while the database is away), escalates high
//! alerts nobody acknowledged, and publishes every alert change on a broadcast stream for
//! live views. [`Alerts`] is the handle the API and the CLI change alerts through.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use healthsync_core::config::AnalyticsSettings;
use healthsync_core::devices::DeviceKind;
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_core::status::StatusReport;
use healthsync_core::telemetry::Reading;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::alert::{Alert, AlertChange, AlertEvent};
use crate::baseline::DailyValue;
use crate::engine::{Engine, Signal, Source};
use crate::rules::{Overrides, RuleSet};
use crate::store::{self, LifecycleError, Raised};

/// What the engine is fed.
#[derive(Clone, Debug)]
pub enum Input {
    /// One committed batch, with when it was committed (for the alert latency).
    Readings {
        committed_at: Instant,
        readings: Vec<Committed>,
    },
    Status {
        device: DeviceId,
        patient: UserId,
        report: StatusReport,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct Committed {
    pub device: DeviceId,
    pub patient: UserId,
    pub reading: Reading,
}

/// Where the engine's "now" comes from, and how often it looks at it (to notice silent
/// devices): the wall clock, or a simulation's accelerated clock.
#[derive(Clone)]
pub struct Clock {
    now: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    tick: Duration,
}

impl Clock {
    pub fn wall() -> Clock {
        Clock {
            now: Arc::new(Utc::now),
            tick: Duration::from_secs(1),
        }
    }

    /// A clock running `speed` times faster than real time: it is looked at about once a
    /// simulated minute.
    pub fn simulated(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static, speed: f64) -> Clock {
        Clock {
            now: Arc::new(now),
            tick: Duration::from_secs_f64((60.0 / speed.max(1.0)).clamp(0.01, 1.0)),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.now)()
    }
}

/// Batches waiting for the engine; when full, the forwarder waits.
const INPUT_BUFFER: usize = 1024;
/// Alert changes kept for live subscribers that fall behind.
const EVENT_BUFFER: usize = 4096;
const ESCALATION_CHECK: Duration = Duration::from_secs(10);
/// How often per-patient rule overrides are read again (the API or the CLI may change them).
const RULES_RELOAD: Duration = Duration::from_secs(30);

pub struct Analytics {
    pub alerts: Alerts,
    input: mpsc::Sender<Input>,
    task: JoinHandle<()>,
}

/// Reads and changes alerts, publishing every change.
#[derive(Clone)]
pub struct Alerts {
    pool: PgPool,
    events: broadcast::Sender<Arc<AlertEvent>>,
    resolved: mpsc::UnboundedSender<(UserId, String)>,
}

impl Alerts {
    /// Every alert change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AlertEvent>> {
        self.events.subscribe()
    }

    pub async fn acknowledge(&self, id: Uuid, by: UserId) -> Result<Alert, LifecycleError> {
        let alert = store::acknowledge(&self.pool, id, by).await?;
        self.publish(AlertChange::Acknowledged, alert.clone());
        Ok(alert)
    }

    pub async fn resolve(
        &self,
        id: Uuid,
        by: UserId,
        note: Option<&str>,
    ) -> Result<Alert, LifecycleError> {
        let alert = store::resolve(&self.pool, id, by, note).await?;
        let _ = self.resolved.send((alert.patient_id, alert.key.clone()));
        self.publish(AlertChange::Resolved, alert.clone());
        Ok(alert)
    }

    fn publish(&self, change: AlertChange, alert: Alert) {
        // No subscriber is not an error: nobody is watching live.
        let _ = self.events.send(Arc::new(AlertEvent { change, alert }));
    }
}

impl Analytics {
    /// Restores the engine (rule overrides, unresolved alerts, baseline days, the last
    /// minutes of readings) and starts it.
    pub async fn start(
        pool: PgPool,
        settings: &AnalyticsSettings,
        clock: Clock,
    ) -> Result<Analytics, sqlx::Error> {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (resolved, resolved_rx) = mpsc::unbounded_channel();
        let alerts = Alerts {
            pool: pool.clone(),
            events,
            resolved,
        };
        let mut worker = Worker {
            engine: Engine::new(RuleSet::default()),
            kinds: HashMap::new(),
            alerts: alerts.clone(),
            clock,
        };
        worker.restore(settings).await?;
        let (input, input_rx) = mpsc::channel(INPUT_BUFFER);
        let escalate_after = Duration::from_secs(settings.escalate_after_secs);
        let task = tokio::spawn(worker.run(input_rx, resolved_rx, escalate_after));
        Ok(Analytics {
            alerts,
            input,
            task,
        })
    }

    /// Where to send the engine its input.
    pub fn input(&self) -> mpsc::Sender<Input> {
        self.input.clone()
    }

    /// Processes what was sent before, then stops.
    pub async fn shutdown(self) {
        drop(self.input);
        if let Err(e) = self.task.await {
            tracing::error!(%e, "the alert engine failed");
        }
    }
}

struct Worker {
    engine: Engine,
    kinds: HashMap<DeviceId, DeviceKind>,
    alerts: Alerts,
    clock: Clock,
}

impl Worker {
    async fn restore(&mut self, settings: &AnalyticsSettings) -> Result<(), sqlx::Error> {
        let pool = self.alerts.pool.clone();
        self.load_rules().await?;
        let unresolved = store::unresolved(&pool).await?;
        for alert in &unresolved {
            self.engine
                .restore_open(alert.patient_id, alert.key.clone());
        }
        let now = self.clock.now();
        let since =
            now.date_naive() - chrono::Duration::days(RuleSet::default().baseline.days as i64 + 1);
        let days = store::daily_stats_since(&pool, since).await?;
        for day in days.iter().filter(|d| d.stat == "resting_hr") {
            let value = DailyValue {
                day: day.day,
                value: day.value,
                samples: day.samples.max(0) as u32,
            };
            self.engine.restore_day(day.patient, value);
        }
        let from = now - chrono::Duration::minutes(i64::from(settings.restore_minutes));
        let recent: Vec<(DeviceId, DeviceKind, UserId, Reading)> = sqlx::query_as::<_, RecentRow>(
            "SELECT r.device_id, d.kind, r.patient_id, r.metric, r.measured_at, r.value, r.value2
               FROM readings r JOIN devices d ON d.id = r.device_id
              WHERE r.measured_at > $1 AND r.measured_at <= $2
              ORDER BY r.measured_at",
        )
        .bind(from)
        .bind(now)
        .fetch_all(&pool)
        .await?
        .into_iter()
        .map(RecentRow::into_parts)
        .collect();
        let replayed = recent.len();
        for chunk in recent.chunks(5_000) {
            let batch: Vec<(Source, Reading)> = chunk
                .iter()
                .map(|&(device, kind, patient, reading)| {
                    self.kinds.insert(device, kind);
                    (
                        Source {
                            device,
                            kind,
                            patient,
                        },
                        reading,
                    )
                })
                .collect();
            let signals = self.engine.observe(self.clock.now(), &batch);
            self.apply(signals, None).await;
        }
        tracing::info!(
            unresolved = unresolved.len(),
            baseline_days = days.len(),
            replayed,
            "alert engine restored"
        );
        Ok(())
    }

    async fn load_rules(&mut self) -> Result<(), sqlx::Error> {
        for (patient, json) in store::rule_overrides(&self.alerts.pool).await? {
            match Overrides::from_json(&json).and_then(|o| o.apply(&RuleSet::default())) {
                Ok(rules) => self.engine.set_rules(patient, rules),
                Err(e) => {
                    tracing::error!(%patient, %e, "stored alert rules are invalid; using the defaults")
                }
            }
        }
        Ok(())
    }

    async fn run(
        mut self,
        mut input: mpsc::Receiver<Input>,
        mut resolved: mpsc::UnboundedReceiver<(UserId, String)>,
        escalate_after: Duration,
    ) {
        let mut tick = tokio::time::interval(self.clock.tick);
        let mut escalation = tokio::time::interval(ESCALATION_CHECK);
        let mut rules = tokio::time::interval(RULES_RELOAD);
        rules.tick().await;
        loop {
            tokio::select! {
                next = input.recv() => match next {
                    Some(Input::Readings { committed_at, readings }) => {
                        self.readings(readings, committed_at).await;
                    }
                    Some(Input::Status { device, patient, report }) => {
                        if let Some(kind) = self.kind(device).await {
                            let source = Source { device, kind, patient };
                            let signals = self.engine.status(source, &report);
                            self.apply(signals, None).await;
                        }
                    }
                    None => break,
                },
                Some((patient, key)) = resolved.recv() => self.engine.resolved(patient, &key),
                _ = tick.tick() => {
                    let signals = self.engine.tick(self.clock.now());
                    self.apply(signals, None).await;
                    self.save_days().await;
                }
                _ = escalation.tick() => self.escalate(escalate_after).await,
                _ = rules.tick() => {
                    if let Err(e) = self.load_rules().await {
                        tracing::warn!(%e, "cannot reload alert rules");
                    }
                }
            }
        }
        self.save_days().await;
    }

    async fn readings(&mut self, readings: Vec<Committed>, committed_at: Instant) {
        let mut batch = Vec::with_capacity(readings.len());
        for r in readings {
            if let Some(kind) = self.kind(r.device).await {
                let source = Source {
                    device: r.device,
                    kind,
                    patient: r.patient,
                };
                batch.push((source, r.reading));
            }
        }
        let signals = self.engine.observe(self.clock.now(), &batch);
        self.apply(signals, Some(committed_at)).await;
    }

    /// The device's kind, looked up once. A device deleted since is skipped.
    async fn kind(&mut self, device: DeviceId) -> Option<DeviceKind> {
        if let Some(kind) = self.kinds.get(&device) {
            return Some(*kind);
        }
        let pool = self.alerts.pool.clone();
        let kind: Option<DeviceKind> = retry("look up a device", || async {
            sqlx::query_scalar("SELECT kind FROM devices WHERE id = $1")
                .bind(device)
                .fetch_optional(&pool)
                .await
        })
        .await?;
        if let Some(kind) = kind {
            self.kinds.insert(device, kind);
        }
        kind
    }

    async fn apply(&mut self, signals: Vec<Signal>, committed_at: Option<Instant>) {
        let pool = self.alerts.pool.clone();
        for signal in signals {
            let (change, alert) = match signal {
                Signal::Raise(draft) | Signal::Recur(draft) => {
                    let Some(raised) =
                        retry("store an alert", || store::raise(&pool, &draft)).await
                    else {
                        continue;
                    };
                    metrics::counter!(
                        "healthsync_analytics_alerts_total",
                        "rule" => draft.rule,
                        "severity" => draft.severity.as_str(),
                        "new" => if matches!(raised, Raised::New(_)) { "true" } else { "false" },
                    )
                    .increment(1);
                    match raised {
                        Raised::New(alert) => (AlertChange::Raised, alert),
                        Raised::Recurred(alert) => (AlertChange::Recurred, alert),
                        Raised::Upgraded(alert) => (AlertChange::Upgraded, alert),
                    }
                }
                Signal::Clear {
                    patient,
                    key,
                    resolve,
                } => {
                    let cleared = retry("clear an alert", || {
                        store::clear(&pool, patient, &key, resolve)
                    })
                    .await;
                    match cleared.flatten() {
                        Some(alert) if resolve => (AlertChange::Resolved, alert),
                        Some(alert) => (AlertChange::Cleared, alert),
                        None => continue,
                    }
                }
            };
            if let (Some(at), AlertChange::Raised) = (committed_at, change) {
                metrics::histogram!("healthsync_analytics_alert_latency_seconds")
                    .record(at.elapsed().as_secs_f64());
            }
            self.alerts.publish(change, alert);
        }
    }

    async fn save_days(&mut self) {
        let pool = self.alerts.pool.clone();
        for (patient, day) in self.engine.take_finished_days() {
            let samples = i32::try_from(day.samples).unwrap_or(i32::MAX);
            retry("save a baseline day", || {
                store::save_daily_stat(&pool, patient, day.day, "resting_hr", day.value, samples)
            })
            .await;
        }
    }

    async fn escalate(&mut self, after: Duration) {
        match store::escalate_due(&self.alerts.pool, after).await {
            Ok(escalated) => {
                for alert in escalated {
                    tracing::warn!(alert = %alert.id, patient = %alert.patient_id, "high alert unacknowledged: escalated");
                    self.alerts.publish(AlertChange::Escalated, alert);
                }
            }
            // The next check tries again.
            Err(e) => tracing::warn!(%e, "cannot check alerts for escalation"),
        }
    }
}

/// Retries a database operation while the database is unreachable (ingest cannot commit
/// then either, so nothing new arrives meanwhile); gives up on errors a retry cannot fix.
async fn retry<T, F, Fut>(what: &str, mut op: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut delay = Duration::from_millis(100);
    loop {
        match op().await {
            Ok(value) => return Some(value),
            Err(e) if is_transient(&e) => {
                tracing::warn!(%e, "cannot {what}; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                tracing::error!(%e, "cannot {what}");
                return None;
            }
        }
    }
}

fn is_transient(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)
    ) || matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("57") || c.starts_with("08")))
}

#[derive(sqlx::FromRow)]
struct RecentRow {
    device_id: DeviceId,
    kind: DeviceKind,
    patient_id: UserId,
    metric: healthsync_core::catalog::Metric,
    measured_at: DateTime<Utc>,
    value: f64,
    value2: Option<f64>,
}

impl RecentRow {
    fn into_parts(self) -> (DeviceId, DeviceKind, UserId, Reading) {
        let reading = Reading {
            metric: self.metric,
            measured_at: self.measured_at,
            value: self.value,
            value2: self.value2,
        };
        (self.device_id, self.kind, self.patient_id, reading)
    }
}
