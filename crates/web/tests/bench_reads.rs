//! A benchmark harness, not a test: results reads of the sample year through the router in process
//! (no network), to compare read paths in one run (`BENCHMARKS.md`, "Reading your writes"). Ignored
//! by default; run with
//! `cargo test --release -p lvzhi-web --test bench_reads -- --ignored --nocapture`.

mod common;

use common::App;

#[test]
#[ignore = "a benchmark: run by hand in release"]
fn results_reads_in_process() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let auth = [("Authorization", bearer.as_str())];
    for _ in 0..50 {
        app.raw("GET", "/api/v1/periods/2022/results", &auth, "");
    }
    let n = 2000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let (status, _, _) = app.raw("GET", "/api/v1/periods/2022/results", &auth, "");
        assert_eq!(status, 200);
    }
    eprintln!(
        "results reads in process: {:.0}/s",
        f64::from(n) / t.elapsed().as_secs_f64()
    );
}
