"""Server-side render time of every page of the sample year (BENCHMARKS.md).

Usage: python3 bench/pages.py PORT TOKEN [N [PEER_PORT PEER_TOKEN]]
Requests each page N times over one keep-alive connection and prints the median and the worst
time from request to last byte. On loopback this is the server's render time plus a few tens of
microseconds of transport. With a peer (another build of lvzhi serving the same sample year), the
two are requested in turn, request by request, and the ratio of their medians is printed: the
machine's noise then falls on both alike.
"""
import http.client
import statistics
import sys
import time
import urllib.parse

port, token = int(sys.argv[1]), sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 50
peer = (int(sys.argv[4]), sys.argv[5]) if len(sys.argv) > 5 else None
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
servers = [(http.client.HTTPConnection("127.0.0.1", port), {"Authorization": f"Bearer {token}"})]
if peer:
    servers.append((http.client.HTTPConnection("127.0.0.1", peer[0]), {"Authorization": f"Bearer {peer[1]}"}))


def get(conn, headers, path):
    t0 = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, (path, r.status, body[:200])
    return (time.perf_counter() - t0) * 1000, len(body)


head = f"{'page':<34} {'bytes':>8} {'median ms':>10} {'max ms':>8}"
if peer:
    head += f" {'peer median':>12} {'ratio':>6}"
print(head)
worst = 0.0
ratios = []
for name, path in pages:
    times = [[] for _ in servers]
    size = 0
    for _ in range(n):
        for i, (conn, headers) in enumerate(servers):
            t, b = get(conn, headers, path)
            times[i].append(t)
            if i == 0:
                size = b
    med = statistics.median(times[0])
    worst = max(worst, med)
    line = f"{name:<30} {size:>8} {med:>10.2f} {max(times[0]):>8.2f}"
    if peer:
        pm = statistics.median(times[1])
        ratios.append(med / pm)
        line += f" {pm:>12.2f} {med / pm:>6.2f}"
    print(line)
print(f"slowest median: {worst:.2f} ms")
if ratios:
    print(f"median ratio this build / peer: {statistics.median(ratios):.2f} (worst page {max(ratios):.2f})")
