"""Several `lvzhi serve` instances on one PostgreSQL (BENCHMARKS.md, issue 20): what a write costs, what
the other instance's next results read costs, and whether that read shows the write.

Usage: python3 bench/instances.py BIN URL DATA WRITES N [N …]
  BIN     the release `lvzhi` binary
  URL     a PostgreSQL database holding one open period 2022 (scripts/bench-instances sets it up)
  DATA    the data folder every instance shares (the office key lives there)
  WRITES  the number of writes per run
  N       a number of instances to run at once (each N is one run on the same database)

Each write flips something the results show: a veto record (rule 1.3) on a unit without one, then
its revocation, so that the read that follows must show `veto` true, then false again. Write k goes to
instance k mod N and the read after it to instance (k + 1) mod N — never the one that wrote. A read
that does not show its write is a miss (there must be none). At the end every instance's results are
compared byte for byte. Timings are wall-clock per request over one keep-alive connection per
instance; nothing here is a test: it prints figures for BENCHMARKS.md.
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

BIN, URL, DATA, WRITES = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
COUNTS = [int(n) for n in sys.argv[5:]] or [2]
BASE_PORT = 18291
ENV = dict(os.environ, LVZHI_ADMIN_PASSWORD="Bench-Pass-2022", RUST_LOG="warn")
DB = ["--database-url", URL, "--data", DATA]


def row(name, value, unit=""):
    print(f"{name:<60} {value:>12} {unit}", flush=True)


def start(n):
    """N instances on ports BASE_PORT…; answers their processes once each answers /healthz."""
    procs = []
    for i in range(n):
        procs.append(subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{BASE_PORT + i}", *DB],
                                      env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for i in range(n):
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", BASE_PORT + i, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit(f"instance {i} did not start")
    return procs


class Client:
    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        t0 = time.perf_counter()
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.h)
        r = self.conn.getresponse()
        data = r.read()
        ms = (time.perf_counter() - t0) * 1000
        assert r.status < 300, (method, path, r.status, data[:300])
        return ms, data


def vetoes(data):
    return {r["unit"]: r["veto"] for r in json.loads(data)["results"]}


def run(n, token):
    procs = start(n)
    try:
        clients = [Client(BASE_PORT + i, token) for i in range(n)]
        base = "/api/v1/periods/2022"
        firsts = [c.call("GET", f"{base}/results")[0] for c in clients]
        row(f"[{n} instances] first results of each instance (max)", f"{max(firsts):.1f}", "ms")
        cached = statistics.median(clients[0].call("GET", f"{base}/results")[0] for _ in range(21))
        row(f"[{n}] results read, nothing written (peer)", f"{cached:.2f}", "ms")
        clean = [u for u, v in vetoes(clients[0].call("GET", f"{base}/results")[1]).items() if not v]
        writes, reads, misses, open_record = [], [], 0, None
        for k in range(WRITES):
            writer, reader = clients[k % n], clients[(k + 1) % n]
            unit = clean[(k // 2) % len(clean)]
            if open_record is None:
                ms, body = writer.call("POST", f"{base}/records", {
                    "unit": unit, "rule": "1.3", "date": "2022-06-01", "source": "压测", "note": f"第{k}次"})
                open_record, want = json.loads(body)["record"]["id"], True
            else:
                ms, _ = writer.call("POST", f"{base}/records/{open_record}/revoke", {"reason": "压测撤销"})
                open_record, want = None, False
            writes.append(ms)
            ms, body = reader.call("GET", f"{base}/results")
            reads.append(ms)
            misses += vetoes(body)[unit] != want
        q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(len(xs) * p))]
        row(f"[{n}] write p50 / p90 ({WRITES} writes, spread over the instances)",
            f"{statistics.median(writes):.2f} / {q(writes, 0.9):.2f}", "ms")
        row(f"[{n}] the other instance's next results read p50 / p90",
            f"{statistics.median(reads):.2f} / {q(reads, 0.9):.2f}", "ms")
        row(f"[{n}] read-your-writes misses", f"{misses}", f"of {WRITES}")
        finals = [c.call("GET", f"{base}/results")[1] for c in clients]
        row(f"[{n}] results equal on every instance at the end", "yes" if len(set(finals)) == 1 else "NO")
        return misses, len(set(finals)) == 1
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


def own_password(port):
    """The first admin's password is to be changed before a token may be used: change it (once)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/api/v1/session", json.dumps({"username": "admin", "password": "Bench-Pass-2022"}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    cookie = r.getheader("Set-Cookie", "").split(";")[0]
    r.read()
    if r.status >= 300:
        return  # changed by an earlier run
    c.request("POST", "/api/v1/session/password",
              json.dumps({"old_password": "Bench-Pass-2022", "new_password": "Bench-Own-Pass-2022"}),
              {"Content-Type": "application/json", "Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"})
    r = c.getresponse()
    assert r.status < 300, r.read()[:300]
    r.read()


procs = start(1)
own_password(BASE_PORT)
for p in procs:
    p.terminate()
    p.wait()
token = subprocess.run([BIN, "token", "create", "--user", "admin", *DB], env=ENV, check=True,
                       capture_output=True, text=True).stdout.strip()
bad = False
for n in COUNTS:
    misses, equal = run(n, token)
    bad |= misses > 0 or not equal
sys.exit(1 if bad else 0)
