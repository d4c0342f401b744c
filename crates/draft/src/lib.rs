//! lvzhi-draft: a year's 细则 document, in whatever form it was received (`.docx`, old Word or WPS,
//! PDF with a text layer, text in any of the table forms or as numbered items), read into one
//! document model and drafted into a rubric (TOML).
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
//! This crate never guesses silently and does no IO but one: the caller reads the file, and an old
//! Word file is converted by LibreOffice (`convert`).

pub mod review;

mod accuracy;
mod build;
mod convert;
mod docx;
mod encoding;
mod grammar;
mod pdf;
mod table;
#[cfg(test)]
mod tests;
mod text;
mod toml_out;

pub use accuracy::{Accuracy, accuracy};
pub use build::{Draft, DraftCategory, DraftPart, DraftRule, DraftSection, draft};
pub use docx::read_docx;
pub use text::read_text;

/// The largest document accepted, and the most its `word/document.xml` may expand to.
pub const MAX_DOCUMENT: usize = 20 << 20;
pub(crate) const MAX_XML: u64 = 50 << 20;

/// Why a document could not be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("{0}")]
    Unreadable(String),
    /// Read, but nothing in it is a rubric's item.
    #[error(
        "没有找到可识别的考核项目：需要带表头的细则表格（如“序号、考核项目、分值、评分标准”或“序号、监测指标项目、监测指标细则”），或“一、……（20分）”这样编号的条目"
    )]
    NoItems,
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

/// Reads a document by its content: a `.docx` (zip), an old Word or WPS file (converted by
/// LibreOffice where it is installed), a PDF with a text layer, or text (UTF-8, UTF-16 or GBK). A document in which no item
/// is found is refused ([`DocumentError::NoItems`]).
pub fn read_document(bytes: &[u8]) -> Result<Document, DocumentError> {
    if bytes.len() > MAX_DOCUMENT {
        return Err(DocumentError::Unreadable(format!(
            "文件过大（{} MB，上限 {} MB）",
            bytes.len() >> 20,
            MAX_DOCUMENT >> 20
        )));
    }
    let doc = if bytes.starts_with(b"PK\x03\x04") {
        read_docx(bytes)?
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        read_docx(&convert::to_docx(bytes).map_err(DocumentError::Unreadable)?)?
    } else if is_pdf(bytes) {
        read_text(&pdf::text_of(bytes).map_err(DocumentError::Unreadable)?)
    } else {
        read_text(&encoding::decode(bytes).map_err(DocumentError::Unreadable)?)
    };
    if doc.rows.is_empty() {
        return Err(DocumentError::NoItems);
    }
    Ok(doc)
}

/// A PDF starts with `%PDF-` within its first kilobyte.
fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}
