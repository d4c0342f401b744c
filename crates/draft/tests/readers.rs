//! Every reader gives the same document: a text saved in GBK or UTF-16 reads as its UTF-8 copy; an
//! old Word file (made here from the example `.docx` by LibreOffice) drafts the rules its `.docx`
//! drafts, when LibreOffice is installed (under `CI=true` it must be); bad files get one sentence.

use lvzhi_draft::{DocumentError, draft, read_document};

mod common;
use common::root;

fn rules_of(bytes: &[u8]) -> Vec<(String, String)> {
    draft(&read_document(bytes).expect("readable"))
        .rules()
        .iter()
        .map(|r| (r.code.clone(), r.source.clone()))
        .collect()
}

#[test]
fn texts_saved_on_windows_read_as_their_utf8_copy() {
    let path = root().join("crates/draft/tests/corpus/county-departments-2023.tsv.txt");
    let text = std::fs::read_to_string(path).expect("corpus");
    let want = rules_of(text.as_bytes());
    assert!(want.len() > 10, "{want:?}");
    let (gbk, _, lossy) = encoding_rs::GB18030.encode(&text);
    assert!(!lossy);
    assert_eq!(rules_of(&gbk), want, "GBK");
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(rules_of(&le), want, "UTF-16LE");
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    assert_eq!(rules_of(&be), want, "UTF-16BE");
}

#[test]
fn bad_files_get_one_sentence_in_chinese() {
    for (what, bytes) in [
        (
            "no item",
            "一份通知\n请各单位按时报送材料。".as_bytes().to_vec(),
        ),
        (
            "bytes of no encoding",
            vec![0x81, 0x30, 0xFF, 0xFF, 0x00, 0x9F],
        ),
        ("a broken zip", b"PK\x03\x04 broken".to_vec()),
    ] {
        let e = read_document(&bytes).expect_err(what).to_string();
        assert!(
            !e.is_empty()
                && !e.contains('\n')
                && e.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{what}: {e}"
        );
    }
    assert_eq!(
        read_document("一份通知".as_bytes()),
        Err(DocumentError::NoItems)
    );
}

/// LibreOffice's program, if installed.
fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|p| {
        std::process::Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn an_old_word_file_drafts_as_its_docx_does() {
    let Some(soffice) = soffice() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but LibreOffice is not installed: the .doc reader cannot be tested"
        );
        eprintln!(
            "\n*** readers.rs: LibreOffice 未安装，.doc 转换未测试（apt-get install libreoffice-writer-nogui） ***\n"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let docx = root().join("docs/examples/county-departments-2023.docx");
    let out = std::process::Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("profile").display()
        ))
        .args(["--headless", "--convert-to", "doc", "--outdir"])
        .arg(dir.path())
        .arg(&docx)
        .output()
        .expect("soffice runs");
    let made = dir.path().join("county-departments-2023.doc");
    if !out.status.success() || !made.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but LibreOffice could not write a .doc (is libreoffice-writer-nogui installed?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "\n*** readers.rs: LibreOffice Writer 未安装，.doc 转换未测试（apt-get install libreoffice-writer-nogui） ***\n"
        );
        return;
    }
    let doc = std::fs::read(&made).expect("the .doc");
    assert!(doc.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]), "an OLE file");
    let want = rules_of(&std::fs::read(&docx).expect("docx"));
    assert_eq!(rules_of(&doc), want);
}

/// A PDF with one empty page (no text layer, as a scan's pages have no text): the smallest valid
/// file, its cross-reference offsets computed.
fn pdf_without_text() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        "<< /Length 0 >>\nstream\n\nendstream",
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn a_pdf_reads_as_its_docx_and_a_scan_or_a_broken_one_is_refused() {
    let pdf = std::fs::read(root().join("crates/draft/tests/corpus/county-departments-2023.pdf"))
        .expect("corpus pdf");
    let docx =
        std::fs::read(root().join("docs/examples/county-departments-2023.docx")).expect("docx");
    let codes = |b: &[u8]| -> Vec<String> { rules_of(b).into_iter().map(|(c, _)| c).collect() };
    assert_eq!(codes(&pdf), codes(&docx));
    let scan = read_document(&pdf_without_text())
        .expect_err("no text")
        .to_string();
    assert!(
        scan.contains("扫描件") && scan.contains("文字识别"),
        "{scan}"
    );
    let broken = read_document(b"%PDF-1.7\n1 0 obj << /Type /Catalog").expect_err("broken");
    assert!(broken.to_string().contains("PDF"), "{broken}");
    // Encrypted with an open password (made by LibreOffice's PDF export, password "secret").
    let locked =
        std::fs::read(root().join("crates/draft/tests/fixtures/encrypted.pdf")).expect("fixture");
    let e = read_document(&locked).expect_err("encrypted").to_string();
    assert!(e.contains("已加密"), "{e}");
    // Cut in half: refused, never a panic.
    let half = read_document(&pdf[..pdf.len() / 2]);
    assert!(half.is_err(), "half a PDF");
}

#[test]
fn damaged_pdfs_are_answered_never_crashed() {
    let pdf = std::fs::read(root().join("crates/draft/tests/corpus/city-two-level-2023.pdf"))
        .expect("corpus pdf");
    let mut seed = 20u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for k in 0..120 {
        let mut bad = pdf.clone();
        if k % 3 == 0 {
            bad.truncate(1 + (next() as usize) % pdf.len());
        } else {
            for _ in 0..=(k % 8) {
                let at = (next() as usize) % bad.len();
                bad[at] = (next() & 0xFF) as u8;
            }
        }
        // An answer either way: a document, or one sentence.
        if let Err(e) = read_document(&bad) {
            assert!(!e.to_string().is_empty());
        }
    }
}
