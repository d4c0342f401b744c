//! Periods and their ledgers: roster, records, 督导组 scores and metrics.
//!
//! Records are append-only: a correction revokes a record with a reason (and may add its replacement),
//! and the history keeps both. Scores and metric values are versioned: a write that names a version
//! other than the current one is refused as a conflict. Every write re-checks the whole period's ledger
//! with the core's `LedgerBuilder` inside the write transaction, so no rubric rule can be broken by two
//! writers racing, and bumps the period's version, which keys the cache of computed results.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lvzhi_core::contract::ResultsDoc;
use lvzhi_core::{
    Ledger, LedgerBuilder, LedgerError, RecordFields, Roster, Rubric, ScoreSheets, score,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::{Actor, Result, RowProblem, Store, StoreError, audit, now};

/// A period (one assessment year) as listed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PeriodInfo {
    pub year: i64,
    pub rubric_id: String,
    pub rubric_hash: String,
    pub title: String,
    pub status: String,
    pub version: i64,
    pub created_at: String,
    /// Days a unit has to appeal a record after its confirmation.
    pub appeal_days: i64,
    /// Days the office has to decide an appeal.
    pub decision_days: i64,
}

/// A unit of a period's roster.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredUnit {
    pub name: String,
    pub class: String,
    pub tags: Vec<String>,
    pub version: i64,
}

/// A stored deduction record with its history fields.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: i64,
    pub unit: String,
    pub rule: String,
    pub count: i64,
    /// Entered points (range and graded rules), as a decimal string.
    pub points: Option<String>,
    pub date: Option<String>,
    pub source: String,
    pub note: String,
    /// `recorded` (待确认), `confirmed` (已确认), `appealed` (申诉中), `upheld` (维持), `revoked`
    /// (撤销) or `changed` (改判: replaced by the record whose `replaces` names this one).
    pub status: String,
    pub revoked_reason: Option<String>,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<String>,
    /// The record this one replaces, when it is a correction.
    pub replaces: Option<i64>,
    pub created_by: String,
    pub created_at: String,
    pub version: i64,
    /// When and by whom the office confirmed it (the unit's appeal window starts then).
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
}

impl StoredRecord {
    /// Whether the record counts in the provisional result: recorded, confirmed, under appeal or
    /// upheld (not revoked, not replaced by a change).
    pub fn in_force(&self) -> bool {
        !matches!(self.status.as_str(), "revoked" | "changed")
    }

    /// Whether the record counts in the official result: confirmed by the office (an appealed
    /// record stands until the decision).
    pub fn confirmed(&self) -> bool {
        matches!(self.status.as_str(), "confirmed" | "appealed" | "upheld")
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredAssessment {
    pub unit: String,
    pub rule: String,
    pub assessor: String,
    pub score: String,
    pub updated_by: String,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredMetric {
    pub unit: String,
    pub metric: String,
    pub value: String,
    pub updated_by: String,
    pub updated_at: String,
    pub version: i64,
}

/// A record to add, as raw texts (from a form, a JSON body or a file row).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRecord {
    pub unit: String,
    pub rule: String,
    pub count: Option<String>,
    pub points: Option<String>,
    pub date: Option<String>,
    pub source: String,
    pub note: String,
}

/// Which records to list.
#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    pub unit: Option<String>,
    pub rule: Option<String>,
    pub status: Option<String>,
}

/// Everything known about a period at one version, with its computed results.
pub struct PeriodState {
    pub info: PeriodInfo,
    pub rubric: Arc<Rubric>,
    pub units: Vec<StoredUnit>,
    /// All records, revoked ones included, in id order.
    pub records: Vec<Arc<StoredRecord>>,
    pub assessments: Vec<StoredAssessment>,
    pub metrics: Vec<StoredMetric>,
    /// The ledger of the records in force (ids are record ids).
    pub ledger: Ledger,
    pub sheets: ScoreSheets,
    /// `lvzhi score --json`'s object for this ledger, serialized once.
    pub results_json: Arc<[u8]>,
    /// Every appeal of the period, oldest first.
    pub appeals: Vec<crate::StoredAppeal>,
    /// The official result (confirmed records only), computed on first use.
    pub(crate) confirmed: std::sync::OnceLock<Arc<ScoreSheets>>,
    /// The provisional sheets at each month-end of the year, computed on first use (the trend).
    pub(crate) months: std::sync::OnceLock<Arc<Vec<(String, ScoreSheets)>>>,
}

impl PeriodState {
    pub fn roster(&self) -> Roster {
        roster_of(&self.rubric, &self.units)
    }
}

/// How long a period state's version check is trusted on the read path.
pub const FRESH: std::time::Duration = std::time::Duration::from_millis(100);

/// Computed period states by year (one per version), and parsed rubrics by hash.
#[derive(Default)]
pub(crate) struct Cache {
    /// Per year: the state, and when its version was last checked against the database.
    periods: Mutex<HashMap<i64, (Arc<PeriodState>, std::time::Instant)>>,
    rubrics: Mutex<HashMap<String, Arc<Rubric>>>,
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

/// The core's message, with "row N" read as "record #N" (row numbers are record ids here).
pub(crate) fn ledger_message(e: &LedgerError) -> String {
    let mut p = e.problem.clone();
    let text = p.to_string();
    match p.other_row_mut() {
        Some(n) => text.replace(&format!("第 {n} 行"), &format!("记录 #{n}")),
        None => text,
    }
}

pub(crate) fn invalid(e: &LedgerError) -> StoreError {
    StoreError::invalid(e.field.column(), ledger_message(e))
}

fn opt(s: Option<&String>) -> &[u8] {
    s.map_or(b"", |x| x.as_bytes())
}

pub(crate) fn fields(r: &NewRecord) -> RecordFields<'_> {
    RecordFields {
        unit: r.unit.as_bytes(),
        rule: r.rule.as_bytes(),
        count: opt(r.count.as_ref()),
        points: opt(r.points.as_ref()),
        date: opt(r.date.as_ref()),
    }
}

/// Runs `f` on a stored record's fields, without copying its texts (the count is written into a
/// buffer on the stack).
pub(crate) fn with_stored_fields<T>(r: &StoredRecord, f: impl FnOnce(&RecordFields<'_>) -> T) -> T {
    let mut buf = [0u8; 20];
    let mut n = r.count.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    f(&RecordFields {
        unit: r.unit.as_bytes(),
        rule: r.rule.as_bytes(),
        count: &buf[at..],
        points: opt(r.points.as_ref()),
        date: opt(r.date.as_ref()),
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

pub(crate) fn records_from_json(text: &str) -> Result<Vec<Arc<StoredRecord>>> {
    let rows: Vec<RecordTuple> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("扣分记录无法读取：{e}")))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            Arc::new(StoredRecord {
                id: r.0,
                unit: r.1,
                rule: r.2,
                count: r.3,
                points: r
                    .4
                    .map(|h| lvzhi_core::Points::from_hundredths(h).to_string()),
                date: r.5,
                source: r.6,
                note: r.7,
                status: r.8,
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
        .collect())
}

const RECORD_COLUMNS: &str = "id, unit, rule, count, points, date, source, note, status, revoked_reason, \
     revoked_by, revoked_at, replaces, created_by, created_at, version, confirmed_at, confirmed_by";

/// Refuses a write made against another version than the current one (`given` absent: no check).
pub(crate) fn check_version(what: &str, current: i64, given: Option<i64>) -> Result<()> {
    match given {
        Some(v) if v != current => Err(StoreError::Conflict(format!(
            "{what}已被他人修改（当前版本 {current}，提交的版本 {v}），请刷新后重试"
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn rubric_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Store {
    /// Opens the period of `rubric_text`'s year with the rubric's own roster, if it is not open yet.
    /// Returns whether it was created.
    pub async fn ensure_period(&self, rubric_text: &str, actor: &Actor) -> Result<bool> {
        let rubric = Rubric::from_toml(rubric_text)
            .map_err(|e| StoreError::invalid("rubric", e.to_string()))?;
        if let Some(why) = rubric.pending_review() {
            return Err(StoreError::invalid("rubric", why));
        }
        let hash = rubric_hash(rubric_text);
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT year FROM periods WHERE year = $1")
            .bind(i64::from(rubric.year))
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        let at = now();
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
            .bind(i64::from(rubric.year))
            .bind(rubric_text)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO periods (year, rubric_hash, status, version, created_at) VALUES ($1, $2, 'open', 1, $3)",
        )
        .bind(i64::from(rubric.year))
        .bind(&hash)
        .bind(&at)
        .execute(&mut **tx)
        .await?;
        for (i, u) in rubric.roster.iter().enumerate() {
            sqlx::query(
                "INSERT INTO period_units (year, ord, name, class, tags, version) VALUES ($1, $2, $3, $4, $5, 1)",
            )
            .bind(i64::from(rubric.year))
            .bind(i as i64)
            .bind(&u.name)
            .bind(&rubric.classes[u.class].code)
            .bind(u.tags.join(";"))
            .execute(&mut **tx)
            .await?;
        }
        let after = serde_json::json!({
            "year": rubric.year, "rubric": rubric.id, "rubric_hash": hash, "units": rubric.roster.len()
        });
        audit::append(
            &mut tx,
            actor,
            "period.open",
            &format!("period:{}", rubric.year),
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn periods(&self) -> Result<Vec<PeriodInfo>> {
        let rows = sqlx::query(
            "SELECT p.year, r.rubric_id, p.rubric_hash, r.body, p.status, p.version, p.created_at, \
             p.appeal_days, p.decision_days FROM periods p JOIN rubrics r ON r.hash = p.rubric_hash ORDER BY p.year",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let hash: String = r.try_get("rubric_hash")?;
            let body: String = r.try_get("body")?;
            let rubric = self.rubric(&hash, &body)?;
            out.push(PeriodInfo {
                year: r.try_get("year")?,
                rubric_id: r.try_get("rubric_id")?,
                rubric_hash: hash,
                title: rubric.title.clone(),
                status: r.try_get("status")?,
                version: r.try_get("version")?,
                created_at: r.try_get("created_at")?,
                appeal_days: r.try_get("appeal_days")?,
                decision_days: r.try_get("decision_days")?,
            });
        }
        Ok(out)
    }

    fn rubric(&self, hash: &str, body: &str) -> Result<Arc<Rubric>> {
        let mut cache = self
            .cache
            .rubrics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(r) = cache.get(hash) {
            return Ok(r.clone());
        }
        let r = Arc::new(
            Rubric::from_toml(body)
                .map_err(|e| StoreError::Corrupt(format!("细则 {hash}：{e}")))?,
        );
        cache.insert(hash.to_owned(), r.clone());
        Ok(r)
    }

    /// The period's state at its current version (computed once per version, then cached). A state
    /// whose version was checked within [`FRESH`] is trusted without asking the database again: this
    /// process's own writes replace it at once; another process's are seen within that time.
    pub async fn state(&self, year: i64) -> Result<Arc<PeriodState>> {
        if let Some((s, at)) = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&year)
            && at.elapsed() < FRESH
        {
            return Ok(s.clone());
        }
        let mut conn = self.pool.acquire().await?;
        self.state_on(&mut conn, year).await
    }

    async fn state_on(&self, conn: &mut AnyConnection, year: i64) -> Result<Arc<PeriodState>> {
        // The version (and status) first: the rubric's text is only read when the cache is stale.
        let head = sqlx::query("SELECT version, status FROM periods WHERE year = $1")
            .bind(year)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有 {year} 年度的考核")))?;
        let version: i64 = head.try_get("version")?;
        let status: String = head.try_get("status")?;
        if let Some((s, at)) = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_mut(&year)
            && s.info.version == version
            && s.info.status == status
        {
            *at = std::time::Instant::now();
            return Ok(s.clone());
        }
        let row = sqlx::query(
            "SELECT p.year, r.rubric_id, p.rubric_hash, r.body, p.status, p.version, p.created_at, \
             p.appeal_days, p.decision_days FROM periods p JOIN rubrics r ON r.hash = p.rubric_hash WHERE p.year = $1",
        )
        .bind(year)
        .fetch_one(&mut *conn)
        .await?;
        let version: i64 = row.try_get("version")?;
        let hash: String = row.try_get("rubric_hash")?;
        let body: String = row.try_get("body")?;
        let rubric = self.rubric(&hash, &body)?;
        let info = PeriodInfo {
            year,
            rubric_id: row.try_get("rubric_id")?,
            rubric_hash: hash,
            title: rubric.title.clone(),
            status: row.try_get("status")?,
            version,
            created_at: row.try_get("created_at")?,
            appeal_days: row.try_get("appeal_days")?,
            decision_days: row.try_get("decision_days")?,
        };
        let units = sqlx::query(
            "SELECT name, class, tags, version FROM period_units WHERE year = $1 ORDER BY ord",
        )
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
        .collect::<Result<Vec<_>>>()?;
        // The period's records as one JSON array, in one row: reading 100,000 rows one by one
        // through the Any driver costs seconds; one text value and serde cost tens of milliseconds.
        let sql = match self.backend() {
            crate::Backend::Sqlite => format!(
                "SELECT json_group_array(json_array({RECORD_COLUMNS})) FROM \
                 (SELECT {RECORD_COLUMNS} FROM records WHERE year = $1 ORDER BY id)"
            ),
            crate::Backend::Postgres => format!(
                "SELECT coalesce(json_agg(json_build_array({RECORD_COLUMNS}) ORDER BY id), '[]')::text \
                 FROM records WHERE year = $1"
            ),
        };
        let text: String = sqlx::query(&sql)
            .bind(year)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let records = records_from_json(&text)?;
        let assessments = sqlx::query(
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
                score: lvzhi_core::Points::from_hundredths(r.try_get("score")?).to_string(),
                updated_by: r.try_get("updated_by")?,
                updated_at: r.try_get("updated_at")?,
                version: r.try_get("version")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let metrics = sqlx::query(
            "SELECT unit, metric, value, updated_by, updated_at, version FROM metrics WHERE year = $1 ORDER BY unit, metric",
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
        .collect::<Result<Vec<_>>>()?;
        let appeals = crate::lifecycle::load_appeals(&mut *conn, year).await?;
        let mut state = compute(None, info, rubric, units, records, assessments, metrics)?;
        state.appeals = appeals;
        let state = Arc::new(state);
        self.cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(year, (state.clone(), std::time::Instant::now()));
        Ok(state)
    }

    /// The period's next state after a write, derived in memory from the state the write started
    /// from and the write's own change (computed before the commit, installed after it by
    /// [`Self::install`]). This spares every writer and reader a reload of the period.
    pub(crate) fn next_state(
        old: &PeriodState,
        change: impl FnOnce(
            &mut Vec<StoredUnit>,
            &mut Vec<Arc<StoredRecord>>,
            &mut Vec<StoredAssessment>,
            &mut Vec<StoredMetric>,
        ),
    ) -> Option<PeriodState> {
        let (mut units, mut records, mut assessments, mut metrics) = (
            old.units.clone(),
            old.records.clone(),
            old.assessments.clone(),
            old.metrics.clone(),
        );
        change(&mut units, &mut records, &mut assessments, &mut metrics);
        let mut next = compute(
            Some(&old.ledger),
            PeriodInfo {
                version: old.info.version + 1,
                ..old.info.clone()
            },
            old.rubric.clone(),
            units,
            records,
            assessments,
            metrics,
        )
        .ok()?;
        next.appeals.clone_from(&old.appeals);
        Some(next)
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

    /// Lists a period's records (all states unless filtered), oldest first.
    pub async fn records(&self, year: i64, f: &RecordFilter) -> Result<Vec<StoredRecord>> {
        let state = self.state(year).await?;
        Ok(state
            .records
            .iter()
            .filter(|r| f.unit.as_ref().is_none_or(|u| &r.unit == u))
            .filter(|r| f.rule.as_ref().is_none_or(|u| &r.rule == u))
            .filter(|r| f.status.as_ref().is_none_or(|u| &r.status == u))
            .map(|r| (**r).clone())
            .collect())
    }

    /// Starts a write on an open period: the transaction and the period's current state.
    pub(crate) async fn write_period(
        &self,
        year: i64,
    ) -> Result<(crate::WriteTx, Arc<PeriodState>)> {
        let mut tx = self.begin_write().await?;
        let state = self.state_on(&mut tx, year).await?;
        if state.info.status != "open" {
            return Err(StoreError::Conflict(format!(
                "{year} 年度已发布，不能再修改（须由管理员说明理由后重新开放）"
            )));
        }
        Ok((tx, state))
    }

    pub(crate) async fn bump(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        year: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE periods SET version = version + 1 WHERE year = $1")
            .bind(year)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Adds a record after checking it against the rubric and the whole period's ledger.
    pub async fn add_record(
        &self,
        year: i64,
        rec: &NewRecord,
        actor: &Actor,
    ) -> Result<StoredRecord> {
        let (mut tx, state) = self.write_period(year).await?;
        let added = insert_record(&mut tx, &state, year, rec, None, None, false, actor).await?;
        crate::lifecycle::notify(
            &mut tx,
            year,
            "unit",
            &added.unit,
            "record.added",
            &format!(
                "新增扣分记录 #{}：{}（待安委办确认）",
                added.id,
                rule_text(&state.rubric, &added.rule)
            ),
            &format!("record:{}", added.id),
            &added.created_at,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let next = Self::next_state(&state, |_, records, _, _| {
            records.push(Arc::new(added.clone()));
        });
        tx.commit_then(|| self.install(year, next)).await?;
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
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("reason", "撤销须说明理由"));
        }
        let (mut tx, state) = self.write_period(year).await?;
        let Some(old) = state
            .records
            .iter()
            .find(|r| r.id == id)
            .map(|r| (**r).clone())
        else {
            return Err(StoreError::NotFound(format!("{year} 年度没有记录 #{id}")));
        };
        check_version(&format!("记录 #{id} "), old.version, version)?;
        if !old.in_force() {
            return Err(StoreError::Conflict(format!("记录 #{id} 已撤销或已改判")));
        }
        if old.status == "appealed" {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 正在申诉中，须由管理员作出申诉决定（维持、撤销或改判）"
            )));
        }
        let at = now();
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
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 已被他人修改，请刷新后重试"
            )));
        }
        let mut revoked = old.clone();
        revoked.status = "revoked".into();
        revoked.revoked_reason = Some(reason.to_owned());
        revoked.revoked_by = Some(actor.name.clone());
        revoked.revoked_at = Some(at);
        revoked.version += 1;
        audit::change(
            &mut tx,
            actor,
            "record.revoke",
            &format!("record:{id}"),
            Some(&old),
            &revoked,
        )
        .await?;
        crate::lifecycle::notify(
            &mut tx,
            year,
            "unit",
            &old.unit,
            "record.revoked",
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
            revoked.revoked_at.as_deref().unwrap_or_default(),
        )
        .await?;
        let replaced = match replacement {
            Some(rep) => Some(
                insert_record(&mut tx, &state, year, rep, Some(id), Some(id), false, actor).await?,
            ),
            None => None,
        };
        Self::bump(&mut tx, year).await?;
        let next = Self::next_state(&state, |_, records, _, _| {
            if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                *r = Arc::new(revoked.clone());
            }
            records.extend(replaced.clone().map(Arc::new));
        });
        tx.commit_then(|| self.install(year, next)).await?;
        Ok((revoked, replaced))
    }

    /// Sets one assessor's score for a unit (insert or update). `version`, when given, must be the
    /// current version (0 for "not scored yet").
    #[allow(clippy::too_many_arguments)] // each is one field of the operation
    pub async fn put_assessment(
        &self,
        year: i64,
        unit: &str,
        rule: &str,
        assessor: &str,
        score_text: &str,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<StoredAssessment> {
        let (mut tx, state) = self.write_period(year).await?;
        // The field checks of the core: unit, rule kind, applicability, range, two decimals.
        let mut b = LedgerBuilder::new(&state.rubric, state.roster());
        b.add_assessment(0, unit, rule, assessor, score_text)
            .map_err(|e| invalid(&e))?;
        let (unit, rule, assessor) = (unit.trim(), rule.trim(), assessor.trim());
        let score = lvzhi_core::Points::parse(score_text)
            .map_err(|e| StoreError::invalid("score", e.to_string()))?;
        let current = state
            .assessments
            .iter()
            .find(|a| a.unit == unit && a.rule == rule && a.assessor == assessor)
            .cloned();
        let current_version = current.as_ref().map_or(0, |a| a.version);
        check_version("该打分", current_version, version)?;
        let at = now();
        if current.is_some() {
            sqlx::query(
                "UPDATE assessments SET score = $1, updated_by = $2, updated_at = $3, version = version + 1 \
                 WHERE year = $4 AND unit = $5 AND rule = $6 AND assessor = $7",
            )
            .bind(score.hundredths())
            .bind(&actor.name)
            .bind(&at)
            .bind(year)
            .bind(unit)
            .bind(rule)
            .bind(assessor)
            .execute(&mut **tx)
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO assessments (year, unit, rule, assessor, score, updated_by, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
            )
            .bind(year)
            .bind(unit)
            .bind(rule)
            .bind(assessor)
            .bind(score.hundredths())
            .bind(&actor.name)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        }
        let stored = StoredAssessment {
            unit: unit.to_owned(),
            rule: rule.to_owned(),
            assessor: assessor.to_owned(),
            score: score.to_string(),
            updated_by: actor.name.clone(),
            updated_at: at,
            version: current_version + 1,
        };
        audit::change(
            &mut tx,
            actor,
            "assessment.put",
            &format!("assessment:{year}:{unit}:{rule}:{assessor}"),
            current.as_ref(),
            &stored,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let next = Self::next_state(&state, |_, _, assessments, _| {
            assessments.retain(|a| {
                !(a.unit == stored.unit && a.rule == stored.rule && a.assessor == stored.assessor)
            });
            assessments.push(stored.clone());
            assessments.sort_by(|a, b| {
                (&a.unit, &a.rule, &a.assessor).cmp(&(&b.unit, &b.rule, &b.assessor))
            });
        });
        tx.commit_then(|| self.install(year, next)).await?;
        Ok(stored)
    }

    /// Sets a unit's metric value (insert or update), versioned like scores.
    pub async fn put_metric(
        &self,
        year: i64,
        unit: &str,
        metric: &str,
        value: &str,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<StoredMetric> {
        let (mut tx, state) = self.write_period(year).await?;
        let mut b = LedgerBuilder::new(&state.rubric, state.roster());
        b.add_metric(0, unit, metric, value)
            .map_err(|e| invalid(&e))?;
        let (unit, metric, value) = (unit.trim(), metric.trim(), value.trim());
        let current = state
            .metrics
            .iter()
            .find(|m| m.unit == unit && m.metric == metric)
            .cloned();
        let current_version = current.as_ref().map_or(0, |m| m.version);
        check_version("该指标", current_version, version)?;
        let at = now();
        if current.is_some() {
            sqlx::query(
                "UPDATE metrics SET value = $1, updated_by = $2, updated_at = $3, version = version + 1 \
                 WHERE year = $4 AND unit = $5 AND metric = $6",
            )
            .bind(value)
            .bind(&actor.name)
            .bind(&at)
            .bind(year)
            .bind(unit)
            .bind(metric)
            .execute(&mut **tx)
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO metrics (year, unit, metric, value, updated_by, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1)",
            )
            .bind(year)
            .bind(unit)
            .bind(metric)
            .bind(value)
            .bind(&actor.name)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        }
        let stored = StoredMetric {
            unit: unit.to_owned(),
            metric: metric.to_owned(),
            value: value.to_owned(),
            updated_by: actor.name.clone(),
            updated_at: at,
            version: current_version + 1,
        };
        audit::change(
            &mut tx,
            actor,
            "metric.put",
            &format!("metric:{year}:{unit}:{metric}"),
            current.as_ref(),
            &stored,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let next = Self::next_state(&state, |_, _, _, metrics| {
            metrics.retain(|m| !(m.unit == stored.unit && m.metric == stored.metric));
            metrics.push(stored.clone());
            metrics.sort_by(|a, b| (&a.unit, &a.metric).cmp(&(&b.unit, &b.metric)));
        });
        tx.commit_then(|| self.install(year, next)).await?;
        Ok(stored)
    }

    /// Replaces a unit's tags. Refused when the records in force would then break the rubric (a
    /// 专委会 rule recorded for a unit losing the tag).
    pub async fn set_unit_tags(
        &self,
        year: i64,
        unit: &str,
        tags: &[String],
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<StoredUnit> {
        let (mut tx, state) = self.write_period(year).await?;
        let Some(old) = state.units.iter().find(|u| u.name == unit).cloned() else {
            return Err(StoreError::NotFound(format!(
                "{year} 年度名册中没有单位「{unit}」"
            )));
        };
        check_version(&format!("单位「{unit}」"), old.version, version)?;
        let mut clean: Vec<String> = Vec::new();
        for t in tags {
            let t = t.trim();
            if t.is_empty() || t.contains([';', '；', ',']) || t.chars().count() > 32 {
                return Err(StoreError::invalid(
                    "tags",
                    format!("标签「{t}」无效：不能为空、不能含分号或逗号、至多 32 字"),
                ));
            }
            if !clean.iter().any(|c| c == t) {
                clean.push(t.to_owned());
            }
        }
        let mut units = state.units.clone();
        for u in &mut units {
            if u.name == unit {
                u.tags.clone_from(&clean);
                u.version += 1;
            }
        }
        build_ledger(
            &state.rubric,
            &units,
            &state.records,
            &state.assessments,
            &state.metrics,
            None,
            // No reuse: the tags change which rules apply, so every record is checked again.
            None,
        )
        .map_err(|e| {
            StoreError::invalid(
                "tags",
                format!("修改后已有数据不再符合细则：{}", ledger_message(&e)),
            )
        })?;
        sqlx::query("UPDATE period_units SET tags = $1, version = version + 1 WHERE year = $2 AND name = $3")
            .bind(clean.join(";"))
            .bind(year)
            .bind(unit)
            .execute(&mut **tx)
            .await?;
        let new = StoredUnit {
            tags: clean,
            version: old.version + 1,
            ..old.clone()
        };
        audit::change(
            &mut tx,
            actor,
            "unit.tags",
            &format!("unit:{year}:{unit}"),
            Some(&old),
            &new,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let next = Self::next_state(&state, |units, _, _, _| {
            if let Some(u) = units.iter_mut().find(|u| u.name == new.name) {
                *u = new.clone();
            }
        });
        tx.commit_then(|| self.install(year, next)).await?;
        Ok(new)
    }

    /// Loads a whole batch (roster tags, records, scores, metrics) into a period in one transaction:
    /// all of it is checked together first, and nothing is stored unless all of it is valid. One audit
    /// entry names the batch and its counts.
    #[allow(clippy::too_many_arguments)] // each is one field of the operation
    pub async fn import_batch(
        &self,
        year: i64,
        label: &str,
        tags: &[(String, Vec<String>)],
        records: &[NewRecord],
        assessments: &[(String, String, String, String)],
        metrics: &[(String, String, String)],
        actor: &Actor,
    ) -> Result<usize> {
        self.import(
            year,
            label,
            tags,
            records,
            assessments,
            metrics,
            actor,
            false,
        )
        .await
    }

    /// [`Store::import_batch`], or with `dry_run` only its checks: every refused row is listed
    /// ([`StoreError::Rows`]) and nothing is written either way when one is refused.
    #[allow(clippy::too_many_arguments)]
    pub async fn import(
        &self,
        year: i64,
        label: &str,
        tags: &[(String, Vec<String>)],
        records: &[NewRecord],
        assessments: &[(String, String, String, String)],
        metrics: &[(String, String, String)],
        actor: &Actor,
        dry_run: bool,
    ) -> Result<usize> {
        let (mut tx, state) = self.write_period(year).await?;
        let mut units = state.units.clone();
        let mut problems: Vec<RowProblem> = Vec::new();
        let mut problem = |table: &'static str, index: usize, field: &str, message: String| {
            if problems.len() < RowProblem::KEEP {
                problems.push(RowProblem {
                    table,
                    index,
                    field: field.to_owned(),
                    message,
                });
            }
        };
        for (i, (name, t)) in tags.iter().enumerate() {
            match units.iter_mut().find(|u| &u.name == name) {
                Some(u) => u.tags.clone_from(t),
                None => problem("units", i, "name", format!("名册中没有单位「{name}」")),
            }
        }
        // Everything in force plus the batch must make one valid ledger. A batch's score or metric
        // replaces the stored one for the same unit, clause (or metric) and group.
        let mut b = LedgerBuilder::new(&state.rubric, roster_of(&state.rubric, &units));
        for r in state.records.iter().filter(|r| r.status != "revoked") {
            with_stored_fields(r, |f| b.add_record(r.id as u64, f)).map_err(|e| invalid(&e))?;
        }
        let given_scores: std::collections::HashSet<(&str, &str, &str)> = assessments
            .iter()
            .map(|(u, r, a, _)| (u.trim(), r.trim(), a.trim()))
            .collect();
        let given_metrics: std::collections::HashSet<(&str, &str)> = metrics
            .iter()
            .map(|(u, m, _)| (u.trim(), m.trim()))
            .collect();
        for a in &state.assessments {
            if !given_scores.contains(&(a.unit.as_str(), a.rule.as_str(), a.assessor.as_str())) {
                b.add_assessment(u64::MAX, &a.unit, &a.rule, &a.assessor, &a.score)
                    .map_err(|e| invalid(&e))?;
            }
        }
        for m in &state.metrics {
            if !given_metrics.contains(&(m.unit.as_str(), m.metric.as_str())) {
                b.add_metric(u64::MAX, &m.unit, &m.metric, &m.value)
                    .map_err(|e| invalid(&e))?;
            }
        }
        for (i, r) in records.iter().enumerate() {
            if let Err(e) = b.add_record(u64::MAX - i as u64, &fields(r)) {
                problem("records", i, e.field.column(), ledger_message(&e));
            }
        }
        for (i, (u, rule, a, s)) in assessments.iter().enumerate() {
            if let Err(e) = b.add_assessment(i as u64, u, rule, a, s) {
                problem("assessments", i, e.field.column(), ledger_message(&e));
            }
        }
        for (i, (u, m, v)) in metrics.iter().enumerate() {
            if let Err(e) = b.add_metric(i as u64, u, m, v) {
                problem("metrics", i, e.field.column(), ledger_message(&e));
            }
        }
        if !problems.is_empty() {
            return Err(StoreError::Rows(problems));
        }
        if dry_run {
            return Ok(records.len() + assessments.len() + metrics.len() + tags.len());
        }
        let at = now();
        for (name, t) in tags {
            sqlx::query("UPDATE period_units SET tags = $1, version = version + 1 WHERE year = $2 AND name = $3")
                .bind(t.join(";"))
                .bind(year)
                .bind(name)
                .execute(&mut **tx)
                .await?;
        }
        insert_rows(&mut tx, year, records, &actor.name, &at).await?;
        for (u, rule, a, s) in assessments {
            let score = lvzhi_core::Points::parse(s)
                .map_err(|e| StoreError::invalid("score", e.to_string()))?;
            sqlx::query(
                "DELETE FROM assessments WHERE year = $1 AND unit = $2 AND rule = $3 AND assessor = $4",
            )
            .bind(year)
            .bind(u.trim())
            .bind(rule.trim())
            .bind(a.trim())
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO assessments (year, unit, rule, assessor, score, updated_by, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
            )
            .bind(year)
            .bind(u.trim())
            .bind(rule.trim())
            .bind(a.trim())
            .bind(score.hundredths())
            .bind(&actor.name)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        }
        for (u, m, v) in metrics {
            sqlx::query("DELETE FROM metrics WHERE year = $1 AND unit = $2 AND metric = $3")
                .bind(year)
                .bind(u.trim())
                .bind(m.trim())
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO metrics (year, unit, metric, value, updated_by, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1)",
            )
            .bind(year)
            .bind(u.trim())
            .bind(m.trim())
            .bind(v.trim())
            .bind(&actor.name)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        }
        let mut per_unit = std::collections::BTreeMap::<&str, usize>::new();
        for r in records {
            *per_unit.entry(r.unit.trim()).or_default() += 1;
        }
        for (unit, n) in per_unit {
            crate::lifecycle::notify(
                &mut tx,
                year,
                "unit",
                unit,
                "record.added",
                &format!("导入了 {n} 条本单位的扣分记录（待安委办确认）"),
                &format!("unit:{unit}"),
                &at,
            )
            .await?;
        }
        let after = serde_json::json!({
            "label": label, "tags": tags.len(), "records": records.len(),
            "assessments": assessments.len(), "metrics": metrics.len()
        });
        audit::append(
            &mut tx,
            actor,
            "import.batch",
            &format!("period:{year}"),
            None,
            Some(&after),
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        // The next read reloads the period (a batch is rare; its state is not derived in memory).
        tx.commit_then(|| self.install(year, None)).await?;
        Ok(records.len() + assessments.len() + metrics.len())
    }
}

/// A period's state from its parts: the ledger in force, the sheets and the results JSON.
pub(crate) fn compute(
    prev: Option<&Ledger>,
    info: PeriodInfo,
    rubric: Arc<Rubric>,
    units: Vec<StoredUnit>,
    records: Vec<Arc<StoredRecord>>,
    assessments: Vec<StoredAssessment>,
    metrics: Vec<StoredMetric>,
) -> Result<PeriodState> {
    let ledger = build_ledger(
        &rubric,
        &units,
        &records,
        &assessments,
        &metrics,
        None,
        prev,
    )
    .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
    let sheets = score(&rubric, &ledger).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let results_json: Arc<[u8]> = serde_json::to_vec(&ResultsDoc::new(&rubric, &sheets))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .into();
    Ok(PeriodState {
        info,
        rubric,
        units,
        records,
        assessments,
        metrics,
        ledger,
        sheets,
        results_json,
        appeals: Vec::new(),
        confirmed: std::sync::OnceLock::new(),
        months: std::sync::OnceLock::new(),
    })
}

/// Checks a record against everything in force (leaving out `without`) and inserts it with its
/// audit entry.
#[allow(clippy::too_many_arguments)] // each is one part of the insertion
pub(crate) async fn insert_record(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    state: &PeriodState,
    year: i64,
    rec: &NewRecord,
    without: Option<i64>,
    replaces: Option<i64>,
    confirmed: bool,
    actor: &Actor,
) -> Result<StoredRecord> {
    // The records in force, already checked, re-enter as compact records: no parsing, no copies.
    let mut b = LedgerBuilder::new(&state.rubric, state.roster());
    for r in state.ledger.records() {
        if Some(r.id) != without.and_then(|w| u64::try_from(w).ok()) {
            // They were valid together; were one not, it would not block the new one.
            let _ = b.push_record(*r);
        }
    }
    let checked = b.check_record(0, &fields(rec)).map_err(|e| invalid(&e))?;
    b.push_record(checked).map_err(|e| invalid(&e))?;
    let at = now();
    let id = insert_row(tx, year, rec, replaces, confirmed, &actor.name, &at).await?;
    // What was stored, as `insert_row` stored it (no second read).
    let text = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
    };
    let stored = StoredRecord {
        id,
        unit: rec.unit.trim().to_owned(),
        rule: rec.rule.trim().to_owned(),
        count: i64::from(checked.count),
        points: rubric_points(&state.rubric, checked.rule, checked.points),
        date: text(&rec.date)
            .and_then(|d| lvzhi_core::Date::parse(&d))
            .map(|d| d.to_string()),
        source: rec.source.trim().to_owned(),
        note: rec.note.trim().to_owned(),
        status: if confirmed { "confirmed" } else { "recorded" }.to_owned(),
        revoked_reason: None,
        revoked_by: None,
        revoked_at: None,
        replaces,
        created_by: actor.name.clone(),
        confirmed_at: confirmed.then(|| at.clone()),
        confirmed_by: confirmed.then(|| actor.name.clone()),
        created_at: at,
        version: 1,
    };
    audit::change(
        tx,
        actor,
        "record.add",
        &format!("record:{id}"),
        None::<&()>,
        &stored,
    )
    .await?;
    Ok(stored)
}

/// A clause's code and short text, for messages.
fn rule_text(rubric: &Rubric, code: &str) -> String {
    rubric.rule_by_code(code).map_or_else(
        || code.to_owned(),
        |i| format!("{code} {}", rubric.rules[i].text),
    )
}

/// The entered points of a checked record as stored: only range and graded rules keep them.
fn rubric_points(rubric: &Rubric, rule: u16, hundredths: i32) -> Option<String> {
    use lvzhi_core::RuleKind;
    match rubric.rules.get(usize::from(rule)).map(|r| &r.kind) {
        Some(RuleKind::Range { .. } | RuleKind::Graded { .. }) => {
            Some(lvzhi_core::Points::from_hundredths(i64::from(hundredths)).to_string())
        }
        _ => None,
    }
}

/// Inserts a checked record; returns its id.
/// The stored form of a checked record's count, points (hundredths) and date.
fn row_values(rec: &NewRecord) -> Result<(i64, Option<i64>, Option<String>)> {
    let count: i64 = rec
        .count
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map_or(Ok(1), |c| c.trim_end_matches(".0").parse::<i64>())
        .map_err(|_| StoreError::invalid("count", "数量无效"))?;
    let points = rec
        .points
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(lvzhi_core::Points::parse)
        .transpose()
        .map_err(|e| StoreError::invalid("points", e.to_string()))?
        .map(lvzhi_core::Points::hundredths);
    let date = rec
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .and_then(lvzhi_core::Date::parse)
        .map(|d| d.to_string());
    Ok((count, points, date))
}

/// Inserts checked records of a batch, many rows per statement.
async fn insert_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    year: i64,
    recs: &[NewRecord],
    by: &str,
    at: &str,
) -> Result<()> {
    // sqlx looks each parameter up by name (linear in the statement's parameters): keep statements small.
    const ROWS: usize = 16;
    for chunk in recs.chunks(ROWS) {
        let mut sql = String::from(
            "INSERT INTO records (year, unit, rule, count, points, date, source, note, status, created_by, created_at, version) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 10;
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for k in 1..=10 {
                if k == 9 {
                    sql.push_str("'recorded', ");
                }
                sql.push('$');
                sql.push_str(&(b + k).to_string());
                sql.push_str(", ");
            }
            sql.push_str("1)");
        }
        let mut q = sqlx::query(&sql);
        for rec in chunk {
            let (count, points, date) = row_values(rec)?;
            q = q
                .bind(year)
                .bind(rec.unit.trim().to_owned())
                .bind(rec.rule.trim().to_owned())
                .bind(count)
                .bind(points)
                .bind(date)
                .bind(rec.source.trim().to_owned())
                .bind(rec.note.trim().to_owned())
                .bind(by.to_owned())
                .bind(at.to_owned());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    year: i64,
    rec: &NewRecord,
    replaces: Option<i64>,
    confirmed: bool,
    by: &str,
    at: &str,
) -> Result<i64> {
    let (count, points, date) = row_values(rec)?;
    let row = sqlx::query(
        "INSERT INTO records (year, unit, rule, count, points, date, source, note, status, replaces, created_by, created_at, version, confirmed_at, confirmed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $12, $9, $10, $11, 1, $13, $14) RETURNING id",
    )
    .bind(year)
    .bind(rec.unit.trim())
    .bind(rec.rule.trim())
    .bind(count)
    .bind(points)
    .bind(date)
    .bind(rec.source.trim())
    .bind(rec.note.trim())
    .bind(replaces)
    .bind(by)
    .bind(at)
    .bind(if confirmed { "confirmed" } else { "recorded" })
    .bind(confirmed.then_some(at))
    .bind(confirmed.then_some(by))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

/// The ledger of what is in force: records not revoked, every score and metric value.
/// With `prev`, a ledger of the same roster, its already-checked compact records are reused
/// (only the rules across records run again); records it does not hold are parsed from their text.
pub(crate) fn build_ledger(
    rubric: &Rubric,
    units: &[StoredUnit],
    records: &[Arc<StoredRecord>],
    assessments: &[StoredAssessment],
    metrics: &[StoredMetric],
    without: Option<i64>,
    prev: Option<&Ledger>,
) -> std::result::Result<Ledger, LedgerError> {
    let same_roster = |l: &&Ledger| {
        l.roster().len() == units.len()
            && l.roster()
                .units()
                .iter()
                .zip(units)
                .all(|(a, b)| a.name == b.name)
    };
    let reuse: HashMap<u64, lvzhi_core::Record> = prev
        .filter(same_roster)
        .map(|l| l.records().iter().map(|r| (r.id, *r)).collect())
        .unwrap_or_default();
    let mut b = LedgerBuilder::new(rubric, roster_of(rubric, units));
    for r in records
        .iter()
        .filter(|r| r.in_force() && Some(r.id) != without)
    {
        match reuse.get(&(r.id as u64)) {
            Some(compact) => b.push_record(*compact)?,
            None => with_stored_fields(r, |f| b.add_record(r.id as u64, f))?,
        }
    }
    for (i, a) in assessments.iter().enumerate() {
        b.add_assessment(i as u64 + 1, &a.unit, &a.rule, &a.assessor, &a.score)?;
    }
    for (i, m) in metrics.iter().enumerate() {
        b.add_metric(i as u64 + 1, &m.unit, &m.metric, &m.value)?;
    }
    Ok(b.finish())
}
