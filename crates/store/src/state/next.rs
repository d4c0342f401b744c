//! A write's next state: a write starts on the period's current state inside its transaction,
//! changes the units it touches, and commits; the next state is derived from the one it started
//! from and installed when the commit succeeded.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use lvzhi_core::{Basis, Ledger, Record, Rubric, ScoreSheets, UnitSheet, score_unit};

use super::{Actor, PeriodState, RecordRow, StatusCounts, UnitState, ledger_message, writable};
use crate::model::{PeriodInfo, StoredAppeal, StoredUnit};
use crate::{Result, Store, StoreError, WriteTx};

/// The next version of a period's state, derived from the one a write started from: the write
/// changes the units it touches (through [`Next::unit`] and the ledgers), then [`Next::finish`]
/// re-checks and re-scores those units only.
pub(crate) struct Next {
    state: PeriodState,
    touched: BTreeSet<usize>,
    /// The roster changed: another instance must read the period again, not only the units.
    whole: bool,
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
            whole: false,
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
        self.whole = true;
        Arc::make_mut(&mut self.state.units)
    }

    pub(crate) fn info(&mut self) -> &mut PeriodInfo {
        &mut self.state.info
    }

    /// Takes in what other writes changed since the state this one started from: the period's
    /// row as it is now, the changed units as read again, every appeal.
    pub(super) fn caught_up(
        &mut self,
        info: PeriodInfo,
        fresh: Vec<(usize, UnitState)>,
        appeals: Vec<StoredAppeal>,
    ) -> Result<()> {
        self.state.info = info;
        self.state.appeals = Arc::new(appeals);
        for (u, new) in fresh {
            let old = self.state.unit_states[u].clone();
            let st = &mut self.state;
            for ledger in [&mut st.provisional, &mut st.official] {
                reset_cells(&st.rubric, ledger, &old, &new)?;
            }
            let unit = self.unit(u);
            unit.rows = new.rows;
            unit.assessments = new.assessments;
            unit.metrics = new.metrics;
        }
        Ok(())
    }

    /// What this version changed, as the change log keeps it: the names of the touched units (a
    /// JSON array), or `None` when another instance must read the whole period again.
    fn change(&self) -> Option<String> {
        if self.whole {
            return None;
        }
        let units = &self.state.units;
        let names: Vec<&str> = self
            .touched
            .iter()
            .map(|&u| units.get(u).map(|x| x.name.as_str()))
            .collect::<Option<_>>()?;
        serde_json::to_string(&names).ok()
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

/// A unit's scores and metric values in `ledger` set from `old` to `new` (as stored; checked
/// again by the ledger).
fn reset_cells(
    rubric: &Rubric,
    ledger: &mut Ledger,
    old: &UnitState,
    new: &UnitState,
) -> Result<()> {
    let corrupt = |e: lvzhi_core::LedgerError| StoreError::Corrupt(ledger_message(&e));
    for a in &old.assessments {
        if !new
            .assessments
            .iter()
            .any(|b| (&b.rule, &b.assessor) == (&a.rule, &a.assessor))
        {
            ledger.remove_assessment(rubric, &a.unit, &a.rule, &a.assessor);
        }
    }
    for a in &new.assessments {
        ledger
            .set_assessment(rubric, 0, &a.unit, &a.rule, &a.assessor, &a.score)
            .map_err(corrupt)?;
    }
    for m in &old.metrics {
        if !new.metrics.iter().any(|n| n.metric == m.metric) {
            ledger.remove_metric(rubric, &m.unit, &m.metric);
        }
    }
    for m in &new.metrics {
        ledger
            .set_metric(rubric, 0, &m.unit, &m.metric, &m.value)
            .map_err(corrupt)?;
    }
    Ok(())
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
        let mut tx = self.begin_period_write(&[year]).await?;
        let state = self.state_on(&mut tx, year).await?;
        writable(&state.info, actor)?;
        Ok((tx, state))
    }

    /// Starts a write on an open period while no other period is written (one that numbers
    /// records itself).
    pub(crate) async fn write_period_alone(
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
        let mut tx = self.begin_period_write(&[year]).await?;
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
        mut tx: WriteTx,
        nexts: Vec<(i64, Option<Next>)>,
    ) -> Result<()> {
        for (id, next) in &nexts {
            let change = next.as_ref().and_then(Next::change);
            log_change(&mut tx, *id, change.as_deref()).await?;
        }
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

/// Notes in the change log what the period's current version (the one this write moved it to)
/// changed: `units`, or, without them, that the period must be read again. A second note of one
/// version (a write that did not move the version) makes it a whole reload.
async fn log_change(tx: &mut WriteTx, year: i64, units: Option<&str>) -> Result<()> {
    sqlx::query(
        "INSERT INTO period_changes (year, version, units) SELECT year, version, $2 FROM periods \
         WHERE year = $1 ON CONFLICT (year, version) DO UPDATE SET units = NULL",
    )
    .bind(year)
    .bind(units)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}
