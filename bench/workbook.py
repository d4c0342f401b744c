"""Workbook benchmark (BENCHMARKS.md, issue 6): a 100,000-row records workbook.

1. Reading and checking it: `lvzhi score --records big.xlsx` (whole process: read, check every row
   against the rubric, score) against pandas.read_excel with openpyxl and with the calamine engine
   (read only, timed inside Python, after pandas is imported), alternating, RUNS rounds.
2. The whole import into a fresh store, audit included: `lvzhi import records big.xlsx`.
3. Exporting the full ledger of those rows: `lvzhi export ledger`.

Usage: python3 bench/workbook.py WORK_DIR [RUNS]  (from the repository root after
`cargo build --release -p lvzhi -p lvzhi-devtools`; needs pandas, openpyxl, python-calamine).
"""
import csv
import os
import statistics
import subprocess
import sys
import time

work = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
os.makedirs(work, exist_ok=True)
LVZHI = "target/release/lvzhi"
gen = os.path.join(work, "year")
subprocess.run(["target/release/lvzhi-gen", "--out", gen, "--records-per-unit", "2440"], check=True,
               stdout=subprocess.DEVNULL)
book = os.path.join(work, "big.xlsx")
if not os.path.exists(book):
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("扣分记录")
    with open(os.path.join(gen, "records.csv"), newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        head = next(rows)
        ws.append(["单位", "条款编号", "数量", "扣分", "日期", "依据", "说明"][: len(head)])
        for r in rows:
            out = []
            for i, v in enumerate(r):
                if head[i] in ("count", "points") and v:
                    out.append(float(v) if "." in v else int(v))
                else:
                    out.append(v)
            ws.append(out)
    wb.save(book)
size = os.path.getsize(book)
nrows = sum(1 for _ in open(os.path.join(gen, "records.csv"), encoding="utf-8")) - 1
print(f"workbook: {nrows} rows, {size / 1e6:.1f} MB")


def timed(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{cmd} failed: {p.stderr[:2000]}")
    return dt, p.stdout


def pandas_time(engine):
    code = ("import pandas as pd, time, sys; t = time.perf_counter(); "
            f"df = pd.read_excel(sys.argv[1], engine='{engine}'); "
            "print(time.perf_counter() - t, len(df))")
    _, out = timed([sys.executable, "-c", code, book])
    secs, n = out.split()
    assert int(n) == nrows, (n, nrows)
    return float(secs)


times = {"lvzhi": [], "openpyxl": [], "calamine": []}
units = os.path.join(gen, "units.csv")
for _ in range(runs):
    times["lvzhi"].append(timed([LVZHI, "score", "--units", units, "--records", book, "--json"])[0])
    times["openpyxl"].append(pandas_time("openpyxl"))
    times["calamine"].append(pandas_time("calamine"))
med = {k: statistics.median(v) for k, v in times.items()}
for k, v in times.items():
    print(f"{k:>9}: median {med[k]:.3f} s  runs {' '.join(f'{x:.3f}' for x in v)}")
print(f"lvzhi vs pandas+openpyxl: {med['openpyxl'] / med['lvzhi']:.1f}x faster")
print(f"lvzhi vs pandas+calamine: {med['calamine'] / med['lvzhi']:.1f}x faster")

data = os.path.join(work, "store")
subprocess.run(["rm", "-rf", data], check=True)
timed([LVZHI, "import", "units", units, "--year", "2022", "--data", data])
dt, _ = timed([LVZHI, "import", "records", book, "--year", "2022", "--data", data])
print(f"import of {nrows} rows into a fresh SQLite store (audit included): {dt:.2f} s")
out = os.path.join(work, "ledger.xlsx")
if os.path.exists(out):
    os.remove(out)
dt, _ = timed([LVZHI, "export", "ledger", "--year", "2022", "--data", data, "--out", out])
print(f"export of the full ledger ({nrows} rows): {dt:.2f} s, {os.path.getsize(out) / 1e6:.1f} MB")
