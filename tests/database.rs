//! The schema and the test harness on the real embedded cluster: each test's database is
//! its own, migrations are idempotent, `readings` is a hypertable whose key makes replays
//! harmless, and the schema also works without TimescaleDB.

use healthsync_core::db::{self, Storage};
use healthsync_core::test_support::{test_cluster, test_db};
use sqlx::postgres::PgPoolOptions;

#[tokio::test]
async fn test_databases_are_isolated_from_each_other() {
    let a = test_db().await;
    let b = test_db().await;
    assert_ne!(a.name, b.name);
    sqlx::query(
        "INSERT INTO users (id, email, first_name, last_name, role) \
         VALUES (gen_random_uuid(), 'only-in-a@example.org', 'A', 'A', 'patient')",
    )
    .execute(&a.pool)
    .await
    .unwrap();
    let count = |pool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    assert_eq!(count(&a.pool).await, 1);
    assert_eq!(count(&b.pool).await, 0);
    a.drop_database().await;
    b.drop_database().await;
}

#[tokio::test]
async fn a_second_migrate_is_a_no_op() {
    let db = test_db().await;
    assert_eq!(db::migrate(&db.pool).await.unwrap(), 0);
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(applied as usize, db::MIGRATOR.iter().count());
    db.drop_database().await;
}

#[tokio::test]
async fn readings_is_a_hypertable_and_replays_insert_nothing_twice() {
    let db = test_db().await;
    assert!(matches!(
        db::storage(&db.pool).await.unwrap(),
        Storage::Timescaledb { ref license, .. } if license == "apache"
    ));
    let hypertables: Vec<String> =
        sqlx::query_scalar("SELECT hypertable_name::text FROM timescaledb_information.hypertables")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(hypertables, ["readings"]);

    let insert = "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq) \
                  VALUES ('2026-11-21T09:59:58Z', '00000000-0000-0000-0000-000000000001', \
                          '00000000-0000-0000-0000-000000000002', 'heart_rate', 72, 1042) \
                  ON CONFLICT DO NOTHING";
    let first = sqlx::query(insert).execute(&db.pool).await.unwrap();
    let replay = sqlx::query(insert).execute(&db.pool).await.unwrap();
    assert_eq!((first.rows_affected(), replay.rows_affected()), (1, 0));
    db.drop_database().await;
}

#[tokio::test]
async fn the_schema_works_on_plain_postgres_tables() {
    // A database without the extension: the migrations must leave a plain table that takes
    // the same writes.
    let cluster = test_cluster().await;
    let name = format!("plain_{}", std::process::id());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&cluster.url("postgres"))
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&cluster.url(&name))
        .await
        .unwrap();
    assert!(db::migrate(&pool).await.unwrap() > 0);
    assert_eq!(db::storage(&pool).await.unwrap(), Storage::PlainPostgres);
    let inserted = sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, value2, seq) \
         VALUES (now(), gen_random_uuid(), gen_random_uuid(), 'blood_pressure', 121, 79, 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(inserted.rows_affected(), 1);
    pool.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
