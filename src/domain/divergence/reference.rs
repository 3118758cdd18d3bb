//! Reference groups (B3) and the evaluation of one value against its reference (B5–B6 up to p).
//!
//! Decisions:
//! - Type-national references are built once per (metric, pillar, type) and shared by every row.
//! - Peer group: members of another type than the group's are dropped. A valid organisation of the
//!   group's type that is not a member is compared with the members plus itself (include-self, so
//!   its own value is in R as for type_national). The group is used for a row only when that R has
//!   at least `min_ref_n` values; otherwise the row falls back to type_national with
//!   `REFERENCE_FALLBACK`, per (pillar, metric). Organisations of another type always fall back.
//! - Below `min_ref_n` the median, quartiles, gap and percentile rank are still reported, but no
//!   MAD or scale (so `SCALE_FLOOR_APPLIED` never appears there) and no z, p, q.
//! - z is withheld when the scale is 0 (only possible when the configured floor is 0).

use super::Reference;
use super::options::Options;
use super::stats::{RefStats, ScaleRule, order_key, p_value, percentile_rank, resolution_of};
use super::types::{Confidence, RefKind, ReferenceSummary, SharedRef, Status};
use crate::domain::organisation::OrgType;
use std::borrow::Cow;

impl Reference {
    /// The peer group's key, type and listed members; `None` for a type-national reference.
    fn peer_group(&self) -> Option<(&str, OrgType, &[String])> {
        match self {
            Reference::TypeNational => None,
            Reference::PeerGroup {
                key,
                org_type,
                members,
            } => Some((key, *org_type, members)),
        }
    }

    /// Whether `candidate` (of type `t`) is a member of the peer group: listed and of the
    /// group's type (as [`PeerSpec`] marks them). Always false for a type-national reference.
    pub fn is_peer_member(&self, candidate: &str, t: OrgType) -> bool {
        self.peer_group().is_some_and(|(_, group_type, members)| {
            group_type == t && members.iter().any(|m| m == candidate)
        })
    }

    /// Whether `candidate`'s value (an organisation of type `t`) is part of the peer-group
    /// reference of `focal` (an organisation of the group's type): the members plus `focal`
    /// itself (include-self). Only meaningful for a row whose reference is the peer group (not
    /// one that fell back to type_national).
    pub fn in_peer_reference_of(&self, focal: &str, candidate: &str, t: OrgType) -> bool {
        self.is_peer_member(candidate, t)
            || (candidate == focal && self.peer_group().is_some_and(|(_, g, _)| g == t))
    }
}

/// The peer group as indices: which organisations are members (of the group's type).
pub struct PeerSpec<'a> {
    pub key: &'a str,
    pub org_type: OrgType,
    pub is_member: Vec<bool>,
}

impl<'a> PeerSpec<'a> {
    pub fn new(reference: &'a Reference, prepared: &super::prepare::Prepared) -> Option<Self> {
        let (key, org_type, members) = reference.peer_group()?;
        let mut is_member = vec![false; prepared.orgs.len()];
        for m in members {
            if let Some(&i) = prepared.index.get(m.as_str())
                && prepared.orgs[i]
                    .info
                    .is_some_and(|info| info.org_type == org_type)
            {
                is_member[i] = true;
            }
        }
        Some(Self {
            key,
            org_type,
            is_member,
        })
    }
}

/// All references of one (metric, pillar).
pub struct GroupCtx {
    by_type: Vec<Option<RefStats>>,
    /// Position of each organisation's value in its type's sorted values (`NONE` if absent).
    type_pos: Vec<u32>,
    peer_values: Vec<f64>,
    /// The grid steps of the peer group's members (v2 resolution).
    peer_steps: Vec<f64>,
    peer_stats: Option<RefStats>,
    peer_pos: Vec<u32>,
    rule: ScaleRule,
    /// The summaries of `by_type` (per type) and of `peer_stats`, built once and shared by every
    /// row compared with them.
    type_summaries: Vec<SharedRef>,
    peer_summary: Option<SharedRef>,
}

const NONE: u32 = u32::MAX;

/// The reference chosen for one row.
pub struct RowRef<'c> {
    pub stats: Option<Cow<'c, RefStats>>,
    pub kind: RefKind,
    pub key: Cow<'static, str>,
    pub fallback: bool,
    /// The row's own value is `stats.sorted[index]` (a member): its p and percentile rank were
    /// precomputed.
    pub index: Option<usize>,
    /// The summary of `stats`, when it is a shared reference (built once for every row that
    /// uses it); `None` has [`evaluate`] build one for this row alone.
    pub summary: Option<SharedRef>,
}

/// Sorts (value, org) pairs once, records each org's position and builds the statistics, with
/// the resolution of the members' steps (`steps[o]`).
fn sorted_stats(
    mut pairs: Vec<(f64, u32)>,
    steps: &[f64],
    pos: &mut [u32],
    rule: ScaleRule,
    (method, min_ref_n): (super::options::PMethod, usize),
) -> Option<RefStats> {
    let r = resolution_of(pairs.iter().map(|(_, o)| steps[*o as usize]).collect());
    // Ties need no order: equal values share their p and percentile rank.
    pairs.sort_unstable_by_key(|(v, _)| order_key(*v));
    for (i, (_, o)) in pairs.iter().enumerate() {
        pos[*o as usize] = i as u32;
    }
    let values = pairs.into_iter().map(|(v, _)| v).collect();
    RefStats::from_sorted(values, rule, r).map(|s| s.with_member_figures(method, min_ref_n))
}

impl GroupCtx {
    /// `values[o]` is the valid value of organisation o for this metric and pillar (None when o
    /// is not part of any reference), `steps[o]` the grid step of that value (C2.5, 0 when
    /// continuous); `types[o]` its type.
    pub fn build(
        values: &[Option<f64>],
        steps: &[f64],
        types: &[Option<OrgType>],
        peer: Option<&PeerSpec>,
        s_min: f64,
        opts: &Options,
    ) -> Self {
        let opts_p = (opts.p_method, opts.min_ref_n);
        let rule = ScaleRule {
            version: opts.method,
            s_min,
        };
        let mut buckets: Vec<Vec<(f64, u32)>> = vec![Vec::new(); OrgType::ALL.len()];
        let mut peer_pairs = Vec::new();
        for (o, (v, t)) in values.iter().zip(types).enumerate() {
            if let (Some(v), Some(t)) = (v, t) {
                buckets[*t as usize].push((*v, o as u32));
                if peer.is_some_and(|p| p.is_member[o]) {
                    peer_pairs.push((*v, o as u32));
                }
            }
        }
        let mut type_pos = vec![NONE; values.len()];
        let by_type = buckets
            .into_iter()
            .map(|b| sorted_stats(b, steps, &mut type_pos, rule, opts_p))
            .collect();
        let type_summaries = OrgType::ALL
            .iter()
            .zip(&by_type)
            .map(|(t, stats): (&OrgType, &Option<RefStats>)| {
                SharedRef::new(summarise(
                    stats.as_ref(),
                    RefKind::TypeNational,
                    Cow::Borrowed(t.as_str()),
                    opts.min_ref_n,
                ))
            })
            .collect();
        let mut peer_pos = Vec::new();
        let peer_steps: Vec<f64> = peer_pairs.iter().map(|(_, o)| steps[*o as usize]).collect();
        let peer_stats = peer.and_then(|_| {
            peer_pos = vec![NONE; values.len()];
            sorted_stats(peer_pairs, steps, &mut peer_pos, rule, opts_p)
        });
        let peer_summary = peer.map(|p| {
            SharedRef::new(summarise(
                peer_stats.as_ref(),
                RefKind::PeerGroup,
                Cow::Owned(p.key.to_owned()),
                opts.min_ref_n,
            ))
        });
        Self {
            by_type,
            type_pos,
            peer_values: peer_stats
                .as_ref()
                .map(|s| s.sorted.clone())
                .unwrap_or_default(),
            peer_steps,
            peer_stats,
            peer_pos,
            rule,
            type_summaries,
            peer_summary,
        }
    }

    pub fn type_stats(&self, t: OrgType) -> Option<&RefStats> {
        self.by_type[t as usize].as_ref()
    }

    /// The reference of organisation `org` (type `t`, own valid value `own` on a grid of step
    /// `own_step`).
    #[allow(clippy::too_many_arguments)]
    pub fn for_row<'c>(
        &'c self,
        org: usize,
        t: OrgType,
        own: Option<f64>,
        own_step: f64,
        peer: Option<&PeerSpec>,
        min_ref_n: usize,
    ) -> RowRef<'c> {
        let at = |pos: &[u32]| pos.get(org).filter(|i| **i != NONE).map(|i| *i as usize);
        let national = |fallback: bool| RowRef {
            stats: self.type_stats(t).map(Cow::Borrowed),
            kind: RefKind::TypeNational,
            key: Cow::Borrowed(t.as_str()),
            fallback,
            index: at(&self.type_pos),
            summary: Some(self.type_summaries[t as usize].clone()),
        };
        let Some(peer) = peer else {
            return national(false);
        };
        if peer.org_type != t {
            return national(true);
        }
        let add_self = !peer.is_member[org] && own.is_some();
        let n = self.peer_values.len() + usize::from(add_self);
        if n < min_ref_n {
            return national(true);
        }
        let (stats, index, summary) = match (add_self, own) {
            (true, Some(v)) => {
                let mut values = self.peer_values.clone();
                values.push(v);
                let mut steps = self.peer_steps.clone();
                steps.push(own_step);
                // No member figures: the row's own value has no index, so its p and
                // percentile rank are computed directly (evaluate, trajectory) and the
                // per-member p of every value here would be thrown away.
                let stats = RefStats::new(values, self.rule, resolution_of(steps));
                (stats.map(Cow::Owned), None, None)
            }
            _ => (
                self.peer_stats.as_ref().map(Cow::Borrowed),
                at(&self.peer_pos),
                self.peer_summary.clone(),
            ),
        };
        RowRef {
            stats,
            kind: RefKind::PeerGroup,
            key: Cow::Owned(peer.key.to_owned()),
            fallback: false,
            index,
            summary,
        }
    }
}

/// One value against its reference, before BH.
pub struct Eval {
    pub summary: SharedRef,
    pub gap: Option<f64>,
    pub z: Option<f64>,
    pub p: Option<f64>,
    pub percentile_rank: Option<f64>,
    pub statuses: Vec<Status>,
}

/// Summary of a reference; the scale is shown only from `min_ref_n` values on.
pub fn summarise(
    stats: Option<&RefStats>,
    kind: RefKind,
    key: Cow<'static, str>,
    min_ref_n: usize,
) -> ReferenceSummary {
    let n = stats.map_or(0, RefStats::n);
    let scaled = stats.filter(|_| n >= min_ref_n);
    ReferenceSummary {
        kind,
        key,
        n,
        median: stats.map(|s| s.median),
        q1: stats.map(|s| s.q1),
        q3: stats.map(|s| s.q3),
        mad: scaled.map(|s| s.mad),
        scale: scaled.map(|s| s.scale),
        scale_method: scaled.map(|s| s.method),
        resolution: scaled.and_then(|s| s.resolution),
        confidence: Confidence::from_n(n, min_ref_n),
    }
}

/// Evaluates `x` (descriptive value, maybe outside R) against the row's reference. Only a `valid`
/// x (one that is part of R) gets z and p. `statuses` holds the caller's statuses so far.
pub fn evaluate(
    row_ref: RowRef,
    x: Option<f64>,
    valid: bool,
    mut statuses: Vec<Status>,
    opts: &Options,
) -> Eval {
    let stats = row_ref.stats.as_deref();
    let n = stats.map_or(0, RefStats::n);
    let gap = match (x, stats) {
        (Some(x), Some(s)) => Some(x - s.median),
        _ => None,
    };
    let member = row_ref.index.zip(stats);
    let percentile_rank = match (member, x, stats) {
        (Some((i, s)), _, _) => s.pr_sorted.get(i).copied(),
        (None, Some(x), Some(s)) => percentile_rank(&s.sorted, x),
        _ => None,
    };
    let enough = n >= opts.min_ref_n;
    if !enough {
        statuses.push(Status::InsufficientPeers);
    }
    if row_ref.fallback {
        statuses.push(Status::ReferenceFallback);
    }
    if enough && stats.is_some_and(|s| s.floor_applied) {
        statuses.push(Status::ScaleFloorApplied);
    }
    let (mut z, mut p) = (None, None);
    if let (true, true, Some(g), Some(s)) = (enough, valid, gap, stats)
        && s.scale > 0.0
    {
        let zv = g / s.scale;
        z = Some(zv);
        // A member's p was precomputed with the same arithmetic; others are computed here.
        p = member
            .and_then(|(i, s)| s.p_sorted.get(i).copied())
            .filter(|p| !p.is_nan())
            .or_else(|| p_value(zv, n, opts.p_method));
    }
    Eval {
        summary: row_ref.summary.unwrap_or_else(|| {
            SharedRef::new(summarise(stats, row_ref.kind, row_ref.key, opts.min_ref_n))
        }),
        gap,
        z,
        p,
        percentile_rank,
        statuses,
    }
}
