//! Plain-English reasons (B8): one sentence per flag and one per status, with the numbers needed
//! to recompute it. Negative numbers use the minus sign U+2212, as in the spec's example.
//!
//! Decisions: scores and gaps have 2 decimals; robust z 2 decimals; q 2 significant digits
//! ("<0.001" below 0.001); the change sentence keeps the spec's wording "Improved −0.60 …" even
//! for a fall. Identical sentences (a status on several blocks) are given once.

use super::options::Options;
use super::types::{DivergenceRow, Flag, RefKind, ReferenceSummary, Status, Tier};
use crate::domain::organisation::OrgType;
use std::fmt;

pub struct ReasonCtx<'a> {
    pub opts: &'a Options,
    /// The requested peer group (key, type), if any.
    pub peer_group: Option<(&'a str, OrgType)>,
    /// Overall rows with MISSING_PILLAR: the pillars that are missing or below coverage.
    pub missing_pillars: &'a [&'a str],
}

/// A number with a minus sign (U+2212) for negatives that do not round to zero. Display
/// wrappers, so a sentence is written into one `String` without intermediate allocations.
pub struct Num(f64, usize, bool);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Num(x, dp, plus) = *self;
        let negative = x < 0.0 && (x.abs() * 10f64.powi(dp as i32)).round() >= 1.0;
        if negative {
            f.write_str("−")?;
        } else if plus {
            f.write_str("+")?;
        }
        write!(f, "{:.*}", dp, x.abs())
    }
}

pub fn num(x: f64, dp: usize) -> Num {
    Num(x, dp, false)
}

/// A number with an explicit sign (+ or −).
pub fn signed(x: f64, dp: usize) -> Num {
    Num(x, dp, true)
}

/// q with two significant digits, "<0.001" below 0.001.
pub struct QText(f64);

impl fmt::Display for QText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = self.0;
        if q < 0.001 {
            return f.write_str("<0.001");
        }
        let dp = (1 - q.log10().floor() as i32).max(0) as usize;
        write!(f, "{:.*}", dp, q)
    }
}

pub fn q_text(q: f64) -> QText {
    QText(q)
}

pub fn tier_text(t: Tier) -> &'static str {
    match t {
        Tier::Alarm => ", 99.8% tier",
        Tier::Alert => ", 95% tier",
        Tier::None => "",
    }
}

/// "acute" or "peer group X" (as in "the acute median").
struct RefLabel<'a>(&'a ReferenceSummary, OrgType);

impl fmt::Display for RefLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.kind {
            RefKind::PeerGroup => write!(f, "peer group {}", self.0.key),
            RefKind::TypeNational => self
                .1
                .as_str()
                .chars()
                .try_for_each(|c| fmt::Write::write_char(f, if c == '_' { ' ' } else { c })),
            RefKind::AllUnits => f.write_str(&self.0.key),
        }
    }
}

fn ref_label(r: &ReferenceSummary, t: OrgType) -> RefLabel<'_> {
    RefLabel(r, t)
}

/// A share as a whole percentage.
struct Pct(f64);

impl fmt::Display for Pct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.0}%", 100.0 * self.0)
    }
}

fn pct(x: f64) -> Pct {
    Pct(x)
}

pub fn for_row(row: &DivergenceRow, ctx: &ReasonCtx) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let t = row.org_type;
    let l = &row.level;
    for flag in &row.flags {
        let s = match flag {
            Flag::LevelBelowPeers | Flag::LevelAbovePeers => {
                let (Some(score), Some(g), Some(med)) = (l.score, l.gap, row.reference.median)
                else {
                    continue;
                };
                let side = if g < 0.0 { "below" } else { "above" };
                format!(
                    "Score {} is {} {side} the {} median {} (robust z {}, q {}{})",
                    num(score, 2),
                    num(g.abs(), 2),
                    ref_label(&row.reference, t),
                    num(med, 2),
                    num(l.robust_z.unwrap_or(0.0), 2),
                    q_text(l.q.unwrap_or(1.0)),
                    tier_text(l.tier)
                )
            }
            Flag::ProgressBelowPeers | Flag::ProgressAbovePeers => {
                let Some(c) = &row.change else { continue };
                let (Some(d), Some(m), Some(e)) = (c.delta, c.peer_median_delta, c.excess) else {
                    continue;
                };
                format!(
                    "Improved {} vs peer median {} (excess {}, robust z {}, q {})",
                    signed(d, 2),
                    signed(m, 2),
                    signed(e, 2),
                    num(c.robust_z.unwrap_or(0.0), 2),
                    q_text(c.q.unwrap_or(1.0))
                )
            }
            Flag::TrendBelowPeers | Flag::TrendAbovePeers => {
                let Some(tr) = &row.trend else { continue };
                let (Some(m), Some(e)) = (tr.peer_median_slope, tr.excess) else {
                    continue;
                };
                format!(
                    "Trend {} per round over {} rounds vs peer median {} (excess {}, robust z {}, q {})",
                    signed(tr.slope, 2),
                    tr.rounds,
                    signed(m, 2),
                    signed(e, 2),
                    num(tr.robust_z.unwrap_or(0.0), 2),
                    q_text(tr.q.unwrap_or(1.0))
                )
            }
            Flag::GapWideningBehind | Flag::GapWideningAhead => {
                let (Some(gp), Some(g)) = (l.gap_prev, l.gap) else {
                    continue;
                };
                let what = if *flag == Flag::GapWideningBehind {
                    "Gap behind"
                } else {
                    "Lead over"
                };
                format!(
                    "{what} the {} median widened from {} to {}",
                    ref_label(&row.reference, t),
                    signed(gp, 2),
                    signed(g, 2)
                )
            }
            Flag::PriorityFallingBehind => {
                "Priority: below peers on level and falling further behind".to_owned()
            }
        };
        out.push(s);
    }
    let statuses = row.statuses.iter().map(|s| ("", *s));
    let level = l.statuses.iter().map(|s| ("level", *s));
    let change = row
        .change
        .iter()
        .flat_map(|c| c.statuses.iter().map(|s| ("change", *s)));
    let trend = row
        .trend
        .iter()
        .flat_map(|c| c.statuses.iter().map(|s| ("trend", *s)));
    for (block, status) in statuses.chain(level).chain(change).chain(trend) {
        let s = status_sentence(row, block, status, ctx);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn status_sentence(row: &DivergenceRow, block: &str, status: Status, ctx: &ReasonCtx) -> String {
    let o = ctx.opts;
    let reference = match block {
        "change" => row.change.as_ref().map(|c| &c.reference),
        "trend" => row.trend.as_ref().map(|t| &t.reference),
        _ => Some(&row.reference),
    }
    .unwrap_or(&row.reference);
    match status {
        Status::InsufficientCoverage if block == "change" => format!(
            "Change not compared with peers: coverage is below {} in this or the previous round",
            pct(o.min_coverage)
        ),
        Status::InsufficientCoverage => match row.level.score {
            Some(_) => format!(
                "Coverage {} is below the {} minimum: the score is shown but not compared with peers",
                pct(row.level.coverage),
                pct(o.min_coverage)
            ),
            None => "Nothing was answered in this pillar: no score to compare".to_owned(),
        },
        Status::InsufficientPeers => format!(
            "Only {} organisations in the {block} reference ({}; minimum {}): median and gap shown, no test",
            reference.n, reference.key, o.min_ref_n
        ),
        Status::ReferenceFallback => match ctx.peer_group {
            Some((key, gt)) if gt != row.org_type => format!(
                "Peer group {key} is for {} organisations: compared with all {} organisations",
                gt.label(),
                row.org_type.label()
            ),
            Some((key, _)) => format!(
                "Peer group {key} has fewer than {} valid members for {block}: compared with all {} organisations",
                o.min_ref_n,
                row.org_type.label()
            ),
            None => format!("Compared with all {} organisations", row.org_type.label()),
        },
        Status::ScaleFloorApplied => format!(
            "Peers' {block} values are very close together: the minimum scale {} was used",
            num(reference.scale.unwrap_or(0.0), 2)
        ),
        Status::ItemSetChanged => {
            "The question set changed between rounds: change uses only the questions common to both"
                .to_owned()
        }
        Status::NoPreviousRound => match &row.previous_round {
            Some(r) => format!("No score in the previous round {r}: change not computed"),
            None => "No previous round: change not computed".to_owned(),
        },
        Status::MissingPillar if block == "change" => {
            "Overall change not computed: a pillar was missing or below coverage in the previous round"
                .to_owned()
        }
        Status::MissingPillar => format!(
            "Overall score not computed: missing or below-coverage pillar(s) {}",
            ctx.missing_pillars.join(", ")
        ),
        Status::LineageMerged => {
            let lin = row.lineage.as_ref();
            format!(
                "Earlier scores ({}) are the mean of the merged predecessors {}",
                lin.map(|l| l.merged_rounds.join(", ")).unwrap_or_default(),
                lin.map(|l| l.predecessors.join(", ")).unwrap_or_default()
            )
        }
    }
}
