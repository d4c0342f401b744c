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
        let graded = !rubric.grades.is_empty();
        let _ = writeln!(
            head,
            "  {}  {}{}  备注",
            rpad("监测得分", 8),
            rpad("折算得分", 8),
            if graded { "  等次  " } else { "" }
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
            if r.lowest_grade && !graded {
                notes.push("年度综合考核按最低等次".to_owned());
            }
            if !r.incomplete.is_empty() {
                notes.push(format!("数据不全：{}", r.incomplete.join("、")));
            }
            let grade = r
                .grade
                .as_deref()
                .map_or_else(String::new, |g| format!("  {}", pad(g, 6)));
            let _ = writeln!(
                out,
                "  {}  {}{grade}  {}",
                rpad(&r.total, 8),
                rpad(&r.converted, 8),
                notes.join("；")
            );
        }
    }
    out
}

fn rule_line(out: &mut String, indent: &str, rubric: &Rubric, r: &RuleDoc) {
    // The terms as the core words them (扣, 得 or 加 by the category).
    let terms = rubric
        .rule_by_code(&r.code)
        .map(|i| rubric.terms(i))
        .unwrap_or_default();
    let mut extra = Vec::new();
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
    let _ = writeln!(out, "{indent}{}  {}  [{terms}]{extra}", r.code, r.text);
}

/// The rubric as an indented tree.
pub fn rubric(rubric: &Rubric) -> String {
    let doc = RubricDoc::new(rubric);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}（{}，{} 年，总分 {}{}）",
        doc.title,
        doc.id,
        doc.year,
        doc.total,
        doc.max_total
            .as_ref()
            .map_or_else(String::new, |m| format!("，含加分不超过 {m}"))
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
    if !rubric.grades.is_empty() {
        let _ = writeln!(
            out,
            "等次：{}；一票否决直接确定为{}",
            rubric.grades_text(),
            rubric.grades.last().map_or("", |g| g.name.as_str())
        );
    }
    for (c, cat) in doc.categories.iter().zip(&rubric.categories) {
        let mode = if cat.mode == lvzhi_core::rubric::CategoryMode::Deduct {
            String::new()
        } else {
            format!("，{}", cat.mode.label())
        };
        let _ = writeln!(out, "\n{} {}（{} 分{mode}）", c.code, c.name, c.max);
        for s in &c.sections {
            let _ = writeln!(out, "  {} {}（{} 分）", s.code, s.name, s.max);
            for r in &s.rules {
                rule_line(&mut out, "    ", rubric, r);
            }
        }
        for r in &c.rules {
            rule_line(&mut out, "  ", rubric, r);
        }
    }
    let _ = writeln!(out, "\n名册：{} 个单位", doc.units.len());
    out
}
