//! The batch and write stages: messages are gathered until the batch holds enough readings
//! or its first message has waited long enough, then written in one transaction — all
//! readings at once, idempotently (a replayed message inserts nothing twice; see
//! [`WriteMethod`]), the rejections, the status reports as device events, the devices'
//! battery — and only after the commit are devices answered and the readings and status
//! reports published to their streams.
//!
//! A failed write is retried, with backoff, until it succeeds: meanwhile the queues in
//! front fill up and the sources stop taking messages, so a slow or absent database holds
//! memory constant and pushes back instead of losing or growing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::DeviceId;
use healthsync_core::telemetry::Ack;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::binary_copy;
use crate::message::{Checked, CommittedReading, DeviceStatusEvent, Outcome};
use crate::replies::Replies;
use crate::rollup;

/// How the pipeline writes readings: the fastest idempotent method measured by
/// `examples/writer_vs_copy.rs` (2 cores, batches of 5,000: COPY at 0.9–1.0× raw COPY,
/// UNNEST and staged COPY at about 0.7×).
const METHOD: WriteMethod = WriteMethod::Copy;
/// The rejection reason of a status report that does not decode.
const INVALID_STATUS: &str = "invalid_status";

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub struct BatchLimits {
    pub max_readings: usize,
    pub max_delay: Duration,
}

pub async fn run(
    mut checked: mpsc::Receiver<Checked>,
    pool: PgPool,
    limits: BatchLimits,
    replies: Replies,
    committed: broadcast::Sender<Arc<[CommittedReading]>>,
    statuses: broadcast::Sender<Arc<DeviceStatusEvent>>,
) {
    let mut method = METHOD;
    while let Some(first) = checked.recv().await {
        let mut batch = vec![first];
        let mut readings = readings_in(&batch[0]);
        let deadline = tokio::time::Instant::now() + limits.max_delay;
        while readings < limits.max_readings {
            match tokio::time::timeout_at(deadline, checked.recv()).await {
                Ok(Some(next)) => {
                    readings += readings_in(&next);
                    batch.push(next);
                }
                // The delay is up, or the pipeline is closing: write what there is.
                Ok(None) | Err(_) => break,
            }
        }
        metrics::gauge!("healthsync_ingest_queue_checked").set(checked.len() as f64);
        let written = write_until_committed(&pool, &batch, method).await;
        method = next_method(written);
        answer(batch, &replies, &committed, &statuses);
    }
}

fn readings_in(checked: &Checked) -> usize {
    match checked {
        Checked::Valid(v) => v.readings.len().max(1),
        Checked::Refused(_) | Checked::Status(_) => 1,
    }
}

/// The method for the next batch. Replays come in runs — a reconnecting device sends
/// everything it has not seen acked — so after a batch that held stored readings the next
/// ones likely do too: they skip the COPY that would fail and go staged straight away, until
/// a batch holds none.
fn next_method(last: Written) -> WriteMethod {
    match METHOD {
        WriteMethod::Copy if last.inserted < last.readings as u64 => WriteMethod::StagedCopy,
        method => method,
    }
}

/// What a batch write did.
#[derive(Clone, Copy, Debug)]
struct Written {
    /// Readings in the batch.
    readings: usize,
    /// Readings that were new.
    inserted: u64,
}

async fn write_until_committed(pool: &PgPool, batch: &[Checked], method: WriteMethod) -> Written {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = Instant::now();
        match write(pool, batch, method).await {
            Ok(written) => {
                let inserted = written.inserted;
                metrics::histogram!("healthsync_ingest_write_seconds")
                    .record(started.elapsed().as_secs_f64());
                metrics::histogram!("healthsync_ingest_batch_messages").record(batch.len() as f64);
                metrics::counter!("healthsync_ingest_readings_inserted_total").increment(inserted);
                return written;
            }
            Err(e) => {
                metrics::counter!("healthsync_ingest_write_failures_total").increment(1);
                tracing::warn!(%e, retry_in = ?backoff, messages = batch.len(), "batch write failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Writes one batch in one transaction.
async fn write(
    pool: &PgPool,
    batch: &[Checked],
    method: WriteMethod,
) -> Result<Written, sqlx::Error> {
    let mut readings = Vec::new();
    let mut x = RejectionColumns::default();
    let mut events = StatusColumns::default();
    // Latest battery and time per device.
    let mut devices: HashMap<DeviceId, (Option<f32>, DateTime<Utc>)> = HashMap::new();
    let mut seen = |device: DeviceId, battery: Option<f32>, at: DateTime<Utc>| {
        let entry = devices.entry(device).or_insert((None, at));
        entry.0 = battery.or(entry.0);
        entry.1 = entry.1.max(at);
    };
    for checked in batch {
        match checked {
            Checked::Valid(v) => {
                readings.extend(v.readings.iter().map(|reading| ReadingRow {
                    measured_at: reading.measured_at,
                    device: v.device.0,
                    patient: v.patient.0,
                    metric: reading.metric,
                    value: reading.value,
                    value2: reading.value2,
                    seq: v.seq as i64,
                }));
                for rejection in &v.rejections {
                    x.device.push(v.device.0);
                    x.received_at.push(v.received_at);
                    x.seq.push(Some(v.seq as i64));
                    x.idx.push(Some(rejection.index as i32));
                    x.reason.push(rejection.reason.as_str());
                    x.raw.push(rejection.raw.clone());
                }
                seen(v.device, v.battery, v.received_at);
            }
            Checked::Refused(refused) => {
                x.device.push(refused.device.0);
                x.received_at.push(refused.received_at);
                x.seq.push(None);
                x.idx.push(None);
                x.reason.push(refused.code);
                x.raw.push(refused.raw.clone());
            }
            Checked::Status(status) => match &status.report {
                Ok(report) => {
                    events.device.push(status.device.0);
                    events.at.push(status.received_at);
                    events.detail.push(report.kind.as_str());
                    // Serialising a report (strings and numbers) cannot fail.
                    events
                        .report
                        .push(serde_json::to_string(report).unwrap_or_default());
                    seen(status.device, report.battery, status.received_at);
                }
                Err(invalid) => {
                    x.device.push(status.device.0);
                    x.received_at.push(status.received_at);
                    x.seq.push(None);
                    x.idx.push(None);
                    x.reason.push(INVALID_STATUS);
                    x.raw.push(invalid.raw.clone());
                }
            },
        }
    }

    let (mut tx, inserted) = begin_with_readings(pool, &readings, method).await?;
    if !x.device.is_empty() {
        sqlx::query(
            "INSERT INTO rejected_readings (device_id, received_at, seq, idx, reason, raw)
             SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::int8[], $4::int4[],
                                  $5::text[], $6::text[])",
        )
        .bind(&x.device)
        .bind(&x.received_at)
        .bind(&x.seq)
        .bind(&x.idx)
        .bind(&x.reason)
        .bind(&x.raw)
        .execute(&mut *tx)
        .await?;
    }
    if !events.device.is_empty() {
        sqlx::query(
            "INSERT INTO device_events (device_id, at, kind, detail, report)
             SELECT d, a, 'status', k, r::jsonb
             FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[]) AS e(d, a, k, r)",
        )
        .bind(&events.device)
        .bind(&events.at)
        .bind(&events.detail)
        .bind(&events.report)
        .execute(&mut *tx)
        .await?;
    }
    if !devices.is_empty() {
        let (ids, rest): (Vec<Uuid>, Vec<_>) = devices.iter().map(|(d, v)| (d.0, *v)).unzip();
        let (battery, seen): (Vec<Option<f32>>, Vec<DateTime<Utc>>) = rest.into_iter().unzip();
        sqlx::query(
            "UPDATE devices
             SET battery = coalesce(u.battery, devices.battery),
                 last_seen_at = greatest(devices.last_seen_at, u.seen)
             FROM unnest($1::uuid[], $2::float4[], $3::timestamptz[]) AS u(id, battery, seen)
             WHERE devices.id = u.id",
        )
        .bind(&ids)
        .bind(&battery)
        .bind(&seen)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Written {
        readings: readings.len(),
        inserted,
    })
}

/// One row of `readings`, as the writer inserts it.
#[derive(Clone, Copy, Debug, PartialEq, sqlx::FromRow)]
pub struct ReadingRow {
    pub measured_at: DateTime<Utc>,
    #[sqlx(rename = "device_id")]
    pub device: Uuid,
    #[sqlx(rename = "patient_id")]
    pub patient: Uuid,
    pub metric: Metric,
    pub value: f64,
    pub value2: Option<f64>,
    pub seq: i64,
}

/// How a batch's readings go into `readings`. Every method is idempotent — a replayed
/// reading (same device, metric and time) is not inserted again — and tells how many rows
/// were new. `copy_limit::measure_writer` measures each against raw COPY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMethod {
    /// One `INSERT … SELECT FROM unnest($1, …) ON CONFLICT DO NOTHING` with a bound array
    /// per column.
    Unnest,
    /// Binary COPY into a session-local staging table, then
    /// `INSERT … SELECT FROM staging ON CONFLICT DO NOTHING`.
    StagedCopy,
    /// Binary COPY straight into `readings`; a batch that holds an already stored reading
    /// (a replay) fails the COPY, and goes again as [`WriteMethod::StagedCopy`].
    Copy,
}

/// Opens a batch's transaction with its readings inserted; returns it and how many readings
/// were new.
pub async fn begin_with_readings(
    pool: &PgPool,
    rows: &[ReadingRow],
    method: WriteMethod,
) -> Result<(Transaction<'static, Postgres>, u64), sqlx::Error> {
    let mut tx = pool.begin().await?;
    if rows.is_empty() {
        return Ok((tx, 0));
    }
    // Every method ends knowing which readings were new, and adds those to the rollup.
    let inserted = match method {
        WriteMethod::Unnest => insert_unnest(&mut tx, rows).await?,
        WriteMethod::StagedCopy => insert_staged(&mut tx, rows).await?,
        WriteMethod::Copy => match binary_copy::copy_readings(&mut tx, "readings", rows).await {
            Ok(_) => {
                rollup::add(&mut tx, rows).await?;
                rows.len() as u64
            }
            Err(e) if is_unique_violation(&e) => {
                metrics::counter!("healthsync_ingest_copy_conflicts_total").increment(1);
                tx.rollback().await?;
                tx = pool.begin().await?;
                insert_staged(&mut tx, rows).await?
            }
            Err(e) => return Err(e),
        },
    };
    Ok((tx, inserted))
}

/// Adds the readings an `INSERT … RETURNING` reports as new to the rollup; returns how
/// many there were.
async fn roll_up_returned(tx: &mut PgConnection, new: Vec<ReadingRow>) -> Result<u64, sqlx::Error> {
    rollup::add(tx, &new).await?;
    Ok(new.len() as u64)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

async fn insert_unnest(tx: &mut PgConnection, rows: &[ReadingRow]) -> Result<u64, sqlx::Error> {
    let mut r = ReadingColumns::default();
    for row in rows {
        r.measured_at.push(row.measured_at);
        r.device.push(row.device);
        r.patient.push(row.patient);
        r.metric.push(row.metric.as_str());
        r.value.push(row.value);
        r.value2.push(row.value2);
        r.seq.push(row.seq);
    }
    let new = sqlx::query_as(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, value2, seq)
         SELECT t, d, p, m::metric, v, v2, s
         FROM unnest($1::timestamptz[], $2::uuid[], $3::uuid[], $4::text[],
                     $5::float8[], $6::float8[], $7::int8[]) AS r(t, d, p, m, v, v2, s)
         ON CONFLICT DO NOTHING
         RETURNING measured_at, device_id, patient_id, metric, value, value2, seq",
    )
    .bind(&r.measured_at)
    .bind(&r.device)
    .bind(&r.patient)
    .bind(&r.metric)
    .bind(&r.value)
    .bind(&r.value2)
    .bind(&r.seq)
    .fetch_all(&mut *tx)
    .await?;
    roll_up_returned(tx, new).await
}

async fn insert_staged(tx: &mut PgConnection, rows: &[ReadingRow]) -> Result<u64, sqlx::Error> {
    // Made once per connection (a temporary table lives as long as its session), emptied by
    // every commit. Testing first keeps the server from sending a notice every batch.
    sqlx::query(
        "DO $$ BEGIN
             IF to_regclass('pg_temp.readings_staging') IS NULL THEN
                 CREATE TEMPORARY TABLE readings_staging (
                     measured_at timestamptz, device_id uuid, patient_id uuid, metric metric,
                     value float8, value2 float8, seq int8
                 ) ON COMMIT DELETE ROWS;
             END IF;
         END $$",
    )
    .execute(&mut *tx)
    .await?;
    binary_copy::copy_readings(tx, "readings_staging", rows).await?;
    let cols = binary_copy::COLUMNS;
    let new = sqlx::query_as(&format!(
        "INSERT INTO readings ({cols}) SELECT {cols} FROM readings_staging ON CONFLICT DO NOTHING
         RETURNING {cols}"
    ))
    .fetch_all(&mut *tx)
    .await?;
    roll_up_returned(tx, new).await
}

#[derive(Default)]
struct ReadingColumns {
    measured_at: Vec<DateTime<Utc>>,
    device: Vec<Uuid>,
    patient: Vec<Uuid>,
    metric: Vec<&'static str>,
    value: Vec<f64>,
    value2: Vec<Option<f64>>,
    seq: Vec<i64>,
}

#[derive(Default)]
struct RejectionColumns {
    device: Vec<Uuid>,
    received_at: Vec<DateTime<Utc>>,
    seq: Vec<Option<i64>>,
    idx: Vec<Option<i32>>,
    reason: Vec<&'static str>,
    raw: Vec<String>,
}

#[derive(Default)]
struct StatusColumns {
    device: Vec<Uuid>,
    at: Vec<DateTime<Utc>>,
    detail: Vec<&'static str>,
    /// The report as JSON text.
    report: Vec<String>,
}

/// After the commit: every device gets its answer, subscribers get the readings.
fn answer(
    batch: Vec<Checked>,
    replies: &Replies,
    committed: &broadcast::Sender<Arc<[CommittedReading]>>,
    statuses: &broadcast::Sender<Arc<DeviceStatusEvent>>,
) {
    let mut stream = Vec::new();
    for checked in batch {
        match checked {
            Checked::Valid(v) => {
                metrics::counter!("healthsync_ingest_readings_accepted_total")
                    .increment(v.readings.len() as u64);
                for rejection in &v.rejections {
                    metrics::counter!("healthsync_ingest_readings_rejected_total", "reason" => rejection.reason.as_str())
                        .increment(1);
                }
                stream.extend(v.readings.iter().map(|reading| CommittedReading {
                    device: v.device,
                    patient: v.patient,
                    reading: *reading,
                }));
                let ack = Ack::new(v.seq, v.readings.len(), &v.rejections);
                replies.send(v.device, v.reply, Outcome::Stored(ack));
            }
            Checked::Refused(refused) => {
                metrics::counter!("healthsync_ingest_messages_refused_total", "code" => refused.code)
                    .increment(1);
                replies.send(
                    refused.device,
                    refused.reply,
                    Outcome::Refused {
                        code: refused.code,
                        message: refused.message,
                    },
                );
            }
            Checked::Status(status) => {
                match status.report {
                    Ok(report) => {
                        metrics::counter!("healthsync_ingest_status_reports_total", "kind" => report.kind.as_str())
                            .increment(1);
                        // No subscriber is fine; a lagging one loses the oldest reports.
                        let _ = statuses.send(Arc::new(DeviceStatusEvent {
                            device: status.device,
                            patient: status.patient,
                            received_at: status.received_at,
                            report,
                        }));
                    }
                    Err(invalid) => {
                        metrics::counter!("healthsync_ingest_status_reports_total", "kind" => "invalid")
                            .increment(1);
                        tracing::debug!(device = %status.device, message = invalid.message, "invalid status report");
                    }
                }
                replies.settle(status.device, status.reply);
            }
        }
    }
    if !stream.is_empty() {
        // No subscriber is fine; a lagging one loses the oldest batches, not ingest.
        let _ = committed.send(stream.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<ReadingRow> {
        let device = Uuid::new_v4();
        let patient = Uuid::new_v4();
        let start = Utc::now() - chrono::Duration::minutes(10);
        (0..n)
            .map(|i| ReadingRow {
                // Across a slot boundary in most runs, several readings per slot in all.
                measured_at: start + chrono::Duration::seconds(40 * i as i64),
                device,
                patient,
                metric: if i % 2 == 0 {
                    Metric::HeartRate
                } else {
                    Metric::BloodPressure
                },
                value: 120.0 + i as f64,
                value2: (i % 2 == 1).then_some(80.0 - i as f64),
                seq: i as i64,
            })
            .collect()
    }

    async fn insert(pool: &PgPool, rows: &[ReadingRow], method: WriteMethod) -> u64 {
        let (tx, inserted) = begin_with_readings(pool, rows, method).await.unwrap();
        tx.commit().await.unwrap();
        inserted
    }

    type SlotRow = (
        Uuid,
        Metric,
        DateTime<Utc>,
        i64,
        f64,
        f64,
        f64,
        f64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );

    async fn rollup(pool: &PgPool, table: &str) -> Vec<SlotRow> {
        sqlx::query_as(&format!(
            "SELECT patient_id, metric, slot, count, sum, sum_sq, min, max, sum2, min2, max2
             FROM {table} ORDER BY 1, 2, 3"
        ))
        .fetch_all(pool)
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn every_method_inserts_each_reading_once_and_counts_the_new_ones() {
        let db = healthsync_core::test_support::test_db().await;
        for method in [
            WriteMethod::Unnest,
            WriteMethod::StagedCopy,
            WriteMethod::Copy,
        ] {
            let rows = rows(10);
            assert_eq!(insert(&db.pool, &rows[..6], method).await, 6, "{method:?}");
            // A replay of some, with new ones, and a reading twice in one batch.
            let mut again = rows[4..].to_vec();
            again.push(rows[9]);
            assert_eq!(insert(&db.pool, &again, method).await, 4, "{method:?}");
            assert_eq!(insert(&db.pool, &rows, method).await, 0, "{method:?}");
            let stored: i64 =
                sqlx::query_scalar("SELECT count(*) FROM readings WHERE device_id = $1")
                    .bind(rows[0].device)
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            assert_eq!(stored, 10, "{method:?}");
        }
        // The rollups the writers kept equal ones recomputed from the stored readings.
        let kept = (
            rollup(&db.pool, "readings_5m").await,
            rollup(&db.pool, "readings_1d").await,
        );
        for tier in [&kept.0, &kept.1] {
            let counted: i64 = tier.iter().map(|slot| slot.3).sum();
            assert_eq!(counted, 30, "every new reading counted once: {tier:?}");
        }
        sqlx::query("SELECT rollup_readings('-infinity', 'infinity')")
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(
            kept,
            (
                rollup(&db.pool, "readings_5m").await,
                rollup(&db.pool, "readings_1d").await
            )
        );
        db.drop_database().await;
    }

    #[test]
    fn after_a_replay_batches_go_staged_until_one_holds_none() {
        let replayed = Written {
            readings: 10,
            inserted: 7,
        };
        let clean = Written {
            readings: 10,
            inserted: 10,
        };
        assert_eq!(next_method(replayed), WriteMethod::StagedCopy);
        assert_eq!(next_method(clean), METHOD);
        assert_eq!(
            next_method(Written {
                readings: 0,
                inserted: 0
            }),
            METHOD
        );
    }
}
