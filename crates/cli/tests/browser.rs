//! End to end in a real browser: Debian's Chromium, headless, driven over the DevTools protocol
//! (chromiumoxide) against the real `lvzhi serve` on port 0 with a fresh database. Each role logs in
//! through the login page (and changes the password someone else set, at its first login) and does
//! its work:
//! - a recorder records a deduction with evidence and sees the unit's score fall on the dashboard; a
//!   refused record form names every missing field next to its input, and nothing is stored;
//! - a 督导组 account enters, clears and is refused scores in its grid, in roster order, and is told
//!   why another group's grid is not shown;
//! - the office confirms what a filter shows, in one step, with the count before and after; imports
//!   a file once (the same file again is refused) and is shown probable duplicates;
//! - a unit account reads its sheet (each record's state, the official score beside the provisional
//!   one), downloads it, appeals, and reads its notices (counted in the menu); another unit's record
//!   is refused without naming that unit;
//! - every page fits a 390-px screen (the menu collapses), prints under the rubric's title, and its
//!   controls read Chinese whatever the browser's language;
//! - a fresh installation takes the office to opening its first year.
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
use chromiumoxide::cdp::browser_protocol::emulation::{
    SetDeviceMetricsOverrideParams, SetEmulatedMediaParams,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Handler, Page};
use futures::StreamExt;
use serde_json::Value;

use common::{Server, http, start, start_store};

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

    /// Sets a field whose change makes htmx fetch part of the form, until `js` is truthy: a field
    /// swapped in a moment ago may not be wired by htmx yet, and its first change then goes
    /// unheard (seen under load in CI), so the change is made again, up to 15 s.
    async fn set_until(&self, selector: &str, value: &str, what: &str, js: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            self.set(selector, value).await;
            let tried = Instant::now();
            while tried.elapsed() < Duration::from_secs(2) {
                let v = self.eval(js).await;
                if !matches!(v, Value::Null | Value::Bool(false)) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if Instant::now() > deadline {
                // The usual message, naming what the page shows.
                self.wait(what, js).await;
                return;
            }
        }
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

    /// The first login of an account whose password someone else set: it must be changed first,
    /// and the change is said to have been made; then on to the account's landing page.
    async fn first_login(&self, user: &str, given: &str, own: &str) {
        self.login(user, given).await;
        assert_eq!(
            self.path().await,
            "/password",
            "{user} must change the password first"
        );
        assert!(self.text("body").await.contains("须先修改密码"));
        self.set("input[name=old_password]", given).await;
        self.set("input[name=new_password]", own).await;
        self.set("input[name=confirm]", own).await;
        self.submit("#password-form").await;
        self.wait(
            "the change said",
            "document.querySelector('#password-changed')",
        )
        .await;
        assert!(self.text("#password-changed").await.contains("密码已修改"));
        self.goto("/").await;
    }

    /// The page is no wider than the screen (wide tables scroll inside their own box).
    async fn fits(&self, width: i64) {
        let w = self
            .eval("document.documentElement.scrollWidth")
            .await
            .as_i64()
            .unwrap_or(i64::MAX);
        if w > width {
            // Name the widest elements, so the failure says what to fix.
            let js = format!(
                "Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > {width} \
                 && !(e.parentElement && e.parentElement.closest('.table-wrap'))).slice(-5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join('; ')"
            );
            let wide = self.eval(&js).await;
            panic!(
                "{} is {w} px wide on a {width}-px screen: {wide}",
                self.path().await
            );
        }
    }

    /// The screen's size (a phone at 390 px, or the desk's).
    async fn screen(&self, width: i64, height: i64, mobile: bool) {
        self.page
            .execute(SetDeviceMetricsOverrideParams::new(
                width, height, 1.0, mobile,
            ))
            .await
            .expect("device metrics");
    }

    /// Shows the page as printed (or back on screen).
    async fn print_media(&self, on: bool) {
        self.page
            .execute(
                SetEmulatedMediaParams::builder()
                    .media(if on { "print" } else { "" })
                    .build(),
            )
            .await
            .expect("media");
    }

    /// Whether an element is shown (laid out with a size).
    async fn shown(&self, selector: &str) -> bool {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; const r = e.getBoundingClientRect(); \
             return getComputedStyle(e).display !== 'none' && r.width > 0 && r.height > 0; }})()",
            serde_json::to_string(selector).expect("json")
        );
        self.eval(&js).await == Value::Bool(true)
    }

    /// Uploads a file through a page's file input and submits its form.
    async fn upload(&self, input: &str, form: &str, name: &str, content: &str, mime: &str) {
        let js = format!(
            "(() => {{ const dt = new DataTransfer(); dt.items.add(new File([{c}], {n}, {{type: {m}}})); \
             const i = document.querySelector({i}); if (!i) return false; i.files = dt.files; \
             i.dispatchEvent(new Event('change', {{bubbles: true}})); \
             document.querySelector({f}).requestSubmit(); return true; }})()",
            c = serde_json::to_string(content).expect("json"),
            n = serde_json::to_string(name).expect("json"),
            m = serde_json::to_string(mime).expect("json"),
            i = serde_json::to_string(input).expect("json"),
            f = serde_json::to_string(form).expect("json"),
        );
        assert_eq!(
            self.eval(&js).await,
            Value::Bool(true),
            "no file input {input}"
        );
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
        // Charts draw after load, and the Chinese font may still be arriving: give them a moment.
        self.wait("the fonts", "document.fonts.status === 'loaded'")
            .await;
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

/// Whether Chromium is here; under `CI=true` its absence fails the test.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: Chromium is required for the browser tests (apt-get install chromium)"
        );
        eprintln!(
            "\n*** SKIPPED: Chromium not found (/usr/bin/chromium); the browser tests did not run. \
             Install it with `apt-get install chromium` or set LVZHI_CHROMIUM. ***\n"
        );
    }
    found
}

/// The pages an administrator can open, for the phone and print passes.
const ADMIN_PAGES: &[&str] = &[
    "/overview",
    "/records",
    "/records/new",
    "/units/%E5%8F%91%E6%94%B9%E5%A7%94",
    "/assess",
    "/import",
    "/metric-values",
    "/rubric",
    "/rubrics",
    "/whatif",
    "/publish",
    "/notifications",
    "/audit",
    "/users",
    "/password",
];

#[test]
fn every_role_does_its_main_task_in_the_browser() {
    let Some(chrome) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let server: Server = start(&data, true);
    add_user(&data, "jilu", "recorder", &[], "Recorder-Given-2022");
    add_user(
        &data,
        "duzu1",
        "assessor",
        &["--group", "第一督导组"],
        "Assessor-Given-2022",
    );
    add_user(
        &data,
        "fgw",
        "unit",
        &["--unit", "发改委"],
        "Unit-Given-2022!",
    );
    add_user(&data, "lingdao", "leader", &[], "Leader-Given-2022");
    let set = common::lvzhi(
        &[
            "group",
            "set",
            "第一督导组",
            "--units",
            "教育局,发改委",
            "--data",
            data.to_str().expect("path"),
        ],
        dir.path(),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    // The API is read with the recorder's token once its given password is changed (a token of
    // an account that must change its password is refused, like a session).
    let api_token = std::cell::OnceCell::new();
    let api = |path: &str| -> Value {
        let token = api_token.get_or_init(|| common::token_for(&data, "jilu"));
        let (status, body) = http(server.port, "GET", path, token, None);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("json")
    };
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

        // Recorder: a password someone else set is changed first; a deduction with evidence then
        // lowers the unit's score on the dashboard.
        ui.first_login("jilu", "Recorder-Given-2022", "Recorder-Own-2022").await;
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
        let record_id: i64 = record_path
            .trim_start_matches("/records/")
            .split('?')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("record id in the address");
        ui.upload("#f-file", "#upload-form", "整改通知.pdf", "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf").await;
        ui.wait("the uploaded file in the list", "document.querySelector('#attachments') && document.querySelector('#attachments').innerText.includes('整改通知.pdf')").await;
        ui.shot("04-record").await;
        let after = dashboard_total(&ui, "发改委").await;
        assert_eq!(hundredths(&before) - hundredths(&after), 100, "2.5 costs one point: {before} → {after}");

        // A refused form names every missing field at once, and then a value out of range, each
        // next to its input; nothing is stored.
        let stored = api("/api/v1/periods/2022/records?limit=1")["total"].clone();
        ui.goto("/records/new").await;
        ui.submit("#record-form").await;
        ui.wait("the refusals next to the fields", "document.querySelector('[data-field=unit]') && document.querySelector('[data-field=rule]')").await;
        let missing = ui.text("#form-message").await;
        assert!(missing.contains("单位") && missing.contains("条款"), "every missing field is named: {missing}");
        ui.set("#f-unit", "教育局").await;
        ui.set_until("#f-rule", "1.1", "the points field", "document.querySelector('#f-points')").await;
        ui.set("#f-points", "12").await;
        ui.set("#f-date", "2022-06-02").await;
        ui.submit("#record-form").await;
        ui.wait("the range refusal", "document.querySelector('[data-field=points]') && document.querySelector('[data-field=points]').innerText.includes('10')").await;
        let message = ui.text("[data-field=points]").await;
        assert!(message.contains('1') && message.contains("10"), "the message says what is allowed: {message}");
        ui.shot("06-record-refused").await;
        assert_eq!(api("/api/v1/periods/2022/records?limit=1")["total"], stored, "a refused form stores nothing");
        ui.logout().await;

        // 督导组: its own units in one grid, in roster order; a score saved in place, emptied
        // (cleared) and entered again; a score above the maximum refused in its cell; another
        // group's grid refused with the reason.
        ui.first_login("duzu1", "Assessor-Given-2022", "Assessor-Own-2022").await;
        assert!(ui.path().await.starts_with("/assess"), "a group lands on its grid");
        let rows = ui.eval("Array.from(document.querySelectorAll('#assess-grid tbody tr a')).map(a => a.innerText)").await;
        // The roster's order is the rubric file's (the group was given its units the other way round).
        let rubric = std::fs::read_to_string(common::repo().join("rubrics/2022.toml")).expect("rubric");
        let mut roster = vec!["发改委", "教育局"];
        roster.sort_by_key(|u| rubric.find(&format!("name = \"{u}\"")).expect("on the roster"));
        assert_eq!(rows, serde_json::json!(roster), "the two supervised units, in roster order");
        let cell_note = |unit: &str| format!("(() => {{ const f = document.querySelector(\"input[data-unit='{unit}'][data-key='3.4.1']\").closest('form'); const m = f.querySelector('.ok-mark, .field-error'); return m ? m.innerText : null; }})()");
        ui.set("input[data-unit='教育局'][data-key='3.4.1']", "4.5").await;
        ui.wait("the saved mark", &format!("({}) === '已保存'", cell_note("教育局"))).await;
        ui.set("input[data-unit='教育局'][data-key='3.4.1']", "").await;
        ui.wait("the cleared mark", &format!("({}) === '已清除（未打分）'", cell_note("教育局"))).await;
        let sheet = api("/api/v1/periods/2022/units/%E6%95%99%E8%82%B2%E5%B1%80/sheet").to_string();
        assert!(!sheet.contains("\"assessor\":\"第一督导组\""), "an emptied cell clears the group's score");
        ui.set("input[data-unit='教育局'][data-key='3.4.1']", "4.5").await;
        ui.wait("the saved mark again", &format!("({}) === '已保存'", cell_note("教育局"))).await;
        ui.set("input[data-unit='发改委'][data-key='3.4.1']", "6").await;
        ui.wait("the refusal in the cell", &format!("({}) !== null && ({}).length > 0", cell_note("发改委"), cell_note("发改委"))).await;
        ui.shot("08-assess").await;
        let sheet = api("/api/v1/periods/2022/units/%E6%95%99%E8%82%B2%E5%B1%80/sheet").to_string();
        assert!(sheet.contains("\"assessor\":\"第一督导组\",\"score\":\"4.5\""), "the group's score is stored under its own name");
        ui.goto("/assess?group=%E7%AC%AC%E4%BA%8C%E7%9D%A3%E5%AF%BC%E7%BB%84").await;
        let other = ui.text("body").await;
        assert!(other.contains("只能查看和填写本组（第一督导组）"), "another group's grid is refused with the reason: {other}");
        assert!(!other.contains("403") && !other.contains("状态码"), "no status code for people: {other}");
        ui.logout().await;

        // The office: confirms what a filter shows in one step, told how many; has no appeal form;
        // imports a file once and is refused the same file again; is shown probable duplicates.
        ui.first_login("admin", "Admin-Pass-2022", "Admin-Own-Pass-2022").await;
        let pending = api("/api/v1/periods/2022/records?unit=%E5%8F%91%E6%94%B9%E5%A7%94&status=recorded&limit=1")["total"]
            .as_i64()
            .expect("total");
        assert!(pending >= 1, "the recorder's record waits for confirmation");
        ui.goto("/records?unit=%E5%8F%91%E6%94%B9%E5%A7%94").await;
        let button = ui.text("#confirm-all button").await;
        assert!(button.contains(&format!("确认筛选出的 {pending} 条")), "the button counts what it confirms: {button}");
        ui.shot("07-records").await;
        ui.eval("(() => { document.querySelector('#confirm-all button').click(); return true; })()").await;
        ui.wait("the confirmation note", "document.querySelector('#confirmed-note')").await;
        assert!(ui.text("#confirmed-note").await.contains(&format!("{pending}")), "the note says how many were confirmed");
        assert_eq!(api("/api/v1/periods/2022/records?unit=%E5%8F%91%E6%94%B9%E5%A7%94&status=recorded&limit=1")["total"], Value::from(0));
        let record = api(&format!("/api/v1/periods/2022/records/{record_id}"));
        assert_eq!(record["record"]["status"], "confirmed", "{record}");
        ui.goto(&record_path).await;
        assert!(ui.text("h1").await.contains("已确认"));
        assert!(ui.eval("document.querySelector('#appeal-form') === null").await == Value::Bool(true), "the office does not appeal");

        let csv = "单位,条款编号,数量,扣分,日期,依据,说明\n教育局,2.5,1,,2022-07-01,张安办〔2022〕120号,浏览器导入\n";
        ui.goto("/import").await;
        assert_eq!(ui.text("#import-form .file-pick .button").await, "选择文件", "the file control reads Chinese");
        let pick = |name: &str, body: &str| format!(
            "(() => {{ const dt = new DataTransfer(); dt.items.add(new File([{c}], {n}, {{type: 'text/csv'}})); \
             const i = document.querySelector('#i-file'); i.files = dt.files; i.dispatchEvent(new Event('change', {{bubbles: true}})); \
             document.querySelector('#import-form button[value=\"1\"]').click(); return true; }})()",
            c = serde_json::to_string(body).expect("json"), n = serde_json::to_string(name).expect("json"));
        ui.eval(&pick("第三季度.csv", csv)).await;
        ui.wait("the import", "document.querySelector('#import-done')").await;
        assert!(ui.text("#import-form .file-name").await.contains("第三季度.csv"), "the chosen file is named");
        ui.goto("/import").await;
        ui.eval(&pick("第三季度.csv", csv)).await;
        ui.wait("the refusal of the same file", "document.querySelector('#import-again')").await;
        assert!(ui.text("#import-again").await.contains("不再重复导入"));
        ui.goto("/import").await;
        ui.eval(&pick("第三季度（修订）.csv", &format!("{csv}教育局,2.5,1,,2022-07-08,张安办〔2022〕121号,\n"))).await;
        ui.wait("the probable duplicates", "document.querySelector('#import-duplicates')").await;
        assert!(ui.text("#import-ask").await.contains("1 行"), "one row is a probable duplicate");
        ui.shot("16-import-duplicates").await;
        ui.logout().await;

        // The recorder is not offered to revise a confirmed record.
        ui.login("jilu", "Recorder-Own-2022").await;
        ui.goto(&record_path).await;
        assert!(ui.eval("document.querySelector('#revoke-form') === null && document.querySelector('#correct-link') === null").await == Value::Bool(true), "a recorder cannot revise a confirmed record");
        ui.logout().await;

        // Unit: its own sheet (states, official beside provisional, downloads), its notices
        // (counted in the menu), its appeal; another unit's sheet and record refused without
        // naming that unit.
        ui.first_login("fgw", "Unit-Given-2022!", "Unit-Own-2022!").await;
        assert!(ui.path().await.starts_with("/units/"), "a unit lands on its sheet");
        assert!(ui.text("h1").await.contains("发改委"));
        let sheet = ui.text("#sheet").await;
        assert!(sheet.contains("张安办〔2022〕99号") && sheet.contains("整改通知.pdf") && sheet.contains("已确认"), "the sheet explains the new point and its state");
        assert!(!ui.text("#official-total").await.is_empty() && !ui.text("#total").await.is_empty(), "official and provisional side by side");
        let unread = ui.text("#nav-count-notices").await;
        assert!(unread.trim().parse::<u32>().is_ok_and(|n| n >= 1), "the menu counts unread notices: {unread:?}");
        for link in ["#download-sheet", "#download-records"] {
            let js = format!("(async () => {{ const r = await fetch(document.querySelector('{link}').href); const b = new Uint8Array(await r.arrayBuffer()); \
                return r.status + ' ' + String.fromCharCode(b[0], b[1]) + ' ' + (r.headers.get('content-disposition') || ''); }})()");
            let got = ui.eval(&js).await;
            let got = got.as_str().unwrap_or_default();
            assert!(got.starts_with("200 PK") && got.contains(".xlsx"), "{link} downloads a workbook: {got}");
        }
        ui.shot("05-sheet").await;
        ui.goto("/units/%E6%95%99%E8%82%B2%E5%B1%80").await;
        assert!(ui.text("body").await.contains("无权"), "another unit's sheet is refused");
        let other = api("/api/v1/periods/2022/records?unit=%E6%95%99%E8%82%B2%E5%B1%80&limit=1")["records"][0]["id"]
            .as_i64()
            .expect("an 教育局 record");
        ui.goto(&format!("/records/{other}")).await;
        let body = ui.text("#error-message").await;
        assert!(body.contains("无权") && !body.contains("教育局"), "refused without naming the unit: {body}");
        ui.goto("/overview").await;
        assert!(ui.text("body").await.contains("无权"), "the rankings are refused to a unit");
        ui.goto("/notifications").await;
        assert!(ui.text("#notices").await.contains("已确认"), "the unit is told of the confirmation");
        ui.shot("13-notices").await;
        ui.goto(&record_path).await;
        ui.set("#f-appeal-reason", "该问题已于 6 月 10 日整改到位，见所附验收记录").await;
        ui.submit("#appeal-form").await;
        ui.wait("the appeal on the record", "document.querySelector('#appeal') && document.querySelector('h1').innerText.includes('申诉中')").await;
        ui.shot("14-appeal").await;
        ui.logout().await;

        // Leader: the dashboard.
        ui.first_login("lingdao", "Leader-Given-2022", "Leader-Own-2022").await;
        assert!(ui.path().await.starts_with("/overview"));
        ui.logout().await;

        // The office decides the appeal; the publication page lists what stands in the way.
        ui.login("admin", "Admin-Own-Pass-2022").await;
        ui.goto("/audit").await;
        assert!(ui.text("#chain-status").await.contains("哈希链完整；各表尚未与审计链核对"));
        ui.shot("09-audit").await;
        ui.goto("/users").await;
        assert!(ui.text("#users").await.contains("duzu1"));
        ui.shot("10-users").await;
        ui.goto("/rubric").await;
        ui.shot("11-rubric").await;
        ui.goto("/metric-values").await;
        ui.shot("12-metrics").await;
        ui.goto(&record_path).await;
        ui.eval("(() => { document.querySelector('input[name=decision][value=upheld]').checked = true; return true; })()").await;
        ui.set("#f-decision-reason", "验收记录晚于检查日期，维持原扣分").await;
        ui.submit("#decision-form").await;
        ui.wait("the decision", "document.querySelector('h1').innerText.includes('维持')").await;
        assert!(ui.text("#appeal").await.contains("验收记录晚于检查日期"), "the decision and its reason are shown");
        ui.goto("/publish").await;
        assert!(ui.text("#checklist").await.contains("条扣分记录待确认"), "the check list names the pending records");
        ui.shot("15-publish").await;

        // Every page on a 390-px phone: nothing wider than the screen, the menu behind a button,
        // no browser-language date control.
        ui.screen(390, 844, true).await;
        let mut pages: Vec<String> = ADMIN_PAGES.iter().map(|p| (*p).to_owned()).collect();
        pages.push(record_path.clone());
        for path in &pages {
            ui.goto(path).await;
            ui.fits(390).await;
            assert!(ui.shown(".menu-toggle").await, "{path}: the menu button is shown on a phone");
            assert!(!ui.shown("#main-nav").await, "{path}: the menu is folded on a phone");
            assert_eq!(ui.eval("document.querySelectorAll('input[type=date]').length").await, Value::from(0), "{path}: dates are typed as YYYY-MM-DD");
        }
        ui.goto("/overview").await;
        ui.eval("(() => { document.querySelector('.menu-toggle').click(); return true; })()").await;
        assert!(ui.shown("#main-nav").await, "the button unfolds the menu");
        ui.shot("17-phone-menu").await;
        ui.goto("/units/%E5%8F%91%E6%94%B9%E5%A7%94").await;
        ui.shot("18-phone-sheet").await;
        ui.screen(1280, 900, false).await;

        // Printed: the rankings and a sheet under the rubric's title, without the menu.
        ui.print_media(true).await;
        for path in ["/overview", "/units/%E5%8F%91%E6%94%B9%E5%A7%94"] {
            ui.goto(path).await;
            assert!(!ui.shown("#main-nav").await && !ui.shown(".menu-toggle").await, "{path}: no menu on paper");
            assert!(ui.shown(".print-title").await, "{path}: a printed title");
            let title = ui.text(".print-title").await;
            assert!(title.contains("张家港"), "{path}: the printed title names the rubric: {title}");
            if path == "/overview" {
                // The office's table on paper: no tiles, no charts.
                assert!(
                    !ui.shown(".stats").await && !ui.shown(".charts").await,
                    "the ranking prints without tiles or charts"
                );
            }
        }
        ui.print_media(false).await;

        browser.close().await.ok();
        browser.wait().await.ok();
        task.abort();
    });
}

#[test]
fn a_fresh_installation_takes_the_office_to_its_first_year() {
    let Some(chrome) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data folder");
    let server = start_store(&data, false);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (mut browser, task) = launch(&chrome, &dir.path().join("profile")).await;
        let page = browser.new_page("about:blank").await.expect("page");
        let ui = Ui {
            page,
            base: format!("http://127.0.0.1:{}", server.port),
            shots: std::env::var_os("LVZHI_SCREENSHOTS").map(PathBuf::from),
        };
        ui.first_login("admin", "Admin-Pass-2022", "Admin-Own-Pass-2022")
            .await;
        assert!(
            ui.path().await.starts_with("/rubrics"),
            "no year yet: the office is taken to the rubrics"
        );
        assert!(ui.text("#first-year").await.contains("开设第一个考核年度"));
        ui.shot("00-first-year").await;
        ui.eval(
            "(() => { document.querySelector('[id^=open-shipped-]').click(); return true; })()",
        )
        .await;
        ui.wait("the roster to check", "document.querySelector('#roster')")
            .await;
        let rows = ui
            .eval("document.querySelectorAll('#roster tbody tr').length")
            .await;
        assert_eq!(
            rows,
            Value::from(41),
            "the shipped roster of 41 units is shown before opening"
        );
        ui.submit("#open-form").await;
        ui.wait(
            "the new year's dashboard",
            "location.pathname === '/overview' && document.readyState === 'complete'",
        )
        .await;
        assert!(ui.text("body").await.contains("2022"), "the year is open");
        assert!(
            ui.text("#next-steps").await.contains("建立账号"),
            "an empty year says what to do next"
        );
        ui.goto("/").await;
        assert!(
            ui.path().await.starts_with("/overview"),
            "with a year, home is the dashboard"
        );

        // A new 细则 reviewed as a form on a phone: every question answered by a tick, checked.
        ui.screen(390, 844, true).await;
        ui.goto("/rubrics").await;
        let seed = std::fs::read_to_string(common::repo().join("docs/spec/seed-rubric-2022.txt"))
            .expect("seed document");
        ui.upload(
            "#f-rubric-file",
            "#rubric-upload",
            "细则.txt",
            &seed,
            "text/plain",
        )
        .await;
        ui.wait("the review form", "document.querySelector('#rubric-form .review-item')")
            .await;
        ui.fits(390).await;
        let questions = ui
            .eval("document.querySelectorAll('.review-item.asks, .review-item.level-unclassified').length")
            .await;
        assert_eq!(questions, Value::from(10), "the draft's questions, one block each");
        ui.shot("19-phone-rubric-review").await;
        ui.eval(
            "(() => { document.querySelectorAll('#rubric-form input[type=checkbox]').forEach(c => { c.checked = true; }); \
             document.querySelector('#check-button').click(); return true; })()",
        )
        .await;
        ui.wait(
            "the check",
            "(document.querySelector('#check-result') || {innerText: ''}).innerText.includes('检查通过')",
        )
        .await;
        ui.screen(1280, 900, false).await;
        ui.shot("20-rubric-review").await;
        browser.close().await.ok();
        browser.wait().await.ok();
        task.abort();
    });
}

/// A county under the root runs its departments and its towns side by side: its admin moves
/// between them in the header, every page naming the office, the assessment and the year; once
/// the towns are published, the root's leader lands on the oversight of the offices below, on a
/// phone too.
#[test]
fn a_county_runs_two_assessments_and_the_office_above_oversees_them() {
    let Some(chrome) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data folder");
    let server = start_store(&data, false);
    let d = data.to_str().expect("path");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--data", d]);
        let r = common::lvzhi(&all, dir.path());
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    };
    let example = |name: &str| {
        common::repo()
            .join(format!("rubrics/examples/{name}.toml"))
            .to_string_lossy()
            .into_owned()
    };
    run(&[
        "office",
        "add",
        "qingshan",
        "--name",
        "青山县安委办",
        "--parent",
        "root",
        "--level",
        "县",
    ]);
    let (departments, towns) = (
        example("county-departments-2023"),
        example("county-towns-2023"),
    );
    run(&[
        "period",
        "open",
        &departments,
        "--office",
        "qingshan",
        "--assessment",
        "departments",
        "--yes",
    ]);
    run(&[
        "period",
        "open",
        &towns,
        "--office",
        "qingshan",
        "--assessment",
        "towns",
        "--yes",
    ]);
    add_user(
        &data,
        "qs-admin",
        "admin",
        &["--office", "qingshan"],
        "Given-Pass-2023",
    );
    add_user(&data, "sheng-leader", "leader", &[], "Given-Pass-2023");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (mut browser, task) = launch(&chrome, &dir.path().join("profile")).await;
        let page = browser.new_page("about:blank").await.expect("page");
        let ui = Ui {
            page,
            base: format!("http://127.0.0.1:{}", server.port),
            shots: std::env::var_os("LVZHI_SCREENSHOTS").map(PathBuf::from),
        };
        ui.first_login("qs-admin", "Given-Pass-2023", "Own-County-Pass-2023")
            .await;
        // The header offers both assessments of 2023, grouped by assessment.
        let groups = ui
            .eval("Array.from(document.querySelectorAll('form.year optgroup')).map(g => g.label).join('|')")
            .await;
        let groups = groups.as_str().unwrap_or("");
        assert!(
            groups.contains("青山县安委办 · 青山县安全生产委员会成员单位安全生产工作考核")
                && groups.contains("青山县安委办 · 青山县镇（街道）安全生产工作考核"),
            "{groups}"
        );
        ui.goto("/overview?year=qingshan.towns.2023").await;
        assert_eq!(
            ui.text("#period-label").await,
            "青山县安委办 · 青山县镇（街道）安全生产工作考核 · 2023 年度"
        );
        assert!(ui.text("body").await.contains("城关镇"));
        ui.shot("21-county-towns").await;
        // Choosing the other assessment in the header.
        ui.set("form.year select", "qingshan.departments.2023").await;
        ui.wait(
            "the departments' overview",
            "location.search.includes('qingshan.departments.2023') && document.readyState === 'complete'",
        )
        .await;
        assert!(ui.text("#period-label").await.contains("成员单位安全生产工作考核"));
        ui.logout().await;

        run(&["period", "publish", "--period", "qingshan.towns.2023", "--reason", "经县安委会审定", "--acknowledge"]);
        ui.first_login("sheng-leader", "Given-Pass-2023", "Own-Leader-Pass-2023")
            .await;
        assert!(
            ui.path().await.starts_with("/oversight"),
            "a leader above lands on the oversight"
        );
        let table = ui.text("#oversight").await;
        assert!(
            table.contains("青山县安委办") && table.contains("已发布") && table.contains("进行中"),
            "{table}"
        );
        ui.shot("22-oversight").await;
        ui.screen(390, 844, true).await;
        ui.goto("/oversight").await;
        ui.fits(390).await;
        ui.shot("23-phone-oversight").await;
        browser.close().await.ok();
        browser.wait().await.ok();
        task.abort();
    });
}
