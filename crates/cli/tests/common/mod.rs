//! Shared helpers of the command-line tests: run the real `lvzhi` binary on files in a temp folder.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of `lvzhi` printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn lvzhi(args: &[&str], dir: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_lvzhi"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("lvzhi runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `lvzhi score` on the four files of a year in `dir` (`--json` when asked).
pub fn score_year(dir: &Path, json: bool) -> Run {
    score_year_with(dir, None, json)
}

/// `lvzhi score` on the four files of a year in `dir` under `rubric` (a file; the shipped 2022
/// rubric when `None`).
pub fn score_year_with(dir: &Path, rubric: Option<&str>, json: bool) -> Run {
    let mut args = vec!["score"];
    if let Some(r) = rubric {
        args.extend(["--rubric", r]);
    }
    args.extend([
        "--units",
        "units.csv",
        "--records",
        "records.csv",
        "--assessments",
        "assessments.csv",
        "--metrics",
        "metrics.csv",
    ]);
    if json {
        args.push("--json");
    }
    lvzhi(&args, dir)
}

/// `lvzhi score` on the shipped sample year.
pub fn score_sample(json: bool) -> Run {
    score_year(&repo().join("examples/2022"), json)
}

/// Opens the 2022 period from the shipped rubric in the data folder `data` (a fresh store holds no
/// period).
pub fn open_2022(data: &Path) {
    let run = lvzhi(
        &[
            "period",
            "open",
            "2022",
            "--yes",
            "--data",
            data.to_str().expect("path"),
        ],
        data.parent().unwrap_or(data),
    );
    assert_eq!(run.code, 0, "period open 2022: {}", run.stderr);
}

/// A server started on port 0; killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server on port 0 with the 2022 period: the sample year (`demo`), or empty.
pub fn start(data: &std::path::Path, demo: bool) -> Server {
    if !demo && !data.join("lvzhi.db").exists() {
        std::fs::create_dir_all(data).expect("data folder");
        open_2022(data);
    }
    start_store(data, demo)
}

/// A server on port 0 over the data folder as it is (`demo`: with the sample year).
pub fn start_store(data: &std::path::Path, demo: bool) -> Server {
    start_with(data, if demo { &["--demo"] } else { &[] }, &[]).0
}

/// A server on port 0 over the data folder with more arguments and environment variables;
/// answers it and what it printed before its address (which is `http://` or `https://`).
pub fn start_with(
    data: &std::path::Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Server, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lvzhi"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(args)
        .envs(envs.iter().copied());
    let mut child = cmd
        .env("LVZHI_ADMIN_PASSWORD", "Admin-Pass-2022")
        .env("RUST_LOG", "warn")
        .env("USER", "system")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut printed = String::new();
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.split("://127.0.0.1:").nth(1) {
            let port = rest
                .split_whitespace()
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
            // Keep draining stdout so the server never blocks on it.
            std::thread::spawn(move || for _ in lines {});
            return (Server { child, port }, printed);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not report its address");
}

/// A minimal HTTP/1.1 client with a bearer token: one request per connection.
pub fn http(port: u16, method: &str, path: &str, token: &str, body: Option<&str>) -> (u16, String) {
    let auth = format!("Bearer {token}");
    let (status, _, body) = raw(
        port,
        method,
        path,
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ],
        body.unwrap_or(""),
    );
    (status, body)
}

/// An API token of `admin` on the server at `port`: its given password is first made its own, as
/// its holder would at the first login (a token of an account that must change its password is
/// refused like a session).
pub fn token(data: &std::path::Path, port: u16) -> String {
    own_password(port, "admin", "Admin-Pass-2022", "Admin-Own-Pass-2022");
    token_for(data, "admin")
}

/// Logs `user` in through the API with its given password and changes it to `own`; does nothing
/// when the given password no longer logs in (changed already).
pub fn own_password(port: u16, user: &str, given: &str, own: &str) {
    let origin = format!("http://127.0.0.1:{port}");
    let same = [
        ("Content-Type", "application/json"),
        ("Origin", origin.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let (status, head, _) = raw(
        port,
        "POST",
        "/api/v1/session",
        &same,
        &format!(r#"{{"username": "{user}", "password": "{given}"}}"#),
    );
    if status != 200 {
        return;
    }
    let cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let mut headers = same.to_vec();
    headers.push(("Cookie", cookie.as_str()));
    let (status, _, body) = raw(
        port,
        "POST",
        "/api/v1/session/password",
        &headers,
        &format!(r#"{{"old_password": "{given}", "new_password": "{own}"}}"#),
    );
    assert!(status < 300, "{user} changes its password: {status} {body}");
}

/// An API token of `user`, from the command line.
pub fn token_for(data: &std::path::Path, user: &str) -> String {
    let run = lvzhi(
        &[
            "token",
            "create",
            "--user",
            user,
            "--data",
            data.to_str().expect("path"),
        ],
        data,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.trim().to_owned()
}

/// One raw HTTP/1.1 request with the given extra header lines; answers (status, head, body).
pub fn raw(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use std::fmt::Write as _;
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        let _ = write!(req, "{k}: {v}\r\n");
    }
    let _ = write!(req, "Content-Length: {}\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("headers");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut r = rest;
        while let Some((size, tail)) = r.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            r = &tail[n + 2..];
        }
        out
    } else {
        rest.to_owned()
    };
    (status, head.to_owned(), body)
}
