//! The raw COPY limit: how many readings per second the `readings` table takes by binary
//! COPY on this machine and database, in batches the size the writer uses, one transaction
//! per batch — the bar the writer's own throughput is held against ([`measure_writer`]).
//!
//! Both write synthetic readings of a fleet of fresh random devices and patients (a
//! realistic mix of metrics, distinct times spread over the last hour, devices interleaved
//! as a live fleet sends them), time only the batches' transactions (begin to commit) —
//! not making the rows, and for raw COPY not encoding them either, while the writer's
//! time includes whatever its method does with its rows — and delete their rows afterwards
//! (by device), so the table holds what it held before (less what autovacuum has yet to
//! reclaim).

use std::time::{Duration, Instant};

use chrono::Utc;
use healthsync_core::catalog::Metric;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::binary_copy;
pub use crate::writer::WriteMethod;
use crate::writer::{self, ReadingRow};

/// A throughput measurement.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Throughput {
    pub rows: usize,
    /// Time spent in the batches' transactions.
    pub seconds: f64,
    pub rows_per_sec: f64,
}

/// The raw COPY limit.
pub type CopyLimit = Throughput;

impl Throughput {
    fn new(rows: usize, elapsed: Duration) -> Self {
        let seconds = elapsed.as_secs_f64();
        Self {
            rows,
            seconds,
            rows_per_sec: if seconds > 0.0 {
                rows as f64 / seconds
            } else {
                0.0
            },
        }
    }
}

/// Binary-COPYs `rows` synthetic readings into `readings`, `batch_rows` per transaction.
pub async fn measure(
    pool: &PgPool,
    rows: usize,
    batch_rows: usize,
) -> Result<CopyLimit, sqlx::Error> {
    let fleet = Fleet::synthetic(rows);
    let copied = async {
        let statement = format!(
            "COPY readings ({}) FROM STDIN (FORMAT binary)",
            binary_copy::COLUMNS
        );
        let mut elapsed = Duration::ZERO;
        for batch in fleet.rows.chunks(batch_rows.max(1)) {
            let encoded = binary_copy::encode(batch);
            let started = Instant::now();
            let mut tx = pool.begin().await?;
            let mut copy = tx.copy_in_raw(&statement).await?;
            copy.send(encoded).await?;
            copy.finish().await?;
            tx.commit().await?;
            elapsed += started.elapsed();
        }
        Ok(elapsed)
    }
    .await;
    fleet.clean_up(pool, copied).await
}

/// Writes `rows` synthetic readings the way the writer does with `method`, `batch_rows` per
/// transaction (the readings' part of a batch: no rejections, no device updates).
pub async fn measure_writer(
    pool: &PgPool,
    rows: usize,
    batch_rows: usize,
    method: WriteMethod,
) -> Result<Throughput, sqlx::Error> {
    let fleet = Fleet::synthetic(rows);
    let written = async {
        let mut elapsed = Duration::ZERO;
        for batch in fleet.rows.chunks(batch_rows.max(1)) {
            let started = Instant::now();
            let (tx, inserted) = writer::begin_with_readings(pool, batch, method).await?;
            tx.commit().await?;
            elapsed += started.elapsed();
            if inserted != batch.len() as u64 {
                return Err(sqlx::Error::Protocol(format!(
                    "{method:?} inserted {inserted} of {} new rows",
                    batch.len()
                )));
            }
        }
        Ok(elapsed)
    }
    .await;
    fleet.clean_up(pool, written).await
}

/// Readings per device in the synthetic fleet: one a minute over the hour.
const READINGS_PER_DEVICE: usize = 60;
const MAX_DEVICES: usize = 100_000;

/// What a mixed fleet of watches, oximeters, cuffs, scales and meters sends, in parts per
/// hundred: mostly the watches' frequent heart rate, steps and SpO2.
const MIX: [(Metric, u64); 8] = [
    (Metric::HeartRate, 40),
    (Metric::Steps, 20),
    (Metric::Spo2, 15),
    (Metric::RespiratoryRate, 10),
    (Metric::BodyTemperature, 5),
    (Metric::BloodPressure, 5),
    (Metric::BloodGlucose, 3),
    (Metric::BodyWeight, 2),
];

struct Fleet {
    devices: Vec<Uuid>,
    rows: Vec<ReadingRow>,
}

impl Fleet {
    fn synthetic(rows: usize) -> Fleet {
        let devices = rows.div_ceil(READINGS_PER_DEVICE).clamp(1, MAX_DEVICES);
        let fleet: Vec<(Uuid, Uuid)> = (0..devices)
            .map(|_| (Uuid::now_v7(), Uuid::now_v7()))
            .collect();
        let start = Utc::now() - chrono::Duration::hours(1);
        // Distinct times: `rows` steps of at least a microsecond within the hour.
        let step_micros = (3_600_000_000 / rows.max(1) as i64).max(1);
        let mut random = SplitMix64(fleet[0].0.as_u64_pair().0);
        let rows = (0..rows)
            .map(|i| {
                let (device, patient) = fleet[i % devices];
                let metric = pick_metric(random.next() % 100);
                let (value, value2) = plausible(metric, random.unit());
                ReadingRow {
                    measured_at: start + chrono::Duration::microseconds(i as i64 * step_micros),
                    device,
                    patient,
                    metric,
                    value,
                    value2,
                    seq: (i / devices) as i64,
                }
            })
            .collect();
        Fleet {
            devices: fleet.into_iter().map(|(device, _)| device).collect(),
            rows,
        }
    }

    /// Deletes the fleet's rows, then answers with the measurement (or its error).
    async fn clean_up(
        self,
        pool: &PgPool,
        measured: Result<Duration, sqlx::Error>,
    ) -> Result<Throughput, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM readings WHERE device_id = ANY($1)")
            .bind(&self.devices)
            .execute(pool)
            .await;
        let elapsed = measured?;
        deleted?;
        Ok(Throughput::new(self.rows.len(), elapsed))
    }
}

fn pick_metric(percent: u64) -> Metric {
    let mut below = 0;
    for (metric, share) in MIX {
        below += share;
        if percent < below {
            return metric;
        }
    }
    Metric::HeartRate
}

/// A value in the metric's usual range, placed by `u` in [0, 1).
fn plausible(metric: Metric, u: f64) -> (f64, Option<f64>) {
    let within = |low: f64, high: f64| low + u * (high - low);
    match metric {
        Metric::HeartRate => (within(50.0, 110.0).round(), None),
        Metric::RespiratoryRate => (within(10.0, 24.0).round(), None),
        Metric::Spo2 => (within(90.0, 100.0).round(), None),
        Metric::BodyTemperature => ((within(36.0, 38.5) * 10.0).round() / 10.0, None),
        Metric::BloodPressure => {
            let systolic = within(100.0, 160.0).round();
            (systolic, Some((systolic * 0.65).round()))
        }
        Metric::BodyWeight => ((within(50.0, 110.0) * 10.0).round() / 10.0, None),
        Metric::BloodGlucose => (within(70.0, 180.0).round(), None),
        Metric::Steps => (within(0.0, 200.0).round(), None),
    }
}

/// Cheap, good-enough pseudo-random numbers for synthetic data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_fleet_is_plausible_and_distinct() {
        let before = Utc::now();
        let fleet = Fleet::synthetic(10_000);
        assert_eq!(fleet.rows.len(), 10_000);
        assert_eq!(fleet.devices.len(), 10_000 / READINGS_PER_DEVICE + 1);
        let mut keys: Vec<_> = fleet
            .rows
            .iter()
            .map(|r| (r.device, r.metric, r.measured_at))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 10_000, "a key repeats");
        let now = Utc::now();
        for row in &fleet.rows {
            let spec = row.metric.spec();
            assert!(
                (spec.value.min..=spec.value.max).contains(&row.value),
                "{row:?}"
            );
            assert_eq!(row.value2.is_some(), spec.value2.is_some(), "{row:?}");
            assert!(
                row.measured_at <= now && row.measured_at >= before - chrono::Duration::hours(1)
            );
        }
        let heart = fleet
            .rows
            .iter()
            .filter(|r| r.metric == Metric::HeartRate)
            .count();
        assert!((3_000..5_000).contains(&heart), "{heart} heart rates");
        assert_eq!(Fleet::synthetic(0).rows.len(), 0);
    }
}
