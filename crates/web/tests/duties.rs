//! 三员分立 over HTTP: with the duties separated, the system administrator manages business
//! accounts and groups only, the security administrator unlocks, resets and revokes only, the audit
//! administrator alone reads and verifies the trail, and the office's admin keeps the business
//! without accounts or the trail; none touches an administrator's account. Without the option the
//! office's admin does all of it, as before (checked here too).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lvzhi_core::access::Duties;
use lvzhi_store::{Actor, Role, Store};
use serde_json::Value;
use tower::ServiceExt;

struct T {
    app: axum::Router,
    store: Store,
    tokens: std::collections::HashMap<&'static str, String>,
    _dir: tempfile::TempDir,
}

async fn setup(duties: Duties) -> T {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(&Store::sqlite_url(dir.path()))
        .await
        .expect("store");
    let sys = Actor::new("cli:operator", "cli");
    store
        .ensure_period(lvzhi_core::RUBRIC_2022, &sys)
        .await
        .expect("period");
    let mut tokens = std::collections::HashMap::new();
    for (name, role, unit) in [
        ("admin", Role::Admin, None),
        ("sysadmin", Role::Sysadmin, None),
        ("secadmin", Role::Secadmin, None),
        ("auditor", Role::Auditor, None),
        ("fgw", Role::Unit, Some("发改委")),
    ] {
        store
            .create_user(name, role, unit, None, "Strong-Pass-2022", false, &sys)
            .await
            .expect("user");
        tokens.insert(
            name,
            store.create_token(name, "t", &sys).await.expect("token"),
        );
    }
    let mut state = lvzhi_web::AppState::new(store.clone());
    state.duties = duties;
    T {
        app: lvzhi_web::app(state),
        store,
        tokens,
        _dir: dir,
    }
}

async fn call(
    t: &T,
    who: &str,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", t.tokens[who]));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .expect("request");
    let resp = t.app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const RECORD: &str = r#"{"unit":"发改委","rule":"2.3","count":"1","date":"2022-03-01","source":"张安办〔2022〕3号"}"#;

fn new_user(name: &str, role: &str) -> String {
    format!(r#"{{"username":"{name}","role":"{role}","unit":"发改委"}}"#)
}

#[tokio::test]
async fn each_administrator_does_its_own_part_and_nothing_else() {
    const F: StatusCode = StatusCode::FORBIDDEN;
    const OK: StatusCode = StatusCode::OK;
    let t = setup(Duties::Separated).await;
    let users = "/api/v1/users";
    let fgw = "/api/v1/users/fgw";
    let audit = "/api/v1/audit";
    let records = "/api/v1/periods/2022/records";
    let cases: Vec<(&str, &str, &str, Option<String>, StatusCode)> = vec![
        // The office: the business, no accounts, no security, no trail.
        (
            "admin",
            "POST",
            records,
            Some(RECORD.into()),
            StatusCode::CREATED,
        ),
        ("admin", "GET", audit, None, F),
        ("admin", "GET", users, None, F),
        ("admin", "POST", users, Some(new_user("u1", "recorder")), F),
        (
            "admin",
            "PATCH",
            fgw,
            Some(r#"{"disabled":true}"#.into()),
            F,
        ),
        ("admin", "PATCH", fgw, Some(r#"{"unlock":true}"#.into()), F),
        // The system administrator: business accounts and groups.
        ("sysadmin", "GET", users, None, OK),
        (
            "sysadmin",
            "POST",
            users,
            Some(new_user("u2", "unit")),
            StatusCode::CREATED,
        ),
        (
            "sysadmin",
            "POST",
            users,
            Some(new_user("u3", "auditor")),
            F,
        ),
        (
            "sysadmin",
            "PATCH",
            fgw,
            Some(r#"{"disabled":true}"#.into()),
            OK,
        ),
        // Enabling is a grant: the security administrator's, not the system administrator's.
        (
            "sysadmin",
            "PATCH",
            fgw,
            Some(r#"{"disabled":false}"#.into()),
            F,
        ),
        (
            "secadmin",
            "PATCH",
            fgw,
            Some(r#"{"disabled":false}"#.into()),
            OK,
        ),
        (
            "sysadmin",
            "PATCH",
            "/api/v1/users/auditor",
            Some(r#"{"disabled":true}"#.into()),
            F,
        ),
        (
            "sysadmin",
            "PATCH",
            fgw,
            Some(r#"{"reset_password":true}"#.into()),
            F,
        ),
        (
            "sysadmin",
            "PUT",
            "/api/v1/groups/%E7%AC%AC%E4%B8%80%E7%9D%A3%E5%AF%BC%E7%BB%84",
            Some(r#"{"units":["发改委"]}"#.into()),
            OK,
        ),
        ("sysadmin", "GET", audit, None, F),
        ("sysadmin", "POST", records, Some(RECORD.into()), F),
        ("sysadmin", "GET", "/api/v1/periods/2022/results", None, F),
        // The security administrator: unlocking, resets, revoking.
        (
            "secadmin",
            "PATCH",
            fgw,
            Some(r#"{"unlock":true}"#.into()),
            OK,
        ),
        (
            "secadmin",
            "PATCH",
            fgw,
            Some(r#"{"reset_password":true}"#.into()),
            OK,
        ),
        (
            "secadmin",
            "PATCH",
            "/api/v1/users/auditor",
            Some(r#"{"reset_password":true}"#.into()),
            F,
        ),
        (
            "secadmin",
            "PATCH",
            fgw,
            Some(r#"{"disabled":true}"#.into()),
            F,
        ),
        ("secadmin", "POST", users, Some(new_user("u4", "unit")), F),
        ("secadmin", "GET", audit, None, F),
        ("secadmin", "POST", records, Some(RECORD.into()), F),
        // The audit administrator: the trail, and nothing else.
        ("auditor", "GET", audit, None, OK),
        ("auditor", "GET", "/api/v1/audit/verify?full=true", None, OK),
        ("admin", "GET", "/api/v1/audit/verify", None, F),
        ("auditor", "GET", users, None, F),
        ("auditor", "POST", users, Some(new_user("u5", "unit")), F),
        (
            "auditor",
            "PATCH",
            fgw,
            Some(r#"{"unlock":true}"#.into()),
            F,
        ),
        ("auditor", "POST", records, Some(RECORD.into()), F),
        (
            "auditor",
            "POST",
            "/api/v1/periods/2022/publish",
            Some(r#"{"reason":"审定","acknowledge_incomplete":true}"#.into()),
            F,
        ),
    ];
    let mut wrong = Vec::new();
    for (who, method, uri, body, want) in &cases {
        let (got, v) = call(&t, who, method, uri, body.as_deref()).await;
        if got != *want {
            wrong.push(format!("{who} {method} {uri}: {got} (want {want}) {v}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Two duties bring a business account into use (issue 20): the system administrator's new
    // account waits, disabled, for the security administrator's grant.
    let (s, v) = call(
        &t,
        "sysadmin",
        "POST",
        users,
        Some(&new_user("u7", "leader")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["user"]["disabled"], true,
        "created waiting for the grant: {v}"
    );
    let pending = t.store.user_by_name("u7").await.expect("read").expect("u7");
    assert!(pending.disabled);
    let (s, _) = call(
        &t,
        "sysadmin",
        "PATCH",
        "/api/v1/users/u7",
        Some(r#"{"disabled":false}"#),
    )
    .await;
    assert_eq!(s, F, "the creator cannot grant it");
    let (s, v) = call(
        &t,
        "secadmin",
        "PATCH",
        "/api/v1/users/u7",
        Some(r#"{"disabled":false}"#),
    )
    .await;
    assert_eq!(s, OK, "{v}");
    assert!(
        !t.store
            .user_by_name("u7")
            .await
            .expect("read")
            .expect("u7")
            .disabled
    );
    // Every reset is told to the account's holder: in its notices, and at its next login (the
    // API's answer names it; the page's login goes to the password page, which says it).
    t.store
        .reset_password(
            "fgw",
            "Told-Reset-Pass-2022!",
            true,
            &Actor::new("secadmin", "test"),
        )
        .await
        .expect("reset");
    let holder = t
        .store
        .user_by_name("fgw")
        .await
        .expect("read")
        .expect("fgw");
    let n = t.store.notices(&holder, 2022).await.expect("notices");
    let told = n
        .items
        .iter()
        .find(|x| x.kind_label == "密码已被重置")
        .expect("the reset among the notices");
    assert!(
        told.unread && told.message.contains("由 secadmin 重置，登录后须先修改"),
        "{told:?}"
    );
    assert!(
        t.store.unread_count(&holder).await.expect("count") >= 1,
        "counted as unread"
    );
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/session")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"username":"fgw","password":"Told-Reset-Pass-2022!"}"#,
        ))
        .expect("login");
    let resp = t.app.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("cookie")
        .to_owned();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    let page = Request::builder()
        .uri("/password")
        .header("cookie", &cookie)
        .body(Body::empty())
        .expect("page");
    let resp = t.app.clone().oneshot(page).await.expect("response");
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let page = String::from_utf8_lossy(&bytes);
    assert!(
        page.contains("由 secadmin 重置，登录后须先修改") && page.contains("须先修改密码才能继续"),
        "{page}"
    );
    assert!(
        v["told"][0]
            .as_str()
            .is_some_and(|m| m.contains("如非本人申请")),
        "{v}"
    );
    // The refusal of an administrator's account says why, in Chinese.
    let (_, v) = call(
        &t,
        "sysadmin",
        "POST",
        users,
        Some(&new_user("u6", "secadmin")),
    )
    .await;
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("三员分立")),
        "{v}"
    );
    // Revoking: the unit's token stops working at once, and the trail says who did it.
    let (s, v) = call(
        &t,
        "secadmin",
        "PATCH",
        fgw,
        Some(r#"{"revoke_credentials":true}"#),
    )
    .await;
    assert_eq!(s, OK, "{v}");
    assert_eq!(v["revoked"]["tokens"], 1, "{v}");
    let (s, _) = call(&t, "fgw", "GET", "/api/v1/periods", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, trail) = call(&t, "auditor", "GET", "/api/v1/audit?limit=500", None).await;
    let entries = trail["entries"].as_array().expect("entries");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "user.revoke_credentials" && e["actor"] == "secadmin"),
        "{trail}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "user.unlock" && e["actor"] == "secadmin"),
        "{trail}"
    );
    // And the replay explains every account the administrators touched: the auditor verifies it.
    let (s, v) = call(&t, "auditor", "GET", "/api/v1/audit/verify?full=true", None).await;
    assert_eq!(s, OK, "{v}");
    assert_eq!(v["sound"], true, "{v}");
    assert_eq!(v["replayed"], true, "{v}");
    sqlx::query("UPDATE users SET role = 'admin' WHERE name = 'fgw'")
        .execute(t.store.pool())
        .await
        .expect("tamper");
    // The quick check says what it checked (issue 20): the chain is intact, the tables were not
    // compared; never "sound".
    let (_, v) = call(&t, "auditor", "GET", "/api/v1/audit/verify", None).await;
    assert_eq!(
        (&v["sound"], &v["chain_intact"], &v["tables_compared"]),
        (&false.into(), &true.into(), &false.into()),
        "{v}"
    );
    assert!(
        v["verdict"]
            .as_str()
            .is_some_and(|s| s.contains("各表尚未与审计链核对")),
        "{v}"
    );
    let (_, v) = call(&t, "auditor", "GET", "/api/v1/audit/verify?full=true", None).await;
    assert_eq!(v["sound"], false, "{v}");
    assert!(
        v["findings"].as_array().is_some_and(|f| f
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("账号「fgw」")))),
        "{v}"
    );
}

#[tokio::test]
async fn without_the_option_the_office_administers_as_before() {
    let t = setup(Duties::Combined).await;
    for (method, uri, body, want) in [
        ("GET", "/api/v1/audit", None, StatusCode::OK),
        ("GET", "/api/v1/users", None, StatusCode::OK),
        (
            "POST",
            "/api/v1/users",
            Some(new_user("u1", "recorder")),
            StatusCode::CREATED,
        ),
        (
            "PATCH",
            "/api/v1/users/fgw",
            Some(r#"{"unlock":true,"reset_password":true}"#.into()),
            StatusCode::OK,
        ),
        (
            "PATCH",
            "/api/v1/users/auditor",
            Some(r#"{"disabled":true}"#.into()),
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v1/periods/2022/records",
            Some(RECORD.into()),
            StatusCode::CREATED,
        ),
    ] {
        let (got, v) = call(&t, "admin", method, uri, body.as_deref()).await;
        assert_eq!(got, want, "{method} {uri}: {v}");
    }
}

/// The pages follow the same rules: each administrator lands on its page, sees its part of the
/// menu, and is refused the others'.
#[tokio::test]
async fn the_pages_follow_the_division() {
    let t = setup(Duties::Separated).await;
    let get = |who: &'static str, uri: &'static str| {
        let t = &t;
        async move {
            let req = Request::builder()
                .uri(uri)
                .header("authorization", format!("Bearer {}", t.tokens[who]))
                .body(Body::empty())
                .expect("request");
            let resp = t.app.clone().oneshot(req).await.expect("response");
            let status = resp.status();
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned);
            let bytes = resp.into_body().collect().await.expect("body").to_bytes();
            (
                status,
                location,
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        }
    };
    let (_, to, _) = get("auditor", "/").await;
    assert_eq!(to.as_deref(), Some("/audit"));
    let (_, to, _) = get("sysadmin", "/").await;
    assert_eq!(to.as_deref(), Some("/users"));
    let (s, _, page) = get("auditor", "/audit?full=1").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("审计校验通过") && !page.contains("href=\"/users\""),
        "{page}"
    );
    assert_eq!(get("auditor", "/users").await.0, StatusCode::FORBIDDEN);
    assert_eq!(get("admin", "/audit").await.0, StatusCode::FORBIDDEN);
    assert_eq!(get("admin", "/users").await.0, StatusCode::FORBIDDEN);
    let (s, _, page) = get("sysadmin", "/users").await;
    assert_eq!(s, StatusCode::OK);
    // Business roles offered, administrators not; no security buttons for the system administrator.
    assert!(
        page.contains("value=\"unit\"")
            && !page.contains("value=\"auditor\"")
            && !page.contains("重置密码"),
        "{page}"
    );
    let (s, _, page) = get("secadmin", "/users").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("解锁")
            && !page.contains("id=\"user-form\"")
            && !page.contains("hx-vals='{\"op\": \"disable\"}'"),
        "{page}"
    );
    assert_eq!(get("sysadmin", "/records").await.0, StatusCode::FORBIDDEN);
}
