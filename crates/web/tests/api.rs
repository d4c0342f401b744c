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
    let (anchor, _) = lvzhi_store::Anchor::open(
        &dir.path().join("keys"),
        dir.path().join(lvzhi_store::CHECKPOINT_FILE),
        false,
    )
    .expect("seal");
    let store = Store::open(&Store::sqlite_url(dir.path()))
        .await
        .expect("store")
        .with_anchor(anchor);
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
    store
        .set_group_units("第一督导组", &["发改委".to_owned()], &sys)
        .await
        .expect("group");
    let app = lvzhi_web::app(lvzhi_web::AppState::new(store.clone()));
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
    // Ready: the database reachable and at this program's version; no login needed.
    let (status, body, _) = call(&t, "GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
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
        StatusCode::NOT_FOUND
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
            let (s, v, h) = call(&t, &method.to_uppercase(), &uri, Some(&t.admin), body).await;
            assert_ne!(
                s,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
            // A missing resource may be 404; the router's fallback must never answer.
            assert_ne!(
                v["error"]["message"].as_str(),
                Some("没有这个地址"),
                "{method} {path} reached the fallback"
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
    assert_eq!(n, documented_operations().len(), "documented operations");
    // An unknown API address answers JSON; an unknown page answers a page.
    let (s, v, h) = call(&t, "GET", "/api/v1/nowhere", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["error"]["message"].is_string());
    assert!(h.contains_key("content-security-policy"));
    let (s, v, h) = call(&t, "GET", "/nowhere", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v, Value::Null, "not JSON");
    assert!(
        h["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert!(h.contains_key("content-security-policy"));
    let (_, v, _) = call(&t, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(v["openapi"], json!("3.1.0"));
}

/// Every (method, path) the OpenAPI document describes.
fn documented_operations() -> std::collections::BTreeSet<(String, String)> {
    let doc: Value = serde_json::from_str(lvzhi_web::OPENAPI).expect("openapi is JSON");
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("ops")
                .keys()
                .map(|m| (m.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every (method, path) the API's router serves, read from its sources (`.route("…", get(…)…)`).
fn served_operations() -> std::collections::BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut out = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("src/api") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        let chunks: Vec<&str> = text.split(".route(").skip(1).collect();
        for chunk in chunks {
            let path = chunk
                .split('"')
                .nth(1)
                .expect("a route starts with its path");
            // The route's own text: up to the next `.merge(` or the end of `routes()`.
            let body = chunk.split(".merge(").next().unwrap_or(chunk);
            let body = body.split("\n}").next().unwrap_or(body);
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = body
                    .match_indices(&format!("{method}("))
                    .any(|(i, _)| !body[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if called {
                    out.insert((method.to_owned(), path.to_owned()));
                }
            }
        }
    }
    out
}

/// The OpenAPI document and the router agree both ways: every documented operation is served
/// (checked by calling it above) and every served one is documented.
#[test]
fn every_served_route_is_documented() {
    let served = served_operations();
    let documented = documented_operations();
    assert!(served.len() > 40, "{served:?}");
    let missing: Vec<_> = served.difference(&documented).collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
}

fn multipart(name: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----lvzhi-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(t: &T, token: &str, record: i64, name: &str, data: &[u8]) -> (StatusCode, Value) {
    let (ct, body) = multipart(name, data);
    let req = Request::builder()
        .method("POST")
        .uri(format!("{REC}/{record}/attachments"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", ct)
        .body(Body::from(body))
        .expect("req");
    let resp = t.app.clone().oneshot(req).await.expect("resp");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn evidence_attachments() {
    let t = setup().await;
    let (_, v, _) = call(
        &t,
        "POST",
        REC,
        Some(&t.admin),
        Some(r#"{"unit":"发改委","rule":"2.4"}"#),
    )
    .await;
    let id = v["record"]["id"].as_i64().expect("id");
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let (s, v) = upload(&t, &t.admin, id, "张安办〔2022〕3号 通报.pdf", &pdf).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["attachment"]["mime"], "application/pdf");
    let aid = v["attachment"]["id"].as_i64().expect("attachment id");
    // The same content again is stored once, linked twice.
    assert_eq!(
        upload(&t, &t.admin, id, "副本.pdf", &pdf).await.0,
        StatusCode::CREATED
    );
    let (_, list, _) = call(
        &t,
        "GET",
        &format!("{REC}/{id}/attachments"),
        Some(&t.leader),
        None,
    )
    .await;
    let list = list["attachments"].as_array().expect("list").clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["hash"], list[1]["hash"]);
    // Download: same bytes, type from the content, a safe disposition.
    let req = Request::builder()
        .uri(format!("/api/v1/periods/2022/attachments/{aid}"))
        .header("authorization", format!("Bearer {}", t.leader))
        .body(Body::empty())
        .expect("req");
    let resp = t.app.clone().oneshot(req).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename*=UTF-8''%E5%BC%A0"),
        "{disposition}"
    );
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        resp.into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .as_ref(),
        pdf.as_slice()
    );
    // Refused: a program named .pdf, an empty file, a record that does not exist, a reader, too large.
    let (s, v) = upload(&t, &t.admin, id, "通报.pdf", b"MZ\x90\x00this is a program").await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("file")),
        "{v}"
    );
    assert_eq!(
        upload(&t, &t.admin, id, "空.pdf", b"").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        upload(&t, &t.admin, 99_999, "a.pdf", &pdf).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        upload(&t, &t.leader, id, "a.pdf", &pdf).await.0,
        StatusCode::FORBIDDEN
    );
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(lvzhi_store::MAX_ATTACHMENT + 100_000, b' ');
    assert_eq!(
        upload(&t, &t.admin, id, "大.pdf", &big).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        call(
            &t,
            "GET",
            "/api/v1/periods/2022/attachments/999",
            Some(&t.admin),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

async fn send(t: &T, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
    let resp = t.app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

fn login_req(user: &str, pw: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/api/v1/session")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"username": user, "password": pw}).to_string(),
        ))
        .expect("req")
}

#[tokio::test]
async fn sessions_in_the_database() {
    let t = setup().await;
    // Unknown user and wrong password: the same answer.
    let (s1, v1, _) = send(&t, login_req("admin", "Wrong-Pass-2022")).await;
    let (s2, v2, _) = send(&t, login_req("nobody", "Strong-Pass-2022")).await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(v1, v2);
    let (s, v, h) = send(&t, login_req("admin", "Strong-Pass-2022")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["user"]["role"], "admin");
    let set = h["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = set.split(';').next().expect("pair").to_owned();
    let with_cookie = |method: &str, uri: &str, extra: &[(&str, &str)], body: Option<&str>| {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", &cookie)
            .header("host", "lvzhi.local");
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        b.body(body.map_or_else(Body::empty, |x| Body::from(x.to_owned())))
            .expect("req")
    };
    assert_eq!(
        send(&t, with_cookie("GET", "/api/v1/periods", &[], None))
            .await
            .0,
        StatusCode::OK
    );
    let rec = Some(r#"{"unit":"发改委","rule":"2.4"}"#);
    // Cross-site writes with the cookie are refused; same-site ones pass.
    assert_eq!(
        send(
            &t,
            with_cookie("POST", REC, &[("origin", "http://evil.example")], rec)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(
            &t,
            with_cookie("POST", REC, &[("sec-fetch-site", "cross-site")], rec)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, v, _) = send(
        &t,
        with_cookie(
            "POST",
            REC,
            &[
                ("origin", "http://lvzhi.local"),
                ("sec-fetch-site", "same-origin"),
            ],
            rec,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Logout ends the session on the server: the same cookie no longer works.
    let (s, _, h) = send(
        &t,
        with_cookie(
            "DELETE",
            "/api/v1/session",
            &[("sec-fetch-site", "same-origin")],
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["set-cookie"]
            .to_str()
            .expect("cookie")
            .contains("Max-Age=0")
    );
    assert_eq!(
        send(&t, with_cookie("GET", "/api/v1/periods", &[], None))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // Every login attempt is audited, without the password.
    let audit = t.store.audit_page(None, 50).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    for a in ["session.login_failed", "session.login", "session.logout"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        audit
            .iter()
            .all(|e| !format!("{e:?}").contains("Strong-Pass-2022"))
    );
}

#[tokio::test]
async fn a_unit_sees_its_own_and_nothing_else() {
    let t = setup().await;
    let sys = Actor::new("test", "test");
    t.store
        .create_user(
            "fgw",
            Role::Unit,
            Some("发改委"),
            None,
            "Strong-Pass-2022",
            false,
            &sys,
        )
        .await
        .expect("user");
    let unit = t.store.create_token("fgw", "t", &sys).await.expect("token");
    // One record for each unit, with evidence.
    let mut ids = Vec::new();
    for u in ["发改委", "教育局"] {
        let (_, v, _) = call(
            &t,
            "POST",
            REC,
            Some(&t.admin),
            Some(&format!(r#"{{"unit":"{u}","rule":"2.4"}}"#)),
        )
        .await;
        ids.push(v["record"]["id"].as_i64().expect("id"));
    }
    let pdf = b"%PDF-1.4\n%%EOF\n";
    let (_, own_att) = upload(&t, &t.admin, ids[0], "own.pdf", pdf).await;
    let (_, other_att) = upload(&t, &t.admin, ids[1], "other.pdf", pdf).await;
    let (own_att, other_att) = (
        own_att["attachment"]["id"].as_i64().expect("id"),
        other_att["attachment"]["id"].as_i64().expect("id"),
    );

    // Own unit: allowed. Other unit: 403, for every endpoint that takes a unit or an id.
    let ok = |s: StatusCode| s.is_success();
    assert!(ok(call(
        &t,
        "GET",
        "/api/v1/periods/2022/units/发改委/sheet",
        Some(&unit),
        None
    )
    .await
    .0));
    assert_eq!(
        call(
            &t,
            "GET",
            "/api/v1/periods/2022/units/教育局/sheet",
            Some(&unit),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert!(ok(call(
        &t,
        "GET",
        &format!("{REC}?unit=发改委"),
        Some(&unit),
        None
    )
    .await
    .0));
    assert_eq!(
        call(&t, "GET", &format!("{REC}?unit=教育局"), Some(&unit), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, v, _) = call(&t, "GET", REC, Some(&unit), None).await;
    let units: Vec<&str> = v["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["unit"].as_str())
        .collect();
    assert_eq!(
        units,
        vec!["发改委"],
        "an unfiltered list holds only the unit's own records"
    );
    assert!(ok(call(
        &t,
        "GET",
        &format!("{REC}/{}/attachments", ids[0]),
        Some(&unit),
        None
    )
    .await
    .0));
    assert_eq!(
        call(
            &t,
            "GET",
            &format!("{REC}/{}/attachments", ids[1]),
            Some(&unit),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert!(ok(call(
        &t,
        "GET",
        &format!("/api/v1/periods/2022/attachments/{own_att}"),
        Some(&unit),
        None
    )
    .await
    .0));
    assert_eq!(
        call(
            &t,
            "GET",
            &format!("/api/v1/periods/2022/attachments/{other_att}"),
            Some(&unit),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(&t, &unit, ids[0], "mine.pdf", pdf).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        upload(&t, &unit, ids[1], "theirs.pdf", pdf).await.0,
        StatusCode::FORBIDDEN
    );
    // A unit never writes the ledger, reads the ranking or the audit trail.
    assert_eq!(
        call(
            &t,
            "POST",
            REC,
            Some(&unit),
            Some(r#"{"unit":"发改委","rule":"2.6"}"#)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &t,
            "POST",
            &format!("{REC}/{}/revoke", ids[0]),
            Some(&unit),
            Some(r#"{"reason":"x"}"#)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&t, "GET", "/api/v1/periods/2022/results", Some(&unit), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&t, "GET", "/api/v1/audit", Some(&unit), None).await.0,
        StatusCode::FORBIDDEN
    );
    // An assessor scores and reads the units its group supervises only.
    let body = |u: &str| format!(r#"{{"unit":"{u}","rule":"3.4.1","assessor":"x","score":"4"}}"#);
    assert!(ok(call(
        &t,
        "PUT",
        "/api/v1/periods/2022/assessments",
        Some(&t.assessor),
        Some(&body("发改委"))
    )
    .await
    .0));
    assert_eq!(
        call(
            &t,
            "PUT",
            "/api/v1/periods/2022/assessments",
            Some(&t.assessor),
            Some(&body("教育局"))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &t,
            "GET",
            "/api/v1/periods/2022/units/教育局/sheet",
            Some(&t.assessor),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // Every refusal is in the audit trail.
    let refused = t
        .store
        .audit_page(None, 200)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action == "authz.refused")
        .count();
    assert_eq!(refused, 11, "every refusal audited");
}

fn login_from(user: &str, pw: &str, ip: [u8; 4]) -> Request<Body> {
    let mut req = login_req(user, pw);
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 40000,
        ))));
    req
}

#[tokio::test]
async fn lockout_rate_limit_and_password_rules() {
    let t = setup().await;
    // Five wrong passwords lock the account: then even the right one is refused, with the same message.
    for i in 0..5u8 {
        let (s, _, _) = send(&t, login_from("leader", "Wrong-Pass-2022", [10, 0, 0, i])).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, locked, _) = send(&t, login_from("leader", "Strong-Pass-2022", [10, 0, 1, 1])).await;
    let (_, unknown, _) = send(&t, login_from("nobody", "Strong-Pass-2022", [10, 0, 1, 2])).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "locked");
    assert_eq!(
        locked, unknown,
        "a locked account and an unknown user get the same answer"
    );
    let actions: Vec<String> = t
        .store
        .audit_page(None, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.iter().any(|a| a == "session.locked")
            && actions.iter().any(|a| a == "session.login_locked"),
        "{actions:?}"
    );
    // One address gets ten attempts a minute; the eleventh is 429 before any password check.
    let mut last = (StatusCode::OK, Value::Null, axum::http::HeaderMap::new());
    for _ in 0..11 {
        last = send(
            &t,
            login_from("nobody", "Wrong-Pass-2022", [192, 168, 9, 9]),
        )
        .await;
    }
    assert_eq!(last.0, StatusCode::TOO_MANY_REQUESTS);
    // Finding 7: a 429 says when to try again.
    assert_eq!(
        last.2.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("60"),
        "{:?}",
        last.2
    );
    assert_eq!(
        send(
            &t,
            login_from("admin", "Strong-Pass-2022", [192, 168, 9, 10])
        )
        .await
        .0,
        StatusCode::OK,
        "another address still may"
    );

    // A generated password must be changed before the session can do anything else.
    let sys = Actor::new("test", "test");
    t.store
        .create_user(
            "newbie",
            Role::Leader,
            None,
            None,
            "Initial-Pass-2022",
            true,
            &sys,
        )
        .await
        .expect("user");
    let (s, v, h) = send(&t, login_from("newbie", "Initial-Pass-2022", [10, 9, 9, 9])).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["user"]["must_change_password"], true);
    let cookie = h["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let req = |method: &str, uri: &str, body: Option<String>| {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin");
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        b.body(body.map_or_else(Body::empty, Body::from))
            .expect("req")
    };
    assert_eq!(
        send(&t, req("GET", "/api/v1/periods", None)).await.0,
        StatusCode::FORBIDDEN
    );
    let change =
        |old: &str, new: &str| Some(json!({"old_password": old, "new_password": new}).to_string());
    let (s, v, _) = send(
        &t,
        req(
            "POST",
            "/api/v1/session/password",
            change("Initial-Pass-2022", "short"),
        ),
    )
    .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("new_password"))
    );
    let (s, v, _) = send(
        &t,
        req(
            "POST",
            "/api/v1/session/password",
            change("Initial-Pass-2022", "Admin@123456"),
        ),
    )
    .await;
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("常见")),
        "{s} {v}"
    );
    let (s, v, _) = send(
        &t,
        req(
            "POST",
            "/api/v1/session/password",
            change("wrong-old-1A", "Better-Pass-2023"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a wrong current password: {v}");
    let (s, _, _) = send(
        &t,
        req(
            "POST",
            "/api/v1/session/password",
            change("Initial-Pass-2022", "Better-Pass-2023"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        send(&t, req("GET", "/api/v1/periods", None)).await.0,
        StatusCode::OK,
        "usable once changed"
    );
}

#[tokio::test]
async fn account_administration() {
    let t = setup().await;
    // Only an admin manages accounts.
    assert_eq!(
        call(&t, "GET", "/api/v1/users", Some(&t.leader), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (s, v, _) = call(
        &t,
        "POST",
        "/api/v1/users",
        Some(&t.admin),
        Some(r#"{"username":"jyj","role":"unit","unit":"教育局"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let initial = v["initial_password"]
        .as_str()
        .expect("generated once")
        .to_owned();
    assert_eq!(v["user"]["must_change_password"], true);
    assert!(v["user"].get("password_hash").is_none());
    let (s, v, _) = call(
        &t,
        "POST",
        "/api/v1/users",
        Some(&t.admin),
        Some(r#"{"username":"x","role":"unit"}"#),
    )
    .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unit"))
    );
    assert_eq!(
        call(
            &t,
            "POST",
            "/api/v1/users",
            Some(&t.admin),
            Some(r#"{"username":"jyj","role":"leader","password":"Another-Pass-2022"}"#)
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (s, v, _) = call(
        &t,
        "POST",
        "/api/v1/users",
        Some(&t.admin),
        Some(r#"{"username":"z","role":"leader","password":"Admin@123456"}"#),
    )
    .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    // The new account logs in with its one-time password, then is disabled and can no longer.
    assert_eq!(
        send(&t, login_from("jyj", &initial, [10, 1, 1, 1])).await.0,
        StatusCode::OK
    );
    let (s, v, _) = call(
        &t,
        "PATCH",
        "/api/v1/users/jyj",
        Some(&t.admin),
        Some(r#"{"disabled":true}"#),
    )
    .await;
    assert_eq!(
        (s, v["user"]["disabled"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_eq!(
        send(&t, login_from("jyj", &initial, [10, 1, 1, 2])).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(
            &t,
            "PATCH",
            "/api/v1/users/admin",
            Some(&t.admin),
            Some(r#"{"disabled":true}"#)
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not oneself"
    );
    let (s, v, _) = call(
        &t,
        "PATCH",
        "/api/v1/users/jyj",
        Some(&t.admin),
        Some(r#"{"disabled":false,"reset_password":true}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let reset = v["initial_password"]
        .as_str()
        .expect("new one-time password");
    assert_eq!(
        send(&t, login_from("jyj", reset, [10, 1, 1, 3])).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &t,
            "PATCH",
            "/api/v1/users/nobody",
            Some(&t.admin),
            Some(r#"{"disabled":true}"#)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Groups: only units of the roster.
    let (s, v, _) = call(
        &t,
        "PUT",
        "/api/v1/groups/第二督导组",
        Some(&t.admin),
        Some(r#"{"units":["教育局","科技局"]}"#),
    )
    .await;
    assert_eq!(
        (s, v["units"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(2))
    );
    assert_eq!(
        call(
            &t,
            "PUT",
            "/api/v1/groups/第二督导组",
            Some(&t.admin),
            Some(r#"{"units":["教育部"]}"#)
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(
            &t,
            "PUT",
            "/api/v1/groups/第二督导组",
            Some(&t.leader),
            Some(r#"{"units":[]}"#)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (_, v, _) = call(&t, "GET", "/api/v1/users", Some(&t.admin), None).await;
    assert!(
        v["users"]
            .as_array()
            .expect("users")
            .iter()
            .any(|u| u["name"] == "jyj")
    );
}

/// The lifecycle over HTTP: who may confirm, appeal, decide, publish and reopen, and what a
/// published period answers.
#[tokio::test]
async fn lifecycle_transitions_and_refusals() {
    let t = setup().await;
    let sys = Actor::new("test", "test");
    let mut unit_tokens = Vec::new();
    for (name, unit) in [("fgw", "发改委"), ("jyj", "教育局")] {
        t.store
            .create_user(
                name,
                Role::Unit,
                Some(unit),
                None,
                "Strong-Pass-2022",
                false,
                &sys,
            )
            .await
            .expect("user");
        unit_tokens.push(t.store.create_token(name, "t", &sys).await.expect("token"));
    }
    let (fgw, jyj) = (&unit_tokens[0], &unit_tokens[1]);
    let mut ids = Vec::new();
    for (u, rule) in [("发改委", "2.4"), ("发改委", "2.6"), ("教育局", "2.4")] {
        let (s, v, _) = call(
            &t,
            "POST",
            REC,
            Some(&t.admin),
            Some(&format!(
                r#"{{"unit":"{u}","rule":"{rule}","date":"2022-04-01"}}"#
            )),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["record"]["id"].as_i64().expect("id"));
    }
    let path = |id: i64, what: &str| format!("{REC}/{id}/{what}");
    // Only the office confirms.
    for tok in [&t.leader, &t.assessor, fgw] {
        let (s, _, _) = call(&t, "POST", &path(ids[0], "confirm"), Some(tok), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, v, _) = call(&t, "POST", &path(ids[0], "confirm"), Some(&t.admin), None).await;
    assert_eq!(
        (s, v["record"]["status"].as_str()),
        (StatusCode::OK, Some("confirmed")),
        "{v}"
    );
    let (s, v, _) = call(
        &t,
        "POST",
        &format!("{REC}/confirm"),
        Some(&t.admin),
        Some(&format!(r#"{{"ids":[{}]}}"#, ids[2])),
    )
    .await;
    assert_eq!(
        (s, v["confirmed"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    // Official and provisional results differ by the unconfirmed record (2.6, 0.5 points).
    let (_, all, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/results",
        Some(&t.leader),
        None,
    )
    .await;
    let (_, official, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/results?basis=confirmed",
        Some(&t.leader),
        None,
    )
    .await;
    let total = |v: &Value, unit: &str| {
        v["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["unit"] == unit)
            .map(|r| r["total"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(total(&all, "发改委").as_deref(), Some("98.50"));
    assert_eq!(total(&official, "发改委").as_deref(), Some("99.00"));
    let (s, _, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/results?as_of=2022-02-30",
        Some(&t.leader),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, early, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/results?as_of=2022-03-31",
        Some(&t.leader),
        None,
    )
    .await;
    assert_eq!(total(&early, "发改委").as_deref(), Some("100.00"));

    // A unit appeals its own confirmed record only.
    let appeal = r#"{"reason":"已纳入学习内容，见会议记录"}"#;
    let (s, _, _) = call(&t, "POST", &path(ids[0], "appeal"), Some(jyj), Some(appeal)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another unit's record");
    let (s, _, _) = call(
        &t,
        "POST",
        &path(ids[0], "appeal"),
        Some(&t.admin),
        Some(appeal),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the office does not appeal");
    let (s, v, _) = call(&t, "POST", &path(ids[1], "appeal"), Some(fgw), Some(appeal)).await;
    assert_eq!(s, StatusCode::CONFLICT, "not confirmed yet: {v}");
    let (s, v, _) = call(&t, "POST", &path(ids[0], "appeal"), Some(fgw), Some(appeal)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A unit sees its own appeals only; the office sees all.
    let (_, mine, _) = call(&t, "GET", "/api/v1/periods/2022/appeals", Some(jyj), None).await;
    assert_eq!(mine["appeals"].as_array().map(Vec::len), Some(0));
    let (_, every, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/appeals",
        Some(&t.admin),
        None,
    )
    .await;
    assert_eq!(every["appeals"].as_array().map(Vec::len), Some(1));
    // Only the office decides.
    let decision = r#"{"decision":"upheld","reason":"会议记录未涉及该内容"}"#;
    for tok in [&t.leader, &t.assessor, fgw] {
        let (s, _, _) = call(
            &t,
            "POST",
            &path(ids[0], "decision"),
            Some(tok),
            Some(decision),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, v, _) = call(
        &t,
        "POST",
        &path(ids[0], "decision"),
        Some(&t.admin),
        Some(r#"{"decision":"maybe","reason":"x"}"#),
    )
    .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("decision"))
    );
    let (s, v, _) = call(
        &t,
        "POST",
        &path(ids[0], "decision"),
        Some(&t.admin),
        Some(decision),
    )
    .await;
    assert_eq!(
        (s, v["appeal"]["decision"].as_str()),
        (StatusCode::OK, Some("upheld")),
        "{v}"
    );
    // An appeal after the window: with a window of 0 days it has closed already.
    let (s, _, _) = call(
        &t,
        "PUT",
        "/api/v1/periods/2022/settings",
        Some(&t.leader),
        Some(r#"{"appeal_days":0,"decision_days":5}"#),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(
        &t,
        "PUT",
        "/api/v1/periods/2022/settings",
        Some(&t.admin),
        Some(r#"{"appeal_days":0,"decision_days":5}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v, _) = call(&t, "POST", &path(ids[2], "appeal"), Some(jyj), Some(appeal)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("申诉期已于")),
        "{v}"
    );
    // The unit was told, in the application.
    let (_, notes, _) = call(&t, "GET", "/api/v1/notifications", Some(fgw), None).await;
    let kinds: Vec<&str> = notes["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"appeal.decided") && kinds.contains(&"record.confirmed"),
        "{notes}"
    );

    // Publication: refused with an unconfirmed record unless acknowledged; by the office only.
    let (s, v, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/publish",
        Some(&t.admin),
        Some(r#"{"reason":"经审定"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/publish",
        Some(&t.leader),
        Some(r#"{"reason":"经审定","acknowledge_incomplete":true}"#),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/publish",
        Some(&t.admin),
        Some(r#"{"reason":"经审定；督导组打分另行补充","acknowledge_incomplete":true}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let hash = v["hash"].as_str().expect("hash").to_owned();
    let req = Request::builder()
        .uri("/api/v1/periods/2022/publications/1")
        .header("authorization", format!("Bearer {}", t.leader))
        .body(Body::empty())
        .expect("request");
    let resp = t.app.clone().oneshot(req).await.expect("response");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(lvzhi_store::sha256_hex(&body), hash);
    // Signed by the office: the signature checks over exactly the bytes served.
    let (s, sig, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/publications/1/signature",
        Some(&t.leader),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{sig}");
    assert_eq!(sig["algorithm"], "SM2-SM3");
    let der = lvzhi_seal::from_base64(sig["signature_base64"].as_str().expect("sig")).expect("b64");
    let pem = sig["public_key_pem"].as_str().expect("pem");
    lvzhi_seal::verify(pem, &body, &der).expect("the signature holds");
    assert!(lvzhi_seal::verify(pem, &body[1..], &der).is_err());
    let (s, _, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/publications/2/signature",
        Some(&t.leader),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A write into the published period: 409, whoever asks.
    let (s, _, _) = call(
        &t,
        "POST",
        REC,
        Some(&t.admin),
        Some(r#"{"unit":"发改委","rule":"2.8"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _, _) = call(&t, "POST", &path(ids[1], "confirm"), Some(&t.admin), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Reopen: the office, with a reason.
    let (s, _, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/reopen",
        Some(&t.leader),
        Some(r#"{"reason":"更正"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/reopen",
        Some(&t.admin),
        Some(r#"{"reason":"更正发改委记录"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&t, "POST", &path(ids[1], "confirm"), Some(&t.admin), None).await;
    assert_eq!(s, StatusCode::OK);
    // What-if: nothing stored; 发改委 would lose one more point.
    let (s, v, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/what-if",
        Some(&t.leader),
        Some(r#"{"records":[{"unit":"发改委","rule":"2.8"}]}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let row = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["unit"] == "发改委")
        .expect("row")
        .clone();
    assert_eq!(
        (row["before_total"].as_str(), row["after_total"].as_str()),
        (Some("98.50"), Some("97.50"))
    );
    let (_, after, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/results",
        Some(&t.leader),
        None,
    )
    .await;
    assert_eq!(total(&after, "发改委").as_deref(), Some("98.50"));
    let (s, v, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/units/发改委/trend",
        Some(fgw),
        None,
    )
    .await;
    assert_eq!(
        (s, v["months"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(12))
    );
    let (s, _, _) = call(
        &t,
        "GET",
        "/api/v1/periods/2022/units/教育局/trend",
        Some(fgw),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// An import through the API: multipart field `file`, query as given.
async fn import_csv(t: &T, query: &str, csv: &str) -> (StatusCode, Value) {
    let (ct, body) = multipart("records.csv", csv.as_bytes());
    let req = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/periods/2022/import/records{query}"))
        .header("authorization", format!("Bearer {}", t.admin))
        .header("content-type", ct)
        .body(Body::from(body))
        .expect("request");
    let (s, v, _) = send(t, req).await;
    (s, v)
}

/// Issue 12: the same file imported twice is refused, naming the earlier import; rows equal to a
/// record in force are listed as probable duplicates and imported only as the person chooses.
#[tokio::test]
async fn imports_are_idempotent_and_name_probable_duplicates() {
    let t = setup().await;
    let total = |v: &Value| v["total"].as_u64().expect("total");
    let csv = "单位,条款编号,数量,日期,依据\n发改委,2.5,1,2022-04-01,张安办〔2022〕7号\n教育局,2.7,2,2022-04-02,张安办〔2022〕8号\n";
    let (s, v) = import_csv(&t, "", csv).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["imported"], 2, "{v}");
    let (_, list, _) = call(&t, "GET", REC, Some(&t.admin), None).await;
    assert_eq!(total(&list), 2);
    // The same bytes again: refused, naming when and by whom, and nothing imported.
    let (s, v) = import_csv(&t, "", csv).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let m = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("同一文件已于") && m.contains("admin") && m.contains("records.csv"),
        "{m}"
    );
    let (s, v) = import_csv(&t, "?dry_run=true", csv).await;
    assert_eq!(s, StatusCode::CONFLICT, "the check says so too: {v}");
    let (_, list, _) = call(&t, "GET", REC, Some(&t.admin), None).await;
    assert_eq!(total(&list), 2, "nothing was imported twice");

    // Another file with one row equal to a record in force: listed in the check, with the row and
    // the record; refused without a choice; skipped or imported as chosen.
    let first_id = list["records"][0]["id"].as_i64().expect("id");
    let again = "单位,条款编号,数量,日期,依据\n科技局,2.5,1,2022-05-01,张安办〔2022〕9号\n发改委,2.5,1,2022-04-01,张安办〔2022〕7号\n";
    let (s, v) = import_csv(&t, "?dry_run=true", again).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["duplicates"],
        json!([{"row": 2, "line": 3, "existing": [first_id]}]),
        "{v}"
    );
    let (s, v) = import_csv(&t, "", again).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["duplicates"][0]["line"], 3, "{v}");
    let (_, list, _) = call(&t, "GET", REC, Some(&t.admin), None).await;
    assert_eq!(total(&list), 2, "a refused import stores nothing");
    let (s, v) = import_csv(&t, "?duplicates=skip", again).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["imported"].as_u64(), v["skipped"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let (_, list, _) = call(&t, "GET", REC, Some(&t.admin), None).await;
    assert_eq!(total(&list), 3);
    // A third file, the duplicate imported anyway on purpose.
    let third =
        "单位,条款编号,数量,日期,依据,说明\n发改委,2.5,1,2022-04-01,张安办〔2022〕7号,确属第二次\n";
    let (s, v) = import_csv(&t, "?duplicates=import", third).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["imported"], 1, "{v}");
    let (_, list, _) = call(&t, "GET", REC, Some(&t.admin), None).await;
    assert_eq!(total(&list), 4);
    let (s, v) = import_csv(&t, "?duplicates=maybe", "x").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

/// Finding 4 of the external test: a recorder revoked a record the office had confirmed (200),
/// changing the official result without the office. Once confirmed, only the office changes it.
#[tokio::test]
async fn a_recorder_cannot_revoke_a_confirmed_record() {
    let t = setup().await;
    let sys = Actor::new("test", "test");
    t.store
        .create_user(
            "jilu",
            Role::Recorder,
            None,
            None,
            "Strong-Pass-2022",
            false,
            &sys,
        )
        .await
        .expect("recorder");
    let recorder = t
        .store
        .create_token("jilu", "t", &sys)
        .await
        .expect("token");
    let (status, rec, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/records",
        Some(&recorder),
        Some(r#"{"unit":"发改委","rule":"2.5","count":1,"date":"2022-06-01","source":"检查"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rec}");
    let id = rec["id"]
        .as_i64()
        .or_else(|| rec["record"]["id"].as_i64())
        .expect("id");
    // Before confirmation the recorder may still withdraw its own entry's mistake.
    let (status, body, _) = call(
        &t,
        "POST",
        &format!("/api/v1/periods/2022/records/{id}/confirm"),
        Some(&t.admin),
        Some("{}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = call(
        &t,
        "POST",
        &format!("/api/v1/periods/2022/records/{id}/revoke"),
        Some(&recorder),
        Some(r#"{"reason":"录入有误"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, after, _) = call(
        &t,
        "GET",
        &format!("/api/v1/periods/2022/records/{id}"),
        Some(&t.admin),
        None,
    )
    .await;
    assert_eq!(after["record"]["status"], "confirmed", "{after}");
    // The office may.
    let (status, body, _) = call(
        &t,
        "POST",
        &format!("/api/v1/periods/2022/records/{id}/revoke"),
        Some(&t.admin),
        Some(r#"{"reason":"经核实不应扣分"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Finding 3 of the external test: the JSON API accepted a cookie-carried write with no Origin and
/// no Sec-Fetch-Site (`text/plain`, as a form of another site can send), and `POST /api/v1/session`
/// accepted another site's Origin. Bearer calls are unaffected.
#[tokio::test]
async fn cookie_carried_api_writes_need_a_same_origin_proof() {
    let t = setup().await;
    let (status, _, headers) = send(&t, login_req("admin", "Strong-Pass-2022")).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let add = r#"{"unit":"发改委","rule":"2.5","count":1,"date":"2022-06-01","source":"检查"}"#;
    let write = |extra: &[(&str, &str)]| {
        let json = extra
            .iter()
            .any(|(_, v)| *v == "same-origin" || *v == "http://lvzhi.test");
        let mut req = Request::builder()
            .method("POST")
            .uri("/api/v1/periods/2022/records")
            .header("host", "lvzhi.test")
            .header("cookie", &cookie)
            .header(
                "content-type",
                if json {
                    "application/json"
                } else {
                    "text/plain"
                },
            );
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.body(Body::from(add)).expect("req")
    };
    let before = t.store.state(2022).await.expect("state").counts().total();
    let (status, body, _) = send(&t, write(&[])).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no proof: {body}");
    let (status, _, _) = send(&t, write(&[("sec-fetch-site", "cross-site")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(&t, write(&[("origin", "https://evil.example")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        t.store.state(2022).await.expect("state").counts().total(),
        before,
        "nothing was stored"
    );
    // Same-origin by the browser's word, or by Origin equal to Host: accepted (the body is JSON).
    let (status, body, _) = send(&t, write(&[("sec-fetch-site", "same-origin")])).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body, _) = send(&t, write(&[("origin", "http://lvzhi.test")])).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A bearer token needs no such proof.
    let (status, body, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/records",
        Some(&t.admin),
        Some(add),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Another site's page may not log a browser in.
    let mut foreign = login_req("admin", "Strong-Pass-2022");
    foreign
        .headers_mut()
        .insert("origin", "https://evil.example".parse().expect("value"));
    foreign
        .headers_mut()
        .insert("host", "lvzhi.test".parse().expect("value"));
    let (status, _, headers) = send(&t, foreign).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        headers.get("set-cookie").is_none(),
        "no session for a foreign page"
    );
}

/// Finding 7 of the external test: `last_id` −35515573972 was accepted though the document's minimum
/// is 0, and whole-number floats (`5.0`), which JSON Schema counts as integers, were refused.
#[tokio::test]
async fn whole_numbers_are_read_as_the_openapi_document_says() {
    let t = setup().await;
    let (status, body, _) = call(
        &t,
        "POST",
        "/api/v1/notifications/seen",
        Some(&t.admin),
        Some(r#"{"last_id": -35515573972}"#),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    let (status, body, _) = call(
        &t,
        "POST",
        "/api/v1/notifications/seen",
        Some(&t.admin),
        Some(r#"{"last_id": 5.0}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["last_id"], 5);
    let (status, body, _) = call(
        &t,
        "PUT",
        "/api/v1/periods/2022/settings",
        Some(&t.admin),
        Some(r#"{"appeal_days": 7.0, "decision_days": 10}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = call(
        &t,
        "PUT",
        "/api/v1/periods/2022/settings",
        Some(&t.admin),
        Some(r#"{"appeal_days": 7.5, "decision_days": 10}"#),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    let (status, body, _) = call(
        &t,
        "POST",
        "/api/v1/periods/2022/what-if",
        Some(&t.admin),
        Some(r#"{"leave_out": [1.0]}"#),
    )
    .await;
    // No record #1 in this year: the 1.0 was read as the id 1 (not refused as a float).
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.to_string().contains("#1"), "{body}");
}

/// Finding 7's last part: the OpenAPI document's tag pattern and the server refuse the same tags —
/// each separator of `input::TAG_SEPARATORS` inside a tag, a blank tag, one too long — and accept
/// the same good ones.
#[tokio::test]
async fn the_tag_pattern_of_the_openapi_document_is_the_servers_rule() {
    use lvzhi_core::input::{TAG_MAX, TAG_SEPARATORS};
    let t = setup().await;
    let doc: Value = serde_json::from_str(lvzhi_web::OPENAPI).expect("openapi");
    let item = &doc["components"]["schemas"]["UnitTags"]["properties"]["tags"]["items"];
    let pattern = regex::Regex::new(item["pattern"].as_str().expect("pattern")).expect("regex");
    assert_eq!(item["maxLength"].as_u64(), Some(TAG_MAX as u64));
    let documented = |tag: &str| pattern.is_match(tag) && tag.chars().count() <= TAG_MAX;
    let uri = "/api/v1/periods/2022/units/%E5%8F%91%E6%94%B9%E5%A7%94";
    let mut tags: Vec<String> = TAG_SEPARATORS
        .iter()
        .map(|c| format!("专委{c}会"))
        .collect();
    tags.extend([" ".to_owned(), "专".repeat(TAG_MAX + 1)]);
    for bad in &tags {
        assert!(!documented(bad), "the document allows {bad:?}");
        let body = json!({"tags": [bad]}).to_string();
        let (s, v, _) = call(&t, "PATCH", uri, Some(&t.admin), Some(&body)).await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "the server took {bad:?}: {v}"
        );
    }
    for good in ["专委会", "危化 监管", &"专".repeat(TAG_MAX)] {
        assert!(documented(good), "the document refuses {good:?}");
        let body = json!({"tags": [good]}).to_string();
        let (s, v, _) = call(&t, "PATCH", uri, Some(&t.admin), Some(&body)).await;
        assert_eq!(s, StatusCode::OK, "the server refused {good:?}: {v}");
    }
}
