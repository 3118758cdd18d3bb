#!/usr/bin/env python3
"""Save and submit latency beside `/health/live`, side by side on one keep-alive connection.

For each organisation given: copy its return of SOURCE_ROUND into the open round BENCH_ROUND
(one PUT of every answer, not timed), then time, interleaved: three `GET /health/live`, one
one-answer save (`PUT …/answers`) and one submit (`POST …/submit`) of the whole return. Prints
the p50 and p90 of each and the ratios of the p50s (the machine is shared: ratios, not times).

usage: writes.py HOST:PORT ADMIN_TOKEN SUBMITTER_TOKEN SOURCE_ROUND BENCH_ROUND ODS...
"""
import http.client
import json
import statistics
import sys
import time


def main():
    hostport, admin, submitter, source, bench, *orgs = sys.argv[1:]
    host, port = hostport.split(":")
    conn = http.client.HTTPConnection(host, int(port))

    def call(method, path, token=None, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        t0 = time.perf_counter()
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        r = conn.getresponse()
        data = r.read()
        elapsed = time.perf_counter() - t0
        if r.status >= 300:
            raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
        return elapsed, data

    live, save, submit = [], [], []
    for ods in orgs:
        _, raw = call("GET", f"/api/v1/rounds/{source}/assessments/{ods}", admin)
        answers = json.loads(raw)["answers"]
        body = {"answers": [{"question": q, "value": a["value"]} for q, a in answers.items()]}
        call("PUT", f"/api/v1/rounds/{bench}/assessments/{ods}/answers", submitter, body)
        first = next(iter(answers.items()))
        one = {"answers": [{"question": first[0], "value": first[1]["value"], "evidence": f"Board paper {ods}"}]}
        for _ in range(3):
            live.append(call("GET", "/health/live")[0])
        save.append(call("PUT", f"/api/v1/rounds/{bench}/assessments/{ods}/answers", submitter, one)[0])
        submit.append(call("POST", f"/api/v1/rounds/{bench}/assessments/{ods}/submit", submitter)[0])

    def p(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000

    lp, sp, bp = statistics.median(live) * 1000, statistics.median(save) * 1000, statistics.median(submit) * 1000
    print(f"live_p50_ms={lp:.3f} live_p90_ms={p(live, .9):.3f} n={len(live)}")
    print(f"save_p50_ms={sp:.3f} save_p90_ms={p(save, .9):.3f} n={len(save)} ratio={sp / lp:.1f}")
    print(f"submit_p50_ms={bp:.3f} submit_p90_ms={p(submit, .9):.3f} n={len(submit)} ratio={bp / lp:.1f}")


if __name__ == "__main__":
    main()
