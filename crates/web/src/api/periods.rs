//! Periods: the list, opening the next year (previewed first), the appeal windows, the check list,
//! publishing and reopening, and the publications with their differences.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use lvzhi_core::access::Action;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Authed;
use crate::extract::{Body, days};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/periods", get(periods).post(open_period))
        .route("/api/v1/offices", get(offices))
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
        .route(
            "/api/v1/periods/{year}/publications/{seq}/signature",
            get(publication_signature),
        )
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

/// The periods the caller may see: its own office's, and the published periods of the offices
/// below it (for an admin or leader).
async fn periods(a: Authed, State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ReadPeriods, None).await?;
    Ok(Json(
        json!({"periods": s.store.periods_for(a.rights()).await?}),
    ))
}

/// The offices the caller may see: its own and those below it, with their parents.
async fn offices(a: Authed, State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ReadPeriods, None).await?;
    let tree = s.store.office_tree().await?;
    Ok(Json(json!({"offices": tree.own_and_below(&a.user.office)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    /// The new year's rubric (TOML text).
    rubric: String,
    /// The assessment's code (default `default`) and name (default: the name it has, else the
    /// rubric's title without its year).
    #[serde(default)]
    assessment: Option<String>,
    #[serde(default)]
    assessment_name: Option<String>,
    /// The period to carry the roster from: its key, or a year naming one period.
    #[serde(default)]
    carry_from: Option<Value>,
    /// false (the default): only show what would happen; true: open the period.
    #[serde(default)]
    confirm: bool,
}

/// Opens a year in the caller's own office.
async fn open_period(
    a: Authed,
    State(s): State<AppState>,
    Body(body): Body<OpenBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    a.check(&s, Action::ManagePeriods, None).await?;
    let carry = match &body.carry_from {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(a.period(&s, &n.to_string()).await?),
        Some(Value::String(k)) => Some(a.period(&s, k).await?),
        Some(_) => {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "carry_from",
                "carry_from 应为考核期的键或年度",
            ));
        }
    };
    let target = lvzhi_store::OpenTarget {
        office: Some(a.user.office.clone()),
        assessment: body.assessment.clone(),
        assessment_name: body.assessment_name.clone(),
    };
    if body.confirm {
        let plan = s
            .store
            .open_next_period(&body.rubric, &target, carry, &a.actor)
            .await?;
        Ok((StatusCode::CREATED, Json(json!({"plan": plan}))))
    } else {
        let plan = s
            .store
            .plan_next_period(&body.rubric, &target, carry)
            .await?;
        Ok((StatusCode::OK, Json(json!({"plan": plan}))))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    #[serde(deserialize_with = "days")]
    appeal_days: i64,
    #[serde(deserialize_with = "days")]
    decision_days: i64,
}

async fn settings(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<SettingsBody>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
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
    let year = a.period(&s, &year).await?;
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
    let year = a.period(&s, &year).await?;
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
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::ManagePeriods, None).await?;
    s.store.reopen(year, &body.reason, &a.actor).await?;
    Ok(Json(json!({"status": "open"})))
}

async fn publications(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
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
    let year = a.period(&s, &year).await?;
    let seq = seq_of(&seq)?;
    a.check(&s, Action::ReadResults, None).await?;
    let body = s.store.publication(year, seq).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The office's SM2-SM3 signature over the snapshot body, with the public key: `openssl dgst -sm3
/// -verify pub.pem -signature sig.der snapshot.json` checks it.
async fn publication_signature(
    a: Authed,
    State(s): State<AppState>,
    Path((year, seq)): Path<(String, String)>,
) -> Result<Json<lvzhi_store::PublicationSignature>, ApiError> {
    let year = a.period(&s, &year).await?;
    let seq = seq_of(&seq)?;
    a.check(&s, Action::ReadResults, None).await?;
    match s.store.publication_signature(year, seq).await? {
        Some(sig) => Ok(Json(sig)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("该考核期第 {seq} 次发布没有签名（发布时尚未配置签名密钥）"),
        )),
    }
}

async fn publication_diff(
    a: Authed,
    State(s): State<AppState>,
    Path((year, seq)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
    let seq = seq_of(&seq)?;
    a.check(&s, Action::ReadResults, None).await?;
    Ok(Json(
        json!({"seq": seq, "changes": s.store.publication_diff(year, seq).await?}),
    ))
}
