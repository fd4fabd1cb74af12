//! A patient's vitals through the real router: raw readings page in time order, buckets
//! aggregate with `time_bucket` (blood pressure as a pair), the latest value per metric.

mod common;

use common::Api;
use serde_json::{Value, json};

async fn seed(
    api: &Api,
    device: healthsync_core::ids::DeviceId,
    patient: healthsync_core::ids::UserId,
) {
    // Heart rate each minute from 10:00 to 10:09 (60..69 bpm), two blood pressures.
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq)
         SELECT '2026-11-20T10:00:00Z'::timestamptz + make_interval(mins => i), $1, $2,
                'heart_rate', 60 + i, i
         FROM generate_series(0, 9) AS i",
    )
    .bind(device)
    .bind(patient)
    .execute(&api.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, value2, seq)
         VALUES ('2026-11-20T10:01:00Z', $1, $2, 'blood_pressure', 120, 80, 100),
                ('2026-11-20T10:03:00Z', $1, $2, 'blood_pressure', 140, 90, 101)",
    )
    .bind(device)
    .bind(patient)
    .execute(&api.db.pool)
    .await
    .unwrap();
}

const WINDOW: &str = "from=2026-11-20T10:00:00Z&to=2026-11-20T11:00:00Z";

#[tokio::test(flavor = "multi_thread")]
async fn raw_readings_page_in_time_order_and_buckets_aggregate() {
    let api = Api::start().await;
    let cast = api.cast().await;
    seed(&api, cast.device_a, cast.patient_a.id).await;
    let patient = api.session(&cast.patient_a).await;
    let token = Some(patient.access.as_str());
    let base = format!("/api/patients/{}/metrics", cast.patient_a.id);

    let mut values = Vec::new();
    let mut offset = 0;
    loop {
        let path = format!("{base}?metric=heart_rate&{WINDOW}&limit=4&offset={offset}");
        let (status, page) = api.get(&path, token).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["kind"], "raw");
        values.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["value"].as_f64().unwrap()),
        );
        match page["next_offset"].as_i64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert_eq!(values, (60..70).map(f64::from).collect::<Vec<_>>());

    let (status, page) = api.get(&format!("{base}?{WINDOW}&bucket=5m"), token).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["bucket_secs"], 300);
    let buckets: Vec<(String, String, i64, f64, f64, f64)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["t"].as_str().unwrap().to_owned(),
                b["metric"].as_str().unwrap().to_owned(),
                b["count"].as_i64().unwrap(),
                b["min"].as_f64().unwrap(),
                b["max"].as_f64().unwrap(),
                b["avg"].as_f64().unwrap(),
            )
        })
        .collect();
    let t0 = "2026-11-20T10:00:00Z".to_owned();
    let t5 = "2026-11-20T10:05:00Z".to_owned();
    assert_eq!(
        buckets,
        [
            (t0.clone(), "heart_rate".into(), 5, 60.0, 64.0, 62.0),
            (t0, "blood_pressure".into(), 2, 120.0, 140.0, 130.0),
            (t5, "heart_rate".into(), 5, 65.0, 69.0, 67.0),
        ]
    );
    let bp = &page["items"][1];
    assert_eq!(
        (&bp["min2"], &bp["max2"], &bp["avg2"]),
        (&json!(80.0), &json!(90.0), &json!(85.0))
    );
    assert!(
        page["items"][0].get("avg2").is_none(),
        "single-valued metrics have no pair"
    );

    for bad in [
        format!("{base}?bucket=5w"),
        format!("{base}?bucket=1s"),
        format!("{base}?metric=mood"),
        format!("{base}?from=2026-11-20T11:00:00Z&to=2026-11-20T10:00:00Z"),
        format!("{base}?from=yesterday"),
    ] {
        let (status, body) = api.get(&bad, token).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_latest_value_of_each_metric_with_its_unit() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let clinician = api.session(&cast.clinician_of_a).await;
    let path = format!("/api/patients/{}/metrics/latest", cast.patient_a.id);
    let (status, none) = api.get(&path, Some(&clinician.access)).await;
    assert_eq!((status, none), (200, json!([])));

    seed(&api, cast.device_a, cast.patient_a.id).await;
    let (_, latest) = api.get(&path, Some(&clinician.access)).await;
    let by_metric = |m: &str| -> Value {
        latest
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["metric"] == m)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(latest.as_array().unwrap().len(), 2, "{latest}");
    let hr = by_metric("heart_rate");
    assert_eq!(
        (&hr["value"], &hr["unit"], &hr["t"]),
        (&json!(69.0), &json!("/min"), &json!("2026-11-20T10:09:00Z"))
    );
    let bp = by_metric("blood_pressure");
    assert_eq!(
        (&bp["value"], &bp["value2"], &bp["unit"]),
        (&json!(140.0), &json!(90.0), &json!("mm[Hg]"))
    );
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_sums_up_latest_values_trend_news2_alerts_and_baseline() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let pool = &api.db.pool;
    // Now: heart rate 118, SpO2 93, respiratory rate 22 (NEWS2 2 + 2 + 2 = 6 on scale 1).
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq)
         VALUES (now() - interval '1 minute', $1, $2, 'heart_rate', 118, 1),
                (now() - interval '1 minute', $1, $2, 'spo2', 93, 2),
                (now() - interval '1 minute', $1, $2, 'respiratory_rate', 22, 3),
                (now() - interval '2 days', $1, $2, 'heart_rate', 64, 4)",
    )
    .bind(cast.device_a)
    .bind(cast.patient_a.id)
    .execute(pool)
    .await
    .unwrap();
    // 28 days of resting heart rate at 60, then 68 yesterday.
    sqlx::query(
        "INSERT INTO patient_daily_stats (patient_id, day, stat, value, samples)
         SELECT $1, current_date - (i + 1), 'resting_hr', CASE WHEN i = 0 THEN 68 ELSE 60 END, 500
         FROM generate_series(0, 28) AS i",
    )
    .bind(cast.patient_a.id)
    .execute(pool)
    .await
    .unwrap();

    let patient = api.session(&cast.patient_a).await;
    let path = format!("/api/patients/{}/dashboard", cast.patient_a.id);
    let (status, dashboard) = api.get(&path, Some(&patient.access)).await;
    assert_eq!(status, 200, "{dashboard}");
    assert_eq!(dashboard["latest"].as_array().unwrap().len(), 3);
    assert_eq!(dashboard["news2"]["total"], 6, "{}", dashboard["news2"]);
    assert_eq!(dashboard["news2"]["risk"], "medium");
    assert_eq!(dashboard["open_alerts"][0]["id"], json!(cast.alert_a));
    let heart_days = dashboard["trend_7d"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["metric"] == "heart_rate")
        .count();
    assert_eq!(heart_days, 2, "{}", dashboard["trend_7d"]);
    assert_eq!(
        dashboard["insights"],
        json!([{"kind": "resting_heart_rate_above_baseline",
                "text": "Resting heart rate 8 bpm above your 28-day baseline (60 bpm)"}])
    );
    api.db.drop_database().await;
}
