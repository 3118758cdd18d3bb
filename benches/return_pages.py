#!/usr/bin/env python3
"""Server-side time of a trust's return in the browser, side by side with /health/live and the API
requests that read and write the same return, on the demo data.

    DMA_BIN=target/release/dma python3 benches/return_pages.py [requests per row, default 60]

Starts the service on a fresh SQLite database (or DATABASE_URL when set), opens a round on the
seeded framework, signs a submitter for RBD in with a `dma login-link`, warms each request once,
then times N sequential requests per row from this process over loopback (median and 90th
percentile of the time to the whole body). Writes alternate one answer between yes and no: the
form's save (as the page's autosave sends it, the whole pillar page's fields) against the API's
`PUT …/answers` of the same answer. The published demo round's overview includes "How we compare".
Only the standard library is used."""
import html
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 else 60
BIN = os.environ.get("DMA_BIN", "target/release/dma")
ODS = "RBD"
ROUND = "2026-27"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(base, path, headers=None, data=None, method=None):
    req = urllib.request.Request(base + path, headers=headers or {}, data=data, method=method)
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req) as res:
            body = res.read()
            status = res.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return (time.perf_counter() - t0) * 1000, status, body


def fields(page: str):
    """The fields the page's form posts: hidden inputs, checked radios, text areas."""
    form = re.search(r'(?s)<form id="return-form".*?</form>', page).group(0)
    out = []
    for m in re.finditer(r"<input ([^>]*)>", form):
        a = dict(re.findall(r'([a-z-]+)="([^"]*)"', m.group(1)))
        if a.get("type") == "hidden" or (a.get("type") in ("radio", "checkbox") and " checked" in m.group(1)):
            out.append((a["name"], html.unescape(a.get("value", ""))))
    for m in re.finditer(r'(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form):
        out.append((m.group(1), html.unescape(m.group(2))))
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="dma-return-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        DMA_JWT_SECRET="return-bench-secret-return-bench-0123",
        DMA_DATA_DIR=tmp,
        DMA_BIND=f"127.0.0.1:{port}",
        DMA_RATE_LIMIT_PER_SECOND="0",
        DMA_ANON_RATE_LIMIT_PER_SECOND="0",
        RUST_LOG="warn",
    )
    env.setdefault("DATABASE_URL", f"sqlite://{tmp}/dma.db")
    cli = lambda *a: subprocess.check_output([BIN, *a], env=env, stderr=subprocess.DEVNULL).decode().strip()
    server = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/health/live", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        admin = {"Authorization": f"Bearer {cli('token', '--role', 'admin')}", "Content-Type": "application/json"}
        body = json.dumps({"key": ROUND, "title": ROUND, "framework": "wgll-2025",
                           "opens_at": "2026-12-01T00:00:00Z", "closes_at": "2027-03-31T00:00:00Z"}).encode()
        call(base, "/api/v1/rounds", admin, body, "POST")
        call(base, f"/api/v1/rounds/{ROUND}/open", admin, b"", "POST")
        bearer = {"Authorization": f"Bearer {cli('token', '--role', 'submitter', '--org', ODS)}"}
        token = cli("login-link", "--role", "submitter", "--org", ODS).rsplit("/", 1)[1]
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(urllib.request.Request(base + "/app/login", data=f"token={token}".encode(), method="POST"))
        except urllib.error.HTTPError as e:
            cookie = {"Cookie": e.headers["set-cookie"].split(";")[0]}
        pillar = f"/app/returns/{ROUND}/{ODS}/well_led"
        reads = [
            ("/health/live", {}),
            (f"/api/v1/rounds/{ROUND}/assessments/{ODS}", bearer),
            (f"/api/v1/rounds/{ROUND}/assessments/{ODS}/questionnaire", bearer),
            (f"/app/returns/{ROUND}/{ODS}", cookie),
            (pillar, cookie),
            (f"/app/returns/{ROUND}/{ODS}/submit", cookie),
            (f"/app/returns/2025-26/{ODS}", cookie),
        ]
        print(f"{N} sequential requests per row, after one warm-up; binary {BIN}; database {env['DATABASE_URL'].split(':')[0]}")
        print(f"{'request':62} {'median ms':>9} {'p90 ms':>7} {'bytes':>8}")

        def row(name, times, size):
            times.sort()
            print(f"{name:62} {statistics.median(times):9.2f} {times[int(0.9 * (len(times) - 1))]:7.2f} {size:8d}")

        for path, headers in reads:
            call(base, path, headers)
            times = []
            for _ in range(N):
                t, status, b = call(base, path, headers)
                assert status == 200, (path, status)
                times.append(t)
            row("GET " + path, times, len(b))

        # Writes: the form's autosave of the whole page against the API's PUT of the same answer.
        times, flip = [], False
        for i in range(N + 1):
            _, _, page = call(base, pillar, cookie)
            form = [(k, v) for k, v in fields(page.decode()) if k != "answer.WL-STR-2a"]
            flip = not flip
            form.append(("answer.WL-STR-2a", "yes" if flip else "no"))
            data = urllib.parse.urlencode(form).encode()
            t, status, b = call(base, pillar, {**cookie, "X-Requested-With": "fetch",
                                               "Content-Type": "application/x-www-form-urlencoded"}, data, "POST")
            assert status == 200 and json.loads(b)["outcome"] == "saved", (status, b[:300])
            if i:
                times.append(t)
        row(f"POST {pillar} (autosave, {len(form)} fields)", times, len(b))
        times = []
        for i in range(N + 1):
            _, _, cur = call(base, f"/api/v1/rounds/{ROUND}/assessments/{ODS}", bearer)
            version = json.loads(cur)["version"]
            flip = not flip
            data = json.dumps({"answers": [{"question": "WL-STR-2a", "value": flip}]}).encode()
            t, status, b = call(base, f"/api/v1/rounds/{ROUND}/assessments/{ODS}/answers",
                                {**bearer, "Content-Type": "application/json", "If-Match": f'"{version}"'}, data, "PUT")
            assert status == 200, (status, b[:300])
            if i:
                times.append(t)
        row(f"PUT /api/v1/rounds/{ROUND}/assessments/{ODS}/answers (one answer)", times, len(b))
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
