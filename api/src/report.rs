//! A patient's weekly or monthly report: per-metric statistics, glucose time in ranges
//! (the international consensus ranges, Battelino et al., Diabetes Care 2019), blood
//! pressure in the ACC/AHA 2017 categories (Whelton et al., Hypertension 2018), and the
//! alerts raised in the period.

use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::aggregates::{self, Summary, Window};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Json, Path, Query};
use crate::vitals::may_read;

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Week,
    Month,
}

impl Period {
    fn length(self) -> Duration {
        match self {
            Period::Week => Duration::days(7),
            Period::Month => Duration::days(30),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `week` (the last 7 days) or `month` (the last 30 days).
    period: Period,
}

/// Shares of glucose readings in each consensus range, in mg/dL.
#[derive(Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct TimeInRange {
    readings: u64,
    /// Below 54: level 2 hypoglycaemia.
    very_low: f64,
    /// 54 to 69.
    low: f64,
    /// 70 to 180: the target range.
    in_range: f64,
    /// 181 to 250.
    high: f64,
    /// Above 250.
    very_high: f64,
}

impl TimeInRange {
    /// Readings are evenly spaced for a CGM, so the share of readings is the share of time.
    fn of(values: &[f64]) -> TimeInRange {
        let share = |f: fn(f64) -> bool| {
            values.iter().filter(|v| f(**v)).count() as f64 / values.len().max(1) as f64
        };
        TimeInRange {
            readings: values.len() as u64,
            very_low: share(|v| v < 54.0),
            low: share(|v| (54.0..70.0).contains(&v)),
            in_range: share(|v| (70.0..=180.0).contains(&v)),
            high: share(|v| v > 180.0 && v <= 250.0),
            very_high: share(|v| v > 250.0),
        }
    }
}

/// The ACC/AHA 2017 blood-pressure categories; a reading falls in the higher category its
/// systolic or diastolic pressure reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BpCategory {
    /// Below 120 and below 80.
    Normal,
    /// 120–129 and below 80.
    Elevated,
    /// 130–139 or 80–89.
    Stage1,
    /// 140 or more, or 90 or more.
    Stage2,
    /// Above 180 and/or above 120: a hypertensive crisis.
    Crisis,
}

impl BpCategory {
    pub fn of(systolic: f64, diastolic: f64) -> BpCategory {
        let by_systolic = match systolic {
            s if s > 180.0 => BpCategory::Crisis,
            s if s >= 140.0 => BpCategory::Stage2,
            s if s >= 130.0 => BpCategory::Stage1,
            s if s >= 120.0 => BpCategory::Elevated,
            _ => BpCategory::Normal,
        };
        let by_diastolic = match diastolic {
            d if d > 120.0 => BpCategory::Crisis,
            d if d >= 90.0 => BpCategory::Stage2,
            d if d >= 80.0 => BpCategory::Stage1,
            _ => BpCategory::Normal,
        };
        by_systolic.max(by_diastolic)
    }
}

#[derive(Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct BpCounts {
    normal: u64,
    elevated: u64,
    stage1: u64,
    stage2: u64,
    crisis: u64,
}

#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct BloodPressureReport {
    readings: u64,
    mean_systolic: f64,
    mean_diastolic: f64,
    /// The category of the period's mean: ACC/AHA classifies by the average of readings
    /// on several occasions, not by a single one.
    category: BpCategory,
    /// Readings per category.
    counts: BpCounts,
}

impl BloodPressureReport {
    fn of(pairs: &[(f64, f64)]) -> Option<BloodPressureReport> {
        if pairs.is_empty() {
            return None;
        }
        let n = pairs.len() as f64;
        let mean_systolic = pairs.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_diastolic = pairs.iter().map(|p| p.1).sum::<f64>() / n;
        let mut counts = BpCounts::default();
        for &(s, d) in pairs {
            *match BpCategory::of(s, d) {
                BpCategory::Normal => &mut counts.normal,
                BpCategory::Elevated => &mut counts.elevated,
                BpCategory::Stage1 => &mut counts.stage1,
                BpCategory::Stage2 => &mut counts.stage2,
                BpCategory::Crisis => &mut counts.crisis,
            } += 1;
        }
        Some(BloodPressureReport {
            readings: pairs.len() as u64,
            mean_systolic,
            mean_diastolic,
            category: BpCategory::of(mean_systolic, mean_diastolic),
            counts,
        })
    }
}

#[derive(Debug, Default, Serialize, ToSchema, sqlx::FromRow)]
pub struct AlertCounts {
    raised: i64,
    low: i64,
    medium: i64,
    high: i64,
    /// Of those raised in the period, how many are still unresolved.
    unresolved: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Report {
    patient_id: UserId,
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// One entry per metric with readings in the period.
    metrics: Vec<Summary>,
    /// Absent without glucose readings.
    glucose_time_in_range: Option<TimeInRange>,
    /// Absent without blood-pressure readings.
    blood_pressure: Option<BloodPressureReport>,
    alerts: AlertCounts,
}

/// The patient's report for the last week or month.
#[utoipa::path(get, path = "/api/patients/{id}/report", tag = "vitals",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient"), ReportQuery),
    responses(
        (status = 200, description = "The report", body = Report),
        (status = 400, description = "Malformed id or period", body = crate::error::ErrorBody),
    ))]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient): Path<UserId>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    may_read(&state, &caller, patient).await?;
    let to = Utc::now();
    let from = to - query.period.length();
    let metrics = aggregates::summaries(&state.pool, patient, Window::new(from, to)).await?;
    let has = |metric: Metric| metrics.iter().any(|s| s.metric == metric);
    let glucose_time_in_range = if has(Metric::BloodGlucose) {
        let values: Vec<f64> = sqlx::query_scalar(
            "SELECT value FROM readings
             WHERE patient_id = $1 AND metric = 'blood_glucose'
               AND measured_at >= $2 AND measured_at < $3",
        )
        .bind(patient)
        .bind(from)
        .bind(to)
        .fetch_all(&state.pool)
        .await?;
        Some(TimeInRange::of(&values))
    } else {
        None
    };
    let blood_pressure = if has(Metric::BloodPressure) {
        let pairs: Vec<(f64, f64)> = sqlx::query_as(
            "SELECT value, value2 FROM readings
             WHERE patient_id = $1 AND metric = 'blood_pressure' AND value2 IS NOT NULL
               AND measured_at >= $2 AND measured_at < $3",
        )
        .bind(patient)
        .bind(from)
        .bind(to)
        .fetch_all(&state.pool)
        .await?;
        BloodPressureReport::of(&pairs)
    } else {
        None
    };
    let alerts: AlertCounts = sqlx::query_as(
        "SELECT count(*) AS raised,
                count(*) FILTER (WHERE severity = 'low') AS low,
                count(*) FILTER (WHERE severity = 'medium') AS medium,
                count(*) FILTER (WHERE severity = 'high') AS high,
                count(*) FILTER (WHERE status <> 'resolved') AS unresolved
         FROM alerts WHERE patient_id = $1 AND raised_at >= $2 AND raised_at < $3",
    )
    .bind(patient)
    .bind(from)
    .bind(to)
    .fetch_one(&state.pool)
    .await?;
    Ok(Json(Report {
        patient_id: patient,
        period: query.period,
        from,
        to,
        metrics,
        glucose_time_in_range,
        blood_pressure,
        alerts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blood_pressure_falls_in_the_higher_category_either_pressure_reaches() {
        let cases = [
            ((119.0, 79.0), BpCategory::Normal),
            ((120.0, 79.0), BpCategory::Elevated),
            ((129.0, 79.0), BpCategory::Elevated),
            ((125.0, 80.0), BpCategory::Stage1),
            ((130.0, 70.0), BpCategory::Stage1),
            ((139.0, 89.0), BpCategory::Stage1),
            ((140.0, 60.0), BpCategory::Stage2),
            ((118.0, 90.0), BpCategory::Stage2),
            ((180.0, 110.0), BpCategory::Stage2),
            ((181.0, 100.0), BpCategory::Crisis),
            ((150.0, 121.0), BpCategory::Crisis),
        ];
        for ((s, d), category) in cases {
            assert_eq!(BpCategory::of(s, d), category, "{s}/{d}");
        }
    }

    #[test]
    fn the_period_is_classified_by_its_mean_and_every_reading_is_counted() {
        let report = BloodPressureReport::of(&[(118.0, 76.0), (142.0, 84.0)]).unwrap();
        assert_eq!(report.category, BpCategory::Stage1, "mean 130/80");
        assert_eq!(
            report.counts,
            BpCounts {
                normal: 1,
                stage2: 1,
                ..BpCounts::default()
            }
        );
        assert_eq!(BloodPressureReport::of(&[]), None);
    }

    #[test]
    fn glucose_ranges_meet_at_their_bounds() {
        let tir = TimeInRange::of(&[53.9, 54.0, 69.9, 70.0, 180.0, 180.5, 250.0, 251.0]);
        assert_eq!(
            tir,
            TimeInRange {
                readings: 8,
                very_low: 0.125,
                low: 0.25,
                in_range: 0.25,
                high: 0.25,
                very_high: 0.125,
            }
        );
    }
}
