//! Patient profiles and lists through the real router: updates are validated as a whole
//! (bad input changes nothing), lists show each caller only their patients, and pages
//! chain with `next_offset`.

mod common;

use common::Api;
use healthsync_core::users::{Role, UserStatus};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_update_is_all_valid_or_changes_nothing() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let clinician = api.session(&cast.clinician_of_a).await;
    let path = format!("/api/patients/{}", cast.patient_a.id);
    let token = Some(clinician.access.as_str());
    let full = json!({
        "date_of_birth": "1961-04-12", "sex": "female", "height_cm": 164.5,
        "conditions": ["type 2 diabetes", " hypertension "], "medications": ["metformin 500 mg"],
        "allergies": ["penicillin"],
        "emergency_contact": {"name": "Sam Doe", "phone": "+1 555 0100 200", "relationship": "spouse"}
    });
    let (status, profile) = api.put(&path, token, full).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(
        profile["conditions"],
        json!(["type 2 diabetes", "hypertension"])
    );
    assert_eq!(profile["emergency_contact"]["phone"], "+15550100200");
    assert_eq!(profile["care_team"][0]["id"], json!(cast.clinician_of_a.id));

    let too_many: Vec<String> = (0..51).map(|i| format!("allergen {i}")).collect();
    for bad in [
        json!({"height_cm": 500, "allergies": []}),
        json!({"date_of_birth": "2999-01-01"}),
        json!({"date_of_birth": "1850-01-01"}),
        json!({"sex": "sometimes"}),
        json!({"allergies": too_many}),
        json!({"medications": ["ok", ""]}),
        json!({"emergency_contact": {"name": "X", "phone": "nope"}}),
        json!({"blood_type": "O+"}),
    ] {
        let (status, body) = api.put(&path, token, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, after) = api.get(&path, token).await;
    assert_eq!(after["height_cm"], 164.5);
    assert_eq!(after["allergies"], json!(["penicillin"]));
    assert_eq!(after["sex"], "female");
    assert_eq!(after["date_of_birth"], "1961-04-12");

    // A user who is not a patient has no profile.
    let admin = api.session(&cast.admin).await;
    let path = format!("/api/patients/{}", cast.other_clinician.id);
    assert_eq!(api.get(&path, Some(&admin.access)).await.0, 404);
    assert_eq!(
        api.put(&path, Some(&admin.access), json!({"sex": "male"}))
            .await
            .0,
        404
    );
    api.db.drop_database().await;
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn clinicians_list_their_patients_and_admins_page_through_everyone() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let third = api.user(Role::Patient, UserStatus::Active).await;
    api.care_team(&third, &cast.clinician_of_a).await;

    let clinician = api.session(&cast.clinician_of_a).await;
    let (status, page) = api.get("/api/patients", Some(&clinician.access)).await;
    assert_eq!(status, 200, "{page}");
    let mut mine = ids(&page);
    mine.sort();
    let mut expected = vec![cast.patient_a.id.to_string(), third.id.to_string()];
    expected.sort();
    assert_eq!(mine, expected);
    let other = api.session(&cast.other_clinician).await;
    assert_eq!(
        ids(&api.get("/api/patients", Some(&other.access)).await.1).len(),
        0
    );

    let admin = api.session(&cast.admin).await;
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let path = format!("/api/patients?limit=2&offset={offset}");
        let (status, page) = api.get(&path, Some(&admin.access)).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        match page["next_offset"].as_i64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "every patient once: {seen:?}");
    seen.dedup();
    assert_eq!(seen.len(), 3);
    for bad in ["limit=0", "limit=201", "offset=-1", "limit=ten"] {
        let (status, body) = api
            .get(&format!("/api/patients?{bad}"), Some(&admin.access))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    api.db.drop_database().await;
}
