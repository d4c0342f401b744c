//! Workbooks in: the first visible worksheet of an `.xlsx` file, turned into the CSV text that the
//! CSV readers take, with a map from CSV lines back to the worksheet's own row numbers so that every
//! refusal names the row a person sees in Excel or WPS.
//!
//! A workbook is recognised by its content (a zip), never by its name. Hostile files are refused, not
//! obeyed: a file over [`MAX_WORKBOOK`], a zip whose entries would expand beyond
//! [`MAX_UNCOMPRESSED`] or number more than [`MAX_ENTRIES`] (checked from the zip directory before
//! anything is decompressed), merged cells in the table, formula error values. Formulas are never
//! evaluated: the value the spreadsheet program saved is taken. Hidden sheets are never read. Title
//! rows above the header (fewer than two filled cells, often merged) are skipped. Dates may be real
//! dates (Excel serials, in the 1900 or the 1904 date system) or text. Numbers are written as Excel shows them (15 significant digits), so
//! a binary fraction such as 0.30000000000000004 reads as 0.3 and 1.805 stays 1.805 (and is refused
//! by the core for its third decimal, never rounded). This module must not decide what a value
//! means: the CSV readers and the core do.

use std::io::{Cursor, Read, Seek};

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx};

use crate::csv_input::{InputError, InputErrors};

/// The largest workbook accepted.
pub const MAX_WORKBOOK: u64 = 50 << 20;
/// The most the zip's entries may expand to, by the sizes its directory declares.
pub const MAX_UNCOMPRESSED: u64 = 400 << 20;
/// The most entries a workbook's zip may have.
pub const MAX_ENTRIES: usize = 10_000;
/// The highest compression ratio allowed for an entry larger than 1 MB uncompressed.
const MAX_RATIO: u64 = 200;

/// Whether these bytes are a zip (so possibly a workbook), by the first four bytes.
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// Whether the file at `path` is a zip (a workbook), by its content.
pub fn is_workbook(path: &std::path::Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| is_zip(&head))
}

/// A worksheet as CSV text, and where each CSV line came from.
pub struct SheetCsv {
    pub csv: Vec<u8>,
    /// The worksheet's name.
    pub sheet: String,
    /// (first CSV line of a row, the worksheet row it came from), ascending.
    lines: Vec<(u64, u32)>,
}

impl SheetCsv {
    /// CSV text as it is (an upload that is not a workbook): lines are lines.
    pub fn plain(csv: Vec<u8>) -> SheetCsv {
        SheetCsv {
            csv,
            sheet: String::new(),
            lines: Vec::new(),
        }
    }

    /// The worksheet row of a CSV line (1-based both).
    pub fn row_of(&self, line: u64) -> u64 {
        match self.lines.binary_search_by_key(&line, |&(l, _)| l) {
            Ok(i) => u64::from(self.lines[i].1),
            Err(0) => line,
            Err(i) => u64::from(self.lines[i - 1].1),
        }
    }

    /// Refusals of the CSV readers, renumbered to the worksheet's rows.
    pub fn relabel(&self, mut errs: InputErrors) -> InputErrors {
        for e in &mut errs.errors {
            if e.line > 0 {
                e.line = self.row_of(e.line);
            }
        }
        errs
    }
}

fn refuse(file: &str, line: u64, field: &str, message: impl Into<String>) -> InputErrors {
    let mut errs = InputErrors::default();
    errs.push(InputError {
        file: file.to_owned(),
        line,
        field: field.to_owned(),
        message: message.into(),
    });
    errs
}

/// Checks the zip directory before anything is decompressed.
fn check_zip<R: Read + Seek>(reader: R, file: &str) -> Result<(), InputErrors> {
    let bad = |m: String| refuse(file, 0, "", m);
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| bad(format!("不是有效的 .xlsx 工作簿（zip 结构无法读取：{e}）")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(bad(format!(
            "工作簿内部文件过多（{} 个，上限 {MAX_ENTRIES}），拒绝读取",
            zip.len()
        )));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| bad(format!("工作簿内部文件无法读取：{e}")))?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > (1 << 20) && size / packed > MAX_RATIO {
            return Err(bad(format!(
                "工作簿内部文件「{}」压缩比异常（{} 倍），疑似压缩炸弹，拒绝读取",
                entry.name().unwrap_or_default(),
                size / packed
            )));
        }
    }
    if total > MAX_UNCOMPRESSED {
        return Err(bad(format!(
            "工作簿解压后过大（{} MB，上限 {} MB），拒绝读取",
            total >> 20,
            MAX_UNCOMPRESSED >> 20
        )));
    }
    Ok(())
}

/// A1-style name of a cell (0-based row and column).
fn cell_name(row: u32, col: u32) -> String {
    let mut c = col + 1;
    let mut letters = Vec::new();
    while c > 0 {
        let r = (c - 1) % 26;
        letters.push(char::from(b'A' + r as u8));
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", letters.into_iter().collect::<String>(), row + 1)
}

/// A number as Excel shows it: at most 15 significant digits, no trailing zeros.
pub fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let digits = if f == 0.0 {
        1
    } else {
        f.abs().log10().floor() as i32 + 1
    };
    let decimals = (15 - digits).clamp(0, 15) as usize;
    let s = format!("{f:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    };
    if s == "-0" { "0".to_owned() } else { s }
}

/// An Excel serial day (1900 system) as `YYYY-MM-DD`.
pub fn serial_date(serial: f64) -> Option<String> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    // Day 60 is the 1900-02-29 that never was; from day 61 on, day 0 is 1899-12-30.
    let days = serial.floor() as i64 - 25_569; // days since 1970-01-01
    let (y, m, d) = civil_from_days(days);
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days between the 1900 and the 1904 date systems' day zero.
const EPOCH_1904: f64 = 1462.0;

/// Appends the text of a cell to `out`, or says why it cannot be read. `epoch` is added to date
/// serials (1462 for a workbook in the 1904 date system, 0 otherwise).
fn cell_text(cell: &DataRef<'_>, epoch: f64, out: &mut String) -> Result<(), String> {
    match cell {
        DataRef::Empty => {}
        DataRef::SharedString(s) => out.push_str(s),
        DataRef::String(s) | DataRef::DurationIso(s) => out.push_str(s),
        DataRef::Int(i) => out.push_str(&i.to_string()),
        DataRef::Float(f) => out.push_str(&number_text(*f)),
        DataRef::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        DataRef::DateTime(dt) if dt.is_datetime() => out.push_str(
            &serial_date(dt.as_f64() + epoch)
                .ok_or_else(|| format!("日期超出范围（Excel 序号 {}）", dt.as_f64()))?,
        ),
        DataRef::DateTime(dt) => out.push_str(&number_text(dt.as_f64())),
        DataRef::DateTimeIso(s) => out.push_str(s.get(..10).unwrap_or(s)),
        DataRef::Error(e) => return Err(format!("单元格是公式错误值 {e}，请修正后再导入")),
    }
    Ok(())
}

/// Builds the CSV of a worksheet one row at a time.
struct Rows {
    out: csv::Writer<Vec<u8>>,
    lines: Vec<(u64, u32)>,
    line: u64,
    /// The header's worksheet row (0-based), once found.
    header: Option<u32>,
    /// The row being filled: its cells by column (0-based from column A).
    row: Vec<String>,
    row_at: u32,
}

impl Rows {
    fn flush(&mut self) -> Result<(), csv::Error> {
        let filled = self.row.iter().filter(|c| !c.is_empty()).count();
        if filled == 0 {
            self.row.clear();
            return Ok(());
        }
        // Title rows above the header have fewer than two filled cells.
        if self.header.is_none() {
            if filled < 2 {
                self.row.clear();
                return Ok(());
            }
            self.header = Some(self.row_at);
        }
        while self.row.last().is_some_and(String::is_empty) {
            self.row.pop();
        }
        self.lines.push((self.line, self.row_at + 1));
        self.line += 1 + self
            .row
            .iter()
            .map(|f| f.matches('\n').count() as u64)
            .sum::<u64>();
        self.out.write_record(&self.row)?;
        self.row.clear();
        Ok(())
    }
}

/// Reads the first visible worksheet of a workbook as CSV.
pub fn workbook_csv(bytes: &[u8], file: &str) -> Result<SheetCsv, InputErrors> {
    if bytes.len() as u64 > MAX_WORKBOOK {
        return Err(refuse(
            file,
            0,
            "",
            format!(
                "文件过大（{} MB，上限 {} MB），请拆分后导入",
                bytes.len() >> 20,
                MAX_WORKBOOK >> 20
            ),
        ));
    }
    check_zip(Cursor::new(bytes), file)?;
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        refuse(
            file,
            0,
            "",
            format!("不是有效的 .xlsx 工作簿：{e}（旧版 .xls 请另存为 .xlsx）"),
        )
    })?;
    let Some(sheet) = wb
        .sheets_metadata()
        .iter()
        .find(|s| s.visible == SheetVisible::Visible && s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
    else {
        return Err(refuse(file, 0, "", "工作簿中没有可见的工作表"));
    };
    let epoch = if wb.has_1904_epoch() { EPOCH_1904 } else { 0.0 };
    let label = |line: u64, field: &str, m: String| refuse(file, line, field, m);
    let unreadable =
        |e: &dyn std::fmt::Display| label(0, "", format!("工作表「{sheet}」无法读取：{e}"));
    let mut errs = InputErrors::default();
    let mut rows = Rows {
        out: csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::with_capacity(bytes.len() * 2)),
        lines: Vec::new(),
        line: 1,
        header: None,
        row: Vec::new(),
        row_at: 0,
    };
    // The merged cells are read on a second thread, from a second reader over the same bytes, while
    // this one streams the cells: each is a full pass over the sheet's XML.
    let merged = std::thread::scope(|scope| -> Result<Vec<calamine::Dimensions>, InputErrors> {
        let merges = scope.spawn(|| {
            Xlsx::new(Cursor::new(bytes))
                .ok()
                .and_then(|mut w: Xlsx<_>| w.merge_cells_by_sheet_name(&sheet).ok())
                .unwrap_or_default()
        });
        let mut cells = wb
            .worksheet_cells_reader(&sheet)
            .map_err(|e| unreadable(&e))?;
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
            let (r, c) = cell.get_position();
            if r != rows.row_at {
                rows.flush().map_err(|e| unreadable(&e))?;
                rows.row_at = r;
            }
            let c = c as usize;
            if rows.row.len() <= c {
                rows.row.resize(c + 1, String::new());
            }
            let mut text = std::mem::take(&mut rows.row[c]);
            text.clear();
            if let Err(m) = cell_text(cell.get_value(), epoch, &mut text) {
                errs.push(InputError {
                    file: file.to_owned(),
                    line: u64::from(r) + 1,
                    field: cell_name(r, c as u32),
                    message: m,
                });
                text.clear();
            }
            rows.row[c] = text;
        }
        Ok(merges.join().unwrap_or_default())
    })?;
    rows.flush().map_err(|e| unreadable(&e))?;
    let Some(header_row) = rows.header else {
        return Err(label(0, "", format!("工作表「{sheet}」是空的，或没有表头")));
    };
    // Merged cells: allowed in the title rows above the header only.
    for m in merged {
        if m.end.0 >= header_row {
            errs.push(InputError {
                file: file.to_owned(),
                line: u64::from(m.start.0) + 1,
                field: String::new(),
                message: format!(
                    "表格中有合并单元格 {}:{}，请取消合并并在每一行填写完整后再导入",
                    cell_name(m.start.0, m.start.1),
                    cell_name(m.end.0, m.end.1)
                ),
            });
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let lines = rows.lines;
    let csv = rows
        .out
        .into_inner()
        .map_err(|e| label(0, "", format!("转换失败：{e}")))?;
    Ok(SheetCsv { csv, sheet, lines })
}

/// Reads a workbook from disk (size checked before reading).
pub fn workbook_file(path: &std::path::Path, file: &str) -> Result<SheetCsv, InputErrors> {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > MAX_WORKBOOK {
        return Err(refuse(
            file,
            0,
            "",
            format!(
                "文件过大（{} MB，上限 {} MB），请拆分后导入",
                size >> 20,
                MAX_WORKBOOK >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| refuse(file, 0, "", format!("无法打开：{e}")))?;
    workbook_csv(&bytes, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(1.805), "1.805");
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(-0.25), "-0.25");
        assert_eq!(number_text(12.5), "12.5");
    }

    #[test]
    fn serials_become_dates() {
        assert_eq!(serial_date(44_562.0).as_deref(), Some("2022-01-01"));
        assert_eq!(serial_date(44_926.0).as_deref(), Some("2022-12-31"));
        assert_eq!(serial_date(44_713.75).as_deref(), Some("2022-06-01"));
        assert_eq!(serial_date(0.0), None);
    }

    #[test]
    fn cell_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(4, 27), "AB5");
    }
}
