//! The published shapes of results and rubrics: the objects `lvzhi score --json` and
//! `lvzhi rubric show --json` print, and that the API will serve unchanged.
//!
//! They are plain serializable views over [`ScoreSheets`] and [`Rubric`]: every figure a decimal
//! string, `total` and `converted` with exactly two decimals. Changing a field here changes a public
//! contract (see the rules document). This module computes nothing and does no IO.

use serde::Serialize;

use crate::rubric::{CategoryMode, Rubric, RuleKind};
use crate::score::ScoreSheets;

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct RubricRef {
    pub id: String,
    pub year: i32,
    pub title: String,
}

impl RubricRef {
    pub fn of(rubric: &Rubric) -> Self {
        RubricRef {
            id: rubric.id.clone(),
            year: rubric.year,
            title: rubric.title.clone(),
        }
    }
}

/// `{"rubric": …, "results": […]}`.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ResultsDoc {
    pub rubric: RubricRef,
    pub results: Vec<UnitResult>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct UnitResult {
    pub unit: String,
    pub class: String,
    pub categories: Vec<CategoryResult>,
    pub total: String,
    pub converted: String,
    pub rank: u32,
    pub veto: bool,
    pub lowest_grade: bool,
    /// The grade band's name; `null` where the rubric has no bands.
    pub grade: Option<String>,
    pub incomplete: Vec<String>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct CategoryResult {
    pub code: String,
    pub max: String,
    /// The deduction that counts (after caps); `"0"` for an earn or bonus category.
    pub deducted: String,
    pub score: String,
    /// Present for a bonus (加分项) category only: the points added after its cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added: Option<String>,
    /// Present for an earn (得分制) category only: the points earned after its cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earned: Option<String>,
}

impl ResultsDoc {
    pub fn new(rubric: &Rubric, sheets: &ScoreSheets) -> Self {
        let results = sheets
            .sheets
            .iter()
            .map(|s| UnitResult {
                unit: s.name.clone(),
                class: rubric.classes[s.class].code.clone(),
                categories: s
                    .categories
                    .iter()
                    .map(|c| CategoryResult {
                        code: rubric.categories[c.category].code.clone(),
                        max: c.max.to_string(),
                        deducted: if c.mode.adds() {
                            "0".into()
                        } else {
                            c.deducted.to_string()
                        },
                        score: c.score.to_string(),
                        added: (c.mode == CategoryMode::Bonus).then(|| c.deducted.to_string()),
                        earned: (c.mode == CategoryMode::Earn).then(|| c.deducted.to_string()),
                    })
                    .collect(),
                total: s.total.to_fixed2(),
                converted: s.converted.to_fixed2(),
                rank: s.rank,
                veto: s.veto.is_some(),
                lowest_grade: s.lowest_grade.is_some(),
                grade: s.grade.map(|g| rubric.grades[g.band].name.clone()),
                incomplete: s
                    .incomplete
                    .iter()
                    .map(|i| rubric.rules[i.rule].code.clone())
                    .collect(),
            })
            .collect();
        ResultsDoc {
            rubric: RubricRef::of(rubric),
            results,
        }
    }
}

/// The results of a year made of parts (`offices-and-periods.md` §3):
/// `{"rubric": …, "results": [{…, "parts": [{"part", "name", "total"}], "working"}]}`.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct YearResultsDoc {
    pub rubric: RubricRef,
    pub results: Vec<YearUnitResult>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct YearUnitResult {
    pub unit: String,
    pub class: String,
    pub total: String,
    pub converted: String,
    pub rank: u32,
    pub veto: bool,
    pub lowest_grade: bool,
    pub grade: Option<String>,
    /// Each part's incomplete items, prefixed with the part's name ("第一季度：3.2"); a part
    /// without a result for the unit as "第一季度：无结果".
    pub incomplete: Vec<String>,
    pub parts: Vec<PartResult>,
    /// The weighted mean's working in words.
    pub working: String,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct PartResult {
    pub part: String,
    pub name: String,
    pub total: String,
}

impl YearResultsDoc {
    pub fn new(rubric: &Rubric, year: &crate::year::YearSheets) -> Self {
        let results = year
            .sheets
            .iter()
            .map(|s| YearUnitResult {
                unit: s.name.clone(),
                class: rubric.classes[s.class].code.clone(),
                total: s.total.to_fixed2(),
                converted: s.converted.to_fixed2(),
                rank: s.rank,
                veto: s.veto.is_some(),
                lowest_grade: s.lowest_grade.is_some(),
                grade: s.grade.map(|g| rubric.grades[g].name.clone()),
                incomplete: s
                    .incomplete
                    .iter()
                    .map(|(p, i)| {
                        let part = &rubric.parts[*p].name;
                        match i {
                            Some(i) => format!("{part}：{}", rubric.rules[i.rule].code),
                            None => format!("{part}：无结果"),
                        }
                    })
                    .collect(),
                parts: s
                    .parts
                    .iter()
                    .map(|p| PartResult {
                        part: rubric.parts[p.part].code.clone(),
                        name: rubric.parts[p.part].name.clone(),
                        total: p.total.to_fixed2(),
                    })
                    .collect(),
                working: s.working(rubric),
            })
            .collect();
        YearResultsDoc {
            rubric: RubricRef::of(rubric),
            results,
        }
    }
}

/// The rubric tree: categories → optional sections → rules.
#[derive(Serialize, Debug, Clone)]
pub struct RubricDoc {
    pub id: String,
    pub year: i32,
    pub title: String,
    pub issuer: String,
    /// The kind of assessment, where the rubric names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub total: String,
    /// The cap of the total after the bonus, where the rubric has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_total: Option<String>,
    /// The grade bands, highest first (empty where the rubric has none).
    pub grades: Vec<GradeDoc>,
    pub conversion: ConversionDoc,
    pub classes: Vec<ClassDoc>,
    pub metrics: Vec<MetricDoc>,
    pub categories: Vec<CategoryDoc>,
    pub units: Vec<UnitDoc>,
    /// The parts of the year (empty for a whole-year rubric).
    pub parts: Vec<PartDoc>,
    /// What a draft still waits on a person for (absent for a final rubric).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub review: Vec<ReviewDoc>,
}

/// One item of a draft waiting for review: where and what.
#[derive(Serialize, Debug, Clone)]
pub struct ReviewDoc {
    pub line: usize,
    pub key: String,
    pub message: String,
}

/// A part of the year: `from` and `to` as "MM-DD".
#[derive(Serialize, Debug, Clone)]
pub struct PartDoc {
    pub code: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub weight: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct GradeDoc {
    pub name: String,
    pub min: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct ConversionDoc {
    pub divisor: String,
    pub decimals: u32,
    pub rounding: &'static str,
}

#[derive(Serialize, Debug, Clone)]
pub struct ClassDoc {
    pub code: String,
    pub name: String,
    pub weight: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct MetricDoc {
    pub code: String,
    pub name: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct UnitDoc {
    pub name: String,
    pub class: String,
    pub tags: Vec<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct CategoryDoc {
    pub code: String,
    pub name: String,
    pub mode: CategoryMode,
    pub max: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<SectionDoc>,
    pub rules: Vec<RuleDoc>,
    pub source: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct SectionDoc {
    pub code: String,
    pub name: String,
    pub max: String,
    pub rules: Vec<RuleDoc>,
}

#[derive(Serialize, Debug, Clone)]
pub struct RuleDoc {
    pub code: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    pub max_count: Option<u32>,
    pub applies_to: Option<String>,
    pub excludes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<LevelDoc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessors: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// A veto's reach: "part" or "year" (vetoes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
    pub text: String,
    pub source: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct LevelDoc {
    pub points: String,
    pub text: String,
}

impl RubricDoc {
    pub fn new(r: &Rubric) -> Self {
        let rule = |i: usize| -> RuleDoc {
            let x = &r.rules[i];
            let mut d = RuleDoc {
                code: x.code.clone(),
                kind: x.kind.name(),
                points: None,
                min: None,
                max: None,
                max_count: None,
                applies_to: x.applies_to.clone(),
                excludes: x
                    .excludes
                    .iter()
                    .map(|&j| r.rules[j].code.clone())
                    .collect(),
                levels: None,
                metric: None,
                reference: None,
                assessors: None,
                direction: None,
                step: None,
                scope: None,
                text: x.text.clone(),
                source: x.source.clone(),
            };
            match &x.kind {
                RuleKind::Fixed { points } => d.points = Some(points.to_string()),
                RuleKind::PerCount { points, max_count } => {
                    d.points = Some(points.to_string());
                    d.max_count = *max_count;
                }
                RuleKind::Range { min, max } => {
                    d.min = Some(min.to_string());
                    d.max = Some(max.to_string());
                }
                RuleKind::Graded { levels } => {
                    d.levels = Some(
                        levels
                            .iter()
                            .map(|l| LevelDoc {
                                points: l.points.to_string(),
                                text: l.text.clone(),
                            })
                            .collect(),
                    );
                }
                RuleKind::Assessed { max, assessors } => {
                    d.max = Some(max.to_string());
                    d.assessors = *assessors;
                }
                RuleKind::MetricBelow {
                    points,
                    metric,
                    reference,
                } => {
                    d.points = Some(points.to_string());
                    d.metric = Some(r.metrics[*metric].code.clone());
                    d.reference = Some(r.metrics[*reference].code.clone());
                }
                RuleKind::MetricStep {
                    points,
                    metric,
                    reference,
                    direction,
                    step,
                    max,
                } => {
                    d.points = Some(points.to_string());
                    d.metric = Some(r.metrics[*metric].code.clone());
                    d.reference = Some(r.metrics[*reference].code.clone());
                    d.direction = Some(direction.name());
                    d.step = Some(step.normalize().to_string());
                    d.max = max.map(|m| m.to_string());
                }
                RuleKind::Veto => d.scope = Some(if x.year_scope { "year" } else { "part" }),
                RuleKind::LowestGrade => {}
            }
            d
        };
        RubricDoc {
            review: r
                .review
                .iter()
                .map(|e| ReviewDoc {
                    line: e.line,
                    key: e.key.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            parts: r
                .parts
                .iter()
                .map(|p| PartDoc {
                    code: p.code.clone(),
                    name: p.name.clone(),
                    from: format!("{:02}-{:02}", p.from.0, p.from.1),
                    to: format!("{:02}-{:02}", p.to.0, p.to.1),
                    weight: p.weight.to_string(),
                })
                .collect(),
            id: r.id.clone(),
            year: r.year,
            title: r.title.clone(),
            issuer: r.issuer.clone(),
            kind: r.kind.clone(),
            total: r.total.to_string(),
            max_total: r.max_total.map(|m| m.to_string()),
            grades: r
                .grades
                .iter()
                .map(|g| GradeDoc {
                    name: g.name.clone(),
                    min: g.min.to_string(),
                })
                .collect(),
            conversion: ConversionDoc {
                divisor: r.conversion.divisor.to_string(),
                decimals: r.conversion.decimals,
                rounding: "half_up",
            },
            classes: r
                .classes
                .iter()
                .map(|c| ClassDoc {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    weight: c.weight.to_string(),
                })
                .collect(),
            metrics: r
                .metrics
                .iter()
                .map(|m| MetricDoc {
                    code: m.code.clone(),
                    name: m.name.clone(),
                })
                .collect(),
            categories: r
                .categories
                .iter()
                .map(|c| CategoryDoc {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    mode: c.mode,
                    max: c.max.to_string(),
                    sections: c
                        .sections
                        .iter()
                        .map(|&s| {
                            let s = &r.sections[s];
                            SectionDoc {
                                code: s.code.clone(),
                                name: s.name.clone(),
                                max: s.max.to_string(),
                                rules: s.rules.iter().map(|&i| rule(i)).collect(),
                            }
                        })
                        .collect(),
                    rules: c.rules.iter().map(|&i| rule(i)).collect(),
                    source: c.source.clone(),
                })
                .collect(),
            units: r
                .roster
                .iter()
                .map(|u| UnitDoc {
                    name: u.name.clone(),
                    class: r.classes[u.class].code.clone(),
                    tags: u.tags.clone(),
                })
                .collect(),
        }
    }
}

/// What changed from one rubric version to another, clause by clause, for the office to circulate.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct RubricDiff {
    pub from: String,
    pub to: String,
    /// Categories and sections whose maximum or name changed, added or removed: "3 …：20 → 25 分".
    pub containers: Vec<String>,
    pub added: Vec<RuleLine>,
    pub removed: Vec<RuleLine>,
    /// (before, after) of rules with the same code whose kind, points or text changed.
    pub changed: Vec<(RuleLine, RuleLine)>,
}

/// One rule in a diff: its code, terms and short text.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct RuleLine {
    pub code: String,
    pub terms: String,
    pub text: String,
}

impl RubricDiff {
    pub fn new(a: &Rubric, b: &Rubric) -> Self {
        let line = |rubric: &Rubric, i: usize| RuleLine {
            code: rubric.rules[i].code.clone(),
            terms: rubric.terms(i),
            text: rubric.rules[i].text.clone(),
        };
        let mut d = RubricDiff {
            from: format!("{}（{}）", a.title, a.id),
            to: format!("{}（{}）", b.title, b.id),
            ..RubricDiff::default()
        };
        // A category's maximum with its mode where it is not the 2022 form: "30 分，得分制".
        let containers = |r: &Rubric| -> Vec<(String, String, String)> {
            r.categories
                .iter()
                .map(|c| {
                    let max = if c.mode == CategoryMode::Deduct {
                        c.max.to_string()
                    } else {
                        format!("{} 分，{}", c.max, c.mode.label())
                    };
                    (c.code.clone(), c.name.clone(), max)
                })
                .chain(
                    r.sections
                        .iter()
                        .map(|s| (s.code.clone(), s.name.clone(), s.max.to_string())),
                )
                .collect()
        };
        let (ca, cb) = (containers(a), containers(b));
        for (code, name, max) in &ca {
            match cb.iter().find(|x| &x.0 == code) {
                None => d.containers.push(format!("删除 {code} {name}（{max} 分）")),
                Some((_, n2, m2)) if n2 != name || m2 != max => d
                    .containers
                    .push(format!("{code} {name}（{max} 分）→ {n2}（{m2} 分）")),
                Some(_) => {}
            }
        }
        for (code, name, max) in &cb {
            if !ca.iter().any(|x| &x.0 == code) {
                d.containers.push(format!("新增 {code} {name}（{max} 分）"));
            }
        }
        let bands = |r: &Rubric| {
            if r.grades.is_empty() {
                "无".to_owned()
            } else {
                r.grades_text()
            }
        };
        if bands(a) != bands(b) {
            d.containers
                .push(format!("等次：{} → {}", bands(a), bands(b)));
        }
        if a.max_total != b.max_total {
            let cap =
                |m: Option<crate::Points>| m.map_or_else(|| "无".to_owned(), |m| format!("{m} 分"));
            d.containers.push(format!(
                "总分上限：{} → {}",
                cap(a.max_total),
                cap(b.max_total)
            ));
        }
        for (i, r) in a.rules.iter().enumerate() {
            match b.rule_by_code(&r.code) {
                None => d.removed.push(line(a, i)),
                Some(j)
                    if b.rules[j].kind != r.kind
                        || b.rules[j].text != r.text
                        || a.terms(i) != b.terms(j) =>
                {
                    d.changed.push((line(a, i), line(b, j)));
                }
                Some(_) => {}
            }
        }
        for (j, r) in b.rules.iter().enumerate() {
            if a.rule_by_code(&r.code).is_none() {
                d.added.push(line(b, j));
            }
        }
        d
    }

    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
    }

    /// The diff as text, in Chinese.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!("细则对比：{} → {}\n", self.from, self.to);
        if self.is_empty() {
            out.push_str("两版细则的方面、条款与分值相同。\n");
            return out;
        }
        if !self.containers.is_empty() {
            let _ = writeln!(out, "\n方面与小节（{}）：", self.containers.len());
            for c in &self.containers {
                let _ = writeln!(out, "  {c}");
            }
        }
        if !self.added.is_empty() {
            let _ = writeln!(out, "\n新增条款（{}）：", self.added.len());
            for r in &self.added {
                let _ = writeln!(out, "  + {} {}：{}", r.code, r.text, r.terms);
            }
        }
        if !self.removed.is_empty() {
            let _ = writeln!(out, "\n删除条款（{}）：", self.removed.len());
            for r in &self.removed {
                let _ = writeln!(out, "  - {} {}：{}", r.code, r.text, r.terms);
            }
        }
        if !self.changed.is_empty() {
            let _ = writeln!(out, "\n修改条款（{}）：", self.changed.len());
            for (a, b) in &self.changed {
                let _ = writeln!(out, "  * {} {}：{}", a.code, a.text, a.terms);
                let _ = writeln!(out, "    → {}：{}", b.text, b.terms);
            }
        }
        out
    }
}
