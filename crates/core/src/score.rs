//! `score(&Rubric, &Ledger) -> ScoreSheets`: the one computation of the system.
//!
//! For every unit of the roster: each rule's deduction with the records, scores or figures behind it;
//! section and category caps with what each cap absorbed; missing data listed as incomplete rather than
//! failing; the veto and lowest-grade flags with the record that set them; total (capped by the
//! rubric's `max_total` where it has one), grade band (等次) and why, converted (折算) score and rank
//! within the class. Deduct categories start at their maximum and lose points; earn (得分制) and bonus
//! categories start at zero and add them. All arithmetic is on integer hundredths; the assessed mean and the
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
    /// A metric step rule that applied: the value, the reference, how far past it (`excess`), the
    /// whole steps of `step` in that, the points each, and what the rule's own cap absorbed
    /// (`points` of the line = `each × steps − capped`).
    Steps {
        value: rust_decimal::Decimal,
        reference: rust_decimal::Decimal,
        excess: rust_decimal::Decimal,
        step: rust_decimal::Decimal,
        steps: u64,
        each: Points,
        capped: Points,
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
    /// Sum of the loose lines and the sections' capped deductions (additions for an earn or bonus
    /// category).
    pub raw: Points,
    /// `min(raw, max)`: the deduction that counts (what is earned or added, for an earn or bonus
    /// category).
    pub deducted: Points,
    pub absorbed: Points,
    /// `max − deducted` (for an earn or bonus category: `deducted`).
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

/// The grade band a unit is in, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GradeOf {
    /// Index into [`Rubric::grades`].
    pub band: usize,
    /// The veto or lowest-grade record that put the unit in the last band whatever its total;
    /// `None` when the total decided.
    pub forced: Option<Flag>,
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
    /// Σ category scores, before a veto and the rubric's `max_total`.
    pub subtotal: Points,
    /// What the rubric's `max_total` absorbed of the subtotal (zero without one).
    pub over_max: Points,
    /// The official total: `min(subtotal, max_total)`, or 0 under a veto.
    pub total: Points,
    /// The grade band (`None` where the rubric has no bands).
    pub grade: Option<GradeOf>,
    pub converted: Points,
    pub rank: u32,
    pub veto: Option<Flag>,
    pub lowest_grade: Option<Flag>,
    pub incomplete: Vec<Incomplete>,
}

impl CategorySheet {
    /// The points the category falls short of its maximum: deducted, or not earned (none for a
    /// bonus category).
    pub fn lost(&self) -> Points {
        match self.mode {
            CategoryMode::Bonus | CategoryMode::Flags => Points::ZERO,
            CategoryMode::Deduct | CategoryMode::Earn => self.max - self.score,
        }
    }
}

impl SectionSheet {
    /// The section's figures in one line, as its category's mode reads: "上限 5 · 扣分 6（超出上限
    /// 不计 1）· 计 5", or with 得分 / 加分 in an earn or bonus category.
    pub fn summary(&self, mode: CategoryMode) -> String {
        let over = if self.absorbed.hundredths() > 0 {
            format!("（超出上限不计 {}）", self.absorbed)
        } else {
            String::new()
        };
        let what = match mode {
            CategoryMode::Earn => "得分",
            CategoryMode::Bonus => "加分",
            CategoryMode::Deduct | CategoryMode::Flags => "扣分",
        };
        format!(
            "上限 {} · {what} {}{over} · 计 {}",
            self.max, self.raw, self.deducted
        )
    }
}

impl CategorySheet {
    /// The category's figures in one line, as its mode reads: "满分 30 · 扣分 12 · 得分 18",
    /// "得分制，满分 30 · 得分 24", "加分项，上限 5 · 加分 6（超出上限不计 1）· 计 5".
    pub fn summary(&self) -> String {
        let over = if self.absorbed.hundredths() > 0 {
            format!("（超出上限不计 {}）", self.absorbed)
        } else {
            String::new()
        };
        match self.mode {
            CategoryMode::Deduct | CategoryMode::Flags => format!(
                "满分 {} · 扣分 {}{over} · 得分 {}",
                self.max, self.raw, self.score
            ),
            CategoryMode::Earn => format!(
                "得分制，满分 {} · 各项得分合计 {}{over} · 得分 {}",
                self.max, self.raw, self.score
            ),
            CategoryMode::Bonus => format!(
                "加分项，上限 {} · 加分 {}{over} · 计 {}",
                self.max, self.raw, self.score
            ),
        }
    }
}

impl UnitSheet {
    /// The points lost over every category (before a veto, which is a flag, not a loss).
    pub fn lost(&self) -> Points {
        self.categories.iter().map(CategorySheet::lost).sum()
    }
}

impl Line {
    /// The arithmetic behind a computed line, in Chinese (督导组 scores, metric comparisons and
    /// steps); `None` for a line of records, which the records themselves explain. Pages and
    /// exports show this text; they compute nothing.
    pub fn working(&self, rubric: &Rubric) -> Option<String> {
        let rule = &rubric.rules[self.rule];
        let metric_name = |m: usize| {
            let m = &rubric.metrics[m];
            if m.name.is_empty() {
                m.code.clone()
            } else {
                m.name.clone()
            }
        };
        match (&self.detail, &rule.kind) {
            (LineDetail::Records { .. }, _) => None,
            (LineDetail::Assessed { mean, max, .. }, _) => Some(
                if rubric.categories[rule.category].mode == CategoryMode::Earn {
                    format!("督导组平均 {mean}（满分 {max}）：得 {}", self.points)
                } else {
                    format!(
                        "督导组平均 {mean}，满分 {max}：扣 {max} − {mean} = {}",
                        self.points
                    )
                },
            ),
            (
                LineDetail::Metric { value, reference },
                RuleKind::MetricBelow {
                    metric,
                    reference: r,
                    ..
                },
            ) => Some(format!(
                "{} {}，低于{} {}：扣 {}",
                metric_name(*metric),
                value.normalize(),
                metric_name(*r),
                reference.normalize(),
                self.points
            )),
            (LineDetail::Metric { value, reference }, _) => Some(format!(
                "本单位 {}，参照值 {}：扣 {}",
                value.normalize(),
                reference.normalize(),
                self.points
            )),
            (
                LineDetail::Steps {
                    value,
                    reference,
                    excess,
                    step,
                    steps,
                    each,
                    capped,
                },
                RuleKind::MetricStep {
                    metric,
                    reference: r,
                    direction,
                    max,
                    ..
                },
            ) => {
                let per = if *step == rust_decimal::Decimal::ONE {
                    String::new()
                } else {
                    format!(" {}", step.normalize())
                };
                let full = each.times(*steps);
                let cap = match max {
                    Some(m) if capped.hundredths() > 0 => {
                        format!("，本条最多扣 {m}，计 {}", self.points)
                    }
                    _ => String::new(),
                };
                Some(format!(
                    "{} {}，{} {}，{} {}；每{}{per}扣 {each}：{steps} × {each} = {full}{cap}",
                    metric_name(*metric),
                    value.normalize(),
                    metric_name(*r),
                    reference.normalize(),
                    direction.word(),
                    excess.normalize(),
                    direction.word(),
                ))
            }
            (LineDetail::Steps { steps, each, .. }, _) => {
                Some(format!("{steps} × {each} = {}", self.points))
            }
        }
    }
}

impl UnitSheet {
    /// Why the unit is in its grade band, in Chinese: "总分 98.50，达到优秀（≥ 90）", or the veto or
    /// lowest-grade clause that forced the last band. `None` where the rubric has no bands.
    pub fn grade_reason(&self, rubric: &Rubric) -> Option<String> {
        let g = self.grade?;
        let band = &rubric.grades[g.band];
        Some(match g.forced {
            Some(flag) => {
                let rule = &rubric.rules[flag.rule];
                format!(
                    "{}（条款 {}，记录 #{}），等次直接确定为{}",
                    rule.kind.label(),
                    rule.code,
                    flag.record,
                    band.name
                )
            }
            None if g.band + 1 == rubric.grades.len() && g.band > 0 => format!(
                "总分 {}，低于{}的下限 {}，为{}",
                self.total.to_fixed2(),
                rubric.grades[g.band - 1].name,
                rubric.grades[g.band - 1].min,
                band.name
            ),
            None => format!(
                "总分 {}，达到{}（≥ {}）",
                self.total.to_fixed2(),
                band.name,
                band.min
            ),
        })
    }

    /// The grade band's name, where the rubric has bands.
    pub fn grade_name<'r>(&self, rubric: &'r Rubric) -> Option<&'r str> {
        self.grade.map(|g| rubric.grades[g.band].name.as_str())
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

    /// How many units are in each grade band, in the rubric's order (empty without bands).
    pub fn grade_counts(&self, rubric: &Rubric) -> Vec<(String, usize)> {
        rubric.count_grades(self.sheets.iter().filter_map(|s| s.grade.map(|g| g.band)))
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

    /// Ranks within each class ([`competition_ranks`]); the sheets grouped by class in rubric
    /// order, by converted score descending, ties in roster order.
    pub fn rank(&mut self) {
        let sheets = &mut self.sheets;
        sheets.sort_by(|a, b| {
            a.class
                .cmp(&b.class)
                .then(b.converted.cmp(&a.converted))
                .then(a.unit.cmp(&b.unit))
        });
        let keys: Vec<(usize, Points)> = sheets.iter().map(|s| (s.class, s.converted)).collect();
        for (s, rank) in sheets.iter_mut().zip(competition_ranks(&keys)) {
            if s.rank != rank {
                Arc::make_mut(s).rank = rank;
            }
        }
    }
}

/// The rank of each (class, converted score) among those of its class: by converted score
/// descending, ties share a rank and the next rank skips (1, 2, 2, 4). The one ranking rule, for
/// a year, a part and a year made of parts.
pub fn competition_ranks(keys: &[(usize, Points)]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].0.cmp(&keys[b].0).then(keys[b].1.cmp(&keys[a].1)));
    let mut ranks = vec![0u32; keys.len()];
    let mut i = 0;
    while i < order.len() {
        let class = keys[order[i]].0;
        let (mut pos, mut rank, mut prev) = (0u32, 0u32, None);
        while i < order.len() && keys[order[i]].0 == class {
            pos += 1;
            if prev != Some(keys[order[i]].1) {
                rank = pos;
                prev = Some(keys[order[i]].1);
            }
            ranks[order[i]] = rank;
            i += 1;
        }
    }
    ranks
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
        let earns = rubric.categories[rule.category].mode == CategoryMode::Earn;
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
                    if earns { mean } else { *max - mean },
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
            RuleKind::MetricStep {
                points,
                metric: m,
                reference,
                direction,
                step,
                max,
            } => match (metric[*m], metric[*reference]) {
                (Some(v), Some(r)) => {
                    let excess = match direction {
                        crate::rubric::Direction::Above => v - r,
                        crate::rubric::Direction::Below => r - v,
                    };
                    if excess < *step {
                        return None;
                    }
                    let steps = (excess / *step)
                        .floor()
                        .to_string()
                        .parse::<u64>()
                        .unwrap_or(u64::MAX);
                    let full = points.times(steps);
                    let counted = max.map_or(full, |m| full.min(m));
                    (
                        counted,
                        LineDetail::Steps {
                            value: v,
                            reference: r,
                            excess,
                            step: *step,
                            steps,
                            each: *points,
                            capped: full - counted,
                        },
                    )
                }
                (value, refv) => {
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
            },
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
        let score = if cat.mode.adds() {
            deducted
        } else {
            cat.max - deducted
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
    let capped = rubric.max_total.map_or(subtotal, |m| subtotal.min(m));
    let total = if veto.is_some() { Points::ZERO } else { capped };
    let grade = match veto.or(lowest_grade) {
        _ if rubric.grades.is_empty() => None,
        Some(flag) => Some(GradeOf {
            band: rubric.grades.len() - 1,
            forced: Some(flag),
        }),
        None => rubric
            .grade_of_total(total)
            .map(|band| GradeOf { band, forced: None }),
    };
    let converted = convert(rubric, total, rubric.classes[unit.class].weight);
    UnitSheet {
        unit: index,
        name: unit.name.clone(),
        class: unit.class,
        categories,
        subtotal,
        over_max: subtotal - capped,
        total,
        grade,
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
