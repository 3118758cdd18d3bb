#!/usr/bin/env python3
"""Independent reference implementation of the divergence methods, checked against the running server.

Written from docs/divergence-v1.md (B1-B12), docs/divergence-v2.md (C1-C7, C10), README.md and
openapi/openapi.json only: the engine's Rust source was not read. The numerics (Student-t p by the
regularised incomplete beta, BH, exact rational grids) follow docs/divergence_v2_example.py.

What it does, per data set:
  1. starts its own server (the binary given with --bin) on a fresh SQLite file and a free port;
  2. builds the data set through the public API with a seeded random generator (frameworks,
     rounds, returns: submitted, left as drafts, or with too few answers; peer groups);
  3. reads the stored scores back (GET /rounds/{r}/scores) and the merger lineage of the register;
  4. computes every expected divergence row from the spec and compares it, field by field, with
     GET /rounds/{r}/divergence (every page, following next_cursor) for several focal rounds and options (v2, v1, p_method=normal,
     alpha_fdr, delta_*, min_coverage, min_ref_n, tier_*, previous_round, peer-group references).
     Data sets: staged (3-4 pillars of D = 2..5, acute + mental health, 3 rounds, mergers),
     scored (0-100, grids of 25, 50, 20, a boolean, a number with bands, a multiple choice, an
     enable_when, an unequal-weight and an off-grid domain, 4 rounds), peer (peer groups of 12 and
     3, four mental health trusts, flat 12- and 10-domain pillars: floor and resolution = s_min
     ties), noise (scored means of thirds: equal rationals stored as different f64), and demo
     (the project's own demo rounds, as a cross-check);
  5. prints every mismatch (path, expected, got) and a summary by class; exits 1 on any mismatch.

Run:  python3 tests/contract/divergence_reference.py --bin PATH/TO/dma
Needs Python 3.11 (standard library only) and mpmath; nothing else. Exit status 0 when every
figure matches, 1 on any mismatch (or when a data set cannot be built); the last line of stdout is
the summary (data sets, reports, rows, figures compared, mismatches). Servers and their temporary
directories are removed on every exit path (mismatch, exception, Ctrl-C, SIGTERM) unless --keep.

Decisions followed where B1-B12 leave room: docs/divergence-v2.md C10 ("Decisions shared by v1
and v2, as implemented"), for both methods:
  C10.1  peer groups: an organisation of the group's type (PeerGroup.org_type) that is not a
         member is compared with the members plus itself (include-self, as type_national), so
         reference.n counts it; a member with the members. Another type, or fewer than
         min_ref_n valid values in that (pillar, metric), falls back to type_national with
         REFERENCE_FALLBACK; the previous round's level reference (B12) is chosen the same way.
  C10.2  the change block exists whenever the organisation has a previous-round score row for the
         pillar (stored, or merged from predecessors), even when that row has no score: then
         previous_score, delta, excess, z, p and q are null, valid is false, and the block carries
         INSUFFICIENT_COVERAGE (pillar) or MISSING_PILLAR (overall row whose overall of this
         round or the previous one could not be computed: a change needs both, C10.2; a missing
         current overall is also on the object). A previous score below min_coverage keeps
         its delta and excess (descriptive, as the level gap) with valid false and
         INSUFFICIENT_COVERAGE. No previous row: change null, NO_PREVIOUS_ROUND on the object.
         level.median_prev and level.n_prev are given whenever there is a previous row, gap_prev
         (and the previous percentile rank) only when that row has a score.
  C10.3  overall coverage = the minimum of the organisation's pillar coverages in that round.
  C10.4  a merged value is the mean over the predecessors assessed in that round (each one not
         assessed resolved through its own predecessors), null if one of them lacks the pillar,
         coverage their minimum; it enters the successor's change and trend and so the change and
         trend references, never the previous round's level reference.
  C10.5  a gap within 1e-9 of zero has no sign: no flag, no GAP_WIDENING_*, no WATCH.
  Other readings, from B1-B12 directly: descriptive level figures (gap, percentile rank, gap
  trajectory) are given for every score with a non-empty reference, also below min_coverage
  (B2 "S is still returned", B3 "descriptive only"); ties and medians are computed on exact
  rationals (stored f64 scores are mapped back to the small-denominator rational they represent),
  so f64 noise never decides (B5, B12).

Options: --only NAME (staged, scored, peer, noise, demo; repeatable), --dump DIR (expected and
received JSON per query), --max-print N, --keep (keep server directories and logs).
"""
import argparse
import atexit
import csv
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from fractions import Fraction

try:
    import mpmath as mp
except ImportError:
    sys.exit("divergence_reference.py needs mpmath (pip install mpmath)")

mp.mp.dps = 40
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SLACK = 1e-9
MAD_K, MEANAD_K = 1.4826, 1.253314
REL_TOL, ABS_TOL = 1e-4, 1e-9

DEFAULTS = {"min_coverage": 0.8, "min_ref_n": 5, "p_method": "t", "alpha_fdr": 0.05,
            "delta_level": 0.5, "delta_change": 0.25, "delta_slope": 0.15,
            "tier_alert": 0.05, "tier_alarm": 0.002, "trend_max_rounds": 5,
            "s_min_level": 0.10, "s_min_change": 0.10, "s_min_slope": 0.05,
            "method": "divergence-v2"}


# =============================================================================================
# Server and HTTP
# =============================================================================================
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LIVE_SERVERS = []   # stopped by main()'s finally and, as a backstop, at interpreter exit


class Server:
    def __init__(self, binary, name, keep=False, demo=False):
        self.binary, self.name, self.keep = binary, name, keep
        self.proc = self.log = self.conn = None
        self.dir = tempfile.mkdtemp(prefix=f"divref-{name}-")
        LIVE_SERVERS.append(self)
        try:
            self._start(binary, name, demo)
        except BaseException as exc:
            tail = self.log_tail()
            self.stop()
            if isinstance(exc, Exception):
                raise RuntimeError(f"server {name}: {exc}\n{tail}") from exc
            raise

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as fh:
                lines = fh.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def _start(self, binary, name, demo):
        self.db = os.path.join(self.dir, "dma.sqlite")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DMA_") and k != "DATABASE_URL"}
        env.update(DATABASE_URL=self.db, DMA_BIND=f"127.0.0.1:{self.port}",
                   DMA_DEMO="true" if demo else "false",
                   DMA_RATE_LIMIT_PER_SECOND="0", DMA_ANON_RATE_LIMIT_PER_SECOND="0",
                   DMA_RATE_LIMIT_DELAY_MS="0", RUST_LOG="warn", LOG_FORMAT="json")
        self.env = env
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.conn = None
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with status {self.proc.returncode}")
            try:
                st, _ = self.request("GET", "/health/live", auth=False)
                if st == 200:
                    break
            except OSError:
                self.conn = None
            if time.time() > deadline:
                raise RuntimeError("did not answer /health/live within 60 s")
            time.sleep(0.2)
        self.token = subprocess.check_output([binary, "token", "--role", "admin"], env=env,
                                             text=True, timeout=60).strip()

    def request(self, method, path, body=None, auth=True):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if auth:
            headers["authorization"] = "Bearer " + self.token
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return resp.status, payload

    def ok(self, method, path, body=None, expect=(200, 201, 204)):
        st, payload = self.request(method, path, body)
        if st not in expect:
            raise RuntimeError(f"{method} {path} -> {st}: {payload}")
        return payload

    def stop(self):
        """Idempotent: ends the server process this object started, removes its directory."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None and not self.log.closed:
            self.log.close()
        if not self.keep and self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if self in LIVE_SERVERS:
            LIVE_SERVERS.remove(self)


def stop_all_servers():
    for srv in list(LIVE_SERVERS):
        try:
            srv.stop()
        except Exception as exc:   # keep stopping the others
            print(f"could not stop server {srv.name}: {exc}", file=sys.stderr)


def _terminate(signum, frame):
    # turn SIGTERM / SIGHUP into an exception so that every finally block runs
    raise SystemExit(128 + signum)


# =============================================================================================
# Exact helpers (grids, medians)
# =============================================================================================
def median(xs):
    v = sorted(xs)
    n = len(v)
    if n == 0:
        return None
    if n % 2:
        return v[n // 2]
    return (v[n // 2 - 1] + v[n // 2]) / 2


def sign(x):
    """C10.5: a value within 1e-9 of zero has no sign (f64 noise never raises a flag)."""
    if x is None or abs(float(x)) <= SLACK:
        return 0
    return 1 if x > 0 else -1


def quantile7(xs, prob):
    v = sorted(xs)
    n = len(v)
    if n == 0:
        return None
    h = (n - 1) * Fraction(prob)
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return v[lo] + (h - lo) * (v[hi] - v[lo])


def step_gcd(a, b):
    """gcd of two grid steps; 0 = continuous (C2)."""
    if a == 0 or b == 0:
        return Fraction(0)
    return Fraction(math.gcd(a.numerator * b.denominator, b.numerator * a.denominator),
                    a.denominator * b.denominator)


def as_step(h):
    """Steps are rationals in units of 1e-6 points; a denominator above 1e12 is continuous."""
    if h == 0:
        return Fraction(0)
    micro = h * 10**6
    return Fraction(0) if micro.denominator > 10**12 else h


def gcd_all(steps):
    g = None
    for s in steps:
        g = s if g is None else step_gcd(g, s)
    return g


def to_frac(x):
    """Stored scores are f64 means of small rationals; recover the rational."""
    if x is None:
        return None
    f = Fraction(x).limit_denominator(100000)
    return f if abs(float(f) - x) <= 1e-12 * max(1.0, abs(x)) else Fraction(x)


def ols_slope(xs, ys):
    n = len(xs)
    sx, sy = sum(xs), sum(ys)
    sxx = sum(x * x for x in xs)
    sxy = sum(x * y for x, y in zip(xs, ys))
    return Fraction(n * sxy - sx * sy) / (n * sxx - sx * sx)


def trend_step(grids, xs):
    g = gcd_all(grids)
    k, sx, sxx = len(xs), sum(xs), sum(x * x for x in xs)
    big_g = 0
    for x in xs:
        big_g = math.gcd(big_g, abs(k * x - sx))
    return as_step(g * Fraction(big_g, k * sxx - sx * sx))


# =============================================================================================
# Statistics
# =============================================================================================
def p_two_sided(z, nu, method):
    z = mp.mpf(z)
    if method == "normal":
        return mp.erfc(abs(z) / mp.sqrt(2))
    if z == 0:
        return mp.mpf(1)
    x = nu / (nu + z * z)
    return mp.betainc(mp.mpf(nu) / 2, mp.mpf(1) / 2, 0, x, regularized=True)


_ZSTAR = {}


def z_star(p_star, nu, method):
    key = (float(p_star), nu, method)
    if key in _ZSTAR:
        return _ZSTAR[key]
    p_star = mp.mpf(p_star)
    lo, hi = mp.mpf(0), mp.mpf(1)
    while p_two_sided(hi, nu, method) > p_star:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if p_two_sided(mid, nu, method) > p_star:
            lo = mid
        else:
            hi = mid
    _ZSTAR[key] = (lo + hi) / 2
    return _ZSTAR[key]


def bh(ps):
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    q = [None] * m
    running = mp.mpf(1)
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        q[i] = running
    return q


def confidence(n, min_ref_n):
    if n < min_ref_n:
        return "insufficient"
    if n < 10:
        return "low"
    if n < 30:
        return "moderate"
    return "high"


def reference_summary(kind, key, vals, steps, s_min, opts, v2):
    """B5 (v1) / C3 (v2). vals: Fractions. Returns the expected summary plus internals."""
    n = len(vals)
    ref = {"kind": kind, "key": key, "n": n, "confidence": confidence(n, opts["min_ref_n"]),
           "median": None, "q1": None, "q3": None, "mad": None, "scale": None,
           "scale_method": None, "resolution": None}
    ref["_med"] = median(vals) if n else None
    if n:
        ref["median"] = float(ref["_med"])
        ref["q1"] = float(quantile7(vals, Fraction(1, 4)))
        ref["q3"] = float(quantile7(vals, Fraction(3, 4)))
    ref["_s"], ref["_floor"] = None, False
    if n >= opts["min_ref_n"] and n > 0:
        med = ref["_med"]
        dev = [abs(x - med) for x in vals]
        mad = median(dev)
        meanad = sum(dev) / n
        ref["mad"] = float(mad)
        if v2:
            r = median(steps)
            terms = [("mad", MAD_K * float(mad)), ("meanad", MEANAD_K * float(meanad)),
                     ("resolution", float(r)), ("floor", s_min)]
            s = max(t[1] for t in terms)
            sm = next(nm for nm, val in terms if val == s)
            ref["resolution"] = float(r)
        else:
            if float(mad) > 1e-9:
                s, sm = MAD_K * float(mad), "mad"
            else:
                s, sm = MEANAD_K * float(meanad), "meanad"
            # B5 names only "mad" and "meanad"; the floor is the status SCALE_FLOOR_APPLIED
            if s_min > s:
                s, ref["_floor"] = s_min, True
        ref["scale"], ref["scale_method"], ref["_s"] = s, sm, s
        if v2:
            ref["_floor"] = sm == "floor"
    return ref


def public_ref(ref):
    return {k: v for k, v in ref.items() if not k.startswith("_")}


def mid_rank_pr(x, vals):
    if x is None or not vals:
        return None
    below = sum(1 for v in vals if v < x)
    eq = sum(1 for v in vals if v == x)
    return 100.0 * float(Fraction(2 * below + eq, 2 * len(vals)))


# =============================================================================================
# Framework grids (C2.1)
# =============================================================================================
def _micro_int(v):
    m = v * 1e6
    r = round(m)
    return r if abs(m - r) <= 1e-9 * 1e6 else None


def pillar_grid(fw, org_type, pillar_key):
    """Grid h of a pillar for a type; None if no domain of the type can score it."""
    pillar = next((p for p in fw["pillars"] if p["key"] == pillar_key), None)
    if pillar is None:
        return None
    doms = [d for d in pillar["domains"] if org_type in d["applies_to"]]
    if fw["method"] == "staged":
        d_count = sum(1 for d in doms if any(q.get("level") is not None for q in d["questions"]))
        return as_step(Fraction(1, d_count)) if d_count else None
    steps = []
    lo, hi = fw["scale"]["min"], fw["scale"]["max"]
    for d in doms:
        scored, points, weights = [], [], []
        for q in d["questions"]:
            t = q["type"]
            pts = None
            if t in ("single_choice", "multiple_choice"):
                pts = [o["score"] for o in q.get("options", []) if o.get("score") is not None]
            elif t == "boolean":
                pts = []
            elif t in ("number", "percentage"):
                pts = [b["score"] for b in q.get("bands", []) if b.get("score") is not None]
            if pts is None or (t != "boolean" and not pts):
                continue
            scored.append(q)
            points += pts
            weights.append(q.get("weight", 1.0))
        if not scored:
            continue
        points += [lo, hi]
        micro = [_micro_int(v) for v in points]
        if len(set(weights)) > 1 or any(m is None for m in micro):
            steps.append(Fraction(0))
            continue
        g = 0
        for m in micro:
            g = math.gcd(g, abs(m))
        lcm = 1
        for k in range(1, len(scored) + 1):
            lcm = lcm * k // math.gcd(lcm, k)
        steps.append(Fraction(g, 10**6) / lcm)
    if not steps:
        return None
    return as_step(gcd_all(steps) / len(steps))


# =============================================================================================
# Expected analysis
# =============================================================================================
class Data:
    """What the engine takes as input, read back from the API."""

    def __init__(self):
        self.rounds = []          # [(key, framework_key)] oldest first
        self.frameworks = {}      # key -> framework JSON
        self.scores = {}          # round -> ods -> {"type","pillars":{p:(S,cov)},"overall":(S,cov)}
        self.preds = {}           # ods -> [predecessor ods]
        self.peer_groups = {}     # key -> members
        self.peer_group_types = {}  # key -> the group's one org_type (PeerGroup.org_type)
        self.org_types = {}
        self.pillar_keys = {}     # round -> [pillar keys in order]


def analyse(data, focal, opts_in, reference="type"):
    opts = dict(DEFAULTS)
    opts.update(opts_in)
    v2 = opts["method"] == "divergence-v2"
    keys = [k for k, _ in data.rounds]
    fi = keys.index(focal)
    fw_of = dict(data.rounds)
    fw = data.frameworks[fw_of[focal]]
    sf = (fw["scale"]["max"] - fw["scale"]["min"]) / 4.0
    # comparable rounds: every round in these data sets uses one framework per data set
    used = [k for k in keys[:fi + 1] if fw_of[k] == fw_of[focal]]
    prev = opts_in.get("previous_round") or (used[-2] if len(used) > 1 else None)
    ordinal = {k: i + 1 for i, k in enumerate(used)}
    mincov = opts["min_coverage"]
    s_min = {"level": opts["s_min_level"] * sf, "change": opts["s_min_change"] * sf,
             "trend": opts["s_min_slope"] * sf}
    delta = {"level": opts["delta_level"] * sf, "change": opts["delta_change"] * sf,
             "trend": opts["delta_slope"] * sf}
    min_ref_n = opts["min_ref_n"]

    def pillars_of(t, rnd):
        f = data.frameworks[fw_of[rnd]]
        return [p["key"] for p in f["pillars"] if pillar_grid(f, t, p["key"]) is not None]

    def own(o, p, rnd):
        """(S, cov, grid) of an organisation's own return, None if not assessed / no value."""
        sc = data.scores[rnd].get(o)
        if sc is None:
            return None
        t = sc["type"]
        f = data.frameworks[fw_of[rnd]]
        if p == "overall":
            ps = pillars_of(t, rnd)
            vals = [own(o, pk, rnd) for pk in ps]
            # overall coverage: the minimum of the pillars' (the spec is silent; README uses the
            # minimum for merged values, and the server does the same here)
            cov = min((v[1] for v in vals if v is not None), default=None)
            if not vals or any(not valid(v) for v in vals):
                return (None, cov, None)
            S = sum(v[0] for v in vals) / len(vals)
            g = as_step(gcd_all([v[2] for v in vals]) / len(vals))
            return (S, cov, g)
        if p not in sc["pillars"]:
            return None
        S, cov = sc["pillars"][p]
        return (S, cov, pillar_grid(f, t, p))

    def merged(o, p, rnd, seen):
        """C10.4: (S, cov, grid) merged from o's predecessors in rnd; None when no predecessor
        (resolved through its own predecessors when not assessed) has a row there."""
        parts = []
        for q in data.preds.get(o, []):
            if q in seen:
                continue
            if q in data.scores[rnd]:
                parts.append(own(q, p, rnd))            # None: q lacks the pillar
            else:
                m = merged(q, p, rnd, seen | {q})
                if m is not None:
                    parts.append(m)
        if not parts:
            return None
        covs = [v[1] for v in parts if v is not None and v[1] is not None]
        cov = min(covs) if covs else None
        if any(v is None or v[0] is None for v in parts):
            return (None, cov, None)
        S = sum(v[0] for v in parts) / len(parts)
        g = as_step(gcd_all([v[2] for v in parts]) / len(parts))
        return (S, cov, g)

    def value(o, p, rnd):
        """(S, cov, grid, merged) using lineage for a round the organisation was not assessed in;
        None when the organisation has no score row there (C10.2)."""
        if o in data.scores[rnd]:
            v = own(o, p, rnd)
            return None if v is None else v + (False,)
        if p == "overall":
            t = data.org_types[o]
            vals = [value(o, pk, rnd) for pk in pillars_of(t, rnd)]
            if all(v is None for v in vals):
                return None
            # C10.3: overall coverage is the minimum of the pillar coverages
            cov = min((v[1] for v in vals if v is not None and v[1] is not None), default=None)
            if not vals or any(not valid(v) for v in vals):
                return (None, cov, None, True)
            S = sum(v[0] for v in vals) / len(vals)
            g = as_step(gcd_all([v[2] for v in vals]) / len(vals))
            return (S, cov, g, True)
        m = merged(o, p, rnd, {o})
        return None if m is None else m + (True,)

    def valid(v):
        return v is not None and v[0] is not None and v[1] is not None and v[1] >= mincov - SLACK

    orgs = sorted(data.scores[focal])
    org_type = {o: data.scores[focal][o]["type"] for o in orgs}
    rows_keys = []
    for o in orgs:
        for p in pillars_of(org_type[o], focal):
            rows_keys.append((o, p))
        rows_keys.append((o, "overall"))
    all_pillars = sorted({p for _, p in rows_keys})
    types = sorted(set(org_type.values()))

    # ---- per (o, p): metric values --------------------------------------------------------
    cur, prv, trend_vals = {}, {}, {}
    for o, p in rows_keys:
        cur[o, p] = value(o, p, focal)
        prv[o, p] = value(o, p, prev) if prev else None
        tv = None
        if valid(cur[o, p]):
            usable = [(r, value(o, p, r)) for r in used]
            usable = [(r, v) for r, v in usable if valid(v)]
            usable = usable[-opts["trend_max_rounds"]:] if opts["trend_max_rounds"] > 0 else []
            if len(usable) >= 3:
                xs = [ordinal[r] for r, _ in usable]
                ys = [v[0] for _, v in usable]
                b = ols_slope(xs, ys)
                st = trend_step([v[2] for _, v in usable], xs)
                cons = None
                if len(usable) >= 4:
                    sgn = (b > 0) - (b < 0)
                    cons = True
                    for i in range(len(usable)):
                        bi = ols_slope(xs[:i] + xs[i + 1:], ys[:i] + ys[i + 1:])
                        if (bi > 0) - (bi < 0) != sgn:
                            cons = False
                tv = {"slope": b, "step": st, "rounds": [r for r, _ in usable], "consistent": cons,
                      "merged": [r for r, v in usable if v[3]]}
        trend_vals[o, p] = tv

    # ---- reference sets ---------------------------------------------------------------------
    def type_members(t):
        return [o for o in orgs if org_type[o] == t]

    peer = None
    if reference.startswith("peer_group:"):
        peer = reference.split(":", 1)[1]
        peer_members = set(data.peer_groups[peer])
        peer_type = data.peer_group_types[peer]

    member_vals = {}
    prev_vals = {}
    for t in types:
        for p in all_pillars:
            member_vals[t, p, "level"] = {
                o: (cur[o, p][0], cur[o, p][2]) for o in type_members(t)
                if (o, p) in cur and valid(cur[o, p])}
            member_vals[t, p, "change"] = {
                o: (cur[o, p][0] - prv[o, p][0], step_gcd(cur[o, p][2], prv[o, p][2]))
                for o in type_members(t) if (o, p) in cur and valid(cur[o, p])
                and valid(prv[o, p])}
            member_vals[t, p, "trend"] = {
                o: (trend_vals[o, p]["slope"], trend_vals[o, p]["step"]) for o in type_members(t)
                if (o, p) in cur and trend_vals[o, p] is not None}
            # previous round level reference (B12), own values only (R1)
            if prev:
                pv = {}
                for o, sc in data.scores[prev].items():
                    if sc["type"] != t:
                        continue
                    v = own(o, p, prev)
                    if valid(v):
                        pv[o] = (v[0], v[2])
                prev_vals[t, p] = pv

    ref_cache = {}

    def get_ref(o, t, p, metric):
        """The reference of organisation o (B3, C10.1). A peer group is compared include-self:
        an organisation of the group's type that is not a member is added to the members' valid
        values when its own value is valid; another type, or fewer than min_ref_n values, falls
        back to type_national. metric "prev": the previous round's level reference (B12), own
        values only (C10.4), chosen the same way."""
        mv = member_vals[t, p, metric] if metric != "prev" else prev_vals[t, p]
        extra = o if (peer is not None and o not in peer_members and o in mv) else None
        ck = (t, p, metric, extra)
        if ck in ref_cache:
            return ref_cache[ck]
        sub = None
        if peer is not None and t == peer_type:
            sub = {j: v for j, v in mv.items() if j in peer_members or j == extra}
            if len(sub) < min_ref_n:
                sub = None
        if peer is None:
            kind, key, sub, fb = "type_national", t, mv, False
        elif sub is None:
            kind, key, sub, fb = "type_national", t, mv, True
        else:
            kind, key, fb = "peer_group", peer, False
        vals = [v for v, _ in sub.values()]
        if metric == "prev":
            ref_cache[ck] = vals
            return vals
        steps = [s for _, s in sub.values()]
        ref = reference_summary(kind, key, vals, steps, s_min[metric], opts, v2)
        ref["_vals"], ref["_fallback"] = vals, fb
        ref_cache[ck] = ref
        return ref

    # ---- blocks -----------------------------------------------------------------------------
    blocks = {}   # (o, p, metric) -> dict of internals
    for o, p in rows_keys:
        t = org_type[o]
        c = cur[o, p]
        # level
        ref = get_ref(o, t, p, "level")
        x = c[0] if c else None
        blk = {"x": x, "ref": ref, "valid": valid(c), "tested": False}
        # why the block is not valid: a missing overall is MISSING_PILLAR on the object (B12)
        blk["why"] = (set() if blk["valid"] or (p == "overall" and x is None)
                      else {"INSUFFICIENT_COVERAGE"})
        blk["gap"] = (x - ref["_med"]) if (x is not None and ref["_med"] is not None) else None
        blk["tested"] = blk["valid"] and ref["_s"] is not None
        blocks[o, p, "level"] = blk
        # change (C10.2): present whenever there is a previous score row, even without a score
        pv = prv.get((o, p))
        if pv is not None:
            ref = get_ref(o, t, p, "change")
            d = (c[0] - pv[0]) if (c is not None and c[0] is not None and pv[0] is not None) \
                else None
            blk = {"x": d, "ref": ref, "valid": valid(c) and valid(pv)}
            if p == "overall":
                # MISSING_PILLAR when the overall of this round or the previous one could not
                # be computed: a change needs both (C10.2)
                blk["why"] = ({"MISSING_PILLAR"}
                              if pv[0] is None or c is None or c[0] is None else set())
                if any(v is not None and v[0] is not None and not valid(v) for v in (c, pv)):
                    blk["why"].add("INSUFFICIENT_COVERAGE")
            else:
                blk["why"] = set() if blk["valid"] else {"INSUFFICIENT_COVERAGE"}
            blk["gap"] = d - ref["_med"] if (d is not None and ref["_med"] is not None) else None
            blk["tested"] = blk["valid"] and ref["_s"] is not None
            blocks[o, p, "change"] = blk
        tv = trend_vals[o, p]
        if tv is not None:
            ref = get_ref(o, t, p, "trend")
            blk = {"x": tv["slope"], "ref": ref, "valid": True, "why": set()}
            blk["gap"] = tv["slope"] - ref["_med"] if ref["_med"] is not None else None
            blk["tested"] = ref["_s"] is not None
            blocks[o, p, "trend"] = blk

    for key, b in blocks.items():
        if b["tested"]:
            b["z"] = float(b["gap"]) / b["ref"]["_s"]
            b["nu"] = b["ref"]["n"] - 1
            b["p"] = p_two_sided(b["z"], b["nu"], opts["p_method"])

    # ---- families ---------------------------------------------------------------------------
    fam_sizes = {"level": 0, "change": 0, "trend": 0, "overall_level": 0, "overall_change": 0,
                 "overall_trend": 0}
    families = {}
    for key, b in blocks.items():
        scope = ("overall_" if key[1] == "overall" else "") + key[2]
        if b["tested"]:
            fam_sizes[scope] += 1
            fam = "round" if v2 else scope
            families.setdefault(fam, []).append(key)
        b["scope"] = scope
    fam_sizes["round"] = sum(fam_sizes.values())
    fam_stats = {}
    for fam, keys_ in families.items():
        qs = bh([blocks[k]["p"] for k in keys_])
        n_disc = sum(1 for q in qs if q <= opts["alpha_fdr"])
        for k, q in zip(keys_, qs):
            blocks[k]["q"] = q
        fam_stats[fam] = (len(keys_), n_disc)

    def fam_size_of(scope):
        if v2:
            return fam_sizes["round"]
        return fam_sizes[scope]

    for key, b in blocks.items():
        metric = key[2]
        b["m"] = fam_size_of(b["scope"])
        b["material"] = (sign(b["gap"]) != 0                     # C10.5, B6, C6
                         and abs(float(b["gap"])) >= delta[metric] - SLACK)
        if b["tested"]:
            p = b["p"]
            b["tier"] = ("alarm" if p < opts["tier_alarm"] else
                         "alert" if p < opts["tier_alert"] else "none")
            b["flag"] = b["q"] <= opts["alpha_fdr"] and b["tier"] != "none" and b["material"]
            if v2:
                m, R = fam_stats["round"]
                k = R if b["q"] <= opts["alpha_fdr"] else R + 1
                p_star = min(mp.mpf(opts["alpha_fdr"]) * k / m, mp.mpf(opts["tier_alert"]))
                zs = z_star(p_star, b["nu"], opts["p_method"])
                b["dg"] = max(delta[metric], float(zs) * b["ref"]["_s"])
        else:
            b["tier"], b["flag"] = "none", False
        b["dir"] = ("BELOW" if sign(b["gap"]) < 0 else "ABOVE") if b["flag"] else None

    # ---- rows -------------------------------------------------------------------------------
    def block_statuses(b, metric):
        st = set(b["why"])
        ref = b["ref"]
        if ref["n"] < min_ref_n:
            st.add("INSUFFICIENT_PEERS")
        if ref["_fallback"]:
            st.add("REFERENCE_FALLBACK")
        if ref["_floor"]:
            st.add("SCALE_FLOOR_APPLIED")
        if v2 and b["tested"] and b["material"] and not b["flag"]:
            st.add("WATCH")
        return st

    def test_fields(b):
        f = {"robust_z": None, "p": None, "q": None, "tier": "none", "detectable_gap": None,
             "family_size": b["m"]}
        if b["tested"]:
            f.update(robust_z=b["z"], p=float(b["p"]), q=float(b["q"]), tier=b["tier"])
            if v2:
                f["detectable_gap"] = b["dg"]
        return f

    rows = {}
    for o, p in rows_keys:
        t = org_type[o]
        c, pv = cur[o, p], prv.get((o, p))
        lb = blocks[o, p, "level"]
        level = {"score": None if c is None or c[0] is None else float(c[0]),
                 "coverage": None if c is None else c[1], "valid": lb["valid"],
                 "gap": None if lb["gap"] is None else float(lb["gap"])}
        level.update(test_fields(lb))
        level["percentile_rank"] = mid_rank_pr(lb["x"], lb["ref"]["_vals"])
        level["statuses"] = block_statuses(lb, "level")
        gp = pr_prev = med_prev = n_prev = None
        if prev and pv is not None:
            # C10.2: median_prev and n_prev whenever there is a previous row; gap_prev and the
            # previous percentile rank only when that row has a score
            pvals = get_ref(o, t, p, "prev")
            n_prev = len(pvals)
            if pvals:
                med_prev = median(pvals)
                if pv[0] is not None:
                    gp = pv[0] - med_prev
                    pr_prev = mid_rank_pr(pv[0], pvals)
        level["median_prev"] = None if med_prev is None else float(med_prev)
        level["n_prev"] = n_prev
        level["gap_prev"] = None if gp is None else float(gp)
        level["gap_change"] = (float(lb["gap"] - gp) if (gp is not None and lb["gap"] is not None)
                               else None)
        level["percentile_rank_prev"] = pr_prev
        level["pr_change"] = (level["percentile_rank"] - pr_prev
                              if (pr_prev is not None and level["percentile_rank"] is not None)
                              else None)
        row = {"org_id": o, "org_type": t, "pillar": p, "round": focal, "previous_round": prev,
               "reference": public_ref(lb["ref"]), "level": level}
        # change
        cb = blocks.get((o, p, "change"))
        if cb is None:
            row["change"] = None
        else:
            ch = {"delta": None if cb["x"] is None else float(cb["x"]),
                  "previous_score": None if pv[0] is None else float(pv[0]),
                  "previous_coverage": pv[1], "item_matched": False, "valid": cb["valid"],
                  "peer_median_delta": None if cb["ref"]["_med"] is None else float(cb["ref"]["_med"]),
                  "excess": None if cb["gap"] is None else float(cb["gap"]),
                  "scale": cb["ref"]["scale"], "reference": public_ref(cb["ref"])}
            ch.update(test_fields(cb))
            ch["statuses"] = block_statuses(cb, "change")
            row["change"] = ch
        tb = blocks.get((o, p, "trend"))
        if tb is None:
            row["trend"] = None
        else:
            tv = trend_vals[o, p]
            tr = {"slope": float(tv["slope"]), "rounds": len(tv["rounds"]),
                  "round_keys": tv["rounds"], "consistent": tv["consistent"],
                  "peer_median_slope": None if tb["ref"]["_med"] is None else float(tb["ref"]["_med"]),
                  "excess": None if tb["gap"] is None else float(tb["gap"]),
                  "scale": tb["ref"]["scale"], "reference": public_ref(tb["ref"])}
            tr.update(test_fields(tb))
            tr["statuses"] = block_statuses(tb, "trend")
            row["trend"] = tr
        # flags
        flags = []
        for metric, code in (("level", "LEVEL"), ("change", "PROGRESS"), ("trend", "TREND")):
            b = blocks.get((o, p, metric))
            if b is not None and b["dir"]:
                flags.append(f"{code}_{b['dir']}_PEERS")
        if (gp is not None and lb["gap"] is not None and valid(c) and valid(pv)
                and sign(gp) != 0 and sign(gp) == sign(lb["gap"])     # C10.5
                and float(abs(lb["gap"]) - abs(gp)) >= delta["change"] - SLACK):
            flags.append("GAP_WIDENING_AHEAD" if lb["gap"] > 0 else "GAP_WIDENING_BEHIND")
        if "LEVEL_BELOW_PEERS" in flags and ("PROGRESS_BELOW_PEERS" in flags
                                             or "TREND_BELOW_PEERS" in flags):
            flags.append("PRIORITY_FALLING_BEHIND")
        row["flags"] = set(flags)
        # object statuses and lineage
        st = set()
        if p == "overall" and (c is None or c[0] is None):
            st.add("MISSING_PILLAR")
        if prev is None or pv is None:
            st.add("NO_PREVIOUS_ROUND")
        merged_rounds = []
        if pv is not None and pv[3] and pv[0] is not None and cb is not None:
            merged_rounds.append(prev)
        if tv_ := trend_vals.get((o, p)):
            for r in tv_["merged"]:
                if r not in merged_rounds:
                    merged_rounds.append(r)
        if merged_rounds:
            st.add("LINEAGE_MERGED")
            row["lineage"] = {"merged_from_previous": prev in merged_rounds,
                              "merged_rounds": sorted(merged_rounds, key=used.index)}
        else:
            row["lineage"] = None
        row["statuses"] = st
        row["method"] = {"version": opts["method"], "p_method": opts["p_method"],
                         "alpha_fdr": opts["alpha_fdr"],
                         "family_size": fam_size_of("overall_level" if p == "overall" else "level")}
        rows[o, p] = row

    report = {"round": focal, "previous_round": prev, "rounds": used,
              "method": {"version": opts["method"],
                         "families": "round" if v2 else "metric_and_scope",
                         "family_sizes": fam_sizes}}
    return report, rows


# =============================================================================================
# Comparison
# =============================================================================================
class Comparator:
    def __init__(self):
        self.mismatches = []   # (class, path, expected, got)
        self.figures = 0

    def close(self, a, b):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if math.isnan(a) or math.isnan(b):
                return False
            return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)
        return a == b

    def cmp(self, cls, path, exp, got):
        self.figures += 1
        if isinstance(exp, set):
            got_c = set(got) if isinstance(got, list) else got
            if exp != got_c:
                self.mismatches.append((cls, path, sorted(exp), got))
            return
        if not self.close(exp, got):
            self.mismatches.append((cls, path, exp, got))

    def cmp_dict(self, cls, path, exp, got):
        if exp is None or got is None:
            self.cmp(cls, path, exp, None if got is None else "<object>")
            return
        for k, v in exp.items():
            if isinstance(v, dict) and not isinstance(v, set):
                self.cmp_dict(cls + "." + k, path + "." + k, v, got.get(k))
            else:
                if k not in got:
                    self.figures += 1
                    self.mismatches.append((cls + "." + k, path + "." + k, v, "<absent>"))
                else:
                    self.cmp(cls + "." + k, path + "." + k, v, got[k])


def compare_report(cmpr, base, exp_report, exp_rows, got):
    for k in ("round", "previous_round", "rounds"):
        cmpr.cmp(f"report.{k}", f"{base}.{k}", exp_report[k], got.get(k))
    gm = got.get("method", {})
    cmpr.cmp("report.method.version", f"{base}.method.version", exp_report["method"]["version"],
             gm.get("version"))
    cmpr.cmp("report.method.families", f"{base}.method.families",
             exp_report["method"]["families"], gm.get("families"))
    for k, v in exp_report["method"]["family_sizes"].items():
        cmpr.cmp(f"report.method.family_sizes.{k}", f"{base}.method.family_sizes.{k}", v,
                 gm.get("family_sizes", {}).get(k))
    got_rows = {(r["org_id"], r["pillar"]): r for r in got.get("rows", [])}
    for key in sorted(set(exp_rows) | set(got_rows)):
        path = f"{base}.rows[{key[0]}/{key[1]}]"
        if key not in got_rows:
            cmpr.cmp("row-missing", path, "<row>", None)
            continue
        if key not in exp_rows:
            cmpr.cmp("row-unexpected", path, None, "<row>")
            continue
        e, g = exp_rows[key], got_rows[key]
        cls = "overall" if key[1] == "overall" else "pillar"
        for k in ("org_type", "round", "previous_round", "flags", "statuses"):
            cmpr.cmp(f"{cls}.{k}", f"{path}.{k}", e[k], g.get(k))
        cmpr.cmp_dict(f"{cls}.reference", f"{path}.reference", e["reference"], g.get("reference"))
        cmpr.cmp_dict(f"{cls}.level", f"{path}.level", e["level"], g.get("level"))
        for blk in ("change", "trend"):
            cmpr.cmp_dict(f"{cls}.{blk}", f"{path}.{blk}", e[blk], g.get(blk))
        if e["lineage"] is None or g.get("lineage") is None:
            cmpr.cmp(f"{cls}.lineage(null)", f"{path}.lineage", e["lineage"] is None,
                     g.get("lineage") is None)
        else:
            cmpr.cmp_dict(f"{cls}.lineage", f"{path}.lineage", e["lineage"], g["lineage"])
        cmpr.cmp_dict(f"{cls}.method", f"{path}.method", e["method"], g.get("method"))
    return len(exp_rows)


# =============================================================================================
# Data sets
# =============================================================================================
def load_register():
    types, closed = {}, {}
    with open(os.path.join(ROOT, "seeds/organisations/trusts_2026.csv"), newline="") as fh:
        for row in csv.DictReader(fh):
            types[row["ods_code"]] = (row["trust_type"], row["predecessor_codes"])
    with open(os.path.join(ROOT, "seeds/organisations/closures.csv"), newline="") as fh:
        for row in csv.DictReader(fh):
            closed[row["ods_code"]] = row["trust_type"]
    return types, closed


def boolq(key, level=None):
    q = {"key": key, "text": key, "type": "boolean", "mandatory": False}
    if level is not None:
        q["level"] = level
    return q


def staged_framework(key, pillars):
    """pillars: [(pkey, [(dkey, applies_to, criteria?)])] - criteria: domain has level 2..5
    booleans and one free-text question; criteria False: free text only."""
    out = {"key": key, "title": key, "version": "1", "method": "staged",
           "scale": {"min": 1, "max": 5}, "pillars": []}
    for pkey, doms in pillars:
        pd = {"key": pkey, "title": pkey.title(), "domains": []}
        for dkey, applies, crit in doms:
            qs = [boolq(f"{dkey}-L{lv}", lv) for lv in range(2, 6)] if crit else []
            qs.append({"key": f"{dkey}-T", "text": "notes", "type": "text", "mandatory": False})
            pd["domains"].append({"key": dkey, "title": dkey, "applies_to": applies,
                                  "questions": qs})
        out["pillars"].append(pd)
    return out


def sc_q(key, scores, weight=1.0):
    return {"key": key, "text": key, "type": "single_choice", "mandatory": False, "weight": weight,
            "options": [{"code": f"o{i}", "label": f"o{i}", "score": s} for i, s in enumerate(scores)]}


def scored_framework(key):
    A, MH = "acute", "mental_health"
    g25, g50, g20 = [0, 25, 50, 75, 100], [0, 50, 100], [0, 20, 40, 60, 80, 100]
    pillars = [
        ("sa", [("sa1", [A, MH], [sc_q("sa1-q0", g25), sc_q("sa1-q1", g25),
                                  dict(sc_q("sa1-q2", g25), enable_when={
                                      "question": "sa1-q0", "operator": "!=", "answer": "o0"})]),
                ("sa2", [A, MH], [sc_q(f"sa2-q{i}", g25) for i in range(3)])]),
        ("sb", [("sb1", [A, MH], [sc_q("sb1-q0", g50), sc_q("sb1-q1", g50),
                                  {"key": "sb1-q2", "text": "b", "type": "boolean",
                                   "mandatory": False, "weight": 1.0},
                                  {"key": "sb1-q3", "text": "n", "type": "number",
                                   "mandatory": False, "weight": 1.0,
                                   "bands": [{"from": 0, "to": 10, "score": 0},
                                             {"from": 10, "to": 50, "score": 50},
                                             {"from": 50, "to": 1000, "score": 100}]}])]),
        ("sc", [("sc1", [A, MH], [sc_q("sc1-q0", g20)]), ("sc2", [A, MH], [sc_q("sc2-q0", g20)]),
                ("sc3", [A], [sc_q("sc3-q0", g20)])]),
        ("sd", [("sd1", [A], [sc_q("sd1-q0", g25, 1.0), sc_q("sd1-q1", g25, 2.0)]),
                ("sd2", [A, MH], [sc_q("sd2-q0", g25), sc_q("sd2-q1", g25),
                                  {"key": "sd2-q2", "text": "m", "type": "multiple_choice",
                                   "mandatory": False, "weight": 1.0,
                                   "options": [{"code": "a", "label": "a", "score": 25},
                                               {"code": "b", "label": "b", "score": 50},
                                               {"code": "c", "label": "c", "score": 50}]}])]),
        # thirds: points off the 1e-6 grid -> continuous pillar (h = 0)
        ("se", [("se1", [A, MH], [sc_q("se1-q0", [0, 100 / 3, 200 / 3, 100]),
                                  sc_q("se1-q1", [0, 100 / 3, 200 / 3, 100])])]),
    ]
    out = {"key": key, "title": key, "version": "1", "method": "scored",
           "scale": {"min": 0, "max": 100}, "pillars": []}
    for pkey, doms in pillars:
        out["pillars"].append({"key": pkey, "title": pkey.upper(), "domains": [
            {"key": d, "title": d, "applies_to": ap, "questions": qs} for d, ap, qs in doms]})
    return out


def applicable(fw, t):
    """[(pillar, domain, question)] asked of type t."""
    out = []
    for p in fw["pillars"]:
        for d in p["domains"]:
            if t in d["applies_to"]:
                for q in d["questions"]:
                    out.append((p["key"], d, q))
    return out


class Generator:
    """Latent maturity model: organisation, organisation x pillar, organisation x domain effects
    (kept across rounds), progress per round, domain-round noise; rounded to whole levels."""

    def __init__(self, rng, fw, orgs, n_rounds):
        self.rng, self.fw = rng, fw
        self.base = {o: rng.gauss(0, 0.55) for o in orgs}
        self.prog = {o: rng.gauss(0.15, 0.12) for o in orgs}
        self.peff, self.deff = {}, {}
        for o in orgs:
            for p in fw["pillars"]:
                self.peff[o, p["key"]] = rng.gauss(0, 0.35)
                for d in p["domains"]:
                    self.deff[o, d["key"]] = rng.gauss(0, 0.4)
        self.plants = {}   # (o, pillar, round_index) -> forced latent

    def latent(self, o, pkey, dkey, ri):
        forced = self.plants.get((o, pkey, ri))
        if forced is not None:
            return forced
        return (2.7 + self.base[o] + self.peff[o, pkey] + self.deff[o, dkey]
                + self.prog[o] * ri + self.rng.gauss(0, 0.3))

    def answers(self, o, t, ri, drop=None):
        """Answers for a return; drop: (pillar, n) questions of that pillar left unanswered."""
        out = {}
        for p in self.fw["pillars"]:
            for d in p["domains"]:
                if t not in d["applies_to"]:
                    continue
                lat = self.latent(o, p["key"], d["key"], ri)
                level = max(1, min(5, int(round(lat))))
                for q in d["questions"]:
                    if q["type"] == "text":
                        out[q["key"]] = "see board paper"
                    elif self.fw["method"] == "staged":
                        lv = q["level"]
                        out[q["key"]] = (True if lv <= level else False if lv == level + 1
                                         else self.rng.random() < 0.3)
                    elif q["type"] == "boolean":
                        out[q["key"]] = self.rng.random() < (lat - 1) / 4
                    elif q["type"] == "number":
                        out[q["key"]] = round(max(0.0, (lat - 1) * 20 + self.rng.gauss(0, 15)), 1)
                    elif q["type"] == "multiple_choice":
                        codes = [o["code"] for o in q["options"]]
                        k = max(0, min(len(codes), int(round((lat - 1) / 4 * len(codes)))))
                        out[q["key"]] = sorted(self.rng.sample(codes, k))
                    else:
                        n = len(q["options"])
                        idx = int(round((lat - 1) / 4 * (n - 1) + self.rng.gauss(0, 0.4)))
                        out[q["key"]] = q["options"][max(0, min(n - 1, idx))]["code"]
        if drop:
            pkey, n = drop
            keys = [q["key"] for pk, d, q in applicable(self.fw, t) if pk == pkey]
            for k in self.rng.sample(keys, min(n, len(keys))):
                out.pop(k, None)
        return out


def pillar_sizes(fw, t):
    sizes = {}
    for pk, d, q in applicable(fw, t):
        sizes[pk] = sizes.get(pk, 0) + 1
    return sizes


def random_drop(rng, fw, t):
    """None, or (pillar, n) to leave n questions unanswered: mostly below 0.8, sometimes exactly
    0.8 or just above (the threshold is inclusive)."""
    u = rng.random()
    if u > 0.22:
        return None
    sizes = pillar_sizes(fw, t)
    pk = rng.choice(sorted(sizes))
    n = sizes[pk]
    if u < 0.13:
        k = max(1, int(math.ceil(n * 0.2 + 1e-9)) + rng.randint(0, max(1, n // 3)))  # cov < 0.8
        if (n - k) / n >= 0.8:
            k += 1
    elif u < 0.17:
        k = int(round(n * 0.2))          # coverage exactly 0.8 when n is a multiple of 5
    else:
        k = 1
    return (pk, min(k, n))


def build_rounds(srv, fw_key, round_keys, plan, gen, types, log):
    """plan: {round_key: {ods: ("submit"|"draft", drop)}}"""
    for i, rk in enumerate(round_keys):
        year = 2021 + i
        srv.ok("POST", "/api/v1/rounds", {"key": rk, "title": rk, "framework": fw_key,
                                          "opens_at": f"{year}-10-01T00:00:00Z",
                                          "closes_at": f"{year + 1}-01-31T00:00:00Z"})
        srv.ok("POST", f"/api/v1/rounds/{rk}/open")
        for ods, (mode, drop) in sorted(plan[rk].items()):
            ans = gen.answers(ods, types[ods], i, drop)
            body = {"answers": [{"question": k, "value": v} for k, v in sorted(ans.items())]}
            srv.ok("PUT", f"/api/v1/rounds/{rk}/assessments/{ods}/answers", body)
            if mode == "submit":
                srv.ok("POST", f"/api/v1/rounds/{rk}/assessments/{ods}/submit")
        srv.ok("POST", f"/api/v1/rounds/{rk}/close")
        log(f"  round {rk}: {sum(1 for m, _ in plan[rk].values() if m == 'submit')} submitted, "
            f"{sum(1 for m, _ in plan[rk].values() if m == 'draft')} drafts")


def read_back(srv, data, round_keys, fw_key):
    for rk in round_keys:
        data.rounds.append((rk, fw_key))
        rs = srv.ok("GET", f"/api/v1/rounds/{urllib.parse.quote(rk)}/scores")
        data.pillar_keys[rk] = rs["pillars"]
        data.scores[rk] = {}
        for it in rs["items"]:
            pillars = {}
            for pv in it["pillars"]:
                if pv.get("score") is None and pv["pillar"] not in rs["pillars"]:
                    continue
                pillars[pv["pillar"]] = (to_frac(pv.get("score")), pv["coverage"])
            data.scores[rk][it["ods_code"]] = {
                "type": it["org_type"], "pillars": pillars,
                "overall": (to_frac(it["overall"].get("score")), it["overall"]["coverage"])}
            data.org_types[it["ods_code"]] = it["org_type"]
    # the lineage of every organisation assessed, and of their predecessors in turn (C10.4: a
    # predecessor not assessed in a round is resolved through its own predecessors)
    todo = sorted({o for rk in round_keys for o in data.scores[rk]})
    while todo:
        ods = todo.pop()
        if ods in data.preds:
            continue
        detail = srv.ok("GET", f"/api/v1/organisations/{urllib.parse.quote(ods)}")
        data.preds[ods] = [p["ods_code"] for p in detail.get("predecessors", [])]
        data.org_types.setdefault(ods, detail["org_type"])
        todo += [q for q in data.preds[ods] if q not in data.preds]


def choose_orgs(rng, register, n_acute, n_mh, exclude):
    acute = sorted(o for o, (t, pred) in register.items() if t == "acute" and not pred
                   and o not in exclude)
    mh = sorted(o for o, (t, pred) in register.items() if t == "mental_health" and not pred
                and o not in exclude)
    return rng.sample(acute, n_acute), rng.sample(mh, n_mh)


def participation(rng, orgs, round_keys, fw, types, p_absent=0.06, p_draft=0.03):
    plan = {rk: {} for rk in round_keys}
    for rk in round_keys:
        for o in orgs:
            u = rng.random()
            if u < p_absent:
                continue
            mode = "draft" if u < p_absent + p_draft else "submit"
            plan[rk][o] = (mode, random_drop(rng, fw, types[o]))
    return plan


def dataset_staged(srv, seed, log):
    """Staged framework, 4 pillars (acute D = 3, 4, 5, 2; mental health D = 3, 2, 5, -),
    3 rounds, ~40 acute + ~20 mental health trusts, with mergers (RVJ -> RA7; RRP, TAF, RNK ->
    G6V2S), drafts, absences and low coverage."""
    rng = random.Random(seed)
    register, closed = load_register()
    A, MH = "acute", "mental_health"
    fw = staged_framework("stg", [
        ("infra", [("in1", [A, MH], True), ("in2", [A, MH], True), ("in3", [A, MH], True),
                   ("in-notes", [A, MH], False)]),
        ("people", [("pe1", [A, MH], True), ("pe2", [A, MH], True), ("pe3", [A], True),
                    ("pe4", [A], True)]),
        ("records", [("re1", [A, MH], True), ("re2", [A, MH], True), ("re3", [A, MH], True),
                     ("re4", [A, MH], True), ("re5", [A], True), ("re6", [MH], True)]),
        ("ops", [("op1", [A], True), ("op2", [A], True)]),
    ])
    srv.ok("POST", "/api/v1/frameworks", fw)
    srv.ok("POST", "/api/v1/frameworks/stg/publish")
    acute, mh = choose_orgs(rng, register, 40, 19, {"RA7", "G6V2S"})
    types = {o: register[o][0] for o in acute + mh}
    for o in ("RA7",):
        types[o] = A
    types["G6V2S"] = MH
    for o in ("RVJ",):
        types[o] = closed[o]
    for o in ("RRP", "TAF", "RNK"):
        types[o] = closed[o]
    rounds = ["s-2021", "s-2022", "s-2023"]
    orgs = acute + mh + ["RA7", "G6V2S", "RVJ", "RRP", "TAF", "RNK"]
    gen = Generator(rng, fw, orgs, 3)
    plan = participation(rng, acute + mh, rounds, fw, types)
    # mergers: RA7 assessed in rounds 1 and 3 (round 2 from RVJ); G6V2S only in round 3
    # (round 2 from RRP, TAF, RNK; round 1 from RRP and TAF, RNK not assessed)
    plan["s-2021"].update({"RA7": ("submit", None), "RVJ": ("submit", None),
                           "RRP": ("submit", None), "TAF": ("submit", None)})
    plan["s-2022"].update({"RVJ": ("submit", None), "RRP": ("submit", None),
                           "TAF": ("submit", None), "RNK": ("submit", None)})
    plan["s-2023"].update({"RA7": ("submit", None), "G6V2S": ("submit", None)})
    # planted divergences: a fall, a jump, a trust stuck at level 1
    fall, jump, stuck = acute[0], mh[0], acute[1]
    for o in (fall, jump, stuck):
        for rk in rounds:
            plan[rk][o] = ("submit", None)
    for d in ("records",):
        gen.plants[fall, d, 2] = 1.0
    gen.plants[jump, "infra", 2] = 5.0
    for ri in range(3):
        gen.plants[stuck, "people", ri] = 1.0
    build_rounds(srv, "stg", rounds, plan, gen, types, log)
    data = Data()
    data.frameworks["stg"] = fw
    read_back(srv, data, rounds, "stg")
    queries = []
    for focal in rounds[::-1]:
        queries.append((focal, {}, "type"))
        queries.append((focal, {"method": "divergence-v1"}, "type"))
    queries += [(rounds[-1], {"p_method": "normal"}, "type"),
                (rounds[-1], {"alpha_fdr": 0.3}, "type"),
                (rounds[-1], {"method": "divergence-v1", "alpha_fdr": 0.3}, "type"),
                (rounds[-1], {"min_coverage": 0.7, "delta_level": 0.3, "delta_change": 0.1,
                              "delta_slope": 0.1}, "type"),
                (rounds[-1], {"alpha_fdr": 0.9, "tier_alert": 0.01, "tier_alarm": 0.001}, "type"),
                (rounds[-1], {"previous_round": rounds[0]}, "type"),
                (rounds[-1], {"previous_round": rounds[0], "method": "divergence-v1"}, "type")]
    return data, queries


def dataset_scored(srv, seed, log):
    """Scored framework on 0-100 (scale factor 25), equal-weight single-choice questions whose
    option points share a grid (plus a boolean and one unequal-weight domain), 4 rounds (trend
    over up to 4 rounds, non-consecutive rounds when one is unusable)."""
    rng = random.Random(seed)
    register, _ = load_register()
    fw = scored_framework("scr")
    srv.ok("POST", "/api/v1/frameworks", fw)
    srv.ok("POST", "/api/v1/frameworks/scr/publish")
    acute, mh = choose_orgs(rng, register, 36, 18, set())
    types = {o: register[o][0] for o in acute + mh}
    rounds = ["c-2021", "c-2022", "c-2023", "c-2024"]
    gen = Generator(rng, fw, acute + mh, 4)
    plan = participation(rng, acute + mh, rounds, fw, types, p_absent=0.08)
    fall = acute[0]
    for rk in rounds:
        plan[rk][fall] = ("submit", None)
    gen.plants[fall, "sa", 3] = 1.0
    gen.plants[fall, "sc", 3] = 1.0
    build_rounds(srv, "scr", rounds, plan, gen, types, log)
    data = Data()
    data.frameworks["scr"] = fw
    read_back(srv, data, rounds, "scr")
    queries = [(rounds[-1], {}, "type"), (rounds[-1], {"method": "divergence-v1"}, "type"),
               (rounds[-1], {"p_method": "normal", "alpha_fdr": 0.2}, "type"),
               (rounds[-2], {}, "type"), (rounds[-3], {}, "type")]
    return data, queries


def dataset_peer(srv, seed, log):
    """Staged framework with a flat 12-domain pillar (scale floor), 25 acute + 4 mental health
    trusts (too few peers), peer groups of 12 and 3 acute trusts."""
    rng = random.Random(seed)
    register, _ = load_register()
    A, MH = "acute", "mental_health"
    fw = staged_framework("pgf", [
        ("alpha", [("al1", [A, MH], True), ("al2", [A, MH], True), ("al3", [A, MH], True)]),
        ("flat", [(f"fl{i}", [A], True) for i in range(1, 13)]),
        ("ten", [(f"te{i}", [A, MH], True) for i in range(1, 11)]),
        ("beta", [("be1", [A, MH], True), ("be2", [A, MH], True), ("be3", [A], True),
                  ("be4", [A, MH], True)]),
    ])
    srv.ok("POST", "/api/v1/frameworks", fw)
    srv.ok("POST", "/api/v1/frameworks/pgf/publish")
    acute, mh = choose_orgs(rng, register, 25, 4, set())
    types = {o: register[o][0] for o in acute + mh}
    rounds = ["p-2021", "p-2022", "p-2023"]
    gen = Generator(rng, fw, acute + mh, 3)
    for o in acute + mh:
        for ri in range(3):
            gen.plants[o, "flat", ri] = 3.0
            gen.plants[o, "ten", ri] = 2.0   # r = 1/10 = s_min, slope grid 1/20 = s_min_slope
    plan = participation(rng, acute + mh, rounds, fw, types, p_absent=0.04)
    # one trust a level higher in one flat domain in the last round: a lone off-centre value
    odd = acute[3]
    plan[rounds[-1]][odd] = ("submit", None)
    gen.plants[odd, "flat", 2] = None
    gen.base[odd], gen.peff[odd, "flat"] = 0.0, 0.0
    for i in range(1, 13):
        gen.deff[odd, f"fl{i}"] = 0.3 if i > 1 else 1.6
    build_rounds(srv, "pgf", rounds, plan, gen, types, log)
    big = sorted(rng.sample(acute, 12))
    tiny = sorted(rng.sample([o for o in acute if o not in big], 3))
    data = Data()
    for key, members in (("big", big), ("tiny", tiny)):
        srv.ok("POST", "/api/v1/peer-groups", {"key": key, "title": key.title(), "members": members})
        data.peer_groups[key] = members
        data.peer_group_types[key] = srv.ok("GET", f"/api/v1/peer-groups/{key}")["org_type"]
    data.frameworks["pgf"] = fw
    read_back(srv, data, rounds, "pgf")
    queries = [(rounds[-1], {}, "peer_group:big"),
               (rounds[-1], {"method": "divergence-v1"}, "peer_group:big"),
               (rounds[-1], {}, "peer_group:tiny"),
               (rounds[-1], {"min_ref_n": 3}, "peer_group:tiny"),
               (rounds[-1], {"min_ref_n": 3}, "type"),
               (rounds[-1], {}, "type"),
               (rounds[-2], {}, "peer_group:big")]
    return data, queries


def dataset_noise(srv, seed, log):
    """Scored pillars whose values are means of domain means in thirds and ninths: the same
    rational reached by different domain compositions is stored as different f64 numbers, so
    exact ties and exact zero gaps arrive with 1e-15 noise (B5, B12: noise must not decide)."""
    rng = random.Random(seed)
    register, _ = load_register()
    A, MH = "acute", "mental_health"
    g25 = [0, 25, 50, 75, 100]
    fw = {"key": "nz", "title": "nz", "version": "1", "method": "scored",
          "scale": {"min": 0, "max": 100}, "pillars": [
              {"key": "n2", "title": "N2", "domains": [
                  {"key": f"n2d{i}", "title": f"n2d{i}", "applies_to": [A, MH],
                   "questions": [sc_q(f"n2d{i}-q{j}", g25) for j in range(3)]} for i in range(2)]},
              {"key": "n3", "title": "N3", "domains": [
                  {"key": f"n3d{i}", "title": f"n3d{i}", "applies_to": [A, MH],
                   "questions": [sc_q(f"n3d{i}-q{j}", g25) for j in range(3)]} for i in range(3)]},
          ]}
    srv.ok("POST", "/api/v1/frameworks", fw)
    srv.ok("POST", "/api/v1/frameworks/nz/publish")
    acute, mh = choose_orgs(rng, register, 60, 12, set())
    types = {o: register[o][0] for o in acute + mh}
    rounds = ["n-2021", "n-2022", "n-2023"]
    gen = Generator(rng, fw, acute + mh, 3)
    for o in acute + mh:       # narrow spread: many exact ties reached by different compositions
        gen.base[o] *= 0.4
        gen.prog[o] = 0.1
    plan = participation(rng, acute + mh, rounds, fw, types, p_absent=0.03, p_draft=0.0)
    build_rounds(srv, "nz", rounds, plan, gen, types, log)
    data = Data()
    data.frameworks["nz"] = fw
    read_back(srv, data, rounds, "nz")
    queries = [(rounds[-1], {}, "type"), (rounds[-2], {}, "type"),
               (rounds[-1], {"method": "divergence-v1"}, "type"),
               (rounds[-1], {"delta_level": 0, "delta_change": 0, "delta_slope": 0}, "type")]
    return data, queries


def dataset_demo(srv, seed, log):
    """The service's own synthetic demo (DMA_DEMO=true): seven staged WGLL pillars, every trust
    type, real mergers (including predecessors of another type). Authored by the project, so
    it is a cross-check, not one of the independent data sets."""
    data = Data()
    rounds = sorted(srv.ok("GET", "/api/v1/rounds"), key=lambda r: r["opens_at"])
    for r in rounds:
        if r["framework"] not in data.frameworks:
            data.frameworks[r["framework"]] = srv.ok("GET", f"/api/v1/frameworks/{r['framework']}")
    assert len(data.frameworks) == 1, "item matching is not re-implemented here"
    fw_key = rounds[0]["framework"]
    keys = [r["key"] for r in rounds]
    read_back(srv, data, keys, fw_key)     # follows predecessors of predecessors (C10.4)
    queries = [(keys[-1], {}, "type"), (keys[-1], {"method": "divergence-v1"}, "type"),
               (keys[-2], {}, "type")]
    return data, queries


DATASETS = [("staged", dataset_staged, 20260101), ("scored", dataset_scored, 20260202),
            ("peer", dataset_peer, 20260303), ("noise", dataset_noise, 20260404),
            ("demo", dataset_demo, None)]


# =============================================================================================
# Main
# =============================================================================================
def query_string(opts, reference):
    q = dict(opts)
    if reference != "type":
        q["reference"] = reference
    return urllib.parse.urlencode(q)


def describe(opts, reference):
    parts = [f"{k}={v}" for k, v in sorted(opts.items())]
    if reference != "type":
        parts.append(f"reference={reference}")
    return ",".join(parts) or "default"



def all_pages(srv, path, qs):
    """Every row of the round view, page by page (the service pages it: `limit`, `next_cursor`),
    as one report whose `rows` are all of them; checks that `total` agrees on every page."""
    base = f"{path}?{qs + '&' if qs else ''}limit=997"
    report = srv.ok("GET", base)
    rows = list(report["rows"])
    cursor = report.get("next_cursor")
    while cursor:
        page = srv.ok("GET", f"{base}&cursor={cursor}")
        if page["total"] != report["total"]:
            raise SystemExit(f"{path}: total {page['total']} on a later page, {report['total']} on the first")
        rows.extend(page["rows"])
        cursor = page.get("next_cursor")
    if len(rows) != report["total"]:
        raise SystemExit(f"{path}: {len(rows)} rows over the pages, total {report['total']}")
    report["rows"] = rows
    report["next_cursor"] = None
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, metavar="PATH", help="the dma server binary")
    names = [n for n, _, _ in DATASETS]
    ap.add_argument("--only", action="append", choices=names,
                    help="run only this data set (repeatable)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the servers' directories (database and log)")
    ap.add_argument("--max-print", type=int, default=0,
                    help="print at most this many mismatches per class (0 = all)")
    ap.add_argument("--dump", metavar="DIR",
                    help="write expected and received reports to this directory")
    args = ap.parse_args()
    if not (os.path.isfile(args.bin) and os.access(args.bin, os.X_OK)):
        ap.error(f"--bin {args.bin}: not an executable file")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    atexit.register(stop_all_servers)

    cmpr = Comparator()
    errors = []            # (data set, message): a data set that could not be built or read
    n_rows = n_reports = n_sets = 0
    try:
        for name, builder, seed in DATASETS:
            if args.only and name not in args.only:
                continue
            log(f"== data set {name} (seed {seed})")
            srv = None
            try:
                srv = Server(args.bin, name, args.keep, demo=(name == "demo"))
                data, queries = builder(srv, seed, log)
                n_sets += 1
                for focal, opts, reference in queries:
                    qs = query_string(opts, reference)
                    got = all_pages(srv, f"/api/v1/rounds/{focal}/divergence", qs)
                    exp_report, exp_rows = analyse(data, focal, opts, reference)
                    before = len(cmpr.mismatches)
                    n = compare_report(cmpr, f"{name}/{focal}/{describe(opts, reference)}",
                                       exp_report, exp_rows, got)
                    n_rows += n
                    n_reports += 1
                    log(f"  {focal} {describe(opts, reference)}: {n} rows, "
                        f"{len(cmpr.mismatches) - before} mismatches")
                    if args.dump:
                        os.makedirs(args.dump, exist_ok=True)
                        fn = os.path.join(args.dump, f"{name}-{focal}-{qs or 'default'}.json")
                        with open(fn, "w") as fh:
                            json.dump({"expected": {f"{k[0]}/{k[1]}": v
                                                    for k, v in exp_rows.items()},
                                       "got": got}, fh, indent=1, default=lambda x: sorted(x))
            except Exception as exc:      # report, clean up, go on with the next data set
                log(f"  data set {name} failed: {exc!r}")
                errors.append((name, f"{type(exc).__name__}: {exc}"))
            finally:
                if srv is not None:
                    if args.keep:
                        log(f"  kept {srv.dir}")
                    srv.stop()
    finally:
        stop_all_servers()

    # report
    by_class = {}
    for cls, path, exp, got in cmpr.mismatches:
        by_class.setdefault(cls, []).append((path, exp, got))
    for field, items in sorted(by_class.items()):
        print(f"--- mismatch class {field}: {len(items)}")
        shown = items if not args.max_print else items[:args.max_print]
        for path, exp, got in shown:
            print(f"  {path}: expected {exp!r} got {got!r}")
    for name, msg in errors:
        print(f"--- error in data set {name}: {msg}")
    print(f"data sets {n_sets}, reports {n_reports}, rows {n_rows}, figures {cmpr.figures}, "
          f"mismatches {len(cmpr.mismatches)} in {len(by_class)} classes"
          + (f", {len(errors)} data sets failed" if errors else ""), flush=True)
    return 1 if (cmpr.mismatches or errors) else 0


if __name__ == "__main__":
    sys.exit(main())
