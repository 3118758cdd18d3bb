#!/usr/bin/env python3
"""Real-browser walk of the CIO questionnaire (`/app/returns/...`, issue 17).

Starts the service like `dashboard.py` does (its own fresh temporary SQLite database, or
`DATABASE_URL`), then, in headless Chromium with JavaScript (autosave) and without it (the
"Save and continue" path):

1. an admin makes and opens a new round with the demo's framework, and an acute trust and a
   mental health trust are picked from /api/v1/organisations;
2. a submitter fills in the whole framework for both trusts through the form only, over two
   sittings (signing out and in again in between), with deterministic pseudo-random answers and
   some evidence: the acute trust with JavaScript, the mental health trust without;
3. every conditional question whose condition is on the same page is revealed and hidden by its
   controlling answer (live with JavaScript, after a save without), and on every pillar page each
   question's `enabled` in the questionnaire API agrees with what the page shows;
4. the overview's "questions still to answer" are the API's `missing` keys, linking to the right
   pillar page anchors, and its progress figures are the API's;
5. the check-and-submit page lists the missing mandatory questions in an error summary and a
   submit forced anyway changes nothing; an option the question does not offer is refused with
   the NHS error summary and nothing is saved;
6. a second browser's change meets the first browser's explicit save (without JavaScript) and its
   autosave (with): the conflict page shows both values, "Keep my answers" and "Use their
   answers" do what they say, and the history API keeps both saves;
7. submitting shows what will be sent, then the scores (equal to the API's stored scores), the
   next level's unmet criteria, and read-only pillar pages; the API's answers are the ones entered;
8. a submitter editing the URL to another organisation's return gets 403, and an analyst cannot
   save;
9. an admin sees the round's returns and a return's history, re-opens it with a reason, and the
   submitter can edit again;
10. "How we compare" for a submitted demo return equals the divergence API as the submitter may
    see it, names no other organisation, and prints on 1 or 2 A4 pages;
11. axe-core (WCAG 2.0/2.1/2.2 A and AA) finds nothing serious or critical on any page, with and
    without JavaScript;
12. screenshots go to docs/screenshots/return-*.png.

Prints `questionnaire: N checks passed, M failed` and exits 1 when any check failed.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from selenium.webdriver.common.by import By  # noqa: E402

from dashboard import (  # noqa: E402  (the dashboard walk runs only as a script)
    ART, ROOT, SHOT_MAX_HEIGHT, SHOT_SCALE, SHOTS, C, Browser, Dma, PageUnavailable, fetch_all_orgs, page_num, r4,
    short, sign_in,
)

NEW_ROUND = os.environ.get("QUESTIONNAIRE_ROUND", "2026-27")
SUBJECT = "cio-test"          # the CIO filling in both returns
COLLEAGUE = "cio-colleague"   # a second person, in a second browser, for the conflicts
SAVED_RE = re.compile(r"Saved at \d{1,2}:\d{2}:\d{2}")
CONFLICT_RE = re.compile(r"someone else|another person|changed (this|the) return|conflict", re.I)
SITTING_ONE = 3               # pillars filled in the first sitting; the rest in the second


# ---------------------------------------------------------------------------------------------
# The API


class Api:
    def __init__(self, dma: Dma) -> None:
        self.dma = dma
        self.tokens: dict[tuple, str] = {}

    def token(self, role: str, orgs: tuple[str, ...] = ()) -> str:
        key = (role, orgs)
        if key not in self.tokens:
            args = ["token", "--role", role, "--ttl", "8h", "--subject", f"browser-{role}"]
            for o in orgs:
                args += ["--org", o]
            self.tokens[key] = self.dma.cli(*args)
        return self.tokens[key]

    def call(self, method: str, path: str, body=None, *, role: str = "admin", orgs: tuple[str, ...] = (),
             params: dict | None = None) -> tuple[int, dict, object]:
        q = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.dma.origin + path + ("?" + urllib.parse.urlencode(q) if q else "")
        headers = {"Authorization": f"Bearer {self.token(role, orgs)}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT"):
            data = b""
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                raw = r.read()
                return r.status, {k.lower(): v for k, v in r.headers.items()}, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                j = json.loads(raw)
            except ValueError:
                j = raw.decode("utf-8", "replace")
            return e.code, {k.lower(): v for k, v in e.headers.items()}, j

    def get(self, path: str, **kw):
        st, _, j = self.call("GET", path, **kw)
        if st != 200:
            raise RuntimeError(f"GET {path} answered {st}: {str(j)[:300]}")
        return j


class Qn:
    """One organisation's questionnaire as the API has it."""

    def __init__(self, j: dict, etag: str | None) -> None:
        self.j = j
        self.etag = etag
        self.version = j["version"]
        self.status = j["status"]
        self.pillars = j["pillars"]
        self.by_key: dict[str, dict] = {}
        self.pillar_of: dict[str, str] = {}
        self.domain_of: dict[str, str] = {}
        for p in self.pillars:
            for d in p["domains"]:
                for q in d["questions"]:
                    self.by_key[q["key"]] = q
                    self.pillar_of[q["key"]] = p["key"]
                    self.domain_of[q["key"]] = d["key"]

    def pillar(self, key: str) -> dict:
        return next(p for p in self.pillars if p["key"] == key)

    def pillar_keys(self) -> list[str]:
        return [p["key"] for p in self.pillars]

    def questions(self, pillar: str) -> list[dict]:
        return [q for d in self.pillar(pillar)["domains"] for q in d["questions"]]

    def answer(self, key: str) -> dict | None:
        return self.by_key[key].get("answer")

    def value(self, key: str):
        a = self.answer(key)
        return None if a is None else a.get("value")

    def answered_applicable(self, pillar: str | None = None) -> list[str]:
        keys = self.questions(pillar) if pillar else list(self.by_key.values())
        return [q["key"] for q in keys if q.get("enabled") and q.get("answer") is not None]


def page_value(q: dict, v) -> str | None:
    """An API value as the form's input value."""
    if v is None:
        return None
    if q["type"] == "boolean":
        return "yes" if v is True else "no" if v is False else str(v)
    return str(v)


def api_value(q: dict, pv: str | None):
    if pv is None:
        return None
    if q["type"] == "boolean":
        return {"yes": True, "no": False}.get(pv, pv)
    return pv


def label(q: dict, v) -> str:
    if q["type"] == "boolean":
        return "Yes" if v is True else "No" if v is False else str(v)
    return next((o["label"] for o in q.get("options") or [] if o["code"] == v), str(v))


def norm(s: str | None) -> str:
    return re.sub(r"\s+", " ", (s or "")).strip().casefold()


def shows(text: str, q: dict, v) -> bool:
    """Whether `text` shows the answer `v` to `q` (its label, or its code)."""
    t = norm(text)
    if q["type"] == "boolean":
        return bool(re.search(r"\b" + ("yes" if v is True else "no") + r"\b", t))
    return norm(label(q, v)) in t or norm(str(v)) in t


# ---------------------------------------------------------------------------------------------
# Reading pages

QUESTIONS_JS = """
const out = [];
for (const g of document.querySelectorAll('div.nhsuk-form-group[data-question]')) {
  const key = g.getAttribute('data-question');
  const named = Array.from(document.getElementsByName('answer.' + key));
  const ev = document.getElementById('evidence-' + key);
  const sec = g.closest('section.app-domain');
  const orig = document.querySelector('input[type=hidden][name="orig.' + key + '"]');
  const style = getComputedStyle(g);
  out.push({key: key, id: g.id, type: g.getAttribute('data-type'), enabled: g.getAttribute('data-enabled'),
    hidden: g.hidden, displayed: g.getClientRects().length > 0 && style.visibility !== 'hidden' && style.display !== 'none',
    error: g.classList.contains('nhsuk-form-group--error'), domain: sec ? sec.getAttribute('data-domain') : null,
    inputs: named.map(i => ({id: i.id, type: i.type, value: i.value, checked: !!i.checked, tag: i.tagName})),
    evidence: ev ? ev.value : null, evidence_name: ev ? ev.getAttribute('name') : null,
    orig: orig ? orig.value : null});
}
return out;
"""


def read_questions(b: Browser) -> list[dict]:
    return b.d.execute_script(QUESTIONS_JS)


def answers_shown(b: Browser, selector: str) -> list[dict]:
    """`selector`'s elements as {data-question, _text}, the text as shown (innerText: the answer
    and its evidence on separate lines)."""
    return b.d.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => "
        "({'data-question': e.getAttribute('data-question'), _text: e.innerText || e.textContent}));", selector)


def checked_value(g: dict):
    vals = [i["value"] for i in g["inputs"] if i["type"] in ("radio", "checkbox") and i["checked"]]
    return vals[0] if len(vals) == 1 else (None if not vals else vals)


def attr(b: Browser, selector: str, name: str) -> str | None:
    els = b.d.find_elements(By.CSS_SELECTOR, selector)
    return els[0].get_attribute(name) if els else None


def text_of(b: Browser, selector: str) -> str:
    els = b.d.find_elements(By.CSS_SELECTOR, selector)
    return els[0].text if els else ""


def screenshot_from(b: Browser, filename: str, selector: str) -> None:
    """A screenshot of the page from `selector`'s element down (the part the picture is about)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    top = b.d.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "return e ? e.getBoundingClientRect().top + window.scrollY : 0;", selector)
    m = b.d.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = m.get("cssContentSize") or m["contentSize"]
    y = max(0, int(top) - 24)
    h = min(int(size["height"]) - y, SHOT_MAX_HEIGHT)
    shot = b.d.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": y, "width": 1280, "height": h, "scale": SHOT_SCALE}})
    data = base64.b64decode(shot["data"])
    (SHOTS / filename).write_bytes(data)
    print(f"  saved docs/screenshots/{filename} (from {selector}, {int(1280 * SHOT_SCALE)}x{int(h * SHOT_SCALE)}, "
          f"{len(data) // 1024} KB)")


def wait_for(cond, timeout: float = 15, step: float = 0.25):
    t0 = time.time()
    last = None
    while time.time() - t0 < timeout:
        last = cond()
        if last:
            return last
        time.sleep(step)
    return last


def href_path(href: str | None) -> tuple[str, str]:
    s = urllib.parse.urlsplit(href or "")
    return s.path, s.fragment


# ---------------------------------------------------------------------------------------------
# The walk


class Walk:
    def __init__(self, dma: Dma) -> None:
        self.dma = dma
        self.api = Api(dma)
        self.rnd = NEW_ROUND
        self.entered: dict[str, dict[str, dict]] = {}
        self.meets: dict[tuple[str, str], bool] = {}
        self.scale_max = 5
        self.browsers: list[Browser] = []

    # -- helpers ---------------------------------------------------------------------------------

    def qn(self, ods: str, rnd: str | None = None) -> Qn:
        rnd = rnd or self.rnd
        st, h, j = self.api.call("GET", f"/api/v1/rounds/{rnd}/assessments/{ods}/questionnaire")
        if st != 200:
            raise RuntimeError(f"questionnaire API for {rnd}/{ods} answered {st}: {str(j)[:300]}")
        return Qn(j, h.get("etag"))

    def assessment(self, ods: str, rnd: str | None = None) -> dict:
        return self.api.get(f"/api/v1/rounds/{rnd or self.rnd}/assessments/{ods}")

    def history(self, ods: str) -> list[dict]:
        h = self.api.get(f"/api/v1/rounds/{self.rnd}/assessments/{ods}/history")
        return h if isinstance(h, list) else h.get("items", [])

    def base(self, ods: str, rnd: str | None = None) -> str:
        return f"/app/returns/{rnd or self.rnd}/{ods}"

    def choose(self, ods: str, q: dict):
        """The deterministic pseudo-random answer (and evidence) for one question."""
        rng = random.Random(f"{ods}/{q['key']}")
        if q["type"] == "boolean":
            v = rng.random() < 0.65
        else:
            v = rng.choice([o["code"] for o in q["options"]])
        ev = None
        if rng.random() < 0.25:
            ev = f"Evidence for {q['key']}: board paper {rng.randint(1, 40)}, section {rng.randint(1, 9)}."
        return v, ev

    def click_answer(self, b: Browser, ods: str, q: dict, v) -> None:
        """Chooses an answer as a person does: a click on the option's label."""
        pv = page_value(q, v)
        inp = b.d.find_element(By.CSS_SELECTOR, f'input[name="answer.{q["key"]}"][value="{pv}"]')
        labels = b.d.find_elements(By.CSS_SELECTOR, f'label[for="{inp.get_attribute("id")}"]')
        target = labels[0] if labels else inp
        b.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
        target.click()
        if not inp.is_selected():
            raise RuntimeError(f"clicking {q['key']} = {pv} did not select it")
        e = self.entered.setdefault(ods, {}).setdefault(q["key"], {"value": None, "evidence": None})
        e["value"] = v

    def type_evidence(self, b: Browser, ods: str, key: str, text: str) -> None:
        ta = b.d.find_element(By.ID, f"evidence-{key}")
        b.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", ta)
        ta.send_keys(text)
        self.entered.setdefault(ods, {}).setdefault(key, {"value": None, "evidence": None})["evidence"] = text

    def api_diff(self, ods: str, keys, answers: dict) -> list[str]:
        """Where the API's stored answers differ from what was entered (for these keys)."""
        bad = []
        for k in keys:
            want = self.entered.get(ods, {}).get(k)
            if want is None:
                continue
            got = answers.get(k)
            gv = None if got is None else got.get("value")
            ge = None if got is None else got.get("evidence")
            if gv != want["value"] or (ge or None) != (want["evidence"] or None):
                bad.append(f"{k}: API {gv!r}/{ge!r}, entered {want['value']!r}/{want['evidence']!r}")
        return bad

    def wait_saved(self, b: Browser, ods: str, keys, expect: dict | None = None, timeout: float = 30) -> tuple[bool, str]:
        """With JavaScript: waits until #autosave-status says Saved, the API has what was entered
        on the page and the page's `version` is the API's."""
        detail = ""
        t0 = time.time()
        while time.time() - t0 < timeout:
            status = text_of(b, "#autosave-status")
            ver = attr(b, "#return-form input[name=version]", "value")
            a = self.assessment(ods)
            if expect is not None:
                bad = [f"{k}: API {(a['answers'].get(k) or {}).get('value')!r}, want {v!r}"
                       for k, v in expect.items() if (a["answers"].get(k) or {}).get("value") != v]
            else:
                bad = self.api_diff(ods, keys, a["answers"])
            detail = f"#autosave-status {status!r}, page version {ver}, API version {a['version']}; {short(bad, 4)}"
            if SAVED_RE.search(status) and not bad and ver == str(a["version"]):
                return True, detail
            time.sleep(0.5)
        return False, detail

    def group(self, b: Browser, key: str) -> dict | None:
        return next((g for g in read_questions(b) if g["key"] == key), None)

    def csrf(self, b: Browser) -> str:
        return attr(b, "input[name=csrf_token]", "value") or ""

    def forced_post(self, b: Browser, name: str, path: str, fields: dict, expect: int | None) -> dict:
        """A POST from the browser itself (its cookies, its origin) of a form the page does not
        offer: what a person could send by editing the page or the URL."""
        b.d.execute_script(
            """
            const [action, fields] = arguments;
            const f = document.createElement('form');
            f.method = 'post'; f.action = action; f.id = 'bt-forced';
            for (const [k, v] of Object.entries(fields)) {
              const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
            }
            const s = document.createElement('button'); s.type = 'submit'; s.id = 'bt-forced-send'; s.textContent = 'Send';
            f.appendChild(s); document.body.appendChild(f);
            """, path, fields)
        btn = b.d.find_element(By.ID, "bt-forced-send")
        b.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", btn)
        res = b.load(name, btn.click)
        b.after_load(res, expect=expect, size_check=False)
        return res

    @contextmanager
    def section(self, name: str):
        """`C.section`, then stops the walk if the service has died (its log's tail says why)."""
        with C.section(name):
            yield
        if self.dma.proc is None or self.dma.proc.poll() is not None:
            raise RuntimeError(f"the service stopped during {name!r} (exit {self.dma.proc and self.dma.proc.returncode}):\n"
                               f"{self.dma.log_tail(40)}")

    def mode(self, b: Browser) -> str:
        return "JS" if b.js else "no JS"

    # -- sign in and out -------------------------------------------------------------------------

    def sign_in(self, b: Browser, name: str, *args: str) -> None:
        link = self.dma.login_link(*args)
        res = sign_in(b, link, name)
        b.after_load(dict(res, name=f"{name}: home"), expect=200)
        C.ok(f"{name}: lands on /app", b.path() in ("/app", "/app/"), b.d.current_url)

    def sign_out(self, b: Browser, name: str, check_path: str | None = None) -> None:
        if b.path() not in ("/app", "/app/"):
            # Error pages (403) have no header account menu: from the home page, as a person would.
            b.visit(f"{name}: home", "/app", expect=200, axe=False, size_check=False)
        btn = b.d.find_elements(By.XPATH, "//header//button[normalize-space()='Sign out']")
        if not C.ok(f"{name}: header has a Sign out button", bool(btn)):
            return
        res = b.load(f"{name}: sign out", btn[0].click)
        b.after_load(res, expect=200, size_check=False)
        C.ok(f"{name}: signed out (/app/signed-out)", b.path() == "/app/signed-out", b.d.current_url)
        if check_path:
            b.visit(f"{name}: {check_path} after signing out", check_path, expect=200, axe=False, size_check=False)
            C.ok(f"{name}: {check_path} after signing out goes to /app/sign-in", b.path() == "/app/sign-in",
                 b.d.current_url)

    # -- page checks -----------------------------------------------------------------------------

    def check_home(self, b: Browser, name: str, orgs: list[str]) -> None:
        rounds = self.api.get("/api/v1/rounds")
        rounds = rounds if isinstance(rounds, list) else rounds.get("items", [])
        live = [r["key"] for r in rounds if r.get("status") in ("open", "published")]
        want = {f"/app/returns/{r}/{o}" for r in live for o in orgs}
        links = {href_path(l["href"])[0] for l in b.rows("#your-returns a[href^='/app/returns/']", ["href"])}
        C.ok(f"{name}: #your-returns links to each open or published round's return of {orgs} ({len(want)})",
             links == want, f"missing {short(sorted(want - links))}; extra {short(sorted(links - want))}")

    def check_overview(self, b: Browser, name: str, ods: str, qn: Qn, *, viewer: str = "submitter") -> None:
        base = self.base(ods)
        C.ok(f"{name}: h1 names the organisation ({qn.j.get('organisation_name')!r})",
             norm(qn.j.get("organisation_name")) in norm(b.h1()) and bool(qn.j.get("organisation_name")), repr(b.h1()))
        st = attr(b, "strong#return-status", "data-status")
        C.ok(f"{name}: #return-status is the API's status {qn.status!r}", st == qn.status, repr(st))
        prog = b.rows("table#return-progress", ["data-answered", "data-applicable", "data-missing"])
        want = (str(qn.j["answered"]), str(qn.j["applicable"]), str(qn.j["missing_mandatory"]))
        got = tuple(prog[0][a] for a in ("data-answered", "data-applicable", "data-missing")) if prog else None
        C.ok(f"{name}: #return-progress answered/applicable/missing equal the API's {want}", got == want, repr(got))
        rows = b.rows("table#return-progress tr[data-pillar]", ["data-pillar", "data-answered", "data-applicable", "data-missing"])
        bad = []
        for r in rows:
            try:
                p = qn.pillar(r["data-pillar"])
            except StopIteration:
                bad.append(f"tr[data-pillar={r['data-pillar']}]: not a pillar of the API's")
                continue
            w = (str(p["answered"]), str(p["applicable"]), str(p["missing_mandatory"]))
            g = (r["data-answered"], r["data-applicable"], r["data-missing"])
            if g != w:
                bad.append(f"tr[data-pillar={r['data-pillar']}]: page {g} API {w}")
            if f"{base}/{p['key']}" not in [href_path(h)[0] for h in r["_links"]]:
                bad.append(f"tr[data-pillar={r['data-pillar']}]: no link to {base}/{p['key']} ({r['_links']})")
        C.ok(f"{name}: #return-progress rows are the API's pillars, in order, with its counts and links",
             [r["data-pillar"] for r in rows] == qn.pillar_keys() and not bad,
             f"page {[r['data-pillar'] for r in rows]}; API {qn.pillar_keys()}; {short(bad)}")
        links = b.rows("#still-to-answer a[data-question]", ["data-question", "href"])
        missing = qn.j["missing"]
        keys = [l["data-question"] for l in links]
        C.ok(f"{name}: #still-to-answer lists exactly the API's missing questions ({len(missing)})",
             sorted(keys) == sorted(missing) and len(set(keys)) == len(keys),
             f"only on the page {short(sorted(set(keys) - set(missing)))}; only in the API {short(sorted(set(missing) - set(keys)))}")
        bad = []
        for l in links:
            k = l["data-question"]
            p = qn.pillar_of.get(k)
            want_href = f"{base}/{p}#q-{k}"
            got = href_path(l["href"])
            if (got[0], got[1]) != (f"{base}/{p}", f"q-{k}"):
                bad.append(f"{k}: {l['href']} (want {want_href})")
        C.ok(f"{name}: each question still to answer links to its pillar page's #q-KEY", not bad, short(bad))
        editable = qn.status != "submitted"
        sub = attr(b, "a#check-and-submit", "href")
        if viewer == "submitter" and editable:
            C.ok(f"{name}: a#check-and-submit links to {base}/submit", href_path(sub)[0] == f"{base}/submit", repr(sub))
        elif not editable:
            C.ok(f"{name}: no a#check-and-submit once submitted", sub is None, repr(sub))
        hist = attr(b, "a#history-link", "href")
        if viewer == "admin":
            C.ok(f"{name}: a#history-link (admin) links to {base}/history", href_path(hist)[0] == f"{base}/history", repr(hist))
        elif viewer == "submitter":
            C.ok(f"{name}: no a#history-link for a submitter", hist is None, repr(hist))

    def check_pillar_page(self, b: Browser, name: str, ods: str, pillar: str, qn: Qn,
                          check_answers: bool = True) -> list[dict]:
        """An editable pillar page against the questionnaire API."""
        base = self.base(ods)
        C.ok(f"{name}: form#return-form posts to the page", b.exists("form#return-form")
             and href_path(attr(b, "form#return-form", "action") or b.d.current_url)[0] == f"{base}/{pillar}",
             repr(attr(b, "form#return-form", "action")))
        C.ok(f"{name}: the form has csrf_token and version = the API's {qn.version}",
             bool(attr(b, "#return-form input[type=hidden][name=csrf_token]", "value"))
             and attr(b, "#return-form input[name=version]", "value") == str(qn.version),
             f"version {attr(b, '#return-form input[name=version]', 'value')!r}")
        C.ok(f"{name}: button#save-continue and button#save",
             attr(b, "button#save-continue", "value") == "continue" and attr(b, "button#save", "value") == "save"
             and attr(b, "button#save-continue", "name") == "action" and attr(b, "button#save", "name") == "action")
        groups = read_questions(b)
        want = qn.questions(pillar)
        C.ok(f"{name}: the page asks the API's questions of this pillar, in order ({len(want)})",
             [g["key"] for g in groups] == [q["key"] for q in want],
             f"only on the page {short(sorted({g['key'] for g in groups} - {q['key'] for q in want}))}; "
             f"only in the API {short(sorted({q['key'] for q in want} - {g['key'] for g in groups}))}")
        doms = [d["key"] for d in qn.pillar(pillar)["domains"]]
        page_doms = [r["data-domain"] for r in b.rows("section.app-domain[data-domain]", ["data-domain"])]
        C.ok(f"{name}: section.app-domain per API domain", page_doms == doms, f"page {page_doms}; API {doms}")
        self.check_enabled(b, name, qn, pillar, groups)
        bad_shape, bad_ans, bad_ev, bad_orig = [], [], [], []
        for g in groups:
            q = qn.by_key.get(g["key"])
            if q is None:
                continue
            if g["id"] != f"q-{q['key']}" or g["type"] != q["type"] or g["domain"] != qn.domain_of[q["key"]]:
                bad_shape.append(f"{q['key']}: id {g['id']!r} type {g['type']!r} domain {g['domain']!r}")
            if q["type"] == "boolean":
                shape = [(i["id"], i["value"]) for i in g["inputs"]]
                if shape != [(f"answer-{q['key']}", "yes"), (f"answer-{q['key']}-no", "no")] or any(i["type"] != "radio" for i in g["inputs"]):
                    bad_shape.append(f"{q['key']}: radios {shape}")
            elif q["type"] == "single_choice":
                ids = [f"answer-{q['key']}"] + [f"answer-{q['key']}-{n}" for n in range(2, len(q["options"]) + 1)]
                shape = [(i["id"], i["value"]) for i in g["inputs"]]
                if shape != list(zip(ids, [o["code"] for o in q["options"]])) or any(i["type"] != "radio" for i in g["inputs"]):
                    bad_shape.append(f"{q['key']}: radios {shape}")
            if g["evidence_name"] != f"evidence.{q['key']}":
                bad_ev.append(f"{q['key']}: no textarea#evidence-{q['key']} named evidence.{q['key']}")
            if g["orig"] is None:
                bad_orig.append(q["key"])
            if check_answers and q.get("enabled"):
                a = q.get("answer")
                want_v = page_value(q, None if a is None else a.get("value"))
                if checked_value(g) != want_v:
                    bad_ans.append(f"{q['key']}: page {checked_value(g)!r}, API {want_v!r}")
                want_e = (a or {}).get("evidence") or ""
                if g["evidence_name"] and (g["evidence"] or "") != want_e:
                    bad_ev.append(f"{q['key']}: evidence {g['evidence']!r}, API {want_e!r}")
        C.ok(f"{name}: each question's group, type, domain and inputs are as the contract says", not bad_shape, short(bad_shape))
        C.ok(f"{name}: an evidence field per question showing the API's evidence", not bad_ev, short(bad_ev))
        C.ok(f"{name}: a hidden orig.KEY per question", not bad_orig, short(bad_orig))
        if check_answers:
            C.ok(f"{name}: the checked answers and evidence of the questions asked are the API's", not bad_ans, short(bad_ans))
            self.check_progress(b, name, qn, pillar)
        return groups

    def check_progress(self, b: Browser, name: str, qn: Qn, pillar: str) -> None:
        """#pillar-progress: its figures, and the numbers its text gives, are the API's counts."""
        p = qn.pillar(pillar)
        w = (str(p["answered"]), str(p["applicable"]), str(p["missing_mandatory"]))
        got = tuple(attr(b, "#pillar-progress", a) for a in ("data-answered", "data-applicable", "data-missing"))
        text = text_of(b, "#pillar-progress")
        nums = re.findall(r"\d+", text)
        want_nums = [w[0], w[1]] + ([w[2]] if p["missing_mandatory"] else [])
        C.ok(f"{name}: #pillar-progress equals the API's pillar counts {w}, in its figures and its text",
             got == w and nums == want_nums, f"data {got}; text {text!r}")

    def check_enabled(self, b: Browser, name: str, qn: Qn, pillar: str, groups: list[dict] | None = None) -> None:
        """The API's `enabled` against what the page shows, for every question on the page."""
        groups = read_questions(b) if groups is None else groups
        bad = []
        for g in groups:
            q = qn.by_key.get(g["key"])
            if q is None or qn.pillar_of[g["key"]] != pillar:
                continue
            en = bool(q.get("enabled"))
            if g["enabled"] != ("true" if en else "false") or g["hidden"] == en or g["displayed"] != en:
                bad.append(f"{g['key']}: API enabled {en}; data-enabled {g['enabled']!r}, hidden {g['hidden']}, shown {g['displayed']}")
        n_cond = sum(1 for q in qn.questions(pillar) if q.get("condition"))
        C.ok(f"{name}: every question's data-enabled, hidden and visibility agree with the API's enabled "
             f"({len(groups)} questions, {n_cond} conditional)", bool(groups) and not bad, short(bad))

    def check_readonly_pillar(self, b: Browser, name: str, ods: str, pillar: str, qn: Qn) -> None:
        C.ok(f"{name}: read-only: no form#return-form and no answer inputs",
             not b.exists("form#return-form") and not b.exists("input[name^='answer.']"))
        C.ok(f"{name}: read-only: dl.nhsuk-summary-list", b.exists("dl.nhsuk-summary-list"))
        dds = answers_shown(b, "dl.nhsuk-summary-list dd[data-question]")
        want = qn.answered_applicable(pillar)
        bad = [f"{d['data-question']}: {d['_text'][:80]!r}" for d in dds
               if d["data-question"] in qn.by_key and not shows(d["_text"], qn.by_key[d["data-question"]], qn.value(d["data-question"]))]
        C.ok(f"{name}: read-only: dd[data-question] for each answered question, showing the API's answer ({len(want)})",
             sorted(d["data-question"] for d in dds) == sorted(want) and not bad,
             f"page {len(dds)} API {len(want)}; only in API {short(sorted(set(want) - {d['data-question'] for d in dds}))}; {short(bad)}")

    def check_submit_summary(self, b: Browser, name: str, qn: Qn) -> None:
        dds = answers_shown(b, "#submit-summary dd[data-question]")
        want = qn.answered_applicable()
        bad = [f"{d['data-question']}: {d['_text'][:80]!r} (API {qn.value(d['data-question'])!r})" for d in dds
               if d["data-question"] in qn.by_key and not shows(d["_text"], qn.by_key[d["data-question"]], qn.value(d["data-question"]))]
        C.ok(f"{name}: #submit-summary shows every answered applicable question, as the API has it ({len(want)})",
             sorted(d["data-question"] for d in dds) == sorted(want) and not bad,
             f"page {len(dds)}, API {len(want)}; only in API {short(sorted(set(want) - {d['data-question'] for d in dds}))}; "
             f"only on page {short(sorted({d['data-question'] for d in dds} - set(want)))}; {short(bad)}")

    def check_error_links(self, b: Browser, name: str, ods: str, qn: Qn, keys: list[str]) -> list[dict]:
        """An error summary linking to each of `keys` on its pillar page."""
        base = self.base(ods)
        links = b.rows(".nhsuk-error-summary a[href]", ["href"])
        got: dict[str, str] = {}
        bad = []
        for l in links:
            path, frag = href_path(l["href"])
            m = re.fullmatch(r"(?:q|answer)-(.+)", frag)
            if not m:
                bad.append(f"{l['href']}: not an anchor #q-KEY or #answer-KEY")
                continue
            k = m.group(1)
            got[k] = l["href"]
            p = qn.pillar_of.get(k)
            if path != f"{base}/{p}":
                bad.append(f"{k}: {l['href']} is not on its pillar page {base}/{p}")
        C.ok(f"{name}: .nhsuk-error-summary", b.exists(".nhsuk-error-summary"))
        C.ok(f"{name}: the error summary links to exactly the missing questions ({len(keys)})",
             sorted(got) == sorted(keys), f"only on the page {short(sorted(set(got) - set(keys)))}; "
                                          f"only in the API {short(sorted(set(keys) - set(got)))}")
        C.ok(f"{name}: each error links to its field on its pillar page", bool(links) and not bad, short(bad))
        empty = [l["href"] for l in links if not l["_text"].strip() or "`" in l["_text"]]
        C.ok(f"{name}: each error says in words what is missing", bool(links) and not empty, short(empty))
        return links

    def check_scores(self, b: Browser, name: str, ods: str, rnd: str, qn: Qn, scores: dict | None) -> None:
        """#return-scores and #next-level against the API's stored scores."""
        if not C.ok(f"{name}: the API has stored scores for the submitted return", bool(scores)):
            return
        C.ok(f"{name}: table#return-scores data-overall = the API's overall {r4(scores.get('score'))}",
             b.exists("table#return-scores") and page_num(attr(b, "table#return-scores", "data-overall")) == r4(scores.get("score")),
             repr(attr(b, "table#return-scores", "data-overall")))
        prow = {r["data-pillar"]: r for r in b.rows("#return-scores tr[data-pillar]", ["data-pillar", "data-score"])}
        drow = {r["data-domain"]: r for r in b.rows("#return-scores tr[data-domain]", ["data-domain", "data-score"])}
        bad, dbad = [], []
        api_p, api_d = {}, {}
        for p in scores.get("pillars", []):
            api_p[p["pillar"]] = p
            for d in p.get("domains", []):
                api_d[d["domain"]] = d
        titles_p = {p["key"]: p["title"] for p in qn.pillars}
        titles_d = {d["key"]: d["title"] for p in qn.pillars for d in p["domains"]}
        for k, a in api_p.items():
            r = prow.get(k)
            if r is None:
                bad.append(f"pillar {k}: no row")
            elif page_num(r["data-score"]) != r4(a.get("score")):
                bad.append(f"pillar {k}: page {r['data-score']!r} API {r4(a.get('score'))}")
            elif titles_p.get(k) and norm(titles_p[k]) not in norm(r["_text"]):
                bad.append(f"pillar {k}: no title {titles_p[k]!r} in {r['_text'][:80]!r}")
        for k, a in api_d.items():
            r = drow.get(k)
            if r is None:
                dbad.append(f"domain {k}: no row")
            elif page_num(r["data-score"]) != r4(a.get("score")):
                dbad.append(f"domain {k}: page {r['data-score']!r} API {r4(a.get('score'))}")
            elif titles_d.get(k) and norm(titles_d[k]) not in norm(r["_text"]):
                dbad.append(f"domain {k}: no title {titles_d[k]!r} in {r['_text'][:80]!r}")
        C.ok(f"{name}: every pillar score (and title) on the page is the API's ({len(api_p)})",
             bool(api_p) and not bad and set(prow) == set(api_p), f"{short(bad)}; extra {sorted(set(prow) - set(api_p))}")
        C.ok(f"{name}: every domain score (and title) on the page is the API's ({len(api_d)})",
             bool(api_d) and not dbad and set(drow) == set(api_d), f"{short(dbad)}; extra {sorted(set(drow) - set(api_d))}")
        # The next level: the criteria of the level above the domain's that are not met.
        if qn.j["framework"].get("method") != "staged":
            return
        want: dict[str, set] = {}
        for p in qn.pillars:
            for d in p["domains"]:
                lvl = (api_d.get(d["key"]) or {}).get("score")
                if lvl is None or lvl >= self.scale_max:
                    continue
                nxt = int(lvl) + 1
                unmet = set()
                for q in d["questions"]:
                    if not q.get("enabled") or q.get("level") != nxt:
                        continue
                    v = (q.get("answer") or {}).get("value")
                    met = v is True if q["type"] == "boolean" else bool(self.meets.get((q["key"], v)))
                    if not met:
                        unmet.add(q["key"])
                want[d["key"]] = unmet
        got = b.d.execute_script(
            """
            const out = {};
            for (const li of document.querySelectorAll('#next-level li[data-domain]')) {
              out[li.getAttribute('data-domain')] = Array.from(li.querySelectorAll('li[data-question]')).map(x => x.getAttribute('data-question'));
            }
            return out;
            """)
        bad = []
        for d, unmet in want.items():
            if set(got.get(d, [])) != unmet:
                bad.append(f"{d}: page {sorted(got.get(d, []))}, expected {sorted(unmet)}")
        for d, ks in got.items():
            if d not in want and ks:
                bad.append(f"{d}: page lists {ks} but the domain is at the top level or has none")
        C.ok(f"{name}: #next-level lists, per domain below level {self.scale_max}, the next level's unmet criteria "
             f"({sum(len(v) for v in want.values())} in {len(want)} domains)", b.exists("#next-level") and not bad, short(bad))

    # -- filling in ------------------------------------------------------------------------------

    def condition_pairs(self, qn: Qn, pillar: str) -> list[tuple[str, str, object, object]]:
        """(dependent, controlling, a value that enables it, one that does not (or None)) for every
        single-condition question whose controlling question is on the same page."""
        on_page = {q["key"] for q in qn.questions(pillar)}
        pairs = []
        for q in qn.questions(pillar):
            c = q.get("condition")
            conds = (c or {}).get("conditions") or []
            if len(conds) != 1:
                continue
            cond = conds[0]
            ctrl = qn.by_key.get(cond.get("question"))
            if ctrl is None or ctrl["key"] not in on_page or ctrl.get("condition") or ctrl["type"] not in ("boolean", "single_choice"):
                continue
            op = cond.get("operator")
            if op == "=":
                yes = cond.get("answer")
                no = (not yes) if ctrl["type"] == "boolean" else next(
                    (o["code"] for o in ctrl["options"] if o["code"] != yes), None)
            elif op == "exists" and cond.get("answer", True) in (True, None):
                yes = True if ctrl["type"] == "boolean" else ctrl["options"][0]["code"]
                no = None
            else:
                continue
            pairs.append((q["key"], ctrl["key"], yes, no))
        return pairs

    def test_conditions(self, b: Browser, name: str, ods: str, pillar: str, qn: Qn) -> None:
        pairs = self.condition_pairs(qn, pillar)
        if not pairs:
            return
        print(f"  conditions on this page: {[(d, c, y, n) for d, c, y, n in pairs]}")
        for dep, ctrl, yes, no in pairs:
            cq = qn.by_key[ctrl]
            g = self.group(b, dep)
            tag = f"{name}: {dep} (when {ctrl} = {page_value(cq, yes)})"
            if qn.value(ctrl) is not None and no is None:
                continue  # an `exists` condition already holding: nothing to show
            if b.js:
                b.d.execute_script("window.__btSamePage = 1")
                self.click_answer(b, ods, cq, yes)
                g = wait_for(lambda: (lambda g: g if g and g["displayed"] and not g["hidden"] else None)(self.group(b, dep))) \
                    or self.group(b, dep)
                C.ok(f"{tag}: answering {page_value(cq, yes)} reveals #q-{dep} (not hidden, visible)",
                     bool(g) and g["displayed"] and not g["hidden"], repr(g and {k: g[k] for k in ('hidden', 'displayed', 'enabled')}))
                ok, detail = self.wait_saved(b, ods, [ctrl])
                C.ok(f"{tag}: autosaved", ok, detail)
                q2 = self.qn(ods)
                C.ok(f"{tag}: the API has {dep} enabled", bool(q2.by_key[dep].get("enabled")))
                self.check_enabled(b, f"{tag} (after yes)", q2, pillar)
                if no is not None:
                    self.click_answer(b, ods, cq, no)
                    g = wait_for(lambda: (lambda g: g if g and not g["displayed"] and g["hidden"] else None)(self.group(b, dep))) \
                        or self.group(b, dep)
                    C.ok(f"{tag}: answering {page_value(cq, no)} hides #q-{dep} again",
                         bool(g) and not g["displayed"] and g["hidden"], repr(g and {k: g[k] for k in ('hidden', 'displayed', 'enabled')}))
                    ok, detail = self.wait_saved(b, ods, [ctrl])
                    C.ok(f"{tag}: autosaved", ok, detail)
                    q2 = self.qn(ods)
                    C.ok(f"{tag}: the API has {dep} not enabled", not q2.by_key[dep].get("enabled"))
                    self.check_enabled(b, f"{tag} (after no)", q2, pillar)
                C.ok(f"{tag}: shown and hidden without a reload", b.d.execute_script("return window.__btSamePage === 1"))
            else:
                path = f"{self.base(ods)}/{pillar}"
                self.click_answer(b, ods, cq, yes)
                g = self.group(b, dep)
                C.ok(f"{tag}: without JavaScript nothing changes before a save (#q-{dep} still hidden)",
                     bool(g) and g["hidden"] and not g["displayed"], repr(g and {k: g[k] for k in ('hidden', 'displayed')}))
                res = b.load(f"{tag}: save", b.d.find_element(By.ID, "save").click)
                b.after_load(res, expect=200, size_check=False)
                C.ok(f"{tag}: Save stays on the page", b.path() == path, b.d.current_url)
                g = self.group(b, dep)
                C.ok(f"{tag}: after the save the page shows #q-{dep}", bool(g) and g["displayed"] and not g["hidden"]
                     and g["enabled"] == "true", repr(g and {k: g[k] for k in ('hidden', 'displayed', 'enabled')}))
                q2 = self.qn(ods)
                C.ok(f"{tag}: the API has {dep} enabled and {ctrl} saved",
                     bool(q2.by_key[dep].get("enabled")) and q2.value(ctrl) == yes, repr(q2.value(ctrl)))
                self.check_enabled(b, f"{tag} (after yes)", q2, pillar)
                if no is not None:
                    self.click_answer(b, ods, cq, no)
                    res = b.load(f"{tag}: save", b.d.find_element(By.ID, "save").click)
                    b.after_load(res, expect=200, size_check=False)
                    g = self.group(b, dep)
                    C.ok(f"{tag}: after answering {page_value(cq, no)} and saving, #q-{dep} is hidden",
                         bool(g) and not g["displayed"] and g["hidden"] and g["enabled"] == "false",
                         repr(g and {k: g[k] for k in ('hidden', 'displayed', 'enabled')}))
                    q2 = self.qn(ods)
                    C.ok(f"{tag}: the API has {dep} not enabled", not q2.by_key[dep].get("enabled"))
                    self.check_enabled(b, f"{tag} (after no)", q2, pillar)

    def answer_shown(self, b: Browser, ods: str, qn: Qn) -> int:
        """Answers every question the page shows as this walk chooses (and some evidence)."""
        n = 0
        for g in read_questions(b):
            q = qn.by_key.get(g["key"])
            if q is None or not g["displayed"]:
                continue
            v, ev = self.choose(ods, q)
            if checked_value(g) != page_value(q, v):
                self.click_answer(b, ods, q, v)
                n += 1
            elif g["key"] not in self.entered.get(ods, {}):
                self.entered.setdefault(ods, {})[g["key"]] = {"value": v, "evidence": (q.get("answer") or {}).get("evidence")}
            if ev and not (g["evidence"] or "").strip():
                self.type_evidence(b, ods, g["key"], ev)
                n += 1
        return n

    def fill_pillar(self, b: Browser, ods: str, pillar: str, qn: Qn, shot: str | None = None) -> None:
        """On the pillar's page already: checks it, tries its conditions, answers it all, and
        leaves with "Save and continue"."""
        base = self.base(ods)
        name = f"{ods} {pillar} [{self.mode(b)}]"
        keys = qn.pillar_keys()
        i = keys.index(pillar)
        next_path = f"{base}/{keys[i + 1]}" if i + 1 < len(keys) else base
        self.check_pillar_page(b, name, ods, pillar, qn)
        self.test_conditions(b, name, ods, pillar, self.qn(ods))
        page_keys = [q["key"] for q in qn.questions(pillar)]
        for attempt in range(1, 8):
            qn = self.qn(ods)
            shown_before = {g["key"] for g in read_questions(b) if g["displayed"]}
            changed = self.answer_shown(b, ods, qn)
            if b.js:
                if changed:
                    ok, detail = self.wait_saved(b, ods, page_keys)
                    C.ok(f"{name}: autosave stored every answer entered (pass {attempt})", ok, detail)
                    if not ok:
                        raise PageUnavailable(f"{name}: autosave did not store the answers")
                    self.check_progress(b, f"{name} (after autosave, pass {attempt})", self.qn(ods), pillar)
                    continue
                if shot:
                    b.screenshot(shot)
                res = b.load(f"{name}: save and continue", b.d.find_element(By.ID, "save-continue").click)
                b.after_load(res, expect=200, size_check=False)
                C.ok(f"{name}: Save and continue goes to {next_path}", b.path() == next_path, b.d.current_url)
                break
            res = b.load(f"{name}: save and continue", b.d.find_element(By.ID, "save-continue").click)
            b.after_load(res, expect=200, size_check=False)
            q2 = self.qn(ods)
            bad = self.api_diff(ods, page_keys, {k: q2.answer(k) for k in page_keys if q2.answer(k) is not None})
            C.ok(f"{name}: Save and continue stored every answer entered (pass {attempt})", not bad, short(bad))
            revealed = [k for k in page_keys if k not in shown_before and q2.by_key[k].get("enabled")
                        and q2.answer(k) is None]
            if revealed:
                if not C.ok(f"{name}: the save revealed {revealed}: Save and continue stays on the page",
                            b.path() == f"{base}/{pillar}", b.d.current_url):
                    raise PageUnavailable(f"{name}: left the page with questions still hidden")
                self.check_pillar_page(b, f"{name} (re-rendered)", ods, pillar, q2)
                continue
            C.ok(f"{name}: Save and continue goes to {next_path}", b.path() == next_path, b.d.current_url)
            break
        else:
            C.ok(f"{name}: filled in within 7 passes", False)
        q2 = self.qn(ods)
        p = q2.pillar(pillar)
        C.ok(f"{name}: the API has the pillar complete ({p['answered']}/{p['applicable']}, missing {p['missing_mandatory']})",
             p["missing_mandatory"] == 0 and p["answered"] == p["applicable"])
        bad = self.api_diff(ods, page_keys, {k: q2.answer(k) for k in page_keys if q2.answer(k) is not None})
        C.ok(f"{name}: the API's answers are what was entered", not bad, short(bad))

    def sitting(self, b: Browser, ods: str, pillars: list[str], label_: str, *, first: bool,
                overview_shot: str | None = None, pillar_shot: tuple[str, str] | None = None) -> None:
        """One sitting: from the home page to the return, fill `pillars` in order."""
        base = self.base(ods)
        name = f"{label_} {ods} [{self.mode(b)}]"
        link = next((l for l in b.d.find_elements(By.CSS_SELECTOR, f"#your-returns a[href='{base}']")), None)
        if link is not None:
            res = b.load(f"{name}: overview (from the home page)", link.click)
            b.after_load(res, expect=200, shot=None)
        else:
            C.ok(f"{name}: #your-returns links to {base}", False)
            b.visit(f"{name}: overview", base, require=True)
        C.ok(f"{name}: at the overview", b.path() == base, b.d.current_url)
        qn = self.qn(ods)
        self.check_overview(b, f"{name}: overview", ods, qn)
        if first:
            # As a person starts: the first pillar's link in the progress table.
            a = b.d.find_elements(By.CSS_SELECTOR, f"table#return-progress tr[data-pillar='{pillars[0]}'] a[href]")
            if not C.ok(f"{name}: the progress table links to {pillars[0]}", bool(a)):
                b.visit(f"{name}: {pillars[0]}", f"{base}/{pillars[0]}", require=True)
            else:
                res = b.load(f"{name}: {pillars[0]} (from the overview)", a[0].click)
                b.after_load(res, expect=200, size_check=True)
        else:
            # As a person continues: the first question still to answer.
            a = b.d.find_elements(By.CSS_SELECTOR, "#still-to-answer a[data-question]")
            if not C.ok(f"{name}: there are questions still to answer", bool(a)):
                raise PageUnavailable("nothing still to answer")
            key = a[0].get_attribute("data-question")
            res = b.load(f"{name}: first question still to answer ({key})", a[0].click)
            b.after_load(res, expect=200, size_check=True)
            C.ok(f"{name}: the link lands on {base}/{qn.pillar_of.get(key)}#q-{key}",
                 b.path() == f"{base}/{qn.pillar_of.get(key)}" and urllib.parse.urlsplit(b.d.current_url).fragment == f"q-{key}",
                 b.d.current_url)
            g = self.group(b, key)
            C.ok(f"{name}: #q-{key} is on the page and shown", bool(g) and g["displayed"])
            C.ok(f"{name}: it is the first pillar of this sitting ({pillars[0]})", qn.pillar_of.get(key) == pillars[0],
                 qn.pillar_of.get(key))
        for p in pillars:
            if b.path() != f"{base}/{p}":
                b.visit(f"{name}: {p}", f"{base}/{p}", require=True)
            shot = pillar_shot[1] if pillar_shot and pillar_shot[0] == p else None
            self.fill_pillar(b, ods, p, self.qn(ods), shot=shot)
        if b.path() != base:
            b.visit(f"{name}: overview after the sitting", base, require=True, shot=overview_shot)
        elif overview_shot:
            b.screenshot(overview_shot)
        self.check_overview(b, f"{name}: overview after the sitting", ods, self.qn(ods))

    # -- the parts of the walk ---------------------------------------------------------------------

    def setup(self) -> None:
        rounds = self.api.get("/api/v1/rounds")
        rounds = rounds if isinstance(rounds, list) else rounds.get("items", [])
        published = [r for r in rounds if r.get("status") == "published"]
        print(f"rounds {[(r['key'], r.get('status'), r.get('framework')) for r in rounds]}")
        if not published:
            raise RuntimeError("no published round in the demo data")
        self.pub = published[-1]["key"]
        fw = published[-1].get("framework") or published[-1].get("framework_key")
        keys = {r["key"] for r in rounds}
        while self.rnd in keys:
            self.rnd += "-b"
        st, _, j = self.api.call("POST", "/api/v1/rounds", {
            "key": self.rnd, "title": f"Digital maturity assessment {self.rnd} (browser test)", "framework": fw,
            "opens_at": "2026-10-01T00:00:00Z", "closes_at": "2027-03-31T23:59:59Z"})
        C.ok(f"admin creates round {self.rnd} with the demo's framework {fw}", st in (200, 201), f"{st} {str(j)[:200]}")
        st, _, j = self.api.call("POST", f"/api/v1/rounds/{self.rnd}/open")
        C.ok(f"admin opens round {self.rnd}", st in (200, 204), f"{st} {str(j)[:200]}")
        now = self.api.get(f"/api/v1/rounds/{self.rnd}")
        C.ok(f"round {self.rnd} is open", now.get("status") == "open", repr(now.get("status")))
        fwd = self.api.get(f"/api/v1/frameworks/{fw}")
        self.scale_max = (fwd.get("scale") or {}).get("max", 5)
        for p in fwd.get("pillars", []):
            for d in p.get("domains", []):
                for q in d.get("questions", []):
                    for o in q.get("options") or []:
                        self.meets[(q["key"], o["code"])] = bool(o.get("meets"))
        self.orgs = fetch_all_orgs(self.dma)
        active = sorted((o for o in self.orgs if o.get("active", True) and not o.get("successor_code")),
                        key=lambda o: o["ods_code"])
        self.acute = next(o["ods_code"] for o in active if o.get("org_type") == "acute")
        self.mh = next(o["ods_code"] for o in active if o.get("org_type") == "mental_health")
        self.other = next(o["ods_code"] for o in active if o.get("org_type") == "acute" and o["ods_code"] != self.acute)
        print(f"acute trust {self.acute}, mental health trust {self.mh}, another trust {self.other}; "
              f"latest published round {self.pub}; new round {self.rnd}")
        for ods, t in ((self.acute, "acute"), (self.mh, "mental_health")):
            st, h, j = self.api.call("GET", f"/api/v1/rounds/{self.rnd}/assessments/{ods}/questionnaire")
            ok = st == 200 and isinstance(j, dict)
            C.ok(f"questionnaire API for {ods} answers 200", ok, f"{st} {str(j)[:200]}")
            if not ok:
                raise PageUnavailable("no questionnaire API")
            qn = Qn(j, h.get("etag"))
            C.ok(f"questionnaire API for {ods}: org_type {t}, status not_started, ETag \"{qn.version}\"",
                 j.get("org_type") == t and qn.status == "not_started" and qn.etag == f'"{qn.version}"',
                 f"{j.get('org_type')} {qn.status} {qn.etag!r}")
            print(f"{ods}: {len(qn.by_key)} questions in {len(qn.pillars)} pillars, {j['applicable']} applicable, "
                  f"{sum(1 for q in qn.by_key.values() if q.get('condition'))} conditional")
            C.ok(f"questionnaire API for {ods}: every question has the contract's members",
                 all({"key", "text", "type", "mandatory", "enabled", "condition", "answer", "options"} <= set(q)
                     for q in qn.by_key.values()))

    def walk(self) -> None:
        with self.section("set-up: a new round, an acute and a mental health trust"):
            self.setup()
        A, M = self.acute, self.mh
        bj, bn = Browser(self.dma), Browser(self.dma, js=False)
        self.browsers += [bj, bn]
        qa, qm = self.qn(A), self.qn(M)
        pa, pm = qa.pillar_keys(), qm.pillar_keys()

        # ---- sitting 1 ---------------------------------------------------------------------------
        for b, ods, pillars in ((bj, A, pa), (bn, M, pm)):
            with self.section(f"sitting 1: {ods} [{self.mode(b)}]"):
                self.sign_in(b, f"submitter [{self.mode(b)}]", "--role", "submitter", "--org", A, "--org", M,
                             "--subject", SUBJECT)
                self.check_home(b, f"home (submitter) [{self.mode(b)}]", [A, M])
                self.sitting(b, ods, pillars[:SITTING_ONE], "sitting 1", first=True,
                             overview_shot="return-overview.png" if b.js else None,
                             pillar_shot=(pillars[0], "return-pillar.png") if b.js else None)
        for b, ods in ((bj, A), (bn, M)):
            with self.section(f"check and submit with questions missing: {ods} [{self.mode(b)}]"):
                self.submit_missing(b, ods)
        with self.section(f"validation: an option not offered [{self.mode(bn)}]"):
            self.validation(bn, M)
        with self.section(f"validation: an option not offered [{self.mode(bj)}]"):
            self.validation(bj, A)
        with self.section(f"leaving a page straight after a change [{self.mode(bj)}]"):
            self.leave_at_once(bj, A)
        for b, ods in ((bj, A), (bn, M)):
            with self.section(f"sign out after sitting 1 [{self.mode(b)}]"):
                self.sign_out(b, f"submitter [{self.mode(b)}]", check_path=self.base(ods))

        # ---- sitting 2 ---------------------------------------------------------------------------
        for b, ods, pillars in ((bj, A, pa), (bn, M, pm)):
            with self.section(f"sitting 2: {ods} [{self.mode(b)}]"):
                self.sign_in(b, f"submitter again [{self.mode(b)}]", "--role", "submitter", "--org", A, "--org", M,
                             "--subject", SUBJECT)
                self.sitting(b, ods, pillars[SITTING_ONE:], "sitting 2", first=False)
                q = self.qn(ods)
                C.ok(f"sitting 2 {ods}: the API has nothing missing", q.j["missing_mandatory"] == 0 and not q.j["missing"],
                     short(q.j["missing"]))
                C.ok(f"sitting 2 {ods}: #still-to-answer lists nothing", not b.exists("#still-to-answer a[data-question]"))

        # ---- conflicts ---------------------------------------------------------------------------
        b2 = Browser(self.dma)
        self.browsers.append(b2)
        with self.section("a second browser signs in (another person, the same organisations)"):
            self.sign_in(b2, "colleague [JS]", "--role", "submitter", "--org", A, "--org", M, "--subject", COLLEAGUE)
        with self.section(f"conflict with an explicit save [{self.mode(bn)}]"):
            self.conflict_explicit(bn, b2, M)
        with self.section(f"conflict met by autosave [{self.mode(bj)}]"):
            self.conflict_autosave(bj, b2, A)

        # ---- an analyst ----------------------------------------------------------------------------
        with self.section("an analyst cannot save"):
            self.sign_out(b2, "colleague [JS]")
            self.analyst(b2, A, pa[0])

        # ---- submit --------------------------------------------------------------------------------
        for b, ods in ((bj, A), (bn, M)):
            with self.section(f"submit {ods} [{self.mode(b)}]"):
                self.submit(b, ods, shot="return-submitted.png" if b.js else None)

        # ---- access --------------------------------------------------------------------------------
        for b in (bn, bj):
            with self.section(f"another organisation's return [{self.mode(b)}]"):
                self.access(b, pa[0])

        # ---- admin ---------------------------------------------------------------------------------
        with self.section("admin: returns, history, re-open"):
            self.sign_out(b2, "analyst [JS]")
            self.admin(b2, bj, A)

        # ---- how we compare ----------------------------------------------------------------------
        with self.section(f"how we compare [{self.mode(bj)}]"):
            self.sign_out(bj, "submitter [JS]")
            self.compare(bj, shot="return-compare.png", print_pdf=True)
        with self.section(f"how we compare [{self.mode(bn)}]"):
            self.sign_out(bn, "submitter [no JS]")
            self.compare(bn)

        # ---- admin pages without JavaScript ------------------------------------------------------
        with self.section("admin pages [no JS]"):
            self.sign_out(bn, "submitter [no JS]")
            self.admin_pages_nojs(bn, M)

    # -- 5. check and submit with questions missing; validation ----------------------------------

    def submit_missing(self, b: Browser, ods: str) -> None:
        name = f"{ods} check and submit, questions missing [{self.mode(b)}]"
        before = self.assessment(ods)
        qn = self.qn(ods)
        b.visit(name, f"{self.base(ods)}/submit", expect=200, require=True)
        C.ok(f"{name}: the API has questions missing ({len(qn.j['missing'])})", bool(qn.j["missing"]))
        links = self.check_error_links(b, name, ods, qn, qn.j["missing"])
        C.ok(f"{name}: no submit button", not b.exists("button#confirm-submit"))
        self.check_submit_summary(b, name, qn)
        if links:
            a = b.d.find_elements(By.CSS_SELECTOR, ".nhsuk-error-summary a[href]")
            href = a[0].get_attribute("href")
            res = b.load(f"{name}: follow the first error", a[0].click)
            b.after_load(res, expect=200, axe=False, size_check=False)
            frag = urllib.parse.urlsplit(href).fragment
            el = b.d.find_elements(By.ID, frag)
            C.ok(f"{name}: the first error's link lands on its field #{frag}, shown",
                 bool(el) and el[0].is_displayed() and b.path() == href_path(href)[0], b.d.current_url)
            b.visit(f"{name} (again)", f"{self.base(ods)}/submit", expect=200, axe=False, size_check=False)
        if not b.js:
            # Submitting anyway (a form the page does not offer): refused, nothing changes.
            self.forced_post(b, f"{name}: submit forced anyway", f"{self.base(ods)}/submit",
                             {"csrf_token": self.csrf(b), "version": str(before["version"])}, expect=None)
            C.ok(f"{name}: submitting anyway shows the error summary", b.exists(".nhsuk-error-summary"),
                 f"{b.h1()!r} at {b.d.current_url}")
        after = self.assessment(ods)
        C.ok(f"{name}: nothing changed (API status {after['status']}, version {before['version']} -> {after['version']})",
             after["version"] == before["version"] and after["status"] == before["status"] != "submitted")

    def validation(self, b: Browser, ods: str) -> None:
        qn = self.qn(ods)
        pillar = qn.pillar_keys()[0]
        name = f"{ods} {pillar} option not offered [{self.mode(b)}]"
        q = next(q for q in qn.questions(pillar) if q["type"] == "single_choice" and q.get("enabled")
                 and q.get("answer") is not None and not self.controls(qn, q["key"]))
        before = self.assessment(ods)
        b.visit(name, f"{self.base(ods)}/{pillar}", expect=200, axe=False, size_check=False, require=True)
        status_before = text_of(b, "#autosave-status")
        other = next(o["code"] for o in q["options"] if o["code"] != q["answer"]["value"])
        inp = b.d.find_element(By.CSS_SELECTOR, f'input[name="answer.{q["key"]}"][value="{other}"]')
        b.d.execute_script("arguments[0].value = 'not-an-option'", inp)
        lab = b.d.find_element(By.CSS_SELECTOR, f'label[for="{inp.get_attribute("id")}"]')
        b.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", lab)
        lab.click()
        if b.js:
            st = wait_for(lambda: (lambda t: t if t and t != status_before else None)(text_of(b, "#autosave-status")), 15) \
                or text_of(b, "#autosave-status")
            C.ok(f"{name}: #autosave-status says why the autosave was refused (not Saved)",
                 bool(st.strip()) and st != status_before and not SAVED_RE.search(st), repr(st))
        res = b.load(f"{name}: save", b.d.find_element(By.ID, "save").click)
        b.after_load(res, expect=None, size_check=False)
        C.ok(f"{name}: .nhsuk-error-summary links to #answer-{q['key']}",
             b.exists(f".nhsuk-error-summary a[href='#answer-{q['key']}']"),
             short(l["href"] for l in b.rows(".nhsuk-error-summary a[href]", ["href"])))
        msgs = [l["_text"] for l in b.rows(".nhsuk-error-summary a[href]", [])]
        print(f"  error summary: {msgs}")
        C.ok(f"{name}: the error is worded for a person (no codes in backquotes, no JSON)",
             bool(msgs) and all(m.strip() and not re.search(r"[`{}\[\]]", m) for m in msgs), repr(msgs))
        C.ok(f"{name}: #q-{q['key']} has nhsuk-form-group--error", b.exists(f"#q-{q['key']}.nhsuk-form-group--error"))
        C.ok(f"{name}: the error summary is the only error (no other question marked)",
             b.count(".nhsuk-form-group--error") == 1, f"{b.count('.nhsuk-form-group--error')} groups marked")
        after = self.assessment(ods)
        C.ok(f"{name}: nothing saved (API version {before['version']} -> {after['version']}, answers unchanged)",
             after["version"] == before["version"] and after["answers"] == before["answers"])

    def leave_at_once(self, b: Browser, ods: str) -> None:
        """With JavaScript: a link followed straight after a change, within the autosave's pause,
        saves the change before the next page opens (when the autosave happens to have started
        first, the check still holds: nothing entered is lost by leaving)."""
        qn = self.qn(ods)
        pillars = qn.pillar_keys()
        pillar, to = pillars[0], pillars[1]
        name = f"{ods} {pillar}: a link followed straight after a change [{self.mode(b)}]"
        q = next(q for q in qn.questions(pillar) if q["type"] == "boolean" and q.get("enabled")
                 and not self.controls(qn, q["key"]))
        b.visit(name, f"{self.base(ods)}/{pillar}", expect=200, axe=False, size_check=False, require=True)
        before = self.assessment(ods)
        new = not bool(qn.value(q["key"]))
        link = b.d.find_element(By.CSS_SELECTOR, f'#pillar-nav li[data-pillar="{to}"] a')
        b.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        self.click_answer(b, ods, q, new)
        res = b.load(f"{name}: follow the link to {to}", link.click)
        b.after_load(res, expect=200, axe=False, size_check=False)
        C.ok(f"{name}: the link leads on once saved", b.path() == f"{self.base(ods)}/{to}", b.d.current_url)
        after = self.assessment(ods)
        got = (after["answers"].get(q["key"]) or {}).get("value")
        C.ok(f"{name}: the change was saved before leaving (API {q['key']} = {got!r}, want {new!r}; "
             f"version {before['version']} -> {after['version']})",
             got == new and after["version"] == before["version"] + 1)

    def controls(self, qn: Qn, key: str) -> bool:
        return any(c.get("question") == key for q in qn.by_key.values() if q.get("condition")
                   for c in q["condition"].get("conditions") or [])

    # -- 6. conflicts ----------------------------------------------------------------------------

    def conflict_target(self, qn: Qn, exclude: set[str] = frozenset()) -> tuple[str, dict, dict]:
        """A pillar with a single-choice question of 3+ options and a yes/no question, both always
        asked and neither controlling another."""
        for p in qn.pillar_keys():
            qs = [q for q in qn.questions(p) if q.get("enabled") and not q.get("condition")
                  and not self.controls(qn, q["key"]) and q["key"] not in exclude]
            sc = next((q for q in qs if q["type"] == "single_choice" and len(q["options"]) >= 3), None)
            bo = next((q for q in qs if q["type"] == "boolean"), None)
            if sc and bo:
                return p, sc, bo
        raise RuntimeError("no pillar to make a conflict on")

    def check_conflict_page(self, b: Browser, name: str, q: dict, mine, theirs) -> None:
        C.ok(f"{name}: h1#conflict-title says someone else has changed this return",
             "someone else has changed this return" in norm(text_of(b, "h1#conflict-title")), repr(text_of(b, "h1#conflict-title")))
        row = b.rows(f"table#conflict tr[data-question='{q['key']}']", [])
        m, t = text_of(b, f"table#conflict tr[data-question='{q['key']}'] td.app-mine"), \
            text_of(b, f"table#conflict tr[data-question='{q['key']}'] td.app-theirs")
        C.ok(f"{name}: table#conflict shows {q['key']}: mine {label(q, mine)!r}, theirs {label(q, theirs)!r}",
             bool(row) and shows(m, q, mine) and shows(t, q, theirs) and not shows(m, q, theirs),
             f"mine {m!r}; theirs {t!r}")
        ch = text_of(b, "ul#conflict-changes")
        C.ok(f"{name}: ul#conflict-changes says who changed what ({COLLEAGUE}, {q['key']})",
             COLLEAGUE in ch and (q["key"] in ch or norm(q["text"])[:40] in norm(ch)), repr(ch[:300]))
        C.ok(f"{name}: buttons #keep-mine and #take-theirs",
             attr(b, "button#keep-mine", "value") == "mine" and attr(b, "button#take-theirs", "value") == "theirs"
             and attr(b, "button#keep-mine", "name") == "resolve" and attr(b, "button#take-theirs", "name") == "resolve")

    def saves_of(self, ods: str, key: str) -> list[tuple[str, object, object]]:
        """(actor, before value, after value) of every saved change to `key`, oldest first."""
        out = []
        for e in self.history(ods):
            if e.get("action") != "save_answers":
                continue
            for ch in (e.get("summary") or {}).get("changes", []):
                if ch.get("question") == key:
                    out.append((e.get("actor"), (ch.get("before") or {}).get("value"), (ch.get("after") or {}).get("value")))
        return out

    def colleague_changes(self, b2: Browser, ods: str, pillar: str, changes: dict[str, object], name: str) -> None:
        """The colleague's browser (JavaScript) changes these answers and waits for the autosave."""
        qn = self.qn(ods)
        b2.visit(f"{name}: the colleague's page", f"{self.base(ods)}/{pillar}", expect=200, size_check=False, require=True)
        for k, v in changes.items():
            self.click_answer(b2, ods, qn.by_key[k], v)
        ok, detail = self.wait_saved(b2, ods, list(changes), expect=changes)
        C.ok(f"{name}: the colleague's autosave stored {changes}", ok, detail)

    def conflict_explicit(self, bn: Browser, b2: Browser, ods: str) -> None:
        qn = self.qn(ods)
        pillar, q, r = self.conflict_target(qn)
        codes = [o["code"] for o in q["options"]]
        o0 = qn.value(q["key"])
        theirs, mine = [c for c in codes if c != o0][:2]
        r_theirs = not qn.value(r["key"])
        name = f"{ods} conflict on {q['key']} [{self.mode(bn)}]"
        path = f"{self.base(ods)}/{pillar}"
        print(f"  {q['key']}: was {o0!r}; the colleague chooses {theirs!r} (and {r['key']} = {r_theirs}); I choose {mine!r}")
        bn.visit(f"{name}: my page", path, expect=200, size_check=False, require=True)
        self.colleague_changes(b2, ods, pillar, {q["key"]: theirs, r["key"]: r_theirs}, name)
        v_theirs = self.assessment(ods)["version"]
        self.click_answer(bn, ods, q, mine)
        res = bn.load(f"{name}: my save meets their change", bn.d.find_element(By.ID, "save").click)
        bn.after_load(res, expect=409, size_check=False, shot="return-conflict.png")
        self.check_conflict_page(bn, name, q, mine, theirs)
        a = self.assessment(ods)
        C.ok(f"{name}: nothing saved over theirs yet (API {a['answers'].get(q['key'], {}).get('value')!r}, version {a['version']})",
             a["version"] == v_theirs and a["answers"][q["key"]]["value"] == theirs)
        res = bn.load(f"{name}: Keep my answers", bn.d.find_element(By.ID, "keep-mine").click)
        bn.after_load(res, expect=200, size_check=False)
        C.ok(f"{name}: Keep my answers shows the pillar page again", bn.path() == path, bn.d.current_url)
        a = self.assessment(ods)
        C.ok(f"{name}: Keep my answers: the API's answer is mine ({mine!r})", a["answers"][q["key"]]["value"] == mine,
             repr(a["answers"][q["key"]]["value"]))
        C.ok(f"{name}: their change to {r['key']}, which I did not change, stays ({r_theirs})",
             a["answers"][r["key"]]["value"] == r_theirs, repr(a["answers"][r["key"]]["value"]))
        self.entered[ods][r["key"]]["value"] = r_theirs
        g, gr = self.group(bn, q["key"]), self.group(bn, r["key"])
        C.ok(f"{name}: the page shows mine for {q['key']} and theirs for {r['key']}",
             bool(g and gr) and checked_value(g) == mine and checked_value(gr) == page_value(r, r_theirs))
        saves = self.saves_of(ods, q["key"])
        C.ok(f"{name}: the history API has both saves: {COLLEAGUE} {o0!r}->{theirs!r}, then {SUBJECT} {theirs!r}->{mine!r}",
             (COLLEAGUE, o0, theirs) in saves and (SUBJECT, theirs, mine) in saves
             and saves.index((COLLEAGUE, o0, theirs)) < saves.index((SUBJECT, theirs, mine)), repr(saves))

        # Again, and this time take theirs.
        theirs2, mine2 = o0, theirs
        name2 = f"{ods} second conflict on {q['key']} [{self.mode(bn)}]"
        self.colleague_changes(b2, ods, pillar, {q["key"]: theirs2}, name2)
        v2 = self.assessment(ods)["version"]
        self.click_answer(bn, ods, q, mine2)
        res = bn.load(f"{name2}: my save meets their change", bn.d.find_element(By.ID, "save").click)
        bn.after_load(res, expect=409, size_check=False)
        self.check_conflict_page(bn, name2, q, mine2, theirs2)
        res = bn.load(f"{name2}: Use their answers", bn.d.find_element(By.ID, "take-theirs").click)
        bn.after_load(res, expect=200, size_check=False)
        C.ok(f"{name2}: Use their answers shows the pillar page again", bn.path() == path, bn.d.current_url)
        a = self.assessment(ods)
        C.ok(f"{name2}: Use their answers: the API's answer is theirs ({theirs2!r}), nothing more saved",
             a["answers"][q["key"]]["value"] == theirs2 and a["version"] == v2,
             f"{a['answers'][q['key']]['value']!r}, version {v2} -> {a['version']}")
        g = self.group(bn, q["key"])
        C.ok(f"{name2}: the page shows theirs", bool(g) and checked_value(g) == theirs2, repr(g and checked_value(g)))
        saves = self.saves_of(ods, q["key"])
        C.ok(f"{name2}: the history API has the colleague's save {mine!r}->{theirs2!r} and every earlier save",
             (COLLEAGUE, mine, theirs2) in saves and (COLLEAGUE, o0, theirs) in saves and (SUBJECT, theirs, mine) in saves,
             repr(saves))
        self.entered[ods][q["key"]]["value"] = theirs2
        self.conflict_q = (ods, q, theirs, mine)

    def conflict_autosave(self, bj: Browser, b2: Browser, ods: str) -> None:
        qn = self.qn(ods)
        pillar, q, _ = self.conflict_target(qn)
        codes = [o["code"] for o in q["options"]]
        o0 = qn.value(q["key"])
        theirs, mine = [c for c in codes if c != o0][:2]
        name = f"{ods} conflict on {q['key']} [{self.mode(bj)}]"
        path = f"{self.base(ods)}/{pillar}"
        bj.visit(f"{name}: my page", path, expect=200, size_check=False, require=True)
        status0 = text_of(bj, "#autosave-status")
        self.colleague_changes(b2, ods, pillar, {q["key"]: theirs}, name)
        v_theirs = self.assessment(ods)["version"]
        self.click_answer(bj, ods, q, mine)
        st = wait_for(lambda: (lambda t: t if CONFLICT_RE.search(t) else None)(text_of(bj, "#autosave-status")), 20) \
            or text_of(bj, "#autosave-status")
        C.ok(f"{name}: #autosave-status reports the conflict", bool(CONFLICT_RE.search(st)) and not SAVED_RE.search(st),
             f"before {status0!r}, now {st!r}")
        time.sleep(2)
        a = self.assessment(ods)
        C.ok(f"{name}: the autosave did not overwrite theirs (API {a['answers'][q['key']]['value']!r}, version {a['version']})",
             a["answers"][q["key"]]["value"] == theirs and a["version"] == v_theirs)
        res = bj.load(f"{name}: Save", bj.d.find_element(By.ID, "save").click)
        bj.after_load(res, expect=409, size_check=False)
        self.check_conflict_page(bj, name, q, mine, theirs)
        res = bj.load(f"{name}: Keep my answers", bj.d.find_element(By.ID, "keep-mine").click)
        bj.after_load(res, expect=200, size_check=False)
        C.ok(f"{name}: Keep my answers shows the pillar page again", bj.path() == path, bj.d.current_url)
        a = self.assessment(ods)
        C.ok(f"{name}: Keep my answers: the API's answer is mine ({mine!r})", a["answers"][q["key"]]["value"] == mine,
             repr(a["answers"][q["key"]]["value"]))
        saves = self.saves_of(ods, q["key"])
        C.ok(f"{name}: the history API has both saves: {COLLEAGUE} {o0!r}->{theirs!r}, then {SUBJECT} {theirs!r}->{mine!r}",
             (COLLEAGUE, o0, theirs) in saves and (SUBJECT, theirs, mine) in saves, repr(saves))
        self.entered[ods][q["key"]]["value"] = mine
        self.conflict_js = (ods, q, theirs, mine)

    # -- 8. an analyst; another organisation -------------------------------------------------------

    def analyst(self, b: Browser, ods: str, pillar: str) -> None:
        self.sign_in(b, "analyst [JS]", "--role", "analyst")
        qn = self.qn(ods)
        name = f"analyst: {ods} {pillar} (a draft)"
        b.visit(name, f"{self.base(ods)}/{pillar}", expect=200, require=True)
        self.check_readonly_pillar(b, name, ods, pillar, qn)
        q = next(q for q in qn.questions(pillar) if q["type"] == "boolean" and q.get("enabled"))
        before = self.assessment(ods)
        self.forced_post(b, f"{name}: a save posted anyway", f"{self.base(ods)}/{pillar}", {
            "csrf_token": self.csrf(b), "version": str(before["version"]), "action": "save",
            f"answer.{q['key']}": "no" if q["answer"]["value"] else "yes",
            f"orig.{q['key']}": page_value(q, q["answer"]["value"])}, expect=403)
        after = self.assessment(ods)
        C.ok(f"{name}: nothing saved (version {before['version']} -> {after['version']})",
             after["version"] == before["version"] and after["answers"] == before["answers"])

    def access(self, b: Browser, pillar: str) -> None:
        mine = (self.acute, self.mh)
        other = self.other
        # A demo organisation's submitted return in the published round, too.
        pub_other = next(o for o in sorted({r["org_id"] for r in self.dma.divergence_rows(self.pub)})
                         if o not in mine and self.assessment(o, self.pub).get("status") == "submitted")
        for nm, path in (
            (f"{other} overview", f"{self.base(other)}"),
            (f"{other} pillar page", f"{self.base(other)}/{pillar}"),
            (f"{other} check and submit", f"{self.base(other)}/submit"),
            (f"{other} history", f"{self.base(other)}/history"),
            (f"{pub_other} in {self.pub}", self.base(pub_other, self.pub)),
            (f"{pub_other} history in {self.pub}", f"{self.base(pub_other, self.pub)}/history"),
            ("the round's returns", f"/app/rounds/{self.rnd}/returns"),
        ):
            name = f"submitter [{self.mode(b)}]: {nm}"
            b.visit(name, path, expect=403, size_check=False, axe=nm.endswith("overview"))
            C.ok(f"{name}: the 403 page (\"You cannot see this page\")", "cannot see" in b.h1().lower(), repr(b.h1()))
            C.ok(f"{name}: shows nothing of the return", not b.exists("form#return-form") and not b.exists("#return-progress"))
        if not b.js:
            b.visit("submitter: own return (for its form's token)", self.base(self.mh), expect=200, axe=False, size_check=False)
            self.forced_post(b, f"submitter [{self.mode(b)}]: a save posted to {other}'s pillar page",
                                   f"{self.base(other)}/{pillar}",
                                   {"csrf_token": self.csrf(b), "version": "0", "action": "save"}, expect=403)
            a = self.assessment(other)
            C.ok(f"submitter: {other} still has no return (status {a['status']}, version {a['version']})",
                 a["status"] == "not_started" and a["version"] == 0 and not a["answers"])

    # -- 7. submit -------------------------------------------------------------------------------

    def submit(self, b: Browser, ods: str, shot: str | None = None) -> None:
        base = self.base(ods)
        name = f"{ods} submit [{self.mode(b)}]"
        b.visit(f"{name}: overview", base, expect=200, require=True, size_check=False)
        a = b.d.find_elements(By.CSS_SELECTOR, "a#check-and-submit")
        if C.ok(f"{name}: a#check-and-submit", bool(a)):
            res = b.load(f"{name}: check and submit", a[0].click)
            b.after_load(res, expect=200)
        else:
            b.visit(f"{name}: check and submit", f"{base}/submit", require=True)
        C.ok(f"{name}: at {base}/submit", b.path() == f"{base}/submit", b.d.current_url)
        qn = self.qn(ods)
        C.ok(f"{name}: no error summary when nothing is missing", not b.exists(".nhsuk-error-summary"))
        self.check_submit_summary(b, name, qn)
        C.ok(f"{name}: form#submit-form with csrf_token and version {qn.version}",
             bool(attr(b, "#submit-form input[name=csrf_token]", "value"))
             and attr(b, "#submit-form input[name=version]", "value") == str(qn.version))
        res = b.load(f"{name}: confirm", b.d.find_element(By.ID, "confirm-submit").click)
        b.after_load(res, expect=200, shot=shot)
        C.ok(f"{name}: confirming goes to the overview", b.path() == base, b.d.current_url)
        C.ok(f"{name}: .nhsuk-notification-banner", b.exists(".nhsuk-notification-banner"))
        api = self.assessment(ods)
        C.ok(f"{name}: the API has it submitted", api["status"] == "submitted", api["status"])
        qn = self.qn(ods)
        self.check_overview(b, f"{name}: overview", ods, qn)
        self.check_scores(b, f"{name}: scores", ods, self.rnd, qn, api.get("scores"))
        bad = self.api_diff(ods, list(self.entered.get(ods, {})), api["answers"])
        extra = sorted(set(api["answers"]) - set(self.entered.get(ods, {})))
        C.ok(f"{name}: the stored answers are what was entered in the browsers ({len(self.entered.get(ods, {}))} answers)",
             not bad and not extra and bool(api["answers"]), f"{short(bad)}; never entered: {short(extra)}")
        for p in qn.pillar_keys():
            pn = f"{name}: {p} after submitting"
            b.visit(pn, f"{base}/{p}", expect=200, size_check=False, axe=(p == qn.pillar_keys()[0]))
            self.check_readonly_pillar(b, pn, ods, p, qn)

    # -- 9. admin ----------------------------------------------------------------------------------

    def check_history_page(self, b: Browser, name: str, ods: str) -> list[dict]:
        events = self.history(ods)
        rows = b.d.execute_script(
            """
            return Array.from(document.querySelectorAll('table#history tr[data-action]')).map(tr => ({
              action: tr.getAttribute('data-action'), text: tr.textContent.replace(/\\s+/g, ' ').trim(),
              before: Array.from(tr.querySelectorAll('td.app-before')).map(td => td.textContent.replace(/\\s+/g, ' ').trim()),
              after: Array.from(tr.querySelectorAll('td.app-after')).map(td => td.textContent.replace(/\\s+/g, ' ').trim())}));
            """)
        for action in ("save_answers", "submit", "reopen"):
            n_api = sum(1 for e in events if e.get("action") == action)
            n_changes = sum(len((e.get("summary") or {}).get("changes", []) or [1]) for e in events if e.get("action") == action)
            n_page = sum(1 for r in rows if r["action"] == action)
            C.ok(f"{name}: table#history has the API's {n_api} {action} events ({n_page} rows)",
                 (n_api <= n_page <= max(n_api, n_changes)) if n_api else n_page == 0, f"page {n_page}, API {n_api} events")
        return rows

    def admin(self, b: Browser, bj: Browser, ods: str) -> None:
        self.sign_in(b, "admin [JS]", "--role", "admin")
        name = f"admin: returns of {self.rnd}"
        b.visit(name, f"/app/rounds/{self.rnd}/returns", expect=200, require=True)
        rows = {r["data-ods"]: r for r in b.rows("table#returns tr[data-ods]", ["data-ods", "data-status"])}
        bad = []
        for o in (self.acute, self.mh):
            st = self.assessment(o)["status"]
            r = rows.get(o)
            if r is None or r["data-status"] != st or f"{self.base(o)}" not in [href_path(h)[0] for h in r["_links"]]:
                bad.append(f"{o}: page {r and r['data-status']!r} {r and r['_links']}, API {st!r}")
        others = [o for o, r in rows.items() if o not in (self.acute, self.mh) and r["data-status"] != "not_started"]
        C.ok(f"{name}: table#returns has {self.acute} and {self.mh} with the API's status and links", not bad, short(bad))
        C.ok(f"{name}: every other organisation's return is not started ({len(rows) - 2} rows)", bool(rows) and not others,
             short(others))
        link = b.d.find_elements(By.CSS_SELECTOR, f"table#returns tr[data-ods='{ods}'] a[href]")
        if link:
            res = b.load(f"admin: {ods} (from the returns)", link[0].click)
            b.after_load(res, expect=200)
        else:
            b.visit(f"admin: {ods}", self.base(ods), require=True)
        qn = self.qn(ods)
        self.check_overview(b, f"admin: {ods} overview", ods, qn, viewer="admin")
        self.check_scores(b, f"admin: {ods} scores", ods, self.rnd, qn, self.assessment(ods).get("scores"))
        h = b.d.find_elements(By.CSS_SELECTOR, "a#history-link")
        if h:
            res = b.load(f"admin: {ods} history", h[0].click)
            b.after_load(res, expect=200)
        else:
            b.visit(f"admin: {ods} history", f"{self.base(ods)}/history", require=True)
        rows = self.check_history_page(b, f"admin: {ods} history", ods)
        if getattr(self, "conflict_js", None) is None:
            C.ok(f"admin: {ods} history: a conflict to look for", False, "the conflict with autosave did not run")
            return
        _, q, theirs, mine = self.conflict_js
        hit = [r for r in rows if r["action"] == "save_answers" and SUBJECT in r["text"] and q["key"] in r["text"]
               and any(shows(bf, q, theirs) and shows(af, q, mine) for bf, af in zip(r["before"], r["after"]))]
        C.ok(f"admin: {ods} history shows {SUBJECT}'s save of {q['key']} with before {theirs!r} and after {mine!r}",
             bool(hit), short(r["text"][:160] for r in rows if q["key"] in r["text"]))
        hit = [r for r in rows if r["action"] == "save_answers" and COLLEAGUE in r["text"] and q["key"] in r["text"]]
        C.ok(f"admin: {ods} history shows {COLLEAGUE}'s save of {q['key']}", bool(hit))
        C.ok(f"admin: {ods} history has the submit", any(r["action"] == "submit" for r in rows))

        # Re-open with a reason.
        b.visit(f"admin: {ods} overview", self.base(ods), expect=200, axe=False, size_check=False, require=True)
        if not C.ok(f"admin: {ods} submitted in an open round: form#reopen-form", b.exists("form#reopen-form")
                    and b.exists("textarea#reopen-reason[name=reason]") and b.exists("#reopen-button")):
            return
        reason = "The board asked for the cyber answers to be checked again (browser test)."
        b.d.find_element(By.ID, "reopen-reason").send_keys(reason)
        res = b.load(f"admin: {ods} re-open", b.d.find_element(By.ID, "reopen-button").click)
        b.after_load(res, expect=200)
        C.ok(f"admin: {ods} re-open lands on the overview", b.path() == self.base(ods), b.d.current_url)
        C.ok(f"admin: {ods} status reopened on the page", attr(b, "strong#return-status", "data-status") == "reopened",
             repr(attr(b, "strong#return-status", "data-status")))
        api = self.assessment(ods)
        C.ok(f"admin: {ods} the API has it reopened", api["status"] == "reopened", api["status"])
        ev = [e for e in self.history(ods) if e.get("action") == "reopen"]
        C.ok(f"admin: {ods} the history API has the re-open with its reason", any(reason in json.dumps(e) for e in ev),
             repr(ev)[:300])
        C.ok(f"admin: {ods} no re-open form once re-opened", not b.exists("form#reopen-form"))
        b.visit(f"admin: {ods} history after re-opening", f"{self.base(ods)}/history", expect=200, require=True)
        rows = self.check_history_page(b, f"admin: {ods} history after re-opening", ods)
        C.ok(f"admin: {ods} history shows the re-open with its reason",
             any(r["action"] == "reopen" and norm(reason) in norm(r["text"]) for r in rows),
             short(r["text"][:160] for r in rows if r["action"] == "reopen"))

        # The submitter can edit again.
        qn = self.qn(ods)
        pillar = qn.pillar_keys()[0]
        name = f"{ods} re-opened: the submitter edits again [{self.mode(bj)}]"
        bj.visit(name, f"{self.base(ods)}/{pillar}", expect=200, require=True)
        self.check_pillar_page(bj, name, ods, pillar, qn)
        q = next(q for q in qn.questions(pillar) if q["type"] == "boolean" and q.get("enabled") and not self.controls(qn, q["key"]))
        self.click_answer(bj, ods, q, not q["answer"]["value"])
        ok, detail = self.wait_saved(bj, ods, [q["key"]])
        C.ok(f"{name}: the change to {q['key']} is autosaved", ok, detail)

    def admin_pages_nojs(self, b: Browser, ods: str) -> None:
        self.sign_in(b, "admin [no JS]", "--role", "admin")
        b.visit(f"admin [no JS]: returns of {self.rnd}", f"/app/rounds/{self.rnd}/returns", expect=200, require=True)
        C.ok("admin [no JS]: table#returns", b.exists("table#returns tr[data-ods]"))
        b.visit(f"admin [no JS]: {ods} overview", self.base(ods), expect=200, require=True)
        qn = self.qn(ods)
        self.check_overview(b, f"admin [no JS]: {ods} overview", ods, qn, viewer="admin")
        C.ok(f"admin [no JS]: {ods} (submitted, round open): form#reopen-form", b.exists("form#reopen-form"))
        b.visit(f"admin [no JS]: {ods} history", f"{self.base(ods)}/history", expect=200, require=True)
        self.check_history_page(b, f"admin [no JS]: {ods} history", ods)
        b.visit(f"admin [no JS]: {ods} pillar page", f"{self.base(ods)}/{qn.pillar_keys()[0]}", expect=200)

    # -- 10. how we compare ------------------------------------------------------------------------

    def compare_org(self) -> str:
        if getattr(self, "_compare_org", None):
            return self._compare_org
        rows = self.dma.divergence_rows(self.pub)
        in_round = sorted({r["org_id"] for r in rows})
        types = {o["ods_code"]: o.get("org_type") for o in self.orgs}
        for ods in sorted(in_round, key=lambda o: (types.get(o) != "acute", o)):
            if self.assessment(ods, self.pub).get("status") == "submitted":
                self._compare_org = ods
                return ods
        raise RuntimeError(f"no submitted return in {self.pub}")

    def compare(self, b: Browser, shot: str | None = None, print_pdf: bool = False) -> None:
        ods = self.compare_org()
        m = self.mode(b)
        self.sign_in(b, f"submitter of {ods} [{m}]", "--role", "submitter", "--org", ods, "--subject", f"cio-{ods.lower()}")
        base = self.base(ods, self.pub)
        name = f"{ods} in {self.pub} [{m}]"
        link = b.d.find_elements(By.CSS_SELECTOR, f"#your-returns a[href='{base}']")
        if C.ok(f"{name}: the home page links to {base}", bool(link)):
            res = b.load(name, link[0].click)
            b.after_load(res, expect=200)
        else:
            b.visit(name, base, require=True)
        if shot:
            screenshot_from(b, shot, "#how-we-compare")
        C.ok(f"{name}: at {base}", b.path() == base, b.d.current_url)
        sub = ("submitter", (ods,))
        st, _, div = self.api.call("GET", f"/api/v1/rounds/{self.pub}/divergence/{ods}", role=sub[0], orgs=sub[1])
        if not C.ok(f"{name}: the divergence API answers the submitter", st == 200, f"{st} {str(div)[:200]}"):
            return
        st, _, ass = self.api.call("GET", f"/api/v1/rounds/{self.pub}/assessments/{ods}", role=sub[0], orgs=sub[1])
        C.ok(f"{name}: #return-status submitted", attr(b, "strong#return-status", "data-status") == "submitted")
        qn = self.qn(ods, self.pub)
        self.check_scores(b, f"{name}: scores", ods, self.pub, qn, (ass or {}).get("scores"))
        C.ok(f"{name}: #how-we-compare", b.exists("#how-we-compare table#compare-rows"))
        rows = b.rows("#compare-rows tr[data-pillar]", ["data-pillar", "data-score", "data-median", "data-q1", "data-q3",
                                                       "data-change", "data-peer-change"])
        api_rows = {r["pillar"]: r for r in div["rows"]}
        dists = {d["pillar"]: d for d in div.get("distributions", [])}
        bad = []
        for r in rows:
            a = api_rows.get(r["data-pillar"])
            if a is None:
                bad.append(f"tr[data-pillar={r['data-pillar']}]: not in the API")
                continue
            lvl, ch, d = a.get("level") or {}, a.get("change") or {}, dists.get(r["data-pillar"]) or {}
            for at, want in (("data-score", lvl.get("score")), ("data-median", d.get("median")), ("data-q1", d.get("q1")),
                             ("data-q3", d.get("q3")), ("data-change", ch.get("delta")),
                             ("data-peer-change", ch.get("peer_median_delta"))):
                if page_num(r[at]) != r4(want):
                    bad.append(f"tr[data-pillar={r['data-pillar']}] {at}: page {r[at]!r} API {r4(want)}")
        C.ok(f"{name}: #compare-rows equal the divergence API's rows ({len(rows)} on the page, {len(api_rows)} in the API)",
             bool(rows) and not bad and sorted(r["data-pillar"] for r in rows) == sorted(r["pillar"] for r in div["rows"]),
             f"page {[r['data-pillar'] for r in rows]}; {short(bad)}")
        # The reasons of every flagged row (unflagged rows' "watch" notes are not flags).
        flagged = [r for r in div["rows"] if r.get("flags")]
        reasons = [x for r in flagged for x in r.get("reasons") or []]
        flags_text = norm(text_of(b, "#compare-flags"))
        miss = [x for x in reasons if norm(x) not in flags_text]
        C.ok(f"{name}: #compare-flags gives the reasons of the API's {len(flagged)} flagged rows ({len(reasons)} reasons)",
             b.exists("#compare-flags") and not miss and (bool(flags_text) if flagged else True), short(miss))
        unflagged = [x for r in div["rows"] if not r.get("flags") for x in r.get("reasons") or []
                     if x not in reasons]
        print(f"  {len(flagged)} flagged rows; {len(unflagged)} reasons of unflagged rows (not shown as flags)")
        # Nobody else's code or name.
        text = b.d.execute_script(
            """
            const parts = [document.body.innerText, document.title];
            for (const e of document.querySelectorAll('*')) for (const a of e.attributes)
              if (a.name.startsWith('data-') || ['href', 'title', 'aria-label', 'alt', 'value'].includes(a.name)) parts.push(a.value);
            return parts.join('\\n');
            """)
        org = div.get("organisation") or {}
        mine = {ods, org.get("icb_code")} | {p.get("ods_code") for p in div.get("predecessors") or []}
        own_names = {norm(org.get("name")), norm(org.get("icb_name"))} | {norm(p.get("name")) for p in div.get("predecessors") or []}
        own_name = norm(org.get("name"))
        seen = []
        low = norm(text)
        for o in self.orgs:
            code, nm = o["ods_code"], norm(o.get("name"))
            if code in mine or nm in own_names:
                continue
            if re.search(r"(?<![A-Za-z0-9])" + re.escape(code) + r"(?![A-Za-z0-9])", text):
                seen.append(code)
            elif nm and len(nm) > 8 and nm in low and nm not in own_name:
                seen.append(f"{code} {o.get('name')!r}")
        C.ok(f"{name}: no other organisation's ODS code or name on the page ({len(self.orgs)} organisations looked for)",
             not seen, short(seen))
        if print_pdf:
            pdf = base64.b64decode(b.d.execute_cdp_cmd("Page.printToPDF", {
                "paperWidth": 8.27, "paperHeight": 11.69, "printBackground": False})["data"])
            ART.mkdir(parents=True, exist_ok=True)
            (ART / f"return-{ods}-print.pdf").write_bytes(pdf)
            print(f"  saved {ART.relative_to(ROOT)}/return-{ods}-print.pdf")
            pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
            C.ok(f"{name}: the board summary prints (A4, default margins) on 1 or 2 pages", 1 <= pages <= 2, f"{pages} pages")
            C.ok(f"{name}: body.app-print-board", b.exists("body.app-print-board"))
            b.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            try:
                b.axe(f"{name} (print media)")
            finally:
                b.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def main() -> int:
    dma = Dma()
    w = Walk(dma)
    try:
        dma.start()
        w.walk()
    except Exception as e:  # noqa: BLE001
        C.ok("the walk ran to the end", False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    finally:
        for b in w.browsers:
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
    print(f"\nquestionnaire: {C.passed} checks passed, {len(C.failed)} failed")
    return 1 if C.failed else 0


if __name__ == "__main__":
    sys.exit(main())
