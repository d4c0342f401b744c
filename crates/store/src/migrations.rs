//! The database's version against this program's: which migrations a database has had, which this
//! program would run on it, and whether a newer program has migrated it past what this one knows
//! (then it refuses to open it, so that an older binary never writes to a newer schema). Before it
//! migrates an existing SQLite database it copies it whole into `backups/` beside it. It must not
//! change a database's content otherwise.

use std::path::{Path, PathBuf};

use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

use crate::{Backend, Result, StoreError};

pub(crate) static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// Where a database stands against this program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationPlan {
    /// The highest migration the database has had; `None` for a new, empty database.
    pub applied: Option<i64>,
    /// The highest migration this program knows.
    pub known: i64,
    /// The migrations this program would run, in order: (version, description).
    pub pending: Vec<(i64, String)>,
    /// Migrations the database has had that this program does not know (a newer program's).
    pub unknown: Vec<i64>,
}

impl MigrationPlan {
    /// Why this program must not open the database, if it must not.
    pub fn refusal(&self) -> Option<String> {
        (!self.unknown.is_empty()).then(|| {
            format!(
                "数据库已由较新版本的 lvzhi 升级（数据库版本 {}，本程序只到 {}）：请换用较新版本的程序，或从升级前的备份恢复；未做任何修改",
                self.applied.unwrap_or_default(),
                self.known
            )
        })
    }
}

fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

/// Reads where the database at `pool` stands, changing nothing.
pub(crate) async fn plan(pool: &AnyPool, backend: Backend) -> Result<MigrationPlan> {
    let exists_sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations' \
             AND table_schema = current_schema()"
        }
    };
    let exists: i64 = sqlx::query(exists_sql).fetch_one(pool).await?.try_get(0)?;
    let applied: Vec<i64> = if exists > 0 {
        sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?
    } else {
        Vec::new()
    };
    let m = migrator(backend);
    let known: Vec<i64> = m.iter().map(|x| x.version).collect();
    Ok(MigrationPlan {
        applied: applied.iter().max().copied(),
        known: known.iter().max().copied().unwrap_or_default(),
        pending: m
            .iter()
            .filter(|x| !applied.contains(&x.version))
            .map(|x| (x.version, x.description.to_string()))
            .collect(),
        unknown: applied
            .iter()
            .filter(|v| !known.contains(v))
            .copied()
            .collect(),
    })
}

/// The plan for a database that does not exist yet: every migration pending.
pub(crate) fn empty_plan(backend: Backend) -> MigrationPlan {
    let m = migrator(backend);
    MigrationPlan {
        applied: None,
        known: m.iter().map(|x| x.version).max().unwrap_or_default(),
        pending: m
            .iter()
            .map(|x| (x.version, x.description.to_string()))
            .collect(),
        unknown: Vec::new(),
    }
}

/// Brings the database up to this program: refused for a newer database; an existing SQLite
/// database with migrations to run is first copied whole (`VACUUM INTO`) into `backups/` beside
/// it. Answers the plan it followed and the copy it made.
pub(crate) async fn migrate(
    pool: &AnyPool,
    backend: Backend,
    url: &str,
    now: &str,
) -> Result<(MigrationPlan, Option<PathBuf>)> {
    let p = plan(pool, backend).await?;
    if let Some(why) = p.refusal() {
        return Err(StoreError::Newer(why));
    }
    let mut copy = None;
    if backend == Backend::Sqlite
        && p.applied.is_some()
        && !p.pending.is_empty()
        && let Some(db) = sqlite_path(url)
    {
        let dir = db.parent().unwrap_or(Path::new(".")).join("backups");
        std::fs::create_dir_all(&dir).map_err(|e| {
            StoreError::invalid(
                "backups",
                format!("无法创建升级前备份目录 {}：{e}", dir.display()),
            )
        })?;
        let stamp = crate::clock::file_stamp(now);
        let out = dir.join(format!(
            "before-upgrade-{}-to-{}-{stamp}.db",
            p.applied.unwrap_or_default(),
            p.known
        ));
        let path = out.display().to_string().replace('\'', "''");
        sqlx::query(&format!("VACUUM INTO '{path}'"))
            .execute(pool)
            .await?;
        copy = Some(out);
    }
    migrator(backend).run(pool).await?;
    Ok((p, copy))
}

/// The file of a `sqlite:` URL (`sqlite:///dir/lvzhi.db?mode=rwc` → `/dir/lvzhi.db`).
pub(crate) fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}
