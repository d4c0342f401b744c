//! `score(&Rubric, &Ledger) -> ScoreSheets`: the one computation of the system.
//!
//! For every unit of the roster: each rule's deduction with the records, scores or figures behind it;
//! section and category caps with what each cap absorbed; missing data listed as incomplete rather than
//! failing; the veto and lowest-grade flags with the record that set them; total, converted (折算)
//! score and rank within the class. All arithmetic is on integer hundredths; the assessed mean and the
//! conversion are the only roundings, half away from zero. The function is pure and cannot fail except
//! when handed a ledger built for another rubric.

use crate::ledger::Ledger;
use crate::points::{Points, div_half_up};
use crate::rubric::{CategoryMode, Rubric, RuleKind};

/// What a deduction line is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineDetail {
    /// Fixed, per-count, range and graded rules: the records, their total count, the points each.
    Records {
        count: u64,
        /// Points per instance for fixed and per-count rules; `None` where the record gave the points.
        each: Option<Points>,
        records: Vec<u64>,
    },
    /// An assessed rule: the assessors' scores, their mean (rounded half-up to 2 decimals) and max.
    Assessed {
        scores: Vec<(String, Points, u64)>,
        mean: Points,
        max: Points,
    },
    /// A metric comparison that applied.
    Metric { value: String, reference: String },
}

/// One rule's contribution to a unit's category (a deduction, or an addition in a bonus category).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub rule: usize,
    pub code: String,
    /// The points before any cap.
    pub points: Points,
    pub detail: LineDetail,
}

/// A section of a category, with its cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionSheet {
    pub code: String,
    pub max: Points,
    /// Sum of the lines.
    pub raw: Points,
    /// `min(raw, max)`.
    pub deducted: Points,
    /// What the cap absorbed: `raw − deducted`.
    pub absorbed: Points,
    pub score: Points,
    pub lines: Vec<Line>,
}

/// A category of a unit's sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategorySheet {
    pub code: String,
    pub mode: CategoryMode,
    pub max: Points,
    /// Sum of the lines and the sections' capped deductions (additions for a bonus category).
    pub raw: Points,
    /// `min(raw, max)`: the deduction that counts (the addition, for a bonus category).
    pub deducted: Points,
    pub absorbed: Points,
    /// `max − deducted` (for a bonus category: `deducted`).
    pub score: Points,
    pub sections: Vec<SectionSheet>,
    pub lines: Vec<Line>,
}

/// Why a rule could not be scored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    /// No assessor has scored the unit.
    Assessment,
    /// These metric values are missing (codes).
    Metrics(Vec<String>),
}

/// A rule left unscored for lack of data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    pub rule: usize,
    pub code: String,
    pub missing: Missing,
}

/// The record that raised a flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    pub rule: String,
    pub record: u64,
}

/// One unit's explained score sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitSheet {
    /// Index in the roster.
    pub unit: usize,
    pub name: String,
    pub class: usize,
    pub categories: Vec<CategorySheet>,
    /// Σ category scores, before a veto.
    pub subtotal: Points,
    /// The official total: the subtotal, or 0 under a veto.
    pub total: Points,
    pub converted: Points,
    pub rank: u32,
    pub veto: Option<Flag>,
    pub lowest_grade: Option<Flag>,
    pub incomplete: Vec<Incomplete>,
}

/// Every unit's sheet, grouped by class in the rubric's order, each group in rank order (ties in
/// roster order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreSheets {
    pub sheets: Vec<UnitSheet>,
}

/// The ledger was built for another rubric.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("账册属于细则 `{ledger}`，不能按细则 `{rubric}` 计分")]
pub struct RubricMismatch {
    pub ledger: String,
    pub rubric: String,
}

/// Per unit and rule: what the records add up to.
#[derive(Clone, Copy, Default)]
struct Acc {
    count: u64,
    points: i64,
    records: u32,
    first: u64,
}

/// Scores every unit of the ledger's roster under the rubric.
pub fn score(rubric: &Rubric, ledger: &Ledger) -> Result<ScoreSheets, RubricMismatch> {
    if ledger.rubric_id != rubric.id || ledger.rule_count != rubric.rules.len() {
        return Err(RubricMismatch {
            ledger: ledger.rubric_id.clone(),
            rubric: rubric.id.clone(),
        });
    }
    let nrules = rubric.rules.len();
    let units = ledger.roster.units();
    let mut acc = vec![Acc::default(); units.len() * nrules];
    for r in &ledger.records {
        let a = &mut acc[r.unit as usize * nrules + r.rule as usize];
        a.count += u64::from(r.count);
        a.points += i64::from(r.points);
        if a.records == 0 {
            a.first = r.id;
        }
        a.records += 1;
    }
    // The records behind each line, in ledger order, without an allocation per record.
    let mut ids: Vec<Vec<u64>> = Vec::new();
    let mut slot = vec![u32::MAX; acc.len()];
    for (i, a) in acc.iter().enumerate() {
        if a.records > 0 {
            slot[i] = ids.len() as u32;
            ids.push(Vec::with_capacity(a.records as usize));
        }
    }
    for r in &ledger.records {
        let s = slot[r.unit as usize * nrules + r.rule as usize];
        ids[s as usize].push(r.id);
    }

    // Assessments per unit and rule, in ledger order.
    let mut scores: Vec<Vec<(String, Points, u64)>> = vec![Vec::new(); units.len() * nrules];
    for a in &ledger.assessments {
        scores[a.unit as usize * nrules + a.rule as usize].push((
            ledger.assessor_name(a.assessor).to_owned(),
            a.score,
            a.id,
        ));
    }
    let nmetrics = rubric.metrics.len();
    let mut metric = vec![None; units.len() * nmetrics];
    for m in &ledger.metrics {
        metric[m.unit as usize * nmetrics + m.metric as usize] = Some(m.value);
    }

    let mut sheets = Vec::with_capacity(units.len());
    for (u, unit) in units.iter().enumerate() {
        let mut veto = None;
        let mut lowest_grade = None;
        let mut incomplete = Vec::new();
        let mut line_of = |ri: usize| -> Option<Line> {
            let rule = &rubric.rules[ri];
            if let Some(tag) = &rule.applies_to
                && !unit.tags.iter().any(|t| t == tag)
            {
                return None;
            }
            let cell = u * nrules + ri;
            let a = acc[cell];
            let mut records = || {
                let s = slot[cell];
                if s == u32::MAX {
                    Vec::new()
                } else {
                    std::mem::take(&mut ids[s as usize])
                }
            };
            let (points, detail) = match &rule.kind {
                RuleKind::Fixed { points } if a.records > 0 => (
                    *points,
                    LineDetail::Records {
                        count: a.count,
                        each: Some(*points),
                        records: records(),
                    },
                ),
                RuleKind::PerCount { points, .. } if a.records > 0 => (
                    points.times(a.count),
                    LineDetail::Records {
                        count: a.count,
                        each: Some(*points),
                        records: records(),
                    },
                ),
                RuleKind::Range { .. } | RuleKind::Graded { .. } if a.records > 0 => (
                    Points::from_hundredths(a.points),
                    LineDetail::Records {
                        count: a.count,
                        each: None,
                        records: records(),
                    },
                ),
                RuleKind::Assessed { max, .. } => {
                    let given = std::mem::take(&mut scores[cell]);
                    if given.is_empty() {
                        incomplete.push(Incomplete {
                            rule: ri,
                            code: rule.code.clone(),
                            missing: Missing::Assessment,
                        });
                        return None;
                    }
                    let sum: i64 = given.iter().map(|s| s.1.hundredths()).sum();
                    let mean = Points::from_hundredths(div_half_up(
                        i128::from(sum),
                        given.len() as i128,
                    ) as i64);
                    (
                        *max - mean,
                        LineDetail::Assessed {
                            scores: given,
                            mean,
                            max: *max,
                        },
                    )
                }
                RuleKind::MetricBelow {
                    points,
                    metric: m,
                    reference,
                } => {
                    let value = metric[u * nmetrics + m];
                    let refv = metric[u * nmetrics + reference];
                    match (value, refv) {
                        (Some(v), Some(r)) if v < r => (
                            *points,
                            LineDetail::Metric {
                                value: v.to_string(),
                                reference: r.to_string(),
                            },
                        ),
                        (Some(_), Some(_)) => return None,
                        _ => {
                            let mut names = Vec::new();
                            if value.is_none() {
                                names.push(rubric.metrics[*m].code.clone());
                            }
                            if refv.is_none() {
                                names.push(rubric.metrics[*reference].code.clone());
                            }
                            incomplete.push(Incomplete {
                                rule: ri,
                                code: rule.code.clone(),
                                missing: Missing::Metrics(names),
                            });
                            return None;
                        }
                    }
                }
                RuleKind::Veto if a.records > 0 => {
                    let flag = Flag {
                        rule: rule.code.clone(),
                        record: a.first,
                    };
                    veto.get_or_insert(flag.clone());
                    lowest_grade.get_or_insert(flag);
                    return None;
                }
                RuleKind::LowestGrade if a.records > 0 => {
                    lowest_grade.get_or_insert(Flag {
                        rule: rule.code.clone(),
                        record: a.first,
                    });
                    return None;
                }
                _ => return None,
            };
            Some(Line {
                rule: ri,
                code: rule.code.clone(),
                points,
                detail,
            })
        };

        let mut categories = Vec::new();
        let mut subtotal = Points::ZERO;
        for cat in &rubric.categories {
            let mut sections = Vec::new();
            let mut raw = Points::ZERO;
            for &si in &cat.sections {
                let sec = &rubric.sections[si];
                let lines: Vec<Line> = sec.rules.iter().filter_map(|&r| line_of(r)).collect();
                let sraw: Points = lines.iter().map(|l| l.points).sum();
                let deducted = sraw.min(sec.max);
                raw += deducted;
                sections.push(SectionSheet {
                    code: sec.code.clone(),
                    max: sec.max,
                    raw: sraw,
                    deducted,
                    absorbed: sraw - deducted,
                    score: sec.max - deducted,
                    lines,
                });
            }
            let lines: Vec<Line> = cat.rules.iter().filter_map(|&r| line_of(r)).collect();
            raw += lines.iter().map(|l| l.points).sum();
            if cat.mode == CategoryMode::Flags {
                continue;
            }
            let deducted = raw.min(cat.max);
            let score = match cat.mode {
                CategoryMode::Bonus => deducted,
                _ => cat.max - deducted,
            };
            subtotal += score;
            categories.push(CategorySheet {
                code: cat.code.clone(),
                mode: cat.mode,
                max: cat.max,
                raw,
                deducted,
                absorbed: raw - deducted,
                score,
                sections,
                lines,
            });
        }
        incomplete.sort_by_key(|i| i.rule);
        let total = if veto.is_some() {
            Points::ZERO
        } else {
            subtotal
        };
        let weight = rubric.classes[unit.class].weight;
        let converted = convert(rubric, total, weight);
        sheets.push(UnitSheet {
            unit: u,
            name: unit.name.clone(),
            class: unit.class,
            categories,
            subtotal,
            total,
            converted,
            rank: 0,
            veto,
            lowest_grade,
            incomplete,
        });
    }

    // Rank within each class: by converted score descending, ties share a rank (1, 2, 2, 4);
    // output grouped by class in rubric order, ties in roster order.
    sheets.sort_by(|a, b| {
        a.class
            .cmp(&b.class)
            .then(b.converted.cmp(&a.converted))
            .then(a.unit.cmp(&b.unit))
    });
    let mut i = 0;
    while i < sheets.len() {
        let class = sheets[i].class;
        let mut pos = 0u32;
        let mut rank = 0u32;
        let mut prev = None;
        while i < sheets.len() && sheets[i].class == class {
            pos += 1;
            if prev != Some(sheets[i].converted) {
                rank = pos;
                prev = Some(sheets[i].converted);
            }
            sheets[i].rank = rank;
            i += 1;
        }
    }
    Ok(ScoreSheets { sheets })
}

/// total × weight ÷ divisor, rounded half-up to the rubric's decimals.
pub fn convert(rubric: &Rubric, total: Points, weight: Points) -> Points {
    let c = rubric.conversion;
    // In hundredths: t × w ÷ d; then to the kept decimals.
    let step = 10i128.pow(2 - c.decimals);
    let n = i128::from(total.hundredths()) * i128::from(weight.hundredths());
    let d = i128::from(c.divisor.hundredths()) * step;
    Points::from_hundredths((div_half_up(n, d) * step) as i64)
}
