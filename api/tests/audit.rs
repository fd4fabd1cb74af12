//! The audit log through the real router: reading a patient's profile appends a row
//! (and so does being refused), the chain verifies, and a row altered or removed in the
//! database behind the API's back is reported as the first broken link.

mod common;

use common::Api;
use healthsync_core::audit;
use serde_json::{Value, json};

async fn tamper(api: &Api, sql: &str) {
    // The append-only trigger stops ordinary writes; a superuser can switch it off, and
    // the chain is what catches that.
    let mut tx = api.db.pool.begin().await.unwrap();
    for statement in [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        sql,
        "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only",
    ] {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_a_profile_is_audited_and_tampering_is_found() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let clinician = api.session(&cast.clinician_of_a).await;
    let stranger = api.session(&cast.other_clinician).await;
    let admin = api.session(&cast.admin).await;
    let profile = format!("/api/patients/{}", cast.patient_a.id);

    let before = api.audit_rows().await;
    let (status, _) = api.get(&profile, Some(&clinician.access)).await;
    assert_eq!(status, 200);
    assert_eq!(api.audit_rows().await, before + 1, "one row per read");
    assert_eq!(api.get(&profile, Some(&stranger.access)).await.0, 403);
    assert_eq!(
        api.audit_rows().await,
        before + 2,
        "refusals are recorded too"
    );

    let query = format!("/api/admin/audit?patient_id={}", cast.patient_a.id);
    let (status, page) = api.get(&query, Some(&admin.access)).await;
    assert_eq!(status, 200, "{page}");
    let rows: Vec<(Value, Value, Value, Value)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["actor_id"].clone(),
                r["action"].clone(),
                r["resource"].clone(),
                r["outcome"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                json!(cast.other_clinician.id),
                json!("read"),
                json!("patient_profile"),
                json!("denied")
            ),
            (
                json!(cast.clinician_of_a.id),
                json!("read"),
                json!("patient_profile"),
                json!("allowed")
            ),
        ]
    );
    let read_row = page["items"][1]["id"].as_i64().unwrap();
    for bad in ["action=%00", "resource=Patient", "outcome=maybe"] {
        let (status, body) = api
            .get(&format!("/api/admin/audit?{bad}"), Some(&admin.access))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }

    let (_, report) = api
        .get("/api/admin/audit/verify", Some(&admin.access))
        .await;
    assert_eq!(report["intact"], true, "{report}");
    let total = report["checked"].as_i64().unwrap();
    assert!(total >= 2, "{report}");

    // Ordinary SQL cannot change the log.
    let refused = sqlx::query("UPDATE audit_log SET action = 'nothing' WHERE id = $1")
        .bind(read_row)
        .execute(&api.db.pool)
        .await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));

    // Who read the profile, rewritten by someone with the keys to the database.
    tamper(
        &api,
        &format!(
            "UPDATE audit_log SET actor_id = '{}' WHERE id = {read_row}",
            cast.admin.id
        ),
    )
    .await;
    let (_, report) = api
        .get("/api/admin/audit/verify", Some(&admin.access))
        .await;
    assert_eq!(report["intact"], false, "{report}");
    assert_eq!(report["first_broken"]["id"], read_row);
    assert_eq!(report["first_broken"]["reason"], "content_changed");
    assert_eq!(report["checked"], read_row);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_row_breaks_the_chain_where_it_was() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let patient = api.session(&cast.patient_a).await;
    let admin = api.session(&cast.admin).await;
    let profile = format!("/api/patients/{}", cast.patient_a.id);
    for _ in 0..3 {
        assert_eq!(api.get(&profile, Some(&patient.access)).await.0, 200);
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM audit_log ORDER BY id")
        .fetch_all(&api.db.pool)
        .await
        .unwrap();
    let middle = ids[ids.len() / 2];
    tamper(&api, &format!("DELETE FROM audit_log WHERE id = {middle}")).await;
    let (_, report) = api
        .get("/api/admin/audit/verify", Some(&admin.access))
        .await;
    assert_eq!(report["first_broken"]["id"], middle + 1, "{report}");
    assert_eq!(report["first_broken"]["reason"], "rows_missing");

    // Renumbering the rest to hide the gap breaks the chain instead.
    tamper(
        &api,
        &format!("UPDATE audit_log SET id = id - 1 WHERE id > {middle}"),
    )
    .await;
    let (_, report) = api
        .get("/api/admin/audit/verify", Some(&admin.access))
        .await;
    assert_eq!(report["first_broken"]["id"], middle, "{report}");
    assert_eq!(report["first_broken"]["reason"], "content_changed");
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_entries_commit_in_groups_as_one_unbroken_chain() {
    let api = Api::start().await;
    let writer = api.state.audit.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..300 {
        let writer = writer.clone();
        tasks.spawn(async move {
            let entry = audit::Entry {
                actor: None,
                action: "read",
                resource: "vitals",
                resource_id: Some(i.to_string()),
                patient_id: None,
                outcome: audit::Outcome::Allowed,
                ip: None,
            };
            (writer.record(entry).await.unwrap(), i.to_string())
        });
    }
    let mut answered = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        answered.push(joined.unwrap());
    }
    answered.sort_unstable();
    let stored: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, resource_id FROM audit_log ORDER BY id")
            .fetch_all(&api.db.pool)
            .await
            .unwrap();
    assert_eq!(
        answered, stored,
        "each caller is told the id of its own row"
    );
    assert_eq!(
        stored.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=300).collect::<Vec<i64>>()
    );
    let verification = audit::verify(&api.db.pool).await.unwrap();
    assert_eq!(verification.first_broken, None);
    api.db.drop_database().await;
}
