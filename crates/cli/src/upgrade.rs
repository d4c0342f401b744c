//! Upgrades as an office's IT department runs them: `lvzhi migrate --check` says what an upgrade
//! will change (the database's version, this program's, the migrations pending) without changing
//! anything; `lvzhi migrate` brings the database up (a SQLite database is copied into `backups/`
//! first, by the store; a PostgreSQL database is dumped with `pg_dump` first, here, and not migrated
//! when the dump fails); every command that opens an older database says what it did. It must not
//! migrate by itself: the store decides how.

use std::fmt::Write as _;

use anyhow::Context as _;
use lvzhi_store::{MigrationPlan, Store};

use crate::config::{StoreArgs, redact};

/// `lvzhi migrate [--check]`: exit code 0 when the database is (or, with `--check`, can be brought)
/// up to this program; 1 when it is newer than this program.
pub async fn migrate(args: &StoreArgs, check: bool) -> anyhow::Result<bool> {
    let cfg = args.resolve(None)?;
    let plan = Store::migration_plan(&cfg.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("无法打开数据库 {}", redact(&cfg.database_url)))?;
    print!("{}", describe(&plan));
    if let Some(why) = plan.refusal() {
        eprintln!("{why}");
        return Ok(false);
    }
    if check || plan.pending.is_empty() {
        return Ok(true);
    }
    before_opening(&cfg).await?;
    let store = Store::open(&cfg.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    say_upgrade(&store);
    Ok(true)
}

/// Before a PostgreSQL database with migrations to run is opened (and so migrated): a `pg_dump`
/// of it into `backups/` in the data folder. A database that cannot be dumped is not migrated:
/// the command stops, saying why. (An older SQLite database is copied by the store itself.)
pub async fn before_opening(cfg: &crate::config::Config) -> anyhow::Result<()> {
    if cfg.database_url.starts_with("sqlite:") {
        return Ok(());
    }
    let plan = Store::migration_plan(&cfg.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("无法打开数据库 {}", redact(&cfg.database_url)))?;
    let Some(applied) = plan
        .applied
        .filter(|_| !plan.pending.is_empty() && plan.unknown.is_empty())
    else {
        return Ok(());
    };
    let dir = cfg.data.join("backups");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("无法创建升级前备份目录 {}", dir.display()))?;
    let stamp = lvzhi_store::clock::file_stamp(&lvzhi_store::Clock::default().now());
    let out = dir.join(format!(
        "before-upgrade-{applied}-to-{}-{stamp}.dump",
        plan.known
    ));
    let status = tokio::process::Command::new("pg_dump")
        .arg("--format=custom")
        .arg(format!("--file={}", out.display()))
        .arg(&cfg.database_url)
        .status()
        .await;
    match status {
        Ok(s) if s.success() => {
            eprintln!("升级前已用 pg_dump 备份数据库：{}", out.display());
            Ok(())
        }
        Ok(s) => anyhow::bail!("升级前备份失败（pg_dump 退出码 {s}），数据库未升级、未做任何修改"),
        Err(e) => anyhow::bail!(
            "升级前无法运行 pg_dump（{e}）：请安装 PostgreSQL 客户端，或先自行备份；数据库未升级、未做任何修改"
        ),
    }
}

/// The plan in words.
fn describe(plan: &MigrationPlan) -> String {
    let mut out = match plan.applied {
        None => format!(
            "数据库为空（新建），本程序的数据库版本为 {}。\n",
            plan.known
        ),
        Some(v) => format!("数据库版本 {v}，本程序的数据库版本为 {}。\n", plan.known),
    };
    if plan.pending.is_empty() && plan.unknown.is_empty() {
        out.push_str("无须升级。\n");
    }
    if !plan.pending.is_empty() {
        let _ = writeln!(
            out,
            "升级将依次执行 {} 项迁移{}：",
            plan.pending.len(),
            if plan.applied.is_some() {
                "（SQLite 会先把数据库整个复制到数据目录的 backups/ 中）"
            } else {
                ""
            }
        );
        for (v, what) in &plan.pending {
            let _ = writeln!(out, "  {v:04} {what}");
        }
    }
    out
}

/// Says what opening the store did to an older database, if anything.
pub fn say_upgrade(store: &Store) {
    if let Some(u) = store.upgrade() {
        eprintln!(
            "数据库已从版本 {} 升级到 {}（执行 {} 项迁移）{}",
            u.plan.applied.unwrap_or_default(),
            u.plan.known,
            u.plan.pending.len(),
            u.backup
                .as_ref()
                .map(|b| format!("；升级前的数据库已备份到 {}", b.display()))
                .unwrap_or_default()
        );
    }
}
