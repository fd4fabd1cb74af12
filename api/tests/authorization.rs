//! The authorization matrix, driven by the route table: every operation of the OpenAPI
//! document (which the router is generated from) must have an entry here, or this test
//! fails. Each entry says which of six callers may use it — anonymous, patient A,
//! patient B, a clinician on A's care team, a clinician not on it, an admin — and the
//! test checks each of them through the real router: allowed means the request got past
//! authentication and authorization (not 401 or 403); denied means 401 for the anonymous
//! caller and 403 for the others (401 for everyone on device routes, where no user
//! token counts; 404 where a record of someone else's is hidden, see [`HIDDEN`]). Denied
//! callers go first, so a request they could have changed something with would show.

mod common;

use std::collections::BTreeSet;

use axum::http::Method;
use common::{Api, Cast, PASSWORD};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    PatientA,
    PatientB,
    ClinicianOfA,
    OtherClinician,
    Admin,
}

const EVERYONE: &[Who] = &[
    Who::Anonymous,
    Who::PatientA,
    Who::PatientB,
    Who::ClinicianOfA,
    Who::OtherClinician,
    Who::Admin,
];
const SIGNED_IN: &[Who] = &[
    Who::PatientA,
    Who::PatientB,
    Who::ClinicianOfA,
    Who::OtherClinician,
    Who::Admin,
];
const CLINICIANS_AND_ADMINS: &[Who] = &[Who::ClinicianOfA, Who::OtherClinician, Who::Admin];
const PATIENT_A_AND_CARERS: &[Who] = &[Who::PatientA, Who::ClinicianOfA, Who::Admin];
const ADMIN: &[Who] = &[Who::Admin];
/// Clinical work on alerts: the patient's care team.
const CLINICIAN_OF_A: &[Who] = &[Who::ClinicianOfA];
/// Whose notification it is (A's clinician's).
const OWNER: &[Who] = &[Who::ClinicianOfA];
/// Who holds a device's keys: its patient and admins.
const PATIENT_A_AND_ADMIN: &[Who] = &[Who::PatientA, Who::Admin];
/// Devices authenticate with their own keys; no user token opens the route.
const NOBODY: &[Who] = &[];
/// The symptom assistant: patients, each their own conversations.
const PATIENTS: &[Who] = &[Who::PatientA, Who::PatientB];
const PATIENT_A: &[Who] = &[Who::PatientA];

/// Denials that answer 404 instead of 403: another patient's assistant conversation looks
/// like one that does not exist, so its id tells nothing.
const HIDDEN: &[(&str, &[Who])] = &[(
    "/api/assistant/conversations/{id}/messages",
    &[Who::PatientB],
)];

/// One route of the matrix: the request to make (built from the cast, so each caller
/// gets a fresh one where it matters) and who may make it.
struct Entry {
    method: Method,
    path: &'static str,
    allowed: &'static [Who],
    request: fn(&Cast, Who) -> (String, Option<Value>),
}

fn unique_email(who: Who) -> String {
    format!("{who:?}-{}@example.org", uuid::Uuid::new_v4().simple()).to_lowercase()
}

fn matrix() -> Vec<Entry> {
    use Method as M;
    vec![
        Entry {
            method: M::POST,
            path: "/api/auth/register",
            allowed: EVERYONE,
            request: |_, who| {
                let body = json!({"email": unique_email(who), "password": PASSWORD,
                    "first_name": "New", "last_name": "Person", "role": "patient"});
                ("/api/auth/register".into(), Some(body))
            },
        },
        Entry {
            method: M::POST,
            path: "/api/auth/login",
            allowed: EVERYONE,
            request: |cast, _| {
                let body = json!({"identifier": cast.patient_b.email, "password": PASSWORD});
                ("/api/auth/login".into(), Some(body))
            },
        },
        // The refresh and logout bodies carry a refresh token; see `refresh_token_for`.
        Entry {
            method: M::POST,
            path: "/api/auth/refresh",
            allowed: EVERYONE,
            request: |_, _| {
                (
                    "/api/auth/refresh".into(),
                    Some(json!({"refresh": "<fresh>"})),
                )
            },
        },
        Entry {
            method: M::POST,
            path: "/api/auth/logout",
            allowed: EVERYONE,
            request: |_, _| {
                (
                    "/api/auth/logout".into(),
                    Some(json!({"refresh": "<fresh>"})),
                )
            },
        },
        Entry {
            method: M::GET,
            path: "/api/auth/profile",
            allowed: SIGNED_IN,
            request: |_, _| ("/api/auth/profile".into(), None),
        },
        Entry {
            method: M::PUT,
            path: "/api/auth/profile",
            allowed: SIGNED_IN,
            request: |_, _| {
                (
                    "/api/auth/profile".into(),
                    Some(json!({"first_name": "Renamed"})),
                )
            },
        },
        Entry {
            method: M::POST,
            path: "/api/auth/password",
            allowed: SIGNED_IN,
            // A wrong current password: authorized, then refused (400), nothing changes.
            request: |_, _| {
                let body =
                    json!({"current_password": "not the password", "new_password": "whatever123"});
                ("/api/auth/password".into(), Some(body))
            },
        },
        Entry {
            method: M::GET,
            path: "/api/patients",
            allowed: CLINICIANS_AND_ADMINS,
            request: |_, _| ("/api/patients".into(), None),
        },
        Entry {
            method: M::GET,
            path: "/api/patients/{id}",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| (format!("/api/patients/{}", cast.patient_a.id), None),
        },
        Entry {
            method: M::PUT,
            path: "/api/patients/{id}",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                let body = json!({"allergies": ["penicillin"]});
                (format!("/api/patients/{}", cast.patient_a.id), Some(body))
            },
        },
        Entry {
            method: M::GET,
            path: "/api/patients/{id}/metrics",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                let path = format!("/api/patients/{}/metrics?bucket=5m", cast.patient_a.id);
                (path, None)
            },
        },
        Entry {
            method: M::POST,
            path: "/api/patients/{id}/metrics",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                let t = chrono::Utc::now().to_rfc3339();
                let body = json!({"readings": [{"metric": "body_weight", "t": t, "v": 70}]});
                (
                    format!("/api/patients/{}/metrics", cast.patient_a.id),
                    Some(body),
                )
            },
        },
        Entry {
            method: M::GET,
            path: "/api/patients/{id}/metrics/export.csv",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                (
                    format!("/api/patients/{}/metrics/export.csv", cast.patient_a.id),
                    None,
                )
            },
        },
        Entry {
            method: M::GET,
            path: "/api/patients/{id}/report",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                (
                    format!("/api/patients/{}/report?period=month", cast.patient_a.id),
                    None,
                )
            },
        },
        Entry {
            method: M::GET,
            path: "/api/patients/{id}/metrics/latest",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                (
                    format!("/api/patients/{}/metrics/latest", cast.patient_a.id),
                    None,
                )
            },
        },
        Entry {
            method: M::GET,
            path: "/api/alerts",
            allowed: SIGNED_IN,
            request: |_, _| ("/api/alerts?status=open".into(), None),
        },
        Entry {
            method: M::GET,
            path: "/api/alerts/{id}",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| (format!("/api/alerts/{}", cast.alert_a), None),
        },
        Entry {
            method: M::POST,
            path: "/api/alerts/{id}/acknowledge",
            allowed: CLINICIAN_OF_A,
            request: |cast, _| (format!("/api/alerts/{}/acknowledge", cast.alert_a), None),
        },
        Entry {
            method: M::POST,
            path: "/api/alerts/{id}/resolve",
            allowed: CLINICIAN_OF_A,
            request: |cast, _| {
                let body = json!({"note": "called the patient"});
                (format!("/api/alerts/{}/resolve", cast.alert_a), Some(body))
            },
        },
        Entry {
            method: M::GET,
            path: "/api/patients/{id}/alert-rules",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                (
                    format!("/api/patients/{}/alert-rules", cast.patient_a.id),
                    None,
                )
            },
        },
        Entry {
            method: M::PUT,
            path: "/api/patients/{id}/alert-rules",
            allowed: CLINICIAN_OF_A,
            request: |cast, _| {
                let path = format!("/api/patients/{}/alert-rules", cast.patient_a.id);
                (path, Some(json!({})))
            },
        },
        Entry {
            method: M::GET,
            path: "/api/notifications",
            allowed: SIGNED_IN,
            request: |_, _| ("/api/notifications".into(), None),
        },
        Entry {
            method: M::POST,
            path: "/api/notifications/{id}/read",
            allowed: OWNER,
            request: |cast, _| {
                (
                    format!("/api/notifications/{}/read", cast.notification_of_a),
                    None,
                )
            },
        },
        Entry {
            method: M::GET,
            path: "/api/patients/{id}/dashboard",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                (
                    format!("/api/patients/{}/dashboard", cast.patient_a.id),
                    None,
                )
            },
        },
        Entry {
            method: M::GET,
            path: "/fhir/Observation",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| {
                (
                    format!("/fhir/Observation?patient={}", cast.patient_a.id),
                    None,
                )
            },
        },
        Entry {
            method: M::GET,
            path: "/fhir/Patient/{id}",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| (format!("/fhir/Patient/{}", cast.patient_a.id), None),
        },
        Entry {
            method: M::POST,
            path: "/api/devices",
            allowed: PATIENT_A_AND_ADMIN,
            request: |cast, _| {
                let body = json!({"kind": "scale", "patient_id": cast.patient_a.id});
                ("/api/devices".into(), Some(body))
            },
        },
        Entry {
            method: M::GET,
            path: "/api/devices",
            allowed: SIGNED_IN,
            request: |_, _| ("/api/devices".into(), None),
        },
        Entry {
            method: M::GET,
            path: "/api/devices/{id}",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| (format!("/api/devices/{}", cast.device_a), None),
        },
        Entry {
            method: M::PUT,
            path: "/api/devices/{id}",
            allowed: PATIENT_A_AND_ADMIN,
            request: |cast, _| {
                let body = json!({"name": "Left wrist"});
                (format!("/api/devices/{}", cast.device_a), Some(body))
            },
        },
        Entry {
            method: M::DELETE,
            path: "/api/devices/{id}",
            allowed: PATIENT_A_AND_ADMIN,
            request: |cast, _| (format!("/api/devices/{}", cast.device_a), None),
        },
        Entry {
            method: M::POST,
            path: "/api/devices/{id}/rotate-key",
            allowed: PATIENT_A_AND_ADMIN,
            request: |cast, _| (format!("/api/devices/{}/rotate-key", cast.device_a), None),
        },
        Entry {
            method: M::GET,
            path: "/api/devices/{id}/health",
            allowed: PATIENT_A_AND_CARERS,
            request: |cast, _| (format!("/api/devices/{}/health", cast.device_a), None),
        },
        Entry {
            method: M::GET,
            path: "/api/admin/users",
            allowed: ADMIN,
            request: |_, _| ("/api/admin/users".into(), None),
        },
        Entry {
            method: M::POST,
            path: "/api/admin/users/{id}/approve",
            allowed: ADMIN,
            request: |cast, _| {
                let path = format!("/api/admin/users/{}/approve", cast.pending_clinician.id);
                (path, Some(json!({})))
            },
        },
        Entry {
            method: M::PUT,
            path: "/api/admin/users/{id}/role",
            allowed: ADMIN,
            request: |cast, _| {
                let path = format!("/api/admin/users/{}/role", cast.patient_b.id);
                (path, Some(json!({"role": "clinician"})))
            },
        },
        Entry {
            method: M::POST,
            path: "/api/admin/users/{id}/disable",
            allowed: ADMIN,
            request: |cast, _| {
                let path = format!("/api/admin/users/{}/disable", cast.pending_clinician.id);
                (path, Some(json!({})))
            },
        },
        Entry {
            method: M::POST,
            path: "/api/admin/users/{id}/enable",
            allowed: ADMIN,
            request: |cast, _| {
                let path = format!("/api/admin/users/{}/enable", cast.pending_clinician.id);
                (path, Some(json!({})))
            },
        },
        Entry {
            method: M::POST,
            path: "/api/admin/care-team",
            allowed: ADMIN,
            request: |cast, _| {
                let body = json!({"patient_id": cast.patient_b.id, "clinician_id": cast.other_clinician.id});
                ("/api/admin/care-team".into(), Some(body))
            },
        },
        Entry {
            method: M::DELETE,
            path: "/api/admin/care-team/{patient_id}/{clinician_id}",
            allowed: ADMIN,
            request: |cast, _| {
                let path = format!(
                    "/api/admin/care-team/{}/{}",
                    cast.patient_a.id, cast.clinician_of_a.id
                );
                (path, None)
            },
        },
        Entry {
            method: M::GET,
            path: "/api/admin/audit",
            allowed: ADMIN,
            request: |_, _| ("/api/admin/audit".into(), None),
        },
        Entry {
            method: M::GET,
            path: "/api/admin/audit/verify",
            allowed: ADMIN,
            request: |_, _| ("/api/admin/audit/verify".into(), None),
        },
        Entry {
            method: M::PUT,
            path: "/api/admin/users/{id}/specialty",
            allowed: ADMIN,
            request: |cast, _| {
                let path = format!("/api/admin/users/{}/specialty", cast.clinician_of_a.id);
                (path, Some(json!({"specialty": "cardiology"})))
            },
        },
        Entry {
            method: M::POST,
            path: "/api/assistant/conversations",
            allowed: PATIENTS,
            request: |_, _| ("/api/assistant/conversations".into(), Some(json!({}))),
        },
        Entry {
            method: M::GET,
            path: "/api/assistant/conversations",
            allowed: PATIENTS,
            request: |_, _| ("/api/assistant/conversations".into(), None),
        },
        Entry {
            method: M::GET,
            path: "/api/assistant/conversations/{id}/messages",
            allowed: PATIENT_A,
            request: |cast, _| {
                let path = format!(
                    "/api/assistant/conversations/{}/messages",
                    cast.conversation_a
                );
                (path, None)
            },
        },
        Entry {
            method: M::POST,
            path: "/api/assistant/conversations/{id}/messages",
            allowed: PATIENT_A,
            request: |cast, _| {
                let path = format!(
                    "/api/assistant/conversations/{}/messages",
                    cast.conversation_a
                );
                (
                    path,
                    Some(json!({"content": "I have had a headache since this morning"})),
                )
            },
        },
        Entry {
            method: M::POST,
            path: "/api/telemetry",
            allowed: NOBODY,
            request: |_, _| {
                (
                    "/api/telemetry".into(),
                    Some(json!({"seq": 1, "readings": []})),
                )
            },
        },
    ]
}

/// Every (method, path) of the served OpenAPI document.
fn documented_routes() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(healthsync_api::openapi_document()).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn every_documented_route_has_an_entry_and_every_entry_a_route() {
    let documented = documented_routes();
    let in_matrix: BTreeSet<(String, String)> = matrix()
        .iter()
        .map(|e| (e.method.to_string(), e.path.to_owned()))
        .collect();
    let missing: Vec<_> = documented.difference(&in_matrix).collect();
    let stale: Vec<_> = in_matrix.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without an authorization entry: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "entries for routes that do not exist: {stale:?}"
    );
    assert_eq!(in_matrix.len(), matrix().len(), "one entry per route");
}

fn person(cast: &Cast, who: Who) -> Option<&common::Person> {
    match who {
        Who::Anonymous => None,
        Who::PatientA => Some(&cast.patient_a),
        Who::PatientB => Some(&cast.patient_b),
        Who::ClinicianOfA => Some(&cast.clinician_of_a),
        Who::OtherClinician => Some(&cast.other_clinician),
        Who::Admin => Some(&cast.admin),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_caller_gets_exactly_what_the_matrix_allows() {
    // The assistant's routes run a real turn for the patient.
    let api = Api::with_assistant(common::assistant().await).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in matrix() {
        // A fresh cast per route: what one route's allowed callers do (disable, change a
        // role, leave a care team) cannot affect the next route.
        let cast = api.cast().await;
        let mut order: Vec<Who> = EVERYONE.to_vec();
        order.sort_by_key(|who| entry.allowed.contains(who));
        for who in order {
            let token = match person(&cast, who) {
                Some(p) => Some(api.session(p).await.access),
                None => None,
            };
            let (path, mut body) = (entry.request)(&cast, who);
            if let Some(Value::Object(fields)) = body.as_mut()
                && fields.get("refresh") == Some(&json!("<fresh>"))
            {
                let session = api.session(&cast.patient_b).await;
                fields.insert("refresh".into(), json!(session.refresh));
            }
            let (status, answer) = api
                .call(entry.method.clone(), &path, token.as_deref(), body)
                .await;
            let allowed = entry.allowed.contains(&who);
            // A user token is no device credential: device routes answer 401 to all.
            let device_route = entry.allowed.is_empty();
            let hidden = HIDDEN
                .iter()
                .any(|(path, whom)| *path == entry.path && whom.contains(&who));
            let expected_denial = if who == Who::Anonymous || device_route {
                401
            } else if hidden {
                404
            } else {
                403
            };
            let ok = if allowed {
                status != 401 && status != 403 && status < 500
            } else {
                status == expected_denial
            };
            checked += 1;
            if !ok {
                failures.push(format!(
                    "{} {} as {who:?}: expected {}, got {status} {answer}",
                    entry.method,
                    entry.path,
                    if allowed {
                        "allowed".to_owned()
                    } else {
                        expected_denial.to_string()
                    }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, matrix().len() * EVERYONE.len());
    api.db.drop_database().await;
}
