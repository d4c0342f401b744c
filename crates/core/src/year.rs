//! The year made from its parts (`offices-and-periods.md` §3): each unit's year total is the
//! weighted mean of its parts' totals, rounded half up to the rubric's decimals in exact integer
//! arithmetic; a `scope = "year"` veto in any part makes the year 0.00 and the last grade; a
//! lowest-grade record in any part sets the year's lowest grade; conversion, rank and grade follow
//! from the year's total as for any year; what a part lacks is the year's lack, named by part.
//!
//! Pure, like the rest of the core: it takes the parts' score sheets (scored by [`crate::score`])
//! and never scores a ledger itself, nor reads a store.

use crate::points::{Points, div_half_up};
use crate::rubric::Rubric;
use crate::score::{Flag, Incomplete, ScoreSheets, competition_ranks, convert};

/// One part's total of a unit, as the year shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartTotal {
    /// Index into [`Rubric::parts`].
    pub part: usize,
    pub total: Points,
}

/// A flag raised in a part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartFlag {
    /// Index into [`Rubric::parts`].
    pub part: usize,
    pub flag: Flag,
}

/// One unit's year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearSheet {
    pub name: String,
    /// Index into [`Rubric::classes`].
    pub class: usize,
    /// The parts the unit has a result in, in the rubric's order.
    pub parts: Vec<PartTotal>,
    /// The weighted mean of the parts' totals, rounded (before a year veto).
    pub mean: Points,
    /// The year's total: the mean, or 0.00 under a year veto.
    pub total: Points,
    /// Index into [`Rubric::grades`] (`None` where the rubric has no bands).
    pub grade: Option<usize>,
    pub converted: Points,
    pub rank: u32,
    /// A `scope = "year"` veto recorded in a part.
    pub veto: Option<PartFlag>,
    /// A lowest-grade record in a part.
    pub lowest_grade: Option<PartFlag>,
    /// Each part's incomplete items, with their part; a part with no result for the unit is
    /// named here too (and left out of the mean).
    pub incomplete: Vec<(usize, Option<Incomplete>)>,
}

impl YearSheet {
    /// The mean's working in words: "(1 × 99.75 + 1 × 94.00) ÷ 2 = 96.88", or with a veto why
    /// the year is 0.00.
    pub fn working(&self, rubric: &Rubric) -> String {
        let weights: Vec<Points> = self
            .parts
            .iter()
            .map(|p| rubric.parts[p.part].weight)
            .collect();
        let terms = self
            .parts
            .iter()
            .zip(&weights)
            .map(|(p, w)| format!("{} × {}", w.to_min_string(), p.total.to_fixed2()))
            .collect::<Vec<_>>()
            .join(" + ");
        let sum: Points = weights.iter().copied().sum();
        let mean = format!(
            "（{terms}）÷ {} = {}",
            sum.to_min_string(),
            self.mean.to_fixed2()
        );
        match &self.veto {
            Some(v) => format!(
                "{mean}；{}条款 {} 全年一票否决（记录 #{}），全年得分记 0",
                rubric.parts[v.part].name, rubric.rules[v.flag.rule].code, v.flag.record
            ),
            None => mean,
        }
    }
}

/// Every unit's year, ranked within its class; in class order, then by rank, then by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct YearSheets {
    pub sheets: Vec<YearSheet>,
}

impl YearSheets {
    pub fn by_name(&self, name: &str) -> Option<&YearSheet> {
        self.sheets.iter().find(|s| s.name == name)
    }
}

/// The year of a rubric with parts, from each part's sheets (`parts[i]` = (index into
/// [`Rubric::parts`], that part's sheets)). Units are matched by name; a unit's year is over the
/// parts it has a result in.
pub fn roll_up(rubric: &Rubric, parts: &[(usize, &ScoreSheets)]) -> YearSheets {
    let mut names: Vec<(&str, usize)> = Vec::new();
    for (_, sheets) in parts {
        for s in &sheets.sheets {
            if !names.iter().any(|(n, _)| *n == s.name) {
                names.push((&s.name, s.class));
            }
        }
    }
    let mut sheets: Vec<YearSheet> = names
        .iter()
        .map(|(name, class)| year_of(rubric, parts, name, *class))
        .collect();
    let keys: Vec<(usize, Points)> = sheets.iter().map(|s| (s.class, s.converted)).collect();
    for (s, rank) in sheets.iter_mut().zip(competition_ranks(&keys)) {
        s.rank = rank;
    }
    sheets.sort_by(|a, b| (a.class, a.rank, &a.name).cmp(&(b.class, b.rank, &b.name)));
    YearSheets { sheets }
}

fn year_of(
    rubric: &Rubric,
    parts: &[(usize, &ScoreSheets)],
    name: &str,
    class: usize,
) -> YearSheet {
    let mut totals = Vec::new();
    let mut incomplete = Vec::new();
    let (mut veto, mut lowest_grade) = (None, None);
    let mut ordered: Vec<&(usize, &ScoreSheets)> = parts.iter().collect();
    ordered.sort_by_key(|(p, _)| *p);
    for &&(part, sheets) in &ordered {
        let Some(s) = sheets.by_name(name) else {
            incomplete.push((part, None));
            continue;
        };
        totals.push(PartTotal {
            part,
            total: s.total,
        });
        incomplete.extend(s.incomplete.iter().map(|i| (part, Some(i.clone()))));
        if veto.is_none()
            && let Some(f) = s.veto.filter(|f| rubric.rules[f.rule].year_scope)
        {
            veto = Some(PartFlag { part, flag: f });
        }
        if lowest_grade.is_none()
            && let Some(f) = s.lowest_grade
        {
            lowest_grade = Some(PartFlag { part, flag: f });
        }
    }
    let mean = weighted_mean(rubric, &totals);
    let total = if veto.is_some() { Points::ZERO } else { mean };
    let grade = match () {
        () if rubric.grades.is_empty() => None,
        () if veto.is_some() || lowest_grade.is_some() => Some(rubric.grades.len() - 1),
        () => rubric.grade_of_total(total),
    };
    YearSheet {
        name: name.to_owned(),
        class,
        parts: totals,
        mean,
        total,
        grade,
        converted: convert(rubric, total, rubric.classes[class].weight),
        rank: 0,
        veto,
        lowest_grade,
        incomplete,
    }
}

/// A unit's parts' totals weighted by their parts' weights: [`mean_of`] at the rubric's decimals.
pub fn weighted_mean(rubric: &Rubric, totals: &[PartTotal]) -> Points {
    let pairs: Vec<(Points, Points)> = totals
        .iter()
        .map(|t| (rubric.parts[t.part].weight, t.total))
        .collect();
    mean_of(&pairs, rubric.conversion.decimals)
}

/// `round_half_up(Σ w × t ÷ Σ w, decimals)` of (weight, total) pairs, in exact integer
/// arithmetic on hundredths (no binary floating point); 0.00 when there is nothing to weigh.
pub fn mean_of(pairs: &[(Points, Points)], decimals: u32) -> Points {
    let (mut n, mut d) = (0i128, 0i128);
    for (w, t) in pairs {
        let w = i128::from(w.hundredths());
        n += w * i128::from(t.hundredths());
        d += w;
    }
    if d <= 0 {
        return Points::ZERO;
    }
    let step = 10i128.pow(2 - decimals.min(2));
    Points::from_hundredths((div_half_up(n, d * step) * step) as i64)
}
