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
