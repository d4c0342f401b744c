//! The year's ledger: the roster, deduction records, assessors' scores and metric values.
//!
//! A [`Ledger`] can only be built through a [`LedgerBuilder`], which takes raw field texts one row at a
//! time (from a CSV line, a spreadsheet row or an API body) and enforces every rule of the rubric on
//! each: known unit and rule, applicability, counts, ranges, once-a-year, `max_count`, alternatives
//! (`excludes`), assessment bounds, dates inside the year, metric names. A refused row leaves the
//! builder unchanged and returns a [`LedgerError`] naming the field and the problem in Chinese, so the
//! same messages serve the command line, the API and the pages. Rows are identified by a caller-chosen
//! number (a file line, a database id). This module does no IO and keeps no text it does not need.

use std::collections::HashMap;
use std::sync::Arc;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
use std::fmt;

use rust_decimal::Decimal;

use crate::points::{Points, PointsError, parse_hundredths};
use crate::rubric::{Rubric, RuleKind};

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` (also `YYYY/MM/DD` and `YYYY.MM.DD`, single-digit month and day allowed).
    pub fn parse(text: &str) -> Option<Date> {
        Date::parse_bytes(text.trim().as_bytes())
    }

    /// [`Date::parse`] on bytes, with a fast path for the common `YYYY-MM-DD`.
    pub fn parse_bytes(b: &[u8]) -> Option<Date> {
        if let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *b {
            let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
            if digits.iter().all(u8::is_ascii_digit) {
                let v = |c: u8| u32::from(c - b'0');
                let date = Date {
                    year: (v(y0) * 1000 + v(y1) * 100 + v(y2) * 10 + v(y3)) as i32,
                    month: (v(m0) * 10 + v(m1)) as u8,
                    day: (v(d0) * 10 + v(d1)) as u8,
                };
                return date.is_valid().then_some(date);
            }
            return None;
        }
        let mut parts = b.split(|c| matches!(c, b'-' | b'/' | b'.'));
        let y = parse_uint(parts.next()?, 4, 4)?;
        let m = parse_uint(parts.next()?, 1, 2)?;
        let d = parse_uint(parts.next()?, 1, 2)?;
        if parts.next().is_some() {
            return None;
        }
        let date = Date {
            year: y as i32,
            month: u8::try_from(m).ok()?,
            day: u8::try_from(d).ok()?,
        };
        date.is_valid().then_some(date)
    }

    /// A date, if it exists in the calendar (02-29 only in a leap year).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let date = Date { year, month, day };
        date.is_valid().then_some(date)
    }

    fn is_valid(self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
    }

    /// Day of the year, 1-based.
    pub fn ordinal(self) -> u16 {
        const BEFORE: [u16; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let leap = u16::from(self.month > 2 && days_in_month(self.year, 2) == 29);
        BEFORE[usize::from(self.month.clamp(1, 12) - 1)] + leap + u16::from(self.day)
    }

    /// The date of a 1-based day of `year`.
    pub fn from_ordinal(year: i32, ordinal: u16) -> Option<Date> {
        let mut left = ordinal;
        for month in 1..=12u8 {
            let len = u16::from(days_in_month(year, month));
            if left >= 1 && left <= len {
                return Some(Date {
                    year,
                    month,
                    day: left as u8,
                });
            }
            left = left.checked_sub(len)?;
        }
        None
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn parse_uint(b: &[u8], min_len: usize, max_len: usize) -> Option<u32> {
    if b.len() < min_len || b.len() > max_len || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')))
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The field of an input row that a problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Unit,
    Rule,
    Count,
    Points,
    Date,
    Assessor,
    Score,
    Metric,
    Value,
    Name,
    Class,
    Tags,
    Source,
    Note,
    Reason,
}

impl Field {
    pub const ALL: [Field; 15] = [
        Field::Unit,
        Field::Rule,
        Field::Count,
        Field::Points,
        Field::Date,
        Field::Assessor,
        Field::Score,
        Field::Metric,
        Field::Value,
        Field::Name,
        Field::Class,
        Field::Tags,
        Field::Source,
        Field::Note,
        Field::Reason,
    ];

    /// The field by its column name of the file contract.
    pub fn parse(column: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.column() == column)
    }

    /// The field's name for people (the Chinese column heading of the office's files).
    pub fn label(self) -> &'static str {
        match self {
            Field::Unit => "单位",
            Field::Rule => "条款编号",
            Field::Count => "数量",
            Field::Points => "扣分值",
            Field::Date => "日期",
            Field::Assessor => "督导组",
            Field::Score => "得分",
            Field::Metric => "指标",
            Field::Value => "数值",
            Field::Name => "单位名称",
            Field::Class => "类别",
            Field::Tags => "标签",
            Field::Source => "依据",
            Field::Note => "说明",
            Field::Reason => "理由",
        }
    }

    /// The column name of the file contract.
    pub fn column(self) -> &'static str {
        match self {
            Field::Unit => "unit",
            Field::Rule => "rule",
            Field::Count => "count",
            Field::Points => "points",
            Field::Date => "date",
            Field::Assessor => "assessor",
            Field::Score => "score",
            Field::Metric => "metric",
            Field::Value => "value",
            Field::Name => "name",
            Field::Class => "class",
            Field::Tags => "tags",
            Field::Source => "source",
            Field::Note => "note",
            Field::Reason => "reason",
        }
    }
}

/// What is wrong with a row, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("必填，不能为空")]
    Missing,
    #[error("未知单位「{0}」（不在本年度名册中）")]
    UnknownUnit(String),
    #[error("未知条款「{0}」（细则中没有该编号）")]
    UnknownRule(String),
    #[error("条款 {rule} 只适用于带「{tag}」标签的单位，该单位没有此标签")]
    NotApplicable { rule: String, tag: String },
    #[error("数量须为不小于 1 的整数，实为「{0}」")]
    BadCount(String),
    #[error("条款 {0} 每年至多记录一次，数量只能为 1")]
    CountMustBeOne(String),
    #[error("条款 {rule} 全年数量合计 {total} 超过上限 {max}")]
    CountOverMax { rule: String, total: u64, max: u32 },
    #[error("条款 {rule} 为区间扣分，须填写扣分值（{min} 至 {max} 分）")]
    PointsRequired {
        rule: String,
        min: Points,
        max: Points,
    },
    #[error("扣分值 {got} 超出条款 {rule} 的范围（{min} 至 {max} 分）")]
    PointsOutOfRange {
        rule: String,
        got: Points,
        min: Points,
        max: Points,
    },
    #[error("条款 {rule} 为分档扣分，扣分值须为以下之一：{levels}")]
    NotALevel { rule: String, levels: String },
    #[error("条款 {0} 的扣分值由细则确定，不应填写（只有区间、分档条款填写扣分值）")]
    PointsNotAllowed(String),
    #[error("数值「{text}」无效：{reason}")]
    BadNumber { text: String, reason: PointsError },
    #[error("条款 {rule} 每个单位每年只能记录一次，该单位已有记录（第 {first} 行）")]
    OnceAYear { rule: String, first: u64 },
    #[error(
        "条款 {rule} 与条款 {other} 互斥（择一扣分），该单位已有条款 {other} 的记录（第 {first} 行）"
    )]
    Excluded {
        rule: String,
        other: String,
        first: u64,
    },
    #[error("条款 {0} 由指标数据自动计算，不能录入扣分记录")]
    ComputedRule(String),
    #[error("条款 {0} 由督导组打分，请在打分表中录入")]
    AssessedRule(String),
    #[error("条款 {0} 不是督导组打分条款")]
    NotAssessedRule(String),
    #[error("得分 {got} 超出范围（0 至 {max} 分）")]
    ScoreOutOfRange { got: Points, max: Points },
    #[error("督导组「{assessor}」已对该单位的条款 {rule} 打过分（第 {first} 行）")]
    DuplicateAssessment {
        assessor: String,
        rule: String,
        first: u64,
    },
    #[error("日期「{0}」无效，应为 YYYY-MM-DD")]
    BadDate(String),
    #[error("日期 {date} 不在细则年度 {year} 年内")]
    DateOutsideYear { date: Date, year: i32 },
    #[error("{part}的记录须填写日期（{dates}）")]
    DateRequiredInPart { part: String, dates: String },
    #[error("日期 {date} 不在{part}（{dates}）之内")]
    DateOutsidePart {
        date: Date,
        part: String,
        dates: String,
    },
    #[error("未知指标「{name}」，可选：{known}")]
    UnknownMetric { name: String, known: String },
    #[error("该单位的指标 {metric} 已有数值（第 {first} 行）")]
    DuplicateMetric { metric: String, first: u64 },
    #[error("数值「{0}」无效，应为十进制数")]
    BadValue(String),
    #[error("未知类别「{given}」，可选：{known}")]
    UnknownClass { given: String, known: String },
    #[error("单位「{name}」重复（第 {first} 行）")]
    DuplicateUnit { name: String, first: u64 },
    #[error("不能超过 {max} 字（实为 {got} 字）")]
    TooLong { max: usize, got: usize },
    #[error("含有不可见的控制字符或文字方向控制符")]
    ControlCharacter,
}

impl Problem {
    /// The other row a problem refers to ("already recorded in row N"), so that a caller whose row
    /// numbers are not line numbers can translate it.
    pub fn other_row_mut(&mut self) -> Option<&mut u64> {
        match self {
            Problem::OnceAYear { first, .. }
            | Problem::Excluded { first, .. }
            | Problem::DuplicateAssessment { first, .. }
            | Problem::DuplicateMetric { first, .. }
            | Problem::DuplicateUnit { first, .. } => Some(first),
            _ => None,
        }
    }
}

/// A refused row: which row, which field, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("第 {row} 行，{}：{problem}", field.label())]
pub struct LedgerError {
    pub row: u64,
    pub field: Field,
    pub problem: Problem,
}

/// One unit of the year's roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    pub class: usize,
    pub tags: Vec<String>,
}

/// The units assessed in a year, in roster order, with their classes and tags.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    units: Vec<Unit>,
    by_name: HashMap<String, u32>,
    rows: Vec<u64>,
}

impl Roster {
    /// The rubric's own roster.
    pub fn from_rubric(rubric: &Rubric) -> Roster {
        let mut r = Roster::default();
        for (i, u) in rubric.roster.iter().enumerate() {
            r.by_name.insert(u.name.clone(), i as u32);
            r.units.push(Unit {
                name: u.name.clone(),
                class: u.class,
                tags: u.tags.clone(),
            });
            r.rows.push(i as u64 + 1);
        }
        r
    }

    /// Adds a unit from raw fields (`class` is a class code such as `A`, or its name such as `A类`;
    /// `tags` are separated by any of `input::TAG_SEPARATORS`).
    pub fn add(
        &mut self,
        rubric: &Rubric,
        row: u64,
        name: &str,
        class: &str,
        tags: &str,
    ) -> Result<(), LedgerError> {
        let err = |field, problem| LedgerError {
            row,
            field,
            problem,
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(err(Field::Name, Problem::Missing));
        }
        if let Some(&i) = self.by_name.get(name) {
            return Err(err(
                Field::Name,
                Problem::DuplicateUnit {
                    name: name.to_owned(),
                    first: self.rows[i as usize],
                },
            ));
        }
        let class_text = class.trim();
        if class_text.is_empty() {
            return Err(err(Field::Class, Problem::Missing));
        }
        let class = rubric
            .classes
            .iter()
            .position(|c| {
                c.code == class_text
                    || c.name == class_text
                    || format!("{}类", c.code) == class_text
            })
            .ok_or_else(|| {
                err(
                    Field::Class,
                    Problem::UnknownClass {
                        given: class_text.to_owned(),
                        known: rubric
                            .classes
                            .iter()
                            .map(|c| c.code.as_str())
                            .collect::<Vec<_>>()
                            .join("、"),
                    },
                )
            })?;
        let mut tag_list: Vec<String> = Vec::new();
        for t in tags.split(crate::input::TAG_SEPARATORS) {
            let t = t.trim();
            if !t.is_empty() && !tag_list.iter().any(|x| x == t) {
                tag_list.push(t.to_owned());
            }
        }
        self.by_name
            .insert(name.to_owned(), self.units.len() as u32);
        self.units.push(Unit {
            name: name.to_owned(),
            class,
            tags: tag_list,
        });
        self.rows.push(row);
        Ok(())
    }

    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).map(|&i| i as usize)
    }
}

/// One accepted deduction record, in compact form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The caller's row number or id.
    pub id: u64,
    pub unit: u32,
    pub count: u32,
    /// Entered points in hundredths (range and graded rules), else 0.
    pub points: i32,
    pub rule: u16,
    /// Day of the rubric year, 1-based; 0 when no date was given.
    pub day: u16,
}

/// One assessor's score for one unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assessment {
    pub id: u64,
    pub unit: u32,
    pub rule: u16,
    /// Index of the assessor's name ([`Ledger::assessor_name`]).
    pub assessor: u32,
    pub score: Points,
}

/// One unit's value of one metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricValue {
    pub id: u64,
    pub unit: u32,
    pub metric: u16,
    pub value: Decimal,
}

/// One unit's part of the ledger: its records in input order, its scores (by rule, then row) and
/// its metric values (by metric). Every rule across rows binds one unit only, so a unit's book is
/// checked, changed and scored on its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitBook {
    records: Vec<Record>,
    assessments: Vec<Assessment>,
    metrics: Vec<MetricValue>,
}

impl UnitBook {
    pub fn records(&self) -> &[Record] {
        &self.records
    }
    pub fn assessments(&self) -> &[Assessment] {
        &self.assessments
    }
    pub fn metrics(&self) -> &[MetricValue] {
        &self.metrics
    }
    fn sort(&mut self) {
        self.assessments.sort_by_key(|a| (a.rule, a.id));
        self.metrics.sort_by_key(|m| m.metric);
    }
}

/// The validated ledger of a year under one rubric, kept unit by unit. Books are shared (`Arc`)
/// between versions of a ledger: a change to one unit copies that unit's book only.
#[derive(Clone, Debug)]
pub struct Ledger {
    pub(crate) rubric_id: String,
    pub(crate) rule_count: usize,
    pub(crate) year: i32,
    pub(crate) roster: Arc<Roster>,
    pub(crate) books: Vec<Arc<UnitBook>>,
    pub(crate) assessors: Vec<String>,
}

impl Ledger {
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The book of the unit at `unit` in the roster.
    pub fn book(&self, unit: usize) -> &UnitBook {
        &self.books[unit]
    }

    /// Every record, unit by unit (each unit's in input order).
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.books.iter().flat_map(|b| b.records.iter())
    }

    pub fn record_count(&self) -> usize {
        self.books.iter().map(|b| b.records.len()).sum()
    }

    /// Every assessor's score, unit by unit.
    pub fn assessments(&self) -> impl Iterator<Item = &Assessment> {
        self.books.iter().flat_map(|b| b.assessments.iter())
    }

    /// Every metric value, unit by unit.
    pub fn metrics(&self) -> impl Iterator<Item = &MetricValue> {
        self.books.iter().flat_map(|b| b.metrics.iter())
    }

    /// The name of an assessor by its index in [`Assessment::assessor`].
    pub fn assessor_name(&self, i: u32) -> &str {
        self.assessors.get(i as usize).map_or("", String::as_str)
    }

    /// The records of one unit, in input order, grouped by rule index: what stands behind each line
    /// of the unit's score sheet.
    pub fn records_of(&self, unit: usize) -> std::collections::BTreeMap<usize, Vec<&Record>> {
        let mut out: std::collections::BTreeMap<usize, Vec<&Record>> =
            std::collections::BTreeMap::new();
        for r in self.books.get(unit).map_or(&[][..], |b| &b.records[..]) {
            out.entry(usize::from(r.rule)).or_default().push(r);
        }
        out
    }

    /// The date of a record, if it had one.
    pub fn record_date(&self, r: &Record) -> Option<Date> {
        if r.day == 0 {
            None
        } else {
            Date::from_ordinal(self.year, r.day)
        }
    }

    fn matches(&self, rubric: &Rubric) -> bool {
        self.rubric_id == rubric.id && self.rule_count == rubric.rules.len()
    }

    /// The row checks of one record (unit, rule, applicability, count, points, date), as
    /// [`LedgerBuilder::check_record`] makes them, against this ledger's roster.
    pub fn check_record(
        &self,
        rubric: &Rubric,
        row: u64,
        f: &RecordFields<'_>,
    ) -> Result<Record, LedgerError> {
        let unit = resolve_unit(row, f.unit, |t| {
            std::str::from_utf8(t)
                .ok()
                .and_then(|n| self.roster.find(n))
                .map(|u| u as u32)
        })?;
        let rule = resolve_rule(row, f.rule, |t| {
            std::str::from_utf8(t)
                .ok()
                .and_then(|c| rubric.rule_by_code(c))
                .map(|r| r as u16)
        })?;
        check_fields(rubric, &self.roster, row, unit, rule, f)
    }

    /// The rules across rows (once a year, alternatives, `max_count`) for `r` against the records
    /// of its unit, leaving out the records whose ids are in `without`.
    pub fn admits(&self, rubric: &Rubric, r: &Record, without: &[u64]) -> Result<(), LedgerError> {
        let mut cells = vec![Cell::default(); rubric.rules.len()];
        for x in &self.books[r.unit as usize].records {
            if !without.contains(&x.id) {
                let c = &mut cells[usize::from(x.rule)];
                c.count += u64::from(x.count);
                c.first.get_or_insert(x.id);
            }
        }
        cross_check(rubric, &cells, r).map(|_| ())
    }

    /// Adds a checked record after the rules across rows ([`Self::admits`]).
    pub fn add_record(&mut self, rubric: &Rubric, r: Record) -> Result<(), LedgerError> {
        self.admits(rubric, &r, &[])?;
        Arc::make_mut(&mut self.books[r.unit as usize])
            .records
            .push(r);
        Ok(())
    }

    /// Removes records of `unit` by id (taking records away never breaks a rule).
    pub fn remove_records(&mut self, unit: usize, ids: &[u64]) {
        if self.books[unit].records.iter().any(|r| ids.contains(&r.id)) {
            Arc::make_mut(&mut self.books[unit])
                .records
                .retain(|r| !ids.contains(&r.id));
        }
    }

    /// A unit's records replaced by `records` (in their order), checked against each other by the
    /// rules across rows. The records must be row-checked ones of this ledger's roster and rubric.
    pub fn set_records(
        &mut self,
        rubric: &Rubric,
        unit: usize,
        records: Vec<Record>,
    ) -> Result<(), LedgerError> {
        let book = self.checked_book(rubric, unit, records)?;
        self.books[unit] = Arc::new(book);
        Ok(())
    }

    /// The book `unit` would have with `records` instead of its own (scores and metric values
    /// kept), checked by the rules across rows; the ledger is not changed.
    pub fn checked_book(
        &self,
        rubric: &Rubric,
        unit: usize,
        records: Vec<Record>,
    ) -> Result<UnitBook, LedgerError> {
        let mut cells = vec![Cell::default(); rubric.rules.len()];
        for r in &records {
            if r.unit as usize != unit {
                return Err(LedgerError {
                    row: r.id,
                    field: Field::Unit,
                    problem: Problem::UnknownUnit(format!("#{}", r.unit)),
                });
            }
            let (rule, total) = cross_check(rubric, &cells, r)?;
            let c = &mut cells[rule];
            c.count = total;
            c.first.get_or_insert(r.id);
        }
        let old = &self.books[unit];
        Ok(UnitBook {
            records,
            assessments: old.assessments.clone(),
            metrics: old.metrics.clone(),
        })
    }

    /// A copy of the ledger keeping only the records for which `keep` holds (a part of a valid
    /// ledger is valid: every rule across rows only limits how much may be recorded).
    pub fn filtered(&self, keep: impl Fn(&Record) -> bool) -> Ledger {
        let mut out = self.clone();
        for (u, book) in out.books.iter_mut().enumerate() {
            if self.books[u].records.iter().any(|r| !keep(r)) {
                Arc::make_mut(book).records.retain(|r| keep(r));
            }
        }
        out
    }

    /// Sets (adds or replaces) one assessor's score for a unit, with the checks of
    /// [`LedgerBuilder::add_assessment`] but the duplicate one: the given score replaces the stored.
    pub fn set_assessment(
        &mut self,
        rubric: &Rubric,
        row: u64,
        unit: &str,
        rule: &str,
        assessor: &str,
        score: &str,
    ) -> Result<(), LedgerError> {
        if !self.matches(rubric) {
            return Err(mismatch(row));
        }
        let (unit, rule, name, score) =
            check_assessment(rubric, &self.roster, row, unit, rule, assessor, score)?;
        let a = if let Some(a) = self.assessors.iter().position(|x| *x == name) {
            a as u32
        } else {
            self.assessors.push(name);
            (self.assessors.len() - 1) as u32
        };
        let book = Arc::make_mut(&mut self.books[unit as usize]);
        book.assessments
            .retain(|x| !(x.rule == rule && x.assessor == a));
        book.assessments.push(Assessment {
            id: row,
            unit,
            rule,
            assessor: a,
            score,
        });
        book.sort();
        Ok(())
    }

    /// Removes one assessor's score (back to "not scored"); whether there was one.
    pub fn remove_assessment(
        &mut self,
        rubric: &Rubric,
        unit: &str,
        rule: &str,
        assessor: &str,
    ) -> bool {
        let (Some(u), Some(r), Some(a)) = (
            self.roster.find(unit.trim()),
            rubric.rule_by_code(rule.trim()),
            self.assessors.iter().position(|x| x == assessor.trim()),
        ) else {
            return false;
        };
        let had = self.books[u]
            .assessments
            .iter()
            .any(|x| usize::from(x.rule) == r && x.assessor as usize == a);
        if had {
            Arc::make_mut(&mut self.books[u])
                .assessments
                .retain(|x| !(usize::from(x.rule) == r && x.assessor as usize == a));
        }
        had
    }

    /// Sets (adds or replaces) a unit's value of a metric, with the checks of
    /// [`LedgerBuilder::add_metric`] but the duplicate one.
    pub fn set_metric(
        &mut self,
        rubric: &Rubric,
        row: u64,
        unit: &str,
        metric: &str,
        value: &str,
    ) -> Result<(), LedgerError> {
        if !self.matches(rubric) {
            return Err(mismatch(row));
        }
        let (unit, metric, value) = check_metric(rubric, &self.roster, row, unit, metric, value)?;
        let book = Arc::make_mut(&mut self.books[unit as usize]);
        book.metrics.retain(|m| m.metric != metric);
        book.metrics.push(MetricValue {
            id: row,
            unit,
            metric,
            value,
        });
        book.sort();
        Ok(())
    }

    /// Removes a unit's value of a metric; whether there was one.
    pub fn remove_metric(&mut self, rubric: &Rubric, unit: &str, metric: &str) -> bool {
        let (Some(u), Some(m)) = (self.roster.find(unit.trim()), rubric.metric_of(metric)) else {
            return false;
        };
        let had = self.books[u]
            .metrics
            .iter()
            .any(|x| usize::from(x.metric) == m);
        if had {
            Arc::make_mut(&mut self.books[u])
                .metrics
                .retain(|x| usize::from(x.metric) != m);
        }
        had
    }

    /// Gives a unit new tags: refused when one of its records or scores is for a rule the new tags
    /// do not bind (`applies_to`).
    pub fn set_tags(
        &mut self,
        rubric: &Rubric,
        unit: usize,
        tags: Vec<String>,
    ) -> Result<(), LedgerError> {
        let mut roster = (*self.roster).clone();
        roster.units[unit].tags = tags;
        let book = &self.books[unit];
        let rules = book
            .records
            .iter()
            .map(|r| (r.id, r.rule))
            .chain(book.assessments.iter().map(|a| (a.id, a.rule)));
        for (id, rule) in rules {
            check_applies(rubric, &roster, id, unit as u32, rule)?;
        }
        self.roster = Arc::new(roster);
        Ok(())
    }
}

fn mismatch(row: u64) -> LedgerError {
    LedgerError {
        row,
        field: Field::Rule,
        problem: Problem::UnknownRule("（账册与细则不一致）".to_owned()),
    }
}

/// Per unit and rule: the first row recorded and the count so far.
#[derive(Clone, Copy, Default)]
struct Cell {
    first: Option<u64>,
    count: u64,
}

/// The rules across rows for `r`, given the cells of its unit (indexed by rule): once a year,
/// alternatives, `max_count`. Answers the rule's index and its count with `r`.
fn cross_check(rubric: &Rubric, cells: &[Cell], r: &Record) -> Result<(usize, u64), LedgerError> {
    let rule = &rubric.rules[r.rule as usize];
    let err = |field, problem| LedgerError {
        row: r.id,
        field,
        problem,
    };
    let cell = cells[r.rule as usize];
    if let Some(first) = cell.first
        && rule.kind.once_a_year()
    {
        return Err(err(
            Field::Rule,
            Problem::OnceAYear {
                rule: rule.code.clone(),
                first,
            },
        ));
    }
    for &other in &rule.excludes {
        if let Some(first) = cells[other].first {
            return Err(err(
                Field::Rule,
                Problem::Excluded {
                    rule: rule.code.clone(),
                    other: rubric.rules[other].code.clone(),
                    first,
                },
            ));
        }
    }
    let total = cell.count + u64::from(r.count);
    if let Some(max) = rule.kind.max_count()
        && total > u64::from(max)
    {
        return Err(err(
            Field::Count,
            Problem::CountOverMax {
                rule: rule.code.clone(),
                total,
                max,
            },
        ));
    }
    Ok((r.rule as usize, total))
}

fn resolve_unit(
    row: u64,
    raw: &[u8],
    find: impl Fn(&[u8]) -> Option<u32>,
) -> Result<u32, LedgerError> {
    let t = trim(raw);
    if t.is_empty() {
        return Err(LedgerError {
            row,
            field: Field::Unit,
            problem: Problem::Missing,
        });
    }
    find(t).ok_or_else(|| LedgerError {
        row,
        field: Field::Unit,
        problem: Problem::UnknownUnit(String::from_utf8_lossy(t).into_owned()),
    })
}

fn resolve_rule(
    row: u64,
    raw: &[u8],
    find: impl Fn(&[u8]) -> Option<u16>,
) -> Result<u16, LedgerError> {
    let t = trim(raw);
    if t.is_empty() {
        return Err(LedgerError {
            row,
            field: Field::Rule,
            problem: Problem::Missing,
        });
    }
    // A template's drop-down offers "1.1 生产安全事故起数…": the code is what stands before the
    // first space.
    let code = || {
        let text = std::str::from_utf8(t).ok()?;
        let (code, _) = text.split_once(|c: char| c.is_whitespace())?;
        find(code.as_bytes())
    };
    find(t).or_else(code).ok_or_else(|| LedgerError {
        row,
        field: Field::Rule,
        problem: Problem::UnknownRule(String::from_utf8_lossy(t).into_owned()),
    })
}

fn check_applies(
    rubric: &Rubric,
    roster: &Roster,
    row: u64,
    unit: u32,
    rule: u16,
) -> Result<(), LedgerError> {
    let r = &rubric.rules[rule as usize];
    if let Some(tag) = &r.applies_to
        && !roster.units[unit as usize].tags.iter().any(|t| t == tag)
    {
        return Err(LedgerError {
            row,
            field: Field::Rule,
            problem: Problem::NotApplicable {
                rule: r.code.clone(),
                tag: tag.clone(),
            },
        });
    }
    Ok(())
}

/// The checks of one record that need no other record, once unit and rule are resolved.
fn check_fields(
    rubric: &Rubric,
    roster: &Roster,
    row: u64,
    unit: u32,
    rule_i: u16,
    f: &RecordFields<'_>,
) -> Result<Record, LedgerError> {
    let err = |field, problem| LedgerError {
        row,
        field,
        problem,
    };
    let rule = &rubric.rules[rule_i as usize];
    match rule.kind {
        RuleKind::MetricBelow { .. } | RuleKind::MetricStep { .. } => {
            return Err(err(Field::Rule, Problem::ComputedRule(rule.code.clone())));
        }
        RuleKind::Assessed { .. } => {
            return Err(err(Field::Rule, Problem::AssessedRule(rule.code.clone())));
        }
        _ => {}
    }
    check_applies(rubric, roster, row, unit, rule_i)?;
    Ok(Record {
        id: row,
        unit,
        count: count_of(rubric, row, rule_i, f.count)?,
        points: points_of(rubric, row, rule_i, f.points)?,
        rule: rule_i,
        day: day_of(rubric, row, f.date)?,
    })
}

/// Every problem of a record's count, points and date at once (the fields a person fills in after
/// choosing the unit and the rule), for a form that names each wrong field beside it. Empty when
/// the three are right; [`Ledger::check_record`] remains the check a write relies on.
pub fn field_problems(rubric: &Rubric, rule: usize, f: &RecordFields<'_>) -> Vec<LedgerError> {
    let Ok(rule_i) = u16::try_from(rule) else {
        return Vec::new();
    };
    if rule >= rubric.rules.len() {
        return Vec::new();
    }
    [
        count_of(rubric, 0, rule_i, f.count).err(),
        points_of(rubric, 0, rule_i, f.points).err(),
        day_of(rubric, 0, f.date).err(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn count_of(rubric: &Rubric, row: u64, rule_i: u16, text: &[u8]) -> Result<u32, LedgerError> {
    let rule = &rubric.rules[rule_i as usize];
    let err = |problem| LedgerError {
        row,
        field: Field::Count,
        problem,
    };
    let count_text = trim(text);
    let count: u32 = if count_text.is_empty() {
        1
    } else {
        parse_count(count_text).ok_or_else(|| {
            err(Problem::BadCount(
                String::from_utf8_lossy(count_text).into_owned(),
            ))
        })?
    };
    if count != 1 && rule.kind.once_a_year() {
        return Err(err(Problem::CountMustBeOne(rule.code.clone())));
    }
    Ok(count)
}

fn points_of(rubric: &Rubric, row: u64, rule_i: u16, text: &[u8]) -> Result<i32, LedgerError> {
    let rule = &rubric.rules[rule_i as usize];
    let err = |problem| LedgerError {
        row,
        field: Field::Points,
        problem,
    };
    let points_text = trim(text);
    let p = match &rule.kind {
        RuleKind::Range { min, max } => {
            if points_text.is_empty() {
                return Err(err(Problem::PointsRequired {
                    rule: rule.code.clone(),
                    min: *min,
                    max: *max,
                }));
            }
            let p = parse_points(points_text).map_err(err)?;
            if p < *min || p > *max {
                return Err(err(Problem::PointsOutOfRange {
                    rule: rule.code.clone(),
                    got: p,
                    min: *min,
                    max: *max,
                }));
            }
            p
        }
        RuleKind::Graded { levels } => {
            let not_a_level = || {
                err(Problem::NotALevel {
                    rule: rule.code.clone(),
                    levels: levels
                        .iter()
                        .map(|l| format!("{}（{}）", l.points, l.text))
                        .collect::<Vec<_>>()
                        .join("、"),
                })
            };
            if points_text.is_empty() {
                return Err(not_a_level());
            }
            let p = parse_points(points_text).map_err(err)?;
            if !levels.iter().any(|l| l.points == p) {
                return Err(not_a_level());
            }
            p
        }
        _ if !points_text.is_empty() => {
            return Err(err(Problem::PointsNotAllowed(rule.code.clone())));
        }
        _ => return Ok(0),
    };
    Ok(p.hundredths() as i32)
}

fn day_of(rubric: &Rubric, row: u64, text: &[u8]) -> Result<u16, LedgerError> {
    let err = |problem| LedgerError {
        row,
        field: Field::Date,
        problem,
    };
    let date_text = trim(text);
    if date_text.is_empty() {
        return match rubric.part() {
            Some(part) => Err(err(Problem::DateRequiredInPart {
                part: part.name.clone(),
                dates: part.dates_text(),
            })),
            None => Ok(0),
        };
    }
    let date = Date::parse_bytes(date_text).ok_or_else(|| {
        err(Problem::BadDate(
            String::from_utf8_lossy(date_text).into_owned(),
        ))
    })?;
    if date.year != rubric.year {
        return Err(err(Problem::DateOutsideYear {
            date,
            year: rubric.year,
        }));
    }
    // A part's ledger takes only the part's days.
    if let Some(part) = rubric.part()
        && !part.contains(rubric.year, date.ordinal())
    {
        return Err(err(Problem::DateOutsidePart {
            date,
            part: part.name.clone(),
            dates: part.dates_text(),
        }));
    }
    Ok(date.ordinal())
}

/// The checks of one score: unit, an assessed rule that binds the unit, an assessor, a score
/// within `[0, max]` with at most two decimals.
#[allow(clippy::too_many_arguments)] // each is one field of the row
fn check_assessment(
    rubric: &Rubric,
    roster: &Roster,
    row: u64,
    unit: &str,
    rule: &str,
    assessor: &str,
    score: &str,
) -> Result<(u32, u16, String, Points), LedgerError> {
    let err = |field, problem| LedgerError {
        row,
        field,
        problem,
    };
    let unit = resolve_unit(row, unit.as_bytes(), |t| {
        std::str::from_utf8(t)
            .ok()
            .and_then(|n| roster.find(n))
            .map(|u| u as u32)
    })?;
    let rule_i = resolve_rule(row, rule.as_bytes(), |t| {
        std::str::from_utf8(t)
            .ok()
            .and_then(|c| rubric.rule_by_code(c))
            .map(|r| r as u16)
    })?;
    let r = &rubric.rules[rule_i as usize];
    let RuleKind::Assessed { max, .. } = r.kind else {
        return Err(err(Field::Rule, Problem::NotAssessedRule(r.code.clone())));
    };
    check_applies(rubric, roster, row, unit, rule_i)?;
    let assessor = assessor.trim();
    if assessor.is_empty() {
        return Err(err(Field::Assessor, Problem::Missing));
    }
    let score_text = score.trim();
    if score_text.is_empty() {
        return Err(err(Field::Score, Problem::Missing));
    }
    let score = parse_points(score_text.as_bytes()).map_err(|e| err(Field::Score, e))?;
    if score.is_negative() || score > max {
        return Err(err(
            Field::Score,
            Problem::ScoreOutOfRange { got: score, max },
        ));
    }
    Ok((unit, rule_i, assessor.to_owned(), score))
}

/// The checks of one metric value: unit, a metric of the rubric, a plain decimal number.
fn check_metric(
    rubric: &Rubric,
    roster: &Roster,
    row: u64,
    unit: &str,
    metric: &str,
    value: &str,
) -> Result<(u32, u16, Decimal), LedgerError> {
    let err = |field, problem| LedgerError {
        row,
        field,
        problem,
    };
    let unit = resolve_unit(row, unit.as_bytes(), |t| {
        std::str::from_utf8(t)
            .ok()
            .and_then(|n| roster.find(n))
            .map(|u| u as u32)
    })?;
    let name = metric.trim();
    if name.is_empty() {
        return Err(err(Field::Metric, Problem::Missing));
    }
    let m = rubric.metric_of(name).ok_or_else(|| {
        err(
            Field::Metric,
            Problem::UnknownMetric {
                name: name.to_owned(),
                known: rubric
                    .metrics
                    .iter()
                    .map(|m| {
                        if m.name.is_empty() || m.name == m.code {
                            m.code.clone()
                        } else {
                            format!("{}（{}）", m.name, m.code)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("、"),
            },
        )
    })? as u16;
    let value_text = value.trim();
    if value_text.is_empty() {
        return Err(err(Field::Value, Problem::Missing));
    }
    let value = parse_decimal(value_text)
        .ok_or_else(|| err(Field::Value, Problem::BadValue(value_text.to_owned())))?;
    Ok((unit, m, value))
}

/// Builds a [`Ledger`], checking each row as it arrives.
pub struct LedgerBuilder<'r> {
    rubric: &'r Rubric,
    roster: Roster,
    unit_index: FastMap<Box<[u8]>, u32>,
    rule_index: FastMap<Box<[u8]>, u16>,
    cells: Vec<Cell>,
    books: Vec<UnitBook>,
    assessed: HashMap<(u32, u16, u32), u64>,
    assessors: Vec<String>,
    assessor_index: HashMap<String, u32>,
    metric_rows: HashMap<(u32, u16), u64>,
}

/// The raw fields of a record row; empty text means the cell was empty.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordFields<'a> {
    pub unit: &'a [u8],
    pub rule: &'a [u8],
    pub count: &'a [u8],
    pub points: &'a [u8],
    pub date: &'a [u8],
}

impl<'r> LedgerBuilder<'r> {
    /// A builder for a year under `rubric` with `roster`.
    pub fn new(rubric: &'r Rubric, roster: Roster) -> Self {
        let unit_index = roster
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.name.as_bytes().into(), i as u32))
            .collect();
        let rule_index = rubric
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.code.as_bytes().into(), i as u16))
            .collect();
        let cells = vec![Cell::default(); roster.len() * rubric.rules.len()];
        let books = vec![UnitBook::default(); roster.len()];
        LedgerBuilder {
            rubric,
            roster,
            unit_index,
            rule_index,
            cells,
            books,
            assessed: HashMap::new(),
            assessors: Vec::new(),
            assessor_index: HashMap::new(),
            metric_rows: HashMap::new(),
        }
    }

    /// Reserves room for about `n` more records (spread evenly over the units).
    pub fn reserve_records(&mut self, n: usize) {
        let per = n / self.books.len().max(1) + 1;
        for b in &mut self.books {
            b.records.reserve(per);
        }
    }

    /// Checks and adds one deduction record: [`Self::check_record`] then [`Self::push_record`].
    pub fn add_record(&mut self, row: u64, f: &RecordFields<'_>) -> Result<(), LedgerError> {
        let record = self.check_record(row, f)?;
        self.push_record(record)
    }

    /// The checks of one record that need no other record: known unit and rule, applicability,
    /// count, points, date. Takes `&self`, so that several threads can check rows at once.
    pub fn check_record(&self, row: u64, f: &RecordFields<'_>) -> Result<Record, LedgerError> {
        let unit = resolve_unit(row, f.unit, |t| self.unit_index.get(t).copied())?;
        let rule = resolve_rule(row, f.rule, |t| self.rule_index.get(t).copied())?;
        check_fields(self.rubric, &self.roster, row, unit, rule, f)
    }

    /// The checks of a checked record against what the ledger already holds (once a year,
    /// alternatives, `max_count`), then adds it. Records must be pushed in their input order.
    pub fn push_record(&mut self, r: Record) -> Result<(), LedgerError> {
        let nrules = self.rubric.rules.len();
        let base = r.unit as usize * nrules;
        let (rule, total) = cross_check(self.rubric, &self.cells[base..base + nrules], &r)?;
        let c = &mut self.cells[base + rule];
        c.count = total;
        c.first.get_or_insert(r.id);
        self.books[r.unit as usize].records.push(r);
        Ok(())
    }

    /// Pushes checked records in order (see [`Self::push_record`]), returning the refusals.
    pub fn push_records(&mut self, records: Vec<Record>) -> Vec<LedgerError> {
        let mut errors = Vec::new();
        for r in records {
            if let Err(e) = self.push_record(r) {
                errors.push(e);
            }
        }
        errors
    }

    /// Checks and adds one assessor's score.
    pub fn add_assessment(
        &mut self,
        row: u64,
        unit: &str,
        rule: &str,
        assessor: &str,
        score: &str,
    ) -> Result<(), LedgerError> {
        let (unit, rule_i, name, score) =
            check_assessment(self.rubric, &self.roster, row, unit, rule, assessor, score)?;
        let a = if let Some(&a) = self.assessor_index.get(&name) {
            a
        } else {
            let a = self.assessors.len() as u32;
            self.assessors.push(name.clone());
            self.assessor_index.insert(name.clone(), a);
            a
        };
        if let Some(&first) = self.assessed.get(&(unit, rule_i, a)) {
            return Err(LedgerError {
                row,
                field: Field::Assessor,
                problem: Problem::DuplicateAssessment {
                    assessor: name,
                    rule: self.rubric.rules[rule_i as usize].code.clone(),
                    first,
                },
            });
        }
        self.assessed.insert((unit, rule_i, a), row);
        self.books[unit as usize].assessments.push(Assessment {
            id: row,
            unit,
            rule: rule_i,
            assessor: a,
            score,
        });
        Ok(())
    }

    /// Checks and adds one metric value.
    pub fn add_metric(
        &mut self,
        row: u64,
        unit: &str,
        metric: &str,
        value: &str,
    ) -> Result<(), LedgerError> {
        let (unit, m, value) = check_metric(self.rubric, &self.roster, row, unit, metric, value)?;
        if let Some(&first) = self.metric_rows.get(&(unit, m)) {
            return Err(LedgerError {
                row,
                field: Field::Metric,
                problem: Problem::DuplicateMetric {
                    metric: metric.trim().to_owned(),
                    first,
                },
            });
        }
        self.metric_rows.insert((unit, m), row);
        self.books[unit as usize].metrics.push(MetricValue {
            id: row,
            unit,
            metric: m,
            value,
        });
        Ok(())
    }

    /// The finished ledger. Each unit's records stay in input order.
    pub fn finish(self) -> Ledger {
        Ledger {
            rubric_id: self.rubric.id.clone(),
            rule_count: self.rubric.rules.len(),
            year: self.rubric.year,
            roster: Arc::new(self.roster),
            books: self
                .books
                .into_iter()
                .map(|mut b| {
                    b.sort();
                    Arc::new(b)
                })
                .collect(),
            assessors: self.assessors,
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// A count: digits only (an optional `.0…` tail from spreadsheets is accepted), from 1 to 1,000,000.
fn parse_count(b: &[u8]) -> Option<u32> {
    let digits = match memchr::memchr(b'.', b) {
        Some(i) if i > 0 && b[i + 1..].iter().all(|&c| c == b'0') => &b[..i],
        Some(_) => return None,
        None => b,
    };
    if digits.is_empty() || digits.len() > 7 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
    (1..=1_000_000).contains(&n).then_some(n)
}

fn parse_points(b: &[u8]) -> Result<Points, Problem> {
    parse_hundredths(b)
        .map(Points::from_hundredths)
        .map_err(|reason| Problem::BadNumber {
            text: String::from_utf8_lossy(b).into_owned(),
            reason,
        })
}

/// A plain decimal number (no exponent, no thousands separator).
fn parse_decimal(t: &str) -> Option<Decimal> {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    if body.is_empty()
        || body.starts_with('.')
        || body.ends_with('.')
        || !body.bytes().all(|c| c.is_ascii_digit() || c == b'.')
    {
        return None;
    }
    t.parse::<Decimal>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(Date::parse("2022-02-28").map(Date::ordinal), Some(31 + 28));
        assert!(Date::parse("2022-02-29").is_none());
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2022-13-01").is_none());
        assert!(Date::parse("22-01-01").is_none());
        assert!(Date::parse("2022-01-01x").is_none());
        assert_eq!(
            Date::parse("2022/3/5").map(|d| d.to_string()),
            Some("2022-03-05".into())
        );
        for d in [1u16, 59, 60, 365] {
            assert_eq!(Date::from_ordinal(2022, d).map(Date::ordinal), Some(d));
        }
        assert!(Date::from_ordinal(2022, 366).is_none());
        assert_eq!(
            Date::from_ordinal(2024, 366).map(|d| d.to_string()),
            Some("2024-12-31".into())
        );
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count(b"3"), Some(3));
        assert_eq!(parse_count(b"3.0"), Some(3));
        assert_eq!(parse_count(b"0"), None);
        assert_eq!(parse_count(b"1.5"), None);
        assert_eq!(parse_count(b"-1"), None);
        assert_eq!(parse_count(b"abc"), None);
        assert_eq!(parse_count(b"99999999"), None);
    }

    #[test]
    fn decimals() {
        assert_eq!(
            parse_decimal("150.5").map(|d| d.to_string()),
            Some("150.5".into())
        );
        assert!(parse_decimal("1e5").is_none());
        assert!(parse_decimal("1,000").is_none());
        assert!(parse_decimal("").is_none());
        assert!(parse_decimal("5.").is_none());
    }
}
