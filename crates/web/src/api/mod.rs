//! The JSON API under `/api/v1`, `/healthz` and `/api/openapi.json`, by resource.
//!
//! Handlers authenticate ([`crate::auth::Authed`], or [`crate::extract::RecordTarget`] for a
//! record), check what the role may do against the core's matrix, then call the store; they hold no
//! rule of the rubric or the lifecycle. Bodies go through [`crate::extract::Body`], which turns
//! malformed JSON, wrong types and oversize bodies into Chinese 4xx errors. Numbers in bodies may be
//! JSON numbers or strings; strings are recommended, as every figure the API returns is a string.
//! This module stands on the shared floor (auth, extract, view, sheet) and must not import the pages.

mod accounts;
mod cells;
mod files;
mod oversight;
mod periods;
mod records;
mod results;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, extract::State};
use serde_json::json;

use crate::{ApiError, AppState, OPENAPI};

/// Every route of the API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/openapi.json", get(openapi))
        .merge(accounts::routes())
        .merge(periods::routes())
        .merge(records::routes())
        .merge(cells::routes())
        .merge(results::routes())
        .merge(files::routes())
        .merge(oversight::routes())
}

/// What answers an unknown address under `/api/`.
pub fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "没有这个地址").into_response()
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.store.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "database unavailable"})),
        )
            .into_response(),
    }
}

/// Whether this process should be sent requests: the database reachable and at this program's
/// version (a load balancer's check; `/healthz` says only that the process answers and the
/// database does).
async fn readyz(State(s): State<AppState>) -> Response {
    match s.store.not_ready().await {
        None => Json(json!({"status": "ready"})).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "reason": reason})),
        )
            .into_response(),
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// A query string that could not be read: 400, naming the parameters the address takes.
fn bad_query(e: &axum::extract::rejection::QueryRejection, known: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("查询参数无效（可用 {known}）：{}", e.body_text()),
    )
}
