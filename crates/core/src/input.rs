//! What a person writes into the year's ledger, parsed once at the edge: a new record as entered (its
//! figures go to the ledger's checks, its texts are checked here), the reasons every decision must
//! carry, the limits of each text, and the names people read for stored fields. The API, the pages,
//! the imports, the store's audit replay and the command line all call these, so a limit or a label
//! is written once. This module does no IO.

use crate::ledger::{Field, LedgerError, Problem, RecordFields};

/// The most characters of a record's 依据 (source).
pub const SOURCE_MAX: usize = 500;
/// The most characters of a record's 备注 (note).
pub const NOTE_MAX: usize = 2000;
/// The most characters of a reason (revocation, appeal, decision, publication, reopening).
pub const REASON_MAX: usize = 2000;

/// The most characters of an account's name.
pub const USERNAME_MAX: usize = 64;
/// The years a rubric (and so a period) may be of.
pub const YEARS: std::ops::RangeInclusive<i64> = 1949..=2999;

/// A year as written where a period is named (four digits within [`YEARS`]).
pub fn year_of(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    raw.parse::<i64>()
        .ok()
        .filter(|y| raw.len() == 4 && YEARS.contains(y))
}

/// The longest name of an office (安委办).
pub const OFFICE_NAME_MAX: usize = 60;
/// The longest kind of assessment a rubric may name (`[rubric] kind`).
pub const KIND_MAX: usize = 40;
/// What separates a unit's tags in a file cell, and so what no tag may contain.
pub const TAG_SEPARATORS: [char; 5] = [';', '；', ',', '，', '、'];
/// The most characters of one tag.
pub const TAG_MAX: usize = 32;

/// A record as entered (a form, a JSON body, a row of a file): figures as text, for the ledger's
/// checks, and the texts that travel with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRecord {
    pub unit: String,
    pub rule: String,
    pub count: Option<String>,
    pub points: Option<String>,
    pub date: Option<String>,
    pub source: String,
    pub note: String,
}

impl NewRecord {
    /// The figures, for [`crate::Ledger::check_record`] or [`crate::LedgerBuilder::check_record`].
    pub fn fields(&self) -> RecordFields<'_> {
        fn opt(s: Option<&String>) -> &[u8] {
            s.map_or(&b""[..], |x| x.as_bytes())
        }
        RecordFields {
            unit: self.unit.as_bytes(),
            rule: self.rule.as_bytes(),
            count: opt(self.count.as_ref()),
            points: opt(self.points.as_ref()),
            date: opt(self.date.as_ref()),
        }
    }

    /// The texts' checks (length, no control characters); `row` names the row in a refusal.
    pub fn check_texts(&self, row: u64) -> Result<(), LedgerError> {
        for (field, text, max) in [
            (Field::Source, &self.source, SOURCE_MAX),
            (Field::Note, &self.note, NOTE_MAX),
        ] {
            check_text(text, max).map_err(|problem| LedgerError {
                row,
                field,
                problem,
            })?;
        }
        Ok(())
    }

    /// Every required field left empty, in the form's order: the unit, the clause, and the points
    /// when the clause takes entered points (a form lists them all at once).
    pub fn missing(&self, rubric: &crate::Rubric) -> Vec<Field> {
        let mut out = Vec::new();
        if self.unit.trim().is_empty() {
            out.push(Field::Unit);
        }
        match rubric.rule_by_code(self.rule.trim()) {
            None if self.rule.trim().is_empty() => out.push(Field::Rule),
            Some(i)
                if matches!(
                    rubric.rules[i].kind,
                    crate::RuleKind::Range { .. } | crate::RuleKind::Graded { .. }
                ) && self.points.as_deref().is_none_or(|p| p.trim().is_empty()) =>
            {
                out.push(Field::Points);
            }
            _ => {}
        }
        out
    }

    /// The source as stored: trimmed.
    pub fn source(&self) -> &str {
        self.source.trim()
    }

    /// The note as stored: trimmed.
    pub fn note(&self) -> &str {
        self.note.trim()
    }
}

/// A free text within `max` characters, without control characters other than line breaks and tabs.
/// A character that reorders how text around it is displayed (U+202E "right-to-left override"
/// and its kin): in a name it can make `报告.exe` show as `报告exe.pdf`, so no name or text takes one.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A control character (but line breaks and tabs) or a bidi control ([`is_bidi_control`]).
pub fn is_hidden_control(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c)
}

/// The longest search text a records list takes (the OpenAPI document says the same).
pub const SEARCH_MAX: usize = 200;

pub fn check_text(text: &str, max: usize) -> Result<(), Problem> {
    let n = text.trim().chars().count();
    if n > max {
        return Err(Problem::TooLong { max, got: n });
    }
    if text.chars().any(is_hidden_control) {
        return Err(Problem::ControlCharacter);
    }
    Ok(())
}

/// A reason, required: trimmed, not empty, within [`REASON_MAX`].
pub fn reason(text: &str) -> Result<&str, Problem> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Problem::Missing);
    }
    check_text(t, REASON_MAX)?;
    Ok(t)
}

/// The name of a field of a stored row or an audit entry, as people read it: an input field by
/// its label ([`crate::Field::label`]), the rest (lifecycle and bookkeeping columns) here. The
/// audit page and the store's replay of the trail both name fields by it.
pub fn stored_field_label(key: &str) -> Option<&'static str> {
    if let Some(f) = Field::parse(key) {
        return Some(f.label());
    }
    Some(match key {
        "id" => "编号",
        "status" => "状态",
        "revoked_reason" => "撤销理由",
        "revoked_by" => "撤销人",
        "revoked_at" => "撤销时间",
        "replaces" => "更正或改判自记录",
        "replacement" => "改判为记录",
        "created_by" => "录入人",
        "created_at" => "录入时间",
        "confirmed_by" => "确认人",
        "confirmed_at" => "确认时间",
        "version" => "版本",
        "decision" => "决定",
        "decision_reason" => "决定理由",
        "decided_by" => "决定人",
        "decided_at" => "决定时间",
        "deadline" => "期限",
        "appealed_by" => "申诉人",
        "appealed_at" => "申诉时间",
        "record_id" => "记录",
        "year" => "年度",
        "units" => "单位数",
        "records" => "记录数",
        "assessments" => "打分数",
        "metrics" => "指标数",
        "label" => "导入说明",
        "file" => "文件",
        "sha256" => "文件校验值",
        "rubric" => "细则",
        "rubric_hash" => "细则版本",
        "hash" => "校验值",
        "seq" => "发布次序",
        "acknowledged" => "确认的例外",
        "appeal_days" => "申诉期（天）",
        "decision_days" => "决定期限（天）",
        "refused" => "被拒绝的操作",
        "role" => "角色",
        "group" => "所属督导组",
        "disabled" => "已停用",
        "carry_from" => "名册结转自",
        "title" => "标题",
        "sessions" => "注销的会话数",
        "tokens" => "撤销的令牌数",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_reasons() {
        let mut r = NewRecord {
            source: "甲".repeat(SOURCE_MAX),
            ..NewRecord::default()
        };
        assert!(r.check_texts(1).is_ok());
        r.source.push('乙');
        let e = r.check_texts(7).expect_err("too long");
        assert_eq!((e.row, e.field), (7, Field::Source));
        assert_eq!(reason("  "), Err(Problem::Missing));
        assert_eq!(reason(" 经核实 "), Ok("经核实"));
        assert!(reason("a\u{0}b").is_err());
        assert!(check_text("第一行\n第二行", 10).is_ok());
    }
}
