//! The API of a running `healthsync up`, from outside: Schemathesis (from PyPI, installed
//! by deploy/setup.sh) fuzzes every operation of `/api/openapi.json` with an admin's
//! token (a patient's for the symptom assistant, which is the patient's alone) and must
//! find no server error and no response outside the document; the docs
//! page at `/api/docs` renders every operation in headless Chromium with nothing loaded
//! from elsewhere.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{
    PASSWORD, Up, add_user, data_dir, free_port, healthsync, http_post_json as post, stdout,
};
use nix::sys::signal::Signal;
use serde_json::{Value, json};

fn start(data: &std::path::Path) -> Up {
    Up::start_with_env(
        data,
        &["--mqtt-addr", &format!("127.0.0.1:{}", free_port())],
        // Schemathesis sends thousands of requests from one address.
        &[
            ("HEALTHSYNC_API__RATE_LIMIT_PER_MINUTE", "10000000"),
            ("HEALTHSYNC_API__AUTH_RATE_LIMIT_PER_MINUTE", "10000000"),
        ],
    )
}

/// Operations in the served OpenAPI document.
fn count_operations(base: &str) -> usize {
    let (_, document) = common::http_get(&format!("{base}/api/openapi.json")).unwrap();
    let document: Value = serde_json::from_str(&document).unwrap();
    document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum()
}

fn venv() -> PathBuf {
    std::env::var_os("HEALTHSYNC_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/healthsync-setup/venv"))
}

#[test]
fn schemathesis_finds_no_server_error_and_no_response_outside_the_document() {
    let (dir, data) = data_dir();
    let up = start(&data);
    let base = format!("http://127.0.0.1:{}", up.port);
    add_user(&data, "admin@example.org", "admin");
    let patient = add_user(&data, "patient@example.org", "patient");
    let clinician = add_user(&data, "clinician@example.org", "clinician");
    let out = healthsync(
        &data,
        &[
            "device",
            "add",
            "--patient",
            "patient@example.org",
            "--kind",
            "smartwatch",
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let device: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let device = device["device_id"].as_str().unwrap().to_owned();
    let alert = common::psql(
        &data,
        &format!(
            "WITH raised AS (
                 INSERT INTO alerts (id, patient_id, key, rule, metric, severity, title,
                                     message, started_at, triggered_at, evidence)
                 VALUES (gen_random_uuid(), '{patient}', 'spo2_low', 'spo2_low', 'spo2',
                         'high', 'SpO2 low', 'SpO2 86 %', now(), now(), '{{}}')
                 RETURNING id)
             SELECT id FROM raised"
        ),
    );
    let (status, _) = post(
        &format!("{base}/api/auth/register"),
        None,
        json!({"email": "pending@example.org", "password": PASSWORD, "first_name": "Pending",
               "last_name": "Clinician", "role": "clinician"}),
    );
    assert_eq!(status, 201);
    let pending = common::psql(
        &data,
        "SELECT id FROM users WHERE email = 'pending@example.org'",
    );
    let (status, session) = post(
        &format!("{base}/api/auth/login"),
        None,
        json!({"identifier": "admin@example.org", "password": PASSWORD}),
    );
    assert_eq!(status, 200, "{session}");
    let token = session["access"].as_str().unwrap();
    let (status, _) = post(
        &format!("{base}/api/admin/care-team"),
        Some(token),
        json!({"patient_id": patient, "clinician_id": clinician}),
    );
    assert_eq!(status, 201);
    let (status, session) = post(
        &format!("{base}/api/auth/login"),
        None,
        json!({"identifier": "patient@example.org", "password": PASSWORD}),
    );
    assert_eq!(status, 200, "{session}");
    let patient_token = session["access"].as_str().unwrap();
    let (status, conversation) = post(
        &format!("{base}/api/assistant/conversations"),
        Some(patient_token),
        json!({}),
    );
    assert_eq!(status, 201, "{conversation}");
    let conversation = conversation["id"].as_str().unwrap();

    // Real identifiers where paths need them, so the fuzzing reaches past the 404s.
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            r#"
headers = {{ Authorization = "Bearer {token}" }}

[[operations]]
include-path-regex = "^/api/assistant/conversations$"
headers = {{ Authorization = "Bearer {patient_token}" }}

[[operations]]
include-path-regex = "^/api/assistant/conversations/"
headers = {{ Authorization = "Bearer {patient_token}" }}
parameters = {{ id = "{conversation}" }}

[[operations]]
include-path-regex = "^/api/patients/"
parameters = {{ id = "{patient}" }}

[[operations]]
include-path-regex = "^/api/admin/users/.+/approve$"
parameters = {{ id = "{pending}" }}

[[operations]]
include-path-regex = "^/api/admin/users/.+/(role|specialty|disable|enable)$"
parameters = {{ id = "{clinician}" }}

[[operations]]
include-path-regex = "^/api/alerts/"
parameters = {{ id = "{alert}" }}

[[operations]]
include-path-regex = "^/api/patients/.+/alert-rules$"
parameters = {{ id = "{patient}" }}

[[operations]]
include-path-regex = "^/fhir/"
parameters = {{ id = "{patient}", patient = "{patient}" }}

[[operations]]
include-path-regex = "^/api/devices/"
parameters = {{ id = "{device}" }}

[[operations]]
include-path-regex = "^/api/admin/care-team/"
parameters = {{ patient_id = "{patient}", clinician_id = "{clinician}" }}
"#
        ),
    )
    .unwrap();
    let schemathesis = venv().join("bin/schemathesis");
    let out = Command::new(&schemathesis)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{base}/api/openapi.json")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance,negative_data_rejection",
        ])
        .args([
            "--max-examples",
            "30",
            // One worker: CPython 3.11's parser is not thread-safe, and Hypothesis parses
            // source while generating ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--seed",
            "20261122",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run deploy/setup.sh)", schemathesis.display()));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(out.status.success(), "schemathesis failed:\n{report}");
    let operations = count_operations(&base);
    let selected = format!("Operations:       {operations} selected / {operations} total");
    assert!(report.contains(&selected), "{report}");
    // The patient's token reached the assistant: its replies were checked too.
    let replies: u32 = common::psql(
        &data,
        "SELECT count(*) FROM assistant_messages WHERE role = 'assistant'",
    )
    .parse()
    .unwrap();
    assert!(replies > 0, "no assistant reply was fuzzed");
    let log = up.stop_with(Signal::SIGTERM);
    assert!(!log.contains("internal error"), "{log}");
}

#[test]
fn the_docs_page_renders_every_operation_offline() {
    let (dir, data) = data_dir();
    let up = start(&data);
    let base = format!("http://127.0.0.1:{}", up.port);
    let (status, page) = common::http_get(&format!("{base}/api/docs")).unwrap();
    assert_eq!(status, 200);
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page refers to another server"
    );
    let operations = count_operations(&base);

    let profile = dir.path().join("chromium");
    let out = Command::new("chromium")
        .args(common::HEADLESS_CHROMIUM)
        .arg("--virtual-time-budget=10000")
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &format!("{base}/api/docs")])
        .output()
        .expect("chromium (run deploy/setup.sh)");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains(r#"data-rendered="true""#),
        "not rendered:\n{dom}"
    );
    assert_eq!(
        dom.matches(r#"class="operation""#).count(),
        operations,
        "one element per documented operation"
    );
    for path in [
        "/api/auth/login",
        "/api/patients/{id}",
        "/api/admin/audit/verify",
    ] {
        assert!(
            dom.contains(&format!(r#"data-path="{path}""#)),
            "{path} missing"
        );
    }
    up.stop_with(Signal::SIGTERM);
}
