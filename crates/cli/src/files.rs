//! Imports and exports from the command line: `import`, `export`, `template`, through the exchange
//! crate. Glue only: files are read and written here, checked and stored there.

use std::path::Path;

use anyhow::{Context, bail};
use lvzhi_store::Store;

use crate::config::{StoreArgs, cli_actor};

/// Opens the store as `serve` does: the shipped 2022 period exists afterwards.
/// The store for one command of the command line (writes keep no period state in memory).
pub(crate) async fn open_store(store: &StoreArgs) -> anyhow::Result<Store> {
    Ok(store.open().await?.1.one_shot())
}

/// Writes `bytes` to a new file (never over an existing one).
pub(crate) fn write_new(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| format!("无法创建 {}（文件已存在？）", out.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("无法写入 {}", out.display()))?;
    Ok(())
}

/// `lvzhi import TABLE FILE --year Y [--dry-run]`: all or nothing; every bad row listed.
pub async fn import(
    store: &StoreArgs,
    table: &str,
    file: &Path,
    period: &crate::periods::PeriodArg,
    dry_run: bool,
    errors_out: Option<&Path>,
    duplicates: &str,
) -> anyhow::Result<bool> {
    let Some(duplicates) = lvzhi_store::Duplicates::parse(duplicates) else {
        bail!("--duplicates 只能是 skip（跳过疑似重复的行）或 import（仍然导入）");
    };
    let Some(t) = lvzhi_exchange::table_of(table) else {
        bail!("不能导入「{table}」，可选 records、assessments、metrics、units");
    };
    // Three stages on a bar (hidden when stderr is not a terminal).
    let bar = indicatif::ProgressBar::new(3);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:20}] {pos}/{len} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let label = file.display().to_string();
    bar.set_message(format!("读取 {label}"));
    let bytes = std::fs::read(file).with_context(|| format!("无法打开 {}", file.display()))?;
    let mut parsed = match lvzhi_exchange::parse(bytes, &label, t) {
        Ok(p) => p,
        Err(e) => {
            bar.finish_and_clear();
            eprintln!("{}", lvzhi_exchange::ImportError::Input(e));
            return Ok(false);
        }
    };
    bar.inc(1);
    bar.set_message(format!("检查 {} 行", parsed.rows.len()));
    let store = open_store(store).await?;
    let info = period.find(&store).await?;
    let year = info.id;
    bar.inc(1);
    bar.set_message(
        if dry_run {
            "检查中"
        } else {
            "检查并写入数据库"
        }
        .to_owned(),
    );
    let outcome = parsed
        .import(&store, year, &cli_actor(), dry_run, duplicates)
        .await;
    bar.inc(1);
    bar.finish_and_clear();
    eprintln!("已读取 {} 行。", parsed.rows.len());
    let say_duplicates = |d: &[lvzhi_store::Duplicate]| {
        for x in d.iter().take(50) {
            eprintln!(
                "{label} 第 {} 行：与已有记录 {} 的单位、条款、日期、数量或分值、依据相同",
                parsed.line_of(x.index),
                x.existing
                    .iter()
                    .map(|i| format!("#{i}"))
                    .collect::<Vec<_>>()
                    .join("、")
            );
        }
        if d.len() > 50 {
            eprintln!("……另有 {} 行未列出", d.len() - 50);
        }
    };
    match outcome {
        Ok(o) if dry_run => {
            say_duplicates(&o.duplicates);
            println!(
                "检查通过：{} 行均可导入{}（未导入，去掉 --dry-run 后导入）。",
                o.checked,
                if o.duplicates.is_empty() {
                    String::new()
                } else {
                    format!(
                        "，其中 {} 行疑似重复（导入时用 --duplicates skip 跳过，或 --duplicates import 仍然导入）",
                        o.duplicates.len()
                    )
                }
            );
            Ok(true)
        }
        Ok(o) => {
            println!(
                "已导入 {} 行（{}）{}，并记入审计日志。",
                o.imported,
                info.label(),
                if o.skipped > 0 {
                    format!("，跳过疑似重复的 {} 行", o.skipped)
                } else {
                    String::new()
                }
            );
            Ok(true)
        }
        Err(lvzhi_exchange::ImportError::Store(lvzhi_store::StoreError::Duplicates(d))) => {
            say_duplicates(&d);
            eprintln!(
                "{}（命令行：--duplicates skip 或 --duplicates import）。未导入任何数据。",
                lvzhi_store::StoreError::Duplicates(d.clone())
            );
            Ok(false)
        }
        Err(lvzhi_exchange::ImportError::Input(e)) => {
            eprintln!("{}", lvzhi_exchange::ImportError::Input(e.clone()));
            if let Some(out) = errors_out {
                let bytes = parsed.annotated(&e).map_err(|x| anyhow::anyhow!("{x}"))?;
                write_new(out, &bytes)?;
                eprintln!("已写出标注了错误的工作簿：{}", out.display());
            }
            Ok(false)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(false)
        }
    }
}

/// `lvzhi export WHAT --year Y --format xlsx --out FILE`.
pub async fn export(
    store: &StoreArgs,
    what: &str,
    period: &crate::periods::PeriodArg,
    format: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let Some(w) = lvzhi_exchange::Export::parse(what) else {
        bail!("没有「{what}」这种导出，可选 results、ledger、sheets、report");
    };
    let Some(f) = lvzhi_exchange::Format::parse(format).filter(|f| w.formats().contains(f)) else {
        bail!(
            "「{what}」没有「{format}」格式：results、ledger、sheets 为 xlsx，report 为 docx 或 pdf"
        );
    };
    let store = open_store(store).await?;
    let info = period.find(&store).await?;
    let year = info.id;
    let bytes = lvzhi_exchange::export(&store, year, w, f)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_new(out, &bytes)?;
    println!(
        "已导出 {}（{} KB）",
        out.display(),
        bytes.len().div_ceil(1024)
    );
    Ok(())
}

/// `lvzhi template TABLE --year Y --out FILE`.
pub async fn template(
    store: &StoreArgs,
    table: &str,
    period: &crate::periods::PeriodArg,
    out: &Path,
) -> anyhow::Result<()> {
    let Some(t) = lvzhi_exchange::table_of(table) else {
        bail!("没有「{table}」模板，可选 records、assessments、metrics、units");
    };
    let store = open_store(store).await?;
    let info = period.find(&store).await?;
    let year = info.id;
    let bytes = lvzhi_exchange::template(&store, year, t)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_new(out, &bytes)?;
    println!("已生成模板 {}", out.display());
    Ok(())
}
