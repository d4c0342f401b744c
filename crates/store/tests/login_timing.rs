//! Finding 1 of the external test: a locked account answered in ~1.3 ms, an unknown name or a wrong
//! password in ~17–23 ms, so seven attempts told whether a name exists. Every failed login now
//! computes one password hash, like a successful one: counted here, not timed (the time itself is
//! in SECURITY.md).

use lvzhi_core::access::Role;
use lvzhi_store::{Actor, Store, password_checks};

#[tokio::test]
async fn every_login_answer_costs_one_password_hash() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(&Store::sqlite_url(dir.path()))
        .await
        .expect("store");
    let sys = Actor::new("test", "test");
    store
        .create_user(
            "clerk",
            Role::Recorder,
            None,
            None,
            "Strong-Pass-2022",
            false,
            &sys,
        )
        .await
        .expect("user");
    let once = |name: &'static str, pw: &'static str| {
        let store = store.clone();
        async move {
            let before = password_checks();
            let ok = store
                .login(name, pw, "127.0.0.1", None)
                .await
                .expect("login answers")
                .is_some();
            (ok, password_checks() - before)
        }
    };
    assert_eq!(
        once("nobody", "Strong-Pass-2022").await,
        (false, 1),
        "unknown name"
    );
    assert_eq!(
        once("clerk", "Wrong-Pass-2022").await,
        (false, 1),
        "wrong password"
    );
    // Lock the account, then try it: still one hash, still refused, even with the right password.
    for _ in 0..10 {
        let _ = once("clerk", "Wrong-Pass-2022").await;
    }
    assert_eq!(
        once("clerk", "Wrong-Pass-2022").await,
        (false, 1),
        "locked, wrong password"
    );
    assert_eq!(
        once("clerk", "Strong-Pass-2022").await,
        (false, 1),
        "locked, right password"
    );
}
