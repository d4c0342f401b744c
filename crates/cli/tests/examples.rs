//! The three example rubrics of `rubrics/examples/` (grade bands, a bonus with a cap of the total,
//! 得分制 categories, metric steps, a two-level table), each scored on its sample year in
//! `examples/` to the table worked out by hand in its `expected.csv`: first by `lvzhi score --json`,
//! then as the office runs it: a year opened from the rubric with `lvzhi period open`, the sample
//! files imported, and the service's results, unit sheet, ranking workbook and 通报 read back.

mod common;

use std::path::Path;

use common::{http, lvzhi, repo, score_year_with, start_store, token};
use serde_json::Value;

const EXAMPLES: &[&str] = &[
    "county-departments-2023",
    "county-towns-2023",
    "city-two-level-2023",
];

/// One row of `expected.csv`: unit, class, total, converted, rank, grade, incomplete rules.
#[derive(Debug, PartialEq, Eq)]
struct Expected {
    unit: String,
    class: String,
    total: String,
    converted: String,
    rank: u64,
    grade: Option<String>,
    incomplete: Vec<String>,
}

fn expected(name: &str) -> Vec<Expected> {
    let text = std::fs::read_to_string(repo().join("examples").join(name).join("expected.csv"))
        .expect("expected.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Expected {
                unit: f[0].to_owned(),
                class: f[1].to_owned(),
                total: f[2].to_owned(),
                converted: f[3].to_owned(),
                rank: f[4].parse().expect("rank"),
                grade: (!f[5].is_empty()).then(|| f[5].to_owned()),
                incomplete: f[6].split_whitespace().map(str::to_owned).collect(),
            }
        })
        .collect()
}

/// The results JSON (of `score --json` or the API) in the shape of `expected.csv`, in its order.
fn actual(results: &Value, order: &[Expected]) -> Vec<Expected> {
    order
        .iter()
        .map(|e| {
            let r = results["results"]
                .as_array()
                .expect("results")
                .iter()
                .find(|r| r["unit"] == e.unit.as_str())
                .unwrap_or_else(|| panic!("{} has a result", e.unit));
            Expected {
                unit: e.unit.clone(),
                class: r["class"].as_str().expect("class").to_owned(),
                total: r["total"].as_str().expect("total").to_owned(),
                converted: r["converted"].as_str().expect("converted").to_owned(),
                rank: r["rank"].as_u64().expect("rank"),
                grade: r["grade"].as_str().map(str::to_owned),
                incomplete: r["incomplete"]
                    .as_array()
                    .expect("incomplete")
                    .iter()
                    .map(|x| x.as_str().expect("code").to_owned())
                    .collect(),
            }
        })
        .collect()
}

fn rubric_file(name: &str) -> String {
    repo()
        .join("rubrics/examples")
        .join(format!("{name}.toml"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn each_example_scores_to_its_hand_worked_table() {
    for name in EXAMPLES {
        let dir = repo().join("examples").join(name);
        let rubric = rubric_file(name);
        let run = score_year_with(&dir, Some(&rubric), true);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).expect("json");
        let want = expected(name);
        assert_eq!(actual(&doc, &want), want, "{name}");
        // The table on the terminal carries the grade where the rubric has bands.
        let text = score_year_with(&dir, Some(&rubric), false);
        assert_eq!(
            text.stdout.contains("折算得分  等次"),
            want.iter().any(|e| e.grade.is_some()),
            "{name}: {}",
            text.stdout
        );
    }
}

/// A path segment, percent-encoded.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn data_arg(data: &Path) -> String {
    data.to_string_lossy().into_owned()
}

#[test]
fn a_year_opened_from_each_example_runs_in_the_service() {
    for name in EXAMPLES {
        let tmp = tempfile::tempdir().expect("tmp");
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).expect("data");
        let d = data_arg(&data);
        let rubric = rubric_file(name);
        let open = lvzhi(
            &["period", "open", &rubric, "--yes", "--data", &d],
            tmp.path(),
        );
        assert_eq!(open.code, 0, "{name}: {}", open.stderr);
        let dir = repo().join("examples").join(name);
        for table in ["records", "assessments", "metrics"] {
            let file = dir.join(format!("{table}.csv"));
            if std::fs::read_to_string(&file)
                .expect("file")
                .lines()
                .count()
                < 2
            {
                continue;
            }
            let run = lvzhi(
                &[
                    "import",
                    table,
                    &file.to_string_lossy(),
                    "--year",
                    "2023",
                    "--data",
                    &d,
                ],
                tmp.path(),
            );
            assert_eq!(run.code, 0, "{name} {table}: {}", run.stderr);
        }
        let server = start_store(&data, false);
        let t = token(&data, server.port);
        let (status, body) = http(server.port, "GET", "/api/v1/periods/2023/results", &t, None);
        assert_eq!(status, 200, "{body}");
        let doc: Value = serde_json::from_str(&body).expect("json");
        let want = expected(name);
        assert_eq!(actual(&doc, &want), want, "{name}: the service agrees");

        // The first unit's sheet explains its grade and, for computed lines, the arithmetic.
        let unit = &want[0].unit;
        let path = format!("/api/v1/periods/2023/units/{}/sheet", encode(unit));
        let (status, body) = http(server.port, "GET", &path, &t, None);
        assert_eq!(status, 200, "{body}");
        let sheet: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(sheet["grade"].as_str(), want[0].grade.as_deref(), "{name}");
        if want[0].grade.is_some() {
            assert!(
                sheet["grade_reason"]
                    .as_str()
                    .is_some_and(|r| r.contains(&want[0].total)),
                "{name}: {}",
                sheet["grade_reason"]
            );
        }

        // The ranking workbook has a 等次 column where the rubric has bands; the 通报 counts them.
        let out = tmp.path().join("results.xlsx");
        let run = lvzhi(
            &[
                "export",
                "results",
                "--year",
                "2023",
                "--out",
                &out.to_string_lossy(),
                "--data",
                &d,
            ],
            tmp.path(),
        );
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let cells = workbook_text(&out);
        let graded = want.iter().any(|e| e.grade.is_some());
        assert_eq!(cells.contains("|排名|等次|"), graded, "{name}: {cells}");
        if graded {
            for e in &want {
                assert!(
                    cells.contains(e.grade.as_deref().unwrap_or_default()),
                    "{name}: {}",
                    e.unit
                );
            }
        }
        let report = tmp.path().join("report.docx");
        let run = lvzhi(
            &[
                "export",
                "report",
                "--format",
                "docx",
                "--year",
                "2023",
                "--out",
                &report.to_string_lossy(),
                "--data",
                &d,
            ],
            tmp.path(),
        );
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let text = docx_text(&report);
        if graded {
            let best = want
                .iter()
                .filter(|e| e.grade.as_deref() == Some("优秀"))
                .count();
            assert!(
                text.contains(&format!("优秀 {best} 个")),
                "{name}: the 通报 counts the bands: {text}"
            );
        }
    }
}

/// Every cell's text of a workbook's first sheet, joined.
fn workbook_text(path: &Path) -> String {
    use calamine::{Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(path).expect("xlsx");
    let sheet = wb.worksheet_range_at(0).expect("a sheet").expect("range");
    sheet
        .rows()
        .flat_map(|r| r.iter().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join("|")
}

/// The text of a .docx's body (the XML of `word/document.xml`: enough to find a sentence).
fn docx_text(path: &Path) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).expect("docx")).expect("a zip");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("document.xml")
        .read_to_string(&mut xml)
        .expect("text");
    xml
}
