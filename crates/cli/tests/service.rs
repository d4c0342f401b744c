//! The real binary as a service: `serve --demo` on port 0 answers `/results` with exactly the object
//! `lvzhi score --json` prints for the same sample year; and a server killed with SIGKILL in the
//! middle of a stream of writes comes back with every acknowledged write and an intact audit chain.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{http, lvzhi, start, token};

#[test]
fn served_results_equal_the_command_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = start(dir.path(), true);
    let tok = token(dir.path(), server.port);
    let (status, body) = http(
        server.port,
        "GET",
        "/api/v1/periods/2022/results",
        &tok,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let served: serde_json::Value = serde_json::from_str(&body).expect("json");
    let cli = common::score_sample(true);
    let printed: serde_json::Value = serde_json::from_str(&cli.stdout).expect("json");
    assert_eq!(served, printed);
    let (status, _) = http(
        server.port,
        "GET",
        "/api/v1/periods/2022/results",
        "lvz_wrong",
        None,
    );
    assert_eq!(status, 401);

    // The demo's 督导组 supervise the units their sample scores name (issue 18): an assessor's
    // first page has units to score.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let groups = rt.block_on(async {
        let store = lvzhi_store::Store::open(&lvzhi_store::Store::sqlite_url(dir.path()))
            .await
            .expect("store");
        store.groups("root").await.expect("groups")
    });
    assert_eq!(groups.len(), 8, "{groups:?}");
    let first = groups
        .iter()
        .find(|(g, _)| g == "第一督导组")
        .expect("第一督导组");
    assert!(first.1.contains(&"发改委".to_owned()), "{groups:?}");
    assert!(groups.iter().all(|(_, units)| !units.is_empty()));
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut server = start(dir.path(), false);
    let tok = token(dir.path(), server.port);
    let units = ["发改委", "教育局", "科技局", "工信局", "公安局"];
    let port = server.port;
    let t = tok.clone();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = count.clone();
    let writer = std::thread::spawn(move || {
        let mut acked = Vec::new();
        for i in 0..100_000 {
            let body = format!(
                r#"{{"unit":"{}","rule":"4.2","note":"第{i}条"}}"#,
                units[i % units.len()]
            );
            let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
                break;
            };
            let req = format!(
                "POST /api/v1/periods/2022/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            if s.write_all(req.as_bytes()).is_err() {
                break;
            }
            let mut raw = String::new();
            if s.read_to_string(&mut raw).is_err() || !raw.starts_with("HTTP/1.1 201") {
                break;
            }
            let v: serde_json::Value =
                serde_json::from_str(raw.split_once("\r\n\r\n").map_or("", |x| x.1)).expect("json");
            acked.push(v["record"]["id"].as_i64().expect("id"));
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        acked
    });
    // Killed once a stream of writes is under way (fifty acknowledged), not after a guessed time.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count.load(std::sync::atomic::Ordering::SeqCst) < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writes did not get under way"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    let acked = writer.join().expect("writer");
    eprintln!("{} acknowledged writes before SIGKILL", acked.len());
    assert!(
        acked.len() >= 10,
        "only {} writes before the kill",
        acked.len()
    );

    let server = start(dir.path(), false);
    let (status, body) = http(
        server.port,
        "GET",
        "/api/v1/periods/2022/records",
        &tok,
        None,
    );
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let stored: std::collections::BTreeSet<i64> = v["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect();
    let lost: Vec<&i64> = acked.iter().filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    drop(server);
    let verify = lvzhi(
        &[
            "audit",
            "verify",
            "--data",
            dir.path().to_str().expect("path"),
        ],
        dir.path(),
    );
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(verify.stdout.contains("审计链完整"), "{}", verify.stdout);
}

#[test]
fn online_backup_restores_to_the_same_year() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = start(dir.path(), true);
    let tok = token(dir.path(), server.port);
    let (_, before) = http(
        server.port,
        "GET",
        "/api/v1/periods/2022/results",
        &tok,
        None,
    );
    let data = dir.path().to_str().expect("path");
    let out = dir.path().join("backup.db");
    let run = lvzhi(
        &[
            "backup",
            "--data",
            data,
            "--out",
            out.to_str().expect("path"),
        ],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("备份核验通过"),
        "verified once written: {}",
        run.stdout
    );
    let verified = lvzhi(
        &["backup", "verify", out.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    // Never over an existing file.
    let again = lvzhi(
        &[
            "backup",
            "--data",
            data,
            "--out",
            out.to_str().expect("path"),
        ],
        dir.path(),
    );
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("已存在"), "{}", again.stderr);
    // More written after the backup: a restore drill must bring the year back as it was at the
    // backup, without it.
    let (status, _) = http(
        server.port,
        "POST",
        "/api/v1/periods/2022/records",
        &tok,
        Some(r#"{"unit":"发改委","rule":"1.3","note":"备份之后写入"}"#),
    );
    assert_eq!(status, 201);
    let (_, changed) = http(
        server.port,
        "GET",
        "/api/v1/periods/2022/results",
        &tok,
        None,
    );
    assert_ne!(changed, before, "the write after the backup shows");
    drop(server);
    let drill = lvzhi(
        &[
            "restore",
            "--force",
            "--data",
            data,
            out.to_str().expect("path"),
        ],
        dir.path(),
    );
    assert_eq!(drill.code, 0, "{}{}", drill.stdout, drill.stderr);
    let back = start(dir.path(), false);
    let (_, at_backup) = http(back.port, "GET", "/api/v1/periods/2022/results", &tok, None);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&before).expect("json"),
        serde_json::from_str::<serde_json::Value>(&at_backup).expect("json"),
        "restored as at the backup"
    );
    drop(back);

    let other = tempfile::tempdir().expect("tmp");
    let odata = other.path().to_str().expect("path");
    // Files that are not a backup of this system are refused before anything is touched.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "这不是备份").expect("junk");
    let stranger = dir.path().join("stranger.db");
    std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()"])
        .arg(&stranger)
        .status()
        .expect("python3 makes a SQLite file of another program");
    for (file, says) in [(&junk, "不是本系统的备份"), (&stranger, "不是本系统的备份")]
    {
        let run = lvzhi(
            &["restore", "--data", odata, file.to_str().expect("path")],
            other.path(),
        );
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert!(!other.path().join("lvzhi.db").exists(), "nothing touched");
    }
    // A backup whose trail was altered does not verify.
    let altered = dir.path().join("altered.db");
    std::fs::copy(&out, &altered).expect("copy");
    std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('drop trigger if exists records_no_delete'); c.execute('delete from records where id = (select min(id) from records)'); c.commit()"])
        .arg(&altered)
        .status()
        .expect("python3 alters the copy");
    let check = lvzhi(
        &["backup", "verify", altered.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(check.stdout.contains("备份核验未通过"), "{}", check.stdout);
    let run = lvzhi(
        &["restore", "--data", odata, out.to_str().expect("path")],
        other.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("审计链完整"), "{}", run.stdout);
    let refused = lvzhi(
        &["restore", "--data", odata, out.to_str().expect("path")],
        other.path(),
    );
    assert_eq!(refused.code, 1, "restoring over a database needs --force");
    let restored = start(other.path(), false);
    let (status, after) = http(
        restored.port,
        "GET",
        "/api/v1/periods/2022/results",
        &tok,
        None,
    );
    assert_eq!(status, 200, "the token travels with the database");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&before).expect("json"),
        serde_json::from_str::<serde_json::Value>(&after).expect("json")
    );
}

#[test]
fn account_commands() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().to_str().expect("path");
    let run = |args: &[&str]| {
        let mut full = args.to_vec();
        full.extend(["--data", data]);
        lvzhi(&full, dir.path())
    };
    let add = run(&["user", "add", "jyj", "--role", "unit", "--unit", "教育局"]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(
        add.stdout.contains("初始密码"),
        "a generated password is shown once: {}",
        add.stdout
    );
    assert_eq!(
        run(&["user", "add", "x", "--role", "unit"]).code,
        1,
        "a unit account needs --unit"
    );
    assert_eq!(
        run(&["user", "add", "y", "--role", "boss"]).code,
        1,
        "unknown role"
    );
    let list = run(&["user", "list"]);
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("jyj") && l.contains("教育局") && l.contains("须改密码")),
        "{}",
        list.stdout
    );
    assert_eq!(run(&["user", "disable", "jyj"]).code, 0);
    assert!(
        run(&["user", "list"])
            .stdout
            .lines()
            .any(|l| l.starts_with("jyj") && l.contains("已停用"))
    );
    assert_eq!(run(&["user", "disable", "nobody"]).code, 1);
    let pw = run(&["user", "passwd", "jyj"]);
    assert_eq!(pw.code, 0, "{}", pw.stderr);
    assert!(pw.stdout.contains("新密码"), "{}", pw.stdout);
    let verify = run(&["audit", "verify"]);
    assert_eq!(verify.code, 0);
}
