//! Results: the period's ranking (provisional, official, or as of a date), one unit's explained
//! sheet and its month-by-month trend, and what-if without storing anything.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lvzhi_core::access::Action;
use lvzhi_core::{Basis, NewRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::bad_query;
use super::records::RecordBody;
use crate::auth::Authed;
use crate::extract::{Body, id_list};
use crate::{ApiError, AppState, sheet};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/periods/{year}/results", get(results))
        .route("/api/v1/periods/{year}/units/{name}/sheet", get(unit_sheet))
        .route("/api/v1/periods/{year}/units/{name}/trend", get(trend))
        .route("/api/v1/periods/{year}/what-if", post(what_if))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsQuery {
    basis: Option<String>,
    as_of: Option<String>,
}

/// The cached results bytes of a period, served without a copy.
struct Bytes(std::sync::Arc<[u8]>);

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The period's results: every record in force (the default), or `basis=confirmed` (the official
/// result), optionally `as_of=YYYY-MM-DD`.
async fn results(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    q: Result<Query<ResultsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::ReadResults, None).await?;
    let Query(q) = q.map_err(|e| bad_query(&e, "basis、as_of"))?;
    let basis = Basis::parse(q.basis.as_deref().unwrap_or("")).ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "basis",
            "basis 只能是 confirmed（只计已确认的记录）或省略（计所有有效记录）",
        )
    })?;
    if s.store.state(year).await?.info.is_year_of_parts() {
        if q.as_of.is_some() {
            return Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "as_of",
                "由各期合成的年度结果不支持 as_of：请查询各期的结果",
            ));
        }
        return Ok(Json(s.store.year_results(year, basis).await?.doc()).into_response());
    }
    if basis != Basis::Provisional || q.as_of.is_some() {
        let (state, sheets) = s.store.sheets(year, basis, q.as_of.as_deref()).await?;
        let doc = lvzhi_core::contract::ResultsDoc::new(&state.rubric, &sheets);
        return Ok(Json(doc).into_response());
    }
    let state = s.store.state(year).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Bytes::from_owner(Bytes(state.results_json()?)),
    )
        .into_response())
}

async fn unit_sheet(
    a: Authed,
    State(s): State<AppState>,
    Path((year, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::ReadSheet, Some(&name)).await?;
    let state = s.store.state(year).await?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{}名册中没有单位「{name}」", state.info.period_name()),
        )
    };
    if state.info.is_year_of_parts() {
        let doc = s.store.year_results(year, Basis::Provisional).await?.doc();
        let row = doc.results.into_iter().find(|r| r.unit == name);
        return row.map(|r| Json(json!(r))).ok_or_else(not_found);
    }
    if state.unit_index(&name).is_none() {
        return Err(not_found());
    }
    let records = s.store.unit_records(year, &name).await?;
    sheet::sheet_json(&state, &name, &records)
        .map(Json)
        .ok_or_else(not_found)
}

async fn trend(
    a: Authed,
    State(s): State<AppState>,
    Path((year, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::ReadSheet, Some(&name)).await?;
    let months: Vec<Value> = s
        .store
        .trend(year, &name)
        .await?
        .into_iter()
        .map(|m| json!({"as_of": m.day, "month": m.month, "total": m.total, "rank": m.rank}))
        .collect();
    Ok(Json(json!({"unit": name, "months": months})))
}

/// The most hypothetical records one what-if takes, and the most it leaves out.
const WHAT_IF_RECORDS: usize = 1000;
const WHAT_IF_LEAVE_OUT: usize = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatIfBody {
    #[serde(default)]
    records: Vec<RecordBody>,
    #[serde(default, deserialize_with = "id_list")]
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
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::ReadResults, None).await?;
    if body.records.len() > WHAT_IF_RECORDS || body.leave_out.len() > WHAT_IF_LEAVE_OUT {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("假设的记录至多 {WHAT_IF_RECORDS} 条，去掉的记录至多 {WHAT_IF_LEAVE_OUT} 条"),
        ));
    }
    let records: Vec<NewRecord> = body.records.into_iter().map(Into::into).collect();
    let out = s
        .store
        .what_if(year, &records, &body.leave_out, body.rubric.as_deref())
        .await?;
    Ok(Json(json!(out)))
}
