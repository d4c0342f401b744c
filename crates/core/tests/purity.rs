//! The core stays pure: nothing in its dependency closure does IO or async, and its sources do not
//! reach for files, the network, processes, the environment, threads or the clock.

/// The dependency closure of `lvzhi-core` read from `Cargo.lock`. The lock file lists every
/// dependency a package may have (whatever the features), so this over-approximates: it can only
/// refuse too much, never miss one. It needs no network and no `cargo` call.
#[test]
fn no_io_dependencies() {
    let lock = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock"),
    )
    .expect("Cargo.lock");
    let doc: toml::Table = lock.parse().expect("lock file is TOML");
    let packages = doc["package"].as_array().expect("packages");
    let deps_of = |name: &str| -> Vec<String> {
        packages
            .iter()
            .filter(|p| p["name"].as_str() == Some(name))
            .flat_map(|p| {
                p.get("dependencies")
                    .and_then(toml::Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|d| {
                d.as_str()
                    .map(|s| s.split(' ').next().unwrap_or("").to_owned())
            })
            .collect()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec!["lvzhi-core".to_owned()];
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            todo.extend(deps_of(&name));
        }
    }
    assert!(seen.len() > 5, "closure read: {seen:?}");
    for banned in [
        "tokio",
        "mio",
        "sqlx",
        "axum",
        "hyper",
        "calamine",
        "reqwest",
        "simd-csv",
        "csv",
        "rust_xlsxwriter",
        "lvzhi-store",
        "lvzhi-office",
    ] {
        assert!(
            !seen.contains(banned),
            "lvzhi-core depends on {banned}: {seen:?}"
        );
    }
}

/// Every `.rs` file below `dir`, rooms included.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_io_in_sources() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    assert!(
        files.iter().any(|p| p.ends_with("rubric/load.rs")),
        "rooms are read too: {files:?}"
    );
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        for banned in [
            "std::fs",
            "std::net",
            "std::process",
            "std::env",
            "std::thread",
            "SystemTime",
            "Instant::now",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", path.display());
        }
    }
}
