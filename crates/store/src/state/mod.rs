//! A period's state in memory: the roster, every record in compact form (with what its lifecycle
//! needs), the scores and metric values, the appeals, the two ledgers (provisional: every record in
//! force; official: confirmed records) and their score sheets, all kept unit by unit.
//!
//! The state is loaded once per period and version and shared (`Arc`) by every reader. A write
//! derives the next version from the one it started from through [`Next`]: it copies the touched
//! units only, re-checks and re-scores them and re-ranks (ranks are per class), so a write costs its
//! unit, not the year. The texts of records (source, note, who, when) are not kept: pages and exports
//! read them from the database, a page or a unit at a time. On PostgreSQL (where several instances
//! serve one database) every read checks the period's version first, so a read that begins after
//! any instance acknowledged a write shows it (the reads that arrive together share one ask sent
//! after they began, `asks`); on SQLite (one service process) a version checked
//! within [`SQLITE_FRESH`] is trusted. This module knows SQL and the core; it must not know HTTP.

mod asks;
mod cache;
mod load;
mod model;
mod next;

pub(crate) use load::{load_appeals, stored_status};
pub use model::{PeriodState, RecordRow, StatusCounts, UnitState};
pub(crate) use next::Next;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lvzhi_core::{LedgerError, Roster, Rubric};

use crate::model::{PeriodInfo, StoredUnit};
use crate::{Actor, Result, StoreError};

/// On SQLite, how long a period state's version check is trusted on the read path: one service
/// process sees its own writes at once and a command-line write within this time. Asking the
/// version on every read costs about nine in ten of the in-process read rate (84k → 9.7k results
/// reads a second, measured 2026-12-02), a price only several instances need to pay.
pub const SQLITE_FRESH: std::time::Duration = std::time::Duration::from_millis(100);

/// Computed period states by year (one per version), and parsed rubrics by hash.
#[derive(Default)]
pub(crate) struct Cache {
    /// Per year: the state, and when its version was last checked against the database.
    periods: Mutex<HashMap<i64, (Arc<PeriodState>, std::time::Instant)>>,
    pub(crate) rubrics: Mutex<HashMap<String, Arc<Rubric>>>,
    /// Per year: held while the period is loaded or caught up, so that it is read once at a time.
    loading: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    /// Per year: the version asks shared by the reads that arrive together (PostgreSQL).
    asks: Mutex<HashMap<i64, Arc<asks::Asker>>>,
    /// Period keys already resolved: key → (id, office). A key and its period's office never
    /// change and a period is never deleted, so this is never stale.
    pub(crate) keys: Mutex<HashMap<String, (i64, String)>>,
    /// How many times a period was read whole, and caught up by the change log.
    loads: std::sync::atomic::AtomicU64,
    catch_ups: std::sync::atomic::AtomicU64,
}

/// How this process's cache came by the period states it holds (for tests and benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeriodReads {
    /// Periods read whole from the database.
    pub loads: u64,
    /// Cached periods brought up to date by re-reading the units other writes changed.
    pub catch_ups: u64,
}

impl Cache {
    /// The version asks of `year`.
    fn asker(&self, year: i64) -> Arc<asks::Asker> {
        self.asks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(year)
            .or_insert_with(|| Arc::new(asks::Asker::new(year)))
            .clone()
    }

    /// The gate of `year`'s loads.
    fn loading(&self, year: i64) -> Arc<tokio::sync::Mutex<()>> {
        self.loading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(year)
            .or_default()
            .clone()
    }
}

/// The columns a period is listed from (joined with its office).
pub(crate) const PERIOD_COLUMNS: &str = "p.year, p.pkey, p.office, o.name AS office_name, p.assessment, \
     p.assessment_name, p.cal_year, p.part, p.of_year, p.rubric_hash, p.status, p.version, p.created_at, \
     p.appeal_days, p.decision_days";

/// Refuses any change to a period of another office than the actor's (the operator's are all
/// its own): an office above reads what the offices below published, never changes it.
pub(crate) fn own_office(info: &PeriodInfo, actor: &Actor) -> Result<()> {
    match &actor.rights {
        Some(r) if r.office != info.office => Err(StoreError::Forbidden(format!(
            "「{}」属于其他安委办，只能查看，不能修改",
            info.label()
        ))),
        _ => Ok(()),
    }
}

/// Refuses a write the period does not take from `actor`: a period of another office (an office
/// above reads what the offices below published, never writes), a year made of parts (it has no
/// ledger of its own), a published period.
pub(crate) fn writable(info: &PeriodInfo, actor: &Actor) -> Result<()> {
    own_office(info, actor)?;
    if info.is_year_of_parts() {
        return Err(StoreError::Conflict(format!(
            "{}由各期（{}）合成，没有自己的记录、打分和指标：请在各期中录入",
            info.period_name(),
            info.parts.join("、")
        )));
    }
    if let Some(reason) = info.closed_reason() {
        return Err(StoreError::Conflict(reason));
    }
    Ok(())
}

/// The core's message, with "row N" read as "record #N" (row numbers are record ids here).
pub(crate) fn ledger_message(e: &LedgerError) -> String {
    let mut p = e.problem.clone();
    let text = p.to_string();
    match p.other_row_mut() {
        Some(n) => text.replace(&format!("第 {n} 行"), &format!("记录 #{n}")),
        None => text,
    }
}

/// A refusal of the core as the store's: the field and the message.
pub(crate) fn invalid(e: &LedgerError) -> StoreError {
    StoreError::invalid(e.field.column(), ledger_message(e))
}

pub(crate) fn roster_of(rubric: &Rubric, units: &[StoredUnit]) -> Roster {
    let mut roster = Roster::default();
    for (i, u) in units.iter().enumerate() {
        // Stored units were checked when written; a unit refused now is left out, and the
        // period's results would then say so by its absence.
        let _ = roster.add(rubric, i as u64 + 1, &u.name, &u.class, &u.tags.join(";"));
    }
    roster
}
