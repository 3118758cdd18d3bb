//! What a reader may be shown of other organisations' scores, and the level distribution of the
//! reference an organisation's row used (the one-organisation view).
//!
//! Decisions:
//! - National readers (analysts and admins) see everything: the sorted values and extremes.
//!   A submitter sees n, and the quartiles only from [`DISCLOSURE_MIN_N`] values on; never the
//!   values or extremes. With its own score known, fewer values would give away the others'.
//! - A submitter may not lower `min_ref_n` below [`DISCLOSURE_MIN_N`] (smaller references would
//!   give away other organisations' scores through the reference statistics of its rows).
//! - The distribution is that of the reference the row used: the peer group with the
//!   organisation itself (include-self, as `reference` defines it), or the national type
//!   reference when the reference is type-national or the peer group fell back to it.

use super::Reference;
use super::stats::quantile_type7;
use super::types::{DivergenceRow, RefKind};
use crate::domain::figures::zero_noise;

/// The smallest reference a submitter may be shown statistics of (the spec's default
/// `min_ref_n`): with its own score known, fewer values would give away the others' scores.
pub const DISCLOSURE_MIN_N: usize = 5;

/// Who is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Analysts and admins: every figure.
    National,
    /// A submitter, reading its own organisations' rows.
    Submitter,
}

/// Whether `audience` may run the analysis with this `min_ref_n` override.
pub fn may_set_min_ref_n(audience: Audience, min_ref_n: Option<usize>) -> bool {
    audience == Audience::National || min_ref_n.is_none_or(|n| n >= DISCLOSURE_MIN_N)
}

/// The level scores of the reference one pillar row used, as its audience may see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub pillar: String,
    pub n: usize,
    pub min: Option<f64>,
    pub q1: Option<f64>,
    pub median: Option<f64>,
    pub q3: Option<f64>,
    pub max: Option<f64>,
    /// Sorted ascending; empty unless the audience is national.
    pub values: Vec<f64>,
    /// The organisation's own score.
    pub score: Option<f64>,
}

/// The distribution of the level reference `own` used, over the analysis' `rows`: the valid
/// level scores of the same pillar and type, restricted to the peer reference when the row used
/// the peer group of `reference`.
pub fn distribution(
    rows: &[DivergenceRow],
    own: &DivergenceRow,
    reference: &Reference,
    audience: Audience,
) -> Distribution {
    let peer = own.reference.kind == RefKind::PeerGroup;
    let mut values: Vec<f64> = rows
        .iter()
        .filter(|r| r.pillar == own.pillar && r.org_type == own.org_type && r.level.valid)
        .filter(|r| {
            !peer
                || reference.in_peer_reference_of(
                    own.org_id.as_str(),
                    r.org_id.as_str(),
                    r.org_type,
                )
        })
        .filter_map(|r| r.level.score)
        .collect();
    values.sort_by(f64::total_cmp);
    let detailed = audience == Audience::National;
    let shown = detailed || values.len() >= DISCLOSURE_MIN_N;
    let q = |p: f64| (shown && !values.is_empty()).then(|| zero_noise(quantile_type7(&values, p)));
    Distribution {
        pillar: own.pillar.as_str().to_owned(),
        n: values.len(),
        min: values.first().copied().filter(|_| detailed),
        q1: q(0.25),
        median: q(0.5),
        q3: q(0.75),
        max: values.last().copied().filter(|_| detailed),
        score: own.level.score,
        values: if detailed { values } else { Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::divergence::tests::{input, org, row, sc};
    use crate::domain::divergence::{EngineInput, analyse};
    use crate::domain::organisation::OrgType::{Acute, Community};
    use proptest::prelude::*;

    /// `scores.len()` acute trusts A0, A1 … with these 2025 scores in pillar `p`, and one
    /// community trust (another type, never in the acute distributions).
    fn acute(scores: &[f64]) -> EngineInput {
        let mut inp = input(&["2025"], Vec::new(), Vec::new());
        for (i, s) in scores.iter().enumerate() {
            let ods = format!("A{i}");
            inp.orgs.push(org(&ods, Acute));
            inp.scores.push(sc(&ods, "2025", "p", *s, 1.0));
        }
        inp.orgs.push(org("C0", Community));
        inp.scores.push(sc("C0", "2025", "p", 1.0, 1.0));
        inp
    }

    fn peer_group(members: &[&str]) -> Reference {
        Reference::PeerGroup {
            key: "g".into(),
            org_type: Acute,
            members: members.iter().map(|m| m.to_string()).collect(),
        }
    }

    fn dist(inp: &EngineInput, ods: &str, audience: Audience) -> Distribution {
        let a = analyse(inp);
        distribution(&a.rows, row(&a, ods, "p"), &inp.reference, audience)
    }

    #[test]
    fn a_submitter_may_not_shrink_the_reference() {
        assert!(may_set_min_ref_n(Audience::Submitter, None));
        assert!(may_set_min_ref_n(
            Audience::Submitter,
            Some(DISCLOSURE_MIN_N)
        ));
        assert!(!may_set_min_ref_n(
            Audience::Submitter,
            Some(DISCLOSURE_MIN_N - 1)
        ));
        assert!(may_set_min_ref_n(Audience::National, Some(2)));
    }

    #[test]
    fn national_readers_see_the_values_and_submitters_the_quartiles() {
        let inp = acute(&[3.0, 1.0, 2.0, 5.0, 4.0, 2.5]);
        let all = dist(&inp, "A1", Audience::National);
        assert_eq!(all.n, 6);
        assert_eq!(all.values, [1.0, 2.0, 2.5, 3.0, 4.0, 5.0]);
        assert_eq!((all.min, all.max), (Some(1.0), Some(5.0)));
        assert_eq!(all.median, Some(2.75));
        assert_eq!(all.score, Some(1.0));
        let mine = dist(&inp, "A1", Audience::Submitter);
        assert_eq!(
            (mine.n, mine.q1, mine.median, mine.q3),
            (6, all.q1, all.median, all.q3)
        );
        assert!(mine.values.is_empty() && mine.min.is_none() && mine.max.is_none());
        assert_eq!(mine.score, Some(1.0));
    }

    #[test]
    fn below_five_values_a_submitter_gets_n_only() {
        let mut inp = acute(&[3.0, 1.0, 2.0, 5.0]);
        inp.options.min_ref_n = 2;
        let mine = dist(&inp, "A0", Audience::Submitter);
        assert_eq!(mine.n, 4);
        assert_eq!((mine.q1, mine.median, mine.q3), (None, None, None));
        assert!(dist(&inp, "A0", Audience::National).median.is_some());
    }

    #[test]
    fn the_peer_group_includes_the_organisation_itself() {
        let mut inp = acute(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        inp.reference = peer_group(&["A0", "A1", "A2", "A3", "A4", "C0"]);
        // A member: the five acute members (C0 is of another type and does not count).
        let member = dist(&inp, "A0", Audience::National);
        assert_eq!(member.values, [1.0, 2.0, 3.0, 4.0, 5.0]);
        // Not a member: the members plus itself.
        let outsider = dist(&inp, "A6", Audience::National);
        assert_eq!(outsider.values, [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]);
        // Another type falls back to its national type reference.
        let community = dist(&inp, "C0", Audience::National);
        assert_eq!(community.values, [1.0]);
    }

    #[test]
    fn a_peer_group_that_fell_back_shows_the_type_reference() {
        let mut inp = acute(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        inp.reference = peer_group(&["A0", "A1", "A2"]);
        let d = dist(&inp, "A0", Audience::Submitter);
        assert_eq!(d.n, 6);
        assert_eq!(d.median, Some(3.5));
    }

    #[test]
    fn membership_is_listed_and_of_the_groups_type() {
        let g = peer_group(&["A0", "C0"]);
        assert!(g.is_peer_member("A0", Acute));
        assert!(!g.is_peer_member("C0", Community), "another type");
        assert!(!g.is_peer_member("A1", Acute));
        assert!(g.in_peer_reference_of("A1", "A1", Acute), "include-self");
        assert!(!g.in_peer_reference_of("A1", "A2", Acute));
        assert!(!Reference::TypeNational.in_peer_reference_of("A1", "A1", Acute));
    }

    proptest! {
        /// The distribution shown is the engine's own level reference: same n and median for
        /// every row, whatever the peer group, coverage and min_ref_n.
        #[test]
        fn the_distribution_is_the_reference_the_row_used(
            orgs in proptest::collection::vec((0u32..40, any::<bool>(), any::<bool>()), 1..14),
            min_ref_n in 2usize..7,
            peer in any::<bool>(),
        ) {
            let mut inp = input(&["2025"], Vec::new(), Vec::new());
            let mut members = Vec::new();
            for (i, (s, low, member)) in orgs.iter().enumerate() {
                let ods = format!("A{i:02}");
                inp.orgs.push(org(&ods, Acute));
                let coverage = if *low { 0.5 } else { 1.0 };
                inp.scores.push(sc(&ods, "2025", "p", 1.0 + f64::from(*s) * 0.1, coverage));
                if *member {
                    members.push(ods);
                }
            }
            inp.options.min_ref_n = min_ref_n;
            if peer {
                inp.reference = Reference::PeerGroup { key: "g".into(), org_type: Acute, members };
            }
            let a = analyse(&inp);
            for r in &a.rows {
                let d = distribution(&a.rows, r, &inp.reference, Audience::National);
                prop_assert_eq!(d.n, r.reference.n, "{} {}", r.org_id, r.pillar);
                let same = match (d.median, r.reference.median) {
                    (Some(x), Some(y)) => (x - y).abs() < 1e-9,
                    (x, y) => x == y,
                };
                prop_assert!(same, "{:?} vs {:?}", d.median, r.reference.median);
                let sorted = d.values.windows(2).all(|w| w[0] <= w[1]);
                prop_assert!(sorted);
                let mine = distribution(&a.rows, r, &inp.reference, Audience::Submitter);
                prop_assert!(mine.values.is_empty() && mine.min.is_none());
                prop_assert_eq!(mine.median.is_some(), d.n >= DISCLOSURE_MIN_N);
            }
        }
    }
}
