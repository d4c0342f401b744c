//! The two-thread reader of large record files gives exactly what the one-thread reader gives: the
//! same ledger and the same messages with the same line numbers, errors in both halves included, and
//! it falls back to one thread when a quote appears before the split.

use std::fmt::Write;

use lvzhi_core::{LedgerBuilder, Roster, Rubric, score};
use lvzhi_office::{read_records, read_records_file};

fn big_file(quote_early: bool) -> (tempfile::TempDir, std::path::PathBuf, usize) {
    let rubric = Rubric::from_toml(lvzhi_core::RUBRIC_2022).expect("rubric");
    let names: Vec<&str> = rubric.roster.iter().map(|u| u.name.as_str()).collect();
    let mut text = String::from("unit,rule,count,points,date,source,note\n");
    let rows = 140_000; // about 10 MB: over the two-thread threshold
    for i in 0..rows {
        let unit = names[i % names.len()];
        let rule = ["2.3", "2.5", "4.2", "5.9", "6.2"][i % 5];
        let note = if quote_early && i == 10 {
            "\"带逗号, 的说明\""
        } else {
            "督导组检查发现，限期整改完毕"
        };
        let _ = writeln!(
            text,
            "{unit},{rule},,,2022-{:02}-{:02},张安办〔2022〕{}号,{note}",
            1 + i % 12,
            1 + i % 28,
            i % 180
        );
        // Errors in both halves, and a once-a-year rule recorded in the first half and again in the second.
        if i == 100 || i == rows - 100 {
            text.push_str("不存在的单位,2.4,,,,,\n");
        }
        if i == 200 {
            text.push_str("发改委,2.4,,,2022-03-01,,\n");
        }
        if i == rows - 50 {
            text.push_str("发改委,2.4,,,2022-09-01,,\n");
            text.push_str("教育局,1.1,,11,,,\n");
        }
    }
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("records.csv");
    std::fs::write(&path, &text).expect("write");
    assert!(text.len() > 9 << 20, "{} bytes", text.len());
    (dir, path, rows)
}

fn both(path: &std::path::Path) -> [(String, usize, String); 2] {
    let rubric = Rubric::from_toml(lvzhi_core::RUBRIC_2022).expect("rubric");
    let run = |parallel: bool| {
        let mut b = LedgerBuilder::new(&rubric, Roster::from_rubric(&rubric));
        let errs = if parallel {
            read_records_file(&mut b, path, "records.csv")
        } else {
            read_records(&mut b, path, "records.csv")
        };
        let ledger = b.finish();
        let sheets = score(&rubric, &ledger).expect("score");
        let totals = sheets.sheets.iter().fold(String::new(), |mut acc, s| {
            let _ = write!(acc, "{}={} ", s.name, s.total);
            acc
        });
        (errs.to_string(), ledger.record_count(), totals)
    };
    [run(false), run(true)]
}

#[test]
fn two_threads_read_exactly_like_one() {
    let (_dir, path, rows) = big_file(false);
    let [one, two] = both(&path);
    assert_eq!(one, two);
    let (errs, n, _) = one;
    assert_eq!(n, rows + 1, "every valid row and the first 2.4 of 发改委");
    // Header + 101 rows, the bad row is line 103.
    assert!(
        errs.contains("records.csv 第 103 行，字段 unit：未知单位「不存在的单位」"),
        "{errs}"
    );
    assert!(
        errs.contains("每年只能记录一次，该单位已有记录（第 204 行）"),
        "{errs}"
    );
    assert!(errs.contains("超出条款 1.1 的范围"), "{errs}");
    assert!(errs.contains("共 4 处错误"), "{errs}");
}

#[test]
fn a_quote_before_the_split_reads_on_one_thread() {
    let (_dir, path, _) = big_file(true);
    let [one, two] = both(&path);
    assert_eq!(one, two);
}
