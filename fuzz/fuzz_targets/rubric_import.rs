//! Any bytes as a 细则 document: reading, drafting, writing the draft and loading it again must
//! never panic (a refusal is an answer; a panic is a bug).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // An old Word file goes to LibreOffice (a process, seconds each): not fuzzed here.
    if data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return;
    }
    if let Ok(doc) = lvzhi_draft::read_document(data) {
        let draft = lvzhi_draft::draft(&doc);
        let toml = draft.to_toml();
        let _ = lvzhi_core::Rubric::from_toml(&toml);
    }
});
