//! The writer's throughput against the raw COPY limit, on the same table, batch size and
//! machine: raw binary COPY, and each of the writer's idempotent methods.
//!
//! ```sh
//! cargo run --release -p healthsync-ingest --example writer_vs_copy -- [ROWS] [BATCH] [ROUNDS]
//! ```
//!
//! Defaults: 500000 rows, batches of 5000, 3 rounds. The database is a fresh one on the
//! embedded test cluster (the integration tests' harness; `HEALTHSYNC_TEST_DATA_DIR` picks
//! its directory), or `HEALTHSYNC_BENCH_DATABASE_URL`, where the rows are written to the
//! real `readings` table and deleted again. Rounds run the approaches in turn, so that the
//! table's growing state (dead rows before autovacuum, cache) does not favour one; each
//! approach's best and median round are reported, and the last line is the whole result
//! as JSON.

use std::collections::BTreeMap;

use healthsync_ingest::copy_limit::{self, Throughput, WriteMethod};
use sqlx::PgPool;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let rows = args.next().transpose()?.unwrap_or(500_000);
    let batch = args.next().transpose()?.unwrap_or(5_000);
    let rounds = args.next().transpose()?.unwrap_or(3).max(1);

    let (pool, test_db) = match std::env::var("HEALTHSYNC_BENCH_DATABASE_URL") {
        Ok(url) => (PgPool::connect(&url).await?, None),
        Err(_) => {
            let db = healthsync_core::test_support::test_db().await;
            (db.pool.clone(), Some(db))
        }
    };

    let approaches: [(&str, Option<WriteMethod>); 4] = [
        ("raw COPY", None),
        ("writer: UNNEST", Some(WriteMethod::Unnest)),
        (
            "writer: COPY to staging + INSERT",
            Some(WriteMethod::StagedCopy),
        ),
        ("writer: COPY, staged on conflict", Some(WriteMethod::Copy)),
    ];
    // A warm-up so the first measured approach does not pay for cold caches.
    copy_limit::measure(&pool, batch * 4, batch).await?;
    let mut results: BTreeMap<&str, Vec<Throughput>> = BTreeMap::new();
    for round in 0..rounds {
        for (name, method) in approaches {
            let measured = match method {
                None => copy_limit::measure(&pool, rows, batch).await?,
                Some(method) => copy_limit::measure_writer(&pool, rows, batch, method).await?,
            };
            println!(
                "round {}: {name:<34} {:>9.0} rows/s ({} rows in {:.2} s)",
                round + 1,
                measured.rows_per_sec,
                measured.rows,
                measured.seconds
            );
            results.entry(name).or_default().push(measured);
            // Reclaim the deleted rows so the next approach starts from the same table.
            sqlx::query("VACUUM readings").execute(&pool).await?;
        }
    }

    let best = |name: &str| {
        let mut rates: Vec<f64> = results[name].iter().map(|t| t.rows_per_sec).collect();
        rates.sort_by(f64::total_cmp);
        (rates[rates.len() - 1], rates[rates.len() / 2])
    };
    let (raw_best, raw_median) = best("raw COPY");
    println!("\n{rows} rows per run, batches of {batch}, {rounds} rounds; best (median) rows/s:");
    let mut summary = serde_json::Map::new();
    for (name, _) in approaches {
        let (top, median) = best(name);
        println!(
            "{name:<34} {top:>9.0} ({median:>9.0})  {:.2}x raw COPY ({:.2}x)",
            top / raw_best,
            median / raw_median
        );
        summary.insert(
            name.to_owned(),
            serde_json::json!({"best_rows_per_sec": top, "median_rows_per_sec": median,
                               "vs_raw_copy_median": median / raw_median, "runs": results[name]}),
        );
    }
    println!("{}", serde_json::Value::Object(summary));
    if let Some(db) = test_db {
        db.drop_database().await;
    }
    Ok(())
}
