//! Accounts and sessions: registration, login with lockout, refresh-token rotation,
//! logout, the caller's own profile and password. Request and response shapes follow the
//! HealthyPhysio API the dashboard was first written against: login takes an
//! `identifier` (email or phone) and answers `{access, refresh, user}`.

pub mod caller;
pub mod sessions;
pub mod tokens;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use healthsync_core::audit::{Entry, Outcome};
use healthsync_core::ids::UserId;
use healthsync_core::users::{self, Email, NewUser, Phone, Role, User, UserStatus};
use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::OnceCell;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::caller::{Caller, ClientMeta};
use self::sessions::{Revocation, TokenPair};
use crate::AppState;
use crate::error::{ApiError, Json};

const INVALID_CREDENTIALS: &str = "invalid credentials";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(profile, update_profile))
        .routes(routes!(change_password))
}

pub(crate) const USER_COLUMNS: &str =
    "id, email, first_name, last_name, phone, role, status, created_at";

pub(crate) async fn load_user(state: &AppState, id: UserId) -> Result<Option<User>, ApiError> {
    Ok(
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&state.pool)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.org", format = Email, max_length = 254)]
    email: String,
    /// 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    #[schema(min_length = 1, max_length = 100)]
    first_name: String,
    #[schema(min_length = 1, max_length = 100)]
    last_name: String,
    /// `patient` (active at once) or `clinician` (waits for an admin's approval).
    role: Role,
    #[schema(example = "+442079460958", pattern = r"^\+?[0-9 ().-]{7,24}$")]
    phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    message: String,
    user: User,
}

/// Create an account. Patients can log in at once; clinicians once an admin approved them.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = Registered),
        (status = 400, description = "Invalid field", body = crate::error::ErrorBody),
        (status = 409, description = "Email or phone already registered", body = crate::error::ErrorBody),
    ))]
async fn register(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(req): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let status = match req.role {
        Role::Patient => UserStatus::Active,
        Role::Clinician => UserStatus::PendingApproval,
        Role::Admin => {
            return Err(ApiError::invalid(
                "role",
                "admins are created by other admins; register as patient or clinician",
            ));
        }
    };
    let user = users::create(
        &state.pool,
        NewUser {
            email: Email::parse(&req.email)?,
            first_name: req.first_name,
            last_name: req.last_name,
            phone: req.phone.as_deref().map(Phone::parse).transpose()?,
            role: req.role,
            status,
            password: Some(req.password),
        },
    )
    .await?;
    state
        .audit
        .record(Entry {
            actor: Some((user.id, user.role)),
            action: "create",
            resource: "user",
            resource_id: Some(user.id.to_string()),
            patient_id: (user.role == Role::Patient).then_some(user.id),
            outcome: Outcome::Allowed,
            ip: client.ip_text(),
        })
        .await?;
    let message = match status {
        UserStatus::PendingApproval => "registered; an admin must approve the account",
        _ => "registered",
    };
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            message: message.into(),
            user,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email or phone number.
    #[schema(example = "ada@example.org", max_length = 254)]
    identifier: String,
    #[schema(max_length = 256)]
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    access: String,
    refresh: String,
    user: User,
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    #[sqlx(flatten)]
    user: User,
    password_hash: Option<String>,
    locked_until: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, sqlx::Type)]
#[sqlx(type_name = "login_outcome", rename_all = "snake_case")]
enum LoginOutcome {
    Success,
    BadPassword,
    UnknownIdentifier,
    Locked,
    Disabled,
    PendingApproval,
}

/// A hash to check passwords against when the identifier matches nobody, so that the
/// answer takes as long as for a real account.
async fn decoy_hash() -> &'static str {
    static DECOY: OnceCell<String> = OnceCell::const_new();
    DECOY
        .get_or_init(|| async {
            users::hash_password("decoy password for unknown identifiers".into())
                .await
                .unwrap_or_default()
        })
        .await
}

/// Log in with email or phone and password. Five failures in a row lock the account
/// for 15 minutes (configurable); every attempt is recorded.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Malformed request", body = crate::error::ErrorBody),
        (status = 401, description = "Wrong identifier or password", body = crate::error::ErrorBody),
        (status = 403, description = "Account disabled or awaiting approval", body = crate::error::ErrorBody),
        (status = 423, description = "Account locked after failed logins; see Retry-After", body = crate::error::ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    // Kept in the login record as given, minus what text columns cannot hold (NUL) or
    // logs should not (control characters).
    let identifier: String = req
        .identifier
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(254)
        .collect();
    let column_value = if identifier.contains('@') {
        Email::parse(&identifier)
            .ok()
            .map(|e| ("email", e.as_str().to_owned()))
    } else {
        Phone::parse(&identifier)
            .ok()
            .map(|p| ("phone", p.as_str().to_owned()))
    };
    let row: Option<LoginRow> =
        match &column_value {
            Some((column, value)) => sqlx::query_as(&format!(
                "SELECT {USER_COLUMNS}, password_hash, locked_until FROM users WHERE {column} = $1"
            ))
            .bind(value)
            .fetch_optional(&state.pool)
            .await?,
            None => None,
        };
    let record = |user: Option<UserId>, outcome: LoginOutcome| {
        let (pool, identifier, client) = (state.pool.clone(), identifier.clone(), client.clone());
        async move {
            sqlx::query(
                "INSERT INTO login_attempts (user_id, identifier, ip, user_agent, outcome)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(user)
            .bind(identifier)
            .bind(client.ip_text())
            .bind(client.user_agent)
            .bind(outcome)
            .execute(&pool)
            .await
        }
    };
    let Some(row) = row else {
        users::verify_password(req.password, decoy_hash().await.to_owned()).await;
        record(None, LoginOutcome::UnknownIdentifier).await?;
        return Err(ApiError::Unauthorized(INVALID_CREDENTIALS));
    };
    let now = Utc::now();
    if let Some(until) = row.locked_until.filter(|until| *until > now) {
        record(Some(row.user.id), LoginOutcome::Locked).await?;
        return Err(ApiError::Locked {
            retry_after: seconds_until(until, now),
        });
    }
    let stored = row
        .password_hash
        .unwrap_or_else(|| "no password set".to_owned());
    if !users::verify_password(req.password, stored).await {
        let settings = &state.auth.settings;
        // Counts consecutive failures; the one that reaches the limit locks the account
        // and starts the count again for after the lock.
        let locked_until: Option<DateTime<Utc>> = sqlx::query_scalar(
            "UPDATE users SET
                 locked_until = CASE WHEN failed_logins + 1 >= $2
                                     THEN now() + make_interval(mins => $3) END,
                 failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0
                                      ELSE failed_logins + 1 END
             WHERE id = $1
             RETURNING locked_until",
        )
        .bind(row.user.id)
        .bind(settings.lockout_failures as i32)
        .bind(settings.lockout_minutes as i32)
        .fetch_one(&state.pool)
        .await?;
        record(Some(row.user.id), LoginOutcome::BadPassword).await?;
        return Err(match locked_until {
            Some(until) => ApiError::Locked {
                retry_after: seconds_until(until, now),
            },
            None => ApiError::Unauthorized(INVALID_CREDENTIALS),
        });
    }
    match row.user.status {
        UserStatus::Active => {}
        UserStatus::Disabled => {
            record(Some(row.user.id), LoginOutcome::Disabled).await?;
            return Err(ApiError::Forbidden("account disabled"));
        }
        UserStatus::PendingApproval => {
            record(Some(row.user.id), LoginOutcome::PendingApproval).await?;
            return Err(ApiError::Forbidden("account awaiting an admin's approval"));
        }
    }
    sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(row.user.id)
        .execute(&state.pool)
        .await?;
    record(Some(row.user.id), LoginOutcome::Success).await?;
    let tokens = sessions::start(&state, row.user.id, &client).await?;
    Ok(Json(LoginResponse {
        access: tokens.access,
        refresh: tokens.refresh,
        user: row.user,
    }))
}

fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
    u32::try_from((until - now).num_seconds().max(1)).unwrap_or(u32::MAX)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh: String,
}

/// Exchange a refresh token for a new access token and a new refresh token. Each refresh
/// token works once; using one again revokes its whole session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        (status = 400, description = "Malformed request", body = crate::error::ErrorBody),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = crate::error::ErrorBody),
    ))]
async fn refresh(
    State(state): State<AppState>,
    Json(req): Json<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(sessions::refresh(&state, &req.refresh).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Success {
    success: String,
}

/// End the session a refresh token belongs to; its access tokens stop working at once.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "Logged out", body = Success),
        (status = 400, description = "Malformed request", body = crate::error::ErrorBody),
        (status = 401, description = "Unknown refresh token", body = crate::error::ErrorBody),
    ))]
async fn logout(
    State(state): State<AppState>,
    Json(req): Json<RefreshRequest>,
) -> Result<Json<Success>, ApiError> {
    let session = sessions::session_of(&state, &req.refresh)
        .await?
        .ok_or(ApiError::Unauthorized("unknown refresh token"))?;
    let mut conn = state.pool.acquire().await?;
    sessions::revoke(&mut conn, session, Revocation::Logout).await?;
    Ok(Json(Success {
        success: "logged out".into(),
    }))
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/auth/profile", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account", body = User)))]
async fn profile(State(state): State<AppState>, caller: Caller) -> Result<Json<User>, ApiError> {
    crate::access::authorize(
        &state,
        &caller,
        crate::access::Action::OwnAccount { write: false },
    )
    .await?;
    let user = load_user(&state, caller.user_id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    Ok(Json(user))
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn explicit<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    #[schema(min_length = 1, max_length = 100)]
    first_name: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    last_name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    email: Option<String>,
    /// A number, or `null` to remove it. Absent: unchanged.
    #[serde(default, deserialize_with = "explicit")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
}

/// Change the caller's names, email or phone; absent fields stay as they are.
#[utoipa::path(put, path = "/api/auth/profile", tag = "auth",
    security(("bearer" = [])),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The updated account", body = User),
        (status = 400, description = "Invalid field", body = crate::error::ErrorBody),
        (status = 409, description = "Email or phone already registered", body = crate::error::ErrorBody),
    ))]
async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<ProfileUpdate>,
) -> Result<Json<User>, ApiError> {
    let first_name = req
        .first_name
        .as_deref()
        .map(|n| users::check_name("first_name", n))
        .transpose()?;
    let last_name = req
        .last_name
        .as_deref()
        .map(|n| users::check_name("last_name", n))
        .transpose()?;
    let email = req.email.as_deref().map(Email::parse).transpose()?;
    let phone = req
        .phone
        .map(|p| p.as_deref().map(Phone::parse).transpose())
        .transpose()?;
    crate::access::authorize(
        &state,
        &caller,
        crate::access::Action::OwnAccount { write: true },
    )
    .await?;
    let user: User = sqlx::query_as(&format!(
        "UPDATE users SET
             first_name = COALESCE($2, first_name),
             last_name = COALESCE($3, last_name),
             email = COALESCE($4, email),
             phone = CASE WHEN $5 THEN $6 ELSE phone END,
             updated_at = now()
         WHERE id = $1
         RETURNING {USER_COLUMNS}"
    ))
    .bind(caller.user_id)
    .bind(first_name)
    .bind(last_name)
    .bind(email)
    .bind(phone.is_some())
    .bind(phone.flatten())
    .fetch_one(&state.pool)
    .await
    .map_err(users::classify)?;
    Ok(Json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 256)]
    current_password: String,
    /// 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Change the caller's password. Every other session of the account is ended.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Password changed", body = Success),
        (status = 400, description = "Wrong current password or invalid new one", body = crate::error::ErrorBody),
    ))]
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<PasswordChange>,
) -> Result<Json<Success>, ApiError> {
    crate::access::authorize(
        &state,
        &caller,
        crate::access::Action::OwnAccount { write: true },
    )
    .await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(caller.user_id)
            .fetch_one(&state.pool)
            .await?;
    let stored = stored.unwrap_or_else(|| "no password set".to_owned());
    if !users::verify_password(req.current_password, stored).await {
        return Err(ApiError::invalid("current_password", "is not correct"));
    }
    let hash = users::hash_password(req.new_password)
        .await
        .map_err(|e| match e {
            users::UserError::Invalid { message, .. } => ApiError::invalid("new_password", message),
            other => other.into(),
        })?;
    let mut tx = state.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(caller.user_id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    sessions::revoke_all(
        &mut tx,
        caller.user_id,
        Some(caller.session_id),
        Revocation::PasswordChanged,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(Success {
        success: "password changed; other sessions ended".into(),
    }))
}
