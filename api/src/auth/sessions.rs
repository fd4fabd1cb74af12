//! Sessions and their refresh tokens. A login starts a session with one refresh token;
//! each refresh marks the presented token used and issues its successor in the same
//! session (the token family). Presenting a used token again means it was copied: the
//! whole session is revoked, so neither the thief nor the owner can go on with it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use healthsync_core::ids::UserId;
use healthsync_core::users::UserStatus;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::caller::ClientMeta;
use crate::AppState;
use crate::error::ApiError;

const REFRESH_TAG: &str = "hsr_";
/// Longest refresh token worth hashing; real ones are 47 characters.
const MAX_REFRESH_LEN: usize = 128;
const INVALID_REFRESH: &str = "invalid or expired refresh token";

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    Logout,
    RefreshTokenReuse,
    PasswordChanged,
    AccountDisabled,
}

impl Revocation {
    fn as_str(self) -> &'static str {
        match self {
            Revocation::Logout => "logout",
            Revocation::RefreshTokenReuse => "refresh_token_reuse",
            Revocation::PasswordChanged => "password_changed",
            Revocation::AccountDisabled => "account_disabled",
        }
    }
}

/// A fresh access token and the refresh token that replaces it when it expires.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Bearer token for `Authorization: Bearer ...`, valid for `api.access_token_minutes`.
    pub access: String,
    /// Single use: `POST /api/auth/refresh` exchanges it for a new pair.
    pub refresh: String,
}

fn hash_refresh(token: &str) -> Vec<u8> {
    digest(&SHA256, token.as_bytes()).as_ref().to_vec()
}

fn new_refresh_token() -> Result<String, ApiError> {
    let mut secret = [0u8; 32];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| ApiError::internal("system random number generator failed"))?;
    Ok(format!("{REFRESH_TAG}{}", URL_SAFE_NO_PAD.encode(secret)))
}

/// Adds the session's next refresh token, commits, and signs the access token to go
/// with it.
async fn issue(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    state: &AppState,
    user: UserId,
    session: Uuid,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let refresh = new_refresh_token()?;
    let lifetime = chrono::Duration::days(i64::from(state.auth.settings.refresh_token_days));
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_refresh(&refresh))
    .bind(session)
    .bind(now)
    .bind(now + lifetime)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(TokenPair {
        access: state.auth.signer.sign(user.0, session, now),
        refresh,
    })
}

/// Starts a session for `user` (who has just proven who they are).
pub async fn start(
    state: &AppState,
    user: UserId,
    client: &ClientMeta,
) -> Result<TokenPair, ApiError> {
    let now = Utc::now();
    let session = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    sqlx::query("INSERT INTO sessions (id, user_id, ip, user_agent) VALUES ($1, $2, $3, $4)")
        .bind(session)
        .bind(user)
        .bind(client.ip_text())
        .bind(&client.user_agent)
        .execute(&mut *tx)
        .await?;
    issue(tx, state, user, session, now).await
}

/// A presented refresh token as stored, with its session and user.
#[derive(sqlx::FromRow)]
struct PresentedToken {
    session: Uuid,
    user_id: UserId,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked: bool,
    status: UserStatus,
}

/// Exchanges a refresh token for a new pair; a reused token revokes its session.
pub async fn refresh(state: &AppState, presented: &str) -> Result<TokenPair, ApiError> {
    if presented.len() > MAX_REFRESH_LEN || !presented.starts_with(REFRESH_TAG) {
        return Err(ApiError::Unauthorized(INVALID_REFRESH));
    }
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    // The row lock makes two concurrent uses of one token a reuse, never two successors.
    let found: Option<PresentedToken> = sqlx::query_as(
        "SELECT s.id AS session, s.user_id, t.expires_at, t.used_at,
                s.revoked_at IS NOT NULL AS revoked, u.status
         FROM refresh_tokens t
         JOIN sessions s ON s.id = t.session_id
         JOIN users u ON u.id = s.user_id
         WHERE t.token_hash = $1
         FOR UPDATE OF t",
    )
    .bind(hash_refresh(presented))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(PresentedToken {
        session,
        user_id: user,
        expires_at,
        used_at,
        revoked,
        status,
    }) = found
    else {
        return Err(ApiError::Unauthorized(INVALID_REFRESH));
    };
    if revoked {
        return Err(ApiError::Unauthorized(INVALID_REFRESH));
    }
    if used_at.is_some() {
        revoke(&mut tx, session, Revocation::RefreshTokenReuse).await?;
        tx.commit().await?;
        tracing::warn!(%session, %user, "refresh token reused: session revoked");
        return Err(ApiError::Unauthorized(
            "refresh token already used: the session is revoked, log in again",
        ));
    }
    if expires_at <= now || status != UserStatus::Active {
        return Err(ApiError::Unauthorized(INVALID_REFRESH));
    }
    sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1")
        .bind(hash_refresh(presented))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    issue(tx, state, user, session, now).await
}

/// The session a refresh token belongs to, whatever its state.
pub async fn session_of(state: &AppState, presented: &str) -> Result<Option<Uuid>, ApiError> {
    if presented.len() > MAX_REFRESH_LEN {
        return Ok(None);
    }
    Ok(
        sqlx::query_scalar("SELECT session_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(hash_refresh(presented))
            .fetch_optional(&state.pool)
            .await?,
    )
}

/// Ends one session (if it has not ended already).
pub async fn revoke(
    conn: &mut PgConnection,
    session: Uuid,
    why: Revocation,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session)
    .bind(why.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every session of `user`, except `keep` when given.
pub async fn revoke_all(
    conn: &mut PgConnection,
    user: UserId,
    keep: Option<Uuid>,
    why: Revocation,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)",
    )
    .bind(user)
    .bind(keep)
    .bind(why.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
