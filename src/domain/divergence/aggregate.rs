//! ICB and region aggregates (B7): an indirectly standardised gap per (unit, pillar), then units
//! compared with each other by B5–B6.
//!
//! What is computed, precisely:
//! - Members of a unit are the analysed organisations whose `OrgInfo.icb` (or `region`) is the
//!   unit's code; `n_members` and `type_mix` count those with a row for the pillar.
//! - Level: `standardised_gap = mean over members with a valid level of (S_o − med_type(o))`, where
//!   med_type is the type-national median of the member's type for that pillar in the focal round
//!   (whatever reference the analysis used). Change: the mean of `Δ_o − med_type(Δ)` over members
//!   with a valid change, med_type(Δ) being the type-national paired-panel median.
//! - R = every unit with at least one valid member for that (pillar, metric); g = x_a − med(R);
//!   robust scale per B5 with the organisation-level floors (s_min_level, s_min_change); z; p with
//!   ν = n_R − 1 (or normal); n_R < min_ref_n: descriptive only with `INSUFFICIENT_PEERS`.
//! - BH per metric over all units × pillars, overall rows in their own family; tiers, materiality
//!   (δ_level, δ_change), flags LEVEL_/PROGRESS_BELOW/ABOVE_PEERS and PRIORITY_FALLING_BEHIND.
//! - A unit with members but none valid for a metric gets a null standardised gap with
//!   `INSUFFICIENT_COVERAGE`; without a previous round every change block is null.

use super::options::MethodVersion;
use super::reasons::{Test, side, signed};
use super::reference::{RowRef, evaluate};
use super::stats::{RefStats, ScaleRule, bh_adjust, tier};
use super::types::*;
use super::verdict::direction;
use super::{EngineInput, OVERALL};
use crate::domain::figures::ZeroNoise;
use crate::domain::organisation::{OrgType, region_name};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// The unit of aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggregateBy {
    Icb,
    Region,
}

impl AggregateBy {
    fn as_str(self) -> &'static str {
        match self {
            AggregateBy::Icb => "icb",
            AggregateBy::Region => "region",
        }
    }
    fn label(self) -> &'static str {
        match self {
            AggregateBy::Icb => "ICB",
            AggregateBy::Region => "region",
        }
    }
}

/// One metric of one unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AggregateMetric {
    /// Members with a valid value for this metric.
    pub n_valid: usize,
    pub standardised_gap: Option<f64>,
    pub reference: ReferenceSummary,
    pub gap: Option<f64>,
    pub robust_z: Option<f64>,
    pub p: Option<f64>,
    pub q: Option<f64>,
    pub tier: Tier,
    pub family_size: usize,
    pub statuses: Vec<Status>,
}

/// One (unit, pillar) object; pillar `overall` for the overall score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AggregateRow {
    pub unit: AggregateBy,
    /// The ICB's ODS code or the region code.
    pub code: String,
    /// The ICB's or region's name (null only when the input gave none for an ICB).
    pub name: Option<String>,
    pub pillar: String,
    /// The pillar's title (`Overall` for the overall row).
    pub pillar_title: String,
    pub round: Option<String>,
    pub n_members: usize,
    pub type_mix: BTreeMap<OrgType, usize>,
    pub level: AggregateMetric,
    pub change: Option<AggregateMetric>,
    pub flags: Vec<Flag>,
    pub reasons: Vec<String>,
    pub method: MethodInfo,
}

#[derive(Default)]
struct Acc {
    n_members: usize,
    type_mix: BTreeMap<OrgType, usize>,
    level: (f64, usize),
    change: (f64, usize),
}

/// Aggregates an analysis by ICB or region. `input` must be the input of `analysis`.
pub fn aggregate(input: &EngineInput, analysis: &Analysis, by: AggregateBy) -> Vec<AggregateRow> {
    let opts = &analysis.options;
    let unit_of: HashMap<&str, &str> = input
        .orgs
        .iter()
        .filter_map(|o| {
            let code = match by {
                AggregateBy::Icb => o.icb.as_deref(),
                AggregateBy::Region => o.region.as_deref(),
            };
            code.map(|c| (o.ods.as_str(), c))
        })
        .collect();
    let mut names: HashMap<&str, &str> = HashMap::new();
    if by == AggregateBy::Icb {
        for o in &input.orgs {
            if let (Some(code), Some(name)) = (o.icb.as_deref(), o.icb_name.as_deref()) {
                names.entry(code).or_insert(name);
            }
        }
    }
    let unit_name = |code: &str| match by {
        AggregateBy::Region => region_name(code).map(str::to_owned),
        AggregateBy::Icb => names.get(code).map(|n| (*n).to_owned()),
    };
    let title = |pillar: &str| {
        analysis
            .rows
            .iter()
            .find(|r| r.pillar == pillar)
            .map_or_else(|| pillar.to_owned(), |r| r.pillar_title.as_str().to_owned())
    };
    let medians: HashMap<(OrgType, &str, Metric), f64> = analysis
        .type_references
        .iter()
        .map(|t| ((t.org_type, t.pillar.as_str(), t.metric), t.median))
        .collect();
    // key: (is_overall, pillar, code) so that each pillar's units are contiguous
    let mut accs: BTreeMap<(bool, &str, &str), Acc> = BTreeMap::new();
    for row in &analysis.rows {
        let Some(&code) = unit_of.get(row.org_id.as_str()) else {
            continue;
        };
        let pillar = row.pillar.as_str();
        let acc = accs.entry((pillar == OVERALL, pillar, code)).or_default();
        acc.n_members += 1;
        *acc.type_mix.entry(row.org_type).or_default() += 1;
        let med = |m: Metric| medians.get(&(row.org_type, pillar, m)).copied();
        if let (true, Some(s), Some(m)) = (row.level.valid, row.level.score, med(Metric::Level)) {
            acc.level.0 += s - m;
            acc.level.1 += 1;
        }
        if let Some(c) = row.change.as_ref().filter(|c| c.valid)
            && let (Some(d), Some(m)) = (c.delta, med(Metric::Change))
        {
            acc.change.0 += d - m;
            acc.change.1 += 1;
        }
    }
    let with_change = analysis.previous_round.is_some();
    let mut rows: Vec<AggregateRow> = Vec::with_capacity(accs.len());
    let keys: Vec<(bool, &str, &str)> = accs.keys().copied().collect();
    let mut start = 0;
    while start < keys.len() {
        let (ov, pillar, _) = keys[start];
        let end = start
            + keys[start..]
                .iter()
                .take_while(|k| k.0 == ov && k.1 == pillar)
                .count();
        let group: Vec<&Acc> = keys[start..end]
            .iter()
            .filter_map(|k| accs.get(k))
            .collect();
        let level = compare(&group, |a| a.level, opts.s_min_level(), by, opts);
        let change = compare(&group, |a| a.change, opts.s_min_change(), by, opts);
        let pillar_title = title(pillar);
        for (i, (k, acc)) in keys[start..end].iter().zip(&group).enumerate() {
            rows.push(AggregateRow {
                unit: by,
                code: k.2.to_owned(),
                name: unit_name(k.2),
                pillar: pillar.to_owned(),
                pillar_title: pillar_title.clone(),
                round: analysis.round.clone(),
                n_members: acc.n_members,
                type_mix: acc.type_mix.clone(),
                level: level[i].clone(),
                change: with_change.then(|| change[i].clone()),
                flags: Vec::new(),
                reasons: Vec::new(),
                method: MethodInfo {
                    version: opts.method.as_str(),
                    p_method: opts.p_method,
                    alpha_fdr: opts.alpha_fdr,
                    family_size: 0,
                    config_hash: analysis.config_hash,
                },
            });
        }
        start = end;
    }
    // BH per metric, overall separate; rows are sorted with overall last, code within pillar.
    rows.sort_by(|a, b| {
        (a.code.as_str(), a.pillar == OVERALL, a.pillar.as_str()).cmp(&(
            b.code.as_str(),
            b.pillar == OVERALL,
            b.pillar.as_str(),
        ))
    });
    // v1: BH per metric, overall rows separate; v2 (C7): one family for the whole comparison.
    let families: Vec<Vec<(Metric, bool)>> = match opts.method {
        MethodVersion::V1 => [Metric::Level, Metric::Change]
            .into_iter()
            .flat_map(|m| [vec![(m, false)], vec![(m, true)]])
            .collect(),
        MethodVersion::V2 => vec![
            [Metric::Level, Metric::Change]
                .into_iter()
                .flat_map(|m| [(m, false), (m, true)])
                .collect(),
        ],
    };
    for family in families {
        let mut idx: Vec<(usize, Metric)> = Vec::new();
        for &(metric, overall) in &family {
            idx.extend(
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| (r.pillar == OVERALL) == overall)
                    .filter(|(_, r)| metric_of(r, metric).is_some_and(|m| m.p.is_some()))
                    .map(|(i, _)| (i, metric)),
            );
        }
        let ps: Vec<f64> = idx
            .iter()
            .filter_map(|&(i, metric)| metric_of(&rows[i], metric).and_then(|m| m.p))
            .collect();
        let qs = bh_adjust(&ps);
        for (&(i, metric), q) in idx.iter().zip(qs) {
            if let Some(m) = metric_of_mut(&mut rows[i], metric) {
                m.q = Some(q);
            }
        }
        for &(metric, overall) in &family {
            for r in rows.iter_mut().filter(|r| (r.pillar == OVERALL) == overall) {
                if metric == Metric::Level {
                    r.method.family_size = idx.len();
                }
                if let Some(m) = metric_of_mut(r, metric) {
                    m.family_size = idx.len();
                }
            }
        }
    }
    for r in &mut rows {
        unit_flags(r, by, opts);
        r.zero_noise();
    }
    rows
}

impl ZeroNoise for AggregateMetric {
    fn zero_noise(&mut self) {
        self.standardised_gap.zero_noise();
        self.reference.zero_noise();
        self.gap.zero_noise();
        self.robust_z.zero_noise();
        self.p.zero_noise();
        self.q.zero_noise();
    }
}

impl ZeroNoise for AggregateRow {
    fn zero_noise(&mut self) {
        self.level.zero_noise();
        self.change.zero_noise();
    }
}

fn metric_of(r: &AggregateRow, m: Metric) -> Option<&AggregateMetric> {
    match m {
        Metric::Level => Some(&r.level),
        _ => r.change.as_ref(),
    }
}

fn metric_of_mut(r: &mut AggregateRow, m: Metric) -> Option<&mut AggregateMetric> {
    match m {
        Metric::Level => Some(&mut r.level),
        _ => r.change.as_mut(),
    }
}

/// Compares the units of one (pillar, metric) with each other.
fn compare(
    group: &[&Acc],
    get: impl Fn(&Acc) -> (f64, usize),
    s_min: f64,
    by: AggregateBy,
    opts: &super::Options,
) -> Vec<AggregateMetric> {
    let x: Vec<Option<f64>> = group
        .iter()
        .map(|a| {
            let (sum, n) = get(a);
            (n > 0).then(|| sum / n as f64)
        })
        .collect();
    // v2 (C7): a mean of several members' gaps is effectively continuous, r = 0.
    let rule = ScaleRule {
        version: opts.method,
        s_min,
    };
    let stats = RefStats::new(x.iter().flatten().copied().collect(), rule, 0.0);
    group
        .iter()
        .zip(&x)
        .map(|(a, xa)| {
            let row_ref = RowRef {
                stats: stats.as_ref().map(Cow::Borrowed),
                kind: RefKind::AllUnits,
                key: Cow::Borrowed(by.as_str()),
                fallback: false,
                index: None,
                summary: None,
            };
            let statuses = if xa.is_none() {
                vec![Status::InsufficientCoverage]
            } else {
                Vec::new()
            };
            let ev = evaluate(row_ref, *xa, xa.is_some(), statuses, opts);
            AggregateMetric {
                n_valid: get(a).1,
                standardised_gap: *xa,
                gap: ev.gap,
                robust_z: ev.z,
                p: ev.p,
                q: None,
                tier: tier(ev.p, opts),
                family_size: 0,
                statuses: ev.statuses,
                reference: ReferenceSummary::clone(&ev.summary),
            }
        })
        .collect()
}

fn unit_flags(r: &mut AggregateRow, by: AggregateBy, opts: &super::Options) {
    let a = opts.alpha_fdr;
    let l = &r.level;
    let level = direction(l.gap, l.q, l.tier, opts.delta_level(), a);
    let change = r
        .change
        .as_ref()
        .and_then(|c| direction(c.gap, c.q, c.tier, opts.delta_change(), a));
    let mut flags = Vec::new();
    let mut reasons = Vec::new();
    if let (Some(below), Some(x), Some(g), Some(med)) =
        (level, l.standardised_gap, l.gap, l.reference.median)
    {
        flags.push(if below {
            Flag::LevelBelowPeers
        } else {
            Flag::LevelAbovePeers
        });
        reasons.push(format!(
            "Standardised gap {} (members vs their type medians) is {} the {} median {} ({})",
            signed(x, 2),
            side(g),
            by.label(),
            signed(med, 2),
            Test(l.robust_z, l.q, l.tier),
        ));
    }
    if let (Some(below), Some(c)) = (change, &r.change)
        && let (Some(x), Some(med)) = (c.standardised_gap, c.reference.median)
    {
        flags.push(if below {
            Flag::ProgressBelowPeers
        } else {
            Flag::ProgressAbovePeers
        });
        reasons.push(format!(
            "Standardised excess progress {} (members vs their type medians) is {} the {} median {} ({})",
            signed(x, 2),
            side(c.gap.unwrap_or(0.0)),
            by.label(),
            signed(med, 2),
            Test(c.robust_z, c.q, c.tier),
        ));
    }
    if level == Some(true) && change == Some(true) {
        flags.push(Flag::PriorityFallingBehind);
        reasons.push("Priority: below peers on level and falling further behind".to_owned());
    }
    let blocks = [("level", Some(&r.level)), ("change", r.change.as_ref())];
    for (name, m) in blocks {
        let Some(m) = m else { continue };
        for s in &m.statuses {
            reasons.push(match s {
                Status::InsufficientPeers => format!(
                    "Only {} {}s have a valid {name} (minimum {}): no test",
                    m.reference.n,
                    by.label(),
                    opts.min_ref_n
                ),
                Status::InsufficientCoverage => {
                    format!("No member has a valid {name}: not compared")
                }
                Status::ScaleFloorApplied => format!(
                    "{}s' {name} values are very close together: the minimum scale was used",
                    by.label()
                ),
                other => format!("{other:?}"),
            });
        }
    }
    r.flags = flags;
    r.reasons = reasons;
}
