//! The rubric importer measured: each 细则 document (the 2022 original and made-up ones in the same
//! style) is read, drafted, loaded, and compared rule by rule with its expected rubric.

use lvzhi_core::Rubric;
use lvzhi_draft::{accuracy, draft, read_document};

mod common;
use common::root;

/// Drafts a document and compares it with the expected rubric; returns the draft.
fn measure(doc: &str, expected: &str) -> lvzhi_draft::Draft {
    let bytes = std::fs::read(root().join(doc)).expect("document");
    let d = draft(&read_document(&bytes).expect("readable"));
    let toml = d.to_toml();
    let loaded =
        Rubric::from_toml(&toml).unwrap_or_else(|e| panic!("{doc}: the draft loads:\n{e}\n{toml}"));
    let reference =
        Rubric::from_toml(&std::fs::read_to_string(root().join(expected)).expect("expected"))
            .expect("the expected rubric loads");
    let reviewed = d.reviewed_codes();
    let a = accuracy(&loaded, &reference, &reviewed);
    println!(
        "{doc}: {}/{} rules right ({:.1}%), {} exact sources, {} marked for review, {} pending in all",
        a.right,
        a.expected,
        100.0 * a.right as f64 / a.expected as f64,
        a.exact_sources,
        reviewed.len(),
        d.pending()
    );
    for w in &a.wrong {
        println!("  {w}");
    }
    assert!(
        a.wrong_but_certain.is_empty(),
        "{doc}: wrong numbers presented as certain: {:?}",
        a.wrong_but_certain
    );
    assert!(
        a.right * 10 >= a.expected * 9,
        "{doc}: {}/{} is below 90%",
        a.right,
        a.expected
    );
    d
}

#[test]
fn the_2022_document() {
    measure("docs/spec/seed-rubric-2022.txt", "rubrics/2022.toml");
}

#[test]
fn a_made_up_2023_document_in_text() {
    let d = measure(
        "crates/draft/tests/fixtures/rubric-2023.txt",
        "crates/draft/tests/fixtures/rubric-2023.toml",
    );
    // A sentence with no deduction is left for a person, not turned into a rule.
    assert_eq!(d.unclassified.len(), 1);
    assert_eq!(d.unclassified[0].1, "视情节酌情处理。");
    assert_eq!(
        (
            d.classes[0].1.as_str(),
            d.classes[0].2.as_str(),
            d.units.len()
        ),
        ("A类单位", "4", 5)
    );
}

#[test]
fn a_made_up_2024_document_in_word() {
    let d = measure(
        "crates/draft/tests/fixtures/rubric-2024.docx",
        "crates/draft/tests/fixtures/rubric-2024.toml",
    );
    assert_eq!(d.title, "2024年安全生产委员会成员单位履职监测评分细则");
    assert!(d.unclassified.is_empty());
}

#[test]
fn documents_that_are_not_a_rubric_are_refused_or_empty() {
    assert!(
        read_document(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).is_err(),
        "an old .doc"
    );
    assert!(
        read_document(b"PK\x03\x04 not a zip").is_err(),
        "a broken zip"
    );
    assert!(
        read_document(&[0xff, 0xfe, 0x00]).is_err(),
        "a broken UTF-16 text"
    );
    assert_eq!(
        read_document("只有一行字".as_bytes()),
        Err(lvzhi_draft::DocumentError::NoItems),
        "no item"
    );
}

/// The modes, bands, cap of the total and metric steps a draft proposes, as its rubric file says.
fn constructs(d: &lvzhi_draft::Draft) -> (Vec<String>, Vec<(String, String)>, Option<String>) {
    let loaded = Rubric::from_toml(&d.to_toml()).expect("loads");
    let modes = loaded
        .categories
        .iter()
        .map(|c| format!("{}:{}", c.code, c.mode.name()))
        .collect();
    let grades = loaded
        .grades
        .iter()
        .map(|g| (g.name.clone(), g.min.to_string()))
        .collect();
    (modes, grades, loaded.max_total.map(|m| m.to_string()))
}

fn bands() -> Vec<(String, String)> {
    [
        ("优秀", "90"),
        ("良好", "80"),
        ("合格", "60"),
        ("不合格", "0"),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .to_vec()
}

#[test]
fn a_county_document_with_its_maximum_in_its_own_column_bands_and_a_bonus() {
    let d = measure(
        "docs/examples/county-departments-2023.docx",
        "rubrics/examples/county-departments-2023.toml",
    );
    let (modes, grades, cap) = constructs(&d);
    assert_eq!(
        modes,
        [
            "1:deduct", "2:deduct", "3:deduct", "4:deduct", "5:deduct", "6:bonus", "7:flags"
        ]
    );
    assert_eq!(grades, bands(), "the bands of the notes");
    assert_eq!(cap.as_deref(), Some("100"), "加分后总分最高不超过100分");
    assert_eq!(d.units.len(), 6);
    // A metric's name is read without the clause's numbering.
    assert!(
        d.metrics.iter().all(|(_, n)| !n.starts_with('（')),
        "{:?}",
        d.metrics
    );
}

#[test]
fn a_county_document_for_towns_with_earned_points_and_metric_steps() {
    let d = measure(
        "docs/examples/county-towns-2023.docx",
        "rubrics/examples/county-towns-2023.toml",
    );
    let (modes, grades, cap) = constructs(&d);
    assert_eq!(
        modes,
        ["1:earn", "2:deduct", "3:earn", "4:deduct", "5:earn"]
    );
    assert_eq!(grades, bands());
    assert_eq!(cap, None);
    let steps: Vec<(&str, Option<&str>, Option<&str>)> = d
        .rules()
        .iter()
        .filter(|r| r.kind == "metric_step")
        .map(|r| (r.code.as_str(), r.direction, r.max.as_deref()))
        .collect();
    assert_eq!(
        steps,
        [
            ("2.1", Some("above"), Some("10")),
            ("2.2", Some("above"), None)
        ],
        "每多一起扣2分，最多扣10分；每多一人扣5分"
    );
    // "每次得2分，最多得8分": the cap is the count, stated by the document, not guessed.
    let quarterly = d
        .rules()
        .into_iter()
        .find(|r| r.code == "1.2")
        .expect("1.2");
    assert_eq!(quarterly.max_count, Some(4));
    assert!(quarterly.review.is_empty(), "{:?}", quarterly.review);
    // No classes in the notes: one class, marked for review; the roster from 参评单位.
    assert_eq!(d.classes.len(), 1);
    assert!(d.review.iter().any(|r| r.contains("[[classes]]")));
    assert_eq!(d.units.len(), 5);
    assert!(d.unclassified.is_empty(), "{:?}", d.unclassified);
}

#[test]
fn a_two_level_city_table_with_merged_first_level_cells() {
    let d = measure(
        "docs/examples/city-two-level-2023.docx",
        "rubrics/examples/city-two-level-2023.toml",
    );
    let (modes, grades, cap) = constructs(&d);
    assert_eq!(modes, ["1:deduct", "2:deduct", "3:deduct", "4:bonus"]);
    assert!(grades.is_empty() && cap.is_none());
    let sections: Vec<(String, String)> = d
        .categories
        .iter()
        .flat_map(|c| c.sections.iter().map(|s| (s.code.clone(), s.max.clone())))
        .collect();
    assert_eq!(
        sections,
        [
            ("1.1", "10"),
            ("1.2", "15"),
            ("2.1", "20"),
            ("2.2", "10"),
            ("2.3", "10"),
            ("3.1", "15"),
            ("3.2", "20")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(
        d.categories[3].name, "加分项",
        "the bonus cap is not part of the name"
    );
}
