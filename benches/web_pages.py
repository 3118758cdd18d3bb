#!/usr/bin/env python3
"""Server-side time and transferred size of the dashboard's pages, side by side with /health/live
and the API request that reads the same rows, on the demo data (release binary).

    DMA_BIN=target/release/dma python3 benches/web_pages.py [requests per page, default 60]

Starts the service on a fresh SQLite database (or DATABASE_URL when set), signs in with a
`dma login-link`, warms each page once (the round's analysis is computed once and kept), then
times N sequential requests per page from this process over loopback and prints the median and
90th percentile of the time to the whole body, and the bytes sent with `Accept-Encoding: gzip, br`
(what a browser receives) and without. Only the standard library is used."""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 else 60
BIN = os.environ.get("DMA_BIN", "target/release/dma")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main():
    tmp = tempfile.mkdtemp(prefix="dma-web-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        DMA_JWT_SECRET="web-bench-secret-web-bench-secret-0123",
        DMA_DATA_DIR=tmp,
        DMA_BIND=f"127.0.0.1:{port}",
        DMA_RATE_LIMIT_PER_SECOND="0",
        DMA_ANON_RATE_LIMIT_PER_SECOND="0",
        RUST_LOG="warn",
    )
    env.setdefault("DATABASE_URL", f"sqlite://{tmp}/dma.db")
    server = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/health/live", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        link = subprocess.check_output([BIN, "login-link", "--role", "analyst"], env=env, stderr=subprocess.DEVNULL).decode().strip()
        token = link.rsplit("/", 1)[1]
        opener = urllib.request.build_opener(NoRedirect)
        req = urllib.request.Request(base + "/app/login", data=f"token={token}".encode(), method="POST")
        try:
            opener.open(req)
        except urllib.error.HTTPError as e:
            cookie = e.headers["set-cookie"].split(";")[0]
        bearer = subprocess.check_output([BIN, "token", "--role", "analyst"], env=env, stderr=subprocess.DEVNULL).decode().strip()
        round_ = "2025-26"
        cases = [
            ("/health/live", {}),
            (f"/api/v1/rounds/{round_}/divergence?limit=5000", {"Authorization": f"Bearer {bearer}"}),
            (f"/app/rounds/{round_}", {"Cookie": cookie}),
            (f"/app/rounds/{round_}/heatmap", {"Cookie": cookie}),
            (f"/app/rounds/{round_}/heatmap?type=acute", {"Cookie": cookie}),
            (f"/app/rounds/{round_}/targeting", {"Cookie": cookie}),
            (f"/app/rounds/{round_}/areas", {"Cookie": cookie}),
            (f"/app/organisations/RBD?round={round_}", {"Cookie": cookie}),
        ]
        print(f"{N} sequential requests per row, after one warm-up; binary {BIN}; database {env['DATABASE_URL'].split(':')[0]}")
        print(f"{'request':58} {'median ms':>9} {'p90 ms':>7} {'bytes':>8} {'gzip/br':>8}")
        for path, headers in cases:
            def get(extra):
                r = urllib.request.Request(base + path, headers={**headers, **extra})
                t0 = time.perf_counter()
                with urllib.request.urlopen(r) as res:
                    body = res.read()
                return time.perf_counter() - t0, len(body)
            get({})
            times = []
            for _ in range(N):
                t, plain = get({})
                times.append(t * 1000)
            _, packed = get({"Accept-Encoding": "gzip, br"})
            times.sort()
            p90 = times[int(0.9 * (len(times) - 1))]
            print(f"{path:58} {statistics.median(times):9.2f} {p90:7.2f} {plain:8d} {packed:8d}")
        for asset in ["/app/assets/nhsuk-frontend.min.css", "/app/assets/nhsuk-frontend.min.js", "/app/assets/app.css", "/app/assets/app.js", "/app/assets/init.js"]:
            r = urllib.request.Request(base + asset, headers={"Accept-Encoding": "gzip, br"})
            with urllib.request.urlopen(r) as res:
                print(f"{asset:58} {'':9} {'':7} {'':8} {len(res.read()):8d}")
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
