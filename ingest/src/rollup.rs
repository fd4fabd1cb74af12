//! The rollups of readings (`readings_5m` and `readings_1d`, see their migration): the
//! writer adds each batch's new readings to them inside the batch's transaction, so they
//! hold exactly what `readings` holds, and queries over weeks merge slots instead of
//! scanning millions of rows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use healthsync_core::catalog::Metric;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::writer::ReadingRow;

/// One rollup table and the width of its slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub table: &'static str,
    pub secs: i64,
}

pub const FIVE_MINUTES: Tier = Tier {
    table: "readings_5m",
    secs: 300,
};
pub const DAY: Tier = Tier {
    table: "readings_1d",
    secs: 86_400,
};
/// The slot width of the finest tier; the migration's `rollup_readings` uses the same.
pub const SLOT_SECS: i64 = FIVE_MINUTES.secs;

impl Tier {
    /// The start of the slot holding `t`.
    pub fn slot_of(self, t: DateTime<Utc>) -> DateTime<Utc> {
        let start = t.timestamp().div_euclid(self.secs) * self.secs;
        DateTime::from_timestamp(start, 0).unwrap_or(t)
    }
}

/// The start of the five-minute slot holding `t`.
pub fn slot_of(t: DateTime<Utc>) -> DateTime<Utc> {
    FIVE_MINUTES.slot_of(t)
}

#[derive(Clone, Copy)]
struct Stats {
    count: i64,
    sum: f64,
    sum_sq: f64,
    min: f64,
    max: f64,
    sum2: Option<f64>,
    min2: Option<f64>,
    max2: Option<f64>,
}

impl Stats {
    fn of(row: &ReadingRow) -> Stats {
        Stats {
            count: 1,
            sum: row.value,
            sum_sq: row.value * row.value,
            min: row.value,
            max: row.value,
            sum2: row.value2,
            min2: row.value2,
            max2: row.value2,
        }
    }

    fn merge(&mut self, other: Stats) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        let both = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        self.sum2 = both(self.sum2, other.sum2, |a, b| a + b);
        self.min2 = both(self.min2, other.min2, f64::min);
        self.max2 = both(self.max2, other.max2, f64::max);
    }
}

/// Adds new readings to their slots in every tier.
pub async fn add(tx: &mut PgConnection, new: &[ReadingRow]) -> Result<(), sqlx::Error> {
    for tier in [FIVE_MINUTES, DAY] {
        add_to(tx, tier, new).await?;
    }
    Ok(())
}

/// Slots are written in key order, so that two writers adding to the same slots lock them
/// in the same order and cannot deadlock.
async fn add_to(tx: &mut PgConnection, tier: Tier, new: &[ReadingRow]) -> Result<(), sqlx::Error> {
    let mut slots: BTreeMap<(Uuid, Metric, DateTime<Utc>), Stats> = BTreeMap::new();
    for row in new {
        let stats = Stats::of(row);
        slots
            .entry((row.patient, row.metric, tier.slot_of(row.measured_at)))
            .and_modify(|s| s.merge(stats))
            .or_insert(stats);
    }
    if slots.is_empty() {
        return Ok(());
    }
    let mut c = Columns::default();
    for ((patient, metric, slot), s) in slots {
        c.patient.push(patient);
        c.metric.push(metric.as_str());
        c.slot.push(slot);
        c.count.push(s.count);
        c.sum.push(s.sum);
        c.sum_sq.push(s.sum_sq);
        c.min.push(s.min);
        c.max.push(s.max);
        c.sum2.push(s.sum2);
        c.min2.push(s.min2);
        c.max2.push(s.max2);
    }
    // The table name comes from the two tiers above, never from input.
    sqlx::query(&format!(
        "INSERT INTO {} AS r
             (patient_id, metric, slot, count, sum, sum_sq, min, max, sum2, min2, max2)
         SELECT p, m::metric, s, n, v, vv, lo, hi, v2, lo2, hi2
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int8[], $5::float8[],
                     $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[],
                     $11::float8[]) AS u(p, m, s, n, v, vv, lo, hi, v2, lo2, hi2)
         ON CONFLICT (patient_id, metric, slot) DO UPDATE SET
             count = r.count + excluded.count,
             sum = r.sum + excluded.sum,
             sum_sq = r.sum_sq + excluded.sum_sq,
             min = least(r.min, excluded.min),
             max = greatest(r.max, excluded.max),
             sum2 = coalesce(r.sum2 + excluded.sum2, r.sum2, excluded.sum2),
             min2 = least(r.min2, excluded.min2),
             max2 = greatest(r.max2, excluded.max2)",
        tier.table
    ))
    .bind(&c.patient)
    .bind(&c.metric)
    .bind(&c.slot)
    .bind(&c.count)
    .bind(&c.sum)
    .bind(&c.sum_sq)
    .bind(&c.min)
    .bind(&c.max)
    .bind(&c.sum2)
    .bind(&c.min2)
    .bind(&c.max2)
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(Default)]
struct Columns {
    patient: Vec<Uuid>,
    metric: Vec<&'static str>,
    slot: Vec<DateTime<Utc>>,
    count: Vec<i64>,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
    sum2: Vec<Option<f64>>,
    min2: Vec<Option<f64>>,
    max2: Vec<Option<f64>>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn slots_start_on_five_minute_boundaries_before_and_after_the_epoch() {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 10, 7, 59).unwrap();
        assert_eq!(
            slot_of(t),
            Utc.with_ymd_and_hms(2026, 11, 22, 10, 5, 0).unwrap()
        );
        let boundary = Utc.with_ymd_and_hms(2026, 11, 22, 10, 10, 0).unwrap();
        assert_eq!(slot_of(boundary), boundary);
        let before_epoch = Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 1).unwrap();
        assert_eq!(
            slot_of(before_epoch),
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 55, 0).unwrap()
        );
    }
}
