//! Issue 20's findings over HTTP, each reproduced: a token of an account that must change its
//! password is refused like a session until the password is changed.

mod common;

use common::App;
use lvzhi_store::{Actor, Role};

#[test]
fn a_must_change_password_blocks_tokens_as_it_blocks_sessions() {
    let app = App::demo();
    let admin = Actor::new("admin", "test");
    app.rt
        .block_on(app.store.create_user(
            "lu",
            Role::Recorder,
            None,
            None,
            "Given-Pass-2022!",
            true,
            &admin,
        ))
        .expect("user");
    let token = app
        .rt
        .block_on(app.store.create_token("lu", "script", &admin))
        .expect("token");
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];
    let (status, _, body) = app.raw("GET", "/api/v1/periods/2022/records?limit=1", &auth, "");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("须先修改密码"), "{body}");
    let body = r#"{"unit": "发改委", "rule": "4.2", "source": "x"}"#;
    let (status, _, _) = app.raw(
        "POST",
        "/api/v1/periods/2022/records",
        &[
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
        ],
        body,
    );
    assert_eq!(status, 403, "no write either");
    // Changing the password (allowed with the token) opens the API.
    let (status, _, answer) = app.raw(
        "POST",
        "/api/v1/session/password",
        &[
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
        ],
        r#"{"old_password": "Given-Pass-2022!", "new_password": "Own-Pass-2022-lu!"}"#,
    );
    assert!(status < 300, "{status} {answer}");
    let (status, _, body) = app.raw("GET", "/api/v1/periods/2022/records?limit=1", &auth, "");
    assert_eq!(status, 200, "{body}");
}

/// A right-to-left override hides a file's true ending ("报告\u{202E}fdp.exe" shows as
/// "报告exe.pdf"): refused in attachment names, user names and record texts.
#[test]
fn bidi_controls_are_refused_in_names_and_texts() {
    let app = App::demo();
    let admin = Actor::new("admin", "test");
    let id = app
        .rt
        .block_on(app.store.all_records(2022))
        .expect("records")[0]
        .id;
    let e = app
        .rt
        .block_on(app.store.add_attachment(
            2022,
            id,
            "报告\u{202E}fdp.exe",
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
            &admin,
        ))
        .expect_err("a bidi control in a file name");
    assert!(e.to_string().contains("文字方向控制符"), "{e}");
    let e = app
        .rt
        .block_on(app.store.create_user(
            "ad\u{202E}nim",
            Role::Leader,
            None,
            None,
            "Leader-Pass-2022!",
            false,
            &admin,
        ))
        .expect_err("a bidi control in a user name");
    assert!(e.to_string().contains("文字方向控制符"), "{e}");
    let rec = lvzhi_core::NewRecord {
        unit: "发改委".into(),
        rule: "4.2".into(),
        source: "张安办\u{2067}〔2022〕".into(),
        ..lvzhi_core::NewRecord::default()
    };
    let e = app
        .rt
        .block_on(app.store.add_record(2022, &rec, &admin))
        .expect_err("a bidi control in a text");
    assert!(e.to_string().contains("文字方向控制符"), "{e}");
}

/// An administrator cannot revoke its own sessions and tokens through the API (it would cut
/// itself off mid-request): refused with the way to do it.
#[test]
fn an_administrator_cannot_revoke_its_own_credentials() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let (status, _, body) = app.raw(
        "PATCH",
        "/api/v1/users/admin",
        &[
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
        ],
        r#"{"revoke_credentials": true}"#,
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("不能注销自己的会话与令牌"), "{body}");
    let (status, _, _) = app.raw(
        "GET",
        "/api/v1/periods/2022/records?limit=1",
        &[("Authorization", bearer.as_str())],
        "",
    );
    assert_eq!(status, 200, "the token still works");
}

/// The records list holds to its documented limits: a `q` past `maxLength` is refused naming the
/// field (it was accepted), and an unknown unit's 422 is in the OpenAPI document.
#[test]
fn the_records_list_holds_to_its_documented_limits() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let auth = [("Authorization", bearer.as_str())];
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../src/openapi.json")).expect("openapi");
    let get = &doc["paths"]["/api/v1/periods/{year}/records"]["get"];
    let q = get["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "q")
        .expect("q");
    let max = q["schema"]["maxLength"].as_u64().expect("maxLength") as usize;
    assert_eq!(max, lvzhi_core::input::SEARCH_MAX);
    let path = |n: usize| format!("/api/v1/periods/2022/records?q={}", "a".repeat(n));
    assert_eq!(app.raw("GET", &path(max), &auth, "").0, 200);
    let (status, _, body) = app.raw("GET", &path(max + 1), &auth, "");
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("\"field\":\"q\"") && body.contains("不能超过 200 字"),
        "{body}"
    );
    let (status, _, _) = app.raw(
        "GET",
        "/api/v1/periods/2022/records?unit=%E6%97%A0%E6%AD%A4%E5%8D%95%E4%BD%8D",
        &auth,
        "",
    );
    assert!(
        get["responses"].get(status.to_string()).is_some(),
        "{status} is documented"
    );
}
