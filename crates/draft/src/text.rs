//! Text as offices receive it, read into the document model: Word's "save as text" (one cell a
//! line, led by a tab, as the 2022 document has it), rows with their cells between tabs or `|` (a
//! table pasted from a spreadsheet or a web page), columns aligned with spaces, and documents with
//! no table at all ("一、综合考核（20分）" headings with their numbered paragraphs). Every table form
//! goes through the one header recognition (`table`); rows may be numbered with digits or Chinese
//! numerals. It knows no file format and proposes no rule.

use std::sync::LazyLock;

use regex::Regex;

use crate::grammar::{MAX_ONLY, chinese_number};
use crate::table::{Column, column_of, rows_by_header};
use crate::{Document, Row};

/// Reads the text form of a document: a table in any of the forms above, else numbered items.
pub fn read_text(text: &str) -> Document {
    let text = text.trim_start_matches('\u{feff}');
    let all: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let (lines, mut notes) = split_notes(&all);
    let title = title_of(lines);
    let rows = if let Some(rows) = row_table(lines).or_else(|| cell_table(lines)) {
        rows
    } else {
        let (rows, more) = numbered(lines);
        notes.push_str(&more);
        rows
    };
    Document { title, rows, notes }
}

/// The lines before the notes, and the notes: from a line that begins with 备注 (outside a cell
/// led by a tab) to the end.
fn split_notes<'a>(lines: &'a [&'a str]) -> (&'a [&'a str], String) {
    let at = lines.iter().position(|l| {
        let t: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        !l.starts_with('\t') && (t.starts_with("备注：") || t.starts_with("备注:"))
    });
    match at {
        Some(i) => (
            &lines[..i],
            lines[i..].iter().map(|l| l.trim()).collect::<String>(),
        ),
        None => (lines, String::new()),
    }
}

/// The title: the first line that names a 细则 (else a 办法, 方案 or 考核) before the table.
fn title_of(lines: &[&str]) -> String {
    let before: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .take_while(|t| !(t.starts_with("序号") || HEADING.is_match(t) || ARTICLE.is_match(t)))
        .collect();
    ["细则", "办法", "方案", "考核"]
        .iter()
        .find_map(|w| before.iter().find(|t| t.contains(w)))
        .map(|t| (*t).to_owned())
        .unwrap_or_default()
}

/// Whether a cell is a row's number: digits, or Chinese numerals, with an optional 、 or dot.
fn is_seq(cell: &str) -> bool {
    let t = cell.trim().trim_end_matches(['、', '.', '．']);
    !t.is_empty()
        && (t.chars().all(|c| c.is_ascii_digit())
            || (t.chars().count() <= 3 && chinese_number(t).is_some()))
}

/// A row's number as digits ("三" → "3").
fn seq_digits(cell: &str) -> String {
    let t = cell.trim().trim_end_matches(['、', '.', '．']);
    chinese_number(t).map_or_else(|| t.to_owned(), |n| n.to_string())
}

// ---------------------------------------------------------------------------------------------
// Rows a line: cells between tabs, between `|`, or aligned with spaces.

/// How the cells of a row are separated on its line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Separator {
    Tab,
    Pipe,
    Spaces,
}

static SPACES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[ \u{3000}]{2,}").expect("a valid pattern"));
static RULE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\s|:：\-—+=]+$").expect("a valid pattern"));

/// The cells of a line split by `sep`, each with the display column it starts at (for tabs and
/// `|`, its position among the cells).
fn cells_of(line: &str, sep: Separator) -> Vec<(usize, String)> {
    match sep {
        Separator::Tab => line
            .split('\t')
            .enumerate()
            .map(|(i, c)| (i, c.trim().to_owned()))
            .collect(),
        Separator::Pipe => {
            let t = line.trim();
            let t = t.strip_prefix('|').unwrap_or(t);
            let t = t.strip_suffix('|').unwrap_or(t);
            t.split('|')
                .enumerate()
                .map(|(i, c)| (i, c.trim().to_owned()))
                .collect()
        }
        Separator::Spaces => {
            let mut out = Vec::new();
            let mut start = 0;
            let ends = SPACES
                .find_iter(line)
                .map(|m| (m.start(), m.end()))
                .chain(std::iter::once((line.len(), line.len())));
            for (end, next) in ends {
                let cell = line[start..end].trim();
                if !cell.is_empty() {
                    let lead = line[start..end].len() - line[start..end].trim_start().len();
                    out.push((display_width(&line[..start + lead]), cell.to_owned()));
                }
                start = next;
            }
            out
        }
    }
}

/// How wide text shows in a fixed-width font: a CJK character takes two columns.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// The header line of a row-a-line table and how its cells are separated: the first line whose
/// cells include at least two known headings.
fn header_line(lines: &[&str]) -> Option<(usize, Separator)> {
    lines.iter().enumerate().find_map(|(i, l)| {
        let t = l.trim();
        let seps: &[Separator] = if t.contains('|') {
            &[Separator::Pipe]
        } else if t.contains('\t') {
            &[Separator::Tab]
        } else {
            &[Separator::Spaces]
        };
        seps.iter().find_map(|&sep| {
            let known = cells_of(l, sep)
                .iter()
                .filter(|(_, c)| column_of(c).is_some())
                .count();
            (known >= 2).then_some((i, sep))
        })
    })
}

/// A table with a row a line. Cells are placed by the header's columns (by position for tabs and
/// `|`, by the nearest column start at or before the cell for aligned text); a line with only its
/// last column filled continues the row above (a cell's second paragraph).
fn row_table(lines: &[&str]) -> Option<Vec<Row>> {
    let (at, sep) = header_line(lines)?;
    let header = cells_of(lines[at], sep);
    let starts: Vec<usize> = header.iter().map(|(p, _)| *p).collect();
    let column = |pos: usize| -> usize {
        match sep {
            Separator::Spaces => starts.iter().rposition(|s| *s <= pos + 1).unwrap_or(0),
            _ => pos.min(starts.len() - 1),
        }
    };
    let mut table: Vec<Vec<String>> = vec![header.into_iter().map(|(_, c)| c).collect()];
    let width = starts.len();
    let col = |want: Column| table[0].iter().position(|h| column_of(h) == Some(want));
    let (seq_col, max_col, sub_col) = (col(Column::Seq), col(Column::Max), col(Column::Sub));
    for l in &lines[at + 1..] {
        if l.trim().is_empty() || RULE_LINE.is_match(l) {
            continue;
        }
        let mut row = vec![String::new(); width];
        for (pos, cell) in cells_of(l, sep) {
            let c = &mut row[column(pos)];
            if !c.is_empty() {
                c.push(' ');
            }
            c.push_str(&cell);
        }
        let only_last = row[..width - 1].iter().all(String::is_empty) && table.len() > 1;
        // Aligned text (and a PDF laid out as such) wraps cells onto lines of their own: a line
        // with no number continues the row above (the header too), unless it has a maximum of
        // its own (a second-level row under a merged number); in a table without numbers, a line
        // with neither a second-level item nor a maximum does.
        let empty = |c: Option<usize>| c.is_none_or(|i| row[i].is_empty());
        let wrapped = sep == Separator::Spaces
            && empty(max_col)
            && match seq_col {
                Some(i) => row[i].is_empty(),
                None => sub_col.is_some() && empty(sub_col),
            };
        let in_body = table.len() > 1;
        let Some(prev) = table.last_mut().filter(|_| only_last || wrapped) else {
            table.push(row);
            continue;
        };
        for (i, cell) in row.into_iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            if in_body && i == width - 1 && !prev[i].is_empty() {
                prev[i].push('\n');
            }
            prev[i].push_str(&cell);
        }
    }
    let mut rows = rows_by_header(&table)?;
    for r in &mut rows {
        if is_seq(&r.seq) {
            r.seq = seq_digits(&r.seq);
        }
    }
    Some(rows).filter(|r| !r.is_empty())
}

// ---------------------------------------------------------------------------------------------
// A cell a line (Word's "save as text").

/// A table with a cell a line: the cells start with a tab (or, where no line does, every line is a
/// cell) from its header on (the line 序号, or two known headings in a row). With a 序号 column a
/// row starts at a cell that is a number, and a header of known headings places the cells (else a
/// row is 序号, the item, the scoring text); without one, every row has the header's number of cells
/// (a merged cell is an empty one, as Word writes it).
fn cell_table(lines: &[&str]) -> Option<Vec<Row>> {
    let tabbed = lines.iter().any(|l| l.starts_with('\t'));
    let is_cell = |l: &str| (tabbed && l.starts_with('\t')) || (!tabbed && !l.trim().is_empty());
    let heading = |l: &str| is_cell(l) && column_of(l.trim()).is_some();
    let start = lines.iter().enumerate().position(|(i, l)| {
        l.trim().starts_with("序号") || (heading(l) && lines.get(i + 1).is_some_and(|n| heading(n)))
    })?;
    let mut cells: Vec<String> = Vec::new();
    for line in &lines[start..] {
        let t = line.trim();
        if is_cell(line) {
            cells.push(t.to_owned());
        } else if let Some(last) = cells.last_mut()
            && !t.is_empty()
        {
            if !last.is_empty() {
                last.push('\n');
            }
            last.push_str(t);
        }
    }
    let width = cells.iter().take_while(|c| column_of(c).is_some()).count();
    if width >= 2 && !cells[0].starts_with("序号") {
        let table: Vec<Vec<String>> = cells.chunks(width).map(<[String]>::to_vec).collect();
        return rows_by_header(&table).filter(|r| !r.is_empty());
    }
    let first_row = cells.iter().position(|c| is_seq(c))?;
    let header: Vec<String> = cells[..first_row].to_vec();
    let grouped = group_rows(&cells[first_row..]);
    let known = header.iter().filter(|h| column_of(h).is_some()).count();
    if known >= 2 && header.len() > 3 && grouped.iter().all(|r| r.len() <= header.len()) {
        // Right-aligned: a row short of cells lacks the merged ones after its number.
        let table: Vec<Vec<String>> = std::iter::once(header.clone())
            .chain(grouped.into_iter().map(|r| {
                let mut full = vec![String::new(); header.len()];
                let skip = header.len() - r.len();
                for (i, c) in r.into_iter().enumerate() {
                    full[if i == 0 { 0 } else { i + skip }] = c;
                }
                full
            }))
            .collect();
        return rows_by_header(&table);
    }
    Some(
        grouped
            .into_iter()
            .map(|r| Row {
                seq: r.first().map(|s| seq_digits(s)).unwrap_or_default(),
                item: r.get(1).cloned().unwrap_or_default(),
                detail: r.get(2).cloned().unwrap_or_default(),
                ..Row::default()
            })
            .collect(),
    )
}

/// Groups a table's cells into rows: a row starts at a cell that is a number; a maximum alone in
/// a cell ("（20分）") right after the item belongs to the item.
fn group_rows(cells: &[String]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for c in cells {
        let t = c.trim();
        if is_seq(t) {
            rows.push(vec![t.to_owned()]);
        } else if let Some(r) = rows.last_mut() {
            if r.len() == 2 && MAX_ONLY.is_match(t) {
                r[1].push_str(t);
            } else {
                r.push(t.to_owned());
            }
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// No table: numbered items.

/// A heading that starts an item: "一、综合考核（20分）", "第一部分 …", "（一）…" at the top level.
static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:([一二三四五六七八九十]{1,3})\s*[、.．]|第([一二三四五六七八九十]{1,3})(?:部分|项))\s*(\S.*)$")
        .expect("a valid pattern")
});

/// A second-level heading: "（一）组织领导（10分）" (a Chinese number in brackets and a maximum at
/// the end; "（1）…扣2分。" is a scoring sentence, not a heading).
static SUB_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[（(][一二三四五六七八九十]{1,3}[）)]\s*(\S.*?[（(][^（）()]*\d+(?:\.\d+)?\s*分[）)])\s*[：:。]?$")
        .expect("a valid pattern")
});

/// An article of a 考核办法: "第十五条 ……".
static ARTICLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^第[一二三四五六七八九十百零〇\d]{1,4}条\s*(\S.*)$").expect("a valid pattern")
});
static CHAPTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^第[一二三四五六七八九十\d]{1,3}章").expect("a valid pattern"));
/// A maximum in brackets anywhere: "（20分）", "（最多加5分）".
static BRACKETED_MAX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[（(][^（）()]*\d+(?:\.\d+)?\s*分[）)]").expect("a valid pattern")
});

/// Where the lines under a heading go.
enum Under {
    Row,
    Notes,
}

/// A document with no table: each heading starts a row (its number, its item with any maximum
/// "（20分）"), a second-level heading a row of its category with its own maximum, and the lines
/// under a heading are its scoring text. In a 考核办法 written as articles, an article with a
/// maximum (or a veto) is an item — its first sentence the item, the rest its scoring text — and
/// the other articles (scope, totals, grades, roster) are read as the notes; chapters are skipped.
fn numbered(lines: &[&str]) -> (Vec<Row>, String) {
    let mut rows: Vec<Row> = Vec::new();
    let mut notes = String::new();
    let mut under = Under::Row;
    let push = |r: &mut Row, t: &str| {
        if !r.detail.is_empty() {
            r.detail.push('\n');
        }
        r.detail.push_str(t);
    };
    for line in lines {
        let t = line.trim();
        if t.is_empty() || CHAPTER.is_match(t) {
            continue;
        }
        if let Some(c) = ARTICLE.captures(t) {
            let rest = c.get(1).map_or("", |m| m.as_str());
            let (head, body) = rest.split_once('。').unwrap_or((rest, ""));
            if BRACKETED_MAX.is_match(head) || head.contains("一票否决") {
                let mut r = Row {
                    item: head.trim().to_owned(),
                    ..Row::default()
                };
                if !body.trim().is_empty() {
                    push(&mut r, body.trim());
                }
                rows.push(r);
                under = Under::Row;
            } else {
                notes.push_str(rest);
                under = Under::Notes;
            }
        } else if !rows.is_empty()
            && let Some(c) = SUB_HEADING.captures(t)
        {
            rows.push(Row {
                sub: c.get(1).map_or("", |m| m.as_str()).to_owned(),
                ..Row::default()
            });
            under = Under::Row;
        } else if let Some(c) = HEADING.captures(t) {
            let n = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
            rows.push(Row {
                seq: chinese_number(n).map_or_else(String::new, |n| n.to_string()),
                item: c.get(3).map_or("", |m| m.as_str()).to_owned(),
                ..Row::default()
            });
            under = Under::Row;
        } else if matches!(under, Under::Notes) {
            notes.push_str(t);
        } else if let Some(r) = rows.last_mut() {
            push(r, t);
        }
    }
    (rows, notes)
}
