//! A patient's vitals through the real router: raw readings page in time order, buckets
//! aggregate (blood pressure as a pair) from the rollup with raw ends, the latest value per
//! metric, the dashboard, the report, the CSV export and manual entry.

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
    api.roll_up().await;
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
    api.roll_up().await;
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
    assert_eq!(dashboard["trend_days"], 7);
    let heart_days = dashboard["trend"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["metric"] == "heart_rate")
        .count();
    assert_eq!(heart_days, 2, "{}", dashboard["trend"]);
    // The trend is the daily rollup's: without it there is none.
    sqlx::query("DELETE FROM readings_1d")
        .execute(pool)
        .await
        .unwrap();
    let (_, without) = api.get(&path, Some(&patient.access)).await;
    assert_eq!(without["trend"], json!([]));
    assert_eq!(
        dashboard["insights"],
        json!([{"kind": "resting_heart_rate_above_baseline",
                "text": "Resting heart rate 8 bpm above your 28-day baseline (60 bpm)"}])
    );
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn buckets_merge_whole_slots_from_the_rollup_and_read_the_ragged_ends_raw() {
    let api = Api::start().await;
    let cast = api.cast().await;
    seed(&api, cast.device_a, cast.patient_a.id).await;
    let patient = api.session(&cast.patient_a).await;
    // 09:58:30 to 10:08:30: the slot 10:00–10:05 whole, 10:05–10:08:30 raw.
    let path = format!(
        "/api/patients/{}/metrics?metric=heart_rate&bucket=5m\
         &from=2026-11-20T09:58:30Z&to=2026-11-20T10:08:30Z",
        cast.patient_a.id
    );
    let counts_and_means = |page: &Value| -> Vec<(i64, f64)> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["count"].as_i64().unwrap(), b["avg"].as_f64().unwrap()))
            .collect()
    };
    let (status, page) = api.get(&path, Some(&patient.access)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(counts_and_means(&page), [(5, 62.0), (4, 66.5)]);

    // The whole slot really comes from the rollup: without it, only the raw end is left.
    sqlx::query("DELETE FROM readings_5m")
        .execute(&api.db.pool)
        .await
        .unwrap();
    let (_, page) = api.get(&path, Some(&patient.access)).await;
    assert_eq!(counts_and_means(&page), [(4, 66.5)]);
    // A width that is not whole slots reads raw readings only.
    let raw = path.replace("bucket=5m", "bucket=150s");
    let (_, page) = api.get(&raw, Some(&patient.access)).await;
    assert_eq!(counts_and_means(&page).iter().map(|b| b.0).sum::<i64>(), 9);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_weekly_report_has_statistics_time_in_range_bp_categories_and_alerts() {
    let api = Api::start().await;
    let cast = api.cast().await;
    // Within the week: heart rate 60, 70, 80; glucose 50, 100, 150, 200; blood pressure
    // 118/76 (normal) and 142/84 (stage 2), mean 130/80 (stage 1). Before it: one more.
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, value2, seq)
         VALUES (now() - interval '1 day', $1, $2, 'heart_rate', 60, NULL, 1),
                (now() - interval '2 days', $1, $2, 'heart_rate', 70, NULL, 2),
                (now() - interval '3 days', $1, $2, 'heart_rate', 80, NULL, 3),
                (now() - interval '8 days', $1, $2, 'heart_rate', 200, NULL, 4),
                (now() - interval '1 hour', $1, $2, 'blood_glucose', 50, NULL, 5),
                (now() - interval '2 hours', $1, $2, 'blood_glucose', 100, NULL, 6),
                (now() - interval '3 hours', $1, $2, 'blood_glucose', 150, NULL, 7),
                (now() - interval '4 hours', $1, $2, 'blood_glucose', 200, NULL, 8),
                (now() - interval '1 day', $1, $2, 'blood_pressure', 118, 76, 9),
                (now() - interval '2 days', $1, $2, 'blood_pressure', 142, 84, 10)",
    )
    .bind(cast.device_a)
    .bind(cast.patient_a.id)
    .execute(&api.db.pool)
    .await
    .unwrap();
    api.roll_up().await;
    let clinician = api.session(&cast.clinician_of_a).await;
    let path = format!("/api/patients/{}/report?period=week", cast.patient_a.id);
    let (status, report) = api.get(&path, Some(&clinician.access)).await;
    assert_eq!(status, 200, "{report}");
    let hr = report["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "heart_rate")
        .unwrap();
    assert_eq!(
        (&hr["count"], &hr["min"], &hr["max"], &hr["mean"], &hr["sd"]),
        (
            &json!(3),
            &json!(60.0),
            &json!(80.0),
            &json!(70.0),
            &json!(10.0)
        ),
        "the reading of 8 days ago is outside the week"
    );
    assert_eq!(
        report["glucose_time_in_range"],
        json!({"readings": 4, "very_low": 0.25, "low": 0.0, "in_range": 0.5,
               "high": 0.25, "very_high": 0.0})
    );
    assert_eq!(report["blood_pressure"]["category"], "stage1");
    assert_eq!(
        report["blood_pressure"]["counts"],
        json!({"normal": 1, "elevated": 0, "stage1": 0, "stage2": 1, "crisis": 0})
    );
    assert_eq!(report["alerts"]["raised"], 1, "{}", report["alerts"]);
    assert_eq!(report["alerts"]["unresolved"], 1);

    let (status, month) = api
        .get(&path.replace("week", "month"), Some(&clinician.access))
        .await;
    assert_eq!(status, 200);
    assert_eq!(month["metrics"][0]["count"], 4, "{}", month["metrics"]);
    let (status, _) = api
        .get(&path.replace("week", "year"), Some(&clinician.access))
        .await;
    assert_eq!(status, 400);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_csv_export_holds_every_reading_of_the_window() {
    let api = Api::start().await;
    let cast = api.cast().await;
    seed(&api, cast.device_a, cast.patient_a.id).await;
    let patient = api.session(&cast.patient_a).await;
    let path = format!(
        "/api/patients/{}/metrics/export.csv?{WINDOW}",
        cast.patient_a.id
    );
    let (status, content_type, csv) = api.get_text(&path, &patient.access).await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "measured_at,metric,value,value2,unit,device_id");
    assert_eq!(lines.len(), 1 + 12, "10 heart rates and 2 blood pressures");
    assert_eq!(
        lines[1],
        format!("2026-11-20T10:00:00Z,heart_rate,60,,/min,{}", cast.device_a)
    );
    assert_eq!(
        lines[3],
        format!(
            "2026-11-20T10:01:00Z,blood_pressure,120,80,mm[Hg],{}",
            cast.device_a
        )
    );
    let only_bp = format!("{path}&metric=blood_pressure");
    let (_, _, csv) = api.get_text(&only_bp, &patient.access).await;
    assert_eq!(csv.lines().count(), 3);
    let other = api.session(&cast.patient_b).await;
    let (status, _, _) = api.get_text(&path, &other.access).await;
    assert_eq!(status, 403);
    let too_long = format!(
        "/api/patients/{}/metrics/export.csv?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        cast.patient_a.id
    );
    let (status, _, _) = api.get_text(&too_long, &patient.access).await;
    assert_eq!(status, 400);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn manual_entries_are_validated_whole_and_stored_like_a_devices_readings() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let pool = &api.db.pool;
    let patient = api.session(&cast.patient_a).await;
    let path = format!("/api/patients/{}/metrics", cast.patient_a.id);
    let t = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM readings WHERE patient_id = $1")
            .bind(cast.patient_a.id)
            .fetch_one(pool)
            .await
            .unwrap()
    };

    // One bad reading (diastolic above systolic) refuses the whole entry.
    let entry = json!({"readings": [
        {"metric": "body_weight", "t": t, "v": 72.5},
        {"metric": "blood_pressure", "t": t, "systolic": 80, "diastolic": 120},
    ]});
    let (status, error) = api.post(&path, Some(&patient.access), entry).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["code"], "invalid_reading");
    assert_eq!(error["error"]["message"], "reading 1: out_of_range");
    assert_eq!(count().await, 0, "nothing stored");

    let entry = json!({"readings": [
        {"metric": "body_weight", "t": t, "v": 72.5},
        {"metric": "blood_pressure", "t": t, "systolic": 131, "diastolic": 84},
    ]});
    let (status, ack) = api.post(&path, Some(&patient.access), entry).await;
    assert_eq!(status, 201, "{ack}");
    assert_eq!(
        (&ack["accepted"], &ack["rejected"]),
        (&json!(2), &json!([]))
    );
    assert_eq!(count().await, 2);
    // By a clinician of the patient too, into the same manual-entry device.
    let clinician = api.session(&cast.clinician_of_a).await;
    let entry = json!({"readings": [{"metric": "spo2", "t": t, "v": 97}]});
    let (status, _) = api
        .post(&path, Some(&clinician.access), entry.clone())
        .await;
    assert_eq!(status, 201);
    let manual: Vec<(String, i64)> = sqlx::query_as(
        "SELECT d.id::text, count(*) FROM readings r JOIN devices d ON d.id = r.device_id
         WHERE d.patient_id = $1 AND d.kind = 'manual' GROUP BY d.id",
    )
    .bind(cast.patient_a.id)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(manual.len(), 1, "one manual-entry device: {manual:?}");
    assert_eq!(manual[0].1, 3);
    let rolled: i64 =
        sqlx::query_scalar("SELECT sum(count)::int8 FROM readings_5m WHERE patient_id = $1")
            .bind(cast.patient_a.id)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(rolled, 3, "manual entries are rolled up like any reading");

    // Nobody else's patient; the manual device takes no key and cannot be registered.
    let other = api.session(&cast.patient_b).await;
    let (status, _) = api.post(&path, Some(&other.access), entry).await;
    assert_eq!(status, 403);
    let rotate = format!("/api/devices/{}/rotate-key", manual[0].0);
    let (status, _) = api.post(&rotate, Some(&patient.access), json!({})).await;
    assert_eq!(status, 409);
    let register = json!({"kind": "manual", "name": "Mine"});
    let (status, error) = api
        .post("/api/devices", Some(&patient.access), register)
        .await;
    assert_eq!((status, &error["error"]["field"]), (400, &json!("kind")));
    for bad in [
        json!({"readings": []}),
        json!({"readings": [{"metric": "spo2"}]}),
        json!({}),
    ] {
        let (status, _) = api.post(&path, Some(&patient.access), bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
    }
    assert_eq!(count().await, 3);
    api.db.drop_database().await;
}
