//! Appeals (异议申诉): a unit appeals one of its confirmed records, once, within the period's window;
//! the office decides — uphold, revoke, or change (a new, confirmed record replaces the appealed one,
//! and is final) — with a written reason, within its own window. Each step runs in one transaction
//! with its audit entry and the notice to the other side. This module knows SQL; it must not know
//! HTTP.

use lvzhi_core::{Decision, NewRecord, RecordStatus};
use sqlx::Row;

use crate::audit::AuditAction;
use crate::model::{StoredAppeal, StoredRecord};
use crate::notices::{Audience, NoticeKind, notify};
use crate::records::{insert_record, one_row, rule_text, set_row_status, stored_record};
use crate::state::Next;
use crate::{Actor, Result, Store, StoreError, audit, clock};

/// When a confirmed record's appeal window closes.
pub fn appeal_deadline(r: &StoredRecord, appeal_days: i64) -> Option<String> {
    r.confirmed_at
        .as_deref()
        .map(|c| clock::plus_days(c, appeal_days))
}

impl Store {
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
        let reason = lvzhi_core::input::reason(reason)
            .map_err(|p| StoreError::invalid("reason", format!("申诉理由：{p}")))?;
        let (mut tx, state) = self.write_period(year, actor).await?;
        let old = stored_record(&mut tx, year, id).await?;
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
        if old.status != RecordStatus::Confirmed {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 的状态是「{}」，只能对已确认的记录申诉",
                old.status.label()
            )));
        }
        if let Some(prev) = old.replaces
            && state
                .locate(prev)
                .is_some_and(|(_, r)| r.status == RecordStatus::Changed)
        {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 是申诉改判的结果，为最终决定，不能再申诉"
            )));
        }
        let at = tx.now();
        let window_end = appeal_deadline(&old, state.info.appeal_days).unwrap_or_default();
        if at.as_str() > window_end.as_str() {
            return Err(StoreError::Conflict(format!(
                "记录 #{id} 的申诉期已于 {} 结束（确认后 {} 天内可申诉）",
                clock::beijing_minute(&window_end),
                state.info.appeal_days
            )));
        }
        let deadline = clock::plus_days(&at, state.info.decision_days);
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
        audit::change(
            &mut tx,
            actor,
            AuditAction::RecordAppeal,
            &format!("record:{id}"),
            Some(&old),
            &appeal,
        )
        .await?;
        notify(
            &mut tx,
            year,
            Audience::Office,
            NoticeKind::AppealOpened,
            &format!(
                "{unit} 对扣分记录 #{id}（{}）提出申诉，请于 {} 前作出决定",
                rule_text(&state.rubric, &old.rule),
                clock::beijing_minute(&deadline)
            ),
            &format!("record:{id}"),
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let mut next = Next::new(&state);
        set_row_status(&mut next, &state, id, RecordStatus::Appealed, &at);
        next.appeals().push(appeal.clone());
        self.commit_with(tx, year, Some(next)).await?;
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
        let reason = lvzhi_core::input::reason(reason)
            .map_err(|p| StoreError::invalid("reason", format!("决定理由：{p}")))?;
        let (mut tx, state) = self.write_period(year, actor).await?;
        let old = stored_record(&mut tx, year, id).await?;
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
        let at = tx.now();
        let status = decision.status();
        let ends = !status.in_force();
        let n = sqlx::query(
            "UPDATE records SET status = $1, revoked_reason = $2, revoked_by = $3, revoked_at = $4, \
             version = version + 1 WHERE id = $5 AND version = $6 AND status = 'appealed'",
        )
        .bind(status.code())
        .bind(ends.then_some(reason))
        .bind(ends.then_some(actor.name.as_str()))
        .bind(ends.then_some(at.as_str()))
        .bind(id)
        .bind(old.version)
        .execute(&mut **tx)
        .await?;
        one_row(&n, id)?;
        let mut next = Next::new(&state);
        set_row_status(&mut next, &state, id, status, &at);
        let added = match replacement {
            Some(r) => Some(
                insert_record(
                    &mut tx,
                    &state,
                    &mut next,
                    year,
                    r,
                    Some(id),
                    Some(id),
                    true,
                    actor,
                )
                .await?,
            ),
            None => None,
        };
        sqlx::query(
            "UPDATE appeals SET decision = $1, decision_reason = $2, decided_by = $3, decided_at = $4, \
             replacement = $5 WHERE id = $6",
        )
        .bind(decision.code())
        .bind(reason)
        .bind(&actor.name)
        .bind(&at)
        .bind(added.as_ref().map(|r| r.id))
        .bind(open.id)
        .execute(&mut **tx)
        .await?;
        let decided = StoredAppeal {
            decision: Some(decision),
            decision_reason: Some(reason.to_owned()),
            decided_by: Some(actor.name.clone()),
            decided_at: Some(at.clone()),
            replacement: added.as_ref().map(|r| r.id),
            ..open.clone()
        };
        audit::change(
            &mut tx,
            actor,
            AuditAction::AppealDecide,
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
            Audience::Unit(&old.unit),
            NoticeKind::AppealDecided,
            &format!(
                "对扣分记录 #{id} 的申诉已决定：{}{what}。理由：{reason}",
                decision.label()
            ),
            &format!("record:{id}"),
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        if let Some(a) = next.appeals().iter_mut().find(|a| a.id == decided.id) {
            *a = decided.clone();
        }
        self.commit_with(tx, year, Some(next)).await?;
        Ok((decided, added))
    }
}
