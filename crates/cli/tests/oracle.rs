//! `lvzhi score --json` agrees to the cent with an independent computation on many random years.
//!
//! The oracle shares no code with the program's scoring: it reads the rules from the spec's table
//! (`docs/spec/rules-2022.md`), not from `rubrics/2022.toml`, reads the CSV files itself, and computes
//! with `rust_decimal` following the spec's six steps literally.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;

use lvzhi_devtools::{Plan, roster, write_year};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

struct SpecRule {
    kind: String,
    points: Decimal,
    category: String,
    section: Option<String>,
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn spec_rules() -> BTreeMap<String, SpecRule> {
    let md = std::fs::read_to_string(common::repo().join("docs/spec/rules-2022.md")).expect("spec");
    let start = md.find("| code | kind |").expect("table");
    md[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let c: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let code = c[0].to_owned();
            let points = match c[2] {
                "—" => Decimal::ZERO,
                s if s.starts_with("max ") => dec(&s[4..]),
                s if s.contains('–') => Decimal::ZERO,
                s => dec(s),
            };
            let parts: Vec<&str> = code.split('.').collect();
            let section = (parts.len() == 3).then(|| format!("{}.{}", parts[0], parts[1]));
            (
                code.clone(),
                SpecRule {
                    kind: c[1].to_owned(),
                    points,
                    category: parts[0].to_owned(),
                    section,
                },
            )
        })
        .collect()
}

fn read(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let head: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            head.iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The spec's computation, step by step.
fn oracle(dir: &std::path::Path) -> BTreeMap<String, Value> {
    let rules = spec_rules();
    let cat_max: BTreeMap<&str, Decimal> = [
        ("1", 30),
        ("2", 20),
        ("3", 20),
        ("4", 10),
        ("5", 10),
        ("6", 10),
    ]
    .into_iter()
    .map(|(c, m)| (c, Decimal::from(m)))
    .collect();
    let five = Decimal::from(5);
    let units = read(&dir.join("units.csv"));
    let mut count: HashMap<(String, String), Decimal> = HashMap::new();
    let mut pts: HashMap<(String, String), Decimal> = HashMap::new();
    for r in read(&dir.join("records.csv")) {
        let k = (r["unit"].clone(), r["rule"].clone());
        let c = if r["count"].is_empty() {
            Decimal::ONE
        } else {
            dec(&r["count"])
        };
        *count.entry(k.clone()).or_default() += c;
        if !r["points"].is_empty() {
            *pts.entry(k).or_default() += dec(&r["points"]);
        }
    }
    let mut scores: HashMap<String, Vec<Decimal>> = HashMap::new();
    for a in read(&dir.join("assessments.csv")) {
        scores
            .entry(a["unit"].clone())
            .or_default()
            .push(dec(&a["score"]));
    }
    let mut metric: HashMap<(String, String), Decimal> = HashMap::new();
    for m in read(&dir.join("metrics.csv")) {
        metric.insert((m["unit"].clone(), m["metric"].clone()), dec(&m["value"]));
    }
    let mut out = BTreeMap::new();
    for u in &units {
        let name = &u["name"];
        let tags: Vec<&str> = u["tags"].split(';').collect();
        let mut section_sum: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut cat_sum: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut incomplete = Vec::new();
        let (mut veto, mut lowest) = (false, false);
        for (code, r) in &rules {
            if code.starts_with('4')
                && ["4.3", "4.4", "4.5", "4.6"].contains(&code.as_str())
                && !tags.contains(&"专委会")
            {
                continue;
            }
            let k = (name.clone(), code.clone());
            let n = count.get(&k).copied().unwrap_or_default();
            let d = match r.kind.as_str() {
                "fixed" if n > Decimal::ZERO => r.points,
                "per_count" => r.points * n,
                "range" => pts.get(&k).copied().unwrap_or_default(),
                "veto" if n > Decimal::ZERO => {
                    veto = true;
                    lowest = true;
                    Decimal::ZERO
                }
                "lowest_grade" if n > Decimal::ZERO => {
                    lowest = true;
                    Decimal::ZERO
                }
                "assessed" => match scores.get(name) {
                    Some(s) if !s.is_empty() => {
                        let mean = (s.iter().copied().sum::<Decimal>() / Decimal::from(s.len()))
                            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                        r.points - mean
                    }
                    _ => {
                        incomplete.push(code.clone());
                        Decimal::ZERO
                    }
                },
                "metric_below" => {
                    let reference = if code == "5.1" {
                        "hazard_entries_suzhou_avg"
                    } else {
                        "hazard_entries_last_year"
                    };
                    match (
                        metric.get(&(name.clone(), "hazard_entries".into())),
                        metric.get(&(name.clone(), reference.into())),
                    ) {
                        (Some(v), Some(rf)) if v < rf => r.points,
                        (Some(_), Some(_)) => Decimal::ZERO,
                        _ => {
                            incomplete.push(code.clone());
                            Decimal::ZERO
                        }
                    }
                }
                _ => Decimal::ZERO,
            };
            match &r.section {
                Some(s) => *section_sum.entry(s.clone()).or_default() += d,
                None => *cat_sum.entry(r.category.clone()).or_default() += d,
            }
        }
        for (s, d) in section_sum {
            *cat_sum.entry(s[..1].to_owned()).or_default() += d.min(five);
        }
        let mut cats = Vec::new();
        let mut total = Decimal::ZERO;
        for (c, max) in &cat_max {
            let d = cat_sum.get(*c).copied().unwrap_or_default().min(*max);
            cats.push((*max - d).normalize().to_string());
            total += *max - d;
        }
        if veto {
            total = Decimal::ZERO;
        }
        let w = if u["class"] == "A" {
            Decimal::from(3)
        } else {
            Decimal::from(2)
        };
        let conv = (total * w / Decimal::from(100))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        incomplete.sort_by_key(|c| rules.keys().position(|k| k == c));
        out.insert(
            name.clone(),
            serde_json::json!({
                "class": u["class"],
                "categories": cats,
                "total": format!("{:.2}", total),
                "converted": format!("{:.2}", conv),
                "veto": veto,
                "lowest_grade": lowest,
                "incomplete": incomplete,
            }),
        );
    }
    // Ranks within classes.
    let snapshot: Vec<(String, String, Decimal)> = out
        .iter()
        .map(|(n, v)| {
            (
                n.clone(),
                v["class"].as_str().unwrap_or("").to_owned(),
                dec(v["converted"].as_str().unwrap_or("0")),
            )
        })
        .collect();
    for (n, class, conv) in &snapshot {
        let higher = snapshot
            .iter()
            .filter(|(_, c, v)| c == class && v > conv)
            .count();
        out.get_mut(n).expect("unit")["rank"] = Value::from(higher + 1);
    }
    out
}

#[test]
fn random_years_agree_to_the_cent() {
    let rubric = lvzhi_core::Rubric::from_toml(lvzhi_core::RUBRIC_2022).expect("rubric");
    let mut compared = 0;
    for seed in 0..24u64 {
        let dir = tempfile::tempdir().expect("tmp");
        let cities = 1 + (seed % 3) as usize;
        let units = roster(&rubric, cities);
        let plan = Plan {
            seed: 1000 + seed,
            records_per_unit: [5, 40, 120, 400][(seed % 4) as usize],
            veto_per_mille: 40,
            missing_per_mille: 80,
        };
        let f = |n: &str| File::create(dir.path().join(n)).expect("create");
        write_year(
            &rubric,
            &units,
            &plan,
            f("units.csv"),
            f("records.csv"),
            f("assessments.csv"),
            f("metrics.csv"),
        )
        .expect("generate");
        let run = common::score_year(dir.path(), true);
        assert_eq!(run.code, 0, "seed {seed}: {}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).expect("json");
        let want = oracle(dir.path());
        let results = doc["results"].as_array().expect("results");
        assert_eq!(
            results.len(),
            want.len(),
            "seed {seed}: every unit of the roster"
        );
        for r in results {
            let name = r["unit"].as_str().expect("unit");
            let w = &want[name];
            let got = serde_json::json!({
                "class": r["class"],
                "categories": r["categories"].as_array().expect("cats").iter().map(|c| c["score"].clone()).collect::<Vec<_>>(),
                "total": r["total"], "converted": r["converted"], "veto": r["veto"],
                "lowest_grade": r["lowest_grade"], "incomplete": r["incomplete"], "rank": r["rank"],
            });
            assert_eq!(&got, w, "seed {seed}, unit {name}");
            compared += 1;
        }
    }
    assert!(compared > 1500, "compared {compared} unit results");
}
