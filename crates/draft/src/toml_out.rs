//! The draft written as a rubric file (TOML) that `Rubric::from_toml` loads, with its review keys
//! and unclassified entries. It must not change what the builder proposed.

use std::fmt::Write as _;

use crate::build::{Draft, DraftRule};

/// A TOML basic string.
pub(crate) fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number as the document wrote it, or as a string when it is not a plain decimal (the loader
/// then says why).
pub(crate) fn n(s: &str) -> String {
    let valid = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '.')
        && s.matches('.').count() <= 1
        && !s.starts_with('.')
        && !s.ends_with('.');
    if !valid {
        return q(s);
    }
    let (int, frac) = s.split_once('.').map_or((s, None), |(a, b)| (a, Some(b)));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    match frac {
        Some(f) => format!("{int}.{f}"),
        None => int.to_owned(),
    }
}

pub(crate) fn write_rule(out: &mut String, table: &str, r: &DraftRule) {
    let _ = writeln!(out, "\n[[{table}]]");
    let _ = writeln!(out, "code = {}", q(&r.code));
    let _ = writeln!(out, "kind = {}", q(r.kind));
    for (k, v) in [("points", &r.points), ("min", &r.min), ("max", &r.max)] {
        if let Some(v) = v {
            let _ = writeln!(out, "{k} = {}", n(v));
        }
    }
    if let Some(m) = r.max_count {
        let _ = writeln!(out, "max_count = {m}");
    }
    if let Some(a) = r.assessors {
        let _ = writeln!(out, "assessors = {a}");
    }
    for (k, v) in [("metric", &r.metric), ("reference", &r.reference)] {
        if let Some(v) = v {
            let _ = writeln!(out, "{k} = {}", q(v));
        }
    }
    if let Some(s) = r.scope {
        let _ = writeln!(out, "scope = {}", q(s));
    }
    if let Some(d) = r.direction {
        let _ = writeln!(out, "direction = {}", q(d));
    }
    if let Some(st) = &r.step {
        let _ = writeln!(out, "step = {}", n(st));
    }
    let _ = writeln!(out, "text = {}", q(&r.text));
    let _ = writeln!(out, "source = {}", q(&r.source));
    if !r.review.is_empty() {
        let _ = writeln!(out, "review = {}", q(&r.review.join("；")));
    }
}

impl Draft {
    /// The draft as a rubric file: loads with `Rubric::from_toml`; `review` keys and
    /// `[[unclassified]]` entries mark what a person must still decide.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# 由 `lvzhi rubric import` 从细则文件生成的草稿。");
        let _ = writeln!(
            out,
            "# 每条规则的 source 是原文；review 键与 [[unclassified]] 条目须由人确认后删除，草稿才能使用。"
        );
        let _ = writeln!(out, "# 待确认 {} 项。", self.pending());
        let _ = writeln!(out, "\n[rubric]");
        let _ = writeln!(out, "id = {}", q(&self.id));
        let _ = writeln!(out, "year = {}", self.year.max(1949));
        let _ = writeln!(
            out,
            "title = {}",
            q(if self.title.is_empty() {
                "（待填写）"
            } else {
                &self.title
            })
        );
        let _ = writeln!(out, "issuer = \"\"");
        let _ = writeln!(out, "total = {}", n(&self.total));
        if let Some(m) = &self.max_total {
            let _ = writeln!(out, "max_total = {}", n(m));
        }
        if !self.review.is_empty() {
            let _ = writeln!(out, "review = {}", q(&self.review.join("；")));
        }
        let _ = writeln!(out, "\n[conversion]");
        let _ = writeln!(out, "divisor = {}", n(&self.total));
        let _ = writeln!(out, "decimals = {}", self.decimals);
        let _ = writeln!(out, "rounding = \"half_up\"");
        for (code, name, weight) in &self.classes {
            let _ = writeln!(
                out,
                "\n[[classes]]\ncode = {}\nname = {}\nweight = {}",
                q(code),
                q(name),
                n(weight)
            );
        }
        for (name, min) in &self.grades {
            let _ = writeln!(out, "\n[[grades]]\nname = {}\nmin = {}", q(name), n(min));
        }
        for (i, p) in self.parts.iter().enumerate() {
            let _ = writeln!(
                out,
                "\n[[parts]]\ncode = {}\nname = {}\nfrom = {}\nto = {}\nweight = {}",
                q(&p.code),
                q(&p.name),
                q(&p.from),
                q(&p.to),
                n(&p.weight)
            );
            if i == 0
                && let Some(r) = &self.parts_review
            {
                let _ = writeln!(out, "review = {}", q(r));
            }
        }
        for (code, name) in &self.metrics {
            let _ = writeln!(
                out,
                "\n[[metrics]]\ncode = {}\nname = {}\nreview = {}",
                q(code),
                q(name),
                q("请确认指标名称（数据文件和“指标数据”页按此名称填写）")
            );
        }
        for c in &self.categories {
            let _ = writeln!(out, "\n# {}", "-".repeat(96));
            let _ = writeln!(out, "[[categories]]");
            let _ = writeln!(out, "code = {}", q(&c.code));
            let _ = writeln!(out, "name = {}", q(&c.name));
            if c.mode != "deduct" {
                let _ = writeln!(out, "mode = {}", q(c.mode));
            }
            let _ = writeln!(out, "max = {}", n(&c.max));
            if !c.review.is_empty() {
                let _ = writeln!(out, "review = {}", q(&c.review.join("；")));
            }
            for r in &c.rules {
                write_rule(&mut out, "categories.rules", r);
            }
            for s in &c.sections {
                let _ = writeln!(
                    out,
                    "\n[[categories.sections]]\ncode = {}\nname = {}\nmax = {}",
                    q(&s.code),
                    q(&s.name),
                    n(&s.max)
                );
                for r in &s.rules {
                    write_rule(&mut out, "categories.sections.rules", r);
                }
            }
        }
        for (cat, text, why) in &self.unclassified {
            let _ = writeln!(
                out,
                "\n[[unclassified]]\ncategory = {}\nsource = {}\nreview = {}",
                q(cat),
                q(text),
                q(why)
            );
        }
        if !self.units.is_empty() {
            let _ = writeln!(out, "\n# {}\n# 名册（备注）", "-".repeat(96));
        }
        for (name, class) in &self.units {
            let _ = writeln!(out, "\n[[units]]\nname = {}\nclass = {}", q(name), q(class));
        }
        out
    }
}
