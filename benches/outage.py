#!/usr/bin/env python3
"""Outage probe: six threads read a running service (organisation, rounds, divergence, completion)
while every PostgreSQL session of its database is terminated every 200 ms (plus psql's own time);
prints the count of responses by (status, content type). Every answer should be 200 or a 503
problem document; none 500.

    usage: benches/outage.py BASE_URL TOKEN DATABASE SECONDS
    e.g.   benches/outage.py http://127.0.0.1:18090 "$(dma token --role analyst)" dma_probe 40
"""
import json, subprocess, sys, threading, time, urllib.request, collections
base, token, db = sys.argv[1], sys.argv[2], sys.argv[3]
stop = time.time() + float(sys.argv[4])
counts = collections.Counter()
lock = threading.Lock()
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": "Bearer " + token, "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("content-type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", "")
def worker(i):
    paths = ["/api/v1/organisations/RA7", "/api/v1/rounds", "/api/v1/rounds/2025-26/divergence?pillar=well_led",
             "/api/v1/rounds/2025-26/completion"]
    n = 0
    while time.time() < stop:
        st, ct = call("GET", paths[n % len(paths)])
        with lock:
            counts[(st, ct.split(";")[0])] += 1
        n += 1
def killer():
    while time.time() < stop:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAtc",
            f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()"],
            capture_output=True)
        with lock:
            counts["kills"] += 1
        time.sleep(0.2)
ts = [threading.Thread(target=worker, args=(i,)) for i in range(6)] + [threading.Thread(target=killer)]
[t.start() for t in ts]; [t.join() for t in ts]
print(dict(counts))
