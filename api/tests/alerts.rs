//! Alerts and notifications through the real router: the care team acknowledges and
//! resolves (each change published to live views), lists are scoped, rule overrides are
//! validated, notifications are the caller's own.

mod common;

use common::Api;
use healthsync_analytics::alert::AlertChange;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn the_care_team_acknowledges_then_resolves_and_live_views_hear_it() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let mut live = api.analytics.alerts.subscribe();
    let clinician = api.session(&cast.clinician_of_a).await;
    let token = Some(clinician.access.as_str());
    let alert = format!("/api/alerts/{}", cast.alert_a);

    let (status, acked) = api
        .post(&format!("{alert}/acknowledge"), token, json!({}))
        .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], json!(cast.clinician_of_a.id));
    let (status, _) = api
        .post(&format!("{alert}/acknowledge"), token, json!({}))
        .await;
    assert_eq!(status, 409, "an acknowledged alert is not open");

    let (status, resolved) = api
        .post(
            &format!("{alert}/resolve"),
            token,
            json!({"note": " SpO2 back to 95 % on recheck "}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolution_note"], "SpO2 back to 95 % on recheck");
    assert_eq!(
        api.post(&format!("{alert}/resolve"), token, json!({}))
            .await
            .0,
        409
    );

    let first = live.recv().await.unwrap();
    let second = live.recv().await.unwrap();
    assert_eq!(
        (first.change, second.change),
        (AlertChange::Acknowledged, AlertChange::Resolved)
    );
    assert_eq!(second.alert.id, cast.alert_a);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_lists_are_scoped_and_filtered() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let alert_b = api.alert(&cast.patient_b).await;
    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let a = api.session(&cast.patient_a).await;
    let (status, page) = api.get("/api/alerts", Some(&a.access)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), [cast.alert_a.to_string()]);
    let clinician = api.session(&cast.clinician_of_a).await;
    assert_eq!(
        ids(&api.get("/api/alerts", Some(&clinician.access)).await.1),
        [cast.alert_a.to_string()]
    );
    let admin = api.session(&cast.admin).await;
    assert_eq!(
        ids(&api.get("/api/alerts", Some(&admin.access)).await.1).len(),
        2
    );
    let query = format!(
        "/api/alerts?patient_id={}&severity=high&status=open",
        cast.patient_b.id
    );
    assert_eq!(
        ids(&api.get(&query, Some(&admin.access)).await.1),
        [alert_b.to_string()]
    );
    assert_eq!(
        ids(&api
            .get("/api/alerts?status=resolved", Some(&admin.access))
            .await
            .1)
        .len(),
        0
    );
    assert_eq!(
        api.get("/api/alerts?severity=urgent", Some(&admin.access))
            .await
            .0,
        400
    );
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rule_overrides_are_validated_and_kept_with_who_set_them() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let clinician = api.session(&cast.clinician_of_a).await;
    let token = Some(clinician.access.as_str());
    let path = format!("/api/patients/{}/alert-rules", cast.patient_a.id);

    let (status, rules) = api.get(&path, token).await;
    assert_eq!((status, &rules["overrides"]), (200, &json!({})));
    let (status, body) = api
        .put(
            &path,
            token,
            json!({"thresholds": {"spo2_low": {"high": "low"}}}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("rules")),
        "{body}"
    );
    let copd = json!({"thresholds": {"spo2_low": {"high": 85, "medium": 87}}, "spo2_scale": "two"});
    let (status, stored) = api.put(&path, token, copd.clone()).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["overrides"], copd);
    assert_eq!(stored["updated_by"], json!(cast.clinician_of_a.id));
    let patient = api.session(&cast.patient_a).await;
    assert_eq!(
        api.get(&path, Some(&patient.access)).await.1["overrides"],
        copd
    );
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_are_the_callers_own_and_can_be_marked_read() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let clinician = api.session(&cast.clinician_of_a).await;
    let token = Some(clinician.access.as_str());
    let (_, unread) = api.get("/api/notifications?unread=true", token).await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 1, "{unread}");
    assert_eq!(unread["items"][0]["alert_id"], json!(cast.alert_a));

    let read = format!("/api/notifications/{}/read", cast.notification_of_a);
    let (status, marked) = api.post(&read, token, json!({})).await;
    assert_eq!(status, 200, "{marked}");
    assert!(marked["read_at"].is_string());
    let (_, unread) = api.get("/api/notifications?unread=true", token).await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 0);
    let (_, all) = api.get("/api/notifications", token).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.post("/api/notifications/999999/read", token, json!({}))
            .await
            .0,
        404
    );
    api.db.drop_database().await;
}
