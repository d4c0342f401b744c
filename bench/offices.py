"""A province's deployment (BENCHMARKS.md, issue 19): 1 province, 13 cities, 100 counties and 1,000
towns (1,114 offices); every office runs a departments assessment (the 2022 rubric, 41 units) and
every office above the towns a second one of its subordinate governments, each year with its
records imported (about 820 each: about a million over 1,228 periods) and published, but one
county's departments year left open for writes. Then a release `lvzhi serve`: the first results
of a period after start-up, a record write, the province leader's period list and oversight page,
and the server's memory once it holds every period (each period's results asked once). A
deployment already built in DATA is reused (to measure again without building it anew).

Usage: python3 bench/offices.py BIN DATA_ARGS WORK [CITIES COUNTIES TOWNS]
  BIN        the release `lvzhi` binary
  DATA_ARGS  `--data DIR` or `--data DIR --database-url URL` (one string, split on spaces)
  WORK       a folder with bench.toml (the rubric) and records.csv (one year's records)

Every figure is wall-clock time on this machine; memory is the server's resident set (VmRSS).
Latencies are medians of sequential requests over one keep-alive connection. Nothing here is a
test: it prints figures for BENCHMARKS.md.
"""
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time

BIN, DATA, WORK = sys.argv[1], sys.argv[2].split(), sys.argv[3]
CITIES, COUNTIES, TOWNS = (int(x) for x in (sys.argv[4:7] or (13, 100, 1000)))
PORT = 18193
ENV = dict(os.environ, LVZHI_ADMIN_PASSWORD="Bench-Pass-2022", RUST_LOG="warn", USER="bench")


def run(*args, stdin=None):
    p = subprocess.run([BIN, *args, *DATA], env=ENV, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{args}: {p.stderr[-2000:]}")
    return p.stdout


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def row(name, value, unit=""):
    print(f"{name:<58} {value:>10} {unit}", flush=True)


# The tree: the province (root), its cities, counties spread over the cities, towns over counties.
cities = [f"c{i:02d}" for i in range(CITIES)]
counties = [(f"x{i:03d}", cities[i % CITIES]) for i in range(COUNTIES)]
towns = [(f"t{i:04d}", counties[i % COUNTIES][0]) for i in range(TOWNS)]
# A deployment already built in DATA (a second run, to measure again) is reused as it is.
built = json.loads(run("office", "list", "--json"))
if len(built) > 1:
    print(f"reusing the deployment in DATA ({len(built):,} offices)", flush=True)
    keep_open = f"{counties[0][0]}.departments.2022"
else:
    t0 = time.perf_counter()
    run("office", "rename", "root", "--name", "省安委办")
    for code in cities:
        run("office", "add", code, "--name", f"{code}市安委办", "--parent", "root", "--level", "市")
    for code, parent in counties:
        run("office", "add", code, "--name", f"{code}县安委办", "--parent", parent, "--level", "县")
    for code, parent in towns:
        run("office", "add", code, "--name", f"{code}镇安委办", "--parent", parent, "--level", "镇")
    row(f"offices added ({1 + CITIES + COUNTIES + TOWNS:,}, one command each)", f"{time.perf_counter() - t0:.0f}", "s")

    # The periods: departments everywhere, subordinates above the towns.
    keep_open = f"{counties[0][0]}.departments.2022"
    plan = [("root", "departments"), ("root", "subordinates")]
    plan += [(c, a) for c in cities for a in ("departments", "subordinates")]
    plan += [(c, a) for c, _ in counties for a in ("departments", "subordinates")]
    plan += [(t, "departments") for t, _ in towns]
    t0 = time.perf_counter()
    for office, assessment in plan:
        key = f"{office}.{assessment}.2022"
        run("period", "open", f"{WORK}/bench.toml", "--office", office, "--assessment", assessment, "--yes")
        run("import", "records", f"{WORK}/records.csv", "--period", key)
        if key != keep_open:
            run("period", "publish", "--period", key, "--reason", "压测发布", "--acknowledge")
    records = sum(1 for _ in open(f"{WORK}/records.csv", encoding="utf-8")) - 1
    row(f"periods opened, imported, published ({len(plan):,})", f"{time.perf_counter() - t0:.0f}", "s")
    row("  records over all periods", f"{records * len(plan):,}")

users = run("user", "list")
if "sheng-leader" not in users:
    run("user", "add", "sheng-leader", "--role", "leader", stdin="Bench-Leader-Pass-2022\n")
    run("user", "add", "county-admin", "--role", "admin", "--office", counties[0][0], stdin="Bench-County-Pass-2022\n")
leader = run("token", "create", "--user", "sheng-leader").strip()
admin = run("token", "create", "--user", "county-admin").strip()


def own_password(user, given, own):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    c.request("POST", "/api/v1/session", json.dumps({"username": user, "password": given}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    cookie = r.getheader("Set-Cookie", "").split(";")[0]
    r.read()
    c.request("POST", "/api/v1/session/password",
              json.dumps({"old_password": given, "new_password": own}),
              {"Content-Type": "application/json", "Cookie": cookie, "Origin": f"http://127.0.0.1:{PORT}"})
    r = c.getresponse()
    r.read()


server = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{PORT}", *DATA], env=ENV,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.05)
    own_password("sheng-leader", "Bench-Leader-Pass-2022", "Bench-Leader-Own-2022")
    own_password("county-admin", "Bench-County-Pass-2022", "Bench-County-Own-2022")
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)

    def call(method, path, token, body=None):
        t0 = time.perf_counter()
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        ms = (time.perf_counter() - t0) * 1000
        assert r.status < 300, (method, path, r.status, data[:300])
        return ms, data

    rng = random.Random(7)
    some = f"{rng.choice(towns)[0]}.departments.2022"
    first, _ = call("GET", f"/api/v1/periods/{some}/results", leader)
    row("first results of a period after start-up", f"{first:.0f}", "ms")
    row("server memory after start-up and one period (VmRSS)", f"{rss_mb(server.pid):.0f}", "MB")
    lat = []
    for i in range(200):
        ms, _ = call("POST", f"/api/v1/periods/{keep_open}/records", admin, {
            "unit": "发改委", "rule": "4.2", "date": "2022-06-01", "source": "压测", "note": f"第{i}条"})
        lat.append(ms)
    row("record write (a county's open year), median of 200", f"{statistics.median(lat):.2f}", "ms")
    row("  p90 / max", f"{sorted(lat)[179]:.1f} / {max(lat):.1f}", "ms")
    lists = [call("GET", "/api/v1/periods", leader)[0] for _ in range(5)]
    n = len(json.loads(call("GET", "/api/v1/periods", leader)[1])["periods"])
    row(f"province leader's period list ({n:,} periods), median of 5", f"{statistics.median(lists):.0f}", "ms")
    cold, _ = call("GET", "/oversight?year=2022", leader)
    row("oversight page, first after start-up", f"{cold:.0f}", "ms")
    warm = [call("GET", "/oversight?year=2022", leader)[0] for _ in range(5)]
    row("oversight page, again, median of 5", f"{statistics.median(warm):.0f}", "ms")
    # Every period into the server's memory: each one's results asked once.
    keys = [p["key"] for p in json.loads(call("GET", "/api/v1/periods", leader)[1])["periods"]]
    keys.append(keep_open)
    t0 = time.perf_counter()
    firsts = [call("GET", f"/api/v1/periods/{k}/results", admin if k == keep_open else leader)[0] for k in keys]
    row(f"every period's results asked once ({len(keys):,}), in all", f"{time.perf_counter() - t0:.0f}", "s")
    row("  first results of a period, median / max", f"{statistics.median(firsts):.0f} / {max(firsts):.0f}", "ms")
    row("server memory holding every period (VmRSS)", f"{rss_mb(server.pid):.0f}", "MB")
finally:
    server.terminate()
    server.wait()
