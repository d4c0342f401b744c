//! The explained score sheet of one unit as JSON: each category and section with its cap and what the
//! cap absorbed, each line with its clause, its points and the records (or scores, or figures) behind
//! it, what is incomplete and why, the flags with the record that raised them, and the unit's revoked
//! records as history. Presentation only: every figure comes from the core's `UnitSheet`.

use std::collections::HashMap;

use lvzhi_core::score::{Line, LineDetail, Missing};
use lvzhi_core::{Points, Rubric};
use lvzhi_store::{PeriodState, StoredRecord};
use serde_json::{Value, json};

fn line_json(
    rubric: &Rubric,
    state: &PeriodState,
    line: &Line,
    records: &HashMap<usize, Vec<&StoredRecord>>,
) -> Value {
    let rule = &rubric.rules[line.rule];
    let mut v = json!({
        "rule": rule.code,
        "kind": rule.kind.name(),
        "kind_label": rule.kind.label(),
        "text": rule.text,
        "points": line.points.to_string(),
    });
    match &line.detail {
        LineDetail::Records { count, each, .. } => {
            v["count"] = json!(count);
            v["each"] = json!(each.map(|p| p.to_string()));
            v["records"] = json!(records.get(&line.rule).cloned().unwrap_or_default());
        }
        LineDetail::Assessed { scores, mean, max } => {
            let given: Vec<Value> = state.ledger.assessments()[scores.clone()]
                .iter()
                .map(|a| json!({"assessor": state.ledger.assessor_name(a.assessor), "score": a.score.to_string()}))
                .collect();
            v["assessed"] =
                json!({"scores": given, "mean": mean.to_string(), "max": max.to_string()});
        }
        LineDetail::Metric { value, reference } => {
            v["metric"] = json!({"value": value.to_string(), "reference": reference.to_string()});
        }
    }
    v
}

fn flag_json(rubric: &Rubric, f: Option<&lvzhi_core::score::Flag>) -> Value {
    f.map_or(
        Value::Null,
        |f| json!({"rule": rubric.rules[f.rule].code, "record": f.record}),
    )
}

/// The sheet of `unit`, or `None` when the unit is not in the period's roster.
pub fn sheet_json(state: &PeriodState, unit: &str) -> Option<Value> {
    let rubric = &state.rubric;
    let sheet = state.sheets.sheets.iter().find(|s| s.name == unit)?;
    let by_id: HashMap<i64, &StoredRecord> = state.records.iter().map(|r| (r.id, &**r)).collect();
    let records: HashMap<usize, Vec<&StoredRecord>> = state
        .ledger
        .records_of(sheet.unit)
        .into_iter()
        .map(|(rule, rs)| {
            let mut list: Vec<&StoredRecord> = rs
                .iter()
                .filter_map(|r| {
                    i64::try_from(r.id)
                        .ok()
                        .and_then(|id| by_id.get(&id).copied())
                })
                .collect();
            list.sort_by_key(|r| r.id);
            (rule, list)
        })
        .collect();
    let categories: Vec<Value> = sheet
        .categories
        .iter()
        .map(|c| {
            let cat = &rubric.categories[c.category];
            json!({
                "code": cat.code, "name": cat.name, "mode": c.mode, "max": c.max.to_string(),
                "raw": c.raw.to_string(), "deducted": c.deducted.to_string(),
                "absorbed": c.absorbed.to_string(), "score": c.score.to_string(),
                "sections": c.sections.iter().map(|s| {
                    let sec = &rubric.sections[s.section];
                    json!({
                        "code": sec.code, "name": sec.name, "max": s.max.to_string(),
                        "raw": s.raw.to_string(), "deducted": s.deducted.to_string(),
                        "absorbed": s.absorbed.to_string(), "score": s.score.to_string(),
                        "lines": s.lines.iter().map(|l| line_json(rubric, state, l, &records)).collect::<Vec<_>>(),
                    })
                }).collect::<Vec<_>>(),
                "lines": c.lines.iter().map(|l| line_json(rubric, state, l, &records)).collect::<Vec<_>>(),
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
                    "metrics": m.iter().map(|&k| rubric.metrics[k].code.clone()).collect::<Vec<_>>(),
                    "message": "指标数据不全，该项暂不比较"}),
            }
        })
        .collect();
    let history: Vec<&StoredRecord> = state
        .records
        .iter()
        .filter(|r| r.unit == unit && r.status == "revoked")
        .map(|r| &**r)
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
        "veto": flag_json(rubric, sheet.veto.as_ref()),
        "lowest_grade": flag_json(rubric, sheet.lowest_grade.as_ref()),
        "incomplete": incomplete,
        "history": history,
        "total_max": Points::to_string(&rubric.total),
    }))
}
