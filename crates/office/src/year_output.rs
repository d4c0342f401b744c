//! The ranking workbook of a year made of parts: each unit's part totals in their own columns,
//! then the year's total (the weighted mean, or 0.00 under a year veto), converted score, rank,
//! grade and a remark with the mean's working, class by class, for A4 printing. Every figure is
//! the core's roll-up ([`YearSheets`]); this module only lays it out and must not compute a score.

use lvzhi_core::Rubric;
use lvzhi_core::year::YearSheets;
use rust_xlsxwriter::{FormatAlign, Workbook, XlsxError};

use crate::xlsx_output::{fit_row, formats, neutralise, points, print_setup, text, wrapped_lines};

/// The year's ranking workbook; `stamp` says which result it is (a publication, or provisional).
pub fn year_results_xlsx(
    rubric: &Rubric,
    year: &YearSheets,
    stamp: Option<&str>,
) -> Result<Vec<u8>, XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("排名")?;
    let graded = !rubric.grades.is_empty();
    let mut heads: Vec<String> = vec!["序号".into(), "单位".into()];
    let mut widths: Vec<f64> = vec![5.0, 16.0];
    for p in &rubric.parts {
        heads.push(p.name.clone());
        widths.push(9.0);
    }
    heads.extend(["年度得分", "折算得分", "排名"].map(String::from));
    widths.extend([9.0, 9.0, 5.0]);
    if graded {
        heads.push("等次".into());
        widths.push(7.0);
    }
    heads.push("备注".into());
    widths.push(30.0);
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let last = (heads.len() - 1) as u16;
    let remark_width = widths[widths.len() - 1];
    ws.set_row_height(0, 30)?;
    ws.merge_range(
        0,
        0,
        0,
        last,
        &format!("{}年度得分排名", rubric.title),
        &f.title,
    )?;
    let mut r = 1u32;
    for (ci, class) in rubric.classes.iter().enumerate() {
        r += 1;
        let caption = format!(
            "{}（{} 类，满分折算 {} 分）",
            class.name, class.code, class.weight
        );
        ws.merge_range(r, 0, r, last, &caption, &f.head)?;
        r += 1;
        for (c, h) in heads.iter().enumerate() {
            ws.write_string_with_format(r, c as u16, h, &f.head)?;
        }
        if ci == 0 {
            print_setup(ws, r)?;
            ws.set_landscape();
        }
        let rows = year.sheets.iter().filter(|s| s.class == ci);
        for (n, s) in rows.enumerate() {
            r += 1;
            let mut c = 0u16;
            ws.write_number_with_format(r, c, (n + 1) as f64, &f.int)?;
            c += 1;
            text(ws, r, c, &s.name, &f.text)?;
            for (pi, _) in rubric.parts.iter().enumerate() {
                c += 1;
                match s.parts.iter().find(|t| t.part == pi) {
                    Some(t) => ws.write_number_with_format(r, c, points(t.total), &f.num)?,
                    None => ws.write_string_with_format(r, c, "—", &f.int)?,
                };
            }
            for v in [s.total, s.converted] {
                c += 1;
                ws.write_number_with_format(r, c, points(v), &f.num)?;
            }
            c += 1;
            ws.write_number_with_format(r, c, f64::from(s.rank), &f.int)?;
            if graded {
                c += 1;
                let g = s.grade.map_or("", |g| rubric.grades[g].name.as_str());
                text(ws, r, c, g, &f.text)?;
            }
            c += 1;
            let remark = s.working(rubric);
            text(ws, r, c, &remark, &f.text)?;
            fit_row(ws, r, wrapped_lines(&remark, remark_width))?;
        }
        r += 1;
    }
    let weights: Vec<String> = rubric
        .parts
        .iter()
        .map(|p| {
            format!(
                "{}（{}，权重 {}）",
                p.name,
                p.dates_text(),
                p.weight.to_min_string()
            )
        })
        .collect();
    let mut notes = vec![format!(
        "说明：年度得分为各期得分的加权平均，四舍五入保留两位小数：{}；全年一票否决的，年度得分记 0；{}。",
        weights.join("、"),
        rubric.conversion_text()
    )];
    if graded {
        notes.push(format!("等次：{}。", rubric.grades_text()));
    }
    notes.extend(stamp.map(str::to_owned));
    let note_format = f.note.clone().set_text_wrap().set_align(FormatAlign::Top);
    let total_width: f64 = widths.iter().sum();
    for note in &notes {
        r += 1;
        ws.merge_range(r, 0, r, last, neutralise(note).as_ref(), &note_format)?;
        fit_row(ws, r, wrapped_lines(note, total_width))?;
    }
    wb.save_to_buffer()
}

/// The 通报 of a year made of parts: each unit's row names its parts' totals and the year's grade;
/// a year veto is said with the part it was recorded in.
pub fn year_report_data(
    rubric: &Rubric,
    year: &YearSheets,
    date: &str,
) -> crate::report::ReportData {
    use crate::report::{ReportClass, ReportData, ReportRow};
    let mut classes = Vec::new();
    let mut flagged = Vec::new();
    for (ci, class) in rubric.classes.iter().enumerate() {
        let units: Vec<_> = year.sheets.iter().filter(|s| s.class == ci).collect();
        let rows = units
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut note: Vec<String> = vec![
                    s.parts
                        .iter()
                        .map(|t| format!("{} {}", rubric.parts[t.part].name, t.total.to_fixed2()))
                        .collect::<Vec<_>>()
                        .join("、"),
                ];
                note.extend(s.grade.map(|g| rubric.grades[g].name.clone()));
                if let Some(v) = &s.veto {
                    let part = &rubric.parts[v.part].name;
                    let rule = &rubric.rules[v.flag.rule];
                    note.push(format!("全年一票否决（{part} {}）", rule.code));
                    flagged.push(format!(
                        "{}：{}{}，全年实行一票否决，年度得分记 0 分。",
                        s.name, part, rule.text
                    ));
                }
                ReportRow {
                    n: i + 1,
                    unit: s.name.clone(),
                    total: s.total.to_fixed2(),
                    converted: s.converted.to_fixed2(),
                    rank: s.rank,
                    note: note.join("；"),
                }
            })
            .collect();
        classes.push(ReportClass {
            heading: crate::report::class_heading(ci, class, units.len()),
            rows,
        });
    }
    let parts: Vec<String> = rubric
        .parts
        .iter()
        .map(|p| format!("{}权重 {}", p.name, p.weight.to_min_string()))
        .collect();
    let paragraphs = vec![
        format!(
            "根据《{}》，{}对 {} 个单位{}年度安全生产工作情况进行了考核。现将年度结果通报如下。",
            rubric.title,
            rubric.issuer,
            year.sheets.len(),
            rubric.year
        ),
        format!(
            "年度得分为各期得分的加权平均（{}），四舍五入保留两位小数；全年一票否决的，年度得分记 0 分。{}。",
            parts.join("、"),
            rubric.conversion_text()
        ),
    ];
    ReportData {
        title: format!("关于{}年度安全生产考核结果的通报", rubric.year),
        subtitle: rubric.title.clone(),
        paragraphs,
        classes,
        notes: flagged,
        issuer: rubric.issuer.clone(),
        date: date.to_owned(),
    }
}
