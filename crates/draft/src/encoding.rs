//! The text of a file saved on Windows or anywhere else: UTF-8 (with or without its mark), UTF-16
//! (little- or big-endian, with its mark, or without one where every other byte is zero), or GBK /
//! GB18030 (what Chinese Windows saves "ANSI" text as). A text that is none of them is refused with
//! the encodings that were tried. It decodes only; it must not interpret the text.

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

/// The text of `bytes`, or why it could not be read.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest);
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (text, _, bad) = encoding_rs::Encoding::for_bom(bytes)
            .map_or(UTF_16LE, |(e, _)| e)
            .decode(bytes);
        return if bad {
            Err("文件标明是 UTF-16 编码，但其中有无法解码的字节".into())
        } else {
            Ok(text.into_owned())
        };
    }
    if let Some(enc) = utf16_without_mark(bytes) {
        let (text, bad) = enc.decode_without_bom_handling(bytes);
        if !bad {
            return Ok(text.into_owned());
        }
    }
    if let Ok(t) = std::str::from_utf8(bytes) {
        return Ok(t.to_owned());
    }
    let (text, bad) = GB18030.decode_without_bom_handling(bytes);
    if !bad {
        return Ok(text.into_owned());
    }
    Err(utf8(bytes)
        .err()
        .map(|e| format!("{e}；按 GBK（GB18030）也无法解码。请另存为 UTF-8 文本或 .docx 后再导入"))
        .unwrap_or_default())
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|e| {
        format!(
            "文本无法按 UTF-8 解码（第 {} 个字节起）",
            e.valid_up_to() + 1
        )
    })
}

/// UTF-16 without a mark: most of the even (big-endian) or odd (little-endian) bytes are zero,
/// as in text that is mostly ASCII; Chinese text without a mark is not guessed.
fn utf16_without_mark(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let pairs = bytes.len() / 2;
    let zero_at = |k: usize| bytes.iter().skip(k).step_by(2).filter(|b| **b == 0).count();
    let (even, odd) = (zero_at(0), zero_at(1));
    if odd * 10 >= pairs * 3 && even == 0 {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 3 && odd == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn the_encodings_windows_saves_are_read() {
        let text = "序号\t考核项目\n1\t安全生产（20分）";
        let (gbk, _, _) = encoding_rs::GB18030.encode(text);
        assert_eq!(decode(&gbk).as_deref(), Ok(text));
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&le).as_deref(), Ok(text));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode(&be).as_deref(), Ok(text));
        let mut marked = b"\xEF\xBB\xBF".to_vec();
        marked.extend(text.as_bytes());
        assert_eq!(decode(&marked).as_deref(), Ok(text));
        let ascii: Vec<u8> = "No. 1\tItem"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode(&ascii).as_deref(), Ok("No. 1\tItem"));
        // Bytes that are no text in any of them: refused, naming what was tried.
        let e = decode(&[0x81, 0x30, 0xFF, 0xFF, 0x00]).expect_err("not text");
        assert!(e.contains("UTF-8") && e.contains("GBK"), "{e}");
    }
}
