//! The shipped `rubrics/2022.toml` checked clause by clause against the contract: the rules table of
//! `docs/spec/rules-2022.md` (a copy of `shared/spec/`, checked identical when that folder is beside the
//! repository) and the roster and sentences of the source document.

use std::path::Path;

use lvzhi_core::rubric::{CategoryMode, RuleKind};
use lvzhi_core::{Points, Rubric};

fn repo(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn rubric() -> Rubric {
    Rubric::from_toml(lvzhi_core::RUBRIC_2022).expect("the shipped rubric loads")
}

#[test]
fn spec_copies_match_shared() {
    for name in ["rules-2022.md", "seed-rubric-2022.txt"] {
        let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/spec")
            .join(name);
        match std::fs::read_to_string(&shared) {
            Ok(text) => assert_eq!(
                text,
                repo(&format!("docs/spec/{name}")),
                "docs/spec/{name} differs from shared/spec"
            ),
            Err(_) => eprintln!(
                "note: {} not found; only the repository copy is checked",
                shared.display()
            ),
        }
    }
}

/// One row of the spec's rules table.
struct Row {
    code: String,
    kind: String,
    points: String,
    limits: String,
    clause: String,
}

fn table() -> Vec<Row> {
    let md = repo("docs/spec/rules-2022.md");
    let start = md.find("| code | kind |").expect("rules table");
    md[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect();
            assert_eq!(cells.len(), 5, "table row {l}");
            Row {
                code: cells[0].clone(),
                kind: cells[1].clone(),
                points: cells[2].clone(),
                limits: cells[3].clone(),
                clause: cells[4].clone(),
            }
        })
        .collect()
}

fn p(s: &str) -> Points {
    Points::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn every_clause_matches_the_spec_table() {
    let r = rubric();
    let rows = table();
    assert_eq!(rows.len(), 49, "the spec lists 49 rules");
    let codes: Vec<&str> = r.rules.iter().map(|x| x.code.as_str()).collect();
    let spec_codes: Vec<&str> = rows.iter().map(|x| x.code.as_str()).collect();
    assert_eq!(codes, spec_codes, "same rules in the same order");

    let mut mismatches = Vec::new();
    for row in &rows {
        let i = r.rule_by_code(&row.code).expect("rule exists");
        let rule = &r.rules[i];
        let mut bad = |what: &str| mismatches.push(format!("{}: {what}", row.code));
        if rule.kind.name() != row.kind {
            bad(&format!("kind {} ≠ {}", rule.kind.name(), row.kind));
        }
        if rule.text != row.clause {
            bad(&format!("text `{}` ≠ `{}`", rule.text, row.clause));
        }
        // Points.
        match (&rule.kind, row.points.as_str()) {
            (
                RuleKind::Fixed { points }
                | RuleKind::PerCount { points, .. }
                | RuleKind::MetricBelow { points, .. },
                s,
            ) => {
                if *points != p(s) {
                    bad(&format!("points {points} ≠ {s}"));
                }
            }
            (RuleKind::Range { min, max }, s) => {
                let (a, b) = s.split_once('–').expect("range as a–b");
                if (*min, *max) != (p(a), p(b)) {
                    bad(&format!("range {min}–{max} ≠ {s}"));
                }
            }
            (RuleKind::Assessed { max, .. }, s) => {
                if *max != p(s.trim_start_matches("max ")) {
                    bad(&format!("max {max} ≠ {s}"));
                }
            }
            (RuleKind::Veto | RuleKind::LowestGrade, s) => {
                if s != "—" {
                    bad(&format!("points {s} for a flag"));
                }
            }
            (RuleKind::Graded { .. }, s) => bad(&format!("graded rule not in the 2022 spec: {s}")),
            (RuleKind::MetricStep { .. }, s) => {
                bad(&format!("metric_step rule not in the 2022 spec: {s}"));
            }
        }
        // Limits.
        let limits = row.limits.replace('`', "");
        let max_count = match &rule.kind {
            RuleKind::PerCount { max_count, .. } => *max_count,
            _ => None,
        };
        let spec_max = limits
            .split(',')
            .find_map(|t| t.trim().strip_prefix("max_count "))
            .map(|n| n.trim().parse::<u32>().expect("max_count number"));
        if max_count != spec_max {
            bad(&format!("max_count {max_count:?} ≠ {spec_max:?}"));
        }
        let spec_tag = limits
            .split(',')
            .find_map(|t| t.trim().strip_prefix("applies_to "))
            .map(|t| t.trim().to_owned());
        if rule.applies_to != spec_tag {
            bad(&format!("applies_to {:?} ≠ {spec_tag:?}", rule.applies_to));
        }
        // The spec writes each exclusion on one side; it is symmetric, so gather both directions.
        let mut spec_ex: Vec<String> = Vec::new();
        for other in &rows {
            let l = other.limits.replace('`', "");
            let named: Vec<String> = l
                .strip_prefix("excludes ")
                .map(|rest| rest.split(" and ").map(|s| s.trim().to_owned()).collect())
                .unwrap_or_default();
            let by = l.strip_prefix("excluded by ").map(|s| s.trim().to_owned());
            if other.code == row.code {
                spec_ex.extend(named.iter().cloned());
                spec_ex.extend(by);
            } else if named.contains(&row.code) || by.as_deref() == Some(row.code.as_str()) {
                spec_ex.push(other.code.clone());
            }
        }
        spec_ex.sort();
        spec_ex.dedup();
        let mut ex: Vec<String> = rule
            .excludes
            .iter()
            .map(|&j| r.rules[j].code.clone())
            .collect();
        ex.sort();
        if ex != spec_ex {
            bad(&format!("excludes {ex:?} ≠ {spec_ex:?}"));
        }
        if let RuleKind::MetricBelow {
            metric, reference, ..
        } = rule.kind
        {
            let want = format!("{} < {}", r.metrics[metric].code, r.metrics[reference].code);
            if limits != want {
                bad(&format!("comparison `{want}` ≠ `{limits}`"));
            }
        }
        if let RuleKind::Assessed { assessors, .. } = rule.kind
            && limits.contains("assessors: 8")
            && assessors != Some(8)
        {
            bad("8 assessors");
        }
        if limits == "once" && !rule.kind.once_a_year() {
            bad("once a year");
        }
        // Category and section follow the code.
        let cat = row.code.split('.').next().unwrap_or("");
        if r.categories[rule.category].code != cat {
            bad("category");
        }
        let section = (row.code.matches('.').count() == 2)
            .then(|| row.code.rsplit_once('.').map(|x| x.0.to_owned()))
            .flatten();
        if rule.section.map(|s| r.sections[s].code.clone()) != section {
            bad("section");
        }
        if rule.source.is_empty() {
            bad("no source sentence");
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn category_maxima_and_classes() {
    let r = rubric();
    let md = repo("docs/spec/rules-2022.md");
    let line = md
        .lines()
        .find(|l| l.starts_with("Category maxima:"))
        .expect("maxima line");
    // "1 → 30, 2 → 20, 3 → 20 (four sections of 5), …"
    for part in line.trim_start_matches("Category maxima:").split(',') {
        if let Some((code, max)) = part.split_once('→') {
            let code = code.trim();
            let max = max.trim().split([' ', ';']).next().unwrap_or("");
            let c = r
                .categories
                .iter()
                .find(|c| c.code == code)
                .expect("category");
            assert_eq!(c.max, p(max), "category {code}");
            assert_eq!(c.mode, CategoryMode::Deduct);
        }
    }
    let seven = r
        .categories
        .iter()
        .find(|c| c.code == "7")
        .expect("category 7");
    assert_eq!((seven.mode, seven.max), (CategoryMode::Flags, Points::ZERO));
    let three = r
        .categories
        .iter()
        .find(|c| c.code == "3")
        .expect("category 3");
    assert_eq!(three.sections.len(), 4);
    assert!(three.sections.iter().all(|&s| r.sections[s].max == p("5")));
    assert_eq!(r.total, p("100"));
    let weights: Vec<(String, Points)> = r
        .classes
        .iter()
        .map(|c| (c.code.clone(), c.weight))
        .collect();
    assert_eq!(
        weights,
        vec![("A".to_owned(), p("3")), ("B".to_owned(), p("2"))]
    );
    assert_eq!((r.conversion.divisor, r.conversion.decimals), (p("100"), 2));
}

#[test]
fn roster_is_the_documents_in_order() {
    let r = rubric();
    let doc = repo("docs/spec/seed-rubric-2022.txt");
    let list = |label: &str, end: &str| -> Vec<String> {
        let start = doc.find(label).expect(label) + label.len();
        let stop = start + doc[start..].find(end).expect(end);
        doc[start..stop].split('、').map(str::to_owned).collect()
    };
    let a = list("A类部门：", "。");
    let b = list("B类部门：", "。");
    assert_eq!((a.len(), b.len()), (20, 21));
    let want: Vec<(String, &str)> = a
        .into_iter()
        .map(|n| (n, "A"))
        .chain(b.into_iter().map(|n| (n, "B")))
        .collect();
    let got: Vec<(String, &str)> = r
        .roster
        .iter()
        .map(|u| (u.name.clone(), r.classes[u.class].code.as_str()))
        .collect();
    assert_eq!(got, want);
    assert!(
        r.roster.iter().all(|u| u.tags.is_empty()),
        "no unit carries a tag in the shipped roster"
    );
}

#[test]
fn every_source_sentence_is_the_documents_own() {
    let r = rubric();
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let doc = squash(&repo("docs/spec/seed-rubric-2022.txt"));
    for rule in &r.rules {
        assert!(
            doc.contains(&squash(&rule.source)),
            "{}: source not found verbatim in the document: {}",
            rule.code,
            rule.source
        );
    }
}
