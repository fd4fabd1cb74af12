//! Devices: a patient registers their own (an admin anyone's) and gets the API key once;
//! lists, details, renaming, key rotation, revocation, and each device's health — online
//! state, battery, the share of its readings refused in the last 24 hours, its recent
//! status reports and connection events.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use healthsync_core::devices::{self, Device, DeviceError, DeviceKind, NewDevice};
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_core::users::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::access::{Action, ListScope, authorize, list_scope, missing};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Json, Path, Query};
use crate::pagination::{Page, PageParams};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_device, list_devices))
        .routes(routes!(get_device, rename_device, revoke_device))
        .routes(routes!(rotate_key))
        .routes(routes!(device_health))
}

impl From<DeviceError> for ApiError {
    fn from(e: DeviceError) -> Self {
        match e {
            DeviceError::NotFound(_) => ApiError::NotFound("device"),
            DeviceError::PatientNotFound(_) => ApiError::invalid("patient_id", e.to_string()),
            DeviceError::Invalid { field, message } => ApiError::invalid(field, message),
            DeviceError::Revoked(_) | DeviceError::ManualEntry(_) => ApiError::Conflict {
                message: e.to_string(),
                field: None,
            },
            DeviceError::Key(_) | DeviceError::Db(_) => ApiError::internal(e),
        }
    }
}

async fn fetch(state: &AppState, caller: &Caller, id: DeviceId) -> Result<Device, ApiError> {
    devices::get(&state.pool, id)
        .await?
        .ok_or_else(|| missing(caller, "device"))
}

/// The device, after the caller may manage it.
async fn managed(state: &AppState, caller: &Caller, id: DeviceId) -> Result<Device, ApiError> {
    let device = fetch(state, caller, id).await?;
    let manage = Action::ManageDevice {
        patient: device.patient_id,
        device: Some(id.to_string()),
    };
    authorize(state, caller, manage).await?;
    Ok(device)
}

/// The device, after the caller may read its patient's data.
async fn readable(state: &AppState, caller: &Caller, id: DeviceId) -> Result<Device, ApiError> {
    let device = fetch(state, caller, id).await?;
    let read = Action::Patient {
        patient: device.patient_id,
        write: false,
        resource: "device",
    };
    authorize(state, caller, read).await?;
    Ok(device)
}

fn hasher(state: &AppState) -> Result<&healthsync_core::api_keys::KeyHasher, ApiError> {
    state.hasher.as_ref().ok_or(ApiError::Unavailable {
        message: "device keys cannot be issued by this process".into(),
        retry_after: 30,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRegistration {
    kind: DeviceKind,
    /// Display name (default: after the kind).
    #[schema(max_length = 100)]
    name: Option<String>,
    #[schema(max_length = 100)]
    manufacturer: Option<String>,
    #[schema(max_length = 100)]
    model: Option<String>,
    #[schema(max_length = 100)]
    firmware_version: Option<String>,
    /// Whose device; a patient registering their own may leave it out.
    patient_id: Option<UserId>,
}

/// A device just registered or re-keyed: the only answer that carries its API key.
#[derive(Serialize, ToSchema)]
pub struct DeviceKey {
    device_id: DeviceId,
    /// The MQTT password and `X-Api-Key`; shown this once, stored only as a keyed hash.
    api_key: String,
    device: Device,
}

/// Register a device. A patient registers their own; an admin anyone's.
#[utoipa::path(post, path = "/api/devices", tag = "devices",
    security(("bearer" = [])),
    request_body = DeviceRegistration,
    responses(
        (status = 201, description = "Registered; the API key is shown only now", body = DeviceKey),
        (status = 400, description = "Invalid field", body = crate::error::ErrorBody),
        (status = 503, description = "This process cannot issue keys", body = crate::error::ErrorBody),
    ))]
async fn register_device(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<DeviceRegistration>,
) -> Result<(StatusCode, Json<DeviceKey>), ApiError> {
    let patient = match (req.patient_id, caller.role) {
        (Some(patient), _) => patient,
        (None, Role::Patient) => caller.user_id,
        (None, _) => return Err(ApiError::invalid("patient_id", "whose device is it?")),
    };
    authorize(
        &state,
        &caller,
        Action::ManageDevice {
            patient,
            device: None,
        },
    )
    .await?;
    let is_patient: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'patient')",
    )
    .bind(patient)
    .fetch_one(&state.pool)
    .await?;
    if !is_patient {
        return Err(ApiError::invalid("patient_id", "not a patient"));
    }
    let registered = devices::register(
        &state.pool,
        hasher(&state)?,
        NewDevice {
            patient_id: patient,
            kind: req.kind,
            display_name: req.name,
            manufacturer: req.manufacturer,
            model: req.model,
            firmware_version: req.firmware_version,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceKey {
            device_id: registered.device.id,
            api_key: registered.api_key,
            device: registered.device,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeviceQuery {
    /// One patient's devices. Absent: a patient's own, a clinician's patients', or every
    /// device for an admin.
    patient_id: Option<UserId>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<u32>,
}

/// Devices, newest first.
#[utoipa::path(get, path = "/api/devices", tag = "devices",
    security(("bearer" = [])),
    params(DeviceQuery),
    responses(
        (status = 200, description = "One page of devices", body = Page<Device>),
        (status = 400, description = "Invalid query", body = crate::error::ErrorBody),
    ))]
async fn list_devices(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DeviceQuery>,
) -> Result<Json<Page<Device>>, ApiError> {
    let (limit, offset) = PageParams {
        limit: query.limit,
        offset: query.offset,
    }
    .checked()?;
    let scope = list_scope(&state, &caller, query.patient_id, "devices").await?;
    let rows: Vec<Device> = sqlx::query_as(&format!(
        "SELECT {} FROM devices d WHERE {}
         ORDER BY d.created_at DESC, d.id
         LIMIT $4 OFFSET $5",
        devices::DEVICE_COLUMNS,
        ListScope::sql("d")
    ))
    .bind(scope.patient)
    .bind(scope.all)
    .bind(scope.clinician)
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, offset)))
}

/// One device.
#[utoipa::path(get, path = "/api/devices/{id}", tag = "devices",
    security(("bearer" = [])),
    params(("id" = DeviceId, Path, description = "The device")),
    responses(
        (status = 200, description = "The device", body = Device),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
    ))]
async fn get_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DeviceId>,
) -> Result<Json<Device>, ApiError> {
    Ok(Json(readable(&state, &caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRename {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
}

/// Rename a device.
#[utoipa::path(put, path = "/api/devices/{id}", tag = "devices",
    security(("bearer" = [])),
    params(("id" = DeviceId, Path, description = "The device")),
    request_body = DeviceRename,
    responses(
        (status = 200, description = "Renamed", body = Device),
        (status = 400, description = "Invalid name or id", body = crate::error::ErrorBody),
    ))]
async fn rename_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DeviceId>,
    Json(req): Json<DeviceRename>,
) -> Result<Json<Device>, ApiError> {
    managed(&state, &caller, id).await?;
    Ok(Json(devices::rename(&state.pool, id, req.name).await?))
}

/// Revoke a device for good: its key is refused and its live MQTT session dropped.
#[utoipa::path(delete, path = "/api/devices/{id}", tag = "devices",
    security(("bearer" = [])),
    params(("id" = DeviceId, Path, description = "The device")),
    responses(
        (status = 200, description = "Revoked", body = Device),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
    ))]
async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DeviceId>,
) -> Result<Json<Device>, ApiError> {
    managed(&state, &caller, id).await?;
    Ok(Json(devices::revoke(&state.pool, id).await?))
}

/// Issue a new API key; the old one stops working at once (live sessions are dropped).
#[utoipa::path(post, path = "/api/devices/{id}/rotate-key", tag = "devices",
    security(("bearer" = [])),
    params(("id" = DeviceId, Path, description = "The device")),
    responses(
        (status = 200, description = "The new key, shown only now", body = DeviceKey),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
        (status = 409, description = "The device is revoked", body = crate::error::ErrorBody),
        (status = 503, description = "This process cannot issue keys", body = crate::error::ErrorBody),
    ))]
async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DeviceId>,
) -> Result<Json<DeviceKey>, ApiError> {
    managed(&state, &caller, id).await?;
    let rotated = devices::rotate_key(&state.pool, hasher(&state)?, id).await?;
    Ok(Json(DeviceKey {
        device_id: rotated.device.id,
        api_key: rotated.api_key,
        device: rotated.device,
    }))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct DeviceEvent {
    at: DateTime<Utc>,
    /// `connected`, `disconnected`, `refused`, `acl_violation` or `status`.
    kind: String,
    /// Why (a disconnect or refusal), or the status report's kind.
    detail: Option<String>,
    /// The status report as the device sent it.
    report: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceHealth {
    device_id: DeviceId,
    online: bool,
    last_seen_at: Option<DateTime<Utc>>,
    /// 0 to 1, from the device's last message or status report.
    battery: Option<f32>,
    /// Readings stored in the last 24 hours (by measurement time).
    readings_24h: i64,
    /// Readings refused in the last 24 hours (by arrival).
    rejected_24h: i64,
    /// rejected / (stored + rejected); 0 when there were none.
    rejected_share_24h: f64,
    /// The latest status reports (errors, sensor faults, low battery), newest first.
    recent_status: Vec<DeviceEvent>,
    /// The latest connections, disconnections and refusals, newest first.
    recent_connections: Vec<DeviceEvent>,
}

const RECENT_EVENTS: i64 = 20;

/// A device's health.
#[utoipa::path(get, path = "/api/devices/{id}/health", tag = "devices",
    security(("bearer" = [])),
    params(("id" = DeviceId, Path, description = "The device")),
    responses(
        (status = 200, description = "The device's health", body = DeviceHealth),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
    ))]
async fn device_health(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DeviceId>,
) -> Result<Json<DeviceHealth>, ApiError> {
    let device = readable(&state, &caller, id).await?;
    let (readings, rejected): (i64, i64) = sqlx::query_as(
        "SELECT
             (SELECT count(*) FROM readings
              WHERE device_id = $1 AND measured_at > now() - interval '24 hours'),
             (SELECT count(*) FROM rejected_readings
              WHERE device_id = $1 AND received_at > now() - interval '24 hours')",
    )
    .bind(id)
    .fetch_one(&state.pool)
    .await?;
    let events = |status: bool| {
        sqlx::query_as::<_, DeviceEvent>(
            "SELECT at, kind::text AS kind, detail, report FROM device_events
             WHERE device_id = $1 AND (kind = 'status') = $2
             ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(id)
        .bind(status)
        .bind(RECENT_EVENTS)
        .fetch_all(&state.pool)
    };
    let recent_status = events(true).await?;
    let recent_connections = events(false).await?;
    let total = readings + rejected;
    Ok(Json(DeviceHealth {
        device_id: id,
        online: device.online,
        last_seen_at: device.last_seen_at,
        battery: device.battery,
        readings_24h: readings,
        rejected_24h: rejected,
        rejected_share_24h: if total == 0 {
            0.0
        } else {
            rejected as f64 / total as f64
        },
        recent_status,
        recent_connections,
    }))
}
