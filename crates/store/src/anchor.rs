//! The trail's anchor outside the database, and the check that the tables are what the trail says.
//!
//! A hash chain shows that no entry in the middle was changed, but not that the tail is all there:
//! whoever can drop the delete trigger can cut the last entries and the chain still holds. So the
//! service writes signed checkpoints (the last entry's number and hash, and the time) to a file
//! outside the database, at an interval and at every publication, and [`Store::check_checkpoints`]
//! fails when the trail is shorter than, or differs from, any of them. And a table changed behind
//! the service's back (a status set by SQL, an attachment renamed, a record deleted) leaves the chain
//! intact, so [`Store::replay_audit`] replays the trail and names the first row it does not explain.
//!
//! This module knows SQL and the seal's files; it must not know HTTP. What is signed is decided here
//! (checkpoints) and in `publication.rs` (snapshots); how is `lvzhi-seal`'s.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use lvzhi_core::{Decision, RecordStatus};
use lvzhi_seal::{Checkpoint, CheckpointLog, CheckpointReason, Seal};
use serde_json::Value;
use sqlx::Row;

use crate::audit::AuditAction;
use crate::{Result, Store, StoreError};

/// The office's seal and where its checkpoints go.
pub struct Anchor {
    pub seal: Seal,
    pub log: CheckpointLog,
    /// Whether each checkpoint is also sent to the system log.
    pub syslog: bool,
}

impl Anchor {
    /// The seal from the key folder (created there when missing, which is said) and the checkpoint
    /// file.
    pub fn open(
        key_dir: &std::path::Path,
        checkpoints: PathBuf,
        syslog: bool,
    ) -> Result<(Self, bool)> {
        let (seal, created) = Seal::open_or_create(key_dir).map_err(seal_error)?;
        Ok((
            Anchor {
                seal,
                log: CheckpointLog::new(checkpoints),
                syslog,
            },
            created,
        ))
    }
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(seal_error)`
pub(crate) fn seal_error(e: lvzhi_seal::SealError) -> StoreError {
    StoreError::invalid("seal", e.to_string())
}

/// What the checkpoints found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckpointVerdict {
    /// How many checkpoints were compared.
    pub checked: usize,
    /// How many were set aside because a later restore replaced the trail they describe.
    pub retired: usize,
    /// The first checkpoint the trail does not match, and how.
    pub first_bad: Option<String>,
}

/// Everything `audit verify` checks: the chain, the checkpoints, the tables against the trail.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditReport {
    pub chain: crate::AuditVerdict,
    pub checkpoints: CheckpointVerdict,
    /// Whether the tables were replayed against the trail (it reads every record: a full check).
    pub replayed: bool,
    /// Rows the trail does not explain (the first ones, up to a limit).
    pub unexplained: Vec<String>,
}

/// What a check of the service's own trail says, and what it checked: `sound` only when every
/// check held *and* the tables were compared with the trail; a quick check says the chain is
/// intact and the tables were not compared, never more.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditSummary {
    pub sound: bool,
    pub chain_intact: bool,
    pub tables_compared: bool,
    /// One sentence for people.
    pub verdict: &'static str,
    pub lines: Vec<String>,
}

impl AuditReport {
    /// Whether every check held.
    pub fn is_sound(&self) -> bool {
        self.chain.first_bad.is_none()
            && self.checkpoints.first_bad.is_none()
            && self.unexplained.is_empty()
    }

    /// The findings, one line each, in Chinese: what holds, then the first thing that does not.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.chain.first_bad {
            None => out.push(format!(
                "哈希链完整：共 {} 条，末条哈希 {}",
                self.chain.entries, self.chain.head
            )),
            Some((id, why)) => out.push(format!("哈希链被破坏：第一条有问题的是第 {id} 条：{why}")),
        }
        let c = &self.checkpoints;
        match &c.first_bad {
            None if c.checked == 0 => out.push("没有可核对的检查点".to_owned()),
            None => out.push(format!("与 {} 个检查点一致", c.checked)),
            Some(why) => out.push(format!("与检查点不符：{why}")),
        }
        if c.retired > 0 {
            out.push(format!(
                "另有 {} 个检查点早于最近一次恢复备份，不再核对",
                c.retired
            ));
        }
        match self.unexplained.first() {
            None if !self.replayed => out.push("各表尚未与审计链逐行核对".to_owned()),
            None => {
                out.push("各表（扣分记录及其状态、申诉、附件、发布、账号）与审计链相符".to_owned());
            }
            Some(first) => {
                out.push(format!("审计链不能解释的第一行：{first}"));
                if self.unexplained.len() > 1 {
                    out.extend(self.unexplained[1..].iter().map(|u| format!("又：{u}")));
                    if self.unexplained.len() == REPLAY_LIMIT {
                        out.push(format!("（只列出前 {REPLAY_LIMIT} 处）"));
                    }
                }
            }
        }
        out
    }
}

impl Store {
    /// The whole check: the chain, the given checkpoints, and (with `replay`) the tables replayed
    /// against the trail.
    pub async fn audit_report(
        &self,
        checkpoints: &[Checkpoint],
        replay: bool,
    ) -> Result<AuditReport> {
        Ok(AuditReport {
            chain: self.verify_audit().await?,
            checkpoints: self.check_checkpoints(checkpoints).await?,
            replayed: replay,
            unexplained: if replay {
                self.replay_audit(REPLAY_LIMIT).await?
            } else {
                Vec::new()
            },
        })
    }

    /// The whole check against the store's own checkpoint file: whether it held, and its findings in
    /// Chinese. A checkpoint file that does not verify is itself the finding.
    pub async fn own_audit_report(&self, replay: bool) -> Result<AuditSummary> {
        match self.own_checkpoints() {
            Ok(checkpoints) => {
                let r = self.audit_report(&checkpoints, replay).await?;
                let intact = r.chain.first_bad.is_none() && r.checkpoints.first_bad.is_none();
                Ok(AuditSummary {
                    sound: r.is_sound() && r.replayed,
                    chain_intact: intact,
                    tables_compared: r.replayed,
                    verdict: match (intact, r.replayed, r.is_sound()) {
                        (false, _, _) => "审计链未通过校验：日志可能被截去或篡改",
                        (true, false, _) => {
                            "哈希链完整；各表尚未与审计链核对（全面核验才逐行核对）"
                        }
                        (true, true, true) => "审计校验通过：哈希链完整，各表与审计链相符",
                        (true, true, false) => {
                            "审计链完整，但有数据行审计链不能解释：数据可能被篡改"
                        }
                    },
                    lines: r.lines(),
                })
            }
            Err(e) => Ok(AuditSummary {
                sound: false,
                chain_intact: false,
                tables_compared: false,
                verdict: "检查点文件无法核对",
                lines: vec![e.to_string()],
            }),
        }
    }

    /// The checkpoints in the anchor's file, each signature checked against the office's key
    /// (none without an anchor).
    pub fn own_checkpoints(&self) -> Result<Vec<Checkpoint>> {
        match &self.anchor {
            Some(a) => a.log.read(a.seal.public_key_pem()).map_err(seal_error),
            None => Ok(Vec::new()),
        }
    }

    /// The same store with a seal and a checkpoint file: publications are signed, and a checkpoint
    /// is written at each.
    pub fn with_anchor(mut self, anchor: Anchor) -> Store {
        self.anchor = Some(Arc::new(anchor));
        self
    }

    /// The seal and checkpoint file, when the store has them.
    pub fn anchor(&self) -> Option<&Anchor> {
        self.anchor.as_deref()
    }

    /// Writes a signed checkpoint of the trail's head now (to the file, and to the system log when
    /// asked). Needs the anchor.
    pub async fn checkpoint(&self, reason: CheckpointReason) -> Result<Checkpoint> {
        let anchor = self.anchor.as_ref().ok_or_else(|| {
            StoreError::invalid("seal", "没有配置签名密钥与检查点文件，无法写检查点")
        })?;
        let (entry, hash) = self.audit_head().await?.unwrap_or((0, String::new()));
        let cp = Checkpoint::new(&anchor.seal, entry, &hash, &self.now(), reason);
        anchor.log.append(&cp).map_err(seal_error)?;
        self.counters.checkpoint_written(&cp.at);
        if anchor.syslog
            && let Err(e) =
                lvzhi_seal::to_syslog(&cp, std::path::Path::new(lvzhi_seal::SYSLOG_SOCKET))
        {
            tracing::warn!("检查点未能写入系统日志：{e}");
        }
        Ok(cp)
    }

    /// Writes a checkpoint when the trail has grown since `last` (the entry of the last one);
    /// answers the head's entry number. For the service's interval.
    /// Writes a checkpoint when the trail has grown by `every` entries or more since entry `last`
    /// (so that what could be cut unseen between two checkpoints is bounded by a count, not only
    /// by the interval); answers the head it checkpointed, if it did.
    pub async fn checkpoint_if_grown(&self, last: i64, every: i64) -> Result<Option<i64>> {
        let head = self.audit_head().await?.map_or(0, |h| h.0);
        if head - last < every {
            return Ok(None);
        }
        self.checkpoint(CheckpointReason::Entries).await?;
        Ok(Some(head))
    }

    pub async fn checkpoint_if_moved(&self, last: i64) -> Result<i64> {
        let head = self.audit_head().await?.map_or(0, |h| h.0);
        if head != last {
            self.checkpoint(CheckpointReason::Interval).await?;
        }
        Ok(head)
    }

    /// Compares the trail with checkpoints: each (since the last restore) must name an entry that
    /// is still there with the same hash.
    pub async fn check_checkpoints(&self, checkpoints: &[Checkpoint]) -> Result<CheckpointVerdict> {
        let kept = lvzhi_seal::in_force(checkpoints);
        let head = self.audit_head().await?.map_or(0, |h| h.0);
        let mut verdict = CheckpointVerdict {
            checked: kept.len(),
            retired: checkpoints.len() - kept.len(),
            first_bad: None,
        };
        for cp in kept {
            if cp.entry == 0 {
                continue;
            }
            if cp.entry > head {
                verdict.first_bad = Some(format!(
                    "审计链只到第 {head} 条，而检查点 {} 记载链已到第 {} 条：末尾的 {} 条被删除了",
                    cp.describe(),
                    cp.entry,
                    cp.entry - head
                ));
                return Ok(verdict);
            }
            let hash: Option<String> = sqlx::query("SELECT hash FROM audit WHERE id = $1")
                .bind(cp.entry)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            match hash {
                Some(h) if h == cp.hash => {}
                Some(_) => {
                    verdict.first_bad = Some(format!(
                        "第 {} 条的哈希与检查点 {} 不符：该条或其前面的记录被替换过",
                        cp.entry,
                        cp.describe()
                    ));
                    return Ok(verdict);
                }
                None => {
                    verdict.first_bad = Some(format!(
                        "检查点 {} 记载的第 {} 条已不在审计链中",
                        cp.describe(),
                        cp.entry
                    ));
                    return Ok(verdict);
                }
            }
        }
        Ok(verdict)
    }

    /// Replays the trail against the tables — records and their states, appeals, attachments,
    /// publications, accounts — and names every row (up to `limit`) that the trail does not
    /// explain, in the order records, appeals, attachments, publications, accounts, each by id.
    pub async fn replay_audit(&self, limit: usize) -> Result<Vec<String>> {
        let trail = Trail::read(self).await?;
        let mut out = Vec::new();
        let mut push = |s: String| {
            if out.len() < limit {
                out.push(s);
            }
        };
        self.replay_records(&trail, &mut push).await?;
        self.replay_appeals(&trail, &mut push).await?;
        self.replay_attachments(&trail, &mut push).await?;
        self.replay_publications(&trail, &mut push).await?;
        self.replay_users(&trail, &mut push).await?;
        Ok(out)
    }

    async fn replay_records(&self, trail: &Trail, push: &mut impl FnMut(String)) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        // Records whose content the trail has whole, read again in full below.
        let mut whole = Vec::new();
        let mut last = 0i64;
        loop {
            // Two columns a row: reading a million rows costs per value, so only what every
            // row is checked on.
            let rows =
                sqlx::query("SELECT id, status FROM records WHERE id > $1 ORDER BY id LIMIT 20000")
                    .bind(last)
                    .fetch_all(&self.pool)
                    .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let id: i64 = r.try_get(0)?;
                last = id;
                seen.insert(id);
                let status: String = r.try_get(1)?;
                let Some(known) = trail.records.get(&id) else {
                    push(format!("扣分记录 #{id}：审计链中没有它的录入或导入"));
                    continue;
                };
                let Some(now) = RecordStatus::parse(&status) else {
                    push(format!("扣分记录 #{id}：状态「{status}」不是系统的状态"));
                    continue;
                };
                if now != known.status {
                    push(format!(
                        "扣分记录 #{id}：表中状态为“{}”，审计链记载为“{}”（第 {} 条）",
                        now.label(),
                        known.status.label(),
                        known.status_entry
                    ));
                    continue;
                }
                if known.content.is_some() {
                    whole.push(id);
                }
            }
        }
        for ids in whole.chunks(500) {
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let rows = sqlx::query(&format!(
                "SELECT {} FROM records WHERE id IN ({list}) ORDER BY id",
                crate::records::RECORD_COLUMNS
            ))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                let stored = crate::records::record_from_row(r)?;
                let Some((content, entry)) = trail
                    .records
                    .get(&stored.id)
                    .and_then(|k| k.content.as_ref())
                else {
                    continue;
                };
                let stored_json = serde_json::to_value(&stored).unwrap_or_default();
                if let Some(field) = RECORD_CONTENT
                    .iter()
                    .find(|f| stored_json.get(**f) != content.get(**f))
                {
                    push(format!(
                        "扣分记录 #{}：{}与审计链第 {entry} 条记载的不同",
                        stored.id,
                        lvzhi_core::input::stored_field_label(field).unwrap_or("内容")
                    ));
                }
            }
        }
        for (id, known) in &trail.records {
            if !seen.contains(id) {
                push(format!(
                    "扣分记录 #{id}：审计链第 {} 条记载了它，表中却没有（被删除了）",
                    known.created_entry
                ));
            }
        }
        Ok(())
    }

    async fn replay_appeals(&self, trail: &Trail, push: &mut impl FnMut(String)) -> Result<()> {
        let years: Vec<i64> = sqlx::query("SELECT year FROM periods ORDER BY year")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        let mut conn = self.pool.acquire().await?;
        let mut seen = std::collections::HashSet::new();
        for year in years {
            for a in crate::state::load_appeals(&mut conn, year).await? {
                seen.insert(a.id);
                let row = serde_json::to_value(&a).unwrap_or_default();
                match trail.appeals.get(&a.id) {
                    None => push(format!(
                        "申诉 #{}（记录 #{}）：审计链中没有这次申诉",
                        a.id, a.record_id
                    )),
                    Some((v, entry)) if *v != row => push(format!(
                        "申诉 #{}（记录 #{}）：与审计链第 {entry} 条记载的不同",
                        a.id, a.record_id
                    )),
                    Some(_) => {}
                }
            }
        }
        for (id, (_, entry)) in &trail.appeals {
            if !seen.contains(id) {
                push(format!(
                    "申诉 #{id}：审计链第 {entry} 条记载了它，表中却没有（被删除了）"
                ));
            }
        }
        Ok(())
    }

    async fn replay_attachments(&self, trail: &Trail, push: &mut impl FnMut(String)) -> Result<()> {
        let rows = sqlx::query(
            "SELECT id, record_id, hash, name, uploaded_by, uploaded_at FROM attachments ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            seen.insert(id);
            let name: String = r.try_get("name")?;
            let Some((v, entry)) = trail.attachments.get(&id) else {
                push(format!("附件 #{id}「{name}」：审计链中没有它的上传"));
                continue;
            };
            let same = v["record_id"].as_i64() == Some(r.try_get("record_id")?)
                && v["hash"].as_str() == Some(r.try_get::<String, _>("hash")?.as_str())
                && v["name"].as_str() == Some(name.as_str())
                && v["uploaded_by"].as_str()
                    == Some(r.try_get::<String, _>("uploaded_by")?.as_str())
                && v["uploaded_at"].as_str()
                    == Some(r.try_get::<String, _>("uploaded_at")?.as_str());
            if !same {
                push(format!(
                    "附件 #{id}「{name}」：与审计链第 {entry} 条记载的不同（原名「{}」）",
                    v["name"].as_str().unwrap_or_default()
                ));
            }
        }
        for (id, (v, entry)) in &trail.attachments {
            if !seen.contains(id) {
                push(format!(
                    "附件 #{id}「{}」：审计链第 {entry} 条记载了它，表中却没有（被删除了）",
                    v["name"].as_str().unwrap_or_default()
                ));
            }
        }
        Ok(())
    }

    async fn replay_publications(
        &self,
        trail: &Trail,
        push: &mut impl FnMut(String),
    ) -> Result<()> {
        let rows = sqlx::query("SELECT year, seq, hash, body FROM publications ORDER BY year, seq")
            .fetch_all(&self.pool)
            .await?;
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            let (year, seq): (i64, i64) = (r.try_get("year")?, r.try_get("seq")?);
            seen.insert((year, seq));
            let hash: String = r.try_get("hash")?;
            let body: String = r.try_get("body")?;
            match trail.publications.get(&(year, seq)) {
                None => push(format!("{year} 年度第 {seq} 次发布：审计链中没有这次发布")),
                Some((h, entry)) if *h != hash => push(format!(
                    "{year} 年度第 {seq} 次发布：快照哈希与审计链第 {entry} 条记载的不同"
                )),
                Some(_) if crate::sha256_hex(body.as_bytes()) != hash => push(format!(
                    "{year} 年度第 {seq} 次发布：快照内容与其哈希不符（内容被改动过）"
                )),
                Some(_) => {}
            }
        }
        for ((year, seq), (_, entry)) in &trail.publications {
            if !seen.contains(&(*year, *seq)) {
                push(format!(
                    "{year} 年度第 {seq} 次发布：审计链第 {entry} 条记载了它，表中却没有（被删除了）"
                ));
            }
        }
        Ok(())
    }

    async fn replay_users(&self, trail: &Trail, push: &mut impl FnMut(String)) -> Result<()> {
        let rows = sqlx::query("SELECT name, role, unit, grp, disabled FROM users ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            let name: String = r.try_get("name")?;
            seen.insert(name.clone());
            let Some(known) = trail.users.get(&name) else {
                push(format!("账号「{name}」：审计链中没有它的创建"));
                continue;
            };
            let role: String = r.try_get("role")?;
            let unit: Option<String> = r.try_get("unit")?;
            let group: Option<String> = r.try_get("grp")?;
            let disabled: i64 = r.try_get("disabled")?;
            let c = &known.created;
            if c["role"].as_str() != Some(role.as_str())
                || c["unit"].as_str() != unit.as_deref()
                || c["group"].as_str() != group.as_deref()
            {
                push(format!(
                    "账号「{name}」：角色或所属单位、督导组与审计链第 {} 条记载的不同",
                    known.created_entry
                ));
            } else if (disabled != 0) != known.disabled {
                push(format!(
                    "账号「{name}」：表中{}，审计链记载为{}",
                    if disabled != 0 { "已停用" } else { "在用" },
                    if known.disabled {
                        "已停用"
                    } else {
                        "在用"
                    }
                ));
            }
        }
        for (name, known) in &trail.users {
            if !seen.contains(name) {
                push(format!(
                    "账号「{name}」：审计链第 {} 条记载了它的创建，表中却没有（被删除了）",
                    known.created_entry
                ));
            }
        }
        Ok(())
    }
}

/// How many unexplained rows a report lists.
const REPLAY_LIMIT: usize = 20;

/// The fields of a record that never change after it is written.
const RECORD_CONTENT: [&str; 10] = [
    "unit",
    "rule",
    "count",
    "points",
    "date",
    "source",
    "note",
    "replaces",
    "created_by",
    "created_at",
];

/// What the trail says a record is.
struct KnownRecord {
    status: RecordStatus,
    status_entry: i64,
    created_entry: i64,
    /// The record as written, when the trail has it whole (an import keeps only the ids).
    content: Option<(Value, i64)>,
}

struct KnownUser {
    created: Value,
    created_entry: i64,
    disabled: bool,
}

/// The state of the tables as the trail tells it.
#[derive(Default)]
struct Trail {
    records: BTreeMap<i64, KnownRecord>,
    appeals: BTreeMap<i64, (Value, i64)>,
    attachments: BTreeMap<i64, (Value, i64)>,
    publications: BTreeMap<(i64, i64), (String, i64)>,
    users: BTreeMap<String, KnownUser>,
}

impl Trail {
    async fn read(store: &Store) -> Result<Trail> {
        use AuditAction as A;
        let actions = [
            A::RecordAdd,
            A::RecordRevoke,
            A::RecordConfirm,
            A::RecordAppeal,
            A::AppealDecide,
            A::ImportBatch,
            A::AttachmentAdd,
            A::PeriodPublish,
            A::UserCreate,
            A::UserDisable,
            A::UserEnable,
        ];
        let list = actions
            .iter()
            .map(|a| format!("'{}'", a.code()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut t = Trail::default();
        let mut last = 0i64;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT id, action, entity, after FROM audit WHERE id > $1 AND action IN ({list}) \
                 ORDER BY id LIMIT 5000"
            ))
            .bind(last)
            .fetch_all(&store.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                last = id;
                let action: String = r.try_get("action")?;
                let entity: String = r.try_get("entity")?;
                let after: Option<String> = r.try_get("after")?;
                let after: Value = after
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .unwrap_or(Value::Null);
                t.apply(id, AuditAction::parse(&action), &entity, after);
            }
        }
        Ok(t)
    }

    fn set_status(&mut self, record: Option<i64>, status: Option<RecordStatus>, entry: i64) {
        if let (Some(id), Some(status)) = (record, status)
            && let Some(k) = self.records.get_mut(&id)
        {
            k.status = status;
            k.status_entry = entry;
        }
    }

    fn apply(&mut self, entry: i64, action: Option<AuditAction>, entity: &str, after: Value) {
        let record = entity
            .strip_prefix("record:")
            .and_then(|s| s.parse::<i64>().ok());
        let status_of = |v: &Value| v["status"].as_str().and_then(RecordStatus::parse);
        match action {
            Some(AuditAction::RecordAdd) => {
                if let (Some(id), Some(status)) = (record, status_of(&after)) {
                    self.records.insert(
                        id,
                        KnownRecord {
                            status,
                            status_entry: entry,
                            created_entry: entry,
                            content: Some((after, entry)),
                        },
                    );
                }
            }
            Some(AuditAction::ImportBatch) => {
                if let Some([a, b]) = after["record_ids"]
                    .as_array()
                    .and_then(|v| Some([v.first()?.as_i64()?, v.get(1)?.as_i64()?]))
                {
                    for id in a..=b {
                        self.records.insert(
                            id,
                            KnownRecord {
                                status: RecordStatus::Recorded,
                                status_entry: entry,
                                created_entry: entry,
                                content: None,
                            },
                        );
                    }
                }
            }
            Some(AuditAction::RecordRevoke | AuditAction::RecordConfirm) => {
                self.set_status(record, status_of(&after), entry);
            }
            Some(AuditAction::RecordAppeal) => {
                self.set_status(record, Some(RecordStatus::Appealed), entry);
                if let Some(id) = after["id"].as_i64() {
                    self.appeals.insert(id, (after, entry));
                }
            }
            Some(AuditAction::AppealDecide) => {
                let status = after["decision"]
                    .as_str()
                    .and_then(Decision::parse)
                    .map(Decision::status);
                self.set_status(record, status, entry);
                if let Some(id) = after["id"].as_i64() {
                    self.appeals.insert(id, (after, entry));
                }
            }
            Some(AuditAction::AttachmentAdd) => {
                if let Some(id) = after["id"].as_i64() {
                    self.attachments.insert(id, (after, entry));
                }
            }
            Some(AuditAction::PeriodPublish) => {
                let year = entity
                    .strip_prefix("period:")
                    .and_then(|s| s.parse::<i64>().ok());
                if let (Some(year), Some(seq), Some(hash)) =
                    (year, after["seq"].as_i64(), after["hash"].as_str())
                {
                    self.publications
                        .insert((year, seq), (hash.to_owned(), entry));
                }
            }
            Some(AuditAction::UserCreate) => {
                if let Some(name) = entity.strip_prefix("user:") {
                    // An account can be created waiting for its grant (三员分立): as the entry says.
                    let disabled = after["disabled"].as_bool().unwrap_or(false);
                    self.users.insert(
                        name.to_owned(),
                        KnownUser {
                            created: after,
                            created_entry: entry,
                            disabled,
                        },
                    );
                }
            }
            Some(a @ (AuditAction::UserDisable | AuditAction::UserEnable)) => {
                if let Some(u) = entity
                    .strip_prefix("user:")
                    .and_then(|n| self.users.get_mut(n))
                {
                    u.disabled = a == AuditAction::UserDisable;
                }
            }
            _ => {}
        }
    }
}
