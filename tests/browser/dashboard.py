#!/usr/bin/env python3
"""Real-browser walk of the web front end (`/app`).

Starts the service (`DMA_BIN`, default `target/debug/dma`) on a fresh temporary SQLite database
(or on `DATABASE_URL` when it is set), signs in through real single-use links, and walks every
dashboard page in headless Chromium (Selenium + chromedriver), checking on each page:

- the figures shown equal the JSON API's (rounded to 4 decimals);
- no request leaves the service's origin (Chrome performance log);
- the page's transferred size, with a cold cache, is under 500 KB;
- axe-core (WCAG 2.0/2.1/2.2 A and AA rules) finds nothing serious or critical;
- and it saves a screenshot of each page into `docs/screenshots/`.

Then it checks the print view of an organisation page fits one A4 page, signing out, a
submitter's limits, and that a spent sign-in link is refused.

Prints `browser: N checks passed, M failed` and exits 1 when any check failed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHOTS = ROOT / "docs" / "screenshots"
ART = ROOT / "target" / "browser"  # the print PDF, for a look when its check fails
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
JWT_SECRET = "browser-test-secret-browser-test-0123"
MAX_PAGE_BYTES = 500 * 1024
# Screenshots are committed: keep them to this many CSS pixels high, at this scale.
SHOT_MAX_HEIGHT = 2000
SHOT_SCALE = 0.75
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
DIVERGING_FLAGS = {"PRIORITY_FALLING_BEHIND", "LEVEL_BELOW_PEERS"}
NO_JS_TIMERS = """
if (!window.__btTimers) {
  window.__btTimers = true;
  const later = (fn, args) => { Promise.resolve().then(() => fn(...args)); return 1; };
  window.setTimeout = (fn, ms, ...args) => later(fn, args);
  window.clearTimeout = () => {};
  window.requestAnimationFrame = fn => later(fn, [performance.now()]);
  window.cancelAnimationFrame = () => {};
  window.requestIdleCallback = fn => later(fn, [{didTimeout: false, timeRemaining: () => 50}]);
}
"""


# ---------------------------------------------------------------------------------------------
# Check bookkeeping


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []
        self.sizes: list[tuple[str, int, int]] = []
        self.axe: list[tuple[str, str]] = []

    def ok(self, name: str, cond: bool, detail: str = "") -> bool:
        if cond:
            self.passed += 1
            print(f"  PASS {name}", flush=True)
        else:
            self.failed.append(f"{name}: {detail}" if detail else name)
            print(f"  FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
        return cond

    @contextmanager
    def section(self, name: str):
        """A group of checks; an exception inside counts as one failed check (it could not run)."""
        print(f"\n== {name}", flush=True)
        try:
            yield
        except Exception as e:  # noqa: BLE001 - any error means the check did not run
            tb = "" if isinstance(e, PageUnavailable) else "\n" + traceback.format_exc(limit=3)
            self.ok(f"{name}: checks ran to the end", False, f"{type(e).__name__}: {e}{tb}")


C = Checks()


def r4(x) -> str | None:
    """A number as the pages write it: 4 decimals, ASCII minus; None stays None."""
    if x is None:
        return None
    v = round(float(x), 4)
    if v == 0:
        v = 0.0  # no "-0.0000"
    return f"{v:.4f}"


def page_num(s: str | None) -> str | None:
    """A `data-*` number from a page, normalised the same way (empty means none)."""
    if s is None or s.strip() == "":
        return None
    return r4(float(s))


def flag_set(s) -> frozenset:
    if s is None:
        return frozenset()
    if isinstance(s, str):
        return frozenset(x.strip() for x in s.split(",") if x.strip())
    return frozenset(f["code"] if isinstance(f, dict) else f for f in s)


def short(items, n: int = 8) -> str:
    items = list(items)
    more = f" … (+{len(items) - n} more)" if len(items) > n else ""
    return "; ".join(str(i) for i in items[:n]) + more


# ---------------------------------------------------------------------------------------------
# The service


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dma:
    def __init__(self) -> None:
        self.bin = os.environ.get("DMA_BIN", str(ROOT / "target" / "debug" / "dma"))
        if not os.path.isabs(self.bin):
            self.bin = str(ROOT / self.bin)
        self.tmp = tempfile.mkdtemp(prefix="dma-browser-")
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update(
            DMA_JWT_SECRET=JWT_SECRET,
            DATABASE_URL=os.environ.get("DATABASE_URL") or f"sqlite://{self.tmp}/dma.db",
            DMA_DATA_DIR=self.tmp,
            DMA_BIND=f"127.0.0.1:{self.port}",
            DMA_RATE_LIMIT_PER_SECOND="0",
            DMA_ANON_RATE_LIMIT_PER_SECOND="0",
        )
        self.env.pop("DMA_PUBLIC_URL", None)
        self.proc: subprocess.Popen | None = None
        self.log = open(os.path.join(self.tmp, "serve.log"), "wb")
        self._token: str | None = None

    def start(self, timeout: float = 600) -> None:
        if self.env["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
            # `serve` loads the demo rounds by itself on SQLite only.
            print("loading the demo rounds: dma seed --demo")
            self.cli("seed", "--demo")
        print(f"starting {self.bin} serve on {self.origin} (database {self.env['DATABASE_URL']})")
        self.proc = subprocess.Popen(
            [self.bin, "serve"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dma serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.origin + "/health/live", timeout=2) as r:
                    if r.status == 200:
                        print(f"service live after {time.time() - t0:.0f}s")
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"service did not become live in time:\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        if os.environ.get("BROWSER_KEEP_TMP"):
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def cli(self, *args: str) -> str:
        out = subprocess.run([self.bin, *args], env=self.env, capture_output=True, text=True, timeout=900)
        if out.returncode != 0:
            raise RuntimeError(f"dma {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def login_link(self, *args: str) -> str:
        link = self.cli("login-link", *args).splitlines()[-1].strip()
        if not re.fullmatch(re.escape(self.origin) + r"/app/login/[0-9a-f]{64}", link):
            raise RuntimeError(f"unexpected login link {link!r}")
        return link

    def api(self, path: str, **params):
        if self._token is None:
            self._token = self.cli("token", "--role", "analyst")
        q = {k: v for k, v in params.items() if v is not None}
        url = self.origin + path + ("?" + urllib.parse.urlencode(q) if q else "")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.loads(r.read())

    def api_post(self, path: str, body: dict | None, role: str = "admin"):
        token = self.cli("token", "--role", role)
        req = urllib.request.Request(
            self.origin + path, data=json.dumps(body).encode() if body is not None else b"", method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status

    def divergence_rows(self, rnd: str, **params) -> list[dict]:
        """Every row of the round's divergence view for these filters (following next_cursor)."""
        rows: list[dict] = []
        cursor = None
        for _ in range(1000):
            page = self.api(f"/api/v1/rounds/{rnd}/divergence", limit=5000, cursor=cursor, **params)
            items = page.get("rows", page.get("items", page)) if isinstance(page, dict) else page
            rows.extend(items)
            cursor = page.get("next_cursor") if isinstance(page, dict) else None
            if not cursor:
                return rows
        raise RuntimeError("divergence paging did not end")


# ---------------------------------------------------------------------------------------------
# The browser


class PageUnavailable(Exception):
    pass


class Browser:
    def __init__(self, dma: Dma, *, js: bool = True) -> None:
        """A headless Chromium; with `js=False` the page's own scripts do not run (as with
        JavaScript switched off in the browser's settings); WebDriver's scripts (axe, the page
        readers) still do."""
        self.dma = dma
        self.js = js
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in [
            "--headless=new", "--window-size=1280,1800", "--no-sandbox", "--disable-dev-shm-usage",
            "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-features=Translate,OptimizationHints,MediaRouter", "--hide-scrollbars",
            "--force-device-scale-factor=1", "--lang=en-GB",
        ]:
            opts.add_argument(a)
        if not js:
            opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.d = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
        self.d.set_window_size(1280, 1800)
        self.d.set_page_load_timeout(300)
        self.d.set_script_timeout(120)
        self.axe_src = AXE_JS.read_text()

    def quit(self) -> None:
        self.d.quit()

    # -- navigation with the network recorded --------------------------------------------------

    def _drain(self) -> list[dict]:
        self.d.get_log("browser")  # the console, read again after the load
        out = []
        for e in self.d.get_log("performance"):
            try:
                out.append(json.loads(e["message"])["message"])
            except (KeyError, ValueError):
                pass
        return out

    def _settle(self, timeout: float = 120) -> None:
        """Waits for a new document (the marker set before the action is gone) to finish loading."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            try:
                if self.d.execute_script("return !window.__btOld && document.readyState === 'complete'"):
                    break
            except Exception:  # noqa: BLE001 - between documents
                pass
            time.sleep(0.1)
        else:
            raise TimeoutError(f"no new page loaded within {timeout:.0f}s (at {self.d.current_url})")
        time.sleep(0.3)

    def load(self, name: str, action, *, cold: bool = True) -> dict:
        """Runs `action` (a navigation), and returns the main document's status, final URL, every
        request URL and the bytes transferred. The cache is cleared first (`cold`), so the size
        is what a first visit costs."""
        self._drain()
        if cold:
            self.d.execute_cdp_cmd("Network.clearBrowserCache", {})
        self.d.execute_script("window.__btOld = true")
        action()
        self._settle()
        events = self._drain()
        urls, size, status, doc_url = [], 0, None, None
        for m in events:
            p = m.get("params", {})
            if m["method"] == "Network.requestWillBeSent":
                urls.append(p["request"]["url"])
            elif m["method"] == "Network.loadingFinished":
                size += int(p.get("encodedDataLength", 0))
            elif m["method"] == "Network.responseReceived" and p.get("type") == "Document":
                status, doc_url = p["response"]["status"], p["response"]["url"]
        return {"name": name, "status": status, "url": self.d.current_url, "doc_url": doc_url,
                "requests": urls, "bytes": size}

    def visit(self, name: str, path: str, *, expect: int = 200, axe: bool = True, shot: str | None = None,
              size_check: bool = True, require: bool = False) -> dict:
        """Opens a page and runs the checks every page gets. With `require`, a page that does not
        answer `expect` stops its section (its figure checks count as one failure, not many)."""
        url = path if path.startswith("http") else self.dma.origin + path
        print(f"\n-- {name}: GET {url}", flush=True)
        res = self.load(name, lambda: self.d.get(url))
        self.after_load(res, expect=expect, axe=axe, shot=shot, size_check=size_check)
        if require and res["status"] != expect:
            raise PageUnavailable(f"{url} answered {res['status']} ({self.h1()!r}): the checks of its figures could not run")
        return res

    def after_load(self, res: dict, *, expect: int | None = 200, axe: bool = True, shot: str | None = None,
                   size_check: bool = True) -> None:
        name = res["name"]
        if expect is not None:
            C.ok(f"{name}: status {expect}", res["status"] == expect, f"got {res['status']} at {res['url']}")
        origin = self.dma.origin
        away = [u for u in res["requests"] if not (u.startswith(origin + "/") or u == origin or u.startswith("data:"))]
        C.ok(f"{name}: no request leaves {origin}", not away, short(away))
        console = [e for e in self.d.get_log("browser") if e.get("level") == "SEVERE"]
        if res["status"] == 200:
            C.ok(f"{name}: no errors in the console (script errors, blocked by the content security policy)",
                 not console, short(e.get("message", "")[:300] for e in console))
        if size_check:
            kb = res["bytes"] / 1024
            C.sizes.append((name, res["bytes"], len(res["requests"])))
            C.ok(f"{name}: transferred {kb:.1f} KB in {len(res['requests'])} requests < 500 KB",
                 res["bytes"] < MAX_PAGE_BYTES, f"{kb:.1f} KB")
        if axe:
            self.axe(name)
        if shot:
            self.screenshot(shot)

    # -- accessibility ---------------------------------------------------------------------------

    def axe(self, name: str) -> None:
        if not self.js:
            # With the page's scripts off, Chromium never fires their timers, and axe waits on
            # them: WebDriver's own scripts get timers that run as soon as they can.
            self.d.execute_script(NO_JS_TIMERS)
        self.d.execute_script(self.axe_src)
        result = self.d.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
              .then(r => done({violations: r.violations.map(v => ({
                  id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.map(n => n.target.join(' ')), n: v.nodes.length}))}))
              .catch(e => done({error: String(e)}));
            """,
            AXE_TAGS,
        )
        if "error" in result:
            C.ok(f"{name}: axe ran", False, result["error"])
            C.axe.append((name, "axe error: " + result["error"]))
            return
        bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        minor = [v for v in result["violations"] if v["impact"] not in ("serious", "critical")]
        detail = short(
            [f"{v['id']} [{v['impact']}] x{v['n']}: {', '.join(v['targets'][:3])}" for v in bad], 20)
        summary = (f"{len(bad)} serious/critical" + (f" ({', '.join(v['id'] for v in bad)})" if bad else "")
                   + f", {len(minor)} minor/moderate" + (f" ({', '.join(v['id'] for v in minor)})" if minor else ""))
        C.axe.append((name, summary))
        C.ok(f"{name}: axe 0 serious/critical", not bad, detail)

    # -- pictures --------------------------------------------------------------------------------

    def screenshot(self, filename: str, max_height: int = SHOT_MAX_HEIGHT) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        m = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = m.get("cssContentSize") or m["contentSize"]
        h = min(int(size["height"]), max_height)
        shot = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": 1280, "height": h, "scale": SHOT_SCALE}})
        data = base64.b64decode(shot["data"])
        (SHOTS / filename).write_bytes(data)
        print(f"  saved docs/screenshots/{filename} ({int(1280 * SHOT_SCALE)}x{int(h * SHOT_SCALE)}, {len(data) // 1024} KB)")

    # -- page reading (one script call per table, not one WebDriver call per cell) ---------------

    def rows(self, selector: str, attrs: list[str]) -> list[dict]:
        return self.d.execute_script(
            """
            const [sel, attrs] = arguments;
            return Array.from(document.querySelectorAll(sel)).map(e => {
              const o = {};
              for (const a of attrs) o[a] = e.getAttribute(a);
              o._text = e.textContent.trim().slice(0, 200);
              o._links = Array.from(e.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));
              return o;
            });
            """,
            selector, attrs)

    def heatmap_cells(self) -> list[dict]:
        return self.d.execute_script(
            """
            const out = [];
            for (const tr of document.querySelectorAll('table#heatmap tbody tr[data-ods]')) {
              for (const td of tr.querySelectorAll('td[data-pillar]')) {
                out.push({ods: tr.getAttribute('data-ods'), pillar: td.getAttribute('data-pillar'),
                  z: td.getAttribute('data-z'), tier: td.getAttribute('data-tier'),
                  flags: td.getAttribute('data-flags'),
                  links: Array.from(td.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))});
              }
            }
            return out;
            """)

    def exists(self, selector: str) -> bool:
        return bool(self.d.find_elements(By.CSS_SELECTOR, selector))

    def count(self, selector: str) -> int:
        return len(self.d.find_elements(By.CSS_SELECTOR, selector))

    def h1(self) -> str:
        e = self.d.find_elements(By.CSS_SELECTOR, "h1")
        return e[0].text.strip() if e else ""

    def path(self) -> str:
        return urllib.parse.urlsplit(self.d.current_url).path

    def fetch_with_session(self, path: str) -> tuple[int, str, bytes]:
        """GET with the browser's cookies (for downloads, which a browser would save, not show)."""
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in self.d.get_cookies())
        req = urllib.request.Request(self.dma.origin + path, headers={"Cookie": cookies})
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()

    def click_and_load(self, name: str, element) -> dict:
        return self.load(name, element.click)


# ---------------------------------------------------------------------------------------------
# The walk


def sign_in(b: Browser, link: str, name: str, shot: str | None = None) -> dict:
    b.visit(f"{name} link page", link, shot=shot)
    C.ok(f"{name} link page: has a Sign in button",
         bool(b.d.find_elements(By.XPATH, "//form//button[normalize-space()='Sign in']")))
    btn = b.d.find_element(By.XPATH, "//form//button[normalize-space()='Sign in']")
    res = b.load(f"{name} sign-in", btn.click)
    return res


def check_downloads(b: Browser, name: str, rnd: str) -> None:
    links = b.rows("a[data-download]", ["href"])
    C.ok(f"{name}: has a[data-download] links", bool(links), "none found")
    for l in links:
        href = l["href"] or ""
        p = urllib.parse.urlsplit(href).path
        good = p.startswith(f"/app/rounds/{rnd}/") and p.endswith(".csv")
        C.ok(f"{name}: download {href} is a CSV under /app/rounds/{rnd}/", good, href)
        if good:
            st, ctype, body = b.fetch_with_session(href)
            C.ok(f"{name}: download {href} answers 200 text/csv with rows",
                 st == 200 and ctype.startswith("text/csv") and body.count(b"\n") >= 2,
                 f"{st} {ctype} {len(body)} bytes")


def api_index(rows: list[dict]) -> dict:
    return {(r["org_id"], r["pillar"]): r for r in rows}


def check_heatmap(b: Browser, dma: Dma, rnd: str, name: str, params: dict, shot: str | None = None) -> list[dict]:
    qs = urllib.parse.urlencode({k: v for k, v in params.items() if v})
    b.visit(name, f"/app/rounds/{rnd}/heatmap" + ("?" + qs if qs else ""), shot=shot, require=True)
    return verify_heatmap(b, dma, rnd, name, params)


def verify_heatmap(b: Browser, dma: Dma, rnd: str, name: str, params: dict) -> list[dict]:
    """The heatmap on screen against the API's rows for the same filters."""
    C.ok(f"{name}: table#heatmap", b.exists("table#heatmap"))
    cells = b.heatmap_cells()
    C.ok(f"{name}: has cells", bool(cells), "no td[data-pillar] in tr[data-ods]")
    api_params = {k: params.get(k) for k in ("type", "region", "icb", "reference") if params.get(k)}
    if params.get("pillar"):
        api_params["pillar"] = params["pillar"]
    rows = dma.divergence_rows(rnd, **api_params)
    idx = api_index(rows)
    z_bad, tier_bad, flag_bad, link_bad, missing = [], [], [], [], []
    for c in cells:
        r = idx.get((c["ods"], c["pillar"]))
        if r is None:
            missing.append(f"{c['ods']}/{c['pillar']}")
            continue
        lvl = r.get("level") or {}
        if page_num(c["z"]) != r4(lvl.get("robust_z")):
            z_bad.append(f"td[data-pillar={c['pillar']}] of tr[data-ods={c['ods']}]: page {c['z']!r} api {r4(lvl.get('robust_z'))}")
        if (c["tier"] or "none") != (lvl.get("tier") or "none"):
            tier_bad.append(f"{c['ods']}/{c['pillar']}: page {c['tier']!r} api {lvl.get('tier')!r}")
        if flag_set(c["flags"]) != flag_set(r.get("flags")):
            flag_bad.append(f"{c['ods']}/{c['pillar']}: page {c['flags']!r} api {sorted(flag_set(r.get('flags')))}")
        want = f"/app/organisations/{c['ods']}?round={rnd}"
        if want not in c["links"]:
            link_bad.append(f"{c['ods']}/{c['pillar']}: {c['links']}")
    n = len(cells)
    C.ok(f"{name}: every cell is a row of the API ({n} cells)", n > 0 and not missing, short(missing))
    C.ok(f"{name}: data-z equals the API's level.robust_z in every cell", n > 0 and not z_bad, short(z_bad))
    C.ok(f"{name}: data-tier equals the API's level.tier in every cell", n > 0 and not tier_bad, short(tier_bad))
    C.ok(f"{name}: data-flags equal the API's flags in every cell", n > 0 and not flag_bad, short(flag_bad))
    C.ok(f"{name}: every cell links to /app/organisations/{{ods}}?round={rnd}", n > 0 and not link_bad, short(link_bad))
    page_orgs = {c["ods"] for c in cells}
    api_orgs = {r["org_id"] for r in rows}
    C.ok(f"{name}: the rows are the API's organisations ({len(page_orgs)} on the page, {len(api_orgs)} in the API)",
         page_orgs == api_orgs, f"only in API: {short(sorted(api_orgs - page_orgs))}; only on page: {short(sorted(page_orgs - api_orgs))}")
    if params.get("pillar"):
        others = {c["pillar"] for c in cells} - {params["pillar"]}
        C.ok(f"{name}: only pillar {params['pillar']} shown", not others, short(sorted(others)))
    sort_links = b.rows("table#heatmap thead a[href]", ["href"])
    C.ok(f"{name}: sort links in the column headers", any("sort=" in (l["href"] or "") for l in sort_links),
         short([l["href"] for l in sort_links]))
    check_downloads(b, name, rnd)
    return cells


def main() -> int:
    dma = Dma()
    b: Browser | None = None
    try:
        dma.start()
        b = Browser(dma)
        walk(b, dma)
    except Exception as e:  # noqa: BLE001
        C.ok("the walk ran to the end", False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    finally:
        if b:
            try:
                b.quit()
            except Exception:  # noqa: BLE001
                pass
        dma.stop()
    print("\n== transferred sizes (cold cache)")
    for name, n, reqs in C.sizes:
        print(f"  {n / 1024:8.1f} KB  {reqs:3d} requests  {name}")
    print("\n== axe (WCAG 2.0/2.1/2.2 A+AA)")
    for name, s in C.axe:
        print(f"  {name}: {s}")
    if C.failed:
        print(f"\n== {len(C.failed)} failed checks")
        for f in C.failed:
            print("  - " + f.splitlines()[0][:400])
    print(f"\nbrowser: {C.passed} checks passed, {len(C.failed)} failed")
    return 1 if C.failed else 0


def walk(b: Browser, dma: Dma) -> None:
    rounds = dma.api("/api/v1/rounds")
    rounds = rounds if isinstance(rounds, list) else rounds.get("items", [])
    keys = [r["key"] for r in rounds]
    published = [r["key"] for r in rounds if r.get("status") == "published" or r.get("published_at")]
    print(f"rounds {keys}; published {published}")
    if not published:
        raise RuntimeError("no published round in the demo data")
    pub = published[-1]
    latest = keys[-1]
    # The latest round, and a published one; when the latest is published, the one before it too.
    other = latest if latest != pub else (published[-2] if len(published) > 1 else None)
    walk_rounds = [pub] + ([other] if other else [])
    print(f"walking rounds {walk_rounds} (latest {latest}, latest published {pub})")

    # The demo's deliberately diverging trusts, as the API names them.
    pub_rows = dma.divergence_rows(pub)
    diverging = sorted({r["org_id"] for r in pub_rows if flag_set(r.get("flags")) & DIVERGING_FLAGS})
    print(f"diverging organisations in {pub} (API): {diverging}")
    C.ok(f"the API names diverging organisations in {pub}", bool(diverging))

    # ---- sign in as an analyst ----------------------------------------------------------------
    analyst_link = dma.login_link("--role", "analyst")
    with C.section("sign in as an analyst"):
        res = sign_in(b, analyst_link, "analyst", shot="sign-in.png")
        C.ok("analyst sign-in: lands on /app", b.path() in ("/app", "/app/"), b.d.current_url)
        b.after_load(dict(res, name="home (analyst)"), expect=200)

    with C.section("home (analyst)"):
        links = b.rows("a[href^='/app/rounds/']", ["href"])
        hrefs = {l["href"] for l in links}
        for k in keys:
            C.ok(f"home: links to round {k}", f"/app/rounds/{k}" in hrefs, short(sorted(hrefs)))
        C.ok("home: rounds in a table", b.exists("table a[href^='/app/rounds/']"))

    for rnd in walk_rounds:
        tag = f"[{rnd}]"
        main_shots = rnd == pub
        rows_all = dma.divergence_rows(rnd) if rnd != pub else pub_rows

        # ---- overview --------------------------------------------------------------------------
        with C.section(f"overview {tag}"):
            b.visit(f"overview {tag}", f"/app/rounds/{rnd}", shot="overview.png" if main_shots else None, require=True)
            comp = dma.api(f"/api/v1/rounds/{rnd}/completion")
            for table, attr, key in (("completion-by-type", "data-type", "by_type"),
                                     ("completion-by-region", "data-region", "by_region")):
                rows = b.rows(f"#{table} tr[{attr}]", [attr, "data-submitted", "data-total"])
                api = comp[key]
                bad = []
                for r in rows:
                    a = api.get(r[attr])
                    if a is None or str(a.get("submitted")) != r["data-submitted"] or str(a.get("total")) != r["data-total"]:
                        bad.append(f"tr[{attr}={r[attr]}]: page {r['data-submitted']}/{r['data-total']} api "
                                   f"{None if a is None else (a.get('submitted'), a.get('total'))}")
                C.ok(f"overview {tag}: #{table} rows equal the API's {key}",
                     bool(rows) and not bad and len(rows) == len(api),
                     f"{len(rows)} rows on page, {len(api)} in API; " + short(bad))
            # Flag counts: distinct organisations with that flag in that pillar.
            want: dict[tuple[str, str], set] = {}
            for r in rows_all:
                for f in flag_set(r.get("flags")):
                    want.setdefault((r["pillar"], f), set()).add(r["org_id"])
            cells = b.rows("#flags-by-pillar td[data-pillar][data-flag][data-count]",
                           ["data-pillar", "data-flag", "data-count"])
            bad = [f"td[data-pillar={c['data-pillar']}][data-flag={c['data-flag']}]: page {c['data-count']} api "
                   f"{len(want.get((c['data-pillar'], c['data-flag']), ()))}"
                   for c in cells if str(len(want.get((c["data-pillar"], c["data-flag"]), ()))) != c["data-count"]]
            shown = {(c["data-pillar"], c["data-flag"]) for c in cells}
            absent = [f"{p}/{f}={len(o)}" for (p, f), o in sorted(want.items()) if (p, f) not in shown]
            C.ok(f"overview {tag}: #flags-by-pillar counts equal the API's ({len(cells)} cells)",
                 bool(cells) and not bad, short(bad))
            C.ok(f"overview {tag}: #flags-by-pillar shows every flag the API has", bool(cells) and not absent, short(absent))
            flagged_links = {urllib.parse.urlsplit(l["href"]).path.rsplit("/", 1)[-1]
                             for l in b.rows("#flagged-orgs a[href^='/app/organisations/']", ["href"])}
            div_here = sorted({r["org_id"] for r in rows_all if flag_set(r.get("flags")) & DIVERGING_FLAGS})
            miss = [o for o in div_here if o not in flagged_links]
            C.ok(f"overview {tag}: every organisation with {'/'.join(sorted(DIVERGING_FLAGS))} in the API "
                 f"({len(div_here)}) is in #flagged-orgs", (bool(div_here) or rnd != pub) and not miss,
                 f"missing {short(miss)}; #flagged-orgs has {len(flagged_links)} links")
            any_flag = {r["org_id"] for r in rows_all if flag_set(r.get("flags"))}
            extra = sorted(flagged_links - any_flag)
            C.ok(f"overview {tag}: every organisation in #flagged-orgs ({len(flagged_links)}) has a flag in the API",
                 not extra, short(extra))
            check_downloads(b, f"overview {tag}", rnd)

        # ---- heatmap ------------------------------------------------------------------------------
        with C.section(f"heatmap {tag}"):
            cells = check_heatmap(b, dma, rnd, f"heatmap {tag}", {}, shot="heatmap.png" if main_shots else None)
        with C.section(f"heatmap {tag} filtered and sorted"):
            regions = sorted({r.get("region_code") for r in rows_all if r.get("region_code")})
            region = regions[0] if regions else None
            check_heatmap(b, dma, rnd, f"heatmap {tag} type=acute group=icb", {"type": "acute", "group": "icb"})
            # Sorting through the page's own header links: the figures stay the API's.
            sort_links = [l["href"] for l in b.rows("table#heatmap thead a[href*='sort=']", ["href"])]
            if C.ok(f"heatmap {tag} type=acute: has sort links to follow", bool(sort_links)):
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(sort_links[-1]).query))
                sname = f"heatmap {tag} sorted {q.get('sort')} {q.get('dir')}"
                check_heatmap(b, dma, rnd, sname, q)
                key, desc = q.get("sort"), q.get("dir") == "desc"
                groups = b.d.execute_script(
                    """
                    return Array.from(document.querySelectorAll('table#heatmap tbody')).map(tb =>
                      Array.from(tb.querySelectorAll('tr[data-ods]')).map(tr => {
                        const td = tr.querySelector('td[data-pillar="' + arguments[0] + '"]');
                        return td ? td.getAttribute('data-z') : null; }));
                    """, key)
                bad = []
                for gi, zs in enumerate(groups):
                    vals = [float(z) if z else None for z in zs]
                    present = [v for v in vals if v is not None]
                    if vals[:len(present)] != present:
                        bad.append(f"tbody {gi + 1}: a row without a z comes before one with")
                    if present != sorted(present, reverse=desc):
                        bad.append(f"tbody {gi + 1}: z not in {'descending' if desc else 'ascending'} order")
                C.ok(f"{sname}: rows in order of {key} within each group ({len(groups)} groups)",
                     bool(groups) and not bad, short(bad))
            if region:
                check_heatmap(b, dma, rnd, f"heatmap {tag} region={region}", {"region": region})
                # The filter form as a person uses it: choose a type, apply, get a shareable URL.
                b.d.find_element(By.ID, "f-type")
                Select(b.d.find_element(By.ID, "f-type")).select_by_value("mental_health")
                btn = b.d.find_element(By.XPATH, "//form//button[normalize-space()='Apply filters']")
                fname = f"heatmap {tag} form: region={region}, type=mental_health applied"
                res = b.load(fname, btn.click)
                b.after_load(res, expect=200, axe=False)
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(b.d.current_url).query))
                C.ok(f"{fname}: the URL carries both filters", q.get("type") == "mental_health" and q.get("region") == region,
                     b.d.current_url)
                verify_heatmap(b, dma, rnd, fname, {"type": "mental_health", "region": region})
            one = next(p for p in sorted({r["pillar"] for r in rows_all}) if p != "overall")
            check_heatmap(b, dma, rnd, f"heatmap {tag} pillar={one}", {"pillar": one})
        if rnd == pub:
            with C.section(f"heatmap {tag}: click a diverging organisation's flagged cell"):
                b.visit(f"heatmap {tag} (for clicking)", f"/app/rounds/{rnd}/heatmap", axe=False, size_check=False)
                reached = []
                for ods in diverging[:3]:
                    sel = f"table#heatmap tr[data-ods='{ods}'] td[data-flags]:not([data-flags='']) a[href]"
                    els = b.d.find_elements(By.CSS_SELECTOR, sel)
                    if not C.ok(f"heatmap {tag}: {ods} has a flagged cell with a link", bool(els), sel):
                        continue
                    b.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", els[0])
                    res = b.load(f"click {ods}", els[0].click, cold=False)
                    C.ok(f"heatmap {tag}: clicking {ods}'s flagged cell lands on /app/organisations/{ods}",
                         b.path() == f"/app/organisations/{ods}" and res["status"] == 200,
                         f"{res['status']} {b.d.current_url}")
                    reached.append(ods)
                    b.load("back to the heatmap", lambda: b.d.get(f"{dma.origin}/app/rounds/{rnd}/heatmap"), cold=False)

        # ---- targeting ----------------------------------------------------------------------------
        pillars = sorted({r["pillar"] for r in rows_all})
        some_pillar = next((p for p in pillars if p != "overall"), pillars[0])
        for params in ({}, {"pillar": some_pillar, "type": "acute"}):
            qs = urllib.parse.urlencode(params)
            name = f"targeting {tag}" + (f" {qs}" if qs else "")
            with C.section(name):
                b.visit(name, f"/app/rounds/{rnd}/targeting" + ("?" + qs if qs else ""),
                        shot="targeting.png" if main_shots and not qs else None, require=True)
                pillar = params.get("pillar") or b.d.execute_script(
                    "const s = document.querySelector('select[name=pillar] option[selected]');"
                    "return s && s.value ? s.value : null;") or "overall"
                org_type = params.get("type") or b.d.execute_script(
                    "const s = document.querySelector('select[name=type] option[selected]');"
                    "return s && s.value ? s.value : null;")
                rows = b.rows("#targeting-table tr[data-ods]", ["data-ods", "data-gap", "data-excess", "data-z", "data-flags"])
                api = api_index(dma.divergence_rows(rnd, pillar=pillar, **({"type": org_type} if org_type else {})))
                on_page, in_api = {r["data-ods"] for r in rows}, {o for (o, _) in api}
                C.ok(f"{name}: #targeting-table rows are the API's organisations (type {org_type or 'all'}, "
                     f"{len(on_page)} on the page, {len(in_api)} in the API)", on_page == in_api,
                     f"only in API: {short(sorted(in_api - on_page))}; only on page: {short(sorted(on_page - in_api))}")
                bad = []
                for r in rows:
                    a = api.get((r["data-ods"], pillar))
                    if a is None:
                        bad.append(f"tr[data-ods={r['data-ods']}]: not in the API for pillar {pillar}")
                        continue
                    lvl, ch = a.get("level") or {}, a.get("change") or {}
                    for attr, want in (("data-gap", lvl.get("gap")), ("data-excess", ch.get("excess")),
                                       ("data-z", lvl.get("robust_z"))):
                        if page_num(r[attr]) != r4(want):
                            bad.append(f"tr[data-ods={r['data-ods']}] {attr}: page {r[attr]!r} api {r4(want)}")
                    if flag_set(r["data-flags"]) != flag_set(a.get("flags")):
                        bad.append(f"tr[data-ods={r['data-ods']}] data-flags: page {r['data-flags']!r} api {sorted(flag_set(a.get('flags')))}")
                C.ok(f"{name}: #targeting-table gap/excess/z/flags equal the API's (pillar {pillar}, {len(rows)} rows)",
                     bool(rows) and not bad, short(bad))
                # Each chart has a <title> on each of its points: at least one per organisation it can
                # plot (the scatter: a gap and an excess; the caterpillar: a robust z).
                for svg, plottable in (
                    ("svg#targeting-scatter", sum(1 for r in rows if r["data-gap"] and r["data-excess"])),
                    ("svg#caterpillar", sum(1 for r in rows if r["data-z"])),
                ):
                    n_titles = b.count(f"{svg} title")
                    C.ok(f"{name}: {svg} has a <title> on each point ({n_titles} titles, {plottable} organisations to plot)",
                         b.exists(svg) and plottable > 0 and n_titles >= plottable,
                         f"{b.count(svg)} svg, {n_titles} titles, {plottable} plottable rows")
                check_downloads(b, name, rnd)

        # ---- areas --------------------------------------------------------------------------------
        for by, pillar in (("icb", None), ("region", None), ("icb", some_pillar)):
            params = {"by": by, **({"pillar": pillar} if pillar else {})}
            qs = urllib.parse.urlencode(params)
            name = f"areas {tag} {qs}"
            with C.section(name):
                b.visit(name, f"/app/rounds/{rnd}/areas?{qs}", shot="areas.png" if main_shots and by == "icb" and not pillar else None,
                        require=True)
                C.ok(f"{name}: svg#areas-chart", b.exists("svg#areas-chart"))
                shown_pillar = pillar or b.d.execute_script(
                    "const s = document.querySelector('select[name=pillar] option[selected]');"
                    "return s && s.value ? s.value : null;") or "overall"
                rep = dma.api(f"/api/v1/rounds/{rnd}/divergence/{'icbs' if by == 'icb' else 'regions'}",
                              pillar=shown_pillar, limit=5000)
                api = {(x["code"], x.get("pillar")): x for x in rep.get("rows", [])}
                rows = b.rows("#areas-table tr[data-code]", ["data-code", "data-standardised-gap", "data-n"])
                bad = []
                for r in rows:
                    a = api.get((r["data-code"], shown_pillar))
                    if a is None:
                        bad.append(f"tr[data-code={r['data-code']}]: not in the API for pillar {shown_pillar}")
                        continue
                    want = r4((a.get("level") or {}).get("standardised_gap"))
                    if page_num(r["data-standardised-gap"]) != want:
                        bad.append(f"tr[data-code={r['data-code']}] data-standardised-gap: page {r['data-standardised-gap']!r} api {want}")
                    if str(a.get("n_members")) != (r["data-n"] or ""):
                        bad.append(f"tr[data-code={r['data-code']}] data-n: page {r['data-n']!r} api {a.get('n_members')}")
                codes_api = {c for (c, p) in api if p == shown_pillar}
                C.ok(f"{name}: #areas-table equals the API's (pillar {shown_pillar}, {len(rows)} rows, {len(codes_api)} in API)",
                     bool(rows) and not bad and {r["data-code"] for r in rows} == codes_api, short(bad))
                check_downloads(b, name, rnd)

    # ---- organisation pages -----------------------------------------------------------------------
    orgs = fetch_all_orgs(dma)
    successors = {o.get("successor_code") for o in orgs if o.get("successor_code")}
    lineage = [o for o in orgs if ods_of(o) in successors]
    print(f"organisations with merger lineage: {short([ods_of(o) for o in lineage])}")
    org_codes = []
    if diverging:
        org_codes.append((diverging[0], "organisation.png"))
    # The organisation with the most merged predecessors that has rows in the round.
    n_preds = {s: sum(1 for o in orgs if o.get("successor_code") == s) for s in successors}
    in_pub = {r["org_id"] for r in pub_rows}
    lin = max((o for o in lineage if ods_of(o) in in_pub), key=lambda o: n_preds[ods_of(o)], default=None)
    if lin:
        org_codes.append((ods_of(lin), None))
    else:
        C.ok("the demo has an organisation with merger lineage", False, "none in /api/v1/organisations")
    for ods, shot in org_codes:
        name = f"organisation {ods} [{pub}]"
        with C.section(name):
            check_org_page(b, dma, ods, pub, name, shot)
    for i, (ods, _) in enumerate(org_codes):
        with C.section(f"organisation {ods} print view"):
            b.visit(f"organisation {ods} (for print)", f"/app/organisations/{ods}?round={pub}", axe=False,
                    size_check=False, require=True)
            b.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            try:
                if i == 0:
                    b.screenshot("organisation-print.png", max_height=1800)
                b.axe(f"organisation {ods} (print media)")
            finally:
                b.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
            # As a person prints it: A4, the default margins, no background colours.
            pdf = base64.b64decode(b.d.execute_cdp_cmd("Page.printToPDF", {
                "paperWidth": 8.27, "paperHeight": 11.69, "printBackground": False})["data"])
            ART.mkdir(parents=True, exist_ok=True)
            (ART / f"organisation-{ods}-print.pdf").write_bytes(pdf)
            print(f"  saved {ART.relative_to(ROOT)}/organisation-{ods}-print.pdf")
            pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
            counts = re.findall(rb"/Type\s*/Pages\b.*?/Count\s+(\d+)", pdf, re.S)
            C.ok(f"organisation {ods}: print view (A4, default margins) is 1 page", pages == 1,
                 f"{pages} pages (/Count {[int(c) for c in counts]})")

    # ---- sign out -------------------------------------------------------------------------------
    with C.section("sign out"):
        b.visit("home before sign-out", "/app", axe=False, size_check=False)
        btn = b.d.find_elements(By.XPATH, "//header//button[normalize-space()='Sign out']")
        C.ok("header has a Sign out button", bool(btn))
        res = b.load("sign out", btn[0].click)
        b.after_load(res, expect=200)
        res = b.visit("overview after sign-out", f"/app/rounds/{pub}", axe=False, size_check=False)
        C.ok("after sign-out /app/rounds/{round} redirects to /app/sign-in", b.path() == "/app/sign-in", b.d.current_url)
        b.axe("sign-in page")

    # ---- a spent link --------------------------------------------------------------------------
    with C.section("sign-in link reuse"):
        b.visit("spent link page", analyst_link, axe=False, size_check=False)
        btn = b.d.find_element(By.XPATH, "//form//button[normalize-space()='Sign in']")
        res = b.load("spent link sign-in", btn.click)
        b.after_load(res, expect=403, size_check=False)
        C.ok("spent link: refusal page says so", "used" in b.d.find_element(By.TAG_NAME, "main").text.lower(),
             b.d.find_element(By.TAG_NAME, "main").text[:200])

    # ---- a submitter ----------------------------------------------------------------------------
    with C.section("submitter"):
        walk_submitter(b, dma, pub, pub_rows, orgs)


def ods_of(o: dict) -> str:
    return o["ods_code"]


def fetch_all_orgs(dma: Dma) -> list[dict]:
    """Every organisation, open and closed (closed ones name their successor)."""
    out = []
    for active in ("true", "false"):
        page = 1
        while True:
            p = dma.api("/api/v1/organisations", per_page=500, page=page, active=active)
            out.extend(p["items"])
            if not p["items"] or page * 500 >= p["total"]:
                break
            page += 1
    return out


def check_org_page(b: Browser, dma: Dma, ods: str, rnd: str, name: str, shot: str | None) -> None:
    b.visit(name, f"/app/organisations/{ods}?round={rnd}", shot=shot, require=True)
    api = dma.api(f"/api/v1/rounds/{rnd}/divergence/{ods}")
    api_rows = api["rows"]
    by_pillar = {r["pillar"]: r for r in api_rows}
    rows = b.rows("#org-rows tr[data-pillar]", ["data-pillar", "data-score", "data-z", "data-flags"])
    bad = []
    for r in rows:
        a = by_pillar.get(r["data-pillar"])
        if a is None:
            bad.append(f"tr[data-pillar={r['data-pillar']}]: not in the API")
            continue
        lvl = a.get("level") or {}
        score = lvl.get("score")
        if page_num(r["data-score"]) != r4(score):
            bad.append(f"tr[data-pillar={r['data-pillar']}] data-score: page {r['data-score']!r} api {r4(score)}")
        if page_num(r["data-z"]) != r4(lvl.get("robust_z")):
            bad.append(f"tr[data-pillar={r['data-pillar']}] data-z: page {r['data-z']!r} api {r4(lvl.get('robust_z'))}")
        if flag_set(r["data-flags"]) != flag_set(a.get("flags")):
            bad.append(f"tr[data-pillar={r['data-pillar']}] data-flags: page {r['data-flags']!r} api {sorted(flag_set(a.get('flags')))}")
    C.ok(f"{name}: #org-rows scores, z and flags equal the API's ({len(rows)} rows, {len(by_pillar)} in API)",
         bool(rows) and not bad and len(rows) == len(by_pillar), short(bad))
    any_flags = any(flag_set(r.get("flags")) for r in api_rows)
    org_flags = b.d.find_elements(By.CSS_SELECTOR, "#org-flags")
    C.ok(f"{name}: #org-flags gives reasons", bool(org_flags) and (not any_flags or len(org_flags[0].text.strip()) > 20),
         "missing" if not org_flags else org_flags[0].text[:100])
    check_org_scores(b, dma, ods, rnd, name)
    C.ok(f"{name}: #pillar-history has charts", b.exists("#pillar-history svg"))
    preds = [p["ods_code"] for p in api.get("predecessors") or []]
    if preds:
        text = b.d.find_element(By.TAG_NAME, "main").text
        C.ok(f"{name}: names its merged predecessors {preds}", all(p in text for p in preds),
             f"missing {[p for p in preds if p not in text]}")


def check_org_scores(b: Browser, dma: Dma, ods: str, rnd: str, name: str) -> None:
    """#org-scores: each domain's score and title as /api/v1/organisations/{ods}/scores has them."""
    api = dma.api(f"/api/v1/organisations/{ods}/scores")
    mine = next((r for r in api["rounds"] if r["round"] == rnd), None)
    want = {d["domain"]: d for p in (mine or {}).get("pillars", []) for d in p["domains"]}
    rows = b.rows("#org-scores tr[data-domain]", ["data-domain", "data-score"])
    bad = []
    for r in rows:
        a = want.get(r["data-domain"])
        if a is None:
            bad.append(f"tr[data-domain={r['data-domain']}]: not in the API")
            continue
        if page_num(r["data-score"]) != r4(a["score"]):
            bad.append(f"tr[data-domain={r['data-domain']}] data-score: page {r['data-score']!r} api {r4(a['score'])}")
        if a["domain_title"] not in r["_text"]:
            bad.append(f"tr[data-domain={r['data-domain']}]: no title {a['domain_title']!r} in {r['_text']!r}")
    C.ok(f"{name}: #org-scores domain scores and titles equal the API's ({len(rows)} rows, {len(want)} in API)",
         b.exists("#org-scores") and not bad and len(rows) == len(want), short(bad))


def walk_submitter(b: Browser, dma: Dma, pub: str, pub_rows: list[dict], orgs: list[dict]) -> None:
    acute = [ods_of(o) for o in orgs if o.get("org_type") == "acute"]
    in_round = {r["org_id"] for r in pub_rows}
    mine = next((o for o in acute if o in in_round), None) or next(iter(sorted(in_round)))
    other = next(o for o in sorted(in_round) if o != mine)
    print(f"submitter for {mine}; another organisation: {other}")
    link = dma.login_link("--role", "submitter", "--org", mine)
    res = sign_in(b, link, "submitter")
    C.ok("submitter sign-in: lands on /app", b.path() in ("/app", "/app/"), b.d.current_url)
    b.after_load(dict(res, name="home (submitter)"), expect=200)
    links = {urllib.parse.urlsplit(l["href"]).path for l in b.rows("main a[href^='/app/organisations/']", ["href"])}
    C.ok(f"home (submitter): lists only {mine}", links == {f"/app/organisations/{mine}"}, short(sorted(links)))
    C.ok("home (submitter): no round links", not b.exists("main a[href^='/app/rounds/']"))
    b.visit(f"submitter: own organisation {mine}", f"/app/organisations/{mine}?round={pub}", expect=200)
    C.ok(f"submitter: own organisation page shows #org-rows", b.exists("#org-rows tr[data-pillar]"))
    check_org_scores(b, dma, mine, pub, f"submitter: own organisation {mine}")
    for name, path in (
        (f"another organisation {other}", f"/app/organisations/{other}?round={pub}"),
        ("overview", f"/app/rounds/{pub}"),
        ("heatmap", f"/app/rounds/{pub}/heatmap"),
        ("targeting", f"/app/rounds/{pub}/targeting"),
        ("areas", f"/app/rounds/{pub}/areas?by=icb"),
        ("divergence CSV", f"/app/rounds/{pub}/divergence.csv"),
        ("areas CSV", f"/app/rounds/{pub}/areas.csv"),
    ):
        b.visit(f"submitter: {name}", path, expect=403, size_check=False)
        C.ok(f"submitter: {name} shows the 403 page", "cannot see" in b.h1().lower(), repr(b.h1()))
    # A round that is not published (the demo's rounds all are): made here, then opened.
    draft = "browser-unpublished"
    dma.api_post("/api/v1/rounds", {"key": draft, "title": "Unpublished round (browser test)", "framework": "wgll-2025",
                                    "opens_at": "2026-11-01T00:00:00Z", "closes_at": "2027-01-31T00:00:00Z"})
    dma.api_post(f"/api/v1/rounds/{draft}/open", None)
    st = next(r["status"] for r in dma.api("/api/v1/rounds") if r["key"] == draft)
    print(f"made round {draft} ({st})")
    b.visit(f"submitter: own organisation {mine} in an unpublished ({st}) round",
            f"/app/organisations/{mine}?round={draft}", expect=403, size_check=False)
    C.ok(f"submitter: own organisation in an unpublished round shows the 403 page", "cannot see" in b.h1().lower(),
         f"{b.h1()!r}: {b.d.find_element(By.TAG_NAME, 'main').text[:200]!r}")


if __name__ == "__main__":
    sys.exit(main())
