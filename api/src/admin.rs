//! Administration: users (list, approve clinicians, change role, set a clinician's
//! specialty, disable and enable), care teams, and the audit log with its chain
//! verification. Admins only; every change is audited.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use healthsync_analytics::store::{self, CareTeamError};
use healthsync_core::audit::{self, Break, Outcome, Record};
use healthsync_core::ids::UserId;
use healthsync_core::users::{Role, User, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::access::{Action, authorize};
use crate::auth::caller::Caller;
use crate::auth::sessions::{self, Revocation};
use crate::auth::{USER_COLUMNS, load_user};
use crate::error::{ApiError, Json, Path, Query};
use crate::pagination::{Page, PageParams};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(approve_user))
        .routes(routes!(change_role))
        .routes(routes!(set_specialty))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(add_to_care_team))
        .routes(routes!(remove_from_care_team))
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
}

async fn administer(
    state: &AppState,
    caller: &Caller,
    action: &'static str,
    resource: &'static str,
    target: Option<String>,
) -> Result<(), ApiError> {
    authorize(
        state,
        caller,
        Action::Administer {
            action,
            resource,
            target,
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    role: Option<Role>,
    status: Option<UserStatus>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<u32>,
}

/// Every user, newest first, optionally by role and status (e.g. clinicians awaiting
/// approval: `?role=clinician&status=pending_approval`).
#[utoipa::path(get, path = "/api/admin/users", tag = "admin",
    security(("bearer" = [])),
    params(UserFilter),
    responses(
        (status = 200, description = "One page of users", body = Page<User>),
        (status = 400, description = "Invalid filter", body = crate::error::ErrorBody),
    ))]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<UserFilter>,
) -> Result<Json<Page<User>>, ApiError> {
    let (limit, offset) = PageParams {
        limit: filter.limit,
        offset: filter.offset,
    }
    .checked()?;
    administer(&state, &caller, "list", "users", None).await?;
    let rows: Vec<User> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users
         WHERE ($1::user_role IS NULL OR role = $1)
           AND ($2::user_status IS NULL OR status = $2)
         ORDER BY created_at DESC, id
         LIMIT $3 OFFSET $4"
    ))
    .bind(filter.role)
    .bind(filter.status)
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, offset)))
}

async fn target_user(state: &AppState, id: UserId) -> Result<User, ApiError> {
    load_user(state, id)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

fn not_yourself(caller: &Caller, id: UserId) -> Result<(), ApiError> {
    if caller.user_id == id {
        Err(ApiError::Conflict {
            message: "admins cannot change their own role or status".into(),
            field: None,
        })
    } else {
        Ok(())
    }
}

/// Approve a clinician who registered: their account becomes active.
#[utoipa::path(post, path = "/api/admin/users/{id}/approve", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The user to approve")),
    responses(
        (status = 200, description = "Approved", body = User),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
        (status = 409, description = "Not awaiting approval", body = crate::error::ErrorBody),
    ))]
async fn approve_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Json<User>, ApiError> {
    administer(&state, &caller, "approve", "user", Some(id.to_string())).await?;
    let user = target_user(&state, id).await?;
    if user.status != UserStatus::PendingApproval {
        return Err(ApiError::Conflict {
            message: "the account is not awaiting approval".into(),
            field: None,
        });
    }
    set_status(&state, id, UserStatus::Active).await
}

async fn set_status(
    state: &AppState,
    id: UserId,
    status: UserStatus,
) -> Result<Json<User>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let user: User = sqlx::query_as(&format!(
        "UPDATE users SET status = $2, updated_at = now() WHERE id = $1 RETURNING {USER_COLUMNS}"
    ))
    .bind(id)
    .bind(status)
    .fetch_one(&mut *tx)
    .await?;
    if status == UserStatus::Disabled {
        sessions::revoke_all(&mut tx, id, None, Revocation::AccountDisabled).await?;
    }
    tx.commit().await?;
    Ok(Json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: Role,
}

/// Change a user's role. A new patient gets an empty patient record; a clinician who
/// stops being one leaves every care team.
#[utoipa::path(put, path = "/api/admin/users/{id}/role", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The user")),
    request_body = RoleChange,
    responses(
        (status = 200, description = "Role changed", body = User),
        (status = 400, description = "Invalid role or id", body = crate::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
        (status = 409, description = "An admin's own role", body = crate::error::ErrorBody),
    ))]
async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    Json(change): Json<RoleChange>,
) -> Result<Json<User>, ApiError> {
    administer(&state, &caller, "change_role", "user", Some(id.to_string())).await?;
    not_yourself(&caller, id)?;
    target_user(&state, id).await?;
    let mut tx = state.pool.begin().await?;
    // Only clinicians have a specialty (a constraint says so too).
    let user: User = sqlx::query_as(&format!(
        "UPDATE users
         SET role = $2, specialty = CASE WHEN $2 = 'clinician' THEN specialty END,
             updated_at = now()
         WHERE id = $1 RETURNING {USER_COLUMNS}"
    ))
    .bind(id)
    .bind(change.role)
    .fetch_one(&mut *tx)
    .await?;
    if change.role == Role::Patient {
        sqlx::query("INSERT INTO patients (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query(
            "DELETE FROM care_team WHERE clinician_id = $1 AND $2 <> 'clinician'::user_role",
        )
        .bind(id)
        .bind(change.role)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecialtyChange {
    /// 2 to 40 lower-case letters and `_`, as the symptom assistant names specialties
    /// (`general_practice`, `cardiology`, `dermatology`, ...); `null` removes it.
    #[serde(deserialize_with = "Option::deserialize")]
    #[schema(required = true, pattern = "^[a-z_]{2,40}$")]
    specialty: Option<String>,
}

/// A clinician in the provider directory.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct ClinicianSpecialty {
    id: UserId,
    name: String,
    specialty: Option<String>,
}

fn specialty_well_formed(specialty: &str) -> bool {
    (2..=40).contains(&specialty.len())
        && specialty
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Set or remove a clinician's specialty: the provider directory the symptom assistant
/// recommends from (active clinicians whose specialty is the one a reply names).
#[utoipa::path(put, path = "/api/admin/users/{id}/specialty", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The clinician")),
    request_body = SpecialtyChange,
    responses(
        (status = 200, description = "Specialty set or removed", body = ClinicianSpecialty),
        (status = 400, description = "Malformed specialty or id", body = crate::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
        (status = 409, description = "Not a clinician", body = crate::error::ErrorBody),
    ))]
async fn set_specialty(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    Json(change): Json<SpecialtyChange>,
) -> Result<Json<ClinicianSpecialty>, ApiError> {
    if change
        .specialty
        .as_deref()
        .is_some_and(|s| !specialty_well_formed(s))
    {
        return Err(ApiError::invalid(
            "specialty",
            "2 to 40 lower-case letters and _, e.g. cardiology or general_practice",
        ));
    }
    administer(
        &state,
        &caller,
        "set_specialty",
        "user",
        Some(id.to_string()),
    )
    .await?;
    target_user(&state, id).await?;
    let updated: Option<ClinicianSpecialty> = sqlx::query_as(
        "UPDATE users SET specialty = $2, updated_at = now()
         WHERE id = $1 AND role = 'clinician'
         RETURNING id, first_name || ' ' || last_name AS name, specialty",
    )
    .bind(id)
    .bind(&change.specialty)
    .fetch_optional(&state.pool)
    .await?;
    updated.map(Json).ok_or_else(|| ApiError::Conflict {
        message: "only clinicians have a specialty".into(),
        field: None,
    })
}

/// Disable an account: it can no longer log in, and its tokens stop working at once.
#[utoipa::path(post, path = "/api/admin/users/{id}/disable", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The user")),
    responses(
        (status = 200, description = "Disabled", body = User),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
        (status = 409, description = "An admin's own account", body = crate::error::ErrorBody),
    ))]
async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Json<User>, ApiError> {
    administer(&state, &caller, "disable", "user", Some(id.to_string())).await?;
    not_yourself(&caller, id)?;
    target_user(&state, id).await?;
    set_status(&state, id, UserStatus::Disabled).await
}

/// Enable a disabled account again (it logs in afresh).
#[utoipa::path(post, path = "/api/admin/users/{id}/enable", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The user")),
    responses(
        (status = 200, description = "Enabled", body = User),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
        (status = 409, description = "An admin's own account", body = crate::error::ErrorBody),
    ))]
async fn enable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Json<User>, ApiError> {
    administer(&state, &caller, "enable", "user", Some(id.to_string())).await?;
    not_yourself(&caller, id)?;
    target_user(&state, id).await?;
    set_status(&state, id, UserStatus::Active).await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareTeamLink {
    patient_id: UserId,
    clinician_id: UserId,
}

/// Put a clinician on a patient's care team.
#[utoipa::path(post, path = "/api/admin/care-team", tag = "admin",
    security(("bearer" = [])),
    request_body = CareTeamLink,
    responses(
        (status = 201, description = "On the care team (also when already on it)", body = CareTeamLink),
        (status = 400, description = "Not a patient or not a clinician", body = crate::error::ErrorBody),
    ))]
async fn add_to_care_team(
    State(state): State<AppState>,
    caller: Caller,
    Json(link): Json<CareTeamLink>,
) -> Result<(StatusCode, Json<CareTeamLink>), ApiError> {
    authorize(
        &state,
        &caller,
        Action::Administer {
            action: "create",
            resource: "care_team",
            target: Some(format!("{}/{}", link.patient_id, link.clinician_id)),
        },
    )
    .await?;
    store::assign_care_team(&state.pool, link.patient_id, link.clinician_id)
        .await
        .map_err(|e| match e {
            CareTeamError::NotAPatient(_) => ApiError::invalid("patient_id", e.to_string()),
            CareTeamError::NotAClinician(_) => ApiError::invalid("clinician_id", e.to_string()),
            CareTeamError::Database(e) => e.into(),
        })?;
    Ok((StatusCode::CREATED, Json(link)))
}

/// Take a clinician off a patient's care team.
#[utoipa::path(delete, path = "/api/admin/care-team/{patient_id}/{clinician_id}", tag = "admin",
    security(("bearer" = [])),
    params(
        ("patient_id" = UserId, Path, description = "The patient"),
        ("clinician_id" = UserId, Path, description = "The clinician"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
        (status = 404, description = "The clinician is not on that care team", body = crate::error::ErrorBody),
    ))]
async fn remove_from_care_team(
    State(state): State<AppState>,
    caller: Caller,
    Path((patient_id, clinician_id)): Path<(UserId, UserId)>,
) -> Result<StatusCode, ApiError> {
    administer(
        &state,
        &caller,
        "delete",
        "care_team",
        Some(format!("{patient_id}/{clinician_id}")),
    )
    .await?;
    if store::remove_from_care_team(&state.pool, patient_id, clinician_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("care team membership"))
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    actor_id: Option<UserId>,
    patient_id: Option<UserId>,
    /// `read`, `list`, `create`, `update`, `delete`, `approve`, ...
    #[param(pattern = "^[a-z_]{1,40}$")]
    action: Option<String>,
    /// `patient_profile`, `patients`, `account`, `user`, `device`, `vitals`, `care_team`,
    /// `audit_log`, ...
    #[param(pattern = "^[a-z_]{1,40}$")]
    resource: Option<String>,
    outcome: Option<Outcome>,
    /// Rows at or after this time.
    since: Option<DateTime<Utc>>,
    /// Rows before this time.
    until: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<u32>,
}

/// The audit log, newest first, filtered.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "One page of audit rows", body = Page<Record>),
        (status = 400, description = "Invalid filter", body = crate::error::ErrorBody),
    ))]
async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Page<Record>>, ApiError> {
    let (limit, offset) = PageParams {
        limit: query.limit,
        offset: query.offset,
    }
    .checked()?;
    for (field, value) in [("action", &query.action), ("resource", &query.resource)] {
        let well_formed = |v: &str| {
            (1..=40).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        };
        if value.as_deref().is_some_and(|v| !well_formed(v)) {
            return Err(ApiError::invalid(field, "lower-case letters and _ only"));
        }
    }
    administer(&state, &caller, "read", "audit_log", None).await?;
    let filter = audit::Filter {
        actor_id: query.actor_id,
        patient_id: query.patient_id,
        action: query.action,
        resource: query.resource,
        outcome: query.outcome,
        since: query.since,
        until: query.until,
    };
    let rows = audit::list(&state.pool, &filter, limit + 1, offset).await?;
    Ok(Json(Page::from_rows(rows, limit, offset)))
}

#[derive(Serialize, ToSchema)]
pub struct ChainReport {
    /// True when every row is intact and in sequence.
    intact: bool,
    /// Rows checked (up to the first broken one).
    checked: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_broken: Option<BrokenLink>,
}

#[derive(Serialize, ToSchema)]
pub struct BrokenLink {
    id: i64,
    reason: Break,
    message: String,
}

/// Walk the audit log's hash chain from the first row; report the first broken link.
#[utoipa::path(get, path = "/api/admin/audit/verify", tag = "admin",
    security(("bearer" = [])),
    responses((status = 200, description = "The chain's state", body = ChainReport)))]
async fn verify_audit(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ChainReport>, ApiError> {
    administer(&state, &caller, "verify", "audit_log", None).await?;
    let verification = audit::verify(&state.pool).await?;
    Ok(Json(ChainReport {
        intact: verification.first_broken.is_none(),
        checked: verification.checked,
        first_broken: verification.first_broken.map(|(id, reason)| BrokenLink {
            id,
            message: reason.to_string(),
            reason,
        }),
    }))
}
