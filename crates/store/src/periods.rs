//! Periods: listing the assessment years, opening one from a final rubric (its own roster, or the
//! roster carried from an earlier year, previewed first), and the appeal and decision windows of a
//! year. Each change runs in one transaction with its audit entry. This module knows SQL; it must
//! not know HTTP.

use std::collections::HashMap;

use lvzhi_core::{PeriodStatus, Rubric};
use serde::Serialize;
use sqlx::Row;

use crate::audit::AuditAction;
use crate::model::{PeriodInfo, StoredUnit};
use crate::rubrics::{final_rubric, insert_rubric, rubric_hash};

/// A rubric a period can be opened on: final, and (until periods of parts exist in the store)
/// assessing the whole year. A rubric by parts is refused, saying so, rather than opened as a
/// year that would ignore its parts.
fn openable_rubric(text: &str) -> Result<lvzhi_core::Rubric> {
    let rubric = final_rubric(text)?;
    if !rubric.parts.is_empty() {
        let parts: Vec<String> = rubric
            .parts
            .iter()
            .map(|p| format!("{}（{}）", p.name, p.dates_text()))
            .collect();
        return Err(StoreError::invalid(
            "rubric",
            format!(
                "「{}」分 {} 期考核：{}。按期开设考核年度尚未实现，暂不能以此细则开设年度；\
                 可先用 lvzhi score --part 按期计分",
                rubric.title,
                parts.len(),
                parts.join("、")
            ),
        ));
    }
    Ok(rubric)
}
use crate::state::Next;
use crate::{Actor, Result, Store, StoreError, WriteTx, audit};

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

/// Inserts a period and its roster inside the caller's transaction.
async fn insert_period(
    tx: &mut WriteTx,
    year: i64,
    hash: &str,
    at: &str,
    windows: (i64, i64),
    units: &[StoredUnit],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO periods (year, rubric_hash, status, version, created_at, appeal_days, decision_days) \
         VALUES ($1, $2, 'open', 1, $3, $4, $5)",
    )
    .bind(year)
    .bind(hash)
    .bind(at)
    .bind(windows.0)
    .bind(windows.1)
    .execute(&mut ***tx)
    .await?;
    for (i, u) in units.iter().enumerate() {
        sqlx::query(
            "INSERT INTO period_units (year, ord, name, class, tags, version) VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(year)
        .bind(i as i64)
        .bind(&u.name)
        .bind(&u.class)
        .bind(u.tags.join(";"))
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// The rubric's own roster, as stored units.
fn rubric_units(rubric: &Rubric) -> Vec<StoredUnit> {
    rubric
        .roster
        .iter()
        .map(|u| StoredUnit {
            name: u.name.clone(),
            class: rubric.classes[u.class].code.clone(),
            tags: u.tags.clone(),
            version: 1,
        })
        .collect()
}

impl Store {
    /// Every period, oldest first.
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
            let rubric = self.parsed_rubric(&hash, &body)?;
            let status: String = r.try_get("status")?;
            out.push(PeriodInfo {
                year: r.try_get("year")?,
                rubric_id: r.try_get("rubric_id")?,
                rubric_hash: hash,
                title: rubric.title.clone(),
                status: PeriodStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("年度状态「{status}」无法识别")))?,
                version: r.try_get("version")?,
                created_at: r.try_get("created_at")?,
                appeal_days: r.try_get("appeal_days")?,
                decision_days: r.try_get("decision_days")?,
            });
        }
        Ok(out)
    }

    /// The year people work on by default: the latest open period, else the latest one; `None`
    /// when the store holds no period yet.
    pub async fn current_year(&self) -> Result<Option<i64>> {
        let periods = self.periods().await?;
        Ok(periods
            .iter()
            .rev()
            .find(|p| p.is_open())
            .or(periods.last())
            .map(|p| p.year))
    }

    /// Opens the period of `rubric_text`'s year with the rubric's own roster, if it is not open yet.
    /// Returns whether it was created.
    pub async fn ensure_period(&self, rubric_text: &str, actor: &Actor) -> Result<bool> {
        let rubric = openable_rubric(rubric_text)?;
        let hash = rubric_hash(rubric_text);
        let year = i64::from(rubric.year);
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT year FROM periods WHERE year = $1")
            .bind(year)
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        let at = tx.now();
        insert_rubric(&mut tx, &hash, &rubric, rubric_text, &at).await?;
        insert_period(&mut tx, year, &hash, &at, (7, 10), &rubric_units(&rubric)).await?;
        let after = serde_json::json!({
            "year": rubric.year, "rubric": rubric.id, "rubric_hash": hash, "units": rubric.roster.len()
        });
        audit::append(
            &mut tx,
            actor,
            AuditAction::PeriodOpen,
            &format!("period:{year}"),
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// What opening `rubric_text`'s period with the roster carried from `carry_from` would do.
    pub async fn plan_next_period(
        &self,
        rubric_text: &str,
        carry_from: Option<i64>,
    ) -> Result<NextPeriodPlan> {
        let rubric = openable_rubric(rubric_text)?;
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
        for mut unit in rubric_units(&rubric) {
            match old.get(unit.name.as_str()) {
                Some(prev) => {
                    if prev.class != unit.class {
                        plan.class_changes.push(format!(
                            "{}：{} 类 → {} 类",
                            unit.name, prev.class, unit.class
                        ));
                    }
                    if prev.tags != unit.tags {
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
                        if known != unit.tags {
                            unit.tags = known;
                            plan.tags_carried.push(unit.name.clone());
                        }
                    }
                }
                None if previous.is_some() => plan.added.push(unit.name.clone()),
                None => {}
            }
            plan.units.push(unit);
        }
        if let Some(p) = &previous {
            for u in p.units.iter() {
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
        let hash = rubric_hash(rubric_text);
        let rubric = openable_rubric(rubric_text)?;
        let windows = match carry_from {
            Some(y) => {
                let s = self.state(y).await?;
                (s.info.appeal_days, s.info.decision_days)
            }
            None => (7, 10),
        };
        let mut tx = self.begin_write().await?;
        let at = tx.now();
        insert_rubric(&mut tx, &hash, &rubric, rubric_text, &at).await?;
        let exists = sqlx::query("SELECT year FROM periods WHERE year = $1")
            .bind(plan.year)
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} 年度的考核已经存在",
                plan.year
            )));
        }
        insert_period(&mut tx, plan.year, &hash, &at, windows, &plan.units).await?;
        plan.created = true;
        audit::change(
            &mut tx,
            actor,
            AuditAction::PeriodOpen,
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
            AuditAction::PeriodWindows,
            &format!("period:{year}"),
            Some(&serde_json::json!({
                "appeal_days": state.info.appeal_days, "decision_days": state.info.decision_days
            })),
            Some(&serde_json::json!({"appeal_days": appeal_days, "decision_days": decision_days})),
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let mut next = Next::new(&state);
        next.info().appeal_days = appeal_days;
        next.info().decision_days = decision_days;
        self.commit_with(tx, year, Some(next)).await
    }
}
