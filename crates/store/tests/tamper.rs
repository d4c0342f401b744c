//! Findings 5 and 6 of the external test, reproduced by tampering with the database directly on
//! every backend: a cut tail of the trail (with the delete trigger dropped and restored), a status
//! changed by SQL, a renamed attachment, a deleted record, a changed account. The hash chain alone
//! passes each of them (asserted: that is the finding); the checkpoints and the replay of the
//! tables against the trail catch each, naming the row.

mod common;

use lvzhi_core::{Decision, NewRecord};
use lvzhi_store::{Actor, Anchor, Backend, Batch, CheckpointReason, Role, Store};

fn rec(unit: &str, rule: &str, date: &str) -> NewRecord {
    NewRecord {
        unit: unit.into(),
        rule: rule.into(),
        count: Some("1".into()),
        date: Some(date.into()),
        source: "张安办〔2022〕3号".into(),
        ..NewRecord::default()
    }
}

async fn sql(store: &Store, text: &str) {
    sqlx::raw_sql(text)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

/// Runs `body` with a trigger dropped, then puts the trigger back as the migration made it.
async fn without_trigger(store: &Store, trigger: &str, table: &str, message: &str, body: &str) {
    without(store, trigger, "DELETE", table, message, body).await;
}

/// Runs `body` with the trigger before `event` on `table` dropped, then puts it back.
async fn without(
    store: &Store,
    trigger: &str,
    event: &str,
    table: &str,
    message: &str,
    body: &str,
) {
    // One script on one connection: drop, tamper, put back.
    let script = match store.backend() {
        Backend::Sqlite => format!(
            "DROP TRIGGER {trigger}; {body}; CREATE TRIGGER {trigger} BEFORE {event} ON {table} \
             BEGIN SELECT RAISE(ABORT, '{message}'); END;"
        ),
        Backend::Postgres => format!(
            "DROP TRIGGER {trigger} ON {table}; {body}; CREATE TRIGGER {trigger} BEFORE {event} \
             ON {table} FOR EACH ROW EXECUTE FUNCTION lvzhi_refuse('{message}');"
        ),
    };
    sql(store, &script).await;
}

async fn report(store: &Store) -> lvzhi_store::AuditReport {
    let checkpoints = store.own_checkpoints().expect("checkpoints");
    store
        .audit_report(&checkpoints, true)
        .await
        .expect("report")
}

#[tokio::test]
async fn tampering_with_the_database_is_caught_on_every_backend() {
    for (name, store, _dir) in common::backends().await {
        tampering(name, store).await;
    }
}

async fn tampering(backend: &str, store: Store) {
    let keys = tempfile::tempdir().expect("tmp");
    let (anchor, created) = Anchor::open(
        &keys.path().join("keys"),
        keys.path().join("audit-checkpoints.jsonl"),
        false,
    )
    .expect("anchor");
    assert!(created);
    let store = store.with_anchor(anchor);
    let office = Actor::new("admin", "test");
    let unit = Actor::new("fgw", "test");
    store
        .ensure_period(lvzhi_core::RUBRIC_2022, &office)
        .await
        .expect("period");
    let r1 = store
        .add_record(2022, &rec("发改委", "2.3", "2022-03-01"), &office)
        .await
        .expect("r1");
    let r2 = store
        .add_record(2022, &rec("教育局", "2.5", "2022-04-01"), &office)
        .await
        .expect("r2");
    let batch = Batch {
        label: "导入".into(),
        records: vec![
            rec("公安局", "2.7", "2022-05-01"),
            rec("民政局", "2.7", "2022-05-02"),
        ],
        ..Batch::default()
    };
    store
        .import(2022, &batch, &office, false)
        .await
        .expect("import");
    let all = store.all_records(2022).await.expect("records");
    let imported: Vec<i64> = all.iter().map(|r| r.id).filter(|&i| i > r2.id).collect();
    assert_eq!(imported.len(), 2, "{backend}");
    store
        .confirm_records(2022, &[r1.id, r2.id], None, &office)
        .await
        .expect("confirm");
    store
        .appeal(2022, r1.id, "发改委", "已整改，见附件", &unit)
        .await
        .expect("appeal");
    store
        .decide(2022, r1.id, Decision::Upheld, "证据充分", None, &office)
        .await
        .expect("decide");
    let pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let att = store
        .add_attachment(2022, r2.id, "通报.pdf", pdf, &office)
        .await
        .expect("attachment");
    store
        .create_user(
            "fgw",
            Role::Unit,
            Some("发改委"),
            None,
            "Lvzhi-Test-2026!",
            true,
            &office,
        )
        .await
        .expect("user");
    store.set_disabled("fgw", true, &office).await.expect("off");
    let (published, _, _) = store
        .publish(2022, "审定；数据另行补充", true, &office)
        .await
        .expect("publish");

    // Untouched: every check holds; the publication is signed and wrote a checkpoint.
    let r = report(&store).await;
    assert!(r.is_sound(), "{backend}: {:?}", r.lines());
    let cps = store.own_checkpoints().expect("cps");
    assert_eq!(cps.len(), 1, "{backend}");
    assert_eq!(cps[0].reason, CheckpointReason::Publication, "{backend}");
    let sig = store
        .publication_signature(2022, published.seq)
        .await
        .expect("signature")
        .expect("signed");
    let body = store.publication(2022, published.seq).await.expect("body");
    let der = lvzhi_seal::from_base64(&sig.signature_base64).expect("b64");
    lvzhi_seal::verify(&sig.public_key_pem, body.as_bytes(), &der).expect("verifies");
    assert_eq!(
        published.key_fingerprint.as_deref(),
        Some(sig.fingerprint.as_str())
    );
    assert!(
        lvzhi_seal::verify(
            &sig.public_key_pem,
            body.replace("审定", "审核").as_bytes(),
            &der
        )
        .is_err()
    );

    // 6a: a status set by SQL.
    sql(
        &store,
        &format!(
            "UPDATE records SET status = 'revoked' WHERE id = {}",
            imported[0]
        ),
    )
    .await;
    let r = report(&store).await;
    assert!(r.chain.first_bad.is_none(), "the chain alone passes");
    assert!(
        r.unexplained
            .first()
            .is_some_and(|u| u.starts_with(&format!("扣分记录 #{}：", imported[0]))
                && u.contains("已撤销")
                && u.contains("待确认")),
        "{backend}: {:?}",
        r.unexplained
    );
    sql(
        &store,
        &format!(
            "UPDATE records SET status = 'recorded' WHERE id = {}",
            imported[0]
        ),
    )
    .await;
    assert!(report(&store).await.is_sound(), "{backend}: put back");

    // 6b: a renamed attachment.
    sql(
        &store,
        &format!(
            "UPDATE attachments SET name = '整改报告.pdf' WHERE id = {}",
            att.id
        ),
    )
    .await;
    let r = report(&store).await;
    assert!(
        r.unexplained.first().is_some_and(|u| u
            .starts_with(&format!("附件 #{}「整改报告.pdf」", att.id))
            && u.contains("通报.pdf")),
        "{backend}: {:?}",
        r.unexplained
    );
    sql(
        &store,
        &format!(
            "UPDATE attachments SET name = '通报.pdf' WHERE id = {}",
            att.id
        ),
    )
    .await;

    // An account given another role.
    sql(&store, "UPDATE users SET role = 'admin' WHERE name = 'fgw'").await;
    let r = report(&store).await;
    assert!(
        r.unexplained
            .first()
            .is_some_and(|u| u.starts_with("账号「fgw」")),
        "{backend}: {:?}",
        r.unexplained
    );
    sql(&store, "UPDATE users SET role = 'unit' WHERE name = 'fgw'").await;
    // A publication's snapshot edited, its update trigger dropped.
    let edit = |from: &str, to: &str| {
        format!("UPDATE publications SET body = replace(body, '{from}', '{to}') WHERE year = 2022")
    };
    let refuse = "publications cannot be changed";
    without(
        &store,
        "publications_no_update",
        "UPDATE",
        "publications",
        refuse,
        &edit("审定", "审核"),
    )
    .await;
    let r = report(&store).await;
    assert!(
        r.unexplained
            .first()
            .is_some_and(|u| u.contains("第 1 次发布") && u.contains("内容与其哈希不符")),
        "{backend}: {:?}",
        r.unexplained
    );
    without(
        &store,
        "publications_no_update",
        "UPDATE",
        "publications",
        refuse,
        &edit("审核", "审定"),
    )
    .await;
    assert!(report(&store).await.is_sound(), "{backend}: all put back");

    // 6c: a record deleted with its trigger dropped.
    without_trigger(
        &store,
        "records_no_delete",
        "records",
        "records cannot be removed",
        &format!("DELETE FROM records WHERE id = {}", imported[1]),
    )
    .await;
    let r = report(&store).await;
    assert!(r.chain.first_bad.is_none(), "the chain alone passes");
    assert!(
        r.unexplained
            .first()
            .is_some_and(|u| u.starts_with(&format!("扣分记录 #{}：", imported[1]))
                && u.contains("被删除了")),
        "{backend}: {:?}",
        r.unexplained
    );

    // 5: the tail cut, 1 entry then 50 more, with the trigger dropped and restored.
    for i in 0..50 {
        // Entries enough to cut 50 more; the account ends disabled, as the trail says.
        store
            .set_disabled("fgw", i % 2 == 1, &office)
            .await
            .expect("toggle");
    }
    let cp = store
        .checkpoint(CheckpointReason::Manual)
        .await
        .expect("checkpoint");
    let mut cut_so_far = 0;
    for cut in [1, 50] {
        cut_so_far += cut;
        without_trigger(
            &store,
            "audit_no_delete",
            "audit",
            "audit entries cannot be removed",
            &format!(
                "DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id DESC LIMIT {cut})"
            ),
        )
        .await;
        let r = report(&store).await;
        assert!(
            r.chain.first_bad.is_none(),
            "{backend}: the chain alone passes a cut tail (finding 5)"
        );
        let head = store.audit_head().await.expect("head").map_or(0, |h| h.0);
        let why = r.checkpoints.first_bad.clone().unwrap_or_default();
        assert_eq!(head, cp.entry - cut_so_far, "{backend}");
        // The first checkpoint past the cut is named: the manual one after one entry, the
        // publication's after fifty more.
        assert!(
            why.contains(&format!("审计链只到第 {head} 条")) && why.contains("被删除了"),
            "{backend}: {why}"
        );
        if cut == 1 {
            assert!(
                why.contains(&format!("已到第 {} 条", cp.entry)) && why.contains("末尾的 1 条"),
                "{backend}: {why}"
            );
        }
        assert!(!r.is_sound());
    }
}
