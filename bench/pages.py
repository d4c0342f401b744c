"""Server-side render time of every page of the sample year (BENCHMARKS.md).

Usage: python3 bench/pages.py PORT TOKEN [N]
Requests each page N times over one keep-alive connection and prints the median and the worst
time from request to last byte. On loopback this is the server's render time plus a few tens of
microseconds of transport.
"""
import http.client
import statistics
import sys
import time
import urllib.parse

port, token = int(sys.argv[1]), sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 50
unit = urllib.parse.quote("发改委")
group = urllib.parse.quote("第一督导组")
pages = [
    ("总览", "/overview"),
    ("单位得分说明（发改委）", f"/units/{unit}"),
    ("扣分记录（第 1 页）", "/records"),
    ("扣分记录（按扣分排序，第 20 页）", "/records?sort=-points&page=20"),
    ("扣分记录（单位筛选）", f"/records?unit={unit}"),
    ("录入扣分", "/records/new"),
    ("记录详情", "/records/1"),
    ("督导组打分", f"/assess?group={group}"),
    ("指标数据", "/metrics"),
    ("细则", "/rubric"),
    ("审计日志", "/audit"),
    ("用户管理", "/users"),
    ("登录", "/login"),
]
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Authorization": f"Bearer {token}"}
print(f"{'page':<34} {'bytes':>8} {'median ms':>10} {'max ms':>8}")
worst = 0.0
for name, path in pages:
    times = []
    size = 0
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status == 200, (path, r.status, body[:200])
        size = len(body)
    med = statistics.median(times)
    worst = max(worst, med)
    print(f"{name:<30} {size:>8} {med:>10.2f} {max(times):>8.2f}")
print(f"slowest median: {worst:.2f} ms")
