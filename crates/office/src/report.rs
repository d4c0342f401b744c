//! The 通报 (notice) of a period: the ranking by class with veto and lowest-grade notes, what data is
//! missing, the conversion rule, as `.docx` (docx-rs) and as `.pdf` (Typst, in process, with an
//! embedded subset of Noto Sans CJK SC under the SIL Open Font Licence: no browser, no installed font,
//! nothing downloaded). Both are built from one [`ReportData`], so they say the same thing. Every
//! figure comes from the core's [`ScoreSheets`]; this module must not compute a score.

use std::sync::LazyLock;

use docx_rs::{
    AlignmentType, Docx, Paragraph, Run, RunFonts, Table, TableCell, TableRow, WidthType,
};
use lvzhi_core::{Rubric, ScoreSheets};
use serde::Serialize;
use typst::foundations::{Dict, Str, Value};
use typst_as_lib::TypstEngine;

/// Noto Sans CJK SC Regular, subset to GB 2312 plus the characters the program and the rubric use.
/// The one copy of the font in the program: the reports embed it, and the pages serve it to a
/// browser whose machine has no Chinese font.
pub const FONT: &[u8] = include_bytes!("../fonts/NotoSansSC-Regular-GB2312.otf");
/// The font's copyright notice and licence (SIL Open Font License 1.1), served beside it.
pub const FONT_LICENCE: &[u8] = include_bytes!("../fonts/NotoSansCJK-COPYRIGHT-and-OFL.txt");
const TEMPLATE: &str = include_str!("../templates/report.typ");

/// One row of a class's ranking.
#[derive(Serialize, Clone, Debug)]
pub struct ReportRow {
    pub n: usize,
    pub unit: String,
    pub total: String,
    pub converted: String,
    pub rank: u32,
    pub note: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct ReportClass {
    pub heading: String,
    pub rows: Vec<ReportRow>,
}

/// What the notice says, whatever its format.
#[derive(Serialize, Clone, Debug)]
pub struct ReportData {
    pub title: String,
    pub subtitle: String,
    pub paragraphs: Vec<String>,
    pub classes: Vec<ReportClass>,
    pub notes: Vec<String>,
    pub issuer: String,
    pub date: String,
}

/// A class's heading in the notice: "一、A 类（41 个单位，满分折算 3 分）".
pub(crate) fn class_heading(ci: usize, class: &lvzhi_core::rubric::Class, units: usize) -> String {
    format!(
        "{}、{}（{units} 个单位，满分折算 {} 分）",
        ["一", "二", "三", "四", "五", "六"].get(ci).unwrap_or(&"·"),
        class.name,
        class.weight
    )
}

/// The notice of a period, dated `date` (`YYYY年M月D日`).
pub fn report_data(rubric: &Rubric, sheets: &ScoreSheets, date: &str) -> ReportData {
    let mut classes = Vec::new();
    let mut flagged = Vec::new();
    for (ci, class) in rubric.classes.iter().enumerate() {
        let mut units: Vec<_> = sheets.sheets.iter().filter(|s| s.class == ci).collect();
        units.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.name.cmp(&b.name)));
        let rows = units
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut note: Vec<String> = s
                    .grade_name(rubric)
                    .map(str::to_owned)
                    .into_iter()
                    .collect();
                if let Some(v) = &s.veto {
                    note.push(format!("一票否决（{}）", rubric.rules[v.rule].code));
                    // The clause often ends with its own "一票否决": said once.
                    let what = rubric.rules[v.rule]
                        .text
                        .trim_end_matches("一票否决")
                        .trim_end_matches(['，', ',', '；', '、', ' ']);
                    let lowest = rubric.grades.last().map_or_else(
                        || "年度综合考核按最低等次处理".to_owned(),
                        |g| format!("考核等次直接确定为{}", g.name),
                    );
                    flagged.push(format!(
                        "{}：{what}，实行一票否决，监测得分记 0 分，{lowest}。",
                        s.name
                    ));
                } else if let Some(l) = &s.lowest_grade {
                    note.push(format!("最低等次（{}）", rubric.rules[l.rule].code));
                    flagged.push(format!(
                        "{}：{}，年度综合考核按最低等次处理。",
                        s.name, rubric.rules[l.rule].text
                    ));
                }
                if !s.incomplete.is_empty() {
                    note.push(format!("数据不全 {} 项", s.incomplete.len()));
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
            heading: class_heading(ci, class, units.len()),
            rows,
        });
    }
    let incomplete: Vec<&str> = sheets
        .sheets
        .iter()
        .filter(|s| !s.incomplete.is_empty())
        .map(|s| s.name.as_str())
        .collect();
    let mut notes = flagged;
    if !incomplete.is_empty() {
        notes.push(format!(
            "以下单位尚缺督导组打分或指标数据，相关条款暂未计分：{}。",
            incomplete.join("、")
        ));
    }
    let n = sheets.sheets.len();
    let mut paragraphs = vec![
        format!(
            "根据《{}》，{}对 {} 个单位{}年度安全生产工作情况进行了考核监测。现将结果通报如下。",
            rubric.title, rubric.issuer, n, rubric.year
        ),
        format!(
            "{}。各单位得分按类别折算：{}。",
            rubric.total_text(),
            rubric.conversion_text()
        ),
    ];
    let bands = sheets.grade_counts(rubric);
    if !bands.is_empty() {
        paragraphs.push(format!(
            "按考核等次，{}。（{}；被一票否决的单位直接确定为最低等次。）",
            bands
                .iter()
                .map(|(g, k)| format!("{g} {k} 个"))
                .collect::<Vec<_>>()
                .join("，"),
            rubric.grades_text()
        ));
    }
    ReportData {
        title: format!(
            "关于{}年度安委会成员单位安全生产履职监测情况的通报",
            rubric.year
        ),
        subtitle: rubric.title.clone(),
        paragraphs,
        classes,
        notes,
        issuer: rubric.issuer.clone(),
        date: date.to_owned(),
    }
}

static ENGINE: LazyLock<TypstEngine<typst_as_lib::TypstTemplateMainFile>> = LazyLock::new(|| {
    TypstEngine::builder()
        .main_file(TEMPLATE)
        .fonts([FONT])
        .build()
});

/// The notice as PDF.
pub fn report_pdf(data: &ReportData) -> Result<Vec<u8>, String> {
    let json = serde_json::to_string(data).map_err(|e| e.to_string())?;
    let mut inputs = Dict::new();
    inputs.insert(Str::from("data"), Value::Str(Str::from(json)));
    let doc = ENGINE
        .compile_with_input(inputs)
        .output
        .map_err(|e| format!("通报排版失败：{e:?}"))?;
    typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
        .map_err(|e| format!("通报 PDF 生成失败：{e:?}"))
}

fn run(text: &str, size: usize) -> Run {
    Run::new()
        .add_text(text)
        .size(size)
        .fonts(RunFonts::new().east_asia("仿宋").ascii("Times New Roman"))
}

fn cell(text: &str, align: AlignmentType, width: usize) -> TableCell {
    TableCell::new()
        .add_paragraph(Paragraph::new().add_run(run(text, 21)).align(align))
        .width(width, WidthType::Dxa)
}

/// The notice as a Word document.
pub fn report_docx(data: &ReportData) -> Result<Vec<u8>, String> {
    let mut doc = Docx::new()
        .add_paragraph(
            Paragraph::new()
                .add_run(
                    Run::new()
                        .add_text(&data.title)
                        .size(36)
                        .fonts(RunFonts::new().east_asia("方正小标宋简体")),
                )
                .align(AlignmentType::Center),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(run(&data.subtitle, 21))
                .align(AlignmentType::Center),
        );
    for p in &data.paragraphs {
        doc = doc.add_paragraph(Paragraph::new().add_run(run(p, 24)).indent(
            None,
            Some(docx_rs::SpecialIndentType::FirstLine(480)),
            None,
            None,
        ));
    }
    let widths = [700, 3000, 1200, 1200, 800, 2200];
    for c in &data.classes {
        doc = doc.add_paragraph(Paragraph::new().add_run(run(&c.heading, 28).bold()));
        let head = ["序号", "单位", "监测得分", "折算得分", "排名", "备注"];
        let mut rows = vec![TableRow::new(
            head.iter()
                .zip(widths)
                .map(|(h, w)| cell(h, AlignmentType::Center, w))
                .collect(),
        )];
        for r in &c.rows {
            rows.push(TableRow::new(vec![
                cell(&r.n.to_string(), AlignmentType::Center, widths[0]),
                cell(&r.unit, AlignmentType::Left, widths[1]),
                cell(&r.total, AlignmentType::Right, widths[2]),
                cell(&r.converted, AlignmentType::Right, widths[3]),
                cell(&r.rank.to_string(), AlignmentType::Center, widths[4]),
                cell(&r.note, AlignmentType::Left, widths[5]),
            ]));
        }
        doc = doc.add_table(Table::new(rows).set_grid(widths.to_vec()));
    }
    if !data.notes.is_empty() {
        doc = doc.add_paragraph(Paragraph::new().add_run(run("需要说明的情况", 28).bold()));
        for n in &data.notes {
            doc = doc.add_paragraph(Paragraph::new().add_run(run(n, 24)));
        }
    }
    doc = doc
        .add_paragraph(
            Paragraph::new()
                .add_run(run(&data.issuer, 24))
                .align(AlignmentType::Right),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(run(&data.date, 24))
                .align(AlignmentType::Right),
        );
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| format!("通报 Word 文件生成失败：{e}"))?;
    Ok(out.into_inner())
}
