//! Manual entry: a patient (or their clinician, or an admin) records readings by hand —
//! a blood pressure taken at the pharmacy, a weight from a bathroom scale. They are checked
//! by the devices' validator, all of them before any is stored, and then go through the
//! ingest pipeline as the patient's manual-entry device, so that they are stored, rolled
//! up, analysed and streamed live exactly like a device's.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use healthsync_core::devices::{self, DeviceError, DeviceKind};
use healthsync_core::ids::UserId;
use healthsync_core::telemetry::{self, Ack};
use healthsync_ingest::Outcome;
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::AppState;
use crate::access::{Action, authorize};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Json, Path};
use crate::telemetry::{ingest_not_running, ingest_unavailable};

const MAX_READINGS: usize = 100;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualEntry {
    /// 1 to 100 readings, each as a device sends it: `{"metric", "t", "v"}`, or for blood
    /// pressure `{"metric": "blood_pressure", "t", "systolic", "diastolic"}`; `t` in RFC
    /// 3339, values in the catalog's units.
    #[schema(value_type = Vec<Object>, min_items = 1, max_items = 100)]
    readings: Vec<Box<RawValue>>,
}

/// Record readings by hand. All are checked first: one invalid reading refuses the entry
/// and stores nothing.
#[utoipa::path(post, path = "/api/patients/{id}/metrics", tag = "vitals",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient")),
    request_body = ManualEntry,
    responses(
        (status = 201, description = "Stored (the same acknowledgement a device gets)", body = Ack),
        (status = 400, description = "An invalid reading; nothing was stored", body = crate::error::ErrorBody),
        (status = 503, description = "Ingest overloaded or not running here; see Retry-After", body = crate::error::ErrorBody),
    ))]
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient): Path<UserId>,
    Json(entry): Json<ManualEntry>,
) -> Result<(StatusCode, Json<Ack>), ApiError> {
    if entry.readings.is_empty() || entry.readings.len() > MAX_READINGS {
        return Err(ApiError::invalid("readings", "1 to 100 readings"));
    }
    authorize(
        &state,
        &caller,
        Action::Patient {
            patient,
            write: true,
            resource: "vitals",
        },
    )
    .await?;
    let (Some(ingest), Some(hasher)) = (&state.ingest, &state.hasher) else {
        return Err(ingest_not_running());
    };
    let context = ingest.context(DeviceKind::Manual);
    let refused: Vec<String> = entry
        .readings
        .iter()
        .enumerate()
        .filter_map(|(i, raw)| {
            telemetry::validate_one(raw.get(), &context)
                .err()
                .map(|reason| format!("reading {i}: {}", reason.as_str()))
        })
        .collect();
    if !refused.is_empty() {
        return Err(ApiError::BadRequest {
            code: "invalid_reading",
            message: refused.join("; "),
            field: Some("readings"),
        });
    }
    let device = devices::manual_entry_device(&state.pool, hasher, patient)
        .await
        .map_err(|e| match e {
            DeviceError::PatientNotFound(_) => ApiError::NotFound("patient"),
            e => ApiError::from(e),
        })?;
    // Manual entries have no sequence of their own; the time keeps them distinguishable in
    // the rejected-readings log, should one ever be refused.
    let payload = serde_json::json!({
        "seq": Utc::now().timestamp_millis(),
        "readings": entry.readings,
    });
    match ingest
        .submit(device, Bytes::from(payload.to_string()))
        .await
    {
        Ok(Outcome::Stored(ack)) => Ok((StatusCode::CREATED, Json(ack))),
        Ok(Outcome::Refused { code, message }) => Err(ApiError::BadRequest {
            code,
            message,
            field: Some("readings"),
        }),
        Ok(Outcome::UnknownDevice) => Err(ApiError::internal(
            "the manual-entry device was not found by ingest",
        )),
        Err(e) => Err(ingest_unavailable(e)),
    }
}
