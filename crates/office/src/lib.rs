//! lvzhi-office: the files the office exchanges, read into the core's types and written from them.
//!
//! Today: the CSV inputs of `lvzhi score` (units, records, assessments, metrics). A reader maps the
//! header row (the contract's English names or the office's Chinese ones, in any order), then streams
//! the rows into the core's [`lvzhi_core::LedgerBuilder`] one at a time, so a file is never held whole in
//! memory. Each refused row becomes an [`InputError`] naming the file, the line and the column as it is
//! written in the file. This crate knows file formats and nothing of databases or HTTP.

pub mod csv_input;

pub use csv_input::{
    InputError, InputErrors, Source, Table, read_assessments, read_metrics, read_records,
    read_records_file, read_table, read_units,
};
