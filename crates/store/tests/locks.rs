//! Locks per period (issue 20), on PostgreSQL, where several instances share one database: while
//! another instance is in the middle of a write of period 2022 (here: a connection holding that
//! period's advisory lock, as such a write does for its whole transaction), a login goes through
//! at once, and a write of 2022 waits for it, then goes through. On SQLite one writer at a time is
//! the design (one file), so there is nothing to show.

mod common;

use std::time::Duration;

use lvzhi_core::NewRecord;
use lvzhi_core::access::Duties;
use lvzhi_store::{Actor, Rights, Role, Store};
use sqlx::Connection;

fn office() -> Actor {
    Actor::new("admin", "test").with_rights(Rights {
        office: lvzhi_store::ROOT_OFFICE.into(),
        role: Role::Admin,
        duties: Duties::Combined,
        unit: None,
        supervises: Vec::new(),
    })
}

/// Period `id`'s advisory lock, as `store/src/locks.rs` keys it.
fn period_key(id: i64) -> i64 {
    (1 << 40) + id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_does_not_wait_for_a_period_write_another_instance_holds() {
    let mut ran = false;
    for (backend, url, _dir) in common::databases().await {
        if backend != "postgres" {
            continue;
        }
        ran = true;
        let store = Store::open(&url).await.expect("store");
        store
            .ensure_period(lvzhi_core::RUBRIC_2022, &office())
            .await
            .expect("period");
        store
            .create_user(
                "recorder1",
                Role::Recorder,
                None,
                None,
                "Recorder-2022-ok",
                false,
                &office(),
            )
            .await
            .expect("recorder");
        let mut other = sqlx::AnyConnection::connect(&url)
            .await
            .expect("the other instance");
        sqlx::query(&format!("SELECT pg_advisory_lock({})", period_key(2022)))
            .execute(&mut other)
            .await
            .expect("hold the period");
        // A login (and its audit entry) while the period is held elsewhere.
        let login = tokio::time::timeout(
            Duration::from_secs(20),
            store.login("recorder1", "Recorder-2022-ok", "test", None),
        )
        .await
        .expect("a login never waits for a business write")
        .expect("login");
        assert!(login.is_some(), "the right password logs in");
        // A write of the same period waits for the other instance's.
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                let rec = NewRecord {
                    unit: "发改委".into(),
                    rule: "4.2".into(),
                    date: Some("2022-03-01".into()),
                    source: "张安办〔2022〕3号".into(),
                    ..NewRecord::default()
                };
                store.add_record(2022, &rec, &office()).await
            })
        };
        let mut writer = std::pin::pin!(writer);
        assert!(
            tokio::time::timeout(Duration::from_millis(500), &mut writer)
                .await
                .is_err(),
            "a write of 2022 waits while another instance writes 2022"
        );
        sqlx::query(&format!("SELECT pg_advisory_unlock({})", period_key(2022)))
            .execute(&mut other)
            .await
            .expect("release");
        let added = tokio::time::timeout(Duration::from_secs(20), writer)
            .await
            .expect("the write goes through once the other is done")
            .expect("task")
            .expect("added");
        assert!(added.id > 0);
    }
    if !ran {
        eprintln!(
            "locks.rs: PostgreSQL 不可用（LVZHI_TEST_POSTGRES_URL 未设置），按期加锁的测试未运行 / \
             NOT RUN: per-period locks need PostgreSQL"
        );
    }
}
