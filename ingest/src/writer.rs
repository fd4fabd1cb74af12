//! The batch and write stages: messages are gathered until the batch holds enough readings
//! or its first message has waited long enough, then written in one transaction — all
//! readings in one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` (a replayed
//! message inserts nothing twice), the rejections, the devices' battery — and only after
//! the commit are devices answered and the readings published to the committed stream.
//!
//! A failed write is retried, with backoff, until it succeeds: meanwhile the queues in
//! front fill up and the sources stop taking messages, so a slow or absent database holds
//! memory constant and pushes back instead of losing or growing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use healthsync_core::ids::DeviceId;
use healthsync_core::telemetry::Ack;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::message::{Checked, CommittedReading, Outcome};
use crate::replies::Replies;

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
) {
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
        write_until_committed(&pool, &batch).await;
        answer(batch, &replies, &committed);
    }
}

fn readings_in(checked: &Checked) -> usize {
    match checked {
        Checked::Valid(v) => v.readings.len().max(1),
        Checked::Refused(_) => 1,
    }
}

async fn write_until_committed(pool: &PgPool, batch: &[Checked]) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = Instant::now();
        match write(pool, batch).await {
            Ok(inserted) => {
                metrics::histogram!("healthsync_ingest_write_seconds")
                    .record(started.elapsed().as_secs_f64());
                metrics::histogram!("healthsync_ingest_batch_messages").record(batch.len() as f64);
                metrics::counter!("healthsync_ingest_readings_inserted_total").increment(inserted);
                return;
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

/// Writes one batch in one transaction; returns how many readings were new.
async fn write(pool: &PgPool, batch: &[Checked]) -> Result<u64, sqlx::Error> {
    let mut r = ReadingColumns::default();
    let mut x = RejectionColumns::default();
    // Latest battery and time per device.
    let mut devices: HashMap<DeviceId, (Option<f32>, DateTime<Utc>)> = HashMap::new();
    for checked in batch {
        match checked {
            Checked::Valid(v) => {
                for reading in &v.readings {
                    r.measured_at.push(reading.measured_at);
                    r.device.push(v.device.0);
                    r.patient.push(v.patient.0);
                    r.metric.push(reading.metric.as_str());
                    r.value.push(reading.value);
                    r.value2.push(reading.value2);
                    r.seq.push(v.seq as i64);
                }
                for rejection in &v.rejections {
                    x.device.push(v.device.0);
                    x.received_at.push(v.received_at);
                    x.seq.push(Some(v.seq as i64));
                    x.idx.push(Some(rejection.index as i32));
                    x.reason.push(rejection.reason.as_str());
                    x.raw.push(rejection.raw.clone());
                }
                let entry = devices.entry(v.device).or_insert((None, v.received_at));
                entry.0 = v.battery.or(entry.0);
                entry.1 = entry.1.max(v.received_at);
            }
            Checked::Refused(refused) => {
                x.device.push(refused.device.0);
                x.received_at.push(refused.received_at);
                x.seq.push(None);
                x.idx.push(None);
                x.reason.push(refused.code);
                x.raw.push(refused.raw.clone());
            }
        }
    }

    let mut tx = pool.begin().await?;
    let mut inserted = 0;
    if !r.device.is_empty() {
        inserted = sqlx::query(
            "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, value2, seq)
             SELECT t, d, p, m::metric, v, v2, s
             FROM unnest($1::timestamptz[], $2::uuid[], $3::uuid[], $4::text[],
                         $5::float8[], $6::float8[], $7::int8[]) AS r(t, d, p, m, v, v2, s)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.measured_at)
        .bind(&r.device)
        .bind(&r.patient)
        .bind(&r.metric)
        .bind(&r.value)
        .bind(&r.value2)
        .bind(&r.seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
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
    Ok(inserted)
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

/// After the commit: every device gets its answer, subscribers get the readings.
fn answer(
    batch: Vec<Checked>,
    replies: &Replies,
    committed: &broadcast::Sender<Arc<[CommittedReading]>>,
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
        }
    }
    if !stream.is_empty() {
        // No subscriber is fine; a lagging one loses the oldest batches, not ingest.
        let _ = committed.send(stream.into());
    }
}
