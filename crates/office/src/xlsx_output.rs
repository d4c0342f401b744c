//! Workbooks out: the official ranking table, the full ledger, every unit's score sheet, and the
//! import templates (with the rubric's clauses and the roster in drop-down lists).
//!
//! Every figure comes from the core's [`ScoreSheets`]; this module only lays them out, for A4 printing.
//! Text cells are always written as text, never as formulas, and text that a spreadsheet would take
//! for a formula when it is copied or saved as CSV (starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return) is prefixed with `'` ([`neutralise`]). It must not compute a score.

use std::borrow::Cow;

use lvzhi_core::{Rubric, ScoreSheets};
use rust_xlsxwriter::{
    DataValidation, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};

use crate::Table;

/// A4 in the spreadsheet's paper codes.
const A4: u8 = 9;

/// Text that could start a formula gets a leading `'`.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// One record of the ledger, as the export shows it.
#[derive(Clone, Debug, Default)]
pub struct LedgerRow {
    pub id: i64,
    pub unit: String,
    pub rule: String,
    pub count: i64,
    /// The points the record carries, as text (`"0.2"`, `"一票否决"`…).
    pub points: String,
    pub date: String,
    pub source: String,
    pub note: String,
    pub status: lvzhi_core::RecordStatus,
    pub created_by: String,
    pub created_at: String,
    pub revoked_reason: String,
}

pub(crate) struct Formats {
    pub(crate) title: Format,
    pub(crate) head: Format,
    pub(crate) text: Format,
    pub(crate) num: Format,
    pub(crate) int: Format,
    pub(crate) note: Format,
}

pub(crate) fn formats() -> Formats {
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    Formats {
        title: Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        head: border(
            Format::new()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_background_color("#E8EEF7"),
        ),
        text: border(Format::new().set_text_wrap().set_align(FormatAlign::Top)),
        num: border(
            Format::new()
                .set_num_format("0.00")
                .set_align(FormatAlign::Top),
        ),
        int: border(
            Format::new()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::Top),
        ),
        note: Format::new().set_italic().set_font_color("#555555"),
    }
}

pub(crate) fn print_setup(ws: &mut Worksheet, header_row: u32) -> Result<(), XlsxError> {
    ws.set_paper_size(A4);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_repeat_rows(header_row, header_row)?;
    Ok(())
}

pub(crate) fn text(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    s: &str,
    f: &Format,
) -> Result<(), XlsxError> {
    ws.write_string_with_format(r, c, neutralise(s).as_ref(), f)?;
    Ok(())
}

pub(crate) fn points(p: lvzhi_core::Points) -> f64 {
    p.hundredths() as f64 / 100.0
}

/// The official ranking table: 序号, 单位, 类别, 监测得分, 折算得分, 排名, 备注, class by class, titled
/// with the rubric, for A4 portrait at the page's width. `stamp` is a closing line saying which
/// result this is (a publication and its snapshot hash, or a provisional result).
///
/// Every row is given the height of its wrapped text and its cells are top-aligned, so a long
/// remark (a veto, say) stays inside its own row in every spreadsheet program; the notes under the
/// table are merged across the table's width and wrapped, so they never widen the printed page.
pub fn results_xlsx(
    rubric: &Rubric,
    sheets: &ScoreSheets,
    stamp: Option<&str>,
) -> Result<Vec<u8>, XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("排名")?;
    let cols = RankingColumns::of(rubric);
    cols.apply(ws)?;
    ws.set_row_height(0, 30)?;
    ws.merge_range(
        0,
        0,
        0,
        cols.last(),
        &format!("{}得分排名", rubric.title),
        &f.title,
    )?;
    // One class a page where the table does not fit one page.
    let class_per_page = sheets.sheets.len() + 3 * rubric.classes.len() > RANKING_ROWS_PER_PAGE;
    let mut breaks = Vec::new();
    let mut r = 1u32;
    for (ci, class) in rubric.classes.iter().enumerate() {
        r += 1;
        if ci > 0 && class_per_page {
            breaks.push(r);
        }
        let caption = format!(
            "{}（{} 类，满分折算 {} 分）",
            class.name, class.code, class.weight
        );
        ws.merge_range(r, 0, r, cols.last(), &caption, &f.head)?;
        r += 1;
        for (c, h) in cols.heads.iter().enumerate() {
            ws.write_string_with_format(r, c as u16, *h, &f.head)?;
        }
        if ci == 0 {
            print_setup(ws, r)?;
        }
        let mut rows: Vec<_> = sheets.sheets.iter().filter(|s| s.class == ci).collect();
        rows.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.name.cmp(&b.name)));
        for (n, s) in rows.iter().enumerate() {
            r += 1;
            ranking_row(ws, &f, &cols, rubric, r, n + 1, &class.code, s)?;
        }
        r += 1;
    }
    if !breaks.is_empty() {
        ws.set_page_breaks(&breaks)?;
    }
    let mut notes = vec![format!(
        "说明：监测得分{}；{}。",
        rubric.total_text(),
        rubric.conversion_text()
    )];
    if cols.graded {
        notes.push(format!(
            "等次：{}；被一票否决的单位直接确定为{}。",
            rubric.grades_text(),
            rubric.grades.last().map_or("", |g| g.name.as_str())
        ));
    }
    notes.extend(stamp.map(str::to_owned));
    let note_format = f.note.clone().set_text_wrap().set_align(FormatAlign::Top);
    for note in &notes {
        r += 1;
        ws.merge_range(
            r,
            0,
            r,
            cols.last(),
            neutralise(note).as_ref(),
            &note_format,
        )?;
        fit_row(ws, r, wrapped_lines(note, cols.total_width()))?;
    }
    wb.save_to_buffer()
}

/// Rows of the ranking table that fit one A4 portrait page (rows of one line).
const RANKING_ROWS_PER_PAGE: usize = 44;

/// The ranking table's columns: heads and widths (in the spreadsheet's character units), chosen so
/// that the table fills an A4 portrait page without being shrunk.
struct RankingColumns {
    heads: Vec<&'static str>,
    widths: Vec<f64>,
    graded: bool,
}

impl RankingColumns {
    fn of(rubric: &Rubric) -> Self {
        // With grade bands, a 等次 column before the notes.
        let graded = !rubric.grades.is_empty();
        let mut heads = vec!["序号", "单位", "类别", "监测得分", "折算得分", "排名"];
        let mut widths = vec![5.0, 22.0, 6.0, 10.0, 10.0, 6.0];
        if graded {
            heads.push("等次");
            widths.push(8.0);
        }
        heads.push("备注");
        widths.push(if graded { 25.0 } else { 33.0 });
        RankingColumns {
            heads,
            widths,
            graded,
        }
    }

    fn last(&self) -> u16 {
        (self.heads.len() - 1) as u16
    }

    fn total_width(&self) -> f64 {
        self.widths.iter().sum()
    }

    fn apply(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (i, w) in self.widths.iter().enumerate() {
            ws.set_column_width(i as u16, *w)?;
        }
        ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
        Ok(())
    }
}

/// One unit's row of the ranking table, as tall as its longest wrapped cell.
#[allow(clippy::too_many_arguments)]
fn ranking_row(
    ws: &mut Worksheet,
    f: &Formats,
    cols: &RankingColumns,
    rubric: &Rubric,
    r: u32,
    n: usize,
    class_code: &str,
    s: &lvzhi_core::UnitSheet,
) -> Result<(), XlsxError> {
    ws.write_number_with_format(r, 0, n as f64, &f.int)?;
    text(ws, r, 1, &s.name, &f.text)?;
    text(ws, r, 2, class_code, &f.int)?;
    ws.write_number_with_format(r, 3, points(s.total), &f.num)?;
    ws.write_number_with_format(r, 4, points(s.converted), &f.num)?;
    ws.write_number_with_format(r, 5, f64::from(s.rank), &f.int)?;
    if let Some(g) = s.grade_name(rubric) {
        text(ws, r, 6, g, &f.int)?;
    }
    let note = ranking_remark(rubric, s, cols.graded);
    text(ws, r, cols.last(), &note, &f.text)?;
    let lines = wrapped_lines(&s.name, cols.widths[1])
        .max(wrapped_lines(&note, cols.widths[cols.widths.len() - 1]));
    fit_row(ws, r, lines)
}

/// The 备注 of a unit's row: a forced grade, veto or lowest grade with what raised it, and missing
/// data.
fn ranking_remark(rubric: &Rubric, s: &lvzhi_core::UnitSheet, graded: bool) -> String {
    let mut note = Vec::new();
    if graded {
        if s.grade.is_some_and(|g| g.forced.is_some()) {
            note.extend(s.grade_reason(rubric));
        }
    } else if let Some(v) = &s.veto {
        note.push(format!(
            "一票否决（{}），按最低等次处理",
            rubric.rules[v.rule].code
        ));
    } else if let Some(l) = &s.lowest_grade {
        note.push(format!("最低等次（{}）", rubric.rules[l.rule].code));
    }
    if !s.incomplete.is_empty() {
        note.push(format!("数据不全 {} 项", s.incomplete.len()));
    }
    note.join("；")
}

/// Gives a row of several wrapped lines its height: spreadsheet programs do not all measure wrapped
/// text on opening, and the lines would overlap the row above or below. A line of 11-point text,
/// Chinese fonts included, takes 16 points.
pub(crate) fn fit_row(ws: &mut Worksheet, r: u32, lines: usize) -> Result<(), XlsxError> {
    if lines > 1 {
        ws.set_row_height(r, 16.0 * lines as f64 + 3.0)?;
    }
    Ok(())
}

/// The full ledger, one record a row, with its state and history.
pub fn ledger_xlsx(rubric: &Rubric, rows: &[LedgerRow]) -> Result<Vec<u8>, XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    // Rows stream to a temporary file with their strings inline: flat memory, no string table.
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name("扣分记录")?;
    ws.set_landscape();
    let heads = [
        ("编号", 8.0),
        ("单位", 22.0),
        ("条款编号", 10.0),
        ("条款内容", 40.0),
        ("数量", 7.0),
        ("扣分", 9.0),
        ("日期", 12.0),
        ("依据", 26.0),
        ("说明", 26.0),
        ("状态", 8.0),
        ("录入人", 12.0),
        ("录入时间", 21.0),
        ("撤销原因", 24.0),
    ];
    ws.set_row_height(0, 26)?;
    ws.merge_range(
        0,
        0,
        0,
        (heads.len() - 1) as u16,
        &format!("{} 扣分记录", rubric.title),
        &f.title,
    )?;
    for (c, (h, w)) in heads.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
        ws.write_string_with_format(1, c as u16, *h, &f.head)?;
    }
    print_setup(ws, 1)?;
    ws.set_freeze_panes(2, 0)?;
    let text_of = |code: &str| {
        rubric
            .rule_by_code(code)
            .map_or(String::new(), |i| rubric.rules[i].text.clone())
    };
    // Formats by column, once: a cell written without a format takes its column's (writing a
    // format with every cell of a 100,000-row ledger costs a hash per cell).
    for c in 0..heads.len() as u16 {
        let fmt = match c {
            0 | 2 | 4 => &f.int,
            5 => &f.num,
            _ => &f.text,
        };
        ws.set_column_format(c, fmt)?;
    }
    for (i, rec) in rows.iter().enumerate() {
        let r = 2 + i as u32;
        ws.write_number(r, 0, rec.id as f64)?;
        ws.write_string(r, 1, neutralise(&rec.unit).as_ref())?;
        ws.write_string(r, 2, neutralise(&rec.rule).as_ref())?;
        ws.write_string(r, 3, neutralise(&text_of(&rec.rule)).as_ref())?;
        ws.write_number(r, 4, rec.count as f64)?;
        match rec.points.parse::<f64>() {
            Ok(p) => ws.write_number(r, 5, p)?,
            Err(_) => ws.write_string(r, 5, &rec.points)?,
        };
        ws.write_string(r, 9, rec.status.label())?;
        for (c, v) in [
            (6u16, &rec.date),
            (7, &rec.source),
            (8, &rec.note),
            (10, &rec.created_by),
            (11, &rec.created_at),
            (12, &rec.revoked_reason),
        ] {
            if !v.is_empty() {
                ws.write_string(r, c, neutralise(v).as_ref())?;
            }
        }
    }
    if !rows.is_empty() {
        ws.autofilter(1, 0, 1 + rows.len() as u32, (heads.len() - 1) as u16)?;
    }
    // A ledger can be 100,000 rows: the fastest deflate level (a somewhat larger file).
    wb.set_zip_compression_level(1);
    wb.save_to_buffer()
}

/// Every unit's score sheet, one worksheet a unit: category and section with maximum, deduction,
/// what the cap absorbed and score; each line with its points and the records behind it.
pub fn sheets_xlsx(
    rubric: &Rubric,
    sheets: &ScoreSheets,
    records: &[LedgerRow],
) -> Result<Vec<u8>, XlsxError> {
    use lvzhi_core::score::{Line, LineDetail};
    let f = formats();
    let mut wb = Workbook::new();
    let mut by_unit: std::collections::HashMap<(&str, &str), Vec<&LedgerRow>> =
        std::collections::HashMap::new();
    for r in records.iter().filter(|r| r.status.in_force()) {
        by_unit
            .entry((r.unit.as_str(), r.rule.as_str()))
            .or_default()
            .push(r);
    }
    let mut used = std::collections::HashSet::new();
    for s in &sheets.sheets {
        let ws = wb.add_worksheet();
        // Sheet names: at most 31 characters, unique, none of []:*?/\ .
        let mut name: String = s
            .name
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(28)
            .collect();
        while !used.insert(name.clone()) {
            name.push('_');
        }
        ws.set_name(&name)?;
        for (c, w) in [12.0, 48.0, 8.0, 10.0, 50.0].iter().enumerate() {
            ws.set_column_width(c as u16, *w)?;
        }
        ws.merge_range(
            0,
            0,
            0,
            4,
            &format!("{} · {} 得分说明", s.name, rubric.year),
            &f.title,
        )?;
        let summary = format!(
            "{} 类 · 监测得分 {} · 折算得分 {} · 排名 {}{}",
            rubric.classes[s.class].code,
            s.total.to_fixed2(),
            s.converted.to_fixed2(),
            s.rank,
            match s.grade_reason(rubric) {
                Some(why) => format!(
                    " · 等次：{}（{why}）",
                    s.grade_name(rubric).unwrap_or_default()
                ),
                None if s.veto.is_some() => " · 一票否决".to_owned(),
                None if s.lowest_grade.is_some() => " · 最低等次".to_owned(),
                None => String::new(),
            }
        );
        ws.merge_range(1, 0, 1, 4, &summary, &Format::new())?;
        for (c, h) in ["条款", "内容", "数量", "分值", "记录与依据"]
            .iter()
            .enumerate()
        {
            ws.write_string_with_format(2, c as u16, *h, &f.head)?;
        }
        print_setup(ws, 2)?;
        let mut r = 3u32;
        let write_line = |ws: &mut Worksheet, r: &mut u32, l: &Line| -> Result<(), XlsxError> {
            let rule = &rubric.rules[l.rule];
            text(ws, *r, 0, &rule.code, &f.int)?;
            text(ws, *r, 1, &rule.text, &f.text)?;
            let (count, detail) = match &l.detail {
                LineDetail::Records { count, .. } => {
                    let recs = by_unit
                        .get(&(s.name.as_str(), rule.code.as_str()))
                        .map(|v| {
                            v.iter()
                                .map(|x| {
                                    format!("#{} {} {} 依据：{}", x.id, x.date, x.points, x.source)
                                })
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .unwrap_or_default();
                    (count.to_string(), recs)
                }
                _ => (String::new(), l.working(rubric).unwrap_or_default()),
            };
            text(ws, *r, 2, &count, &f.int)?;
            ws.write_number_with_format(*r, 3, points(l.points), &f.num)?;
            text(ws, *r, 4, &detail, &f.text)?;
            // A row of several lines is given its height: spreadsheet programs do not all measure
            // wrapped text on opening, and the lines would overlap the next row.
            fit_row(
                ws,
                *r,
                wrapped_lines(&rule.text, 48.0).max(wrapped_lines(&detail, 50.0)),
            )?;
            *r += 1;
            Ok(())
        };
        for c in &s.categories {
            let cat = &rubric.categories[c.category];
            let head = format!("{} {}  {}", cat.code, cat.name, c.summary());
            ws.merge_range(r, 0, r, 4, &head, &f.head)?;
            r += 1;
            for l in &c.lines {
                write_line(ws, &mut r, l)?;
            }
            for sec in &c.sections {
                let sh = &rubric.sections[sec.section];
                let head = format!(
                    "{} {}  上限 {} · 扣分 {} · 计 {}",
                    sh.code, sh.name, sec.max, sec.raw, sec.deducted
                );
                ws.merge_range(r, 0, r, 4, &head, &f.text)?;
                r += 1;
                for l in &sec.lines {
                    write_line(ws, &mut r, l)?;
                }
            }
        }
        for i in &s.incomplete {
            text(
                ws,
                r,
                1,
                &format!(
                    "数据不全：{} {}",
                    rubric.rules[i.rule].code, rubric.rules[i.rule].text
                ),
                &f.note,
            )?;
            r += 1;
        }
    }
    if sheets.sheets.is_empty() {
        wb.add_worksheet();
    }
    wb.save_to_buffer()
}

/// How many lines a text takes in a wrapped cell `width` characters wide (a Chinese character is
/// two characters wide, as spreadsheet column widths count them).
pub(crate) fn wrapped_lines(text: &str, width: f64) -> usize {
    text.split('\n')
        .map(|line| {
            let w: f64 = line
                .chars()
                .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
                .sum();
            // A cell loses about one character's width to its padding.
            ((w / (width - 1.0).max(1.0)).ceil() as usize).max(1)
        })
        .sum::<usize>()
        .max(1)
}

/// An import template for `table`: the header row (the office's Chinese names), drop-down lists of
/// the units and the rubric's clauses (or metrics), and an example row. The lists live on a second,
/// hidden sheet; the import reads the first visible sheet only.
pub fn template_xlsx(
    rubric: &Rubric,
    table: Table,
    units: &[String],
) -> Result<Vec<u8>, XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    let name = table.label();
    let heads = table_heads(table);
    let recorded: Vec<String> = match table {
        // "1.1 生产安全事故起数…": the import reads the code before the first space.
        Table::Records => rubric
            .rules
            .iter()
            .filter(|r| r.kind.is_recorded())
            .map(|r| format!("{} {}", r.code, r.text))
            .collect(),
        Table::Assessments => rubric
            .rules
            .iter()
            .filter(|r| matches!(r.kind, lvzhi_core::RuleKind::Assessed { .. }))
            .map(|r| r.code.clone())
            .collect(),
        // By name: the import reads a metric by its name as well as by its code.
        Table::Metrics => rubric
            .metrics
            .iter()
            .map(|m| {
                if m.name.trim().is_empty() {
                    m.code.clone()
                } else {
                    m.name.trim().to_owned()
                }
            })
            .collect(),
        Table::Units => rubric.classes.iter().map(|c| c.code.clone()).collect(),
    };
    {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        for (c, h) in heads.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &f.head)?;
            ws.set_column_width(c as u16, if c == 0 { 24.0 } else { 14.0 })?;
        }
        ws.set_freeze_panes(1, 0)?;
        let last = 5000;
        let units_list = DataValidation::new()
            .allow_list_formula(Formula::new(format!(
                "=选项!$A$1:$A${}",
                units.len().max(1)
            )))
            .set_error_message("请从下拉列表中选择名册中的单位")?;
        let second = DataValidation::new()
            .allow_list_formula(Formula::new(format!(
                "=选项!$B$1:$B${}",
                recorded.len().max(1)
            )))
            .set_error_message("请从下拉列表中选择")?;
        if matches!(table, Table::Units) {
            ws.add_data_validation(1, 1, last, 1, &second)?;
        } else {
            ws.add_data_validation(1, 0, last, 0, &units_list)?;
            ws.add_data_validation(1, 1, last, 1, &second)?;
        }
    }
    if matches!(table, Table::Records) {
        rules_sheet(&mut wb, rubric, &f, heads[3])?;
    }
    let lists = wb.add_worksheet();
    lists.set_name("选项")?;
    for (i, u) in units.iter().enumerate() {
        lists.write_string(i as u32, 0, neutralise(u).as_ref())?;
    }
    for (i, c) in recorded.iter().enumerate() {
        lists.write_string(i as u32, 1, neutralise(c).as_ref())?;
    }
    lists.set_hidden(true);
    wb.save_to_buffer()
}

/// The records template's second sheet: every clause a records file may name, how it scores and
/// which of 数量 and the points column its row fills in. The import reads the first sheet only.
fn rules_sheet(
    wb: &mut Workbook,
    rubric: &Rubric,
    f: &Formats,
    points_column: &str,
) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name("条款说明")?;
    for (c, (h, w)) in [
        ("条款编号", 10.0),
        ("条款内容", 50.0),
        ("计分方式", 30.0),
        ("填写", 34.0),
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, &f.head)?;
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    let mut r = 0;
    for (i, rule) in rubric.rules.iter().enumerate() {
        if !rule.kind.is_recorded() {
            continue;
        }
        r += 1;
        text(ws, r, 0, &rule.code, &f.text)?;
        text(ws, r, 1, &rule.text, &f.text)?;
        text(ws, r, 2, &rubric.terms(i), &f.text)?;
        text(ws, r, 3, &rule.kind.fill_in(points_column), &f.text)?;
        fit_row(ws, r, wrapped_lines(&rule.text, 50.0))?;
    }
    Ok(())
}

/// The headers of a table as the office writes them.
pub fn table_heads(table: Table) -> &'static [&'static str] {
    match table {
        Table::Records => &["单位", "条款编号", "数量", "扣分", "日期", "依据", "说明"],
        Table::Assessments => &["单位", "条款编号", "督导组", "得分"],
        Table::Metrics => &["单位", "指标", "数值"],
        Table::Units => &["单位名称", "类别", "标签"],
    }
}

/// A refused import handed back: the rows as they were read, each with its row number in the
/// original file, the refused ones in red with what is wrong beside them, and the file-level problems
/// (no row) on top.
pub fn annotated_xlsx(
    table: Table,
    rows: &[Vec<String>],
    lines: &[u64],
    errors: &[crate::InputError],
) -> Result<Vec<u8>, XlsxError> {
    let f = formats();
    let bad = Format::new()
        .set_background_color("#FDECEA")
        .set_border(FormatBorder::Thin);
    let why = Format::new()
        .set_font_color("#B42318")
        .set_text_wrap()
        .set_border(FormatBorder::Thin);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("导入检查结果")?;
    let heads = table_heads(table);
    let mut by_line: std::collections::BTreeMap<u64, Vec<String>> =
        std::collections::BTreeMap::new();
    let mut general = Vec::new();
    for e in errors {
        let text = if e.field.is_empty() {
            e.message.clone()
        } else {
            format!("{}：{}", e.field, e.message)
        };
        if lines.contains(&e.line) {
            by_line.entry(e.line).or_default().push(text);
        } else {
            general.push(format!("第 {} 行：{text}", e.line));
        }
    }
    let mut r = 0u32;
    ws.write_string_with_format(
        r,
        0,
        format!(
            "共 {} 处错误，整份文件未导入。红色的行需要修改。",
            errors.len()
        ),
        &f.title,
    )?;
    r += 1;
    for g in &general {
        ws.write_string_with_format(r, 0, neutralise(g).as_ref(), &why)?;
        r += 1;
    }
    ws.write_string_with_format(r, 0, "原行号", &f.head)?;
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(r, 1 + c as u16, *h, &f.head)?;
        ws.set_column_width(1 + c as u16, if c == 0 { 24.0 } else { 12.0 })?;
    }
    let last = 1 + heads.len() as u16;
    ws.write_string_with_format(r, last, "错误说明", &f.head)?;
    ws.set_column_width(last, 60.0)?;
    ws.set_freeze_panes(r + 1, 0)?;
    for (row, line) in rows.iter().zip(lines) {
        r += 1;
        let problems = by_line.get(line);
        let fmt = if problems.is_some() { &bad } else { &f.text };
        ws.write_number_with_format(r, 0, *line as f64, fmt)?;
        for (c, v) in row.iter().enumerate() {
            ws.write_string_with_format(r, 1 + c as u16, neutralise(v).as_ref(), fmt)?;
        }
        if let Some(p) = problems {
            ws.write_string_with_format(r, last, neutralise(&p.join("；")).as_ref(), &why)?;
        }
    }
    wb.save_to_buffer()
}

/// A plain table as a workbook, for A4 landscape: a title, the heads, the rows as text, and notes
/// under the table (the oversight of the offices below is one). Nothing is computed.
pub fn table_xlsx(
    title: &str,
    heads: &[&str],
    rows: &[Vec<String>],
    notes: &[String],
) -> Result<Vec<u8>, XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("汇总")?;
    let last = heads.len().saturating_sub(1) as u16;
    ws.set_row_height(0, 30)?;
    ws.merge_range(0, 0, 0, last, title, &f.title)?;
    let mut widths: Vec<f64> = heads
        .iter()
        .map(|h| 2.2 * h.chars().count() as f64 + 2.0)
        .collect();
    for row in rows {
        for (c, v) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(c) {
                *w = w.max((2.0 * v.chars().count() as f64 + 2.0).min(40.0));
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &f.head)?;
    }
    print_setup(ws, 2)?;
    ws.set_landscape();
    let mut r = 2u32;
    for row in rows {
        r += 1;
        for (c, v) in row.iter().enumerate() {
            text(ws, r, c as u16, v, &f.text)?;
        }
    }
    let note_format = f.note.clone().set_text_wrap().set_align(FormatAlign::Top);
    let total: f64 = widths.iter().sum();
    for note in notes {
        r += 2;
        ws.merge_range(r, 0, r, last, neutralise(note).as_ref(), &note_format)?;
        fit_row(ws, r, wrapped_lines(note, total))?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formula_like_text_is_neutralised() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-2"), "'-2");
        assert_eq!(neutralise("发改委"), "发改委");
    }
}
