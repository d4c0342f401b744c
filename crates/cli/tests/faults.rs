//! Faults of a province's deployment, kept true (issue 20), with the real binary on PostgreSQL:
//!
//! - PostgreSQL restarted under a stream of writes: every write is answered 201, or 503 with
//!   `Retry-After` (and then tried again by its client), never 500; every acknowledged write is
//!   kept. While the database stays away, reads and writes are answered 503 with `Retry-After`;
//!   once it is back, the service is too, without a restart of its own.
//! - One of two instances killed (SIGKILL) in the middle of a large import: the other keeps
//!   serving, no part of the import is ever visible, and the same file can then be imported whole.
//!
//! The first needs a PostgreSQL of its own to restart (a Debian cluster made for the test, so the
//! shared server other tests use is never touched): it runs as root with `pg_createcluster` at
//! hand. The second uses `LVZHI_TEST_POSTGRES_URL`. Under `CI=true` a missing one is a failure.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Server, own_password, raw, start_with};

/// Says loudly that a fault test could not run; under CI that is a failure.
fn cannot_run(what: &str) {
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "CI=true but {what}"
    );
    eprintln!("faults.rs: NOT RUN: {what}");
}

/// A PostgreSQL cluster of this test's own, on a free port; stopped and dropped at the end.
struct Cluster {
    version: String,
    name: String,
    port: u16,
}

impl Cluster {
    fn create() -> Option<Cluster> {
        let tools = Command::new("pg_lsclusters").arg("-h").output();
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        if tools.is_err() || !root {
            cannot_run(
                "restarting PostgreSQL needs root and Debian's postgresql-common (pg_createcluster)",
            );
            return None;
        }
        let version = std::fs::read_dir("/usr/lib/postgresql")
            .expect("/usr/lib/postgresql")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .max()
            .expect("a PostgreSQL version")
            .to_string();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster {
            version,
            name: format!("lvzhi_fault_{}", std::process::id()),
            port,
        };
        cluster.run("pg_createcluster", &["-p", &port.to_string()]);
        cluster.ctl("start");
        let sql = "CREATE ROLE lvzhi LOGIN SUPERUSER PASSWORD 'lvzhi-test'";
        let out = Command::new("su")
            .args(["postgres", "-c"])
            .arg(format!("psql -q -p {port} -c \"{sql}\""))
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(cluster)
    }

    fn url(&self) -> String {
        format!(
            "postgres://lvzhi:lvzhi-test@127.0.0.1:{}/postgres",
            self.port
        )
    }

    fn run(&self, tool: &str, extra: &[&str]) {
        let out = Command::new(tool)
            .args(extra)
            .args([&self.version, &self.name])
            .output()
            .expect(tool);
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctlcluster … start | stop | restart` (stop and restart in fast mode: sessions ended).
    fn ctl(&self, action: &str) {
        let out = Command::new("pg_ctlcluster")
            .args(["-m", "fast", &self.version, &self.name, action])
            .output()
            .expect("pg_ctlcluster");
        assert!(
            out.status.success(),
            "pg_ctlcluster {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", &self.version, &self.name])
            .output();
    }
}

/// `lvzhi` with the database given by its URL.
fn lvzhi_on(url: &str, data: &std::path::Path, args: &[&str]) -> common::Run {
    let out = Command::new(env!("CARGO_BIN_EXE_lvzhi"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env("LVZHI_DATABASE_URL", url)
        .current_dir(data)
        .output()
        .expect("lvzhi runs");
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A server over the database at `url` with the 2022 period open, and an admin token.
fn serve_on(url: &str, data: &std::path::Path, open: bool) -> (Server, String) {
    if open {
        let run = lvzhi_on(url, data, &["period", "open", "2022", "--yes"]);
        assert_eq!(run.code, 0, "period open: {}", run.stderr);
    }
    let (server, _) = start_with(data, &["--database-url", url], &[]);
    own_password(
        server.port,
        "admin",
        "Admin-Pass-2022",
        "Admin-Own-Pass-2022",
    );
    let run = lvzhi_on(url, data, &["token", "create", "--user", "admin"]);
    assert_eq!(run.code, 0, "token: {}", run.stderr);
    (server, run.stdout.trim().to_owned())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Every record id stored, read straight from the database.
fn stored_ids(url: &str) -> std::collections::BTreeSet<i64> {
    column_on(url, "SELECT id FROM records")
        .into_iter()
        .collect()
}

/// One statement on the database at `url`: the first column of every row it answers (none for a
/// statement that answers no rows).
fn column_on(url: &str, sql: &str) -> Vec<i64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        use sqlx::Row as _;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.expect("connect");
        let rows = sqlx::query(sql).fetch_all(&pool).await.expect(sql);
        pool.close().await;
        rows.iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok())
            .collect()
    })
}

/// A 503 must say when to try again.
fn assert_retry_after(status: u16, head: &str, what: &str) {
    assert_eq!(status, 503, "{what}: {head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: "),
        "{what}: a 503 says when to try again: {head}"
    );
}

#[test]
fn postgresql_restarted_under_writes_loses_nothing_and_a_database_away_is_a_503() {
    let Some(cluster) = Cluster::create() else {
        return;
    };
    let url = cluster.url();
    let dir = tempfile::tempdir().expect("tmp");
    let (server, tok) = serve_on(&url, dir.path(), true);
    let port = server.port;
    let acked = Arc::new(AtomicUsize::new(0));
    let counted = acked.clone();
    let auth = bearer(&tok);
    let writer = std::thread::spawn(move || {
        let units = ["发改委", "教育局", "科技局", "工信局", "公安局"];
        let (mut ids, mut unavailable) = (Vec::new(), 0usize);
        for i in 0..300 {
            let body = format!(
                r#"{{"unit":"{}","rule":"4.2","note":"第{i}条"}}"#,
                units[i % units.len()]
            );
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let (status, head, answer) = raw(
                    port,
                    "POST",
                    "/api/v1/periods/2022/records",
                    &[
                        ("Authorization", &auth),
                        ("Content-Type", "application/json"),
                    ],
                    &body,
                );
                if status == 201 {
                    let v: serde_json::Value = serde_json::from_str(&answer).expect("json");
                    ids.push(v["record"]["id"].as_i64().expect("id"));
                    counted.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                assert_retry_after(status, &head, &format!("write {i}: {answer}"));
                unavailable += 1;
                assert!(Instant::now() < deadline, "write {i} never went through");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        (ids, unavailable)
    });
    // Restarted once a stream of writes is under way (a hundred acknowledged).
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.load(Ordering::SeqCst) < 100 {
        assert!(
            Instant::now() < deadline,
            "the writes did not get under way"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    cluster.ctl("restart");
    let (ids, unavailable) = writer.join().expect("writer");
    eprintln!(
        "{} writes acknowledged across a restart, {unavailable} answers of 503",
        ids.len()
    );
    let stored = stored_ids(&url);
    let lost: Vec<&i64> = ids.iter().filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert_eq!(ids.len(), 300);

    // The database away: reads and writes are a 503 with Retry-After, in a bounded time.
    cluster.ctl("stop");
    let auth = bearer(&tok);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    for (method, path, body) in [
        ("GET", "/api/v1/periods/2022/results", ""),
        (
            "POST",
            "/api/v1/periods/2022/records",
            r#"{"unit":"发改委","rule":"4.2"}"#,
        ),
        ("GET", "/healthz", ""),
    ] {
        let (status, head, answer) = raw(port, method, path, &headers, body);
        if path == "/healthz" {
            assert_eq!(status, 503, "{answer}");
        } else {
            assert_retry_after(status, &head, &format!("{method} {path}: {answer}"));
            assert!(answer.contains("数据库暂时无法访问"), "{answer}");
        }
    }
    // Back: the service is too, by itself.
    cluster.ctl("start");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, _, answer) = raw(
            port,
            "POST",
            "/api/v1/periods/2022/records",
            &headers,
            r#"{"unit":"发改委","rule":"4.2","note":"恢复后"}"#,
        );
        if status == 201 {
            break;
        }
        assert_eq!(status, 503, "{answer}");
        assert!(Instant::now() < deadline, "the service did not come back");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(stored_ids(&url).len(), 301);
    drop(server);
}

/// A fresh database on the server `LVZHI_TEST_POSTGRES_URL` names, or `None` (said loudly).
fn fresh_database() -> Option<String> {
    let Ok(admin) = std::env::var("LVZHI_TEST_POSTGRES_URL") else {
        cannot_run(
            "LVZHI_TEST_POSTGRES_URL is not set (export LVZHI_TEST_POSTGRES_URL=$(scripts/postgres))",
        );
        return None;
    };
    let name = format!("lvzhi_kill_{}", std::process::id());
    let (base, _) = admin
        .rsplit_once('/')
        .expect("LVZHI_TEST_POSTGRES_URL must end with /DATABASE");
    sql_on(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
    sql_on(&admin, &format!("CREATE DATABASE {name}"));
    Some(format!("{base}/{name}"))
}

/// One statement on the database at `url`: the first column of its first row, if any.
fn sql_on(url: &str, sql: &str) -> Option<i64> {
    column_on(url, sql).first().copied()
}

/// A generated year for the 2022 roster: its units file (with the 专委会 tags the records need),
/// its records file and the number of records.
fn large_records_file(per_unit: u32) -> (String, String, usize) {
    use lvzhi_devtools::{Plan, roster, write_year};
    let rubric = lvzhi_core::Rubric::from_toml(lvzhi_core::RUBRIC_2022).expect("rubric");
    let units = roster(&rubric, 1);
    let plan = Plan {
        seed: 20,
        records_per_unit: per_unit,
        veto_per_mille: 0,
        missing_per_mille: 0,
    };
    let (mut roster, mut records) = (Vec::new(), Vec::new());
    write_year(
        &rubric,
        &units,
        &plan,
        &mut roster,
        &mut records,
        std::io::sink(),
        std::io::sink(),
    )
    .expect("generate");
    let text = String::from_utf8(records).expect("utf-8");
    let rows = text.lines().count() - 1;
    (String::from_utf8(roster).expect("utf-8"), text, rows)
}

/// A multipart body with the field `file`, and its content type.
fn multipart(name: &str, content: &str) -> (String, String) {
    let boundary = "lvzhi-fault-boundary-20";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// Sends a request and reads until the peer hangs up, whatever happens (the peer is to be killed).
fn send_regardless(port: u16, head: &str, body: &str) {
    use std::io::{Read as _, Write as _};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body.as_bytes());
    let _ = s.read_to_end(&mut Vec::new());
}

#[test]
fn an_instance_killed_in_the_middle_of_an_import_leaves_nothing_half_done() {
    let Some(url) = fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (a, tok) = serve_on(&url, dir.path(), true);
    let (b, _) = start_with(dir.path(), &["--database-url", &url], &[]);
    let auth = bearer(&tok);
    let json = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let results = |port: u16| {
        let (status, _, answer) = raw(port, "GET", "/api/v1/periods/2022/results", &json, "");
        assert_eq!(status, 200, "{answer}");
        answer
    };
    let count = || sql_on(&url, "SELECT COUNT(*) FROM records").expect("count");
    assert_eq!(count(), 0);

    let (roster, file, rows) = large_records_file(2500);
    assert!(rows > 50_000, "{rows} rows");
    let (body, content_type) = multipart("units.csv", &roster);
    let (status, _, answer) = raw(
        a.port,
        "POST",
        "/api/v1/periods/2022/import/units",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", content_type.as_str()),
        ],
        &body,
    );
    assert_eq!(status, 200, "units: {answer}");
    let before = results(b.port);
    let (body, content_type) = multipart("records.csv", &file);
    let path = "/api/v1/periods/2022/import/records?duplicates=import";
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
         Authorization: {auth}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        a.port,
        body.len()
    );
    let port_a = a.port;
    let sender = {
        let body = body.clone();
        std::thread::spawn(move || send_regardless(port_a, &head, &body))
    };
    // Killed once A's transaction is writing the records.
    let writing = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                   AND pid <> pg_backend_pid() AND state <> 'idle' \
                   AND query ILIKE '%INSERT INTO records%'";
    let deadline = Instant::now() + Duration::from_secs(120);
    while sql_on(&url, writing) != Some(1) {
        assert!(Instant::now() < deadline, "the import never began writing");
        assert!(
            !sender.is_finished(),
            "the import ended before it was seen writing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // B serves while A imports: a read does not wait for a write.
    assert_eq!(results(b.port), before);
    let mut a = a;
    a.child.kill().expect("SIGKILL");
    a.child.wait().expect("reaped");
    sender.join().expect("sender");

    // B keeps serving, reads and writes; nothing of the import is visible, now or later.
    assert_eq!(results(b.port), before);
    let (status, _, answer) = raw(
        b.port,
        "POST",
        "/api/v1/periods/2022/records",
        &json,
        r#"{"unit":"发改委","rule":"4.2","note":"实例中断后"}"#,
    );
    assert_eq!(status, 201, "{answer}");
    assert_eq!(count(), 1, "no part of the killed import is kept");
    // The same file imports whole on B.
    let auth_b = [
        ("Authorization", auth.as_str()),
        ("Content-Type", content_type.as_str()),
    ];
    let (status, _, answer) = raw(b.port, "POST", path, &auth_b, &body);
    assert_eq!(status, 200, "{answer}");
    let v: serde_json::Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(v["imported"].as_u64(), Some(rows as u64), "{answer}");
    assert_eq!(count(), 1 + rows as i64);
    drop(b);
}
