//! Reading a period from the database into its state: the period's row, its roster, every record
//! in compact form (read as JSON arrays by id range), scores, metric values and appeals. It keeps
//! nothing: what it reads is the cache's to keep.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use lvzhi_core::{
    Basis, Decision, Ledger, LedgerBuilder, Points, RecordStatus, Roster, Rubric, score,
};
use sqlx::{AnyConnection, Row};

use super::{
    PERIOD_COLUMNS, PeriodState, RecordRow, StatusCounts, UnitState, ledger_message, roster_of,
};
use crate::clock;
use crate::model::{PeriodInfo, StoredAppeal, StoredAssessment, StoredMetric, StoredUnit};
use crate::{Backend, Result, Store, StoreError};

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

/// Unit `u`'s part among those read.
fn unit_part(parts: &mut HashMap<usize, UnitState>, u: usize) -> Result<&mut UnitState> {
    parts
        .get_mut(&u)
        .ok_or_else(|| StoreError::Corrupt("读到了未请求的单位".to_owned()))
}

/// Each rule's position by its code.
fn rules_of(rubric: &Rubric) -> HashMap<&str, u16> {
    rubric
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.code.as_str(), i as u16))
        .collect()
}

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
    fn rows_sql(&self, which: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!(
                "SELECT json_group_array(json_array({ROW_COLUMNS})) FROM \
                 (SELECT {ROW_COLUMNS} FROM records WHERE year = $1 {which} ORDER BY id)"
            ),
            Backend::Postgres => format!(
                "SELECT coalesce(json_agg(json_build_array({ROW_COLUMNS})), '[]')::text FROM \
                 (SELECT {ROW_COLUMNS} FROM records WHERE year = $1 {which} ORDER BY id) r"
            ),
        }
    }

    /// The records, scores and metric values of some units (their roster positions and names) as
    /// the database holds them now: what another instance's writes changed.
    pub(super) async fn load_some(
        &self,
        conn: &mut AnyConnection,
        year: i64,
        rubric: &Rubric,
        units: &[(usize, &str)],
    ) -> Result<Vec<(usize, UnitState)>> {
        let names: Vec<&str> = units.iter().map(|&(_, n)| n).collect();
        let unit_of: HashMap<&str, usize> = units.iter().map(|&(u, n)| (n, u)).collect();
        let sql = self.rows_sql(&of_units(Some(&names)));
        let text: String = bound(&sql, year, Some(&names))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let mut out: HashMap<usize, UnitState> = units
            .iter()
            .map(|&(u, _)| (u, UnitState::default()))
            .collect();
        for (u, row) in rows_of(&text, &unit_of, &rules_of(rubric), rubric.year)? {
            unit_part(&mut out, u)?.rows.push(row);
        }
        for a in load_assessments(conn, year, Some(&names)).await? {
            let u = unit_of.get(a.unit.as_str()).copied().unwrap_or(usize::MAX);
            unit_part(&mut out, u)?.assessments.push(a);
        }
        for m in load_metrics(conn, year, Some(&names)).await? {
            let u = unit_of.get(m.unit.as_str()).copied().unwrap_or(usize::MAX);
            unit_part(&mut out, u)?.metrics.push(m);
        }
        Ok(out.into_iter().collect())
    }

    /// Reads a period from the database: whole, or (`with_records` false) all but its records.
    pub(super) async fn load(
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
        let mut info = self.period_of_row(&mut *conn, &row).await?;
        self.link_period(conn, &mut info).await?;
        let whole = self.rubric_by_hash(&mut *conn, &info.rubric_hash).await?;
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
        let rule_of = rules_of(&rubric);
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
            texts = self.range_texts(conn, year, &ranges).await?;
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
        for (i, a) in load_assessments(conn, year, None)
            .await?
            .into_iter()
            .enumerate()
        {
            let u = *unit_of
                .get(a.unit.as_str())
                .ok_or_else(|| StoreError::Corrupt(format!("打分 #{i}：单位不在名册中")))?;
            unit_states[u].assessments.push(a);
        }
        for (i, m) in load_metrics(conn, year, None)
            .await?
            .into_iter()
            .enumerate()
        {
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

    /// The records of `year` in compact form, one JSON text per id range, in the ranges' order. The
    /// ranges are read in parallel on the connections the pool has free at once (never waiting for
    /// one while holding `conn`: two loads could otherwise each hold one and wait for the other's),
    /// the rest one after another on `conn`.
    async fn range_texts(
        &self,
        conn: &mut AnyConnection,
        year: i64,
        ranges: &[(i64, i64)],
    ) -> Result<Vec<String>> {
        let sql = self.rows_sql("AND id BETWEEN $2 AND $3");
        let sql = sql.as_str();
        let free: Vec<_> = std::iter::from_fn(|| self.pool.try_acquire())
            .take(ranges.len().saturating_sub(1))
            .collect();
        let (theirs, mine) = ranges.split_at(free.len());
        let others = futures::future::try_join_all(
            free.into_iter()
                .zip(theirs)
                .map(|(mut c, &r)| async move { range_text(&mut c, sql, year, r).await }),
        );
        let held = async {
            let mut out = Vec::with_capacity(mine.len());
            for &r in mine {
                out.push(range_text(&mut *conn, sql, year, r).await?);
            }
            Ok::<Vec<String>, StoreError>(out)
        };
        let (mut texts, rest) = futures::future::try_join(others, held).await?;
        texts.extend(rest);
        Ok(texts)
    }

    /// A period row (selected with [`PERIOD_COLUMNS`]) as listed, without its parts' keys.
    pub(crate) async fn period_of_row<'c, E>(
        &self,
        ex: E,
        r: &sqlx::any::AnyRow,
    ) -> Result<PeriodInfo>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let hash: String = r.try_get("rubric_hash")?;
        let rubric = self.rubric_by_hash(ex, &hash).await?;
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
            status: stored_status(&status)?,
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

/// `AND unit IN ($2, …)` for `names`, or nothing for every unit.
fn of_units(names: Option<&[&str]>) -> String {
    match names {
        Some(n) => {
            let marks: Vec<String> = (0..n.len()).map(|i| format!("${}", i + 2)).collect();
            format!(" AND unit IN ({})", marks.join(", "))
        }
        None => String::new(),
    }
}

/// A query of `year` (`$1`) and `names` (`$2`, …).
fn bound<'q>(
    sql: &'q str,
    year: i64,
    names: Option<&[&'q str]>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql).bind(year);
    for n in names.unwrap_or_default() {
        q = q.bind(*n);
    }
    q
}

async fn load_assessments(
    conn: &mut AnyConnection,
    year: i64,
    names: Option<&[&str]>,
) -> Result<Vec<StoredAssessment>> {
    let sql = format!(
        "SELECT unit, rule, assessor, score, updated_by, updated_at, version FROM assessments \
         WHERE year = $1{} ORDER BY unit, rule, assessor",
        of_units(names)
    );
    bound(&sql, year, names)
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

async fn load_metrics(
    conn: &mut AnyConnection,
    year: i64,
    names: Option<&[&str]>,
) -> Result<Vec<StoredMetric>> {
    let sql = format!(
        "SELECT unit, metric, value, updated_by, updated_at, version FROM metrics WHERE year = $1{} \
         ORDER BY unit, metric",
        of_units(names)
    );
    bound(&sql, year, names)
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

/// One id range of a period's records in compact form, as one JSON text.
async fn range_text(
    c: &mut AnyConnection,
    sql: &str,
    year: i64,
    (a, b): (i64, i64),
) -> Result<String> {
    let row = sqlx::query(sql)
        .bind(year)
        .bind(a)
        .bind(b)
        .fetch_one(c)
        .await?;
    Ok(row.try_get(0)?)
}

/// A period's status as stored (anything else is a damaged row).
pub(crate) fn stored_status(text: &str) -> Result<lvzhi_core::PeriodStatus> {
    lvzhi_core::PeriodStatus::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("考核期状态「{text}」无法识别")))
}
