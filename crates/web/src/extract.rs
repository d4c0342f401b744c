//! What a request carries, parsed once at the edge, on the floor the JSON API and the pages share:
//! typed JSON bodies with every rejection in Chinese ([`Body`]), numbers given as JSON numbers or
//! strings ([`NumText`]), versions, years and ids from paths, uploaded files, and [`RecordTarget`],
//! the record a request is about — found, its unit's right to act checked, its period open — once.
//! This module must not render a page or hold a rule of the rubric.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use lvzhi_core::RecordStatus;
use lvzhi_core::access::Action;
use lvzhi_store::{PeriodState, RecordRow};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::Authed;
use crate::{ApiError, AppState};

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

/// A whole number as JSON Schema counts them (`3` and `3.0` both), within `min..=max`.
fn whole(v: &Value, min: i64, max: i64) -> Result<i64, String> {
    let n = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        _ => None,
    };
    n.filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("须为 {min} 到 {max} 之间的整数，实为 {v}"))
}

/// A version number: a whole number ≥ 0, or null.
pub(crate) fn version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => whole(&v, 0, i64::MAX >> 12)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// A list of ids in a body, each a whole number ≥ 1.
pub(crate) fn id_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    Vec::<Value>::deserialize(d)?
        .iter()
        .map(|v| whole(v, 1, i64::MAX >> 12))
        .collect::<Result<_, _>>()
        .map_err(serde::de::Error::custom)
}

/// A count of days in a body: a whole number from 0 to 365.
pub(crate) fn days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    whole(&Value::deserialize(d)?, 0, 365).map_err(serde::de::Error::custom)
}

/// A row id from a path: `what` names it in the refusal (记录, 附件…).
pub(crate) fn id_of(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|i| *i >= 1).ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "id",
            format!("{what}编号「{raw}」无效"),
        )
    })
}

/// A multipart stream that cannot be read: too large for `limit` bytes (413), or malformed (400).
fn multipart_error(e: &axum::extract::multipart::MultipartError, limit: usize) -> ApiError {
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

/// The first file of a multipart body (field `file`): its name and bytes, within `limit` bytes.
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
        .map_err(|e| multipart_error(&e, limit))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|e| multipart_error(&e, limit))?;
        // An empty file is the receiver's to refuse, with its own reason.
        return Ok((name, data.to_vec()));
    }
    Err(ApiError::field(
        StatusCode::BAD_REQUEST,
        "file",
        "没有收到文件（multipart 字段名须为 file）",
    ))
}

/// What a request does to a record, naming the right it takes.
pub trait RecordAction: Send + Sync {
    /// The right the action takes on the record's unit, given the record's state.
    fn action(status: RecordStatus) -> Action;
    /// Whether the action changes the period (refused once the period is published).
    const WRITES: bool;
}

macro_rules! record_action {
    ($(#[$doc:meta])* $name:ident, $writes:expr, $status:ident => $action:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl RecordAction for $name {
            fn action($status: RecordStatus) -> Action {
                $action
            }
            const WRITES: bool = $writes;
        }
    };
}

record_action!(
    /// Reading a record, its history and its evidence list.
    ReadRecord, false, _s => Action::ReadRecords
);
record_action!(
    /// Revoking or correcting a record: recording rights while it waits for the office, the
    /// office's once it is confirmed.
    ReviseRecord, true, s => Action::revise(s)
);
record_action!(
    /// Confirming a record.
    ConfirmRecord, true, _s => Action::ConfirmRecords
);
record_action!(
    /// Appealing a record (its own unit).
    AppealRecord, true, _s => Action::Appeal
);
record_action!(
    /// Deciding an appeal.
    DecideRecord, true, _s => Action::DecideAppeals
);
record_action!(
    /// Adding evidence to a record.
    AddEvidence, true, _s => Action::AddEvidence
);
record_action!(
    /// Reading a record's evidence.
    ReadEvidence, false, _s => Action::ReadEvidence
);

/// The record a request on `…/{year}/records/{id}/…` (or `/records/{id}?year=`) is about: found in
/// its period, the caller's right to `A` on its unit checked (a refusal names neither the record's
/// unit nor its contents), and for a write the period open. Extracted once per request.
pub struct RecordTarget<A> {
    pub year: i64,
    pub id: i64,
    /// The record's unit.
    pub unit: String,
    pub row: RecordRow,
    pub state: Arc<PeriodState>,
    pub who: Authed,
    action: PhantomData<A>,
}

#[derive(Deserialize)]
struct TargetPath {
    year: Option<String>,
    id: String,
}

#[derive(Deserialize, Default)]
struct TargetQuery {
    year: Option<String>,
}

impl<A: RecordAction> FromRequestParts<AppState> for RecordTarget<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let who = Authed::from_request_parts(parts, s).await?;
        let axum::extract::Path(path) =
            axum::extract::Path::<TargetPath>::from_request_parts(parts, s)
                .await
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
        let year = if let Some(y) = path.year {
            who.period(s, &y).await?
        } else {
            let axum::extract::Query(q) =
                axum::extract::Query::<TargetQuery>::from_request_parts(parts, s)
                    .await
                    .unwrap_or_default();
            match q.year.as_deref().filter(|y| !y.is_empty()) {
                Some(y) => who.period(s, y).await?,
                None => current_period(s, &who).await?,
            }
        };
        let id = id_of(&path.id, "记录")?;
        let state = s.store.state(year).await?;
        let Some((u, row)) = state.locate(id) else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("{}没有记录 #{id}", state.info.period_name()),
            ));
        };
        let unit = state.units[u].name.clone();
        who.check(s, A::action(row.status), Some(&unit)).await?;
        if A::WRITES
            && let Some(reason) = state.info.closed_reason()
        {
            return Err(ApiError::new(StatusCode::CONFLICT, reason));
        }
        Ok(RecordTarget {
            year,
            id,
            unit,
            row: *row,
            state,
            who,
            action: PhantomData,
        })
    }
}

/// The id of the period the caller works on by default (the latest open one of its office).
pub(crate) async fn current_period(s: &AppState, who: &Authed) -> Result<i64, ApiError> {
    s.store
        .current_period(who.rights())
        .await?
        .map(|p| p.id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "还没有考核年度"))
}
