//! How figures and texts the core and the store produced are shown, on the floor the JSON API and
//! the pages share: Beijing time, addresses and file names percent-encoded, downloads, chart
//! options embedded safely. Nothing here computes a figure or holds a rule: labels of states, roles
//! and kinds come from the core.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A stored UTC time (RFC 3339) as Beijing time, `2022-06-01 08:30:00`; other text unchanged.
pub fn localtime(stamp: &str) -> String {
    time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| {
            let local = t.to_offset(time::UtcOffset::from_hms(8, 0, 0).ok()?);
            let f =
                time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
            local.format(&f).ok()
        })
        .unwrap_or_else(|| stamp.to_owned())
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
