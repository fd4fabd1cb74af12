//! The API's one error type: each variant maps to a status code and the JSON body
//! `{"error": {"code", "message", "field"?}}`. Internal details are logged, never sent.
//! The extractors here ([`Json`], [`Path`], [`Query`]) answer malformed input with the
//! same body instead of axum's plain-text rejections.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use healthsync_core::users::UserError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<&'static str>,
    },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict {
        message: String,
        field: Option<&'static str>,
    },
    /// The account is locked after failed logins; retry after the given seconds.
    #[error("account locked after repeated failed logins")]
    Locked { retry_after: u32 },
    #[error("too many requests")]
    TooManyRequests { retry_after: u32 },
    /// Temporarily unable; the client should retry after the given seconds.
    #[error("{message}")]
    Unavailable { message: String, retry_after: u32 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code: "invalid",
            message: message.into(),
            field: Some(field),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Option<&'static str>) {
        let message = self.to_string();
        match self {
            ApiError::BadRequest { code, field, .. } => {
                (StatusCode::BAD_REQUEST, code, message, *field)
            }
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", message, None),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", message, None),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", message, None),
            ApiError::Conflict { field, .. } => (StatusCode::CONFLICT, "conflict", message, *field),
            ApiError::Locked { .. } => (StatusCode::LOCKED, "account_locked", message, None),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited", message, None)
            }
            ApiError::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                message,
                None,
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error".to_owned(),
                    None,
                )
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<healthsync_core::audit::AuditError> for ApiError {
    fn from(e: healthsync_core::audit::AuditError) -> Self {
        ApiError::internal(e)
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Invalid { field, message } => ApiError::invalid(field, message),
            UserError::DuplicateEmail => ApiError::Conflict {
                message: e.to_string(),
                field: Some("email"),
            },
            UserError::DuplicatePhone => ApiError::Conflict {
                message: e.to_string(),
                field: Some("phone"),
            },
            UserError::Hash(_) | UserError::Db(_) => ApiError::internal(e),
        }
    }
}

/// The error body every failing response carries.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `account_locked`, `rate_limited`, `unavailable`, `internal`, ...
    pub code: String,
    /// For people.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = self.parts();
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                field: field.map(str::to_owned),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let retry_after = match self {
            ApiError::Unavailable { retry_after, .. }
            | ApiError::Locked { retry_after }
            | ApiError::TooManyRequests { retry_after } => Some(retry_after),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let code = match rejection {
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            JsonRejection::JsonSyntaxError(_) => "malformed_json",
            _ => "invalid",
        };
        ApiError::BadRequest {
            code,
            message: rejection.body_text(),
            field: None,
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest {
            code: "invalid_path",
            message: rejection.body_text(),
            field: None,
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest {
            code: "invalid_query",
            message: rejection.body_text(),
            field: None,
        }
    }
}
