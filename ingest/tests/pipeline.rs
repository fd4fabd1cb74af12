//! The ingest pipeline end to end with the real broker, the real database and Debian's
//! `mosquitto_pub`/`mosquitto_rr`: stored rows, acks after commit, replays, mixed and
//! malformed messages, the committed stream, HTTP-style submission, and status reports.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use healthsync_broker::Broker;
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::{BrokerSettings, IngestSettings};
use healthsync_core::devices::DeviceKind;
use healthsync_core::ids::DeviceId;
use healthsync_core::status::StatusKind;
use healthsync_core::telemetry::Ack;
use healthsync_core::test_support::{TestDb, test_db, test_device, test_patient};
use healthsync_ingest::{Outcome, Pipeline, Source};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(30);

struct Platform {
    db: TestDb,
    _broker: Broker,
    pipeline: Pipeline,
    hasher: KeyHasher,
    port: u16,
}

async fn platform() -> Platform {
    // RUST_LOG=debug shows the platform's logs when a test needs explaining.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let db = test_db().await;
    let hasher = KeyHasher::new(&[9; 32]);
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let broker = Broker::start(
        addr,
        &BrokerSettings::default(),
        db.pool.clone(),
        hasher.clone(),
    )
    .await
    .unwrap();
    let pipeline = Pipeline::start(
        db.pool.clone(),
        &IngestSettings::default(),
        Source::Broker(&broker),
    )
    .await
    .unwrap();
    Platform {
        db,
        _broker: broker,
        pipeline,
        hasher,
        port: addr.port(),
    }
}

impl Platform {
    async fn device(&self, kind: DeviceKind) -> (DeviceId, String) {
        let patient = test_patient(&self.db.pool).await;
        let registered = test_device(&self.db.pool, &self.hasher, patient, kind).await;
        (registered.device.id, registered.api_key)
    }

    /// One device cycle on one connection, with Debian's `mosquitto_rr`: subscribe to the
    /// ack topic, publish the message at QoS 1, wait for the ack and return it.
    async fn send(&self, id: DeviceId, key: &str, payload: &str) -> serde_json::Value {
        let id = id.to_string();
        let out = timeout(
            WAIT,
            Command::new("mosquitto_rr")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-i", &id, "-u", &id, "-P", key, "-q", "1", "-W", "20"])
                .args(["-t", &format!("devices/{id}/telemetry")])
                .args(["-e", &format!("devices/{id}/ack"), "-m", payload])
                .output(),
        )
        .await
        .expect("mosquitto_rr hung")
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Publishes one message at QoS 1 on `devices/{id}/{leaf}` with Debian's `mosquitto_pub`,
    /// the payload through stdin so that any bytes go.
    async fn publish(&self, id: DeviceId, key: &str, leaf: &str, payload: &[u8]) {
        let id = id.to_string();
        let mut child = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-i", &id, "-u", &id, "-P", key, "-q", "1"])
            .args(["-t", &format!("devices/{id}/{leaf}"), "-s"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(payload).await.unwrap();
        drop(stdin);
        let out = timeout(WAIT, child.wait_with_output())
            .await
            .expect("mosquitto_pub hung")
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }

    async fn status_events(
        &self,
        id: DeviceId,
    ) -> Vec<(String, Option<String>, serde_json::Value)> {
        sqlx::query_as(
            "SELECT kind::text, detail, coalesce(report, 'null') FROM device_events
             WHERE device_id = $1 AND kind = 'status' ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    async fn rejected_raw(&self, id: DeviceId) -> Vec<(Option<i64>, String, String)> {
        sqlx::query_as(
            "SELECT seq, reason, raw FROM rejected_readings WHERE device_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    async fn rows(&self, id: DeviceId) -> Vec<(String, f64, Option<f64>, i64)> {
        sqlx::query_as(
            "SELECT metric::text, value, value2, seq FROM readings WHERE device_id = $1 ORDER BY measured_at, metric",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    async fn rejected(&self, id: DeviceId) -> Vec<(Option<i64>, Option<i32>, String)> {
        sqlx::query_as(
            "SELECT seq, idx, reason FROM rejected_readings WHERE device_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }
}

fn recent(offset_secs: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(offset_secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_is_stored_once_then_acked_and_a_replay_adds_nothing() {
    let p = platform().await;
    let (id, key) = p.device(DeviceKind::BpMonitor).await;
    let mut committed = p.pipeline.handle.committed();
    let t = recent(2);
    let message = format!(
        r#"{{"seq": 1042, "readings": [{{"metric": "heart_rate", "t": "{t}", "v": 72}},
            {{"metric": "blood_pressure", "t": "{t}", "systolic": 121, "diastolic": 79}}], "battery": 0.87}}"#
    );
    let ack = p.send(id, &key, &message).await;
    assert_eq!(
        ack,
        serde_json::json!({"seq": 1042, "accepted": 2, "rejected": []})
    );
    // The ack came after the commit: the rows are there now.
    let rows = p.rows(id).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.contains(&("blood_pressure".into(), 121.0, Some(79.0), 1042)));
    assert!(rows.contains(&("heart_rate".into(), 72.0, None, 1042)));
    let battery: Option<f32> = sqlx::query_scalar("SELECT battery FROM devices WHERE id = $1")
        .bind(id)
        .fetch_one(&p.db.pool)
        .await
        .unwrap();
    assert_eq!(battery, Some(0.87));
    let batch = timeout(WAIT, committed.recv()).await.unwrap().unwrap();
    assert_eq!(batch.len(), 2);
    assert!(batch.iter().all(|r| r.device == id));

    // The device did not see the ack (say) and sends the message again.
    assert_eq!(p.send(id, &key, &message).await["seq"], 1042);
    assert_eq!(p.rows(id).await.len(), 2, "a replay inserted duplicates");
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_readings_are_stored_and_invalid_ones_acked_as_rejected() {
    let p = platform().await;
    let (id, key) = p.device(DeviceKind::PulseOximeter).await;
    let (t1, t2, t3) = (recent(3), recent(2), recent(1));
    let message = format!(
        r#"{{"seq": 5, "readings": [
            {{"metric": "spo2", "t": "{t1}", "v": 97}},
            {{"metric": "spo2", "t": "{t2}", "v": 140}},
            {{"metric": "blood_glucose", "t": "{t2}", "v": 90}},
            {{"metric": "heart_rate", "t": "2099-01-01T00:00:00Z", "v": 70}},
            {{"metric": "heart_rate", "t": "{t3}", "v": 64}}]}}"#
    );
    assert_eq!(
        p.send(id, &key, &message).await,
        serde_json::json!({"seq": 5, "accepted": 2, "rejected": [
            {"index": 1, "reason": "out_of_range"},
            {"index": 2, "reason": "wrong_device_kind"},
            {"index": 3, "reason": "in_future"}]})
    );
    let rows = p.rows(id).await;
    assert_eq!(
        rows.iter().map(|r| (r.0.as_str(), r.1)).collect::<Vec<_>>(),
        [("spo2", 97.0), ("heart_rate", 64.0)]
    );
    assert_eq!(
        p.rejected(id).await,
        [
            (Some(5), Some(1), "out_of_range".to_string()),
            (Some(5), Some(2), "wrong_device_kind".to_string()),
            (Some(5), Some(3), "in_future".to_string()),
        ]
    );
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_refused_without_affecting_other_devices() {
    let p = platform().await;
    let (bad, bad_key) = p.device(DeviceKind::Thermometer).await;
    let (good, good_key) = p.device(DeviceKind::Thermometer).await;
    let t = recent(1);
    let good_message = format!(
        r#"{{"seq": 1, "readings": [{{"metric": "body_temperature", "t": "{t}", "v": 37.2}}]}}"#
    );
    let (refusal, ack) = tokio::join!(
        p.send(bad, &bad_key, r#"{"seq": 1, "readings": [ {"metric": "#),
        p.send(good, &good_key, &good_message)
    );
    assert_eq!(refusal["error"]["code"], "malformed_json", "{refusal}");
    assert_eq!(ack["accepted"], 1);
    assert!(p.rows(bad).await.is_empty());
    assert_eq!(p.rows(good).await.len(), 1);
    assert_eq!(
        p.rejected(bad).await,
        [(None, None, "malformed_json".to_string())]
    );
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn submitted_messages_are_answered_after_commit() {
    let p = platform().await;
    let (id, _key) = p.device(DeviceKind::Scale).await;
    let t = recent(1);
    let body = format!(
        r#"{{"seq": 9, "readings": [{{"metric": "body_weight", "t": "{t}", "v": 71.3}}]}}"#
    );
    let outcome = p
        .pipeline
        .handle
        .submit(id, Bytes::from(body.clone()))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Stored(Ack {
            seq: 9,
            accepted: 1,
            rejected: vec![]
        })
    );
    assert_eq!(
        p.rows(id).await,
        [("body_weight".to_string(), 71.3, None, 9)]
    );
    // Replayed over HTTP too: acked, not duplicated.
    p.pipeline
        .handle
        .submit(id, Bytes::from(body))
        .await
        .unwrap();
    assert_eq!(p.rows(id).await.len(), 1);
    let unknown = p
        .pipeline
        .handle
        .submit(DeviceId::new(), Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert_eq!(unknown, Outcome::UnknownDevice);
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_drains_what_was_taken() {
    let p = platform().await;
    let (id, _key) = p.device(DeviceKind::Smartwatch).await;
    let handle = p.pipeline.handle.clone();
    let mut waiting = Vec::new();
    let started = Instant::now();
    for seq in 0..200u64 {
        let handle = handle.clone();
        let t = recent(600 - seq as i64);
        let body = format!(
            r#"{{"seq": {seq}, "readings": [{{"metric": "steps", "t": "{t}", "v": {seq}}}]}}"#
        );
        waiting.push(tokio::spawn(async move {
            handle.submit(id, Bytes::from(body)).await
        }));
    }
    drop(handle);
    // Give the submissions a moment to enter the pipeline, then shut it down.
    tokio::time::sleep(Duration::from_millis(50)).await;
    p.pipeline.shutdown().await;
    let mut acked = 0;
    for w in waiting {
        if let Ok(Outcome::Stored(_)) = w.await.unwrap() {
            acked += 1;
        }
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM readings WHERE device_id = $1")
        .bind(id)
        .fetch_one(&p.db.pool)
        .await
        .unwrap();
    assert!(acked > 0, "nothing was taken in {:?}", started.elapsed());
    assert_eq!(
        stored, acked,
        "every acked reading is stored, and only those were acked"
    );
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_drops_chunks_past_the_window_and_keeps_the_rest() {
    let db = test_db().await;
    // Written directly: validation would (rightly) refuse the old one.
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq)
         VALUES (now() - interval '800 days', gen_random_uuid(), gen_random_uuid(), 'steps', 1, 1),
                (now() - interval '1 day', gen_random_uuid(), gen_random_uuid(), 'steps', 2, 1)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let dropped = healthsync_ingest::retention::enforce(&db.pool, 730)
        .await
        .unwrap();
    assert_eq!(dropped, 1, "one chunk is past the window");
    let left: Vec<f64> = sqlx::query_scalar("SELECT value FROM readings")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(left, [2.0]);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_report_is_stored_as_a_device_event_and_streamed() {
    let p = platform().await;
    let (id, key) = p.device(DeviceKind::Smartwatch).await;
    let mut statuses = p.pipeline.handle.statuses();
    let t = recent(1);
    let report = format!(
        r#"{{"t": "{t}", "kind": "sensor_fault", "message": "PPG sensor off wrist", "battery": 0.41}}"#
    );
    p.publish(id, &key, "status", report.as_bytes()).await;

    let event = timeout(WAIT, statuses.recv()).await.unwrap().unwrap();
    assert_eq!(event.device, id);
    assert_eq!(event.report.kind, StatusKind::SensorFault);
    assert_eq!(
        event.report.message.as_deref(),
        Some("PPG sensor off wrist")
    );
    assert_eq!(
        event.report.t,
        t.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
    );
    let patient: uuid::Uuid = sqlx::query_scalar("SELECT patient_id FROM devices WHERE id = $1")
        .bind(id)
        .fetch_one(&p.db.pool)
        .await
        .unwrap();
    assert_eq!(event.patient.0, patient);

    // Streamed after the commit: the event is stored now.
    let events = p.status_events(id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (kind, detail, stored) = &events[0];
    assert_eq!(
        (kind.as_str(), detail.as_deref()),
        ("status", Some("sensor_fault"))
    );
    assert_eq!(stored["message"], "PPG sensor off wrist");
    assert_eq!(stored["kind"], "sensor_fault");
    let battery: Option<f32> = sqlx::query_scalar("SELECT battery FROM devices WHERE id = $1")
        .bind(id)
        .fetch_one(&p.db.pool)
        .await
        .unwrap();
    assert_eq!(battery, Some(0.41));
    assert!(p.rejected(id).await.is_empty());
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_status_reports_are_recorded_without_affecting_telemetry() {
    let p = platform().await;
    let (bad, bad_key) = p.device(DeviceKind::Smartwatch).await;
    let (good, good_key) = p.device(DeviceKind::Smartwatch).await;
    let mut statuses = p.pipeline.handle.statuses();
    let t = recent(1);
    let malformed: [&[u8]; 4] = [
        br#"{"kind": "low_battery"}"#,
        br#"{"t": "2026-11-21T09:59:58Z", "kind": "on_fire"}"#,
        br#"{"t": "2026-11-21T09:59:58Z", "kind": "low_battery", "battery": 1.5}"#,
        b"\xff\x00{\"t\": ",
    ];
    let good_message =
        format!(r#"{{"seq": 1, "readings": [{{"metric": "heart_rate", "t": "{t}", "v": 61}}]}}"#);
    let bad_device = async {
        for payload in malformed {
            p.publish(bad, &bad_key, "status", payload).await;
        }
        // Valid, with a NUL the database could not store as such.
        let report = format!(r#"{{"t": "{t}", "kind": "error", "message": "a\u0000b"}}"#);
        p.publish(bad, &bad_key, "status", report.as_bytes()).await;
    };
    let ((), ack) = tokio::join!(bad_device, p.send(good, &good_key, &good_message));
    assert_eq!(
        ack,
        serde_json::json!({"seq": 1, "accepted": 1, "rejected": []})
    );
    assert_eq!(p.rows(good).await.len(), 1);

    // The valid report came last and is committed after the malformed ones.
    let event = timeout(WAIT, statuses.recv()).await.unwrap().unwrap();
    assert_eq!(event.device, bad);
    assert_eq!(event.report.kind, StatusKind::Error);
    assert_eq!(event.report.message.as_deref(), Some("a\u{fffd}b"));
    let rejected = p.rejected_raw(bad).await;
    assert_eq!(rejected.len(), malformed.len(), "{rejected:?}");
    for ((seq, reason, raw), sent) in rejected.iter().zip(malformed) {
        assert_eq!((*seq, reason.as_str()), (None, "invalid_status"));
        let sent = String::from_utf8_lossy(sent).replace('\0', "\u{fffd}");
        assert_eq!(raw, &sent);
    }
    assert_eq!(
        p.status_events(bad)
            .await
            .iter()
            .map(|e| e.1.as_deref())
            .collect::<Vec<_>>(),
        [Some("error")]
    );
    assert!(p.status_events(good).await.is_empty());

    // The bad device's own telemetry still goes through.
    let ack = p.send(bad, &bad_key, &good_message).await;
    assert_eq!(ack["accepted"], 1, "{ack}");
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payload_with_nul_bytes_is_refused_and_does_not_stall_the_writer() {
    let p = platform().await;
    let (id, _key) = p.device(DeviceKind::Scale).await;
    let refused = timeout(
        WAIT,
        p.pipeline
            .handle
            .submit(id, Bytes::from_static(b"{\"seq\": 1, \"readings\": [\0]}")),
    )
    .await
    .expect("the writer is stuck")
    .unwrap();
    assert!(
        matches!(
            refused,
            Outcome::Refused {
                code: "malformed_json",
                ..
            }
        ),
        "{refused:?}"
    );
    let t = recent(1);
    let body =
        format!(r#"{{"seq": 2, "readings": [{{"metric": "body_weight", "t": "{t}", "v": 70}}]}}"#);
    let stored = timeout(WAIT, p.pipeline.handle.submit(id, Bytes::from(body)))
        .await
        .expect("the writer is stuck")
        .unwrap();
    assert!(matches!(stored, Outcome::Stored(_)), "{stored:?}");
    assert_eq!(
        p.rejected_raw(id).await,
        [(
            None,
            "malformed_json".to_string(),
            "{\"seq\": 1, \"readings\": [\u{fffd}]}".to_string()
        )]
    );
    p.db.drop_database().await;
}
