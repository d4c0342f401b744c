//! `/metrics`: how this instance is doing, in the Prometheus text format, for the office's
//! monitoring. Requests by route and status with their latency (counted by a layer around every
//! route), and at each scrape a reading of what the store did ([`lvzhi_store::Activity`]): writes,
//! failed logins and locked accounts, periods read and their time, the connection pool, the age of
//! the last audit checkpoint and backup, failed backups.
//!
//! Only the configured addresses (by default this machine's own) or a request with the configured
//! token may read it; the source address is the one the audit trail names ([`crate::auth`]). This
//! module arranges figures others counted: it must not decide anything for a request it counts.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::core::Collector;
use prometheus::{
    Counter, Encoder as _, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use sha2::{Digest as _, Sha256};

use crate::AppState;

/// Who may read `/metrics`: the addresses allowed, and a token that allows any address.
#[derive(Clone, Debug)]
pub struct MetricsAccess {
    pub allow: Vec<ipnet::IpNet>,
    /// SHA-256 of the token (`Authorization: Bearer …`), when one is configured.
    token_hash: Option<[u8; 32]>,
}

impl Default for MetricsAccess {
    /// This machine only (a Prometheus on the same server, or `curl` by its administrator).
    fn default() -> Self {
        MetricsAccess::new(
            vec![
                "127.0.0.0/8".parse().expect("loopback"),
                "::1/128".parse().expect("loopback"),
            ],
            None,
        )
    }
}

impl MetricsAccess {
    pub fn new(allow: Vec<ipnet::IpNet>, token: Option<&str>) -> Self {
        MetricsAccess {
            allow,
            token_hash: token.map(|t| Sha256::digest(t.as_bytes()).into()),
        }
    }

    fn admits(&self, parts: &Parts, proxies: &[ipnet::IpNet]) -> bool {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let (Some(want), Some(given)) = (&self.token_hash, bearer) {
            let given: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
            return given == *want;
        }
        crate::auth::source_of(parts, proxies)
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| self.allow.iter().any(|n| n.contains(&ip)))
    }
}

/// This instance's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    writes: IntCounter,
    login_failures: IntCounter,
    account_locks: IntCounter,
    period_loads: IntCounter,
    period_catch_ups: IntCounter,
    period_read_seconds: Counter,
    pool: IntGaugeVec,
    pool_max: IntGauge,
    checkpoint_age: Gauge,
    backup_age: Gauge,
    backup_failures: IntCounter,
    backup_failing: IntGauge,
    /// One scrape at a time brings the store's totals over.
    scrape: Mutex<()>,
}

/// The families left out while their figure is unknown (no checkpoint or backup yet).
const CHECKPOINT_AGE: &str = "lvzhi_audit_checkpoint_age_seconds";
const BACKUP_AGE: &str = "lvzhi_backup_age_seconds";

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// # Panics
    /// Never in practice: the names below are fixed and valid, and each is registered once.
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| {
            registered(&registry, IntCounter::new(name, help).expect("metric"))
        };
        let gauge =
            |name: &str, help: &str| registered(&registry, Gauge::new(name, help).expect("metric"));
        let labelled = |name: &str, help: &str| Opts::new(name, help);
        let build = registered(
            &registry,
            IntGaugeVec::new(
                labelled("lvzhi_build_info", "This program's version."),
                &["version"],
            )
            .expect("metric"),
        );
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        Metrics {
            requests: registered(
                &registry,
                IntCounterVec::new(
                    labelled(
                        "lvzhi_http_requests_total",
                        "HTTP requests answered, by route, method and status.",
                    ),
                    &["route", "method", "status"],
                )
                .expect("metric"),
            ),
            latency: registered(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "lvzhi_http_request_duration_seconds",
                        "Time to answer, by route.",
                    ),
                    &["route"],
                )
                .expect("metric"),
            ),
            writes: counter("lvzhi_writes_total", "Write transactions committed."),
            login_failures: counter(
                "lvzhi_login_failures_total",
                "Logins refused for a wrong password.",
            ),
            account_locks: counter(
                "lvzhi_account_locks_total",
                "Accounts locked after repeated failed logins.",
            ),
            period_loads: counter(
                "lvzhi_period_loads_total",
                "Periods read whole from the database.",
            ),
            period_catch_ups: counter(
                "lvzhi_period_catch_ups_total",
                "Cached periods brought up to date by reading the units other writes changed.",
            ),
            period_read_seconds: registered(
                &registry,
                Counter::new(
                    "lvzhi_period_read_seconds_total",
                    "Time spent reading periods (whole or caught up).",
                )
                .expect("metric"),
            ),
            pool: registered(
                &registry,
                IntGaugeVec::new(
                    labelled(
                        "lvzhi_db_pool_connections",
                        "Database connections open, by state.",
                    ),
                    &["state"],
                )
                .expect("metric"),
            ),
            pool_max: registered(
                &registry,
                IntGauge::new(
                    "lvzhi_db_pool_max_connections",
                    "The pool's most connections.",
                )
                .expect("metric"),
            ),
            checkpoint_age: gauge(
                CHECKPOINT_AGE,
                "Seconds since the last audit checkpoint (none: absent).",
            ),
            backup_age: gauge(
                BACKUP_AGE,
                "Seconds since the last verified scheduled backup (none: absent).",
            ),
            backup_failures: counter(
                "lvzhi_backup_failures_total",
                "Scheduled backups that failed.",
            ),
            backup_failing: registered(
                &registry,
                IntGauge::new(
                    "lvzhi_backup_last_failed",
                    "1 when the last scheduled backup failed.",
                )
                .expect("metric"),
            ),
            scrape: Mutex::new(()),
            registry,
        }
    }

    /// Counts one answered request.
    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    /// The text a scrape answers: the store read now, then every family.
    fn render(&self, a: &lvzhi_store::Activity) -> String {
        let _one = self
            .scrape
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let up_to = |c: &IntCounter, total: u64| c.inc_by(total.saturating_sub(c.get()));
        up_to(&self.writes, a.writes);
        up_to(&self.login_failures, a.login_failures);
        up_to(&self.account_locks, a.account_locks);
        up_to(&self.period_loads, a.period_loads);
        up_to(&self.period_catch_ups, a.period_catch_ups);
        up_to(&self.backup_failures, a.backup_failures);
        let read = a.period_read_seconds - self.period_read_seconds.get();
        if read > 0.0 {
            self.period_read_seconds.inc_by(read);
        }
        let idle = a.pool_idle.min(a.pool_open);
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(a.pool_open - idle));
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool_max.set(i64::from(a.pool_max));
        self.checkpoint_age
            .set(a.checkpoint_age_seconds.unwrap_or(0.0));
        self.backup_age.set(a.backup_age_seconds.unwrap_or(0.0));
        self.backup_failing.set(i64::from(a.backup_failing));
        let mut families = self.registry.gather();
        families.retain(|f| match f.name() {
            CHECKPOINT_AGE => a.checkpoint_age_seconds.is_some(),
            BACKUP_AGE => a.backup_age_seconds.is_some(),
            _ => true,
        });
        let mut out = Vec::new();
        // Encoding into memory fails only on a malformed family, which the names above are not.
        if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
            tracing::error!("监控指标编码失败：{e}");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// `c`, registered with `registry` (a clone shares its values).
fn registered<C: Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    registry.register(Box::new(c.clone())).expect("register");
    c
}

/// `GET /metrics`: the metrics to an allowed address or the token; 403 to anyone else.
pub(crate) async fn serve(State(s): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if wants_a_page(&parts) {
        // A browser's bookmark of the 指标数据 page, which was here before monitoring was.
        let to = match parts.uri.query() {
            Some(q) => format!("{PAGE}?{q}"),
            None => PAGE.to_owned(),
        };
        return axum::response::Redirect::to(&to).into_response();
    }
    if !s.metrics_access.admits(&parts, &s.trusted_proxies) {
        return (
            StatusCode::FORBIDDEN,
            "无权读取监控指标：请从配置允许的地址访问（配置项 metrics_allow），或携带监控令牌（配置项 metrics_token）。",
        )
            .into_response();
    }
    let text = s.metrics.render(&s.store.activity());
    (
        [(
            header::CONTENT_TYPE,
            TextEncoder::new().format_type().to_owned(),
        )],
        text,
    )
        .into_response()
}

/// Where the 指标数据 page is (it was at `/metrics` before release 0.2.0).
const PAGE: &str = "/metric-values";

/// A browser navigating (it asks for HTML first; Prometheus asks for text).
fn wants_a_page(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.trim_start().starts_with("text/html"))
}

/// The layer around every route: counts the request by the route it matched and its status, and
/// times it.
pub(crate) async fn track(State(m): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str)
        .to_owned();
    // Known methods only, so that odd ones cannot grow the label set without bound.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "OTHER",
    }
    .to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    m.observe(
        &route,
        &method,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}
