//! The model of a period in memory: its records in compact form, unit by unit, and the state of a
//! period at one version with both ledgers and both sets of sheets. It reads nothing from the
//! database and decides no right.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use lvzhi_core::contract::ResultsDoc;
use lvzhi_core::{
    Basis, Ledger, Points, Record, RecordStatus, Roster, Rubric, ScoreSheets, score_book,
};

use super::ledger_message;
use crate::clock::{clock_day, days_of_year_day, month_ends};
use crate::model::{PeriodInfo, StoredAppeal, StoredAssessment, StoredMetric, StoredUnit};
use crate::{Result, StoreError};

/// One record in compact form: its figures as the ledger checked them, and its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRow {
    pub id: i64,
    /// Index into [`Rubric::rules`].
    pub rule: u16,
    pub count: u32,
    /// Entered points in hundredths (range and graded rules), else 0.
    pub points: i32,
    /// Day of the rubric year, 1-based; 0 when the record has no date.
    pub day: u16,
    pub status: RecordStatus,
    pub replaces: Option<i64>,
    /// When it was recorded, confirmed and revoked (or replaced): milliseconds since 1970.
    pub created: i64,
    pub confirmed: Option<i64>,
    pub revoked: Option<i64>,
}

impl RecordRow {
    /// The ledger's record of this row, for the unit at `unit` in the roster.
    pub fn record(&self, unit: usize) -> Record {
        Record {
            id: self.id as u64,
            unit: unit as u32,
            count: self.count,
            points: self.points,
            rule: self.rule,
            day: self.day,
        }
    }

    /// What the record carries, as people read it (points, or the flag it raises).
    pub fn points_text(&self, rubric: &Rubric) -> String {
        rubric.record_points_text(
            usize::from(self.rule),
            self.count,
            Points::from_hundredths(i64::from(self.points)),
        )
    }

    /// When the unit's appeal window closes (milliseconds), for a confirmed record.
    pub fn appeal_deadline(&self, appeal_days: i64) -> Option<i64> {
        self.confirmed.map(|c| c + appeal_days * 86_400_000)
    }
}

/// How many of a unit's records are in each state (indexed like [`RecordStatus::ALL`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts(pub [usize; 6]);

impl StatusCounts {
    pub(super) fn of(rows: &[RecordRow]) -> StatusCounts {
        let mut c = StatusCounts::default();
        for r in rows {
            c.0[r.status as usize] += 1;
        }
        c
    }

    pub fn get(&self, s: RecordStatus) -> usize {
        self.0[s as usize]
    }

    pub fn in_force(&self) -> usize {
        RecordStatus::ALL
            .into_iter()
            .filter(|s| s.in_force())
            .map(|s| self.get(s))
            .sum()
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }

    pub(super) fn add(&mut self, o: &StatusCounts) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a += b;
        }
    }
}

/// One unit's part of the period: every record of it (by id, revoked ones included), its scores
/// and metric values as stored.
#[derive(Clone, Debug, Default)]
pub struct UnitState {
    pub rows: Vec<RecordRow>,
    pub assessments: Vec<StoredAssessment>,
    pub metrics: Vec<StoredMetric>,
    pub counts: StatusCounts,
    /// The unit's provisional total and converted score at the end of each month (the trend),
    /// computed on first use.
    pub(super) months: OnceLock<Vec<(Points, Points)>>,
}

impl UnitState {
    /// The row of record `id`.
    pub fn row(&self, id: i64) -> Option<&RecordRow> {
        self.rows
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .map(|i| &self.rows[i])
    }

    pub(super) fn row_mut(&mut self, id: i64) -> Option<&mut RecordRow> {
        self.rows
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .map(|i| &mut self.rows[i])
    }
}

/// Everything known about a period at one version, with its computed results.
pub struct PeriodState {
    pub info: PeriodInfo,
    pub rubric: Arc<Rubric>,
    /// The roster as stored, in roster order.
    pub units: Arc<Vec<StoredUnit>>,
    pub(super) unit_states: Vec<Arc<UnitState>>,
    /// Every appeal of the period, oldest first.
    pub appeals: Arc<Vec<StoredAppeal>>,
    /// The ledger of every record in force, and the one of confirmed records only.
    pub provisional: Ledger,
    pub official: Ledger,
    /// The provisional (暂定) and official (正式) results.
    pub sheets: ScoreSheets,
    pub official_sheets: ScoreSheets,
    /// `lvzhi score --json`'s object for the provisional sheets, serialized on first use.
    pub(super) results_json: OnceLock<Arc<[u8]>>,
    /// For each record that replaced another: when the one it replaced stopped counting.
    pub(super) took_over: OnceLock<HashMap<i64, i64>>,
}

impl PeriodState {
    pub fn roster(&self) -> &Roster {
        self.provisional.roster()
    }

    /// The position of a unit in the roster.
    pub fn unit_index(&self, name: &str) -> Option<usize> {
        self.roster().find(name.trim())
    }

    /// A unit's part of the period, by its position in the roster.
    pub fn unit(&self, u: usize) -> &UnitState {
        &self.unit_states[u]
    }

    /// Every record row with its unit's position, unit by unit.
    pub fn rows(&self) -> impl Iterator<Item = (usize, &RecordRow)> {
        self.unit_states
            .iter()
            .enumerate()
            .flat_map(|(u, s)| s.rows.iter().map(move |r| (u, r)))
    }

    /// Where record `id` is: its unit's position and its row.
    pub fn locate(&self, id: i64) -> Option<(usize, &RecordRow)> {
        self.unit_states
            .iter()
            .enumerate()
            .find_map(|(u, s)| s.row(id).map(|r| (u, r)))
    }

    /// The unit's name of record `id`.
    pub fn unit_of(&self, id: i64) -> Option<&str> {
        self.locate(id).map(|(u, _)| self.units[u].name.as_str())
    }

    /// How many records are in each state, over the period.
    pub fn counts(&self) -> StatusCounts {
        let mut c = StatusCounts::default();
        for s in &self.unit_states {
            c.add(&s.counts);
        }
        c
    }

    /// Every score, unit by unit.
    pub fn assessments(&self) -> impl Iterator<Item = &StoredAssessment> {
        self.unit_states.iter().flat_map(|s| s.assessments.iter())
    }

    /// Every metric value, unit by unit.
    pub fn metrics(&self) -> impl Iterator<Item = &StoredMetric> {
        self.unit_states.iter().flat_map(|s| s.metrics.iter())
    }

    /// What the period's result shown to people is (official once published), and its wording.
    pub fn standing(&self) -> lvzhi_core::Standing {
        lvzhi_core::Standing::of(
            self.info.status,
            self.counts().get(lvzhi_core::RecordStatus::Recorded),
        )
    }

    /// The sheets of a basis.
    pub fn sheets_of(&self, basis: Basis) -> &ScoreSheets {
        match basis {
            Basis::Provisional => &self.sheets,
            Basis::Official => &self.official_sheets,
        }
    }

    /// The ledger of a basis.
    pub fn ledger_of(&self, basis: Basis) -> &Ledger {
        match basis {
            Basis::Provisional => &self.provisional,
            Basis::Official => &self.official,
        }
    }

    /// The provisional results as the `lvzhi score --json` object, serialized once per version.
    pub fn results_json(&self) -> Result<Arc<[u8]>> {
        if let Some(b) = self.results_json.get() {
            return Ok(b.clone());
        }
        let bytes: Arc<[u8]> = serde_json::to_vec(&ResultsDoc::new(&self.rubric, &self.sheets))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
            .into();
        let _ = self.results_json.set(bytes.clone());
        Ok(bytes)
    }

    /// For each record that replaced another: when the one it replaced stopped counting (ms).
    pub(crate) fn took_over(&self) -> &HashMap<i64, i64> {
        self.took_over.get_or_init(|| {
            let stopped: HashMap<i64, i64> = self
                .rows()
                .filter_map(|(_, r)| r.revoked.map(|t| (r.id, t)))
                .collect();
            self.rows()
                .filter_map(|(_, r)| r.replaces.and_then(|p| stopped.get(&p)).map(|&t| (r.id, t)))
                .collect()
        })
    }

    /// The records of unit `u` that counted on the Beijing date `day` (days since 1970) on `basis`:
    /// a record counts once it took effect (its date, or the day it was recorded; a replacement
    /// from the day its predecessor stopped counting), was confirmed by then for the official
    /// basis, and had not been revoked or replaced by then.
    pub(crate) fn counted_on(&self, u: usize, basis: Basis, day: i64) -> Vec<Record> {
        let year = self.rubric.year;
        let took_over = self.took_over();
        self.unit_states[u]
            .rows
            .iter()
            .filter(|r| {
                let mut effective = if r.day == 0 {
                    clock_day(r.created)
                } else {
                    days_of_year_day(year, r.day)
                };
                if let Some(&t) = took_over.get(&r.id) {
                    effective = effective.max(clock_day(t));
                }
                if effective > day {
                    return false;
                }
                match r.revoked {
                    Some(t) if clock_day(t) <= day => return false,
                    None if !r.status.in_force() => return false,
                    _ => {}
                }
                match basis {
                    Basis::Provisional => true,
                    Basis::Official => r.confirmed.is_some_and(|c| clock_day(c) <= day),
                }
            })
            .map(|r| r.record(u))
            .collect()
    }

    /// Every unit's sheet as it stood on the Beijing date `day` (days since 1970) on `basis`.
    pub(crate) fn sheets_on(&self, basis: Basis, day: i64) -> Result<ScoreSheets> {
        let ledger = self.ledger_of(basis);
        let mut sheets = Vec::with_capacity(self.unit_states.len());
        for (u, unit) in self.roster().units().iter().enumerate() {
            let book = ledger
                .checked_book(&self.rubric, u, self.counted_on(u, basis, day))
                .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            sheets.push(Arc::new(score_book(&self.rubric, u, unit, &book)));
        }
        let mut sheets = ScoreSheets { sheets };
        sheets.rank();
        Ok(sheets)
    }

    /// Unit `u`'s provisional total and converted score at each month's end (computed once per
    /// version of the unit).
    pub(crate) fn months_of(&self, u: usize) -> Result<&[(Points, Points)]> {
        let st = &self.unit_states[u];
        if let Some(m) = st.months.get() {
            return Ok(m);
        }
        let unit = &self.roster().units()[u];
        let mut out = Vec::with_capacity(12);
        for end in month_ends(self.rubric.year) {
            let book = self
                .provisional
                .checked_book(&self.rubric, u, self.counted_on(u, Basis::Provisional, end))
                .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            let s = score_book(&self.rubric, u, unit, &book);
            out.push((s.total, s.converted));
        }
        let _ = st.months.set(out);
        Ok(st.months.get().map_or(&[], Vec::as_slice))
    }
}
