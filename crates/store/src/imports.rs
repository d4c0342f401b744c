//! Imports: a whole batch (roster tags, records, 督导组 scores, metric values) loaded into a period in
//! one transaction, all or nothing. Every row is checked by the core against the period and the rest
//! of the batch first; a refused batch lists every refused row and stores nothing. Records go in
//! many to a statement, with their ids given, so the next state is derived in memory without
//! reading the period back. This module knows SQL; it must not know HTTP or file formats.

use std::collections::{BTreeMap, HashSet};

use lvzhi_core::{LedgerBuilder, LedgerError, NewRecord, Points, RecordStatus};
use sqlx::Row;

use crate::audit::AuditAction;
use crate::notices::{Audience, NoticeKind, notify};
use crate::state::{Next, PeriodState, RecordRow, ledger_message};
use crate::{Actor, Backend, Result, RowProblem, Store, StoreError, WriteTx, audit, clock};

/// The file a batch was read from: remembered by its SHA-256, so that it is not imported twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMark {
    pub sha256: String,
    pub name: String,
    /// Which table it held (`records`, `assessments`, `metrics`, `units`).
    pub kind: String,
}

/// What to do with rows that look like a record already in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Duplicates {
    /// Refuse the import and list them, for the person to choose.
    #[default]
    Ask,
    /// Leave them out, import the rest.
    Skip,
    /// Import them too.
    Import,
}

impl Duplicates {
    pub fn parse(s: &str) -> Option<Duplicates> {
        match s.trim() {
            "" | "ask" => Some(Duplicates::Ask),
            "skip" | "跳过" => Some(Duplicates::Skip),
            "import" | "仍然导入" => Some(Duplicates::Import),
            _ => None,
        }
    }
}

/// A row of a batch equal to records already in force (unit, clause, date, count or points,
/// source): probably entered before.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Duplicate {
    /// The row's 0-based index in the batch's records.
    pub index: usize,
    /// The records in force it equals.
    pub existing: Vec<i64>,
}

/// What an import did (or, for a check, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportOutcome {
    /// Rows checked.
    pub checked: usize,
    /// Rows stored (none for a check).
    pub imported: usize,
    /// Probable duplicates among the records.
    pub duplicates: Vec<Duplicate>,
    /// Duplicates left out.
    pub skipped: usize,
}

/// What a batch holds.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// A person's name for the batch (a file name), for the audit trail.
    pub label: String,
    /// The file it was read from, when it was a file.
    pub file: Option<FileMark>,
    /// What to do with probable duplicates.
    pub duplicates: Duplicates,
    /// Roster tags: unit, its tags.
    pub tags: Vec<(String, Vec<String>)>,
    pub records: Vec<NewRecord>,
    /// Scores: unit, clause, assessor, score.
    pub assessments: Vec<(String, String, String, String)>,
    /// Metric values: unit, metric, value.
    pub metrics: Vec<(String, String, String)>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.tags.len() + self.records.len() + self.assessments.len() + self.metrics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Refusals of a batch, with the core's message read in the batch's terms: a row number that is
/// another row of this batch is said so, one that is a stored record is its number.
pub(crate) struct Problems {
    pub(crate) rows: Vec<RowProblem>,
    /// Ids from here on belong to the batch's records (in order).
    pub(crate) first_new: u64,
}

impl Problems {
    fn push(&mut self, table: &'static str, index: usize, e: &LedgerError) {
        if self.rows.len() >= RowProblem::KEEP {
            return;
        }
        let mut p = e.problem.clone();
        let text = p.to_string();
        let message = match p.other_row_mut() {
            Some(n) if *n >= self.first_new => text.replace(
                &format!("第 {n} 行"),
                &format!("本次导入的第 {} 条", *n - self.first_new + 1),
            ),
            Some(n) => text.replace(&format!("第 {n} 行"), &format!("记录 #{n}")),
            None => text,
        };
        self.rows.push(RowProblem {
            table,
            index,
            field: e.field.column().to_owned(),
            message,
        });
    }

    fn say(&mut self, table: &'static str, index: usize, field: &str, message: String) {
        if self.rows.len() < RowProblem::KEEP {
            self.rows.push(RowProblem {
                table,
                index,
                field: field.to_owned(),
                message,
            });
        }
    }
}

/// A checked record as it is inserted: id, unit, clause, count, entered points (hundredths), date,
/// source, note.
type NewRow<'a> = (
    u64,
    &'a str,
    &'a str,
    u32,
    Option<i32>,
    Option<String>,
    &'a str,
    &'a str,
);

/// Inserts checked records with the ids given, many to a statement.
async fn insert_records(
    tx: &mut WriteTx,
    backend: Backend,
    year: i64,
    rows: &[NewRow<'_>],
    by: &str,
    at: &str,
) -> Result<()> {
    let sql = match backend {
        // Each row is read from text once (into JSONB), then its fields without parsing again.
        Backend::Sqlite => {
            "WITH r AS MATERIALIZED (SELECT jsonb(value) AS b FROM json_each($2)) \
             INSERT INTO records (id, year, unit, rule, count, points, date, source, note, status, created_by, created_at, version) \
             SELECT b->>0, $1, b->>1, b->>2, b->>3, b->>4, b->>5, b->>6, b->>7, 'recorded', $3, $4, 1 FROM r"
        }
        Backend::Postgres => {
            "INSERT INTO records (id, year, unit, rule, count, points, date, source, note, status, created_by, created_at, version) \
             SELECT (e->>0)::bigint, $1, e->>1, e->>2, (e->>3)::bigint, (e->>4)::bigint, e->>5, e->>6, e->>7, \
             'recorded', $3, $4, 1 FROM jsonb_array_elements($2::jsonb) AS e"
        }
    };
    // SQLite keeps the pages the inserts touch in its page cache for the length of the import
    // (the default of 2 MB would evict and re-read them), then goes back to its default.
    if backend == Backend::Sqlite && rows.len() > 10_000 {
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(&mut ***tx)
            .await?;
    }
    for chunk in rows.chunks(20_000) {
        let text = serde_json::to_string(chunk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(sql)
            .bind(year)
            .bind(text)
            .bind(by)
            .bind(at)
            .execute(&mut ***tx)
            .await?;
    }
    if backend == Backend::Sqlite && rows.len() > 10_000 {
        sqlx::query("PRAGMA cache_size = -2000")
            .execute(&mut ***tx)
            .await?;
    }
    if backend == Backend::Postgres && !rows.is_empty() {
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('records', 'id'), (SELECT MAX(id) FROM records))",
        )
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Loads a whole batch into a period in one transaction, or with `dry_run` only checks it. Every
    /// refused row is listed ([`StoreError::Rows`]) and nothing is written when one is refused. A
    /// file imported into the year before is refused, naming that import; records equal to records
    /// in force are listed, and imported only as the batch says ([`Duplicates`]). One audit entry
    /// names the batch, its file and its counts.
    pub async fn import(
        &self,
        year: i64,
        batch: &Batch,
        actor: &Actor,
        dry_run: bool,
    ) -> Result<ImportOutcome> {
        if self.has_parts(year).await? {
            return self.import_year_roster(year, batch, actor, dry_run).await;
        }
        // A batch of scores and metric values checks nothing against the records.
        let (mut tx, state) = if batch.records.is_empty() && batch.tags.is_empty() {
            self.write_period_cells(year, actor).await?
        } else {
            // Records get ids here (after the largest of every period), so no other period's
            // write may run meanwhile.
            self.write_period_alone(year, actor).await?
        };
        let rubric = state.rubric.clone();
        refuse_a_file_again(&mut tx, year, batch).await?;
        let max_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM records")
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
        let first_new = max_id as u64 + 1;
        let mut problems = Problems {
            rows: Vec::new(),
            first_new,
        };
        let mut next = Next::new(&state);

        // Tags first: the batch's records are checked against the new roster.
        tags_into(&mut next, &state, &batch.tags, &mut problems, "");

        // Everything in force plus the batch must make one valid ledger. A batch's score or metric
        // replaces the stored one for the same unit, clause (or metric) and group.
        let given_scores: HashSet<(&str, &str, &str)> = batch
            .assessments
            .iter()
            .map(|(u, r, a, _)| (u.trim(), r.trim(), a.trim()))
            .collect();
        // By code, whether the file named a metric by code or by name.
        let given_metrics: HashSet<(&str, &str)> = batch
            .metrics
            .iter()
            .map(|(u, m, _)| {
                let code = state.rubric.metric_code(m);
                (u.trim(), code)
            })
            .collect();
        let mut b = LedgerBuilder::new(&rubric, next.state().roster().clone());
        // New records are checked against the ones in force; scores and values need no record.
        if !batch.records.is_empty() {
            b.reserve_records(state.provisional.record_count() + batch.records.len());
            for r in state.provisional.records() {
                b.push_record(*r)
                    .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            }
        }
        for a in state.assessments() {
            if !given_scores.contains(&(a.unit.as_str(), a.rule.as_str(), a.assessor.as_str())) {
                b.add_assessment(0, &a.unit, &a.rule, &a.assessor, &a.score)
                    .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            }
        }
        for m in state.metrics() {
            if !given_metrics.contains(&(m.unit.as_str(), m.metric.as_str())) {
                b.add_metric(0, &m.unit, &m.metric, &m.value)
                    .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
            }
        }
        // The rows' own checks first, then the probable duplicates, then the rules across rows in
        // the file's order (leaving out the duplicates to skip).
        let mut row_checked: Vec<Option<lvzhi_core::Record>> =
            Vec::with_capacity(batch.records.len());
        for (i, r) in batch.records.iter().enumerate() {
            let id = first_new + i as u64;
            match r
                .check_texts(id)
                .and_then(|()| b.check_record(id, &r.fields()))
            {
                Ok(rec) => row_checked.push(Some(rec)),
                Err(e) => {
                    problems.push("records", i, &e);
                    row_checked.push(None);
                }
            }
        }
        let duplicates = duplicates_of(&mut tx, self.backend, &state, batch, &row_checked).await?;
        let skip: HashSet<usize> = match batch.duplicates {
            Duplicates::Skip => duplicates.iter().map(|d| d.index).collect(),
            _ => HashSet::new(),
        };
        let mut checked = Vec::with_capacity(batch.records.len());
        let mut next_id = first_new;
        for (i, rec) in row_checked.into_iter().enumerate() {
            let Some(rec) = rec else { continue };
            if skip.contains(&i) {
                continue;
            }
            // Ids follow the rows stored, without gaps for the rows left out.
            let rec = lvzhi_core::Record { id: next_id, ..rec };
            next_id += 1;
            match b.push_record(rec) {
                Ok(()) => checked.push((i, rec)),
                Err(e) => problems.push("records", i, &e),
            }
        }
        for (i, (u, rule, a, s)) in batch.assessments.iter().enumerate() {
            if let Err(e) = b.add_assessment(i as u64, u, rule, a, s) {
                problems.push("assessments", i, &e);
            }
        }
        for (i, (u, m, v)) in batch.metrics.iter().enumerate() {
            if let Err(e) = b.add_metric(i as u64, u, m, v) {
                problems.push("metrics", i, &e);
            }
        }
        drop(b);
        if !problems.rows.is_empty() {
            return Err(StoreError::Rows(problems.rows));
        }
        let mut outcome = ImportOutcome {
            checked: batch.len(),
            imported: 0,
            skipped: skip.len(),
            duplicates,
        };
        if dry_run {
            return Ok(outcome);
        }
        if batch.duplicates == Duplicates::Ask && !outcome.duplicates.is_empty() {
            return Err(StoreError::Duplicates(outcome.duplicates));
        }

        let at = tx.now();
        let ms = clock::millis(&at);
        store_unit_tags(&mut tx, &next, &state).await?;
        let mut rows = Vec::with_capacity(checked.len());
        let mut per_unit = BTreeMap::<usize, usize>::new();
        for (i, rec) in &checked {
            let (rec, r) = (rec, &batch.records[*i]);
            let entered = matches!(
                rubric.rules[usize::from(rec.rule)].kind,
                lvzhi_core::RuleKind::Range { .. } | lvzhi_core::RuleKind::Graded { .. }
            );
            let date = (rec.day != 0)
                .then(|| lvzhi_core::Date::from_ordinal(rubric.year, rec.day))
                .flatten()
                .map(|d| d.to_string());
            rows.push((
                rec.id,
                state.units[rec.unit as usize].name.as_str(),
                rubric.rules[usize::from(rec.rule)].code.as_str(),
                rec.count,
                entered.then_some(rec.points),
                date,
                r.source(),
                r.note(),
            ));
            *per_unit.entry(rec.unit as usize).or_default() += 1;
            if !self.keep_state {
                continue;
            }
            next.unit(rec.unit as usize).rows.push(RecordRow {
                id: rec.id as i64,
                rule: rec.rule,
                count: rec.count,
                points: rec.points,
                day: rec.day,
                status: RecordStatus::Recorded,
                replaces: None,
                created: ms,
                confirmed: None,
                revoked: None,
            });
        }
        insert_records(&mut tx, self.backend, year, &rows, &actor.name, &at).await?;
        drop(rows);
        for (u, rule, a, s) in &batch.assessments {
            let (u, rule, a) = (u.trim(), rule.trim(), a.trim());
            let score =
                Points::parse(s).map_err(|e| StoreError::invalid("score", e.to_string()))?;
            let ui = state
                .unit_index(u)
                .ok_or_else(|| StoreError::invalid("unit", format!("未知单位「{u}」")))?;
            let version = next
                .state()
                .unit(ui)
                .assessments
                .iter()
                .find(|x| x.rule == rule && x.assessor == a)
                .map_or(0, |x| x.version)
                + 1;
            sqlx::query(
                "INSERT INTO assessments (year, unit, rule, assessor, score, updated_by, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (year, unit, rule, assessor) DO UPDATE \
                 SET score = excluded.score, updated_by = excluded.updated_by, updated_at = excluded.updated_at, \
                 version = excluded.version",
            )
            .bind(year)
            .bind(u)
            .bind(rule)
            .bind(a)
            .bind(score.hundredths())
            .bind(&actor.name)
            .bind(&at)
            .bind(version)
            .execute(&mut **tx)
            .await?;
            {
                let (rubric, provisional, official) = next.ledgers();
                for ledger in [provisional, official] {
                    ledger
                        .set_assessment(rubric, 0, u, rule, a, s)
                        .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
                }
            }
            let list = &mut next.unit(ui).assessments;
            list.retain(|x| !(x.rule == rule && x.assessor == a));
            list.push(crate::model::StoredAssessment {
                unit: u.to_owned(),
                rule: rule.to_owned(),
                assessor: a.to_owned(),
                score: score.to_string(),
                updated_by: actor.name.clone(),
                updated_at: at.clone(),
                version,
            });
            list.sort_by(|x, y| (&x.rule, &x.assessor).cmp(&(&y.rule, &y.assessor)));
        }
        for (u, m, v) in &batch.metrics {
            // Stored by its code, whether the file named it by code or by name.
            let m = state.rubric.metric_code(m);
            let (u, v) = (u.trim(), v.trim());
            let ui = state
                .unit_index(u)
                .ok_or_else(|| StoreError::invalid("unit", format!("未知单位「{u}」")))?;
            let version = next
                .state()
                .unit(ui)
                .metrics
                .iter()
                .find(|x| x.metric == m)
                .map_or(0, |x| x.version)
                + 1;
            sqlx::query(
                "INSERT INTO metrics (year, unit, metric, value, updated_by, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (year, unit, metric) DO UPDATE \
                 SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at, \
                 version = excluded.version",
            )
            .bind(year)
            .bind(u)
            .bind(m)
            .bind(v)
            .bind(&actor.name)
            .bind(&at)
            .bind(version)
            .execute(&mut **tx)
            .await?;
            {
                let (rubric, provisional, official) = next.ledgers();
                for ledger in [provisional, official] {
                    ledger
                        .set_metric(rubric, 0, u, m, v)
                        .map_err(|e| StoreError::Corrupt(ledger_message(&e)))?;
                }
            }
            let list = &mut next.unit(ui).metrics;
            list.retain(|x| x.metric != m);
            list.push(crate::model::StoredMetric {
                unit: u.to_owned(),
                metric: m.to_owned(),
                value: v.to_owned(),
                updated_by: actor.name.clone(),
                updated_at: at.clone(),
                version,
            });
            list.sort_by(|x, y| x.metric.cmp(&y.metric));
        }
        for (&u, &n) in &per_unit {
            notify(
                &mut tx,
                year,
                Audience::Unit(&state.units[u].name),
                NoticeKind::RecordAdded,
                &format!("导入了 {n} 条本单位的扣分记录（待安委办确认）"),
                &format!("unit:{}", state.units[u].name),
            )
            .await?;
        }
        let ids = checked
            .first()
            .zip(checked.last())
            .map(|(a, b)| [a.1.id, b.1.id]);
        mark_file(&mut tx, year, batch, actor).await?;
        let after = serde_json::json!({
            "label": batch.label,
            "file": batch.file.as_ref().map(|f| serde_json::json!({"name": f.name, "sha256": f.sha256})),
            "tags": batch.tags.len(), "records": checked.len(), "skipped_duplicates": skip.len(),
            "record_ids": ids, "assessments": batch.assessments.len(), "metrics": batch.metrics.len()
        });
        audit::append(
            &mut tx,
            actor,
            AuditAction::ImportBatch,
            &format!("period:{year}"),
            None,
            Some(&after),
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        self.commit_with(tx, year, Some(next)).await?;
        outcome.imported =
            checked.len() + batch.assessments.len() + batch.metrics.len() + batch.tags.len();
        Ok(outcome)
    }
}

/// Refuses a batch read from a file already imported into the period, naming that import.
pub(crate) async fn refuse_a_file_again(tx: &mut WriteTx, year: i64, batch: &Batch) -> Result<()> {
    let Some(file) = &batch.file else {
        return Ok(());
    };
    let earlier = sqlx::query(
        "SELECT name, rows, imported_by, imported_at FROM imported_files WHERE year = $1 AND sha256 = $2",
    )
    .bind(year)
    .bind(&file.sha256)
    .fetch_optional(&mut ***tx)
    .await?;
    if let Some(r) = earlier {
        let (name, rows, by, at): (String, i64, String, String) = (
            r.try_get("name")?,
            r.try_get("rows")?,
            r.try_get("imported_by")?,
            r.try_get("imported_at")?,
        );
        return Err(StoreError::Conflict(format!(
            "同一文件已于 {} 由 {by} 导入本考核期（「{name}」，{rows} 行），不再重复导入",
            clock::beijing_minute(&at)
        )));
    }
    Ok(())
}

/// Remembers the file a batch was read from (by its SHA-256), so that it is not imported again.
pub(crate) async fn mark_file(
    tx: &mut WriteTx,
    year: i64,
    batch: &Batch,
    actor: &Actor,
) -> Result<()> {
    let Some(file) = &batch.file else {
        return Ok(());
    };
    let at = tx.now();
    sqlx::query(
        "INSERT INTO imported_files (year, sha256, name, kind, rows, imported_by, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(year)
    .bind(&file.sha256)
    .bind(&file.name)
    .bind(&file.kind)
    .bind(batch.len() as i64)
    .bind(&actor.name)
    .bind(&at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Applies a batch's roster tags to a period's next state, each refused row said in `problems`
/// (its message prefixed with `whose`: the part it was refused in, or nothing).
pub(crate) fn tags_into(
    next: &mut Next,
    state: &PeriodState,
    tags: &[(String, Vec<String>)],
    problems: &mut Problems,
    whose: &str,
) {
    for (i, (name, tags)) in tags.iter().enumerate() {
        let Some(u) = state.unit_index(name) else {
            problems.say(
                "units",
                i,
                "name",
                format!("{whose}名册中没有单位「{name}」"),
            );
            continue;
        };
        let tags = match crate::cells::clean_tags(tags) {
            Ok(t) => t,
            Err(e) => {
                problems.say("units", i, "tags", e.to_string());
                continue;
            }
        };
        let (rubric, provisional, official) = next.ledgers();
        let done = provisional
            .set_tags(rubric, u, tags.clone())
            .and_then(|()| official.set_tags(rubric, u, tags.clone()));
        match done {
            Ok(()) => {
                let unit = &mut next.units()[u];
                if unit.tags != tags {
                    unit.tags = tags;
                    unit.version += 1;
                }
                next.unit(u);
            }
            Err(e) => problems.say(
                "units",
                i,
                "tags",
                format!("{whose}修改后已有数据不再符合细则：{}", ledger_message(&e)),
            ),
        }
    }
}

/// Writes the units whose tags a next state changed.
pub(crate) async fn store_unit_tags(
    tx: &mut WriteTx,
    next: &Next,
    state: &PeriodState,
) -> Result<()> {
    for (u, unit) in next.state().units.iter().enumerate() {
        if unit.version != state.units[u].version {
            sqlx::query(
                "UPDATE period_units SET tags = $1, version = $2 WHERE year = $3 AND name = $4",
            )
            .bind(unit.tags.join(";"))
            .bind(unit.version)
            .bind(state.info.id)
            .bind(&unit.name)
            .execute(&mut ***tx)
            .await?;
        }
    }
    Ok(())
}

/// The rows of a batch equal to records in force: same unit, clause, date, count, points and
/// source. The figures are compared on the period's compact rows, the sources read for the
/// candidates only.
async fn duplicates_of(
    tx: &mut WriteTx,
    backend: Backend,
    state: &crate::state::PeriodState,
    batch: &Batch,
    checked: &[Option<lvzhi_core::Record>],
) -> Result<Vec<Duplicate>> {
    let mut candidates: Vec<(usize, Vec<i64>)> = Vec::new();
    for (i, rec) in checked.iter().enumerate() {
        let Some(rec) = rec else { continue };
        let same: Vec<i64> = state
            .unit(rec.unit as usize)
            .rows
            .iter()
            .filter(|r| {
                r.status.in_force()
                    && r.rule == rec.rule
                    && r.day == rec.day
                    && r.count == rec.count
                    && r.points == rec.points
            })
            .map(|r| r.id)
            .collect();
        if !same.is_empty() {
            candidates.push((i, same));
        }
    }
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = candidates
        .iter()
        .flat_map(|(_, c)| c.iter().copied())
        .collect();
    let mut sources: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT id, source FROM records WHERE id IN (SELECT value FROM json_each($1))"
        }
        Backend::Postgres => {
            "SELECT id, source FROM records WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint)"
        }
    };
    for chunk in ids.chunks(1000) {
        let list = serde_json::to_string(chunk).unwrap_or_default();
        for r in sqlx::query(sql).bind(list).fetch_all(&mut ***tx).await? {
            sources.insert(r.try_get("id")?, r.try_get("source")?);
        }
    }
    Ok(candidates
        .into_iter()
        .filter_map(|(i, same)| {
            let source = batch.records[i].source();
            let existing: Vec<i64> = same
                .into_iter()
                .filter(|id| sources.get(id).is_some_and(|s| s.trim() == source))
                .collect();
            (!existing.is_empty()).then_some(Duplicate { index: i, existing })
        })
        .collect())
}
