//! Workbooks in and out through the real binary:
//! - `lvzhi score` on `.xlsx` files (with a title row, real dates, numbers and a formula's saved value)
//!   prints exactly what it prints for the same year as CSV;
//! - hostile workbooks are refused with the file, the worksheet row and the reason: a zip bomb, a
//!   100 MB file, merged cells, a formula error value; a hidden first sheet is never read;
//! - `lvzhi import` is all or nothing, and names every bad row by its worksheet row;
//! - exports neutralise formula-like text, and the ranking table opened in LibreOffice shows the same
//!   figures as `lvzhi score` (skipped loudly without LibreOffice; a failure under `CI=true`).

mod common;

use std::io::Write;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

use common::{lvzhi, repo};

/// Writes a CSV file of the sample as a workbook: a merged title row, then the header and the rows;
/// numbers as numbers, `date` columns as real dates.
fn csv_to_xlsx(csv: &Path, out: &Path, hidden_first: bool) {
    let text = std::fs::read_to_string(csv).expect("csv");
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let mut wb = Workbook::new();
    if hidden_first {
        let decoy = wb.add_worksheet();
        decoy.set_name("隐藏").expect("name");
        decoy.write_string(0, 0, "unit").expect("w");
        decoy.write_string(1, 0, "不存在的单位").expect("w");
        decoy.set_hidden(true);
    }
    let ws = wb.add_worksheet();
    // The active sheet cannot be hidden: the data sheet is the active one.
    ws.set_active(true);
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    ws.merge_range(
        0,
        0,
        0,
        (head.len() - 1) as u16,
        "2022 年度数据（标题行）",
        &Format::new(),
    )
    .expect("title");
    for (c, h) in head.iter().enumerate() {
        ws.write_string(1, c as u16, h).expect("head");
    }
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.expect("row");
        let r = 2 + i as u32;
        for (c, v) in rec.iter().enumerate() {
            let c16 = c as u16;
            if head[c] == "date" && v.len() == 10 {
                let (y, m, d) = (&v[..4], &v[5..7], &v[8..10]);
                let dt = ExcelDateTime::from_ymd(
                    y.parse().expect("y"),
                    m.parse().expect("m"),
                    d.parse().expect("d"),
                )
                .expect("date");
                ws.write_datetime_with_format(r, c16, &dt, &date_fmt)
                    .expect("dt");
            } else if head[c] != "unit" && head[c] != "rule" && v.parse::<f64>().is_ok() {
                ws.write_number(r, c16, v.parse::<f64>().expect("n"))
                    .expect("num");
            } else if !v.is_empty() {
                ws.write_string(r, c16, v).expect("s");
            }
        }
    }
    wb.save(out).expect("save");
}

fn sample(name: &str) -> std::path::PathBuf {
    repo().join("examples/2022").join(name)
}

#[test]
fn score_reads_workbooks_as_it_reads_csv() {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, hidden) in [
        ("units", false),
        ("records", true),
        ("assessments", false),
        ("metrics", false),
    ] {
        csv_to_xlsx(
            &sample(&format!("{name}.csv")),
            &dir.path().join(format!("{name}.xlsx")),
            hidden,
        );
    }
    let args = |ext: &str, base: &Path| -> Vec<String> {
        let mut a = vec!["score".to_owned(), "--json".to_owned()];
        for name in ["units", "records", "assessments", "metrics"] {
            a.push(format!("--{name}"));
            a.push(base.join(format!("{name}.{ext}")).display().to_string());
        }
        a
    };
    let csv_args = args("csv", &repo().join("examples/2022"));
    let xlsx_args = args("xlsx", dir.path());
    let from_csv = lvzhi(
        &csv_args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    let from_xlsx = lvzhi(
        &xlsx_args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    assert_eq!(from_csv.code, 0, "{}", from_csv.stderr);
    assert_eq!(from_xlsx.code, 0, "{}", from_xlsx.stderr);
    assert_eq!(
        from_csv.stdout, from_xlsx.stdout,
        "a workbook scores exactly as its CSV"
    );
}

/// A records workbook with a title row, the header on row 2 and `rows` from row 3.
fn records_book(
    path: &Path,
    rows: &[[&str; 4]],
    extra: impl FnOnce(&mut rust_xlsxwriter::Worksheet),
) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "扣分记录表").expect("title");
    for (c, h) in ["单位", "条款编号", "数量", "日期"].iter().enumerate() {
        ws.write_string(1, c as u16, *h).expect("head");
    }
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            ws.write_string(2 + i as u32, c as u16, *v).expect("cell");
        }
    }
    extra(ws);
    wb.save(path).expect("save");
}

fn score_records(dir: &Path, records: &Path) -> common::Run {
    lvzhi(
        &[
            "score",
            "--json",
            "--records",
            records.to_str().expect("path"),
        ],
        dir,
    )
}

#[test]
fn hostile_workbooks_are_refused_with_their_row() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();

    // A bad row is named by its worksheet row (row 4: title, header, one good row, then it).
    let bad = d.join("bad.xlsx");
    records_book(
        &bad,
        &[
            ["发改委", "2.5", "1", "2022-03-01"],
            ["发改委", "9.9", "1", "2022-03-01"],
        ],
        |_| {},
    );
    let run = score_records(d, &bad);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("bad.xlsx 第 4 行") && run.stderr.contains("9.9"),
        "{}",
        run.stderr
    );

    // A formula's saved value is read; the formula is never evaluated.
    let formula = d.join("formula.xlsx");
    records_book(&formula, &[["发改委", "2.5", "1", "2022-03-01"]], |ws| {
        ws.write_formula(2, 2, Formula::new("=1+1").set_result("3"))
            .expect("formula");
    });
    let run = score_records(d, &formula);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let unit = v["results"]
        .as_array()
        .and_then(|u| u.iter().find(|x| x["unit"] == "发改委"))
        .expect("发改委");
    assert_eq!(
        unit["total"], "97.00",
        "the saved 3 counts (3 × 1 point), not 1+1"
    );

    // A workbook in the 1904 date system: its serials are read as the dates they show.
    let plain = d.join("plain1904.xlsx");
    {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in ["单位", "条款编号", "数量", "日期"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).expect("head");
        }
        ws.write_string(1, 0, "发改委").expect("unit");
        ws.write_string(1, 1, "2.5").expect("rule");
        ws.write_number(1, 2, 1.0).expect("count");
        // 2022-03-01 is day 44621 in the 1900 system and day 43159 in the 1904 one.
        ws.write_number_with_format(1, 3, 43_159.0, &Format::new().set_num_format("yyyy-mm-dd"))
            .expect("date");
        wb.save(&plain).expect("save");
    }
    let book1904 = d.join("date1904.xlsx");
    {
        let mut src =
            zip::ZipArchive::new(std::fs::File::open(&plain).expect("open")).expect("zip");
        let mut out = zip::ZipWriter::new(std::fs::File::create(&book1904).expect("create"));
        for i in 0..src.len() {
            let mut entry = src.by_index(i).expect("entry");
            let name = entry.name().expect("entry name").to_string();
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut body).expect("read");
            if name == "xl/workbook.xml" {
                let text = String::from_utf8(body).expect("xml");
                assert!(text.contains("<workbookPr"), "{text}");
                body = text
                    .replacen("<workbookPr", "<workbookPr date1904=\"1\"", 1)
                    .into_bytes();
            }
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("start");
            out.write_all(&body).expect("write");
        }
        out.finish().expect("finish");
    }
    let run = score_records(d, &book1904);
    assert_eq!(run.code, 0, "a 1904 serial is a 2022 date: {}", run.stderr);

    // A formula error value is refused, naming the cell.
    let err = d.join("error.xlsx");
    records_book(&err, &[["发改委", "2.5", "1", "2022-03-01"]], |ws| {
        ws.write_formula(2, 2, Formula::new("=1/0").set_result("#DIV/0!"))
            .expect("formula");
    });
    let run = score_records(d, &err);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("C3") && run.stderr.contains("#DIV/0!"),
        "{}",
        run.stderr
    );

    // Merged cells in the table are refused.
    let merged = d.join("merged.xlsx");
    records_book(
        &merged,
        &[
            ["发改委", "2.5", "1", "2022-03-01"],
            ["", "2.7", "1", "2022-03-02"],
        ],
        |ws| {
            ws.merge_range(2, 0, 3, 0, "发改委", &Format::new())
                .expect("merge");
        },
    );
    let run = score_records(d, &merged);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("合并单元格 A3:A4"), "{}", run.stderr);

    // A zip bomb: one highly compressed entry is refused before it is expanded.
    let bomb = d.join("bomb.xlsx");
    {
        let f = std::fs::File::create(&bomb).expect("bomb");
        let mut z = zip::ZipWriter::new(f);
        z.start_file(
            "xl/worksheets/sheet1.xml",
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .expect("entry");
        let zeros = vec![b'0'; 1 << 20];
        for _ in 0..8 {
            z.write_all(&zeros).expect("zeros");
        }
        z.finish().expect("zip");
    }
    let run = score_records(d, &bomb);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("压缩炸弹"), "{}", run.stderr);

    // A 100 MB file is refused without being read.
    let huge = d.join("huge.xlsx");
    {
        let mut f = std::fs::File::create(&huge).expect("huge");
        f.write_all(b"PK\x03\x04").expect("magic");
        f.set_len(100 << 20).expect("size");
    }
    let run = score_records(d, &huge);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("文件过大"), "{}", run.stderr);
}

fn ledger_cells(path: &Path) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = calamine::open_workbook(path).expect("workbook");
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).expect("sheet");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    _ => String::new(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn import_is_all_or_nothing_and_exports_neutralise_formulas() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let data = d.join("data");
    let data_s = data.to_str().expect("path");
    // A fresh store with the 2022 period (the first admin is created by serve; import needs none).
    common::open_2022(&data);
    let count = |name: &str| -> usize {
        let out = d.join(format!("{name}.xlsx"));
        let run = lvzhi(
            &[
                "export",
                "ledger",
                "--year",
                "2022",
                "--data",
                data_s,
                "--out",
                out.to_str().expect("p"),
            ],
            d,
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        ledger_cells(&out).len().saturating_sub(2)
    };
    let before = count("before");

    // Three rows, two bad: nothing is imported, both are listed by their worksheet rows.
    let book = d.join("in.xlsx");
    records_book(
        &book,
        &[
            ["发改委", "2.5", "1", "2022-03-01"],
            ["没有这个单位", "2.5", "1", "2022-03-01"],
            ["发改委", "2.5", "1", "2023-01-05"],
        ],
        |_| {},
    );
    let run = lvzhi(
        &[
            "import",
            "records",
            book.to_str().expect("p"),
            "--year",
            "2022",
            "--data",
            data_s,
            "--errors-out",
            d.join("checked.xlsx").to_str().expect("p"),
        ],
        d,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    // The refused file comes back annotated: every row read, the bad ones with what is wrong.
    let checked = ledger_cells(&d.join("checked.xlsx"));
    let row = |line: &str| {
        checked
            .iter()
            .find(|r| r.first().map(String::as_str) == Some(line))
            .unwrap_or_else(|| panic!("row {line} in {checked:?}"))
            .clone()
    };
    assert!(
        row("3").last().is_some_and(String::is_empty),
        "a good row has no remark: {:?}",
        row("3")
    );
    assert!(
        row("4").last().is_some_and(|m| m.contains("没有这个单位")),
        "{:?}",
        row("4")
    );
    assert!(
        row("5").last().is_some_and(|m| m.contains("2023")),
        "{:?}",
        row("5")
    );
    assert!(
        run.stderr.contains("第 4 行") && run.stderr.contains("第 5 行"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("共 2 处错误，未导入任何数据"),
        "{}",
        run.stderr
    );
    assert_eq!(
        count("after-refusal"),
        before,
        "a refused import stores nothing"
    );

    // A good file, with formula-like text in 依据: imported, and exported neutralised.
    let csv = d.join("good.csv");
    std::fs::write(
        &csv,
        "单位,条款编号,数量,日期,依据\n发改委,2.5,1,2022-03-01,\"=HYPERLINK(\"\"http://x\"\")\"\n",
    )
    .expect("csv");
    let run = lvzhi(
        &[
            "import",
            "records",
            csv.to_str().expect("p"),
            "--year",
            "2022",
            "--data",
            data_s,
        ],
        d,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = d.join("ledger.xlsx");
    let run = lvzhi(
        &[
            "export",
            "ledger",
            "--year",
            "2022",
            "--data",
            data_s,
            "--out",
            out.to_str().expect("p"),
        ],
        d,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cells = ledger_cells(&out);
    assert_eq!(cells.len() - 2, before + 1);
    assert!(
        cells
            .iter()
            .flatten()
            .any(|c| c == "'=HYPERLINK(\"http://x\")"),
        "formula-like text is prefixed with '"
    );
}

/// `lvzhi import TABLE FILE --year YEAR` into the data folder; it must succeed.
fn import_file(data: &Path, table: &str, file: &Path, year: &str) {
    let run = lvzhi(
        &[
            "import",
            table,
            file.to_str().expect("p"),
            "--year",
            year,
            "--data",
            data.to_str().expect("p"),
        ],
        data.parent().unwrap_or(data),
    );
    assert_eq!(run.code, 0, "{table}: {}", run.stderr);
}

/// `lvzhi export WHAT --year YEAR --out OUT` from the data folder; it must succeed.
fn export_file(data: &Path, what: &str, year: &str, out: &Path) {
    let run = lvzhi(
        &[
            "export",
            what,
            "--year",
            year,
            "--data",
            data.to_str().expect("p"),
            "--out",
            out.to_str().expect("p"),
        ],
        data.parent().unwrap_or(data),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// LibreOffice's binary, or `None` (said loudly; a failure under `CI=true`).
fn libreoffice() -> Option<&'static str> {
    let lo = ["libreoffice", "soffice"]
        .iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .copied();
    if lo.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: LibreOffice is required (apt-get install libreoffice-calc-nogui)"
        );
        eprintln!(
            "\n*** SKIPPED: LibreOffice not found; the exported workbook was not opened. ***\n"
        );
    }
    lo
}

/// Whether poppler's tools are here (said loudly when not; a failure under `CI=true`).
fn poppler() -> bool {
    let has = |bin: &str| std::process::Command::new(bin).arg("-v").output().is_ok();
    let here = has("pdftotext") && has("pdftoppm");
    if !here {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: poppler-utils (pdftotext, pdftoppm) are required"
        );
        eprintln!(
            "\n*** SKIPPED: pdftotext/pdftoppm not found (apt-get install poppler-utils); the PDF was not read. ***\n"
        );
    }
    here
}

#[test]
fn the_ranking_table_opens_in_libreoffice_with_the_same_figures() {
    let Some(lo) = libreoffice() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let data = d.join("data");
    common::open_2022(&data);
    let files = ["units", "records", "assessments", "metrics"];
    for t in files {
        import_file(&data, t, &sample(&format!("{t}.csv")), "2022");
    }
    let out = d.join("results.xlsx");
    export_file(&data, "results", "2022", &out);
    let conv = std::process::Command::new(lo)
        .args([
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
        ])
        .arg(d)
        .arg(&out)
        .env("HOME", d)
        .output()
        .expect("libreoffice runs");
    assert!(
        conv.status.success(),
        "{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let csv = std::fs::read_to_string(d.join("results.csv")).expect("converted csv");
    // The same year through `lvzhi score`.
    let mut args = vec!["score".to_owned(), "--json".to_owned()];
    for t in files {
        args.push(format!("--{t}"));
        args.push(sample(&format!("{t}.csv")).display().to_string());
    }
    let run = lvzhi(&args.iter().map(String::as_str).collect::<Vec<_>>(), d);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let units = v["results"].as_array().expect("units");
    let mut seen = 0;
    for line in csv.lines() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() < 6 || cells[0].parse::<u32>().is_err() {
            continue;
        }
        let unit = units
            .iter()
            .find(|u| u["unit"] == cells[1])
            .unwrap_or_else(|| panic!("{} is in the results", cells[1]));
        assert_eq!(unit["total"], cells[3], "{line}");
        assert_eq!(unit["converted"], cells[4], "{line}");
        assert_eq!(unit["rank"].to_string(), cells[5], "{line}");
        seen += 1;
    }
    assert_eq!(seen, units.len(), "every unit is in the table: {csv}");
}

#[test]
fn the_notice_lists_every_unit_in_pdf_and_docx() {
    if !poppler() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let data = d.join("data");
    let data_s = data.to_str().expect("path");
    common::open_2022(&data);
    let files = ["units", "records", "assessments", "metrics"];
    for t in files {
        let f = sample(&format!("{t}.csv"));
        let run = lvzhi(
            &[
                "import",
                t,
                f.to_str().expect("p"),
                "--year",
                "2022",
                "--data",
                data_s,
            ],
            d,
        );
        assert_eq!(run.code, 0, "{t}: {}", run.stderr);
    }
    let mut args = vec!["score".to_owned(), "--json".to_owned()];
    for t in files {
        args.push(format!("--{t}"));
        args.push(sample(&format!("{t}.csv")).display().to_string());
    }
    let run = lvzhi(&args.iter().map(String::as_str).collect::<Vec<_>>(), d);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let units = v["results"].as_array().expect("results");

    let pdf = d.join("report.pdf");
    let run = lvzhi(
        &[
            "export",
            "report",
            "--format",
            "pdf",
            "--year",
            "2022",
            "--data",
            data_s,
            "--out",
            pdf.to_str().expect("p"),
        ],
        d,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("履职监测情况") && text.contains("通报"),
        "{text}"
    );
    for u in units {
        let name = u["unit"].as_str().expect("name");
        let line = text
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_else(|| panic!("{name} is in the PDF"));
        let total = u["total"].as_str().expect("total");
        assert!(line.contains(total), "{name}: {total} in «{line}»");
    }
    let png = d.join("page");
    let out = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "50", "-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg(&png)
        .output()
        .expect("pdftoppm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_dir(d)
        .expect("dir")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("page"))
        .expect("the first page rendered");
    assert!(
        page.metadata().expect("meta").len() > 10_000,
        "a page with text on it"
    );

    let docx = d.join("report.docx");
    let run = lvzhi(
        &[
            "export",
            "report",
            "--format",
            "docx",
            "--year",
            "2022",
            "--data",
            data_s,
            "--out",
            docx.to_str().expect("p"),
        ],
        d,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&docx).expect("docx")).expect("a zip");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("word/document.xml").expect("document.xml"),
        &mut xml,
    )
    .expect("xml");
    for u in units {
        let name = u["unit"].as_str().expect("name");
        assert!(
            xml.contains(&format!(">{name}<")),
            "{name} is in the Word notice"
        );
        assert!(xml.contains(&format!(">{}<", u["total"].as_str().expect("total"))));
    }
}

/// A word of a PDF page with its box, as `pdftotext -bbox` gives it.
struct Word {
    page: usize,
    x: f64,
    y: f64,
    text: String,
}

/// The words of a PDF and each page's width, through `pdftotext -bbox`.
fn pdf_words(pdf: &Path) -> (Vec<Word>, Vec<f64>) {
    let out = std::process::Command::new("pdftotext")
        .arg("-bbox")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(out.status.success(), "pdftotext -bbox");
    let html = String::from_utf8_lossy(&out.stdout);
    let attr = |tag: &str, name: &str| -> f64 {
        let at = tag.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        tag[at..at + tag[at..].find('"').expect("quote")]
            .parse()
            .expect("number")
    };
    let (mut words, mut widths) = (Vec::new(), Vec::new());
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            widths.push(attr(line, "width"));
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let close = rest.find('>').expect(">");
            let text = rest[close + 1..].trim_end_matches("</word>");
            words.push(Word {
                page: widths.len(),
                x: attr(rest, "xMin"),
                y: attr(rest, "yMin"),
                text: text.replace("&amp;", "&"),
            });
        }
    }
    (words, widths)
}

/// The ranking workbook of a year with a veto, printed by LibreOffice: every unit's remark lies
/// inside its own row (between its name's line and the next row's), whole, and the table fills the
/// page's width (the notes under it no longer shrink the page).
#[test]
fn every_remark_prints_inside_its_own_row() {
    let Some(lo) = libreoffice() else {
        return;
    };
    if !poppler() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let data = d.join("data");
    let data_s = data.to_str().expect("path");
    let rubric = repo().join("rubrics/examples/county-departments-2023.toml");
    let run = lvzhi(
        &[
            "period",
            "open",
            rubric.to_str().expect("p"),
            "--yes",
            "--data",
            data_s,
        ],
        d,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let example = repo().join("examples/county-departments-2023");
    for t in ["units", "records", "assessments", "metrics"] {
        import_file(&data, t, &example.join(format!("{t}.csv")), "2023");
    }
    let xlsx = d.join("ranking.xlsx");
    export_file(&data, "results", "2023", &xlsx);
    // The remarks as the workbook holds them, by unit.
    let mut wb: Xlsx<_> = calamine::open_workbook(&xlsx).expect("xlsx");
    let range = wb.worksheet_range("排名").expect("sheet");
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect();
    let head = rows.iter().find(|r| r[0] == "序号").expect("head row");
    let remark_col = head.iter().position(|h| h == "备注").expect("备注");
    // Right of 排名 a row holds its grade (where the rubric has bands) and its remark.
    let remarks: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r[0].parse::<u32>().is_ok())
        .map(|r| (r[1].clone(), r[6..=remark_col].concat()))
        .collect();
    assert_eq!(remarks.len(), 6, "{rows:?}");
    assert!(
        remarks
            .iter()
            .any(|(u, r)| u == "交通运输局" && r.contains("一票否决")),
        "{remarks:?}"
    );

    let conv = std::process::Command::new(lo)
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(d)
        .arg(&xlsx)
        .env("HOME", d)
        .output()
        .expect("libreoffice runs");
    assert!(
        conv.status.success(),
        "{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let (words, widths) = pdf_words(&d.join("ranking.pdf"));
    let head_word = words
        .iter()
        .find(|w| w.text == "备注")
        .expect("备注 printed");
    let rank_head = words
        .iter()
        .find(|w| w.text == "排名" && (w.y - head_word.y).abs() < 1.0)
        .expect("排名 printed");
    assert!(
        head_word.x > 0.6 * widths[head_word.page - 1],
        "the table fills the page's width: 备注 starts at {} of {}",
        head_word.x,
        widths[head_word.page - 1]
    );
    // Each row runs from its unit's name down to the next row's first word in the 序号 column (the
    // next unit, a class caption or the notes).
    let left = words.iter().map(|w| w.x).fold(f64::MAX, f64::min);
    let starts: Vec<&Word> = words.iter().filter(|w| w.x < left + 30.0).collect();
    for (unit, remark) in &remarks {
        let name = words
            .iter()
            .find(|w| &w.text == unit)
            .unwrap_or_else(|| panic!("{unit} printed"));
        let next = starts
            .iter()
            .filter(|w| w.page == name.page && w.y > name.y + 2.0)
            .map(|w| w.y)
            .fold(f64::MAX, f64::min);
        let mut inside: Vec<&Word> = words
            .iter()
            .filter(|w| {
                w.page == name.page
                    && w.x > rank_head.x + 12.0
                    && w.y >= name.y - 2.0
                    && w.y < next - 2.0
            })
            .collect();
        let printed = reading_order(&mut inside);
        let expected: String = remark.split_whitespace().collect();
        assert_eq!(printed, expected, "{unit}'s remark inside its row");
    }
}

/// Words joined line by line (words within 4 points of a line's top are on it), left to right.
fn reading_order(words: &mut [&Word]) -> String {
    words.sort_by(|a, b| a.y.total_cmp(&b.y));
    let mut lines: Vec<Vec<&Word>> = Vec::new();
    for w in words.iter() {
        match lines.last_mut() {
            Some(line) if w.y - line[0].y < 4.0 => line.push(w),
            _ => lines.push(vec![w]),
        }
    }
    lines
        .iter_mut()
        .map(|line| {
            line.sort_by(|a, b| a.x.total_cmp(&b.x));
            line.iter().map(|w| w.text.as_str()).collect::<String>()
        })
        .collect()
}
