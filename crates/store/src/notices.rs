//! Notices: what happened, stored in the transaction of the event it reports (a new deduction, a
//! confirmation with its appeal deadline, an appeal, a decision, a publication), and what is due,
//! computed from the period's state when asked (reminders). Each notice has a kind with a name in
//! Chinese; its code is for the database only. An account reads the notices of its own office's
//! periods only (a unit of the same name in another office reads nothing of it). This module
//! knows SQL; it must not know HTTP.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::Row;

use crate::model::StoredAppeal;
use crate::state::PeriodState;
use crate::{Result, Role, Store, User, WriteTx, clock};

/// Who a stored notice is for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Audience<'a> {
    /// The accounts of one unit.
    Unit(&'a str),
    /// The office: admins and recorders.
    Office,
    /// The accounts of one 督导组.
    Group(&'a str),
    /// One account, by name: about the account itself (a password reset), in no period.
    Account(&'a str),
    /// Everyone.
    All,
}

impl Audience<'_> {
    fn columns(self) -> (&'static str, String) {
        match self {
            Audience::Unit(u) => ("unit", u.to_owned()),
            Audience::Office => ("office", String::new()),
            Audience::Group(g) => ("group", g.to_owned()),
            Audience::Account(a) => ("account", a.to_owned()),
            Audience::All => ("all", String::new()),
        }
    }
}

/// What a notice is about (in JSON: its code, as stored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    RecordAdded,
    RecordConfirmed,
    RecordRevoked,
    AppealOpened,
    AppealDecided,
    PeriodPublished,
    PeriodReopened,
    AppealWindow,
    AppealPending,
    AssessmentMissing,
    RecordsPending,
    AppealsOpen,
    DataIncomplete,
    PasswordReset,
}

impl NoticeKind {
    const ALL: [NoticeKind; 14] = [
        NoticeKind::RecordAdded,
        NoticeKind::RecordConfirmed,
        NoticeKind::RecordRevoked,
        NoticeKind::AppealOpened,
        NoticeKind::AppealDecided,
        NoticeKind::PeriodPublished,
        NoticeKind::PeriodReopened,
        NoticeKind::AppealWindow,
        NoticeKind::AppealPending,
        NoticeKind::AssessmentMissing,
        NoticeKind::RecordsPending,
        NoticeKind::AppealsOpen,
        NoticeKind::DataIncomplete,
        NoticeKind::PasswordReset,
    ];

    /// The kind's code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::RecordAdded => "record.added",
            NoticeKind::RecordConfirmed => "record.confirmed",
            NoticeKind::RecordRevoked => "record.revoked",
            NoticeKind::AppealOpened => "appeal.opened",
            NoticeKind::AppealDecided => "appeal.decided",
            NoticeKind::PeriodPublished => "period.published",
            NoticeKind::PeriodReopened => "period.reopened",
            NoticeKind::AppealWindow => "appeal.window",
            NoticeKind::AppealPending => "appeal.pending",
            NoticeKind::AssessmentMissing => "assessment.missing",
            NoticeKind::RecordsPending => "records.pending",
            NoticeKind::AppealsOpen => "appeals.open",
            NoticeKind::DataIncomplete => "data.incomplete",
            NoticeKind::PasswordReset => "account.password_reset",
        }
    }

    pub fn parse(code: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The kind's name for people.
    pub fn label(self) -> &'static str {
        match self {
            NoticeKind::RecordAdded => "新增扣分",
            NoticeKind::RecordConfirmed => "扣分已确认",
            NoticeKind::RecordRevoked => "扣分已撤销",
            NoticeKind::AppealOpened => "收到申诉",
            NoticeKind::AppealDecided => "申诉已决定",
            NoticeKind::PeriodPublished => "结果已发布",
            NoticeKind::PeriodReopened => "年度重新开放",
            NoticeKind::AppealWindow => "可申诉",
            NoticeKind::AppealPending => "申诉处理中",
            NoticeKind::AssessmentMissing => "待打分",
            NoticeKind::RecordsPending => "待确认",
            NoticeKind::AppealsOpen => "待决定的申诉",
            NoticeKind::DataIncomplete => "数据不完整",
            NoticeKind::PasswordReset => "密码已被重置",
        }
    }
}

impl Serialize for NoticeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// One in-application notification.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Notice {
    /// Stored notices have an id; reminders computed from the current state do not.
    pub id: Option<i64>,
    pub year: i64,
    pub kind: NoticeKind,
    pub kind_label: &'static str,
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

/// Stores a notice inside the caller's write transaction, dated by its clock.
pub(crate) async fn notify(
    tx: &mut WriteTx,
    year: i64,
    audience: Audience<'_>,
    kind: NoticeKind,
    message: &str,
    entity: &str,
) -> Result<()> {
    let (audience, target) = audience.columns();
    let at = tx.now();
    sqlx::query(
        "INSERT INTO notifications (year, audience, target, kind, message, entity, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(year)
    .bind(audience)
    .bind(target)
    .bind(kind.code())
    .bind(message)
    .bind(entity)
    .bind(at)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// How long a user's unread count is kept when this process writes nothing meanwhile.
pub(crate) const UNREAD_TTL: Duration = Duration::from_secs(2);

/// User name → (writes generation, when counted, count).
pub(crate) type UnreadCache = std::collections::HashMap<String, (u64, Instant, usize)>;

/// A stored notice as read (id, year, kind, message, entity, created_at), unread when newer than
/// `seen`; `None` for a kind this build does not know.
fn stored_notice(r: &sqlx::any::AnyRow, seen: i64) -> Result<Option<Notice>> {
    let code: String = r.try_get("kind")?;
    let Some(kind) = NoticeKind::parse(&code) else {
        return Ok(None);
    };
    let id: i64 = r.try_get("id")?;
    Ok(Some(Notice {
        id: Some(id),
        year: r.try_get("year")?,
        kind,
        kind_label: kind.label(),
        message: r.try_get("message")?,
        entity: r.try_get("entity")?,
        at: Some(r.try_get("created_at")?),
        unread: id > seen,
    }))
}

/// The period id of a notice about an account, which is of no period.
pub(crate) const NO_PERIOD: i64 = 0;

/// The audiences a user belongs to (stored columns): everyone's, its role's own, and its
/// account's.
fn audiences(user: &User) -> Vec<(&'static str, String)> {
    let own = match user.role {
        Role::Admin | Role::Recorder => Some(Audience::Office),
        Role::Unit => Some(Audience::Unit(user.unit.as_deref().unwrap_or_default())),
        Role::Assessor => Some(Audience::Group(user.group.as_deref().unwrap_or_default())),
        Role::Leader | Role::Sysadmin | Role::Secadmin | Role::Auditor => None,
    };
    std::iter::once(Audience::All)
        .chain(own)
        .chain(std::iter::once(Audience::Account(&user.name)))
        .map(Audience::columns)
        .collect()
}

impl Store {
    /// The notices of a user: stored ones addressed to it (newest first, at most 100) and reminders
    /// computed from the current state of `year`.
    pub async fn notices(&self, user: &User, year: i64) -> Result<Notices> {
        let seen = self.seen(&user.name).await?;
        let mut items = Vec::new();
        for (aud, target) in audiences(user) {
            let rows = sqlx::query(
                "SELECT id, year, kind, message, entity, created_at FROM notifications \
                 WHERE audience = $1 AND target = $2 \
                   AND (audience = 'account' OR year IN (SELECT year FROM periods WHERE office = $3)) \
                 ORDER BY id DESC LIMIT 100",
            )
            .bind(aud)
            .bind(target)
            .bind(&user.office)
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                items.extend(stored_notice(r, seen)?);
            }
        }
        items.sort_by_key(|n| std::cmp::Reverse(n.id));
        items.truncate(100);
        let unread = items.iter().filter(|n| n.unread).count();
        let reminders = match self.state(year).await {
            Ok(state) => reminders(&state, user, &self.now()),
            Err(_) => Vec::new(),
        };
        Ok(Notices {
            unread,
            items,
            reminders,
        })
    }

    /// How many stored notices addressed to the user it has not seen (for the menu): one
    /// statement, and since every page asks, kept for `UNREAD_TTL` unless this process writes
    /// anything in between (a notice written by another instance shows within the TTL).
    pub async fn unread_count(&self, user: &User) -> Result<usize> {
        let generation = self.writes.load(std::sync::atomic::Ordering::Acquire);
        if let Some(&(g, at, n)) = self
            .unread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&user.name)
            && g == generation
            && at.elapsed() < UNREAD_TTL
        {
            return Ok(n);
        }
        let mut three = audiences(user).into_iter();
        let all = three.next().unwrap_or_else(|| Audience::All.columns());
        let own = three
            .next()
            .filter(|a| a.0 != "account")
            .unwrap_or_else(|| all.clone());
        let c: i64 = sqlx::query(
            "SELECT COUNT(*) FROM (SELECT id FROM notifications \
               WHERE id > COALESCE((SELECT last_id FROM notification_seen WHERE user_name = $5), 0) \
                 AND (((audience = $1 AND target = $2) OR (audience = $3 AND target = $4)) \
                      AND year IN (SELECT year FROM periods WHERE office = $6) \
                   OR (audience = 'account' AND target = $5)) \
               LIMIT 100) AS n",
        )
        .bind(all.0)
        .bind(all.1)
        .bind(own.0)
        .bind(own.1)
        .bind(&user.name)
        .bind(&user.office)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        let n = usize::try_from(c).unwrap_or(0);
        let mut cache = self
            .unread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(user.name.clone(), (generation, Instant::now(), n));
        Ok(n)
    }

    /// What an account has not yet read about itself (a password reset), newest first: told at
    /// its next login, before anything else.
    pub async fn unread_account_notices(&self, user: &str) -> Result<Vec<Notice>> {
        let seen = self.seen(user).await?;
        let rows = sqlx::query(
            "SELECT id, year, kind, message, entity, created_at FROM notifications \
             WHERE audience = 'account' AND target = $1 AND id > $2 ORDER BY id DESC LIMIT 20",
        )
        .bind(user)
        .bind(seen)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.extend(stored_notice(r, seen)?);
        }
        Ok(out)
    }

    async fn seen(&self, user: &str) -> Result<i64> {
        Ok(
            sqlx::query("SELECT last_id FROM notification_seen WHERE user_name = $1")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?
                .unwrap_or(0),
        )
    }

    /// Marks every notice up to `last_id` as seen by the user.
    pub async fn mark_seen(&self, user: &str, last_id: i64) -> Result<()> {
        let mut tx = self.begin_account_write().await?;
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
}

/// What is due for a user now, from the period's state.
fn reminders(state: &PeriodState, user: &User, now: &str) -> Vec<Notice> {
    let year = state.info.id;
    let mut out = Vec::new();
    let mut say = |kind: NoticeKind, message: String, entity: String| {
        out.push(Notice {
            id: None,
            year,
            kind,
            kind_label: kind.label(),
            message,
            entity,
            at: None,
            unread: false,
        });
    };
    match user.role {
        Role::Unit => {
            let unit = user.unit.clone().unwrap_or_default();
            let Some(u) = state.unit_index(&unit) else {
                return out;
            };
            let now_ms = clock::millis(now);
            let mut open: Vec<(i64, i64)> = state
                .unit(u)
                .rows
                .iter()
                // A published period takes no appeals: its windows ended with the publication.
                .filter(|r| state.info.is_open() && r.status == lvzhi_core::RecordStatus::Confirmed)
                .filter(|r| !state.appeals.iter().any(|a| a.record_id == r.id))
                .filter_map(|r| {
                    r.appeal_deadline(state.info.appeal_days)
                        .filter(|d| *d >= now_ms)
                        .map(|d| (d, r.id))
                })
                .collect();
            open.sort_unstable();
            if let Some((first, id)) = open.first() {
                say(
                    NoticeKind::AppealWindow,
                    format!(
                        "{} 条已确认的扣分记录仍可申诉，最早的（记录 #{id}）截止于 {}",
                        open.len(),
                        clock::beijing_minute(&clock::from_millis(*first))
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
                    NoticeKind::AppealPending,
                    format!(
                        "记录 #{} 的申诉正在处理，安委办应于 {} 前作出决定",
                        a.record_id,
                        clock::beijing_minute(&a.deadline)
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
            let missing: Vec<String> = state
                .units
                .iter()
                .enumerate()
                .filter(|(_, x)| user.supervises.contains(&x.name))
                .filter(|(u, _)| {
                    rules.iter().any(|rule| {
                        !state
                            .unit(*u)
                            .assessments
                            .iter()
                            .any(|a| a.rule == *rule && a.assessor == group)
                    })
                })
                .map(|(_, x)| x.name.clone())
                .collect();
            if !missing.is_empty() {
                say(
                    NoticeKind::AssessmentMissing,
                    format!(
                        "本组尚有 {} 个单位未打分：{}",
                        missing.len(),
                        crate::first_of(&missing, 8)
                    ),
                    format!("group:{group}"),
                );
            }
        }
        Role::Admin | Role::Recorder => {
            let pending = state.counts().get(lvzhi_core::RecordStatus::Recorded);
            if pending > 0 {
                say(
                    NoticeKind::RecordsPending,
                    format!("{pending} 条扣分记录待确认"),
                    format!("period:{year}"),
                );
            }
            let open: Vec<&StoredAppeal> = state.appeals.iter().filter(|a| a.is_open()).collect();
            if !open.is_empty() {
                let overdue = open.iter().filter(|a| a.is_overdue(now)).count();
                say(
                    NoticeKind::AppealsOpen,
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
            let incomplete = crate::results::incomplete_items(state, &state.sheets);
            if !incomplete.is_empty() && state.info.is_open() {
                say(
                    NoticeKind::DataIncomplete,
                    format!(
                        "发布前尚有 {} 项数据不完整：{}",
                        incomplete.len(),
                        crate::first_of(&incomplete, 3)
                    ),
                    format!("period:{year}"),
                );
            }
        }
        Role::Leader | Role::Sysadmin | Role::Secadmin | Role::Auditor => {}
    }
    out
}
