//! Devices through the real router: registration shows the key once, rotation replaces
//! it, revocation ends it, lists are scoped to the caller, and the health view counts
//! what the device sent and what was refused.

mod common;

use common::Api;
use healthsync_core::ids::DeviceId;
use serde_json::json;

async fn stored_hash(api: &Api, id: &str) -> Vec<u8> {
    sqlx::query_scalar("SELECT api_key_hash FROM devices WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&api.db.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_patient_registers_renames_rekeys_and_revokes_their_device() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let patient = api.session(&cast.patient_b).await;
    let token = Some(patient.access.as_str());
    let hasher = api.state.hasher.clone().unwrap();

    let (status, created) = api
        .post(
            "/api/devices",
            token,
            json!({"kind": "bp_monitor", "manufacturer": "Omron", "model": "M7"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["device_id"].as_str().unwrap().to_owned();
    let key = created["api_key"].as_str().unwrap().to_owned();
    assert_eq!(created["device"]["patient_id"], json!(cast.patient_b.id));
    assert_eq!(created["device"]["display_name"], "Blood-pressure monitor");
    assert!(hasher.verify(&key, &stored_hash(&api, &id).await));

    // The key is never shown again.
    let (status, device) = api.get(&format!("/api/devices/{id}"), token).await;
    assert_eq!(status, 200);
    assert!(device.get("api_key").is_none(), "{device}");
    assert!(!device.to_string().contains(&key[13..]));

    let (status, page) = api.get("/api/devices", token).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()], "only the patient's own devices");

    let path = format!("/api/devices/{id}");
    let (status, renamed) = api
        .put(&path, token, json!({"name": " Kitchen cuff "}))
        .await;
    assert_eq!(
        (status, &renamed["display_name"]),
        (200, &json!("Kitchen cuff"))
    );
    let (status, _) = api.put(&path, token, json!({"name": "  "})).await;
    assert_eq!(status, 400);

    let (status, rotated) = api
        .post(&format!("{path}/rotate-key"), token, json!({}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_key = rotated["api_key"].as_str().unwrap();
    let hash = stored_hash(&api, &id).await;
    assert!(hasher.verify(new_key, &hash));
    assert!(!hasher.verify(&key, &hash), "the old key stops working");

    let (status, revoked) = api
        .call(axum::http::Method::DELETE, &path, token, None)
        .await;
    assert_eq!((status, &revoked["status"]), (200, &json!("revoked")));
    let (status, _) = api
        .post(&format!("{path}/rotate-key"), token, json!({}))
        .await;
    assert_eq!(status, 409, "a revoked device gets no new key");

    let writes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log
         WHERE resource = 'device' AND action = 'update' AND patient_id = $1",
    )
    .bind(cast.patient_b.id)
    .fetch_one(&api.db.pool)
    .await
    .unwrap();
    // Register, two renames (one refused as empty), rotate, revoke, and the refused
    // rotation: access is recorded when it is granted, before the change is tried.
    assert_eq!(writes, 6);

    // Registering for someone who is not a patient is refused, as admin too.
    let admin = api.session(&cast.admin).await;
    let (status, body) = api
        .post(
            "/api/devices",
            Some(&admin.access),
            json!({"kind": "scale", "patient_id": cast.other_clinician.id}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("patient_id"))
    );
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_health_counts_readings_refusals_and_events() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let clinician = api.session(&cast.clinician_of_a).await;
    let device: DeviceId = cast.device_a;
    let pool = &api.db.pool;
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq)
         SELECT now() - make_interval(mins => i), $1, $2, 'heart_rate', 70, i
         FROM generate_series(1, 9) AS i",
    )
    .bind(device)
    .bind(cast.patient_a.id)
    .execute(pool)
    .await
    .unwrap();
    // An old reading is outside the 24 hours.
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq)
         VALUES (now() - interval '2 days', $1, $2, 'heart_rate', 70, 100)",
    )
    .bind(device)
    .bind(cast.patient_a.id)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO rejected_readings (device_id, seq, idx, reason, raw)
         VALUES ($1, 1, 0, 'out_of_range', '{}')",
    )
    .bind(device)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO device_events (device_id, kind, detail, report) VALUES
             ($1, 'connected', NULL, NULL),
             ($1, 'status', 'sensor_fault', '{\"kind\": \"sensor_fault\", \"message\": \"optical sensor\"}'),
             ($1, 'disconnected', 'keep-alive timeout', NULL)",
    )
    .bind(device)
    .execute(pool)
    .await
    .unwrap();

    let (status, health) = api
        .get(
            &format!("/api/devices/{device}/health"),
            Some(&clinician.access),
        )
        .await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["readings_24h"], 9);
    assert_eq!(health["rejected_24h"], 1);
    assert_eq!(health["rejected_share_24h"], 0.1);
    assert_eq!(health["recent_status"][0]["detail"], "sensor_fault");
    assert_eq!(
        health["recent_status"][0]["report"]["message"],
        "optical sensor"
    );
    let kinds: Vec<&str> = health["recent_connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["disconnected", "connected"]);

    // The clinician sees A's device in their list, not B's.
    let b_device = api.device(&cast.patient_b).await;
    let (_, page) = api.get("/api/devices", Some(&clinician.access)).await;
    let ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [device.to_string()]);
    assert!(!ids.contains(&b_device.to_string()));
    api.db.drop_database().await;
}
