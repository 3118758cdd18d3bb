#!/usr/bin/env python3
"""Outside-validator contract test of the FHIR R4 (4.0.1) facade under /fhir/r4.

Starts `dma serve` (--bin) on a fresh SQLite file and a free port with DMA_DEMO=true, mints admin and
analyst tokens with `dma token --role ...`, and checks: (a) GET metadata without a token: an R4
CapabilityStatement listing Questionnaire and QuestionnaireResponse; (b) the Questionnaire search
(next links followed) and a read of every entry; (c) QuestionnaireResponse?_count=20 and one read;
(d) errors as OperationOutcome: malformed POST (4xx, issue[0].expression), unknown id (404), no token
(401); (e) every tests/fhir/questionnaires/*.json POSTed: 201 + Location, read back and compared item
by item (a `refused-*.json` must get 422, every issue with an expression); (f) the seeded framework
re-imported and compared the same way; (g) every QuestionnaireResponse names a listed Questionnaire
as `url|version`, an ODS-coded subject and status in-progress | completed | amended.
"Valid R4" = the fhir.resources 6.4.0 models (FHIR 4.0.1) plus what they let through (JSON types,
empty values, required code bindings, invariants que-1, -2, -4, -5, -6, -7, -12).

Run: tests/contract/fhir_check.sh (makes the venv), or VENV/bin/python tests/contract/fhir_check.py
     --bin PATH/TO/dma; --validate FILE... only validates files as R4 (no server). Exit 1 on any failure; the last line is
     "fhir_check: N passed, M failed".
"""
import argparse
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

try:
    import pydantic
    from fhir.resources import __fhir_version__, get_fhir_model_class
    from fhir.resources.resource import Resource
except ImportError:
    sys.exit("fhir_check.py needs fhir.resources==6.4.0 (FHIR R4 4.0.1); run tests/contract/fhir_check.sh")
if __fhir_version__ != "4.0.1":
    sys.exit(f"fhir.resources models are FHIR {__fhir_version__}, not R4 4.0.1: pin fhir.resources==6.4.0")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fhir", "questionnaires")
BASE = "/fhir/r4"
QURL = BASE + "/Questionnaire"
FHIR_JSON = "application/fhir+json"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
SCORE_URLS = ("http://hl7.org/fhir/StructureDefinition/ordinalValue",
              "http://hl7.org/fhir/StructureDefinition/itemWeight")
CALC_URL = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"


# ---- R4 validation -----------------------------------------------------------------------------
def codes(text):
    return frozenset(text.split())


def is_resource_type(name):
    try:
        return issubclass(get_fhir_model_class(name), Resource) and name not in ("Resource", "DomainResource")
    except (KeyError, ValueError, TypeError):
        return False


PUB = codes("draft active retired unknown")
# R4 required bindings (model name, element): the pydantic models leave them as plain `code`
BINDINGS = {
    ("Questionnaire", "status"): PUB, ("ValueSet", "status"): PUB, ("CapabilityStatement", "status"): PUB,
    ("QuestionnaireItem", "type"): codes("group display boolean decimal integer date dateTime time string "
                                         "text url choice open-choice attachment reference quantity"),
    ("QuestionnaireItem", "enableBehavior"): codes("all any"),
    ("QuestionnaireItemEnableWhen", "operator"): codes("exists = != > < >= <="),
    ("QuestionnaireResponse", "status"): codes("in-progress completed amended entered-in-error stopped"),
    ("Bundle", "type"): codes("document message transaction transaction-response batch batch-response "
                              "history searchset collection"),
    ("BundleEntrySearch", "mode"): codes("match include outcome"),
    ("OperationOutcomeIssue", "severity"): codes("fatal error warning information"),
    ("OperationOutcomeIssue", "code"): codes(
        "invalid structure required value invariant security login unknown expired forbidden suppressed "
        "processing not-supported duplicate multiple-matches not-found deleted too-long code-invalid "
        "extension too-costly business-rule conflict transient lock-error no-store exception timeout "
        "incomplete throttled informational"),
    ("CapabilityStatement", "kind"): codes("instance capability requirements"),
    ("CapabilityStatement", "fhirVersion"): codes("4.0.1"),
    ("CapabilityStatementRest", "mode"): codes("client server"),
    ("CapabilityStatementRestResource", "type"): is_resource_type,
    ("CapabilityStatementRestResourceInteraction", "code"): codes(
        "read vread update patch delete history-instance history-type create search-type"),
    ("CapabilityStatementRestResourceSearchParam", "type"): codes(
        "number date string token reference composite quantity uri special"),
}
OPTION_TYPES = codes("choice open-choice decimal integer date dateTime time string quantity")
STR_TYPES = codes("String Code Uri Url Canonical Id Markdown Oid Uuid Base64Binary Date DateTime Instant "
                  "Time Xhtml")


def json_rules(data, model, where):
    """What the pydantic v1 models let through: JSON types of primitives (they coerce 1 or "yes" to a
    boolean, 2.5 to a string), null/""/[]/{} values, and the required code bindings above."""
    out, fields = [], {f.alias: f.type_ for f in model.__fields__.values()}
    for key, val in data.items():
        if val is None or val in ("", [], {}):
            out.append(f"{where}.{key}: null or empty ({val!r}), not allowed in FHIR JSON")
            continue
        t, allowed = fields.get(key), BINDINGS.get((model.__name__, key))
        name, rtype = getattr(t, "__name__", ""), getattr(t, "__resource_type__", None)
        for i, v in enumerate(val if isinstance(val, list) else [val]):
            p = f"{where}.{key}" + (f"[{i}]" if isinstance(val, list) else "")
            if allowed and not (allowed(v) if callable(allowed) else v in allowed):
                out.append(f"{p}: {v!r} is not in the R4 required value set")
            if t is bool and not isinstance(v, bool):
                out.append(f"{p}: {v!r} is not a JSON boolean")
            elif name in ("Integer", "UnsignedInt", "PositiveInt", "Decimal") and (
                    isinstance(v, bool) or not isinstance(v, int if name != "Decimal" else (int, float))):
                out.append(f"{p}: {v!r} is not a JSON {'number' if name == 'Decimal' else 'integer'}")
            elif name in STR_TYPES and not (isinstance(v, str) and v):
                out.append(f"{p}: {v!r} is not a non-empty JSON string")
            elif rtype and isinstance(v, dict):
                try:
                    sub = get_fhir_model_class(v.get("resourceType") if rtype == "Resource" else rtype)
                except (KeyError, ValueError, TypeError):
                    continue   # the model's own errors say what is wrong
                out += json_rules(v, sub, p)
                if sub.__name__ == "Questionnaire":
                    out += questionnaire_rules(v, p)
    return out


def questionnaire_rules(q, where):
    """The R4 Questionnaire invariants que-1, -2, -4, -5, -6, -7, -12."""
    out, seen = [], set()

    def walk(items, path):
        for i, it in enumerate(items):
            p, t, ew = f"{path}[{i}]", it.get("type"), it.get("enableWhen", [])
            if it.get("linkId") in seen:
                out.append(f"{p}.linkId: {it.get('linkId')!r} is not unique (que-2)")
            seen.add(it.get("linkId"))
            if t == "group" and not it.get("item"):
                out.append(f"{p}: a group without items (que-1)")
            if t == "display" and (it.get("item") or "required" in it or "repeats" in it):
                out.append(f"{p}: a display item with items, required or repeats (que-1, que-6)")
            if it.get("answerOption") and it.get("answerValueSet"):
                out.append(f"{p}: both answerOption and answerValueSet (que-4)")
            if (it.get("answerOption") or it.get("answerValueSet")) and t not in OPTION_TYPES:
                out.append(f"{p}: answer options on a {t} item (que-5)")
            if any(c.get("operator") == "exists" and "answerBoolean" not in c for c in ew):
                out.append(f"{p}.enableWhen: operator exists needs answerBoolean (que-7)")
            if len(ew) > 1 and "enableBehavior" not in it:
                out.append(f"{p}: several enableWhen without enableBehavior (que-12)")
            walk(it.get("item", []), p + ".item")
    walk(q.get("item", []), where + ".item")
    return out


def validate(res, expected, where):
    """Problems that make `res` not a valid FHIR R4 4.0.1 `expected` resource ([] when valid)."""
    if not isinstance(res, dict):
        return [f"{where}: not a JSON object: {str(res)[:200]}"]
    if res.get("resourceType") != expected:
        return [f"{where}: resourceType {res.get('resourceType')!r}, expected {expected}"]
    model, out = get_fhir_model_class(expected), []
    try:
        model.parse_obj(res)
    except pydantic.ValidationError as exc:
        out = [f"{where}." + ".".join(map(str, e["loc"])) + f": {e['msg']}" for e in exc.errors()]
    out += json_rules(res, model, where)
    return out + (questionnaire_rules(res, where) if expected == "Questionnaire" else [])


# ---- Item-by-item comparison (original Questionnaire vs the one read back) ---------------------
def is_help(item):
    codings = [c for e in item.get("extension", []) if e.get("url", "").endswith("/questionnaire-itemControl")
               for c in e.get("valueCodeableConcept", {}).get("coding", [])]
    return item.get("type") == "display" and any(c.get("code") == "help" for c in codings)


def score_of(*elements):
    for el in elements:
        for ext in (el or {}).get("extension", []):
            if ext.get("url") in SCORE_URLS:
                v = next((v for k, v in ext.items() if k.startswith("value")), None)
                return float(v) if isinstance(v, (int, float)) else v
    return None


def options(item, q):
    """The item's answer options, normalised: [(kind, value..., score)] or ("valueset", url)."""
    if "answerOption" in item:
        out = []
        for o in item["answerOption"]:
            if "valueCoding" in o:
                c = o["valueCoding"]
                out.append(("coding", c.get("code"), c.get("display"), score_of(o, c)))
            else:
                k = next((k for k in o if k.startswith("value")), None)
                out.append((k, o.get(k), score_of(o)))
        return out
    ref = item.get("answerValueSet")
    if not ref:
        return []
    if not ref.startswith("#"):
        return [("valueset", ref)]
    vs = next((c for c in q.get("contained", []) if c.get("id") == ref[1:]), None)
    if vs is None:
        return [("unresolved", ref)]
    if vs.get("expansion", {}).get("contains"):
        return [("coding", c.get("code"), c.get("display"), score_of(c)) for c in vs["expansion"]["contains"]]
    return [("coding", c.get("code"), c.get("display"), score_of(c))
            for inc in vs.get("compose", {}).get("include", []) for c in inc.get("concept", [])]


def conditions(item):
    out = []
    for c in item.get("enableWhen", []):
        k = next((k for k in c if k.startswith("answer")), None)
        v = c.get(k)
        if k == "answerCoding":
            v = (v.get("system"), v.get("code"))
        elif k == "answerDecimal":
            v = float(v)
        elif k == "answerQuantity":
            v = (v.get("value"), v.get("system"), v.get("code"))
        out.append((c.get("question"), c.get("operator"), k, v))
    return out


def behavior(item):
    # with one condition or none, absent, "all" and "any" mean the same thing
    return item.get("enableBehavior") if len(item.get("enableWhen", [])) > 1 else None


FIELDS = [("text", lambda it, q: it.get("text")), ("type", lambda it, q: it.get("type")),
          ("required", lambda it, q: bool(it.get("required", False))),
          ("repeats", lambda it, q: bool(it.get("repeats", False))),
          ("enableWhen", lambda it, q: conditions(it)), ("enableBehavior", lambda it, q: behavior(it)),
          ("answerOption", options)]


def compare_items(exp_items, got_items, path, qe, qg, diffs, notes):
    """Appends every difference (path: what, expected, got) to diffs; returns items compared."""
    exp_help = [i.get("text") for i in exp_items if is_help(i)]
    got_help = [i.get("text") for i in got_items if is_help(i)]
    if exp_help != got_help:   # a help display may come back under another linkId, same text
        diffs.append(f"{path}: help texts {exp_help!r} != {got_help!r}")
    exp = [i for i in exp_items if not is_help(i)]
    got = [i for i in got_items if not is_help(i)]
    ids_e, ids_g = [i.get("linkId") for i in exp], [i.get("linkId") for i in got]
    if ids_e != ids_g:
        diffs.append(f"{path}: linkIds {ids_e} != {ids_g}")
    by_id = {i.get("linkId"): i for i in got}
    n = 0
    for it in exp:
        other, p = by_id.get(it.get("linkId")), f"{path}/{it.get('linkId')}"
        if other is None:
            continue
        n += 1
        for name, fn in FIELDS:
            a, b = fn(it, qe), fn(other, qg)
            if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
                diffs += [f"{p}.{name}[{i}]: expected {x!r} got {y!r}"
                          for i, (x, y) in enumerate(zip(a, b)) if x != y]
            elif a != b:
                diffs.append(f"{p}.{name}: expected {a!r} got {b!r}")
        calc = [e for e in it.get("extension", []) if e.get("url") == CALC_URL]
        if calc and not any(e.get("url") == CALC_URL for e in other.get("extension", [])):
            notes.append(f"{p}: the calculatedExpression did not come back (not required)")
        n += compare_items(it.get("item", []), other.get("item", []), p, qe, qg, diffs, notes)
    return n


# ---- Server and HTTP ---------------------------------------------------------------------------
class Server:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="fhircheck-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DMA_") and k != "DATABASE_URL"}
        env.update(DATABASE_URL=os.path.join(self.dir, "dma.sqlite"), DMA_BIND=f"127.0.0.1:{self.port}",
                   DMA_DEMO="true", DMA_RATE_LIMIT_PER_SECOND="0", DMA_ANON_RATE_LIMIT_PER_SECOND="0",
                   DMA_RATE_LIMIT_DELAY_MS="0", RUST_LOG="warn", LOG_FORMAT="json")
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait_and_mint(binary, env)
        except BaseException as exc:   # SIGTERM / Ctrl-C as well: never leave the server running
            tail = self.log_tail()
            self.stop()
            if isinstance(exc, Exception):
                raise RuntimeError(f"{exc}\n--- server log tail\n{tail}") from exc
            raise

    def _wait_and_mint(self, binary, env):
        deadline = time.time() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.proc.returncode}")
            try:
                if self.request("GET", "/health/live", token=None)[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("the server did not answer /health/live within 120 s")
            time.sleep(0.3)
        self.tokens = {role: subprocess.check_output([binary, "token", "--role", role], env=env, text=True,
                                                     timeout=60).strip() for role in ("admin", "analyst")}

    def request(self, method, path, token="analyst", body=None):
        """(status, headers with lower-case names, parsed JSON or text)."""
        headers = {"Accept": FHIR_JSON}
        if token:
            headers["Authorization"] = "Bearer " + self.tokens[token]
        if body is not None:
            headers["Content-Type"] = FHIR_JSON
            body = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            raw, hdrs = resp.read(), {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        try:
            return resp.status, hdrs, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, hdrs, raw.decode(errors="replace")

    def log_tail(self, n=40):
        with open(os.path.join(self.dir, "server.log"), "rb") as fh:
            return "\n".join(fh.read().decode(errors="replace").splitlines()[-n:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- The checks --------------------------------------------------------------------------------
class Check:
    def __init__(self, srv):
        self.srv, self.passed, self.failures, self.notes = srv, 0, [], []
        self.validated, self.items = {}, 0

    def ok(self, cond, msg):
        if cond:
            self.passed += 1
        else:
            self.failures.append(msg)
            print("FAIL " + msg, flush=True)
        return cond

    def valid(self, res, rtype, where):
        problems = validate(res, rtype, where)
        for p in problems:
            self.ok(False, "not valid R4: " + p)
        if not problems:
            self.passed += 1
            self.validated[rtype] = self.validated.get(rtype, 0) + 1
        return not problems

    def call(self, method, path, expect, rtype, token="analyst", body=None):
        st, hdrs, res = self.srv.request(method, path, token, body)
        where = f"{method} {path}"
        self.ok(st in expect, f"{where}: status {st}, expected {expect}: {str(res)[:300]}")
        self.ok(hdrs.get("content-type", "").startswith(FHIR_JSON),
                f"{where}: Content-Type {hdrs.get('content-type')!r}, expected {FHIR_JSON}")
        self.valid(res, rtype, where)
        return st, hdrs, res if isinstance(res, dict) else {}

    def search(self, path, rtype, limit=None):
        entries, url, pages = [], BASE + path, 0
        while url and pages < 50:
            _, _, b = self.call("GET", url, {200}, "Bundle")
            self.ok(b.get("type") == "searchset", f"GET {url}: Bundle.type {b.get('type')!r}, not searchset")
            got = [e.get("resource", {}) for e in b.get("entry", [])]
            if limit:
                self.ok(len(got) <= limit, f"GET {url}: {len(got)} entries, _count was {limit}")
            for i, r in enumerate(got):
                self.valid(r, rtype, f"GET {url} entry[{i}]")
            entries += got
            nxt = [ln.get("url") for ln in b.get("link", []) if ln.get("relation") == "next"]
            url = local(nxt[0]) if nxt and not limit else None
            pages += 1
        return entries

    def outcome(self, res, where, want_expression):
        issues = res.get("issue") or [{}]
        expr = [i for i, iss in enumerate(issues) if not iss.get("expression")]
        if want_expression == "first":
            self.ok(0 not in expr, f"{where}: issue[0].expression missing: {issues[0]}")
        elif want_expression == "all":
            self.ok(not expr, f"{where}: issues {expr} without expression: {issues}")

    def round_trip(self, original, label):
        st, hdrs, created = self.call("POST", QURL, {201}, "Questionnaire", "admin", original)
        if st != 201 or not self.ok(hdrs.get("location"), f"{label}: 201 without a Location header"):
            return
        _, _, back = self.call("GET", local(hdrs["location"]), {200}, "Questionnaire")
        self.ok(back.get("id") == created.get("id"), f"{label}: read back id {back.get('id')!r}, "
                f"created {created.get('id')!r}")
        diffs, notes = [], []
        self.items += compare_items(original.get("item", []), back.get("item", []), label, original, back,
                                    diffs, notes)
        for d in diffs:
            self.ok(False, "round trip " + d)
        if not diffs:
            self.passed += 1
        self.notes += notes


def local(url):
    parts = urllib.parse.urlsplit(url)
    path = parts.path if parts.path.startswith("/") else f"{BASE}/{parts.path}"
    return path + (f"?{parts.query}" if parts.query else "")


def run(chk):
    # a. CapabilityStatement, without a token
    _, _, cap = chk.call("GET", BASE + "/metadata", {200}, "CapabilityStatement", token=None)
    listed = {r.get("type") for rest in cap.get("rest", []) for r in rest.get("resource", [])}
    chk.ok({"Questionnaire", "QuestionnaireResponse"} <= listed, f"metadata lists {sorted(listed)}")
    # b. Questionnaire search and reads
    questionnaires = chk.search("/Questionnaire", "Questionnaire")
    chk.ok(questionnaires, "GET /Questionnaire: no entries (the seeded framework is missing)")
    for q in questionnaires:
        chk.call("GET", f"{QURL}/{q.get('id')}", {200}, "Questionnaire")
    canon = {f"{q.get('url')}|{q.get('version')}" for q in questionnaires}
    # c + g. QuestionnaireResponse search, one read, the reference contents
    responses = chk.search("/QuestionnaireResponse?_count=20", "QuestionnaireResponse", limit=20)
    if chk.ok(responses, "GET /QuestionnaireResponse?_count=20: no entries (demo rounds missing?)"):
        _, _, one = chk.call("GET", f"{BASE}/QuestionnaireResponse/{responses[0].get('id')}", {200},
                             "QuestionnaireResponse")
        chk.ok(one.get("id") == responses[0].get("id"), "QuestionnaireResponse read: another id")
    for r in responses:
        w = f"QuestionnaireResponse/{r.get('id')}"
        chk.ok("|" in r.get("questionnaire", "") and r["questionnaire"] in canon,
               f"{w}: questionnaire {r.get('questionnaire')!r} is no listed Questionnaire's url|version")
        chk.ok(r.get("subject", {}).get("identifier", {}).get("system") == ODS,
               f"{w}: subject.identifier {r.get('subject')!r}, expected system {ODS}")
        chk.ok(r.get("status") in ("in-progress", "completed", "amended"), f"{w}: status {r.get('status')!r}")
    # d. errors
    bad = {"resourceType": "Questionnaire", "status": "nonsense"}
    st, _, res = chk.call("POST", QURL, range(400, 500), "OperationOutcome", "admin", bad)
    chk.outcome(res, "malformed POST", "first")
    chk.call("GET", QURL + "/does-not-exist", {404}, "OperationOutcome")
    chk.call("GET", QURL, {401}, "OperationOutcome", token=None)
    # e. fixture round trips
    files = sorted(glob.glob(os.path.join(FIXTURES, "*.json")))
    chk.ok(files, f"no fixtures in {FIXTURES}")
    for path in files:
        name = os.path.basename(path)
        with open(path, "rb") as fh:
            original = json.loads(fh.read())
        problems = validate(original, "Questionnaire", f"fixture {name}")
        for p in problems:
            chk.ok(False, "fixture not valid R4: " + p)
        if problems:
            continue
        if name.startswith("refused-"):
            _, _, res = chk.call("POST", QURL, {422}, "OperationOutcome", "admin", original)
            chk.outcome(res, f"{name} refused", "all")
        else:
            chk.round_trip(original, name)
    # f. the seeded framework, re-imported as a new one: another url, name and version, no id
    if questionnaires:
        seeded = json.loads(json.dumps(questionnaires[0]))
        for k in ("id", "meta", "text", "identifier"):
            seeded.pop(k, None)
        seeded["url"] = (seeded.get("url") or "http://example.org/Questionnaire/seeded") + "-roundtrip"
        seeded["version"] = (seeded.get("version") or "1") + "-roundtrip"
        seeded["name"] = (seeded.get("name") or "Seeded") + "Roundtrip"
        chk.round_trip(seeded, "seeded framework")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", metavar="PATH", help="the dma server binary")
    ap.add_argument("--validate", nargs="+", metavar="FILE", help="only validate these files as R4 and exit")
    args = ap.parse_args()
    if args.validate:
        bad = 0
        for f in args.validate:
            with open(f) as fh:
                res = json.load(fh)
            problems = validate(res, res.get("resourceType"), os.path.basename(f))
            bad += bool(problems)
            print(("INVALID " if problems else "valid   ") + f + "".join("\n    " + p for p in problems[:20]))
        print(f"fhir_check: {len(args.validate) - bad} passed, {bad} failed")
        return 1 if bad else 0
    if not (args.bin and os.path.isfile(args.bin) and os.access(args.bin, os.X_OK)):
        ap.error(f"--bin {args.bin}: not an executable file")
    for sig in (signal.SIGTERM, signal.SIGHUP):   # run the finally below, which stops the server
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    srv = chk = None
    try:
        srv = Server(args.bin)
        chk = Check(srv)
        run(chk)
    except Exception as exc:
        print(f"FAIL aborted: {type(exc).__name__}: {exc}", flush=True)
        chk = chk or Check(None)
        chk.failures.append(f"aborted: {exc}")
    finally:
        if srv is not None and (chk is None or chk.failures):
            print("--- server log tail\n" + srv.log_tail())
        if srv is not None:
            srv.stop()
    for n in chk.notes:
        print("note: " + n)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(chk.validated.items()))
    print(f"resources validated as R4: {sum(chk.validated.values())} ({counts}); items compared: {chk.items}")
    print(f"fhir_check: {chk.passed} passed, {len(chk.failures)} failed")
    return 1 if chk.failures else 0


if __name__ == "__main__":
    sys.exit(main())
