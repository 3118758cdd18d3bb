//! The numerics of B5–B6: medians, type-7 quartiles, robust scale, p-values, Benjamini–Hochberg,
//! OLS slopes and mid-rank percentile ranks. Plain functions over slices; no knowledge of rows.

use super::options::{MethodVersion, Options, PMethod};
use super::types::{ScaleMethod, Tier};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Slack for comparisons on the score scale (B12): f64 noise such as 0.19999999999999996 must
/// never decide a threshold.
pub const EPS: f64 = 1e-9;
/// MAD to σ under normality (1/Φ⁻¹(0.75)).
pub const MAD_TO_SD: f64 = 1.4826;
/// Mean absolute deviation to σ under normality (√(π/2)).
pub const MEANAD_TO_SD: f64 = 1.253314;

/// Median of a sorted, non-empty slice (mean of the two middle values when n is even).
pub fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median of an unsorted, non-empty slice in O(n) (selection, reordering the slice).
pub fn median_unsorted(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let (left, mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *mid;
    if n % 2 == 1 {
        upper
    } else {
        let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// Sort key giving f64's total order as an unsigned integer (cheap comparisons).
pub fn order_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// Type-7 quantile (R default, Excel PERCENTILE.INC) of a sorted, non-empty slice.
pub fn quantile_type7(sorted: &[f64], prob: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * prob.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Mid-rank percentile rank of `x` within a sorted reference: 100·(below + ½·equal)/n, where values
/// within 1e-9 of `x` count as equal. `x` need not be a member of the reference.
pub fn percentile_rank(sorted: &[f64], x: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let below = sorted.partition_point(|v| *v < x - EPS);
    let not_above = sorted.partition_point(|v| *v <= x + EPS);
    let equal = not_above - below;
    Some(100.0 * (below as f64 + 0.5 * equal as f64) / sorted.len() as f64)
}

/// How a reference's scale is obtained: the method version and the floor s_min.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleRule {
    pub version: MethodVersion,
    pub s_min: f64,
}

/// The median of the members' grid steps (C2.6); 0 for none.
pub fn resolution_of(mut steps: Vec<f64>) -> f64 {
    if steps.is_empty() {
        return 0.0;
    }
    median_unsorted(&mut steps)
}

/// A reference distribution with its robust centre and scale (B5).
#[derive(Debug, Clone, PartialEq)]
pub struct RefStats {
    pub sorted: Vec<f64>,
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
    pub mad: f64,
    /// v2: the resolution r (C2.6); `None` for v1.
    pub resolution: Option<f64>,
    /// The scale after the floor.
    pub scale: f64,
    pub method: ScaleMethod,
    pub floor_applied: bool,
    /// p of each sorted value as a member (empty until [`RefStats::with_member_figures`]; NaN
    /// where no p exists).
    pub p_sorted: Vec<f64>,
    /// Percentile rank of each sorted value (empty until [`RefStats::with_member_figures`]).
    pub pr_sorted: Vec<f64>,
}

impl RefStats {
    /// `None` for an empty reference. The scale is computed whatever n is; callers withhold it
    /// below min_ref_n. `resolution` is r (used by v2 only).
    pub fn new(mut values: Vec<f64>, rule: ScaleRule, resolution: f64) -> Option<Self> {
        values.sort_unstable_by_key(|v| order_key(*v));
        Self::from_sorted(values, rule, resolution)
    }

    /// As [`RefStats::new`] for values already sorted ascending.
    pub fn from_sorted(values: Vec<f64>, rule: ScaleRule, resolution: f64) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let median = median_sorted(&values);
        let n = values.len() as f64;
        let mut dev: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        let mad = median_unsorted(&mut dev);
        let mean_ad = || values.iter().map(|v| (v - median).abs()).sum::<f64>() / n;
        let (scale, method, resolution, floor_applied) = match rule.version {
            MethodVersion::V1 => {
                let (raw, method) = if mad > EPS {
                    (MAD_TO_SD * mad, ScaleMethod::Mad)
                } else {
                    (MEANAD_TO_SD * mean_ad(), ScaleMethod::Meanad)
                };
                // The floor "binds" only when it changes the scale (B5).
                (raw.max(rule.s_min), method, None, raw < rule.s_min)
            }
            MethodVersion::V2 => {
                // C3: the largest term; on a tie the first in this order.
                let terms = [
                    (MAD_TO_SD * mad, ScaleMethod::Mad),
                    (MEANAD_TO_SD * mean_ad(), ScaleMethod::Meanad),
                    (resolution, ScaleMethod::Resolution),
                    (rule.s_min, ScaleMethod::Floor),
                ];
                let mut best = terms[0];
                for t in &terms[1..] {
                    if t.0 > best.0 {
                        best = *t;
                    }
                }
                let floor = best.1 == ScaleMethod::Floor;
                (best.0, best.1, Some(resolution), floor)
            }
        };
        Some(Self {
            q1: quantile_type7(&values, 0.25),
            q3: quantile_type7(&values, 0.75),
            sorted: values,
            median,
            mad,
            resolution,
            scale,
            method,
            floor_applied,
            p_sorted: Vec::new(),
            pr_sorted: Vec::new(),
        })
    }

    /// Precomputes p and the percentile rank of every member value, once per distinct value:
    /// DMA scores are lumpy, so a large type shares a few dozen values and the t CDF (≈ 0.3 µs)
    /// runs that often, not once per organisation; rows then look their figures up by position.
    /// p exists only for n ≥ min_ref_n and a positive scale. The arithmetic is the same as for a
    /// single value, so the figures are bit-identical.
    pub fn with_member_figures(mut self, method: PMethod, min_ref_n: usize) -> Self {
        let n = self.n();
        let with_p = n >= min_ref_n && self.scale > 0.0;
        let mut p_sorted = Vec::with_capacity(if with_p { n } else { 0 });
        let mut pr_sorted = Vec::with_capacity(n);
        let (mut below, mut not_above) = (0usize, 0usize);
        let mut last: Option<(f64, f64, f64)> = None;
        for &v in &self.sorted {
            let (p, pr) = match last {
                Some((lv, lp, lpr)) if lv == v => (lp, lpr),
                _ => {
                    while below < n && self.sorted[below] < v - EPS {
                        below += 1;
                    }
                    while not_above < n && self.sorted[not_above] <= v + EPS {
                        not_above += 1;
                    }
                    let pr = 100.0 * (below as f64 + 0.5 * (not_above - below) as f64) / n as f64;
                    let p = if with_p {
                        p_value((v - self.median) / self.scale, n, method).unwrap_or(f64::NAN)
                    } else {
                        f64::NAN
                    };
                    (p, pr)
                }
            };
            last = Some((v, p, pr));
            pr_sorted.push(pr);
            if with_p {
                p_sorted.push(p);
            }
        }
        self.p_sorted = p_sorted;
        self.pr_sorted = pr_sorted;
        self
    }

    pub fn n(&self) -> usize {
        self.sorted.len()
    }
}

/// Two-sided p for a robust z against a reference of n values: Student t with ν = n − 1, or the
/// standard normal. `None` when ν < 1 or z is not finite.
pub fn p_value(z: f64, n_ref: usize, method: PMethod) -> Option<f64> {
    if !z.is_finite() {
        return None;
    }
    let p = match method {
        PMethod::T => {
            let nu = n_ref.checked_sub(1).filter(|nu| *nu >= 1)?;
            let t = StudentsT::new(0.0, 1.0, nu as f64).ok()?;
            2.0 * t.sf(z.abs())
        }
        PMethod::Normal => 2.0 * Normal::standard().sf(z.abs()),
    };
    Some(p.clamp(0.0, 1.0))
}

/// The |z| whose two-sided p against a reference of n values is `p` (the inverse of
/// [`p_value`], by bisection on it, so the two agree to the last digits); `None` when no p
/// exists for n or `p` is not in (0, 1).
pub fn critical_z(p: f64, n_ref: usize, method: PMethod) -> Option<f64> {
    if !(p > 0.0 && p < 1.0) {
        return None;
    }
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while p_value(hi, n_ref, method)? > p {
        hi *= 2.0;
        if hi > 1e12 {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if p_value(mid, n_ref, method)? > p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

/// Tier from the unadjusted p: strict comparisons, no slack (p is not a sum of decimal inputs).
pub fn tier(p: Option<f64>, opts: &Options) -> Tier {
    match p {
        Some(p) if p < opts.tier_alarm => Tier::Alarm,
        Some(p) if p < opts.tier_alert => Tier::Alert,
        _ => Tier::None,
    }
}

/// Benjamini–Hochberg step-up adjusted p-values (R `p.adjust(method = "BH")`): q is monotone in p,
/// capped at 1 and never below p. Ties share one q. The output is in input order.
///
/// Computed per distinct p (p-values are lumpy: members of a reference with equal values share
/// one): with the values sorted ascending, q at rank k (0-based) is min over ranks ≥ k of
/// p·m/(rank+1), capped at 1 and floored at p. Within a run of equal p the candidates grow
/// towards lower ranks, so every member of the run gets the q of its last rank, with the very
/// same floating-point operations as the rank-by-rank step-up.
pub fn bh_adjust(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    // per distinct value (by its total-order key): its count, then its q
    let mut runs: HashMap<u64, (usize, f64), BuildHasherDefault<KeyHasher>> = HashMap::default();
    for &v in p {
        runs.entry(order_key(v)).or_insert((0, v)).0 += 1;
    }
    let mut distinct: Vec<(u64, usize, f64)> =
        runs.iter().map(|(k, &(count, v))| (*k, count, v)).collect();
    distinct.sort_unstable_by_key(|(k, ..)| *k);
    let mut running = 1.0_f64;
    let mut end = m; // one past the last rank of the current run
    for &(k, count, pi) in distinct.iter().rev() {
        let candidate = pi * m as f64 / end as f64;
        running = running.min(candidate);
        if let Some(entry) = runs.get_mut(&k) {
            entry.1 = running.min(1.0).max(pi);
        }
        end -= count;
    }
    p.iter()
        .map(|v| runs.get(&order_key(*v)).map_or(1.0, |e| e.1))
        .collect()
}

/// A hasher for [`order_key`]s: one multiply and a fold of the high half into the low half.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        let x = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^ (x >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8)) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
}

/// The rank-by-rank step-up: the reference [`bh_adjust`] is tested against.
#[cfg(test)]
pub fn bh_adjust_by_rank(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<(f64, usize)> = p.iter().copied().zip(0..m).collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut q = vec![1.0; m];
    let mut running = 1.0_f64;
    for rank in (0..m).rev() {
        let (pi, i) = order[rank];
        let candidate = pi * m as f64 / (rank + 1) as f64;
        running = running.min(candidate);
        q[i] = running.min(1.0).max(pi);
    }
    q
}

/// OLS slope of y on x; `None` with fewer than two distinct x.
pub fn ols_slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(x, y) in points {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
    }
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Sign with a tiny dead band, for trend consistency: slopes within 1e-12 of 0 count as 0.
fn sign(x: f64) -> i8 {
    if x > 1e-12 {
        1
    } else if x < -1e-12 {
        -1
    } else {
        0
    }
}

/// Trend consistency (B4, K ≥ 4): every leave-one-round-out slope has the sign of the full slope.
/// `None` for fewer than 4 points.
pub fn trend_consistent(points: &[(f64, f64)], slope: f64) -> Option<bool> {
    if points.len() < 4 {
        return None;
    }
    let full = sign(slope);
    let mut rest: Vec<(f64, f64)> = Vec::with_capacity(points.len() - 1);
    for skip in 0..points.len() {
        rest.clear();
        rest.extend(
            points
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, p)| *p),
        );
        if ols_slope(&rest).map(sign) != Some(full) {
            return Some(false);
        }
    }
    Some(true)
}
