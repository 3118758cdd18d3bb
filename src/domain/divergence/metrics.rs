//! Per-pillar metric inputs (level, previous level, change, trend) for every organisation and
//! their reference contexts, built once per pillar so rows only look things up.
//!
//! Decisions:
//! - Change validity needs a valid score in both rounds; the change input exists whenever the
//!   organisation has a (stored or merged) value for the pillar in the previous round.
//! - Item matching: the matched row of (org, pillar) gives Δ; for overall, a matched `overall` row
//!   if supplied, else mean(current) − mean(previous) over the org's focal pillars when every one
//!   of them is matched; any Δ without a matched row is the raw S_r − S_prev.
//! - `ITEM_SET_CHANGED` (B2) is a property of (organisation type, pillar), listed by the caller;
//!   an overall change carries it when any of the organisation's focal pillars is listed for its
//!   type. It marks the change block whether its Δ is matched or raw (a merged predecessor value).
//! - Trend: the focal round must be usable; then the last K ≤ trend_max_rounds usable listed
//!   rounds (merged values included), K ≥ 3, x = ordinal in `rounds`.

use super::OVERALL;
use super::grid::{Grid, slope_grid};
use super::options::Options;
use super::prepare::{Cell, Prepared};
use super::reference::{GroupCtx, PeerSpec};
use super::stats::{ols_slope, trend_consistent};
use super::types::{Metric, TypeReference};
use crate::domain::organisation::OrgType;
use std::collections::{HashMap, HashSet};

pub struct ChangeIn {
    pub prev: Cell,
    pub delta: Option<f64>,
    /// The grid of Δ (C2.5).
    pub grid: Grid,
    pub matched: bool,
    pub item_set_changed: bool,
}

/// Item matching indexed for lookups; absent when both rounds use one framework.
pub struct Matched<'a> {
    /// (previous, current) by (ODS code, pillar).
    pub deltas: HashMap<(&'a str, &'a str), (f64, f64)>,
    pub changed: HashSet<(OrgType, &'a str)>,
    /// The grid of a matched Δ by (type, pillar): gcd of the two matched values' grids.
    pub grids: HashMap<(OrgType, &'a str), Grid>,
}

impl Matched<'_> {
    fn item_set_changed(&self, prep: &Prepared, o: usize, p: usize, org_type: OrgType) -> bool {
        let n_p = prep.n_pillars();
        let listed = |q: usize| self.changed.contains(&(org_type, prep.pillars[q]));
        if p < n_p {
            listed(p)
        } else {
            (0..n_p).any(|q| prep.cell(prep.focal, o, q).is_some() && listed(q))
        }
    }
}

pub struct Fit {
    pub slope: f64,
    /// The grid of the slope (C2.5).
    pub grid: Grid,
    pub rounds: Vec<usize>,
    pub consistent: Option<bool>,
}

/// Per pillar: metric inputs by organisation and their reference contexts.
pub struct PillarData {
    pub level: GroupCtx,
    pub level_valid: Vec<Option<f64>>,
    /// Grid steps of the focal values (C2.5), by organisation.
    pub level_steps: Vec<f64>,
    pub prev_level: Option<GroupCtx>,
    pub prev_steps: Vec<f64>,
    pub change_steps: Vec<f64>,
    pub trend_steps: Vec<f64>,
    pub change: GroupCtx,
    pub change_in: Vec<Option<ChangeIn>>,
    pub change_valid: Vec<Option<f64>>,
    pub trend: GroupCtx,
    pub fits: Vec<Option<Fit>>,
}

pub fn pillar_data(
    prep: &Prepared,
    p: usize,
    types: &[Option<OrgType>],
    peer: Option<&PeerSpec>,
    matched: Option<&Matched>,
    opts: &Options,
) -> PillarData {
    let n_o = prep.orgs.len();
    let min_cov = opts.min_coverage;
    let focal_val = |o: usize| prep.cell(prep.focal, o, p).and_then(|c| c.valid(min_cov));
    let level_valid: Vec<Option<f64>> = (0..n_o)
        .map(|o| focal_val(o).filter(|_| prep.orgs[o].focal))
        .collect();
    let step = |r: usize, o: usize| prep.cell(r, o, p).map_or(0.0, |c| c.grid.step());
    let level_steps: Vec<f64> = (0..n_o).map(|o| step(prep.focal, o)).collect();
    let prev_steps: Vec<f64> = match prep.prev {
        Some(pr) => (0..n_o).map(|o| step(pr, o)).collect(),
        None => vec![0.0; n_o],
    };
    let prev_level = prep.prev.map(|pr| {
        let vals: Vec<Option<f64>> = (0..n_o)
            .map(|o| {
                prep.cell(pr, o, p)
                    .filter(|c| !c.merged)
                    .and_then(|c| c.valid(min_cov))
            })
            .collect();
        GroupCtx::build(&vals, &prev_steps, types, peer, opts.s_min_level(), opts)
    });
    let mut change_in: Vec<Option<ChangeIn>> = Vec::with_capacity(n_o);
    let mut change_valid = vec![None; n_o];
    let mut fits: Vec<Option<Fit>> = Vec::with_capacity(n_o);
    let mut slopes = vec![None; n_o];
    let mut points = Vec::new();
    for o in 0..n_o {
        let focal = prep.orgs[o].focal;
        let cur = prep.cell(prep.focal, o, p).filter(|_| focal);
        let ci = match (cur, prep.prev) {
            (Some(cur), Some(pr)) => prep.cell(pr, o, p).map(|prev| {
                // a matched Δ only where both stored values exist (an overall with a missing
                // pillar stays null, B2)
                let both = cur.score.is_some() && prev.score.is_some();
                let (delta, is_matched, grid) = match matched
                    .zip(types[o])
                    .and_then(|(m, t)| matched_delta(prep, o, p, t, m))
                    .filter(|_| both)
                {
                    Some((d, g)) => (Some(d), true, g),
                    None => (
                        cur.score.zip(prev.score).map(|(a, b)| a - b),
                        false,
                        cur.grid.gcd(prev.grid),
                    ),
                };
                let item_set_changed = matched
                    .zip(types[o])
                    .is_some_and(|(m, t)| m.item_set_changed(prep, o, p, t));
                ChangeIn {
                    prev,
                    delta,
                    grid,
                    matched: is_matched,
                    item_set_changed,
                }
            }),
            _ => None,
        };
        if let (Some(c), Some(ci)) = (cur, &ci)
            && c.valid(min_cov).is_some()
            && ci.prev.valid(min_cov).is_some()
        {
            change_valid[o] = ci.delta;
        }
        change_in.push(ci);
        let fit = if focal {
            fit_trend(prep, o, p, opts, &mut points)
        } else {
            None
        };
        slopes[o] = fit.as_ref().map(|f| f.slope);
        fits.push(fit);
    }
    let change_steps: Vec<f64> = change_in
        .iter()
        .map(|c| c.as_ref().map_or(0.0, |c| c.grid.step()))
        .collect();
    let trend_steps: Vec<f64> = fits
        .iter()
        .map(|f| f.as_ref().map_or(0.0, |f| f.grid.step()))
        .collect();
    let (s_lv, s_ch, s_sl) = (opts.s_min_level(), opts.s_min_change(), opts.s_min_slope());
    PillarData {
        level: GroupCtx::build(&level_valid, &level_steps, types, peer, s_lv, opts),
        level_valid,
        level_steps,
        prev_level,
        prev_steps,
        change: GroupCtx::build(&change_valid, &change_steps, types, peer, s_ch, opts),
        change_in,
        change_valid,
        change_steps,
        trend: GroupCtx::build(&slopes, &trend_steps, types, peer, s_sl, opts),
        trend_steps,
        fits,
    }
}

/// The matched Δ of (org o, pillar p) and its grid.
fn matched_delta(
    prep: &Prepared,
    o: usize,
    p: usize,
    t: OrgType,
    matched: &Matched,
) -> Option<(f64, Grid)> {
    let ods = prep.orgs[o].ods;
    let n_p = prep.n_pillars();
    let name = if p < n_p { prep.pillars[p] } else { OVERALL };
    let grid_of = |pillar: &str| {
        matched
            .grids
            .get(&(t, pillar))
            .copied()
            .unwrap_or(Grid::CONTINUOUS)
    };
    if let Some((prev, cur)) = matched.deltas.get(&(ods, name)) {
        return Some((cur - prev, grid_of(name)));
    }
    if p < n_p {
        return None;
    }
    let (mut sp, mut sc, mut k) = (0.0, 0.0, 0usize);
    let mut grid: Option<Grid> = None;
    for q in (0..n_p).filter(|&q| prep.cell(prep.focal, o, q).is_some()) {
        let (prev, cur) = matched.deltas.get(&(ods, prep.pillars[q]))?;
        sp += prev;
        sc += cur;
        k += 1;
        let g = grid_of(prep.pillars[q]);
        grid = Some(grid.map_or(g, |acc| acc.gcd(g)));
    }
    (k > 0).then(|| {
        let g = grid.unwrap_or(Grid::CONTINUOUS).mean_of(k);
        ((sc - sp) / k as f64, g)
    })
}

/// `points` is a scratch buffer reused across calls.
pub fn fit_trend(
    prep: &Prepared,
    o: usize,
    p: usize,
    opts: &Options,
    points: &mut Vec<(f64, f64)>,
) -> Option<Fit> {
    let usable = |r: usize| prep.cell(r, o, p).and_then(|c| c.valid(opts.min_coverage));
    usable(prep.focal)?;
    points.clear();
    for r in (0..prep.n_listed).rev() {
        if points.len() >= opts.trend_max_rounds {
            break;
        }
        if let Some(v) = usable(r) {
            points.push(((r + 1) as f64, v));
        }
    }
    if points.len() < 3 {
        return None;
    }
    points.reverse();
    let slope = ols_slope(points)?;
    // the ordinals on the stack (K ≤ 16 in practice; a longer fit takes a Vec)
    let mut small = [0u64; 16];
    let long: Vec<u64>;
    let xs: &[u64] = if points.len() <= small.len() {
        for (x, (px, _)) in small.iter_mut().zip(points.iter()) {
            *x = *px as u64;
        }
        &small[..points.len()]
    } else {
        long = points.iter().map(|(x, _)| *x as u64).collect();
        &long
    };
    let values = Grid::gcd_all(
        xs.iter()
            .filter_map(|&x| prep.cell(x as usize - 1, o, p).map(|c| c.grid)),
    );
    Some(Fit {
        slope,
        grid: slope_grid(values, xs),
        consistent: trend_consistent(points, slope),
        rounds: points.iter().map(|(x, _)| *x as usize - 1).collect(),
    })
}

pub fn type_references(prep: &Prepared, data: &[PillarData]) -> Vec<TypeReference> {
    let mut out = Vec::new();
    for (p, d) in data.iter().enumerate() {
        let name = prep.pillars.get(p).copied().unwrap_or(OVERALL);
        for (metric, ctx) in [
            (Metric::Level, &d.level),
            (Metric::Change, &d.change),
            (Metric::Trend, &d.trend),
        ] {
            for t in OrgType::ALL {
                if let Some(s) = ctx.type_stats(t) {
                    out.push(TypeReference {
                        org_type: t,
                        pillar: name.to_owned(),
                        metric,
                        n: s.n(),
                        median: s.median,
                    });
                }
            }
        }
    }
    out
}
