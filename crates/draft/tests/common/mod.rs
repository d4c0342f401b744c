//! What the draft crate's tests share: where the repository is.

/// The repository's root (documents, references and the corpus are named from it).
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
