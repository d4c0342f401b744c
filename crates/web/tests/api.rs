//! The API through `oneshot` on a fresh SQLite store per test: authentication, every way a body can
//! be wrong, rubric violations that change nothing, version conflicts, what each role may not do,
//! headers on every route, and the OpenAPI document against the router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lvzhi_store::{Actor, Role, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

struct T {
    app: axum::Router,
    store: Store,
    admin: String,
    leader: String,
    assessor: String,
    _dir: tempfile::TempDir,
}

async fn setup() -> T {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(&Store::sqlite_url(dir.path()))
        .await
        .expect("store");
    let sys = Actor::new("test", "test");
    store
        .ensure_period(lvzhi_core::RUBRIC_2022, &sys)
        .await
        .expect("period");
    let mut tokens = Vec::new();
    for (name, role, group) in [
        ("admin", Role::Admin, None),
        ("leader", Role::Leader, None),
        ("g1", Role::Assessor, Some("第一督导组")),
    ] {
        store
            .create_user(name, role, None, group, "Strong-Pass-2022", false, &sys)
            .await
            .expect("user");
        tokens.push(store.create_token(name, "t", &sys).await.expect("token"));
    }
    let app = lvzhi_web::app(lvzhi_web::AppState {
        store: store.clone(),
    });
    T {
        app,
        store,
        admin: tokens[0].clone(),
        leader: tokens[1].clone(),
        assessor: tokens[2].clone(),
        _dir: dir,
    }
}

async fn call(
    t: &T,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(tok) = token {
        req = req.header("authorization", format!("Bearer {tok}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .expect("request");
    let resp = t.app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value, headers)
}

const REC: &str = "/api/v1/periods/2022/records";

#[tokio::test]
async fn authentication() {
    let t = setup().await;
    assert_eq!(
        call(&t, "GET", "/healthz", None, None).await.0,
        StatusCode::OK
    );
    for uri in [
        "/api/v1/periods",
        REC,
        "/api/v1/periods/2022/results",
        "/api/v1/audit",
    ] {
        let (s, v, _) = call(&t, "GET", uri, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("未登录")),
            "{v}"
        );
        assert_eq!(
            call(&t, "GET", uri, Some("lvz_forged"), None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        call(&t, "GET", "/api/v1/periods", Some(&t.admin), None)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_bodies_are_refused_and_change_nothing() {
    let t = setup().await;
    let before = t.store.audit_page(None, 500).await.expect("audit").len();
    let cases: Vec<(&str, StatusCode, Option<&str>)> = vec![
        ("{not json", StatusCode::BAD_REQUEST, None),
        (
            r#"{"unit": 1, "rule": "2.1"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unit"),
        ),
        (r#"{"rule": "2.1"}"#, StatusCode::UNPROCESSABLE_ENTITY, None),
        (
            r#"{"unit": "发改委", "rule": "2.1", "extra": 1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            r#"{"unit": "发改委", "rule": "9.9"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("rule"),
        ),
        (
            r#"{"unit": "发改委", "rule": "1.1", "points": 11}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("points"),
        ),
        (
            r#"{"unit": "发改委", "rule": "1.1", "points": "1.125"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("points"),
        ),
        (
            r#"{"unit": "发改委", "rule": "2.3", "count": 0}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("count"),
        ),
        (
            r#"{"unit": "发改委", "rule": "2.3", "count": 1.5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("count"),
        ),
        (
            r#"{"unit": "发改委", "rule": "2.4", "date": "2021-01-01"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("date"),
        ),
        (
            r#"{"unit": "发改委", "rule": "5.1"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("rule"),
        ),
        (
            r#"{"unit": "应急管理局", "rule": "4.4"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("rule"),
        ),
        (
            r#"{"unit": "外单位", "rule": "2.4"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unit"),
        ),
    ];
    for (body, status, field) in cases {
        let (s, v, _) = call(&t, "POST", REC, Some(&t.admin), Some(body)).await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}: {v}"
        );
        if let Some(f) = field {
            assert_eq!(v["error"]["field"], f, "{body}: {v}");
        }
    }
    // No content type, and an oversize body.
    let req = Request::builder()
        .method("POST")
        .uri(REC)
        .header("authorization", format!("Bearer {}", t.admin))
        .body(Body::from(r#"{"unit":"发改委","rule":"2.1"}"#))
        .expect("req");
    assert_eq!(
        t.app.clone().oneshot(req).await.expect("resp").status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = format!(
        r#"{{"unit":"发改委","rule":"2.4","note":"{}"}}"#,
        "长".repeat(600_000)
    );
    assert_eq!(
        call(&t, "POST", REC, Some(&t.admin), Some(&huge)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Nothing was stored, nothing audited.
    let (_, v, _) = call(&t, "GET", REC, Some(&t.admin), None).await;
    assert_eq!(v["records"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        t.store.audit_page(None, 500).await.expect("audit").len(),
        before
    );
}

#[tokio::test]
async fn records_revocation_and_conflicts() {
    let t = setup().await;
    let (s, v, _) = call(&t, "POST", REC, Some(&t.admin), Some(r#"{"unit":"发改委","rule":"2.3","count":"3","date":"2022-04-01","source":"张安办〔2022〕8号"}"#)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["record"]["id"].as_i64().expect("id");
    let (_, r, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/results",
        Some(&t.leader),
        None,
    )
    .await;
    let unit = r["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|u| u["unit"] == "发改委")
        .expect("unit")
        .clone();
    assert_eq!(unit["categories"][1]["score"], "19.4");
    // The sheet explains the line with its record.
    let (s, sheet, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/units/发改委/sheet",
        Some(&t.leader),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let line = &sheet["categories"][1]["lines"][0];
    assert_eq!(
        (
            line["rule"].as_str(),
            line["points"].as_str(),
            line["count"].as_u64()
        ),
        (Some("2.3"), Some("0.6"), Some(3))
    );
    assert_eq!(line["records"][0]["source"], "张安办〔2022〕8号");
    assert_eq!(sheet["incomplete"].as_array().map(Vec::len), Some(3));
    // Revoke: a reason is required; a stale version is a conflict; a second revoke too.
    let uri = format!("{REC}/{id}/revoke");
    assert_eq!(
        call(&t, "POST", &uri, Some(&t.admin), Some(r#"{"reason":""}"#))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(
            &t,
            "POST",
            &uri,
            Some(&t.admin),
            Some(r#"{"reason":"误录","version":7}"#)
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (s, v, _) = call(&t, "POST", &uri, Some(&t.admin), Some(r#"{"reason":"误录","version":1,"replacement":{"unit":"发改委","rule":"2.3","count":2}}"#)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["replacement"]["replaces"], id);
    assert_eq!(
        call(
            &t,
            "POST",
            &uri,
            Some(&t.admin),
            Some(r#"{"reason":"再撤"}"#)
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (_, sheet, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/units/发改委/sheet",
        Some(&t.leader),
        None,
    )
    .await;
    assert_eq!(sheet["history"][0]["id"], id);
    assert_eq!(sheet["categories"][1]["score"], "19.6");
    assert_eq!(
        call(
            &t,
            "POST",
            &format!("{REC}/999999/revoke"),
            Some(&t.admin),
            Some(r#"{"reason":"x"}"#)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Filters.
    let (_, v, _) = call(
        &t,
        "GET",
        &format!("{REC}?status=revoked"),
        Some(&t.admin),
        None,
    )
    .await;
    assert_eq!(v["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        call(
            &t,
            "GET",
            &format!("{REC}?status=gone"),
            Some(&t.admin),
            None
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&t, "GET", &format!("{REC}?bogus=1"), Some(&t.admin), None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            &t,
            "GET",
            "/api/v1/periods/abc/records",
            Some(&t.admin),
            None
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            &t,
            "GET",
            "/api/v1/periods/2031/records",
            Some(&t.admin),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn roles_scores_metrics_and_units() {
    let t = setup().await;
    // A leader reads but does not write.
    assert_eq!(
        call(
            &t,
            "POST",
            REC,
            Some(&t.leader),
            Some(r#"{"unit":"发改委","rule":"2.4"}"#)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &t,
            "PUT",
            "/api/v1/periods/2022/metrics",
            Some(&t.leader),
            Some(r#"{"unit":"发改委","metric":"hazard_entries","value":"1"}"#)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // An assessor's score goes under its own group, whatever the body says.
    let (s, v, _) = call(
        &t,
        "PUT",
        "/api/v1/periods/2022/assessments",
        Some(&t.assessor),
        Some(r#"{"unit":"发改委","rule":"3.4.1","assessor":"第八督导组","score":4.5}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["assessment"]["assessor"], "第一督导组");
    let (s, _, _) = call(
        &t,
        "PUT",
        "/api/v1/periods/2022/assessments",
        Some(&t.assessor),
        Some(r#"{"unit":"发改委","rule":"3.4.1","assessor":"x","score":"4.6","version":0}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v, _) = call(
        &t,
        "PUT",
        "/api/v1/periods/2022/assessments",
        Some(&t.admin),
        Some(r#"{"unit":"发改委","rule":"3.4.1","assessor":"第二督导组","score":"6"}"#),
    )
    .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("score"))
    );
    let (s, v, _) = call(
        &t,
        "PUT",
        "/api/v1/periods/2022/metrics",
        Some(&t.admin),
        Some(r#"{"unit":"发改委","metric":"hazard_entries","value":"120"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Units: admin only; tags make 专委会 rules apply.
    let uri = "/api/v1/periods/2022/units/应急管理局";
    assert_eq!(
        call(
            &t,
            "PATCH",
            uri,
            Some(&t.leader),
            Some(r#"{"tags":["专委会"]}"#)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &t,
            "PATCH",
            uri,
            Some(&t.admin),
            Some(r#"{"tags":["专委会"]}"#)
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &t,
            "POST",
            REC,
            Some(&t.admin),
            Some(r#"{"unit":"应急管理局","rule":"4.4","count":2}"#)
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        call(&t, "PATCH", uri, Some(&t.admin), Some(r#"{"tags":[]}"#))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(
            &t,
            "PATCH",
            "/api/v1/periods/2022/units/无此单位",
            Some(&t.admin),
            Some(r#"{"tags":[]}"#)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // The audit trail: admin and leader only, paged.
    assert_eq!(
        call(&t, "GET", "/api/v1/audit", Some(&t.assessor), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (s, v, _) = call(&t, "GET", "/api/v1/audit?limit=2", Some(&t.admin), None).await;
    assert_eq!(s, StatusCode::OK);
    let next = v["next_before"].as_i64().expect("more pages");
    let (_, v2, _) = call(
        &t,
        "GET",
        &format!("/api/v1/audit?limit=2&before={next}"),
        Some(&t.admin),
        None,
    )
    .await;
    assert!(v2["entries"][0]["id"].as_i64().expect("id") < next);
    assert_eq!(
        call(&t, "GET", "/api/v1/audit?limit=0", Some(&t.admin), None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn headers_on_every_route_and_openapi_matches_router() {
    let t = setup().await;
    let doc: Value = serde_json::from_str(lvzhi_web::OPENAPI).expect("openapi is JSON");
    let paths = doc["paths"].as_object().expect("paths");
    let mut n = 0;
    for (path, ops) in paths {
        for (method, _) in ops.as_object().expect("ops") {
            let uri = path
                .replace("{year}", "2022")
                .replace("{name}", "发改委")
                .replace("{id}", "1");
            let body = (method != "get").then_some("{}");
            let (s, _, h) = call(&t, &method.to_uppercase(), &uri, Some(&t.admin), body).await;
            assert_ne!(
                s,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
            assert!(
                s != StatusCode::NOT_FOUND || uri.contains("/revoke"),
                "{method} {path}: {s}"
            );
            for header in [
                "x-content-type-options",
                "content-security-policy",
                "x-frame-options",
                "referrer-policy",
            ] {
                assert!(h.contains_key(header), "{method} {path} lacks {header}");
            }
            n += 1;
        }
    }
    assert_eq!(n, 12, "documented operations");
    let (s, v, h) = call(&t, "GET", "/nowhere", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["error"]["message"].is_string());
    assert!(h.contains_key("content-security-policy"));
    let (_, v, _) = call(&t, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(v["openapi"], json!("3.1.0"));
}
