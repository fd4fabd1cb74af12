//! The raw COPY limit and the writer's throughput are measured on the real `readings` table,
//! which is left holding what it held before.

use healthsync_core::test_support::test_db;
use healthsync_ingest::copy_limit::{self, WriteMethod};
use sqlx::PgPool;

async fn contents(pool: &PgPool) -> Vec<(uuid::Uuid, String, f64)> {
    sqlx::query_as("SELECT device_id, metric::text, value FROM readings ORDER BY device_id, metric")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn measurements_copy_then_remove_their_own_rows_only() {
    let db = test_db().await;
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq)
         SELECT now() - i * interval '1 minute', gen_random_uuid(), gen_random_uuid(), 'steps', i, 1
         FROM generate_series(1, 50) AS i",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let before = contents(&db.pool).await;

    let limit = copy_limit::measure(&db.pool, 3_000, 700).await.unwrap();
    assert_eq!(limit.rows, 3_000);
    assert!(limit.seconds > 0.0 && limit.rows_per_sec > 0.0, "{limit:?}");
    let json = serde_json::to_value(limit).unwrap();
    assert!(json["rows_per_sec"].as_f64().is_some(), "{json}");
    assert_eq!(contents(&db.pool).await, before);

    for method in [
        WriteMethod::Unnest,
        WriteMethod::StagedCopy,
        WriteMethod::Copy,
    ] {
        let written = copy_limit::measure_writer(&db.pool, 2_000, 500, method)
            .await
            .unwrap();
        assert_eq!(written.rows, 2_000, "{method:?}");
        assert_eq!(contents(&db.pool).await, before, "{method:?}");
    }
    db.drop_database().await;
}
