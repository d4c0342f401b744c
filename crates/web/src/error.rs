//! One error type for every handler, and its one mapping to HTTP: bad input 400/422 with the field,
//! missing login 401, forbidden 403, not found 404, conflict 409, too large 413, the database away
//! 503 with `Retry-After`; internal errors are
//! logged with their detail and shown as a short message with an id to quote.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lvzhi_store::{Candidate, StoreError};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<String>,
    /// For a year naming several periods: the periods it names (key and name).
    pub candidates: Vec<Candidate>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            field: None,
            candidates: Vec::new(),
        }
    }
    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            field: Some(field.to_owned()),
            candidates: Vec::new(),
        }
    }
    fn with_candidates(mut self, candidates: Vec<Candidate>) -> Self {
        self.candidates = candidates;
        self
    }
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "未登录或令牌无效：请登录，或在请求头中提供 Authorization: Bearer 令牌",
        )
    }
    pub fn forbidden(what: &str) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, format!("无权{what}"))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid { field, message } => {
                ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, &field, message)
            }
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            e @ StoreError::Duplicates(_) => {
                ApiError::field(StatusCode::CONFLICT, "duplicates", e.to_string())
            }
            e @ StoreError::Rows(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            StoreError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            StoreError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            StoreError::Ambiguous { asked, candidates } => ApiError::field(
                StatusCode::CONFLICT,
                "period",
                Candidate::message(&asked, &candidates),
            )
            .with_candidates(candidates),
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "数据库暂时无法访问，请稍后重试（未做任何修改）",
                )
            }
            other => {
                let id = incident_id();
                tracing::error!(error = %other, incident = %id, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("服务器内部错误，请联系管理员（事件编号 {id}）"),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"message": self.message, "field": self.field}});
        if !self.candidates.is_empty() {
            body["error"]["candidates"] = json!(self.candidates);
        }
        let mut r = (self.status, Json(body)).into_response();
        let retry_after = match self.status {
            StatusCode::TOO_MANY_REQUESTS => Some(crate::LOGIN_WINDOW_SECS),
            StatusCode::SERVICE_UNAVAILABLE => Some(RETRY_AFTER_UNAVAILABLE_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        r
    }
}

/// When to try again after a 503 (the database away): seconds.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 5;

/// An id to quote for an internal error: the time, to the millisecond, and a random tail.
pub(crate) fn incident_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{}{:03}-{:04x}",
        now.unix_timestamp(),
        now.millisecond(),
        rand_tail()
    )
}

fn rand_tail() -> u16 {
    let mut b = [0u8; 2];
    // Not a secret: any value tells incidents of one millisecond apart.
    let h = std::collections::hash_map::RandomState::new();
    let v = std::hash::BuildHasher::hash_one(&h, std::time::Instant::now());
    b.copy_from_slice(&v.to_le_bytes()[..2]);
    u16::from_le_bytes(b)
}
