//! 总览 (rankings, counts, charts), 单位 (one unit's explained sheet) and 细则 (the rubric tree).
//! Every figure comes from the period's cached score sheets; this module only arranges them.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lvzhi_core::access::Action;
use lvzhi_core::score::{UnitSheet, mean_lost};
use lvzhi_core::{PeriodStatus, RecordStatus};
use serde_json::{Value, json};

use super::{PageError, Viewer, YearQuery, chart_json, encode_component, query, year_of};
use crate::AppState;

fn flag_note(sheet: &UnitSheet) -> Option<&'static str> {
    if sheet.veto.is_some() {
        Some("一票否决")
    } else if sheet.lowest_grade.is_some() {
        Some("最低等次")
    } else {
        None
    }
}

pub async fn overview(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ReadResults, None).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    if y.state.info.is_year_of_parts() {
        return super::years::year_overview(&v, &s, &y).await;
    }
    let st = &y.state;
    let rubric = &st.rubric;
    // The result the period stands at (official once published); while open, the official result
    // (confirmed records only) beside the provisional one.
    let standing = st.standing();
    let shown = st.sheets_of(standing.basis);
    let official = &st.official_sheets;
    let official_of = |unit: usize| {
        official
            .of_unit(unit)
            .map(|o| (o.total.to_fixed2(), o.rank))
    };
    // Rankings by class, flagged units first, then by rank.
    let mut classes = Vec::new();
    for (ci, class) in rubric.classes.iter().enumerate() {
        let mut rows: Vec<&UnitSheet> = shown
            .sheets
            .iter()
            .filter(|s| s.class == ci)
            .map(|s| &**s)
            .collect();
        rows.sort_by_key(|s| (flag_note(s).is_none(), s.rank, s.name.clone()));
        let rows: Vec<Value> = rows
            .iter()
            .map(|s| {
                json!({
                    "unit": s.name, "href": format!("/units/{}?year={}", encode_component(&s.name), y.year),
                    "total": s.total.to_fixed2(), "converted": s.converted.to_fixed2(), "rank": s.rank,
                    "flag": flag_note(s), "veto": s.veto.is_some(), "incomplete": !s.incomplete.is_empty(),
                    "deducted": s.lost().to_fixed2(), "grade": s.grade_name(rubric),
                    "official": (!standing.published).then(|| official_of(s.unit).map(|(t, r)| json!({"total": t, "rank": r}))),
                })
            })
            .collect();
        classes.push(json!({"code": class.code, "name": class.name, "weight": class.weight.to_string(), "rows": rows}));
    }
    // Counts.
    let counts = st.counts();
    let in_force = counts.in_force();
    let revoked = counts.total() - in_force;
    let pending = counts.get(RecordStatus::Recorded);
    let now = s.store.now();
    let open_appeals = st.appeals.iter().filter(|a| a.is_open()).count();
    let overdue = st.appeals.iter().filter(|a| a.is_overdue(&now)).count();
    let incomplete_units = st
        .sheets
        .sheets
        .iter()
        .filter(|s| !s.incomplete.is_empty())
        .count();
    let missing: usize = st.sheets.sheets.iter().map(|s| s.incomplete.len()).sum();
    let flagged = st
        .sheets
        .sheets
        .iter()
        .filter(|s| flag_note(s).is_some())
        .count();
    // Distribution of totals per class, in 5-point bins from 70 up (below 70 in one bin).
    let bins: Vec<(i64, i64, String)> = std::iter::once((i64::MIN, 7000, "<70".to_owned()))
        .chain((70..100).step_by(5).map(|lo| {
            (
                lo * 100,
                if lo == 95 { i64::MAX } else { (lo + 5) * 100 },
                format!("{lo}–{}", lo + 5),
            )
        }))
        .collect();
    let series: Vec<Value> = rubric
        .classes
        .iter()
        .enumerate()
        .map(|(ci, class)| {
            let data: Vec<usize> = bins
                .iter()
                .map(|(lo, hi, _)| {
                    st.sheets
                        .sheets
                        .iter()
                        .filter(|s| {
                            s.class == ci
                                && s.total.hundredths() >= *lo
                                && s.total.hundredths() < *hi
                        })
                        .count()
                })
                .collect();
            json!({"name": format!("{}类", class.code), "type": "bar", "data": data})
        })
        .collect();
    let distribution = json!({
        "tooltip": {"trigger": "axis"}, "legend": {},
        "xAxis": {"type": "category", "name": "监测得分", "data": bins.iter().map(|b| b.2.clone()).collect::<Vec<_>>()},
        "yAxis": {"type": "value", "name": "单位数", "minInterval": 1},
        "series": series,
    });
    // Average points lost per category, per class.
    let cats: Vec<usize> = (0..rubric.categories.len())
        .filter(|&c| rubric.categories[c].mode.counts_towards_total())
        .collect();
    let series: Vec<Value> = rubric
        .classes
        .iter()
        .enumerate()
        .map(|(ci, class)| {
            let data: Vec<String> = cats
                .iter()
                .map(|&c| mean_lost(&st.sheets, ci, c).to_fixed2())
                .collect();
            json!({"name": format!("{}类", class.code), "type": "bar", "data": data})
        })
        .collect();
    let categories = json!({
        "tooltip": {"trigger": "axis"}, "legend": {},
        "grid": {"left": 250},
        "yAxis": {"type": "category", "axisLabel": {"width": 240, "overflow": "truncate"}, "data": cats.iter().map(|&c| rubric.categories[c].name.clone()).collect::<Vec<_>>()},
        "xAxis": {"type": "value", "name": "平均失分"},
        "series": series,
    });
    v.page(
        "overview.html",
        "overview",
        "总览",
        Some(&y),
        json!({
            "rubric": {"title": rubric.title, "print_title": format!("{}得分排名", rubric.title.trim_end_matches("细则")),
                       "total": rubric.total.to_string(), "divisors": rubric.classes.iter().map(|c| format!("{}类 {}", c.code, c.weight)).collect::<Vec<_>>()},
            // A year with nothing in it yet: the office's next steps instead of a ranking of ties.
            "empty": counts.total() == 0 && st.assessments().next().is_none() && st.metrics().next().is_none(),
            "may_manage": v.may(Action::ManageAccounts, None),
            "may_import": v.may(Action::WriteRecords, None),
            "standing": {"published": standing.published, "word": standing.word(), "note": standing.note()},
            "period": {"status": y.state.info.status, "status_label": y.state.info.status.label(),
                       "published": y.state.info.status == PeriodStatus::Published, "version": y.state.info.version},
            "classes": classes,
            "grades": st.sheets.grade_counts(rubric).iter().map(|(g, n)| json!({"name": g, "count": n})).collect::<Vec<_>>(),
            "graded": !rubric.grades.is_empty(),
            "grades_text": rubric.grades_text(),
            "counts": {"units": st.sheets.sheets.len(), "records": in_force, "revoked": revoked,
                       "incomplete_units": incomplete_units, "missing": missing, "flagged": flagged,
                       "pending": pending, "appeals": open_appeals, "overdue": overdue},
            "charts": {"distribution": chart_json(&distribution), "categories": chart_json(&categories)},
        }),
    )
}

pub async fn sheet(
    v: Viewer,
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ReadSheet, Some(&name)).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    let not_here = || {
        v.error(PageError::new(
            StatusCode::NOT_FOUND,
            format!("{}名册中没有单位「{name}」", y.state.info.period_name()),
        ))
    };
    if y.state.info.is_year_of_parts() {
        return match super::years::year_sheet(&v, &s, &y, &name).await? {
            Some(page) => Ok(page),
            None => Err(not_here()),
        };
    }
    if y.state.unit_index(&name).is_none() {
        return Err(not_here());
    }
    let records = s.store.unit_records(y.id, &name).await?;
    let Some(mut sheet) = crate::sheet::sheet_json(&y.state, &name, &records) else {
        return Err(not_here());
    };
    // Evidence of the unit's records, in one query.
    let mut evidence: HashMap<String, Vec<Value>> = HashMap::new();
    if v.may(Action::ReadEvidence, Some(&name)) {
        for a in s.store.attachments_of(y.id, Some(&name)).await? {
            evidence.entry(a.record_id.to_string()).or_default().push(json!({
                "name": a.name, "href": format!("/api/v1/periods/{}/attachments/{}", y.year, a.id),
            }));
        }
    }
    sheet["evidence"] = json!(evidence);
    let cats = sheet["categories"].as_array().cloned().unwrap_or_default();
    let chart = json!({
        "tooltip": {"trigger": "axis"}, "legend": {},
        "grid": {"left": 250},
        "yAxis": {"type": "category", "axisLabel": {"width": 240, "overflow": "truncate"}, "data": cats.iter().map(|c| c["name"].clone()).collect::<Vec<_>>()},
        "xAxis": {"type": "value", "name": "分"},
        "series": [
            {"name": "得分", "type": "bar", "stack": "t", "data": cats.iter().map(|c| c["score"].clone()).collect::<Vec<_>>()},
            {"name": "失分", "type": "bar", "stack": "t", "data": cats.iter().map(|c| c["lost"].clone()).collect::<Vec<_>>()},
        ],
    });
    // The year month by month, the distance to the next rank, and the unit's appeals.
    let months = s.store.trend(y.id, &name).await?;
    let trend = json!({
        "tooltip": {"trigger": "axis"},
        "legend": {"data": ["监测得分", "排名"]},
        "xAxis": {"type": "category", "data": months.iter().map(|m| format!("{}月", m.month)).collect::<Vec<_>>()},
        "yAxis": [{"type": "value", "name": "监测得分", "scale": true}, {"type": "value", "name": "排名", "inverse": true, "minInterval": 1}],
        "series": [
            {"name": "监测得分", "type": "line", "data": months.iter().map(|m| m.total.clone()).collect::<Vec<_>>()},
            {"name": "排名", "type": "line", "yAxisIndex": 1, "data": months.iter().map(|m| m.rank).collect::<Vec<_>>()},
        ],
    });
    let gap = s.store.distances(y.id).await?.remove(&name).flatten();
    let now = s.store.now();
    let appeals: Vec<Value> = y
        .state
        .appeals
        .iter()
        .filter(|a| a.unit == name)
        .map(|a| {
            json!({
                "record": a.record_id, "at": a.appealed_at, "reason": a.reason,
                "decision": a.decision.map(lvzhi_core::Decision::label),
                "deadline": a.deadline, "overdue": a.is_overdue(&now),
            })
        })
        .collect();
    let title = format!("{name} · 得分说明");
    v.page(
        "sheet.html",
        "sheet",
        &title,
        Some(&y),
        json!({
            "sheet": sheet, "chart": chart_json(&chart), "trend": chart_json(&trend),
            "to_next_rank": gap, "appeals": appeals,
            "can_write": v.may(Action::WriteRecords, Some(&name)),
            "unit_q": encode_component(&name),
        }),
    )
}

pub async fn rubric(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ReadPeriods, None).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    let r = &y.state.rubric;
    let rule_json = |i: usize| {
        let rule = &r.rules[i];
        json!({
            "code": rule.code, "kind": r.kind_label(i), "terms": r.terms(i),
            "text": rule.text, "source": rule.source, "applies_to": rule.applies_to,
            "excludes": rule.excludes.iter().map(|&e| r.rules[e].code.clone()).collect::<Vec<_>>(),
        })
    };
    let categories: Vec<Value> = r
        .categories
        .iter()
        .map(|c| {
            json!({
                "code": c.code, "name": c.name, "max": c.max.to_string(),
                "mode": c.mode.label(), "adds": c.mode.adds(),
                "source": c.source,
                "rules": c.rules.iter().map(|&i| rule_json(i)).collect::<Vec<_>>(),
                "sections": c.sections.iter().map(|&si| {
                    let sec = &r.sections[si];
                    json!({"code": sec.code, "name": sec.name, "max": sec.max.to_string(),
                           "rules": sec.rules.iter().map(|&i| rule_json(i)).collect::<Vec<_>>()})
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let roster: Vec<Value> = y
        .state
        .units
        .iter()
        .map(|u| json!({"name": u.name, "class": u.class, "tags": u.tags.join("、")}))
        .collect();
    v.page(
        "rubric.html",
        "rubric",
        "细则",
        Some(&y),
        json!({
            "rubric": {"id": r.id, "title": r.title, "issuer": r.issuer, "total": r.total.to_string(),
                       "decimals": r.conversion.decimals, "divisor": r.conversion.divisor.to_string(),
                       "hash": y.state.info.rubric_hash, "max_total": r.max_total.map(|m| m.to_string()),
                       "grades": r.grades_text()},
            "classes": r.classes.iter().map(|c| json!({"code": c.code, "name": c.name, "weight": c.weight.to_string()})).collect::<Vec<_>>(),
            "metrics": r.metrics.iter().map(|m| json!({"code": m.code, "name": m.name})).collect::<Vec<_>>(),
            "categories": categories,
            "roster": roster,
        }),
    )
}
