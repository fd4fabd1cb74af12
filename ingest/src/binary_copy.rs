//! PostgreSQL's binary COPY format for rows of `readings`: the cheapest way into the table —
//! the server parses no text and plans no statement per batch. Used by the writer and by
//! [`crate::copy_limit`].
//!
//! The format: an 11-byte signature, an `int32` of flags and an `int32` header-extension
//! length (both 0); per row an `int16` field count, then per field an `int32` length (-1 for
//! NULL) and the value in the type's binary form; an `int16` -1 at the end. All big-endian.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::writer::ReadingRow;

/// The `readings` columns a COPY fills, in the order rows are encoded (`received_at` takes
/// its default).
pub const COLUMNS: &str = "measured_at, device_id, patient_id, metric, value, value2, seq";

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
const FIELDS: i16 = 7;
/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01 UTC.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// A row's size with the longest metric name, for preallocation.
const ROW_BYTES: usize = 2 + (4 + 8) + 2 * (4 + 16) + (4 + 16) + 3 * (4 + 8);

/// `rows` as one binary COPY stream.
pub fn encode(rows: &[ReadingRow]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(SIGNATURE.len() + 8 + rows.len() * ROW_BYTES + 2);
    buf.extend_from_slice(SIGNATURE);
    buf.extend_from_slice(&0_i32.to_be_bytes());
    buf.extend_from_slice(&0_i32.to_be_bytes());
    for row in rows {
        buf.extend_from_slice(&FIELDS.to_be_bytes());
        field(&mut buf, &timestamptz(row.measured_at).to_be_bytes());
        field(&mut buf, row.device.as_bytes());
        field(&mut buf, row.patient.as_bytes());
        // An enum's binary form is its label.
        field(&mut buf, row.metric.as_str().as_bytes());
        field(&mut buf, &row.value.to_be_bytes());
        match row.value2 {
            Some(value2) => field(&mut buf, &value2.to_be_bytes()),
            None => buf.extend_from_slice(&(-1_i32).to_be_bytes()),
        }
        field(&mut buf, &row.seq.to_be_bytes());
    }
    buf.extend_from_slice(&(-1_i16).to_be_bytes());
    buf
}

fn field(buf: &mut Vec<u8>, value: &[u8]) {
    // Every value here is at most 16 bytes.
    buf.extend_from_slice(&(value.len() as i32).to_be_bytes());
    buf.extend_from_slice(value);
}

fn timestamptz(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros().saturating_sub(PG_EPOCH_MICROS)
}

/// COPYs `rows` into `table` (which has the [`COLUMNS`] of `readings`); returns how many
/// rows it took. All or nothing: a row that breaks a constraint fails the whole COPY.
pub async fn copy_readings(
    conn: &mut PgConnection,
    table: &str,
    rows: &[ReadingRow],
) -> Result<u64, sqlx::Error> {
    let statement = format!("COPY {table} ({COLUMNS}) FROM STDIN (FORMAT binary)");
    let mut copy = conn.copy_in_raw(&statement).await?;
    // On an error the dropped `copy` tells the server to abandon the COPY.
    copy.send(encode(rows)).await?;
    copy.finish().await
}

#[cfg(test)]
mod tests {
    use healthsync_core::catalog::Metric;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn rows_are_framed_as_postgres_expects() {
        let row = ReadingRow {
            measured_at: "2000-01-01T00:00:01.5Z".parse().unwrap(),
            device: Uuid::from_bytes([1; 16]),
            patient: Uuid::from_bytes([2; 16]),
            metric: Metric::Spo2,
            value: 97.0,
            value2: None,
            seq: 7,
        };
        let bytes = encode(&[row]);
        let mut expected = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0\0\x07".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 8]);
        expected.extend_from_slice(&1_500_000_i64.to_be_bytes());
        for id in [1, 2] {
            expected.extend_from_slice(&[0, 0, 0, 16]);
            expected.extend_from_slice(&[id; 16]);
        }
        expected.extend_from_slice(&[0, 0, 0, 4]);
        expected.extend_from_slice(b"spo2");
        expected.extend_from_slice(&[0, 0, 0, 8]);
        expected.extend_from_slice(&97.0_f64.to_be_bytes());
        expected.extend_from_slice(&[0xff; 4]);
        expected.extend_from_slice(&[0, 0, 0, 8]);
        expected.extend_from_slice(&7_i64.to_be_bytes());
        expected.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(bytes, expected);
        assert!(bytes.len() <= SIGNATURE.len() + 8 + ROW_BYTES + 2);
        assert_eq!(encode(&[]).len(), SIGNATURE.len() + 8 + 2);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn copied_rows_read_back_as_written() {
        let db = healthsync_core::test_support::test_db().await;
        let device = Uuid::new_v4();
        let patient = Uuid::new_v4();
        let times = [
            "2026-11-21T09:59:58.123456Z",
            "1999-12-31T23:59:59.999999Z",
            "2000-01-01T00:00:00Z",
        ];
        let mut rows = Vec::new();
        for (i, metric) in Metric::ALL.into_iter().enumerate() {
            for (j, t) in times.iter().enumerate() {
                let blood_pressure = metric == Metric::BloodPressure;
                rows.push(ReadingRow {
                    measured_at: t.parse().unwrap(),
                    device,
                    patient,
                    metric,
                    value: 100.25 + i as f64 - j as f64 * 1e-9,
                    value2: blood_pressure.then_some(-79.5),
                    seq: i64::MAX - i as i64,
                });
            }
        }
        let mut conn = db.pool.acquire().await.unwrap();
        assert_eq!(
            copy_readings(&mut conn, "readings", &rows).await.unwrap(),
            rows.len() as u64
        );
        type Row = (DateTime<Utc>, Uuid, Uuid, Metric, f64, Option<f64>, i64);
        let stored: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM readings ORDER BY metric, measured_at DESC"
        ))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let stored: Vec<ReadingRow> = stored
            .into_iter()
            .map(
                |(measured_at, device, patient, metric, value, value2, seq)| ReadingRow {
                    measured_at,
                    device,
                    patient,
                    metric,
                    value,
                    value2,
                    seq,
                },
            )
            .collect();
        let mut expected = rows.clone();
        expected.sort_by_key(|r| (r.metric, std::cmp::Reverse(r.measured_at)));
        assert_eq!(stored, expected);

        // All or nothing: a row already stored fails the whole COPY.
        let replayed = ReadingRow { seq: 1, ..rows[0] };
        let fresh = ReadingRow {
            device: Uuid::new_v4(),
            ..rows[1]
        };
        let refused = copy_readings(&mut conn, "readings", &[fresh, replayed]).await;
        assert!(refused.is_err(), "{refused:?}");
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM readings")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(count, rows.len() as i64);
        drop(conn);
        db.drop_database().await;
    }
}
