//! Readable Chinese tables for the terminal: the results by class and the rubric tree.
//! Formatting only; every figure comes from the core's contract views.

use std::fmt::Write;

use lvzhi_core::Rubric;
use lvzhi_core::contract::{ResultsDoc, RubricDoc, RuleDoc};

/// Display width of a text: CJK and full-width characters count two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let c = c as u32;
            if (0x1100..=0x115F).contains(&c)
                || (0x2E80..=0xA4CF).contains(&c)
                || (0xAC00..=0xD7A3).contains(&c)
                || (0xF900..=0xFAFF).contains(&c)
                || (0xFE30..=0xFE4F).contains(&c)
                || (0xFF00..=0xFF60).contains(&c)
                || (0xFFE0..=0xFFE6).contains(&c)
                || (0x2_0000..=0x3_FFFD).contains(&c)
            {
                2
            } else {
                1
            }
        })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    let n = width(s);
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

fn rpad(s: &str, w: usize) -> String {
    let n = width(s);
    format!("{}{s}", " ".repeat(w.saturating_sub(n)))
}

/// The results, one table per class.
pub fn results(rubric: &Rubric, doc: &ResultsDoc) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}（{}）", doc.rubric.title, doc.rubric.id);
    let name_w = doc
        .results
        .iter()
        .map(|r| width(&r.unit))
        .max()
        .unwrap_or(4)
        .max(4);
    for class in &rubric.classes {
        let rows: Vec<_> = doc
            .results
            .iter()
            .filter(|r| r.class == class.code)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{}（{} 个单位，折算权重 {}）",
            class.name,
            rows.len(),
            class.weight
        );
        let mut head = format!("{}  {}", rpad("排名", 4), pad("单位", name_w));
        if let Some(first) = rows.first() {
            for c in &first.categories {
                let _ = write!(head, "  {}", rpad(&format!("{}({})", c.code, c.max), 7));
            }
        }
        let _ = writeln!(
            head,
            "  {}  {}  备注",
            rpad("监测得分", 8),
            rpad("折算得分", 8)
        );
        out.push_str(&head);
        for r in rows {
            let _ = write!(
                out,
                "{}  {}",
                rpad(&r.rank.to_string(), 4),
                pad(&r.unit, name_w)
            );
            for c in &r.categories {
                let _ = write!(out, "  {}", rpad(&c.score, 7));
            }
            let mut notes = Vec::new();
            if r.veto {
                notes.push("一票否决".to_owned());
            }
            if r.lowest_grade {
                notes.push("年度综合考核按最低等次".to_owned());
            }
            if !r.incomplete.is_empty() {
                notes.push(format!("数据不全：{}", r.incomplete.join("、")));
            }
            let _ = writeln!(
                out,
                "  {}  {}  {}",
                rpad(&r.total, 8),
                rpad(&r.converted, 8),
                notes.join("；")
            );
        }
    }
    out
}

fn rule_line(out: &mut String, indent: &str, r: &RuleDoc) {
    let numbers = match r.kind {
        "range" => format!(
            "扣 {}-{} 分",
            r.min.as_deref().unwrap_or(""),
            r.max.as_deref().unwrap_or("")
        ),
        "assessed" => format!("督导组打分，满分 {}", r.max.as_deref().unwrap_or("")),
        "veto" => "一票否决".to_owned(),
        "lowest_grade" => "年度综合考核按最低等次".to_owned(),
        "graded" => format!(
            "分档：{}",
            r.levels
                .iter()
                .flatten()
                .map(|l| format!("{} 分（{}）", l.points, l.text))
                .collect::<Vec<_>>()
                .join("、")
        ),
        "per_count" => format!("每次扣 {} 分", r.points.as_deref().unwrap_or("")),
        _ => format!("扣 {} 分", r.points.as_deref().unwrap_or("")),
    };
    let mut extra = Vec::new();
    if let Some(m) = r.max_count {
        extra.push(format!("全年至多 {m} 次"));
    }
    if let Some(t) = &r.applies_to {
        extra.push(format!("仅适用于「{t}」"));
    }
    if !r.excludes.is_empty() {
        extra.push(format!("与 {} 互斥", r.excludes.join("、")));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("（{}）", extra.join("；"))
    };
    let _ = writeln!(out, "{indent}{}  {}  [{numbers}]{extra}", r.code, r.text);
}

/// The rubric as an indented tree.
pub fn rubric(doc: &RubricDoc) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}（{}，{} 年，总分 {}）",
        doc.title, doc.id, doc.year, doc.total
    );
    let classes: Vec<String> = doc
        .classes
        .iter()
        .map(|c| format!("{} 权重 {}", c.name, c.weight))
        .collect();
    let _ = writeln!(
        out,
        "折算：监测得分 × 权重 ÷ {}，保留 {} 位小数，四舍五入；{}",
        doc.conversion.divisor,
        doc.conversion.decimals,
        classes.join("，")
    );
    for c in &doc.categories {
        let _ = writeln!(out, "\n{} {}（{} 分）", c.code, c.name, c.max);
        for s in &c.sections {
            let _ = writeln!(out, "  {} {}（{} 分）", s.code, s.name, s.max);
            for r in &s.rules {
                rule_line(&mut out, "    ", r);
            }
        }
        for r in &c.rules {
            rule_line(&mut out, "  ", r);
        }
    }
    let _ = writeln!(out, "\n名册：{} 个单位", doc.units.len());
    out
}
