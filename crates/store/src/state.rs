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
//! any instance acknowledged a write shows it; on SQLite (one service process) a version checked
//! within [`SQLITE_FRESH`] is trusted. This module knows SQL and the core; it must not know HTTP.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use lvzhi_core::contract::ResultsDoc;
use lvzhi_core::{
    Basis, Decision, Ledger, LedgerBuilder, LedgerError, PeriodStatus, Points, Record,
    RecordStatus, Roster, Rubric, ScoreSheets, UnitSheet, score, score_book, score_unit,
};
use sqlx::{AnyConnection, Row};

use crate::clock::{self, clock_day, days_of_year_day, month_ends};
use crate::model::{PeriodInfo, StoredAppeal, StoredAssessment, StoredMetric, StoredUnit};
use crate::{Actor, Backend, Result, Store, StoreError, WriteTx};

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
    fn of(rows: &[RecordRow]) -> StatusCounts {
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

    fn add(&mut self, o: &StatusCounts) {
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
    months: OnceLock<Vec<(Points, Points)>>,
}

impl UnitState {
    /// The row of record `id`.
    pub fn row(&self, id: i64) -> Option<&RecordRow> {
        self.rows
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .map(|i| &self.rows[i])
    }

    fn row_mut(&mut self, id: i64) -> Option<&mut RecordRow> {
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
    unit_states: Vec<Arc<UnitState>>,
    /// Every appeal of the period, oldest first.
    pub appeals: Arc<Vec<StoredAppeal>>,
    /// The ledger of every record in force, and the one of confirmed records only.
    pub provisional: Ledger,
    pub official: Ledger,
    /// The provisional (暂定) and official (正式) results.
    pub sheets: ScoreSheets,
    pub official_sheets: ScoreSheets,
    /// `lvzhi score --json`'s object for the provisional sheets, serialized on first use.
    results_json: OnceLock<Arc<[u8]>>,
    /// For each record that replaced another: when the one it replaced stopped counting.
    took_over: OnceLock<HashMap<i64, i64>>,
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

/// One record as the compact query gives it.
#[derive(serde::Deserialize)]
struct RowTuple<'a>(
    i64,
    &'a str,
    &'a str,
    i64,
    Option<i64>,
    Option<&'a str>,
    &'a str,
    Option<i64>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
);

const ROW_COLUMNS: &str =
    "id, unit, rule, count, points, date, status, replaces, created_at, confirmed_at, revoked_at";

/// How many id ranges a large period is read in, at once.
const LOAD_PARTS: i64 = 2;

/// The compact rows of one JSON array of [`ROW_COLUMNS`], with each row's unit position.
fn rows_of(
    text: &str,
    unit_of: &HashMap<&str, usize>,
    rule_of: &HashMap<&str, u16>,
    year: i32,
) -> Result<Vec<(usize, RecordRow)>> {
    let tuples: Vec<RowTuple<'_>> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("扣分记录无法读取：{e}")))?;
    let corrupt = |id: i64, what: &str| StoreError::Corrupt(format!("记录 #{id}：{what}"));
    let mut out = Vec::with_capacity(tuples.len());
    for t in &tuples {
        let u = *unit_of
            .get(t.1)
            .ok_or_else(|| corrupt(t.0, "单位不在名册中"))?;
        let rule = *rule_of
            .get(t.2)
            .ok_or_else(|| corrupt(t.0, "条款不在细则中"))?;
        let day = match t.5 {
            Some(d) => lvzhi_core::Date::parse(d)
                .filter(|d| d.year == year)
                .map(lvzhi_core::Date::ordinal)
                .ok_or_else(|| corrupt(t.0, "日期无效"))?,
            None => 0,
        };
        out.push((
            u,
            RecordRow {
                id: t.0,
                rule,
                count: u32::try_from(t.3).map_err(|_| corrupt(t.0, "数量无效"))?,
                points: t
                    .4
                    .map_or(Ok(0), i32::try_from)
                    .map_err(|_| corrupt(t.0, "分值无效"))?,
                day,
                status: RecordStatus::parse(t.6).ok_or_else(|| corrupt(t.0, "状态无效"))?,
                replaces: t.7,
                created: clock::millis(t.8),
                confirmed: t.9.map(clock::millis),
                revoked: t.10.map(clock::millis),
            },
        ));
    }
    Ok(out)
}

impl Store {
    /// The compact rows of a period's id range as one JSON array (`$1` year, `$2`–`$3` ids).
    fn rows_sql(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!(
                "SELECT json_group_array(json_array({ROW_COLUMNS})) FROM \
                 (SELECT {ROW_COLUMNS} FROM records WHERE year = $1 AND id BETWEEN $2 AND $3 ORDER BY id)"
            ),
            Backend::Postgres => format!(
                "SELECT coalesce(json_agg(json_build_array({ROW_COLUMNS})), '[]')::text FROM \
                 (SELECT {ROW_COLUMNS} FROM records WHERE year = $1 AND id BETWEEN $2 AND $3 ORDER BY id) r"
            ),
        }
    }

    /// The cached state of period `id` if it is at `version` (read by the caller in the same
    /// query as many other periods' versions, so that a page over many periods asks the database
    /// once, not once a period).
    pub(crate) fn cached_at(&self, id: i64, version: i64) -> Option<Arc<PeriodState>> {
        self.cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)
            .filter(|(s, _)| s.info.version == version)
            .map(|(s, _)| s.clone())
    }

    /// The period's state at its current version (loaded once per version, then kept). On
    /// PostgreSQL the version is asked of the database on every read, so that a read that begins
    /// after any instance acknowledged a write shows it (read your writes across instances; issue
    /// 20); on SQLite a check within [`SQLITE_FRESH`] is trusted.
    pub async fn state(&self, year: i64) -> Result<Arc<PeriodState>> {
        if self.backend == Backend::Sqlite
            && let Some((s, at)) = self
                .cache
                .periods
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&year)
            && at.elapsed() < SQLITE_FRESH
        {
            return Ok(s.clone());
        }
        let mut conn = self.pool.acquire().await?;
        self.state_on(&mut conn, year).await
    }

    pub(crate) async fn state_on(
        &self,
        conn: &mut AnyConnection,
        year: i64,
    ) -> Result<Arc<PeriodState>> {
        // The version (and status) first: everything else is only read when the cache is stale.
        let head = sqlx::query("SELECT version, status FROM periods WHERE year = $1")
            .bind(year)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "考核期 #{year} 不存在（可先开设：细则版本页面，或 lvzhi period open）"
                ))
            })?;
        let version: i64 = head.try_get("version")?;
        let status: String = head.try_get("status")?;
        if let Some((s, at)) = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_mut(&year)
            && s.info.version == version
            && s.info.status.code() == status
        {
            *at = std::time::Instant::now();
            return Ok(s.clone());
        }
        let state = Arc::new(self.load(conn, year, true).await?);
        // Never an older state over a newer one another task installed meanwhile.
        let mut cache = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match cache.get(&year) {
            Some((newer, _)) if newer.info.version > state.info.version => Ok(newer.clone()),
            _ => {
                cache.insert(year, (state.clone(), std::time::Instant::now()));
                Ok(state)
            }
        }
    }

    /// Reads a period from the database: whole, or (`with_records` false) all but its records.
    async fn load(
        &self,
        conn: &mut AnyConnection,
        year: i64,
        with_records: bool,
    ) -> Result<PeriodState> {
        let started = std::time::Instant::now();
        let row = sqlx::query(&format!(
            "SELECT {PERIOD_COLUMNS} FROM periods p JOIN offices o ON o.code = p.office WHERE p.year = $1"
        ))
        .bind(year)
        .fetch_one(&mut *conn)
        .await?;
        let mut info = self.period_of_row(&row).await?;
        self.link_period(conn, &mut info).await?;
        let whole = self.rubric_by_hash(&info.rubric_hash).await?;
        // A part is scored by its part of the rubric: its dates, its vetoes.
        let rubric = match &info.part {
            Some(code) => Arc::new(
                whole
                    .for_part(code)
                    .ok_or_else(|| StoreError::Corrupt(format!("细则中没有考核期「{code}」")))?,
            ),
            None => whole,
        };
        let units = load_units(conn, year).await?;
        let roster = roster_of(&rubric, &units);
        let mut unit_states: Vec<UnitState> = vec![UnitState::default(); units.len()];
        let mut unit_of: HashMap<&str, usize> = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            unit_of.insert(u.name.as_str(), i);
        }
        let mut rule_of: HashMap<&str, u16> = HashMap::new();
        for (i, r) in rubric.rules.iter().enumerate() {
            rule_of.insert(r.code.as_str(), i as u16);
        }
        // The records in compact form, as JSON arrays read in parallel by id range: reading a
        // million rows one by one through the Any driver costs seconds; a text value per range,
        // parsed on its own thread, far less.
        let (lo, hi): (Option<i64>, Option<i64>) = if with_records {
            let r = sqlx::query("SELECT MIN(id), MAX(id) FROM records WHERE year = $1")
                .bind(year)
                .fetch_one(&mut *conn)
                .await?;
            (r.try_get(0)?, r.try_get(1)?)
        } else {
            (None, None)
        };
        let mut texts: Vec<String> = Vec::new();
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let parts: i64 = if hi - lo > 50_000 { LOAD_PARTS } else { 1 };
            let step = (hi - lo) / parts + 1;
            let ranges: Vec<(i64, i64)> = (0..parts)
                .map(|k| (lo + k * step, (lo + (k + 1) * step - 1).min(hi)))
                .collect();
            let reads = ranges.iter().map(|&(a, b)| async move {
                let mut c = self.pool.acquire().await?;
                let t: String = sqlx::query(&self.rows_sql())
                    .bind(year)
                    .bind(a)
                    .bind(b)
                    .fetch_one(&mut *c)
                    .await?
                    .try_get(0)?;
                Ok::<String, StoreError>(t)
            });
            texts = futures::future::try_join_all(reads).await?;
        }
        let queried = started.elapsed();
        let year_of_rubric = rubric.year;
        let parts: Vec<Result<Vec<(usize, RecordRow)>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .iter()
                .map(|t| {
                    let (unit_of, rule_of) = (&unit_of, &rule_of);
                    scope.spawn(move || rows_of(t, unit_of, rule_of, year_of_rubric))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(StoreError::Corrupt("记录读取中断".to_owned())))
                })
                .collect()
        });
        drop(texts);
        let parsed = started.elapsed();
        for part in parts {
            for (u, row) in part? {
                unit_states[u].rows.push(row);
            }
        }
        for (i, a) in load_assessments(conn, year).await?.into_iter().enumerate() {
            let u = *unit_of
                .get(a.unit.as_str())
                .ok_or_else(|| StoreError::Corrupt(format!("打分 #{i}：单位不在名册中")))?;
            unit_states[u].assessments.push(a);
        }
        for (i, m) in load_metrics(conn, year).await?.into_iter().enumerate() {
            let u = *unit_of
                .get(m.unit.as_str())
                .ok_or_else(|| StoreError::Corrupt(format!("指标 #{i}：单位不在名册中")))?;
            unit_states[u].metrics.push(m);
        }
        let appeals = load_appeals(conn, year).await?;
        drop(unit_of);
        drop(rule_of);
        let read = started.elapsed();
        let state = build_state(info, rubric, units, &roster, unit_states, appeals)?;
        tracing::debug!(
            year,
            records = state.counts().total(),
            query_ms = queried.as_millis(),
            rows_ms = parsed.saturating_sub(queried).as_millis(),
            cells_ms = read.saturating_sub(parsed).as_millis(),
            score_ms = started.elapsed().saturating_sub(read).as_millis(),
            "period loaded"
        );
        Ok(state)
    }

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

    /// A period row (selected with [`PERIOD_COLUMNS`]) as listed, without its parts' keys.
    pub(crate) async fn period_of_row(&self, r: &sqlx::any::AnyRow) -> Result<PeriodInfo> {
        let hash: String = r.try_get("rubric_hash")?;
        let rubric = self.rubric_by_hash(&hash).await?;
        let status: String = r.try_get("status")?;
        let part: String = r.try_get("part")?;
        let office_name: String = r.try_get("office_name")?;
        let part_name = rubric
            .parts
            .iter()
            .find(|p| p.code == part)
            .map(|p| p.name.clone());
        Ok(PeriodInfo {
            id: r.try_get("year")?,
            key: r.try_get("pkey")?,
            office: r.try_get("office")?,
            office_name: if office_name.is_empty() {
                rubric.issuer.clone()
            } else {
                office_name
            },
            assessment: r.try_get("assessment")?,
            assessment_name: r.try_get("assessment_name")?,
            year: r.try_get("cal_year")?,
            part: (!part.is_empty()).then_some(part),
            part_name,
            parts: Vec::new(),
            of_year: None,
            part_ids: Vec::new(),
            year_id: r.try_get("of_year")?,
            rubric_id: rubric.id.clone(),
            rubric_hash: hash,
            title: rubric.title.clone(),
            status: PeriodStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("考核期状态「{status}」无法识别")))?,
            version: r.try_get("version")?,
            created_at: r.try_get("created_at")?,
            appeal_days: r.try_get("appeal_days")?,
            decision_days: r.try_get("decision_days")?,
        })
    }

    /// Gives a period read alone its parts' keys and ids, or its year's key.
    pub(crate) async fn link_period(
        &self,
        conn: &mut AnyConnection,
        info: &mut PeriodInfo,
    ) -> Result<()> {
        let rows = sqlx::query("SELECT year, pkey FROM periods WHERE of_year = $1 ORDER BY year")
            .bind(info.id)
            .fetch_all(&mut *conn)
            .await?;
        for r in rows {
            info.part_ids.push(r.try_get("year")?);
            info.parts.push(r.try_get("pkey")?);
        }
        if let Some(y) = info.year_id {
            info.of_year = sqlx::query("SELECT pkey FROM periods WHERE year = $1")
                .bind(y)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get("pkey"))
                .transpose()?;
        }
        Ok(())
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

    /// Puts a committed write's next state in the cache; without one, the next read reloads.
    pub(crate) fn install(&self, year: i64, next: Option<PeriodState>) {
        let mut cache = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match next {
            Some(state) => {
                cache.insert(year, (Arc::new(state), std::time::Instant::now()));
            }
            None => {
                cache.remove(&year);
            }
        }
    }
}

/// A period's state from its parts: both ledgers (checked), both sets of sheets.
fn build_state(
    info: PeriodInfo,
    rubric: Arc<Rubric>,
    units: Vec<StoredUnit>,
    roster: &Roster,
    mut unit_states: Vec<UnitState>,
    appeals: Vec<StoredAppeal>,
) -> Result<PeriodState> {
    for st in &mut unit_states {
        st.counts = StatusCounts::of(&st.rows);
    }
    let ledger_of = |basis: Basis| -> Result<Ledger> {
        let mut b = LedgerBuilder::new(&rubric, roster.clone());
        for (u, st) in unit_states.iter().enumerate() {
            for r in st.rows.iter().filter(|r| r.status.counts(basis)) {
                b.push_record(r.record(u))
                    .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            }
            for (i, a) in st.assessments.iter().enumerate() {
                b.add_assessment(i as u64 + 1, &a.unit, &a.rule, &a.assessor, &a.score)
                    .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            }
            for (i, m) in st.metrics.iter().enumerate() {
                b.add_metric(i as u64 + 1, &m.unit, &m.metric, &m.value)
                    .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            }
        }
        Ok(b.finish())
    };
    let provisional = ledger_of(Basis::Provisional)?;
    let official = ledger_of(Basis::Official)?;
    let corrupt = |e: lvzhi_core::score::RubricMismatch| StoreError::Corrupt(e.to_string());
    let sheets = score(&rubric, &provisional).map_err(corrupt)?;
    let official_sheets = score(&rubric, &official).map_err(corrupt)?;
    Ok(PeriodState {
        info,
        rubric,
        units: Arc::new(units),
        unit_states: unit_states.into_iter().map(Arc::new).collect(),
        appeals: Arc::new(appeals),
        provisional,
        official,
        sheets,
        official_sheets,
        results_json: OnceLock::new(),
        took_over: OnceLock::new(),
    })
}

pub(crate) async fn load_units(conn: &mut AnyConnection, year: i64) -> Result<Vec<StoredUnit>> {
    sqlx::query("SELECT name, class, tags, version FROM period_units WHERE year = $1 ORDER BY ord")
        .bind(year)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let tags: String = r.try_get("tags")?;
            Ok(StoredUnit {
                name: r.try_get("name")?,
                class: r.try_get("class")?,
                tags: tags
                    .split(';')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                version: r.try_get("version")?,
            })
        })
        .collect()
}

async fn load_assessments(conn: &mut AnyConnection, year: i64) -> Result<Vec<StoredAssessment>> {
    sqlx::query(
        "SELECT unit, rule, assessor, score, updated_by, updated_at, version FROM assessments \
         WHERE year = $1 ORDER BY unit, rule, assessor",
    )
    .bind(year)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(StoredAssessment {
            unit: r.try_get("unit")?,
            rule: r.try_get("rule")?,
            assessor: r.try_get("assessor")?,
            score: Points::from_hundredths(r.try_get("score")?).to_string(),
            updated_by: r.try_get("updated_by")?,
            updated_at: r.try_get("updated_at")?,
            version: r.try_get("version")?,
        })
    })
    .collect()
}

async fn load_metrics(conn: &mut AnyConnection, year: i64) -> Result<Vec<StoredMetric>> {
    sqlx::query(
        "SELECT unit, metric, value, updated_by, updated_at, version FROM metrics WHERE year = $1 \
         ORDER BY unit, metric",
    )
    .bind(year)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(StoredMetric {
            unit: r.try_get("unit")?,
            metric: r.try_get("metric")?,
            value: r.try_get("value")?,
            updated_by: r.try_get("updated_by")?,
            updated_at: r.try_get("updated_at")?,
            version: r.try_get("version")?,
        })
    })
    .collect()
}

pub(crate) async fn load_appeals(conn: &mut AnyConnection, year: i64) -> Result<Vec<StoredAppeal>> {
    sqlx::query(
        "SELECT id, record_id, unit, reason, appealed_by, appealed_at, deadline, decision, decision_reason, \
         decided_by, decided_at, replacement FROM appeals WHERE year = $1 ORDER BY id",
    )
    .bind(year)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let decision: Option<String> = r.try_get("decision")?;
        Ok(StoredAppeal {
            id: r.try_get("id")?,
            record_id: r.try_get("record_id")?,
            unit: r.try_get("unit")?,
            reason: r.try_get("reason")?,
            appealed_by: r.try_get("appealed_by")?,
            appealed_at: r.try_get("appealed_at")?,
            deadline: r.try_get("deadline")?,
            decision: match decision {
                Some(d) => Some(Decision::parse(&d).ok_or_else(|| {
                    StoreError::Corrupt(format!("申诉决定「{d}」无法识别"))
                })?),
                None => None,
            },
            decision_reason: r.try_get("decision_reason")?,
            decided_by: r.try_get("decided_by")?,
            decided_at: r.try_get("decided_at")?,
            replacement: r.try_get("replacement")?,
        })
    })
    .collect()
}
