//! 年度总览 of a year made of parts: each unit's part totals, the year's total (the weighted mean
//! of its parts, or 0.00 under a year veto), rank, grade and the mean's working, with the parts'
//! states and links; and, for the pages of a period's own ledger (records, scores, metric values,
//! what-if), the year's answer that it has none, with a link to each part's page. Every figure is
//! the core's roll-up, read through the store; this module only arranges it.

use axum::response::Response;
use lvzhi_core::PeriodStatus;
use serde_json::{Value, json};

use super::{PageError, Viewer, Year, encode_component};
use crate::AppState;

/// A page of a period's own ledger asked of a year made of parts, which has none: the page says
/// so and links each part's same page (`path`). `None` for any other period.
pub fn parts_instead(
    v: &Viewer,
    y: &Year,
    path: &str,
    active: &str,
    what: &str,
) -> Option<Result<Response, PageError>> {
    let info = &y.state.info;
    if !info.is_year_of_parts() {
        return None;
    }
    let parts: Vec<Value> = y
        .state
        .rubric
        .parts
        .iter()
        .zip(&info.parts)
        .map(|(p, key)| json!({"name": p.name, "dates": p.dates_text(), "href": format!("{path}?year={key}")}))
        .collect();
    let ctx = json!({"what": what, "parts": parts, "year": y.year});
    Some(v.page("year_parts.html", active, what, Some(y), ctx))
}

/// The overview of year `y` (a year made of parts).
pub async fn year_overview(v: &Viewer, s: &AppState, y: &Year) -> Result<Response, PageError> {
    let standing = y.state.standing();
    let results = s.store.year_results(y.id, standing.basis).await?;
    let rubric = &results.rubric;
    let parts: Vec<Value> = results
        .parts
        .iter()
        .map(|p| {
            json!({
                "name": p.info.part_name, "key": p.info.key,
                "href": format!("/overview?year={}", p.info.key),
                "published": p.info.status == PeriodStatus::Published,
                "status": p.info.status.label(),
            })
        })
        .collect();
    let mut classes = Vec::new();
    for (ci, class) in rubric.classes.iter().enumerate() {
        let rows: Vec<Value> = results
            .sheets
            .sheets
            .iter()
            .filter(|u| u.class == ci)
            .map(|u| {
                let by_part: Vec<Value> = rubric
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(pi, _)| {
                        json!(
                            u.parts
                                .iter()
                                .find(|t| t.part == pi)
                                .map(|t| t.total.to_fixed2())
                        )
                    })
                    .collect();
                json!({
                    "unit": u.name,
                    "href": format!("/units/{}?year={}", encode_component(&u.name), y.year),
                    "parts": by_part, "total": u.total.to_fixed2(),
                    "converted": u.converted.to_fixed2(), "rank": u.rank,
                    "grade": u.grade.map(|g| rubric.grades[g].name.clone()),
                    "veto": u.veto.is_some(), "lowest": u.lowest_grade.is_some(),
                    "incomplete": u.incomplete.len(), "working": u.working(rubric),
                })
            })
            .collect();
        classes.push(json!({"code": class.code, "name": class.name, "rows": rows}));
    }
    let ctx = json!({
        "parts": parts,
        "part_names": rubric.parts.iter().map(|p| json!({"name": p.name, "weight": p.weight.to_min_string(), "dates": p.dates_text()})).collect::<Vec<_>>(),
        "classes": classes,
        "published": standing.published,
        "all_parts_published": results.parts.iter().all(|p| p.info.status == PeriodStatus::Published),
    });
    v.page("year_overview.html", "overview", "年度总览", Some(y), ctx)
}

/// One unit's year: each part's total with a link to that part's sheet, the year's total and
/// the mean's working; `None` when the unit is in no part.
pub async fn year_sheet(
    v: &Viewer,
    s: &AppState,
    y: &Year,
    unit: &str,
) -> Result<Option<Response>, PageError> {
    let standing = y.state.standing();
    let results = s.store.year_results(y.id, standing.basis).await?;
    let rubric = &results.rubric;
    let Some(u) = results.sheets.by_name(unit) else {
        return Ok(None);
    };
    let parts: Vec<Value> = results
        .parts
        .iter()
        .map(|p| {
            let i = rubric
                .parts
                .iter()
                .position(|x| Some(&x.code) == p.info.part.as_ref());
            let total = u
                .parts
                .iter()
                .find(|t| Some(t.part) == i)
                .map(|t| t.total.to_fixed2());
            json!({
                "name": p.info.part_name, "total": total,
                "weight": i.map(|i| rubric.parts[i].weight.to_min_string()),
                "href": format!("/units/{}?year={}", encode_component(unit), p.info.key),
            })
        })
        .collect();
    let ctx = json!({
        "unit": unit, "parts": parts, "total": u.total.to_fixed2(),
        "converted": u.converted.to_fixed2(), "rank": u.rank,
        "grade": u.grade.map(|g| rubric.grades[g].name.clone()),
        "working": u.working(rubric), "published": standing.published,
    });
    v.page("year_sheet.html", "sheet", unit, Some(y), ctx)
        .map(Some)
}
