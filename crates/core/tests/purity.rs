//! The core stays pure: nothing in its dependency closure does IO or async, and its sources do not
//! reach for files, the network, processes, the environment, threads or the clock.

use std::process::Command;

#[test]
fn no_io_dependencies() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let nodes = meta["resolve"]["nodes"].as_array().expect("resolve graph");
    let packages = meta["packages"].as_array().expect("packages");
    let name_of = |id: &str| -> String {
        packages
            .iter()
            .find(|p| p["id"] == id)
            .and_then(|p| p["name"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    let core = packages
        .iter()
        .find(|p| p["name"] == "lvzhi-core")
        .expect("core");
    // Walk normal (non-dev, non-build) dependencies from the core.
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![core["id"].as_str().expect("id").to_owned()];
    while let Some(id) = todo.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let node = nodes.iter().find(|n| n["id"] == id.as_str()).expect("node");
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if normal {
                todo.push(dep["pkg"].as_str().expect("pkg").to_owned());
            }
        }
    }
    let names: Vec<String> = seen.iter().map(|id| name_of(id)).collect();
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
    ] {
        assert!(
            !names.iter().any(|n| n == banned),
            "lvzhi-core depends on {banned}: {names:?}"
        );
    }
}

#[test]
fn no_io_in_sources() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&dir).expect("src") {
        let path = entry.expect("entry").path();
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
