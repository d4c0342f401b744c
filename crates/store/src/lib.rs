//! lvzhi-store: where the assessment lives. One [`Store`] over SQLite (one city, one file, the default)
//! or PostgreSQL (several instances of the service on one database), chosen from the URL.
//!
//! Every change (ledger, roster, accounts) runs in one write transaction together with its audit entry,
//! and writers are serialized (SQLite `BEGIN IMMEDIATE`; PostgreSQL an advisory transaction lock), so
//! the audit chain stays a single line whichever instance writes. Every rule of the rubric is enforced
//! on every write by the core's `LedgerBuilder`, with the same messages as the command line. A score is
//! never stored: it is computed from the rubric and the ledger, and cached per ledger version.
//! This crate knows SQL; it must not know HTTP, HTML or file formats.

mod accounts;
mod activity;
mod anchor;
mod appeals;
mod audit;
mod cells;
pub mod clock;
mod evidence;
mod imports;
mod locks;
mod migrations;
mod model;
mod notices;
mod offices;
mod oversight;
mod periods;
mod publication;
mod records;
mod results;
mod rosters;
mod rubrics;
mod state;
mod years;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};

pub use accounts::{
    LOCK_FOR, MAX_FAILURES, SESSION_IDLE, SESSION_MAX, User, check_password_policy,
    generate_password, password_checks,
};
pub use activity::{Activity, BackupOutcome};
pub use anchor::{Anchor, AuditReport, AuditSummary, CheckpointVerdict};
pub use appeals::appeal_deadline;
pub use audit::{AuditAction, AuditEntry, AuditVerdict, audit_scope};
pub use clock::{Clock, ClockFn};
pub use evidence::{MAX_ATTACHMENT, StoredAttachment, sniff};
pub use imports::{Batch, Duplicate, Duplicates, FileMark, ImportOutcome};
pub use lvzhi_core::access::Role;
pub use lvzhi_seal::{CHECKPOINT_FILE, Checkpoint, CheckpointReason, KEY_FINGERPRINT_LABEL, Seal};
pub use migrations::MigrationPlan;
pub use model::{
    PeriodInfo, StoredAppeal, StoredAssessment, StoredMetric, StoredRecord, StoredUnit,
};
pub use notices::{Notice, NoticeKind, Notices};
pub use offices::{Office, OfficeTree, ROOT_OFFICE, check_office_code};
pub use oversight::{Comparison, Oversight, OversightRow};
pub use periods::{
    Candidate, DEFAULT_ASSESSMENT, NextPeriodPlan, OpenTarget, check_assessment_code, may_see,
    reads_below,
};
pub use publication::{
    Checklist, PublicationInfo, PublicationSignature, UnitChange, canonical_json, sha256_hex,
};
pub use records::{RecordPage, RecordQuery, RecordSort};
pub use results::{TrendPoint, WhatIf, WhatIfRow, incomplete_items, to_next_rank};
pub use rubrics::RubricVersion;
pub use state::{PeriodReads, PeriodState, RecordRow, SQLITE_FRESH, StatusCounts, UnitState};
pub use years::YearResults;

/// Who makes a change, and from where (an address, or `cli`); with the rights of the account
/// that asked, a write whose right depends on a row's state decides it on the row as it is inside
/// the write's transaction (a cached state may pre-check a form, never grant a write). An actor
/// without rights is the operator at the command line.
#[derive(Clone, Debug)]
pub struct Actor {
    pub name: String,
    pub source: String,
    pub rights: Option<Rights>,
}

/// An account's rights, as the core's permission matrix reads them.
#[derive(Clone, Debug)]
pub struct Rights {
    /// The account's office: its role applies there.
    pub office: String,
    pub role: Role,
    pub duties: lvzhi_core::access::Duties,
    pub unit: Option<String>,
    pub supervises: Vec<String>,
}

impl Rights {
    /// The rights as the core's permission matrix reads them.
    fn subject(&self) -> lvzhi_core::access::Subject<'_> {
        lvzhi_core::access::Subject {
            role: self.role,
            duties: self.duties,
            unit: self.unit.as_deref(),
            supervises: &self.supervises,
        }
    }
}

impl Actor {
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
        Actor {
            name: name.into(),
            source: source.into(),
            rights: None,
        }
    }

    /// The actor with an account's rights, checked again by every write that depends on a row.
    pub fn with_rights(mut self, rights: Rights) -> Self {
        self.rights = Some(rights);
        self
    }

    /// Refuses unless the actor may do `action` to an account of role `target` (the operator may
    /// do everything).
    pub(crate) fn require_on_account(
        &self,
        action: lvzhi_core::access::Action,
        target: Role,
        refused: impl FnOnce() -> String,
    ) -> Result<()> {
        let allowed = self
            .rights
            .as_ref()
            .is_none_or(|r| lvzhi_core::access::on_account(&r.subject(), action, target));
        if allowed {
            Ok(())
        } else {
            Err(StoreError::Forbidden(refused()))
        }
    }

    /// Refuses unless the actor may do `action` on `unit` (the operator may do everything).
    pub(crate) fn require(
        &self,
        action: lvzhi_core::access::Action,
        unit: &str,
        refused: impl FnOnce() -> String,
    ) -> Result<()> {
        let allowed = self
            .rights
            .as_ref()
            .is_none_or(|r| lvzhi_core::access::allowed(&r.subject(), action, Some(unit)));
        if allowed {
            Ok(())
        } else {
            Err(StoreError::Forbidden(refused()))
        }
    }
}

/// Why a store operation did not happen. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Bad input: the field and a message a person can act on.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The data changed since it was read (version mismatch), or the state forbids the change.
    #[error("{0}")]
    Conflict(String),
    /// Bad rows of a batch, every one of them (up to a limit); nothing was stored.
    #[error("{}", RowProblem::list(.0))]
    Rows(Vec<RowProblem>),
    /// Rows of an import equal to records in force, and no choice made about them; nothing was
    /// stored.
    #[error("发现 {} 条疑似重复的记录（与已有记录的单位、条款、日期、数量或分值、依据相同）：请选择跳过这些行，或仍然导入", .0.len())]
    Duplicates(Vec<imports::Duplicate>),
    #[error("{0}")]
    NotFound(String),
    /// A year that names several periods the caller may see: it must name one by its key.
    #[error("{}", Candidate::message(.asked, .candidates))]
    Ambiguous {
        asked: String,
        candidates: Vec<Candidate>,
    },
    /// The user may not do this (a wrong current password, for instance).
    #[error("{0}")]
    Forbidden(String),
    /// Stored data that can no longer be read (a rubric that does not load, a broken row).
    #[error("存储的数据无法读取：{0}")]
    Corrupt(String),
    #[error("数据库错误：{0}")]
    Db(#[from] sqlx::Error),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database was migrated by a newer program than this one.
    #[error("{0}")]
    Newer(String),
}

/// What opening a database did to bring it up to this program.
#[derive(Clone, Debug)]
pub struct Upgrade {
    pub plan: MigrationPlan,
    /// The copy taken before the migrations ran (SQLite).
    pub backup: Option<PathBuf>,
}

/// How long a request waits for a database connection before it is told the database is away.
pub const UNAVAILABLE_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

impl StoreError {
    /// Whether the database could not be reached (down, restarting, refusing connections): a
    /// state that passes, unlike a wrong request or broken data.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Db(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            // Connection exceptions (08…) and an operator's intervention: shutdown, restart (57P…).
            sqlx::Error::Database(d) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        }
    }
}

/// One refused row of a batch: which table, its 0-based index in what was given, the field and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub table: &'static str,
    pub index: usize,
    pub field: String,
    pub message: String,
}

impl RowProblem {
    /// The most problems a batch reports.
    pub const KEEP: usize = 200;

    fn label(table: &str) -> &'static str {
        match table {
            "records" => "记录",
            "assessments" => "打分",
            "metrics" => "指标",
            _ => "单位",
        }
    }

    fn list(rows: &[RowProblem]) -> String {
        rows.iter()
            .map(|r| {
                format!(
                    "第 {} 条{}，字段 {}：{}",
                    r.index + 1,
                    Self::label(r.table),
                    lvzhi_core::input::stored_field_label(&r.field).unwrap_or(&r.field),
                    r.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl StoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Which database is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A write transaction holding its locks ([`locks`]) until it commits or is dropped (a dropped
/// transaction rolls back).
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    held: Vec<locks::Held>,
    /// Whether it holds the audit chain (on SQLite, always).
    chained: bool,
    locks: Arc<locks::Locks>,
    clock: Clock,
    writes: Arc<std::sync::atomic::AtomicU64>,
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl WriteTx {
    /// The current time by the store's clock.
    pub(crate) fn now(&self) -> String {
        self.clock.now()
    }

    /// Takes the audit chain's lock (once): a write does before it appends to the trail, and holds
    /// it to its commit.
    pub(crate) async fn chain(&mut self) -> Result<()> {
        if !self.chained {
            self.held.push(self.locks.chain().await);
            sqlx::query(&locks::advisory(locks::CHAIN_KEY, false))
                .execute(&mut *self.tx)
                .await?;
            self.chained = true;
        }
        Ok(())
    }

    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Commits, then runs `after` while this process still holds the writer slot (so the next
    /// writer sees what `after` installs).
    pub(crate) async fn commit_then(self, after: impl FnOnce()) -> Result<()> {
        self.tx.commit().await?;
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        after();
        Ok(())
    }
}

/// Checked tokens by hash, with the time of the check.
type TokenCache = std::collections::HashMap<String, (Option<User>, std::time::Instant)>;

/// The store. Cheap to clone; every clone shares the pool and the caches.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
    cache: Arc<state::Cache>,
    locks: Arc<locks::Locks>,
    /// Token hash → (user, when checked); see `accounts::TOKEN_TTL`.
    tokens: Arc<std::sync::Mutex<TokenCache>>,
    /// The one clock of every time the store writes or compares: the system's unless set.
    clock: Clock,
    /// Whether a write derives and keeps the period's next state (a service); a process that
    /// runs one command and exits does not need it.
    pub(crate) keep_state: bool,
    /// How many writes this process has committed (a generation for the caches below).
    pub(crate) writes: Arc<std::sync::atomic::AtomicU64>,
    /// What the store has done, for monitoring ([`Store::activity`]).
    pub(crate) counters: Arc<activity::Counters>,
    /// Unread notice counts by user; see `notices::UNREAD_TTL`.
    pub(crate) unread: Arc<std::sync::Mutex<notices::UnreadCache>>,
    /// The office's seal and checkpoint file (a service has them; tests may not).
    pub(crate) anchor: Option<Arc<anchor::Anchor>>,
    /// What opening the store did to its database's version.
    pub(crate) upgrade: Option<Arc<Upgrade>>,
}

/// Up to ten record ids as `#1、#2 等`.
pub(crate) fn ids_text(ids: &[i64]) -> String {
    let shown: Vec<String> = ids.iter().take(10).map(|i| format!("#{i}")).collect();
    if ids.len() > 10 {
        format!("{} 等", shown.join("、"))
    } else {
        shown.join("、")
    }
}

/// The first `n` items joined with `；`, and 等 when there are more.
pub(crate) fn first_of(items: &[String], n: usize) -> String {
    let shown = items.iter().take(n).cloned().collect::<Vec<_>>().join("；");
    if items.len() > n {
        format!("{shown} 等")
    } else {
        shown
    }
}

impl Store {
    /// The URL of the SQLite database in a data folder.
    pub fn sqlite_url(data: &Path) -> String {
        format!("sqlite://{}?mode=rwc", data.join("lvzhi.db").display())
    }

    /// Opens (creating if needed) the database at `url`, applies the migrations and checks that the
    /// connection settings the data's safety depends on are in force.
    pub async fn open(url: &str) -> Result<Store> {
        let (pool, backend) = Self::connect(url).await?;
        let (plan, backup) =
            migrations::migrate(&pool, backend, url, &Clock::default().now()).await?;
        let upgrade = (plan.applied.is_some() && !plan.pending.is_empty())
            .then(|| Arc::new(Upgrade { plan, backup }));
        let store = Store {
            pool,
            backend,
            url: url.to_owned(),
            cache: Arc::new(state::Cache::default()),
            locks: Arc::default(),
            tokens: Arc::default(),
            clock: Clock::default(),
            keep_state: true,
            writes: Arc::default(),
            counters: Arc::default(),
            unread: Arc::default(),
            anchor: None,
            upgrade,
        };
        store.assert_settings().await?;
        store.name_after_upgrade().await?;
        Ok(store)
    }

    /// Where the database at `url` stands against this program, changing nothing (`lvzhi migrate
    /// --check`).
    pub async fn migration_plan(url: &str) -> Result<MigrationPlan> {
        if url.starts_with("sqlite:") {
            // Read-only and without the connection settings (WAL is written into the file).
            install_default_drivers();
            let Some(path) = migrations::sqlite_path(url).filter(|p| p.exists()) else {
                return Ok(migrations::empty_plan(Backend::Sqlite));
            };
            let pool = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&format!("sqlite://{}?mode=ro", path.display()))
                .await?;
            let plan = migrations::plan(&pool, Backend::Sqlite).await;
            pool.close().await;
            return plan;
        }
        let (pool, backend) = Self::connect(url).await?;
        let plan = migrations::plan(&pool, backend).await;
        pool.close().await;
        plan
    }

    /// What opening this store did to bring its database up to this program, if anything.
    pub fn upgrade(&self) -> Option<&Upgrade> {
        self.upgrade.as_deref()
    }

    /// Why this process should not be sent requests now, if it should not (`/readyz`): the
    /// database cannot be reached, or its migrations are not those of this program.
    pub async fn not_ready(&self) -> Option<String> {
        match migrations::plan(&self.pool, self.backend).await {
            Err(e) => Some(e.to_string()),
            Ok(p) => p.refusal().or_else(|| {
                (!p.pending.is_empty())
                    .then(|| format!("数据库有 {} 项迁移尚未执行", p.pending.len()))
            }),
        }
    }

    /// A pool on the database at `url`, with the settings each backend needs; nothing migrated.
    async fn connect(url: &str) -> Result<(AnyPool, Backend)> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::invalid(
                "database_url",
                format!("不支持的数据库地址「{url}」：应以 sqlite: 或 postgres:// 开头"),
            ));
        };
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    // While the database is away a request waits this long for a connection,
                    // then is answered that the service is unavailable (and retried by its user).
                    .acquire_timeout(UNAVAILABLE_AFTER)
                    .connect(url)
                    .await?
            }
        };
        Ok((pool, backend))
    }

    /// SQLite must run with WAL, synchronous = FULL and foreign keys on: checked, not assumed.
    async fn assert_settings(&self) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let mut conn = self.pool.acquire().await?;
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let sync: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let fk: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if !mode.eq_ignore_ascii_case("wal") || sync != 2 || fk != 1 {
            return Err(StoreError::Corrupt(format!(
                "SQLite 设置不符合要求：journal_mode={mode}（应为 wal），synchronous={sync}（应为 2/FULL），foreign_keys={fk}（应为 1）"
            )));
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write of the deployment (offices, rubrics, periods opened or settled, rosters of a year
    /// and its parts): no period is written by another meanwhile.
    async fn begin_write(&self) -> Result<WriteTx> {
        self.begin(locks::Scope::Deployment).await
    }

    /// A write of an account (a login, a password, a token, a notice read): it waits for no
    /// business write's work, only for an append to the trail.
    async fn begin_account_write(&self) -> Result<WriteTx> {
        self.begin(locks::Scope::Chain).await
    }

    /// A write of some periods: another write of one of them waits.
    async fn begin_period_write(&self, ids: &[i64]) -> Result<WriteTx> {
        self.begin(locks::Scope::Periods(ids)).await
    }

    /// A write transaction holding the locks of `scope` ([`locks`]; on SQLite, the one writer slot).
    async fn begin(&self, scope: locks::Scope<'_>) -> Result<WriteTx> {
        let (tx, held, chained) = match self.backend {
            Backend::Sqlite => {
                let held = self.locks.writer().await;
                (self.pool.begin_with("BEGIN IMMEDIATE").await?, held, true)
            }
            Backend::Postgres => {
                let (held, keys) = self.locks.enter(&scope).await;
                let mut tx = self.pool.begin().await?;
                for (key, shared) in keys {
                    sqlx::query(&locks::advisory(key, shared))
                        .execute(&mut *tx)
                        .await?;
                }
                (tx, held, matches!(scope, locks::Scope::Chain))
            }
        };
        Ok(WriteTx {
            tx,
            held,
            chained,
            locks: self.locks.clone(),
            clock: self.clock.clone(),
            writes: self.writes.clone(),
        })
    }

    /// A consistent copy of a SQLite database into `out` while the service runs (`VACUUM INTO`).
    /// For PostgreSQL the copy is made with `pg_dump` by the caller.
    pub async fn backup_sqlite(&self, out: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::invalid(
                "backend",
                "VACUUM INTO 只适用于 SQLite；PostgreSQL 请使用 pg_dump",
            ));
        }
        if out.exists() {
            return Err(StoreError::invalid(
                "out",
                format!("备份文件 {} 已存在，不会覆盖", out.display()),
            ));
        }
        let path = out.display().to_string();
        if path.contains('\'') {
            return Err(StoreError::invalid("out", "备份文件路径不能包含单引号"));
        }
        sqlx::query(&format!("VACUUM INTO '{path}'"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The same store with another clock, for tests that walk through a year (appeal windows,
    /// deadlines, overdue appeals), and for nothing else.
    pub fn with_clock(mut self, clock: ClockFn) -> Store {
        self.clock = Clock::set(clock);
        self
    }

    /// The same store for a process that runs one command and exits: a write does not derive the
    /// period's next state (nobody would read it).
    pub fn one_shot(mut self) -> Store {
        self.keep_state = false;
        self
    }

    /// The current time by the store's clock, as the store writes it.
    pub fn now(&self) -> String {
        self.clock.now()
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
