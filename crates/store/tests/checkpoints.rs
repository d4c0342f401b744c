//! Checkpoints at a count of entries (issue 20): the trail grown by the set number since the last
//! checkpoint gets one, signed, with the reason "条数"; below the number it gets none.

mod common;

use lvzhi_core::NewRecord;
use lvzhi_store::{Actor, Anchor, CheckpointReason};

#[tokio::test]
async fn a_grown_trail_gets_a_checkpoint_by_count() {
    for (backend, store, _dir) in common::backends().await {
        let keys = tempfile::tempdir().expect("tmp");
        let (anchor, _) = Anchor::open(
            &keys.path().join("keys"),
            keys.path().join("audit-checkpoints.jsonl"),
            false,
        )
        .expect("anchor");
        let store = store.with_anchor(anchor);
        let office = Actor::new("admin", "test");
        store
            .ensure_period(lvzhi_core::RUBRIC_2022, &office)
            .await
            .expect("period");
        for _ in 0..3 {
            let rec = NewRecord {
                unit: "发改委".into(),
                rule: "4.2".into(),
                source: "x".into(),
                ..NewRecord::default()
            };
            store.add_record(2022, &rec, &office).await.expect("record");
        }
        let head = store.audit_head().await.expect("head").expect("entries").0;
        assert_eq!(
            store.checkpoint_if_grown(0, head + 1).await.expect("check"),
            None,
            "{backend}: below the count, none"
        );
        assert!(
            store.own_checkpoints().expect("file").is_empty(),
            "{backend}"
        );
        assert_eq!(
            store.checkpoint_if_grown(0, head).await.expect("check"),
            Some(head),
            "{backend}: at the count, one"
        );
        let cps = store.own_checkpoints().expect("file (signatures checked)");
        assert_eq!(cps.len(), 1, "{backend}");
        assert_eq!(
            (cps[0].entry, cps[0].reason),
            (head, CheckpointReason::Entries),
            "{backend}"
        );
        assert_eq!(
            store.checkpoint_if_grown(head, 1).await.expect("check"),
            None,
            "{backend}: nothing new since"
        );
    }
}
