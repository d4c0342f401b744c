//! The JSON API under `/api/v1`, `/healthz` and `/api/openapi.json`.
//!
//! Handlers authenticate first (the [`Authed`] extractor), check what the role may do, then call the
//! store; they hold no rule of the rubric. Bodies go through [`Body`], which turns malformed JSON,
//! wrong types and oversize bodies into Chinese 4xx errors. Numbers in bodies may be JSON numbers or
//! strings; strings are recommended, as every figure the API returns is a string.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use lvzhi_core::access::{self, Action, Subject};
use lvzhi_store::{Actor, NewRecord, RecordFilter, Role, User};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{ApiError, AppState, OPENAPI, sheet};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/session/password", post(change_password))
        .route(
            "/api/v1/periods",
            get(periods).post(crate::lifecycle::open_period),
        )
        .route(
            "/api/v1/periods/{year}/records",
            get(list_records).post(add_record),
        )
        .route("/api/v1/periods/{year}/records/{id}/revoke", post(revoke))
        .route("/api/v1/periods/{year}/assessments", put(put_assessment))
        .route("/api/v1/periods/{year}/metrics", put(put_metric))
        .route(
            "/api/v1/periods/{year}/units/{name}",
            axum::routing::patch(patch_unit),
        )
        .merge(crate::lifecycle::routes())
        .route("/api/v1/periods/{year}/units/{name}/sheet", get(unit_sheet))
        .route(
            "/api/v1/periods/{year}/records/{id}/attachments",
            get(list_attachments)
                .post(upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    lvzhi_store::MAX_ATTACHMENT + (64 << 10),
                )),
        )
        .route("/api/v1/periods/{year}/attachments/{id}", get(download))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{name}", axum::routing::patch(patch_user))
        .route("/api/v1/groups/{name}", put(put_group))
        .route("/api/v1/periods/{year}/export/{file}", get(export_file))
        .route(
            "/api/v1/periods/{year}/templates/{file}",
            get(template_file),
        )
        .route(
            "/api/v1/periods/{year}/import/{table}",
            post(import_file).layer(axum::extract::DefaultBodyLimit::max(
                lvzhi_office::xlsx_input::MAX_WORKBOOK as usize + (64 << 10),
            )),
        )
}

/// What answers an unknown address: JSON under `/api/`, a page elsewhere.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(StatusCode::NOT_FOUND, "没有这个地址").into_response()
    } else {
        crate::pages::PageError::Error {
            status: StatusCode::NOT_FOUND,
            message: format!("没有这个页面：{}", uri.path()),
            htmx: false,
        }
        .into_response()
    }
}

/// The authenticated user of a request, and where it came from.
pub struct Authed {
    pub user: User,
    pub actor: Actor,
}

pub(crate) fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookie_in(&parts.headers, name)
}

/// The value of the cookie `name` in a request's headers.
pub(crate) fn cookie_in(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub(crate) fn source_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// A state-changing request carried by a cookie must come from this site: a browser says so with
/// `Sec-Fetch-Site`, and with `Origin` matching `Host`.
pub(crate) fn same_site(parts: &Parts) -> bool {
    let header = |n: header::HeaderName| parts.headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (header(header::ORIGIN), header(header::HOST)) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Who is asking: the user of a bearer token, or of the session cookie (then with the session id).
pub(crate) struct Caller {
    pub user: User,
    pub session: Option<String>,
}

/// Finds the caller of a request, without judging what it may do. A cookie-carried write from
/// another site is refused here, before anything else.
pub(crate) async fn caller(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(token) = bearer {
        return Ok(state.store.user_for_token(token).await?.map(|user| Caller {
            user,
            session: None,
        }));
    }
    let Some(id) = cookie(parts, state.cookie_name()) else {
        return Ok(None);
    };
    if !parts.method.is_safe() && !same_site(parts) {
        return Err(ApiError::forbidden("跨站提交：请从本系统页面操作"));
    }
    Ok(state.store.user_for_session(&id).await?.map(|user| Caller {
        user,
        session: Some(id),
    }))
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let c = caller(parts, state)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        // A generated or expired password must be changed before anything else.
        if c.session.is_some()
            && c.user.must_change_password
            && !parts.uri.path().starts_with("/api/v1/session")
        {
            return Err(ApiError::forbidden(
                "使用系统前须先修改密码（初始密码或已过期的密码）",
            ));
        }
        Ok(Authed {
            actor: Actor::new(c.user.name.clone(), source_of(parts)),
            user: c.user,
        })
    }
}

/// Where a request came from (the peer address), for the audit trail.
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(source_of(parts)))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

/// Logs in with a password; answers the user and sets the session cookie.
async fn login(
    State(s): State<AppState>,
    Source(source): Source,
    Body(body): Body<LoginBody>,
) -> Result<Response, ApiError> {
    s.count_login_attempt(&source)?;
    let found = s
        .store
        .login(
            body.username.trim(),
            &body.password,
            &source,
            s.password_max_age_days,
        )
        .await?;
    let Some((user, id)) = found else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "用户名或密码错误，或账号已被暂时锁定（连续 5 次失败将锁定 15 分钟）",
        ));
    };
    let cookie = format!(
        "{}={id}; {}; Max-Age={}",
        s.cookie_name(),
        s.cookie_attributes(),
        lvzhi_store::SESSION_MAX.whole_seconds()
    );
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({"user": user}))).into_response())
}

/// Logs out: ends the session on the server and clears the cookie.
async fn logout(
    a: Authed,
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let id = cookie_in(&headers, s.cookie_name());
    if let Some(id) = id {
        s.store.logout(&id, &a.actor).await?;
    }
    let clear = format!("{}=; {}; Max-Age=0", s.cookie_name(), s.cookie_attributes());
    Ok((
        [(header::SET_COOKIE, clear)],
        Json(json!({"logged_out": true})),
    )
        .into_response())
}

impl Authed {
    fn subject(&self) -> Subject<'_> {
        Subject {
            role: match self.user.role {
                Role::Admin => access::Role::Admin,
                Role::Recorder => access::Role::Recorder,
                Role::Assessor => access::Role::Assessor,
                Role::Unit => access::Role::Unit,
                Role::Leader => access::Role::Leader,
            },
            unit: self.user.unit.as_deref(),
            supervises: &self.user.supervises,
        }
    }

    /// Whether the user may do `action` (on `unit`), by the core's matrix.
    pub(crate) fn may(&self, action: Action, unit: Option<&str>) -> bool {
        access::allowed(&self.subject(), action, unit)
    }

    /// Refuses with 403 (and an audit entry) unless the user may do `action` on `unit`.
    pub(crate) async fn check(
        &self,
        s: &AppState,
        action: Action,
        unit: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.may(action, unit) {
            return Ok(());
        }
        let target = unit.map_or_else(|| "period".to_owned(), |u| format!("unit:{u}"));
        if let Err(e) = s
            .store
            .audit_refusal(&self.actor, action.label(), &target)
            .await
        {
            tracing::error!(error = %e, "could not audit a refusal");
        }
        Err(match unit {
            Some(u) => ApiError::forbidden(&format!("{}（单位「{u}」）", action.label())),
            None => ApiError::forbidden(action.label()),
        })
    }
}

/// A JSON body, with every way it can be wrong answered in Chinese.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(r) => Err(json_rejection(&r)),
        }
    }
}

fn json_rejection(r: &JsonRejection) -> ApiError {
    let text = r.body_text();
    match r {
        JsonRejection::JsonDataError(_) => {
            // "Failed to deserialize … target type: FIELD: problem at line …"
            let detail = text.split("target type: ").nth(1).unwrap_or(&text);
            let field = detail
                .split_once(": ")
                .map(|(f, _)| f)
                .filter(|f| !f.contains(' '));
            let message = format!("请求内容的字段缺失或类型不对：{detail}");
            match field {
                Some(f) => ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, f, message),
                None => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message),
            }
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("请求内容不是合法的 JSON：{text}"),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "请求须带 Content-Type: application/json",
        ),
        _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("请求内容过大（上限 {} KB）", crate::BODY_LIMIT / 1024),
        ),
        _ => ApiError::new(r.status(), format!("无法读取请求内容：{text}")),
    }
}

/// A number given as a JSON number or a string, kept as text for the core to parse exactly.
#[derive(Debug, Default)]
pub struct NumText(pub Option<String>);

impl<'de> Deserialize<'de> for NumText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(NumText(None)),
            Value::String(s) => Ok(NumText(Some(s))),
            // serde_json keeps the shortest text that reads back to the same number, which is exact
            // for every value with at most two decimals; the core refuses anything beyond that.
            Value::Number(n) => Ok(NumText(Some(n.to_string()))),
            other => Err(serde::de::Error::custom(format!(
                "expected a number or a string, found {other}"
            ))),
        }
    }
}

/// A version number: a JSON integer (as JSON Schema counts integers, `3.0` is one), or null.
pub(crate) fn version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("version must be an integer, found {n}"))
            }),
        other => Err(serde::de::Error::custom(format!(
            "version must be an integer, found {other}"
        ))),
    }
}

pub(crate) fn record_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "id",
            format!("记录编号「{raw}」无效"),
        )
    })
}

pub(crate) fn year_of(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|y| (1949..=2999).contains(y))
        .ok_or_else(|| {
            ApiError::field(
                StatusCode::BAD_REQUEST,
                "year",
                format!("年度「{raw}」无效"),
            )
        })
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.store.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "database unavailable"})),
        )
            .into_response(),
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn periods(a: Authed, State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ReadPeriods, None).await?;
    Ok(Json(json!({"periods": s.store.periods().await?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordQuery {
    unit: Option<String>,
    rule: Option<String>,
    status: Option<String>,
}

async fn list_records(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    q: Result<Query<RecordQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("查询参数无效（可用 unit、rule、status）：{}", e.body_text()),
        )
    })?;
    if let Some(st) = &q.status
        && !RECORD_STATES.contains(&st.as_str())
    {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "status",
            format!("status 只能是 {}", RECORD_STATES.join("、")),
        ));
    }
    // A user who may not read every unit's records gets its own units' only.
    if let Some(u) = &q.unit {
        a.check(&s, Action::ReadRecords, Some(u)).await?;
    }
    let all = a.may(Action::ReadRecords, None);
    let records: Vec<_> = s
        .store
        .records(
            year,
            &RecordFilter {
                unit: q.unit,
                rule: q.rule,
                status: q.status,
            },
        )
        .await?
        .into_iter()
        .filter(|r| all || a.may(Action::ReadRecords, Some(&r.unit)))
        .collect();
    Ok(Json(json!({"records": records})))
}

/// Every state a record can be in.
pub(crate) const RECORD_STATES: [&str; 6] = [
    "recorded",
    "confirmed",
    "appealed",
    "upheld",
    "revoked",
    "changed",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    pub(crate) unit: String,
    rule: String,
    #[serde(default)]
    count: NumText,
    #[serde(default)]
    points: NumText,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    note: String,
}

impl RecordBody {
    pub(crate) fn into_new(self) -> Result<NewRecord, ApiError> {
        for (field, text, max) in [("source", &self.source, 500), ("note", &self.note, 2000)] {
            if text.chars().count() > max {
                return Err(ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    field,
                    format!("{field} 至多 {max} 字"),
                ));
            }
        }
        Ok(NewRecord {
            unit: self.unit,
            rule: self.rule,
            count: self.count.0,
            points: self.points.0,
            date: self.date,
            source: self.source,
            note: self.note,
        })
    }
}

async fn add_record(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<RecordBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::WriteRecords, Some(&body.unit)).await?;
    let rec = s
        .store
        .add_record(year, &body.into_new()?, &a.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"record": rec}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    reason: String,
    #[serde(default, deserialize_with = "version")]
    version: Option<i64>,
    #[serde(default)]
    replacement: Option<RecordBody>,
}

async fn revoke(
    a: Authed,
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    Body(body): Body<RevokeBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    let id = record_id(&id)?;
    let unit = record_unit(&s, year, id).await?;
    a.check(&s, Action::WriteRecords, Some(&unit)).await?;
    if let Some(rep) = &body.replacement {
        a.check(&s, Action::WriteRecords, Some(&rep.unit)).await?;
    }
    let replacement = body.replacement.map(RecordBody::into_new).transpose()?;
    let (revoked, replaced) = s
        .store
        .revoke_record(
            year,
            id,
            &body.reason,
            body.version,
            replacement.as_ref(),
            &a.actor,
        )
        .await?;
    Ok(Json(json!({"revoked": revoked, "replacement": replaced})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessmentBody {
    unit: String,
    rule: String,
    assessor: String,
    score: NumText,
    #[serde(default, deserialize_with = "version")]
    version: Option<i64>,
}

async fn put_assessment(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<AssessmentBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::WriteAssessment, Some(&body.unit))
        .await?;
    // An assessor's score is recorded under its own group, whatever the body says.
    let assessor = match (a.user.role, &a.user.group) {
        (Role::Assessor, Some(g)) => g.clone(),
        (Role::Assessor, None) => return Err(ApiError::forbidden("打分：该账号未绑定督导组")),
        _ => body.assessor,
    };
    let score = body.score.0.unwrap_or_default();
    let stored = s
        .store
        .put_assessment(
            year,
            &body.unit,
            &body.rule,
            &assessor,
            &score,
            body.version,
            &a.actor,
        )
        .await?;
    Ok(Json(json!({"assessment": stored})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricBody {
    unit: String,
    metric: String,
    value: NumText,
    #[serde(default, deserialize_with = "version")]
    version: Option<i64>,
}

async fn put_metric(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<MetricBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::WriteMetric, Some(&body.unit)).await?;
    let value = body.value.0.unwrap_or_default();
    let stored = s
        .store
        .put_metric(
            year,
            &body.unit,
            &body.metric,
            &value,
            body.version,
            &a.actor,
        )
        .await?;
    Ok(Json(json!({"metric": stored})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitBody {
    tags: Vec<String>,
    #[serde(default, deserialize_with = "version")]
    version: Option<i64>,
}

async fn patch_unit(
    a: Authed,
    State(s): State<AppState>,
    Path((year, name)): Path<(String, String)>,
    Body(body): Body<UnitBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::EditRoster, Some(&name)).await?;
    let unit = s
        .store
        .set_unit_tags(year, &name, &body.tags, body.version, &a.actor)
        .await?;
    Ok(Json(json!({"unit": unit})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResultsQuery {
    basis: Option<String>,
    as_of: Option<String>,
}

/// The period's results: every record in force (the default), or `basis=confirmed` (the official
/// result), optionally `as_of=YYYY-MM-DD`.
pub(crate) async fn results(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    q: Result<Query<ResultsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ReadResults, None).await?;
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("查询参数无效（可用 basis、as_of）：{}", e.body_text()),
        )
    })?;
    let basis = lvzhi_store::Basis::parse(q.basis.as_deref().unwrap_or("")).ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "basis",
            "basis 只能是 confirmed（只计已确认的记录）或省略（计所有有效记录）",
        )
    })?;
    if basis != lvzhi_store::Basis::InForce || q.as_of.is_some() {
        let (state, sheets) = s.store.sheets(year, basis, q.as_of.as_deref()).await?;
        let doc = lvzhi_core::contract::ResultsDoc::new(&state.rubric, &sheets);
        return Ok(Json(doc).into_response());
    }
    let state = s.store.state(year).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Bytes::from_owner(StateBytes(state)),
    )
        .into_response())
}

/// The cached results bytes of a period state, served without a copy.
struct StateBytes(std::sync::Arc<lvzhi_store::PeriodState>);

impl AsRef<[u8]> for StateBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0.results_json
    }
}

async fn unit_sheet(
    a: Authed,
    State(s): State<AppState>,
    Path((year, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ReadSheet, Some(&name)).await?;
    let state = s.store.state(year).await?;
    sheet::sheet_json(&state, &name).map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{year} 年度名册中没有单位「{name}」"),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn audit(
    a: Authed,
    State(s): State<AppState>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ReadAudit, None).await?;
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("查询参数无效（可用 before、limit）：{}", e.body_text()),
        )
    })?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "limit",
            "limit 须在 1 到 500 之间",
        ));
    }
    let entries = s.store.audit_page(q.before, limit).await?;
    let next = entries
        .last()
        .map(|e| e.id)
        .filter(|_| entries.len() as i64 == limit);
    Ok(Json(json!({"entries": entries, "next_before": next})))
}

fn id_of(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "id",
            format!("{what}编号「{raw}」无效"),
        )
    })
}

/// Uploads one file (multipart field `file`) as evidence of a record.
async fn upload(
    a: Authed,
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let year = year_of(&year)?;
    let id = id_of(&id, "记录")?;
    let unit = record_unit(&s, year, id).await?;
    a.check(&s, Action::AddEvidence, Some(&unit)).await?;
    let (name, data) = upload_bytes(multipart, lvzhi_store::MAX_ATTACHMENT).await?;
    let stored = s
        .store
        .add_attachment(year, id, &name, &data, &a.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"attachment": stored}))))
}

/// A multipart stream that cannot be read: too large for `limit` bytes (413), or malformed (400).
fn multipart_error_limit(e: &axum::extract::multipart::MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::field(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file",
            format!("文件过大：上限 {} MB", limit >> 20),
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("上传内容无法读取：{}", e.body_text()),
        )
    }
}

async fn list_attachments(
    a: Authed,
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    let id = id_of(&id, "记录")?;
    let unit = record_unit(&s, year, id).await?;
    a.check(&s, Action::ReadEvidence, Some(&unit)).await?;
    Ok(Json(
        json!({"attachments": s.store.attachments(year, id).await?}),
    ))
}

async fn download(
    a: Authed,
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let year = year_of(&year)?;
    let id = id_of(&id, "附件")?;
    let (att, data) = s.store.attachment(year, id).await?;
    let unit = record_unit(&s, year, att.record_id).await?;
    a.check(&s, Action::ReadEvidence, Some(&unit)).await?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        crate::pages::encode_component(&att.name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, att.mime.clone()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        data,
    )
        .into_response())
}

/// The unit a record belongs to (404 when the period has no such record).
pub(crate) async fn record_unit(s: &AppState, year: i64, id: i64) -> Result<String, ApiError> {
    let state = s.store.state(year).await?;
    state
        .records
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.unit.clone())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("{year} 年度没有记录 #{id}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    old_password: String,
    new_password: String,
}

/// Changes the logged-in user's own password.
async fn change_password(
    a: Authed,
    State(s): State<AppState>,
    Body(body): Body<PasswordBody>,
) -> Result<Json<Value>, ApiError> {
    s.store
        .change_password(
            &a.user.name,
            &body.old_password,
            &body.new_password,
            &a.actor,
        )
        .await?;
    Ok(Json(json!({"changed": true})))
}

async fn list_users(a: Authed, State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ManageAccounts, None).await?;
    Ok(Json(json!({"users": s.store.users().await?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    username: String,
    role: String,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    group: Option<String>,
    /// When absent, a password is generated, returned once, and must be changed at first login.
    #[serde(default)]
    password: Option<String>,
}

async fn create_user(
    a: Authed,
    State(s): State<AppState>,
    Body(b): Body<NewUserBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    a.check(&s, Action::ManageAccounts, None).await?;
    let role = Role::parse(&b.role).ok_or_else(|| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "role",
            "角色只能是 admin、recorder、assessor、unit、leader",
        )
    })?;
    if role == Role::Unit && b.unit.as_deref().is_none_or(|u| u.trim().is_empty()) {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unit",
            "unit 角色须指定所属成员单位",
        ));
    }
    if role == Role::Assessor && b.group.as_deref().is_none_or(|g| g.trim().is_empty()) {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "group",
            "assessor 角色须指定所属督导组",
        ));
    }
    let (password, generated) = match b.password {
        Some(p) => (p, false),
        None => (lvzhi_store::generate_password(), true),
    };
    let user = s
        .store
        .create_user(
            &b.username,
            role,
            b.unit.as_deref(),
            b.group.as_deref(),
            &password,
            generated,
            &a.actor,
        )
        .await?;
    let shown = generated.then_some(password);
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": user, "initial_password": shown})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchUserBody {
    #[serde(default)]
    disabled: Option<bool>,
    /// `true`: set a generated password (returned once, to be changed at the next login).
    #[serde(default)]
    reset_password: bool,
}

async fn patch_user(
    a: Authed,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<PatchUserBody>,
) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ManageAccounts, None).await?;
    if b.disabled == Some(true) && name == a.user.name {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "disabled",
            "不能停用自己的账号",
        ));
    }
    if let Some(d) = b.disabled {
        s.store.set_disabled(&name, d, &a.actor).await?;
    }
    let mut shown = None;
    if b.reset_password {
        let pw = lvzhi_store::generate_password();
        s.store.reset_password(&name, &pw, true, &a.actor).await?;
        shown = Some(pw);
    }
    let user = s
        .store
        .user_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("用户「{name}」不存在")))?;
    Ok(Json(json!({"user": user, "initial_password": shown})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupBody {
    units: Vec<String>,
}

async fn put_group(
    a: Authed,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<GroupBody>,
) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ManageAccounts, None).await?;
    let mut known = std::collections::BTreeSet::new();
    for p in s.store.periods().await? {
        known.extend(
            s.store
                .state(p.year)
                .await?
                .units
                .iter()
                .map(|u| u.name.clone()),
        );
    }
    if let Some(u) = b.units.iter().find(|u| !known.contains(u.trim())) {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "units",
            format!("名册中没有单位「{u}」"),
        ));
    }
    s.store.set_group_units(&name, &b.units, &a.actor).await?;
    Ok(Json(
        json!({"group": name, "units": s.store.group_units(&name).await?}),
    ))
}

/// A download: bytes with their type and a file name.
pub(crate) fn download_response(bytes: Vec<u8>, mime: &str, name: &str) -> Response {
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        crate::pages::encode_component(name)
    );
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// `GET …/export/{results|ledger|sheets}.{xlsx}`.
async fn export_file(
    a: Authed,
    State(s): State<AppState>,
    Path((year, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let year = year_of(&year)?;
    let (what, format) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let what = crate::exchange::Export::parse(what).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("没有「{file}」这种导出（可用 results.xlsx、ledger.xlsx、sheets.xlsx、report.docx、report.pdf）"),
        )
    })?;
    let format = crate::exchange::Format::parse(format)
        .filter(|f| what.formats().contains(f))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("「{file}」没有这种格式（可用 results.xlsx、ledger.xlsx、sheets.xlsx、report.docx、report.pdf）"),
            )
        })?;
    match what {
        crate::exchange::Export::Ledger => a.check(&s, Action::ReadRecords, None).await?,
        _ => a.check(&s, Action::ReadResults, None).await?,
    }
    let bytes = crate::exchange::export(&s.store, year, what, format).await?;
    Ok(download_response(
        bytes,
        format.mime(),
        &what.file_name(year, format),
    ))
}

/// `GET …/templates/{records|assessments|metrics|units}.xlsx`.
async fn template_file(
    a: Authed,
    State(s): State<AppState>,
    Path((year, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ReadPeriods, None).await?;
    let table = file
        .strip_suffix(".xlsx")
        .and_then(crate::exchange::table_of)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("没有「{file}」模板（可用 records、assessments、metrics、units 的 .xlsx）"),
            )
        })?;
    let bytes = crate::exchange::template(&s.store, year, table).await?;
    Ok(download_response(
        bytes,
        crate::exchange::XLSX,
        &format!("{year}年度导入模板-{file}"),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    dry_run: Option<bool>,
    /// `true`: a refused file comes back as the annotated workbook (422, xlsx) instead of JSON.
    annotated: Option<bool>,
}

/// Who may import a table: every row's unit is checked like a single write.
pub(crate) async fn check_import(
    a: &Authed,
    s: &AppState,
    parsed: &crate::exchange::Parsed,
) -> Result<(), ApiError> {
    use lvzhi_office::Table;
    let action = match parsed.table {
        Table::Records => Action::WriteRecords,
        Table::Assessments => Action::WriteAssessment,
        Table::Metrics => Action::WriteMetric,
        Table::Units => Action::EditRoster,
    };
    // An assessor's rows must all be its own group's.
    if parsed.table == Table::Assessments && a.user.role == Role::Assessor {
        let own = a.user.group.clone().unwrap_or_default();
        if let Some(r) = parsed.rows.iter().find(|r| r[2] != own) {
            return Err(ApiError::forbidden(&format!(
                "导入其他督导组（「{}」）的打分",
                r[2]
            )));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &parsed.rows {
        if seen.insert(r[0].as_str()) {
            a.check(s, action, Some(&r[0])).await?;
        }
    }
    Ok(())
}

/// `POST …/import/{table}[?dry_run=true]`, multipart field `file` (.xlsx or CSV): all or nothing.
async fn import_file(
    a: Authed,
    State(s): State<AppState>,
    Path((year, table)): Path<(String, String)>,
    q: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let year = year_of(&year)?;
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("查询参数无效（可用 dry_run）：{}", e.body_text()),
        )
    })?;
    let table = crate::exchange::table_of(&table).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("不能导入「{table}」（可用 records、assessments、metrics、units）"),
        )
    })?;
    let (name, bytes) =
        upload_bytes(multipart, lvzhi_office::xlsx_input::MAX_WORKBOOK as usize).await?;
    let name = if name.is_empty() {
        "上传文件".to_owned()
    } else {
        name
    };
    let parsed = crate::exchange::parse(bytes, &name, table).map_err(|e| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file",
            format!("{}", crate::exchange::ImportError::Input(e)),
        )
    })?;
    check_import(&a, &s, &parsed).await?;
    let dry = q.dry_run.unwrap_or(false);
    match parsed.import(&s.store, year, &a.actor, dry).await {
        Ok(n) => Ok(Json(json!({"imported": if dry { 0 } else { n }, "checked": n, "dry_run": dry})).into_response()),
        Err(crate::exchange::ImportError::Input(e)) if q.annotated == Some(true) => {
            let bytes = parsed.annotated(&e)?;
            let mut r = download_response(bytes, crate::exchange::XLSX, &format!("{name}-检查结果.xlsx"));
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(crate::exchange::ImportError::Input(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": {
                "message": format!("{}", crate::exchange::ImportError::Input(e.clone())),
                "field": "file",
                "rows": e.errors.iter().map(|x| json!({"line": x.line, "field": x.field, "message": x.message})).collect::<Vec<_>>(),
                "total": e.total,
            }})),
        )
            .into_response()),
        Err(crate::exchange::ImportError::Store(e)) => Err(e.into()),
    }
}

/// The first file of a multipart body (field `file`): its name and bytes.
pub(crate) async fn upload_bytes(
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
    limit: usize,
) -> Result<(String, Vec<u8>), ApiError> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "须以 multipart/form-data 上传，字段名 file：{}",
                e.body_text()
            ),
        )
    })?;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error_limit(&e, limit))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|e| multipart_error_limit(&e, limit))?;
        // An empty file is the receiver's to refuse, with its own reason.
        return Ok((name, data.to_vec()));
    }
    Err(ApiError::field(
        StatusCode::BAD_REQUEST,
        "file",
        "没有收到文件（multipart 字段名须为 file）",
    ))
}
