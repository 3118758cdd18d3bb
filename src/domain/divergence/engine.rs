//! The analysis: per-pillar metric values, one reference context per (pillar, metric), one row per
//! (organisation, pillar), then Benjamini–Hochberg per family, flags and reasons.
//!
//! Decisions:
//! - A change block exists whenever the organisation has a (stored or merged) value for the pillar
//!   in the previous round, else the change is null with `NO_PREVIOUS_ROUND` on the object. For
//!   overall rows an invalid previous overall gives `MISSING_PILLAR` on the change block.
//! - Gap trajectory: `gap_prev`/`percentile_rank_prev` use the previous round's level reference
//!   (stored values only, chosen like the focal one: peer group with fallback); the org's own
//!   previous value (stored or merged) is placed in it descriptively. GAP_WIDENING_* needs valid
//!   scores in both rounds; like the gaps it compares, it is descriptive and is raised whatever
//!   n_R (B6: "descriptive, no test").
//! - `LINEAGE_MERGED` (object) and the `lineage` field appear when a merged value was used by this
//!   row: the previous round's value or a round of the trend fit.

use super::metrics::{ChangeIn, Fit, Matched, PillarData, pillar_data, type_references};
use super::options::Options;
use super::prepare::{Cell, Prepared};
use super::reasons::{self, ReasonCtx};
use super::reference::{Eval, PeerSpec, evaluate};
use super::stats;
use super::types::*;
use super::verdict::{CriticalZ, adjust_families, flags, gap_widening, watch_and_detectable};
use super::{EngineInput, OVERALL, OVERALL_TITLE, OrgInfo};
use crate::domain::figures::ZeroNoise;
use crate::domain::organisation::{OrgType, region_name};
use std::collections::{BTreeMap, HashMap};

/// Shared keys, allocated once per analysis.
struct Keys {
    rounds: Vec<SharedStr>,
    /// Pillar names, `overall` last.
    pillars: Vec<SharedStr>,
    /// Pillar titles in the same order, `Overall` last.
    pillar_titles: Vec<SharedStr>,
}

impl Keys {
    fn new(prep: &Prepared, titles: &BTreeMap<String, String>) -> Self {
        Self {
            rounds: prep.rounds.iter().map(|r| SharedStr::from(*r)).collect(),
            pillars: prep
                .pillars
                .iter()
                .copied()
                .chain([OVERALL])
                .map(SharedStr::from)
                .collect(),
            pillar_titles: prep
                .pillars
                .iter()
                .map(|p| titles.get(*p).map_or(*p, String::as_str))
                .chain([OVERALL_TITLE])
                .map(SharedStr::from)
                .collect(),
        }
    }
}

/// An organisation's codes and names, allocated once and shared by its rows.
struct OrgLabels {
    id: SharedStr,
    name: Option<SharedStr>,
    region_code: Option<SharedStr>,
    region_name: Option<SharedStr>,
    icb_code: Option<SharedStr>,
    icb_name: Option<SharedStr>,
}

impl OrgLabels {
    fn new(ods: &str, info: &OrgInfo) -> Self {
        let shared = |s: &Option<String>| s.as_deref().map(SharedStr::from);
        Self {
            id: SharedStr::from(ods),
            name: shared(&info.name),
            region_code: shared(&info.region),
            region_name: info
                .region
                .as_deref()
                .and_then(region_name)
                .map(SharedStr::from),
            icb_code: shared(&info.icb),
            icb_name: shared(&info.icb_name),
        }
    }
}

/// Runs divergence-v1 over the input. Never panics; with no rounds it returns no rows. Call
/// [`Options::validate`] first: invalid options give meaningless (but finite-time) figures.
pub fn analyse(input: &EngineInput) -> Analysis {
    let opts = &input.options;
    let hash = opts.hash();
    let mut analysis = Analysis {
        version: opts.method.as_str(),
        round: input.rounds.last().cloned(),
        previous_round: None,
        options: opts.clone(),
        config_hash: hash,
        family_sizes: FamilySizes::default(),
        type_references: Vec::new(),
        rows: Vec::new(),
    };
    let Some(prep) = Prepared::new(input) else {
        return analysis;
    };
    analysis.previous_round = prep.prev.map(|r| prep.rounds[r].to_owned());
    let peer = PeerSpec::new(&input.reference, &prep);
    let types: Vec<Option<OrgType>> = prep
        .orgs
        .iter()
        .map(|o| o.info.map(|i| i.org_type))
        .collect();
    let matched: Option<Matched> = input.item_matched.as_ref().map(|m| Matched {
        deltas: m
            .rows
            .iter()
            .map(|r| {
                (
                    (r.ods.as_str(), r.pillar.as_str()),
                    (r.previous_score, r.current_score),
                )
            })
            .collect(),
        changed: m
            .changed_item_sets
            .iter()
            .map(|c| (c.org_type, c.pillar.as_str()))
            .collect(),
        grids: m
            .grids
            .iter()
            .map(|g| ((g.org_type, g.pillar.as_str()), g.previous.gcd(g.current)))
            .collect(),
    });
    let n_p = prep.n_pillars();
    let data: Vec<PillarData> = (0..=n_p)
        .map(|p| pillar_data(&prep, p, &types, peer.as_ref(), matched.as_ref(), opts))
        .collect();
    analysis.type_references = type_references(&prep, &data);

    let keys = Keys::new(&prep, &input.pillar_titles);
    let ctx = RowCtx {
        prep: &prep,
        data: &data,
        peer: peer.as_ref(),
        opts,
        keys: &keys,
        hash,
    };
    let n_rows = (0..prep.orgs.len())
        .filter(|&o| prep.orgs[o].focal)
        .map(|o| {
            (0..=n_p)
                .filter(|&p| prep.cell(prep.focal, o, p).is_some())
                .count()
        })
        .sum();
    analysis.rows.reserve_exact(n_rows);
    let mut widening: Vec<Option<Flag>> = Vec::with_capacity(n_rows);
    let mut missing: Vec<Vec<&str>> = Vec::with_capacity(n_rows);
    for (o, entry) in prep.orgs.iter().enumerate() {
        let Some(info) = entry.info.filter(|_| entry.focal) else {
            continue;
        };
        let labels = OrgLabels::new(entry.ods, info);
        for p in 0..=n_p {
            let Some(cur) = prep.cell(prep.focal, o, p) else {
                continue;
            };
            let (row, wide, miss) = ctx.row(o, info, &labels, p, cur);
            analysis.rows.push(row);
            widening.push(wide);
            missing.push(miss);
        }
    }
    analysis.family_sizes = adjust_families(&mut analysis.rows, opts.method);
    let ctx_peer = match &input.reference {
        super::Reference::PeerGroup { key, org_type, .. } => Some((key.as_str(), *org_type)),
        super::Reference::TypeNational => None,
    };
    let alpha = opts.alpha_fdr;
    let discoveries = analysis
        .rows
        .iter()
        .map(|r| {
            let qs = [
                r.level.q,
                r.change.as_ref().and_then(|c| c.q),
                r.trend.as_ref().and_then(|t| t.q),
            ];
            qs.into_iter().flatten().filter(|q| *q <= alpha).count()
        })
        .sum();
    let mut critical = CriticalZ::new();
    for (i, row) in analysis.rows.iter_mut().enumerate() {
        row.flags = flags(row, widening[i], opts);
        watch_and_detectable(
            row,
            &analysis.family_sizes,
            discoveries,
            opts,
            &mut critical,
        );
        let ctx = ReasonCtx {
            opts,
            peer_group: ctx_peer,
            missing_pillars: &missing[i],
        };
        row.reasons = reasons::for_row(row, &ctx);
        row.zero_noise();
    }
    zero_noise_references(&mut analysis.rows);
    analysis
}

/// The figure noise rule for the rows' shared reference summaries, once every row is complete
/// (the detectable gap and the reasons read them unrounded): once per distinct summary that has
/// noise, every row holding it then given the cleaned one. The map keeps each noisy summary
/// alive, so its address names it until the end.
fn zero_noise_references(rows: &mut [DivergenceRow]) {
    let mut cleaned: HashMap<usize, (SharedRef, SharedRef)> = HashMap::new();
    let mut clean = |r: &mut SharedRef| {
        if r.is_noisy() {
            let (_, c) = cleaned
                .entry(r.addr())
                .or_insert_with(|| (r.clone(), r.zero_noised()));
            *r = c.clone();
        }
    };
    for row in rows {
        clean(&mut row.reference);
        if let Some(c) = row.change.as_mut() {
            clean(&mut c.reference);
        }
        if let Some(t) = row.trend.as_mut() {
            clean(&mut t.reference);
        }
    }
}

/// What every row needs, borrowed once.
struct RowCtx<'a, 'i> {
    prep: &'a Prepared<'i>,
    data: &'a [PillarData],
    peer: Option<&'a PeerSpec<'i>>,
    opts: &'a Options,
    keys: &'a Keys,
    hash: ConfigHash,
}

impl<'i> RowCtx<'_, 'i> {
    /// The gap trajectory against the previous round's level reference (B4, B12): fills
    /// `median_prev`, `gap_prev`, `gap_change`, the previous percentile rank and its change.
    /// Returns the descriptive GAP_WIDENING_* flag and the previous round if its value was merged.
    fn trajectory(
        &self,
        o: usize,
        t: OrgType,
        p: usize,
        level: &mut LevelBlock,
    ) -> (Option<Flag>, Option<usize>) {
        let (Some(pr), Some(prev_ctx)) = (self.prep.prev, &self.data[p].prev_level) else {
            return (None, None);
        };
        let Some(prev) = self.prep.cell(pr, o, p) else {
            return (None, None);
        };
        let mut wide = None;
        let own = prev.valid(self.opts.min_coverage).filter(|_| !prev.merged);
        let d = &self.data[p];
        let r = prev_ctx.for_row(o, t, own, d.prev_steps[o], self.peer, self.opts.min_ref_n);
        let stats = r.stats.as_deref();
        level.median_prev = stats.map(|s| s.median);
        level.n_prev = stats.map(|s| s.n());
        level.gap_prev = prev.score.zip(level.median_prev).map(|(s, m)| s - m);
        level.percentile_rank_prev = match (r.index, stats) {
            (Some(i), Some(st)) => st.pr_sorted.get(i).copied(),
            (None, Some(st)) => prev
                .score
                .and_then(|s| stats::percentile_rank(&st.sorted, s)),
            _ => None,
        };
        level.gap_change = level.gap.zip(level.gap_prev).map(|(a, b)| a - b);
        level.pr_change = level
            .percentile_rank
            .zip(level.percentile_rank_prev)
            .map(|(a, b)| a - b);
        // Descriptive, no test (B6): raised on valid scores in both rounds whatever n_R, as
        // the gaps themselves are reported below min_ref_n too.
        if level.valid && prev.valid(self.opts.min_coverage).is_some() {
            wide = gap_widening(level.gap, level.gap_prev, self.opts);
        }
        (wide, prev.merged.then_some(pr))
    }

    /// The row of (org o, pillar p) before BH, flags and reasons, with its descriptive
    /// gap-widening flag and, for an overall row with MISSING_PILLAR, the pillars missing.
    fn row(
        &self,
        o: usize,
        info: &OrgInfo,
        labels: &OrgLabels,
        p: usize,
        cur: Cell,
    ) -> (DivergenceRow, Option<Flag>, Vec<&'i str>) {
        let d = &self.data[p];
        let n_p = self.prep.n_pillars();
        let t = info.org_type;
        let row_ref = d.level.for_row(
            o,
            t,
            d.level_valid[o],
            d.level_steps[o],
            self.peer,
            self.opts.min_ref_n,
        );
        let mut statuses = Vec::new();
        if p < n_p && d.level_valid[o].is_none() {
            statuses.push(Status::InsufficientCoverage);
        }
        let ev = evaluate(
            row_ref,
            cur.score,
            d.level_valid[o].is_some(),
            statuses,
            self.opts,
        );
        let mut level = level_block(cur, d.level_valid[o].is_some(), &ev, self.opts);
        let mut object_statuses = Vec::new();
        let mut merged_used = Vec::new();
        let (wide, merged_prev) = self.trajectory(o, t, p, &mut level);
        merged_used.extend(merged_prev);
        let change = d.change_in[o].as_ref().map(|ci| {
            let mut st = Vec::new();
            let valid = d.change_valid[o].is_some();
            if !valid {
                st.push(if p < n_p {
                    Status::InsufficientCoverage
                } else {
                    Status::MissingPillar
                });
            }
            if ci.item_set_changed {
                st.push(Status::ItemSetChanged);
            }
            let r = d.change.for_row(
                o,
                t,
                d.change_valid[o],
                d.change_steps[o],
                self.peer,
                self.opts.min_ref_n,
            );
            Box::new(change_block(
                ci,
                valid,
                evaluate(r, ci.delta, valid, st, self.opts),
                self.opts,
            ))
        });
        if change.is_none() {
            object_statuses.push(Status::NoPreviousRound);
        }
        let trend = d.fits[o].as_ref().map(|fit| {
            let r = d.trend.for_row(
                o,
                t,
                Some(fit.slope),
                d.trend_steps[o],
                self.peer,
                self.opts.min_ref_n,
            );
            merged_used.extend(
                fit.rounds
                    .iter()
                    .filter(|&&r| self.prep.cell(r, o, p).is_some_and(|c| c.merged)),
            );
            Box::new(trend_block(
                fit,
                self.keys,
                evaluate(r, Some(fit.slope), true, Vec::new(), self.opts),
                self.opts,
            ))
        });
        if p == n_p && cur.score.is_none() {
            object_statuses.insert(0, Status::MissingPillar);
        }
        merged_used.sort_unstable();
        merged_used.dedup();
        let lineage = (!merged_used.is_empty()).then(|| {
            object_statuses.push(Status::LineageMerged);
            Lineage {
                predecessors: info.predecessors.clone(),
                merged_from_previous: self.prep.prev.is_some_and(|pr| merged_used.contains(&pr)),
                merged_rounds: merged_used
                    .iter()
                    .map(|&r| self.prep.rounds[r].to_owned())
                    .collect(),
            }
        });
        let missing = if p == n_p && cur.score.is_none() {
            (0..n_p)
                .filter(|&q| {
                    self.prep
                        .cell(self.prep.focal, o, q)
                        .is_some_and(|c| c.valid(self.opts.min_coverage).is_none())
                })
                .map(|q| self.prep.pillars[q])
                .collect()
        } else {
            Vec::new()
        };
        let row = DivergenceRow {
            org_id: labels.id.clone(),
            org_name: labels.name.clone(),
            org_type: t,
            region_code: labels.region_code.clone(),
            region_name: labels.region_name.clone(),
            icb_code: labels.icb_code.clone(),
            icb_name: labels.icb_name.clone(),
            pillar: self.keys.pillars[p].clone(),
            pillar_title: self.keys.pillar_titles[p].clone(),
            round: self.keys.rounds[self.prep.focal].clone(),
            previous_round: self.prep.prev.map(|r| self.keys.rounds[r].clone()),
            reference: ev.summary,
            level,
            change,
            trend,
            flags: Vec::new(),
            reasons: Vec::new(),
            statuses: object_statuses,
            lineage,
            method: MethodInfo {
                version: self.opts.method.as_str(),
                p_method: self.opts.p_method,
                alpha_fdr: self.opts.alpha_fdr,
                family_size: 0,
                config_hash: self.hash,
            },
        };
        (row, wide, missing)
    }
}

fn level_block(cur: Cell, valid: bool, ev: &Eval, opts: &Options) -> LevelBlock {
    LevelBlock {
        score: cur.score,
        coverage: cur.coverage,
        valid,
        gap: ev.gap,
        robust_z: ev.z,
        p: ev.p,
        q: None,
        tier: stats::tier(ev.p, opts),
        detectable_gap: None,
        percentile_rank: ev.percentile_rank,
        percentile_rank_prev: None,
        pr_change: None,
        gap_prev: None,
        gap_change: None,
        median_prev: None,
        n_prev: None,
        family_size: 0,
        statuses: ev.statuses.clone(),
    }
}

fn change_block(ci: &ChangeIn, valid: bool, ev: Eval, opts: &Options) -> ChangeBlock {
    ChangeBlock {
        previous_score: ci.prev.score,
        previous_coverage: ci.prev.coverage,
        delta: ci.delta,
        item_matched: ci.matched,
        valid,
        peer_median_delta: ev.summary.median,
        excess: ev.gap,
        scale: ev.summary.scale,
        robust_z: ev.z,
        p: ev.p,
        q: None,
        tier: stats::tier(ev.p, opts),
        detectable_gap: None,
        reference: ev.summary,
        family_size: 0,
        statuses: ev.statuses,
    }
}

fn trend_block(fit: &Fit, keys: &Keys, ev: Eval, opts: &Options) -> TrendBlock {
    TrendBlock {
        slope: fit.slope,
        peer_median_slope: ev.summary.median,
        excess: ev.gap,
        scale: ev.summary.scale,
        robust_z: ev.z,
        p: ev.p,
        q: None,
        tier: stats::tier(ev.p, opts),
        detectable_gap: None,
        rounds: fit.rounds.len(),
        round_keys: fit.rounds.iter().map(|&r| keys.rounds[r].clone()).collect(),
        consistent: fit.consistent,
        reference: ev.summary,
        family_size: 0,
        statuses: ev.statuses,
    }
}
