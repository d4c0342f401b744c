//! Shared helpers of the command-line tests: run the real `lvzhi` binary on files in a temp folder.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of `lvzhi` printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn lvzhi(args: &[&str], dir: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_lvzhi"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("lvzhi runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `lvzhi score` on the four files of a year in `dir` (`--json` when asked).
pub fn score_year(dir: &Path, json: bool) -> Run {
    let mut args = vec![
        "score",
        "--units",
        "units.csv",
        "--records",
        "records.csv",
        "--assessments",
        "assessments.csv",
        "--metrics",
        "metrics.csv",
    ];
    if json {
        args.push("--json");
    }
    lvzhi(&args, dir)
}

/// `lvzhi score` on the shipped sample year.
pub fn score_sample(json: bool) -> Run {
    score_year(&repo().join("examples/2022"), json)
}
