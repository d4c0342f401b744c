//! lvzhi-exchange: the documents the office exchanges, over the store: exports (ranking table,
//! ledger, every unit's sheet, the 通报), import templates, and imports of records, 督导组 scores,
//! metrics and the roster's tags from `.xlsx` or CSV, all-or-nothing. The API routes, the pages and
//! the command line (`lvzhi export`, `lvzhi import`) all call these functions, so they cannot differ,
//! and the command line does not need the web framework for them. Permission checks are the
//! callers'; this crate must not contain SQL, know HTTP, or compute a score.

use lvzhi_core::{Basis, NewRecord, Points};
use lvzhi_office::xlsx_output::{self, LedgerRow};
use lvzhi_office::{InputError, InputErrors, InputFile, Table};
use lvzhi_store::{
    Actor, Batch, Duplicates, FileMark, ImportOutcome, PeriodState, Store, StoreError, StoredRecord,
};
use sha2::{Digest, Sha256};

/// What can be exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// The official ranking table.
    Results,
    /// Every record of the period.
    Ledger,
    /// Every unit's explained sheet.
    Sheets,
    /// The 通报 of the period (docx or pdf).
    Report,
}

/// The file formats of exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Docx,
    Pdf,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "xlsx" => Some(Format::Xlsx),
            "docx" => Some(Format::Docx),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Docx => "docx",
            Format::Pdf => "pdf",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Xlsx => XLSX,
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Pdf => "application/pdf",
        }
    }
}

impl Export {
    pub fn parse(s: &str) -> Option<Export> {
        match s {
            "results" => Some(Export::Results),
            "ledger" => Some(Export::Ledger),
            "sheets" => Some(Export::Sheets),
            "report" => Some(Export::Report),
            _ => None,
        }
    }

    /// The formats this export comes in.
    pub fn formats(self) -> &'static [Format] {
        match self {
            Export::Report => &[Format::Docx, Format::Pdf],
            _ => &[Format::Xlsx],
        }
    }

    /// The file name offered for download.
    pub fn file_name(self, period: &lvzhi_store::PeriodInfo, format: Format) -> String {
        let base = match self {
            Export::Results => "监测得分排名",
            Export::Ledger => "扣分记录",
            Export::Sheets => "各单位得分说明",
            Export::Report => "履职监测情况通报",
        };
        format!("{}_{base}.{}", period.file_stem(), format.ext())
    }
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Records as the ledger export shows them.
pub fn ledger_rows(state: &PeriodState, records: &[StoredRecord]) -> Vec<LedgerRow> {
    let rubric = &state.rubric;
    records
        .iter()
        .map(|r| LedgerRow {
            id: r.id,
            unit: r.unit.clone(),
            rule: r.rule.clone(),
            count: r.count,
            points: rubric.rule_by_code(&r.rule).map_or_else(String::new, |i| {
                rubric.record_points_text(
                    i,
                    u32::try_from(r.count).unwrap_or(0),
                    r.points
                        .as_deref()
                        .and_then(|p| Points::parse(p).ok())
                        .unwrap_or_default(),
                )
            }),
            date: r.date.clone().unwrap_or_default(),
            source: r.source.clone(),
            note: r.note.clone(),
            status: r.status,
            created_by: r.created_by.clone(),
            created_at: lvzhi_store::clock::beijing_minute(&r.created_at),
            revoked_reason: r.revoked_reason.clone().unwrap_or_default(),
        })
        .collect()
}

/// The exceptions acknowledged when publication `seq` was made, as its snapshot keeps them.
async fn acknowledged_at(store: &Store, year: i64, seq: i64) -> Result<Vec<String>, StoreError> {
    let body = store.publication(year, seq).await?;
    let v: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| StoreError::Corrupt(format!("发布快照无法读取：{e}")))?;
    Ok(v["acknowledged"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect())
}

fn xlsx_failed(e: &rust_xlsxwriter::XlsxError) -> StoreError {
    StoreError::Corrupt(format!("无法生成工作簿：{e}"))
}

/// Writes an export of the period `year`. The caller has checked that `format` is one of
/// `what.formats()`.
pub async fn export(
    store: &Store,
    year: i64,
    what: Export,
    format: Format,
) -> Result<Vec<u8>, StoreError> {
    let state = store.state(year).await?;
    // A published period exports its official result with the snapshot's hash (and the exceptions
    // acknowledged when it was published); an open one its provisional result, said to be so.
    let standing = state.standing();
    let publication = if standing.published {
        store.current_publication(year).await?
    } else {
        None
    };
    let acknowledged = match &publication {
        Some(p) => acknowledged_at(store, year, p.seq).await?,
        None => Vec::new(),
    };
    let (basis, stamp) = match publication {
        Some(p) => (
            Basis::Official,
            format!(
                "正式结果：{}第 {} 次发布（{}），发布快照 SHA-256：{}{}",
                state.info.period_name(),
                p.seq,
                lvzhi_store::clock::beijing_minute(&p.published_at),
                p.hash,
                p.key_fingerprint
                    .as_deref()
                    .map(|f| format!("，{}：{f}", lvzhi_store::KEY_FINGERPRINT_LABEL))
                    .unwrap_or_default()
            ),
        ),
        None => (standing.basis, standing.note()),
    };
    // Every export names its office, assessment, year and part.
    let stamp = format!("考核期：{}。{stamp}", state.info.label());
    if state.info.is_year_of_parts() {
        return year_export(store, &state, what, format, basis, stamp).await;
    }
    if what == Export::Report {
        let sheets = state.sheets_of(basis);
        let today = lvzhi_store::clock::beijing_today(&store.now());
        let mut data = lvzhi_office::report::report_data(&state.rubric, sheets, &today);
        data.notes.extend(
            acknowledged
                .iter()
                .map(|line| format!("发布时确认的例外：{line}。")),
        );
        data.notes.push(stamp);
        // Typesetting takes a few hundred milliseconds: off the async threads.
        return tokio::task::spawn_blocking(move || match format {
            Format::Pdf => lvzhi_office::report::report_pdf(&data),
            _ => lvzhi_office::report::report_docx(&data),
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("通报生成中断：{e}")))?
        .map_err(StoreError::Corrupt);
    }
    let records = match what {
        Export::Ledger | Export::Sheets => store.all_records(year).await?,
        _ => Vec::new(),
    };
    // Laying out a workbook is CPU work (tens of milliseconds for a province): off the async
    // threads, like the 通报.
    tokio::task::spawn_blocking(move || {
        let sheets = state.sheets_of(basis);
        match what {
            Export::Ledger => {
                xlsx_output::ledger_xlsx(&state.rubric, &ledger_rows(&state, &records))
            }
            Export::Sheets => {
                xlsx_output::sheets_xlsx(&state.rubric, sheets, &ledger_rows(&state, &records))
            }
            _ => xlsx_output::results_xlsx(&state.rubric, sheets, Some(&stamp)),
        }
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("工作簿生成中断：{e}")))?
    .map_err(|e| xlsx_failed(&e))
}

/// An export of a year made of parts: its ranking workbook (part columns) or its 通报; a year has
/// no ledger of its own, so its records and sheets are each part's.
async fn year_export(
    store: &Store,
    state: &PeriodState,
    what: Export,
    format: Format,
    basis: Basis,
    stamp: String,
) -> Result<Vec<u8>, StoreError> {
    let year = store.year_results(state.info.id, basis).await?;
    match what {
        Export::Results => tokio::task::spawn_blocking(move || {
            lvzhi_office::year_output::year_results_xlsx(&year.rubric, &year.sheets, Some(&stamp))
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("工作簿生成中断：{e}")))?
        .map_err(|e| xlsx_failed(&e)),
        Export::Report => {
            let today = lvzhi_store::clock::beijing_today(&store.now());
            let mut data =
                lvzhi_office::year_output::year_report_data(&year.rubric, &year.sheets, &today);
            data.notes.push(stamp);
            tokio::task::spawn_blocking(move || match format {
                Format::Pdf => lvzhi_office::report::report_pdf(&data),
                _ => lvzhi_office::report::report_docx(&data),
            })
            .await
            .map_err(|e| StoreError::Corrupt(format!("通报生成中断：{e}")))?
            .map_err(StoreError::Corrupt)
        }
        Export::Ledger | Export::Sheets => Err(StoreError::invalid(
            "period",
            format!(
                "{}由各期合成，没有自己的扣分记录和得分说明：请在各期导出",
                state.info.period_name()
            ),
        )),
    }
}

/// A table's name in paths and commands.
pub fn table_name(t: Table) -> &'static str {
    match t {
        Table::Records => "records",
        Table::Assessments => "assessments",
        Table::Metrics => "metrics",
        Table::Units => "units",
    }
}

/// What a unit's own download holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitExport {
    /// The unit's explained sheet.
    Sheet,
    /// Every record of the unit, with its state.
    Records,
}

impl UnitExport {
    pub fn parse(s: &str) -> Option<UnitExport> {
        match s {
            "sheet" => Some(UnitExport::Sheet),
            "records" => Some(UnitExport::Records),
            _ => None,
        }
    }

    /// The file name offered for download.
    pub fn file_name(self, period: &lvzhi_store::PeriodInfo, unit: &str) -> String {
        let stem = period.file_stem();
        match self {
            UnitExport::Sheet => format!("{stem}_{unit}得分说明.xlsx"),
            UnitExport::Records => format!("{stem}_{unit}扣分记录.xlsx"),
        }
    }
}

/// One unit's own download (xlsx): its sheet (provisional, the figures the unit sees) or its
/// records with their states.
pub async fn export_unit(
    store: &Store,
    year: i64,
    unit: &str,
    what: UnitExport,
) -> Result<Vec<u8>, StoreError> {
    let state = store.state(year).await?;
    let u = state.unit_index(unit).ok_or_else(|| {
        StoreError::NotFound(format!(
            "{}名册中没有单位「{unit}」",
            state.info.period_name()
        ))
    })?;
    let records = store.unit_records(year, unit).await?;
    let rows = ledger_rows(&state, &records);
    let xlsx = match what {
        UnitExport::Sheet => {
            let one = lvzhi_core::ScoreSheets {
                sheets: state
                    .sheets
                    .sheets
                    .iter()
                    .filter(|s| s.unit == u)
                    .cloned()
                    .collect(),
            };
            xlsx_output::sheets_xlsx(&state.rubric, &one, &rows)
        }
        UnitExport::Records => xlsx_output::ledger_xlsx(&state.rubric, &rows),
    };
    xlsx.map_err(|e| xlsx_failed(&e))
}

/// Which table an import or template is for, by its name in paths and commands.
pub fn table_of(s: &str) -> Option<Table> {
    match s {
        "records" => Some(Table::Records),
        "assessments" => Some(Table::Assessments),
        "metrics" => Some(Table::Metrics),
        "units" => Some(Table::Units),
        _ => None,
    }
}

/// The import template of `table` for the period `year`.
pub async fn template(store: &Store, year: i64, table: Table) -> Result<Vec<u8>, StoreError> {
    let state = store.state(year).await?;
    let units: Vec<String> = state.units.iter().map(|u| u.name.clone()).collect();
    xlsx_output::template_xlsx(&state.rubric, table, &units).map_err(|e| xlsx_failed(&e))
}

/// A file read for import: its rows in the table's column order, each row's line (or worksheet
/// row), and the SHA-256 of its bytes (the same file is not imported twice into a year).
pub struct Parsed {
    pub table: Table,
    pub rows: Vec<Vec<String>>,
    lines: Vec<u64>,
    label: String,
    pub sha256: String,
}

/// Reads an uploaded or given file (workbook or CSV, by content) as `table`.
pub fn parse(bytes: Vec<u8>, label: &str, table: Table) -> Result<Parsed, InputErrors> {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let file = InputFile::from_bytes(bytes, label)?;
    let (rows, lines) = file.table(label, table)?;
    if rows.is_empty() {
        let mut e = InputErrors::default();
        e.push(InputError {
            file: label.to_owned(),
            line: 0,
            field: String::new(),
            message: "文件中没有数据行".to_owned(),
        });
        return Err(e);
    }
    Ok(Parsed {
        table,
        rows,
        lines,
        label: label.to_owned(),
        sha256,
    })
}

impl Parsed {
    /// The rows as read, with the refused ones marked, as a workbook to hand back.
    pub fn annotated(&self, errs: &InputErrors) -> Result<Vec<u8>, StoreError> {
        xlsx_output::annotated_xlsx(self.table, &self.rows, &self.lines, &errs.errors)
            .map_err(|e| xlsx_failed(&e))
    }

    /// The line (or worksheet row) of the row at `index`, as a person sees it.
    pub fn line_of(&self, index: usize) -> u64 {
        self.lines.get(index).copied().unwrap_or(0)
    }

    /// Loads the rows into the period (`dry_run`: checks only; probable duplicates are handled
    /// as `duplicates` says). Refusals name the file, the row and the column, in Chinese.
    pub async fn import(
        &mut self,
        store: &Store,
        year: i64,
        actor: &Actor,
        dry_run: bool,
        duplicates: Duplicates,
    ) -> Result<ImportOutcome, ImportError> {
        let mut batch = Batch {
            label: format!("导入 {}", self.label),
            file: Some(FileMark {
                sha256: self.sha256.clone(),
                name: self.label.clone(),
                kind: table_name(self.table).to_owned(),
            }),
            duplicates,
            ..Batch::default()
        };
        match self.table {
            Table::Units => {
                let state = store.state(year).await?;
                let mut errs = InputErrors::default();
                for (i, r) in self.rows.iter().enumerate() {
                    match state.units.iter().find(|u| u.name == r[0]) {
                        Some(u) if u.class != r[1] => errs.push(InputError {
                            file: self.label.clone(),
                            line: self.line_of(i),
                            field: "类别".into(),
                            message: format!(
                                "单位「{}」在细则名册中是 {} 类，不是「{}」（类别随细则确定，不能在此修改）",
                                r[0], u.class, r[1]
                            ),
                        }),
                        _ => {}
                    }
                    let t: Vec<String> = r[2]
                        .split([';', '；', ',', '，', '、'])
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect();
                    batch.tags.push((r[0].clone(), t));
                }
                if !errs.is_empty() {
                    return Err(ImportError::Input(errs));
                }
            }
            Table::Records => {
                // The texts move into the batch and back afterwards (a million rows are not
                // copied); a refused file is then annotated from its rows as read.
                let take = |s: &mut String| Some(std::mem::take(s)).filter(|c| !c.is_empty());
                batch.records = self
                    .rows
                    .iter_mut()
                    .map(|r| NewRecord {
                        unit: std::mem::take(&mut r[0]),
                        rule: std::mem::take(&mut r[1]),
                        count: take(&mut r[2]),
                        points: take(&mut r[3]),
                        date: take(&mut r[4]),
                        source: std::mem::take(&mut r[5]),
                        note: std::mem::take(&mut r[6]),
                    })
                    .collect();
            }
            Table::Assessments => {
                batch.assessments = self
                    .rows
                    .iter()
                    .map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
                    .collect();
            }
            Table::Metrics => {
                batch.metrics = self
                    .rows
                    .iter()
                    .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
                    .collect();
            }
        }
        let outcome = store.import(year, &batch, actor, dry_run).await;
        for (r, rec) in self.rows.iter_mut().zip(batch.records) {
            r[0] = rec.unit;
            r[1] = rec.rule;
            r[2] = rec.count.unwrap_or_default();
            r[3] = rec.points.unwrap_or_default();
            r[4] = rec.date.unwrap_or_default();
            r[5] = rec.source;
            r[6] = rec.note;
        }
        outcome.map_err(|e| match e {
            StoreError::Rows(rows) => {
                let mut errs = InputErrors::default();
                for p in rows {
                    errs.push(InputError {
                        file: self.label.clone(),
                        line: self.line_of(p.index),
                        // The column as the office's files head it, not the contract's code.
                        field: lvzhi_core::input::stored_field_label(&p.field)
                            .map_or(p.field, str::to_owned),
                        message: p.message,
                    });
                }
                ImportError::Input(errs)
            }
            other => ImportError::Store(other),
        })
    }
}

/// Why an import did not happen; nothing was stored in either case.
#[derive(Debug)]
pub enum ImportError {
    /// Bad rows, each with its file, row and column.
    Input(InputErrors),
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Input(e) => {
                for x in &e.errors {
                    writeln!(f, "{x}")?;
                }
                if e.total > e.errors.len() {
                    writeln!(f, "……另有 {} 处错误未列出", e.total - e.errors.len())?;
                }
                write!(f, "共 {} 处错误，未导入任何数据。", e.total)
            }
            ImportError::Store(e) => write!(f, "{e}"),
        }
    }
}
