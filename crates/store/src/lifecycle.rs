//! The assessment year from opening to publication: confirmation, appeals, publication snapshots,
//! results as of a date, what-if, notifications and the next year's period.
//!
//! Record states: `recorded` (待确认) → `confirmed` (已确认, by the office) → optionally `appealed`
//! (申诉中, by the unit, within the period's window after confirmation) → `upheld` (维持), `revoked`
//! (撤销) or `changed` (改判: a new, confirmed record replaces it). The provisional result counts every
//! record in force; the official one only confirmed records. Publishing freezes a snapshot (the
//! rubric, every counted record and the results, each with its SHA-256) whose hash goes into the audit
//! chain; a published period refuses writes until an admin reopens it with a reason.
//! Every write here runs in one transaction with its audit entry and its notifications. This module
//! knows SQL and the core; it must not know HTTP or HTML.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use lvzhi_core::{LedgerBuilder, Rubric, ScoreSheets, score};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use time::format_description::well_known::Rfc3339;

use crate::ledger::{
    PeriodState, StoredRecord, StoredUnit, build_ledger, check_version, fields, insert_record,
    invalid, roster_of,
};
use crate::{Actor, NewRecord, Result, Store, StoreError, User, audit};

/// An appeal (异议申诉) of one confirmed record by its unit.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredAppeal {
    pub id: i64,
    pub record_id: i64,
    pub unit: String,
    pub reason: String,
    pub appealed_by: String,
    pub appealed_at: String,
    /// When the office must have decided (RFC 3339 UTC).
    pub deadline: String,
    /// `upheld`, `revoked` or `changed` once decided.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The record that replaces the appealed one, for `changed`.
    pub replacement: Option<i64>,
}

impl StoredAppeal {
    pub fn is_open(&self) -> bool {
        self.decision.is_none()
    }

    /// Open past its deadline at `now` (RFC 3339 UTC text, which sorts as time).
    pub fn is_overdue(&self, now: &str) -> bool {
        self.is_open() && self.deadline.as_str() < now
    }
}

/// The office's decision on an appeal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Upheld,
    Revoked,
    Changed,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s.trim() {
            "upheld" | "维持" => Some(Decision::Upheld),
            "revoked" | "撤销" => Some(Decision::Revoked),
            "changed" | "改判" => Some(Decision::Changed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Upheld => "upheld",
            Decision::Revoked => "revoked",
            Decision::Changed => "changed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Upheld => "维持",
            Decision::Revoked => "撤销",
            Decision::Changed => "改判",
        }
    }
}

/// Which records a result counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Every record in force: recorded, confirmed, under appeal or upheld (the provisional result).
    InForce,
    /// Confirmed records only (the official result).
    Confirmed,
}

impl Basis {
    pub fn parse(s: &str) -> Option<Basis> {
        match s {
            "" | "all" | "in_force" | "provisional" => Some(Basis::InForce),
            "confirmed" | "official" => Some(Basis::Confirmed),
            _ => None,
        }
    }
}

/// What stands between a period and its publication.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Checklist {
    /// Records not yet confirmed (ids).
    pub pending_records: Vec<i64>,
    /// Appeals not yet decided (record ids).
    pub open_appeals: Vec<i64>,
    /// Incomplete items of the official result: "单位：条款 缺少…".
    pub incomplete: Vec<String>,
}

impl Checklist {
    pub fn is_clear(&self) -> bool {
        self.pending_records.is_empty()
            && self.open_appeals.is_empty()
            && self.incomplete.is_empty()
    }

    /// Each exception in one line, in Chinese.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.pending_records.is_empty() {
            out.push(format!(
                "{} 条扣分记录待确认（{}）",
                self.pending_records.len(),
                ids_text(&self.pending_records)
            ));
        }
        if !self.open_appeals.is_empty() {
            out.push(format!(
                "{} 项申诉未决定（记录 {}）",
                self.open_appeals.len(),
                ids_text(&self.open_appeals)
            ));
        }
        if !self.incomplete.is_empty() {
            out.push(format!(
                "{} 项数据不完整：{}",
                self.incomplete.len(),
                first_of(&self.incomplete, 5)
            ));
        }
        out
    }
}

fn ids_text(ids: &[i64]) -> String {
    let shown: Vec<String> = ids.iter().take(10).map(|i| format!("#{i}")).collect();
    if ids.len() > 10 {
        format!("{} 等", shown.join("、"))
    } else {
        shown.join("、")
    }
}

fn first_of(items: &[String], n: usize) -> String {
    let shown = items.iter().take(n).cloned().collect::<Vec<_>>().join("；");
    if items.len() > n {
        format!("{shown} 等")
    } else {
        shown
    }
}

/// A publication as listed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PublicationInfo {
    pub year: i64,
    pub seq: i64,
    /// SHA-256 of the snapshot's body (its canonical JSON), hex.
    pub hash: String,
    pub published_at: String,
    pub published_by: String,
    pub reason: String,
}

/// How one unit's official result differs between two snapshots.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UnitChange {
    pub unit: String,
    pub before_total: Option<String>,
    pub after_total: Option<String>,
    pub before_converted: Option<String>,
    pub after_converted: Option<String>,
    pub before_rank: Option<u32>,
    pub after_rank: Option<u32>,
    /// Record ids counted now and not before, and the other way round.
    pub records_added: Vec<i64>,
    pub records_removed: Vec<i64>,
}

/// One unit in a what-if: before, after, and its distance to the next rank.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WhatIfRow {
    pub unit: String,
    pub class: String,
    pub before_total: String,
    pub after_total: String,
    pub before_converted: String,
    pub after_converted: String,
    pub before_rank: u32,
    pub after_rank: u32,
    /// Points the unit lacks to pass the unit ranked just above it (after the change); none for
    /// the first of its class.
    pub to_next_rank: Option<String>,
}

/// The outcome of a what-if: nothing was stored.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WhatIf {
    pub rubric: String,
    pub changed: usize,
    pub rows: Vec<WhatIfRow>,
}

/// What opening the next year's period would do to the roster, for review before confirming.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NextPeriodPlan {
    pub year: i64,
    pub rubric_id: String,
    pub carry_from: Option<i64>,
    /// The roster the new period gets.
    pub units: Vec<StoredUnit>,
    /// Units of the new rubric that the previous period did not have.
    pub added: Vec<String>,
    /// Units of the previous period that the new rubric does not list (not carried).
    pub removed: Vec<String>,
    /// "单位：A 类 → B 类" for units whose class the new rubric changes.
    pub class_changes: Vec<String>,
    /// Units whose tags were carried from the previous period instead of the rubric's.
    pub tags_carried: Vec<String>,
    /// Accounts bound to a removed unit (they keep their login; they see nothing of the new year).
    pub orphaned_accounts: Vec<String>,
    /// Whether the period was created (false for a preview).
    pub created: bool,
}

/// One in-application notification.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Notice {
    /// Stored notices have an id; reminders computed from the current state do not.
    pub id: Option<i64>,
    pub year: i64,
    pub kind: String,
    pub message: String,
    /// What it is about (`record:12`, `period:2022`, `unit:…`).
    pub entity: String,
    pub at: Option<String>,
    pub unread: bool,
}

/// A user's notices: what happened (stored) and what is due (computed now).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Notices {
    pub unread: usize,
    pub items: Vec<Notice>,
    pub reminders: Vec<Notice>,
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical JSON text of a value: object keys sorted, no spaces. Snapshot hashes are taken over
/// this text, so anyone can reproduce them from the published contents.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let ordered: BTreeMap<&String, serde_json::Value> =
                    m.iter().map(|(k, v)| (k, sorted(v))).collect();
                let mut out = serde_json::Map::new();
                for (k, v) in ordered {
                    out.insert(k.clone(), v);
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

fn parse_time(t: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(t, &Rfc3339).ok()
}

/// A time as the store writes it: RFC 3339 UTC with milliseconds (sorts as text).
pub(crate) fn format_time(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

/// `t` plus whole days.
fn plus_days(t: &str, days: i64) -> String {
    parse_time(t).map_or_else(
        || t.to_owned(),
        |x| format_time(x + time::Duration::days(days)),
    )
}

/// The Beijing-time calendar date (`YYYY-MM-DD`) of an RFC 3339 time.
pub(crate) fn beijing_date(t: &str) -> String {
    parse_time(t).map_or_else(
        || t.get(..10).unwrap_or(t).to_owned(),
        |x| {
            let d = x
                .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC))
                .date();
            format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
        },
    )
}

/// A time in Beijing for messages: `2022-07-08 17:00`.
pub(crate) fn beijing_minute(t: &str) -> String {
    parse_time(t).map_or_else(
        || t.to_owned(),
        |x| {
            let b = x.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                b.year(),
                u8::from(b.month()),
                b.day(),
                b.hour(),
                b.minute()
            )
        },
    )
}

/// When a confirmed record's appeal window closes.
pub fn appeal_deadline(r: &StoredRecord, appeal_days: i64) -> Option<String> {
    r.confirmed_at.as_deref().map(|c| plus_days(c, appeal_days))
}

/// Whether a record counted on calendar date `d` (`YYYY-MM-DD`): it took effect by then (its 日期,
/// or the day it was recorded when it has none; a correction or a changed decision takes over from
/// the record it replaces only on the day that one stopped counting, `took_over`), was confirmed by
/// then for the official basis, and was not yet revoked or replaced.
fn counted_on(r: &StoredRecord, took_over: Option<String>, basis: Basis, d: &str) -> bool {
    let mut effective = r
        .date
        .clone()
        .unwrap_or_else(|| beijing_date(&r.created_at));
    if let Some(t) = took_over
        && t > effective
    {
        effective = t;
    }
    if effective.as_str() > d {
        return false;
    }
    if let Some(at) = &r.revoked_at
        && beijing_date(at).as_str() <= d
    {
        return false;
    }
    if !r.in_force() && r.revoked_at.is_none() {
        return false;
    }
    match basis {
        Basis::InForce => true,
        Basis::Confirmed => r
            .confirmed_at
            .as_deref()
            .is_some_and(|c| beijing_date(c).as_str() <= d),
    }
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
        Ok(StoredAppeal {
            id: r.try_get("id")?,
            record_id: r.try_get("record_id")?,
            unit: r.try_get("unit")?,
            reason: r.try_get("reason")?,
            appealed_by: r.try_get("appealed_by")?,
            appealed_at: r.try_get("appealed_at")?,
            deadline: r.try_get("deadline")?,
            decision: r.try_get("decision")?,
            decision_reason: r.try_get("decision_reason")?,
            decided_by: r.try_get("decided_by")?,
            decided_at: r.try_get("decided_at")?,
            replacement: r.try_get("replacement")?,
        })
    })
    .collect()
}

/// Stores a notification inside the caller's write transaction. `audience` is `unit` (target: the
/// unit's name), `office` (admins and recorders), `group` (target: the group) or `all`.
#[allow(clippy::too_many_arguments)] // each is one column of the notice
pub(crate) async fn notify(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    year: i64,
    audience: &str,
    target: &str,
    kind: &str,
    message: &str,
    entity: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (year, audience, target, kind, message, entity, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(year)
    .bind(audience)
    .bind(target)
    .bind(kind)
    .bind(message)
    .bind(entity)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A conditional update of record `id` must have changed exactly one row; otherwise someone else
/// changed the record first.
fn one_row(n: &sqlx::any::AnyQueryResult, id: i64) -> Result<()> {
    if n.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "记录 #{id} 已被他人修改，请刷新后重试"
        )))
    }
}

fn rule_label(rubric: &Rubric, code: &str) -> String {
    rubric
        .rules
        .iter()
        .find(|r| r.code == code)
        .map_or_else(|| code.to_owned(), |r| format!("{code} {}", r.text))
}

fn record_of(state: &PeriodState, year: i64, id: i64) -> Result<StoredRecord> {
    state
        .records
        .iter()
        .find(|r| r.id == id)
        .map(|r| (**r).clone())
        .ok_or_else(|| StoreError::NotFound(format!("{year} 年度没有记录 #{id}")))
}

/// The sheets of a period on a basis, optionally as of a date.
fn sheets_of(state: &PeriodState, basis: Basis, as_of: Option<&str>) -> Result<ScoreSheets> {
    let stopped: HashMap<i64, String> = state
        .records
        .iter()
        .filter_map(|r| r.revoked_at.as_deref().map(|t| (r.id, beijing_date(t))))
        .collect();
    let records: Vec<Arc<StoredRecord>> = state
        .records
        .iter()
        .filter(|r| match as_of {
            Some(d) => counted_on(
                r,
                r.replaces.and_then(|p| stopped.get(&p).cloned()),
                basis,
                d,
            ),
            None => match basis {
                Basis::InForce => r.in_force(),
                Basis::Confirmed => r.confirmed(),
            },
        })
        .map(|r| {
            // A record that counted then but has been revoked since is scored as it stood.
            if r.in_force() {
                r.clone()
            } else {
                let mut then = (**r).clone();
                then.status = "confirmed".into();
                Arc::new(then)
            }
        })
        .collect();
    let ledger = build_ledger(
        &state.rubric,
        &state.units,
        &records,
        &state.assessments,
        &state.metrics,
        None,
        Some(&state.ledger),
    )
    .map_err(|e| StoreError::Corrupt(crate::ledger::ledger_message(&e)))?;
    score(&state.rubric, &ledger).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Points a unit lacks to pass the unit ranked just above it in its class.
fn to_next_rank(sheets: &ScoreSheets) -> HashMap<String, Option<lvzhi_core::Points>> {
    let mut out = HashMap::new();
    for (i, s) in sheets.sheets.iter().enumerate() {
        let above = sheets.sheets[..i]
            .iter()
            .rev()
            .find(|o| o.class == s.class && o.rank < s.rank);
        let gap = above
            .map(|o| o.total - s.total)
            .filter(|g| !g.is_negative() && *g != lvzhi_core::Points::ZERO);
        out.insert(s.name.clone(), gap);
    }
    out
}

impl Store {
    /// The same store with another clock for the lifecycle (appeal windows, deadlines, overdue
    /// appeals): for tests that walk through a year, and for nothing else.
    pub fn with_clock(mut self, clock: crate::Clock) -> Store {
        self.clock = Some(clock);
        self
    }

    /// The lifecycle's current time.
    pub fn lifecycle_now(&self) -> String {
        self.clock.as_ref().map_or_else(crate::now, |c| c())
    }

    /// Confirms records (待确认 → 已确认) in one transaction; each unit is told, with its appeal
    /// deadline. Records already confirmed are refused by name.
    pub async fn confirm_records(
        &self,
        year: i64,
        ids: &[i64],
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<Vec<StoredRecord>> {
        if ids.is_empty() {
            return Err(StoreError::invalid("ids", "请选择要确认的记录"));
        }
        let (mut tx, state) = self.write_period(year).await?;
        let at = self.lifecycle_now();
        let mut done = Vec::new();
        let index: HashMap<i64, usize> = state
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i))
            .collect();
        for &id in ids {
            let old = index
                .get(&id)
                .map(|&i| (*state.records[i]).clone())
                .ok_or_else(|| StoreError::NotFound(format!("{year} 年度没有记录 #{id}")))?;
            if ids.len() == 1 {
                check_version(&format!("记录 #{id} "), old.version, version)?;
            }
            if old.status != "recorded" {
                return Err(StoreError::Conflict(format!(
                    "记录 #{id} 的状态是「{}」，只有待确认的记录可以确认",
                    status_label(&old.status)
                )));
            }
            let n = sqlx::query(
                "UPDATE records SET status = 'confirmed', confirmed_at = $1, confirmed_by = $2, \
                 version = version + 1 WHERE id = $3 AND version = $4 AND status = 'recorded'",
            )
            .bind(&at)
            .bind(&actor.name)
            .bind(id)
            .bind(old.version)
            .execute(&mut **tx)
            .await?;
            one_row(&n, id)?;
            let mut new = old.clone();
            new.status = "confirmed".into();
            new.confirmed_at = Some(at.clone());
            new.confirmed_by = Some(actor.name.clone());
            new.version += 1;
            audit::change(
                &mut tx,
                actor,
                "record.confirm",
                &format!("record:{id}"),
                Some(&old),
                &new,
            )
            .await?;
            done.push(new);
        }
        // The units are told: one notice per unit (with the clause when it is one record).
        let deadline = beijing_minute(&plus_days(&at, state.info.appeal_days));
        let mut per_unit: BTreeMap<&str, Vec<&StoredRecord>> = BTreeMap::new();
        for d in &done {
            per_unit.entry(d.unit.as_str()).or_default().push(d);
        }
        for (unit, recs) in per_unit {
            let message = match recs.as_slice() {
                [one] => format!(
                    "扣分记录 #{}（{}）已确认；如有异议，请于 {deadline} 前提出申诉",
                    one.id,
                    rule_label(&state.rubric, &one.rule)
                ),
                many => format!(
                    "{} 条扣分记录已确认（{}）；如有异议，请于 {deadline} 前提出申诉",
                    many.len(),
                    ids_text(&many.iter().map(|r| r.id).collect::<Vec<_>>())
                ),
            };
            let entity = match recs.as_slice() {
                [one] => format!("record:{}", one.id),
                _ => format!("unit:{unit}"),
            };
            notify(
                &mut tx,
                year,
                "unit",
                unit,
                "record.confirmed",
                &message,
                &entity,
                &at,
            )
            .await?;
        }
        Self::bump(&mut tx, year).await?;
        let next = Self::next_state(&state, |_, records, _, _| {
            for d in &done {
                if let Some(&i) = index.get(&d.id) {
                    records[i] = Arc::new(d.clone());
                }
            }
        });
        tx.commit_then(|| self.install(year, next)).await?;
        Ok(done)
    }

    /// A unit's appeal of one of its confirmed records, within the period's window. `unit` is the
    /// caller's own unit, from its account.
    pub async fn appeal(
        &self,
        year: i64,
        id: i64,
        unit: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<StoredAppeal> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("reason", "申诉须说明理由"));
        }
        if reason.chars().count() > 2000 {
            return Err(StoreError::invalid("reason", "申诉理由不能超过 2000 字"));
        }
        let (mut tx, state) = self.write_period(year).await?;
        let old = record_of(&state, year, id)?;
        if old.unit != unit {
            return Err(StoreError::Forbidden(format!(
                "记录 #{id} 不是本单位的记录，不能申诉"
            )));
        }
        if state.appeals.iter().any(|a| a.record_id == id) {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 已申诉过，每条记录只能申诉一次"
            )));
        }
        if old.status != "confirmed" {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 的状态是「{}」，只能对已确认的记录申诉",
                status_label(&old.status)
            )));
        }
        if let Some(prev) = old.replaces
            && state
                .records
                .iter()
                .any(|r| r.id == prev && r.status == "changed")
        {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 是申诉改判的结果，为最终决定，不能再申诉"
            )));
        }
        let at = self.lifecycle_now();
        let window_end = appeal_deadline(&old, state.info.appeal_days).unwrap_or_default();
        if at.as_str() > window_end.as_str() {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 的申诉期已于 {} 结束（确认后 {} 天内可申诉）",
                beijing_minute(&window_end),
                state.info.appeal_days
            )));
        }
        let deadline = plus_days(&at, state.info.decision_days);
        let row = sqlx::query(
            "INSERT INTO appeals (year, record_id, unit, reason, appealed_by, appealed_at, deadline) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(year)
        .bind(id)
        .bind(unit)
        .bind(reason)
        .bind(&actor.name)
        .bind(&at)
        .bind(&deadline)
        .fetch_one(&mut **tx)
        .await?;
        let appeal = StoredAppeal {
            id: row.try_get(0)?,
            record_id: id,
            unit: unit.to_owned(),
            reason: reason.to_owned(),
            appealed_by: actor.name.clone(),
            appealed_at: at.clone(),
            deadline: deadline.clone(),
            decision: None,
            decision_reason: None,
            decided_by: None,
            decided_at: None,
            replacement: None,
        };
        let n = sqlx::query(
            "UPDATE records SET status = 'appealed', version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(id)
        .bind(old.version)
        .execute(&mut **tx)
        .await?;
        one_row(&n, id)?;
        let mut new = old.clone();
        new.status = "appealed".into();
        new.version += 1;
        audit::change(
            &mut tx,
            actor,
            "record.appeal",
            &format!("record:{id}"),
            Some(&old),
            &appeal,
        )
        .await?;
        notify(
            &mut tx,
            year,
            "office",
            "",
            "appeal.opened",
            &format!(
                "{unit} 对扣分记录 #{id}（{}）提出申诉，请于 {} 前作出决定",
                rule_label(&state.rubric, &old.rule),
                beijing_minute(&deadline)
            ),
            &format!("record:{id}"),
            &at,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let next = Self::next_state(&state, |_, records, _, _| {
            if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                *r = Arc::new(new.clone());
            }
        })
        .map(|mut s| {
            s.appeals.push(appeal.clone());
            s
        });
        tx.commit_then(|| self.install(year, next)).await?;
        Ok(appeal)
    }

    /// The office's decision on an appealed record, with a written reason. `changed` needs the
    /// replacement record, which is checked against the rubric and stored as confirmed.
    pub async fn decide(
        &self,
        year: i64,
        id: i64,
        decision: Decision,
        reason: &str,
        replacement: Option<&NewRecord>,
        actor: &Actor,
    ) -> Result<(StoredAppeal, Option<StoredRecord>)> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("reason", "申诉决定须写明理由"));
        }
        let (mut tx, state) = self.write_period(year).await?;
        let old = record_of(&state, year, id)?;
        let Some(open) = state
            .appeals
            .iter()
            .find(|a| a.record_id == id && a.is_open())
            .cloned()
        else {
            return Err(StoreError::Conflict(format!("记录 #{id} 没有待决定的申诉")));
        };
        let replacement = match (decision, replacement) {
            (Decision::Changed, None) => {
                return Err(StoreError::invalid(
                    "replacement",
                    "改判须给出改判后的记录（条款、数量或分值）",
                ));
            }
            (Decision::Changed, Some(r)) => {
                if r.unit.trim() != old.unit {
                    return Err(StoreError::invalid(
                        "replacement.unit",
                        format!("改判后的记录须属于原单位 {}", old.unit),
                    ));
                }
                Some(r)
            }
            (_, Some(_)) => {
                return Err(StoreError::invalid(
                    "replacement",
                    "只有改判需要新的记录；维持或撤销时请不要填写",
                ));
            }
            (_, None) => None,
        };
        let at = self.lifecycle_now();
        let status = match decision {
            Decision::Upheld => "upheld",
            Decision::Revoked => "revoked",
            Decision::Changed => "changed",
        };
        let ends = decision != Decision::Upheld;
        let n = sqlx::query(
            "UPDATE records SET status = $1, revoked_reason = $2, revoked_by = $3, revoked_at = $4, \
             version = version + 1 WHERE id = $5 AND version = $6 AND status = 'appealed'",
        )
        .bind(status)
        .bind(ends.then_some(reason))
        .bind(ends.then_some(actor.name.as_str()))
        .bind(ends.then_some(at.as_str()))
        .bind(id)
        .bind(old.version)
        .execute(&mut **tx)
        .await?;
        one_row(&n, id)?;
        let mut new = old.clone();
        new.status = status.into();
        if ends {
            new.revoked_reason = Some(reason.to_owned());
            new.revoked_by = Some(actor.name.clone());
            new.revoked_at = Some(at.clone());
        }
        new.version += 1;
        let added = match replacement {
            Some(r) => Some(
                insert_record(&mut tx, &state, year, r, Some(id), Some(id), true, actor).await?,
            ),
            None => None,
        };
        sqlx::query(
            "UPDATE appeals SET decision = $1, decision_reason = $2, decided_by = $3, decided_at = $4, \
             replacement = $5 WHERE id = $6",
        )
        .bind(decision.as_str())
        .bind(reason)
        .bind(&actor.name)
        .bind(&at)
        .bind(added.as_ref().map(|r| r.id))
        .bind(open.id)
        .execute(&mut **tx)
        .await?;
        let decided = StoredAppeal {
            decision: Some(decision.as_str().to_owned()),
            decision_reason: Some(reason.to_owned()),
            decided_by: Some(actor.name.clone()),
            decided_at: Some(at.clone()),
            replacement: added.as_ref().map(|r| r.id),
            ..open.clone()
        };
        audit::change(
            &mut tx,
            actor,
            "appeal.decide",
            &format!("record:{id}"),
            Some(&open),
            &decided,
        )
        .await?;
        let what = match &added {
            Some(r) => format!("，改判为记录 #{}", r.id),
            None => String::new(),
        };
        notify(
            &mut tx,
            year,
            "unit",
            &old.unit,
            "appeal.decided",
            &format!(
                "对扣分记录 #{id} 的申诉已决定：{}{what}。理由：{reason}",
                decision.label()
            ),
            &format!("record:{id}"),
            &at,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let next = Self::next_state(&state, |_, records, _, _| {
            if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                *r = Arc::new(new.clone());
            }
            records.extend(added.clone().map(Arc::new));
        })
        .map(|mut s| {
            if let Some(a) = s.appeals.iter_mut().find(|a| a.id == decided.id) {
                *a = decided.clone();
            }
            s
        });
        tx.commit_then(|| self.install(year, next)).await?;
        Ok((decided, added))
    }

    /// Sets the period's appeal window and decision time, in days.
    pub async fn set_windows(
        &self,
        year: i64,
        appeal_days: i64,
        decision_days: i64,
        actor: &Actor,
    ) -> Result<()> {
        for (field, v) in [
            ("appeal_days", appeal_days),
            ("decision_days", decision_days),
        ] {
            if !(0..=365).contains(&v) {
                return Err(StoreError::invalid(field, "天数须在 0 到 365 之间"));
            }
        }
        let (mut tx, state) = self.write_period(year).await?;
        sqlx::query("UPDATE periods SET appeal_days = $1, decision_days = $2 WHERE year = $3")
            .bind(appeal_days)
            .bind(decision_days)
            .bind(year)
            .execute(&mut **tx)
            .await?;
        audit::append(
            &mut tx,
            actor,
            "period.windows",
            &format!("period:{year}"),
            Some(&serde_json::json!({
                "appeal_days": state.info.appeal_days, "decision_days": state.info.decision_days
            })),
            Some(&serde_json::json!({"appeal_days": appeal_days, "decision_days": decision_days})),
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        tx.commit_then(|| self.install(year, None)).await?;
        Ok(())
    }

    /// The official (confirmed) or provisional sheets, now or as they stood on a date
    /// (`YYYY-MM-DD`, Beijing time).
    pub async fn sheets(
        &self,
        year: i64,
        basis: Basis,
        as_of: Option<&str>,
    ) -> Result<(Arc<PeriodState>, Arc<ScoreSheets>)> {
        let state = self.state(year).await?;
        let as_of = match as_of {
            Some(d) => Some(
                lvzhi_core::Date::parse(d)
                    .ok_or_else(|| StoreError::invalid("as_of", "日期格式应为 YYYY-MM-DD"))?
                    .to_string(),
            ),
            None => None,
        };
        let sheets = match (basis, &as_of) {
            (Basis::InForce, None) => Arc::new(state.sheets.clone()),
            (Basis::Confirmed, None) => {
                if let Some(s) = state.confirmed.get() {
                    s.clone()
                } else {
                    let s = Arc::new(sheets_of(&state, basis, None)?);
                    let _ = state.confirmed.set(s.clone());
                    s
                }
            }
            (_, Some(d)) => Arc::new(sheets_of(&state, basis, Some(d))?),
        };
        Ok((state, sheets))
    }

    /// A unit's total and rank at the end of each month of the period's year (provisional basis).
    pub async fn trend(&self, year: i64, unit: &str) -> Result<Vec<(String, String, u32)>> {
        let state = self.state(year).await?;
        if !state.units.iter().any(|u| u.name == unit) {
            return Err(StoreError::NotFound(format!(
                "{year} 年度名册中没有 {unit}"
            )));
        }
        // Twelve scorings of the whole period, once per version, shared by every unit's trend.
        let months = if let Some(m) = state.months.get() {
            m.clone()
        } else {
            let mut all = Vec::new();
            for month in 1..=12u8 {
                let last = (28..=31u8)
                    .rev()
                    .find(|d| {
                        lvzhi_core::Date::parse(&format!("{year}-{month:02}-{d:02}")).is_some()
                    })
                    .unwrap_or(28);
                let day = format!("{year}-{month:02}-{last:02}");
                let sheets = sheets_of(&state, Basis::InForce, Some(&day))?;
                all.push((day, sheets));
            }
            let all = Arc::new(all);
            let _ = state.months.set(all.clone());
            all
        };
        Ok(months
            .iter()
            .filter_map(|(day, sheets)| {
                let s = sheets.sheets.iter().find(|s| s.name == unit)?;
                Some((day.clone(), s.total.to_fixed2(), s.rank))
            })
            .collect())
    }

    /// What the period's results would be with hypothetical records added, some records left out,
    /// and optionally another rubric: nothing is stored.
    pub async fn what_if(
        &self,
        year: i64,
        add: &[NewRecord],
        leave_out: &[i64],
        rubric_text: Option<&str>,
    ) -> Result<WhatIf> {
        let state = self.state(year).await?;
        let rubric = match rubric_text {
            Some(t) => Arc::new(
                Rubric::from_toml(t).map_err(|e| StoreError::invalid("rubric", e.to_string()))?,
            ),
            None => state.rubric.clone(),
        };
        for id in leave_out {
            record_of(&state, year, *id)?;
        }
        let mut b = LedgerBuilder::new(&rubric, roster_of(&rubric, &state.units));
        let mut problems = Vec::new();
        for r in state.records.iter().filter(|r| r.in_force()) {
            if leave_out.contains(&r.id) {
                continue;
            }
            let checked = crate::ledger::with_stored_fields(r, |f| b.add_record(r.id as u64, f));
            if let Err(e) = checked {
                problems.push(crate::RowProblem {
                    table: "records",
                    index: r.id as usize - 1,
                    field: e.field.column().to_owned(),
                    message: format!("记录 #{}：{}", r.id, crate::ledger::ledger_message(&e)),
                });
            }
        }
        let base = state.records.iter().map(|r| r.id).max().unwrap_or(0) as u64;
        for (i, r) in add.iter().enumerate() {
            if let Err(e) = b.add_record(base + 1 + i as u64, &fields(r)) {
                problems.push(crate::RowProblem {
                    table: "records",
                    index: i,
                    field: e.field.column().to_owned(),
                    message: format!("假设记录第 {} 条：{}", i + 1, invalid(&e)),
                });
            }
        }
        for (i, a) in state.assessments.iter().enumerate() {
            if let Err(e) = b.add_assessment(i as u64 + 1, &a.unit, &a.rule, &a.assessor, &a.score)
            {
                problems.push(crate::RowProblem {
                    table: "assessments",
                    index: i,
                    field: e.field.column().to_owned(),
                    message: crate::ledger::ledger_message(&e),
                });
            }
        }
        for (i, m) in state.metrics.iter().enumerate() {
            if let Err(e) = b.add_metric(i as u64 + 1, &m.unit, &m.metric, &m.value) {
                problems.push(crate::RowProblem {
                    table: "metrics",
                    index: i,
                    field: e.field.column().to_owned(),
                    message: crate::ledger::ledger_message(&e),
                });
            }
        }
        if !problems.is_empty() {
            problems.truncate(crate::RowProblem::KEEP);
            return Err(StoreError::Rows(problems));
        }
        let after = score(&rubric, &b.finish()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let gaps = to_next_rank(&after);
        let before: HashMap<&str, &lvzhi_core::UnitSheet> = state
            .sheets
            .sheets
            .iter()
            .map(|s| (s.name.as_str(), s))
            .collect();
        let mut rows = Vec::new();
        let mut changed = 0;
        for s in &after.sheets {
            let Some(b) = before.get(s.name.as_str()) else {
                continue;
            };
            if b.total != s.total || b.rank != s.rank || b.converted != s.converted {
                changed += 1;
            }
            rows.push(WhatIfRow {
                unit: s.name.clone(),
                class: rubric.classes[s.class].code.clone(),
                before_total: b.total.to_fixed2(),
                after_total: s.total.to_fixed2(),
                before_converted: b.converted.to_fixed2(),
                after_converted: s.converted.to_fixed2(),
                before_rank: b.rank,
                after_rank: s.rank,
                to_next_rank: gaps
                    .get(&s.name)
                    .copied()
                    .flatten()
                    .map(lvzhi_core::Points::to_fixed2),
            });
        }
        Ok(WhatIf {
            rubric: rubric.id.clone(),
            changed,
            rows,
        })
    }

    /// Points each unit lacks to pass the unit ranked just above it (provisional result).
    pub async fn distances(&self, year: i64) -> Result<HashMap<String, Option<String>>> {
        let state = self.state(year).await?;
        Ok(to_next_rank(&state.sheets)
            .into_iter()
            .map(|(k, v)| (k, v.map(lvzhi_core::Points::to_fixed2)))
            .collect())
    }

    /// What stands between the period and publication.
    pub async fn checklist(&self, year: i64) -> Result<Checklist> {
        let (state, official) = self.sheets(year, Basis::Confirmed, None).await?;
        Ok(checklist_of(&state, &official))
    }

    /// Publishes the period: freezes a snapshot of the official result, puts its hash into the
    /// audit chain and closes the period to writes. Exceptions on the check list must be
    /// acknowledged (with the reason, which is always required).
    pub async fn publish(
        &self,
        year: i64,
        reason: &str,
        acknowledge: bool,
        actor: &Actor,
    ) -> Result<(PublicationInfo, Vec<UnitChange>, Checklist)> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid(
                "reason",
                "发布须说明理由（如：经安委会审定）",
            ));
        }
        let (mut tx, state) = self.write_period(year).await?;
        let official = sheets_of(&state, Basis::Confirmed, None)?;
        let list = checklist_of(&state, &official);
        if !list.is_clear() && !acknowledge {
            return Err(StoreError::Conflict(format!(
                "发布前检查未通过：{}。如确需发布，请逐项说明理由并勾选“确认例外”",
                list.lines().join("；")
            )));
        }
        let seq: i64 =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM publications WHERE year = $1")
                .bind(year)
                .fetch_one(&mut **tx)
                .await?
                .try_get(0)?;
        let at = self.lifecycle_now();
        let results = serde_json::to_value(lvzhi_core::contract::ResultsDoc::new(
            &state.rubric,
            &official,
        ))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let records: Vec<serde_json::Value> = state
            .records
            .iter()
            .filter(|r| r.confirmed())
            .map(|r| {
                let v = serde_json::to_value(&**r).unwrap_or_default();
                serde_json::json!({"hash": sha256_hex(canonical_json(&v).as_bytes()), "record": v})
            })
            .collect();
        let records_hash = sha256_hex(
            records
                .iter()
                .map(|r| r["hash"].as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes(),
        );
        let snapshot = serde_json::json!({
            "format": "lvzhi-publication-1",
            "year": year,
            "seq": seq,
            "rubric": {"id": state.rubric.id, "hash": state.info.rubric_hash},
            "published_at": at,
            "published_by": actor.name,
            "reason": reason,
            "acknowledged": list.lines(),
            "records": records,
            "records_hash": records_hash,
            "results": results,
            "results_hash": sha256_hex(canonical_json(&results).as_bytes()),
        });
        let body = canonical_json(&snapshot);
        let hash = sha256_hex(body.as_bytes());
        sqlx::query(
            "INSERT INTO publications (year, seq, hash, body, published_at, published_by, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(year)
        .bind(seq)
        .bind(&hash)
        .bind(&body)
        .bind(&at)
        .bind(&actor.name)
        .bind(reason)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE periods SET status = 'published', version = version + 1 WHERE year = $1",
        )
        .bind(year)
        .execute(&mut **tx)
        .await?;
        let previous = if seq > 1 {
            Some(publication_body(&mut tx, year, seq - 1).await?)
        } else {
            None
        };
        let diff = match &previous {
            Some(prev) => diff_snapshots(prev, &snapshot),
            None => Vec::new(),
        };
        audit::append(
            &mut tx,
            actor,
            "period.publish",
            &format!("period:{year}"),
            None,
            Some(&serde_json::json!({
                "seq": seq, "hash": hash, "reason": reason, "acknowledged": list.lines(),
                "records": records.len(), "changed_units": diff.len()
            })),
        )
        .await?;
        notify(
            &mut tx,
            year,
            "all",
            "",
            "period.published",
            &format!(
                "{year} 年度考核结果已发布（第 {seq} 版，快照 {}）",
                &hash[..12]
            ),
            &format!("period:{year}"),
            &at,
        )
        .await?;
        tx.commit_then(|| self.install(year, None)).await?;
        let info = PublicationInfo {
            year,
            seq,
            hash,
            published_at: at,
            published_by: actor.name.clone(),
            reason: reason.to_owned(),
        };
        Ok((info, diff, list))
    }

    /// Reopens a published period for changes, with a reason.
    pub async fn reopen(&self, year: i64, reason: &str, actor: &Actor) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("reason", "重新开放须说明理由"));
        }
        let mut tx = self.begin_write().await?;
        let status: Option<String> = sqlx::query("SELECT status FROM periods WHERE year = $1")
            .bind(year)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match status.as_deref() {
            None => return Err(StoreError::NotFound(format!("没有 {year} 年度的考核"))),
            Some("published") => {}
            Some(_) => {
                return Err(StoreError::Conflict(format!(
                    "{year} 年度尚未发布，无需重新开放"
                )));
            }
        }
        sqlx::query("UPDATE periods SET status = 'open', version = version + 1 WHERE year = $1")
            .bind(year)
            .execute(&mut **tx)
            .await?;
        let at = self.lifecycle_now();
        audit::append(
            &mut tx,
            actor,
            "period.reopen",
            &format!("period:{year}"),
            Some(&serde_json::json!({"status": "published"})),
            Some(&serde_json::json!({"status": "open", "reason": reason})),
        )
        .await?;
        notify(
            &mut tx,
            year,
            "all",
            "",
            "period.reopened",
            &format!("{year} 年度考核已重新开放修改。理由：{reason}"),
            &format!("period:{year}"),
            &at,
        )
        .await?;
        tx.commit_then(|| self.install(year, None)).await?;
        Ok(())
    }

    /// The period's publications, oldest first.
    pub async fn publications(&self, year: i64) -> Result<Vec<PublicationInfo>> {
        sqlx::query(
            "SELECT year, seq, hash, published_at, published_by, reason FROM publications \
             WHERE year = $1 ORDER BY seq",
        )
        .bind(year)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(PublicationInfo {
                year: r.try_get("year")?,
                seq: r.try_get("seq")?,
                hash: r.try_get("hash")?,
                published_at: r.try_get("published_at")?,
                published_by: r.try_get("published_by")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
    }

    /// One publication's snapshot body (canonical JSON, exactly as hashed).
    pub async fn publication(&self, year: i64, seq: i64) -> Result<String> {
        let mut conn = self.pool.acquire().await?;
        let body: Option<String> =
            sqlx::query("SELECT body FROM publications WHERE year = $1 AND seq = $2")
                .bind(year)
                .bind(seq)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        body.ok_or_else(|| StoreError::NotFound(format!("{year} 年度没有第 {seq} 次发布")))
    }

    /// Unit by unit, how publication `seq` differs from the one before it.
    pub async fn publication_diff(&self, year: i64, seq: i64) -> Result<Vec<UnitChange>> {
        let after = self.publication(year, seq).await?;
        if seq <= 1 {
            return Ok(Vec::new());
        }
        let before = self.publication(year, seq - 1).await?;
        let parse = |t: &str| {
            serde_json::from_str::<serde_json::Value>(t)
                .map_err(|e| StoreError::Corrupt(format!("发布快照无法读取：{e}")))
        };
        Ok(diff_snapshots(&parse(&before)?, &parse(&after)?))
    }

    /// The latest publication of a period, when it is published now.
    pub async fn current_publication(&self, year: i64) -> Result<Option<PublicationInfo>> {
        let state = self.state(year).await?;
        if state.info.status != "published" {
            return Ok(None);
        }
        Ok(self.publications(year).await?.pop())
    }

    /// The notices of a user: stored ones addressed to it (newest first, at most 100) and reminders
    /// computed from the current state of `year`.
    pub async fn notices(&self, user: &User, year: i64) -> Result<Notices> {
        use crate::Role;
        let mut audiences: Vec<(String, String)> = vec![("all".into(), String::new())];
        match user.role {
            Role::Admin | Role::Recorder => audiences.push(("office".into(), String::new())),
            Role::Unit => audiences.push(("unit".into(), user.unit.clone().unwrap_or_default())),
            Role::Assessor => {
                audiences.push(("group".into(), user.group.clone().unwrap_or_default()));
            }
            Role::Leader => {}
        }
        let seen: i64 = sqlx::query("SELECT last_id FROM notification_seen WHERE user_name = $1")
            .bind(&user.name)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
        let mut items = Vec::new();
        for (aud, target) in &audiences {
            let rows = sqlx::query(
                "SELECT id, year, kind, message, entity, created_at FROM notifications \
                 WHERE audience = $1 AND target = $2 ORDER BY id DESC LIMIT 100",
            )
            .bind(aud)
            .bind(target)
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                items.push(Notice {
                    id: Some(id),
                    year: r.try_get("year")?,
                    kind: r.try_get("kind")?,
                    message: r.try_get("message")?,
                    entity: r.try_get("entity")?,
                    at: Some(r.try_get("created_at")?),
                    unread: id > seen,
                });
            }
        }
        items.sort_by_key(|n| std::cmp::Reverse(n.id));
        items.truncate(100);
        let unread = items.iter().filter(|n| n.unread).count();
        let reminders = self.reminders(user, year).await?;
        Ok(Notices {
            unread,
            items,
            reminders,
        })
    }

    /// Marks every notice up to `last_id` as seen by the user.
    pub async fn mark_seen(&self, user: &str, last_id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM notification_seen WHERE user_name = $1")
            .bind(user)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO notification_seen (user_name, last_id) VALUES ($1, $2)")
            .bind(user)
            .bind(last_id)
            .execute(&mut **tx)
            .await?;
        tx.commit().await
    }

    async fn reminders(&self, user: &User, year: i64) -> Result<Vec<Notice>> {
        use crate::Role;
        let Ok(state) = self.state(year).await else {
            return Ok(Vec::new());
        };
        let now = self.lifecycle_now();
        let mut out = Vec::new();
        let mut say = |kind: &str, message: String, entity: String| {
            out.push(Notice {
                id: None,
                year,
                kind: kind.to_owned(),
                message,
                entity,
                at: None,
                unread: false,
            });
        };
        match user.role {
            Role::Unit => {
                let unit = user.unit.clone().unwrap_or_default();
                let mut open: Vec<(String, i64)> = state
                    .records
                    .iter()
                    .filter(|r| r.unit == unit && r.status == "confirmed")
                    .filter(|r| !state.appeals.iter().any(|a| a.record_id == r.id))
                    .filter_map(|r| {
                        appeal_deadline(r, state.info.appeal_days)
                            .filter(|d| d.as_str() >= now.as_str())
                            .map(|d| (d, r.id))
                    })
                    .collect();
                open.sort();
                if let Some((first, id)) = open.first() {
                    say(
                        "appeal.window",
                        format!(
                            "{} 条已确认的扣分记录仍可申诉，最早的（记录 #{id}）截止于 {}",
                            open.len(),
                            beijing_minute(first)
                        ),
                        format!("record:{id}"),
                    );
                }
                for a in state
                    .appeals
                    .iter()
                    .filter(|a| a.unit == unit && a.is_open())
                {
                    say(
                        "appeal.pending",
                        format!(
                            "记录 #{} 的申诉正在处理，安委办应于 {} 前作出决定",
                            a.record_id,
                            beijing_minute(&a.deadline)
                        ),
                        format!("record:{}", a.record_id),
                    );
                }
            }
            Role::Assessor => {
                let group = user.group.clone().unwrap_or_default();
                let rules: Vec<&str> = state
                    .rubric
                    .rules
                    .iter()
                    .filter(|r| matches!(r.kind, lvzhi_core::RuleKind::Assessed { .. }))
                    .map(|r| r.code.as_str())
                    .collect();
                let missing: Vec<&str> =
                    user.supervises
                        .iter()
                        .filter(|u| state.units.iter().any(|x| &x.name == *u))
                        .filter(|u| {
                            rules.iter().any(|rule| {
                                !state.assessments.iter().any(|a| {
                                    &a.unit == *u && a.rule == *rule && a.assessor == group
                                })
                            })
                        })
                        .map(String::as_str)
                        .collect();
                if !missing.is_empty() {
                    say(
                        "assessment.missing",
                        format!(
                            "本组尚有 {} 个单位未打分：{}",
                            missing.len(),
                            first_of(
                                &missing.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
                                8
                            )
                        ),
                        format!("group:{group}"),
                    );
                }
            }
            Role::Admin | Role::Recorder => {
                let pending = state
                    .records
                    .iter()
                    .filter(|r| r.status == "recorded")
                    .count();
                if pending > 0 {
                    say(
                        "records.pending",
                        format!("{pending} 条扣分记录待确认"),
                        format!("period:{year}"),
                    );
                }
                let open: Vec<&StoredAppeal> =
                    state.appeals.iter().filter(|a| a.is_open()).collect();
                if !open.is_empty() {
                    let overdue = open.iter().filter(|a| a.is_overdue(&now)).count();
                    say(
                        "appeals.open",
                        if overdue > 0 {
                            format!(
                                "{} 项申诉待决定，其中 {overdue} 项已超过决定期限",
                                open.len()
                            )
                        } else {
                            format!("{} 项申诉待决定", open.len())
                        },
                        format!("period:{year}"),
                    );
                }
                let incomplete = incomplete_items(&state, &state.sheets);
                if !incomplete.is_empty() && state.info.status == "open" {
                    say(
                        "data.incomplete",
                        format!(
                            "发布前尚有 {} 项数据不完整：{}",
                            incomplete.len(),
                            first_of(&incomplete, 3)
                        ),
                        format!("period:{year}"),
                    );
                }
            }
            Role::Leader => {}
        }
        Ok(out)
    }

    /// What opening `rubric_text`'s period with the roster carried from `carry_from` would do.
    pub async fn plan_next_period(
        &self,
        rubric_text: &str,
        carry_from: Option<i64>,
    ) -> Result<NextPeriodPlan> {
        let rubric = Rubric::from_toml(rubric_text)
            .map_err(|e| StoreError::invalid("rubric", e.to_string()))?;
        if let Some(why) = rubric.pending_review() {
            return Err(StoreError::invalid("rubric", why));
        }
        let year = i64::from(rubric.year);
        let previous = match carry_from {
            Some(y) if y == year => {
                return Err(StoreError::invalid(
                    "carry_from",
                    format!("不能从同一年度（{y}）结转名册"),
                ));
            }
            Some(y) => Some(self.state(y).await?),
            None => None,
        };
        let old: HashMap<&str, &StoredUnit> = previous
            .as_ref()
            .map(|p| p.units.iter().map(|u| (u.name.as_str(), u)).collect())
            .unwrap_or_default();
        let mut plan = NextPeriodPlan {
            year,
            rubric_id: rubric.id.clone(),
            carry_from,
            units: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
            class_changes: Vec::new(),
            tags_carried: Vec::new(),
            orphaned_accounts: Vec::new(),
            created: false,
        };
        for u in &rubric.roster {
            let class = rubric.classes[u.class].code.clone();
            let mut tags = u.tags.clone();
            match old.get(u.name.as_str()) {
                Some(prev) => {
                    if prev.class != class {
                        plan.class_changes
                            .push(format!("{}：{} 类 → {} 类", u.name, prev.class, class));
                    }
                    if prev.tags != tags {
                        // Tags are kept by the office through the year: carried over, where the new
                        // rubric knows them.
                        let known: Vec<String> = prev
                            .tags
                            .iter()
                            .filter(|t| {
                                rubric
                                    .rules
                                    .iter()
                                    .any(|r| r.applies_to.as_ref() == Some(*t))
                                    || rubric.roster.iter().any(|r| r.tags.contains(*t))
                            })
                            .cloned()
                            .collect();
                        if known != tags {
                            tags = known;
                            plan.tags_carried.push(u.name.clone());
                        }
                    }
                }
                None if previous.is_some() => plan.added.push(u.name.clone()),
                None => {}
            }
            plan.units.push(StoredUnit {
                name: u.name.clone(),
                class,
                tags,
                version: 1,
            });
        }
        if let Some(p) = &previous {
            for u in &p.units {
                if !rubric.roster.iter().any(|r| r.name == u.name) {
                    plan.removed.push(u.name.clone());
                }
            }
            for user in self.users().await? {
                if user.unit.as_ref().is_some_and(|u| plan.removed.contains(u)) {
                    plan.orphaned_accounts.push(user.name.clone());
                }
            }
        }
        let exists = sqlx::query("SELECT year FROM periods WHERE year = $1")
            .bind(year)
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        if exists {
            return Err(StoreError::Conflict(format!("{year} 年度的考核已经存在")));
        }
        Ok(plan)
    }

    /// Opens the period of `rubric_text` with the plan's roster (reviewed by the caller first).
    pub async fn open_next_period(
        &self,
        rubric_text: &str,
        carry_from: Option<i64>,
        actor: &Actor,
    ) -> Result<NextPeriodPlan> {
        let mut plan = self.plan_next_period(rubric_text, carry_from).await?;
        let hash = crate::ledger::rubric_hash(rubric_text);
        let rubric = Rubric::from_toml(rubric_text)
            .map_err(|e| StoreError::invalid("rubric", e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let at = crate::now();
        let known = sqlx::query("SELECT hash FROM rubrics WHERE hash = $1")
            .bind(&hash)
            .fetch_optional(&mut **tx)
            .await?;
        if known.is_none() {
            sqlx::query(
                "INSERT INTO rubrics (hash, rubric_id, year, body, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&hash)
            .bind(&rubric.id)
            .bind(plan.year)
            .bind(rubric_text)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        }
        let (appeal_days, decision_days) = match carry_from {
            Some(y) => {
                let s = self.state(y).await?;
                (s.info.appeal_days, s.info.decision_days)
            }
            None => (7, 10),
        };
        sqlx::query(
            "INSERT INTO periods (year, rubric_hash, status, version, created_at, appeal_days, decision_days) \
             VALUES ($1, $2, 'open', 1, $3, $4, $5)",
        )
        .bind(plan.year)
        .bind(&hash)
        .bind(&at)
        .bind(appeal_days)
        .bind(decision_days)
        .execute(&mut **tx)
        .await?;
        for (i, u) in plan.units.iter().enumerate() {
            sqlx::query(
                "INSERT INTO period_units (year, ord, name, class, tags, version) VALUES ($1, $2, $3, $4, $5, 1)",
            )
            .bind(plan.year)
            .bind(i as i64)
            .bind(&u.name)
            .bind(&u.class)
            .bind(u.tags.join(";"))
            .execute(&mut **tx)
            .await?;
        }
        plan.created = true;
        audit::change(
            &mut tx,
            actor,
            "period.open",
            &format!("period:{}", plan.year),
            None::<&()>,
            &serde_json::json!({
                "year": plan.year, "rubric": rubric.id, "rubric_hash": hash,
                "units": plan.units.len(), "carry_from": carry_from, "added": plan.added,
                "removed": plan.removed, "class_changes": plan.class_changes,
                "tags_carried": plan.tags_carried,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(plan)
    }
}

/// A record's state in Chinese.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "recorded" => "待确认",
        "confirmed" => "已确认",
        "appealed" => "申诉中",
        "upheld" => "维持",
        "revoked" => "撤销",
        "changed" => "改判",
        _ => "未知",
    }
}

fn incomplete_items(state: &PeriodState, sheets: &ScoreSheets) -> Vec<String> {
    let mut out = Vec::new();
    for s in &sheets.sheets {
        for i in &s.incomplete {
            let rule = &state.rubric.rules[i.rule];
            let what = match &i.missing {
                lvzhi_core::score::Missing::Assessment => "缺少督导组打分".to_owned(),
                lvzhi_core::score::Missing::Metrics(ms) => format!(
                    "缺少指标 {}",
                    ms.iter()
                        .map(|m| state.rubric.metrics[*m].code.clone())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            };
            out.push(format!("{}：{} {what}", s.name, rule.code));
        }
    }
    out
}

fn checklist_of(state: &PeriodState, official: &ScoreSheets) -> Checklist {
    Checklist {
        pending_records: state
            .records
            .iter()
            .filter(|r| r.status == "recorded")
            .map(|r| r.id)
            .collect(),
        open_appeals: state
            .appeals
            .iter()
            .filter(|a| a.is_open())
            .map(|a| a.record_id)
            .collect(),
        incomplete: incomplete_items(state, official),
    }
}

async fn publication_body(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    year: i64,
    seq: i64,
) -> Result<serde_json::Value> {
    let body: String = sqlx::query("SELECT body FROM publications WHERE year = $1 AND seq = $2")
        .bind(year)
        .bind(seq)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("发布快照无法读取：{e}")))
}

/// Unit by unit, what changed between two snapshots (units with no change are left out).
fn diff_snapshots(before: &serde_json::Value, after: &serde_json::Value) -> Vec<UnitChange> {
    let results = |v: &serde_json::Value| -> BTreeMap<String, (String, String, u32)> {
        v["results"]["results"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        (
                            r["unit"].as_str().unwrap_or_default().to_owned(),
                            (
                                r["total"].as_str().unwrap_or_default().to_owned(),
                                r["converted"].as_str().unwrap_or_default().to_owned(),
                                r["rank"].as_u64().unwrap_or_default() as u32,
                            ),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let records = |v: &serde_json::Value| -> BTreeMap<String, Vec<i64>> {
        let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for r in v["records"].as_array().into_iter().flatten() {
            let rec = &r["record"];
            out.entry(rec["unit"].as_str().unwrap_or_default().to_owned())
                .or_default()
                .push(rec["id"].as_i64().unwrap_or_default());
        }
        out
    };
    let (rb, ra) = (results(before), results(after));
    let (cb, ca) = (records(before), records(after));
    let mut units: Vec<&String> = rb.keys().chain(ra.keys()).collect();
    units.sort();
    units.dedup();
    let empty = Vec::new();
    let mut out = Vec::new();
    for u in units {
        let (b, a) = (rb.get(u), ra.get(u));
        let (ib, ia) = (cb.get(u).unwrap_or(&empty), ca.get(u).unwrap_or(&empty));
        let added: Vec<i64> = ia.iter().filter(|i| !ib.contains(i)).copied().collect();
        let removed: Vec<i64> = ib.iter().filter(|i| !ia.contains(i)).copied().collect();
        if b == a && added.is_empty() && removed.is_empty() {
            continue;
        }
        out.push(UnitChange {
            unit: u.clone(),
            before_total: b.map(|x| x.0.clone()),
            after_total: a.map(|x| x.0.clone()),
            before_converted: b.map(|x| x.1.clone()),
            after_converted: a.map(|x| x.1.clone()),
            before_rank: b.map(|x| x.2),
            after_rank: a.map(|x| x.2),
            records_added: added,
            records_removed: removed,
        });
    }
    out
}

/// A stored rubric version.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RubricVersion {
    pub hash: String,
    pub id: String,
    pub year: i64,
    pub title: String,
    pub created_at: String,
    /// The periods scored with it.
    pub periods: Vec<i64>,
}

impl Store {
    /// Every stored rubric version, newest first.
    pub async fn rubric_versions(&self) -> Result<Vec<RubricVersion>> {
        let rows = sqlx::query(
            "SELECT r.hash, r.rubric_id, r.year, r.body, r.created_at FROM rubrics r ORDER BY r.created_at DESC, r.hash",
        )
        .fetch_all(&self.pool)
        .await?;
        let periods = sqlx::query("SELECT year, rubric_hash FROM periods ORDER BY year")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let hash: String = r.try_get("hash")?;
            let body: String = r.try_get("body")?;
            let title = Rubric::from_toml(&body).map_or_else(|_| String::new(), |x| x.title);
            let mut used = Vec::new();
            for p in &periods {
                let h: String = p.try_get("rubric_hash")?;
                if h == hash {
                    used.push(p.try_get::<i64, _>("year")?);
                }
            }
            out.push(RubricVersion {
                hash,
                id: r.try_get("rubric_id")?,
                year: r.try_get("year")?,
                title,
                created_at: r.try_get("created_at")?,
                periods: used,
            });
        }
        Ok(out)
    }

    /// One stored rubric version's text.
    pub async fn rubric_text(&self, hash: &str) -> Result<String> {
        let body: Option<String> = sqlx::query("SELECT body FROM rubrics WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        body.ok_or_else(|| StoreError::NotFound(format!("没有细则版本 {hash}")))
    }

    /// Saves a final rubric (it loads, nothing waits for review) as a new version; returns its hash
    /// and whether it was new.
    pub async fn save_rubric(&self, text: &str, actor: &Actor) -> Result<(String, bool)> {
        let rubric =
            Rubric::from_toml(text).map_err(|e| StoreError::invalid("rubric", e.to_string()))?;
        if let Some(why) = rubric.pending_review() {
            return Err(StoreError::invalid("rubric", why));
        }
        let hash = crate::ledger::rubric_hash(text);
        let mut tx = self.begin_write().await?;
        let known = sqlx::query("SELECT hash FROM rubrics WHERE hash = $1")
            .bind(&hash)
            .fetch_optional(&mut **tx)
            .await?;
        if known.is_some() {
            return Ok((hash, false));
        }
        sqlx::query(
            "INSERT INTO rubrics (hash, rubric_id, year, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&hash)
        .bind(&rubric.id)
        .bind(i64::from(rubric.year))
        .bind(text)
        .bind(crate::now())
        .execute(&mut **tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            "rubric.save",
            &format!("rubric:{hash}"),
            None,
            Some(&serde_json::json!({
                "id": rubric.id, "year": rubric.year, "title": rubric.title,
                "rules": rubric.rules.len(), "hash": hash,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok((hash, true))
    }
}
