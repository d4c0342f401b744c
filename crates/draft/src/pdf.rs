//! PDF with a text layer, read with the `pdf-extract` crate (pure Rust over `lopdf`; it decodes the
//! fonts' ToUnicode maps that Chinese PDFs use and hands every glyph with its position, which is
//! what rebuilding a table needs — a plain text dump loses the columns). The glyphs are laid out
//! again as lines of text with their columns aligned by position, and that text goes to the text
//! reader (aligned columns, or numbered items). A PDF without text (a scan) is refused with a clear
//! message (no OCR); so are an encrypted or broken file, too many pages, or a file that takes too
//! long. It must not interpret the text itself.

use std::sync::mpsc;
use std::time::Duration;

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

/// The most pages read, and how long reading may take.
const MAX_PAGES: usize = 200;
const READ_AT_MOST: Duration = Duration::from_secs(30);

/// The text of a PDF, its table columns aligned with spaces.
pub(crate) fn text_of(bytes: &[u8]) -> Result<String, String> {
    // The parser and the reader panic on some malformed files and have no time limit of their
    // own: they run on a thread of their own, and a panic or an overrun is an answer, not a crash.
    let (tx, rx) = mpsc::channel();
    let bytes = bytes.to_vec();
    std::thread::spawn(move || {
        let _ = tx.send(read(&bytes));
    });
    match rx.recv_timeout(READ_AT_MOST) {
        Ok(Ok(text)) if text.trim().is_empty() => Err(
            "PDF 中没有文字（可能是扫描件）：本系统不做文字识别，请提供 Word 文件或带文字的 PDF"
                .into(),
        ),
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "PDF 文件在 {} 秒内没有读完，拒绝读取",
            READ_AT_MOST.as_secs()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("PDF 文件的结构有误，无法读取".into()),
    }
}

/// Loads, checks and lays out a PDF (on the reading thread).
fn read(bytes: &[u8]) -> Result<String, String> {
    let mut doc = pdf_extract::Document::load_mem(bytes)
        .map_err(|e| format!("不是有效的 PDF 文件（{e}）"))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err("PDF 文件已加密，无法读取：请提供未加密的文件".into());
    }
    let pages = doc.get_pages().len();
    if pages > MAX_PAGES {
        return Err(format!("PDF 页数过多（{pages} 页，上限 {MAX_PAGES} 页）"));
    }
    let mut glyphs = Glyphs::default();
    pdf_extract::output_doc(&doc, &mut glyphs).map_err(|e| format!("PDF 文件无法读取（{e:?}）"))?;
    Ok(glyphs.layout())
}

/// One glyph where it was drawn: page, left edge, baseline from the top, right edge, size.
struct Glyph {
    page: u32,
    x: f64,
    y: f64,
    end: f64,
    size: f64,
    text: String,
}

#[derive(Default)]
struct Glyphs {
    page: u32,
    height: f64,
    all: Vec<Glyph>,
}

impl OutputDev for Glyphs {
    fn begin_page(
        &mut self,
        page: u32,
        media_box: &MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.page = page;
        self.height = media_box.ury - media_box.lly;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        let (sx, sy) = (
            font_size * (trm.m11 + trm.m21),
            font_size * (trm.m12 + trm.m22),
        );
        let size = (sx * sy).abs().sqrt().max(1.0);
        if !text.trim().is_empty() {
            self.all.push(Glyph {
                page: self.page,
                x: trm.m31,
                y: self.height - trm.m32,
                end: trm.m31 + width * size,
                size,
                text: text.to_owned(),
            });
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

impl Glyphs {
    /// The glyphs as lines of text: a line is the glyphs of one baseline, left to right; a gap
    /// wider than a glyph starts a cell, placed at its column (half a glyph's size a column, as a
    /// fixed-width font shows Chinese text); a page's number alone on its line is left out.
    fn layout(mut self) -> String {
        let Some(unit) = median(self.all.iter().map(|g| g.size)).map(|s| s / 2.0) else {
            return String::new();
        };
        self.all.sort_by(|a, b| {
            (a.page, a.y)
                .partial_cmp(&(b.page, b.y))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut lines: Vec<Vec<&Glyph>> = Vec::new();
        for g in &self.all {
            match lines.last_mut() {
                Some(l) if l[0].page == g.page && (g.y - l[0].y).abs() < g.size * 0.5 => l.push(g),
                _ => lines.push(vec![g]),
            }
        }
        let mut out = String::new();
        for mut line in lines {
            line.sort_by(|a, b| a.x.partial_cmp(&b.x).unwrap_or(std::cmp::Ordering::Equal));
            // Bold emulated by drawing a glyph twice, a hair apart: kept once.
            let mut kept: Vec<&Glyph> = Vec::with_capacity(line.len());
            for g in line {
                let twin = kept.iter().rev().take(16).any(|k| {
                    k.text == g.text
                        && (k.x - g.x).abs() < g.size * 0.3
                        && (k.y - g.y).abs() < g.size * 0.3
                });
                if !twin {
                    kept.push(g);
                }
            }
            let line = kept;
            let text = Self::line_text(&line, unit);
            if !is_page_number(&text) {
                out.push_str(text.trim_end());
                out.push('\n');
            }
        }
        out
    }

    fn line_text(line: &[&Glyph], unit: f64) -> String {
        let mut text = String::new();
        let mut width = 0usize;
        let mut last_end: Option<f64> = None;
        for g in line {
            let column = (g.x / unit).round().max(0.0) as usize;
            match last_end {
                Some(end) if g.x - end > g.size => {
                    // A new cell: at its column, at least two spaces from the last.
                    let pad = column.saturating_sub(width).max(2);
                    text.extend(std::iter::repeat_n(' ', pad));
                    width += pad;
                }
                Some(end) if g.x - end > g.size * 0.25 && !is_wide(&text) && !is_wide(&g.text) => {
                    text.push(' ');
                    width += 1;
                }
                None => {
                    text.extend(std::iter::repeat_n(' ', column));
                    width = column;
                }
                _ => {}
            }
            text.push_str(&g.text);
            width += g
                .text
                .chars()
                .map(|c| if c.is_ascii() { 1 } else { 2 })
                .sum::<usize>();
            last_end = Some(g.end);
        }
        text
    }
}

/// Whether the last character of `s` is a wide (Chinese) one: no space is put beside it.
fn is_wide(s: &str) -> bool {
    s.chars().last().is_some_and(|c| !c.is_ascii())
}

/// "3", "- 3 -", "第 3 页": a page's number.
fn is_page_number(line: &str) -> bool {
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.trim_matches(['-', '—', '第', '页']);
    !t.is_empty() && t.chars().all(|c| c.is_ascii_digit())
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied()
}
