//! A patient's vitals over time: raw readings (paged), `time_bucket` aggregates (min,
//! max, mean and count per bucket; blood pressure as its systolic and diastolic pair),
//! and the latest value of each metric.

use std::fmt::Write;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use futures_util::StreamExt;
use healthsync_core::catalog::Metric;
use healthsync_core::ids::{DeviceId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::access::{Action, authorize};
use crate::aggregates::{self, Window};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Json, Path, Query};
use crate::pagination::{Page, PageParams};

/// The default window when `from` is not given.
const DEFAULT_WINDOW: Duration = Duration::hours(24);
const MIN_BUCKET_SECS: i64 = 10;
const MAX_BUCKET_SECS: i64 = 31 * 24 * 3600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metrics, crate::manual_entry::record))
        .routes(routes!(latest))
        .routes(routes!(export))
        .routes(routes!(crate::dashboard::dashboard))
        .routes(routes!(crate::report::report))
}

pub async fn may_read(state: &AppState, caller: &Caller, patient: UserId) -> Result<(), ApiError> {
    authorize(
        state,
        caller,
        Action::Patient {
            patient,
            write: false,
            resource: "vitals",
        },
    )
    .await
}

/// A bucket width such as `30s`, `5m`, `1h` or `1d`, as seconds.
pub fn parse_bucket(text: &str) -> Result<i64, ApiError> {
    let invalid = || ApiError::invalid("bucket", "a width like 30s, 5m, 1h or 1d, from 10s to 31d");
    let split = text.len().checked_sub(1).ok_or_else(invalid)?;
    let (count, unit) = text.split_at(split);
    let count: i64 = count.parse().map_err(|_| invalid())?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    let secs = count.checked_mul(unit_secs).ok_or_else(invalid)?;
    if (MIN_BUCKET_SECS..=MAX_BUCKET_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(invalid())
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// One metric; absent: all of them.
    metric: Option<Metric>,
    /// Start of the window, inclusive (default: 24 hours before `to`).
    from: Option<DateTime<Utc>>,
    /// End of the window, exclusive (default: now).
    to: Option<DateTime<Utc>>,
    /// Aggregate into buckets of this width (`30s`, `5m`, `1h`, `1d`; 10 s to 31 days).
    #[param(pattern = r"^[0-9]{1,7}[smhd]$")]
    bucket: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<u32>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Point {
    /// When the device measured it.
    t: DateTime<Utc>,
    metric: Metric,
    /// In the catalog's UCUM unit; systolic pressure for blood pressure.
    value: f64,
    /// Diastolic pressure for blood pressure; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    value2: Option<f64>,
    device_id: DeviceId,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Bucket {
    /// The bucket's start.
    t: DateTime<Utc>,
    metric: Metric,
    count: i64,
    min: f64,
    max: f64,
    avg: f64,
    /// Diastolic pressure's statistics for blood pressure; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    min2: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max2: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    avg2: Option<f64>,
}

/// Raw readings, or buckets when `bucket` was asked for; oldest first.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Series {
    Raw {
        items: Vec<Point>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_offset: Option<i64>,
    },
    Buckets {
        /// The bucket width in seconds.
        bucket_secs: i64,
        items: Vec<Bucket>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_offset: Option<i64>,
    },
}

/// A patient's readings in a window, raw or aggregated with `time_bucket`.
#[utoipa::path(get, path = "/api/patients/{id}/metrics", tag = "vitals",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient"), MetricsQuery),
    responses(
        (status = 200, description = "One page of readings or buckets", body = Series),
        (status = 400, description = "Invalid query", body = crate::error::ErrorBody),
    ))]
async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient): Path<UserId>,
    Query(query): Query<MetricsQuery>,
) -> Result<Json<Series>, ApiError> {
    let (limit, offset) = PageParams {
        limit: query.limit,
        offset: query.offset,
    }
    .checked()?;
    let to = query.to.unwrap_or_else(Utc::now);
    let from = query.from.unwrap_or(to - DEFAULT_WINDOW);
    if from >= to {
        return Err(ApiError::invalid("from", "must be before to"));
    }
    let bucket = query.bucket.as_deref().map(parse_bucket).transpose()?;
    may_read(&state, &caller, patient).await?;
    let series = match bucket {
        None => {
            let rows: Vec<Point> = sqlx::query_as(
                "SELECT measured_at AS t, metric, value, value2, device_id FROM readings
                 WHERE patient_id = $1 AND ($2::metric IS NULL OR metric = $2)
                   AND measured_at >= $3 AND measured_at < $4
                 ORDER BY measured_at, metric, device_id
                 LIMIT $5 OFFSET $6",
            )
            .bind(patient)
            .bind(query.metric)
            .bind(from)
            .bind(to)
            .bind(limit + 1)
            .bind(offset)
            .fetch_all(&state.pool)
            .await?;
            let page = Page::from_rows(rows, limit, offset);
            Series::Raw {
                items: page.items,
                next_offset: page.next_offset,
            }
        }
        Some(bucket_secs) => {
            let window = Window::new(from, to);
            let rows = aggregates::buckets(
                &state.pool,
                patient,
                query.metric,
                window,
                bucket_secs,
                limit + 1,
                offset,
            )
            .await?;
            let page = Page::from_rows(rows, limit, offset);
            Series::Buckets {
                bucket_secs,
                items: page.items,
                next_offset: page.next_offset,
            }
        }
    };
    Ok(Json(series))
}

/// A longest window one export may span.
const MAX_EXPORT_WINDOW: Duration = Duration::days(400);
/// Rows are sent in chunks of about this many bytes.
const EXPORT_CHUNK: usize = 64 * 1024;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// One metric; absent: all of them.
    metric: Option<Metric>,
    /// Start of the window, inclusive (default: 30 days before `to`).
    from: Option<DateTime<Utc>>,
    /// End of the window, exclusive (default: now). At most 400 days after `from`.
    to: Option<DateTime<Utc>>,
}

/// The patient's readings in a window as CSV (`measured_at,metric,value,value2,unit,
/// device_id`), oldest first, streamed as they are read.
#[utoipa::path(get, path = "/api/patients/{id}/metrics/export.csv", tag = "vitals",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient"), ExportQuery),
    responses(
        (status = 200, description = "The readings as CSV", content_type = "text/csv", body = String),
        (status = 400, description = "Invalid query", body = crate::error::ErrorBody),
    ))]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient): Path<UserId>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let to = query.to.unwrap_or_else(Utc::now);
    let from = query.from.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(ApiError::invalid("from", "must be before to"));
    }
    if to - from > MAX_EXPORT_WINDOW {
        return Err(ApiError::invalid(
            "from",
            "the window may span at most 400 days",
        ));
    }
    may_read(&state, &caller, patient).await?;
    // A month of 1 Hz readings is 2.6 million rows: they go out as they are read, never
    // held whole. A client that goes away closes the channel, which ends the query.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<String, sqlx::Error>>(4);
    let pool = state.pool.clone();
    tokio::spawn(async move {
        let mut rows = sqlx::query_as::<_, Point>(
            "SELECT measured_at AS t, metric, value, value2, device_id FROM readings
             WHERE patient_id = $1 AND ($2::metric IS NULL OR metric = $2)
               AND measured_at >= $3 AND measured_at < $4
             ORDER BY measured_at, metric, device_id",
        )
        .bind(patient)
        .bind(query.metric)
        .bind(from)
        .bind(to)
        .fetch(&pool);
        let mut chunk = String::from("measured_at,metric,value,value2,unit,device_id\n");
        while let Some(row) = rows.next().await {
            match row {
                Ok(p) => {
                    let value2 = p.value2.map(|v| v.to_string()).unwrap_or_default();
                    let _ = writeln!(
                        chunk,
                        "{},{},{},{value2},{},{}",
                        p.t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        p.metric,
                        p.value,
                        p.metric.spec().value.unit,
                        p.device_id,
                    );
                    if chunk.len() >= EXPORT_CHUNK
                        && sender.send(Ok(std::mem::take(&mut chunk))).await.is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(%e, "CSV export failed mid-stream");
                    let _ = sender.send(Err(e)).await;
                    return;
                }
            }
        }
        let _ = sender.send(Ok(chunk)).await;
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let filename = format!(
        "healthsync-{patient}-{}-{}.csv",
        from.format("%Y%m%dT%H%M%SZ"),
        to.format("%Y%m%dT%H%M%SZ")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Latest {
    pub metric: Metric,
    pub t: DateTime<Utc>,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value2: Option<f64>,
    /// UCUM unit of `value` (and `value2`).
    #[sqlx(skip)]
    unit: String,
    device_id: DeviceId,
}

/// The latest reading of each metric the patient has.
#[utoipa::path(get, path = "/api/patients/{id}/metrics/latest", tag = "vitals",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient")),
    responses(
        (status = 200, description = "One entry per metric with readings", body = Vec<Latest>),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
    ))]
async fn latest(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient): Path<UserId>,
) -> Result<Json<Vec<Latest>>, ApiError> {
    may_read(&state, &caller, patient).await?;
    Ok(Json(latest_values(&state, patient).await?))
}

/// The latest reading of each metric the patient has, with its unit.
pub async fn latest_values(state: &AppState, patient: UserId) -> Result<Vec<Latest>, ApiError> {
    // The rollup's primary key finds each metric's latest slot in one probe, and the slot
    // bounds the search in `readings` to five minutes of one chunk. Asked directly,
    // `readings` would be walked newest first across every chunk, and a metric the patient
    // never had would read the whole table.
    let mut rows: Vec<Latest> = sqlx::query_as(
        "SELECT m.metric, r.t, r.value, r.value2, r.device_id
         FROM unnest($2::metric[]) AS m(metric)
         CROSS JOIN LATERAL (
             SELECT slot FROM readings_5m
             WHERE patient_id = $1 AND metric = m.metric
             ORDER BY slot DESC LIMIT 1
         ) s
         CROSS JOIN LATERAL (
             SELECT measured_at AS t, value, value2, device_id FROM readings
             WHERE patient_id = $1 AND metric = m.metric
               AND measured_at >= s.slot AND measured_at < s.slot + interval '5 minutes'
             ORDER BY measured_at DESC LIMIT 1
         ) r
         ORDER BY m.metric",
    )
    .bind(patient)
    .bind(Metric::ALL.to_vec())
    .fetch_all(&state.pool)
    .await?;
    for row in &mut rows {
        row.unit = row.metric.spec().value.unit.to_owned();
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_widths() {
        assert_eq!(parse_bucket("5m").unwrap(), 300);
        assert_eq!(parse_bucket("10s").unwrap(), 10);
        assert_eq!(parse_bucket("1d").unwrap(), 86_400);
        assert_eq!(parse_bucket("31d").unwrap(), 31 * 86_400);
        for bad in [
            "",
            "m",
            "5",
            "9s",
            "32d",
            "-5m",
            "5w",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(parse_bucket(bad).is_err(), "{bad:?}");
        }
    }
}
