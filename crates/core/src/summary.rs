//! What an office above reads of a published result below (offices-and-periods.md §1, oversight):
//! how many units, how many in each grade, the mean total (rounded half up to hundredths, in exact
//! arithmetic) and the units vetoed, for a year scored as one period or made of parts. Pure: it
//! takes sheets the core scored and reads no store.

use serde::{Deserialize, Serialize};

use crate::points::Points;
use crate::rubric::Rubric;
use crate::score::ScoreSheets;
use crate::year::{YearSheets, mean_of};

/// A result in brief.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub units: usize,
    /// Each grade band's name and how many units are in it (empty without bands).
    pub grades: Vec<(String, usize)>,
    /// The mean of the units' totals (serialised with two decimals, as every total).
    #[serde(serialize_with = "fixed2", deserialize_with = "points")]
    pub mean_total: Points,
    /// The units vetoed, by name.
    pub vetoed: Vec<String>,
}

impl Summary {
    /// The summary of a year scored as one period (or of one part).
    pub fn of(rubric: &Rubric, sheets: &ScoreSheets) -> Summary {
        Summary {
            units: sheets.sheets.len(),
            grades: sheets.grade_counts(rubric),
            mean_total: mean(sheets.sheets.iter().map(|s| s.total)),
            vetoed: sheets
                .sheets
                .iter()
                .filter(|s| s.veto.is_some())
                .map(|s| s.name.clone())
                .collect(),
        }
    }

    /// The summary of a year made of parts.
    pub fn of_year(rubric: &Rubric, year: &YearSheets) -> Summary {
        Summary {
            units: year.sheets.len(),
            grades: rubric.count_grades(year.sheets.iter().filter_map(|s| s.grade)),
            mean_total: mean(year.sheets.iter().map(|s| s.total)),
            vetoed: year
                .sheets
                .iter()
                .filter(|s| s.veto.is_some())
                .map(|s| s.name.clone())
                .collect(),
        }
    }

    /// "优秀 3、良好 5、合格 1" (empty without bands).
    pub fn grades_text(&self) -> String {
        self.grades
            .iter()
            .map(|(g, n)| format!("{g} {n}"))
            .collect::<Vec<_>>()
            .join("、")
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde hands a reference
fn fixed2<S: serde::Serializer>(p: &Points, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_fixed2())
}

fn points<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Points, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

fn mean(totals: impl Iterator<Item = Points>) -> Points {
    let one = Points::from_hundredths(100);
    let pairs: Vec<(Points, Points)> = totals.map(|t| (one, t)).collect();
    mean_of(&pairs, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_rounds_half_up_in_exact_arithmetic() {
        let p = |h| Points::from_hundredths(h);
        // (90.01 + 90.02) / 2 = 90.015 → 90.02
        assert_eq!(mean([p(9001), p(9002)].into_iter()), p(9002));
        assert_eq!(mean(std::iter::empty()), Points::ZERO);
    }

    #[test]
    fn a_summary_reads_back_as_it_was_written() {
        let s = Summary {
            units: 3,
            grades: vec![("优秀".into(), 2), ("不合格".into(), 1)],
            mean_total: Points::from_hundredths(8_733),
            vetoed: vec!["交通运输局".into()],
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains(r#""mean_total":"87.33""#), "{text}");
        assert_eq!(serde_json::from_str::<Summary>(&text).unwrap(), s);
        let bad = text.replace("87.33", "八十");
        assert!(serde_json::from_str::<Summary>(&bad).is_err());
    }
}
