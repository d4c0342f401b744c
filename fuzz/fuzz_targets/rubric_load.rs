//! Any text as a rubric file: loading it must answer a rubric or a list of problems, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(r) = lvzhi_core::Rubric::from_toml(text)
    {
        let _ = lvzhi_core::contract::RubricDoc::new(&r);
        let _ = r.pending_review();
    }
});
