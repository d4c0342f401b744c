//! 下级考核: the page of an office with offices below — per office and assessment the year's state
//! and, once published, its result in brief; the offices running one rubric side by side; the
//! workbook to download. Arranged from the shared oversight (`crate::oversight`); nothing is
//! computed here.

use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{PageError, Viewer, YearQuery, query};
use crate::AppState;
use crate::oversight::{HEADS, cells, oversight_of};

pub async fn page(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    let o = oversight_of(&s, &v.authed, q.year.as_deref())
        .await
        .map_err(|e| v.error(PageError::from(e)))?;
    let rows: Vec<Value> = o
        .rows
        .iter()
        .map(|r| {
            json!({
                "cells": cells(r),
                "href": (r.state == "已发布").then(|| r.key.as_ref().map(|k| format!("/overview?year={k}"))).flatten(),
            })
        })
        .collect();
    let comparisons: Vec<Value> = o
        .comparisons
        .iter()
        .map(|c| {
            json!({
                "title": c.title,
                "rows": c.rows.iter().map(|&i| {
                    let r = &o.rows[i];
                    let s = r.summary.as_ref();
                    json!({
                        "office": r.office_name,
                        "mean": s.map(|s| s.mean_total.to_fixed2()),
                        "grades": s.map(lvzhi_core::summary::Summary::grades_text),
                        "vetoed": s.map_or(0, |s| s.vetoed.len()),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let ctx = json!({
        "year": o.year,
        "heads": HEADS,
        "rows": rows,
        "comparisons": comparisons,
    });
    v.page("oversight.html", "oversight", "下级考核", None, ctx)
}
