//! The pages: server-rendered HTML in zh-CN for every role, with htmx (vendored) for the parts of a
//! page that update in place and ECharts (vendored) for charts. Every asset is compiled into the
//! binary and served from `/static/`, so the pages work on an intranet with no internet.
//!
//! Pages authenticate on the floor the API shares (session cookie or bearer token) through
//! [`Viewer`], check the core's permission matrix before every operation, and call the store; they
//! hold no rule of the rubric and compute no figure. A write from a page carries the session's CSRF
//! token in the `X-CSRF-Token` header (htmx adds it from `<body hx-headers>`), on top of the
//! same-site check of every cookie-carried write. This module must not contain SQL and must not
//! import the JSON API.

mod admin;
mod grids;
mod imports;
mod ledger;
mod lifecycle;
mod oversight;
mod overview;
mod rubric_editor;
mod rubrics;
mod years;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lvzhi_core::access::Action;
use lvzhi_store::{PeriodState, Role, User};
use minijinja::Environment;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::{self, Authed, caller, csrf_of, safe_next, source_of};
use crate::view::localtime;
pub use crate::view::{chart_json, encode_component};
use crate::{ApiError, AppState};

/// The templates, compiled into the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("error.html", include_str!("../../templates/error.html")),
    (
        "error_page.html",
        include_str!("../../templates/error_page.html"),
    ),
    ("login.html", include_str!("../../templates/login.html")),
    (
        "password.html",
        include_str!("../../templates/password.html"),
    ),
    (
        "overview.html",
        include_str!("../../templates/overview.html"),
    ),
    (
        "year_overview.html",
        include_str!("../../templates/year_overview.html"),
    ),
    (
        "oversight.html",
        include_str!("../../templates/oversight.html"),
    ),
    (
        "year_sheet.html",
        include_str!("../../templates/year_sheet.html"),
    ),
    (
        "year_parts.html",
        include_str!("../../templates/year_parts.html"),
    ),
    ("sheet.html", include_str!("../../templates/sheet.html")),
    ("records.html", include_str!("../../templates/records.html")),
    ("notices.html", include_str!("../../templates/notices.html")),
    ("publish.html", include_str!("../../templates/publish.html")),
    ("whatif.html", include_str!("../../templates/whatif.html")),
    (
        "whatif_result.html",
        include_str!("../../templates/whatif_result.html"),
    ),
    ("rubrics.html", include_str!("../../templates/rubrics.html")),
    (
        "rubric_editor.html",
        include_str!("../../templates/rubric_editor.html"),
    ),
    (
        "rubric_edit.html",
        include_str!("../../templates/rubric_edit.html"),
    ),
    (
        "rubric_diff.html",
        include_str!("../../templates/rubric_diff.html"),
    ),
    (
        "rubric_open.html",
        include_str!("../../templates/rubric_open.html"),
    ),
    (
        "publication.html",
        include_str!("../../templates/publication.html"),
    ),
    ("record.html", include_str!("../../templates/record.html")),
    (
        "record_new.html",
        include_str!("../../templates/record_new.html"),
    ),
    (
        "record_form.html",
        include_str!("../../templates/record_form.html"),
    ),
    (
        "record_fields.html",
        include_str!("../../templates/record_fields.html"),
    ),
    (
        "attachments.html",
        include_str!("../../templates/attachments.html"),
    ),
    ("assess.html", include_str!("../../templates/assess.html")),
    ("metrics.html", include_str!("../../templates/metrics.html")),
    ("cell.html", include_str!("../../templates/cell.html")),
    ("rubric.html", include_str!("../../templates/rubric.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    ("users.html", include_str!("../../templates/users.html")),
    (
        "users_body.html",
        include_str!("../../templates/users_body.html"),
    ),
    ("notice.html", include_str!("../../templates/notice.html")),
    ("import.html", include_str!("../../templates/import.html")),
    (
        "import_result.html",
        include_str!("../../templates/import_result.html"),
    ),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_filter("truncate", truncate);
    env.add_filter("localtime", localtime);
    env.add_filter("person", |s: &str| crate::view::person(s));
    // The limits of what a person writes, from the one place they live.
    env.add_global(
        "limits",
        minijinja::context! {
            source => lvzhi_core::input::SOURCE_MAX,
            note => lvzhi_core::input::NOTE_MAX,
            reason => lvzhi_core::input::REASON_MAX,
            username => lvzhi_core::input::USERNAME_MAX,
        },
    );
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env
});

/// `text | truncate(n)`: at most `n` characters, with "…" when cut.
fn truncate(text: &str, n: usize) -> String {
    crate::view::truncate(text, n)
}

/// Compiles every template (at start-up, so that a broken one stops the server, not a page).
pub fn check_templates() {
    LazyLock::force(&ENV);
}

/// The vendored and own static files: name, content type, bytes.
const STATIC: &[(&str, &str, &[u8])] = &[
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/htmx-2.0.11.min.js"),
    ),
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/echarts-6.1.0.min.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "htmx-LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../static/vendor/htmx-LICENSE.txt"),
    ),
    (
        "echarts-LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../static/vendor/echarts-LICENSE.txt"),
    ),
    // The reports' Chinese font, for a machine without one (app.css names it last).
    (
        "NotoSansSC-Regular.otf",
        "font/otf",
        lvzhi_office::report::FONT,
    ),
    (
        "NotoSansSC-LICENSE.txt",
        "text/plain; charset=utf-8",
        lvzhi_office::report::FONT_LICENCE,
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/{name}", get(static_file))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/password", get(password_page).post(password_submit))
        .route("/overview", get(overview::overview))
        .route("/oversight", get(oversight::page))
        .route("/units/{name}", get(overview::sheet))
        .route("/rubric", get(overview::rubric))
        .route("/records", get(ledger::list).post(ledger::create))
        .route("/records/new", get(ledger::new_form))
        .route("/records/fields", get(ledger::fields))
        .route("/records/{id}", get(ledger::detail))
        .route("/records/{id}/revoke", post(ledger::revoke))
        .route("/records/confirm", post(lifecycle::confirm_all))
        .route("/records/{id}/confirm", post(lifecycle::confirm))
        .route("/records/{id}/appeal", post(lifecycle::appeal))
        .route("/records/{id}/decision", post(lifecycle::decide))
        .route("/notifications", get(lifecycle::notices))
        .route("/notifications/seen", post(lifecycle::seen))
        .route(
            "/publish",
            get(lifecycle::publish_page).post(lifecycle::publish),
        )
        .route("/publish/reopen", post(lifecycle::reopen))
        .route("/publish/windows", post(lifecycle::windows))
        .route("/publish/{seq}", get(lifecycle::publication))
        .route(
            "/whatif",
            get(lifecycle::what_if_page).post(lifecycle::what_if),
        )
        .route("/rubrics", get(rubrics::list))
        .route(
            "/rubrics/import",
            post(rubrics::import).layer(axum::extract::DefaultBodyLimit::max(
                lvzhi_draft::MAX_DOCUMENT + (64 << 10),
            )),
        )
        .route("/rubrics/check", post(rubrics::check))
        .route("/rubrics/shipped", post(rubrics::save_shipped))
        .route("/rubrics/save", post(rubrics::save))
        .route("/rubrics/diff", get(rubrics::diff))
        .route("/rubrics/{hash}", get(rubrics::edit))
        .route(
            "/rubrics/{hash}/open",
            get(rubrics::open_plan).post(rubrics::open),
        )
        .route(
            "/records/{id}/correct",
            get(ledger::correct_form).post(ledger::correct),
        )
        .route(
            "/records/{id}/evidence",
            post(ledger::upload).layer(axum::extract::DefaultBodyLimit::max(
                lvzhi_store::MAX_ATTACHMENT + (64 << 10),
            )),
        )
        .route("/assess", get(grids::assess).post(grids::assess_cell))
        .route(
            "/metric-values",
            get(grids::metrics).post(grids::metric_cell),
        )
        .route("/audit", get(admin::audit))
        .route("/users", get(admin::users).post(admin::create_user))
        .route("/users/{name}", post(admin::user_action))
        .route("/groups", post(admin::set_group))
        .route(
            "/import",
            get(imports::page)
                .post(imports::submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    lvzhi_office::xlsx_input::MAX_WORKBOOK as usize + (64 << 10),
                )),
        )
}

/// Why a page is not shown: a redirect (to the login or the password page), or an error page.
pub enum PageError {
    Redirect(String),
    /// An error page already rendered inside the user's layout.
    Rendered(Box<Response>),
    Error {
        status: StatusCode,
        message: String,
        htmx: bool,
    },
    /// No period is open yet: a page that says so and leads to opening one.
    NoYear,
}

/// What a page that needs a period says before the first one is opened.
const NO_YEAR: &str = "尚未开设考核年度";

impl PageError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError::Error {
            status,
            message: message.into(),
            htmx: false,
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::new(e.status, e.message)
    }
}

impl From<lvzhi_store::StoreError> for PageError {
    fn from(e: lvzhi_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<minijinja::Error> for PageError {
    fn from(e: minijinja::Error) -> Self {
        let id = crate::error::incident_id();
        tracing::error!(error = %e, incident = %id, "template error");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("页面生成出错，请联系管理员（事件编号 {id}）"),
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NoYear => PageError::new(StatusCode::NOT_FOUND, NO_YEAR).into_response(),
            PageError::Redirect(to) => Redirect::to(&to).into_response(),
            PageError::Rendered(r) => *r,
            PageError::Error {
                status,
                message,
                htmx,
            } => {
                let (name, ctx) = if htmx {
                    ("notice.html", json!({"kind": "error", "message": message}))
                } else {
                    (
                        "error.html",
                        json!({"title": status_title(status), "hint": status_hint(status), "message": message}),
                    )
                };
                let mut r = match ENV.get_template(name).and_then(|t| t.render(Serde(&ctx))) {
                    Ok(html) => (status, Html(html)).into_response(),
                    Err(_) => (status, message).into_response(),
                };
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    r.headers_mut().insert(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from(crate::error::RETRY_AFTER_UNAVAILABLE_SECS),
                    );
                }
                r
            }
        }
    }
}

/// What answers an unknown address outside `/api/`: a page.
pub fn not_found(path: &str) -> Response {
    PageError::new(StatusCode::NOT_FOUND, format!("没有这个页面：{path}")).into_response()
}

/// What a person can do about a refusal.
fn status_hint(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "请重新登录。",
        403 => "如有疑问，请与安委办联系。",
        404 => "请检查网址，或从菜单进入。",
        409 => "数据已有变化，请刷新页面后重试。",
        413 => "请缩小文件后重试。",
        429 => "请稍候一分钟再试。",
        503 => "数据库暂时无法访问，请稍候几秒后刷新。",
        400 | 422 => "请按提示修改后重试。",
        _ => "",
    }
}

fn status_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "请求有误",
        401 => "未登录",
        403 => "无权访问",
        404 => "页面不存在",
        409 => "数据已变化",
        413 => "内容过大",
        429 => "操作过于频繁",
        503 => "暂时无法服务",
        _ => "出错了",
    }
}

/// The logged-in user of a page, with the CSRF token of its session (`None` for a bearer token).
pub struct Viewer {
    pub authed: Authed,
    pub csrf: String,
    /// Whether the request came from htmx (answers are fragments; redirects are `HX-Redirect`).
    pub htmx: bool,
    /// Unread notices, for the menu (counted for whole pages only).
    pub unread: usize,
    /// Whether the user reads the offices below its own (an admin or leader of an office with
    /// offices below; known for whole pages only).
    pub oversees: bool,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let htmx = parts.headers.contains_key("hx-request");
        let with_htmx = |e: PageError| match e {
            PageError::Error {
                status, message, ..
            } => PageError::Error {
                status,
                message,
                htmx,
            },
            other => other,
        };
        let Some(c) = caller(parts, state)
            .await
            .map_err(|e| with_htmx(e.into()))?
        else {
            if parts.method.is_safe() && !htmx {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or("/", axum::http::uri::PathAndQuery::as_str);
                return Err(PageError::Redirect(format!(
                    "/login?next={}",
                    encode_component(here)
                )));
            }
            return Err(with_htmx(PageError::new(
                StatusCode::UNAUTHORIZED,
                "登录已失效，请刷新页面后重新登录",
            )));
        };
        let csrf = c.session.as_deref().map(csrf_of).unwrap_or_default();
        if let Some(_session) = &c.session {
            if c.user.must_change_password && parts.uri.path() != "/password" {
                return Err(PageError::Redirect("/password".into()));
            }
            if !parts.method.is_safe() {
                let sent = parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok());
                if sent != Some(csrf.as_str()) {
                    return Err(with_htmx(PageError::new(
                        StatusCode::FORBIDDEN,
                        "页面已过期或来源不明，请刷新页面后重试",
                    )));
                }
            }
        }
        let authed = Authed::new(
            c.user,
            source_of(parts, &state.trusted_proxies),
            state.duties,
        );
        parts.extensions.insert(authed.clone());
        let whole_page = parts.method == axum::http::Method::GET && !htmx;
        let unread = if whole_page {
            state.store.unread_count(&authed.user).await.unwrap_or(0)
        } else {
            0
        };
        let oversees = whole_page
            && lvzhi_store::reads_below(authed.user.role)
            && state
                .store
                .office_tree()
                .await
                .is_ok_and(|t| !t.below(&authed.user.office).is_empty());
        Ok(Viewer {
            authed,
            csrf,
            htmx,
            unread,
            oversees,
        })
    }
}

impl Viewer {
    pub fn user(&self) -> &User {
        &self.authed.user
    }

    /// Refuses (403, audited) unless the user may do `action` (on `unit`).
    pub async fn check(
        &self,
        s: &AppState,
        action: Action,
        unit: Option<&str>,
    ) -> Result<(), PageError> {
        self.authed
            .check(s, action, unit)
            .await
            .map_err(|e| self.error(e))
    }

    pub fn may(&self, action: Action, unit: Option<&str>) -> bool {
        self.authed.may(action, unit)
    }

    /// What this person can do about an error: for a refusal, what the role can do instead.
    fn hint(&self, status: StatusCode) -> &'static str {
        if status == StatusCode::FORBIDDEN {
            self.user().role.can_do()
        } else {
            status_hint(status)
        }
    }

    /// An error shown as a fragment to htmx, as a page in the user's layout otherwise (so that the
    /// navigation and the logout stay within reach).
    pub fn error(&self, e: impl Into<PageError>) -> PageError {
        match e.into() {
            PageError::Error {
                status, message, ..
            } if !self.htmx => {
                let title = status_title(status);
                match self.page(
                    "error_page.html",
                    "",
                    title,
                    None,
                    json!({"title": title, "hint": self.hint(status), "message": message}),
                ) {
                    Ok(mut r) => {
                        *r.status_mut() = status;
                        PageError::Rendered(Box::new(r))
                    }
                    Err(e) => e,
                }
            }
            PageError::Error {
                status, message, ..
            } => PageError::Error {
                status,
                message,
                htmx: true,
            },
            PageError::NoYear if !self.htmx => self.no_year(),
            other => other,
        }
    }

    /// The page before the first period: what is missing, and the way to open it for whoever may.
    fn no_year(&self) -> PageError {
        let (message, next) = if self.may(Action::ManagePeriods, None) {
            (
                "本系统还没有考核年度。开设第一个年度后，才能录入扣分、打分和查看排名。",
                Some(json!({"href": "/rubrics", "label": "开设第一个考核年度"})),
            )
        } else {
            (
                "本系统还没有考核年度：安委办开设年度后，这里将显示相应内容。",
                None,
            )
        };
        match self.page(
            "error_page.html",
            "",
            NO_YEAR,
            None,
            json!({"title": NO_YEAR, "message": message, "next": next, "kind": "warn"}),
        ) {
            Ok(mut r) => {
                *r.status_mut() = StatusCode::NOT_FOUND;
                PageError::Rendered(Box::new(r))
            }
            Err(e) => e,
        }
    }

    /// Where the user lands after logging in.
    pub fn landing(&self) -> String {
        // A leader of an office with offices below lands on what it oversees.
        if self.oversees && self.user().role == Role::Leader {
            return "/oversight".into();
        }
        landing(self.user())
    }

    /// The navigation of the user's role: (path, label, key).
    fn nav(&self) -> Vec<Value> {
        let u = self.user();
        let mut items = Vec::new();
        let own;
        if u.role.is_administrator() {
            // 三员分立: an administrator sees its own part (below) and the rubric, no business.
            items.push(("/rubric", "细则", "rubric"));
        } else {
            if self.oversees {
                items.push(("/oversight", "下级考核", "oversight"));
            }
            if self.may(Action::ReadResults, None) {
                items.push(("/overview", "总览", "overview"));
            }
            if let (Role::Unit, Some(unit)) = (u.role, &u.unit) {
                own = format!("/units/{}", encode_component(unit));
                items.push((own.as_str(), "本单位", "sheet"));
            }
            items.push(("/records", "扣分记录", "records"));
            if matches!(u.role, Role::Admin | Role::Assessor) {
                items.push(("/assess", "督导组打分", "assess"));
            }
            if self.may(Action::WriteMetric, None) {
                items.push(("/metric-values", "指标数据", "metrics"));
            }
            if self.may(Action::WriteRecords, None)
                || self.may(Action::WriteMetric, None)
                || u.role == Role::Assessor
            {
                items.push(("/import", "导入", "import"));
            }
            items.push(("/rubric", "细则", "rubric"));
            if self.may(Action::ReadResults, None) {
                items.push(("/whatif", "假设分析", "whatif"));
            }
            items.push(("/notifications", "通知", "notices"));
            if self.may(Action::ManagePeriods, None) {
                items.push(("/publish", "发布", "publish"));
                items.push(("/rubrics", "细则版本", "rubrics"));
            }
        }
        if self.may(Action::ReadAudit, None) {
            items.push(("/audit", "审计日志", "audit"));
        }
        if self.may(Action::ManageAccounts, None) || self.may(Action::ManageSecurity, None) {
            items.push(("/users", "用户管理", "users"));
        }
        items
            .into_iter()
            .map(|(href, label, key)| {
                let count = (key == "notices" && self.unread > 0).then_some(self.unread);
                json!({"href": href, "label": label, "key": key, "count": count})
            })
            .collect()
    }

    /// Renders a page: the template with the layout's context (user, navigation, year, token).
    pub fn page(
        &self,
        template: &str,
        active: &str,
        title: &str,
        year: Option<&Year>,
        mut ctx: Value,
    ) -> Result<Response, PageError> {
        let u = self.user();
        ctx["layout"] = json!({
            "title": title,
            "active": active,
            "nav": self.nav(),
            "csrf": self.csrf,
            "user": {
                "name": u.name, "role": u.role.code(), "role_label": u.role.label(),
                "unit": u.unit, "group": u.group,
            },
            "year": year.map(|y| y.year.clone()),
            "period_name": year.map(|y| y.state.info.period_name()),
            "period_label": year.map(|y| y.state.info.label()),
            "periods": year.map(|y| period_choices(&y.periods, &y.year)),
            "issuer": year.map(|y| y.state.rubric.issuer.clone()),
            "rubric_title": year.map(|y| y.state.rubric.title.clone()),
            "path": active,
        });
        render(template, &ctx).map(IntoResponse::into_response)
    }

    /// Renders a fragment (no layout).
    pub fn fragment(&self, template: &str, ctx: &Value) -> Result<Response, PageError> {
        render(template, ctx).map(IntoResponse::into_response)
    }

    /// Sends the browser to `to`: `HX-Redirect` for htmx, 303 otherwise.
    pub fn redirect(&self, to: &str) -> Response {
        redirect(self.htmx, to)
    }
}

fn redirect(htmx: bool, to: &str) -> Response {
    if htmx {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            r.headers_mut().insert("hx-redirect", v);
        }
        r
    } else {
        Redirect::to(to).into_response()
    }
}

pub fn render(template: &str, ctx: &Value) -> Result<Html<String>, PageError> {
    Ok(Html(ENV.get_template(template)?.render(Serde(ctx))?))
}

fn landing(u: &User) -> String {
    match (u.role, &u.unit) {
        (Role::Unit, Some(unit)) => format!("/units/{}", encode_component(unit)),
        (Role::Assessor, _) => "/assess".into(),
        (Role::Sysadmin | Role::Secadmin, _) => "/users".into(),
        (Role::Auditor, _) => "/audit".into(),
        _ => "/overview".into(),
    }
}

/// The period a page shows: `?year=`, or the latest.
pub struct Year {
    /// The period's id, for the store.
    pub id: i64,
    /// The period's key, for links and forms (`?year=` takes a key as it takes a year).
    pub year: String,
    /// The periods the viewer may choose from in the header: its office's, and the one shown.
    pub periods: Vec<lvzhi_store::PeriodInfo>,
    pub state: std::sync::Arc<PeriodState>,
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    pub year: Option<String>,
}

/// The period a page shows (the latest when none is asked); an error as the viewer's page.
pub async fn year_of(v: &Viewer, s: &AppState, raw: Option<&str>) -> Result<Year, PageError> {
    period_of(v, s, raw).await.map_err(|e| v.error(e))
}

async fn period_of(v: &Viewer, s: &AppState, raw: Option<&str>) -> Result<Year, PageError> {
    let rights = v.authed.rights();
    // The header offers the office's own periods (an office above reaches those below through
    // the oversight page), and the one shown when it is another office's.
    let mut periods = s.store.periods_of(&v.authed.user.office).await?;
    let id = match raw.filter(|r| !r.is_empty()) {
        Some(r) => s.store.period_id(r, rights).await?,
        None => {
            s.store
                .current_period(rights)
                .await?
                .ok_or(PageError::NoYear)?
                .id
        }
    };
    let state = s.store.state(id).await?;
    if !periods.iter().any(|p| p.id == id) {
        periods.push(state.info.clone());
    }
    Ok(Year {
        id,
        year: state.info.key.clone(),
        periods,
        state,
    })
}

/// The header's period choices, grouped by office and assessment ("青山县安委办 · 镇街考核").
fn period_choices(periods: &[lvzhi_store::PeriodInfo], chosen: &str) -> Vec<Value> {
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for p in periods {
        let group = format!("{} · {}", p.office_name, p.assessment_name);
        // The closed list shows only the chosen option: it names the assessment as well.
        let name = format!("{} · {}", p.period_name(), p.assessment_name);
        let item = json!({"key": p.key, "name": name, "chosen": p.key == chosen});
        match groups.iter_mut().find(|g| g.0 == group) {
            Some(g) => g.1.push(item),
            None => groups.push((group, vec![item])),
        }
    }
    groups
        .into_iter()
        .map(|(label, items)| json!({"label": label, "items": items}))
        .collect()
}

/// A query string parsed leniently: a malformed one is a 400 page, not a bare text.
pub fn query<T: Default + for<'de> Deserialize<'de>>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, PageError> {
    q.map(|Query(q)| q).map_err(|e| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            format!("网址中的查询参数无效：{}", e.body_text()),
        )
    })
}

async fn home(v: Viewer, State(s): State<AppState>) -> Result<Response, PageError> {
    // A fresh installation: the office is taken to opening its first year.
    if s.store.periods().await?.is_empty() && v.may(Action::ManagePeriods, None) {
        return Ok(v.redirect("/rubrics"));
    }
    Ok(v.redirect(&v.landing()))
}

async fn static_file(Path(name): Path<String>) -> Response {
    match STATIC.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, bytes)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => PageError::new(StatusCode::NOT_FOUND, "没有这个文件").into_response(),
    }
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    q: Result<Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    render(
        "login.html",
        &json!({"next": safe_next(q.next.as_deref()), "username": ""}),
    )
    .map(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login_submit(
    State(s): State<AppState>,
    parts: Parts,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            format!("登录表单无法读取：{}", e.body_text()),
        )
    })?;
    let again = |status: StatusCode, message: &str| -> Result<Response, PageError> {
        let html = render(
            "login.html",
            &json!({"next": safe_next(f.next.as_deref()), "username": f.username, "error": message}),
        )?;
        Ok((status, html).into_response())
    };
    if !auth::same_site(&parts, s.https) {
        return again(StatusCode::FORBIDDEN, "跨站提交：请从本系统页面登录");
    }
    let done = match auth::login(
        &s,
        &source_of(&parts, &s.trusted_proxies),
        &f.username,
        &f.password,
    )
    .await
    {
        Ok(d) => d,
        Err(e) if e.status.is_client_error() => return again(e.status, &e.message),
        Err(e) => return Err(e.into()),
    };
    // A reset password must be changed first; the password page tells who reset it and when.
    let to = if done.user.must_change_password {
        "/password".to_owned()
    } else {
        safe_next(f.next.as_deref()).unwrap_or_else(|| landing(&done.user))
    };
    let mut r = Redirect::to(&to).into_response();
    if let Ok(v) = HeaderValue::from_str(&done.cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

async fn logout(
    v: Viewer,
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let clear = auth::logout(&s, &headers, &v.authed).await?;
    let mut r = v.redirect("/login");
    if let Ok(h) = HeaderValue::from_str(&clear) {
        r.headers_mut().insert(header::SET_COOKIE, h);
    }
    Ok(r)
}

#[derive(Deserialize, Default)]
struct PasswordQuery {
    changed: Option<String>,
}

async fn password_page(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<PasswordQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    let told: Vec<String> = s
        .store
        .unread_account_notices(&v.user().name)
        .await?
        .into_iter()
        .map(|n| n.message)
        .collect();
    v.page(
        "password.html",
        "password",
        "修改密码",
        None,
        json!({"must": v.user().must_change_password, "changed": q.changed.is_some(), "landing": v.landing(), "told": told}),
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    old_password: String,
    new_password: String,
    confirm: String,
}

async fn password_submit(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let notice = |field: &str, message: &str| {
        let html = render(
            "notice.html",
            &json!({"kind": "error", "field": field, "message": message}),
        )?;
        Ok::<_, PageError>((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    if f.new_password != f.confirm {
        return notice("confirm", "两次输入的新密码不一致");
    }
    match s
        .store
        .change_password(
            &v.user().name,
            &f.old_password,
            &f.new_password,
            &v.authed.actor,
        )
        .await
    {
        // The change is said so on the password page, with the way on.
        Ok(()) => Ok(v.redirect("/password?changed=1")),
        Err(lvzhi_store::StoreError::Invalid { field, message }) => notice(&field, &message),
        Err(lvzhi_store::StoreError::Forbidden(m)) => notice("old_password", &m),
        Err(e) => Err(v.error(e)),
    }
}

/// A form body that could not be read.
pub fn form_error(e: &axum::extract::rejection::FormRejection) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        format!("表单内容无法读取：{}", e.body_text()),
    )
}

/// A row of a select list.
#[derive(Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}
