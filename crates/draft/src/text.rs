//! Text as offices receive it: Word's "save as text" (one cell a line, led by tabs) and the
//! plain lines of the 2022 document, read into the document model. It knows no file format and
//! proposes no rule.

use crate::grammar::MAX_ONLY;
use crate::{Document, Row};

/// Reads the text form of the document (cells start with a tab, as Word's "save as text" and
/// `../shared/spec/seed-rubric-2022.txt` have them; without tabs, every line is a cell).
pub fn read_text(text: &str) -> Document {
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let tabbed = lines.iter().any(|l| l.starts_with('\t'));
    let mut title = String::new();
    let mut cells: Vec<String> = Vec::new();
    let mut notes = String::new();
    let mut in_notes = false;
    let mut in_table = false;
    for line in &lines {
        let t = line.trim();
        if in_notes {
            notes.push_str(t);
            continue;
        }
        let note = t.replace(' ', "");
        if (note.starts_with("备注：") || note.starts_with("备注:")) && !line.starts_with('\t')
        {
            in_notes = true;
            notes.push_str(t);
            continue;
        }
        if !in_table {
            if t.replace(' ', "") == "序号" || t.starts_with("序号") {
                in_table = true;
                cells.push(t.to_owned());
            } else if title.is_empty() && t.contains("细则") {
                t.clone_into(&mut title);
            }
            continue;
        }
        if (tabbed && line.starts_with('\t')) || (!tabbed && !t.is_empty()) {
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
    Document {
        title,
        rows: rows_of(&cells),
        notes,
    }
}

/// Groups a table's cells into rows: a row starts at a cell that is only a number.
pub(crate) fn rows_of(cells: &[String]) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for c in cells {
        let t = c.trim();
        if !t.is_empty() && t.chars().all(|ch| ch.is_ascii_digit()) {
            if let Some(r) = current.take() {
                rows.push(r);
            }
            current = Some(vec![t.to_owned()]);
        } else if let Some(r) = current.as_mut() {
            // A maximum alone in a cell ("（20分）") belongs to the item before it.
            if r.len() == 2 && MAX_ONLY.is_match(t) {
                r[1].push_str(t);
            } else {
                r.push(t.to_owned());
            }
        }
    }
    rows.extend(current);
    rows.into_iter()
        .map(|r| Row {
            seq: r.first().cloned().unwrap_or_default(),
            item: r.get(1).cloned().unwrap_or_default(),
            detail: r.get(2).cloned().unwrap_or_default(),
            ..Row::default()
        })
        .collect()
}
