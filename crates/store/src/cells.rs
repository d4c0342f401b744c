//! The cells of a period beside its records: each 督导组's score of a unit, each unit's metric
//! values, and the roster's tags. Values are versioned: a write that names another version than the
//! current one is refused as a conflict. Every value is checked by the core (the unit's ledger), and
//! each write re-scores the one unit it touches. This module knows SQL; it must not know HTTP.

use lvzhi_core::Points;

use crate::audit::AuditAction;
use crate::model::{StoredAssessment, StoredMetric, StoredUnit};
use crate::records::check_version;
use crate::state::{Next, PeriodState, invalid};
use crate::{Actor, Result, Store, StoreError, WriteTx, audit};

impl Store {
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
        let (mut tx, state) = self.write_period(year, actor).await?;
        let mut next = Next::new(&state);
        // The core's checks (unit, rule kind, applicability, range, two decimals), on the next
        // state's ledgers directly.
        {
            let (rubric, provisional, official) = next.ledgers();
            provisional
                .set_assessment(rubric, 0, unit, rule, assessor, score_text)
                .map_err(|e| invalid(&e))?;
            official
                .set_assessment(rubric, 0, unit, rule, assessor, score_text)
                .map_err(|e| invalid(&e))?;
        }
        let (unit, rule, assessor) = (unit.trim(), rule.trim(), assessor.trim());
        let score =
            Points::parse(score_text).map_err(|e| StoreError::invalid("score", e.to_string()))?;
        let u = state
            .unit_index(unit)
            .ok_or_else(|| StoreError::invalid("unit", format!("未知单位「{unit}」")))?;
        let current = state
            .unit(u)
            .assessments
            .iter()
            .find(|a| a.rule == rule && a.assessor == assessor)
            .cloned();
        let current_version = current.as_ref().map_or(0, |a| a.version);
        check_version("该打分", current_version, version)?;
        let at = tx.now();
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
            AuditAction::AssessmentPut,
            &format!("assessment:{year}:{unit}:{rule}:{assessor}"),
            current.as_ref(),
            &stored,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let list = &mut next.unit(u).assessments;
        list.retain(|a| !(a.rule == stored.rule && a.assessor == stored.assessor));
        list.push(stored.clone());
        list.sort_by(|a, b| (&a.rule, &a.assessor).cmp(&(&b.rule, &b.assessor)));
        self.commit_with(tx, year, Some(next)).await?;
        Ok(stored)
    }

    /// Clears one assessor's score of a unit (back to "not scored"). `version`, when given, must be
    /// the current version.
    pub async fn clear_assessment(
        &self,
        year: i64,
        unit: &str,
        rule: &str,
        assessor: &str,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<()> {
        let (mut tx, state) = self.write_period(year, actor).await?;
        let (unit, rule, assessor) = (unit.trim(), rule.trim(), assessor.trim());
        let u = state
            .unit_index(unit)
            .ok_or_else(|| StoreError::invalid("unit", format!("未知单位「{unit}」")))?;
        let Some(current) = state
            .unit(u)
            .assessments
            .iter()
            .find(|a| a.rule == rule && a.assessor == assessor)
            .cloned()
        else {
            return Err(StoreError::NotFound(format!(
                "{assessor} 尚未给 {unit} 的条款 {rule} 打分"
            )));
        };
        check_version("该打分", current.version, version)?;
        sqlx::query(
            "DELETE FROM assessments WHERE year = $1 AND unit = $2 AND rule = $3 AND assessor = $4",
        )
        .bind(year)
        .bind(unit)
        .bind(rule)
        .bind(assessor)
        .execute(&mut **tx)
        .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::AssessmentClear,
            &format!("assessment:{year}:{unit}:{rule}:{assessor}"),
            Some(&current),
            &serde_json::Value::Null,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let mut next = Next::new(&state);
        {
            let (rubric, provisional, official) = next.ledgers();
            provisional.remove_assessment(rubric, unit, rule, assessor);
            official.remove_assessment(rubric, unit, rule, assessor);
        }
        next.unit(u)
            .assessments
            .retain(|a| !(a.rule == rule && a.assessor == assessor));
        self.commit_with(tx, year, Some(next)).await
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
        let (mut tx, state) = self.write_period(year, actor).await?;
        let mut next = Next::new(&state);
        {
            let (rubric, provisional, official) = next.ledgers();
            provisional
                .set_metric(rubric, 0, unit, metric, value)
                .map_err(|e| invalid(&e))?;
            official
                .set_metric(rubric, 0, unit, metric, value)
                .map_err(|e| invalid(&e))?;
        }
        // Stored by its code, whether the caller named it by code or by name.
        let metric = state.rubric.metric_code(metric);
        let (unit, value) = (unit.trim(), value.trim());
        let u = state
            .unit_index(unit)
            .ok_or_else(|| StoreError::invalid("unit", format!("未知单位「{unit}」")))?;
        let current = state
            .unit(u)
            .metrics
            .iter()
            .find(|m| m.metric == metric)
            .cloned();
        let current_version = current.as_ref().map_or(0, |m| m.version);
        check_version("该指标", current_version, version)?;
        let at = tx.now();
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
            AuditAction::MetricPut,
            &format!("metric:{year}:{unit}:{metric}"),
            current.as_ref(),
            &stored,
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let list = &mut next.unit(u).metrics;
        list.retain(|m| m.metric != stored.metric);
        list.push(stored.clone());
        list.sort_by(|a, b| a.metric.cmp(&b.metric));
        self.commit_with(tx, year, Some(next)).await?;
        Ok(stored)
    }

    /// Replaces a unit's tags. Refused when the unit's records or scores would then break the
    /// rubric (a 专委会 rule recorded for a unit losing the tag).
    /// On a year made of parts, the change is made in the year and in each of its parts
    /// ([`crate::rosters`]).
    pub async fn set_unit_tags(
        &self,
        year: i64,
        unit: &str,
        tags: &[String],
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<StoredUnit> {
        let clean = clean_tags(tags)?;
        let mut tx = self.begin_write().await?;
        let state = self.state_on(&mut tx, year).await?;
        if state.info.is_year_of_parts() {
            return self
                .year_unit_tags(tx, &state, unit, &clean, version, actor)
                .await;
        }
        crate::state::writable(&state.info, actor)?;
        let (new, next) = self
            .tags_on(&mut tx, &state, unit, &clean, version, actor)
            .await?;
        self.commit_with(tx, year, Some(next)).await?;
        Ok(new)
    }

    /// Changes a unit's tags inside the caller's transaction: the row, its audit entry and the
    /// period's version; returns the unit as changed and the period's next state, to commit.
    pub(crate) async fn tags_on(
        &self,
        tx: &mut WriteTx,
        state: &PeriodState,
        unit: &str,
        clean: &[String],
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<(StoredUnit, Next)> {
        let year = state.info.id;
        let Some(u) = state.unit_index(unit) else {
            return Err(StoreError::NotFound(format!(
                "{}名册中没有单位「{unit}」",
                state.info.period_name()
            )));
        };
        let old = state.units[u].clone();
        check_version(&format!("单位「{unit}」"), old.version, version)?;
        let mut next = Next::new(state);
        {
            let (rubric, provisional, official) = next.ledgers();
            for ledger in [provisional, official] {
                ledger.set_tags(rubric, u, clean.to_vec()).map_err(|e| {
                    StoreError::invalid(
                        "tags",
                        format!(
                            "{}修改后已有数据不再符合细则：{}",
                            state.info.part_name.as_deref().unwrap_or_default(),
                            crate::state::ledger_message(&e)
                        ),
                    )
                })?;
            }
        }
        sqlx::query("UPDATE period_units SET tags = $1, version = version + 1 WHERE year = $2 AND name = $3")
            .bind(clean.join(";"))
            .bind(year)
            .bind(&old.name)
            .execute(&mut ***tx)
            .await?;
        let new = StoredUnit {
            tags: clean.to_vec(),
            version: old.version + 1,
            ..old.clone()
        };
        audit::change(
            tx,
            actor,
            AuditAction::UnitTags,
            &format!("unit:{year}:{}", old.name),
            Some(&old),
            &new,
        )
        .await?;
        Self::bump(tx, year).await?;
        next.units()[u] = new.clone();
        // The unit's sheets change with the rules its tags bind.
        next.unit(u);
        Ok((new, next))
    }
}

/// Tags as stored: trimmed, without duplicates; refused when empty, with a separator inside, or
/// longer than 32 characters.
pub(crate) fn clean_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut clean: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if t.is_empty()
            || t.contains(lvzhi_core::input::TAG_SEPARATORS)
            || t.chars().count() > lvzhi_core::input::TAG_MAX
        {
            return Err(StoreError::invalid(
                "tags",
                format!(
                    "标签「{t}」无效：不能为空、不能含分号、逗号或顿号、至多 {} 字",
                    lvzhi_core::input::TAG_MAX
                ),
            ));
        }
        if !clean.iter().any(|c| c == t) {
            clean.push(t.to_owned());
        }
    }
    Ok(clean)
}
