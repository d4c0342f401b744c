//! lvzhi-core: the rubric, the ledger and the scoring of the 安委会成员单位 annual assessment.
//!
//! Everything here is pure: no files, no network, no database, no clock, no async. The rubric is
//! parsed from text the caller read ([`Rubric::from_toml`]); the ledger is built row by row through
//! [`LedgerBuilder`], which refuses every row that breaks the rubric; [`score`] turns the two into
//! explained [`ScoreSheets`]. Other crates store, import, export and serve; none of them re-implements
//! a rule of the rubric.

pub mod access;
pub mod contract;
pub mod input;
pub mod ledger;
pub mod lifecycle;
pub mod points;
pub mod rubric;
pub mod score;
pub mod summary;
pub mod year;

pub use input::NewRecord;
pub use ledger::{
    Date, Field, Ledger, LedgerBuilder, LedgerError, Problem, Record, RecordFields, Roster, Unit,
    UnitBook,
};
pub use lifecycle::{Basis, Decision, PeriodStatus, RecordStatus, Standing};
pub use points::{Points, PointsError};
pub use rubric::{CategoryMode, Rubric, RubricError, RubricErrors, RuleKind};
pub use score::{ScoreSheets, UnitSheet, score, score_book, score_unit};

/// The shipped 2022 rubric of 张家港市 (`rubrics/2022.toml`), as text.
pub const RUBRIC_2022: &str = include_str!("../../../rubrics/2022.toml");

/// Rubrics shipped inside the program: each one's name (its year) and text.
pub const SHIPPED: &[(&str, &str)] = &[("2022", RUBRIC_2022)];

/// A rubric shipped inside the program, by its name.
pub fn shipped_rubric(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
