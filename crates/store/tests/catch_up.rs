//! Catching up by change (issue 20): an instance whose cached period is behind another
//! instance's writes re-reads only the units those writes changed (the change log), and ends with
//! the very state a fresh read of the period gives. A gap in the log (a write the log does not
//! describe) makes it read the period whole. SQLite always, PostgreSQL when
//! `LVZHI_TEST_POSTGRES_URL` names a server.

mod common;

use lvzhi_core::access::Duties;
use lvzhi_core::contract::ResultsDoc;
use lvzhi_core::{Basis, NewRecord};
use lvzhi_store::{Actor, PeriodReads, PeriodState, Rights, Role, SQLITE_FRESH, Store};

fn actor(name: &str, role: Role, unit: Option<&str>) -> Actor {
    Actor::new(name, "test").with_rights(Rights {
        office: lvzhi_store::ROOT_OFFICE.into(),
        role,
        duties: Duties::Combined,
        unit: unit.map(str::to_owned),
        supervises: Vec::new(),
    })
}

fn office() -> Actor {
    actor("admin", Role::Admin, None)
}

fn rec(unit: &str, rule: &str, date: &str) -> NewRecord {
    NewRecord {
        unit: unit.into(),
        rule: rule.into(),
        date: Some(date.into()),
        source: "张安办〔2022〕3号".into(),
        ..NewRecord::default()
    }
}

/// Everything a reader can see of a period, as one text to compare.
fn picture(s: &PeriodState) -> serde_json::Map<String, serde_json::Value> {
    let rows: Vec<_> = s.rows().map(|(u, r)| (u, *r)).collect();
    let assessments: Vec<_> = s.assessments().collect();
    let metrics: Vec<_> = s.metrics().collect();
    serde_json::json!({
        "version": s.info.version,
        "status": s.info.status.code(),
        "provisional": ResultsDoc::new(&s.rubric, s.sheets_of(Basis::Provisional)),
        "official": ResultsDoc::new(&s.rubric, s.sheets_of(Basis::Official)),
        "rows": format!("{rows:?}"),
        "assessments": assessments,
        "metrics": metrics,
        "appeals": *s.appeals,
        "counts": format!("{:?}", s.counts()),
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

/// `b`'s state of 2022 after another instance wrote, compared with a fresh instance's.
async fn read_after_writes(backend: &str, url: &str, b: &Store) -> PeriodReads {
    if backend == "sqlite" {
        // On SQLite a version check is trusted for `SQLITE_FRESH` (one service process): past it,
        // the next read asks.
        tokio::time::sleep(SQLITE_FRESH + std::time::Duration::from_millis(30)).await;
    }
    let seen = b.state(2022).await.expect("state on B");
    let fresh = Store::open(url).await.expect("instance C");
    let truth = fresh.state(2022).await.expect("state on C");
    let (seen, truth) = (picture(&seen), picture(&truth));
    for (k, v) in &truth {
        assert!(
            seen.get(k) == Some(v),
            "{backend}: {k} differs from a fresh read"
        );
    }
    b.period_reads()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_instances_writes_are_caught_up_unit_by_unit() {
    for (backend, url, _dir) in common::databases().await {
        let a = Store::open(&url).await.expect("instance A");
        a.ensure_period(lvzhi_core::RUBRIC_2022, &office())
            .await
            .expect("period");
        let b = Store::open(&url).await.expect("instance B");
        b.state(2022).await.expect("B reads");
        assert_eq!(
            b.period_reads(),
            PeriodReads {
                loads: 1,
                catch_ups: 0
            }
        );
        // Records added, confirmed, revoked; a score; metric values; an appeal: all on A.
        let r1 = a
            .add_record(2022, &rec("发改委", "4.2", "2022-03-01"), &office())
            .await
            .expect("r1");
        let r2 = a
            .add_record(2022, &rec("人社局", "4.2", "2022-04-01"), &office())
            .await
            .expect("r2");
        let r3 = a
            .add_record(2022, &rec("发改委", "4.2", "2022-05-01"), &office())
            .await
            .expect("r3");
        a.confirm_records(2022, &[r1.id, r2.id], None, &office())
            .await
            .expect("confirm");
        a.revoke_record(2022, r3.id, "录入有误", None, None, &office())
            .await
            .expect("revoke");
        a.put_assessment(
            2022,
            "人社局",
            "3.4.1",
            "第一督导组",
            "4.2",
            None,
            &office(),
        )
        .await
        .expect("score");
        for (m, v) in [
            ("hazard_entries", "300"),
            ("hazard_entries_suzhou_avg", "150"),
            ("hazard_entries_last_year", "300"),
        ] {
            a.put_metric(2022, "人社局", m, v, None, &office())
                .await
                .expect("metric");
        }
        a.appeal(
            2022,
            r1.id,
            "发改委",
            "述职报告已列入，见附件",
            &actor("fgw", Role::Unit, Some("发改委")),
        )
        .await
        .expect("appeal");
        let reads = read_after_writes(backend, &url, &b).await;
        assert_eq!(
            reads,
            PeriodReads {
                loads: 1,
                catch_ups: 1
            },
            "{backend}: caught up by change, not read again"
        );
        // A score changed and then taken back to the same unit, several versions at once.
        a.put_assessment(
            2022,
            "人社局",
            "3.4.1",
            "第一督导组",
            "3.5",
            Some(1),
            &office(),
        )
        .await
        .expect("score again");
        let reads = read_after_writes(backend, &url, &b).await;
        assert_eq!(reads.catch_ups, 2, "{backend}");
        // A gap in the log (here: its rows deleted behind the store's back, as for writes made
        // before the log existed) is never guessed across: the period is read whole.
        a.add_record(2022, &rec("教育局", "4.2", "2022-06-01"), &office())
            .await
            .expect("r4");
        let pool = sqlx::AnyPool::connect(&url).await.expect("pool");
        sqlx::query("DELETE FROM period_changes")
            .execute(&pool)
            .await
            .expect("delete");
        a.add_record(2022, &rec("人社局", "4.2", "2022-07-01"), &office())
            .await
            .expect("r5");
        let reads = read_after_writes(backend, &url, &b).await;
        assert_eq!(
            reads,
            PeriodReads {
                loads: 2,
                catch_ups: 2
            },
            "{backend}: a gap in the log reads the period whole"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_readers_of_a_period_not_yet_read_load_it_once() {
    for (backend, url, _dir) in common::databases().await {
        let a = Store::open(&url).await.expect("instance A");
        a.ensure_period(lvzhi_core::RUBRIC_2022, &office())
            .await
            .expect("period");
        for i in 0..40 {
            a.add_record(2022, &rec("发改委", "4.2", "2022-03-01"), &office())
                .await
                .unwrap_or_else(|e| panic!("record {i}: {e}"));
        }
        // Sixteen requests arrive at once at an instance that has not read the period: one load.
        let b = std::sync::Arc::new(Store::open(&url).await.expect("instance B"));
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move { b.state(2022).await.map(|s| s.info.version) })
            })
            .collect();
        let mut versions = std::collections::BTreeSet::new();
        for r in readers {
            versions.insert(r.await.expect("joined").expect("state"));
        }
        assert_eq!(versions.len(), 1, "{backend}: one state for all");
        assert_eq!(
            b.period_reads(),
            PeriodReads {
                loads: 1,
                catch_ups: 0
            },
            "{backend}: single-flight"
        );
        // Again, after a write on A: the readers behind it catch up once between them.
        a.add_record(2022, &rec("人社局", "4.2", "2022-04-01"), &office())
            .await
            .expect("record");
        if backend == "sqlite" {
            tokio::time::sleep(SQLITE_FRESH + std::time::Duration::from_millis(30)).await;
        }
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move { b.state(2022).await.map(|s| s.info.version) })
            })
            .collect();
        for r in readers {
            r.await.expect("joined").expect("state");
        }
        assert_eq!(
            b.period_reads(),
            PeriodReads {
                loads: 1,
                catch_ups: 1
            },
            "{backend}: one catch-up for sixteen readers"
        );
    }
}

/// PostgreSQL: while many reads run at once on instance B (so that version asks are in flight and
/// shared), a read on B that begins after a write on A was acknowledged always shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_version_asks_never_answer_a_read_with_an_older_version() {
    for (backend, url, _dir) in common::databases().await {
        if backend != "postgres" {
            continue; // SQLite trusts a check for SQLITE_FRESH by design (one service process)
        }
        let a = Store::open(&url).await.expect("instance A");
        a.ensure_period(lvzhi_core::RUBRIC_2022, &office())
            .await
            .expect("period");
        let b = std::sync::Arc::new(Store::open(&url).await.expect("instance B"));
        b.state(2022).await.expect("B reads");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let background: Vec<_> = (0..24)
            .map(|_| {
                let (b, stop) = (b.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        b.state(2022).await.expect("background read");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        for i in 0..40 {
            a.add_record(2022, &rec("发改委", "4.2", "2022-03-01"), &office())
                .await
                .unwrap_or_else(|e| panic!("write {i}: {e}"));
            let written = a.state(2022).await.expect("A's state").info.version;
            let seen = b.state(2022).await.expect("B's read").info.version;
            assert!(
                seen >= written,
                "read {i} on B began after version {written} was acknowledged and saw {seen}"
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut reads = 0;
        for t in background {
            reads += t.await.expect("joined");
        }
        assert!(reads > 40, "the background reads ran ({reads})");
    }
}
