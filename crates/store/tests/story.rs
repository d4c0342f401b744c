//! One story of a year's ledger, run against every backend: SQLite always, PostgreSQL when
//! `LVZHI_TEST_POSTGRES_URL` names a server (`scripts/postgres` starts one and prints it). Under
//! `CI=true` a missing PostgreSQL is a failure, never a skip.

use lvzhi_core::{NewRecord, RecordStatus};
use lvzhi_store::{Actor, OpenTarget, RecordQuery, Role, Store, StoreError};

mod common;
use common::backends;
use sqlx::Executor;

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
        (periods.len(), periods[0].year, periods[0].status.code()),
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
    let doc: serde_json::Value =
        serde_json::from_slice(&state.results_json().expect("results")).expect("json");
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
    assert_eq!(old.status, RecordStatus::Revoked);
    let new = new.expect("replacement");
    assert_eq!(new.replaces, Some(r21.id));
    let all = store
        .records_page(
            2022,
            &RecordQuery {
                unit: Some("发改委".into()),
                ..RecordQuery::default()
            },
            0,
            100,
        )
        .await
        .expect("list");
    assert_eq!((all.total, all.records.len()), (2, 2));
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
    assert_same_state(backend, &derived, &reloaded);

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

    // The tables are what the trail says (records added, revoked, replaced, imported, attachments).
    let unexplained = store.replay_audit(20).await.expect("replay");
    assert!(unexplained.is_empty(), "{backend}: {unexplained:?}");
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

/// A clock the lifecycle story moves by hand.
fn clock_at(t: &std::sync::Arc<std::sync::Mutex<String>>) -> lvzhi_store::ClockFn {
    let t = t.clone();
    std::sync::Arc::new(move || t.lock().expect("clock").clone())
}

fn set(t: &std::sync::Arc<std::sync::Mutex<String>>, at: &str) {
    at.clone_into(&mut t.lock().expect("clock"));
}

fn dated(unit: &str, rule: &str, count: &str, date: &str) -> NewRecord {
    NewRecord {
        unit: unit.into(),
        rule: rule.into(),
        count: Some(count.into()),
        date: Some(date.into()),
        source: "张安办〔2022〕9号".into(),
        ..NewRecord::default()
    }
}

fn unit_user(name: &str, unit: &str) -> lvzhi_store::User {
    lvzhi_store::User {
        id: 0,
        name: name.into(),
        office: lvzhi_store::ROOT_OFFICE.into(),
        role: Role::Unit,
        unit: Some(unit.into()),
        group: None,
        must_change_password: false,
        disabled: false,
        supervises: Vec::new(),
    }
}

fn total_of(sheets: &lvzhi_core::ScoreSheets, unit: &str) -> (String, u32) {
    let s = sheets
        .sheets
        .iter()
        .find(|s| s.name == unit)
        .expect("unit sheet");
    (s.total.to_fixed2(), s.rank)
}

#[tokio::test]
async fn lifecycle_story_on_every_backend() {
    for (name, store, _dir) in backends().await {
        lifecycle(name, store).await;
    }
}

/// The year from recording to publication, appeals and a re-publication, then the next year.
async fn lifecycle(backend: &str, store: Store) {
    use lvzhi_core::{Basis, Decision};
    use lvzhi_store::{canonical_json, sha256_hex};
    let now = std::sync::Arc::new(std::sync::Mutex::new("2022-03-01T02:00:00.000Z".to_owned()));
    let store = store.with_clock(clock_at(&now));
    let office = Actor::new("admin", "test");
    let unit_actor = Actor::new("fgw", "test");
    store
        .ensure_period(lvzhi_core::RUBRIC_2022, &office)
        .await
        .expect("period");
    // Recorded: counted provisionally, not officially.
    let r1 = store
        .add_record(2022, &dated("发改委", "2.3", "2", "2022-03-01"), &office)
        .await
        .expect("r1");
    let r2 = store
        .add_record(2022, &dated("发改委", "2.5", "1", "2022-05-10"), &office)
        .await
        .expect("r2");
    let r3 = store
        .add_record(2022, &dated("教育局", "2.7", "1", "2022-07-20"), &office)
        .await
        .expect("r3");
    let r4 = store
        .add_record(2022, &dated("教育局", "2.2", "3", "2022-09-02"), &office)
        .await
        .expect("r4");
    assert_eq!(r1.status, RecordStatus::Recorded, "{backend}");
    let (_, provisional) = store
        .sheets(2022, Basis::Provisional, None)
        .await
        .expect("p");
    let (_, official) = store.sheets(2022, Basis::Official, None).await.expect("o");
    assert_eq!(total_of(&provisional, "发改委").0, "98.60", "{backend}");
    assert_eq!(total_of(&official, "发改委").0, "100.00", "{backend}");

    // An unconfirmed record cannot be appealed.
    let e = store
        .appeal(2022, r1.id, "发改委", "理由", &unit_actor)
        .await
        .expect_err("appeal before confirmation");
    assert!(
        matches!(&e, StoreError::Conflict(m) if m.contains("只能对已确认的记录申诉")),
        "{backend}: {e}"
    );
    // Confirmation starts the 7-day window and tells the unit.
    let done = store
        .confirm_records(2022, &[r1.id, r2.id, r3.id, r4.id], None, &office)
        .await
        .expect("confirm");
    assert!(
        done.iter().all(|r| r.status == RecordStatus::Confirmed),
        "{backend}"
    );
    let e = store
        .confirm_records(2022, &[r1.id], None, &office)
        .await
        .expect_err("confirm twice");
    assert!(matches!(e, StoreError::Conflict(_)), "{backend}: {e}");
    let (_, official) = store.sheets(2022, Basis::Official, None).await.expect("o");
    assert_eq!(total_of(&official, "发改委").0, "98.60", "{backend}");

    // A unit appealing another unit's record is refused; so is an empty reason.
    set(&now, "2022-03-03T02:00:00.000Z");
    let e = store
        .appeal(2022, r3.id, "发改委", "不是我们的", &unit_actor)
        .await
        .expect_err("other unit's record");
    assert!(matches!(e, StoreError::Forbidden(_)), "{backend}: {e}");
    let e = store
        .appeal(2022, r1.id, "发改委", "  ", &unit_actor)
        .await
        .expect_err("no reason");
    assert_eq!(field_of(&e), "reason", "{backend}");
    let a1 = store
        .appeal(2022, r1.id, "发改委", "述职报告已列入，见附件", &unit_actor)
        .await
        .expect("appeal r1");
    assert_eq!(a1.deadline, "2022-03-13T02:00:00.000Z", "{backend}");
    let e = store
        .appeal(2022, r1.id, "发改委", "再申诉", &unit_actor)
        .await
        .expect_err("twice");
    assert!(matches!(e, StoreError::Conflict(_)), "{backend}: {e}");
    // The window: confirmed on 03-01 02:00 UTC, closed 7 days later.
    set(&now, "2022-03-08T02:00:00.001Z");
    let e = store
        .appeal(2022, r2.id, "发改委", "迟到的申诉", &unit_actor)
        .await
        .expect_err("after the window");
    assert!(
        matches!(&e, StoreError::Conflict(m) if m.contains("申诉期已于 2022-03-08 10:00 结束")),
        "{backend}: {e}"
    );
    set(&now, "2022-03-05T02:00:00.000Z");
    let jyj = Actor::new("jyj", "test");
    store
        .appeal(2022, r3.id, "教育局", "已落实", &jyj)
        .await
        .expect("appeal r3");
    store
        .appeal(2022, r4.id, "教育局", "人数有误", &jyj)
        .await
        .expect("appeal r4");
    // An appeal under way is not revoked around the decision.
    let e = store
        .revoke_record(2022, r3.id, "绕过申诉", None, None, &office)
        .await
        .expect_err("revoke while appealed");
    assert!(matches!(e, StoreError::Conflict(_)), "{backend}: {e}");

    // The office sees the open appeals; the unit sees what happened to it.
    let office_user = lvzhi_store::User {
        role: Role::Admin,
        unit: None,
        ..unit_user("admin", "")
    };
    let notes = store.notices(&office_user, 2022).await.expect("notices");
    assert!(
        notes
            .items
            .iter()
            .any(|n| n.kind == lvzhi_store::NoticeKind::AppealOpened
                && n.message.contains("发改委 对扣分记录")),
        "{backend}: {notes:?}"
    );
    assert!(
        notes
            .reminders
            .iter()
            .any(|n| n.message.contains("3 项申诉待决定")),
        "{backend}: {:?}",
        notes.reminders
    );
    // Past the decision deadline, the open appeals are overdue.
    set(&now, "2022-03-20T02:00:00.000Z");
    let notes = store.notices(&office_user, 2022).await.expect("notices");
    assert!(
        notes
            .reminders
            .iter()
            .any(|n| n.message.contains("其中 3 项已超过决定期限")),
        "{backend}: {:?}",
        notes.reminders
    );

    // Decisions: changed (a new, confirmed record replaces r1), upheld, revoked.
    let e = store
        .decide(2022, r1.id, Decision::Changed, "人数有误", None, &office)
        .await
        .expect_err("changed without a replacement");
    assert_eq!(field_of(&e), "replacement", "{backend}");
    let (d1, rep) = store
        .decide(
            2022,
            r1.id,
            Decision::Changed,
            "核实后为 1 人",
            Some(&dated("发改委", "2.3", "1", "2022-03-01")),
            &office,
        )
        .await
        .expect("decide r1");
    let rep = rep.expect("replacement");
    assert_eq!(
        (d1.decision, rep.status, rep.replaces),
        (
            Some(Decision::Changed),
            RecordStatus::Confirmed,
            Some(r1.id)
        ),
        "{backend}"
    );
    store
        .decide(2022, r3.id, Decision::Upheld, "证据不足", None, &office)
        .await
        .expect("decide r3");
    store
        .decide(
            2022,
            r4.id,
            Decision::Revoked,
            "情况属实，撤销",
            None,
            &office,
        )
        .await
        .expect("decide r4");
    let e = store
        .decide(2022, r4.id, Decision::Upheld, "再决定", None, &office)
        .await
        .expect_err("decided already");
    assert!(matches!(e, StoreError::Conflict(_)), "{backend}: {e}");
    // A changed decision is final: its replacement cannot be appealed.
    let e = store
        .appeal(2022, rep.id, "发改委", "仍有异议", &unit_actor)
        .await
        .expect_err("appeal the replacement");
    assert!(
        matches!(&e, StoreError::Conflict(m) if m.contains("最终决定")),
        "{backend}: {e}"
    );
    let states: Vec<(i64, RecordStatus)> = store
        .all_records(2022)
        .await
        .expect("records")
        .into_iter()
        .map(|r| (r.id, r.status))
        .collect();
    assert_eq!(
        states,
        vec![
            (r1.id, RecordStatus::Changed),
            (r2.id, RecordStatus::Confirmed),
            (r3.id, RecordStatus::Upheld),
            (r4.id, RecordStatus::Revoked),
            (rep.id, RecordStatus::Confirmed),
        ],
        "{backend}"
    );
    let unit_notes = store
        .notices(&unit_user("fgw", "发改委"), 2022)
        .await
        .expect("unit notices");
    let kinds: Vec<&str> = unit_notes.items.iter().map(|n| n.kind.code()).collect();
    for k in ["record.added", "record.confirmed", "appeal.decided"] {
        assert!(kinds.contains(&k), "{backend}: {k} in {kinds:?}");
    }
    assert!(
        !unit_notes
            .items
            .iter()
            .any(|n| n.message.contains("教育局")),
        "{backend}: a unit sees only its own notices"
    );
    assert_eq!(unit_notes.unread, unit_notes.items.len(), "{backend}");
    let last = unit_notes.items[0].id.expect("stored");
    store.mark_seen("fgw", last).await.expect("seen");
    let unit_notes = store
        .notices(&unit_user("fgw", "发改委"), 2022)
        .await
        .expect("unit notices");
    assert_eq!(unit_notes.unread, 0, "{backend}");

    // Publication: a pending record blocks it unless acknowledged.
    let r5 = store
        .add_record(2022, &dated("科技局", "2.4", "1", "2022-10-01"), &office)
        .await
        .expect("r5");
    let e = store
        .publish(2022, "经安委会审定", false, &office)
        .await
        .expect_err("pending record");
    assert!(
        matches!(&e, StoreError::Conflict(m) if m.contains("1 条扣分记录待确认")),
        "{backend}: {e}"
    );
    let (p1, diff1, list) = store
        .publish(2022, "经安委会审定；#5 待下年核实", true, &office)
        .await
        .expect("publish");
    assert!(diff1.is_empty(), "{backend}");
    assert_eq!(list.pending_records, vec![r5.id], "{backend}");
    // The hash is reproduced from the published contents.
    let body = store.publication(2022, 1).await.expect("snapshot");
    assert_eq!(sha256_hex(body.as_bytes()), p1.hash, "{backend}");
    let snap: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        canonical_json(&snap),
        body,
        "{backend}: the body is canonical"
    );
    let recs = snap["records"].as_array().expect("records");
    assert_eq!(recs.len(), 3, "{backend}: confirmed, upheld, replacement");
    for r in recs {
        assert_eq!(
            r["hash"].as_str().expect("hash"),
            sha256_hex(canonical_json(&r["record"]).as_bytes()),
            "{backend}"
        );
    }
    assert_eq!(
        snap["results_hash"].as_str().expect("hash"),
        sha256_hex(canonical_json(&snap["results"]).as_bytes()),
        "{backend}"
    );
    let fgw = snap["results"]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["unit"] == "发改委")
        .expect("发改委");
    // 2.5 × 1 (1.00) + 2.3 × 1 after the change (0.20).
    assert_eq!(fgw["total"], "98.80", "{backend}");
    // The hash is in the audit chain, and the chain holds.
    let trail = store.audit_page(None, 500).await.expect("audit");
    assert!(
        trail.iter().any(|e| e.action == "period.publish"
            && e.after.as_deref().is_some_and(|a| a.contains(&p1.hash))),
        "{backend}"
    );
    assert!(
        store
            .verify_audit()
            .await
            .expect("verify")
            .first_bad
            .is_none(),
        "{backend}"
    );

    // A published period refuses writes of every kind.
    let e = store
        .add_record(2022, &dated("科技局", "2.6", "1", "2022-10-02"), &office)
        .await
        .expect_err("write into a published period");
    assert!(
        matches!(&e, StoreError::Conflict(m) if m.contains("已发布")),
        "{backend}: {e}"
    );
    let e = store
        .confirm_records(2022, &[r5.id], None, &office)
        .await
        .expect_err("confirm in a published period");
    assert!(matches!(e, StoreError::Conflict(_)), "{backend}: {e}");
    let e = store
        .appeal(2022, r2.id, "发改委", "x", &unit_actor)
        .await
        .expect_err("appeal in a published period");
    assert!(matches!(e, StoreError::Conflict(_)), "{backend}: {e}");
    let e = store
        .reopen(2022, " ", &office)
        .await
        .expect_err("reopen without a reason");
    assert_eq!(field_of(&e), "reason", "{backend}");

    // Reopen, confirm the pending record, publish again: the difference is 科技局's.
    store
        .reopen(2022, "科技局记录核实完毕", &office)
        .await
        .expect("reopen");
    store
        .confirm_records(2022, &[r5.id], None, &office)
        .await
        .expect("confirm r5");
    let (p2, diff2, _) = store
        .publish(
            2022,
            "重新发布；督导组打分与指标数据不在本例中",
            true,
            &office,
        )
        .await
        .expect("publish again");
    assert_eq!(p2.seq, 2, "{backend}");
    assert_ne!(p2.hash, p1.hash, "{backend}");
    // 科技局 lost a point and fell from 1st to 19th; 教育局 moved up one place.
    let changes: Vec<_> = diff2
        .iter()
        .map(|c| {
            (
                c.unit.as_str(),
                c.before_total.as_deref(),
                c.after_total.as_deref(),
                c.before_rank,
                c.after_rank,
                c.records_added.clone(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "教育局",
                Some("99.50"),
                Some("99.50"),
                Some(19),
                Some(18),
                vec![]
            ),
            (
                "科技局",
                Some("100.00"),
                Some("99.00"),
                Some(1),
                Some(19),
                vec![r5.id]
            ),
        ],
        "{backend}"
    );
    assert_eq!(
        store.publication_diff(2022, 2).await.expect("diff"),
        diff2,
        "{backend}"
    );

    // As of a date: exactly the records that stood then, scored on their own.
    for d in ["2022-04-30", "2022-06-30", "2022-08-31", "2022-12-31"] {
        let (_, then) = store
            .sheets(2022, Basis::Provisional, Some(d))
            .await
            .expect("as of");
        let fresh_dir = tempfile::tempdir().expect("tmp");
        let fresh = Store::open(&Store::sqlite_url(fresh_dir.path()))
            .await
            .expect("fresh store");
        fresh
            .ensure_period(lvzhi_core::RUBRIC_2022, &office)
            .await
            .expect("period");
        for r in &store.all_records(2022).await.expect("records") {
            let stood = r.date.as_deref().is_some_and(|x| x <= d)
                && r.revoked_at.as_deref().is_none_or(|x| &x[..10] > d);
            if stood {
                let mut n = dated(&r.unit, &r.rule, &r.count.to_string(), "");
                n.date = r.date.clone();
                fresh.add_record(2022, &n, &office).await.expect("copy");
            }
        }
        let expected = fresh.state(2022).await.expect("fresh state");
        for s in &expected.sheets.sheets {
            assert_eq!(
                total_of(&then, &s.name),
                (s.total.to_fixed2(), s.rank),
                "{backend}: {} as of {d}",
                s.name
            );
        }
    }
    let trend = store.trend(2022, "发改委").await.expect("trend");
    assert_eq!(trend.len(), 12, "{backend}");
    // February: nothing; March: r1 changed on 03-20 to 1 × 0.2; May on: r2 (1.00) too.
    assert_eq!(
        [
            trend[1].total.as_str(),
            trend[2].total.as_str(),
            trend[4].total.as_str()
        ],
        ["100.00", "99.80", "98.80"],
        "{backend}: {trend:?}"
    );
    // Before the change, r1 stood as recorded (2 × 0.2), and its replacement did not count yet.
    let (_, mid_march) = store
        .sheets(2022, Basis::Provisional, Some("2022-03-10"))
        .await
        .expect("as of");
    assert_eq!(total_of(&mid_march, "发改委").0, "99.60", "{backend}");

    // What-if: nothing stored, the difference shown.
    let before = store.state(2022).await.expect("state").info.version;
    let w = store
        .what_if(
            2022,
            &[dated("发改委", "2.4", "1", "2022-12-01")],
            &[],
            None,
        )
        .await
        .expect("what if");
    let row = w.rows.iter().find(|r| r.unit == "发改委").expect("row");
    assert_eq!(
        (row.before_total.as_str(), row.after_total.as_str()),
        ("98.80", "97.80"),
        "{backend}"
    );
    assert_eq!(
        store.state(2022).await.expect("state").info.version,
        before,
        "{backend}: a what-if stores nothing"
    );

    // The next year: 2023 from a rubric with one unit fewer, the roster carried over.
    let rubric_2023 = lvzhi_core::RUBRIC_2022
        .replacen("id = \"zjg-2022\"", "id = \"zjg-2023\"", 1)
        .replacen("year = 2022", "year = 2023", 1)
        .replacen("[[units]]\nname = \"气象局\"\nclass = \"B\"\n", "", 1);
    assert_ne!(rubric_2023, lvzhi_core::RUBRIC_2022);
    store
        .create_user(
            "qxj",
            Role::Unit,
            Some("气象局"),
            None,
            "Weather-2022-ok!",
            false,
            &office,
        )
        .await
        .expect("unit account");
    let plan = store
        .plan_next_period(&rubric_2023, &OpenTarget::default(), Some(2022))
        .await
        .expect("plan");
    assert_eq!(
        (
            plan.year,
            plan.units.len(),
            plan.removed.clone(),
            plan.orphaned_accounts.clone(),
            plan.created
        ),
        (
            2023,
            40,
            vec!["气象局".to_owned()],
            vec!["qxj".to_owned()],
            false
        ),
        "{backend}"
    );
    assert!(
        store.state(2023).await.is_err(),
        "{backend}: a plan opens nothing"
    );
    let opened = store
        .open_next_period(&rubric_2023, &OpenTarget::default(), Some(2022), &office)
        .await
        .expect("open 2023");
    assert!(opened.created, "{backend}");
    let s2023 = store.state(2023).await.expect("2023");
    assert_eq!(
        (
            s2023.units.len(),
            s2023.info.status.code(),
            s2023.counts().total()
        ),
        (40, "open", 0),
        "{backend}"
    );
    // Every row of the year's story — revocations, appeals decided three ways, replacements,
    // attachments, publications, accounts — is what the trail says.
    let unexplained = store.replay_audit(20).await.expect("replay");
    assert!(unexplained.is_empty(), "{backend}: {unexplained:?}");
    let e = store
        .open_next_period(&rubric_2023, &OpenTarget::default(), Some(2022), &office)
        .await
        .expect_err("twice");
    assert!(matches!(e, StoreError::Conflict(_)), "{backend}: {e}");
}

/// What a store derived in memory after its writes must be exactly what a fresh reload gives.
fn assert_same_state(
    backend: &str,
    derived: &lvzhi_store::PeriodState,
    reloaded: &lvzhi_store::PeriodState,
) {
    assert_eq!(derived.info, reloaded.info, "{backend}: info");
    assert_eq!(
        derived.rows().collect::<Vec<_>>(),
        reloaded.rows().collect::<Vec<_>>(),
        "{backend}: records"
    );
    assert_eq!(derived.units, reloaded.units, "{backend}: units");
    assert_eq!(
        derived.assessments().collect::<Vec<_>>(),
        reloaded.assessments().collect::<Vec<_>>(),
        "{backend}: scores"
    );
    assert_eq!(
        derived.metrics().collect::<Vec<_>>(),
        reloaded.metrics().collect::<Vec<_>>(),
        "{backend}: metrics"
    );
    assert_eq!(derived.appeals, reloaded.appeals, "{backend}: appeals");
    assert_eq!(
        derived.results_json().expect("derived results"),
        reloaded.results_json().expect("reloaded results"),
        "{backend}: results"
    );
    assert_eq!(derived.sheets, reloaded.sheets, "{backend}: sheets");
    assert_eq!(
        derived.official_sheets, reloaded.official_sheets,
        "{backend}: official sheets"
    );
}

/// Regressions of issue 11, on every backend: what one path for every rule fixed.
#[tokio::test]
async fn one_path_for_every_rule_on_every_backend() {
    for (backend, store, _dir) in backends().await {
        let t = std::sync::Arc::new(std::sync::Mutex::new("2022-04-01T02:00:00.000Z".to_owned()));
        let store = store.with_clock(clock_at(&t));
        let who = Actor::new("admin", "test");
        store
            .ensure_period(lvzhi_core::RUBRIC_2022, &who)
            .await
            .expect("period");

        // A count the core accepts ("3.00") is stored as the core read it, not refused by a
        // second reading of the text.
        let mut r = rec("发改委", "2.3");
        r.count = Some("3.00".into());
        let stored = store
            .add_record(2022, &r, &who)
            .await
            .expect("3.00 is three");
        assert_eq!(stored.count, 3, "{backend}");
        assert_eq!(
            store
                .record(2022, stored.id)
                .await
                .expect("read back")
                .count,
            3,
            "{backend}"
        );

        // Text limits hold on every path: a record, a correction's replacement, a reason.
        let long = "长".repeat(lvzhi_core::input::NOTE_MAX + 1);
        let mut r = rec("发改委", "2.5");
        r.note.clone_from(&long);
        let e = store
            .add_record(2022, &r, &who)
            .await
            .expect_err("note too long");
        assert_eq!(field_of(&e), "note", "{backend}: {e}");
        let e = store
            .revoke_record(2022, stored.id, "更正", None, Some(&r), &who)
            .await
            .expect_err("replacement note too long");
        assert_eq!(field_of(&e), "note", "{backend}: {e}");
        assert_eq!(
            store
                .record(2022, stored.id)
                .await
                .expect("unchanged")
                .status,
            RecordStatus::Recorded,
            "{backend}: a refused correction changes nothing"
        );
        let e = store
            .revoke_record(2022, stored.id, &long, None, None, &who)
            .await
            .expect_err("reason too long");
        assert_eq!(field_of(&e), "reason", "{backend}: {e}");
        let batch = lvzhi_store::Batch {
            label: "长说明".into(),
            records: vec![r.clone()],
            ..lvzhi_store::Batch::default()
        };
        let e = store
            .import(2022, &batch, &who, true)
            .await
            .expect_err("import refuses it too");
        assert!(
            matches!(&e, StoreError::Rows(rows) if rows[0].field == "note"),
            "{backend}: {e}"
        );

        // One clock: the audit trail and the lifecycle's deadlines are dated by the same one.
        let entries = store.audit_page(None, 5).await.expect("trail");
        assert!(
            entries.iter().all(|e| e.at.starts_with("2022-04-01")),
            "{backend}: {entries:?}"
        );
        store
            .confirm_records(2022, &[stored.id], None, &who)
            .await
            .expect("confirm");
        set(&t, "2022-05-01T02:00:00.000Z");
        let e = store
            .appeal(2022, stored.id, "发改委", "理由", &who)
            .await
            .expect_err("the window closed by the store's clock");
        assert!(e.to_string().contains("申诉期"), "{backend}: {e}");
    }
}
