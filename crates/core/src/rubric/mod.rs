//! The rubric (细则) as validated data, and its TOML file format.
//!
//! A rubric is one year's rules: categories with maxima, optional sections with their own caps, rules of
//! a handful of kinds, member classes with their conversion weights, the metrics that `metric_below`
//! and `metric_step` rules compare, the grade bands (等次) and the default roster. Categories deduct
//! (the 2022 form), earn (得分制), add a bonus (加分项) or carry flags only (`rubric-kinds.md`). [`Rubric::from_toml`] parses a file's text and checks every
//! constraint (caps add up, codes unique, references exist, at most two decimals) and reports each
//! problem with its line and key, all of them at once. After that the types only hold valid rubrics.
//! This module does no IO: the caller reads the file.

use std::collections::HashMap;
use std::fmt;

use crate::points::Points;

mod load;

/// A category's role in the total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryMode {
    /// Starts at its maximum; deductions lower it, never below zero.
    Deduct,
    /// 得分制: starts at zero; its rules add points, capped at its maximum, which counts towards the
    /// total. A missing record means the work was not done: nothing earned.
    Earn,
    /// 加分项: starts at zero; its rules add points, capped at its maximum.
    Bonus,
    /// Carries no points: veto and lowest-grade events only (减分项 of 2022).
    Flags,
}

impl CategoryMode {
    /// The mode's name as written in rubric files.
    pub fn name(self) -> &'static str {
        match self {
            CategoryMode::Deduct => "deduct",
            CategoryMode::Earn => "earn",
            CategoryMode::Bonus => "bonus",
            CategoryMode::Flags => "flags",
        }
    }

    /// The mode's name for people.
    pub fn label(self) -> &'static str {
        match self {
            CategoryMode::Deduct => "扣分制",
            CategoryMode::Earn => "得分制",
            CategoryMode::Bonus => "加分项",
            CategoryMode::Flags => "否决与等次",
        }
    }

    /// The verb of a rule's points in this mode: 扣, 得 or 加.
    pub fn verb(self) -> &'static str {
        match self {
            CategoryMode::Deduct | CategoryMode::Flags => "扣",
            CategoryMode::Earn => "得",
            CategoryMode::Bonus => "加",
        }
    }

    /// Whether the category's maximum counts towards the rubric's total.
    pub fn counts_towards_total(self) -> bool {
        matches!(self, CategoryMode::Deduct | CategoryMode::Earn)
    }

    /// Whether the category starts at zero and its rules add points (earn, bonus).
    pub fn adds(self) -> bool {
        matches!(self, CategoryMode::Earn | CategoryMode::Bonus)
    }
}

/// Which side of the reference costs points in a `metric_step` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The metric exceeding the reference costs (比上年每多一起).
    Above,
    /// The metric falling short of the reference costs.
    Below,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Above => "above",
            Direction::Below => "below",
        }
    }

    /// 多 or 少, as documents say it.
    pub fn word(self) -> &'static str {
        match self {
            Direction::Above => "多",
            Direction::Below => "少",
        }
    }
}

/// One grade band (等次): a unit whose total reaches `min` (and no higher band's) is in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grade {
    pub name: String,
    pub min: Points,
}

/// What one rule means and how it turns into points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// The failing happened, once a year: the rule's points.
    Fixed { points: Points },
    /// `count` instances: count × points; `max_count` bounds the year's total count.
    PerCount {
        points: Points,
        max_count: Option<u32>,
    },
    /// A discretionary judgement within `[min, max]`, once a year.
    Range { min: Points, max: Points },
    /// One clause with several severity levels: a record picks one level by its points, once a year.
    Graded { levels: Vec<Level> },
    /// A score out of `max` from each assessor (督导组); deduction = max − mean.
    Assessed { max: Points, assessors: Option<u32> },
    /// Computed: the unit's `metric` below its `reference` costs `points`.
    MetricBelow {
        points: Points,
        metric: usize,
        reference: usize,
    },
    /// Computed: each whole `step` by which the unit's `metric` exceeds (`Above`) or falls short of
    /// (`Below`) its `reference` costs `points`, capped at `max` where given.
    MetricStep {
        points: Points,
        metric: usize,
        reference: usize,
        direction: Direction,
        step: rust_decimal::Decimal,
        max: Option<Points>,
    },
    /// 一票否决: the total is forced to zero; also sets the lowest grade.
    Veto,
    /// 最低等次: a flag for the annual comprehensive assessment, no points.
    LowestGrade,
}

/// One severity level of a graded rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    pub points: Points,
    pub text: String,
}

impl RuleKind {
    /// The kind's name as written in rubric files.
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Fixed { .. } => "fixed",
            RuleKind::PerCount { .. } => "per_count",
            RuleKind::Range { .. } => "range",
            RuleKind::Graded { .. } => "graded",
            RuleKind::Assessed { .. } => "assessed",
            RuleKind::MetricBelow { .. } => "metric_below",
            RuleKind::MetricStep { .. } => "metric_step",
            RuleKind::Veto => "veto",
            RuleKind::LowestGrade => "lowest_grade",
        }
    }

    /// How the rule turns into points, in words (for pages and diffs), in a category of `mode`
    /// (扣, 得 or 加). [`Rubric::terms`] gives it for a rule of the rubric.
    pub fn terms_in(&self, mode: CategoryMode) -> String {
        let v = mode.verb();
        match self {
            RuleKind::Fixed { points } => format!("{v} {points} 分（每年一次）"),
            RuleKind::PerCount { points, max_count } => match max_count {
                Some(m) => format!("每次{v} {points} 分，全年至多 {m} 次"),
                None => format!("每次{v} {points} 分"),
            },
            RuleKind::Range { min, max } => format!("{v} {min}–{max} 分（每年一次）"),
            RuleKind::Graded { levels } => levels
                .iter()
                .map(|l| format!("{}：{v} {} 分", l.text, l.points))
                .collect::<Vec<_>>()
                .join("；"),
            RuleKind::Assessed { max, assessors } => {
                let how = if mode == CategoryMode::Deduct {
                    "扣 满分−平均分"
                } else {
                    "得 平均分"
                };
                match assessors {
                    Some(n) => format!("{n} 个督导组打分，满分 {max}，{how}"),
                    None => format!("督导组打分，满分 {max}，{how}"),
                }
            }
            RuleKind::MetricBelow { points, .. } => format!("低于参照值{v} {points} 分"),
            RuleKind::MetricStep {
                points,
                direction,
                step,
                max,
                ..
            } => {
                let cap = max.map_or_else(String::new, |m| format!("，最多{v} {m} 分"));
                let side = match direction {
                    Direction::Above => "超过",
                    Direction::Below => "低于",
                };
                format!(
                    "{side}参照值的部分每 {} {v} {points} 分{cap}",
                    step.normalize()
                )
            }
            RuleKind::Veto => "一票否决：总分记 0，并按最低等次处理".into(),
            RuleKind::LowestGrade => "年度综合考核按最低等次处理（不扣分）".into(),
        }
    }

    /// The kind's name for people, in a category of `mode`.
    pub fn label_in(&self, mode: CategoryMode) -> &'static str {
        if mode.adds() {
            return match self {
                RuleKind::Fixed { .. } => "定额得分",
                RuleKind::PerCount { .. } => "按次得分",
                RuleKind::Range { .. } => "区间得分",
                RuleKind::Graded { .. } => "分档得分",
                _ => self.label(),
            };
        }
        self.label()
    }

    /// Every kind: its name in rubric files and its label for people, in the order a form offers
    /// them.
    pub const KINDS: [(&'static str, &'static str); 9] = [
        ("fixed", "定额扣分"),
        ("per_count", "按次扣分"),
        ("range", "区间扣分"),
        ("graded", "分档扣分"),
        ("assessed", "督导组打分"),
        ("metric_below", "指标比较"),
        ("metric_step", "指标逐级扣分"),
        ("veto", "一票否决"),
        ("lowest_grade", "最低等次"),
    ];

    pub fn label(&self) -> &'static str {
        let name = self.name();
        Self::KINDS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(name, |(_, label)| label)
    }

    /// Whether a unit can have at most one record of this rule a year.
    pub fn once_a_year(&self) -> bool {
        matches!(
            self,
            RuleKind::Fixed { .. }
                | RuleKind::Range { .. }
                | RuleKind::Graded { .. }
                | RuleKind::Veto
                | RuleKind::LowestGrade
        )
    }

    /// The most instances a unit may have of this rule in a year, where the rubric bounds it.
    pub fn max_count(&self) -> Option<u32> {
        match self {
            RuleKind::PerCount { max_count, .. } => *max_count,
            _ => None,
        }
    }

    /// Whether records of this rule are entered in the ledger (not scored by assessors or computed).
    /// Whether a record of this kind carries a count people entered (按次); for the others the
    /// count is always 1 and nobody wrote it.
    pub fn takes_count(&self) -> bool {
        matches!(self, RuleKind::PerCount { .. })
    }

    /// What a row of a records file fills in for a rule of this kind; `points` is the name of the
    /// file's points column (数量 is the count column's).
    pub fn fill_in(&self, points: &str) -> String {
        match self {
            RuleKind::PerCount { .. } => format!("填“数量”（次数），“{points}”不填"),
            RuleKind::Range { min, max } => format!("填“{points}”（{min}–{max} 分），“数量”不填"),
            RuleKind::Graded { levels } => format!(
                "填“{points}”（{}），“数量”不填",
                levels
                    .iter()
                    .map(|l| l.points.to_string())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            _ => format!("“数量”“{points}”均不填"),
        }
    }

    pub fn is_recorded(&self) -> bool {
        !matches!(
            self,
            RuleKind::Assessed { .. } | RuleKind::MetricBelow { .. } | RuleKind::MetricStep { .. }
        )
    }
}

/// One clause of the rubric.
#[derive(Clone, Debug)]
pub struct Rule {
    pub code: String,
    pub kind: RuleKind,
    /// The short clause, as in the rules table.
    pub text: String,
    /// The full original sentence of the document.
    pub source: String,
    /// Only units carrying this tag are bound by the rule.
    pub applies_to: Option<String>,
    /// Rules that may not be recorded together with this one for a unit in a year (symmetric).
    pub excludes: Vec<usize>,
    pub category: usize,
    pub section: Option<usize>,
    /// For a veto in a rubric with parts: `true` when it reaches the whole year (`scope = "year"`,
    /// "全年实行一票否决"), `false` when it reaches only its part (the default).
    pub year_scope: bool,
}

/// A part of the year (a quarter, a half) that a rubric assesses on its own; the year's result is
/// the weighted mean of the parts' totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub code: String,
    pub name: String,
    /// First and last day, inclusive, as (month, day) in the period's year.
    pub from: (u8, u8),
    pub to: (u8, u8),
    /// Greater than zero.
    pub weight: Points,
}

impl Part {
    /// Whether a day of the year (1-based ordinal) lies in the part, in `year`.
    pub fn contains(&self, year: i32, ordinal: u16) -> bool {
        let day = |(m, d): (u8, u8)| {
            crate::ledger::Date::new(year, m, d).map(crate::ledger::Date::ordinal)
        };
        match (day(self.from), day(self.to)) {
            (Some(a), Some(b)) => (a..=b).contains(&ordinal),
            _ => false,
        }
    }

    /// "01-01 至 03-31".
    pub fn dates_text(&self) -> String {
        format!(
            "{:02}-{:02} 至 {:02}-{:02}",
            self.from.0, self.from.1, self.to.0, self.to.1
        )
    }
}

/// A category (方面) of the rubric.
#[derive(Clone, Debug)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub max: Points,
    pub mode: CategoryMode,
    pub source: String,
    /// Indices into [`Rubric::sections`].
    pub sections: Vec<usize>,
    /// Indices into [`Rubric::rules`] of the rules outside any section.
    pub rules: Vec<usize>,
}

/// A section of a category with its own cap (3.1–3.4 in 2022).
#[derive(Clone, Debug)]
pub struct Section {
    pub code: String,
    pub name: String,
    pub max: Points,
    pub category: usize,
    pub rules: Vec<usize>,
}

/// A member class (A类, B类) and its weight in the conversion.
#[derive(Clone, Debug)]
pub struct Class {
    pub code: String,
    pub name: String,
    pub weight: Points,
}

/// A per-unit figure that `metric_below` rules compare.
#[derive(Clone, Debug)]
pub struct Metric {
    pub code: String,
    pub name: String,
}

/// A member unit of the default roster.
#[derive(Clone, Debug)]
pub struct RosterEntry {
    pub name: String,
    pub class: usize,
    pub tags: Vec<String>,
}

/// How a total becomes the converted (折算) score.
#[derive(Clone, Copy, Debug)]
pub struct Conversion {
    /// Converted = total × class weight ÷ divisor.
    pub divisor: Points,
    /// Decimals kept, rounding half away from zero (四舍五入). 0, 1 or 2.
    pub decimals: u32,
}

/// A validated rubric.
#[derive(Clone, Debug)]
pub struct Rubric {
    pub id: String,
    pub year: i32,
    pub title: String,
    pub issuer: String,
    /// The kind of assessment (`[rubric] kind`), where the file names one: offices running one
    /// kind are compared side by side even under different rubrics.
    pub kind: Option<String>,
    pub total: Points,
    /// Caps the total after the bonus (总分最高不超过), where the document says so.
    pub max_total: Option<Points>,
    /// The grade bands, highest first; empty where the rubric has none.
    pub grades: Vec<Grade>,
    pub conversion: Conversion,
    pub classes: Vec<Class>,
    pub metrics: Vec<Metric>,
    pub categories: Vec<Category>,
    pub sections: Vec<Section>,
    pub rules: Vec<Rule>,
    pub roster: Vec<RosterEntry>,
    /// The parts of the year (`[[parts]]`), in the file's order; empty for a whole-year rubric.
    pub parts: Vec<Part>,
    /// The part this rubric is scoped to ([`Rubric::for_part`]): a part period's records must be
    /// dated within it. `None` for the whole year.
    active_part: Option<usize>,
    /// What a draft (from `rubric import`) still waits on a person for: each `review` key and each
    /// `[[unclassified]]` clause, with its line. A rubric with any of these loads (so that it can be
    /// shown and edited) but is not final: `rubric check` refuses it, and no period opens on it.
    pub review: Vec<RubricError>,
    rule_index: HashMap<String, usize>,
}

/// One problem in a rubric file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RubricError {
    /// 1-based line in the file, 0 when the problem concerns the file as a whole.
    pub line: usize,
    /// The key, as a path: `categories[2].rules[0].points`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for RubricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "键 `{}`：{}", self.key, self.message)
        } else {
            write!(
                f,
                "第 {} 行，键 `{}`：{}",
                self.line, self.key, self.message
            )
        }
    }
}

/// All the problems of a rubric file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RubricErrors(pub Vec<RubricError>);

impl fmt::Display for RubricErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl Rubric {
    /// Looks a rule up by its code.
    pub fn rule_by_code(&self, code: &str) -> Option<usize> {
        self.rule_index.get(code).copied()
    }

    pub fn class_by_code(&self, code: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.code == code)
    }

    /// The rubric as a part of its year scores it: the same rules, records dated within the part
    /// only. `None` for an unknown part code.
    pub fn for_part(&self, code: &str) -> Option<Rubric> {
        let p = self.parts.iter().position(|p| p.code == code.trim())?;
        let mut r = self.clone();
        r.active_part = Some(p);
        Some(r)
    }

    /// Each grade band's name and how many of `bands` (indices into [`Rubric::grades`]) fall in
    /// it, in the bands' order.
    pub fn count_grades(&self, bands: impl IntoIterator<Item = usize>) -> Vec<(String, usize)> {
        let mut counts = vec![0usize; self.grades.len()];
        for b in bands {
            if let Some(c) = counts.get_mut(b) {
                *c += 1;
            }
        }
        self.grades
            .iter()
            .zip(counts)
            .map(|(g, n)| (g.name.clone(), n))
            .collect()
    }

    /// The part this rubric is scoped to, if any.
    pub fn part(&self) -> Option<&Part> {
        self.active_part.map(|p| &self.parts[p])
    }

    pub fn metric_by_code(&self, code: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m.code == code)
    }

    /// The code a metric is kept under, whether `text` names it by code or by name (`text`
    /// trimmed when it names none: the caller's check refuses it).
    pub fn metric_code<'a>(&'a self, text: &'a str) -> &'a str {
        self.metric_of(text)
            .map_or(text.trim(), |m| self.metrics[m].code.as_str())
    }

    /// A metric as a data file or a form names it: by its code, or by its Chinese name (names are
    /// unique, the loader sees to it), so that an office's file with 指标 "年度隐患总录入数" reads.
    pub fn metric_of(&self, text: &str) -> Option<usize> {
        let text = text.trim();
        self.metric_by_code(text).or_else(|| {
            self.metrics
                .iter()
                .position(|m| !m.name.is_empty() && m.name.trim() == text)
        })
    }

    /// What one record of rule `rule` carries: the points it was given (range, graded), or what the
    /// rule gives for its count; `None` for the flags (veto, lowest grade) and unknown rules.
    pub fn record_points(&self, rule: usize, count: u32, given: Points) -> Option<Points> {
        match &self.rules.get(rule)?.kind {
            RuleKind::Fixed { points } => Some(*points),
            RuleKind::PerCount { points, .. } => Some(points.times(u64::from(count))),
            RuleKind::Range { .. } | RuleKind::Graded { .. } => Some(given),
            _ => None,
        }
    }

    /// [`Self::record_points`] as people read it: two decimals, or the flag's name.
    pub fn record_points_text(&self, rule: usize, count: u32, given: Points) -> String {
        match (
            self.record_points(rule, count, given),
            self.rules.get(rule).map(|r| &r.kind),
        ) {
            (Some(p), _) => p.to_fixed2(),
            (None, Some(k)) => k.label().to_owned(),
            (None, None) => String::new(),
        }
    }

    /// The mode of the category a rule belongs to.
    pub fn mode_of(&self, rule: usize) -> CategoryMode {
        self.categories[self.rules[rule].category].mode
    }

    /// How a rule of the rubric turns into points, in words (扣, 得 or 加 by its category; a
    /// metric step names what it compares: "比上年事故起数每多 1 扣 2 分，最多扣 10 分").
    pub fn terms(&self, rule: usize) -> String {
        let mode = self.mode_of(rule);
        match &self.rules[rule].kind {
            RuleKind::MetricStep {
                points,
                reference,
                direction,
                step,
                max,
                ..
            } => {
                let v = mode.verb();
                let m = &self.metrics[*reference];
                let name = if m.name.is_empty() { &m.code } else { &m.name };
                let cap = max.map_or_else(String::new, |m| format!("，最多{v} {m} 分"));
                format!(
                    "比{name}每{} {} {v} {points} 分{cap}",
                    direction.word(),
                    step.normalize()
                )
            }
            kind => kind.terms_in(mode),
        }
    }

    /// A rule's kind for people (按次扣分 or 按次得分 by its category).
    pub fn kind_label(&self, rule: usize) -> &'static str {
        self.rules[rule].kind.label_in(self.mode_of(rule))
    }

    /// The band a total falls in: the first whose `min` it reaches; `None` without bands.
    pub fn grade_of_total(&self, total: Points) -> Option<usize> {
        self.grades.iter().position(|g| total >= g.min)
    }

    /// The full marks in words: "满分 100 分" or "满分 100 分（含加分不超过 105 分）".
    pub fn total_text(&self) -> String {
        format!(
            "满分 {} 分{}",
            self.total,
            self.max_total
                .map_or_else(String::new, |m| format!("（含加分不超过 {m} 分）"))
        )
    }

    /// The conversion in words, as the ranking table and the 通报 state it.
    pub fn conversion_text(&self) -> String {
        format!(
            "折算得分 = 监测得分 ÷ {} × 类别分值，保留 {} 位小数（四舍五入）",
            self.conversion.divisor, self.conversion.decimals
        )
    }

    /// The grade bands in one line: "优秀 ≥ 90；良好 ≥ 80；合格 ≥ 60；不合格 < 60".
    pub fn grades_text(&self) -> String {
        let n = self.grades.len();
        self.grades
            .iter()
            .enumerate()
            .map(|(i, g)| {
                if i + 1 == n && n > 1 {
                    format!("{} < {}", g.name, self.grades[i - 1].min)
                } else {
                    format!("{} ≥ {}", g.name, g.min)
                }
            })
            .collect::<Vec<_>>()
            .join("；")
    }

    /// The cap that bounds a rule's deduction: its section's max, else its category's.
    pub fn container_max(&self, rule: usize) -> Points {
        let r = &self.rules[rule];
        match r.section {
            Some(s) => self.sections[s].max,
            None => self.categories[r.category].max,
        }
    }

    /// Parses and validates a rubric file's text. Every problem found is returned, each with its line
    /// and key; nothing partial is returned.
    pub fn from_toml(text: &str) -> Result<Rubric, RubricErrors> {
        load::from_toml(text)
    }

    /// Why the rubric is not final yet (items waiting for review), in one message; `None` when final.
    pub fn pending_review(&self) -> Option<String> {
        (!self.review.is_empty()).then(|| {
            format!(
                "细则草稿尚有 {} 项待人工确认（删除对应的 review 键或 [[unclassified]] 条目后再用）：\n{}",
                self.review.len(),
                RubricErrors(self.review.clone())
            )
        })
    }
}
