//! The FHIR R4 export through the real router, validated by the PyPI package
//! `fhir.resources` 6.4.0 (FHIR 4.0.1), installed by deploy/setup.sh in the test venv.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Api;
use serde_json::{Value, json};

fn python() -> PathBuf {
    std::env::var_os("HEALTHSYNC_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/healthsync-setup/venv"))
        .join("bin/python")
}

/// Validates `resource` with fhir.resources; the error text when it is not valid R4.
fn validate(resource: &Value) -> Result<(), String> {
    const SCRIPT: &str = r#"
import json, sys
import fhir.resources
from fhir.resources import get_fhir_model_class
assert fhir.resources.__fhir_version__ == "4.0.1", fhir.resources.__fhir_version__
data = json.load(sys.stdin)
get_fhir_model_class(data["resourceType"]).parse_obj(data)
for entry in data.get("entry", []):
    resource = entry["resource"]
    get_fhir_model_class(resource["resourceType"]).parse_obj(resource)
"#;
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the test venv's python (run deploy/setup.sh)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(resource.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_observation_bundle_and_the_patient_are_valid_fhir_r4() {
    let api = Api::start().await;
    let cast = api.cast().await;
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, value2, seq)
         VALUES ('2026-11-20T10:00:00Z', $1, $2, 'heart_rate', 72, NULL, 1),
                ('2026-11-20T10:01:00Z', $1, $2, 'blood_pressure', 121, 79, 2),
                ('2026-11-20T10:02:00Z', $1, $2, 'blood_glucose', 104, NULL, 3),
                ('2026-11-21T10:00:00Z', $1, $2, 'heart_rate', 75, NULL, 4)",
    )
    .bind(cast.device_a)
    .bind(cast.patient_a.id)
    .execute(&api.db.pool)
    .await
    .unwrap();
    let clinician = api.session(&cast.clinician_of_a).await;
    let token = Some(clinician.access.as_str());
    let search = format!(
        "/fhir/Observation?patient={}&date=lt2026-11-21",
        cast.patient_a.id
    );
    let (status, bundle) = api.get(&search, token).await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(
        (&bundle["type"], &bundle["total"]),
        (&json!("searchset"), &json!(3))
    );
    validate(&bundle).unwrap();

    let entries = bundle["entry"].as_array().unwrap();
    let bp = &entries[1]["resource"];
    assert_eq!(bp["code"]["coding"][0]["code"], "85354-9");
    assert_eq!(bp["category"][0]["coding"][0]["code"], "vital-signs");
    assert!(bp.get("valueQuantity").is_none());
    let components: Vec<(Value, Value)> = bp["component"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"]["coding"][0]["code"].clone(),
                c["valueQuantity"]["value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        components,
        [
            (json!("8480-6"), json!(121.0)),
            (json!("8462-4"), json!(79.0))
        ]
    );
    let hr = &entries[2]["resource"];
    assert_eq!(
        hr["valueQuantity"],
        json!({"value": 72.0, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"})
    );
    assert_eq!(
        hr["subject"]["reference"],
        format!("Patient/{}", cast.patient_a.id)
    );

    // By code: the heart rates only, newest first.
    let (_, by_code) = api
        .get(
            &format!(
                "/fhir/Observation?patient={}&code=http://loinc.org|8867-4",
                cast.patient_a.id
            ),
            token,
        )
        .await;
    let times: Vec<&str> = by_code["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["effectiveDateTime"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        ["2026-11-21T10:00:00.000000Z", "2026-11-20T10:00:00.000000Z"]
    );

    let (status, patient) = api
        .get(&format!("/fhir/Patient/{}", cast.patient_a.id), token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(patient["resourceType"], "Patient");
    validate(&patient).unwrap();

    // The validator does refuse what is not R4: the same observation with a text value.
    let mut broken = hr.clone();
    broken["valueQuantity"]["value"] = json!("seventy-two");
    assert!(validate(&broken).is_err());
    api.db.drop_database().await;
}
