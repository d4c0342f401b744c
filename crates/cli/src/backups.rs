//! Backups an office can trust: `lvzhi backup verify FILE` opens a copy of the file (never the file
//! itself), checks that it is a database of this system, and runs the whole audit check on it (the
//! chain, and every table — records, appeals, attachments, publications with their hashes,
//! accounts — against the trail); a backup is verified right after it is written, and a restore is
//! refused before anything is touched when its file does not verify. `serve` takes a backup every
//! day at the configured Beijing time (`backup_at`), verifies it, keeps the newest `backup_keep`;
//! a backup that fails is logged as an error and the service goes on. It must not change a backup.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use lvzhi_store::{BackupOutcome, Store};

use crate::config::StoreArgs;

/// A SQLite database file starts with these bytes; a `pg_dump` custom-format archive with `PGDMP`.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

/// `lvzhi backup verify FILE`: whether the backup holds, its findings printed.
pub async fn verify(file: &Path) -> anyhow::Result<bool> {
    let head = read_head(file)?;
    if head.starts_with(PG_DUMP_MAGIC) {
        return verify_pg_dump(file).await;
    }
    if !head.starts_with(SQLITE_MAGIC) {
        bail!(
            "{} 不是本系统的备份：既不是 SQLite 数据库，也不是 pg_dump 的自定义格式",
            file.display()
        );
    }
    let dir = tempfile::tempdir().context("无法创建核验用的临时目录")?;
    std::fs::copy(file, dir.path().join("lvzhi.db"))
        .with_context(|| format!("无法读取 {}", file.display()))?;
    let url = Store::sqlite_url(dir.path());
    let plan = Store::migration_plan(&url)
        .await
        .map_err(|e| anyhow::anyhow!("{} 无法打开：{e}", file.display()))?;
    if plan.applied.is_none() {
        bail!(
            "{} 不是本系统的备份：其中没有本系统的数据库",
            file.display()
        );
    }
    if let Some(why) = plan.refusal() {
        bail!("{}：{why}", file.display());
    }
    let store = Store::open(&url)
        .await
        .map_err(|e| anyhow::anyhow!("{} 无法打开：{e}", file.display()))?;
    let report = store
        .audit_report(&[], true)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for line in report.lines() {
        println!("{line}");
    }
    if report.is_sound() {
        println!(
            "备份核验通过：{}（数据库版本 {}），审计链完整（{} 条），各表（含发布快照的哈希）与审计链相符。",
            file.display(),
            plan.applied.unwrap_or_default(),
            report.chain.entries
        );
    } else {
        println!("备份核验未通过：{}", file.display());
    }
    Ok(report.is_sound())
}

/// A `pg_dump` archive: its table of contents read by `pg_restore --list` (the tables themselves
/// are checked after a restore, with `lvzhi audit verify`).
async fn verify_pg_dump(file: &Path) -> anyhow::Result<bool> {
    let out = tokio::process::Command::new("pg_restore")
        .arg("--list")
        .arg(file)
        .output()
        .await
        .context("无法运行 pg_restore（请安装 PostgreSQL 客户端）")?;
    let toc = String::from_utf8_lossy(&out.stdout);
    let ours = [
        "TABLE public audit",
        "TABLE public records",
        "TABLE public periods",
    ]
    .iter()
    .all(|t| toc.lines().any(|l| l.contains(t)));
    if !out.status.success() || !ours {
        bail!(
            "{} 不是本系统的 PostgreSQL 备份（pg_restore 读不出本系统的表）",
            file.display()
        );
    }
    println!(
        "PostgreSQL 备份（pg_dump 自定义格式）的目录完整：{}。表的内容请恢复到一个数据库后用 lvzhi audit verify 核验。",
        file.display()
    );
    Ok(true)
}

fn read_head(file: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(file)
        .with_context(|| format!("无法读取 {}", file.display()))?
        .take(16)
        .read_to_end(&mut head)
        .with_context(|| format!("无法读取 {}", file.display()))?;
    Ok(head)
}

/// Writes a backup of the store to `out` (never over an existing file): SQLite by `VACUUM INTO`,
/// PostgreSQL by `pg_dump` in its custom format.
pub async fn write(store: &Store, database_url: &str, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        bail!("{} 已存在，备份不会覆盖已有文件", out.display());
    }
    let written = if database_url.starts_with("sqlite:") {
        store.backup_sqlite(out).await.map_err(|e| e.to_string())
    } else {
        pg_dump(database_url, out).await
    };
    let Err(why) = written else {
        return Ok(());
    };
    // Nothing half written is left to be taken for a backup (the file did not exist before).
    let _ = std::fs::remove_file(out);
    let full = ["disk is full", "No space left", "空间不足"]
        .iter()
        .any(|p| why.contains(p));
    if full {
        bail!(
            "备份失败：{} 所在的磁盘空间不足（未留下不完整的备份文件）。请清理该磁盘或在配置项 backup_dir 中换一个目录。（{why}）",
            out.parent().unwrap_or(out).display()
        );
    }
    bail!("备份失败：{why}")
}

/// A `pg_dump` custom-format archive of the database into `out`; the error is its own words.
async fn pg_dump(database_url: &str, out: &Path) -> Result<(), String> {
    let done = tokio::process::Command::new("pg_dump")
        .arg("--format=custom")
        .arg(format!("--file={}", out.display()))
        .arg(database_url)
        .output()
        .await
        .map_err(|e| format!("无法运行 pg_dump（请安装 PostgreSQL 客户端）：{e}"))?;
    if done.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&done.stderr);
    Err(format!(
        "pg_dump 失败（{}）：{}",
        done.status,
        said.trim().lines().last().unwrap_or_default()
    ))
}

/// A daily backup: when (Beijing time), where, and how many are kept.
pub struct Schedule {
    at: (u8, u8),
    pub dir: PathBuf,
    pub keep: usize,
}

impl Schedule {
    /// The schedule the configuration file sets, if any; a time that is not `HH:MM` is refused
    /// naming the key.
    pub fn of(cfg: &crate::config::Config) -> anyhow::Result<Option<Schedule>> {
        let Some(at) = cfg.file.backup_at.as_deref() else {
            return Ok(None);
        };
        let parsed = at.trim().split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
            (h < 24 && m < 60).then_some((h, m))
        });
        let Some(at) = parsed else {
            bail!("配置项 backup_at 应为北京时间“时:分”，如 \"02:30\"，而不是「{at}」");
        };
        let keep = cfg.file.backup_keep.unwrap_or(7);
        if keep == 0 {
            bail!("配置项 backup_keep 至少为 1");
        }
        Ok(Some(Schedule {
            at,
            dir: cfg
                .file
                .backup_dir
                .clone()
                .unwrap_or_else(|| cfg.data.join("backups")),
            keep,
        }))
    }

    pub fn at_text(&self) -> String {
        format!("{:02}:{:02}", self.at.0, self.at.1)
    }

    /// Runs the schedule for as long as the service runs.
    pub fn spawn(self, store: Store, database_url: String) {
        if let Some(at) = self.newest() {
            store.note_backup(BackupOutcome::Found(at));
        }
        tokio::spawn(async move {
            loop {
                let wait = lvzhi_store::clock::until_beijing(&store.now(), self.at.0, self.at.1);
                tokio::time::sleep(wait).await;
                // Said in the log and at /metrics; the service goes on either way.
                let _ = self.run_noted(&store, &database_url).await;
            }
        });
    }

    /// One scheduled backup, its outcome logged and noted for `/metrics`.
    pub async fn run_noted(&self, store: &Store, database_url: &str) -> anyhow::Result<PathBuf> {
        let done = self.run_once(store, database_url).await;
        match &done {
            Ok(out) => {
                store.note_backup(BackupOutcome::Written);
                tracing::info!(file = %out.display(), "定时备份完成并已核验");
            }
            Err(e) => {
                store.note_backup(BackupOutcome::Failed);
                tracing::error!("定时备份失败（服务照常运行）：{e:#}");
            }
        }
        done
    }

    /// When the newest scheduled backup in the folder was written (its file's time), if any.
    fn newest(&self) -> Option<String> {
        self.ours()
            .filter_map(|p| std::fs::metadata(p).ok()?.modified().ok())
            .max()
            .map(lvzhi_store::clock::of_system_time)
    }

    /// The scheduled backups in the folder (by their names).
    fn ours(&self) -> impl Iterator<Item = PathBuf> {
        std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let named = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("lvzhi-"));
                let kind = p.extension().and_then(|e| e.to_str());
                named && matches!(kind, Some("db" | "dump"))
            })
    }

    /// One scheduled backup: written into the folder under a name of its time, verified, and
    /// the oldest beyond `keep` removed.
    pub async fn run_once(&self, store: &Store, database_url: &str) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("无法创建备份目录 {}", self.dir.display()))?;
        let stamp = lvzhi_store::clock::file_stamp(&store.now());
        let ext = if database_url.starts_with("sqlite:") {
            "db"
        } else {
            "dump"
        };
        let mut out = self.dir.join(format!("lvzhi-{stamp}.{ext}"));
        let mut n = 1;
        while out.exists() {
            n += 1;
            out = self.dir.join(format!("lvzhi-{stamp}-{n}.{ext}"));
        }
        write(store, database_url, &out).await?;
        if !verify(&out).await? {
            bail!("{} 写出后未通过核验", out.display());
        }
        let mut ours: Vec<PathBuf> = self.ours().collect();
        // Oldest first: by the time each was written, then by name.
        ours.sort_by_key(|p| (p.metadata().and_then(|m| m.modified()).ok(), p.clone()));
        let extra = ours.len().saturating_sub(self.keep);
        for old in &ours[..extra] {
            std::fs::remove_file(old)
                .with_context(|| format!("无法删除旧备份 {}", old.display()))?;
        }
        Ok(out)
    }
}

pub async fn backup(store: &StoreArgs, out: &Path) -> anyhow::Result<bool> {
    let (cfg, store) = store.open().await?;
    crate::backups::write(&store, &cfg.database_url, out).await?;
    println!("已备份到 {}", out.display());
    // Verified right after it is written: a backup nobody can restore is no backup.
    crate::backups::verify(out).await
}

/// Restores a SQLite backup into the data folder (never over an existing database unless `force`,
/// which keeps the old one beside it), then checks the audit chain of what was restored.
pub async fn restore(args: &StoreArgs, file: &Path, force: bool) -> anyhow::Result<()> {
    let cfg = args.resolve(None)?;
    if !cfg.database_url.starts_with("sqlite:") {
        bail!(
            "PostgreSQL 请用 pg_restore 恢复：pg_restore --clean --dbname=URL {}",
            file.display()
        );
    }
    // The file is checked before anything is touched: a file that is not a sound backup of this
    // system leaves the data folder as it was.
    if !crate::backups::verify(file).await? {
        bail!("{} 未通过核验，未做任何修改", file.display());
    }
    let target = cfg.data.join("lvzhi.db");
    if target.exists() {
        if !force {
            bail!(
                "{} 已有数据库；确认要替换请加 --force（原库会保留为 lvzhi.db.before-restore）",
                cfg.data.display()
            );
        }
        let keep = cfg.data.join("lvzhi.db.before-restore");
        std::fs::rename(&target, &keep)?;
        for ext in ["-wal", "-shm"] {
            let side = cfg.data.join(format!("lvzhi.db{ext}"));
            if side.exists() {
                std::fs::rename(
                    &side,
                    cfg.data.join(format!("lvzhi.db.before-restore{ext}")),
                )?;
            }
        }
    }
    std::fs::copy(file, &target).with_context(|| format!("无法复制 {}", file.display()))?;
    let (cfg, store) = args.open().await?;
    let v = store
        .verify_audit()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((id, why)) = v.first_bad {
        bail!("已恢复，但审计链在 #{id} 处被破坏：{why}");
    }
    println!(
        "已从 {} 恢复；审计链完整（{} 条）",
        file.display(),
        v.entries
    );
    // The restored trail replaces the one earlier checkpoints describe: a signed marker says so,
    // and `audit verify` compares the trail with the checkpoints from here on.
    if lvzhi_store::Seal::exists(&cfg.key_dir) {
        let cp = store
            .checkpoint(lvzhi_store::CheckpointReason::Restore)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "已写入恢复备份的检查点（第 {} 条）：此前的检查点描述的是被替换的数据，不再用于核对。",
            cp.entry
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Schedule;

    #[tokio::test]
    async fn a_scheduled_backup_is_written_verified_and_the_oldest_go() {
        let data = tempfile::tempdir().expect("tmp");
        let url = lvzhi_store::Store::sqlite_url(data.path());
        let store = lvzhi_store::Store::open(&url).await.expect("store");
        store
            .ensure_period(
                lvzhi_core::RUBRIC_2022,
                &lvzhi_store::Actor::new("system", "cli"),
            )
            .await
            .expect("a period");
        let plan = Schedule {
            at: (2, 30),
            dir: data.path().join("backups"),
            keep: 2,
        };
        let mut written = Vec::new();
        for _ in 0..3 {
            written.push(plan.run_once(&store, &url).await.expect("a backup"));
        }
        let left: Vec<_> = std::fs::read_dir(&plan.dir)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(!written[0].exists(), "the oldest went");
        assert!(written[1].exists() && written[2].exists());
        // A folder that cannot be written: the backup fails, saying where.
        let blocked = Schedule {
            at: (2, 30),
            dir: data.path().join("lvzhi.db").join("backups"),
            keep: 2,
        };
        let e = blocked
            .run_once(&store, &url)
            .await
            .expect_err("not a folder");
        assert!(format!("{e:#}").contains("备份目录"), "{e:#}");
    }

    /// A backup folder on a full disk (a 16 KiB tmpfs, mounted as root): the backup fails saying
    /// so, leaves no half-written file, is noted for `/metrics`, and the store goes on writing.
    #[tokio::test]
    async fn a_full_backup_folder_fails_loudly_and_the_service_goes_on() {
        let data = tempfile::tempdir().expect("tmp");
        let full = data.path().join("backups");
        std::fs::create_dir_all(&full).expect("dir");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
            .arg(&full)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!(
                "*** WARNING: could not mount a small tmpfs (needs root): the full-disk backup was NOT tried. ***"
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: the full-disk backup test needs root (mount)"
            );
            return;
        }
        let unmount = Unmount(full.clone());
        let url = lvzhi_store::Store::sqlite_url(data.path());
        let store = lvzhi_store::Store::open(&url).await.expect("store");
        let actor = lvzhi_store::Actor::new("system", "cli");
        store
            .ensure_period(lvzhi_core::RUBRIC_2022, &actor)
            .await
            .expect("a period");
        let plan = Schedule {
            at: (2, 30),
            dir: full.clone(),
            keep: 2,
        };
        let e = plan
            .run_noted(&store, &url)
            .await
            .expect_err("the disk is full");
        assert!(format!("{e:#}").contains("磁盘空间不足"), "{e:#}");
        let left: Vec<_> = std::fs::read_dir(&full).expect("dir").collect();
        assert!(left.is_empty(), "a half-written backup was left: {left:?}");
        let seen = store.activity();
        assert!(seen.backup_failing && seen.backup_failures == 1, "{seen:?}");
        assert_eq!(seen.backup_age_seconds, None);
        // The service goes on: a write still commits.
        let writes = seen.writes;
        store
            .create_user(
                "after-full-disk",
                lvzhi_store::Role::Leader,
                None,
                None,
                "Pass-Word-2022!",
                true,
                &actor,
            )
            .await
            .expect("a write after the failed backup");
        assert!(store.activity().writes > writes);
        drop(unmount);
        // Room again: the next backup is written and the failure cleared.
        plan.run_noted(&store, &url).await.expect("a backup");
        let seen = store.activity();
        assert!(
            !seen.backup_failing && seen.backup_failures == 1,
            "{seen:?}"
        );
        assert!(
            seen.backup_age_seconds
                .is_some_and(|a| (0.0..60.0).contains(&a))
        );
    }

    /// Unmounts the tmpfs however the test ends.
    struct Unmount(std::path::PathBuf);

    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
}
