//! The audit trail: an append-only, hash-chained list of every change.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields, so altering,
//! removing or reordering any entry breaks the chain at that point, and [`Store::verify_audit`] names
//! the first entry that no longer fits. The database refuses updates and deletes of audit rows itself
//! (triggers). Entries are only ever written inside the transaction of the change they describe.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Actor, Result, Store, StoreError};

/// What an audit entry records. Its code is what the trail stores (and hashes); its name is what
/// people read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    RecordAdd,
    RecordRevoke,
    RecordConfirm,
    RecordAppeal,
    AppealDecide,
    AssessmentPut,
    AssessmentClear,
    MetricPut,
    UnitTags,
    ImportBatch,
    AttachmentAdd,
    PeriodOpen,
    PeriodPublish,
    PeriodReopen,
    PeriodWindows,
    RubricSave,
    SessionLogin,
    SessionLoginFailed,
    SessionLocked,
    SessionLoginLocked,
    SessionLogout,
    TokenCreate,
    UserCreate,
    UserPassword,
    UserPasswordReset,
    UserDisable,
    UserEnable,
    GroupSet,
    AuthzRefused,
    UserUnlock,
    CredentialsRevoke,
    OfficeAdd,
    OfficeRename,
}

impl AuditAction {
    pub const ALL: [AuditAction; 33] = [
        AuditAction::RecordAdd,
        AuditAction::RecordRevoke,
        AuditAction::RecordConfirm,
        AuditAction::RecordAppeal,
        AuditAction::AppealDecide,
        AuditAction::AssessmentPut,
        AuditAction::AssessmentClear,
        AuditAction::MetricPut,
        AuditAction::UnitTags,
        AuditAction::ImportBatch,
        AuditAction::AttachmentAdd,
        AuditAction::PeriodOpen,
        AuditAction::PeriodPublish,
        AuditAction::PeriodReopen,
        AuditAction::PeriodWindows,
        AuditAction::RubricSave,
        AuditAction::SessionLogin,
        AuditAction::SessionLoginFailed,
        AuditAction::SessionLocked,
        AuditAction::SessionLoginLocked,
        AuditAction::SessionLogout,
        AuditAction::TokenCreate,
        AuditAction::UserCreate,
        AuditAction::UserPassword,
        AuditAction::UserPasswordReset,
        AuditAction::UserDisable,
        AuditAction::UserEnable,
        AuditAction::GroupSet,
        AuditAction::AuthzRefused,
        AuditAction::UserUnlock,
        AuditAction::CredentialsRevoke,
        AuditAction::OfficeAdd,
        AuditAction::OfficeRename,
    ];

    /// The code stored in the trail.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::RecordAdd => "record.add",
            AuditAction::RecordRevoke => "record.revoke",
            AuditAction::RecordConfirm => "record.confirm",
            AuditAction::RecordAppeal => "record.appeal",
            AuditAction::AppealDecide => "appeal.decide",
            AuditAction::AssessmentPut => "assessment.put",
            AuditAction::AssessmentClear => "assessment.clear",
            AuditAction::MetricPut => "metric.put",
            AuditAction::UnitTags => "unit.tags",
            AuditAction::ImportBatch => "import.batch",
            AuditAction::AttachmentAdd => "attachment.add",
            AuditAction::PeriodOpen => "period.open",
            AuditAction::PeriodPublish => "period.publish",
            AuditAction::PeriodReopen => "period.reopen",
            AuditAction::PeriodWindows => "period.windows",
            AuditAction::RubricSave => "rubric.save",
            AuditAction::SessionLogin => "session.login",
            AuditAction::SessionLoginFailed => "session.login_failed",
            AuditAction::SessionLocked => "session.locked",
            AuditAction::SessionLoginLocked => "session.login_locked",
            AuditAction::SessionLogout => "session.logout",
            AuditAction::TokenCreate => "token.create",
            AuditAction::UserCreate => "user.create",
            AuditAction::UserPassword => "user.password",
            AuditAction::UserPasswordReset => "user.password_reset",
            AuditAction::UserDisable => "user.disable",
            AuditAction::UserEnable => "user.enable",
            AuditAction::GroupSet => "group.set",
            AuditAction::UserUnlock => "user.unlock",
            AuditAction::CredentialsRevoke => "user.revoke_credentials",
            AuditAction::AuthzRefused => "authz.refused",
            AuditAction::OfficeAdd => "office.add",
            AuditAction::OfficeRename => "office.rename",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::RecordAdd => "新增扣分记录",
            AuditAction::RecordRevoke => "撤销扣分记录",
            AuditAction::RecordConfirm => "确认扣分记录",
            AuditAction::RecordAppeal => "提出申诉",
            AuditAction::AppealDecide => "作出申诉决定",
            AuditAction::AssessmentPut => "督导组打分",
            AuditAction::AssessmentClear => "清除督导组打分",
            AuditAction::MetricPut => "录入指标数据",
            AuditAction::UnitTags => "修改单位标签",
            AuditAction::ImportBatch => "批量导入",
            AuditAction::AttachmentAdd => "上传证据材料",
            AuditAction::PeriodOpen => "开设考核年度",
            AuditAction::PeriodPublish => "发布考核结果",
            AuditAction::PeriodReopen => "重新开放考核年度",
            AuditAction::PeriodWindows => "设置申诉与决定期限",
            AuditAction::RubricSave => "保存细则版本",
            AuditAction::SessionLogin => "登录",
            AuditAction::SessionLoginFailed => "登录失败",
            AuditAction::SessionLocked => "账号锁定",
            AuditAction::SessionLoginLocked => "锁定期间尝试登录",
            AuditAction::SessionLogout => "退出登录",
            AuditAction::TokenCreate => "创建 API 令牌",
            AuditAction::UserCreate => "新建账号",
            AuditAction::UserPassword => "修改密码",
            AuditAction::UserPasswordReset => "重置密码",
            AuditAction::UserDisable => "停用账号",
            AuditAction::UserEnable => "启用账号",
            AuditAction::GroupSet => "设置督导组所督导的单位",
            AuditAction::UserUnlock => "解锁账号",
            AuditAction::CredentialsRevoke => "注销全部会话与令牌",
            AuditAction::AuthzRefused => "越权操作被拒绝",
            AuditAction::OfficeAdd => "新增安委办",
            AuditAction::OfficeRename => "修改安委办名称",
        }
    }

    pub fn parse(code: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the trail.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub entity: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The result of checking the whole chain.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AuditVerdict {
    pub entries: u64,
    /// The hash of the last entry: record it elsewhere to detect a later truncation of the tail.
    pub head: String,
    /// The first entry that does not fit, and why.
    pub first_bad: Option<(i64, String)>,
}

fn entry_hash(
    prev: &str,
    at: &str,
    actor: &Actor,
    action: &str,
    entity: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        at,
        &actor.name,
        &actor.source,
        action,
        entity,
        before.unwrap_or("\u{0}"),
        after.unwrap_or("\u{0}"),
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// Appends an entry inside the caller's write transaction.
pub(crate) async fn append(
    tx: &mut crate::WriteTx,
    actor: &Actor,
    action: AuditAction,
    entity: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<()> {
    tx.chain().await?;
    let prev: Option<String> = sqlx::query("SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut ***tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_owned());
    let at = tx.now();
    let before = before.map(serde_json::Value::to_string);
    let after = after.map(serde_json::Value::to_string);
    let hash = entry_hash(
        &prev,
        &at,
        actor,
        action.code(),
        entity,
        before.as_deref(),
        after.as_deref(),
    );
    sqlx::query(
        "INSERT INTO audit (at, actor, source, action, entity, before, after, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&at)
    .bind(&actor.name)
    .bind(&actor.source)
    .bind(action.code())
    .bind(entity)
    .bind(before)
    .bind(after)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut ***tx)
    .await?;
    Ok(())
}

/// Appends an entry recording a change from `before` (absent for a creation) to `after`.
pub(crate) async fn change<B: Serialize, A: Serialize>(
    tx: &mut crate::WriteTx,
    actor: &Actor,
    action: AuditAction,
    entity: &str,
    before: Option<&B>,
    after: &A,
) -> Result<()> {
    let before = before.map(|b| serde_json::to_value(b).unwrap_or_default());
    let after = serde_json::to_value(after).unwrap_or_default();
    append(tx, actor, action, entity, before.as_ref(), Some(&after)).await
}

fn row_entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        source: r.try_get("source")?,
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        before: r.try_get("before")?,
        after: r.try_get("after")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

impl Store {
    /// A page of the trail, newest first: entries with an id below `before` (all when `None`).
    pub async fn audit_page(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, source, action, entity, before, after, prev_hash, hash FROM audit \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_entry).collect()
    }

    /// A page of the trail like [`Store::audit_page`], keeping only the entries of one actor and/or
    /// one action (`None`: any), and of what `scope` reads ([`audit_scope`]).
    pub async fn audit_search(
        &self,
        before: Option<i64>,
        limit: i64,
        actor: Option<&str>,
        action: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!(
            "{} SELECT id, at, actor, source, action, entity, before, after, prev_hash, hash \
             FROM audit WHERE id < $1 AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3) \
             AND {} ORDER BY id DESC LIMIT $4",
            scope_tree(5),
            in_scope(5)
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(actor.unwrap_or(""))
        .bind(action.unwrap_or(""))
        .bind(limit.clamp(1, 500))
        .bind(scope.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_entry).collect()
    }

    /// The distinct actions and actors in the trail, for filters.
    pub async fn audit_facets(&self, scope: Option<&str>) -> Result<(Vec<String>, Vec<String>)> {
        let col = |column: &'static str| async move {
            sqlx::query(&format!(
                "{} SELECT DISTINCT {column} FROM audit WHERE {} ORDER BY {column}",
                scope_tree(1),
                in_scope(1)
            ))
            .bind(scope.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect::<Result<Vec<String>>>()
        };
        Ok((col("action").await?, col("actor").await?))
    }

    /// The last entry of the trail: its number and hash (`None` for an empty trail). What a
    /// checkpoint kept outside the database records, so that a cut tail can be told.
    pub async fn audit_head(&self) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("hash")?)))
            .transpose()
    }

    /// Recomputes the whole chain, oldest first.
    pub async fn verify_audit(&self) -> Result<AuditVerdict> {
        let mut prev = GENESIS.to_owned();
        let mut entries = 0u64;
        let mut last_id = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, at, actor, source, action, entity, before, after, prev_hash, hash FROM audit \
                 WHERE id > $1 ORDER BY id LIMIT 1000",
            )
            .bind(last_id)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let e = row_entry(r)?;
                last_id = e.id;
                entries += 1;
                if e.prev_hash != prev {
                    return Ok(AuditVerdict {
                        entries,
                        head: prev,
                        first_bad: Some((
                            e.id,
                            "与前一条记录的哈希不衔接（前面的记录被删除、插入或调换了顺序）".into(),
                        )),
                    });
                }
                let actor = Actor::new(e.actor.clone(), e.source.clone());
                let want = entry_hash(
                    &e.prev_hash,
                    &e.at,
                    &actor,
                    &e.action,
                    &e.entity,
                    e.before.as_deref(),
                    e.after.as_deref(),
                );
                if want != e.hash {
                    return Ok(AuditVerdict {
                        entries,
                        head: prev,
                        first_bad: Some((e.id, "内容与其哈希不符（该记录被修改过）".into())),
                    });
                }
                prev = e.hash;
            }
        }
        Ok(AuditVerdict {
            entries,
            head: prev,
            first_bad: None,
        })
    }
}

/// Whose entries of the trail a reader with `rights` reads: `None`, the deployment's whole trail
/// (the operator, and the root office's readers: the 三员 are the deployment's); an office's
/// code, the entries of the accounts of that office and of the offices below it (an office's
/// admin with the duties combined reads its own offices' work, not the province's).
pub fn audit_scope(rights: Option<&crate::Rights>) -> Option<&str> {
    rights
        .filter(|r| r.office != crate::ROOT_OFFICE)
        .map(|r| r.office.as_str())
}

/// The offices in scope (the office bound as parameter `n`, empty for no scope, and the
/// offices below it), for [`in_scope`].
fn scope_tree(n: u8) -> String {
    format!(
        "WITH RECURSIVE scope_tree(code) AS (SELECT CAST(${n} AS TEXT) \
         UNION SELECT o.code FROM offices o JOIN scope_tree t ON o.parent = t.code)"
    )
}

/// An entry in scope: any, without a scope; else one whose actor is an account of those offices.
fn in_scope(n: u8) -> String {
    format!(
        "(CAST(${n} AS TEXT) = '' OR actor IN (SELECT u.name FROM users u \
         JOIN scope_tree t ON u.office = t.code))"
    )
}
