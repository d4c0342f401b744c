//! End to end in a real browser: Debian's Chromium, headless, driven over the DevTools protocol
//! (chromiumoxide) against the real `lvzhi serve --demo` on port 0 with a fresh database. Each role
//! logs in through the login page and does its main task:
//! - a recorder records a deduction with evidence and sees the unit's score fall on the dashboard;
//! - a refused record form shows its message next to the field, and nothing is stored;
//! - a 督导组 account enters its scores in the grid (and a score above the maximum is refused there);
//! - a unit account lands on its own sheet and cannot open another unit's;
//! - a leader lands on the dashboard; the admin sees the audit chain verified and the accounts.
//!
//! Without Chromium the test says so loudly and passes on a developer machine; under `CI=true` a
//! missing Chromium fails it. With `LVZHI_SCREENSHOTS=DIR` it saves a screenshot of each page there
//! (`docs/screenshots/` holds the ones shown in the README).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Handler, Page};
use futures::StreamExt;
use serde_json::Value;

use common::{Server, http, start, token};

fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("LVZHI_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn add_user(data: &Path, name: &str, role: &str, extra: &[&str], password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lvzhi"))
        .args(["user", "add", name, "--role", role, "--data"])
        .arg(data)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lvzhi user add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("user add ends");
    assert!(
        out.status.success(),
        "user add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One browser page on the server, with the helpers the scenarios use.
struct Ui {
    page: Page,
    base: String,
    shots: Option<PathBuf>,
}

impl Ui {
    async fn eval(&self, js: &str) -> Value {
        self.page
            .evaluate(js)
            .await
            .unwrap_or_else(|e| panic!("evaluate {js}: {e}"))
            .into_value::<Value>()
            .unwrap_or(Value::Null)
    }

    async fn text(&self, selector: &str) -> String {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); return e ? e.innerText : null; }})()",
            serde_json::to_string(selector).expect("json")
        );
        self.eval(&js).await.as_str().unwrap_or("").to_owned()
    }

    async fn path(&self) -> String {
        self.eval("location.pathname + location.search")
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Waits until `js` is truthy; panics with what the page shows after 15 s.
    async fn wait(&self, what: &str, js: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self
                .page
                .evaluate(js)
                .await
                .ok()
                .and_then(|r| r.into_value::<Value>().ok());
            if v.as_ref()
                .is_some_and(|v| !matches!(v, Value::Null | Value::Bool(false)))
            {
                return;
            }
            if Instant::now() > deadline {
                let body = self.text("body").await;
                panic!(
                    "timed out waiting for {what} on {}: {}",
                    self.path().await,
                    body.chars().take(800).collect::<String>()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn goto(&self, path: &str) {
        self.page
            .goto(format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("goto {path}: {e}"));
        self.wait("the page to load", "document.readyState === 'complete'")
            .await;
    }

    /// Sets a field's value as a person would (and fires `change`, which htmx listens to).
    async fn set(&self, selector: &str, value: &str) {
        let js = format!(
            "(() => {{ const e = document.querySelector({s}); if (!e) return false; e.value = {v}; \
             e.dispatchEvent(new Event('input', {{bubbles: true}})); e.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()",
            s = serde_json::to_string(selector).expect("json"),
            v = serde_json::to_string(value).expect("json"),
        );
        assert_eq!(
            self.eval(&js).await,
            Value::Bool(true),
            "no field {selector}"
        );
    }

    async fn submit(&self, form: &str) {
        let js = format!(
            "(() => {{ const f = document.querySelector({}); if (!f) return false; f.requestSubmit(); return true; }})()",
            serde_json::to_string(form).expect("json")
        );
        assert_eq!(self.eval(&js).await, Value::Bool(true), "no form {form}");
    }

    async fn login(&self, user: &str, password: &str) {
        self.goto("/login").await;
        self.set("#username", user).await;
        self.set("#password", password).await;
        self.submit("#login-form").await;
        self.wait(
            "the landing page after login",
            "location.pathname !== '/login' && document.readyState === 'complete'",
        )
        .await;
    }

    async fn logout(&self) {
        let js = "(() => { const b = document.querySelector('button[hx-post=\"/logout\"]'); if (!b) return false; b.click(); return true; })()";
        let clicked = self.eval(js).await == Value::Bool(true);
        if !clicked {
            // Only read the page when there was no button: a click starts a navigation.
            let path = self.path().await;
            let body: String = self.text("body").await.chars().take(600).collect();
            assert!(clicked, "no logout button on {path}: {body}");
        }
        self.wait("the login page", "location.pathname === '/login'")
            .await;
    }

    async fn shot(&self, name: &str) {
        let Some(dir) = &self.shots else { return };
        std::fs::create_dir_all(dir).expect("screenshot folder");
        // Charts draw after load: give them a moment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.page
            .save_screenshot(
                ScreenshotParams::builder().full_page(true).build(),
                dir.join(format!("{name}.png")),
            )
            .await
            .expect("screenshot");
    }
}

/// The total of a unit on the dashboard.
async fn dashboard_total(ui: &Ui, unit: &str) -> String {
    ui.goto("/overview").await;
    let js = format!(
        "(() => {{ for (const tr of document.querySelectorAll('table.grid tbody tr')) {{ \
           const a = tr.querySelector('a'); if (a && a.innerText === {u}) return tr.children[2].innerText; }} return null; }})()",
        u = serde_json::to_string(unit).expect("json")
    );
    ui.eval(&js).await.as_str().unwrap_or_default().to_owned()
}

fn hundredths(s: &str) -> i64 {
    let (i, f) = s.split_once('.').unwrap_or((s, "0"));
    i.parse::<i64>().expect("integer part") * 100
        + format!("{f:0<2}")[..2].parse::<i64>().expect("decimals")
}

async fn launch(chrome: &Path, profile: &Path) -> (Browser, tokio::task::JoinHandle<()>) {
    let config = BrowserConfig::builder()
        .chrome_executable(chrome)
        .no_sandbox()
        .user_data_dir(profile)
        .window_size(1280, 900)
        .viewport(chromiumoxide::handler::viewport::Viewport {
            width: 1280,
            height: 900,
            ..Default::default()
        })
        .arg("disable-gpu")
        .arg("disable-component-update")
        .arg("disable-quic")
        .arg(("lang", "zh-CN"))
        .build()
        .expect("browser config");
    let (browser, mut handler): (Browser, Handler) =
        Browser::launch(config).await.expect("Chromium starts");
    let task = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, task)
}

#[test]
fn every_role_does_its_main_task_in_the_browser() {
    let Some(chrome) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: Chromium is required for the browser tests (apt-get install chromium)"
        );
        eprintln!(
            "\n*** SKIPPED: Chromium not found (/usr/bin/chromium); the browser tests did not run. \
             Install it with `apt-get install chromium` or set LVZHI_CHROMIUM. ***\n"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let server: Server = start(&data, true);
    add_user(&data, "jilu", "recorder", &[], "Recorder-Pass-2022");
    add_user(
        &data,
        "duzu1",
        "assessor",
        &["--group", "第一督导组"],
        "Assessor-Pass-2022",
    );
    add_user(
        &data,
        "fgw",
        "unit",
        &["--unit", "发改委"],
        "Unit-Pass-2022!",
    );
    add_user(&data, "lingdao", "leader", &[], "Leader-Pass-2022");
    let set = common::lvzhi(
        &[
            "group",
            "set",
            "第一督导组",
            "--units",
            "发改委,教育局",
            "--data",
            data.to_str().expect("path"),
        ],
        dir.path(),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    let admin_token = token(&data);
    let shots = std::env::var_os("LVZHI_SCREENSHOTS").map(PathBuf::from);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (mut browser, task) = launch(&chrome, &dir.path().join("profile")).await;
        let page = browser.new_page("about:blank").await.expect("page");
        let ui = Ui {
            page,
            base: format!("http://127.0.0.1:{}", server.port),
            shots,
        };

        // The login page refuses a wrong password with the one message for every failure.
        ui.goto("/login").await;
        ui.shot("01-login").await;
        ui.set("#username", "jilu").await;
        ui.set("#password", "wrong-password-1").await;
        ui.submit("#login-form").await;
        ui.wait("the login error", "document.querySelector('#login-error')").await;
        let refused = ui.text("#login-error").await;
        assert!(refused.contains("用户名或密码错误"), "login refusal: {refused}");

        // Recorder: a deduction with evidence lowers the unit's score on the dashboard.
        ui.login("jilu", "Recorder-Pass-2022").await;
        assert!(ui.path().await.starts_with("/overview"), "recorder lands on the dashboard");
        ui.wait("the charts", "document.querySelectorAll('[data-chart] canvas').length === 2").await;
        ui.shot("02-overview").await;
        let before = dashboard_total(&ui, "发改委").await;
        assert!(!before.is_empty(), "发改委 is on the dashboard");
        ui.goto("/records/new").await;
        ui.set("#f-unit", "发改委").await;
        ui.set("#f-rule", "2.5").await;
        ui.wait("the fields of clause 2.5", "document.querySelector('#f-count')").await;
        assert!(ui.text("#rule-fields").await.contains("每次扣 1 分"), "the form explains the clause");
        ui.set("#f-count", "1").await;
        ui.set("#f-date", "2022-06-01").await;
        ui.set("#f-source", "张安办〔2022〕99号").await;
        ui.shot("03-record-form").await;
        ui.submit("#record-form").await;
        ui.wait("the saved record", "location.pathname.startsWith('/records/') && location.search.includes('created=1')").await;
        let record_path = ui.path().await;
        // Evidence: a small PDF, given to the file input as a person's file chooser would.
        let upload = "(() => { const dt = new DataTransfer(); \
            dt.items.add(new File(['%PDF-1.4\\n1 0 obj<<>>endobj\\ntrailer<<>>\\n%%EOF\\n'], '整改通知.pdf', {type: 'application/pdf'})); \
            const i = document.querySelector('#f-file'); i.files = dt.files; \
            document.querySelector('#upload-form').requestSubmit(); return true; })()";
        ui.eval(upload).await;
        ui.wait("the uploaded file in the list", "document.querySelector('#attachments') && document.querySelector('#attachments').innerText.includes('整改通知.pdf')").await;
        ui.shot("04-record").await;
        let after = dashboard_total(&ui, "发改委").await;
        assert_eq!(hundredths(&before) - hundredths(&after), 100, "2.5 costs one point: {before} → {after}");
        // The unit's sheet shows the record with its source and evidence.
        ui.goto(&format!("/units/{}", "%E5%8F%91%E6%94%B9%E5%A7%94")).await;
        let sheet = ui.text("#sheet").await;
        assert!(sheet.contains("张安办〔2022〕99号") && sheet.contains("整改通知.pdf"), "the sheet explains the new point");
        ui.shot("05-sheet").await;

        // A refused form: points outside the clause's range, explained next to the field.
        let (_, before_records) = http(server.port, "GET", "/api/v1/periods/2022/records", &admin_token, None);
        ui.goto("/records/new").await;
        ui.set("#f-unit", "教育局").await;
        ui.set("#f-rule", "1.1").await;
        ui.wait("the points field", "document.querySelector('#f-points')").await;
        ui.set("#f-points", "12").await;
        ui.submit("#record-form").await;
        ui.wait("the refusal next to the field", "document.querySelector('[data-field=points]')").await;
        let message = ui.text("[data-field=points]").await;
        assert!(message.contains('1') && message.contains("10"), "the message says what is allowed: {message}");
        ui.shot("06-record-refused").await;
        let (_, after_records) = http(server.port, "GET", "/api/v1/periods/2022/records", &admin_token, None);
        assert_eq!(before_records, after_records, "a refused form stores nothing");
        ui.goto("/records?unit=%E5%8F%91%E6%94%B9%E5%A7%94").await;
        ui.shot("07-records").await;
        ui.logout().await;

        // 督导组: its own units in one grid, scores saved in place.
        ui.login("duzu1", "Assessor-Pass-2022").await;
        assert!(ui.path().await.starts_with("/assess"), "a group lands on its grid");
        let rows = ui.eval("document.querySelectorAll('#assess-grid tbody tr').length").await;
        assert_eq!(rows, Value::from(2), "only the two supervised units");
        ui.set("input[data-unit='教育局'][data-key='3.4.1']", "4.5").await;
        ui.wait("the saved mark", "document.querySelector(\"input[data-unit='教育局']\").closest('form').querySelector('.ok-mark')").await;
        ui.set("input[data-unit='发改委'][data-key='3.4.1']", "6").await;
        ui.wait("the refusal in the cell", "document.querySelector(\"input[data-unit='发改委']\").closest('form').querySelector('.field-error')").await;
        ui.shot("08-assess").await;
        ui.logout().await;
        let (_, sheet) = http(server.port, "GET", "/api/v1/periods/2022/units/%E6%95%99%E8%82%B2%E5%B1%80/sheet", &admin_token, None);
        assert!(sheet.contains("\"assessor\":\"第一督导组\",\"score\":\"4.5\""), "the group's score is stored under its own name");

        // Unit: its own sheet, and not another's.
        ui.login("fgw", "Unit-Pass-2022!").await;
        assert!(ui.path().await.starts_with("/units/"), "a unit lands on its sheet");
        assert!(ui.text("h1").await.contains("发改委"));
        ui.goto("/units/%E6%95%99%E8%82%B2%E5%B1%80").await;
        assert!(ui.text("body").await.contains("无权"), "another unit's sheet is refused");
        ui.goto("/overview").await;
        assert!(ui.text("body").await.contains("无权"), "the rankings are refused to a unit");
        ui.logout().await;

        // Leader: the dashboard. Admin: the audit trail (verified) and the accounts.
        ui.login("lingdao", "Leader-Pass-2022").await;
        assert!(ui.path().await.starts_with("/overview"));
        ui.logout().await;
        ui.login("admin", "Admin-Pass-2022").await;
        ui.goto("/audit").await;
        assert!(ui.text("#chain-status").await.contains("校验通过"));
        ui.shot("09-audit").await;
        ui.goto("/users").await;
        assert!(ui.text("#users").await.contains("duzu1"));
        ui.shot("10-users").await;
        ui.goto("/rubric").await;
        ui.shot("11-rubric").await;
        ui.goto("/metrics").await;
        ui.shot("12-metrics").await;

        // The lifecycle: the office confirms the recorder's record, the unit appeals it and is told
        // the decision, and the publication page lists what stands in the way.
        ui.goto(&record_path).await;
        ui.submit("#confirm-form").await;
        ui.wait("the confirmed record", "document.querySelector('h1').innerText.includes('已确认')").await;
        ui.logout().await;
        ui.login("fgw", "Unit-Pass-2022!").await;
        ui.goto("/notifications").await;
        assert!(ui.text("#notices").await.contains("已确认"), "the unit is told of the confirmation");
        ui.shot("13-notices").await;
        ui.goto(&record_path).await;
        ui.set("#f-appeal-reason", "该问题已于 6 月 10 日整改到位，见所附验收记录").await;
        ui.submit("#appeal-form").await;
        ui.wait("the appeal on the record", "document.querySelector('#appeal') && document.querySelector('h1').innerText.includes('申诉中')").await;
        ui.shot("14-appeal").await;
        ui.logout().await;
        ui.login("admin", "Admin-Pass-2022").await;
        ui.goto(&record_path).await;
        ui.eval("(() => { document.querySelector('input[name=decision][value=upheld]').checked = true; return true; })()").await;
        ui.set("#f-decision-reason", "验收记录晚于检查日期，维持原扣分").await;
        ui.submit("#decision-form").await;
        ui.wait("the decision", "document.querySelector('h1').innerText.includes('维持')").await;
        assert!(ui.text("#appeal").await.contains("验收记录晚于检查日期"), "the decision and its reason are shown");
        ui.goto("/publish").await;
        assert!(ui.text("#checklist").await.contains("条扣分记录待确认"), "the check list names the pending records");
        ui.shot("15-publish").await;
        browser.close().await.ok();
        browser.wait().await.ok();
        task.abort();
    });
}
