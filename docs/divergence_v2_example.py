#!/usr/bin/env python3
"""Independent re-computation of the divergence-v2 worked example.

Written from docs/divergence-v1.md and docs/divergence-v2.md only (the engine's Rust code was
not read), for the example's case: one organisation type (acute), type_national reference
(focal organisation included), every coverage 1.0, no mergers, no item matching,
p_method = t with nu = n - 1, staged pillars (grid 1/D), three rounds (trend x = 1, 2, 3).

Run:  python3 docs/divergence_v2_example.py
It prints the input and expected output as JSON on stdout, writes the same JSON to
docs/divergence_v2_example.json (next to this script), and prints a readable summary,
including the divergence-v1 contrast, on stderr.
Requires Python 3.11 and mpmath (pip install mpmath).
"""
from fractions import Fraction
import json
import math
import os
import sys

import mpmath as mp

mp.mp.dps = 60

# ---------------------------------------------------------------------------------------------
# Input: whole-number domain levels (1..5) per organisation, round and pillar.
# ---------------------------------------------------------------------------------------------
ROUNDS = ["2023", "2024", "2025"]
FOCAL, PREVIOUS = "2025", "2024"
PILLARS = {"alpha": 5, "beta": 4}          # staged pillars: number of domains D (grid 1/D)
ORG_TYPE = "acute"

LEVELS = {  # org -> pillar -> [levels 2023, levels 2024, levels 2025]
    "A": {"alpha": [[4, 2, 3, 3, 3], [4, 2, 3, 3, 3], [1, 1, 1, 1, 1]],
          "beta":  [[4, 2, 3, 3], [4, 2, 3, 3], [4, 2, 3, 3]]},
    "B": {"alpha": [[2, 3, 4, 2, 3], [2, 3, 4, 3, 3], [2, 3, 4, 3, 3]],
          "beta":  [[2, 3, 4, 2], [2, 3, 4, 2], [2, 3, 4, 2]]},
    "C": {"alpha": [[3, 3, 3, 3, 3], [3, 3, 3, 3, 3], [3, 3, 4, 3, 3]],
          "beta":  [[3, 3, 3, 3], [3, 3, 4, 3], [3, 3, 4, 3]]},
    "D": {"alpha": [[3, 4, 2, 4, 3], [3, 4, 3, 4, 3], [3, 4, 3, 4, 3]],
          "beta":  [[4, 3, 4, 3], [4, 3, 4, 3], [4, 3, 4, 3]]},
    "E": {"alpha": [[3, 3, 3, 3, 2], [3, 3, 3, 3, 3], [3, 3, 3, 3, 3]],
          "beta":  [[4, 2, 3, 2], [4, 2, 3, 2], [4, 2, 3, 2]]},
    "F": {"alpha": [[4, 3, 3, 3, 3], [4, 3, 3, 3, 3], [4, 3, 3, 3, 3]],
          "beta":  [[3, 4, 3, 3], [3, 4, 3, 3], [3, 4, 3, 3]]},
    "G": {"alpha": [[3, 3, 4, 2, 3], [3, 3, 4, 3, 3], [3, 3, 4, 3, 3]],
          "beta":  [[4, 1, 3, 3], [4, 1, 3, 3], [4, 2, 4, 4]]},
    "H": {"alpha": [[2, 3, 4, 4, 3], [2, 3, 4, 4, 3], [2, 3, 4, 4, 3]],
          "beta":  [[3, 3, 4, 3], [3, 3, 3, 3], [3, 3, 3, 3]]},
}

# ---------------------------------------------------------------------------------------------
# Configuration (v1 defaults, B9; v2 changes C2-C6)
# ---------------------------------------------------------------------------------------------
ALPHA_FDR = 0.05
TIER_ALERT, TIER_ALARM = 0.05, 0.002
DELTA = {"level": 0.5, "change": 0.25, "trend": 0.15}
S_MIN = {"level": 0.10, "change": 0.10, "trend": 0.05}
SLACK = 1e-9
MIN_REF_N = 5
MAD_K, MEANAD_K = 1.4826, 1.253314
METRICS = ("level", "change", "trend")


# ---------------------------------------------------------------------------------------------
# Exact helpers
# ---------------------------------------------------------------------------------------------
def median(xs):
    """Median; average of the two middle values when n is even (exact for Fractions)."""
    v = sorted(xs)
    n = len(v)
    if n % 2:
        return v[n // 2]
    return (v[n // 2 - 1] + v[n // 2]) / 2


def step_gcd(a, b):
    """gcd of two grid steps (Fractions, 0 = continuous): gcd(a/b, c/d) = gcd(a*d, c*b)/(b*d)."""
    if a == 0 or b == 0:
        return Fraction(0)
    return Fraction(math.gcd(a.numerator * b.denominator, b.numerator * a.denominator),
                    a.denominator * b.denominator)


def as_step(h):
    """C2: steps are rationals in units of 1e-6 points; a denominator above 1e12 is continuous."""
    micro = h * 10**6
    return Fraction(0) if micro.denominator > 10**12 else h


def ols_slope(xs, ys):
    n = len(xs)
    sx, sy = sum(xs), sum(ys)
    sxx = sum(x * x for x in xs)
    sxy = sum(x * y for x, y in zip(xs, ys))
    return Fraction(n * sxy - sx * sy, n * sxx - sx * sx)


def trend_step(grids, xs):
    """C2.5: gcd(grids) * G / B, G = gcd_i |K x_i - sum x|, B = K sum x^2 - (sum x)^2."""
    g = grids[0]
    for h in grids[1:]:
        g = step_gcd(g, h)
    k, sx, sxx = len(xs), sum(xs), sum(x * x for x in xs)
    big_g = 0
    for x in xs:
        big_g = math.gcd(big_g, abs(k * x - sx))
    return as_step(g * Fraction(big_g, k * sxx - sx * sx))


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------
def p_two_sided_t(z, nu):
    """p = 2 P(T_nu > |z|) = I_{nu/(nu+z^2)}(nu/2, 1/2)."""
    z = mp.mpf(z)
    if z == 0:
        return mp.mpf(1)
    x = nu / (nu + z * z)
    return mp.betainc(mp.mpf(nu) / 2, mp.mpf(1) / 2, 0, x, regularized=True)


def z_star_t(p_star, nu):
    """The |z| whose two-sided Student-t p equals p_star (bisection at 60 digits)."""
    p_star = mp.mpf(p_star)
    lo, hi = mp.mpf(0), mp.mpf(1)
    while p_two_sided_t(hi, nu) > p_star:
        hi *= 2
    for _ in range(400):
        mid = (lo + hi) / 2
        if p_two_sided_t(mid, nu) > p_star:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def bh(ps):
    """Benjamini-Hochberg adjusted q-values (step-up), capped at 1."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    q = [None] * m
    running = mp.mpf(1)
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        q[i] = running
    return q


def tier_of(p):
    if p < TIER_ALARM:
        return "alarm"
    if p < TIER_ALERT:
        return "alert"
    return "none"


def reference_v2(values, steps, s_min):
    """C3: s = max(1.4826 MAD, 1.253314 MeanAD, r, s_min); first of mad, meanad, resolution,
    floor on exact equality of the four floats."""
    med = median(values)
    dev = [abs(x - med) for x in values]
    mad = median(dev)
    meanad = sum(dev) / len(dev)
    r = median(steps)
    terms = [("mad", MAD_K * float(mad)), ("meanad", MEANAD_K * float(meanad)),
             ("resolution", float(r)), ("floor", s_min)]
    s = max(t[1] for t in terms)
    method = next(name for name, val in terms if val == s)
    return {"n": len(values), "median": med, "mad": mad, "meanad": meanad, "resolution": r,
            "scale": s, "scale_method": method, "terms": terms}


def reference_v1(values, s_min):
    """B5: s = 1.4826 MAD if MAD > 1e-9 else 1.253314 MeanAD; s = max(s, s_min).
    v1's scale_method is only "mad" or "meanad" (B5): when the s_min floor binds, the method
    stays the term it replaced and the floor shows as the status SCALE_FLOOR_APPLIED."""
    med = median(values)
    dev = [abs(x - med) for x in values]
    mad = median(dev)
    meanad = sum(dev) / len(dev)
    if float(mad) > 1e-9:
        s, method = MAD_K * float(mad), "mad"
    else:
        s, method = MEANAD_K * float(meanad), "meanad"
    floor_applied = s_min > s
    if floor_applied:
        s = s_min
    return {"n": len(values), "median": med, "mad": mad, "meanad": meanad, "scale": s,
            "scale_method": method, "floor_applied": floor_applied}


# ---------------------------------------------------------------------------------------------
# Values and grids
# ---------------------------------------------------------------------------------------------
ORGS = sorted(LEVELS)
ROWS = list(PILLARS) + ["overall"]
XS = list(range(1, len(ROUNDS) + 1))          # round ordinals 1, 2, 3

value, grid = {}, {}
for o in ORGS:
    for ri, rnd in enumerate(ROUNDS):
        for p, d in PILLARS.items():
            lv = LEVELS[o][p][ri]
            assert len(lv) == d and all(isinstance(v, int) and 1 <= v <= 5 for v in lv)
            value[o, p, rnd] = Fraction(sum(lv), d)
            grid[o, p, rnd] = as_step(Fraction(1, d))
        pv = [value[o, p, rnd] for p in PILLARS]
        value[o, "overall", rnd] = sum(pv) / len(pv)
        g = Fraction(0)
        first = True
        for p in PILLARS:
            g = grid[o, p, rnd] if first else step_gcd(g, grid[o, p, rnd])
            first = False
        grid[o, "overall", rnd] = as_step(g / len(PILLARS))

# metric values and steps per (org, row)
metric_value, metric_step = {}, {}
for o in ORGS:
    for row in ROWS:
        metric_value[o, row, "level"] = value[o, row, FOCAL]
        metric_step[o, row, "level"] = grid[o, row, FOCAL]
        metric_value[o, row, "change"] = value[o, row, FOCAL] - value[o, row, PREVIOUS]
        metric_step[o, row, "change"] = step_gcd(grid[o, row, FOCAL], grid[o, row, PREVIOUS])
        metric_value[o, row, "trend"] = ols_slope(XS, [value[o, row, r] for r in ROUNDS])
        metric_step[o, row, "trend"] = trend_step([grid[o, row, r] for r in ROUNDS], XS)

# ---------------------------------------------------------------------------------------------
# References (type_national, focal included; every organisation valid in every round)
# ---------------------------------------------------------------------------------------------
refs, refs_v1 = {}, {}
for row in ROWS:
    for metric in METRICS:
        vals = [metric_value[o, row, metric] for o in ORGS]
        steps = [metric_step[o, row, metric] for o in ORGS]
        assert len(vals) >= MIN_REF_N
        refs[row, metric] = reference_v2(vals, steps, S_MIN[metric])
        refs_v1[row, metric] = reference_v1(vals, S_MIN[metric])
prev_level_median = {row: median([value[o, row, PREVIOUS] for o in ORGS]) for row in ROWS}


def material(g, metric):
    return g != 0 and abs(float(g)) >= DELTA[metric] - SLACK


def run(method):
    """Blocks with z, p, q, tier, flag direction. v2: one BH family; v1: per (metric, scope)."""
    blocks = {}
    for o in ORGS:
        for row in ROWS:
            for metric in METRICS:
                ref = (refs if method == "v2" else refs_v1)[row, metric]
                gap = metric_value[o, row, metric] - ref["median"]
                z = float(gap) / ref["scale"]
                nu = ref["n"] - 1
                p = p_two_sided_t(z, nu)
                blocks[o, row, metric] = {"gap": gap, "z": z, "p": p, "nu": nu, "ref": ref}
    if method == "v2":
        families = {"round": list(blocks)}
    else:
        families = {}
        for key in blocks:
            scope = "overall" if key[1] == "overall" else "pillar"
            families.setdefault((key[2], scope), []).append(key)
    for fam_keys in families.values():
        qs = bh([blocks[k]["p"] for k in fam_keys])
        n_disc = sum(1 for q in qs if q <= ALPHA_FDR)
        for k, q in zip(fam_keys, qs):
            b = blocks[k]
            b["q"], b["m"], b["R"] = q, len(fam_keys), n_disc
    for (o, row, metric), b in blocks.items():
        b["tier"] = tier_of(b["p"])
        b["material"] = material(b["gap"], metric)
        b["flag"] = b["q"] <= ALPHA_FDR and b["tier"] != "none" and b["material"]
        b["dir"] = ("BELOW" if b["gap"] < 0 else "ABOVE") if b["flag"] else None
        if method == "v2":
            k = b["R"] if b["q"] <= ALPHA_FDR else b["R"] + 1
            p_star = min(mp.mpf(ALPHA_FDR) * k / b["m"], mp.mpf(TIER_ALERT))
            b["z_star"] = z_star_t(p_star, b["nu"])
            b["detectable_gap"] = max(DELTA[metric], float(b["z_star"]) * b["ref"]["scale"])
            st = []
            if b["ref"]["scale_method"] == "floor":
                st.append("SCALE_FLOOR_APPLIED")
            if b["material"] and not b["flag"]:
                st.append("WATCH")
            b["statuses"] = st
    return blocks


def flags_of(blocks, o, row):
    f = []
    for metric, code in (("level", "LEVEL"), ("change", "PROGRESS"), ("trend", "TREND")):
        d = blocks[o, row, metric]["dir"]
        if d:
            f.append(f"{code}_{d}_PEERS")
    g_now = blocks[o, row, "level"]["gap"]
    g_prev = value[o, row, PREVIOUS] - prev_level_median[row]
    if g_now != 0 and g_prev != 0 and (g_now > 0) == (g_prev > 0) \
            and float(abs(g_now) - abs(g_prev)) >= DELTA["change"] - SLACK:
        f.append("GAP_WIDENING_AHEAD" if g_now > 0 else "GAP_WIDENING_BEHIND")
    if "LEVEL_BELOW_PEERS" in f and ("PROGRESS_BELOW_PEERS" in f or "TREND_BELOW_PEERS" in f):
        f.append("PRIORITY_FALLING_BEHIND")
    return f


V2 = run("v2")
V1 = run("v1")


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------
def ref_json(ref):
    return {"n": ref["n"], "median": float(ref["median"]), "mad": float(ref["mad"]),
            "scale": ref["scale"], "scale_method": ref["scale_method"],
            "resolution": float(ref["resolution"])}


def block_json(b):
    return {"robust_z": b["z"], "p": float(b["p"]), "q": float(b["q"]), "tier": b["tier"],
            "detectable_gap": b["detectable_gap"], "statuses": b["statuses"],
            "family_size": b["m"]}


rows_out = []
for o in ORGS:
    for row in ROWS:
        lv, ch, tr = (V2[o, row, m] for m in METRICS)
        level = {"score": float(metric_value[o, row, "level"]), "gap": float(lv["gap"])}
        level.update(block_json(lv))
        change = {"delta": float(metric_value[o, row, "change"]),
                  "peer_median_delta": float(refs[row, "change"]["median"]),
                  "excess": float(ch["gap"]), "scale": refs[row, "change"]["scale"]}
        change.update(block_json(ch))
        change["reference"] = ref_json(refs[row, "change"])
        trend = {"slope": float(metric_value[o, row, "trend"]),
                 "peer_median_slope": float(refs[row, "trend"]["median"]),
                 "excess": float(tr["gap"]), "scale": refs[row, "trend"]["scale"]}
        trend.update(block_json(tr))
        trend["reference"] = ref_json(refs[row, "trend"])
        rows_out.append({"org_id": o, "pillar": row, "reference": ref_json(refs[row, "level"]),
                         "level": level, "change": change, "trend": trend,
                         "flags": flags_of(V2, o, row)})

doc = {
    "input": {
        "rounds": ROUNDS, "previous_round": PREVIOUS, "pillars": PILLARS,
        "orgs": [{"ods": o, "org_type": ORG_TYPE,
                  "scores": {r: {p: float(value[o, p, r]) for p in PILLARS} for r in ROUNDS},
                  "levels": {r: {p: LEVELS[o][p][i] for p in PILLARS}
                             for i, r in enumerate(ROUNDS)}}
                 for o in ORGS]},
    "rows": rows_out,
}

text = json.dumps(doc, indent=1)
print(text)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "divergence_v2_example.json"), "w") as fh:
    fh.write(text + "\n")


# ---------------------------------------------------------------------------------------------
# Readable summary (stderr), used for the worked example in docs/divergence-v2.md
# ---------------------------------------------------------------------------------------------
def e(*a):
    print(*a, file=sys.stderr)


def fx(x):
    return f"{float(x):.6g}"


e("== values (alpha, beta, overall) per round ==")
for o in ORGS:
    e(o, " | ".join(f"{r}: " + ", ".join(fx(value[o, row, r]) for row in ROWS) for r in ROUNDS),
      "| change", ", ".join(fx(metric_value[o, row, "change"]) for row in ROWS),
      "| slope", ", ".join(fx(metric_value[o, row, "trend"]) for row in ROWS))
e("previous-round level medians:", {row: fx(prev_level_median[row]) for row in ROWS})
e("== references (v2 | v1) ==")
for row in ROWS:
    for metric in METRICS:
        r2, r1 = refs[row, metric], refs_v1[row, metric]
        e(f"{row:8s} {metric:6s} med {fx(r2['median'])} MAD {fx(r2['mad'])} "
          f"MeanAD {fx(r2['meanad'])} r {fx(r2['resolution'])} terms "
          + ", ".join(f"{n}={v:.6g}" for n, v in r2["terms"])
          + f" -> s {r2['scale']:.6g} ({r2['scale_method']}) | v1 s {r1['scale']:.6g} "
          f"({r1['scale_method']}{', SCALE_FLOOR_APPLIED' if r1['floor_applied'] else ''})")
m = V2["A", "alpha", "level"]["m"]
R = V2["A", "alpha", "level"]["R"]
e(f"== v2 family: m = {m}, discoveries R = {R} ==")
for key in sorted(V2, key=lambda k: V2[k]["p"]):
    b = V2[key]
    if b["flag"] or b["statuses"] or b["p"] < 0.05 or V1[key]["flag"]:
        v1 = V1[key]
        e(f"{key}: gap {fx(b['gap'])} z {b['z']:.5g} p {float(b['p']):.4g} q {float(b['q']):.4g} "
          f"tier {b['tier']} flag {b['dir']} dg {b['detectable_gap']:.5g} "
          f"(z* {float(b['z_star']):.5g}) {b['statuses']} || v1: s {v1['ref']['scale']:.5g} "
          f"z {v1['z']:.5g} p {float(v1['p']):.4g} q {float(v1['q']):.4g} (m {v1['m']}) "
          f"tier {v1['tier']} flag {v1['dir']}")
e("== flags v2 | v1 ==")
for o in ORGS:
    for row in ROWS:
        f2, f1 = flags_of(V2, o, row), flags_of(V1, o, row)
        if f2 or f1:
            e(f"{o} {row}: v2 {f2} | v1 {f1}")
