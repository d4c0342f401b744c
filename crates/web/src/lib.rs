//! lvzhi-web: the HTTP face of the assessment. `app(state)` builds the whole router, with no global
//! state, so tests drive it with `oneshot` and the binary serves it on a socket.
//!
//! This crate is the only one that knows HTTP. It is built in layers: a floor that both audiences
//! stand on — [`auth`] (who is asking, sessions, CSRF, the one login), [`extract`] (typed bodies,
//! path ids, the record a request is about), [`view`] (Beijing time, encodings, downloads), `sheet`
//! (the explained sheet as JSON) and [`error`] — and above it the JSON API under `/api/v1` (by
//! resource, in `api/`) and the pages in Chinese (by page, in `pages/`), which never import each
//! other. Every call but `/healthz`, `/readyz`, `/login` and `/static/` needs a session or a token
//! (`/metrics` an allowed address or its own token; [`metrics`]); API refusals
//! are `{"error": {"message": "…", "field": "…"}}` in Chinese, page refusals a page or a fragment,
//! with a 4xx status, and change nothing. It must not contain SQL or rubric rules.

mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod oversight;
pub mod pages;
mod sheet;
pub mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use lvzhi_store::Store;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Passwords older than this many days must be changed at the next login (`None`: never).
    pub password_max_age_days: Option<i64>,
    /// Session cookies are `__Host-` and `Secure` (browsers send them over HTTPS, and to localhost);
    /// `false` only for a plain-HTTP intranet.
    pub secure_cookies: bool,
    /// Login attempts allowed per source address and minute.
    pub login_attempts_per_minute: u32,
    /// Served over HTTPS by this process (`serve --tls-cert`): answers carry HSTS.
    pub https: bool,
    /// 三员分立 or not (`serve --separation-of-duties`).
    pub duties: lvzhi_core::access::Duties,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` name the client (`serve --trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Login attempts per source address and per account in the current minute (this instance's
    /// count; the account lock after repeated failures is in the database, shared by all).
    pub login_attempts: std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
    >,
    /// This instance's request counts and latencies, read at `/metrics`.
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// Who may read `/metrics` (`serve`: `metrics_allow`, `metrics_token`).
    pub metrics_access: metrics::MetricsAccess,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        AppState {
            store,
            password_max_age_days: Some(90),
            secure_cookies: true,
            login_attempts_per_minute: LOGIN_ATTEMPTS_PER_MINUTE,
            duties: lvzhi_core::access::Duties::Combined,
            https: false,
            login_attempts: std::sync::Arc::default(),
            trusted_proxies: Vec::new(),
            metrics: std::sync::Arc::default(),
            metrics_access: metrics::MetricsAccess::default(),
        }
    }
}

impl AppState {
    /// The session cookie's name: `__Host-` prefixed when cookies are `Secure`.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-lvzhi_session"
        } else {
            "lvzhi_session"
        }
    }

    /// Counts a login attempt from `source`; refuses (429) beyond the allowed number per minute.
    pub(crate) fn count_login_attempt(&self, source: &str) -> Result<(), ApiError> {
        let mut tries = self
            .login_attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        if tries.len() > 100_000 {
            tries.retain(|_, (_, at)| now.duration_since(*at).as_secs() < LOGIN_WINDOW_SECS);
        }
        let e = tries.entry(source.to_owned()).or_insert((0, now));
        if now.duration_since(e.1).as_secs() >= LOGIN_WINDOW_SECS {
            *e = (0, now);
        }
        e.0 += 1;
        if e.0 > self.login_attempts_per_minute {
            return Err(ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "登录尝试过于频繁，请一分钟后再试",
            ));
        }
        Ok(())
    }

    /// The attributes of the session cookie.
    pub fn cookie_attributes(&self) -> &'static str {
        if self.secure_cookies {
            "Path=/; HttpOnly; Secure; SameSite=Lax"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }
}

/// The window of the login attempt count, in seconds (also the 429's `Retry-After`).
pub const LOGIN_WINDOW_SECS: u64 = 60;

/// The default number of login attempts allowed per source address and minute.
pub const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 10;

/// The largest request body accepted (JSON); larger ones get 413.
pub const BODY_LIMIT: usize = 1 << 20;

/// The OpenAPI document of the API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The whole application.
pub fn app(state: AppState) -> Router {
    let headers = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        // `same-origin`, not `no-referrer`: with `no-referrer` a browser sends `Origin: null` on its
        // own form posts, and the same-site check needs the real origin.
        ("referrer-policy", "same-origin"),
        (
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        ("cache-control", "no-store"),
    ];
    let https = state.https;
    let counted = state.metrics.clone();
    let mut router = api::routes()
        .merge(pages::routes())
        .route("/metrics", axum::routing::get(metrics::serve))
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            counted,
            metrics::track,
        ));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    if https {
        // Browsers that once reached the service over HTTPS never try plain HTTP for a year.
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("strict-transport-security"),
            HeaderValue::from_static(HSTS),
        ));
    }
    router
}

/// The HSTS header's value when the service serves HTTPS itself.
pub const HSTS: &str = "max-age=31536000";

/// What answers an unknown address: JSON under `/api/`, a page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        api::not_found()
    } else {
        pages::not_found(uri.path())
    }
}
