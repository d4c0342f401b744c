//! Files the office exchanges: exports (ranking, ledger, sheets, the 通报), import templates, and
//! imports (checked whole, then all or nothing; a refused file can come back annotated).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lvzhi_core::access::Action;
use lvzhi_exchange::{Export, Format, ImportError, XLSX};
use lvzhi_store::{Duplicates, StoreError};
use serde::Deserialize;
use serde_json::json;

use super::bad_query;
use crate::auth::Authed;
use crate::extract::upload_bytes;
use crate::{ApiError, AppState, view};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/periods/{year}/export/{file}", get(export_file))
        .route(
            "/api/v1/periods/{year}/units/{name}/export/{file}",
            get(export_unit_file),
        )
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

/// `GET …/export/{results|ledger|sheets}.xlsx`, `…/export/report.{docx|pdf}`.
async fn export_file(
    a: Authed,
    State(s): State<AppState>,
    Path((year, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let year = a.period(&s, &year).await?;
    let known = "可用 results.xlsx、ledger.xlsx、sheets.xlsx、report.docx、report.pdf";
    let (what, format) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let what = Export::parse(what).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("没有「{file}」这种导出（{known}）"),
        )
    })?;
    let format = Format::parse(format)
        .filter(|f| what.formats().contains(f))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("「{file}」没有这种格式（{known}）"),
            )
        })?;
    match what {
        Export::Ledger => a.check(&s, Action::ReadRecords, None).await?,
        _ => a.check(&s, Action::ReadResults, None).await?,
    }
    let bytes = lvzhi_exchange::export(&s.store, year, what, format).await?;
    Ok(view::download(
        bytes,
        format.mime(),
        &what.file_name(&s.store.state(year).await?.info, format),
    ))
}

/// `GET …/units/{name}/export/{sheet|records}.xlsx`: a unit's own sheet or records, for whoever
/// may read them (the unit itself among others).
async fn export_unit_file(
    a: Authed,
    State(s): State<AppState>,
    Path((year, name, file)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let year = a.period(&s, &year).await?;
    let what = file
        .strip_suffix(".xlsx")
        .and_then(lvzhi_exchange::UnitExport::parse)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("没有「{file}」这种导出（可用 sheet.xlsx、records.xlsx）"),
            )
        })?;
    let action = match what {
        lvzhi_exchange::UnitExport::Sheet => Action::ReadSheet,
        lvzhi_exchange::UnitExport::Records => Action::ReadRecords,
    };
    a.check(&s, action, Some(&name)).await?;
    let bytes = lvzhi_exchange::export_unit(&s.store, year, &name, what).await?;
    let info = &s.store.state(year).await?.info;
    Ok(view::download(bytes, XLSX, &what.file_name(info, &name)))
}

/// `GET …/templates/{records|assessments|metrics|units}.xlsx`.
async fn template_file(
    a: Authed,
    State(s): State<AppState>,
    Path((year, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let year = a.period(&s, &year).await?;
    a.check(&s, Action::ReadPeriods, None).await?;
    let table = file
        .strip_suffix(".xlsx")
        .and_then(lvzhi_exchange::table_of)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("没有「{file}」模板（可用 records、assessments、metrics、units 的 .xlsx）"),
            )
        })?;
    let bytes = lvzhi_exchange::template(&s.store, year, table).await?;
    Ok(view::download(
        bytes,
        XLSX,
        &format!(
            "{}_{}导入模板.xlsx",
            s.store.state(year).await?.info.file_stem(),
            table.label()
        ),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    dry_run: Option<bool>,
    /// Rows equal to records in force: `skip` them, or `import` them too (without a choice the
    /// import is refused and lists them).
    duplicates: Option<String>,
    /// `true`: a refused file comes back as the annotated workbook (422, xlsx) instead of JSON.
    annotated: Option<bool>,
}

/// `POST …/import/{table}[?dry_run=true]`, multipart field `file` (.xlsx or CSV): all or nothing.
async fn import_file(
    a: Authed,
    State(s): State<AppState>,
    Path((year, table)): Path<(String, String)>,
    q: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let year = a.period(&s, &year).await?;
    let Query(q) = q.map_err(|e| bad_query(&e, "dry_run、duplicates、annotated"))?;
    let duplicates = Duplicates::parse(q.duplicates.as_deref().unwrap_or("")).ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "duplicates",
            "duplicates 只能是 skip（跳过疑似重复的行）或 import（仍然导入）",
        )
    })?;
    let table = lvzhi_exchange::table_of(&table).ok_or_else(|| {
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
    let mut parsed = lvzhi_exchange::parse(bytes, &name, table).map_err(|e| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file",
            format!("{}", ImportError::Input(e)),
        )
    })?;
    crate::auth::check_import(&a, &s, &parsed).await?;
    let dry = q.dry_run.unwrap_or(false);
    let outcome = parsed
        .import(&s.store, year, &a.actor, dry, duplicates)
        .await;
    let listed = |d: &[lvzhi_store::Duplicate]| -> Vec<serde_json::Value> {
        d.iter()
            .map(|x| json!({"row": x.index + 1, "line": parsed.line_of(x.index), "existing": x.existing}))
            .collect()
    };
    match outcome {
        Ok(o) => Ok(Json(json!({
            "imported": o.imported, "checked": o.checked, "dry_run": dry,
            "duplicates": listed(&o.duplicates), "skipped": o.skipped,
        }))
        .into_response()),
        Err(ImportError::Store(StoreError::Duplicates(d))) => Ok((
            StatusCode::CONFLICT,
            Json(json!({"error": {
                "message": StoreError::Duplicates(d.clone()).to_string(),
                "field": "duplicates",
            }, "duplicates": listed(&d)})),
        )
            .into_response()),
        Err(ImportError::Input(e)) if q.annotated == Some(true) => {
            let bytes = parsed.annotated(&e)?;
            let mut r = view::download(bytes, XLSX, &format!("{name}-检查结果.xlsx"));
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(ImportError::Input(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": {
                "message": format!("{}", ImportError::Input(e.clone())),
                "field": "file",
                "rows": e.errors.iter().map(|x| json!({"line": x.line, "field": x.field, "message": x.message})).collect::<Vec<_>>(),
                "total": e.total,
            }})),
        )
            .into_response()),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}
