"""`lvzhi score` against the DuckDB peer on the same year: results must agree, then both are timed
alternately (wall time and peak RSS of the whole process, from wait4) and the ratios printed.

Usage: python3 bench/compare.py DATA_DIR [RUNS]   (run from the repository root after
`cargo build --release`; writes DATA_DIR/rules.csv from `lvzhi rubric show 2022 --json`).
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import time

LVZHI = "target/release/lvzhi"


def rules_csv(path):
    doc = json.loads(subprocess.check_output([LVZHI, "rubric", "show", "2022", "--json"]))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "kind", "ord", "category", "section", "points", "max", "cat_max", "sec_max",
                    "applies_to", "metric", "reference"])
        n = 0
        for c in doc["categories"]:
            groups = [(s["code"], s["max"], s["rules"]) for s in c.get("sections", [])]
            groups.append((None, None, c["rules"]))
            for sec, smax, rules in groups:
                for r in rules:
                    w.writerow([r["code"], r["kind"], n, c["code"], sec, r.get("points"), r.get("max"), c["max"],
                                smax, r.get("applies_to"), r.get("metric"), r.get("reference")])
                    n += 1


def run(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    assert os.waitstatus_to_exitcode(status) == 0, cmd
    return wall, ru.ru_maxrss / 1024  # MB


def main():
    data = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    rules = os.path.join(data, "rules.csv")
    rules_csv(rules)
    ours = [LVZHI, "score", "--json", "--units", f"{data}/units.csv", "--records", f"{data}/records.csv",
            "--assessments", f"{data}/assessments.csv", "--metrics", f"{data}/metrics.csv"]
    peer = [sys.executable, "bench/duckdb_peer.py", data, rules]
    a = json.loads(subprocess.check_output(ours))["results"]
    b = [json.loads(l) for l in subprocess.check_output(peer).decode().splitlines()]
    key = lambda r: (r["unit"], r["class"], r["total"], r["converted"], r["rank"], r["veto"], r["lowest_grade"],
                     list(r["incomplete"]))
    mine = sorted(map(key, a))
    theirs = sorted(map(key, b))
    diff = [(x, y) for x, y in zip(mine, theirs) if x != y]
    assert len(mine) == len(theirs) and not diff, f"results differ: {diff[:3]}"
    print(f"results agree on all {len(mine)} units")
    size = os.path.getsize(f"{data}/records.csv") / 1e6
    times = {"lvzhi": [], "duckdb": []}
    for _ in range(runs):
        for name, cmd in (("lvzhi", ours), ("duckdb", peer)):
            times[name].append(run(cmd))
    print(f"records.csv: {size:.1f} MB; {runs} alternating runs each")
    med = {}
    for name, xs in times.items():
        wall = statistics.median(x[0] for x in xs)
        rss = statistics.median(x[1] for x in xs)
        med[name] = (wall, rss)
        print(f"{name:7s} wall median {wall:.3f} s (min {min(x[0] for x in xs):.3f}, max {max(x[0] for x in xs):.3f})"
              f"  peak RSS median {rss:.1f} MB")
    print(f"speed: lvzhi is {med['duckdb'][0] / med['lvzhi'][0]:.1f}x faster; "
          f"memory: lvzhi uses {med['lvzhi'][1] / med['duckdb'][1]:.2f} of duckdb's peak RSS")


if __name__ == "__main__":
    main()
