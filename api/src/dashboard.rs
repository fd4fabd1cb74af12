//! A patient's dashboard in one answer: the latest value of each metric, a daily trend per
//! metric (7 days unless asked for up to 90), the NEWS2 score from the latest vitals, the unresolved alerts, and
//! plain-language insights such as the resting heart rate against the patient's own
//! 28-day baseline.

use axum::extract::State;
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use healthsync_analytics::alert::Alert;
use healthsync_analytics::news2::{self, News2, Vitals};
use healthsync_analytics::rules::{Overrides, RuleSet};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::aggregates::{self, Window};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Json, Path, Query};
use crate::vitals::{Bucket, Latest, latest_values, may_read};

const DEFAULT_TREND_DAYS: u32 = 7;
const MAX_TREND_DAYS: u32 = 90;
const BASELINE_DAYS: i64 = 28;
/// Fewer baseline days than this and no comparison is made.
const MIN_BASELINE_DAYS: i64 = 7;
/// A resting heart rate this far from the baseline is worth saying.
const NOTABLE_BPM: f64 = 5.0;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Days of daily trend, 1 to 90 (default 7).
    #[param(minimum = 1, maximum = 90)]
    days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Insight {
    /// Stable, for clients: `resting_heart_rate_above_baseline`, `…_below_baseline`,
    /// `…_in_line_with_baseline`.
    kind: String,
    /// For people.
    text: String,
}

#[derive(Serialize, ToSchema)]
pub struct Dashboard {
    patient_id: UserId,
    latest: Vec<Latest>,
    /// How many days `trend` covers.
    trend_days: u32,
    /// Daily aggregates of the last `trend_days` UTC days (today's so far included),
    /// oldest first.
    trend: Vec<Bucket>,
    /// From the latest value of each parameter within the NEWS2 window (default an hour);
    /// absent with fewer than 3 measured parameters.
    #[schema(value_type = Option<Object>)]
    news2: Option<News2>,
    /// Unresolved alerts, newest first.
    open_alerts: Vec<Alert>,
    insights: Vec<Insight>,
}

/// The patient's dashboard.
#[utoipa::path(get, path = "/api/patients/{id}/dashboard", tag = "vitals",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient"), DashboardQuery),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        (status = 400, description = "Malformed id or days", body = crate::error::ErrorBody),
    ))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient): Path<UserId>,
    Query(query): Query<DashboardQuery>,
) -> Result<Json<Dashboard>, ApiError> {
    let trend_days = query.days.unwrap_or(DEFAULT_TREND_DAYS);
    if !(1..=MAX_TREND_DAYS).contains(&trend_days) {
        return Err(ApiError::invalid("days", "must be 1 to 90"));
    }
    may_read(&state, &caller, patient).await?;
    let now = Utc::now();
    let latest = latest_values(&state, patient).await?;
    // Whole UTC days, today's included: complete daily buckets, which the daily rollup
    // answers alone.
    let tomorrow = now
        .duration_trunc(Duration::days(1))
        .map_err(ApiError::internal)?
        + Duration::days(1);
    let from = tomorrow - Duration::days(trend_days.into());
    let window = Window::whole_days(from, tomorrow).unwrap_or(Window::new(from, tomorrow));
    let trend =
        aggregates::buckets(&state.pool, patient, None, window, 86_400, i64::MAX, 0).await?;
    let open_alerts: Vec<Alert> = sqlx::query_as(
        "SELECT * FROM alerts WHERE patient_id = $1 AND status <> 'resolved'
         ORDER BY raised_at DESC LIMIT 50",
    )
    .bind(patient)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Dashboard {
        patient_id: patient,
        news2: news2_now(&state, patient, &latest, now).await?,
        latest,
        trend_days,
        trend,
        open_alerts,
        insights: insights(&state, patient).await?,
    }))
}

/// NEWS2 from the latest values, with the patient's rules (scale 2 where prescribed).
/// Temperature counts only from thermometers: a watch measures wrist skin.
async fn news2_now(
    state: &AppState,
    patient: UserId,
    latest: &[Latest],
    now: DateTime<Utc>,
) -> Result<Option<News2>, ApiError> {
    let overrides: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT rules FROM alert_rules WHERE patient_id = $1")
            .bind(patient)
            .fetch_optional(&state.pool)
            .await?;
    let defaults = RuleSet::default();
    let rules = overrides
        .and_then(|json| Overrides::from_json(&json).ok())
        .and_then(|o| o.apply(&defaults).ok())
        .unwrap_or(defaults);
    let rule = &rules.news2;
    let since = now - Duration::minutes(rule.window_minutes);
    let recent = |metric: Metric| {
        latest
            .iter()
            .find(|l| l.metric == metric && l.t >= since)
            .map(|l| (l.value, l.value2))
    };
    let temperature: Option<f64> = sqlx::query_scalar(
        "SELECT r.value FROM readings r JOIN devices d ON d.id = r.device_id
         WHERE r.patient_id = $1 AND r.metric = 'body_temperature' AND d.kind = 'thermometer'
           AND r.measured_at >= $2
         ORDER BY r.measured_at DESC LIMIT 1",
    )
    .bind(patient)
    .bind(since)
    .fetch_optional(&state.pool)
    .await?;
    let vitals = Vitals {
        respiratory_rate: recent(Metric::RespiratoryRate).map(|v| v.0),
        spo2: recent(Metric::Spo2).map(|v| v.0),
        systolic: recent(Metric::BloodPressure).map(|v| v.0),
        heart_rate: recent(Metric::HeartRate).map(|v| v.0),
        temperature,
        ..Vitals::default()
    };
    let score = news2::score(&vitals, rule.scale);
    Ok((score.measured() >= rule.min_parameters).then_some(score))
}

/// The resting heart rate of the latest day against the mean of the 28 days before it.
async fn insights(state: &AppState, patient: UserId) -> Result<Vec<Insight>, ApiError> {
    let days: Vec<(NaiveDate, f64)> = sqlx::query_as(
        "SELECT day, value FROM patient_daily_stats
         WHERE patient_id = $1 AND stat = 'resting_hr'
         ORDER BY day DESC LIMIT $2",
    )
    .bind(patient)
    .bind(BASELINE_DAYS + 1)
    .fetch_all(&state.pool)
    .await?;
    let Some(((latest_day, latest), earlier)) = days.split_first() else {
        return Ok(Vec::new());
    };
    let baseline: Vec<f64> = earlier
        .iter()
        .filter(|(day, _)| (*latest_day - *day).num_days() <= BASELINE_DAYS)
        .map(|(_, v)| *v)
        .collect();
    if (baseline.len() as i64) < MIN_BASELINE_DAYS {
        return Ok(Vec::new());
    }
    let mean = baseline.iter().sum::<f64>() / baseline.len() as f64;
    let diff = latest - mean;
    let (kind, text) = if diff >= NOTABLE_BPM {
        (
            "resting_heart_rate_above_baseline",
            format!("Resting heart rate {diff:.0} bpm above your 28-day baseline ({mean:.0} bpm)"),
        )
    } else if diff <= -NOTABLE_BPM {
        (
            "resting_heart_rate_below_baseline",
            format!(
                "Resting heart rate {:.0} bpm below your 28-day baseline ({mean:.0} bpm)",
                -diff
            ),
        )
    } else {
        (
            "resting_heart_rate_in_line_with_baseline",
            format!("Resting heart rate {latest:.0} bpm, in line with your 28-day baseline"),
        )
    };
    Ok(vec![Insight {
        kind: kind.to_owned(),
        text,
    }])
}
