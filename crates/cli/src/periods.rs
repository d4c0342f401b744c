//! The commands on offices and periods: `office add|list|rename`, `period list|open|publish|reopen`,
//! and the one way every command names a period (`--period KEY`, or `--year Y` narrowed by
//! `--office` and `--assessment`, which must then name exactly one). Glue only: the store decides.

use std::path::Path;

use anyhow::Context;
use clap::Args;
use lvzhi_store::{OpenTarget, PeriodInfo, Store};

use crate::config::{StoreArgs, anchor, cli_actor};
use crate::files::open_store;

/// How a command names its period.
#[derive(Args, Debug, Clone)]
pub struct PeriodArg {
    /// 考核年度（该年度只有一项考核时；否则加 --office、--assessment，或用 --period）
    #[arg(long, required_unless_present = "period")]
    pub year: Option<i64>,
    /// 考核期的键（lvzhi period list 可查，如 root.default.2022、qingshan.towns.2023.q1）
    #[arg(long, conflicts_with = "year")]
    pub period: Option<String>,
    /// 安委办代码（与 --year 一起用）
    #[arg(long, requires = "year")]
    pub office: Option<String>,
    /// 考核代码（与 --year 一起用）
    #[arg(long, requires = "year")]
    pub assessment: Option<String>,
}

impl PeriodArg {
    /// The period named, as the store finds it (the operator sees every office's periods).
    pub async fn find(&self, store: &Store) -> anyhow::Result<PeriodInfo> {
        let found = match (&self.period, self.year) {
            (Some(key), _) => store.find_period(key, None).await,
            (None, Some(year)) => {
                store
                    .find_period_in(
                        year,
                        self.office.as_deref(),
                        self.assessment.as_deref(),
                        None,
                    )
                    .await
            }
            (None, None) => anyhow::bail!("请用 --year 或 --period 指明考核期"),
        };
        found.map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// `lvzhi office add CODE --name NAME --parent PARENT [--level 县]`.
pub async fn office_add(
    store: &StoreArgs,
    code: &str,
    name: &str,
    parent: &str,
    level: &str,
) -> anyhow::Result<()> {
    let store = open_store(store).await?;
    let o = store
        .add_office(code, name, level, parent, &cli_actor())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("已新增安委办 {}（{}），上级 {}。", o.name, o.code, parent);
    Ok(())
}

/// `lvzhi office list [--json]`: every office, parents before children.
pub async fn office_list(store: &StoreArgs, json: bool) -> anyhow::Result<()> {
    let store = open_store(store).await?;
    let tree = store
        .office_tree()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&tree.offices)?);
        return Ok(());
    }
    println!("代码\t名称\t层级\t上级");
    for o in &tree.offices {
        println!(
            "{}\t{}\t{}\t{}",
            o.code,
            o.name,
            if o.level.is_empty() { "—" } else { &o.level },
            o.parent.as_deref().unwrap_or("—")
        );
    }
    Ok(())
}

/// `lvzhi office rename CODE --name NAME`.
pub async fn office_rename(store: &StoreArgs, code: &str, name: &str) -> anyhow::Result<()> {
    let store = open_store(store).await?;
    store
        .rename_office(code, name, &cli_actor())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("已将安委办 {code} 更名为 {}。", name.trim());
    Ok(())
}

/// `lvzhi period list [--json]`.
pub async fn period_list(store: &StoreArgs, json: bool) -> anyhow::Result<()> {
    let store = open_store(store).await?;
    let periods = store.periods().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&periods)?);
        return Ok(());
    }
    println!("键\t考核期\t状态\t细则\t申诉期\t决定期限\t细则哈希");
    for p in periods {
        println!(
            "{}\t{}\t{}\t{}\t{} 天\t{} 天\t{}",
            p.key,
            p.label(),
            p.status.label(),
            p.rubric_id,
            p.appeal_days,
            p.decision_days,
            &p.rubric_hash[..12]
        );
    }
    Ok(())
}

/// What `period open` is told.
pub struct OpenArgs<'a> {
    pub rubric: &'a Path,
    pub office: Option<String>,
    pub assessment: Option<String>,
    pub assessment_name: Option<String>,
    /// The period to carry the roster from: a key, or a year of the same office and assessment.
    pub carry_from: Option<String>,
    pub yes: bool,
}

/// `lvzhi period open RUBRIC [--office O] [--assessment A] [--carry-from KEY|Y] [--yes]`: the
/// roster changes first; `--yes` opens the year (and its parts).
pub async fn period_open(store: &StoreArgs, args: OpenArgs<'_>) -> anyhow::Result<()> {
    // A rubric shipped with the program by its name (`2022`), or a file.
    let text = match args.rubric.to_str().and_then(lvzhi_core::shipped_rubric) {
        Some(t) => t.to_owned(),
        None => std::fs::read_to_string(args.rubric)
            .with_context(|| format!("无法读取细则文件 {}", args.rubric.display()))?,
    };
    let store = open_store(store).await?;
    let target = OpenTarget {
        office: args.office.clone(),
        assessment: args.assessment.clone(),
        assessment_name: args.assessment_name.clone(),
    };
    let carry = match &args.carry_from {
        None => None,
        Some(raw) => Some(carry_source(&store, raw, &target).await?),
    };
    let plan = if args.yes {
        store
            .open_next_period(&text, &target, carry.as_ref().map(|p| p.id), &cli_actor())
            .await
    } else {
        store
            .plan_next_period(&text, &target, carry.as_ref().map(|p| p.id))
            .await
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{} {} 年度（键 {}，细则 {}），名册 {} 个单位{}",
        plan.assessment_name,
        plan.year,
        plan.key,
        plan.rubric_id,
        plan.units.len(),
        carry.map_or_else(String::new, |p| format!("，自{}结转", p.label()))
    );
    if !plan.parts.is_empty() {
        println!("  分期（{}）：{}", plan.parts.len(), plan.parts.join("、"));
    }
    let list = |label: &str, items: &[String]| {
        if !items.is_empty() {
            println!("  {label}（{}）：{}", items.len(), items.join("、"));
        }
    };
    list("新增单位", &plan.added);
    list("不再参评的单位", &plan.removed);
    list("类别变化", &plan.class_changes);
    list("沿用上年标签的单位", &plan.tags_carried);
    list("所属单位不再参评的账号", &plan.orphaned_accounts);
    if plan.created {
        println!("已创建 {} 年度考核（键 {}）。", plan.year, plan.key);
    } else {
        println!("以上为预览，尚未创建。核对无误后加 --yes 创建。");
    }
    Ok(())
}

/// The period `--carry-from` names: a key, or a year of the target's office and assessment.
async fn carry_source(store: &Store, raw: &str, target: &OpenTarget) -> anyhow::Result<PeriodInfo> {
    let found = match raw.trim().parse::<i64>() {
        Ok(year) => {
            store
                .find_period_in(
                    year,
                    Some(target.office.as_deref().unwrap_or(lvzhi_store::ROOT_OFFICE)),
                    Some(
                        target
                            .assessment
                            .as_deref()
                            .unwrap_or(lvzhi_store::DEFAULT_ASSESSMENT),
                    ),
                    None,
                )
                .await
        }
        Err(_) => store.find_period(raw, None).await,
    };
    found.map_err(|e| anyhow::anyhow!("结转名册的来源：{e}"))
}

/// `lvzhi period publish (--year Y | --period KEY) --reason R [--acknowledge]`. Returns false when
/// the check list refuses.
pub async fn period_publish(
    store: &StoreArgs,
    period: &PeriodArg,
    reason: &str,
    acknowledge: bool,
) -> anyhow::Result<bool> {
    let (cfg, opened) = store.open().await?;
    // Every publication is signed: the key pair is created here when this is the first thing done.
    let store = match opened.anchor() {
        Some(_) => opened,
        None => opened.with_anchor(anchor(&cfg, true, false)?),
    }
    .one_shot();
    let info = period.find(&store).await?;
    match store
        .publish(info.id, reason, acknowledge, &cli_actor())
        .await
    {
        Ok((p, changes, list)) => {
            println!("已发布{}第 {} 次结果。", info.label(), p.seq);
            println!("快照 SHA-256：{}", p.hash);
            if let Some(f) = &p.key_fingerprint {
                println!("{}：{f}", lvzhi_seal::KEY_FINGERPRINT_LABEL);
            }
            for line in list.lines() {
                println!("  已确认的例外：{line}");
            }
            for c in &changes {
                println!(
                    "  {}：{} → {}（排名 {} → {}）",
                    c.unit,
                    c.before_total.as_deref().unwrap_or("—"),
                    c.after_total.as_deref().unwrap_or("—"),
                    c.before_rank
                        .map_or_else(|| "—".to_owned(), |r| r.to_string()),
                    c.after_rank
                        .map_or_else(|| "—".to_owned(), |r| r.to_string()),
                );
            }
            Ok(true)
        }
        Err(lvzhi_store::StoreError::Conflict(m)) => {
            eprintln!("{m}");
            Ok(false)
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// `lvzhi period reopen (--year Y | --period KEY) --reason R`.
pub async fn period_reopen(
    store: &StoreArgs,
    period: &PeriodArg,
    reason: &str,
) -> anyhow::Result<()> {
    let store = open_store(store).await?;
    let info = period.find(&store).await?;
    store
        .reopen(info.id, reason, &cli_actor())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("已重新开放{}。", info.label());
    Ok(())
}
