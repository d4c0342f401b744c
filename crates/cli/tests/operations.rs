//! Running the service as an office's IT department does (issue 22): `lvzhi migrate --check` says
//! what an upgrade of a database made by release 0.1.0 will run and changes nothing; `lvzhi migrate`
//! runs it after a copy into `backups/`; `serve` refuses a database a newer program migrated and a
//! bad configuration file, saying what to do; `--log-format json` writes a JSON object a line.

mod common;

use common::lvzhi;

#[test]
fn migrate_check_changes_nothing_and_serve_refuses_a_newer_database() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../store/tests/fixtures/release-0.1.0/sqlite.db");
    std::fs::copy(&fixture, data.join("lvzhi.db")).expect("copy");
    let data_arg = data.to_str().expect("utf-8");
    let before = std::fs::read(data.join("lvzhi.db")).expect("db");

    let check = lvzhi(&["migrate", "--check", "--data", data_arg], dir.path());
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stdout.contains("升级将依次执行") && check.stdout.contains("0013"),
        "{}",
        check.stdout
    );
    assert!(
        std::fs::read(data.join("lvzhi.db")).expect("db") == before,
        "--check changed the database"
    );
    assert!(!data.join("backups").exists());

    let run = lvzhi(&["migrate", "--data", data_arg], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("升级前的数据库已备份到"),
        "{}",
        run.stderr
    );
    let again = lvzhi(&["migrate", "--check", "--data", data_arg], dir.path());
    assert!(again.stdout.contains("无须升级"), "{}", again.stdout);

    // A newer program's migration: every command refuses the database, serve too.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", data.join("lvzhi.db").display()))
            .await
            .expect("pool");
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, X'00', 0)")
            .execute(&pool)
            .await
            .expect("insert");
        pool.close().await;
    });
    let serve = lvzhi(
        &["serve", "--data", data_arg, "--bind", "127.0.0.1:0"],
        dir.path(),
    );
    assert_ne!(serve.code, 0);
    assert!(serve.stderr.contains("较新版本"), "{}", serve.stderr);
    let check = lvzhi(&["migrate", "--check", "--data", data_arg], dir.path());
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(check.stderr.contains("较新版本"), "{}", check.stderr);
}

/// Issue 22, bad input: a configuration file with an unknown key, a value of the wrong type or
/// broken TOML is refused at start with the file, the line and the key, in Chinese.
#[test]
fn a_bad_configuration_file_is_refused_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    for (text, line, says) in [
        (
            "bind = \"127.0.0.1:0\"\nlisten = 80\n",
            "第 2 行",
            "未知的键「listen」",
        ),
        (
            "bind = 8080\n",
            "第 1 行",
            "键「bind」的值类型不对：应为文本",
        ),
        ("syslog = true\n\ndata = [1\n", "第 3 行", "不是有效的 TOML"),
    ] {
        let file = dir.path().join("lvzhi.toml");
        std::fs::write(&file, text).expect("config");
        let run = lvzhi(
            &[
                "serve",
                "--config",
                file.to_str().expect("utf-8"),
                "--data",
                data.to_str().expect("utf-8"),
            ],
            dir.path(),
        );
        assert_ne!(run.code, 0, "{text}");
        assert!(
            run.stderr.contains("lvzhi.toml")
                && run.stderr.contains(line)
                && run.stderr.contains(says),
            "{text}: {}",
            run.stderr
        );
        assert!(!data.join("lvzhi.db").exists(), "nothing was created");
    }
}

/// A scheduled backup's time that is not `HH:MM` is refused at start, naming the key.
#[test]
fn a_backup_time_that_is_not_a_time_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("lvzhi.toml");
    std::fs::write(&file, "backup_at = \"25:00\"\n").expect("config");
    let run = lvzhi(
        &[
            "serve",
            "--config",
            file.to_str().expect("utf-8"),
            "--data",
            dir.path().join("data").to_str().expect("utf-8"),
            "--bind",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("backup_at") && run.stderr.contains("25:00"),
        "{}",
        run.stderr
    );
}

/// `--log-format json`: every log line on standard error is a JSON object (the start is logged).
#[test]
fn json_logs_are_one_object_a_line() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lvzhi"))
        .args([
            "--log-format",
            "json",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(dir.path().join("data"))
        .env("LVZHI_ADMIN_PASSWORD", "Admin-Pass-2022")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut started = None;
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("a line");
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["fields"]["message"] == "服务已启动" {
            started = Some(v);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let v = started.expect("the start is logged");
    assert_eq!(v["level"], "INFO");
    assert!(
        v["fields"]["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{v}"
    );
}

/// PostgreSQL: a database of release 0.1.0 is dumped with `pg_dump` into `backups/` before it is
/// migrated, and the dump is one this system's `backup verify` accepts. Needs
/// `LVZHI_TEST_POSTGRES_URL` and `psql`/`pg_dump` (under `CI=true` their absence is a failure).
#[test]
fn a_postgresql_database_is_dumped_before_it_is_upgraded() {
    let Ok(admin) = std::env::var("LVZHI_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but LVZHI_TEST_POSTGRES_URL is not set"
        );
        eprintln!("operations.rs: NOT RUN: LVZHI_TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!("lvzhi_up_{}", std::process::id());
    let psql = |url: &str, args: &[&str]| {
        let out = std::process::Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1"])
            .args(args)
            .arg(url)
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    psql(&admin, &["-c", &format!("DROP DATABASE IF EXISTS {name}")]);
    psql(&admin, &["-c", &format!("CREATE DATABASE {name}")]);
    let url = format!("{}/{name}", admin.rsplit_once('/').expect("URL").0);
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../store/tests/fixtures/release-0.1.0/postgres.sql");
    psql(&url, &["-f", fixture.to_str().expect("utf-8")]);
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let migrate = || {
        lvzhi(
            &[
                "migrate",
                "--database-url",
                &url,
                "--data",
                data.to_str().expect("utf-8"),
            ],
            dir.path(),
        )
    };
    let run = migrate();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("升级前已用 pg_dump 备份数据库"),
        "{}",
        run.stderr
    );
    let dumps: Vec<_> = std::fs::read_dir(data.join("backups"))
        .expect("backups")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dumps.len(), 1, "{dumps:?}");
    let verified = lvzhi(
        &["backup", "verify", dumps[0].to_str().expect("utf-8")],
        dir.path(),
    );
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    // Up to date now: a second run dumps nothing more.
    let again = migrate();
    assert!(again.stdout.contains("无须升级"), "{}", again.stdout);
    assert_eq!(
        std::fs::read_dir(data.join("backups"))
            .expect("backups")
            .count(),
        1
    );
    psql(&admin, &["-c", &format!("DROP DATABASE {name}")]);
}

/// `lvzhi ARGS --data DATA` run as `nobody` (setpriv) from the copy `exe`: (exit code, stderr).
fn as_nobody(
    exe: &std::path::Path,
    args: &[&str],
    data: &std::path::Path,
) -> (Option<i32>, String) {
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(exe)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("setpriv (util-linux)");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue 22, bad input: a data folder this user cannot write — another user's (a command run as
/// root made it), or one without write permission — is refused in one sentence that says whose it
/// is and what to run, before anything is made in it; so is a database file root left in the
/// service user's folder. As root the command runs as `nobody` (setpriv); otherwise the folder is
/// made read-only for its owner.
#[test]
fn a_data_folder_this_user_cannot_write_is_refused_saying_whose_it_is() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("mode");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data");
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    });
    // A copy the other user can reach: the build folder may be in a home it cannot enter.
    let exe = dir.path().join("lvzhi");
    let open = ["period", "open", "2022", "--yes"];
    let run = if root {
        std::fs::copy(env!("CARGO_BIN_EXE_lvzhi"), &exe).expect("copy");
        as_nobody(&exe, &open, &data)
    } else {
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).expect("mode");
        let mut args = open.to_vec();
        args.extend(["--data", data.to_str().expect("utf-8")]);
        let run = lvzhi(&args, dir.path());
        (Some(run.code), run.stderr)
    };
    assert_ne!(run.0, Some(0), "{}", run.1);
    let said = &run.1;
    assert!(
        said.contains("无法写入数据目录") && said.contains(data.to_str().expect("utf-8")),
        "{said}"
    );
    if root {
        assert!(
            said.contains("属于用户 root") && said.contains("chown -R nobody:"),
            "{said}"
        );
    } else {
        assert!(
            said.contains("权限为 555") && said.contains("chmod u+rwx"),
            "{said}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&data).expect("data").count(),
        0,
        "nothing was made"
    );
    if root {
        // The folder given to the service's user, but a database file a command run as root left.
        common::open_2022(&data);
        let out = std::process::Command::new("chown")
            .args(["-R", "nobody:"])
            .arg(&data)
            .status()
            .expect("chown");
        assert!(out.success());
        std::os::unix::fs::chown(data.join("lvzhi.db"), Some(0), Some(0)).expect("chown root");
        let (code, said) = as_nobody(&exe, &["period", "list"], &data);
        assert_ne!(code, Some(0), "{said}");
        assert!(
            said.contains("无法写入文件")
                && said.contains("lvzhi.db")
                && said.contains("属于用户 root"),
            "{said}"
        );
    }
}
