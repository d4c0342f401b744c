//! Records: the filtered, paginated list, adding, revoking and correcting, confirming (some or all
//! that a filter shows), appeals and decisions, and each record's evidence.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use lvzhi_core::access::Action;
use lvzhi_core::{Decision, NewRecord, RecordStatus};
use lvzhi_store::{RecordQuery, RecordSort};
use serde::Deserialize;
use serde_json::{Value, json};

use super::bad_query;
use crate::auth::Authed;
use crate::extract::{
    AddEvidence, AppealRecord, Body, ConfirmRecord, DecideRecord, NumText, ReadEvidence,
    ReadRecord, RecordTarget, ReviseRecord, id_list, id_of, upload_bytes, version,
};
use crate::{ApiError, AppState, view};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/periods/{year}/records",
            get(list_records).post(add_record),
        )
        .route("/api/v1/periods/{year}/records/{id}", get(one_record))
        .route("/api/v1/periods/{year}/records/{id}/revoke", post(revoke))
        .route("/api/v1/periods/{year}/records/confirm", post(confirm_many))
        .route("/api/v1/periods/{year}/records/{id}/confirm", post(confirm))
        .route("/api/v1/periods/{year}/records/{id}/appeal", post(appeal))
        .route("/api/v1/periods/{year}/records/{id}/decision", post(decide))
        .route("/api/v1/periods/{year}/appeals", get(appeals))
        .route(
            "/api/v1/periods/{year}/records/{id}/attachments",
            get(list_attachments)
                .post(upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    lvzhi_store::MAX_ATTACHMENT + (64 << 10),
                )),
        )
        .route("/api/v1/periods/{year}/attachments/{id}", get(download))
}

/// Records per page when the caller does not say, and the most it may ask for.
const PAGE_DEFAULT: usize = 1000;
const PAGE_MAX: usize = 5000;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordFilter {
    pub unit: Option<String>,
    pub rule: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
}

impl RecordFilter {
    /// The store's query of this filter, for a caller who sees `visible` units (`None`: all).
    pub(crate) fn query(self, visible: Option<Vec<String>>) -> Result<RecordQuery, ApiError> {
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            Some(st) => Some(RecordStatus::parse(st).ok_or_else(|| {
                ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "status",
                    format!(
                        "status 只能是 {}",
                        RecordStatus::ALL
                            .map(|s| format!("{}（{}）", s.code(), s.label()))
                            .join("、")
                    ),
                )
            })?),
            None => None,
        };
        let nonempty = |x: Option<String>| x.filter(|v| !v.trim().is_empty());
        if self
            .q
            .as_ref()
            .is_some_and(|q| q.chars().count() > lvzhi_core::input::SEARCH_MAX)
        {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "q",
                format!("查找内容不能超过 {} 字", lvzhi_core::input::SEARCH_MAX),
            ));
        }
        Ok(RecordQuery {
            unit: nonempty(self.unit),
            visible,
            rule: nonempty(self.rule),
            status,
            q: nonempty(self.q),
            sort: RecordSort::Id,
            desc: false,
        })
    }
}

/// The units whose records the caller may read: all (`None`) or its own ones.
pub(crate) fn visible_units(a: &Authed, units: &[lvzhi_store::StoredUnit]) -> Option<Vec<String>> {
    if a.may(Action::ReadRecords, None) {
        None
    } else {
        Some(
            units
                .iter()
                .filter(|u| a.may(Action::ReadRecords, Some(&u.name)))
                .map(|u| u.name.clone())
                .collect(),
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    unit: Option<String>,
    rule: Option<String>,
    status: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn list_records(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
    let Query(q) = q.map_err(|e| bad_query(&e, "unit、rule、status、q、limit、offset"))?;
    let limit = q.limit.unwrap_or(PAGE_DEFAULT);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "limit",
            format!("limit 须在 1 到 {PAGE_MAX} 之间"),
        ));
    }
    // A user who may not read every unit's records gets its own units' only.
    if let Some(u) = q.unit.as_deref().filter(|u| !u.is_empty()) {
        a.check(&s, Action::ReadRecords, Some(u)).await?;
    }
    let state = s.store.state(year).await?;
    let query = RecordFilter {
        unit: q.unit,
        rule: q.rule,
        status: q.status,
        q: q.q,
    }
    .query(visible_units(&a, &state.units))?;
    let offset = q.offset.unwrap_or(0);
    let page = s.store.records_page(year, &query, offset, limit).await?;
    let next = (offset + page.records.len() < page.total).then_some(offset + limit);
    Ok(Json(json!({
        "records": page.records, "total": page.total, "offset": offset, "limit": limit,
        "next_offset": next,
    })))
}

async fn one_record(
    t: RecordTarget<ReadRecord>,
    State(s): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let rec = s.store.record(t.year, t.id).await?;
    Ok(Json(json!({"record": rec})))
}

/// A record as a body gives it.
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

impl From<RecordBody> for NewRecord {
    fn from(b: RecordBody) -> NewRecord {
        NewRecord {
            unit: b.unit,
            rule: b.rule,
            count: b.count.0,
            points: b.points.0,
            date: b.date,
            source: b.source,
            note: b.note,
        }
    }
}

async fn add_record(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<RecordBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::WriteRecords, Some(&body.unit)).await?;
    let rec = s.store.add_record(year, &body.into(), &a.actor).await?;
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
    t: RecordTarget<ReviseRecord>,
    State(s): State<AppState>,
    Body(body): Body<RevokeBody>,
) -> Result<Json<Value>, ApiError> {
    if let Some(rep) = &body.replacement {
        t.who
            .check(&s, Action::WriteRecords, Some(&rep.unit))
            .await?;
    }
    let replacement: Option<NewRecord> = body.replacement.map(Into::into);
    let (revoked, replaced) = s
        .store
        .revoke_record(
            t.year,
            t.id,
            &body.reason,
            body.version,
            replacement.as_ref(),
            &t.who.actor,
        )
        .await?;
    Ok(Json(json!({"revoked": revoked, "replacement": replaced})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    #[serde(default, deserialize_with = "version")]
    version: Option<i64>,
}

async fn confirm(
    t: RecordTarget<ConfirmRecord>,
    State(s): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // The body is optional: `{}` or nothing confirms whatever the version; `{"version": n}` checks it.
    let v = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<ConfirmBody>(&body)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("请求内容无效（可选字段 version）：{e}"),
                )
            })?
            .version
    };
    let mut done = s
        .store
        .confirm_records(t.year, &[t.id], v, &t.who.actor)
        .await?;
    Ok(Json(json!({"record": done.pop()})))
}

/// The most records one request confirms by id.
const CONFIRM_MAX: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmManyBody {
    #[serde(default, deserialize_with = "id_list")]
    ids: Vec<i64>,
    /// Every pending record this filter shows, instead of `ids`.
    #[serde(default)]
    filter: Option<RecordFilter>,
}

async fn confirm_many(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<ConfirmManyBody>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::ConfirmRecords, None).await?;
    match (body.ids.is_empty(), body.filter) {
        (true, Some(filter)) => {
            let mut query = filter.query(None)?;
            if query.status.is_some_and(|st| st != RecordStatus::Recorded) {
                return Err(ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "filter.status",
                    "只有待确认的记录可以确认",
                ));
            }
            query.status = Some(RecordStatus::Recorded);
            let n = s.store.confirm_matching(year, &query, &a.actor).await?;
            Ok(Json(json!({"confirmed": n})))
        }
        (false, None) => {
            if body.ids.len() > CONFIRM_MAX {
                return Err(ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "ids",
                    format!("一次至多确认 {CONFIRM_MAX} 条记录（或按筛选条件确认）"),
                ));
            }
            let done = s
                .store
                .confirm_records(year, &body.ids, None, &a.actor)
                .await?;
            Ok(Json(json!({"confirmed": done.len(), "records": done})))
        }
        _ => Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ids",
            "请给出要确认的记录编号（ids）或筛选条件（filter），二者选一",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppealBody {
    reason: String,
}

async fn appeal(
    t: RecordTarget<AppealRecord>,
    State(s): State<AppState>,
    Body(body): Body<AppealBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // The appealing unit is the account's own (the target's check already ties it to the record).
    let own = t
        .who
        .user
        .unit
        .clone()
        .ok_or_else(|| ApiError::forbidden("申诉：该账号未绑定成员单位"))?;
    let appeal = s
        .store
        .appeal(t.year, t.id, &own, &body.reason, &t.who.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"appeal": appeal}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    decision: String,
    reason: String,
    #[serde(default)]
    replacement: Option<RecordBody>,
}

async fn decide(
    t: RecordTarget<DecideRecord>,
    State(s): State<AppState>,
    Body(body): Body<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    let decision = Decision::parse(&body.decision).ok_or_else(|| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision",
            format!(
                "decision 只能是 {}",
                Decision::ALL
                    .map(|d| format!("{}（{}）", d.code(), d.label()))
                    .join("、")
            ),
        )
    })?;
    let replacement: Option<NewRecord> = body.replacement.map(Into::into);
    let (appeal, record) = s
        .store
        .decide(
            t.year,
            t.id,
            decision,
            &body.reason,
            replacement.as_ref(),
            &t.who.actor,
        )
        .await?;
    Ok(Json(json!({"appeal": appeal, "replacement": record})))
}

async fn appeals(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
    let state = s.store.state(year).await?;
    let visible = visible_units(&a, &state.units);
    if visible.as_ref().is_some_and(Vec::is_empty) {
        a.check(&s, Action::ReadRecords, None).await?;
    }
    let now = s.store.now();
    let list: Vec<Value> = state
        .appeals
        .iter()
        .filter(|x| visible.as_ref().is_none_or(|v| v.contains(&x.unit)))
        .map(|x| {
            let mut v = json!(x);
            v["overdue"] = json!(x.is_overdue(&now));
            v
        })
        .collect();
    Ok(Json(json!({"appeals": list})))
}

/// Uploads one file (multipart field `file`) as evidence of a record.
async fn upload(
    t: RecordTarget<AddEvidence>,
    State(s): State<AppState>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (name, data) = upload_bytes(multipart, lvzhi_store::MAX_ATTACHMENT).await?;
    let stored = s
        .store
        .add_attachment(t.year, t.id, &name, &data, &t.who.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"attachment": stored}))))
}

async fn list_attachments(
    t: RecordTarget<ReadEvidence>,
    State(s): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({"attachments": s.store.attachments(t.year, t.id).await?}),
    ))
}

async fn download(
    a: Authed,
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let year = a.period(&s, &year).await?;
    let id = id_of(&id, "附件")?;
    let (att, data) = s.store.attachment(year, id).await?;
    let state = s.store.state(year).await?;
    let unit = state.unit_of(att.record_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{}没有附件 #{id}", state.info.period_name()),
        )
    })?;
    a.check(&s, Action::ReadEvidence, Some(unit)).await?;
    Ok(view::download(data, &att.mime, &att.name))
}
