//! The JSON API of the assessment year's lifecycle: confirmation, appeals and decisions, the
//! publication check list, publish and reopen, snapshots and their differences, results over time,
//! what-if, notifications and the next year's period.
//!
//! Every handler checks the core's permission matrix before it reaches the store; the unit of an
//! appealing user comes from its account, never from the request. This module must not hold any rule
//! of the lifecycle itself: the store decides what a transition may do.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use lvzhi_core::access::Action;
use lvzhi_store::{Decision, NewRecord, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{Authed, Body, RecordBody, record_id, record_unit, version, year_of};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/periods/{year}/results", get(crate::api::results))
        .route("/api/v1/periods/{year}/records/confirm", post(confirm_many))
        .route("/api/v1/periods/{year}/records/{id}/confirm", post(confirm))
        .route("/api/v1/periods/{year}/records/{id}/appeal", post(appeal))
        .route("/api/v1/periods/{year}/records/{id}/decision", post(decide))
        .route("/api/v1/periods/{year}/appeals", get(appeals))
        .route("/api/v1/periods/{year}/settings", put(settings))
        .route("/api/v1/periods/{year}/checklist", get(checklist))
        .route("/api/v1/periods/{year}/publish", post(publish))
        .route("/api/v1/periods/{year}/reopen", post(reopen))
        .route("/api/v1/periods/{year}/publications", get(publications))
        .route(
            "/api/v1/periods/{year}/publications/{seq}",
            get(publication),
        )
        .route(
            "/api/v1/periods/{year}/publications/{seq}/diff",
            get(publication_diff),
        )
        .route("/api/v1/periods/{year}/units/{name}/trend", get(trend))
        .route("/api/v1/periods/{year}/what-if", post(what_if))
        .route("/api/v1/notifications", get(notifications))
        .route("/api/v1/notifications/seen", post(seen))
}

fn seq_of(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|s| *s >= 1).ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "seq",
            format!("发布序号「{raw}」无效"),
        )
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    #[serde(default, deserialize_with = "version")]
    version: Option<i64>,
}

async fn confirm(
    a: Authed,
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    let id = record_id(&id)?;
    let unit = record_unit(&s, year, id).await?;
    a.check(&s, Action::ConfirmRecords, Some(&unit)).await?;
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
    let mut done = s.store.confirm_records(year, &[id], v, &a.actor).await?;
    Ok(Json(json!({"record": done.pop()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmManyBody {
    ids: Vec<i64>,
}

async fn confirm_many(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<ConfirmManyBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ConfirmRecords, None).await?;
    if body.ids.len() > 10_000 {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ids",
            "一次至多确认 10000 条记录",
        ));
    }
    let done = s
        .store
        .confirm_records(year, &body.ids, None, &a.actor)
        .await?;
    Ok(Json(json!({"confirmed": done.len(), "records": done})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppealBody {
    reason: String,
}

async fn appeal(
    a: Authed,
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    Body(body): Body<AppealBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let year = year_of(&year)?;
    let id = record_id(&id)?;
    let unit = record_unit(&s, year, id).await?;
    a.check(&s, Action::Appeal, Some(&unit)).await?;
    // The appealing unit is the account's own (the check above already ties it to the record).
    let own = a
        .user
        .unit
        .clone()
        .ok_or_else(|| ApiError::forbidden("申诉：该账号未绑定成员单位"))?;
    let appeal = s
        .store
        .appeal(year, id, &own, &body.reason, &a.actor)
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
    a: Authed,
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    Body(body): Body<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    let id = record_id(&id)?;
    let unit = record_unit(&s, year, id).await?;
    a.check(&s, Action::DecideAppeals, Some(&unit)).await?;
    let decision = Decision::parse(&body.decision).ok_or_else(|| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision",
            "decision 只能是 upheld（维持）、revoked（撤销）或 changed（改判）",
        )
    })?;
    let replacement: Option<NewRecord> = body.replacement.map(RecordBody::into_new).transpose()?;
    let (appeal, record) = s
        .store
        .decide(
            year,
            id,
            decision,
            &body.reason,
            replacement.as_ref(),
            &a.actor,
        )
        .await?;
    Ok(Json(json!({"appeal": appeal, "replacement": record})))
}

async fn appeals(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    let all = a.may(Action::ReadRecords, None);
    if !all && a.user.role != Role::Unit && a.user.role != Role::Assessor {
        a.check(&s, Action::ReadRecords, None).await?;
    }
    let state = s.store.state(year).await?;
    let now = s.store.lifecycle_now();
    let list: Vec<Value> = state
        .appeals
        .iter()
        .filter(|x| all || a.may(Action::ReadRecords, Some(&x.unit)))
        .map(|x| {
            let mut v = json!(x);
            v["overdue"] = json!(x.is_overdue(&now));
            v
        })
        .collect();
    Ok(Json(json!({"appeals": list})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    appeal_days: i64,
    decision_days: i64,
}

async fn settings(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<SettingsBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ManagePeriods, None).await?;
    s.store
        .set_windows(year, body.appeal_days, body.decision_days, &a.actor)
        .await?;
    Ok(Json(
        json!({"appeal_days": body.appeal_days, "decision_days": body.decision_days}),
    ))
}

async fn checklist(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ManagePeriods, None).await?;
    let list = s.store.checklist(year).await?;
    Ok(Json(
        json!({"clear": list.is_clear(), "items": list.lines(), "checklist": list}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    reason: String,
    #[serde(default)]
    acknowledge_incomplete: bool,
}

async fn publish(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<PublishBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ManagePeriods, None).await?;
    let (info, diff, list) = s
        .store
        .publish(year, &body.reason, body.acknowledge_incomplete, &a.actor)
        .await?;
    Ok(Json(json!({
        "hash": info.hash,
        "seq": info.seq,
        "published_at": info.published_at,
        "acknowledged": list.lines(),
        "changes": diff,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

async fn reopen(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ManagePeriods, None).await?;
    s.store.reopen(year, &body.reason, &a.actor).await?;
    Ok(Json(json!({"status": "open"})))
}

async fn publications(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ReadResults, None).await?;
    Ok(Json(
        json!({"publications": s.store.publications(year).await?}),
    ))
}

/// The snapshot exactly as hashed: SHA-256 of this body is the publication's hash.
async fn publication(
    a: Authed,
    State(s): State<AppState>,
    Path((year, seq)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let year = year_of(&year)?;
    let seq = seq_of(&seq)?;
    a.check(&s, Action::ReadResults, None).await?;
    let body = s.store.publication(year, seq).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn publication_diff(
    a: Authed,
    State(s): State<AppState>,
    Path((year, seq)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    let seq = seq_of(&seq)?;
    a.check(&s, Action::ReadResults, None).await?;
    Ok(Json(
        json!({"seq": seq, "changes": s.store.publication_diff(year, seq).await?}),
    ))
}

async fn trend(
    a: Authed,
    State(s): State<AppState>,
    Path((year, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ReadSheet, Some(&name)).await?;
    let months: Vec<Value> = s
        .store
        .trend(year, &name)
        .await?
        .into_iter()
        .map(|(d, total, rank)| json!({"as_of": d, "total": total, "rank": rank}))
        .collect();
    Ok(Json(json!({"unit": name, "months": months})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatIfBody {
    #[serde(default)]
    records: Vec<RecordBody>,
    #[serde(default)]
    leave_out: Vec<i64>,
    /// Another rubric (TOML text) to score the same ledger with.
    #[serde(default)]
    rubric: Option<String>,
}

async fn what_if(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<WhatIfBody>,
) -> Result<Json<Value>, ApiError> {
    let year = year_of(&year)?;
    a.check(&s, Action::ReadResults, None).await?;
    if body.records.len() > 1000 || body.leave_out.len() > 100_000 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "假设的记录至多 1000 条",
        ));
    }
    let records = body
        .records
        .into_iter()
        .map(RecordBody::into_new)
        .collect::<Result<Vec<_>, _>>()?;
    let out = s
        .store
        .what_if(year, &records, &body.leave_out, body.rubric.as_deref())
        .await?;
    Ok(Json(json!(out)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeQuery {
    year: Option<String>,
}

/// The year notices are about: the one asked for, or the latest open period.
pub(crate) async fn notice_year(s: &AppState, asked: Option<&str>) -> Result<i64, ApiError> {
    if let Some(y) = asked {
        return year_of(y);
    }
    let periods = s.store.periods().await?;
    Ok(periods
        .iter()
        .rev()
        .find(|p| p.status == "open")
        .or(periods.last())
        .map_or(2022, |p| p.year))
}

async fn notifications(
    a: Authed,
    State(s): State<AppState>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("查询参数无效（可用 year）：{}", e.body_text()),
        )
    })?;
    let year = notice_year(&s, q.year.as_deref()).await?;
    Ok(Json(json!(s.store.notices(&a.user, year).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeenBody {
    last_id: i64,
}

async fn seen(
    a: Authed,
    State(s): State<AppState>,
    Body(body): Body<SeenBody>,
) -> Result<Json<Value>, ApiError> {
    s.store.mark_seen(&a.user.name, body.last_id).await?;
    Ok(Json(json!({"last_id": body.last_id})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenBody {
    /// The new year's rubric (TOML text).
    rubric: String,
    #[serde(default)]
    carry_from: Option<i64>,
    /// false (the default): only show what would happen; true: open the period.
    #[serde(default)]
    confirm: bool,
}

pub(crate) async fn open_period(
    a: Authed,
    State(s): State<AppState>,
    Body(body): Body<OpenBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    a.check(&s, Action::ManagePeriods, None).await?;
    if body.confirm {
        let plan = s
            .store
            .open_next_period(&body.rubric, body.carry_from, &a.actor)
            .await?;
        Ok((StatusCode::CREATED, Json(json!({"plan": plan}))))
    } else {
        let plan = s
            .store
            .plan_next_period(&body.rubric, body.carry_from)
            .await?;
        Ok((StatusCode::OK, Json(json!({"plan": plan}))))
    }
}
