"""Lifecycle timings over HTTP on a large year (BENCHMARKS.md, issue 7).

Usage: python3 bench/lifecycle.py PORT TOKEN  (scripts/bench-lifecycle sets everything up).
The peer of every read is `GET …/results` (the cached provisional result, served as stored bytes)
in the same run; reads are medians of N requests over one keep-alive connection.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse

port, token = int(sys.argv[1]), sys.argv[2]
N = 7
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
H = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
BASE = "/api/v1/periods/2022"


def call(method, path, body=None):
    t0 = time.perf_counter()
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=H)
    r = conn.getresponse()
    data = r.read()
    ms = (time.perf_counter() - t0) * 1000
    assert r.status < 300, (method, path, r.status, data[:300])
    return ms, data


def median(method, path, body=None):
    return statistics.median(call(method, path, body)[0] for _ in range(N))


total = json.loads(call("GET", f"{BASE}/records?limit=1")[1])["total"]
print(f"records: {total}")
peer = median("GET", f"{BASE}/results")
print(f"{'GET results (peer, cached)':<44} {peer:>9.2f} ms")
t = call("POST", f"{BASE}/records/confirm", {"filter": {}})[0]
print(f"{'confirm all pending (one request, filter)':<44} {t:>9.0f} ms  ({total / t * 1000:,.0f} records/s)")
first = call("GET", f"{BASE}/results?basis=confirmed")[0]
print(f"{'GET results?basis=confirmed, first':<44} {first:>9.2f} ms")
rows = [
    ("GET results?basis=confirmed, cached", "GET", f"{BASE}/results?basis=confirmed", None),
    ("GET results?as_of=2022-06-30", "GET", f"{BASE}/results?as_of=2022-06-30", None),
    ("GET units/发改委/trend (12 month-ends)", "GET", f"{BASE}/units/{urllib.parse.quote('发改委')}/trend", None),
    ("POST what-if (one hypothetical record)", "POST", f"{BASE}/what-if", {"records": [{"unit": "发改委", "rule": "2.5", "count": 1}]}),
    ("GET checklist", "GET", f"{BASE}/checklist", None),
]
for name, m, p, b in rows:
    ms = median(m, p, b)
    print(f"{name:<44} {ms:>9.2f} ms  ({ms / peer:,.0f} × peer)")
ms, data = call("POST", f"{BASE}/publish", {"reason": "bench", "acknowledge_incomplete": True})
print(f"{'POST publish (snapshot, hashes, audit)':<44} {ms:>9.0f} ms")
ms, body = call("GET", f"{BASE}/publications/1")
print(f"{'GET publications/1':<44} {ms:>9.2f} ms  ({len(body) / 1e6:.1f} MB snapshot)")
