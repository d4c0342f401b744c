//! The application in process for the page tests: a fresh SQLite store in a temp folder with the
//! sample year imported, the router of `lvzhi_web::app`, and requests sent to it with `oneshot` (no
//! process, no socket). `raw` answers like a raw HTTP exchange: the status, the head as text (one
//! `name: value` line per header, names in lower case) and the body.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use lvzhi_store::{Actor, Role, Store};
use tower::ServiceExt;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct App {
    pub router: axum::Router,
    pub store: Store,
    pub rt: tokio::runtime::Runtime,
    /// The port the requests say they were sent to (`Host`, `Origin`).
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl App {
    /// The sample year (`examples/2022`) in a fresh store, with the admin `admin` /
    /// `Admin-Pass-2022` (as `serve --demo` makes it).
    pub fn demo() -> App {
        App::new(true)
    }

    /// A fresh store with no period, and the admin.
    pub fn empty() -> App {
        App::new(false)
    }

    fn new(sample: bool) -> App {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tmp");
        let store = rt.block_on(async {
            let (anchor, _) = lvzhi_store::Anchor::open(
                &dir.path().join("keys"),
                dir.path().join(lvzhi_store::CHECKPOINT_FILE),
                false,
            )
            .expect("seal");
            let store = Store::open(&Store::sqlite_url(dir.path()))
                .await
                .expect("store")
                .with_anchor(anchor);
            let who = Actor::new("cli:system", "cli");
            if sample {
                store
                    .ensure_period(lvzhi_core::RUBRIC_2022, &who)
                    .await
                    .expect("period");
            }
            for table in ["units", "records", "assessments", "metrics"]
                .iter()
                .filter(|_| sample)
            {
                let bytes = std::fs::read(repo().join(format!("examples/2022/{table}.csv")))
                    .expect("sample file");
                let t = lvzhi_exchange::table_of(table).expect("table");
                let mut parsed =
                    lvzhi_exchange::parse(bytes, &format!("{table}.csv"), t).expect("sample");
                parsed
                    .import(&store, 2022, &who, false, lvzhi_store::Duplicates::Ask)
                    .await
                    .unwrap_or_else(|e| panic!("sample {table}: {e}"));
            }
            store
                .create_user(
                    "admin",
                    Role::Admin,
                    None,
                    None,
                    "Admin-Pass-2022",
                    false,
                    &who,
                )
                .await
                .expect("admin");
            store
        });
        let router = lvzhi_web::app(lvzhi_web::AppState::new(store.clone()));
        App {
            router,
            store,
            rt,
            port: 8080,
            dir,
        }
    }

    /// An API token of the admin.
    pub fn token(&self) -> String {
        self.rt
            .block_on(
                self.store
                    .create_token("admin", "test", &Actor::new("admin", "test")),
            )
            .expect("token")
    }

    /// A unit account with a password of its own (no change required).
    pub fn add_unit_user(&self, name: &str, unit: &str, password: &str) {
        self.rt
            .block_on(self.store.create_user(
                name,
                Role::Unit,
                Some(unit),
                None,
                password,
                false,
                &Actor::new("admin", "test"),
            ))
            .expect("unit user");
    }

    /// One request; answers (status, head, body) as a raw exchange would.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String, String) {
        let (status, head, bytes) = self.raw_bytes(method, path, headers, body.as_bytes().to_vec());
        (status, head, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// [`Self::raw`] with a body of bytes, answering the body's bytes.
    pub fn raw_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, String, Vec<u8>) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", format!("127.0.0.1:{}", self.port));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(body)).expect("request");
        let response = self
            .rt
            .block_on(self.router.clone().oneshot(req))
            .expect("infallible");
        let status = response.status().as_u16();
        let mut head = format!("HTTP/1.1 {status}\r\n");
        for (k, v) in response.headers() {
            let _ = write!(head, "{}: {}\r\n", k, v.to_str().unwrap_or(""));
        }
        let bytes = self
            .rt
            .block_on(response.into_body().collect())
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, head, bytes)
    }
}

/// The session cookie and the CSRF token of a browser login.
pub fn login(app: &App, user: &str, password: &str) -> (String, String) {
    let origin = format!("http://127.0.0.1:{}", app.port);
    let (status, head, _) = app.raw(
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &origin),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        &format!("username={user}&password={password}&next="),
    );
    assert_eq!(status, 303, "login answers a redirect: {head}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let (_, _, page) = app.raw("GET", "/password", &[("Cookie", &cookie)], "");
    let csrf = page
        .split("\"X-CSRF-Token\": \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the page carries its token")
        .to_owned();
    assert_eq!(csrf.len(), 32);
    (cookie, csrf)
}

/// A browser's session: GETs with its cookie, and form POSTs as htmx sends them.
pub struct Session<'a> {
    pub app: &'a App,
    pub cookie: String,
    pub csrf: String,
}

impl<'a> Session<'a> {
    pub fn login(app: &'a App, user: &str, password: &str) -> Self {
        let (cookie, csrf) = login(app, user, password);
        Session { app, cookie, csrf }
    }

    pub fn get(&self, path: &str) -> (u16, String, String) {
        self.app.raw("GET", path, &[("Cookie", &self.cookie)], "")
    }

    pub fn post(&self, path: &str, form: &str) -> (u16, String, String) {
        let origin = format!("http://127.0.0.1:{}", self.app.port);
        self.app.raw(
            "POST",
            path,
            &[
                ("Cookie", &self.cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", origin.as_str()),
                ("Sec-Fetch-Site", "same-origin"),
                ("HX-Request", "true"),
                ("X-CSRF-Token", &self.csrf),
            ],
            form,
        )
    }
}

impl App {
    /// An account of `role` with a password of its own (no change required).
    pub fn add_user(&self, name: &str, role: Role, password: &str) {
        self.rt
            .block_on(self.store.create_user(
                name,
                role,
                None,
                None,
                password,
                false,
                &Actor::new("admin", "test"),
            ))
            .expect("user");
    }
}

/// A multipart/form-data body of fields (with a file name for files): (content type, body).
pub fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----lvzhi-pages-boundary";
    let mut body = Vec::new();
    for (name, file, data) in fields {
        let disposition = match file {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
