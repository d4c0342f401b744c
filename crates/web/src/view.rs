//! How figures and texts the core and the store produced are shown, on the floor the JSON API and
//! the pages share: Beijing time, addresses and file names percent-encoded, downloads, chart
//! options embedded safely. Nothing here computes a figure or holds a rule: labels of states, roles
//! and kinds come from the core.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A stored UTC time (RFC 3339) as Beijing time, `2022-06-01 08:30:00`; other text unchanged.
pub fn localtime(stamp: &str) -> String {
    lvzhi_store::clock::beijing_second(stamp)
}

/// At most `n` characters, with "…" when cut.
pub fn truncate(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Percent-encodes a path segment, query value or RFC 5987 file name (UTF-8).
pub fn encode_component(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A download: bytes with their type and a file name.
pub fn download(bytes: Vec<u8>, mime: &str, name: &str) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}", encode_component(name));
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// Chart options as text to embed in `<script type="application/json">`: `<`, `>` and `&` are
/// escaped (they can only occur inside JSON strings), so no name can close the element.
pub fn chart_json(v: &Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Who did something, as people read it: an account's name, or the command line with the system
/// user that ran it.
pub fn person(name: &str) -> String {
    match name.strip_prefix("cli:") {
        Some(user) => format!("命令行（{user}）"),
        None => name.to_owned(),
    }
}

/// What an audit entry or a notice is about (`record:12`, `period:2022`, …), as people read it;
/// `periods` names a period by its id (the entity holds the id; for the periods made before
/// offices existed, their year).
pub fn entity<S: std::hash::BuildHasher>(
    e: &str,
    periods: &std::collections::HashMap<i64, String, S>,
) -> String {
    let period = |id: &str| {
        id.parse::<i64>()
            .ok()
            .and_then(|i| periods.get(&i).cloned())
            .unwrap_or_else(|| format!("{id} 年度"))
    };
    let parts: Vec<&str> = e.split(':').collect();
    match parts.as_slice() {
        ["record", id] => format!("记录 #{id}"),
        ["period", id] => period(id),
        ["unit", id, unit] => format!("{unit}（{}）", period(id)),
        ["unit", unit] => (*unit).to_owned(),
        ["user", name] => format!("账号 {name}"),
        ["group", g] => format!("督导组 {g}"),
        ["office", code] => format!("安委办 {code}"),
        ["rubric", hash] => format!("细则版本 {}", hash.get(..12).unwrap_or(hash)),
        ["assessment", id, unit, rule, by] => {
            format!("{unit} 条款 {rule} 的打分（{by}，{}）", period(id))
        }
        ["metric", id, unit, m] => format!("{unit} 的指标 {m}（{}）", period(id)),
        _ => e.to_owned(),
    }
}

/// A stored value, as people read it: states and roles by their names, times in Beijing.
fn value_text(key: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => match key {
            "status" => lvzhi_core::RecordStatus::parse(s)
                .map(|x| x.label().to_owned())
                .or_else(|| lvzhi_core::PeriodStatus::parse(s).map(|x| x.label().to_owned()))
                .unwrap_or_else(|| s.clone()),
            "decision" => {
                lvzhi_core::Decision::parse(s).map_or_else(|| s.clone(), |d| d.label().to_owned())
            }
            "role" => lvzhi_core::access::Role::parse(s)
                .map_or_else(|| s.clone(), |r| r.label().to_owned()),
            k if k.ends_with("_at") || k == "deadline" => localtime(s),
            k if k.ends_with("_by") => person(s),
            _ => s.clone(),
        },
        serde_json::Value::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| value_text(key, x))
            .collect::<Vec<_>>()
            .join("、"),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| {
                format!(
                    "{}：{}",
                    lvzhi_core::input::stored_field_label(k).unwrap_or(k),
                    value_text(k, x)
                )
            })
            .collect::<Vec<_>>()
            .join("；"),
        serde_json::Value::Number(n) => n.to_string(),
    }
}

/// A stored JSON object (an audit entry's before or after) as (field, value) pairs people read.
pub fn describe(json: &str) -> Vec<(String, String)> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(o)) => o
            .iter()
            .map(|(k, v)| {
                (
                    lvzhi_core::input::stored_field_label(k)
                        .map_or_else(|| k.clone(), str::to_owned),
                    value_text(k, v),
                )
            })
            .collect(),
        Ok(other) => vec![(String::new(), value_text("", &other))],
        Err(_) => vec![(String::new(), json.to_owned())],
    }
}

/// The kind of an evidence file by its type, as people read it.
pub fn file_kind(mime: &str) -> &'static str {
    match mime {
        "application/pdf" => "PDF 文件",
        "image/png" => "PNG 图片",
        "image/jpeg" => "JPEG 图片",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "Word 文档",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "Excel 表格",
        "application/ofd" => "OFD 版式文件",
        "application/x-ole-storage" => "Office 97-2003 文档",
        _ => "文件",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown() {
        assert_eq!(localtime("2022-06-01T00:30:00.000Z"), "2022-06-01 08:30:00");
        assert_eq!(localtime("昨天"), "昨天");
        assert_eq!(truncate("一二三四", 2), "一二…");
        assert_eq!(
            encode_component("发改委 a/b"),
            "%E5%8F%91%E6%94%B9%E5%A7%94%20a%2Fb"
        );
        assert_eq!(
            chart_json(&serde_json::json!({"a": "</script>"})),
            r#"{"a":"\u003c/script\u003e"}"#
        );
    }
}
