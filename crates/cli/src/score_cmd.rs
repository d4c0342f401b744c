//! `lvzhi score` and `lvzhi rubric …`: load the rubric, stream the CSV files through the office
//! readers into a ledger, score, print. Output is built in full before anything is written, so a
//! refused input leaves stdout empty.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use lvzhi_core::contract::{ResultsDoc, RubricDoc};
use lvzhi_core::{LedgerBuilder, Roster, Rubric, score, shipped_rubric};
use lvzhi_office::{
    InputErrors, InputFile, read_assessments, read_metrics, read_records, read_records_file,
    read_units,
};

use crate::{Refusal, table};

#[derive(Args)]
pub struct ScoreArgs {
    /// 细则：内置年度（如 2022）或 TOML 文件路径
    #[arg(long, default_value = "2022")]
    rubric: String,
    /// 名册 CSV（name,class,tags）；缺省时使用细则自带名册
    #[arg(long)]
    units: Option<PathBuf>,
    /// 扣分记录 CSV（unit,rule,count,points,date,source,note）
    #[arg(long)]
    records: PathBuf,
    /// 督导组打分 CSV（unit,rule,assessor,score）
    #[arg(long)]
    assessments: Option<PathBuf>,
    /// 指标数据 CSV（unit,metric,value）
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// 只计一期（细则分期考核时，如 q2）：记录须在该期的日期之内
    #[arg(long)]
    part: Option<String>,
    /// 以 JSON 输出
    #[arg(long)]
    json: bool,
}

/// Loads a shipped rubric by year, or a rubric file.
pub fn load_rubric(which: &str) -> Result<Rubric, Refusal> {
    let (text, label) = if let Some(t) = shipped_rubric(which) {
        (t.to_owned(), format!("内置细则 {which}"))
    } else {
        let text = std::fs::read_to_string(which)
            .with_context(|| format!("无法读取细则文件 {which}（内置细则只有：2022）"))?;
        (text, which.to_owned())
    };
    Rubric::from_toml(&text).map_err(|errs| {
        let lines: Vec<String> = errs.0.iter().map(|e| format!("{label} {e}")).collect();
        Refusal::input(format!(
            "{}\n细则有 {} 处错误，未输出任何结果。",
            lines.join("\n"),
            errs.0.len()
        ))
    })
}

fn open(path: &Path) -> Result<File, Refusal> {
    File::open(path)
        .with_context(|| format!("无法打开文件 {}", path.display()))
        .map_err(Refusal::from)
}

fn label(path: &Path) -> String {
    path.display().to_string()
}

fn refuse(errs: &InputErrors) -> Refusal {
    Refusal::input(errs.to_string())
}

pub fn run(args: &ScoreArgs) -> Result<String, Refusal> {
    let rubric = load_rubric(&args.rubric)?;
    if let Some(why) = rubric.pending_review() {
        return Err(Refusal::input(why));
    }
    // One part of a year assessed by parts: the same rules, records within the part's days.
    let rubric = match &args.part {
        None => rubric,
        Some(code) => rubric.for_part(code).ok_or_else(|| {
            let known: Vec<String> = rubric
                .parts
                .iter()
                .map(|p| format!("{}（{}）", p.code, p.name))
                .collect();
            Refusal::input(if known.is_empty() {
                format!("细则「{}」不分期，没有「{code}」这一期", rubric.title)
            } else {
                format!("细则中没有「{code}」这一期，可选：{}", known.join("、"))
            })
        })?,
    };
    // Open every file before reading any, so a missing file is reported without work.
    open(&args.records)?;
    for p in [&args.units, &args.assessments, &args.metrics]
        .into_iter()
        .flatten()
    {
        open(p)?;
    }
    // A workbook (by content) is read as its first visible sheet; messages name its rows.
    let input = |p: &Path| InputFile::open(p, &label(p)).map_err(|e| refuse(&e));
    let roster = match &args.units {
        None => Roster::from_rubric(&rubric),
        Some(p) => {
            let f = input(p)?;
            read_units(&rubric, f.source(), &label(p)).map_err(|e| refuse(&f.relabel(e)))?
        }
    };
    let mut b = LedgerBuilder::new(&rubric, roster);
    let records = input(&args.records)?;
    let mut errs = match &records {
        InputFile::Csv(p) => read_records_file(&mut b, p, &label(&args.records)),
        InputFile::Sheet(_) => records.relabel(read_records(
            &mut b,
            records.source(),
            &label(&args.records),
        )),
    };
    if let Some(p) = &args.assessments {
        let f = input(p)?;
        errs.extend(f.relabel(read_assessments(&mut b, f.source(), &label(p))));
    }
    if let Some(p) = &args.metrics {
        let f = input(p)?;
        errs.extend(f.relabel(read_metrics(&mut b, f.source(), &label(p))));
    }
    if !errs.is_empty() {
        return Err(refuse(&errs));
    }
    let ledger = b.finish();
    let sheets = score(&rubric, &ledger).map_err(|e| Refusal::input(e.to_string()))?;
    let doc = ResultsDoc::new(&rubric, &sheets);
    if args.json {
        let mut s = serde_json::to_string_pretty(&doc).map_err(anyhow::Error::from)?;
        s.push('\n');
        Ok(s)
    } else {
        Ok(table::results(&rubric, &doc))
    }
}

pub fn rubric_check(file: &Path) -> Result<String, Refusal> {
    let r = load_rubric(&file.display().to_string())?;
    if r.pending_review().is_some() {
        let label = file.display();
        return Err(Refusal::input(format!(
            "{}\n{label}：细则草稿尚有 {} 项待人工确认，不能使用。",
            r.review
                .iter()
                .map(|e| format!("{label} {e}"))
                .collect::<Vec<_>>()
                .join("\n"),
            r.review.len()
        )));
    }
    let rules = r.rules.len();
    Ok(format!(
        "细则检查通过：{}（{}，{} 年），{} 个方面，{} 个节，{} 条条款，名册 {} 个单位，总分 {}。\n",
        r.title,
        r.id,
        r.year,
        r.categories.len(),
        r.sections.len(),
        rules,
        r.roster.len(),
        r.total
    ))
}

pub fn rubric_show(which: &str, json: bool) -> Result<String, Refusal> {
    let r = load_rubric(which)?;
    let doc = RubricDoc::new(&r);
    if json {
        let mut s = serde_json::to_string_pretty(&doc).map_err(anyhow::Error::from)?;
        s.push('\n');
        Ok(s)
    } else {
        Ok(table::rubric(&r))
    }
}

/// `lvzhi rubric import FILE`: the draft rubric on stdout, a summary on stderr.
pub fn rubric_import(file: &Path) -> Result<String, Refusal> {
    let bytes =
        std::fs::read(file).with_context(|| format!("无法读取细则文件 {}", file.display()))?;
    let doc = lvzhi_draft::read_document(&bytes)
        .map_err(|e| Refusal::input(format!("{}：{e}", file.display())))?;
    let draft = lvzhi_draft::draft(&doc);
    let toml = draft.to_toml();
    let rules = draft.rules().len();
    match Rubric::from_toml(&toml) {
        Ok(_) => eprintln!(
            "已生成草稿：{} 个方面，{rules} 条规则；待人工确认 {} 项（见 review 键与 [[unclassified]]）。\n\
             核对后删除 review 键，再用 `lvzhi rubric check` 检查。",
            draft.categories.len(),
            draft.pending()
        ),
        Err(e) => eprintln!("已生成草稿：{rules} 条规则，但草稿本身有问题，须先修改：\n{e}"),
    }
    Ok(toml)
}

/// `lvzhi rubric diff FROM TO [--json]`.
pub fn rubric_diff(from: &str, to: &str, json: bool) -> Result<String, Refusal> {
    let (a, b) = (load_rubric(from)?, load_rubric(to)?);
    let d = lvzhi_core::contract::RubricDiff::new(&a, &b);
    if json {
        let mut s = serde_json::to_string_pretty(&d).map_err(anyhow::Error::from)?;
        s.push('\n');
        Ok(s)
    } else {
        Ok(d.text())
    }
}
