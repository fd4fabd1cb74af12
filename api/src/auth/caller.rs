//! Who is calling: [`ClientMeta`] (address and user agent, for the login record and the
//! audit log) and [`Caller`], the authenticated user behind a bearer access token. A
//! token is honoured only while its session is unrevoked and its user active; the user's
//! role is read fresh, so a role change or a disabled account takes effect at once.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use chrono::Utc;
use healthsync_core::ids::UserId;
use healthsync_core::users::{Role, UserStatus};
use uuid::Uuid;

use crate::AppState;
use crate::error::ApiError;

const MAX_USER_AGENT: usize = 256;

/// Where a request comes from.
#[derive(Clone, Debug, Default)]
pub struct ClientMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl ClientMeta {
    pub fn from_parts(parts: &Parts) -> Self {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        Self { ip, user_agent }
    }

    pub fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

#[axum::async_trait]
impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

/// An authenticated user.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: UserId,
    pub role: Role,
    pub session_id: Uuid,
    pub client: ClientMeta,
}

pub const NO_TOKEN: &str = "missing bearer access token";
const BAD_TOKEN: &str = "invalid or expired access token";
const ENDED: &str = "session ended or account not active";

impl Caller {
    /// The user behind an access token, if its session and account are still good.
    pub async fn authenticate(
        state: &AppState,
        token: &str,
        client: ClientMeta,
    ) -> Result<Caller, ApiError> {
        let claims = state
            .auth
            .signer
            .verify(token.trim(), Utc::now())
            .map_err(|_| ApiError::Unauthorized(BAD_TOKEN))?;
        let caller = Caller {
            user_id: UserId(claims.sub),
            role: Role::Patient,
            session_id: claims.sid,
            client,
        };
        match caller.current_role(state).await? {
            Some(role) => Ok(Caller { role, ..caller }),
            None => Err(ApiError::Unauthorized(ENDED)),
        }
    }

    /// The caller's role now, or `None` once the session or the account has ended (a
    /// long-lived connection asks again from time to time).
    pub async fn current_role(&self, state: &AppState) -> Result<Option<Role>, ApiError> {
        let found: Option<(Role, UserStatus)> = sqlx::query_as(
            "SELECT u.role, u.status
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL",
        )
        .bind(self.session_id)
        .bind(self.user_id)
        .fetch_optional(&state.pool)
        .await?;
        Ok(match found {
            Some((role, UserStatus::Active)) => Some(role),
            _ => None,
        })
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

#[axum::async_trait]
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized(NO_TOKEN))?;
        Caller::authenticate(state, token, ClientMeta::from_parts(parts)).await
    }
}
