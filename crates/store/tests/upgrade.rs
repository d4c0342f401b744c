//! Upgrading in place (issue 19, point 5; issue 22, point 2): a database made by an earlier
//! release's binary from the sample year (2,794 records, published and signed;
//! `scripts/make-upgrade-fixture`) opens with this code and is the same — for each release kept in
//! `tests/fixtures` (`RELEASES`; `tests/fixtures/README.md` says which commit made each): its one period becomes the root office's `default` assessment, still
//! named by its year; the official results equal the published snapshot's; the audit chain, the
//! checkpoints and the tables against the trail give the same verdict; the publication's signature
//! holds. SQLite always; PostgreSQL when `LVZHI_TEST_POSTGRES_URL` names a server (the dump is
//! loaded with `psql`, which must then be installed).

mod common;

use std::path::{Path, PathBuf};

use lvzhi_core::contract::ResultsDoc;
use lvzhi_store::Store;

/// The releases whose databases are kept: release 0.1.0 (migrations 1–8) and the build of
/// commit e8f14db, the end of issue 19 (offices and periods: migrations 1–11).
const RELEASES: [&str; 2] = ["release-0.1.0", "e8f14db"];

fn fixture_of(release: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(release)
        .join(name)
}

fn fixture(name: &str) -> PathBuf {
    fixture_of(RELEASES[0], name)
}

#[tokio::test]
async fn a_sqlite_database_of_each_earlier_release_upgrades_in_place() {
    for release in RELEASES {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::copy(
            fixture_of(release, "sqlite.db"),
            dir.path().join("lvzhi.db"),
        )
        .expect("copy");
        let store = Store::open(&Store::sqlite_url(dir.path()))
            .await
            .expect("open");
        the_same(&store, release, "audit-checkpoints.jsonl", "keys").await;
        // Opening again changes nothing more.
        drop(store);
        let store = Store::open(&Store::sqlite_url(dir.path()))
            .await
            .expect("reopen");
        the_same(&store, release, "audit-checkpoints.jsonl", "keys").await;
    }
}

#[tokio::test]
async fn a_postgres_database_of_each_earlier_release_upgrades_in_place() {
    for release in RELEASES {
        let Some((_, url, _)) = common::databases()
            .await
            .into_iter()
            .find(|d| d.0 == "postgres")
        else {
            return; // said loudly by common::databases; a failure under CI
        };
        let out = std::process::Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(fixture_of(release, "postgres.sql"))
            .arg(&url)
            .output()
            .expect("psql: install the PostgreSQL client to load the upgrade fixture");
        assert!(
            out.status.success(),
            "{release}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let store = Store::open(&url).await.expect("open");
        the_same(
            &store,
            release,
            "audit-checkpoints-postgres.jsonl",
            "keys-postgres",
        )
        .await;
    }
}

async fn the_same(store: &Store, release: &str, checkpoints: &str, keys: &str) {
    let fixture = |name: &str| fixture_of(release, name);
    // One period: the root office's default assessment, named by its year as before.
    let periods = store.periods().await.expect("periods");
    assert_eq!(periods.len(), 1);
    let p = &periods[0];
    assert_eq!(
        (
            p.key.as_str(),
            p.office.as_str(),
            p.assessment.as_str(),
            p.year
        ),
        ("root.default.2022", "root", "default", 2022)
    );
    assert_eq!(p.id, 2022, "ids stay the years they were");
    assert_eq!(p.office_name, "张家港市安全生产委员会办公室");
    assert_eq!(p.assessment_name, "安委会成员单位安全生产监管履职指标监测");
    assert_eq!(store.period_id("2022", None).await.expect("by year"), 2022);
    let tree = store.office_tree().await.expect("tree");
    assert_eq!(tree.offices.len(), 1);
    assert_eq!(tree.offices[0].name, "张家港市安全生产委员会办公室");
    let users = store.users().await.expect("users");
    assert!(!users.is_empty() && users.iter().all(|u| u.office == "root"));
    // The official results are the published snapshot's, figure for figure.
    let state = store.state(2022).await.expect("state");
    assert_eq!(state.counts().total(), 2794);
    let body: serde_json::Value =
        serde_json::from_str(&store.publication(2022, 1).await.expect("publication"))
            .expect("json");
    let now =
        serde_json::to_value(ResultsDoc::new(&state.rubric, &state.official_sheets)).expect("json");
    assert_eq!(now, body["results"]);
    // The trail: intact, matching its checkpoints and the tables, as the old binary said.
    let public = std::fs::read_to_string(fixture(keys).join("office-sm2.pub.pem")).expect("key");
    let list = lvzhi_seal::CheckpointLog::new(fixture(checkpoints))
        .read(&public)
        .expect("checkpoints");
    assert_eq!(list.len(), 1);
    let report = store.audit_report(&list, true).await.expect("report");
    assert!(report.is_sound(), "{}", report.lines().join("\n"));
    assert_eq!(report.chain.entries, 7);
    // The publication's signature holds over the stored body, with the office's key.
    let sig = store
        .publication_signature(2022, 1)
        .await
        .expect("signature")
        .expect("signed");
    assert_eq!(sig.public_key_pem.trim(), public.trim());
    let der = lvzhi_seal::from_base64(&sig.signature_base64).expect("base64");
    lvzhi_seal::verify(
        &sig.public_key_pem,
        store.publication(2022, 1).await.expect("body").as_bytes(),
        &der,
    )
    .expect("the signature holds");
}

/// Issue 22: opening an older SQLite database copies it into `backups/` before migrating it, and
/// the copy is the old database as it was; a second opening migrates (and copies) nothing.
#[tokio::test]
async fn an_upgrade_keeps_the_database_as_it_was_before() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::copy(fixture("sqlite.db"), dir.path().join("lvzhi.db")).expect("copy");
    let url = Store::sqlite_url(dir.path());
    let before = Store::migration_plan(&url).await.expect("plan");
    assert!(
        before.applied.is_some() && !before.pending.is_empty(),
        "{before:?}"
    );
    assert!(before.unknown.is_empty() && before.refusal().is_none());
    let store = Store::open(&url).await.expect("open");
    let up = store.upgrade().expect("an upgrade").clone();
    assert_eq!(up.plan, before);
    let copy = up.backup.expect("a copy before the migrations");
    assert!(copy.starts_with(dir.path().join("backups")), "{copy:?}");
    let copy_pool = sqlx::AnyPool::connect(&format!("sqlite://{}?mode=ro", copy.display()))
        .await
        .expect("the copy opens");
    let copied: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&copy_pool)
        .await
        .expect("its version");
    assert_eq!(Some(copied), before.applied, "the copy is the old database");
    drop(store);
    let again = Store::open(&url).await.expect("reopen");
    assert!(again.upgrade().is_none(), "nothing more to do");
    assert_eq!(again.not_ready().await, None);
    assert_eq!(
        std::fs::read_dir(dir.path().join("backups"))
            .expect("backups")
            .count(),
        1
    );
}

/// Issue 22: a database a newer program migrated is refused, on both backends, with a sentence
/// that says what to do; nothing is changed.
#[tokio::test]
async fn a_database_newer_than_this_program_is_refused() {
    for (backend, url, _dir) in common::databases().await {
        let store = Store::open(&url).await.expect("open");
        let future = match backend {
            "sqlite" => {
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, X'00', 0)"
            }
            _ => {
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, '\\x00'::bytea, 0)"
            }
        };
        sqlx::query(future)
            .execute(&sqlx::AnyPool::connect(&url).await.expect("pool"))
            .await
            .expect("a newer program's migration");
        assert!(
            store
                .not_ready()
                .await
                .is_some_and(|r| r.contains("较新版本")),
            "{backend}"
        );
        drop(store);
        let plan = Store::migration_plan(&url).await.expect("plan");
        assert_eq!(plan.unknown, vec![9999], "{backend}");
        let Err(e) = Store::open(&url).await else {
            panic!("{backend}: a newer database opened");
        };
        let said = e.to_string();
        assert!(
            said.contains("较新版本") && said.contains("未做任何修改"),
            "{backend}: {said}"
        );
    }
}
