//! lvzhi-office: the files the office exchanges, read into the core's types and written from them.
//!
//! In: the CSV and `.xlsx` inputs (units, records, assessments, metrics). A reader maps the header
//! row (the contract's English names or the office's Chinese ones, in any order), then streams the rows
//! into the core's [`lvzhi_core::LedgerBuilder`] one at a time. A workbook's first visible sheet is
//! turned into CSV first ([`xlsx_input`]), with its row numbers kept for the messages. Each refused row
//! becomes an [`InputError`] naming the file, the line (the worksheet row for a workbook) and the
//! column as it is written in the file. Out: the workbooks of [`xlsx_output`]. This crate knows file
//! formats and nothing of databases or HTTP.

pub mod csv_input;
pub mod report;
pub mod xlsx_input;
pub mod xlsx_output;
pub mod year_output;

use std::path::{Path, PathBuf};

pub use csv_input::{
    InputError, InputErrors, Source, Table, read_assessments, read_metrics, read_records,
    read_records_file, read_table, read_table_lines, read_units,
};

/// An input file as the readers take it: CSV on disk, or a workbook turned into CSV in memory. Which
/// one is decided by the content, not the name.
pub enum InputFile {
    Csv(PathBuf),
    Sheet(xlsx_input::SheetCsv),
}

impl InputFile {
    pub fn open(path: &Path, file: &str) -> Result<InputFile, InputErrors> {
        if xlsx_input::is_workbook(path) {
            Ok(InputFile::Sheet(xlsx_input::workbook_file(path, file)?))
        } else {
            Ok(InputFile::Csv(path.to_owned()))
        }
    }

    /// Bytes received (an upload): a workbook or CSV text.
    pub fn from_bytes(bytes: Vec<u8>, file: &str) -> Result<InputFile, InputErrors> {
        if xlsx_input::is_zip(&bytes) {
            Ok(InputFile::Sheet(xlsx_input::workbook_csv(&bytes, file)?))
        } else {
            Ok(InputFile::Sheet(xlsx_input::SheetCsv::plain(bytes)))
        }
    }

    pub fn source(&self) -> &dyn Source {
        match self {
            InputFile::Csv(p) => p,
            InputFile::Sheet(s) => &s.csv,
        }
    }

    /// The readers' refusals, with worksheet row numbers for a workbook.
    pub fn relabel(&self, errs: InputErrors) -> InputErrors {
        match self {
            InputFile::Csv(_) => errs,
            InputFile::Sheet(s) => s.relabel(errs),
        }
    }

    /// Reads the whole table (see [`read_table`]), with each row's line (the worksheet row for a
    /// workbook).
    pub fn table(
        &self,
        file: &str,
        table: Table,
    ) -> Result<(Vec<Vec<String>>, Vec<u64>), InputErrors> {
        let (rows, lines) =
            read_table_lines(self.source(), file, table).map_err(|e| self.relabel(e))?;
        let lines = match self {
            InputFile::Csv(_) => lines,
            InputFile::Sheet(s) => lines.into_iter().map(|l| s.row_of(l)).collect(),
        };
        Ok((rows, lines))
    }
}
