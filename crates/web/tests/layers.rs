//! The layering rules, checked on the sources the way `crates/core/tests/purity.rs` checks the core:
//!
//! - the JSON API (`src/api/`) and the pages (`src/pages/`) stand on one floor (`auth`, `extract`,
//!   `view`, `sheet`, `error`) and never import each other; the floor imports neither;
//! - the store's files form no import circle (no file imports one that imports it back, directly or
//!   through others);
//! - the exchange crate (imports and exports) knows no web framework, so the command line does not
//!   need one for them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// Every `.rs` file under `dir`, with its path relative to `dir`.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("source folder") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).expect("read")));
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no sources in {}", dir.display());
    out
}

/// The code of a file without its comments (so that a doc line naming a module is no import).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn api_and_pages_share_a_floor_and_never_import_each_other() {
    let files = sources(&crate_dir("web/src"));
    let floor = ["auth.rs", "extract.rs", "view.rs", "sheet.rs", "error.rs"];
    let mut seen_api = 0;
    let mut seen_pages = 0;
    for (path, text) in &files {
        let code = code(text);
        let imports = |m: &str| {
            code.contains(&format!("crate::{m}")) || code.contains(&format!("super::{m}"))
        };
        if path.starts_with("api/") {
            seen_api += 1;
            assert!(!imports("pages"), "{path} imports the pages");
        } else if path.starts_with("pages/") {
            seen_pages += 1;
            assert!(!imports("api"), "{path} imports the JSON API");
        } else if floor.contains(&path.as_str()) {
            assert!(
                !imports("api") && !imports("pages"),
                "{path} is on the floor and imports an audience"
            );
        }
    }
    assert!(
        seen_api >= 5 && seen_pages >= 5,
        "{seen_api} api files, {seen_pages} page files"
    );
}

#[test]
fn the_store_has_no_import_circle() {
    let files = sources(&crate_dir("store/src"));
    // A module is a file at the top or a folder of rooms (`state/cache.rs` belongs to `state`).
    let module_of = |path: &str| -> String {
        path.split('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".rs")
            .to_owned()
    };
    let modules: BTreeSet<String> = files
        .iter()
        .filter(|(p, _)| p != "lib.rs")
        .map(|(p, _)| module_of(p))
        .collect();
    // Who names whom, by `crate::module`.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in files.iter().filter(|(p, _)| p != "lib.rs") {
        let me = module_of(path);
        let code = code(text);
        let uses = graph.entry(me.clone()).or_default();
        uses.extend(
            modules
                .iter()
                .filter(|m| **m != me && names_module(&code, m))
                .cloned(),
        );
    }
    assert!(graph.len() >= 10, "{graph:?}");
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
    // The floor of the store is what every room may use; the period's state is used by every room
    // that writes.
    assert!(graph["records"].contains("state"), "{graph:?}");
    assert!(!graph["state"].contains("records"), "{graph:?}");
}

/// Depth-first search for an import circle from `m`; panics naming the first one found.
fn visit(
    m: &str,
    graph: &BTreeMap<String, BTreeSet<String>>,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) {
    if let Some(i) = path.iter().position(|x| x == m) {
        panic!(
            "import circle in the store: {} → {m}",
            path[i..].join(" → ")
        );
    }
    if done.contains(m) {
        return;
    }
    path.push(m.to_owned());
    for n in graph.get(m).into_iter().flatten() {
        visit(n, graph, path, done);
    }
    path.pop();
    done.insert(m.to_owned());
}

/// Whether code names module `m` of its crate: `crate::m::…`, `crate::m;`, or `m` inside a
/// `use crate::{…}` group.
fn names_module(code: &str, m: &str) -> bool {
    if code.contains(&format!("crate::{m}::")) || code.contains(&format!("crate::{m};")) {
        return true;
    }
    let mut rest = code;
    while let Some(i) = rest.find("use crate::{") {
        let group = &rest[i + "use crate::{".len()..];
        let end = group.find("};").unwrap_or(group.len());
        let inner = &group[..end];
        if inner
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|t| t == m)
        {
            return true;
        }
        rest = &group[end..];
    }
    false
}

/// The dependency closure of a workspace package, read from `Cargo.lock` (over-approximating).
fn closure(package: &str) -> BTreeSet<String> {
    let lock = std::fs::read_to_string(crate_dir("../Cargo.lock")).expect("Cargo.lock");
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
    let mut seen = BTreeSet::new();
    let mut todo = vec![package.to_owned()];
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            todo.extend(deps_of(&name));
        }
    }
    seen
}

#[test]
fn imports_and_exports_need_no_web_framework() {
    let seen = closure("lvzhi-exchange");
    assert!(seen.contains("lvzhi-store"), "{seen:?}");
    for banned in [
        "axum",
        "hyper",
        "tower",
        "tower-http",
        "lvzhi-web",
        "minijinja",
    ] {
        assert!(!seen.contains(banned), "lvzhi-exchange depends on {banned}");
    }
    // The command line reaches the web crate only to serve.
    for (path, text) in sources(&crate_dir("cli/src")) {
        let code = code(&text);
        if code.contains("lvzhi_web::") {
            assert_eq!(path, "service.rs", "{path} uses the web crate");
            for line in code.lines().filter(|l| l.contains("lvzhi_web::")) {
                assert!(
                    line.contains("lvzhi_web::app")
                        || line.contains("lvzhi_web::AppState")
                        || line.contains("lvzhi_web::LOGIN_ATTEMPTS_PER_MINUTE")
                        || line.contains("lvzhi_web::metrics::MetricsAccess")
                        || line.contains("lvzhi_web::pages::check_templates"),
                    "service.rs uses the web crate beyond serving: {line}"
                );
            }
        }
    }
}
