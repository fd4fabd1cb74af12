//! The alert engine wired to ingest (for `up`, the evaluation and the benchmark), and
//! `healthsync alert ...` / `healthsync care-team ...`: alerts and care teams by hand, for
//! operators and demos until the API serves them.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use healthsync_analytics::alert::{AlertStatus, Severity};
use healthsync_analytics::rules::{Overrides, RuleSet};
use healthsync_analytics::service::{Analytics, Clock, Committed, Input};
use healthsync_analytics::store::{self, AlertFilter};
use healthsync_core::config::{AnalyticsSettings, Settings};
use healthsync_core::db::Database;
use healthsync_core::ids::UserId;
use healthsync_core::users::{self, Email, Role};
use healthsync_ingest::Ingest;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The alert engine and the task feeding it from ingest.
pub struct AlertEngine {
    pub analytics: Analytics,
    forwarder: JoinHandle<()>,
}

impl AlertEngine {
    pub async fn start(
        pool: PgPool,
        settings: &AnalyticsSettings,
        ingest: &Ingest,
        clock: Clock,
    ) -> anyhow::Result<AlertEngine> {
        let analytics = Analytics::start(pool, settings, clock)
            .await
            .context("cannot start the alert engine")?;
        let forwarder = tokio::spawn(forward(
            ingest.committed(),
            ingest.statuses(),
            analytics.input(),
        ));
        Ok(AlertEngine {
            analytics,
            forwarder,
        })
    }

    /// After ingest stopped: lets the engine take what ingest committed last, then stops it.
    pub async fn stop(self) {
        let mut forwarder = self.forwarder;
        if tokio::time::timeout(Duration::from_secs(10), &mut forwarder)
            .await
            .is_err()
        {
            tracing::warn!("ingest's streams did not close; stopping the alert engine anyway");
            forwarder.abort();
        }
        self.analytics.shutdown().await;
    }
}

/// Forwards ingest's committed readings and status reports until both streams close. A
/// subscriber that falls more than ingest's buffer behind loses batches: counted and logged,
/// since alerts may then be missed.
async fn forward(
    mut committed: broadcast::Receiver<std::sync::Arc<[healthsync_ingest::CommittedReading]>>,
    mut statuses: broadcast::Receiver<std::sync::Arc<healthsync_ingest::DeviceStatusEvent>>,
    input: mpsc::Sender<Input>,
) {
    let (mut readings_open, mut statuses_open) = (true, true);
    while readings_open || statuses_open {
        let next = tokio::select! {
            batch = committed.recv(), if readings_open => match batch {
                Ok(batch) => Some(Input::Readings {
                    committed_at: Instant::now(),
                    readings: batch
                        .iter()
                        .map(|c| Committed { device: c.device, patient: c.patient, reading: c.reading })
                        .collect(),
                }),
                Err(e) => {
                    readings_open = lost(e);
                    None
                }
            },
            status = statuses.recv(), if statuses_open => match status {
                Ok(s) => Some(Input::Status { device: s.device, patient: s.patient, report: s.report.clone() }),
                Err(e) => {
                    statuses_open = lost(e);
                    None
                }
            },
        };
        if let Some(next) = next
            && input.send(next).await.is_err()
        {
            return;
        }
    }
}

/// Whether the stream is still open after `e`.
fn lost(e: broadcast::error::RecvError) -> bool {
    match e {
        broadcast::error::RecvError::Lagged(n) => {
            metrics::counter!("healthsync_analytics_lost_batches_total").increment(n);
            tracing::error!(
                batches = n,
                "the alert engine fell behind ingest and missed batches"
            );
            true
        }
        broadcast::error::RecvError::Closed => false,
    }
}

#[derive(Subcommand)]
pub enum AlertAction {
    /// List alerts, newest first.
    List {
        /// Only this patient's (e-mail).
        #[arg(long)]
        patient: Option<String>,
        /// open, acknowledged or resolved.
        #[arg(long, value_parser = parse_status)]
        status: Option<AlertStatus>,
        #[arg(long, value_parser = parse_severity)]
        severity: Option<Severity>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge an open alert.
    Ack {
        id: Uuid,
        /// E-mail of the clinician or admin acknowledging it.
        #[arg(long)]
        by: String,
    },
    /// Resolve an open or acknowledged alert.
    Resolve {
        id: Uuid,
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Set a patient's alert-rule overrides (JSON, e.g. '{"spo2_scale": "two"}'); a running
    /// platform picks them up within half a minute.
    Rules {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        set: String,
        /// E-mail of the clinician setting them.
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum CareTeamAction {
    /// Put a clinician on a patient's care team: they receive the patient's alerts.
    Add {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        clinician: String,
    },
}

fn parse_status(s: &str) -> Result<AlertStatus, String> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| "one of open, acknowledged, resolved".into())
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| "one of low, medium, high".into())
}

async fn user_id(pool: &PgPool, email: &str, role: Option<Role>) -> anyhow::Result<UserId> {
    let email = Email::parse(email)?;
    let user = users::find_by_email(pool, &email)
        .await?
        .with_context(|| format!("no user {email}"))?;
    if let Some(role) = role {
        anyhow::ensure!(user.role == role, "{email} is not a {role:?}");
    }
    Ok(user.id)
}

pub async fn alert(settings: &Settings, action: AlertAction) -> anyhow::Result<ExitCode> {
    let db = Database::open(settings).await?;
    let result = alert_on(&db.pool, action).await;
    db.close().await?;
    result
}

async fn alert_on(pool: &PgPool, action: AlertAction) -> anyhow::Result<ExitCode> {
    match action {
        AlertAction::List {
            patient,
            status,
            severity,
            limit,
            json,
        } => {
            let patient = match patient {
                Some(email) => Some(user_id(pool, &email, Some(Role::Patient)).await?),
                None => None,
            };
            let filter = AlertFilter {
                patient,
                status,
                severity,
                limit,
            };
            let alerts = store::list(pool, &filter).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&alerts)?);
            } else {
                for a in alerts {
                    println!(
                        "{}  {:<6} {:<12} {}  {}: {}",
                        a.id,
                        a.severity.as_str(),
                        format!("{:?}", a.status).to_lowercase(),
                        a.triggered_at.format("%Y-%m-%d %H:%M:%S"),
                        a.title,
                        a.message
                    );
                }
            }
        }
        AlertAction::Ack { id, by } => {
            let by = user_id(pool, &by, None).await?;
            let alert = store::acknowledge(pool, id, by).await?;
            println!("acknowledged {}", alert.id);
        }
        AlertAction::Resolve { id, by, note } => {
            let by = user_id(pool, &by, None).await?;
            let alert = store::resolve(pool, id, by, note.as_deref()).await?;
            println!("resolved {}", alert.id);
        }
        AlertAction::Rules { patient, set, by } => {
            let patient = user_id(pool, &patient, Some(Role::Patient)).await?;
            let by = match by {
                Some(email) => Some(user_id(pool, &email, Some(Role::Clinician)).await?),
                None => None,
            };
            let json: serde_json::Value =
                serde_json::from_str(&set).context("--set is not JSON")?;
            Overrides::from_json(&json)?.apply(&RuleSet::default())?;
            store::set_rule_overrides(pool, patient, &json, by).await?;
            println!("alert rules of {patient} set");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn care_team(settings: &Settings, action: CareTeamAction) -> anyhow::Result<ExitCode> {
    let CareTeamAction::Add { patient, clinician } = action;
    let db = Database::open(settings).await?;
    let result = async {
        let patient = user_id(&db.pool, &patient, Some(Role::Patient)).await?;
        let clinician = user_id(&db.pool, &clinician, Some(Role::Clinician)).await?;
        store::assign_care_team(&db.pool, patient, clinician).await?;
        println!("clinician {clinician} is on the care team of {patient}");
        anyhow::Ok(ExitCode::SUCCESS)
    }
    .await;
    db.close().await?;
    result
}
