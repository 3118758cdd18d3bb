//! Verdicts: Benjamini–Hochberg families, flags (B6), and for v2 the detectable gap and WATCH
//! (C5, C6).
//!
//! Decisions:
//! - Families, v1: one per metric for pillar rows and one per metric for overall rows, over every
//!   tested block (one with a p) of the whole analysis. `family_size` is set on every block of the
//!   family, tested or not; `method.family_size` is the level family's. v2: every tested block of
//!   the analysis in one family (C4); every `family_size` is its m.
//! - A flag's direction needs g ≠ 0; materiality |g| ≥ δ − 1e-9; significance q ≤ α (exact) and
//!   tier ≠ none. GAP_WIDENING_* is descriptive: |G_r| − |G_prev| ≥ δ_change − 1e-9, same sign.
//!   A gap within 1e-9 of zero counts as zero, which has no sign (B12: f64 noise never decides),
//!   for flags, gap widening and WATCH alike.

use super::OVERALL;
use super::options::{MethodVersion, Options};
use super::stats::{EPS, bh_adjust, critical_z};
use super::types::{DivergenceRow, FamilySizes, Flag, ReferenceSummary, Status, Tier};

/// Runs BH per family and writes q and family sizes.
pub fn adjust_families(rows: &mut [DivergenceRow], method: MethodVersion) -> FamilySizes {
    // family index: metric (0 level, 1 change, 2 trend) × 2 + overall
    let mut members: [Vec<(usize, f64)>; 6] = Default::default();
    for (i, row) in rows.iter().enumerate() {
        let base = usize::from(row.pillar == OVERALL);
        let ps = [
            row.level.p,
            row.change.as_ref().and_then(|c| c.p),
            row.trend.as_ref().and_then(|t| t.p),
        ];
        for (m, p) in ps.into_iter().enumerate() {
            if let Some(p) = p {
                members[m * 2 + base].push((i, p));
            }
        }
    }
    let total: usize = members.iter().map(Vec::len).sum();
    let families: Vec<Vec<(usize, usize, f64)>> = match method {
        MethodVersion::V1 => members
            .iter()
            .enumerate()
            .map(|(f, fam)| fam.iter().map(|&(i, p)| (f, i, p)).collect())
            .collect(),
        MethodVersion::V2 => vec![
            members
                .iter()
                .enumerate()
                .flat_map(|(f, fam)| fam.iter().map(move |&(i, p)| (f, i, p)))
                .collect(),
        ],
    };
    for fam in &families {
        let ps: Vec<f64> = fam.iter().map(|(_, _, p)| *p).collect();
        for (&(f, i, _), q) in fam.iter().zip(bh_adjust(&ps)) {
            let row = &mut rows[i];
            match f / 2 {
                0 => row.level.q = Some(q),
                1 => row.change.iter_mut().for_each(|c| c.q = Some(q)),
                _ => row.trend.iter_mut().for_each(|t| t.q = Some(q)),
            }
        }
    }
    let size = |f: usize| match method {
        MethodVersion::V1 => members[f].len(),
        MethodVersion::V2 => total,
    };
    for row in rows.iter_mut() {
        let base = usize::from(row.pillar == OVERALL);
        row.level.family_size = size(base);
        row.method.family_size = size(base);
        if let Some(c) = row.change.as_mut() {
            c.family_size = size(2 + base);
        }
        if let Some(t) = row.trend.as_mut() {
            t.family_size = size(4 + base);
        }
    }
    FamilySizes {
        level: members[0].len(),
        overall_level: members[1].len(),
        change: members[2].len(),
        overall_change: members[3].len(),
        trend: members[4].len(),
        overall_trend: members[5].len(),
        round: total,
    }
}

/// The critical |z| of C5 by (reference size, whether the block is a discovery): p* takes only
/// two values in a round, so the inversion runs once per distinct reference size, not per block.
/// Indexed by the size (a reference has at most one value per organisation), so a block looks
/// its value up without hashing.
#[derive(Default)]
pub struct CriticalZ {
    by_n: Vec<[Option<Option<f64>>; 2]>,
}

impl CriticalZ {
    pub fn new() -> Self {
        Self::default()
    }

    fn get_or_insert_with(
        &mut self,
        n: usize,
        significant: bool,
        f: impl FnOnce() -> Option<f64>,
    ) -> Option<f64> {
        if n >= self.by_n.len() {
            self.by_n.resize(n + 1, [None; 2]);
        }
        *self.by_n[n][usize::from(significant)].get_or_insert_with(f)
    }
}

/// v2 (C5, C6): the detectable gap of every tested block, and `WATCH` on tested blocks with a
/// material gap and no directional flag. `discoveries` is R, the blocks of the family with
/// q ≤ α. Nothing happens for v1.
pub fn watch_and_detectable(
    row: &mut DivergenceRow,
    family: &FamilySizes,
    discoveries: usize,
    opts: &Options,
    critical: &mut CriticalZ,
) {
    if opts.method == MethodVersion::V1 {
        return;
    }
    let m = family.round;
    let a = opts.alpha_fdr;
    let mut assess = |gap: Option<f64>,
                      p: Option<f64>,
                      q: Option<f64>,
                      tier: Tier,
                      reference: &ReferenceSummary,
                      delta: f64,
                      statuses: &mut Vec<Status>|
     -> Option<f64> {
        p?;
        let significant = q.is_some_and(|q| q <= a);
        if direction(gap, q, tier, delta, a).is_none()
            && gap.is_some_and(|g| g.abs() > EPS && g.abs() >= delta - EPS)
        {
            statuses.push(Status::Watch);
        }
        let z = critical.get_or_insert_with(reference.n, significant, || {
            let k = discoveries + usize::from(!significant);
            let p_star = (a * k as f64 / m.max(1) as f64).min(opts.tier_alert);
            critical_z(p_star, reference.n, opts.p_method)
        });
        Some(delta.max(z? * reference.scale?))
    };
    let l = &mut row.level;
    l.detectable_gap = assess(
        l.gap,
        l.p,
        l.q,
        l.tier,
        &row.reference,
        opts.delta_level(),
        &mut l.statuses,
    );
    if let Some(c) = row.change.as_mut() {
        c.detectable_gap = assess(
            c.excess,
            c.p,
            c.q,
            c.tier,
            &c.reference,
            opts.delta_change(),
            &mut c.statuses,
        );
    }
    if let Some(t) = row.trend.as_mut() {
        t.detectable_gap = assess(
            t.excess,
            t.p,
            t.q,
            t.tier,
            &t.reference,
            opts.delta_slope(),
            &mut t.statuses,
        );
    }
}

/// Descriptive gap widening (B6): same sign in both rounds and |G_r| − |G_prev| ≥ δ_change.
pub fn gap_widening(g: Option<f64>, g_prev: Option<f64>, opts: &Options) -> Option<Flag> {
    let (g, gp) = g.zip(g_prev)?;
    let widened = g.abs() - gp.abs() >= opts.delta_change() - EPS;
    match () {
        _ if widened && g < -EPS && gp < -EPS => Some(Flag::GapWideningBehind),
        _ if widened && g > EPS && gp > EPS => Some(Flag::GapWideningAhead),
        _ => None,
    }
}

/// Directional flag of one tested block: q ≤ α, tier ≠ none and |g| ≥ δ − 1e-9.
pub fn direction(
    g: Option<f64>,
    q: Option<f64>,
    tier: Tier,
    delta: f64,
    alpha: f64,
) -> Option<bool> {
    let g = g?;
    let significant = q.is_some_and(|q| q <= alpha) && tier != Tier::None;
    (significant && g.abs() >= delta - EPS && g.abs() > EPS).then_some(g < 0.0)
}

pub fn flags(row: &DivergenceRow, widening: Option<Flag>, opts: &Options) -> Vec<Flag> {
    let a = opts.alpha_fdr;
    let mut out = Vec::new();
    let l = &row.level;
    let level = direction(l.gap, l.q, l.tier, opts.delta_level(), a);
    let change = row
        .change
        .as_ref()
        .and_then(|c| direction(c.excess, c.q, c.tier, opts.delta_change(), a));
    let trend = row
        .trend
        .as_ref()
        .and_then(|t| direction(t.excess, t.q, t.tier, opts.delta_slope(), a));
    let pick = |d: Option<bool>, below: Flag, above: Flag| d.map(|b| if b { below } else { above });
    out.extend(pick(level, Flag::LevelBelowPeers, Flag::LevelAbovePeers));
    out.extend(pick(
        change,
        Flag::ProgressBelowPeers,
        Flag::ProgressAbovePeers,
    ));
    out.extend(pick(trend, Flag::TrendBelowPeers, Flag::TrendAbovePeers));
    out.extend(widening);
    if level == Some(true) && (change == Some(true) || trend == Some(true)) {
        out.push(Flag::PriorityFallingBehind);
    }
    out
}
