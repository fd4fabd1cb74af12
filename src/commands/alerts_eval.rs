//! `healthsync analytics eval`: replays simulated days through the real pipeline — a fresh
//! embedded database, the broker, ingest, the alert engine on the simulation's accelerated
//! clock, the simulator's store-and-forward firmware — then scores the alerts against the
//! simulator's ground truth.
//!
//! The evaluation plays the clinician: it resolves each clinical alert once its condition
//! has cleared, so the next episode of the same condition is a new alert (as in a ward),
//! not a recurrence of an alert nobody looked at.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use healthsync_analytics::alert::{AlertChange, Severity};
use healthsync_analytics::rules::{Overrides, RuleSet};
use healthsync_analytics::service::{Alerts, Clock};
use healthsync_analytics::store::{self, LifecycleError};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_core::users::{self, Email, NewUser, Role, UserStatus};
use healthsync_sim::evaluation::{self, Observation, Period, RaisedAlert};
use healthsync_sim::fleet::{self, FleetOptions};
use healthsync_sim::profiles::Profiles;
use healthsync_sim::provision::{self, PlannedPatient};
use healthsync_sim::scenario::{GroundTruthEvent, SimOptions};
use indicatif::ProgressBar;
use serde::Deserialize;

use super::alerts::AlertEngine;
use super::bench::write_report;
use super::inprocess::Platform;

#[derive(Args)]
pub struct EvalArgs {
    /// The scenario: simulated days, speed, event rate and the patients (see
    /// deploy/eval/alerts.toml).
    #[arg(long)]
    scenario: PathBuf,
    /// Seed of the simulation: the same seed plays the same days.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the report (Markdown) to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Keep the scratch directory (database, ground truth) for a closer look; its path is
    /// printed. The database can be started again with `healthsync db start --data-dir`.
    #[arg(long)]
    keep: bool,
}

/// An evaluation scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    /// Simulated days to play.
    days: f64,
    /// How many times faster than real time.
    speed: f64,
    /// Multiplies every event kind's daily rate, so that a few days hold enough events.
    event_rate: f64,
    cohorts: Vec<Cohort>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cohort {
    profile: String,
    count: usize,
    /// The alert-rule overrides these patients' clinicians set (as the API takes them).
    #[serde(default)]
    rules: Option<toml::Value>,
}

impl Scenario {
    fn load(path: &Path) -> anyhow::Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let scenario: Scenario = toml::from_str(&text)
            .with_context(|| format!("{} is not a scenario", path.display()))?;
        anyhow::ensure!(
            scenario.days > 0.0 && scenario.days <= 60.0,
            "days must be more than 0 and at most 60"
        );
        anyhow::ensure!(
            scenario.speed >= 1.0 && scenario.speed.is_finite(),
            "speed must be at least 1"
        );
        anyhow::ensure!(
            scenario.event_rate >= 0.0 && scenario.event_rate.is_finite(),
            "event_rate must be a number >= 0"
        );
        for cohort in &scenario.cohorts {
            cohort.overrides()?;
        }
        Ok(scenario)
    }
}

impl Cohort {
    fn overrides(&self) -> anyhow::Result<Option<serde_json::Value>> {
        let Some(rules) = &self.rules else {
            return Ok(None);
        };
        let json = serde_json::to_value(rules)?;
        Overrides::from_json(&json)
            .and_then(|o| o.apply(&RuleSet::default()))
            .with_context(|| format!("rules of the {} cohort", self.profile))?;
        Ok(Some(json))
    }
}

pub async fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::load(&args.scenario)?;
    let began = Instant::now();
    let mut platform = Platform::start("healthsync-eval-").await?;
    let pool = platform.pool.clone();
    let profiles = Profiles::builtin();
    let mut plan = Vec::new();
    for cohort in &scenario.cohorts {
        let profile = profiles
            .profile(&cohort.profile)
            .with_context(|| format!("unknown profile {:?}", cohort.profile))?;
        plan.extend((1..=cohort.count).map(|i| PlannedPatient {
            label: format!("{}-{i:02}", cohort.profile),
            profile: profile.name.clone(),
            models: profile.devices.clone(),
        }));
    }
    let roster = provision::provision(
        &pool,
        &platform.hasher,
        plan,
        &format!("eval-{}", args.seed),
        &ProgressBar::hidden(),
    )
    .await?;
    for cohort in &scenario.cohorts {
        if let Some(rules) = cohort.overrides()? {
            for patient in roster
                .patients
                .iter()
                .filter(|p| p.profile == cohort.profile)
            {
                store::set_rule_overrides(&pool, patient.id, &rules, None).await?;
            }
        }
    }
    let clinician = users::create(
        &pool,
        NewUser {
            email: Email::parse("eval-clinician@healthsync.invalid")?,
            first_name: "Evaluation".into(),
            last_name: "Clinician".into(),
            phone: None,
            role: Role::Clinician,
            status: UserStatus::Active,
            password: None,
        },
    )
    .await?;

    let truth_path = platform.scratch.path().join("ground-truth.jsonl");
    let backfill = Duration::from_secs_f64(scenario.days * 86_400.0);
    let clock = fleet::Clock::new(Utc::now(), backfill, scenario.speed);
    let engine = AlertEngine::start(
        pool.clone(),
        &platform.settings.analytics,
        platform.ingest(),
        Clock::simulated(move || clock.now(), scenario.speed),
    )
    .await?;
    let resolver = tokio::spawn(resolve_cleared(
        engine.analytics.alerts.clone(),
        clinician.id,
    ));
    let options = FleetOptions {
        sim: SimOptions {
            seed: args.seed,
            rate_scale: scenario.event_rate,
        },
        speed: scenario.speed,
        backfill,
        // Stop as soon as the simulation has caught up with now.
        duration: Some(backfill.div_f64(scenario.speed) + Duration::from_secs(1)),
        firmware: platform.firmware(),
        ground_truth: Some(truth_path.clone()),
        progress: true,
    };
    eprintln!(
        "playing {} simulated days of {} patients ({} devices) at {}x",
        scenario.days,
        roster.patients.len(),
        roster.devices().count(),
        scenario.speed
    );
    let played =
        fleet::run_with_clock(&roster, &profiles, &options, clock, std::future::pending()).await?;
    platform.stop_ingest().await;
    engine.stop().await;
    resolver.abort();

    anyhow::ensure!(
        played.accepted_readings > 0,
        "no reading reached the platform: the simulated devices could not deliver"
    );
    let alerts = fired_alerts(&pool).await?;
    let truth = read_truth(&truth_path)?;
    let observations = observations(&pool, &truth).await?;
    let by_rule = by_rule(&pool).await?;
    let scratch = platform.stop().await?;
    if args.keep {
        eprintln!("kept {}", scratch.keep().display());
    }
    let period = Period {
        from: played.simulated_from,
        to: played.simulated_to,
        patients: roster.patients.len(),
    };
    let evaluation = evaluation::evaluate_with_onsets(&truth, &alerts, period, &observations);
    let header = format!(
        "healthsync analytics eval --scenario {} --seed {}\n\
         {} patients, {:.1} simulated days at {}x, event rate x{}; {} readings stored, {} alerts; \
         {:.0} s wall time\n",
        args.scenario.display(),
        args.seed,
        roster.patients.len(),
        scenario.days,
        scenario.speed,
        scenario.event_rate,
        played.accepted_readings,
        alerts.len(),
        began.elapsed().as_secs_f64()
    );
    println!("{header}\n{evaluation}\n{by_rule}");
    if let Some(path) = &args.report {
        write_report(
            path,
            &format!("```\n{header}\n{evaluation}\n{by_rule}```\n"),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves every alert whose condition cleared, as the clinician on duty would.
async fn resolve_cleared(alerts: Alerts, clinician: UserId) {
    let mut events = alerts.subscribe();
    loop {
        match events.recv().await {
            Ok(event) if event.change == AlertChange::Cleared => {
                let note = Some("condition cleared (evaluation)");
                match alerts.resolve(event.alert.id, clinician, note).await {
                    // Two devices' conditions of one alert cleared: resolved by the first.
                    Ok(_) | Err(LifecycleError::Transition { .. }) => {}
                    Err(e) => tracing::warn!(%e, "the evaluation could not resolve an alert"),
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(n, "the evaluation's clinician missed alert changes");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Every alert as first raised, at the simulated time of the reading that fired it, and
/// again where it became more severe (the care team was told again then).
async fn fired_alerts(pool: &sqlx::PgPool) -> anyhow::Result<Vec<RaisedAlert>> {
    type Row = (
        UserId,
        Option<DeviceId>,
        String,
        Option<Metric>,
        Severity,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT patient_id, device_id, rule, metric, severity, triggered_at,
                (evidence->>'upgraded_at')::timestamptz
           FROM alerts ORDER BY triggered_at",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .flat_map(
            |(patient, device, rule, metric, severity, fired_at, upgraded_at)| {
                let alert = RaisedAlert {
                    patient,
                    device,
                    rule,
                    metric,
                    severity: severity.as_str().to_owned(),
                    fired_at,
                };
                let upgrade = upgraded_at.map(|fired_at| RaisedAlert {
                    fired_at,
                    ..alert.clone()
                });
                std::iter::once(alert).chain(upgrade)
            },
        )
        .collect())
}

/// What each clinical event's observing device delivered during it: nothing, or readings
/// and the first one guidance calls abnormal (its observable onset).
async fn observations(
    pool: &sqlx::PgPool,
    truth: &[GroundTruthEvent],
) -> anyhow::Result<Vec<Observation>> {
    let mut observations = Vec::with_capacity(truth.len());
    for event in truth {
        let (Some(onset), Some(device)) = (evaluation::onset(event.kind), event.device) else {
            observations.push(Observation::Unknown);
            continue;
        };
        let readings: Vec<(DateTime<Utc>, f64, Option<f64>)> = sqlx::query_as(
            "SELECT measured_at, value, value2 FROM readings
              WHERE device_id = $1 AND metric = $2 AND measured_at BETWEEN $3 AND $4
              ORDER BY measured_at",
        )
        .bind(device)
        .bind(onset.metric)
        .bind(event.start)
        .bind(event.end)
        .fetch_all(pool)
        .await?;
        observations.push(if readings.is_empty() {
            Observation::Unobserved
        } else {
            let first = readings
                .into_iter()
                .find(|&(_, v, v2)| (onset.abnormal)(v, v2))
                .map(|(t, _, _)| t);
            Observation::Observed { onset: first }
        });
    }
    Ok(observations)
}

/// How many alerts each rule raised, by severity.
async fn by_rule(pool: &sqlx::PgPool) -> anyhow::Result<String> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT rule, count(*) FILTER (WHERE severity = 'high'),
                count(*) FILTER (WHERE severity = 'medium'), count(*) FILTER (WHERE severity = 'low')
           FROM alerts GROUP BY rule ORDER BY rule",
    )
    .fetch_all(pool)
    .await?;
    let mut text = String::from("alerts by rule (high/medium/low):");
    for (rule, high, medium, low) in rows {
        text.push_str(&format!(" {rule} {high}/{medium}/{low};"));
    }
    Ok(text)
}

fn read_truth(path: &Path) -> anyhow::Result<Vec<GroundTruthEvent>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).context("a ground-truth line does not parse"))
        .collect()
}
