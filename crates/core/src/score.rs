//! `score(&Rubric, &Ledger) -> ScoreSheets`: the one computation of the system.
//!
//! For every unit of the roster: each rule's deduction with the records, scores or figures behind it;
//! section and category caps with what each cap absorbed; missing data listed as incomplete rather than
//! failing; the veto and lowest-grade flags with the record that set them; total, converted (折算)
//! score and rank within the class. All arithmetic is on integer hundredths; the assessed mean and the
//! conversion are the only roundings, half away from zero. The function is pure and cannot fail except
//! when handed a ledger built for another rubric.

use std::ops::Range;
use std::sync::Arc;

use crate::ledger::{Ledger, Unit, UnitBook};
use crate::points::{Points, div_half_up};
use crate::rubric::{CategoryMode, Rubric, RuleKind};

/// What a deduction line is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineDetail {
    /// Fixed, per-count, range and graded rules: the year's count, the points each (`None` where the
    /// records gave the points), how many records stand behind the line and the earliest one's id
    /// ([`Ledger::records_of`] lists them).
    Records {
        count: u64,
        each: Option<Points>,
        records: usize,
        first: u64,
    },
    /// An assessed rule: the scores (a range of the unit's [`UnitBook::assessments`]), their mean
    /// rounded half-up to 2 decimals, and the rule's max.
    Assessed {
        scores: Range<usize>,
        mean: Points,
        max: Points,
    },
    /// A metric comparison that applied: the unit's value and the reference it fell below.
    Metric {
        value: rust_decimal::Decimal,
        reference: rust_decimal::Decimal,
    },
}

/// One rule's contribution to a unit's category (a deduction, or an addition in a bonus category).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Index into [`Rubric::rules`].
    pub rule: usize,
    /// The points before any cap.
    pub points: Points,
    pub detail: LineDetail,
}

/// A section of a category, with its cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionSheet {
    /// Index into [`Rubric::sections`].
    pub section: usize,
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
    /// Index into [`Rubric::categories`].
    pub category: usize,
    pub mode: CategoryMode,
    pub max: Points,
    /// Sum of the loose lines and the sections' capped deductions (additions for a bonus category).
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
    /// These metrics (indices into [`Rubric::metrics`]) have no value.
    Metrics(Vec<usize>),
}

/// A rule left unscored for lack of data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// Index into [`Rubric::rules`].
    pub rule: usize,
    pub missing: Missing,
}

/// The record that raised a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    /// Index into [`Rubric::rules`].
    pub rule: usize,
    /// The record's id.
    pub record: u64,
}

/// One unit's explained score sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitSheet {
    /// Index in the ledger's roster.
    pub unit: usize,
    pub name: String,
    /// Index into [`Rubric::classes`].
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

impl CategorySheet {
    /// The points the category falls short of its maximum (none for a bonus category).
    pub fn lost(&self) -> Points {
        match self.mode {
            CategoryMode::Bonus | CategoryMode::Flags => Points::ZERO,
            CategoryMode::Deduct => self.max - self.score,
        }
    }
}

impl UnitSheet {
    /// The points lost over every category (before a veto, which is a flag, not a loss).
    pub fn lost(&self) -> Points {
        self.categories.iter().map(CategorySheet::lost).sum()
    }
}

/// Every unit's sheet, grouped by class in the rubric's order, each group in rank order (ties in
/// roster order). Sheets are shared (`Arc`) between versions: replacing one unit's sheet copies only
/// the sheets whose rank moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreSheets {
    pub sheets: Vec<Arc<UnitSheet>>,
}

impl ScoreSheets {
    /// The sheet of the unit at `unit` in the roster.
    pub fn of_unit(&self, unit: usize) -> Option<&UnitSheet> {
        self.sheets.iter().find(|s| s.unit == unit).map(|s| &**s)
    }

    /// The sheet of the unit named `name`.
    pub fn by_name(&self, name: &str) -> Option<&UnitSheet> {
        self.sheets.iter().find(|s| s.name == name).map(|s| &**s)
    }

    /// Puts a unit's new sheet in place of its old one and ranks again (ranks are per class, so
    /// only the sheets of its class can move).
    pub fn replace(&mut self, sheet: UnitSheet) {
        match self.sheets.iter().position(|s| s.unit == sheet.unit) {
            Some(i) => self.sheets[i] = Arc::new(sheet),
            None => self.sheets.push(Arc::new(sheet)),
        }
        self.rank();
    }

    /// Ranks within each class: by converted score descending, ties share a rank (1, 2, 2, 4);
    /// grouped by class in rubric order, ties in roster order.
    pub fn rank(&mut self) {
        let sheets = &mut self.sheets;
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
                if sheets[i].rank != rank {
                    Arc::make_mut(&mut sheets[i]).rank = rank;
                }
                i += 1;
            }
        }
    }
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
    len: usize,
    first: u64,
}

/// Scores every unit of the ledger's roster under the rubric.
pub fn score(rubric: &Rubric, ledger: &Ledger) -> Result<ScoreSheets, RubricMismatch> {
    check(rubric, ledger)?;
    let units = ledger.roster.units();
    let mut sheets = ScoreSheets {
        sheets: units
            .iter()
            .enumerate()
            .map(|(u, unit)| Arc::new(score_book(rubric, u, unit, &ledger.books[u])))
            .collect(),
    };
    sheets.rank();
    Ok(sheets)
}

/// Scores one unit of the ledger (its rank is left at 0: ranks come from
/// [`ScoreSheets::replace`] or [`ScoreSheets::rank`]).
pub fn score_unit(
    rubric: &Rubric,
    ledger: &Ledger,
    unit: usize,
) -> Result<UnitSheet, RubricMismatch> {
    check(rubric, ledger)?;
    let u = ledger
        .roster
        .units()
        .get(unit)
        .ok_or_else(|| RubricMismatch {
            ledger: ledger.rubric_id.clone(),
            rubric: rubric.id.clone(),
        })?;
    Ok(score_book(rubric, unit, u, &ledger.books[unit]))
}

fn check(rubric: &Rubric, ledger: &Ledger) -> Result<(), RubricMismatch> {
    if ledger.rubric_id != rubric.id || ledger.rule_count != rubric.rules.len() {
        return Err(RubricMismatch {
            ledger: ledger.rubric_id.clone(),
            rubric: rubric.id.clone(),
        });
    }
    Ok(())
}

/// The sheet of one unit (at `index` in its roster) from its book, which must have been built for
/// this rubric. Rank 0.
pub fn score_book(rubric: &Rubric, index: usize, unit: &Unit, book: &UnitBook) -> UnitSheet {
    let nrules = rubric.rules.len();
    // One pass over the unit's records.
    let mut acc = vec![Acc::default(); nrules];
    for r in book.records() {
        let a = &mut acc[r.rule as usize];
        if a.len == 0 || r.id < a.first {
            a.first = r.id;
        }
        a.len += 1;
        a.count += u64::from(r.count);
        a.points += i64::from(r.points);
    }
    // Scores are ordered by rule: one range per rule.
    let mut assessed: Vec<(usize, Range<usize>)> = Vec::new();
    for (i, a) in book.assessments().iter().enumerate() {
        match assessed.last_mut() {
            Some(last) if last.0 == a.rule as usize => last.1.end = i + 1,
            _ => assessed.push((a.rule as usize, i..i + 1)),
        }
    }
    let mut metric = vec![None; rubric.metrics.len()];
    for m in book.metrics() {
        metric[m.metric as usize] = Some(m.value);
    }

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
        let a = acc[ri];
        let (records, first) = (a.len, a.first);
        let (points, detail) = match &rule.kind {
            RuleKind::Fixed { points } if a.len > 0 => (
                *points,
                LineDetail::Records {
                    count: a.count,
                    each: Some(*points),
                    records,
                    first,
                },
            ),
            RuleKind::PerCount { points, .. } if a.len > 0 => (
                points.times(a.count),
                LineDetail::Records {
                    count: a.count,
                    each: Some(*points),
                    records,
                    first,
                },
            ),
            RuleKind::Range { .. } | RuleKind::Graded { .. } if a.len > 0 => (
                Points::from_hundredths(a.points),
                LineDetail::Records {
                    count: a.count,
                    each: None,
                    records,
                    first,
                },
            ),
            RuleKind::Assessed { max, .. } => {
                let Some((_, range)) = assessed.iter().find(|(r, _)| *r == ri) else {
                    incomplete.push(Incomplete {
                        rule: ri,
                        missing: Missing::Assessment,
                    });
                    return None;
                };
                let given = &book.assessments()[range.clone()];
                let sum: i64 = given.iter().map(|s| s.score.hundredths()).sum();
                let mean = Points::from_hundredths(
                    div_half_up(i128::from(sum), given.len() as i128) as i64,
                );
                (
                    *max - mean,
                    LineDetail::Assessed {
                        scores: range.clone(),
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
                let value = metric[*m];
                let refv = metric[*reference];
                match (value, refv) {
                    (Some(v), Some(r)) if v < r => (
                        *points,
                        LineDetail::Metric {
                            value: v,
                            reference: r,
                        },
                    ),
                    (Some(_), Some(_)) => return None,
                    _ => {
                        let mut missing = Vec::new();
                        if value.is_none() {
                            missing.push(*m);
                        }
                        if refv.is_none() {
                            missing.push(*reference);
                        }
                        incomplete.push(Incomplete {
                            rule: ri,
                            missing: Missing::Metrics(missing),
                        });
                        return None;
                    }
                }
            }
            RuleKind::Veto if a.len > 0 => {
                let flag = Flag {
                    rule: ri,
                    record: a.first,
                };
                veto.get_or_insert(flag);
                lowest_grade.get_or_insert(flag);
                return None;
            }
            RuleKind::LowestGrade if a.len > 0 => {
                lowest_grade.get_or_insert(Flag {
                    rule: ri,
                    record: a.first,
                });
                return None;
            }
            _ => return None,
        };
        Some(Line {
            rule: ri,
            points,
            detail,
        })
    };

    let mut categories = Vec::with_capacity(rubric.categories.len());
    let mut subtotal = Points::ZERO;
    for (ci, cat) in rubric.categories.iter().enumerate() {
        let mut sections = Vec::with_capacity(cat.sections.len());
        let mut raw = Points::ZERO;
        for &si in &cat.sections {
            let sec = &rubric.sections[si];
            let lines: Vec<Line> = sec.rules.iter().filter_map(|&r| line_of(r)).collect();
            let sraw: Points = lines.iter().map(|l| l.points).sum();
            let deducted = sraw.min(sec.max);
            raw += deducted;
            sections.push(SectionSheet {
                section: si,
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
            category: ci,
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
    let converted = convert(rubric, total, rubric.classes[unit.class].weight);
    UnitSheet {
        unit: index,
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
    }
}

/// The mean of the points the units of `class` lost in category `category` (index into
/// [`Rubric::categories`]), rounded half away from zero to hundredths; zero for an empty class.
pub fn mean_lost(sheets: &ScoreSheets, class: usize, category: usize) -> Points {
    let lost: Vec<Points> = sheets
        .sheets
        .iter()
        .filter(|s| s.class == class)
        .map(|s| {
            s.categories
                .iter()
                .find(|c| c.category == category)
                .map_or(Points::ZERO, CategorySheet::lost)
        })
        .collect();
    if lost.is_empty() {
        return Points::ZERO;
    }
    let sum: i64 = lost.iter().map(|p| p.hundredths()).sum();
    Points::from_hundredths(div_half_up(i128::from(sum), lost.len() as i128) as i64)
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
