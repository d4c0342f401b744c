//! `lvzhi-gen`: writes a generated assessment year (units, records, assessments, metrics CSV) into a
//! folder. Used for `examples/2022/` and for the province-scale benchmark; see BENCHMARKS.md.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use lvzhi_core::Rubric;
use lvzhi_devtools::{Plan, roster, write_year};

#[derive(Parser)]
#[command(about = "生成演示或压测用的年度数据（确定性，同一种子结果相同）")]
struct Args {
    /// 输出目录
    #[arg(long)]
    out: PathBuf,
    /// 城市数（每市 41 个成员单位）
    #[arg(long, default_value_t = 1)]
    cities: usize,
    /// 每个单位的记录数
    #[arg(long, default_value_t = 73)]
    records_per_unit: u32,
    #[arg(long, default_value_t = 2022)]
    seed: u64,
    /// 一票否决单位的千分比
    #[arg(long, default_value_t = 10)]
    veto_per_mille: u64,
    /// 缺督导组打分、缺指标单位的千分比
    #[arg(long, default_value_t = 30)]
    missing_per_mille: u64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let rubric = Rubric::from_toml(lvzhi_core::RUBRIC_2022).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let units = roster(&rubric, a.cities);
    let f = |n: &str| -> anyhow::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            1 << 20,
            File::create(a.out.join(n))?,
        ))
    };
    let plan = Plan {
        seed: a.seed,
        records_per_unit: a.records_per_unit,
        veto_per_mille: a.veto_per_mille,
        missing_per_mille: a.missing_per_mille,
    };
    let n = write_year(
        &rubric,
        &units,
        &plan,
        f("units.csv")?,
        f("records.csv")?,
        f("assessments.csv")?,
        f("metrics.csv")?,
    )?;
    eprintln!("{} 个单位，{} 条记录 → {}", units.len(), n, a.out.display());
    Ok(())
}
