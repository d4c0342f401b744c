//! lvzhi-draft: a year's 细则 document (the table of a `.docx`, or its text) read into a draft rubric
//! (TOML).
//!
//! Tables are read by their header: 序号 | 监测指标项目 | 监测指标细则 (the 2022 form), 序号 | 考核项目 |
//! 分值 | 考核内容及评分标准, 考核内容 | 评分标准 | 分值, 一级指标 | 二级指标 | 分值 | 评分标准 (a first-level
//! cell merged over its rows, each second-level row a section with its own maximum), with the maximum
//! in its own column ("20分", "最多加5分") or in the item ("（20分）"). Besides deductions, the draft
//! proposes 得分制 categories ("本项实行得分制", "得4分", "每次得2分，最多得8分"), 加分项 ("加3分",
//! "最多加5分"), metric steps ("比上年每多一起扣2分，最多扣10分"), grade bands and a cap of the total
//! from the notes ("得分90分及以上为优秀…", "加分后总分最高不超过100分").
//!
//! The document's own language is regular: "（20分）" gives a category's or a section's maximum;
//! "扣2分", "每1例扣0.2分", "有一起扣15分", "扣1-10分", "一票否决", "按最低等次处理", "由8个督导组…打分",
//! "低于…的，扣0.3分" give a rule's kind and numbers; the notes (备注) give the classes, their weights,
//! the total, the decimals and the roster. Each proposed rule keeps the exact sentence it came from.
//! What cannot be read with certainty is written as a `review = "…"` key (a number taken from the text
//! by a rule of thumb, a metric's code), and a sentence with no recognisable deduction becomes an
//! `[[unclassified]]` entry: the draft loads and shows, but is not final until a person has decided.
//! This module never guesses silently and does no IO: the caller reads the file.

pub mod review;

use std::fmt::Write as _;
use std::io::Read;
use std::sync::LazyLock;

use regex::Regex;

/// The largest document accepted, and the most its `word/document.xml` may expand to.
pub const MAX_DOCUMENT: usize = 20 << 20;
const MAX_XML: u64 = 50 << 20;

/// Why a document could not be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("{0}")]
    Unreadable(String),
}

/// One row of the rubric table, by what its columns mean: 序号, the item (监测指标项目, 考核项目,
/// 一级指标…), a second-level item (二级指标) where the table has one, the maximum where it has its own
/// column (分值), and the scoring text (监测指标细则, 评分标准…).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub seq: String,
    pub item: String,
    pub sub: String,
    pub max: String,
    pub detail: String,
}

/// The document as the importer sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    pub rows: Vec<Row>,
    /// The 备注 paragraph(s).
    pub notes: String,
}

/// Reads a document by its content: a `.docx` (zip) or UTF-8 text.
pub fn read_document(bytes: &[u8]) -> Result<Document, DocumentError> {
    if bytes.len() > MAX_DOCUMENT {
        return Err(DocumentError::Unreadable(format!(
            "文件过大（{} MB，上限 {} MB）",
            bytes.len() >> 20,
            MAX_DOCUMENT >> 20
        )));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_docx(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(DocumentError::Unreadable(
            "这是旧版 Word（.doc）文件，请在 Word 或 WPS 中另存为 .docx 后再导入".into(),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        DocumentError::Unreadable(format!(
            "既不是 .docx 也不是 UTF-8 文本（第 {} 个字节起无法解码）",
            e.valid_up_to() + 1
        ))
    })?;
    Ok(read_text(text))
}

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
fn rows_of(cells: &[String]) -> Vec<Row> {
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

/// What a header cell says its column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Seq,
    Item,
    Sub,
    Max,
    Detail,
    Remark,
}

/// A header cell's meaning, from the words tables of 细则 use.
fn column_of(head: &str) -> Option<Column> {
    let h: String = head.chars().filter(|c| !c.is_whitespace()).collect();
    Some(match h.as_str() {
        "序号" | "编号" => Column::Seq,
        "二级指标" | "考核要点" | "考核细项" => Column::Sub,
        "分值" | "标准分" | "分数" | "分值（分）" | "分值(分)" | "权重" => {
            Column::Max
        }
        "备注" => Column::Remark,
        _ if h.contains("细则") || h.contains("评分") || h.contains("标准") => Column::Detail,
        "监测指标项目" | "考核项目" | "一级指标" | "考核指标" | "项目" | "考核内容" | "指标" => {
            Column::Item
        }
        _ => return None,
    })
}

/// The rows of a table read by its header row (the first row with at least two known headings);
/// `None` when no such row is found. A first-level cell merged over several rows is empty in the
/// rows after its first: those rows continue its category.
fn rows_by_header(table: &[Vec<String>]) -> Option<Vec<Row>> {
    let (at, columns) = table.iter().enumerate().find_map(|(i, r)| {
        let cols: Vec<Option<Column>> = r.iter().map(|c| column_of(c)).collect();
        (cols.iter().flatten().count() >= 2).then_some((i, cols))
    })?;
    let mut columns = columns;
    // 考核内容 beside a separate scoring column names the item; alone, it is the scoring text.
    if !columns.contains(&Some(Column::Detail))
        && let Some(c) = columns.iter_mut().rev().find(|c| **c == Some(Column::Item))
    {
        *c = Some(Column::Detail);
    }
    let get = |r: &[String], want: Column| -> String {
        columns
            .iter()
            .zip(r)
            .filter(|(c, _)| **c == Some(want))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut rows = Vec::new();
    for r in &table[at + 1..] {
        let row = Row {
            seq: get(r, Column::Seq),
            item: get(r, Column::Item),
            sub: get(r, Column::Sub),
            max: get(r, Column::Max),
            detail: get(r, Column::Detail),
        };
        let remark = get(r, Column::Remark);
        if row.item.is_empty() && row.sub.is_empty() && row.detail.is_empty() {
            continue;
        }
        let mut row = row;
        if !remark.is_empty() {
            row.detail = format!("{}\n{remark}", row.detail);
        }
        rows.push(row);
    }
    Some(rows)
}

/// Reads the first table of a `.docx`, the title paragraph before it and the notes after it.
pub fn read_docx(bytes: &[u8]) -> Result<Document, DocumentError> {
    let bad = |m: String| DocumentError::Unreadable(m);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("不是有效的 .docx 文件：{e}")))?;
    if zip.len() > 5_000 {
        return Err(bad("文件内部条目过多，拒绝读取".into()));
    }
    let mut entry = zip
        .by_name("word/document.xml")
        .map_err(|_| bad("不是 Word 文档：缺少 word/document.xml".into()))?;
    if entry.size() > MAX_XML {
        return Err(bad(format!(
            "文档正文解压后过大（{} MB，上限 {} MB），拒绝读取",
            entry.size() >> 20,
            MAX_XML >> 20
        )));
    }
    let mut xml = Vec::new();
    (&mut entry)
        .take(MAX_XML + 1)
        .read_to_end(&mut xml)
        .map_err(|e| bad(format!("文档正文无法解压：{e}")))?;
    if xml.len() as u64 > MAX_XML {
        return Err(bad("文档正文解压后过大，拒绝读取".into()));
    }
    parse_document_xml(&xml).map_err(bad)
}

/// The paragraphs outside tables and the rows of the first table of `word/document.xml`.
fn parse_document_xml(xml: &[u8]) -> Result<Document, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut table_depth = 0usize;
    let mut tables_seen = 0usize;
    let mut para = String::new();
    let mut before: Vec<String> = Vec::new();
    let mut after: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cell: Option<String> = None;
    let mut in_text = false;
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| {
            format!(
                "文档正文不是有效的 XML（位置 {}）：{e}",
                reader.buffer_position()
            )
        })?;
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                b"tbl" => table_depth += 1,
                b"tr" if table_depth == 1 && tables_seen == 0 => rows.push(Vec::new()),
                b"tc" if table_depth == 1 && tables_seen == 0 => cell = Some(String::new()),
                b"p" => para.clear(),
                b"t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"tab" => para.push('\t'),
                b"br" => para.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => {
                let s = t
                    .decode()
                    .map_err(|e| format!("文档正文的文字无法解码：{e}"))?;
                para.push_str(&quick_xml::escape::unescape(&s).unwrap_or(s.clone()));
            }
            Event::GeneralRef(r) if in_text => {
                let name = r.decode().unwrap_or_default();
                para.push_str(match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => {
                    let text = std::mem::take(&mut para);
                    if table_depth == 0 {
                        if tables_seen == 0 {
                            before.push(text);
                        } else {
                            after.push(text);
                        }
                    } else if let Some(c) = cell.as_mut() {
                        if !c.is_empty() {
                            c.push('\n');
                        }
                        c.push_str(&text);
                    }
                }
                b"tc" if table_depth == 1 && tables_seen == 0 => {
                    if let (Some(c), Some(r)) = (cell.take(), rows.last_mut()) {
                        r.push(c);
                    }
                }
                b"tbl" => {
                    table_depth = table_depth.saturating_sub(1);
                    if table_depth == 0 {
                        tables_seen += 1;
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if rows.is_empty() {
        return Err("文档中没有找到细则表格".into());
    }
    let title = before
        .iter()
        .find(|p| p.contains("细则"))
        .or_else(|| before.iter().rev().find(|p| !p.trim().is_empty()))
        .map(|p| p.trim().to_owned())
        .unwrap_or_default();
    let notes: String = after
        .iter()
        .skip_while(|p| !p.trim_start().starts_with("备注"))
        .map(|p| p.trim())
        .collect();
    let rows = rows_by_header(&rows).unwrap_or_else(|| {
        rows.into_iter()
            .filter(|r| {
                r.first().is_some_and(|s| {
                    !s.trim().is_empty() && s.trim().chars().all(|c| c.is_ascii_digit())
                })
            })
            .map(|r| Row {
                seq: r.first().map(|s| s.trim().to_owned()).unwrap_or_default(),
                item: r.get(1).cloned().unwrap_or_default(),
                detail: r.get(2).cloned().unwrap_or_default(),
                ..Row::default()
            })
            .collect()
    });
    Ok(Document { title, rows, notes })
}

// ---------------------------------------------------------------------------------------------
// From the document to a draft.

/// A proposed rule, with what a person must still decide about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftRule {
    pub code: String,
    /// `fixed`, `per_count`, `range`, `assessed`, `metric_below`, `veto` or `lowest_grade`.
    pub kind: &'static str,
    pub points: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub max_count: Option<u32>,
    pub assessors: Option<u32>,
    pub metric: Option<String>,
    pub reference: Option<String>,
    /// `above` or `below`, for a `metric_step` rule.
    pub direction: Option<&'static str>,
    /// The step of a `metric_step` rule where it is not 1.
    pub step: Option<String>,
    pub text: String,
    /// The document's exact sentence.
    pub source: String,
    /// Why a person must look at it; empty when every number was read with certainty.
    pub review: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftSection {
    pub code: String,
    pub name: String,
    pub max: String,
    pub rules: Vec<DraftRule>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftCategory {
    pub code: String,
    pub name: String,
    pub max: String,
    /// `deduct` (default), `earn` (得分制), `bonus` (加分项) or `flags` (a 减分项 row with no points).
    pub mode: &'static str,
    pub review: Vec<String>,
    pub rules: Vec<DraftRule>,
    pub sections: Vec<DraftSection>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    pub year: i32,
    pub title: String,
    pub total: String,
    pub decimals: u32,
    /// (code, name, weight).
    pub classes: Vec<(String, String, String)>,
    /// (code, name): the metrics `metric_below` rules compare.
    pub metrics: Vec<(String, String)>,
    pub categories: Vec<DraftCategory>,
    /// (name, class code).
    pub units: Vec<(String, String)>,
    /// The grade bands from the notes, highest first: (name, min).
    pub grades: Vec<(String, String)>,
    /// The cap of the total after the bonus ("总分最高不超过100分").
    pub max_total: Option<String>,
    /// (category code, sentence, why).
    pub unclassified: Vec<(String, String, String)>,
    pub review: Vec<String>,
    /// The parts of the year the title or notes speak of (quarters, halves), proposed for review.
    pub parts: Vec<DraftPart>,
    /// Why the parts were proposed, the question a person answers.
    pub parts_review: Option<String>,
}

/// A proposed part of the year.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftPart {
    pub code: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub weight: String,
}

/// The parts a document's title and notes speak of: "上半年占40%，下半年占60%" (halves with those
/// weights), "季度考核" (four quarters of equal weight), "半年考核" (two halves of equal weight).
/// Sentences inside the rules ("每季度召开…") are not read here.
fn propose_parts(title: &str, notes: &str) -> (Vec<DraftPart>, Option<String>) {
    let text = format!("{title}\n{notes}");
    let part = |code: &str, name: &str, from: &str, to: &str, weight: &str| DraftPart {
        code: code.into(),
        name: name.into(),
        from: from.into(),
        to: to.into(),
        weight: weight.into(),
    };
    let halves = |w1: &str, w2: &str| {
        vec![
            part("h1", "上半年", "01-01", "06-30", w1),
            part("h2", "下半年", "07-01", "12-31", w2),
        ]
    };
    if let Some(c) = HALF_WEIGHTS.captures(&text) {
        let (w1, w2) = (
            c.get(1).map_or("1", |m| m.as_str()),
            c.get(2).map_or("1", |m| m.as_str()),
        );
        return (
            halves(w1, w2),
            Some(format!(
                "文件写明上半年占 {w1}%、下半年占 {w2}%：已拟两期，请核对日期和权重"
            )),
        );
    }
    if QUARTERLY.is_match(&text) {
        return (
            vec![
                part("q1", "第一季度", "01-01", "03-31", "1"),
                part("q2", "第二季度", "04-01", "06-30", "1"),
                part("q3", "第三季度", "07-01", "09-30", "1"),
                part("q4", "第四季度", "10-01", "12-31", "1"),
            ],
            Some("文件提到季度考核：已拟四个季度等权分期（年度得分为各季度得分的平均值），请核对期次、日期和权重".into()),
        );
    }
    if HALF_YEARLY.is_match(&text) {
        return (
            halves("1", "1"),
            Some("文件提到半年考核：已拟上、下半年等权两期，请核对日期和权重".into()),
        );
    }
    (Vec::new(), None)
}

impl Draft {
    /// Every proposed rule, in document order.
    pub fn rules(&self) -> Vec<&DraftRule> {
        let mut out = Vec::new();
        for c in &self.categories {
            out.extend(c.rules.iter());
            for s in &c.sections {
                out.extend(s.rules.iter());
            }
        }
        out
    }

    /// Items waiting for a person.
    pub fn pending(&self) -> usize {
        usize::from(self.parts_review.is_some())
            + self.review.len()
            + self.metrics.len()
            + self.unclassified.len()
            + self
                .categories
                .iter()
                .map(|c| usize::from(!c.review.is_empty()))
                .sum::<usize>()
            + self.rules().iter().filter(|r| !r.review.is_empty()).count()
    }
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pat).expect("a valid pattern"));
    };
}

const NUM: &str = r"(\d+(?:\.\d+)?)";
re!(QUARTERLY, r"季度考核|按季度考核|各季度|季度得分|分季度");
re!(
    HALF_WEIGHTS,
    r"上半年(?:得分)?占\s*(\d+(?:\.\d+)?)\s*[%％].{0,12}?下半年(?:得分)?占\s*(\d+(?:\.\d+)?)\s*[%％]"
);
re!(HALF_YEARLY, r"半年考核|上半年考核|下半年考核|半年得分");
re!(MAX_ONLY, r"^\s*[（(]\s*\d+(?:\.\d+)?\s*分\s*[）)]\s*$");
re!(
    ITEM_MAX,
    &format!(r"^(.*?)\s*[（(]\s*(?:最多加|最高加|加分上限|上限|满分)?\s*{NUM}\s*分\s*[）)]\s*$")
);
re!(
    SECTION,
    &format!(r"([^。；：，、（）()]{{2,30}}?方面)[（(]{NUM}分[）)][：:]")
);
re!(LABEL, r"^([^。；，、：]{2,30}?(?:方面|情况))[：:]");
re!(
    PHRASE,
    &format!(
        r"最多(?:扣|得|加)\s*{NUM}\s*分|累计(?:最多|不超过|最高)(?:扣|得|加)?\s*{NUM}\s*分|([扣得加])\s*{NUM}\s*分?\s*[-－—~～至到]\s*{NUM}\s*分|([扣得加])\s*{NUM}\s*分|一票否决|按最低等次处理|打分"
    )
);
re!(
    STEP,
    r"比(?:上年|上年度|去年|上一年度?)(?:同期)?每(多|增加|增|少|减少)\s*(\d+|[一二两三四五六七八九十]+)?\s*(?:起|人|次|家|个|名|例|件|宗)"
);
re!(
    EARN_DECLARED,
    r"(?:本项|本类|本方面)?(?:实行|采取|采用)得分制[。；，,]?"
);
re!(BONUS_DECLARED, r"(?:本项|本类)?(?:为|属)加分项[。；，,]?");
re!(
    GRADE_AT_LEAST,
    r"(\d+(?:\.\d+)?)\s*分(?:及|或)?以上(?:\s*(?:不满|不足|未满|低于)\s*\d+(?:\.\d+)?\s*分)?(?:的)?(?:为|评为|确定为|定为)\s*[“]?([\p{Han}]{1,6})[”]?"
);
re!(
    GRADE_BELOW,
    r"(\d+(?:\.\d+)?)\s*分以下(?:的)?(?:为|评为|确定为|定为)\s*[“]?([\p{Han}]{1,6})[”]?"
);
re!(
    MAX_TOTAL,
    r"总分(?:最高|最多)?(?:不超过|不得超过|不高于)\s*(\d+(?:\.\d+)?)\s*分"
);
re!(
    ROSTER_ANY,
    r"(?:参评单位|考核对象|参加考核的单位)[：:]([^。]+)"
);
re!(
    LEADING_NUMBER,
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[、.．])\s*"
);
re!(
    COUNT_BEFORE,
    r"(?:(?:[0-9]+|[一二两三四五六七八九十]+)\s*|每\s*)(?:人次|个|项|条|例|次|处|起|件|家|名|份|篇|宗|批)(?:任务|问题|内容)?\s*$"
);
re!(ARABIC_COUNT, r"(\d+)\s*(项|条|个|次|处|起|件)");
re!(
    CHINESE_COUNT,
    r"([两二三四五六七八九十]+)\s*(项|条|个|次|处|起|件)"
);
re!(
    ASSESSORS,
    r"由\s*(\d+|[一二两三四五六七八九十]+)\s*个督导组"
);
re!(YEAR, r"(\d{4})\s*年");
re!(TOTAL, r"总分\s*(\d+(?:\.\d+)?)\s*分");
re!(
    CLASS_WEIGHT,
    &format!(r"([A-Z])\s*类(部门|单位)?\s*(?:占|计|折算为?)\s*{NUM}\s*分")
);
re!(CLASS_LIST, r"([A-Z])\s*类(?:部门|单位)?[：:]([^。]+)");
re!(DECIMALS, r"小数点后\s*(两|二|一|零|\d)\s*位");
re!(NUMBERING, r"^[（(]\d+[）)]");

fn chinese_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let digit = |c: char| match c {
        '一' => Some(1),
        '二' | '两' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    };
    let cs: Vec<char> = s.chars().collect();
    match cs.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] => digit(*c),
        ['十', u] => digit(*u).map(|u| 10 + u),
        [t, '十'] => digit(*t).map(|t| t * 10),
        [t, '十', u] => Some(digit(*t)? * 10 + digit(*u)?),
        _ => None,
    }
}

/// Text without line breaks or tabs.
fn flat(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

/// A rubric's id from its title and year: the title without its leading year, then the year
/// ("青山县安全生产委员会成员单位安全生产工作考核细则-2023"), so that saved versions say what they
/// are; `draft-YEAR` only for a document without a title.
fn rubric_id(title: &str, year: i32) -> String {
    let rest = title
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start_matches("年度")
        .trim_start_matches('年')
        .trim();
    if rest.is_empty() {
        format!("draft-{year}")
    } else {
        format!("{rest}-{year}")
    }
}

/// A short clause from a rule's sentence: no label, no numbering, no deduction phrase.
fn short_text(source: &str, phrase_at: usize) -> String {
    let mut head = &source[..phrase_at];
    if let Some(m) = SECTION.find(head).filter(|m| m.start() == 0) {
        head = &head[m.end()..];
    } else if let Some(c) = LABEL.captures(head) {
        head = &head[c.get(0).map_or(0, |m| m.end())..];
    }
    if let Some(m) = NUMBERING.find(head) {
        head = &head[m.end()..];
    }
    let mut t = head
        .trim_end_matches(['，', '、', '：', ',', ' '])
        .trim_end_matches("实行")
        .trim_end_matches(['，', '、', '：', ',', ' '])
        .trim_end_matches('的')
        .trim_end_matches(['，', ','])
        .to_owned();
    // "…销号的，视情" / "…检查的，每少1人次": a short name ends at a clause boundary, not inside
    // the clause that leads into the points.
    if let Some((clause, lead)) = t.rsplit_once(['，', ','])
        && lead.chars().count() <= 8
        && ["视", "酌", "每", "有", "根据", "按", "依"]
            .iter()
            .any(|w| lead.starts_with(w))
        && !clause.trim().is_empty()
    {
        t = clause.trim_end_matches('的').trim_end().to_owned();
    }
    if t.is_empty() {
        source
            .trim_end_matches(['。', '；', '，'])
            .clone_into(&mut t);
    }
    t
}

/// Proposes a count limit for a `per_count` rule from the words before its phrase.
fn max_count_hint(before: &str) -> Option<(u32, String)> {
    let chinese: Vec<(u32, &str)> = CHINESE_COUNT
        .captures_iter(before)
        .filter_map(|c| Some((chinese_number(c.get(1)?.as_str())?, c.get(0)?.as_str())))
        .filter(|(n, _)| *n >= 2)
        .collect();
    if chinese.len() >= 2 {
        let sum: u32 = chinese.iter().map(|(n, _)| n).sum();
        let parts: Vec<&str> = chinese.iter().map(|(_, t)| *t).collect();
        return Some((
            sum,
            format!("次数上限 {sum} 为原文「{}」之和", parts.join("、")),
        ));
    }
    let arabic = ARABIC_COUNT
        .captures_iter(before)
        .filter_map(|c| {
            Some((
                c.get(1)?.as_str().parse::<u32>().ok()?,
                c.get(0)?.as_str().to_owned(),
            ))
        })
        .filter(|(n, _)| *n >= 2)
        .last();
    if let Some((n, t)) = arabic {
        return Some((n, format!("次数上限 {n} 取自原文「{t}」")));
    }
    if let Some((n, t)) = chinese.first() {
        return Some((*n, format!("次数上限 {n} 取自原文「{t}」")));
    }
    if before.contains("每季度") {
        return Some((4, "次数上限 4 按原文「每季度」（一年四次）推定".into()));
    }
    if before.contains("每月") {
        return Some((12, "次数上限 12 按原文「每月」（一年十二次）推定".into()));
    }
    None
}

struct Splitter<'a> {
    /// The last metric subject seen ("年度隐患总录入数"), for "低于去年…" that omits it.
    subject: Option<String>,
    metrics: &'a mut Vec<(String, String)>,
}

impl Splitter<'_> {
    /// A metric's code: its Chinese name, the words an office's data files use for it (a nameless
    /// one gets `mN`).
    fn metric_code(&mut self, name: &str) -> String {
        let name = name.trim();
        if let Some((code, _)) = self.metrics.iter().find(|(_, n)| n == name) {
            return code.clone();
        }
        let code = if name.is_empty() {
            format!("m{}", self.metrics.len() + 1)
        } else {
            name.to_owned()
        };
        self.metrics.push((code.clone(), name.to_owned()));
        code
    }

    /// Splits a body of text into rules (codes `prefix.N`), each with its exact sentence; text with no
    /// scoring phrase goes to `leftover`. A cap written after a rule ("，最多得8分", "，最多扣10分")
    /// belongs to that rule.
    fn split(
        &mut self,
        body: &str,
        prefix: &str,
        container_max: &str,
        leftover: &mut Vec<String>,
    ) -> Vec<DraftRule> {
        let mut rules: Vec<DraftRule> = Vec::new();
        let mut start = 0usize;
        for m in PHRASE.captures_iter(body) {
            let Some(whole) = m.get(0) else { continue };
            let mut end = whole.end();
            if let Some(c) = body[end..].chars().next()
                && matches!(c, '，' | '；' | '。' | ',' | ';')
            {
                end += c.len_utf8();
            }
            // A cap: part of the rule before it.
            if let Some(cap) = m.get(1).or_else(|| m.get(2)) {
                if let Some(last) = rules.last_mut() {
                    last.source.push_str(&body[start..end]);
                    let source = last.source.trim().to_owned();
                    last.source = source;
                    apply_cap(last, cap.as_str());
                    start = end;
                    continue;
                }
                // A cap with no rule before it is the container's own limit: nothing to split.
                start = end;
                continue;
            }
            let source = body[start..end].trim().to_owned();
            let phrase_at =
                whole.start() - start - (body[start..].len() - body[start..].trim_start().len());
            let phrase_at = phrase_at.min(source.len());
            let before = &source[..phrase_at];
            let mut r = DraftRule {
                code: format!("{prefix}.{}", rules.len() + 1),
                text: short_text(&source, phrase_at),
                source: source.clone(),
                ..DraftRule::default()
            };
            let phrase = whole.as_str();
            if let (Some(a), Some(b)) = (m.get(4), m.get(5)) {
                r.kind = "range";
                r.min = Some(a.as_str().to_owned());
                r.max = Some(b.as_str().to_owned());
            } else if phrase == "一票否决" {
                r.kind = "veto";
            } else if phrase == "按最低等次处理" {
                r.kind = "lowest_grade";
            } else if phrase == "打分" {
                r.kind = "assessed";
                r.max = Some(container_max.to_owned());
                match ASSESSORS
                    .captures(before)
                    .and_then(|c| chinese_number(c.get(1)?.as_str()))
                {
                    Some(n) => r.assessors = Some(n),
                    None => r
                        .review
                        .push("未找到打分的督导组数（“由N个督导组…打分”）".into()),
                }
            } else if let Some(p) = m.get(7) {
                let points = p.as_str().to_owned();
                let deducts = m.get(6).is_some_and(|v| v.as_str() == "扣");
                if let Some(step) = STEP.captures(before).filter(|_| deducts) {
                    self.metric_step(&mut r, before, &step, points);
                } else if let Some(at) = before.find("低于").filter(|_| deducts) {
                    r.kind = "metric_below";
                    r.points = Some(points);
                    let mut head = &before[..at];
                    if let Some(c) = LABEL.captures(head) {
                        head = &head[c.get(0).map_or(0, |m| m.end())..];
                    }
                    if let Some(m) = NUMBERING.find(head) {
                        head = &head[m.end()..];
                    }
                    let subject = head.trim_matches(['，', '、', ' ']).to_owned();
                    let subject = if subject.is_empty() {
                        self.subject.clone().unwrap_or_default()
                    } else {
                        subject
                    };
                    self.subject = Some(subject.clone());
                    let reference: String = before[at + "低于".len()..]
                        .trim_end_matches(['，', ','])
                        .trim_end_matches('的')
                        .to_owned();
                    // "低于上年度": last year's figure of the same metric, named as such.
                    let reference = last_year_of(&reference, &subject).unwrap_or(reference);
                    if subject.is_empty() {
                        r.review.push("未找到比较的指标名称".into());
                    }
                    r.metric = Some(self.metric_code(&subject));
                    r.reference = Some(self.metric_code(&reference));
                    r.review.push(format!(
                        "本条比较指标「{subject}」与「{reference}」，请确认两个指标的名称（数据文件按名称填写）"
                    ));
                } else if COUNT_BEFORE.is_match(before) {
                    r.kind = "per_count";
                    r.points = Some(points);
                    if let Some((n, why)) = max_count_hint(before) {
                        r.max_count = Some(n);
                        r.review.push(format!("{why}，请核对"));
                    }
                } else {
                    r.kind = "fixed";
                    r.points = Some(points);
                }
            }
            rules.push(r);
            start = end;
        }
        let rest = body[start..].trim().trim_matches(['。', '；', '，']);
        if rest
            .chars()
            .filter(|c| !c.is_ascii_punctuation() && !c.is_whitespace())
            .count()
            >= 4
        {
            leftover.push(body[start..].trim().to_owned());
        }
        rules
    }

    /// "生产安全事故起数比上年每多一起扣2分": a step of the metric over last year's figure.
    fn metric_step(
        &mut self,
        r: &mut DraftRule,
        before: &str,
        step: &regex::Captures<'_>,
        points: String,
    ) {
        r.kind = "metric_step";
        r.points = Some(points);
        r.direction = Some(match step.get(1).map_or("", |m| m.as_str()) {
            "少" | "减少" => "below",
            _ => "above",
        });
        if let Some(n) = step.get(2).and_then(|n| chinese_number(n.as_str()))
            && n != 1
        {
            r.step = Some(n.to_string());
        }
        let at = step.get(0).map_or(before.len(), |m| m.start());
        let mut head = &before[..at];
        if let Some(c) = LABEL.captures(head) {
            head = &head[c.get(0).map_or(0, |m| m.end())..];
        }
        if let Some(m) = NUMBERING.find(head) {
            head = &head[m.end()..];
        }
        let subject = head
            .trim_matches(['，', '、', '；', ' '])
            .trim_start_matches("本行业领域")
            .trim_start_matches("辖区内")
            .trim_start_matches("辖区")
            .to_owned();
        if subject.is_empty() {
            r.review.push("未找到逐级扣分所比较的指标名称".into());
        }
        r.metric = Some(self.metric_code(&subject));
        let reference = last_year_of("上年", &subject).unwrap_or_else(|| format!("上年{subject}"));
        r.reference = Some(self.metric_code(&reference));
        r.review.push(format!(
            "本条比较指标「{subject}」与「{reference}」，请确认两个指标的名称（数据文件按名称填写）"
        ));
    }
}

/// "上年" / "上年度" / "去年" / "上一年度" alone names last year's figure of `subject`:
/// "上年度执法检查企业数" for "年度执法检查企业数".
fn last_year_of(reference: &str, subject: &str) -> Option<String> {
    let r = reference.trim();
    if !["上年", "上年度", "去年", "上一年", "上一年度"].contains(&r) || subject.is_empty()
    {
        return None;
    }
    let rest = subject
        .trim_start_matches("年度")
        .trim_start_matches("全年");
    Some(format!("上年度{rest}"))
}

/// A cap written after a rule: for a per-count rule the most instances (the cap over the points
/// each, where it divides exactly), for a metric step its `max`; anything else is left for review.
fn apply_cap(r: &mut DraftRule, cap: &str) {
    let cap_p = lvzhi_core::Points::parse(cap).ok();
    match r.kind {
        "per_count" => {
            let each = r
                .points
                .as_deref()
                .and_then(|p| lvzhi_core::Points::parse(p).ok());
            match (cap_p, each) {
                (Some(c), Some(e))
                    if e.hundredths() > 0 && c.hundredths() % e.hundredths() == 0 =>
                {
                    r.max_count = u32::try_from(c.hundredths() / e.hundredths()).ok();
                    // The document states the cap: no guessed count is left to check.
                    r.review.retain(|w| !w.starts_with("次数上限"));
                }
                _ => r.review.push(format!(
                    "原文上限「{cap}分」不是每次分值的整数倍，请核对次数上限"
                )),
            }
        }
        "metric_step" => r.max = Some(cap.to_owned()),
        _ => r
            .review
            .push(format!("原文另有上限「{cap}分」，请确认如何计分")),
    }
}

/// Proposes a rubric from a document.
pub fn draft(doc: &Document) -> Draft {
    let mut d = Draft {
        title: flat(&doc.title).trim().to_owned(),
        decimals: 2,
        ..Draft::default()
    };
    let notes = flat(&doc.notes);
    d.year = YEAR
        .captures(&d.title)
        .or_else(|| YEAR.captures(&notes))
        .and_then(|c| c.get(1)?.as_str().parse().ok())
        .unwrap_or(0);
    if d.year == 0 {
        d.review
            .push("未在标题或备注中找到年度，请填写 year".into());
    }
    d.id = rubric_id(&d.title, d.year);
    (d.parts, d.parts_review) = propose_parts(&d.title, &notes);
    if d.title.is_empty() {
        d.review
            .push("未找到标题（含“细则”的一行），请填写 title".into());
    }
    // The notes: classes, total, decimals, roster.
    for c in CLASS_WEIGHT.captures_iter(&notes) {
        let (Some(code), Some(w)) = (c.get(1), c.get(3)) else {
            continue;
        };
        if d.classes.iter().all(|x| x.0 != code.as_str()) {
            let noun = c.get(2).map_or("部门", |m| m.as_str());
            d.classes.push((
                code.as_str().to_owned(),
                format!("{}类{noun}", code.as_str()),
                w.as_str().to_owned(),
            ));
        }
    }
    if let Some(c) = DECIMALS.captures(&notes) {
        d.decimals = match c.get(1).map_or("", |m| m.as_str()) {
            "一" | "1" => 1,
            "零" | "0" => 0,
            _ => 2,
        };
    }
    d.grades = grades_of(&notes);
    d.max_total = MAX_TOTAL
        .captures(&notes)
        .and_then(|c| Some(c.get(1)?.as_str().to_owned()));
    let mut metrics = Vec::new();
    let mut sum = 0i64;
    let mut leftovers: Vec<(String, Vec<String>)> = Vec::new();
    for row in &doc.rows {
        // A row with an item starts a category; one without (a merged first-level cell) continues
        // the category above it.
        if !row.item.trim().is_empty() || d.categories.is_empty() {
            let code = if !row.seq.trim().is_empty()
                && row.seq.trim().chars().all(|c| c.is_ascii_digit())
            {
                row.seq.trim().to_owned()
            } else {
                (d.categories.len() + 1).to_string()
            };
            let (name, in_item) = name_and_max(&flat(&row.item));
            let own = if row.sub.trim().is_empty() {
                max_of(&row.max)
            } else {
                None
            };
            let bonus_words = row.item.contains("加分") || row.max.contains('加');
            d.categories.push(DraftCategory {
                code,
                name,
                max: in_item.clone().or(own.clone()).unwrap_or_default(),
                mode: if bonus_words { "bonus" } else { "deduct" },
                ..DraftCategory::default()
            });
            leftovers.push((String::new(), Vec::new()));
        }
        let Some(cat) = d.categories.last_mut() else {
            continue;
        };
        let mut body = flat(&row.detail);
        if EARN_DECLARED.is_match(&body) {
            cat.mode = "earn";
            body = EARN_DECLARED.replace_all(&body, "").into_owned();
        }
        if BONUS_DECLARED.is_match(&body) {
            cat.mode = "bonus";
            body = BONUS_DECLARED.replace_all(&body, "").into_owned();
        }
        let mut splitter = Splitter {
            subject: None,
            metrics: &mut metrics,
        };
        let (_, leftover) = leftovers.last_mut().expect("one per category");
        if row.sub.trim().is_empty() {
            // Sections named inside the text ("…方面（15分）：…"), as in 2022.
            let headers: Vec<regex::Captures<'_>> = SECTION.captures_iter(&body).collect();
            let first = headers
                .first()
                .and_then(|c| c.get(0))
                .map_or(body.len(), |m| m.start());
            let n = cat.rules.len();
            let mut rules = splitter.split(&body[..first], &cat.code, &cat.max, leftover);
            renumber(&mut rules, &cat.code, n);
            cat.rules.extend(rules);
            for (i, h) in headers.iter().enumerate() {
                let (Some(all), Some(n), Some(m)) = (h.get(0), h.get(1), h.get(2)) else {
                    continue;
                };
                let end = headers
                    .get(i + 1)
                    .and_then(|c| c.get(0))
                    .map_or(body.len(), |x| x.start());
                let sec_code = format!("{}.{}", cat.code, cat.sections.len() + 1);
                let rules =
                    splitter.split(&body[all.start()..end], &sec_code, m.as_str(), leftover);
                cat.sections.push(DraftSection {
                    code: sec_code,
                    name: n.as_str().to_owned(),
                    max: m.as_str().to_owned(),
                    rules,
                });
            }
        } else {
            // A second-level row: a section with its own maximum.
            let (sname, in_sub) = name_and_max(&flat(&row.sub));
            let smax = max_of(&row.max).or(in_sub).unwrap_or_default();
            let sec_code = format!("{}.{}", cat.code, cat.sections.len() + 1);
            let rules = splitter.split(&body, &sec_code, &smax, leftover);
            if smax.is_empty() {
                cat.review.push(format!("未找到「{sname}」的分值"));
            }
            cat.sections.push(DraftSection {
                code: sec_code,
                name: sname,
                max: smax,
                rules,
            });
        }
    }
    for (cat, (_, leftover)) in d.categories.iter_mut().zip(leftovers) {
        let all: Vec<&DraftRule> = cat
            .rules
            .iter()
            .chain(cat.sections.iter().flat_map(|s| s.rules.iter()))
            .collect();
        let only_flags = !all.is_empty()
            && all
                .iter()
                .all(|r| matches!(r.kind, "veto" | "lowest_grade"));
        // A category whose every scoring phrase earns (得N分) is 得分制 even where it does not say so.
        let verbs: Vec<char> = all.iter().filter_map(|r| verb_of(&r.source)).collect();
        if cat.mode == "deduct" && !verbs.is_empty() {
            if verbs.iter().all(|v| *v == '得') {
                cat.mode = "earn";
            } else if verbs.iter().all(|v| *v == '加') {
                cat.mode = "bonus";
            }
        }
        if cat.max.is_empty() {
            if only_flags {
                cat.mode = "flags";
                cat.max = "0".into();
            } else if !cat.sections.is_empty() {
                let sec: i64 = cat
                    .sections
                    .iter()
                    .map(|s| {
                        lvzhi_core::Points::parse(&s.max).map_or(0, lvzhi_core::Points::hundredths)
                    })
                    .sum();
                cat.max = lvzhi_core::Points::from_hundredths(sec).to_string();
                cat.review.push(format!(
                    "方面「{}」的分值未写明，暂按各小节分值之和 {} 填写",
                    cat.name, cat.max
                ));
            } else {
                cat.max = "0".into();
                cat.review
                    .push(format!("未找到方面「{}」的分值（如“（20分）”）", cat.name));
            }
        }
        if matches!(cat.mode, "deduct" | "earn") {
            sum += lvzhi_core::Points::parse(&cat.max).map_or(0, lvzhi_core::Points::hundredths);
        }
        for text in leftover {
            d.unclassified.push((
                cat.code.clone(),
                text,
                "未找到计分方式（如“扣N分”“每1例扣N分”“扣1-10分”“得N分”“加N分”）".into(),
            ));
        }
        if !cat.sections.is_empty() {
            let sec: i64 = cat
                .sections
                .iter()
                .map(|s| {
                    lvzhi_core::Points::parse(&s.max).map_or(0, lvzhi_core::Points::hundredths)
                })
                .sum();
            let cmax =
                lvzhi_core::Points::parse(&cat.max).map_or(0, lvzhi_core::Points::hundredths);
            if sec != cmax && !cat.rules.is_empty() && sec < cmax {
                // Loose rules beside sections: the sections may be less than the whole.
            } else if sec != cmax {
                cat.review.push(format!(
                    "各小节分值之和（{}）与方面分值（{}）不一致",
                    lvzhi_core::Points::from_hundredths(sec),
                    cat.max
                ));
            }
        }
    }
    d.metrics = metrics;
    let total = TOTAL
        .captures(&notes)
        .and_then(|c| Some(c.get(1)?.as_str().to_owned()));
    let summed = lvzhi_core::Points::from_hundredths(sum).to_string();
    if let Some(t) = total {
        if lvzhi_core::Points::parse(&t).map_or(0, lvzhi_core::Points::hundredths) != sum {
            d.review.push(format!(
                "备注中的总分（{t}）与各方面分值之和（{summed}）不一致"
            ));
        }
        d.total = t;
    } else {
        d.review.push(format!(
            "备注中没有找到总分，暂按各方面分值之和（{summed}）填写"
        ));
        d.total = summed;
    }
    if d.classes.is_empty() {
        // Many documents for 镇（街道） have no classes: one class, the total kept as it is.
        d.classes
            .push(("A".into(), "参评单位".into(), d.total.clone()));
        d.review.push(
            "备注中没有找到各类单位的分值（如“A类部门占3分”），暂按一类单位、得分不折算填写，请核对 [[classes]]"
                .into(),
        );
    }
    for c in CLASS_LIST.captures_iter(&notes) {
        let (Some(class), Some(list)) = (c.get(1), c.get(2)) else {
            continue;
        };
        for name in list.as_str().split(['、', '，', ',']) {
            let name = name.trim();
            if !name.is_empty() {
                d.units.push((name.to_owned(), class.as_str().to_owned()));
            }
        }
    }
    if d.units.is_empty()
        && let Some(c) = ROSTER_ANY.captures(&notes)
    {
        let class = d.classes[0].0.clone();
        for name in c.get(1).map_or("", |m| m.as_str()).split(['、', '，', ',']) {
            let name = name.trim();
            if !name.is_empty() {
                d.units.push((name.to_owned(), class.clone()));
            }
        }
    }
    if d.units.is_empty() {
        d.review.push(
            "备注中没有找到参评单位名单（如“A类部门：发改委、教育局……”），请补充 [[units]]".into(),
        );
    }
    d
}

/// The grade bands of the notes: "得分90分及以上为优秀，80分及以上不满90分为良好，…，60分以下为不合格".
fn grades_of(notes: &str) -> Vec<(String, String)> {
    let mut bands: Vec<(lvzhi_core::Points, String)> = Vec::new();
    for c in GRADE_AT_LEAST.captures_iter(notes) {
        let (Some(min), Some(name)) = (c.get(1), c.get(2)) else {
            continue;
        };
        if let Ok(p) = lvzhi_core::Points::parse(min.as_str())
            && !bands.iter().any(|(_, n)| n == name.as_str())
        {
            bands.push((p, name.as_str().to_owned()));
        }
    }
    if bands.is_empty() {
        return Vec::new();
    }
    if let Some(c) = GRADE_BELOW.captures(notes)
        && let Some(name) = c.get(2)
        && !bands.iter().any(|(_, n)| n == name.as_str())
    {
        bands.push((lvzhi_core::Points::ZERO, name.as_str().to_owned()));
    }
    bands.sort_by_key(|b| std::cmp::Reverse(b.0));
    bands.into_iter().map(|(p, n)| (n, p.to_string())).collect()
}

/// The verb of a rule's scoring phrase: 扣, 得 or 加.
fn verb_of(source: &str) -> Option<char> {
    PHRASE
        .captures(source)
        .and_then(|c| c.get(3).or_else(|| c.get(6)))
        .and_then(|m| m.as_str().chars().next())
}

/// An item's name without its numbering ("一、", "（二）") and its maximum, and that maximum.
fn name_and_max(item: &str) -> (String, Option<String>) {
    let item = LEADING_NUMBER.replace(item.trim(), "").into_owned();
    match ITEM_MAX.captures(item.trim()) {
        Some(c) => (
            c.get(1).map_or("", |m| m.as_str()).trim().to_owned(),
            Some(c.get(2).map_or("", |m| m.as_str()).to_owned()),
        ),
        None => (item.trim().to_owned(), None),
    }
}

/// A maximum written in its own column: "20分", "20", "最多加5分"; `None` for "—" or empty.
fn max_of(cell: &str) -> Option<String> {
    static N: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\d+(?:\.\d+)?)").expect("a valid pattern"));
    N.captures(cell)
        .and_then(|c| Some(c.get(1)?.as_str().to_owned()))
}

/// Codes `prefix.N` continuing after `n` rules already there.
fn renumber(rules: &mut [DraftRule], prefix: &str, n: usize) {
    for (i, r) in rules.iter_mut().enumerate() {
        r.code = format!("{prefix}.{}", n + i + 1);
    }
}

// ---------------------------------------------------------------------------------------------
// The draft as a rubric file.

/// A TOML basic string.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number as the document wrote it, or as a string when it is not a plain decimal (the loader
/// then says why).
fn n(s: &str) -> String {
    let valid = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '.')
        && s.matches('.').count() <= 1
        && !s.starts_with('.')
        && !s.ends_with('.');
    if !valid {
        return q(s);
    }
    let (int, frac) = s.split_once('.').map_or((s, None), |(a, b)| (a, Some(b)));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    match frac {
        Some(f) => format!("{int}.{f}"),
        None => int.to_owned(),
    }
}

fn write_rule(out: &mut String, table: &str, r: &DraftRule) {
    let _ = writeln!(out, "\n[[{table}]]");
    let _ = writeln!(out, "code = {}", q(&r.code));
    let _ = writeln!(out, "kind = {}", q(r.kind));
    for (k, v) in [("points", &r.points), ("min", &r.min), ("max", &r.max)] {
        if let Some(v) = v {
            let _ = writeln!(out, "{k} = {}", n(v));
        }
    }
    if let Some(m) = r.max_count {
        let _ = writeln!(out, "max_count = {m}");
    }
    if let Some(a) = r.assessors {
        let _ = writeln!(out, "assessors = {a}");
    }
    for (k, v) in [("metric", &r.metric), ("reference", &r.reference)] {
        if let Some(v) = v {
            let _ = writeln!(out, "{k} = {}", q(v));
        }
    }
    if let Some(d) = r.direction {
        let _ = writeln!(out, "direction = {}", q(d));
    }
    if let Some(st) = &r.step {
        let _ = writeln!(out, "step = {}", n(st));
    }
    let _ = writeln!(out, "text = {}", q(&r.text));
    let _ = writeln!(out, "source = {}", q(&r.source));
    if !r.review.is_empty() {
        let _ = writeln!(out, "review = {}", q(&r.review.join("；")));
    }
}

impl Draft {
    /// The draft as a rubric file: loads with `Rubric::from_toml`; `review` keys and
    /// `[[unclassified]]` entries mark what a person must still decide.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# 由 `lvzhi rubric import` 从细则文件生成的草稿。");
        let _ = writeln!(
            out,
            "# 每条规则的 source 是原文；review 键与 [[unclassified]] 条目须由人确认后删除，草稿才能使用。"
        );
        let _ = writeln!(out, "# 待确认 {} 项。", self.pending());
        let _ = writeln!(out, "\n[rubric]");
        let _ = writeln!(out, "id = {}", q(&self.id));
        let _ = writeln!(out, "year = {}", self.year.max(1949));
        let _ = writeln!(
            out,
            "title = {}",
            q(if self.title.is_empty() {
                "（待填写）"
            } else {
                &self.title
            })
        );
        let _ = writeln!(out, "issuer = \"\"");
        let _ = writeln!(out, "total = {}", n(&self.total));
        if let Some(m) = &self.max_total {
            let _ = writeln!(out, "max_total = {}", n(m));
        }
        if !self.review.is_empty() {
            let _ = writeln!(out, "review = {}", q(&self.review.join("；")));
        }
        let _ = writeln!(out, "\n[conversion]");
        let _ = writeln!(out, "divisor = {}", n(&self.total));
        let _ = writeln!(out, "decimals = {}", self.decimals);
        let _ = writeln!(out, "rounding = \"half_up\"");
        for (code, name, weight) in &self.classes {
            let _ = writeln!(
                out,
                "\n[[classes]]\ncode = {}\nname = {}\nweight = {}",
                q(code),
                q(name),
                n(weight)
            );
        }
        for (name, min) in &self.grades {
            let _ = writeln!(out, "\n[[grades]]\nname = {}\nmin = {}", q(name), n(min));
        }
        for (i, p) in self.parts.iter().enumerate() {
            let _ = writeln!(
                out,
                "\n[[parts]]\ncode = {}\nname = {}\nfrom = {}\nto = {}\nweight = {}",
                q(&p.code),
                q(&p.name),
                q(&p.from),
                q(&p.to),
                n(&p.weight)
            );
            if i == 0
                && let Some(r) = &self.parts_review
            {
                let _ = writeln!(out, "review = {}", q(r));
            }
        }
        for (code, name) in &self.metrics {
            let _ = writeln!(
                out,
                "\n[[metrics]]\ncode = {}\nname = {}\nreview = {}",
                q(code),
                q(name),
                q("请确认指标名称（数据文件和“指标数据”页按此名称填写）")
            );
        }
        for c in &self.categories {
            let _ = writeln!(out, "\n# {}", "-".repeat(96));
            let _ = writeln!(out, "[[categories]]");
            let _ = writeln!(out, "code = {}", q(&c.code));
            let _ = writeln!(out, "name = {}", q(&c.name));
            if c.mode != "deduct" {
                let _ = writeln!(out, "mode = {}", q(c.mode));
            }
            let _ = writeln!(out, "max = {}", n(&c.max));
            if !c.review.is_empty() {
                let _ = writeln!(out, "review = {}", q(&c.review.join("；")));
            }
            for r in &c.rules {
                write_rule(&mut out, "categories.rules", r);
            }
            for s in &c.sections {
                let _ = writeln!(
                    out,
                    "\n[[categories.sections]]\ncode = {}\nname = {}\nmax = {}",
                    q(&s.code),
                    q(&s.name),
                    n(&s.max)
                );
                for r in &s.rules {
                    write_rule(&mut out, "categories.sections.rules", r);
                }
            }
        }
        for (cat, text, why) in &self.unclassified {
            let _ = writeln!(
                out,
                "\n[[unclassified]]\ncategory = {}\nsource = {}\nreview = {}",
                q(cat),
                q(text),
                q(why)
            );
        }
        if !self.units.is_empty() {
            let _ = writeln!(out, "\n# {}\n# 名册（备注）", "-".repeat(96));
        }
        for (name, class) in &self.units {
            let _ = writeln!(out, "\n[[units]]\nname = {}\nclass = {}", q(name), q(class));
        }
        out
    }
}

/// How a draft compares with a reference rubric: rule by rule, code, kind and numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accuracy {
    pub expected: usize,
    pub right: usize,
    /// Codes proposed without a review mark whose kind or numbers are wrong.
    pub wrong_but_certain: Vec<String>,
    /// Codes whose kind or numbers differ (or that are missing or extra), with what differs.
    pub wrong: Vec<String>,
    /// Rules whose source sentence is exactly the reference's.
    pub exact_sources: usize,
}

/// The numbers of a rule, as text, for comparison.
fn numbers(kind: &lvzhi_core::RuleKind) -> (&'static str, Vec<String>) {
    use lvzhi_core::RuleKind as K;
    match kind {
        K::Fixed { points } => ("fixed", vec![points.to_string()]),
        K::PerCount { points, max_count } => (
            "per_count",
            vec![
                points.to_string(),
                max_count.map_or_else(String::new, |m| m.to_string()),
            ],
        ),
        K::Range { min, max } => ("range", vec![min.to_string(), max.to_string()]),
        K::Graded { levels } => (
            "graded",
            levels.iter().map(|l| l.points.to_string()).collect(),
        ),
        K::Assessed { max, assessors } => (
            "assessed",
            vec![
                max.to_string(),
                assessors.map_or_else(String::new, |a| a.to_string()),
            ],
        ),
        K::MetricBelow { points, .. } => ("metric_below", vec![points.to_string()]),
        K::MetricStep {
            points,
            direction,
            step,
            max,
            ..
        } => (
            "metric_step",
            vec![
                points.to_string(),
                direction.name().to_owned(),
                step.normalize().to_string(),
                max.map_or_else(String::new, |m| m.to_string()),
            ],
        ),
        K::Veto => ("veto", vec![]),
        K::LowestGrade => ("lowest_grade", vec![]),
    }
}

/// Compares a loaded draft with the reference rubric.
pub fn accuracy(
    draft: &lvzhi_core::Rubric,
    reference: &lvzhi_core::Rubric,
    reviewed: &[String],
) -> Accuracy {
    let mut a = Accuracy {
        expected: reference.rules.len(),
        ..Accuracy::default()
    };
    for r in &reference.rules {
        let want = numbers(&r.kind);
        match draft.rule_by_code(&r.code).map(|i| &draft.rules[i]) {
            Some(got) => {
                let have = numbers(&got.kind);
                if have == want {
                    a.right += 1;
                } else {
                    a.wrong
                        .push(format!("{}：应为 {want:?}，草稿为 {have:?}", r.code));
                    if !reviewed.contains(&r.code) {
                        a.wrong_but_certain.push(r.code.clone());
                    }
                }
                if got.source == r.source {
                    a.exact_sources += 1;
                }
            }
            None => a.wrong.push(format!("{}：草稿中没有", r.code)),
        }
    }
    for r in &draft.rules {
        if reference.rule_by_code(&r.code).is_none() {
            a.wrong.push(format!("{}：参照中没有", r.code));
            if !reviewed.contains(&r.code) {
                a.wrong_but_certain.push(r.code.clone());
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_proposed_from_the_title_and_notes_only() {
        let (parts, why) = propose_parts("2023年全县安全生产季度考核细则", "");
        assert_eq!(parts.len(), 4);
        assert_eq!(
            (parts[1].from.as_str(), parts[1].to.as_str()),
            ("04-01", "06-30")
        );
        assert!(why.is_some_and(|w| w.contains("四个季度")));
        let (parts, _) = propose_parts(
            "细则",
            "半年考核与年度考核相结合，上半年占40%，下半年占60%。",
        );
        assert_eq!(
            parts.iter().map(|p| p.weight.as_str()).collect::<Vec<_>>(),
            ["40", "60"]
        );
        assert!(
            propose_parts("2023年细则", "每季度召开一次会议的，得2分")
                .0
                .is_empty()
        );
        let mut d = Draft {
            title: "2023年全县安全生产季度考核细则".into(),
            ..Draft::default()
        };
        (d.parts, d.parts_review) = propose_parts(&d.title, "");
        let toml = d.to_toml();
        assert_eq!(toml.matches("[[parts]]").count(), 4, "{toml}");
        assert!(
            toml.contains("code = \"q1\"\nname = \"第一季度\"\nfrom = \"01-01\"\nto = \"03-31\"\nweight = 1\nreview = "),
            "{toml}"
        );
        assert_eq!(d.pending(), 1, "one question for the proposal");
    }

    #[test]
    fn a_short_name_ends_at_a_clause_boundary_and_an_id_comes_from_the_title() {
        let s = "（3）重大事故隐患未按期整改销号的，视情扣1-3分。";
        assert_eq!(
            short_text(s, s.find("扣").unwrap()),
            "重大事故隐患未按期整改销号"
        );
        let s = "领导班子成员未开展检查的，每少1人次扣0.5分。";
        assert_eq!(
            short_text(s, s.find("扣").unwrap()),
            "领导班子成员未开展检查"
        );
        let s = "未制定年度执法检查计划的，扣2分。";
        assert_eq!(
            short_text(s, s.find("扣").unwrap()),
            "未制定年度执法检查计划"
        );
        assert_eq!(
            rubric_id("2023年青山县安全生产工作考核细则", 2023),
            "青山县安全生产工作考核细则-2023"
        );
        assert_eq!(rubric_id("", 2023), "draft-2023");
        assert_eq!(
            last_year_of("上年度", "年度执法检查企业数").as_deref(),
            Some("上年度执法检查企业数")
        );
        assert_eq!(last_year_of("苏州市平均水平", "录入数"), None);
    }

    #[test]
    fn chinese_numbers() {
        assert_eq!(chinese_number("两"), Some(2));
        assert_eq!(chinese_number("十"), Some(10));
        assert_eq!(chinese_number("十二"), Some(12));
        assert_eq!(chinese_number("三十"), Some(30));
        assert_eq!(chinese_number("8"), Some(8));
        assert_eq!(chinese_number("零"), None);
    }

    #[test]
    fn toml_strings_and_numbers() {
        assert_eq!(q("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(n("0.2"), "0.2");
        assert_eq!(n("15"), "15");
        assert_eq!(n("007"), "7");
        assert_eq!(n("1.2.3"), "\"1.2.3\"");
    }

    #[test]
    fn a_sentence_becomes_rules() {
        let mut metrics = Vec::new();
        let mut s = Splitter {
            subject: None,
            metrics: &mut metrics,
        };
        let mut left = Vec::new();
        let rules = s.split(
            "未制定清单的，扣2分，班子成员每少1个扣0.2分。年度隐患总录入数低于苏州市平均水平的，扣0.3分；低于去年录入总量的，扣0.2分。视情况酌情处理",
            "2",
            "20",
            &mut left,
        );
        let kinds: Vec<&str> = rules.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            ["fixed", "per_count", "metric_below", "metric_below"]
        );
        assert_eq!(rules[1].source, "班子成员每少1个扣0.2分。");
        assert_eq!(rules[2].metric, rules[3].metric, "the subject carries over");
        assert_eq!(left, ["视情况酌情处理"]);
    }
}
