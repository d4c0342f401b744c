//! A write's next state: a write starts on the period's current state inside its transaction,
//! changes the units it touches, and commits; the next state is derived from the one it started
//! from and installed when the commit succeeded.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use lvzhi_core::{Basis, Ledger, Record, Rubric, ScoreSheets, UnitSheet, score_unit};

use super::*;
use crate::model::{PeriodInfo, StoredAppeal, StoredUnit};
use crate::{Result, Store, StoreError, WriteTx};

/// The next version of a period's state, derived from the one a write started from: the write
/// changes the units it touches (through [`Next::unit`] and the ledgers), then [`Next::finish`]
/// re-checks and re-scores those units only.
pub(crate) struct Next {
    state: PeriodState,
    touched: BTreeSet<usize>,
}

impl Next {
    pub(crate) fn new(old: &PeriodState) -> Next {
        Next {
            state: PeriodState {
                info: PeriodInfo {
                    version: old.info.version + 1,
                    ..old.info.clone()
                },
                rubric: old.rubric.clone(),
                units: old.units.clone(),
                unit_states: old.unit_states.clone(),
                appeals: old.appeals.clone(),
                provisional: old.provisional.clone(),
                official: old.official.clone(),
                sheets: old.sheets.clone(),
                official_sheets: old.official_sheets.clone(),
                results_json: OnceLock::new(),
                took_over: OnceLock::new(),
            },
            touched: BTreeSet::new(),
        }
    }

    pub(crate) fn state(&self) -> &PeriodState {
        &self.state
    }

    /// Unit `u`'s part, to change (copied once).
    pub(crate) fn unit(&mut self, u: usize) -> &mut UnitState {
        self.touched.insert(u);
        let st = Arc::make_mut(&mut self.state.unit_states[u]);
        st.months = OnceLock::new();
        st
    }

    /// A record row of unit `u` to change.
    pub(crate) fn row(&mut self, u: usize, id: i64) -> Option<&mut RecordRow> {
        self.unit(u).row_mut(id)
    }

    /// Both ledgers, to set scores or metric values on (the caller touches the unit).
    pub(crate) fn ledgers(&mut self) -> (&Rubric, &mut Ledger, &mut Ledger) {
        (
            &self.state.rubric,
            &mut self.state.provisional,
            &mut self.state.official,
        )
    }

    pub(crate) fn appeals(&mut self) -> &mut Vec<StoredAppeal> {
        Arc::make_mut(&mut self.state.appeals)
    }

    /// Replaces the roster's stored units (tags); the ledgers' roster is the caller's.
    pub(crate) fn units(&mut self) -> &mut Vec<StoredUnit> {
        Arc::make_mut(&mut self.state.units)
    }

    pub(crate) fn info(&mut self) -> &mut PeriodInfo {
        &mut self.state.info
    }

    /// The next state: the touched units' records set into both ledgers (checked again by the rules
    /// across rows) and their sheets re-scored and re-ranked.
    pub(crate) fn finish(mut self) -> Result<PeriodState> {
        let st = &mut self.state;
        let mut provisional = Vec::with_capacity(self.touched.len());
        let mut official = Vec::with_capacity(self.touched.len());
        for &u in &self.touched {
            let unit = Arc::make_mut(&mut st.unit_states[u]);
            unit.rows.sort_by_key(|r| r.id);
            unit.counts = StatusCounts::of(&unit.rows);
            let rows = &st.unit_states[u].rows;
            for (basis, ledger) in [
                (Basis::Provisional, &mut st.provisional),
                (Basis::Official, &mut st.official),
            ] {
                let records: Vec<Record> = rows
                    .iter()
                    .filter(|r| r.status.counts(basis))
                    .map(|r| r.record(u))
                    .collect();
                ledger
                    .set_records(&st.rubric, u, records)
                    .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            }
            let corrupt = |e: lvzhi_core::score::RubricMismatch| StoreError::Corrupt(e.to_string());
            provisional.push(score_unit(&st.rubric, &st.provisional, u).map_err(corrupt)?);
            official.push(score_unit(&st.rubric, &st.official, u).map_err(corrupt)?);
        }
        replace_all(&mut st.sheets, provisional);
        replace_all(&mut st.official_sheets, official);
        Ok(self.state)
    }
}

/// Puts new unit sheets in place and ranks once.
fn replace_all(sheets: &mut ScoreSheets, new: Vec<UnitSheet>) {
    if new.is_empty() {
        return;
    }
    let mut by_unit: HashMap<usize, UnitSheet> = new.into_iter().map(|s| (s.unit, s)).collect();
    for s in &mut sheets.sheets {
        if let Some(n) = by_unit.remove(&s.unit) {
            *s = Arc::new(n);
        }
    }
    sheets.sheets.extend(by_unit.into_values().map(Arc::new));
    sheets.rank();
}

impl Store {
    /// Starts a write on an open period: the transaction and the period's current state.
    pub(crate) async fn write_period(
        &self,
        year: i64,
        actor: &Actor,
    ) -> Result<(WriteTx, Arc<PeriodState>)> {
        let mut tx = self.begin_write().await?;
        let state = self.state_on(&mut tx, year).await?;
        writable(&state.info, actor)?;
        Ok((tx, state))
    }

    /// Starts a write that touches no record (scores, metric values) from a process that keeps no
    /// state: the period is read without its records, which such a write neither checks nor
    /// changes, and the state read is not kept. A service starts it like any write.
    pub(crate) async fn write_period_cells(
        &self,
        year: i64,
        actor: &Actor,
    ) -> Result<(WriteTx, Arc<PeriodState>)> {
        if self.keep_state {
            return self.write_period(year, actor).await;
        }
        let mut tx = self.begin_write().await?;
        let state = Arc::new(self.load(&mut tx, year, false).await?);
        writable(&state.info, actor)?;
        Ok((tx, state))
    }

    /// Moves the period to its next version (every write does, in its transaction).
    pub(crate) async fn bump(tx: &mut WriteTx, year: i64) -> Result<()> {
        sqlx::query("UPDATE periods SET version = version + 1 WHERE year = $1")
            .bind(year)
            .execute(&mut ***tx)
            .await?;
        Ok(())
    }

    /// Commits a write and installs its next state (derived in memory); without one, the next read
    /// reloads. The writer slot is held until the state is installed.
    pub(crate) async fn commit_with(
        &self,
        tx: WriteTx,
        year: i64,
        next: Option<Next>,
    ) -> Result<()> {
        self.commit_many(tx, vec![(year, next)]).await
    }

    /// Commits a write of several periods (a year and its parts) and installs each one's next
    /// state.
    pub(crate) async fn commit_many(
        &self,
        tx: WriteTx,
        nexts: Vec<(i64, Option<Next>)>,
    ) -> Result<()> {
        // Derived before the commit: a derivation that fails (it should not) leaves a reload.
        let states: Vec<(i64, Option<PeriodState>)> = nexts
            .into_iter()
            .map(|(id, next)| {
                let state = match next.filter(|_| self.keep_state) {
                    Some(n) => match n.finish() {
                        Ok(s) => Some(s),
                        Err(e) => {
                            tracing::error!(error = %e, "next state not derived; the period reloads");
                            None
                        }
                    },
                    None => None,
                };
                (id, state)
            })
            .collect();
        tx.commit_then(|| {
            for (id, state) in states {
                self.install(id, state);
            }
        })
        .await
    }
}
