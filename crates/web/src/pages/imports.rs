//! 导入: upload a workbook or CSV, check it whole (a preview of the rows, or every refused row with
//! its row number and column), then import it in one transaction. The checks and the import are
//! `lvzhi_exchange`'s, the same as the API's and the command line's.

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lvzhi_core::access::Action;
use lvzhi_office::Table;
use lvzhi_store::Role;
use serde_json::{Value, json};

use super::{PageError, Viewer, YearQuery, query, render, year_of};
use crate::AppState;
use lvzhi_exchange::{ImportError, parse, table_of};

fn tables(v: &Viewer) -> Vec<serde_json::Value> {
    let mut t = Vec::new();
    if v.may(Action::WriteRecords, None) {
        t.push(json!({"value": "records", "label": Table::Records.label()}));
    }
    if v.user().role == Role::Assessor || v.may(Action::WriteAssessment, None) {
        t.push(json!({"value": "assessments", "label": Table::Assessments.label()}));
    }
    if v.may(Action::WriteMetric, None) {
        t.push(json!({"value": "metrics", "label": Table::Metrics.label()}));
    }
    if v.may(Action::EditRoster, None) {
        t.push(json!({"value": "units", "label": Table::Units.label()}));
    }
    t
}

pub async fn page(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    let tables = tables(&v);
    if tables.is_empty() {
        return Err(v.error(PageError::new(StatusCode::FORBIDDEN, "无权导入数据")));
    }
    v.page(
        "import.html",
        "import",
        "导入",
        Some(&y),
        json!({"tables": tables}),
    )
}

fn heads(t: Table) -> &'static [&'static str] {
    lvzhi_office::xlsx_output::table_heads(t)
}

pub async fn submit(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let q = query(q).map_err(|e| v.error(e))?;
    let y = year_of(&v, &s, q.year.as_deref())
        .await
        .map_err(|e| v.error(e))?;
    let refuse = |m: String| v.error(PageError::new(StatusCode::UNPROCESSABLE_ENTITY, m));
    let mut mp = multipart.map_err(|e| refuse(format!("上传内容无法读取：{}", e.body_text())))?;
    let (mut table, mut commit, mut file, mut dup) = (String::new(), false, None, String::new());
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| refuse(format!("上传内容无法读取：{}", e.body_text())))?
    {
        match field.name() {
            Some("table") => table = field.text().await.unwrap_or_default(),
            Some("commit") => commit = field.text().await.unwrap_or_default() == "1",
            Some("duplicates") => dup = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name = field.file_name().unwrap_or("上传文件").to_owned();
                let data = field
                    .bytes()
                    .await
                    .map_err(|e| refuse(format!("文件无法读取：{}", e.body_text())))?;
                file = Some((name, data.to_vec()));
            }
            _ => {}
        }
    }
    let Some(t) = table_of(&table) else {
        return Err(refuse("请选择导入内容".into()));
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(refuse("请选择要导入的文件".into()));
    };
    let errors = |e: lvzhi_office::InputErrors,
                  annotated: Option<Vec<u8>>|
     -> Result<Response, PageError> {
        use base64::Engine as _;
        let href = annotated.map(|b| {
            format!(
                "data:{};base64,{}",
                lvzhi_exchange::XLSX,
                base64::engine::general_purpose::STANDARD.encode(b)
            )
        });
        let html = render(
            "import_result.html",
            &json!({"errors": e.errors.iter().map(|x| json!({"line": x.line, "field": x.field, "message": x.message})).collect::<Vec<_>>(),
                    "total": e.total, "annotated": href, "annotated_name": format!("{name}-检查结果.xlsx")}),
        )?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    let mut parsed = match parse(bytes, &name, t) {
        Ok(p) => p,
        Err(e) => return errors(e, None),
    };
    crate::auth::check_import(&v.authed, &s, &parsed)
        .await
        .map_err(|e| v.error(e))?;
    let Some(duplicates) = lvzhi_store::Duplicates::parse(&dup) else {
        return Err(refuse("请选择如何处理疑似重复的行".into()));
    };
    let outcome = parsed
        .import(&s.store, y.id, &v.authed.actor, !commit, duplicates)
        .await;
    let listed = |d: &[lvzhi_store::Duplicate]| -> Vec<Value> {
        d.iter()
            .map(|x| {
                json!({"line": parsed.line_of(x.index), "existing": x.existing,
                       "row": parsed.rows.get(x.index)})
            })
            .collect()
    };
    match outcome {
        Ok(o) => {
            let rows: Vec<&Vec<String>> = parsed.rows.iter().take(20).collect();
            let html = render(
                "import_result.html",
                &json!({"committed": commit, "count": if commit { o.imported } else { o.checked },
                        "skipped": o.skipped, "duplicates": listed(&o.duplicates),
                        "name": name, "rows": rows, "heads": heads(t), "year": y.year}),
            )?;
            Ok(html.into_response())
        }
        Err(ImportError::Store(lvzhi_store::StoreError::Duplicates(d))) => {
            let html = render(
                "import_result.html",
                &json!({"ask": true, "duplicates": listed(&d), "name": name, "heads": heads(t), "year": y.year}),
            )?;
            Ok((StatusCode::CONFLICT, html).into_response())
        }
        Err(ImportError::Store(lvzhi_store::StoreError::Conflict(m))) => {
            let html = render("import_result.html", &json!({"again": m}))?;
            Ok((StatusCode::CONFLICT, html).into_response())
        }
        Err(ImportError::Input(e)) => {
            let annotated = parsed.annotated(&e).ok();
            errors(e, annotated)
        }
        Err(ImportError::Store(e)) => Err(v.error(e)),
    }
}
