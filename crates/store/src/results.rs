//! Results read from a period's state: the sheets on a basis, now or as they stood on a date; a
//! unit's month-by-month trend; what-if (records added or left out, another rubric) without storing
//! anything; each unit's distance to the next rank; what is still incomplete. Every figure is the
//! core's; this module chooses which records count and arranges the answers. No SQL is written
//! here.

use std::collections::HashMap;
use std::sync::Arc;

use lvzhi_core::{
    Basis, LedgerBuilder, NewRecord, Points, RecordFields, Rubric, ScoreSheets, score,
};
use serde::Serialize;

use crate::clock::{day_of_text, month_ends};
use crate::state::{PeriodState, ledger_message, roster_of};
use crate::{Result, RowProblem, Store, StoreError};

/// One unit in a what-if: before, after, and its distance to the next rank.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WhatIfRow {
    pub unit: String,
    pub class: String,
    pub before_total: String,
    pub after_total: String,
    pub before_converted: String,
    pub after_converted: String,
    pub before_rank: u32,
    pub after_rank: u32,
    /// The grade band before and after (`null` where the rubric has no bands).
    pub before_grade: Option<String>,
    pub after_grade: Option<String>,
    /// Whether the total, converted score, rank or grade moves.
    pub changed: bool,
    /// Points the unit lacks to pass the unit ranked just above it (after the change); none for
    /// the first of its class.
    pub to_next_rank: Option<String>,
}

/// The outcome of a what-if: nothing was stored.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WhatIf {
    pub rubric: String,
    pub changed: usize,
    pub rows: Vec<WhatIfRow>,
}

/// One month's end of a unit's trend.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TrendPoint {
    /// The month's last day, `YYYY-MM-DD`.
    pub day: String,
    /// The month, 1 to 12.
    pub month: u8,
    pub total: String,
    pub rank: u32,
}

/// Points a unit lacks to pass the unit ranked just above it in its class.
pub fn to_next_rank(sheets: &ScoreSheets) -> HashMap<String, Option<Points>> {
    let mut out = HashMap::new();
    for (i, s) in sheets.sheets.iter().enumerate() {
        let above = sheets.sheets[..i]
            .iter()
            .rev()
            .find(|o| o.class == s.class && o.rank < s.rank);
        let gap = above
            .map(|o| o.total - s.total)
            .filter(|g| !g.is_negative() && *g != Points::ZERO);
        out.insert(s.name.clone(), gap);
    }
    out
}

/// The incomplete items of a result: "单位：条款 缺少…", in Chinese.
pub fn incomplete_items(state: &PeriodState, sheets: &ScoreSheets) -> Vec<String> {
    let rubric = &state.rubric;
    let mut out = Vec::new();
    for s in &sheets.sheets {
        for i in &s.incomplete {
            let rule = &rubric.rules[i.rule];
            let what = match &i.missing {
                lvzhi_core::score::Missing::Assessment => "缺少督导组打分".to_owned(),
                lvzhi_core::score::Missing::Metrics(ms) => format!(
                    "缺少指标「{}」",
                    ms.iter()
                        .map(|m| rubric.metrics[*m].name.clone())
                        .collect::<Vec<_>>()
                        .join("」「")
                ),
            };
            out.push(format!("{}：{} {what}", s.name, rule.code));
        }
    }
    out
}

impl Store {
    /// The official or provisional sheets, now or as they stood on a date (`YYYY-MM-DD`, Beijing
    /// time).
    pub async fn sheets(
        &self,
        year: i64,
        basis: Basis,
        as_of: Option<&str>,
    ) -> Result<(Arc<PeriodState>, Arc<ScoreSheets>)> {
        let state = self.state(year).await?;
        let sheets = match as_of {
            None => Arc::new(state.sheets_of(basis).clone()),
            Some(d) => {
                let day = day_of_text(d)
                    .ok_or_else(|| StoreError::invalid("as_of", "日期格式应为 YYYY-MM-DD"))?;
                Arc::new(state.sheets_on(basis, day)?)
            }
        };
        Ok((state, sheets))
    }

    /// A unit's provisional total and rank at the end of each month of the period's year. Each
    /// unit's months are computed once per version of that unit; ranks compare the class.
    pub async fn trend(&self, year: i64, unit: &str) -> Result<Vec<TrendPoint>> {
        let state = self.state(year).await?;
        let u = state.unit_index(unit).ok_or_else(|| {
            StoreError::NotFound(format!("{}名册中没有 {unit}", state.info.period_name()))
        })?;
        let class = state.roster().units()[u].class;
        let mine = state.months_of(u)?.to_vec();
        let mut others: Vec<Vec<(Points, Points)>> = Vec::new();
        for (o, x) in state.roster().units().iter().enumerate() {
            if o != u && x.class == class {
                others.push(state.months_of(o)?.to_vec());
            }
        }
        let ends = month_ends(state.rubric.year);
        Ok(mine
            .iter()
            .enumerate()
            .map(|(m, (total, converted))| {
                let higher = others.iter().filter(|o| o[m].1 > *converted).count();
                let date = lvzhi_core::Date::from_ordinal(
                    state.rubric.year,
                    (ends[m] - ends[0] + 31) as u16,
                );
                TrendPoint {
                    day: date.map(|d| d.to_string()).unwrap_or_default(),
                    month: m as u8 + 1,
                    total: total.to_fixed2(),
                    rank: higher as u32 + 1,
                }
            })
            .collect())
    }

    /// What the period's results would be with hypothetical records added, some records left out,
    /// and optionally another rubric: nothing is stored.
    pub async fn what_if(
        &self,
        year: i64,
        add: &[NewRecord],
        leave_out: &[i64],
        rubric_text: Option<&str>,
    ) -> Result<WhatIf> {
        let state = self.state(year).await?;
        let rubric = match rubric_text {
            Some(t) => Arc::new(
                Rubric::from_toml(t).map_err(|e| StoreError::invalid("rubric", e.to_string()))?,
            ),
            None => state.rubric.clone(),
        };
        for id in leave_out {
            if state.locate(*id).is_none() {
                return Err(StoreError::NotFound(format!(
                    "{}没有记录 #{id}",
                    state.info.period_name()
                )));
            }
        }
        // A set: the loop below visits every record of the period.
        let leave_out: std::collections::HashSet<i64> = leave_out.iter().copied().collect();
        let mut b = LedgerBuilder::new(&rubric, roster_of(&rubric, &state.units));
        let mut problems = Vec::new();
        let old = &state.rubric;
        for (u, r) in state.rows() {
            if !r.status.in_force() || leave_out.contains(&r.id) {
                continue;
            }
            // Through the texts, so that another rubric checks and places them by its own codes.
            let count = r.count.to_string();
            let points = Points::from_hundredths(i64::from(r.points)).to_string();
            let date = (r.day != 0)
                .then(|| lvzhi_core::Date::from_ordinal(old.year, r.day))
                .flatten()
                .map(|d| d.to_string())
                .unwrap_or_default();
            let entered = matches!(
                old.rules[usize::from(r.rule)].kind,
                lvzhi_core::RuleKind::Range { .. } | lvzhi_core::RuleKind::Graded { .. }
            );
            let f = RecordFields {
                unit: state.units[u].name.as_bytes(),
                rule: old.rules[usize::from(r.rule)].code.as_bytes(),
                count: count.as_bytes(),
                points: if entered { points.as_bytes() } else { b"" },
                date: date.as_bytes(),
            };
            if let Err(e) = b.add_record(r.id as u64, &f) {
                problems.push(RowProblem {
                    table: "records",
                    index: r.id as usize,
                    field: e.field.column().to_owned(),
                    message: format!("记录 #{}：{}", r.id, ledger_message(&e)),
                });
            }
        }
        let base = state.rows().map(|(_, r)| r.id).max().unwrap_or(0) as u64;
        for (i, r) in add.iter().enumerate() {
            if let Err(e) = b.add_record(base + 1 + i as u64, &r.fields()) {
                problems.push(RowProblem {
                    table: "records",
                    index: i,
                    field: e.field.column().to_owned(),
                    message: format!("假设记录第 {} 条：{}", i + 1, ledger_message(&e)),
                });
            }
        }
        for (i, a) in state.assessments().enumerate() {
            if let Err(e) = b.add_assessment(i as u64 + 1, &a.unit, &a.rule, &a.assessor, &a.score)
            {
                problems.push(RowProblem {
                    table: "assessments",
                    index: i,
                    field: e.field.column().to_owned(),
                    message: ledger_message(&e),
                });
            }
        }
        for (i, m) in state.metrics().enumerate() {
            if let Err(e) = b.add_metric(i as u64 + 1, &m.unit, &m.metric, &m.value) {
                problems.push(RowProblem {
                    table: "metrics",
                    index: i,
                    field: e.field.column().to_owned(),
                    message: ledger_message(&e),
                });
            }
        }
        if !problems.is_empty() {
            problems.truncate(RowProblem::KEEP);
            return Err(StoreError::Rows(problems));
        }
        let after = score(&rubric, &b.finish()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let gaps = to_next_rank(&after);
        let mut rows = Vec::new();
        let mut changed = 0;
        for s in &after.sheets {
            let Some(b) = state.sheets.by_name(&s.name) else {
                continue;
            };
            let before_grade = b.grade_name(&state.rubric).map(str::to_owned);
            let after_grade = s.grade_name(&rubric).map(str::to_owned);
            let moved = b.total != s.total
                || b.rank != s.rank
                || b.converted != s.converted
                || before_grade != after_grade;
            if moved {
                changed += 1;
            }
            rows.push(WhatIfRow {
                unit: s.name.clone(),
                class: rubric.classes[s.class].code.clone(),
                before_total: b.total.to_fixed2(),
                after_total: s.total.to_fixed2(),
                before_converted: b.converted.to_fixed2(),
                after_converted: s.converted.to_fixed2(),
                before_rank: b.rank,
                after_rank: s.rank,
                before_grade,
                after_grade,
                changed: moved,
                to_next_rank: gaps.get(&s.name).copied().flatten().map(Points::to_fixed2),
            });
        }
        Ok(WhatIf {
            rubric: rubric.id.clone(),
            changed,
            rows,
        })
    }

    /// Points each unit lacks to pass the unit ranked just above it (provisional result).
    pub async fn distances(&self, year: i64) -> Result<HashMap<String, Option<String>>> {
        let state = self.state(year).await?;
        Ok(to_next_rank(&state.sheets)
            .into_iter()
            .map(|(k, v)| (k, v.map(Points::to_fixed2)))
            .collect())
    }
}
