//! 督导组打分 and 指标数据: one grid of units × items each, every cell a small form saved in place
//! (htmx, on change) with its version number, so that two people editing the same cell never
//! overwrite each other silently: the second gets the conflict next to the cell.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lvzhi_core::access::Action;
use lvzhi_core::rubric::RuleKind;
use lvzhi_store::{Role, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{PageError, Viewer, form_error, query, render, year_of};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct AssessQuery {
    year: Option<String>,
    group: Option<String>,
}

/// The group whose scores a page shows and saves: an assessor's own; for an admin the one asked for.
fn group_for(v: &Viewer, asked: Option<&str>) -> Result<Option<String>, PageError> {
    match v.user().role {
        Role::Assessor => {
            let own = v.user().group.clone().ok_or_else(|| {
                v.error(PageError::new(
                    StatusCode::FORBIDDEN,
                    "该账号未绑定督导组，请联系管理员",
                ))
            })?;
            match asked.map(str::trim).filter(|g| !g.is_empty()) {
                Some(g) if g != own => Err(v.error(PageError::new(
                    StatusCode::FORBIDDEN,
                    format!("督导组账号只能查看和填写本组（{own}）的打分表"),
                ))),
                _ => Ok(Some(own)),
            }
        }
        Role::Admin => Ok(asked
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_owned)),
        _ => Err(v.error(PageError::new(StatusCode::FORBIDDEN, "无权为单位打分"))),
    }
}

/// One cell of a grid; `locked` (the period's closed reason) makes it read-only, saying why.
#[allow(clippy::too_many_arguments)]
fn cell(
    action: &str,
    year: &str,
    unit: &str,
    key: &str,
    group: Option<&str>,
    value: Option<&str>,
    version: Option<i64>,
    locked: Option<&str>,
) -> Value {
    json!({"action": action, "year": year, "unit": unit, "key": key, "group": group,
           "value": value.unwrap_or(""), "version": version.unwrap_or(0), "locked": locked})
}

pub async fn assess(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<AssessQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    if let Some(page) = super::years::parts_instead(&v, &y, "/assess", "assess", "督导组打分")
    {
        return page;
    }
    let groups = if v.user().role == Role::Admin {
        s.store.groups(&v.user().office).await?
    } else {
        Vec::new()
    };
    let group =
        group_for(&v, q.group.as_deref())?.or_else(|| groups.first().map(|(g, _)| g.clone()));
    let st = &y.state;
    let locked = st.info.closed_reason();
    let rules: Vec<(usize, String)> = st
        .rubric
        .rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.kind {
            RuleKind::Assessed { max, .. } => Some((i, max.to_string())),
            _ => None,
        })
        .collect();
    // The rows, in roster order: an assessor's supervised units; for an admin the chosen group's
    // (all when none).
    let chosen: Vec<String> = if v.user().role == Role::Assessor {
        v.user().supervises.clone()
    } else {
        groups
            .iter()
            .find(|(g, _)| Some(g) == group.as_ref())
            .map(|(_, u)| u.clone())
            .unwrap_or_default()
    };
    let units: Vec<String> = st
        .units
        .iter()
        .filter(|u| chosen.contains(&u.name) || (chosen.is_empty() && v.user().role == Role::Admin))
        .map(|u| u.name.clone())
        .collect();
    let given: HashMap<(&str, &str), (&str, i64)> = st
        .assessments()
        .filter(|a| Some(&a.assessor) == group.as_ref())
        .map(|a| {
            (
                (a.unit.as_str(), a.rule.as_str()),
                (a.score.as_str(), a.version),
            )
        })
        .collect();
    let mut missing = 0;
    let rows: Vec<Value> = units
        .iter()
        .map(|u| {
            let cells: Vec<Value> = rules
                .iter()
                .map(|(i, _)| {
                    let code = st.rubric.rules[*i].code.as_str();
                    let g = given.get(&(u.as_str(), code));
                    if g.is_none() {
                        missing += 1;
                    }
                    cell(
                        "/assess",
                        &y.year,
                        u,
                        code,
                        group.as_deref(),
                        g.map(|x| x.0),
                        g.map(|x| x.1),
                        locked.as_deref(),
                    )
                })
                .collect();
            json!({"unit": u, "href": format!("/units/{}", super::encode_component(u)), "cells": cells})
        })
        .collect();
    let ctx = json!({
        "group": group, "groups": groups.iter().map(|(g, u)| json!({"name": g, "units": u.len()})).collect::<Vec<_>>(),
        "is_admin": v.user().role == Role::Admin,
        "rules": rules.iter().map(|(i, max)| json!({"code": st.rubric.rules[*i].code, "text": st.rubric.rules[*i].text, "max": max})).collect::<Vec<_>>(),
        "rows": rows, "missing": missing, "locked": locked,
    });
    v.page("assess.html", "assess", "督导组打分", Some(&y), ctx)
}

#[derive(Deserialize)]
pub struct CellForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    version: String,
}

/// Answers a cell: saved (with its new version), or refused with the reason beside it.
fn cell_answer(mut c: Value, outcome: Result<i64, String>) -> Result<Response, PageError> {
    let status = match outcome {
        Ok(version) => {
            c["version"] = json!(version);
            c["saved"] = json!(true);
            c["cleared"] = json!(c["value"].as_str().is_some_and(str::is_empty));
            StatusCode::OK
        }
        Err(m) => {
            c["error"] = json!(m);
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    Ok((status, render("cell.html", &json!({"c": c}))?).into_response())
}

fn store_message(e: StoreError) -> Result<String, StoreError> {
    match e {
        StoreError::Invalid { message, .. } | StoreError::Conflict(message) => Ok(message),
        other => Err(other),
    }
}

pub async fn assess_cell(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<CellForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let y = year_of(&v, &s, Some(&f.year))
        .await
        .map_err(|e| v.error(e))?;
    v.check(&s, Action::WriteAssessment, Some(&f.unit)).await?;
    let group = group_for(&v, Some(&f.group))?.ok_or_else(|| {
        v.error(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "请先选择督导组",
        ))
    })?;
    let c = cell(
        "/assess",
        &y.year,
        &f.unit,
        &f.key,
        Some(&group),
        Some(f.value.trim()),
        f.version.trim().parse().ok(),
        y.state.info.closed_reason().as_deref(),
    );
    let version = f.version.trim().parse().ok();
    // An emptied cell clears the score: the unit is "not scored" by this group again.
    let outcome = if f.value.trim().is_empty() {
        match version {
            Some(0) | None => Ok(0),
            Some(_) => s
                .store
                .clear_assessment(y.id, &f.unit, &f.key, &group, version, &v.authed.actor)
                .await
                .map(|()| 0),
        }
    } else {
        s.store
            .put_assessment(
                y.id,
                &f.unit,
                &f.key,
                &group,
                f.value.trim(),
                version,
                &v.authed.actor,
            )
            .await
            .map(|a| a.version)
    };
    let outcome = match outcome {
        Ok(x) => Ok(x),
        Err(e) => Err(store_message(e).map_err(|e| v.error(e))?),
    };
    cell_answer(c, outcome)
}

pub async fn metrics(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<super::YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::WriteMetric, None).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    if let Some(page) = super::years::parts_instead(&v, &y, "/metric-values", "metrics", "指标数据")
    {
        return page;
    }
    let st = &y.state;
    let locked = st.info.closed_reason();
    let given: HashMap<(&str, &str), (&str, i64)> = st
        .metrics()
        .map(|m| {
            (
                (m.unit.as_str(), m.metric.as_str()),
                (m.value.as_str(), m.version),
            )
        })
        .collect();
    let mut missing = 0;
    let rows: Vec<Value> = st
        .units
        .iter()
        .map(|u| {
            let cells: Vec<Value> = st
                .rubric
                .metrics
                .iter()
                .map(|m| {
                    let g = given.get(&(u.name.as_str(), m.code.as_str()));
                    if g.is_none() {
                        missing += 1;
                    }
                    cell(
                        "/metric-values",
                        &y.year,
                        &u.name,
                        &m.code,
                        None,
                        g.map(|x| x.0),
                        g.map(|x| x.1),
                        locked.as_deref(),
                    )
                })
                .collect();
            json!({"unit": u.name, "class": u.class, "cells": cells})
        })
        .collect();
    let ctx = json!({
        "metrics": st.rubric.metrics.iter().map(|m| json!({"code": m.code, "name": m.name})).collect::<Vec<_>>(),
        "rows": rows, "missing": missing, "locked": locked,
    });
    v.page("metrics.html", "metrics", "指标数据", Some(&y), ctx)
}

pub async fn metric_cell(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<CellForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let y = year_of(&v, &s, Some(&f.year))
        .await
        .map_err(|e| v.error(e))?;
    v.check(&s, Action::WriteMetric, Some(&f.unit)).await?;
    let c = cell(
        "/metric-values",
        &y.year,
        &f.unit,
        &f.key,
        None,
        Some(f.value.trim()),
        f.version.trim().parse().ok(),
        y.state.info.closed_reason().as_deref(),
    );
    let outcome = s
        .store
        .put_metric(
            y.id,
            &f.unit,
            &f.key,
            f.value.trim(),
            f.version.trim().parse().ok(),
            &v.authed.actor,
        )
        .await
        .map(|m| m.version);
    let outcome = match outcome {
        Ok(x) => Ok(x),
        Err(e) => Err(store_message(e).map_err(|e| v.error(e))?),
    };
    cell_answer(c, outcome)
}
