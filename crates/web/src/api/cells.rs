//! The cells beside the records: 督导组 scores (set or cleared), metric values and the roster's tags.

use axum::extract::{Path, State};
use axum::routing::{patch, put};
use axum::{Json, Router};
use lvzhi_core::access::{Action, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Authed;
use crate::extract::{Body, NumText, version};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/periods/{year}/assessments",
            put(put_assessment).delete(clear_assessment),
        )
        .route("/api/v1/periods/{year}/metrics", put(put_metric))
        .route("/api/v1/periods/{year}/units/{name}", patch(patch_unit))
}

/// The group an assessment is recorded under: an assessor's own, whatever the body says.
fn assessor_of(a: &Authed, given: String) -> Result<String, ApiError> {
    match (a.user.role, &a.user.group) {
        (Role::Assessor, Some(g)) => Ok(g.clone()),
        (Role::Assessor, None) => Err(ApiError::forbidden("打分：该账号未绑定督导组")),
        _ => Ok(given),
    }
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
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::WriteAssessment, Some(&body.unit))
        .await?;
    let assessor = assessor_of(&a, body.assessor)?;
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
struct ClearBody {
    unit: String,
    rule: String,
    assessor: String,
    #[serde(default, deserialize_with = "version")]
    version: Option<i64>,
}

/// Clears a score: the unit is "not scored" again by that group.
async fn clear_assessment(
    a: Authed,
    State(s): State<AppState>,
    Path(year): Path<String>,
    Body(body): Body<ClearBody>,
) -> Result<Json<Value>, ApiError> {
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::WriteAssessment, Some(&body.unit))
        .await?;
    let assessor = assessor_of(&a, body.assessor)?;
    s.store
        .clear_assessment(
            year,
            &body.unit,
            &body.rule,
            &assessor,
            body.version,
            &a.actor,
        )
        .await?;
    Ok(Json(json!({"cleared": true})))
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
    let year = a.period(&s, &year).await?;
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
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::EditRoster, Some(&name)).await?;
    let unit = s
        .store
        .set_unit_tags(year, &name, &body.tags, body.version, &a.actor)
        .await?;
    Ok(Json(json!({"unit": unit})))
}
