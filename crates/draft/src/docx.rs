//! The `.docx` reader: the first table of `word/document.xml`, the title before it and the notes
//! after it, in bounded memory. It must not interpret the rows (the table room does).

use std::io::Read;

use crate::table::rows_by_header;
use crate::{Document, DocumentError, MAX_XML, Row};

/// Reads the first table of a `.docx`, the title paragraph before it and the notes after it.
pub fn read_docx(bytes: &[u8]) -> Result<Document, DocumentError> {
    let bad = |m: String| DocumentError::Unreadable(m);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("不是有效的 .docx 文件：{e}")))?;
    if zip.len() > 5_000 {
        return Err(bad("文件内部条目过多，拒绝读取".into()));
    }
    let mut entry = zip
        .by_name("word/document.xml")
        .map_err(|_| bad("不是 Word 文档：缺少 word/document.xml".into()))?;
    if entry.size() > MAX_XML {
        return Err(bad(format!(
            "文档正文解压后过大（{} MB，上限 {} MB），拒绝读取",
            entry.size() >> 20,
            MAX_XML >> 20
        )));
    }
    let mut xml = Vec::new();
    (&mut entry)
        .take(MAX_XML + 1)
        .read_to_end(&mut xml)
        .map_err(|e| bad(format!("文档正文无法解压：{e}")))?;
    if xml.len() as u64 > MAX_XML {
        return Err(bad("文档正文解压后过大，拒绝读取".into()));
    }
    parse_document_xml(&xml).map_err(bad)
}

/// The paragraphs outside tables and the rows of the first table of `word/document.xml`.
pub(crate) fn parse_document_xml(xml: &[u8]) -> Result<Document, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut table_depth = 0usize;
    let mut tables_seen = 0usize;
    let mut para = String::new();
    let mut before: Vec<String> = Vec::new();
    let mut after: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cell: Option<String> = None;
    let mut in_text = false;
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| {
            format!(
                "文档正文不是有效的 XML（位置 {}）：{e}",
                reader.buffer_position()
            )
        })?;
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                b"tbl" => table_depth += 1,
                b"tr" if table_depth == 1 && tables_seen == 0 => rows.push(Vec::new()),
                b"tc" if table_depth == 1 && tables_seen == 0 => cell = Some(String::new()),
                b"p" => para.clear(),
                b"t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"tab" => para.push('\t'),
                b"br" => para.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => {
                let s = t
                    .decode()
                    .map_err(|e| format!("文档正文的文字无法解码：{e}"))?;
                para.push_str(&quick_xml::escape::unescape(&s).unwrap_or(s.clone()));
            }
            Event::GeneralRef(r) if in_text => {
                let name = r.decode().unwrap_or_default();
                para.push_str(match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => {
                    let text = std::mem::take(&mut para);
                    if table_depth == 0 {
                        if tables_seen == 0 {
                            before.push(text);
                        } else {
                            after.push(text);
                        }
                    } else if let Some(c) = cell.as_mut() {
                        if !c.is_empty() {
                            c.push('\n');
                        }
                        c.push_str(&text);
                    }
                }
                b"tc" if table_depth == 1 && tables_seen == 0 => {
                    if let (Some(c), Some(r)) = (cell.take(), rows.last_mut()) {
                        r.push(c);
                    }
                }
                b"tbl" => {
                    table_depth = table_depth.saturating_sub(1);
                    if table_depth == 0 {
                        tables_seen += 1;
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if rows.is_empty() {
        // No table: the paragraphs are read as text (numbered items).
        return Ok(crate::read_text(&before.join("\n")));
    }
    let title = before
        .iter()
        .find(|p| p.contains("细则"))
        .or_else(|| before.iter().rev().find(|p| !p.trim().is_empty()))
        .map(|p| p.trim().to_owned())
        .unwrap_or_default();
    let notes: String = after
        .iter()
        .skip_while(|p| !p.trim_start().starts_with("备注"))
        .map(|p| p.trim())
        .collect();
    let rows = rows_by_header(&rows).unwrap_or_else(|| {
        rows.into_iter()
            .filter(|r| {
                r.first().is_some_and(|s| {
                    !s.trim().is_empty() && s.trim().chars().all(|c| c.is_ascii_digit())
                })
            })
            .map(|r| Row {
                seq: r.first().map(|s| s.trim().to_owned()).unwrap_or_default(),
                item: r.get(1).cloned().unwrap_or_default(),
                detail: r.get(2).cloned().unwrap_or_default(),
                ..Row::default()
            })
            .collect()
    });
    Ok(Document { title, rows, notes })
}
