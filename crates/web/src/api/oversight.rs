//! Oversight of the offices below: `GET /api/v1/oversight?year=` (JSON) and
//! `GET /api/v1/oversight/export.xlsx?year=` (the same table as a workbook). Read-only.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::bad_query;
use crate::auth::Authed;
use crate::oversight::{HEADS, cells, oversight_of};
use crate::{ApiError, AppState, view};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/oversight", get(oversight))
        .route("/api/v1/oversight/export.xlsx", get(export))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct YearQuery {
    year: Option<String>,
}

async fn oversight(
    a: Authed,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<lvzhi_store::Oversight>, ApiError> {
    let Query(q) = q.map_err(|e| bad_query(&e, "year"))?;
    Ok(Json(oversight_of(&s, &a, q.year.as_deref()).await?))
}

async fn export(
    a: Authed,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| bad_query(&e, "year"))?;
    let o = oversight_of(&s, &a, q.year.as_deref()).await?;
    let rows: Vec<Vec<String>> = o.rows.iter().map(cells).collect();
    let office = s
        .store
        .office_tree()
        .await?
        .get(&a.user.office)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let title = format!("{office}下级安委办 {} 年度考核情况汇总", o.year);
    let notes = vec![
        "说明：只汇总已发布的结果；进行中的考核只列状态。平均得分为各单位年度得分的算术平均，四舍五入保留两位小数。".to_owned(),
    ];
    let bytes = tokio::task::spawn_blocking(move || {
        lvzhi_office::xlsx_output::table_xlsx(&title, &HEADS, &rows, &notes)
    })
    .await
    .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("无法生成工作簿：{e}"),
        )
    })?;
    Ok(view::download(
        bytes,
        lvzhi_exchange::XLSX,
        &format!("{office}_下级考核汇总_{}年度.xlsx", o.year),
    ))
}
