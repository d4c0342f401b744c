//! CSV inputs: header mapping, row iteration, and row-level errors with line numbers.
//!
//! Accepted: UTF-8 with or without a BOM, a header row, columns in any order, unknown extra columns
//! (ignored), empty optional cells, rows shorter than the header (missing cells are empty), blank rows
//! (skipped), CRLF line ends, quoted fields. Refused, with file, line and column: a missing required
//! column, a duplicated column, a row longer than the header, text that is not UTF-8 (a GBK export,
//! typically), and every rubric rule the core enforces. Nothing here decides what a value means: that
//! is the core's job.
//!
//! Rows are read with `simd-csv` and identified by the byte offset where they start; only when
//! something is refused is the input read a second time to turn those offsets into line numbers, so
//! the common path never counts lines.

use std::fmt;
use std::io::{BufRead, BufReader, Read};

use lvzhi_core::{Field, LedgerBuilder, LedgerError, RecordFields, Roster, Rubric};
use simd_csv::ByteRecord;

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

    fn get<'a>(&self, rec: &'a ByteRecord, i: usize) -> &'a [u8] {
        match &self.at[i] {
            Some((pos, _)) => rec.get(*pos).unwrap_or(b""),
            None => b"",
        }
    }

    fn text<'a>(&self, rec: &'a ByteRecord, i: usize) -> &'a str {
        // Rows reach the callers only after their UTF-8 check.
        std::str::from_utf8(self.get(rec, i)).unwrap_or("")
    }
}

/// A refused row before its offset is turned into a line number.
struct Pending {
    /// Byte offset of the row (0 for the header).
    at: u64,
    field: String,
    message: String,
    /// For errors from the core: the error, whose referenced row is an offset too.
    core: Option<LedgerError>,
}

/// Reads one CSV input: the header, then every row through `each`; collects refusals.
struct Input<R: Read> {
    file: String,
    rdr: simd_csv::Reader<R>,
    pending: Vec<Pending>,
    /// Byte offset of the reader's start in the file (a second thread starts mid-file).
    base: u64,
}

impl<R: Read> Input<R> {
    fn new(input: R, file: &str) -> Self {
        let rdr = simd_csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 18)
            .from_reader(input);
        Input {
            file: file.to_owned(),
            rdr,
            pending: Vec::new(),
            base: 0,
        }
    }

    fn refuse(&mut self, at: u64, field: &str, message: String) {
        self.pending.push(Pending {
            at,
            field: field.to_owned(),
            message,
            core: None,
        });
    }

    /// Reads the header row and maps the wanted columns; `None` when the layout is refused.
    fn layout(&mut self, columns: &'static [Column]) -> Option<Layout> {
        let mut head = ByteRecord::new();
        let has = match self.rdr.read_byte_record(&mut head) {
            Ok(h) => h,
            Err(e) => {
                self.refuse(0, "", read_error(&e));
                return None;
            }
        };
        let expected = columns
            .iter()
            .filter(|c| c.required)
            .map(|c| c.field.column())
            .collect::<Vec<_>>()
            .join(",");
        if !has || head.iter().all(|c| c.trim_ascii().is_empty()) {
            self.refuse(0, "", format!("缺少表头（应为 {expected} 等列名）"));
            return None;
        }
        if simdutf8::basic::from_utf8(head.as_slice()).is_err() {
            self.refuse(0, "", not_utf8());
            return None;
        }
        let names: Vec<String> = head
            .iter()
            .map(|c| {
                String::from_utf8_lossy(c)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_owned()
            })
            .collect();
        let mut at: Vec<Option<(usize, String)>> = vec![None; columns.len()];
        let mut ok = true;
        for (pos, name) in names.iter().enumerate() {
            let lower = name.to_ascii_lowercase();
            // Unknown columns (the office adds its own) are allowed and ignored.
            if let Some(ci) = columns
                .iter()
                .position(|c| c.names.iter().any(|n| *n == lower))
            {
                if let Some((_, first)) = &at[ci] {
                    let message = format!("列重复：「{first}」与「{name}」是同一列");
                    self.refuse(0, name, message);
                    ok = false;
                } else {
                    at[ci] = Some((pos, name.clone()));
                }
            }
        }
        for (c, a) in columns.iter().zip(&at) {
            if c.required && a.is_none() {
                let message = format!(
                    "缺少必需的列「{}」（可用列名：{}）",
                    c.field.column(),
                    c.names.join("、")
                );
                self.refuse(0, c.field.column(), message);
                ok = false;
            }
        }
        ok.then_some(Layout {
            at,
            width: names.len(),
            columns,
        })
    }

    /// Streams the data rows to `each(offset, row)`, after checking shape and encoding.
    fn rows(
        &mut self,
        layout: &Layout,
        mut each: impl FnMut(u64, &ByteRecord) -> Result<(), LedgerError>,
    ) {
        let mut rec = ByteRecord::new();
        loop {
            let at = self.base + self.rdr.position();
            match self.rdr.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    self.refuse(at, "", read_error(&e));
                    break;
                }
            }
            if rec.iter().all(|c| c.trim_ascii().is_empty()) {
                continue;
            }
            if rec.len() > layout.width {
                let message = format!(
                    "该行有 {} 个字段，表头只有 {} 列（文字中的逗号须用双引号括起）",
                    rec.len(),
                    layout.width
                );
                self.refuse(at, "", message);
                continue;
            }
            if simdutf8::basic::from_utf8(rec.as_slice()).is_err() {
                self.refuse(at, "", not_utf8());
                continue;
            }
            if let Err(e) = each(at, &rec) {
                self.pending.push(core_pending(layout, e));
            }
        }
    }

    /// Turns the refusals into errors with line numbers, reading the input again from `reopen`.
    fn finish(self, reopen: impl FnOnce() -> std::io::Result<Box<dyn Read>>) -> InputErrors {
        self.finish_with(InputErrors::default(), reopen)
    }

    /// [`Self::finish`], adding to `errs`.
    fn finish_with(
        self,
        mut errs: InputErrors,
        reopen: impl FnOnce() -> std::io::Result<Box<dyn Read>>,
    ) -> InputErrors {
        if self.pending.is_empty() {
            return errs;
        }
        let mut offsets: Vec<u64> = Vec::new();
        for p in &self.pending {
            offsets.push(p.at);
            if let Some(mut e) = p.core.clone()
                && let Some(o) = e.problem.other_row_mut()
            {
                offsets.push(*o);
            }
        }
        let lines = match reopen() {
            Ok(r) => line_numbers(r, &offsets),
            Err(_) => offsets.iter().map(|_| 0).collect(),
        };
        let line_of = |off: u64| -> u64 {
            offsets
                .iter()
                .position(|&o| o == off)
                .map_or(0, |i| lines[i])
        };
        let mut pending = self.pending;
        pending.sort_by_key(|p| p.at);
        for p in pending {
            let message = match p.core {
                Some(mut e) => {
                    if let Some(o) = e.problem.other_row_mut() {
                        *o = line_of(*o);
                    }
                    e.problem.to_string()
                }
                None => p.message,
            };
            errs.push(InputError {
                file: self.file.clone(),
                line: line_of(p.at),
                field: p.field,
                message,
            });
        }
        errs
    }
}

/// The 1-based line of the row starting at each byte offset (an offset may point at the line end
/// that precedes its row: line ends are skipped before counting).
fn line_numbers(input: impl Read, offsets: &[u64]) -> Vec<u64> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut out = vec![0u64; offsets.len()];
    let mut r = BufReader::with_capacity(1 << 16, input);
    let mut pos = 0u64;
    let mut line = 1u64;
    let mut k = 0;
    // State: after reaching an offset, skip CR/LF bytes; the row starts at the next other byte.
    let mut skipping = false;
    while k < order.len() {
        let Ok(buf) = r.fill_buf() else { break };
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut i = 0usize;
        while i < len && k < order.len() {
            let target = offsets[order[k]];
            if !skipping && pos + i as u64 >= target {
                skipping = true;
            }
            if skipping {
                match buf[i] {
                    b'\n' => line += 1,
                    b'\r' => {}
                    _ => {
                        // Every offset at or before this byte belongs to this line.
                        while k < order.len() && offsets[order[k]] <= pos + i as u64 {
                            out[order[k]] = line;
                            k += 1;
                        }
                        skipping = false;
                        continue;
                    }
                }
                i += 1;
            } else {
                // Count line ends up to the target in one go.
                let stop = ((target - pos) as usize).min(len);
                line += memchr::memchr_iter(b'\n', &buf[i..stop]).count() as u64;
                i = stop;
            }
        }
        pos += i as u64;
        r.consume(i);
    }
    for &j in &order[k..] {
        out[j] = line;
    }
    out
}

fn not_utf8() -> String {
    "文本不是 UTF-8 编码（可能是 GBK 等编码导出的文件），请另存为 UTF-8 后再导入".to_owned()
}

fn read_error(e: &simd_csv::Error) -> String {
    match e.kind() {
        simd_csv::ErrorKind::Io(io) => format!("读取失败：{io}"),
        _ => format!("CSV 格式错误：{e}"),
    }
}

/// A source that can be read twice: once to load, and again only to number the lines of errors.
pub trait Source {
    fn open(&self) -> std::io::Result<Box<dyn Read>>;
}

impl Source for std::path::Path {
    fn open(&self) -> std::io::Result<Box<dyn Read>> {
        Ok(Box::new(std::fs::File::open(self)?))
    }
}

impl Source for std::path::PathBuf {
    fn open(&self) -> std::io::Result<Box<dyn Read>> {
        self.as_path().open()
    }
}

impl Source for Vec<u8> {
    fn open(&self) -> std::io::Result<Box<dyn Read>> {
        self.as_slice().open()
    }
}

impl Source for [u8] {
    fn open(&self) -> std::io::Result<Box<dyn Read>> {
        Ok(Box::new(std::io::Cursor::new(self.to_vec())))
    }
}

fn with_input<S: Source + ?Sized>(
    src: &S,
    file: &str,
    body: impl FnOnce(&mut Input<Box<dyn Read>>),
) -> InputErrors {
    let reader = match src.open() {
        Ok(r) => r,
        Err(e) => {
            let mut errs = InputErrors::default();
            errs.push(InputError {
                file: file.to_owned(),
                line: 0,
                field: String::new(),
                message: format!("无法打开：{e}"),
            });
            return errs;
        }
    };
    let mut input = Input::new(reader, file);
    body(&mut input);
    input.finish(|| src.open())
}

/// Reads a roster file (`name,class,tags`).
pub fn read_units<S: Source + ?Sized>(
    rubric: &Rubric,
    src: &S,
    file: &str,
) -> Result<Roster, InputErrors> {
    let mut roster = Roster::default();
    let mut errs = with_input(src, file, |input| {
        if let Some(layout) = input.layout(UNIT_COLUMNS) {
            input.rows(&layout, |at, rec| {
                roster.add(
                    rubric,
                    at,
                    layout.text(rec, 0),
                    layout.text(rec, 1),
                    layout.text(rec, 2),
                )
            });
        }
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
pub fn read_records<S: Source + ?Sized>(
    builder: &mut LedgerBuilder<'_>,
    src: &S,
    file: &str,
) -> InputErrors {
    with_input(src, file, |input| {
        if let Some(layout) = input.layout(RECORD_COLUMNS) {
            input.rows(&layout, |at, rec| {
                builder.add_record(at, &record_fields(&layout, rec))
            });
        }
    })
}

/// Files smaller than this are read on one thread.
const PARALLEL_MIN: u64 = 8 << 20;

/// Passes reads through, noting whether a `"` was seen: a split point is only safe when no quoted
/// field can have started before it.
struct QuoteWatch<R> {
    inner: R,
    seen: bool,
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.seen && memchr::memchr(b'"', &buf[..n]).is_some() {
            self.seen = true;
        }
        Ok(n)
    }
}

/// The start of the first line after the middle of the file, if there is one.
fn split_point(path: &std::path::Path, size: u64) -> std::io::Result<Option<u64>> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let mid = size / 2;
    f.seek(SeekFrom::Start(mid))?;
    let mut buf = vec![0u8; 1 << 16];
    let n = f.read(&mut buf)?;
    Ok(memchr::memchr(b'\n', &buf[..n]).map(|i| mid + i as u64 + 1))
}

fn record_fields<'a>(layout: &Layout, rec: &'a ByteRecord) -> RecordFields<'a> {
    RecordFields {
        unit: layout.get(rec, 0),
        rule: layout.get(rec, 1),
        count: layout.get(rec, 2),
        points: layout.get(rec, 3),
        date: layout.get(rec, 4),
    }
}

/// [`read_records`] for a file on disk, on two threads when the file is large: each half is parsed
/// and checked row by row (`check_record`) in parallel, then the rows are pushed in file order
/// (`push_record`), so the ledger and every message are exactly those of a single-threaded read.
/// The halves meet at a line start with no `"` before it; a file with quotes in its first half is
/// read on one thread.
pub fn read_records_file(
    builder: &mut LedgerBuilder<'_>,
    path: &std::path::Path,
    file: &str,
) -> InputErrors {
    use std::io::{Seek, SeekFrom};
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    // About 80 bytes a record: room reserved up front is never copied while the ledger grows.
    let per_record = 80u64;
    let sequential = |b: &mut LedgerBuilder<'_>| {
        b.reserve_records((size / per_record) as usize);
        read_records(b, path, file)
    };
    let split = if size >= PARALLEL_MIN {
        split_point(path, size).ok().flatten()
    } else {
        None
    };
    let (Some(split), Ok(f1), Ok(mut f2)) =
        (split, std::fs::File::open(path), std::fs::File::open(path))
    else {
        return sequential(builder);
    };
    if f2.seek(SeekFrom::Start(split)).is_err() {
        return sequential(builder);
    }
    let mut first = Input::new(
        QuoteWatch {
            inner: f1.take(split),
            seen: false,
        },
        file,
    );
    let Some(layout) = first.layout(RECORD_COLUMNS) else {
        drop(f2);
        let errs = InputErrors::default();
        return first.finish_with(errs, || path.open());
    };
    let checker: &LedgerBuilder<'_> = builder;
    let (mut one, (two_pending, two)) = std::thread::scope(|s| {
        let second = s.spawn(|| {
            let mut input = Input::new(f2, file);
            input.base = split;
            let mut out = Vec::with_capacity(((size - split) / per_record) as usize);
            input.rows(&layout, |at, rec| {
                out.push(checker.check_record(at, &record_fields(&layout, rec))?);
                Ok(())
            });
            (input.pending, out)
        });
        let mut out = Vec::with_capacity((size / per_record) as usize);
        first.rows(&layout, |at, rec| {
            out.push(checker.check_record(at, &record_fields(&layout, rec))?);
            Ok(())
        });
        (out, second.join().unwrap_or_default())
    });
    if first.rdr.get_ref().seen {
        // A quoted field may cross the split: read again on one thread.
        drop((one, two));
        return sequential(builder);
    }
    first.pending.extend(two_pending);
    // `one` has room for the whole file, so appending the second half does not reallocate.
    one.reserve(two.len());
    for e in builder.push_records(one) {
        first.pending.push(core_pending(&layout, e));
    }
    for e in builder.push_records(two) {
        first.pending.push(core_pending(&layout, e));
    }
    first.finish_with(InputErrors::default(), || path.open())
}

fn core_pending(layout: &Layout, e: LedgerError) -> Pending {
    Pending {
        at: e.row,
        field: layout.field_name(e.field),
        message: String::new(),
        core: Some(e),
    }
}

/// Which table [`read_table`] reads, and so which columns, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// name, class, tags
    Units,
    /// unit, rule, count, points, date, source, note
    Records,
    /// unit, rule, assessor, score
    Assessments,
    /// unit, metric, value
    Metrics,
}

impl Table {
    /// The table's name for people (pages, sheet names, file names).
    pub fn label(self) -> &'static str {
        match self {
            Table::Units => "名册",
            Table::Records => "扣分记录",
            Table::Assessments => "督导组打分",
            Table::Metrics => "指标数据",
        }
    }
}

const RECORD_ROW_COLUMNS: &[Column] = &[
    col(Field::Unit, &["unit", "单位", "单位名称"], true),
    col(Field::Rule, &["rule", "条款编号", "条款", "细则编号"], true),
    col(Field::Count, &["count", "数量", "次数"], false),
    col(Field::Points, &["points", "扣分", "扣分值", "分值"], false),
    col(Field::Date, &["date", "日期"], false),
    col(Field::Source, &["source", "依据"], false),
    col(Field::Note, &["note", "说明", "备注"], false),
];

/// Reads a whole table as text cells in the table's column order (missing optional columns are
/// empty), for loading into the store, which checks the values. Refuses a bad header, a row longer
/// than the header and text that is not UTF-8.
pub fn read_table<S: Source + ?Sized>(
    src: &S,
    file: &str,
    table: Table,
) -> Result<Vec<Vec<String>>, InputErrors> {
    read_table_lines(src, file, table).map(|(rows, _)| rows)
}

/// [`read_table`], with the 1-based line where each row starts.
pub fn read_table_lines<S: Source + ?Sized>(
    src: &S,
    file: &str,
    table: Table,
) -> Result<(Vec<Vec<String>>, Vec<u64>), InputErrors> {
    let columns = match table {
        Table::Units => UNIT_COLUMNS,
        Table::Records => RECORD_ROW_COLUMNS,
        Table::Assessments => ASSESSMENT_COLUMNS,
        Table::Metrics => METRIC_COLUMNS,
    };
    let mut rows = Vec::new();
    let mut offsets = Vec::new();
    let errs = with_input(src, file, |input| {
        if let Some(layout) = input.layout(columns) {
            input.rows(&layout, |at, rec| {
                offsets.push(at);
                rows.push(
                    (0..columns.len())
                        .map(|i| layout.text(rec, i).trim().to_owned())
                        .collect(),
                );
                Ok(())
            });
        }
    });
    if !errs.is_empty() {
        return Err(errs);
    }
    let lines = match src.open() {
        Ok(r) => line_numbers(r, &offsets),
        Err(_) => offsets.iter().map(|_| 0).collect(),
    };
    Ok((rows, lines))
}

/// Streams an assessments file (`unit,rule,assessor,score`) into the builder.
pub fn read_assessments<S: Source + ?Sized>(
    builder: &mut LedgerBuilder<'_>,
    src: &S,
    file: &str,
) -> InputErrors {
    with_input(src, file, |input| {
        if let Some(layout) = input.layout(ASSESSMENT_COLUMNS) {
            input.rows(&layout, |at, rec| {
                builder.add_assessment(
                    at,
                    layout.text(rec, 0),
                    layout.text(rec, 1),
                    layout.text(rec, 2),
                    layout.text(rec, 3),
                )
            });
        }
    })
}

/// Streams a metrics file (`unit,metric,value`) into the builder.
pub fn read_metrics<S: Source + ?Sized>(
    builder: &mut LedgerBuilder<'_>,
    src: &S,
    file: &str,
) -> InputErrors {
    with_input(src, file, |input| {
        if let Some(layout) = input.layout(METRIC_COLUMNS) {
            input.rows(&layout, |at, rec| {
                builder.add_metric(
                    at,
                    layout.text(rec, 0),
                    layout.text(rec, 1),
                    layout.text(rec, 2),
                )
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::line_numbers;

    #[test]
    fn offsets_become_line_numbers() {
        let text = b"h\na\r\n\r\nb\n\"x\ny\"\nc";
        // Offsets as the reader reports them: the end of the previous row, or the header's start.
        let offsets = [0u64, 1, 3, 8, 14];
        assert_eq!(line_numbers(&text[..], &offsets), vec![1, 2, 4, 5, 7]);
        assert_eq!(line_numbers(&text[..], &[14, 0]), vec![7, 1]);
    }
}
