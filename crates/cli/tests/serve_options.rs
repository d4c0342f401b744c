//! `lvzhi serve` as an operator sets it up: HTTPS built in (rustls), with HSTS on every answer and a
//! renewed certificate taken up without a restart, while plain HTTP stays available (without HSTS)
//! for a proxy in front; and 三员分立 from the command line, its three administrators' accounts
//! created at the first start.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{http, lvzhi, start_with};

/// A self-signed certificate for 127.0.0.1, and its key (PEM).
fn certificate() -> (String, String, Vec<u8>) {
    let c =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("certificate");
    (
        c.cert.pem(),
        c.signing_key.serialize_pem(),
        c.cert.der().to_vec(),
    )
}

/// One GET over TLS trusting only `trusted` (DER); answers the response's head and the
/// certificate the server presented, or the TLS error.
fn get_tls(port: u16, path: &str, trusted: &[u8]) -> Result<(String, Vec<u8>), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(trusted.to_vec()))
        .map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    if text.is_empty() {
        return Err("no answer".to_owned());
    }
    let presented = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .unwrap_or_default();
    Ok((text, presented))
}

#[test]
fn https_with_hsts_and_a_certificate_renewed_in_place() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let (pem_a, key_a, der_a) = certificate();
    std::fs::write(&cert, &pem_a).expect("cert");
    std::fs::write(&key, &key_a).expect("key");
    let (server, printed) = start_with(
        &data,
        &[
            "--tls-cert",
            cert.to_str().expect("p"),
            "--tls-key",
            key.to_str().expect("p"),
        ],
        &[],
    );
    assert!(printed.contains("https://127.0.0.1:"), "{printed}");
    let (head, presented) = get_tls(server.port, "/healthz", &der_a).expect("HTTPS answers");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("strict-transport-security: {}", lvzhi_web::HSTS)),
        "{head}"
    );
    assert_eq!(presented, der_a);
    // A renewed certificate: written over the files, taken up without a restart.
    let (pem_b, key_b, der_b) = certificate();
    std::fs::write(&key, &key_b).expect("key");
    std::fs::write(&cert, &pem_b).expect("cert");
    let deadline = Instant::now() + Duration::from_secs(30);
    let renewed = loop {
        if let Ok((_, p)) = get_tls(server.port, "/healthz", &der_b) {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not taken up"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(renewed, der_b);
    assert!(
        get_tls(server.port, "/healthz", &der_a).is_err(),
        "the old certificate is no longer presented"
    );
    // A certificate file that does not load keeps the one in use: checked all through two
    // watch periods and more, not once after a pause.
    std::fs::write(&cert, "not a certificate").expect("cert");
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        assert!(
            get_tls(server.port, "/healthz", &der_b).is_ok(),
            "the certificate in use is kept when the file does not load"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    drop(server);
    // Only one of the two files: refused at start, in Chinese.
    let r = lvzhi(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data",
            data.to_str().expect("p"),
            "--tls-cert",
            cert.to_str().expect("p"),
        ],
        dir.path(),
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("同时给出证书"), "{}", r.stderr);
    // Plain HTTP (a proxy in front terminates TLS): no HSTS from this process.
    let (plain, _) = start_with(&data, &[], &[]);
    let (_, head, _) = common::raw(plain.port, "GET", "/healthz", &[], "");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("strict-transport-security"),
        "{head}"
    );
}

#[test]
fn separation_of_duties_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let (server, printed) = start_with(
        &data,
        &["--separation-of-duties", "--demo"],
        &[
            ("LVZHI_SYSADMIN_PASSWORD", "Sys-Admin-Pass-2026"),
            ("LVZHI_SECADMIN_PASSWORD", "Sec-Admin-Pass-2026"),
            ("LVZHI_AUDITOR_PASSWORD", "Audit-Admin-Pass-2026"),
        ],
    );
    for name in [
        "系统管理员账号 sysadmin",
        "安全管理员账号 secadmin",
        "审计管理员账号 auditor",
    ] {
        assert!(printed.contains(name), "{printed}");
    }
    assert!(printed.contains("三员分立"), "{printed}");
    // The first start made the office's key pair and a checkpoint of the trail it wrote.
    assert!(data.join("keys").join(lvzhi_seal::PUBLIC_KEY_FILE).exists());
    let checkpoints = std::fs::read_to_string(data.join("audit-checkpoints.jsonl")).expect("file");
    assert_eq!(checkpoints.lines().count(), 1, "{checkpoints}");
    // Tokens made by the operator at the command line, once their holders made their given
    // passwords their own (a must-change password blocks tokens too).
    for (user, given) in [
        ("admin", "Admin-Pass-2022"),
        ("auditor", "Audit-Admin-Pass-2026"),
        ("sysadmin", "Sys-Admin-Pass-2026"),
    ] {
        common::own_password(server.port, user, given, &format!("{given}-own"));
    }
    let token = |user: &str| {
        let r = lvzhi(
            &[
                "token",
                "create",
                "--user",
                user,
                "--data",
                data.to_str().expect("p"),
            ],
            dir.path(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout.trim().to_owned()
    };
    let (admin, auditor, sysadmin) = (token("admin"), token("auditor"), token("sysadmin"));
    assert_eq!(
        http(server.port, "GET", "/api/v1/audit", &admin, None).0,
        403
    );
    assert_eq!(
        http(server.port, "GET", "/api/v1/audit", &auditor, None).0,
        200
    );
    assert_eq!(
        http(server.port, "GET", "/api/v1/users", &sysadmin, None).0,
        200
    );
    assert_eq!(
        http(server.port, "GET", "/api/v1/users", &admin, None).0,
        403
    );
    assert_eq!(
        http(
            server.port,
            "GET",
            "/api/v1/periods/2022/results",
            &sysadmin,
            None
        )
        .0,
        403
    );
    assert_eq!(
        http(
            server.port,
            "GET",
            "/api/v1/periods/2022/results",
            &admin,
            None
        )
        .0,
        200
    );
    drop(server);
    // A second start finds the three accounts and creates none; the option from the config file.
    let config = dir.path().join("lvzhi.toml");
    std::fs::write(
        &config,
        "separation_of_duties = true\ncheckpoint_interval_minutes = 0\n",
    )
    .expect("config");
    let (again, printed) = start_with(&data, &["--config", config.to_str().expect("p")], &[]);
    assert!(
        !printed.contains("已创建") && printed.contains("三员分立"),
        "{printed}"
    );
    assert_eq!(
        http(again.port, "GET", "/api/v1/audit", &admin, None).0,
        403
    );
}

/// `--trusted-proxy` takes addresses and CIDR networks; anything else is refused before anything
/// is created.
#[test]
fn a_trusted_proxy_must_be_an_address_or_a_network() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let run = lvzhi(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--trusted-proxy",
            "10.0.0.0/24",
            "--trusted-proxy",
            "proxy.local",
            "--data",
            data.to_str().expect("p"),
        ],
        dir.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("可信代理「proxy.local」不是地址或网段"),
        "{}",
        run.stderr
    );
    assert!(
        !data.join("lvzhi.db").exists() && !data.join("keys").exists(),
        "no database and no key were created"
    );
}
