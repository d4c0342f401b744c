//! Backups an office can trust: `lvzhi backup verify FILE` opens a copy of the file (never the file
//! itself), checks that it is a database of this system, and runs the whole audit check on it (the
//! chain, and every table — records, appeals, attachments, publications with their hashes,
//! accounts — against the trail); a backup is verified right after it is written, and a restore is
//! refused before anything is touched when its file does not verify. It must not change a backup.

use std::path::Path;

use anyhow::{Context as _, bail};
use lvzhi_store::Store;

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
