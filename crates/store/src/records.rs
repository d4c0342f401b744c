//! Records: adding one (checked by the core against its unit's records), revoking and correcting,
//! confirming, and reading them back — one, a unit's, a filtered and sorted page, or all of a year.
//!
//! Records are append-only: a correction revokes a record with a reason (and may add its
//! replacement), and the history keeps both. A record is checked once, at the edge, by the core
//! (`Ledger::check_record` and `Ledger::admits`); what is stored is what the check produced, never a
//! second reading of the raw text. Every write runs in one transaction with its audit entry and its
//! notices, and costs the unit it touches. This module knows SQL; it must not know HTTP.

use std::collections::{BTreeMap, HashSet};

use lvzhi_core::{Date, NewRecord, Points, Record, RecordStatus, Rubric, RuleKind};
use sqlx::Row;

use crate::audit::AuditAction;
use crate::model::StoredRecord;
use crate::notices::{Audience, NoticeKind, notify};
use crate::state::{Next, PeriodState, RecordRow, invalid};
use crate::{Actor, Backend, Result, Store, StoreError, WriteTx, audit, clock};

/// Which records to list, and in what order.
#[derive(Clone, Debug, Default)]
pub struct RecordQuery {
    pub unit: Option<String>,
    /// The units the caller may see (`None`: every unit).
    pub visible: Option<Vec<String>>,
    pub rule: Option<String>,
    pub status: Option<RecordStatus>,
    /// Words to find in the unit's name, the source or the note.
    pub q: Option<String>,
    pub sort: RecordSort,
    pub desc: bool,
}

/// The order of a record list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordSort {
    #[default]
    Id,
    Unit,
    Rule,
    Date,
    Points,
}

impl RecordSort {
    /// The order by its name in addresses (`id`, `unit`, `rule`, `date`, `points`).
    pub fn parse(s: &str) -> Option<RecordSort> {
        Some(match s {
            "id" => RecordSort::Id,
            "unit" => RecordSort::Unit,
            "rule" => RecordSort::Rule,
            "date" => RecordSort::Date,
            "points" => RecordSort::Points,
            _ => return None,
        })
    }
}

/// One page of a record list.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RecordPage {
    /// How many records match the filters.
    pub total: usize,
    pub offset: usize,
    pub records: Vec<StoredRecord>,
}

pub(crate) const RECORD_COLUMNS: &str = "id, unit, rule, count, points, date, source, note, status, revoked_reason, \
     revoked_by, revoked_at, replaces, created_by, created_at, version, confirmed_at, confirmed_by";

/// A record row as the database gives it.
pub(crate) fn record_from_row(r: &sqlx::any::AnyRow) -> Result<StoredRecord> {
    let status: String = r.try_get("status")?;
    Ok(StoredRecord {
        id: r.try_get("id")?,
        unit: r.try_get("unit")?,
        rule: r.try_get("rule")?,
        count: r.try_get("count")?,
        points: r
            .try_get::<Option<i64>, _>("points")?
            .map(|h| Points::from_hundredths(h).to_string()),
        date: r.try_get("date")?,
        source: r.try_get("source")?,
        note: r.try_get("note")?,
        status: RecordStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("记录状态「{status}」无法识别")))?,
        revoked_reason: r.try_get("revoked_reason")?,
        revoked_by: r.try_get("revoked_by")?,
        revoked_at: r.try_get("revoked_at")?,
        replaces: r.try_get("replaces")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
        confirmed_at: r.try_get("confirmed_at")?,
        confirmed_by: r.try_get("confirmed_by")?,
    })
}

/// One record as `json_array(RECORD_COLUMNS)` gives it.
#[derive(serde::Deserialize)]
struct RecordTuple(
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
);

fn records_from_json(text: &str) -> Result<Vec<StoredRecord>> {
    let rows: Vec<RecordTuple> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("扣分记录无法读取：{e}")))?;
    rows.into_iter()
        .map(|r| {
            Ok(StoredRecord {
                id: r.0,
                unit: r.1,
                rule: r.2,
                count: r.3,
                points: r.4.map(|h| Points::from_hundredths(h).to_string()),
                date: r.5,
                source: r.6,
                note: r.7,
                status: RecordStatus::parse(&r.8)
                    .ok_or_else(|| StoreError::Corrupt(format!("记录状态「{}」无法识别", r.8)))?,
                revoked_reason: r.9,
                revoked_by: r.10,
                revoked_at: r.11,
                replaces: r.12,
                created_by: r.13,
                created_at: r.14,
                version: r.15,
                confirmed_at: r.16,
                confirmed_by: r.17,
            })
        })
        .collect()
}

/// The entered points of a checked record as stored: only range and graded rules keep them.
fn entered_points(rubric: &Rubric, r: &Record) -> Option<i64> {
    match rubric.rules.get(usize::from(r.rule)).map(|x| &x.kind) {
        Some(RuleKind::Range { .. } | RuleKind::Graded { .. }) => Some(i64::from(r.points)),
        _ => None,
    }
}

/// The date of a checked record as stored.
fn stored_date(rubric: &Rubric, r: &Record) -> Option<String> {
    (r.day != 0)
        .then(|| Date::from_ordinal(rubric.year, r.day))
        .flatten()
        .map(|d| d.to_string())
}

/// A clause's code and short text, for messages.
pub(crate) fn rule_text(rubric: &Rubric, code: &str) -> String {
    rubric.rule_by_code(code).map_or_else(
        || code.to_owned(),
        |i| format!("{code} {}", rubric.rules[i].text),
    )
}

/// A conditional update of record `id` must have changed exactly one row; otherwise someone else
/// changed the record first.
pub(crate) fn one_row(n: &sqlx::any::AnyQueryResult, id: i64) -> Result<()> {
    if n.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "记录 #{id} 已被他人修改，请刷新后重试"
        )))
    }
}

/// Refuses a write made against another version than the current one (`given` absent: no check).
pub(crate) fn check_version(what: &str, current: i64, given: Option<i64>) -> Result<()> {
    match given {
        Some(v) if v != current => Err(StoreError::Conflict(format!(
            "{what}已被他人修改（当前版本 {current}，提交的版本 {v}），请刷新后重试"
        ))),
        _ => Ok(()),
    }
}

/// Record `id` of `year` as stored now, read inside a write.
pub(crate) async fn stored_record(tx: &mut WriteTx, year: i64, id: i64) -> Result<StoredRecord> {
    let row = sqlx::query(&format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE id = $1 AND year = $2"
    ))
    .bind(id)
    .bind(year)
    .fetch_optional(&mut ***tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("该考核期没有记录 #{id}")))?;
    record_from_row(&row)
}

/// Checks a new record against its unit's records in force (leaving out `without`), inserts it
/// with its audit entry, and adds its row to the next state. `confirmed`: stored as confirmed (a
/// changed decision of the office).
#[allow(clippy::too_many_arguments)] // each is one part of the insertion
pub(crate) async fn insert_record(
    tx: &mut WriteTx,
    state: &PeriodState,
    next: &mut Next,
    year: i64,
    rec: &NewRecord,
    without: Option<i64>,
    replaces: Option<i64>,
    confirmed: bool,
    actor: &Actor,
) -> Result<StoredRecord> {
    let rubric = &state.rubric;
    rec.check_texts(0).map_err(|e| invalid(&e))?;
    let checked = state
        .provisional
        .check_record(rubric, 0, &rec.fields())
        .map_err(|e| invalid(&e))?;
    let without: Vec<u64> = without.map(|w| w as u64).into_iter().collect();
    state
        .provisional
        .admits(rubric, &checked, &without)
        .map_err(|e| invalid(&e))?;
    let at = tx.now();
    let unit = state.units[checked.unit as usize].name.clone();
    let rule = rubric.rules[usize::from(checked.rule)].code.clone();
    let status = if confirmed {
        RecordStatus::Confirmed
    } else {
        RecordStatus::Recorded
    };
    let points = entered_points(rubric, &checked);
    let date = stored_date(rubric, &checked);
    let row = sqlx::query(
        "INSERT INTO records (year, unit, rule, count, points, date, source, note, status, replaces, created_by, created_at, version, confirmed_at, confirmed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14) RETURNING id",
    )
    .bind(year)
    .bind(&unit)
    .bind(&rule)
    .bind(i64::from(checked.count))
    .bind(points)
    .bind(date.as_deref())
    .bind(rec.source())
    .bind(rec.note())
    .bind(status.code())
    .bind(replaces)
    .bind(&actor.name)
    .bind(&at)
    .bind(confirmed.then_some(at.as_str()))
    .bind(confirmed.then_some(actor.name.as_str()))
    .fetch_one(&mut ***tx)
    .await?;
    let id: i64 = row.try_get(0)?;
    let stored = StoredRecord {
        id,
        unit,
        rule,
        count: i64::from(checked.count),
        points: points.map(|h| Points::from_hundredths(h).to_string()),
        date,
        source: rec.source().to_owned(),
        note: rec.note().to_owned(),
        status,
        revoked_reason: None,
        revoked_by: None,
        revoked_at: None,
        replaces,
        created_by: actor.name.clone(),
        confirmed_at: confirmed.then(|| at.clone()),
        confirmed_by: confirmed.then(|| actor.name.clone()),
        created_at: at.clone(),
        version: 1,
    };
    audit::change(
        tx,
        actor,
        AuditAction::RecordAdd,
        &format!("record:{id}"),
        None::<&()>,
        &stored,
    )
    .await?;
    let ms = clock::millis(&at);
    next.unit(checked.unit as usize).rows.push(RecordRow {
        id,
        rule: checked.rule,
        count: checked.count,
        points: checked.points,
        day: checked.day,
        status,
        replaces,
        created: ms,
        confirmed: confirmed.then_some(ms),
        revoked: None,
    });
    Ok(stored)
}

/// Sets a record's new state in the next state's rows.
pub(crate) fn set_row_status(
    next: &mut Next,
    state: &PeriodState,
    id: i64,
    status: RecordStatus,
    at: &str,
) {
    if let Some((u, _)) = state.locate(id)
        && let Some(row) = next.row(u, id)
    {
        let ms = clock::millis(at);
        row.status = status;
        match status {
            RecordStatus::Confirmed => row.confirmed = Some(ms),
            RecordStatus::Revoked | RecordStatus::Changed => row.revoked = Some(ms),
            _ => {}
        }
    }
}

impl Store {
    /// Adds a record after checking it against the rubric and its unit's records in force.
    pub async fn add_record(
        &self,
        year: i64,
        rec: &NewRecord,
        actor: &Actor,
    ) -> Result<StoredRecord> {
        let (mut tx, state) = self.write_period(year, actor).await?;
        let mut next = Next::new(&state);
        let added = insert_record(
            &mut tx, &state, &mut next, year, rec, None, None, false, actor,
        )
        .await?;
        notify(
            &mut tx,
            year,
            Audience::Unit(&added.unit),
            NoticeKind::RecordAdded,
            &format!(
                "新增扣分记录 #{}：{}（待安委办确认）",
                added.id,
                rule_text(&state.rubric, &added.rule)
            ),
            &format!("record:{}", added.id),
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        self.commit_with(tx, year, Some(next)).await?;
        Ok(added)
    }

    /// Revokes a record with a reason; with `replacement`, adds the corrected record in the same
    /// transaction. `version`, when given, must be the record's current version.
    pub async fn revoke_record(
        &self,
        year: i64,
        id: i64,
        reason: &str,
        version: Option<i64>,
        replacement: Option<&NewRecord>,
        actor: &Actor,
    ) -> Result<(StoredRecord, Option<StoredRecord>)> {
        let reason = lvzhi_core::input::reason(reason)
            .map_err(|p| StoreError::invalid("reason", format!("撤销理由：{p}")))?;
        let (mut tx, state) = self.write_period(year, actor).await?;
        let old = stored_record(&mut tx, year, id).await?;
        check_version(&format!("记录 #{id} "), old.version, version)?;
        // The right to revise depends on the record's state: decided here, on the row as it is.
        actor.require(
            lvzhi_core::access::Action::revise(old.status),
            &old.unit,
            || {
                format!(
                    "无权{}：记录 #{id} 现为“{}”",
                    lvzhi_core::access::Action::revise(old.status).label(),
                    old.status.label()
                )
            },
        )?;
        if !old.status.in_force() {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} {}，不能再撤销",
                old.status.label()
            )));
        }
        if old.status == RecordStatus::Appealed {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 正在申诉中，须由管理员作出申诉决定（维持、撤销或改判）"
            )));
        }
        let at = tx.now();
        let done = sqlx::query(
            "UPDATE records SET status = 'revoked', revoked_reason = $1, revoked_by = $2, revoked_at = $3, \
             version = version + 1 WHERE id = $4 AND version = $5 AND status NOT IN ('revoked', 'changed', 'appealed')",
        )
        .bind(reason)
        .bind(&actor.name)
        .bind(&at)
        .bind(id)
        .bind(old.version)
        .execute(&mut **tx)
        .await?;
        one_row(&done, id)?;
        let mut revoked = old.clone();
        revoked.status = RecordStatus::Revoked;
        revoked.revoked_reason = Some(reason.to_owned());
        revoked.revoked_by = Some(actor.name.clone());
        revoked.revoked_at = Some(at.clone());
        revoked.version += 1;
        audit::change(
            &mut tx,
            actor,
            AuditAction::RecordRevoke,
            &format!("record:{id}"),
            Some(&old),
            &revoked,
        )
        .await?;
        notify(
            &mut tx,
            year,
            Audience::Unit(&old.unit),
            NoticeKind::RecordRevoked,
            &format!(
                "扣分记录 #{id}（{}）已撤销{}。理由：{reason}",
                rule_text(&state.rubric, &old.rule),
                if replacement.is_some() {
                    "并更正"
                } else {
                    ""
                }
            ),
            &format!("record:{id}"),
        )
        .await?;
        let mut next = Next::new(&state);
        set_row_status(&mut next, &state, id, RecordStatus::Revoked, &at);
        let replaced = match replacement {
            Some(rep) => Some(
                insert_record(
                    &mut tx,
                    &state,
                    &mut next,
                    year,
                    rep,
                    Some(id),
                    Some(id),
                    false,
                    actor,
                )
                .await?,
            ),
            None => None,
        };
        Self::bump(&mut tx, year).await?;
        self.commit_with(tx, year, Some(next)).await?;
        Ok((revoked, replaced))
    }

    /// Confirms records (待确认 → 已确认) in one transaction; each unit is told, with its appeal
    /// deadline. A record that is not pending is refused by number, and nothing is confirmed.
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
        let (mut tx, state) = self.write_period(year, actor).await?;
        let at = tx.now();
        let mut next = Next::new(&state);
        let olds = self.records_by_id(&mut tx, year, ids).await?;
        let mut done = Vec::with_capacity(olds.len());
        for old in olds {
            let id = old.id;
            if ids.len() == 1 {
                check_version(&format!("记录 #{id} "), old.version, version)?;
            }
            if old.status != RecordStatus::Recorded {
                return Err(StoreError::Conflict(format!(
                    "记录 #{id} 的状态是「{}」，只有待确认的记录可以确认",
                    old.status.label()
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
            new.status = RecordStatus::Confirmed;
            new.confirmed_at = Some(at.clone());
            new.confirmed_by = Some(actor.name.clone());
            new.version += 1;
            audit::change(
                &mut tx,
                actor,
                AuditAction::RecordConfirm,
                &format!("record:{id}"),
                Some(&old),
                &new,
            )
            .await?;
            set_row_status(&mut next, &state, id, RecordStatus::Confirmed, &at);
            done.push(new);
        }
        // The units are told: one notice per unit (with the clause when it is one record).
        let deadline = clock::beijing_minute(&clock::plus_days(&at, state.info.appeal_days));
        let mut per_unit: BTreeMap<&str, Vec<&StoredRecord>> = BTreeMap::new();
        for d in &done {
            per_unit.entry(d.unit.as_str()).or_default().push(d);
        }
        for (unit, recs) in per_unit {
            let (message, entity) = match recs.as_slice() {
                [one] => (
                    format!(
                        "扣分记录 #{}（{}）已确认；如有异议，请于 {deadline} 前提出申诉",
                        one.id,
                        rule_text(&state.rubric, &one.rule)
                    ),
                    format!("record:{}", one.id),
                ),
                many => (
                    format!(
                        "{} 条扣分记录已确认（{}）；如有异议，请于 {deadline} 前提出申诉",
                        many.len(),
                        crate::ids_text(&many.iter().map(|r| r.id).collect::<Vec<_>>())
                    ),
                    format!("unit:{unit}"),
                ),
            };
            notify(
                &mut tx,
                year,
                Audience::Unit(unit),
                NoticeKind::RecordConfirmed,
                &message,
                &entity,
            )
            .await?;
        }
        Self::bump(&mut tx, year).await?;
        self.commit_with(tx, year, Some(next)).await?;
        Ok(done)
    }

    /// Records of `year` by id, in the order of `ids`; an unknown id is refused by number.
    async fn records_by_id(
        &self,
        conn: &mut sqlx::AnyConnection,
        year: i64,
        ids: &[i64],
    ) -> Result<Vec<StoredRecord>> {
        // One text value per chunk, parsed by serde: much cheaper than decoding column by column.
        let mut found = std::collections::HashMap::new();
        for chunk in ids.chunks(1000) {
            let list = serde_json::to_string(chunk).unwrap_or_default();
            let sql = match self.backend {
                Backend::Sqlite => format!(
                    "SELECT json_group_array(json_array({RECORD_COLUMNS})) FROM records \
                     WHERE year = $1 AND id IN (SELECT value FROM json_each($2))"
                ),
                Backend::Postgres => format!(
                    "SELECT coalesce(json_agg(json_build_array({RECORD_COLUMNS})), '[]')::text FROM records \
                     WHERE year = $1 AND id IN (SELECT (jsonb_array_elements_text($2::jsonb))::bigint)"
                ),
            };
            let text: String = sqlx::query(&sql)
                .bind(year)
                .bind(list)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            for r in records_from_json(&text)? {
                found.insert(r.id, r);
            }
        }
        let mut seen = HashSet::new();
        ids.iter()
            .filter(|id| seen.insert(**id))
            .map(|id| {
                found
                    .remove(id)
                    .ok_or_else(|| StoreError::NotFound(format!("该考核期没有记录 #{id}")))
            })
            .collect()
    }

    /// One record as stored now.
    pub async fn record(&self, year: i64, id: i64) -> Result<StoredRecord> {
        let mut conn = self.pool.acquire().await?;
        Ok(self
            .records_by_id(&mut conn, year, &[id])
            .await?
            .pop()
            .unwrap_or_else(|| unreachable!("records_by_id answers every id or fails")))
    }

    /// Records by id (in the order given); an unknown id is refused by number.
    pub async fn records_with_ids(&self, year: i64, ids: &[i64]) -> Result<Vec<StoredRecord>> {
        let mut conn = self.pool.acquire().await?;
        self.records_by_id(&mut conn, year, ids).await
    }

    /// Every record of one unit, revoked ones included, oldest first (by id, from the period's
    /// state: no index by unit is needed).
    pub async fn unit_records(&self, year: i64, unit: &str) -> Result<Vec<StoredRecord>> {
        let state = self.state(year).await?;
        let Some(u) = state.unit_index(unit) else {
            return Err(StoreError::NotFound(format!(
                "{}名册中没有单位「{unit}」",
                state.info.period_name()
            )));
        };
        let ids: Vec<i64> = state.unit(u).rows.iter().map(|r| r.id).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.records_with_ids(year, &ids).await
    }

    /// Every record of the year, revoked ones included, oldest first (for exports and
    /// publication snapshots).
    pub async fn all_records(&self, year: i64) -> Result<Vec<StoredRecord>> {
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "SELECT json_group_array(json_array({RECORD_COLUMNS})) FROM \
                 (SELECT {RECORD_COLUMNS} FROM records WHERE year = $1 ORDER BY id)"
            ),
            Backend::Postgres => format!(
                "SELECT coalesce(json_agg(json_build_array({RECORD_COLUMNS}) ORDER BY id), '[]')::text \
                 FROM records WHERE year = $1"
            ),
        };
        let text: String = sqlx::query(&sql)
            .bind(year)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        records_from_json(&text)
    }

    /// The ids of the records that match `q`, in its order (every page of it).
    pub async fn matching_ids(&self, year: i64, q: &RecordQuery) -> Result<Vec<i64>> {
        let state = self.state(year).await?;
        let rubric = &state.rubric;
        let unit = match &q.unit {
            Some(u) => Some(state.unit_index(u).ok_or_else(|| {
                StoreError::invalid(
                    "unit",
                    format!("{}名册中没有单位「{u}」", state.info.period_name()),
                )
            })?),
            None => None,
        };
        let visible: Option<HashSet<usize>> = q
            .visible
            .as_ref()
            .map(|v| v.iter().filter_map(|u| state.unit_index(u)).collect());
        let rule = match &q.rule {
            Some(r) => Some(
                rubric
                    .rule_by_code(r.trim())
                    .ok_or_else(|| StoreError::invalid("rule", format!("细则中没有条款「{r}」")))?
                    as u16,
            ),
            None => None,
        };
        let words: Option<HashSet<i64>> = match q.q.as_deref().map(str::trim) {
            Some(w) if !w.is_empty() => Some(self.ids_with_words(year, w).await?),
            _ => None,
        };
        let mut rows: Vec<(usize, &RecordRow)> = state
            .rows()
            .filter(|(u, _)| unit.is_none_or(|x| x == *u))
            .filter(|(u, _)| visible.as_ref().is_none_or(|v| v.contains(u)))
            .filter(|(_, r)| rule.is_none_or(|x| x == r.rule))
            .filter(|(_, r)| q.status.is_none_or(|s| s == r.status))
            .filter(|(_, r)| words.as_ref().is_none_or(|w| w.contains(&r.id)))
            .collect();
        let names = &state.units;
        match q.sort {
            RecordSort::Id => rows.sort_by_key(|(_, r)| r.id),
            RecordSort::Unit => rows.sort_by(|a, b| {
                names[a.0]
                    .name
                    .cmp(&names[b.0].name)
                    .then(a.1.id.cmp(&b.1.id))
            }),
            RecordSort::Rule => rows.sort_by(|a, b| {
                rubric.rules[usize::from(a.1.rule)]
                    .code
                    .cmp(&rubric.rules[usize::from(b.1.rule)].code)
                    .then(a.1.id.cmp(&b.1.id))
            }),
            RecordSort::Date => rows.sort_by_key(|(_, r)| (r.day, r.id)),
            RecordSort::Points => rows.sort_by_cached_key(|(_, r)| {
                (
                    rubric.record_points(
                        usize::from(r.rule),
                        r.count,
                        Points::from_hundredths(i64::from(r.points)),
                    ),
                    r.id,
                )
            }),
        }
        if q.desc {
            rows.reverse();
        }
        Ok(rows.into_iter().map(|(_, r)| r.id).collect())
    }

    /// A page of the records that match `q`: `limit` records from `offset`, with the total.
    pub async fn records_page(
        &self,
        year: i64,
        q: &RecordQuery,
        offset: usize,
        limit: usize,
    ) -> Result<RecordPage> {
        let ids = self.matching_ids(year, q).await?;
        let page: Vec<i64> = ids.iter().skip(offset).take(limit).copied().collect();
        let records = if page.is_empty() {
            Vec::new()
        } else {
            self.records_with_ids(year, &page).await?
        };
        Ok(RecordPage {
            total: ids.len(),
            offset,
            records,
        })
    }

    /// The ids of the year's records whose unit, source or note contains `words`.
    async fn ids_with_words(&self, year: i64, words: &str) -> Result<HashSet<i64>> {
        let pattern = format!(
            "%{}%",
            words
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows = sqlx::query(
            "SELECT id FROM records WHERE year = $1 AND (unit LIKE $2 ESCAPE '\\' OR source LIKE $2 ESCAPE '\\' \
             OR note LIKE $2 ESCAPE '\\')",
        )
        .bind(year)
        .bind(pattern)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from))
            .collect()
    }
}

impl Store {
    /// Confirms every pending record that `q` matches (its status is forced to pending), in one
    /// transaction; answers how many.
    pub async fn confirm_matching(
        &self,
        year: i64,
        q: &RecordQuery,
        actor: &Actor,
    ) -> Result<usize> {
        let q = RecordQuery {
            status: Some(RecordStatus::Recorded),
            ..q.clone()
        };
        let ids = self.matching_ids(year, &q).await?;
        if ids.is_empty() {
            return Err(StoreError::Conflict(
                "筛选出的记录中没有待确认的记录".to_owned(),
            ));
        }
        Ok(self.confirm_records(year, &ids, None, actor).await?.len())
    }
}
