//! Scoring cases as data: every file under `tests/cases/score/` (expected results) and
//! `tests/cases/refuse/` (expected refusals) goes through [`check`], which writes the case's CSV texts
//! to a temp folder and runs the real `lvzhi score --json` on them.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    title: String,
    /// A shipped rubric year, default 2022.
    rubric: Option<String>,
    /// An inline rubric file instead.
    rubric_toml: Option<String>,
    units: Option<String>,
    records: String,
    assessments: Option<String>,
    metrics: Option<String>,
    #[serde(default)]
    expect: Vec<Expect>,
    #[serde(default)]
    error: Vec<ExpectError>,
    /// The order of units expected in `results` (a prefix is enough).
    #[serde(default)]
    order: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    unit: String,
    class: Option<String>,
    categories: Option<Vec<String>>,
    deducted: Option<Vec<String>>,
    total: Option<String>,
    converted: Option<String>,
    rank: Option<u64>,
    veto: Option<bool>,
    lowest_grade: Option<bool>,
    incomplete: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectError {
    file: String,
    line: u64,
    field: Option<String>,
    contains: String,
}

fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("case file: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let write = |name: &str, body: &str| {
        std::fs::write(dir.path().join(name), body).map_err(|e| e.to_string())
    };
    let mut args: Vec<String> = vec!["score".into(), "--json".into()];
    if let Some(r) = &case.rubric_toml {
        write("rubric.toml", r)?;
        args.extend(["--rubric".into(), "rubric.toml".into()]);
    } else if let Some(r) = &case.rubric {
        args.extend(["--rubric".into(), r.clone()]);
    }
    write("records.csv", &case.records)?;
    args.extend(["--records".into(), "records.csv".into()]);
    for (flag, name, body) in [
        ("--units", "units.csv", &case.units),
        ("--assessments", "assessments.csv", &case.assessments),
        ("--metrics", "metrics.csv", &case.metrics),
    ] {
        if let Some(b) = body {
            write(name, b)?;
            args.extend([flag.into(), name.into()]);
        }
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::lvzhi(&arg_refs, dir.path());

    if !case.error.is_empty() {
        if run.code != 1 {
            return Err(format!(
                "expected exit 1, got {}; stderr: {}",
                run.code, run.stderr
            ));
        }
        if !run.stdout.is_empty() {
            return Err(format!(
                "stdout must be empty on refusal, got: {}",
                run.stdout
            ));
        }
        for e in &case.error {
            let head = match &e.field {
                Some(f) => format!("{} 第 {} 行，字段 {}：", e.file, e.line, f),
                None => format!("{} 第 {} 行", e.file, e.line),
            };
            let found = run
                .stderr
                .lines()
                .any(|l| l.starts_with(&head) && l.contains(&e.contains));
            if !found {
                return Err(format!(
                    "no error line starting `{head}` containing `{}`; stderr:\n{}",
                    e.contains, run.stderr
                ));
            }
        }
        return Ok(());
    }

    if run.code != 0 {
        return Err(format!("exit {}; stderr:\n{}", run.code, run.stderr));
    }
    let doc: Value = serde_json::from_str(&run.stdout).map_err(|e| e.to_string())?;
    let results = doc["results"].as_array().ok_or("no results")?;
    let by_unit: BTreeMap<&str, &Value> = results
        .iter()
        .map(|r| (r["unit"].as_str().unwrap_or(""), r))
        .collect();
    for r in results {
        for key in ["total", "converted"] {
            let v = r[key].as_str().ok_or(format!("{key} is not a string"))?;
            let decimals = v.split('.').nth(1).map_or(0, str::len);
            if decimals != 2 {
                return Err(format!("{key} `{v}` must carry exactly 2 decimals"));
            }
        }
    }
    for ex in &case.expect {
        let r = by_unit
            .get(ex.unit.as_str())
            .ok_or(format!("unit {} missing from results", ex.unit))?;
        let mut diff = Vec::new();
        let mut cmp = |what: &str, got: Value, want: Value| {
            if got != want {
                diff.push(format!("{what}: got {got}, want {want}"));
            }
        };
        if let Some(c) = &ex.class {
            cmp("class", r["class"].clone(), Value::from(c.as_str()));
        }
        let cats = |field: &str| -> Value {
            r["categories"]
                .as_array()
                .map(|a| a.iter().map(|c| c[field].clone()).collect())
                .unwrap_or_default()
        };
        if let Some(c) = &ex.categories {
            cmp("categories", cats("score"), Value::from(c.clone()));
        }
        if let Some(c) = &ex.deducted {
            cmp("deducted", cats("deducted"), Value::from(c.clone()));
        }
        if let Some(t) = &ex.total {
            cmp("total", r["total"].clone(), Value::from(t.as_str()));
        }
        if let Some(t) = &ex.converted {
            cmp("converted", r["converted"].clone(), Value::from(t.as_str()));
        }
        if let Some(t) = ex.rank {
            cmp("rank", r["rank"].clone(), Value::from(t));
        }
        if let Some(t) = ex.veto {
            cmp("veto", r["veto"].clone(), Value::from(t));
        }
        if let Some(t) = ex.lowest_grade {
            cmp("lowest_grade", r["lowest_grade"].clone(), Value::from(t));
        }
        if let Some(t) = &ex.incomplete {
            cmp(
                "incomplete",
                r["incomplete"].clone(),
                Value::from(t.clone()),
            );
        }
        if !diff.is_empty() {
            return Err(format!("{}: {}", ex.unit, diff.join("; ")));
        }
    }
    let order: Vec<&str> = results
        .iter()
        .take(case.order.len())
        .map(|r| r["unit"].as_str().unwrap_or(""))
        .collect();
    if order != case.order.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!("order: got {order:?}, want {:?}", case.order));
    }
    Ok(())
}

fn run_dir(sub: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(sub);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("case folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "expected case files in {}", dir.display());
    let failures: Vec<String> = paths
        .iter()
        .filter_map(|p| check(p).err().map(|e| format!("{}: {e}", p.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

#[test]
fn scoring_cases() {
    run_dir("score");
}

#[test]
fn refusal_cases() {
    run_dir("refuse");
}
