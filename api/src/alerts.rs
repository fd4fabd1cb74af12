//! Alerts and notifications: a patient sees their own alerts, a clinician their
//! patients', an admin everyone's; the clinicians of a patient's care team acknowledge and
//! resolve them and set the patient's alert rules. Each user reads their own
//! notifications and marks them read.

use axum::extract::State;
use chrono::{DateTime, Utc};
use healthsync_analytics::alert::{Alert, AlertStatus, Severity};
use healthsync_analytics::rules::{Overrides, RuleSet};
use healthsync_analytics::service::Alerts;
use healthsync_analytics::store::{self, LifecycleError, Notification};
use healthsync_core::ids::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access::{Action, ListScope, authorize, list_scope, missing};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Json, Path, Query};
use crate::pagination::{Page, PageParams};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(acknowledge))
        .routes(routes!(resolve))
        .routes(routes!(get_rules, set_rules))
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
}

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::NotFound(_) => ApiError::NotFound("alert"),
            LifecycleError::Transition { .. } => ApiError::Conflict {
                message: e.to_string(),
                field: None,
            },
            LifecycleError::Database(e) => e.into(),
        }
    }
}

fn alerts(state: &AppState) -> Result<&Alerts, ApiError> {
    state.alerts.as_ref().ok_or(ApiError::Unavailable {
        message: "the alert engine is not running in this process".into(),
        retry_after: 30,
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    status: Option<AlertStatus>,
    severity: Option<Severity>,
    /// One patient's alerts. Absent: a patient's own, a clinician's patients', or all
    /// for an admin.
    patient_id: Option<UserId>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<u32>,
}

/// Alerts, newest first.
#[utoipa::path(get, path = "/api/alerts", tag = "alerts",
    security(("bearer" = [])),
    params(AlertQuery),
    responses(
        (status = 200, description = "One page of alerts", body = Page<Alert>),
        (status = 400, description = "Invalid filter", body = crate::error::ErrorBody),
    ))]
async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AlertQuery>,
) -> Result<Json<Page<Alert>>, ApiError> {
    let (limit, offset) = PageParams {
        limit: query.limit,
        offset: query.offset,
    }
    .checked()?;
    let scope = list_scope(&state, &caller, query.patient_id, "alerts").await?;
    let rows: Vec<Alert> = sqlx::query_as(&format!(
        "SELECT * FROM alerts a
         WHERE {}
           AND ($4::alert_status IS NULL OR a.status = $4)
           AND ($5::alert_severity IS NULL OR a.severity = $5)
         ORDER BY a.raised_at DESC, a.id DESC
         LIMIT $6 OFFSET $7",
        ListScope::sql("a")
    ))
    .bind(scope.patient)
    .bind(scope.all)
    .bind(scope.clinician)
    .bind(query.status)
    .bind(query.severity)
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, offset)))
}

async fn found(state: &AppState, caller: &Caller, id: Uuid) -> Result<Alert, ApiError> {
    store::get(&state.pool, id)
        .await?
        .ok_or_else(|| missing(caller, "alert"))
}

/// One alert with its evidence.
#[utoipa::path(get, path = "/api/alerts/{id}", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The alert")),
    responses(
        (status = 200, description = "The alert", body = Alert),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
    ))]
async fn get_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Alert>, ApiError> {
    let alert = found(&state, &caller, id).await?;
    let read = Action::Patient {
        patient: alert.patient_id,
        write: false,
        resource: "alert",
    };
    authorize(&state, &caller, read).await?;
    Ok(Json(alert))
}

async fn care(
    state: &AppState,
    caller: &Caller,
    alert: &Alert,
    action: &'static str,
) -> Result<(), ApiError> {
    let care = Action::Care {
        patient: alert.patient_id,
        action,
        resource: "alert",
        target: Some(alert.id.to_string()),
    };
    authorize(state, caller, care).await
}

/// Acknowledge an open alert: someone of the care team is on it.
#[utoipa::path(post, path = "/api/alerts/{id}/acknowledge", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The alert")),
    responses(
        (status = 200, description = "Acknowledged", body = Alert),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
        (status = 409, description = "Not open", body = crate::error::ErrorBody),
        (status = 503, description = "The alert engine is not running here", body = crate::error::ErrorBody),
    ))]
async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Alert>, ApiError> {
    let alert = found(&state, &caller, id).await?;
    care(&state, &caller, &alert, "acknowledge").await?;
    Ok(Json(alerts(&state)?.acknowledge(id, caller.user_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// What was done.
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// Resolve an open or acknowledged alert, with a note.
#[utoipa::path(post, path = "/api/alerts/{id}/resolve", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The alert")),
    request_body = Resolution,
    responses(
        (status = 200, description = "Resolved", body = Alert),
        (status = 400, description = "Malformed id or note", body = crate::error::ErrorBody),
        (status = 409, description = "Already resolved", body = crate::error::ErrorBody),
        (status = 503, description = "The alert engine is not running here", body = crate::error::ErrorBody),
    ))]
async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(resolution): Json<Resolution>,
) -> Result<Json<Alert>, ApiError> {
    let note = resolution
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(note) = &note
        && (note.chars().count() > 2000 || note.contains('\0'))
    {
        return Err(ApiError::invalid("note", "at most 2000 characters of text"));
    }
    let alert = found(&state, &caller, id).await?;
    care(&state, &caller, &alert, "resolve").await?;
    Ok(Json(
        alerts(&state)?
            .resolve(id, caller.user_id, note.as_deref())
            .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AlertRules {
    patient_id: UserId,
    /// The clinician's overrides of the default rules, as set (empty object: defaults).
    overrides: serde_json::Value,
    updated_by: Option<UserId>,
    updated_at: Option<DateTime<Utc>>,
}

async fn load_rules(state: &AppState, patient: UserId) -> Result<AlertRules, ApiError> {
    let row: Option<(serde_json::Value, Option<UserId>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT rules, updated_by, updated_at FROM alert_rules WHERE patient_id = $1",
    )
    .bind(patient)
    .fetch_optional(&state.pool)
    .await?;
    let (overrides, updated_by, updated_at) = match row {
        Some((rules, by, at)) => (rules, by, Some(at)),
        None => (serde_json::json!({}), None, None),
    };
    Ok(AlertRules {
        patient_id: patient,
        overrides,
        updated_by,
        updated_at,
    })
}

async fn is_patient(state: &AppState, id: UserId) -> Result<(), ApiError> {
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'patient')",
    )
    .bind(id)
    .fetch_one(&state.pool)
    .await?;
    if exists {
        Ok(())
    } else {
        Err(ApiError::NotFound("patient"))
    }
}

/// A patient's alert-rule overrides.
#[utoipa::path(get, path = "/api/patients/{id}/alert-rules", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient")),
    responses(
        (status = 200, description = "The overrides", body = AlertRules),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
    ))]
async fn get_rules(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient): Path<UserId>,
) -> Result<Json<AlertRules>, ApiError> {
    let read = Action::Patient {
        patient,
        write: false,
        resource: "alert_rules",
    };
    authorize(&state, &caller, read).await?;
    is_patient(&state, patient).await?;
    Ok(Json(load_rules(&state, patient).await?))
}

/// Replace a patient's alert-rule overrides (validated against the rule set; the running
/// engine picks them up within 30 s). Clinicians of the patient's care team only.
#[utoipa::path(put, path = "/api/patients/{id}/alert-rules", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient")),
    request_body(content = Object, description = "Overrides, e.g. {\"thresholds\": {\"spo2_low\": {\"medium\": 88}}}"),
    responses(
        (status = 200, description = "Stored", body = AlertRules),
        (status = 400, description = "Invalid overrides", body = crate::error::ErrorBody),
    ))]
async fn set_rules(
    State(state): State<AppState>,
    caller: Caller,
    Path(patient): Path<UserId>,
    Json(overrides): Json<serde_json::Value>,
) -> Result<Json<AlertRules>, ApiError> {
    let checked = Overrides::from_json(&overrides).and_then(|o| o.apply(&RuleSet::default()));
    if let Err(e) = checked {
        return Err(ApiError::BadRequest {
            code: "invalid",
            message: e.to_string(),
            field: Some("rules"),
        });
    }
    let care = Action::Care {
        patient,
        action: "update",
        resource: "alert_rules",
        target: Some(patient.to_string()),
    };
    authorize(&state, &caller, care).await?;
    store::set_rule_overrides(&state.pool, patient, &overrides, Some(caller.user_id)).await?;
    Ok(Json(load_rules(&state, patient).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    unread: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<u32>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/notifications", tag = "alerts",
    security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "One page of notifications", body = Page<Notification>),
        (status = 400, description = "Invalid query", body = crate::error::ErrorBody),
    ))]
async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<NotificationQuery>,
) -> Result<Json<Page<Notification>>, ApiError> {
    let (limit, offset) = PageParams {
        limit: query.limit,
        offset: query.offset,
    }
    .checked()?;
    authorize(&state, &caller, Action::OwnAccount { write: false }).await?;
    let rows: Vec<Notification> = sqlx::query_as(
        "SELECT id, user_id, alert_id, kind, title, body, created_at, read_at
         FROM notifications
         WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)
         ORDER BY created_at DESC, id DESC
         LIMIT $3 OFFSET $4",
    )
    .bind(caller.user_id)
    .bind(query.unread.unwrap_or(false))
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, offset)))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The notification")),
    responses(
        (status = 200, description = "Marked read", body = Notification),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
    ))]
async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Notification>, ApiError> {
    authorize(&state, &caller, Action::OwnAccount { write: true }).await?;
    let row: Option<Notification> = sqlx::query_as(
        "UPDATE notifications SET read_at = coalesce(read_at, now())
         WHERE id = $1 AND user_id = $2
         RETURNING id, user_id, alert_id, kind, title, body, created_at, read_at",
    )
    .bind(id)
    .bind(caller.user_id)
    .fetch_optional(&state.pool)
    .await?;
    match row {
        Some(row) => Ok(Json(row)),
        None => {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM notifications WHERE id = $1)")
                    .bind(id)
                    .fetch_one(&state.pool)
                    .await?;
            Err(if exists {
                ApiError::Forbidden("not your notification")
            } else {
                ApiError::NotFound("notification")
            })
        }
    }
}
