//! The explained score sheet of one unit as JSON, shared by the API and the pages: each category and
//! section with its cap and what the cap absorbed, each line with its clause, its points and the
//! records (or scores, or figures) behind it, what is incomplete and why, the flags with the record
//! that raised them, the official result beside the provisional one and what separates them, and
//! the unit's records no longer in force as history. Presentation only: every figure comes from the
//! core's `UnitSheet`s.

use std::collections::HashMap;

use lvzhi_core::score::{Line, LineDetail, Missing};
use lvzhi_core::{Points, Rubric, UnitBook, UnitSheet};
use lvzhi_store::{PeriodState, StoredRecord};
use serde_json::{Value, json};

/// A record as a sheet and a list show it: the stored fields, its state's name and its points.
pub fn record_json(rubric: &Rubric, r: &StoredRecord) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    let rule = rubric.rule_by_code(&r.rule);
    v["status_label"] = json!(r.status.label());
    v["rule_text"] = json!(rule.map(|i| rubric.rules[i].text.clone()));
    // A count only where the clause counts (按次); "—" where nobody entered one.
    v["count_text"] = json!(match rule {
        Some(i) if rubric.rules[i].kind.takes_count() => r.count.to_string(),
        _ => "—".to_owned(),
    });
    v["points_text"] = json!(rule.map(|i| {
        rubric.record_points_text(
            i,
            u32::try_from(r.count).unwrap_or(0),
            r.points
                .as_deref()
                .and_then(|p| Points::parse(p).ok())
                .unwrap_or_default(),
        )
    }));
    v
}

fn line_json(
    rubric: &Rubric,
    book: &UnitBook,
    assessor: &dyn Fn(u32) -> String,
    line: &Line,
    records: &HashMap<&str, Vec<Value>>,
) -> Value {
    let rule = &rubric.rules[line.rule];
    let mut v = json!({
        "rule": rule.code,
        "kind": rule.kind.name(),
        "kind_label": rubric.kind_label(line.rule),
        "text": rule.text,
        "points": line.points.to_string(),
    });
    match &line.detail {
        LineDetail::Records { count, each, .. } => {
            v["count"] = json!(count);
            v["each"] = json!(each.map(|p| p.to_string()));
            v["records"] = json!(records.get(rule.code.as_str()).cloned().unwrap_or_default());
        }
        LineDetail::Assessed { scores, mean, max } => {
            let given: Vec<Value> = book.assessments()[scores.clone()]
                .iter()
                .map(|a| json!({"assessor": assessor(a.assessor), "score": a.score.to_string()}))
                .collect();
            v["assessed"] =
                json!({"scores": given, "mean": mean.to_string(), "max": max.to_string()});
        }
        LineDetail::Metric { value, reference } => {
            v["metric"] = json!({"value": value.to_string(), "reference": reference.to_string()});
        }
        LineDetail::Steps {
            value,
            reference,
            excess,
            step,
            steps,
            each,
            capped,
        } => {
            v["steps"] = json!({
                "value": value.normalize().to_string(), "reference": reference.normalize().to_string(),
                "excess": excess.normalize().to_string(), "step": step.normalize().to_string(),
                "count": steps, "each": each.to_string(), "capped": capped.to_string(),
            });
        }
    }
    // The arithmetic of a computed line, as the core words it.
    v["working"] = json!(line.working(rubric));
    v
}

fn flag_json(rubric: &Rubric, f: Option<&lvzhi_core::score::Flag>) -> Value {
    f.map_or(
        Value::Null,
        |f| json!({"rule": rubric.rules[f.rule].code, "record": f.record}),
    )
}

fn totals_json(rubric: &Rubric, s: &UnitSheet) -> Value {
    json!({
        "subtotal": s.subtotal.to_fixed2(), "total": s.total.to_fixed2(),
        "converted": s.converted.to_fixed2(), "rank": s.rank, "grade": s.grade_name(rubric),
    })
}

/// The sheet of `unit` as its period's standing shows it (an open period: provisional, every record
/// in force; a published one: official), with the official and provisional results beside it;
/// `records` are the unit's records as stored. `None` when the unit is not in the period's roster.
pub fn sheet_json(state: &PeriodState, unit: &str, records: &[StoredRecord]) -> Option<Value> {
    let rubric = &state.rubric;
    let standing = state.standing();
    let basis = standing.basis;
    let u = state.unit_index(unit)?;
    let sheet = state.sheets_of(basis).of_unit(u)?;
    let provisional = state.sheets.of_unit(u)?;
    let official = state.official_sheets.of_unit(u)?;
    let ledger = state.ledger_of(basis);
    let book = ledger.book(u);
    let assessor = |i: u32| ledger.assessor_name(i).to_owned();
    let counts = |r: &&StoredRecord| match basis {
        lvzhi_core::Basis::Provisional => r.status.in_force(),
        lvzhi_core::Basis::Official => r.status.official(),
    };
    let mut by_rule: HashMap<&str, Vec<Value>> = HashMap::new();
    for r in records.iter().filter(counts) {
        by_rule
            .entry(r.rule.as_str())
            .or_default()
            .push(record_json(rubric, r));
    }
    let categories: Vec<Value> = sheet
        .categories
        .iter()
        .map(|c| {
            let cat = &rubric.categories[c.category];
            json!({
                "code": cat.code, "name": cat.name, "mode": c.mode, "max": c.max.to_string(),
                "mode_label": c.mode.label(), "adds": c.mode.adds(), "summary": c.summary(),
                "raw": c.raw.to_string(), "deducted": c.deducted.to_string(),
                "absorbed": c.absorbed.to_string(), "score": c.score.to_string(),
                "lost": c.lost().to_string(),
                "sections": c.sections.iter().map(|s| {
                    let sec = &rubric.sections[s.section];
                    json!({
                        "code": sec.code, "name": sec.name, "max": s.max.to_string(),
                        "raw": s.raw.to_string(), "deducted": s.deducted.to_string(),
                        "absorbed": s.absorbed.to_string(), "score": s.score.to_string(),
                        "summary": s.summary(c.mode),
                        "lines": s.lines.iter().map(|l| line_json(rubric, book, &assessor, l, &by_rule)).collect::<Vec<_>>(),
                    })
                }).collect::<Vec<_>>(),
                "lines": c.lines.iter().map(|l| line_json(rubric, book, &assessor, l, &by_rule)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let incomplete: Vec<Value> = sheet
        .incomplete
        .iter()
        .map(|i| {
            let rule = &rubric.rules[i.rule];
            match &i.missing {
                Missing::Assessment => json!({"rule": rule.code, "text": rule.text, "missing": "assessment",
                    "message": "尚无督导组打分，该项暂不扣分"}),
                Missing::Metrics(m) => json!({"rule": rule.code, "text": rule.text, "missing": "metrics",
                    "metrics": m.iter().map(|&k| rubric.metrics[k].name.clone()).collect::<Vec<_>>(),
                    "message": "指标数据不全，该项暂不比较"}),
            }
        })
        .collect();
    let pending: Vec<i64> = records
        .iter()
        .filter(|r| r.status.in_force() && !r.status.official())
        .map(|r| r.id)
        .collect();
    let history: Vec<Value> = records
        .iter()
        .filter(|r| !r.status.in_force())
        .map(|r| record_json(rubric, r))
        .collect();
    Some(json!({
        "rubric": {"id": rubric.id, "year": rubric.year, "title": rubric.title},
        "unit": sheet.name,
        "class": rubric.classes[sheet.class].code,
        "categories": categories,
        "subtotal": sheet.subtotal.to_fixed2(),
        "total": sheet.total.to_fixed2(),
        "converted": sheet.converted.to_fixed2(),
        "rank": sheet.rank,
        "lost": sheet.lost().to_fixed2(),
        "veto": flag_json(rubric, sheet.veto.as_ref()),
        "lowest_grade": flag_json(rubric, sheet.lowest_grade.as_ref()),
        "incomplete": incomplete,
        "grade": sheet.grade_name(rubric),
        "grade_reason": sheet.grade_reason(rubric),
        "over_max": sheet.over_max.to_fixed2(),
        "max_total": rubric.max_total.map(|m| m.to_string()),
        "official": totals_json(rubric, official),
        "provisional": totals_json(rubric, provisional),
        "standing": {"published": standing.published, "word": standing.word(), "note": standing.note()},
        "pending_records": pending,
        "history": history,
        "total_max": Points::to_string(&rubric.total),
    }))
}
