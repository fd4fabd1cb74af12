//! FHIR R4 export, read from the metric catalog: `GET /fhir/Observation` searches a
//! patient's readings and answers a `searchset` Bundle of Observations (LOINC code, UCUM
//! `valueQuantity`; blood pressure as the 85354-9 panel with its systolic and diastolic
//! components), and `GET /fhir/Patient/{id}` a minimal Patient. Access is decided like
//! any read of the patient's data, with the same bearer token.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use healthsync_core::catalog::{Metric, Quantity};
use healthsync_core::ids::{DeviceId, UserId};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::access::{Action, authorize};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Path};

const FHIR_JSON: &str = "application/fhir+json";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const DEFAULT_COUNT: i64 = 100;
const MAX_COUNT: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(observations))
        .routes(routes!(patient))
}

fn fhir(body: Value) -> Response {
    ([(header::CONTENT_TYPE, FHIR_JSON)], body.to_string()).into_response()
}

/// The Observation category of a metric: vital signs, except glucose (a laboratory
/// value, even from a glucometer) and steps (activity).
fn category(metric: Metric) -> (&'static str, &'static str) {
    match metric {
        Metric::BloodGlucose => ("laboratory", "Laboratory"),
        Metric::Steps => ("activity", "Activity"),
        _ => ("vital-signs", "Vital Signs"),
    }
}

fn coding(loinc: &str, display: &str) -> Value {
    json!({"coding": [{"system": LOINC, "code": loinc, "display": display}], "text": display})
}

fn quantity(value: f64, q: &Quantity) -> Value {
    json!({"value": value, "unit": q.unit, "system": UCUM, "code": q.unit})
}

#[derive(sqlx::FromRow)]
struct Row {
    measured_at: DateTime<Utc>,
    device_id: DeviceId,
    metric: Metric,
    value: f64,
    value2: Option<f64>,
}

/// One reading as an Observation. Its id names the reading's key: device, metric and
/// measurement time (FHIR ids allow 64 letters, digits, `-` and `.`).
fn observation(patient: UserId, row: &Row) -> Value {
    let spec = row.metric.spec();
    let (category_code, category_display) = category(row.metric);
    let id = format!(
        "{}.{}.{}",
        row.device_id,
        row.metric as u8,
        row.measured_at.timestamp_micros()
    );
    let mut observation = json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": category_code, "display": category_display}]}],
        "code": coding(spec.loinc, spec.display),
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": row.measured_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "device": {"display": format!("healthsync device {}", row.device_id)},
    });
    match (spec.value2.as_ref(), row.value2) {
        (Some(second), Some(value2)) => {
            observation["component"] = json!([
                {"code": coding(spec.value.loinc, spec.value.display), "valueQuantity": quantity(row.value, &spec.value)},
                {"code": coding(second.loinc, second.display), "valueQuantity": quantity(value2, second)},
            ]);
        }
        _ => observation["valueQuantity"] = quantity(row.value, &spec.value),
    }
    observation
}

/// The search: `patient` (required), `code` (a LOINC code, optionally `http://loinc.org|`),
/// `date` (repeatable, with the prefixes eq, ge, gt, le, lt), `_count`.
struct Search {
    patient: UserId,
    metrics: Option<Vec<Metric>>,
    from: Option<(DateTime<Utc>, bool)>,
    to: Option<(DateTime<Utc>, bool)>,
    count: i64,
}

fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

fn parse_search(raw: Option<&str>) -> Result<Search, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::invalid("query", e.to_string()))?;
    let mut patient = None;
    let mut metrics: Option<Vec<Metric>> = None;
    let (mut from, mut to) = (None, None);
    let mut count = DEFAULT_COUNT;
    for (name, value) in pairs {
        match name.as_str() {
            "patient" => {
                let id = value.strip_prefix("Patient/").unwrap_or(&value);
                patient = Some(
                    id.parse::<UserId>()
                        .map_err(|_| ApiError::invalid("patient", "a patient id"))?,
                );
            }
            "code" => {
                let code = value.strip_prefix("http://loinc.org|").unwrap_or(&value);
                let matching: Vec<Metric> = Metric::ALL
                    .into_iter()
                    .filter(|m| {
                        let spec = m.spec();
                        spec.loinc == code || spec.alternate_loinc == Some(code)
                    })
                    .collect();
                if matching.is_empty() {
                    return Err(ApiError::invalid(
                        "code",
                        "not a LOINC code healthsync records",
                    ));
                }
                metrics.get_or_insert_with(Vec::new).extend(matching);
            }
            "date" => {
                let (prefix, rest) = match value.get(..2) {
                    Some(p @ ("eq" | "ge" | "gt" | "le" | "lt")) => (p, &value[2..]),
                    _ => ("eq", value.as_str()),
                };
                let at = instant(rest).ok_or_else(|| {
                    ApiError::invalid("date", "an RFC 3339 time or a date, with eq/ge/gt/le/lt")
                })?;
                match prefix {
                    "ge" => from = Some((at, true)),
                    "gt" => from = Some((at, false)),
                    "le" => to = Some((at, true)),
                    "lt" => to = Some((at, false)),
                    _ => {
                        from = Some((at, true));
                        to = Some((at, true));
                    }
                }
            }
            "_count" => {
                count = value
                    .parse::<i64>()
                    .ok()
                    .filter(|c| (1..=MAX_COUNT).contains(c))
                    .ok_or_else(|| ApiError::invalid("_count", "1 to 1000"))?;
            }
            _ => {
                return Err(ApiError::invalid(
                    "query",
                    format!("unsupported parameter {name:?}"),
                ));
            }
        }
    }
    Ok(Search {
        patient: patient.ok_or_else(|| ApiError::invalid("patient", "is required"))?,
        metrics,
        from,
        to,
        count,
    })
}

/// Search a patient's vital-sign Observations; newest first.
#[utoipa::path(get, path = "/fhir/Observation", tag = "fhir",
    security(("bearer" = [])),
    params(
        ("patient" = String, Query, description = "The patient's id, or Patient/{id}"),
        ("code" = Option<String>, Query, description = "A LOINC code, e.g. 8867-4 or http://loinc.org|85354-9"),
        ("date" = Option<String>, Query, description = "Measurement time with eq, ge, gt, le or lt, e.g. ge2026-11-01; repeatable"),
        ("_count" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "Entries per page (default 100)"),
    ),
    responses(
        (status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object),
        (status = 400, description = "Invalid search", body = crate::error::ErrorBody),
    ))]
async fn observations(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let search = parse_search(raw.as_deref())?;
    let read = Action::Patient {
        patient: search.patient,
        write: false,
        resource: "fhir_observation",
    };
    authorize(&state, &caller, read).await?;
    let (from, from_inclusive) = search.from.map_or((None, true), |(t, i)| (Some(t), i));
    let (to, to_inclusive) = search.to.map_or((None, true), |(t, i)| (Some(t), i));
    let filter = "patient_id = $1
         AND ($2::metric[] IS NULL OR metric = ANY($2))
         AND ($3::timestamptz IS NULL OR measured_at > $3 OR ($4 AND measured_at = $3))
         AND ($5::timestamptz IS NULL OR measured_at < $5 OR ($6 AND measured_at = $5))";
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM readings WHERE {filter}"))
        .bind(search.patient)
        .bind(&search.metrics)
        .bind(from)
        .bind(from_inclusive)
        .bind(to)
        .bind(to_inclusive)
        .fetch_one(&state.pool)
        .await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT measured_at, device_id, metric, value, value2 FROM readings WHERE {filter}
         ORDER BY measured_at DESC, metric, device_id LIMIT $7"
    ))
    .bind(search.patient)
    .bind(&search.metrics)
    .bind(from)
    .bind(from_inclusive)
    .bind(to)
    .bind(to_inclusive)
    .bind(search.count)
    .fetch_all(&state.pool)
    .await?;
    let entry: Vec<Value> = rows
        .iter()
        .map(|row| {
            let resource = observation(search.patient, row);
            json!({
                "fullUrl": format!("Observation/{}", resource["id"].as_str().unwrap_or_default()),
                "resource": resource,
                "search": {"mode": "match"},
            })
        })
        .collect();
    Ok(fhir(json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": "self", "url": format!("/fhir/Observation?{}", raw.unwrap_or_default())}],
        "entry": entry,
    })))
}

#[derive(sqlx::FromRow)]
struct PatientRow {
    first_name: String,
    last_name: String,
    email: String,
    phone: Option<String>,
    date_of_birth: Option<NaiveDate>,
    sex: Option<String>,
}

/// A patient as a minimal FHIR Patient.
#[utoipa::path(get, path = "/fhir/Patient/{id}", tag = "fhir",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient")),
    responses(
        (status = 200, description = "The Patient", content_type = "application/fhir+json", body = Object),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
    ))]
async fn patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Response, ApiError> {
    let read = Action::Patient {
        patient: id,
        write: false,
        resource: "fhir_patient",
    };
    authorize(&state, &caller, read).await?;
    let row: Option<PatientRow> = sqlx::query_as(
        "SELECT u.first_name, u.last_name, u.email, u.phone, p.date_of_birth, p.sex
             FROM patients p JOIN users u ON u.id = p.user_id
             WHERE p.user_id = $1 AND u.role = 'patient'",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let PatientRow {
        first_name: first,
        last_name: last,
        email,
        phone,
        date_of_birth: birth_date,
        sex,
    } = row.ok_or(ApiError::NotFound("patient"))?;
    let mut telecom = vec![json!({"system": "email", "value": email})];
    if let Some(phone) = phone {
        telecom.push(json!({"system": "phone", "value": phone}));
    }
    let mut patient = json!({
        "resourceType": "Patient",
        "id": id.to_string(),
        "name": [{"family": last, "given": [first]}],
        "telecom": telecom,
        // FHIR's administrative gender has the same four codes as the profile's sex.
        "gender": sex.unwrap_or_else(|| "unknown".to_owned()),
    });
    if let Some(date) = birth_date {
        patient["birthDate"] = json!(date.to_string());
    }
    Ok(fhir(patient))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_parse_and_bad_ones_are_named() {
        let id = UserId::new();
        let s = parse_search(Some(&format!(
            "patient=Patient/{id}&code=http://loinc.org|85354-9&date=ge2026-11-01&date=lt2026-11-02T00:00:00Z&_count=5"
        )))
        .unwrap();
        assert_eq!(s.patient, id);
        assert_eq!(s.metrics, Some(vec![Metric::BloodPressure]));
        assert!(s.from.unwrap().1, "ge is inclusive");
        assert!(!s.to.unwrap().1, "lt is exclusive");
        assert_eq!(s.count, 5);
        // The alternate SpO2 code finds SpO2.
        let s = parse_search(Some(&format!("patient={id}&code=59408-5"))).unwrap();
        assert_eq!(s.metrics, Some(vec![Metric::Spo2]));
        for (bad, field) in [
            ("code=8867-4".to_owned(), "patient"),
            (format!("patient={id}&code=1234-5"), "code"),
            (format!("patient={id}&date=yesterday"), "date"),
            (format!("patient={id}&_count=0"), "_count"),
            (format!("patient={id}&_sort=date"), "query"),
        ] {
            match parse_search(Some(&bad)) {
                Err(ApiError::BadRequest { field: Some(f), .. }) => assert_eq!(f, field, "{bad}"),
                other => panic!("{bad}: {:?}", other.err()),
            }
        }
    }
}
