//! The rubric importer measured: each 细则 document (the 2022 original and made-up ones in the same
//! style) is read, drafted, loaded, and compared rule by rule with its expected rubric.

use lvzhi_core::Rubric;
use lvzhi_draft::{accuracy, draft, read_document};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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
    let reviewed: Vec<String> = d
        .rules()
        .iter()
        .filter(|r| !r.review.is_empty())
        .map(|r| r.code.clone())
        .collect();
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
    assert!(read_document(&[0xff, 0xfe, 0x00]).is_err(), "not UTF-8");
    let empty = read_document("只有一行字".as_bytes()).expect("text");
    assert!(empty.rows.is_empty());
}
