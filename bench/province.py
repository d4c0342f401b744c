"""The service on a province-size year (BENCHMARKS.md, issue 11): what a write, a cold start and an
import cost when the period holds about a million records.

Usage: python3 bench/province.py BIN DATA_ARGS WORK   (scripts/bench-province sets it up)
  BIN        the release `lvzhi` binary
  DATA_ARGS  `--data DIR` or `--database-url URL` (one string, split on spaces)
  WORK       a folder with units.csv, records.csv, assessments.csv, metrics.csv, province.toml

Every figure is wall-clock time on this machine; memory is the server's resident set (VmRSS) and
the importing process's peak (ru_maxrss of the child). Writes are medians of sequential requests
over one keep-alive connection. Nothing here is a test: it prints figures for BENCHMARKS.md.
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

BIN, DATA, WORK = sys.argv[1], sys.argv[2].split(), sys.argv[3]
PORT = 18191
ENV = dict(os.environ, LVZHI_ADMIN_PASSWORD="Bench-Pass-2022", RUST_LOG="warn")


def run(*args, check=True):
    """Runs the binary; answers (seconds, peak RSS in MB of this child alone, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([BIN, *args, *DATA], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = []
    reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
    reader.start()
    out = p.stdout.read()
    reader.join()
    # Reaped here with wait4: the child's own peak, not the largest of all children so far.
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    dt = time.perf_counter() - t0
    if check and p.returncode != 0:
        sys.exit(f"{args}: {err[0].decode(errors='replace')[-2000:]}")
    return dt, usage.ru_maxrss / 1024, out.decode()


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def row(name, value, unit=""):
    print(f"{name:<52} {value:>10} {unit}")


print(f"data: {' '.join(DATA)}")
run("period", "open", f"{WORK}/province.toml", "--yes")
dt, _, _ = run("import", "units", f"{WORK}/units.csv", "--year", "2022")
row("import units (tags of 1,025 units)", f"{dt:.2f}", "s")
dt, peak, out = run("import", "records", f"{WORK}/records.csv", "--year", "2022")
row("import records (lvzhi import, CLI)", f"{dt:.2f}", "s")
row("  peak memory of the import", f"{peak:.0f}", "MB")
dt, _, _ = run("import", "metrics", f"{WORK}/metrics.csv", "--year", "2022")
row("import metrics (CLI)", f"{dt:.2f}", "s")

# The service, cold.
server = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{PORT}", *DATA], env=ENV,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.05)
    _, _, token = run("token", "create", "--user", "admin")
    token = token.strip()
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)
    H = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    BASE = "/api/v1/periods/2022"

    def call(method, path, body=None, headers=H, raw=None):
        t0 = time.perf_counter()
        conn.request(method, path, body=raw if raw is not None else (None if body is None else json.dumps(body)), headers=headers)
        r = conn.getresponse()
        data = r.read()
        ms = (time.perf_counter() - t0) * 1000
        assert r.status < 300, (method, path, r.status, data[:300])
        return ms, data

    first, body = call("GET", f"{BASE}/results")
    row("first results after start-up (GET …/results)", f"{first / 1000:.2f}", "s")
    row("  records in the period", f"{json.loads(call('GET', f'{BASE}/records?limit=1')[1])['total']:,}")
    row("server memory holding the period (VmRSS)", f"{rss_mb(server.pid):.0f}", "MB")
    peer = statistics.median(call("GET", f"{BASE}/results")[0] for _ in range(9))
    row("GET …/results, cached (peer)", f"{peer:.2f}", "ms")
    units = [r["unit"] for r in json.loads(body)["results"]]
    lat = []
    for i in range(200):
        ms, _ = call("POST", f"{BASE}/records", {
            "unit": units[i * 7 % len(units)], "rule": "4.2", "date": "2022-06-01",
            "source": "压测", "note": f"第{i}条"})
        lat.append(ms)
    row("record write, median of 200 one after another", f"{statistics.median(lat):.2f}", "ms")
    row("  p90 / max", f"{sorted(lat)[179]:.1f} / {max(lat):.1f}", "ms")
    row("  a read after the writes (GET …/results)", f"{call('GET', f'{BASE}/results')[0]:.1f}", "ms")
    row("server memory after the writes (VmRSS)", f"{rss_mb(server.pid):.0f}", "MB")
    # One score of every unit (1,025 rows: each unit's first), through the API into the running
    # service.
    with open(f"{WORK}/assessments.csv", encoding="utf-8") as f:
        lines = f.read().splitlines()
    seen, one = set(), [lines[0]]
    for line in lines[1:]:
        unit = line.split(",")[0]
        if unit not in seen:
            seen.add(unit)
            one.append(line)
    one += [f"{u},3.4.1,第一督导组,4.5" for u in units if u not in seen]
    boundary = uuid.uuid4().hex
    payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scores.csv\"\r\n"
               f"Content-Type: text/csv\r\n\r\n" + "\n".join(one) + f"\r\n--{boundary}--\r\n").encode()
    ms, _ = call("POST", f"{BASE}/import/assessments", headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"}, raw=payload)
    row(f"import of {len(one) - 1:,} 督导组 scores (API, service running)", f"{ms / 1000:.2f}", "s")
    row("server memory after the import (VmRSS)", f"{rss_mb(server.pid):.0f}", "MB")
    first_page = call("GET", f"{BASE}/records?limit=100&offset=500000")[0]
    row("GET …/records?limit=100&offset=500000", f"{first_page:.1f}", "ms")
    sheet = call("GET", f"{BASE}/units/{urllib.parse.quote(units[0])}/sheet")[0]
    row("GET …/units/{unit}/sheet (~1,000 records)", f"{sheet:.1f}", "ms")
finally:
    server.terminate()
    server.wait()
# The same scores again from the command line: a process that loads the period cold first.
path = f"{WORK}/scores-one-group.csv"
with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(one) + "\n")
dt, peak, _ = run("import", "assessments", path, "--year", "2022")
row(f"import of {len(one) - 1:,} scores (CLI: cold load + import)", f"{dt:.2f}", "s")
row("  peak memory of that import", f"{peak:.0f}", "MB")
# Issue 14: the whole audit check of a province year (the chain, the checkpoints the service wrote,
# and the replay of a million records, their appeals, attachments, publications and accounts
# against the trail), as `lvzhi audit verify` runs it; `audit head` (open the store, read one row)
# is the peer that separates the check from starting a process on this store.
dt, peak, out = run("audit", "verify")
assert "审计链完整，且与检查点和各表相符" in out, out[-2000:]
row("audit verify: chain, checkpoints, replay of the tables", f"{dt:.2f}", "s")
row("  peak memory of audit verify", f"{peak:.0f}", "MB")
head, _, _ = run("audit", "head")
row("  audit head (peer: open the store, read one row)", f"{head:.2f}", "s")
