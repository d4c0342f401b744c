//! CSV inputs: header mapping, row iteration with line numbers, and row-level errors.
//!
//! Accepted: UTF-8 with or without a BOM, a header row, columns in any order, unknown extra columns
//! (ignored), empty optional cells, rows shorter than the header (missing cells are empty), blank rows
//! (skipped). Refused, with file, line and column: a missing required column, a duplicated column, a
//! row longer than the header, text that is not UTF-8 (a GBK export, typically), and every rubric rule
//! the core enforces. Nothing here decides what a value means: that is the core's job.

use std::fmt;
use std::io::Read;

use lvzhi_core::{Field, LedgerBuilder, LedgerError, RecordFields, Roster, Rubric};

/// One refused row or header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// 1-based line; the header is line 1.
    pub line: u64,
    /// The column as written in the file's header (or the contract's name when it is missing).
    pub field: String,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{} 第 {} 行：{}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{} 第 {} 行，字段 {}：{}",
                self.file, self.line, self.field, self.message
            )
        }
    }
}

/// The errors of one or more input files; at most [`InputErrors::KEEP`] are kept, all are counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
pub struct InputErrors {
    pub errors: Vec<InputError>,
    pub total: usize,
}

impl InputErrors {
    pub const KEEP: usize = 200;

    pub fn push(&mut self, e: InputError) {
        self.total += 1;
        if self.errors.len() < Self::KEEP {
            self.errors.push(e);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn extend(&mut self, other: InputErrors) {
        self.total += other.total - other.errors.len();
        for e in other.errors {
            self.push(e);
        }
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "{e}")?;
        }
        if self.total > self.errors.len() {
            writeln!(f, "……另有 {} 处错误未列出", self.total - self.errors.len())?;
        }
        write!(f, "共 {} 处错误，未输出任何结果。", self.total)
    }
}

/// A column of an input file: the contract's name and the Chinese headers the office uses.
struct Column {
    field: Field,
    names: &'static [&'static str],
    required: bool,
}

const RECORD_COLUMNS: &[Column] = &[
    col(Field::Unit, &["unit", "单位", "单位名称"], true),
    col(Field::Rule, &["rule", "条款编号", "条款", "细则编号"], true),
    col(Field::Count, &["count", "数量", "次数"], false),
    col(Field::Points, &["points", "扣分", "扣分值", "分值"], false),
    col(Field::Date, &["date", "日期"], false),
];
/// Free-text record columns, recognised so that they are checked for encoding and never mistaken.
const RECORD_TEXT: &[&str] = &["source", "依据", "note", "说明", "备注"];

const ASSESSMENT_COLUMNS: &[Column] = &[
    col(Field::Unit, &["unit", "单位", "单位名称"], true),
    col(Field::Rule, &["rule", "条款编号", "条款", "细则编号"], true),
    col(Field::Assessor, &["assessor", "督导组"], true),
    col(Field::Score, &["score", "得分", "分数"], true),
];

const METRIC_COLUMNS: &[Column] = &[
    col(Field::Unit, &["unit", "单位", "单位名称"], true),
    col(Field::Metric, &["metric", "指标"], true),
    col(Field::Value, &["value", "数值"], true),
];

const UNIT_COLUMNS: &[Column] = &[
    col(Field::Name, &["name", "单位名称", "单位"], true),
    col(Field::Class, &["class", "类别"], true),
    col(Field::Tags, &["tags", "标签"], false),
];

const fn col(field: Field, names: &'static [&'static str], required: bool) -> Column {
    Column {
        field,
        names,
        required,
    }
}

/// Where each wanted column sits in the file, and how the file names it.
struct Layout {
    file: String,
    /// Per wanted column: position in the row and header text.
    at: Vec<Option<(usize, String)>>,
    width: usize,
    columns: &'static [Column],
}

impl Layout {
    fn field_name(&self, f: Field) -> String {
        self.columns
            .iter()
            .zip(&self.at)
            .find(|(c, _)| c.field == f)
            .and_then(|(_, a)| a.as_ref().map(|(_, name)| name.clone()))
            .unwrap_or_else(|| f.column().to_owned())
    }

    fn error(&self, line: u64, e: &LedgerError) -> InputError {
        InputError {
            file: self.file.clone(),
            line,
            field: self.field_name(e.field),
            message: e.problem.to_string(),
        }
    }

    fn get<'a>(&self, rec: &'a csv::ByteRecord, i: usize) -> &'a [u8] {
        match &self.at[i] {
            Some((pos, _)) => rec.get(*pos).unwrap_or(b""),
            None => b"",
        }
    }
}

fn reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 18)
        .from_reader(input)
}

fn header_cell(raw: &[u8], first: bool) -> String {
    let raw = if first {
        raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
    } else {
        raw
    };
    String::from_utf8_lossy(raw)
        .trim()
        .trim_start_matches('\u{feff}')
        .to_owned()
}

/// Reads the header row and maps the wanted columns; refuses a missing, duplicated or unknown layout.
fn layout<R: Read>(
    rdr: &mut csv::Reader<R>,
    file: &str,
    columns: &'static [Column],
    text_columns: &[&str],
) -> Result<Layout, InputErrors> {
    let mut errs = InputErrors::default();
    let mut head = csv::ByteRecord::new();
    let has = rdr.read_byte_record(&mut head).map_err(|e| {
        let mut x = InputErrors::default();
        x.push(csv_error(file, &e));
        x
    })?;
    let err = |field: &str, message: String| InputError {
        file: file.to_owned(),
        line: 1,
        field: field.to_owned(),
        message,
    };
    let expected = || {
        columns
            .iter()
            .filter(|c| c.required)
            .map(|c| c.field.column())
            .collect::<Vec<_>>()
            .join(",")
    };
    if !has || head.iter().all(|c| c.trim_ascii().is_empty()) {
        errs.push(err("", format!("缺少表头（应为 {} 等列名）", expected())));
        return Err(errs);
    }
    let names: Vec<String> = head
        .iter()
        .enumerate()
        .map(|(i, c)| header_cell(c, i == 0))
        .collect();
    if std::str::from_utf8(head.as_slice()).is_err() {
        errs.push(err("", not_utf8()));
        return Err(errs);
    }
    let mut at: Vec<Option<(usize, String)>> = vec![None; columns.len()];
    for (pos, name) in names.iter().enumerate() {
        let lower = name.to_ascii_lowercase();
        if let Some(ci) = columns
            .iter()
            .position(|c| c.names.iter().any(|n| *n == lower))
        {
            if let Some((_, first)) = &at[ci] {
                errs.push(err(
                    name,
                    format!("列重复：「{first}」与「{name}」是同一列"),
                ));
            } else {
                at[ci] = Some((pos, name.clone()));
            }
        } else if !name.is_empty() && !text_columns.iter().any(|t| *t == lower) {
            // Unknown columns are allowed (the office adds its own) and ignored.
        }
    }
    for (c, a) in columns.iter().zip(&at) {
        if c.required && a.is_none() {
            errs.push(err(
                c.field.column(),
                format!(
                    "缺少必需的列「{}」（可用列名：{}）",
                    c.field.column(),
                    c.names.join("、")
                ),
            ));
        }
    }
    if errs.is_empty() {
        Ok(Layout {
            file: file.to_owned(),
            at,
            width: names.len(),
            columns,
        })
    } else {
        Err(errs)
    }
}

fn not_utf8() -> String {
    "文本不是 UTF-8 编码（可能是 GBK 等编码导出的文件），请另存为 UTF-8 后再导入".to_owned()
}

fn csv_error(file: &str, e: &csv::Error) -> InputError {
    let line = e.position().map_or(0, csv::Position::line);
    InputError {
        file: file.to_owned(),
        line,
        field: String::new(),
        message: match e.kind() {
            csv::ErrorKind::Io(io) => format!("读取失败：{io}"),
            _ => format!("CSV 格式错误：{e}"),
        },
    }
}

/// Streams the data rows of a file to `each(line, row)`; checks shape and encoding first.
fn rows<R: Read>(
    mut rdr: csv::Reader<R>,
    layout: &Layout,
    errs: &mut InputErrors,
    mut each: impl FnMut(u64, &csv::ByteRecord) -> Result<(), LedgerError>,
) {
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errs.push(csv_error(&layout.file, &e));
                // A broken quote swallows the rest of the file; stop rather than report noise.
                break;
            }
        }
        let line = rec.position().map_or(0, csv::Position::line);
        if rec.iter().all(|c| c.trim_ascii().is_empty()) {
            continue;
        }
        if rec.len() > layout.width {
            errs.push(InputError {
                file: layout.file.clone(),
                line,
                field: String::new(),
                message: format!(
                    "该行有 {} 个字段，表头只有 {} 列（文字中的逗号须用双引号括起）",
                    rec.len(),
                    layout.width
                ),
            });
            continue;
        }
        if std::str::from_utf8(rec.as_slice()).is_err() {
            errs.push(InputError {
                file: layout.file.clone(),
                line,
                field: String::new(),
                message: not_utf8(),
            });
            continue;
        }
        if let Err(e) = each(line, &rec) {
            errs.push(layout.error(line, &e));
        }
    }
}

/// Reads a roster file (`name,class,tags`).
pub fn read_units<R: Read>(rubric: &Rubric, input: R, file: &str) -> Result<Roster, InputErrors> {
    let mut rdr = reader(input);
    let layout = layout(&mut rdr, file, UNIT_COLUMNS, &[])?;
    let mut errs = InputErrors::default();
    let mut roster = Roster::default();
    rows(rdr, &layout, &mut errs, |line, rec| {
        let s = |i| std::str::from_utf8(layout.get(rec, i)).unwrap_or("");
        roster.add(rubric, line, s(0), s(1), s(2))
    });
    if roster.is_empty() && errs.is_empty() {
        errs.push(InputError {
            file: file.to_owned(),
            line: 1,
            field: String::new(),
            message: "名册中没有任何单位".to_owned(),
        });
    }
    if errs.is_empty() {
        Ok(roster)
    } else {
        Err(errs)
    }
}

/// Streams a records file (`unit,rule,count,points,date,source,note`) into the builder.
pub fn read_records<R: Read>(builder: &mut LedgerBuilder<'_>, input: R, file: &str) -> InputErrors {
    let mut rdr = reader(input);
    let layout = match layout(&mut rdr, file, RECORD_COLUMNS, RECORD_TEXT) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let mut errs = InputErrors::default();
    rows(rdr, &layout, &mut errs, |line, rec| {
        let fields = RecordFields {
            unit: layout.get(rec, 0),
            rule: layout.get(rec, 1),
            count: layout.get(rec, 2),
            points: layout.get(rec, 3),
            date: layout.get(rec, 4),
        };
        builder.add_record(line, &fields)
    });
    errs
}

/// Streams an assessments file (`unit,rule,assessor,score`) into the builder.
pub fn read_assessments<R: Read>(
    builder: &mut LedgerBuilder<'_>,
    input: R,
    file: &str,
) -> InputErrors {
    let mut rdr = reader(input);
    let layout = match layout(&mut rdr, file, ASSESSMENT_COLUMNS, &[]) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let mut errs = InputErrors::default();
    rows(rdr, &layout, &mut errs, |line, rec| {
        let s = |i| std::str::from_utf8(layout.get(rec, i)).unwrap_or("");
        builder.add_assessment(line, s(0), s(1), s(2), s(3))
    });
    errs
}

/// Streams a metrics file (`unit,metric,value`) into the builder.
pub fn read_metrics<R: Read>(builder: &mut LedgerBuilder<'_>, input: R, file: &str) -> InputErrors {
    let mut rdr = reader(input);
    let layout = match layout(&mut rdr, file, METRIC_COLUMNS, &[]) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let mut errs = InputErrors::default();
    rows(rdr, &layout, &mut errs, |line, rec| {
        let s = |i| std::str::from_utf8(layout.get(rec, i)).unwrap_or("");
        builder.add_metric(line, s(0), s(1), s(2))
    });
    errs
}
