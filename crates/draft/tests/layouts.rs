//! The layout corpus (issue 21): the project's own example 细则 rendered in every layout offices
//! receive them in (`tests/corpus/make-corpus.py`), each drafted and compared rule by rule with its
//! reference rubric. The share of rules right per layout is printed (the README's table) and held:
//! a layout may not fall below its measured floor, and no draft may present a wrong number as
//! certain.

use lvzhi_core::Rubric;
use lvzhi_draft::{accuracy, draft, read_document};

mod common;
use common::root;

/// (document, reference rubric).
const DOCUMENTS: [(&str, &str); 2] = [
    (
        "county-departments-2023",
        "rubrics/examples/county-departments-2023.toml",
    ),
    (
        "city-two-level-2023",
        "rubrics/examples/city-two-level-2023.toml",
    ),
];

/// Each layout and the share of rules (in per cent, over the documents) it must keep.
const FLOORS: [(&str, usize); 7] = [
    ("cells", 90),
    ("tsv", 90),
    ("pipe", 90),
    ("aligned", 90),
    ("numbered", 90),
    ("articles", 90),
    ("pdf", 90),
];

#[test]
fn every_layout_drafts_the_rules_of_its_table() {
    let mut failures = Vec::new();
    println!("| layout | rules right | share |\n|---|---:|---:|");
    for (layout, floor) in FLOORS {
        let (mut right, mut expected) = (0, 0);
        for (doc, reference) in DOCUMENTS {
            let file = if layout == "pdf" {
                format!("{doc}.pdf")
            } else {
                format!("{doc}.{layout}.txt")
            };
            let path = root().join("crates/draft/tests/corpus").join(file);
            let bytes = std::fs::read(&path).expect("corpus document");
            let d = draft(&read_document(&bytes).expect("readable"));
            let toml = d.to_toml();
            let want = Rubric::from_toml(
                &std::fs::read_to_string(root().join(reference)).expect("reference"),
            )
            .expect("the reference loads");
            let reviewed = d.reviewed_codes();
            expected += want.rules.len();
            let loaded = match Rubric::from_toml(&toml) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("  {doc}.{layout}: the draft does not load: {e}");
                    continue;
                }
            };
            let a = accuracy(&loaded, &want, &reviewed);
            right += a.right;
            for w in &a.wrong {
                eprintln!("  {doc}.{layout}: {w}");
            }
            if !a.wrong_but_certain.is_empty() {
                failures.push(format!(
                    "{doc}.{layout}: wrong numbers presented as certain: {:?}",
                    a.wrong_but_certain
                ));
            }
        }
        let share = 100 * right / expected.max(1);
        println!("| {layout} | {right}/{expected} | {share}% |");
        if share < floor {
            failures.push(format!(
                "{layout}: {right}/{expected} = {share}% < {floor}%"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The phrases of the field, in documents written for this project (`county-phrases-2024`, a
/// quarterly county document of numbered items; `town-items-2024`, a town's table whose scoring
/// cells hold items with maxima of their own): the rules right, and the bands, parts and bonus
/// the notes and sentences give. The share is printed for the README and held at its floor.
#[test]
fn the_phrases_of_the_field_are_read() {
    let (mut right, mut expected) = (0, 0);
    for (doc, reference) in [
        (
            "county-phrases-2024.numbered.txt",
            "county-phrases-2024.toml",
        ),
        ("town-items-2024.tsv.txt", "town-items-2024.toml"),
    ] {
        let (r, e) = phrases_of(doc, reference);
        right += r;
        expected += e;
    }
    println!("phrases: {right}/{expected} facts right");
    assert!(right * 100 >= expected * 90, "{right}/{expected}");
}

/// One document of the phrase corpus against its reference: (facts right, facts expected).
fn phrases_of(doc: &str, reference: &str) -> (usize, usize) {
    let corpus = root().join("crates/draft/tests/corpus");
    let bytes = std::fs::read(corpus.join(doc)).expect("document");
    let d = draft(&read_document(&bytes).expect("readable"));
    let toml = d.to_toml();
    let loaded =
        Rubric::from_toml(&toml).unwrap_or_else(|e| panic!("{doc}: the draft loads:\n{e}\n{toml}"));
    let want =
        Rubric::from_toml(&std::fs::read_to_string(corpus.join(reference)).expect("reference"))
            .expect("the reference loads");
    let reviewed = d.reviewed_codes();
    let a = accuracy(&loaded, &want, &reviewed);
    for w in &a.wrong {
        eprintln!("  {doc}: {w}");
    }
    let bands = |r: &Rubric| -> Vec<(String, String)> {
        r.grades
            .iter()
            .map(|g| (g.name.clone(), g.min.to_string()))
            .collect()
    };
    let parts = |r: &Rubric| -> Vec<String> { r.parts.iter().map(|p| p.code.clone()).collect() };
    let modes = |r: &Rubric| -> Vec<String> {
        r.categories
            .iter()
            .map(|c| c.mode.name().to_owned())
            .collect()
    };
    let facts = [
        ("grade bands", bands(&loaded) == bands(&want)),
        ("parts", parts(&loaded) == parts(&want)),
        ("category modes", modes(&loaded) == modes(&want)),
    ];
    let right = a.right + facts.iter().filter(|(_, ok)| *ok).count();
    let expected = a.expected + facts.len();
    for (what, ok) in facts {
        if !ok {
            eprintln!("  {doc}: {what} differ");
        }
    }
    println!(
        "{doc}: {right}/{expected} facts right ({} rules of {})",
        a.right, a.expected
    );
    assert!(
        a.wrong_but_certain.is_empty(),
        "{doc}: {:?}",
        a.wrong_but_certain
    );
    (right, expected)
}
