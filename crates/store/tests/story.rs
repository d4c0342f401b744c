//! One story of a year's ledger, run against every backend: SQLite always, PostgreSQL when
//! `LVZHI_TEST_POSTGRES_URL` names a server (`scripts/postgres` starts one and prints it). Under
//! `CI=true` a missing PostgreSQL is a failure, never a skip.

use lvzhi_store::{Actor, NewRecord, RecordFilter, Role, Store, StoreError};
use sqlx::Executor;

/// A fresh store on each available backend, with a label.
async fn backends() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("tmp");
    let sqlite = Store::open(&Store::sqlite_url(dir.path()))
        .await
        .expect("sqlite store");
    let mut out = vec![("sqlite", sqlite, Some(dir))];
    match std::env::var("LVZHI_TEST_POSTGRES_URL") {
        Ok(admin) => {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&admin)
                .await
                .expect("connect to PostgreSQL");
            let name = format!(
                "lvzhi_t_{}",
                lvzhi_store::generate_password()
                    .to_ascii_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "")
            );
            pool.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create database");
            let url = match admin.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("LVZHI_TEST_POSTGRES_URL must end with /DATABASE"),
            };
            out.push((
                "postgres",
                Store::open(&url).await.expect("postgres store"),
                None,
            ));
        }
        Err(std::env::VarError::NotPresent | std::env::VarError::NotUnicode(_))
            if std::env::var("CI").is_ok_and(|v| v == "true") =>
        {
            panic!(
                "CI=true but LVZHI_TEST_POSTGRES_URL is not set: the PostgreSQL half of the story cannot be skipped in CI"
            )
        }
        Err(std::env::VarError::NotPresent | std::env::VarError::NotUnicode(_)) => eprintln!(
            "\n*** WARNING: LVZHI_TEST_POSTGRES_URL is not set: the store story ran on SQLite ONLY. \
             Run `export LVZHI_TEST_POSTGRES_URL=$(scripts/postgres)` to test PostgreSQL too. ***\n"
        ),
    }
    out
}

fn rec(unit: &str, rule: &str) -> NewRecord {
    NewRecord {
        unit: unit.into(),
        rule: rule.into(),
        date: Some("2022-03-01".into()),
        source: "张安办〔2022〕3号".into(),
        ..NewRecord::default()
    }
}

fn field_of(e: &StoreError) -> &str {
    match e {
        StoreError::Invalid { field, .. } => field,
        _ => "",
    }
}

#[tokio::test]
async fn ledger_story_on_every_backend() {
    for (name, store, _dir) in backends().await {
        story(name, &store).await;
    }
}

async fn story(backend: &str, store: &Store) {
    let admin = Actor::new("admin", "test");
    assert!(
        store
            .ensure_period(lvzhi_core::RUBRIC_2022, &admin)
            .await
            .expect("period"),
        "{backend}"
    );
    assert!(
        !store
            .ensure_period(lvzhi_core::RUBRIC_2022, &admin)
            .await
            .expect("period again")
    );
    let periods = store.periods().await.expect("periods");
    assert_eq!(
        (periods.len(), periods[0].year, periods[0].status.as_str()),
        (1, 2022, "open")
    );

    // Accounts and tokens.
    store
        .create_user(
            "recorder1",
            Role::Recorder,
            None,
            None,
            "Recorder-2022-ok",
            false,
            &admin,
        )
        .await
        .expect("user");
    let e = store
        .create_user("weak", Role::Leader, None, None, "short", false, &admin)
        .await
        .expect_err("weak password");
    assert_eq!(field_of(&e), "password");
    let token = store
        .create_token("recorder1", "test", &admin)
        .await
        .expect("token");
    let u = store
        .user_for_token(&token)
        .await
        .expect("lookup")
        .expect("valid token");
    assert_eq!((u.name.as_str(), u.role), ("recorder1", Role::Recorder));
    assert!(
        store
            .user_for_token("lvz_wrong")
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        store
            .check_password("recorder1", "Recorder-2022-ok")
            .await
            .expect("pw")
            .is_some()
    );
    assert!(
        store
            .check_password("recorder1", "Recorder-2022-no")
            .await
            .expect("pw")
            .is_none()
    );
    assert!(
        store
            .check_password("nobody", "Recorder-2022-ok")
            .await
            .expect("pw")
            .is_none()
    );

    // Sessions live in the database and end when idle too long or too old.
    let (_, sid) = store
        .login("recorder1", "Recorder-2022-ok", "127.0.0.1", None)
        .await
        .expect("login")
        .expect("ok");
    assert!(
        store
            .user_for_session(&sid)
            .await
            .expect("session")
            .is_some()
    );
    assert!(
        store
            .login("recorder1", "nope", "127.0.0.1", None)
            .await
            .expect("login")
            .is_none()
    );
    sqlx::query("UPDATE sessions SET last_seen = '2000-01-01T00:00:00.000Z'")
        .execute(store.pool())
        .await
        .expect("age");
    assert!(
        store
            .user_for_session(&sid)
            .await
            .expect("session")
            .is_none(),
        "{backend}: idle session"
    );
    let (_, sid) = store
        .login("recorder1", "Recorder-2022-ok", "127.0.0.1", None)
        .await
        .expect("login")
        .expect("ok");
    sqlx::query(
        "UPDATE sessions SET created_at = '2000-01-01T00:00:00.000Z' WHERE revoked_at IS NULL",
    )
    .execute(store.pool())
    .await
    .expect("age");
    assert!(
        store
            .user_for_session(&sid)
            .await
            .expect("session")
            .is_none(),
        "{backend}: old session"
    );

    // Records, checked against the rubric and the ledger, with the CLI's messages.
    let who = Actor::new("recorder1", "127.0.0.1");
    let r21 = store
        .add_record(2022, &rec("发改委", "2.1"), &who)
        .await
        .expect("2.1");
    let e = store
        .add_record(2022, &rec("发改委", "2.2"), &who)
        .await
        .expect_err("excludes");
    assert!(
        e.to_string().contains(&format!(
            "互斥（择一扣分），该单位已有条款 2.1 的记录（记录 #{}）",
            r21.id
        )),
        "{backend}: {e}"
    );
    let mut range = rec("人社局", "1.1");
    range.points = Some("11".into());
    let e = store
        .add_record(2022, &range, &who)
        .await
        .expect_err("range");
    assert_eq!(field_of(&e), "points", "{e}");
    range.points = Some("5".into());
    store
        .add_record(2022, &range, &who)
        .await
        .expect("range ok");
    let e = store
        .add_record(2022, &rec("不存在", "2.4"), &who)
        .await
        .expect_err("unit");
    assert!(e.to_string().contains("未知单位「不存在」"), "{e}");
    let mut bad_date = rec("发改委", "2.4");
    bad_date.date = Some("2021-12-31".into());
    assert_eq!(
        field_of(
            &store
                .add_record(2022, &bad_date, &who)
                .await
                .expect_err("date")
        ),
        "date"
    );

    // Scores and metrics are versioned: a stale version is a conflict.
    let a = store
        .put_assessment(2022, "人社局", "3.4.1", "第一督导组", "4.2", None, &who)
        .await
        .expect("score");
    assert_eq!(a.version, 1);
    let e = store
        .put_assessment(2022, "人社局", "3.4.1", "第一督导组", "4.4", Some(0), &who)
        .await
        .expect_err("stale");
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    store
        .put_assessment(2022, "人社局", "3.4.1", "第五督导组", "4.3", Some(0), &who)
        .await
        .expect("second group");
    let e = store
        .put_assessment(2022, "人社局", "3.4.1", "第一督导组", "5.5", None, &who)
        .await
        .expect_err("range");
    assert_eq!(field_of(&e), "score");
    for (m, v) in [
        ("hazard_entries", "300"),
        ("hazard_entries_suzhou_avg", "150"),
        ("hazard_entries_last_year", "300"),
    ] {
        store
            .put_metric(2022, "人社局", m, v, None, &who)
            .await
            .expect("metric");
    }
    assert_eq!(
        field_of(
            &store
                .put_metric(2022, "人社局", "nope", "1", None, &who)
                .await
                .expect_err("metric")
        ),
        "metric"
    );
    for rule in ["2.1", "2.4"] {
        store
            .add_record(2022, &rec("人社局", rule), &who)
            .await
            .expect("record");
    }
    let mut one = rec("人社局", "2.5");
    one.count = Some("1".into());
    store.add_record(2022, &one, &who).await.expect("2.5");

    // The results are the CLI's object: worked example 4 of the spec.
    let state = store.state(2022).await.expect("state");
    let doc: serde_json::Value = serde_json::from_slice(&state.results_json).expect("json");
    let r = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["unit"] == "人社局")
        .expect("unit");
    assert_eq!(
        (r["total"].as_str(), r["converted"].as_str()),
        (Some("90.25"), Some("1.81")),
        "{backend}"
    );

    // A correction revokes and replaces; the history keeps both; revoking twice is a conflict.
    let (old, new) = store
        .revoke_record(
            2022,
            r21.id,
            "清单已制定，改为少 2 个成员",
            Some(r21.version),
            Some(&{
                let mut x = rec("发改委", "2.2");
                x.count = Some("2".into());
                x
            }),
            &who,
        )
        .await
        .expect("revoke and replace");
    assert_eq!(old.status, "revoked");
    let new = new.expect("replacement");
    assert_eq!(new.replaces, Some(r21.id));
    let all = store
        .records(
            2022,
            &RecordFilter {
                unit: Some("发改委".into()),
                ..RecordFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(all.len(), 2);
    let e = store
        .revoke_record(2022, r21.id, "再撤一次", None, None, &who)
        .await
        .expect_err("twice");
    assert!(matches!(e, StoreError::Conflict(_)));
    let e = store
        .revoke_record(2022, new.id, "  ", None, None, &who)
        .await
        .expect_err("no reason");
    assert_eq!(field_of(&e), "reason");

    // Two writers on one record: exactly one wins.
    let target = store
        .add_record(2022, &rec("教育局", "2.4"), &who)
        .await
        .expect("target");
    let (x, y) = tokio::join!(
        store.revoke_record(2022, target.id, "甲", Some(target.version), None, &who),
        store.revoke_record(2022, target.id, "乙", Some(target.version), None, &who),
    );
    assert_eq!(
        u8::from(x.is_ok()) + u8::from(y.is_ok()),
        1,
        "{backend}: {x:?} {y:?}"
    );
    assert!(matches!(x.err().or(y.err()), Some(StoreError::Conflict(_))));

    // Tags decide applicability, and cannot be removed under records that need them.
    let e = store
        .add_record(2022, &rec("应急管理局", "4.3"), &who)
        .await
        .expect_err("no tag");
    assert!(e.to_string().contains("专委会"));
    store
        .set_unit_tags(2022, "应急管理局", &["专委会".into()], None, &who)
        .await
        .expect("tag");
    store
        .add_record(2022, &rec("应急管理局", "4.3"), &who)
        .await
        .expect("with tag");
    let e = store
        .set_unit_tags(2022, "应急管理局", &[], None, &who)
        .await
        .expect_err("untag");
    assert_eq!(field_of(&e), "tags", "{e}");

    // Evidence: stored once per content, type by content, never removed.
    let pdf = b"%PDF-1.4\n%%EOF\n";
    let att = store
        .add_attachment(2022, new.id, "通报.pdf", pdf, &who)
        .await
        .expect("attach");
    assert_eq!(att.mime, "application/pdf");
    let (got, bytes) = store.attachment(2022, att.id).await.expect("fetch");
    assert_eq!(
        (got.name.as_str(), bytes.as_slice()),
        ("通报.pdf", pdf.as_slice()),
        "{backend}"
    );
    let e = store
        .add_attachment(2022, new.id, "x.pdf", b"MZ program", &who)
        .await
        .expect_err("type");
    assert_eq!(field_of(&e), "file");
    assert!(
        sqlx::query("DELETE FROM attachments")
            .execute(store.pool())
            .await
            .is_err(),
        "{backend}"
    );
    assert!(
        sqlx::query("DELETE FROM blobs")
            .execute(store.pool())
            .await
            .is_err(),
        "{backend}"
    );
    assert!(
        sqlx::query("UPDATE blobs SET mime = 'text/html'")
            .execute(store.pool())
            .await
            .is_err(),
        "{backend}"
    );

    // What this store derived in memory after its writes is exactly what a fresh reload gives.
    let derived = store.state(2022).await.expect("derived");
    let fresh = Store::open(store.url()).await.expect("second store");
    let reloaded = fresh.state(2022).await.expect("reloaded");
    assert_eq!(derived.info.version, reloaded.info.version, "{backend}");
    assert_eq!(derived.records, reloaded.records, "{backend}: records");
    assert_eq!(derived.units, reloaded.units, "{backend}: units");
    assert_eq!(derived.metrics, reloaded.metrics, "{backend}: metrics");
    assert_eq!(
        derived.results_json, reloaded.results_json,
        "{backend}: results"
    );

    // The database itself refuses to rewrite history.
    assert!(
        sqlx::query("DELETE FROM records")
            .execute(store.pool())
            .await
            .is_err(),
        "{backend}"
    );
    assert!(
        sqlx::query("UPDATE records SET rule = '2.4'")
            .execute(store.pool())
            .await
            .is_err()
    );
    assert!(
        sqlx::query("UPDATE audit SET actor = 'x'")
            .execute(store.pool())
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM audit")
            .execute(store.pool())
            .await
            .is_err()
    );

    // The audit chain verifies, and names the first entry altered behind the triggers' back.
    let v = store.verify_audit().await.expect("verify");
    assert!(v.first_bad.is_none(), "{backend}: {v:?}");
    assert!(v.entries >= 15, "{}", v.entries);
    let page = store.audit_page(None, 5).await.expect("page");
    assert_eq!(page.len(), 5);
    let victim = page[2].id;
    match backend {
        "sqlite" => {
            store
                .pool()
                .execute("DROP TRIGGER audit_no_update")
                .await
                .expect("drop trigger");
        }
        _ => {
            store
                .pool()
                .execute("ALTER TABLE audit DISABLE TRIGGER audit_no_update")
                .await
                .expect("disable trigger");
        }
    }
    sqlx::query("UPDATE audit SET actor = 'mallory' WHERE id = $1")
        .bind(victim)
        .execute(store.pool())
        .await
        .expect("tamper");
    let v = store.verify_audit().await.expect("verify");
    assert_eq!(v.first_bad.map(|b| b.0), Some(victim), "{backend}");
}

#[tokio::test]
async fn published_or_missing_periods_refuse_writes() {
    for (backend, store, _dir) in backends().await {
        let who = Actor::new("t", "test");
        let e = store
            .add_record(2030, &rec("发改委", "2.1"), &who)
            .await
            .expect_err("no period");
        assert!(matches!(e, StoreError::NotFound(_)), "{backend}");
        store
            .ensure_period(lvzhi_core::RUBRIC_2022, &who)
            .await
            .expect("period");
        sqlx::query("UPDATE periods SET status = 'published' WHERE year = 2022")
            .execute(store.pool())
            .await
            .expect("publish");
        let e = store
            .add_record(2022, &rec("发改委", "2.1"), &who)
            .await
            .expect_err("published");
        assert!(matches!(e, StoreError::Conflict(_)), "{backend}: {e}");
    }
}
