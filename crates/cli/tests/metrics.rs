//! `/metrics` as an office's monitoring reads it (issue 22, point 4): the real service, scraped
//! and read by Prometheus's own text-format parser (the `prometheus_client` Python package,
//! Debian's `python3-prometheus-client`), never by matching strings. Only the configured addresses
//! or the token may read it; what the service did (requests by route and status, a write, a failed
//! login, a period read, the checkpoint written at start) shows in the figures.

// The figures compared exactly are counts, which a float holds exactly.
#![allow(clippy::float_cmp)]

mod common;

use std::collections::BTreeMap;

use common::{http, raw, start_with, token};

/// The parser, run on `text`: each sample as (family, type, sample name, labels, value).
type Sample = (String, String, String, BTreeMap<String, String>, f64);

const PARSE: &str = r"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        out.append([f.name, f.type, s.name, s.labels, s.value])
print(json.dumps(out))
";

fn parse(text: &str) -> Option<Vec<Sample>> {
    use std::io::Write as _;
    // Debian's Python, which the Debian package installs the parser into (a python3 earlier on the
    // PATH, such as pyenv's, does not see it).
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let child = std::process::Command::new(python)
        .args(["-c", PARSE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        missing("python3");
        return None;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("parser");
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("No module named 'prometheus_client'") {
        missing("python3-prometheus-client");
        return None;
    }
    assert!(
        out.status.success(),
        "the parser refused the text: {err}\n{text}"
    );
    Some(serde_json::from_slice(&out.stdout).expect("json"))
}

fn missing(what: &str) {
    eprintln!(
        "*** WARNING: {what} is not installed: /metrics was NOT parsed (apt-get install python3-prometheus-client). ***"
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: {what} is required"
    );
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.2 == name
                && labels
                    .iter()
                    .all(|(k, v)| s.3.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.4)
}

fn family_type<'a>(samples: &'a [Sample], family: &str) -> Option<&'a str> {
    samples.iter().find(|s| s.0 == family).map(|s| s.1.as_str())
}

#[test]
fn metrics_are_read_by_prometheus_and_only_by_whom_the_config_allows() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let config = dir.path().join("lvzhi.toml");
    let secret = "monitoring-token-0123456789";
    // Only an address this test is not at, and the token.
    std::fs::write(
        &config,
        format!("metrics_allow = [\"192.0.2.7\"]\nmetrics_token = \"{secret}\"\n"),
    )
    .expect("config");
    let (server, _) = start_with(
        &data,
        &["--demo", "--config", config.to_str().expect("utf-8")],
        &[],
    );
    let port = server.port;

    // Refused from an address not allowed, with a wrong token, or a token in the wrong place.
    let (status, _, body) = raw(port, "GET", "/metrics", &[], "");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("metrics_allow"), "{body}");
    assert_eq!(
        http(port, "GET", "/metrics", "not-the-token-at-all", None).0,
        403
    );
    let (status, _, _) = raw(port, "GET", "/metrics?token=x", &[("X-Token", secret)], "");
    assert_eq!(status, 403);

    // A browser's old bookmark of the 指标数据 page is sent to where the page now is.
    let (status, head, _) = raw(
        port,
        "GET",
        "/metrics?year=2022",
        &[("Accept", "text/html,application/xhtml+xml")],
        "",
    );
    assert_eq!(status, 303);
    assert!(
        head.to_ascii_lowercase()
            .contains("location: /metric-values?year=2022"),
        "{head}"
    );

    // Work the figures should show: a failed login, reads, a write.
    let (status, _, _) = raw(
        port,
        "POST",
        "/api/v1/session",
        &[
            ("Content-Type", "application/json"),
            ("Origin", &format!("http://127.0.0.1:{port}")),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        r#"{"username": "admin", "password": "wrong-password"}"#,
    );
    assert_eq!(status, 401);
    let admin = token(&data, port);
    assert_eq!(
        http(port, "GET", "/api/v1/periods/2022/results", &admin, None).0,
        200
    );
    assert_eq!(
        http(port, "GET", "/api/v1/periods/2022/results", &admin, None).0,
        200
    );
    let (status, body) = http(
        port,
        "POST",
        "/api/v1/periods/2022/records",
        &admin,
        Some(r#"{"unit": "发改委", "rule": "4.2", "note": "监控测试"}"#),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(http(port, "GET", "/no-such-page", &admin, None).0, 404);

    let (status, text) = http(port, "GET", "/metrics", secret, None);
    assert_eq!(status, 200, "{text}");
    let Some(samples) = parse(&text) else { return };

    let requests = |route: &str, method: &str, status: &str| {
        value(
            &samples,
            "lvzhi_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(
        family_type(&samples, "lvzhi_http_requests"),
        Some("counter")
    );
    assert_eq!(
        requests("/api/v1/periods/{year}/results", "GET", "200"),
        2.0
    );
    assert_eq!(requests("/api/v1/session", "POST", "401"), 1.0);
    assert!(requests("/metrics", "GET", "403") >= 3.0);
    assert_eq!(requests("(unmatched)", "GET", "404"), 1.0);
    // Latency: a histogram by route whose count is the route's requests.
    assert_eq!(
        family_type(&samples, "lvzhi_http_request_duration_seconds"),
        Some("histogram")
    );
    assert_eq!(
        value(
            &samples,
            "lvzhi_http_request_duration_seconds_count",
            &[("route", "/api/v1/periods/{year}/results")]
        ),
        Some(2.0)
    );
    assert!(
        value(
            &samples,
            "lvzhi_http_request_duration_seconds_bucket",
            &[("route", "/api/v1/periods/{year}/results"), ("le", "+Inf")]
        ) == Some(2.0)
    );
    // The store's figures.
    assert!(value(&samples, "lvzhi_writes_total", &[]).unwrap_or(0.0) >= 1.0);
    assert_eq!(
        value(&samples, "lvzhi_login_failures_total", &[]),
        Some(1.0)
    );
    assert_eq!(value(&samples, "lvzhi_account_locks_total", &[]), Some(0.0));
    assert!(value(&samples, "lvzhi_period_loads_total", &[]).unwrap_or(0.0) >= 1.0);
    assert!(value(&samples, "lvzhi_period_read_seconds_total", &[]).unwrap_or(0.0) > 0.0);
    let max = value(&samples, "lvzhi_db_pool_max_connections", &[]).expect("pool max");
    let in_use = value(
        &samples,
        "lvzhi_db_pool_connections",
        &[("state", "in_use")],
    )
    .expect("in use");
    assert!(
        max >= 1.0 && (0.0..=max).contains(&in_use),
        "{max} {in_use}"
    );
    // The sample year's trail was checkpointed at start; no backup is scheduled, so no age.
    let age = value(&samples, "lvzhi_audit_checkpoint_age_seconds", &[]).expect("checkpoint age");
    assert!((0.0..600.0).contains(&age), "{age}");
    assert_eq!(value(&samples, "lvzhi_backup_age_seconds", &[]), None);
    assert_eq!(value(&samples, "lvzhi_backup_last_failed", &[]), Some(0.0));
    assert_eq!(
        value(
            &samples,
            "lvzhi_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
}
