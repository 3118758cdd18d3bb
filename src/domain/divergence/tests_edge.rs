//! Edge cases B11 1–8, and the hand-computed trend, lineage, overall, peer-group, item-matching and
//! options tests.

use super::stats::{MAD_TO_SD, MEANAD_TO_SD, RefStats, ScaleRule, p_value};
use super::tests::{fig, input, org, row, sc};
use super::*;
use crate::domain::organisation::OrgType::{Acute, MentalHealth};

/// One pillar, one round, acute organisations O0, O1 … with these scores.
fn one_round(values: &[f64]) -> Analysis {
    let orgs = (0..values.len())
        .map(|i| org(&format!("O{i}"), Acute))
        .collect();
    let scores = values
        .iter()
        .enumerate()
        .map(|(i, v)| sc(&format!("O{i}"), "2025", "p", *v, 1.0))
        .collect();
    analyse(&input(&["2025"], orgs, scores))
}

#[test]
fn b11_1_mad_zero_uses_mean_absolute_deviation() {
    let a = one_round(&[0.5, 0.5, 0.5, 0.5, 0.5, 0.0]);
    let r = row(&a, "O5", "p");
    assert_eq!(r.reference.scale_method, Some(ScaleMethod::Meanad));
    fig(r.reference.median, "0.5");
    fig(r.reference.scale, "0.104443");
    fig(r.level.robust_z, "-4.7873");
    assert!(!r.level.statuses.contains(&Status::ScaleFloorApplied));
    let rule = ScaleRule {
        version: MethodVersion::V1,
        s_min: 0.1,
    };
    let s = RefStats::new(vec![0.5, 0.5, 0.5, 0.5, 0.5, 0.0], rule, 0.0).expect("stats");
    fig(Some(s.scale / MEANAD_TO_SD), "0.083333");
}

#[test]
fn b11_2_identical_values_hit_the_floor() {
    let a = one_round(&[3.0; 7]);
    for r in a.rows.iter().filter(|r| r.pillar == "p") {
        assert_eq!(r.reference.scale, Some(0.1));
        assert_eq!(r.level.robust_z, Some(0.0));
        assert!(r.level.statuses.contains(&Status::ScaleFloorApplied));
        assert!(r.flags.is_empty());
    }
}

#[test]
fn b11_3_four_peers_is_descriptive_only() {
    let a = one_round(&[2.0, 3.0, 3.5, 4.0]);
    let r = row(&a, "O0", "p");
    assert_eq!((r.level.robust_z, r.level.p, r.level.q), (None, None, None));
    assert_eq!(r.level.tier, Tier::None);
    fig(r.reference.median, "3.25");
    fig(r.level.gap, "-1.25");
    assert!(r.level.percentile_rank.is_some());
    assert!(r.level.statuses.contains(&Status::InsufficientPeers));
    assert_eq!(r.reference.confidence, Confidence::Insufficient);
    assert_eq!((r.reference.mad, r.reference.scale), (None, None));
    assert_eq!(a.family_sizes.level, 0);
    let v = serde_json::to_value(r).expect("json");
    assert!(v["level"]["robust_z"].is_null() && v["level"]["q"].is_null());
    assert_eq!(v["level"]["tier"], "none");
}

#[test]
fn gap_widening_is_descriptive_below_min_ref_n() {
    // Four acute organisations in two rounds: O0 drops from 2.5 to 1.5 while the others hold,
    // so its gap goes -0.5 -> -1.5 although no z, p or q can be computed.
    let orgs = (0..4).map(|i| org(&format!("O{i}"), Acute)).collect();
    let mut scores = Vec::new();
    for (i, (prev, cur)) in [(2.5, 1.5), (3.0, 3.0), (3.0, 3.0), (3.5, 3.5)]
        .iter()
        .enumerate()
    {
        scores.push(sc(&format!("O{i}"), "2024", "p", *prev, 1.0));
        scores.push(sc(&format!("O{i}"), "2025", "p", *cur, 1.0));
    }
    let a = analyse(&input(&["2024", "2025"], orgs, scores));
    let r = row(&a, "O0", "p");
    assert!(r.level.statuses.contains(&Status::InsufficientPeers));
    fig(r.level.gap_prev, "-0.5");
    fig(r.level.gap, "-1.5");
    assert_eq!(r.flags, vec![Flag::GapWideningBehind]);
    assert!(row(&a, "O1", "p").flags.is_empty());
}

#[test]
fn b11_4_low_coverage_is_returned_but_excluded() {
    let orgs: Vec<OrgInfo> = ["A", "B", "C", "D", "E", "F", "G"]
        .iter()
        .map(|o| org(o, Acute))
        .collect();
    let mut scores: Vec<PillarObservation> = [1.4, 3.1, 3.4, 3.3, 4.3, 3.0]
        .iter()
        .zip(&orgs)
        .map(|(v, o)| sc(&o.ods, "2025", "p", *v, 1.0))
        .collect();
    scores.push(sc("G", "2025", "p", 5.0, 0.6));
    let a = analyse(&input(&["2025"], orgs, scores));
    let g = row(&a, "G", "p");
    assert_eq!(g.level.score, Some(5.0));
    assert!(!g.level.valid);
    assert!(g.level.statuses.contains(&Status::InsufficientCoverage));
    assert_eq!((g.level.robust_z, g.level.p, g.level.q), (None, None, None));
    assert!(g.flags.is_empty());
    let r = row(&a, "A", "p");
    assert_eq!(r.reference.n, 6);
    fig(r.reference.median, "3.2"); // 3.3 if G were included
    fig(r.level.robust_z, "-6.0704");
    assert!(g.reasons.iter().any(|s| s.contains("Coverage 60%")));
}

#[test]
fn b11_5_absent_previously_has_no_change() {
    let mut a_in = input(&["2024", "2025"], Vec::new(), Vec::new());
    for (i, (s24, s25)) in [(2.0, 2.4), (2.5, 2.9), (3.0, 3.1), (3.5, 3.6), (3.0, 3.5)]
        .iter()
        .enumerate()
    {
        let o = format!("O{i}");
        a_in.orgs.push(org(&o, Acute));
        a_in.scores.push(sc(&o, "2024", "p", *s24, 1.0));
        a_in.scores.push(sc(&o, "2025", "p", *s25, 1.0));
    }
    a_in.orgs.push(org("NEW", Acute));
    a_in.scores.push(sc("NEW", "2025", "p", 3.0, 1.0));
    let a = analyse(&a_in);
    let r = row(&a, "NEW", "p");
    assert!(r.change.is_none());
    assert!(r.statuses.contains(&Status::NoPreviousRound));
    assert!(r.level.robust_z.is_some());
    assert_eq!(
        row(&a, "O0", "p").change.as_ref().map(|c| c.reference.n),
        Some(5)
    );
    assert!(r.reasons.iter().any(|s| s.contains("previous round 2024")));
}

#[test]
fn b11_6_small_peer_group_falls_back() {
    let mut inp = input(&["2025"], Vec::new(), Vec::new());
    for i in 0..8 {
        let o = format!("O{i}");
        inp.orgs.push(org(&o, Acute));
        inp.scores
            .push(sc(&o, "2025", "p", 2.0 + 0.25 * i as f64, 1.0));
    }
    inp.reference = Reference::PeerGroup {
        key: "trio".into(),
        org_type: Acute,
        members: vec!["O0".into(), "O1".into(), "O2".into()],
    };
    let a = analyse(&inp);
    let r = row(&a, "O0", "p");
    assert_eq!(r.reference.kind, RefKind::TypeNational);
    assert_eq!(r.reference.n, 8);
    assert!(r.level.statuses.contains(&Status::ReferenceFallback));
    assert!(r.reasons.iter().any(|s| s.contains("Peer group trio")));
}

#[test]
fn b11_7_bh_oracle() {
    let q = bh_adjust(&[0.1, 0.2, 0.3, 0.4, 0.1]);
    for (got, want) in q.iter().zip(["0.25", "0.3333", "0.375", "0.4", "0.25"]) {
        fig(Some(*got), want);
    }
}

#[test]
fn bh_per_distinct_p_is_bit_identical_to_the_rank_by_rank_step_up() {
    let mut state = 42u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 11
    };
    for case in 0..300 {
        let m = (next() % 400) as usize;
        let lumps = 1 + next() % 40;
        let ps: Vec<f64> = (0..m)
            .map(|_| match next() % 10 {
                0 => 0.0,
                1 => 1.0,
                2 => (next() % 1_000_000) as f64 / 1e12,
                3 if case % 7 == 0 => f64::NAN,
                4 if case % 11 == 0 => -0.0,
                _ => (next() % lumps) as f64 / lumps as f64,
            })
            .collect();
        let fast = bh_adjust(&ps);
        let slow = super::stats::bh_adjust_by_rank(&ps);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast), bits(&slow), "case {case}: {ps:?}");
    }
}

#[test]
fn b11_8_constants() {
    let z = 3.0902323;
    fig(p_value(z, 1000, PMethod::Normal), "0.002");
    fig(Some(z * z), "9.5495357");
    fig(Some(1.0 / MAD_TO_SD), "0.67449");
    fig(Some((std::f64::consts::PI / 2.0).sqrt()), "1.253314");
    fig(Some(MEANAD_TO_SD), "1.253314");
    fig(
        Some(quantile_type7(&[1.4, 3.0, 3.1, 3.3, 3.4, 4.3], 0.25)),
        "3.025",
    );
}

/// Six acute organisations over four rounds, one pillar.
const TREND: [(&str, [f64; 4]); 6] = [
    ("A", [1.0, 1.5, 2.0, 3.0]),
    ("B", [3.0, 3.0, 3.0, 3.0]),
    ("C", [3.0, 2.0, 3.5, 3.1]),
    ("D", [3.0, 4.0, 2.0, 3.2]),
    ("E", [2.0, 2.5, 3.0, 3.5]),
    ("F", [3.0, 3.0, 3.2, 3.2]),
];

fn trend_input(n_rounds: usize) -> EngineInput {
    let rounds = ["r1", "r2", "r3", "r4"];
    let mut inp = input(&rounds[..n_rounds], Vec::new(), Vec::new());
    for (o, ys) in TREND {
        inp.orgs.push(org(o, Acute));
        for (r, y) in rounds.iter().zip(ys).take(n_rounds) {
            inp.scores.push(sc(o, r, "p", y, 1.0));
        }
    }
    inp
}

#[test]
fn trend_over_three_rounds() {
    let a = analyse(&trend_input(3));
    for (o, slope) in [
        ("A", 0.5),
        ("B", 0.0),
        ("C", 0.25),
        ("D", -0.5),
        ("E", 0.5),
        ("F", 0.1),
    ] {
        let t = row(&a, o, "p").trend.as_ref().expect("trend");
        assert!((t.slope - slope).abs() < 1e-12, "{o}");
        assert_eq!((t.rounds, t.consistent), (3, None));
    }
    // slopes −0.5, 0, 0.1, 0.25, 0.5, 0.5: median 0.175, MAD median(.675,.175,.075,.075,.325,.325) = 0.25
    let t = row(&a, "A", "p").trend.as_ref().expect("trend");
    fig(t.peer_median_slope, "0.175");
    fig(t.scale, &format!("{}", 1.4826 * 0.25));
    fig(t.robust_z, &format!("{}", 0.325 / (1.4826 * 0.25)));
}

#[test]
fn trend_over_four_rounds_with_consistency() {
    let a = analyse(&trend_input(4));
    for (o, slope, consistent) in [
        ("A", 0.65, true),
        ("B", 0.0, true),
        ("C", 0.18, true),
        ("D", -0.14, false),
        ("E", 0.5, true),
        ("F", 0.08, true),
    ] {
        let t = row(&a, o, "p").trend.as_ref().expect("trend");
        assert!((t.slope - slope).abs() < 1e-12, "{o}: {}", t.slope);
        assert_eq!((t.rounds, t.consistent), (4, Some(consistent)), "{o}");
        assert_eq!(t.round_keys, ["r1", "r2", "r3", "r4"]);
    }
    let t = row(&a, "A", "p").trend.as_ref().expect("trend");
    fig(t.peer_median_slope, "0.13");
    fig(t.excess, "0.52");
    fig(t.scale, "0.29652");
    fig(t.robust_z, "1.7537");
    assert_eq!(a.family_sizes.trend, 6);
    // a window of 3 keeps the last three rounds
    let mut inp = trend_input(4);
    inp.options.trend_max_rounds = 3;
    let a = analyse(&inp);
    let t = row(&a, "A", "p").trend.as_ref().expect("trend");
    assert_eq!(t.round_keys, ["r2", "r3", "r4"]);
    assert!((t.slope - 0.75).abs() < 1e-12);
    // an unusable round is skipped: A loses r3 and fits r1, r2, r4 at x = 1, 2, 4
    let mut inp = trend_input(4);
    inp.scores.retain(|s| !(s.ods == "A" && s.round == "r3"));
    inp.scores.push(sc("A", "r3", "p", 2.0, 0.5));
    let a = analyse(&inp);
    let t = row(&a, "A", "p").trend.as_ref().expect("trend");
    assert_eq!(t.round_keys, ["r1", "r2", "r4"]);
    assert!((t.slope - 19.0 / 28.0).abs() < 1e-12, "{}", t.slope);
}

#[test]
fn merger_lineage_supplies_previous_scores() {
    let mut inp = input(&["2024", "2025"], Vec::new(), Vec::new());
    for (o, s24, s25) in [
        ("K1", 2.0, 2.2),
        ("K2", 2.5, 2.6),
        ("K3", 3.0, 3.1),
        ("K4", 3.5, 3.4),
    ] {
        inp.orgs.push(org(o, Acute));
        inp.scores.push(sc(o, "2024", "p", s24, 1.0));
        inp.scores.push(sc(o, "2025", "p", s25, 1.0));
    }
    // P1 and P2 merged into X for 2025; P2 has a predecessor cycle back to X (ignored)
    let mut x = org("X", Acute);
    x.predecessors = vec!["P1".into(), "P2".into()];
    let mut p2 = org("P2", Acute);
    p2.predecessors = vec!["X".into()];
    inp.orgs.extend([x, org("P1", Acute), p2]);
    inp.scores.push(sc("P1", "2024", "p", 2.0, 1.0));
    inp.scores.push(sc("P2", "2024", "p", 3.0, 0.9));
    inp.scores.push(sc("X", "2025", "p", 3.0, 1.0));
    let a = analyse(&inp);
    assert!(a.rows.iter().all(|r| r.org_id != "P1" && r.org_id != "P2"));
    let r = row(&a, "X", "p");
    let c = r.change.as_ref().expect("merged change");
    assert_eq!((c.previous_score, c.previous_coverage), (Some(2.5), 0.9));
    fig(c.delta, "0.5");
    assert!(c.valid);
    assert_eq!(c.reference.n, 5, "X joins the paired panel");
    assert!(r.statuses.contains(&Status::LineageMerged));
    let lin = r.lineage.as_ref().expect("lineage");
    assert_eq!(lin.predecessors, ["P1", "P2"]);
    assert!(lin.merged_from_previous);
    assert_eq!(lin.merged_rounds, ["2024"]);
    // the previous-round reference holds the six organisations assessed in 2024, not X
    assert_eq!(r.level.n_prev, Some(6));
    fig(r.level.median_prev, "2.75");
    fig(r.level.gap_prev, "-0.25");
    assert!(r.reasons.iter().any(|s| s.contains("P1, P2")));
    assert!(row(&a, "K1", "p").lineage.is_none());
}

#[test]
fn overall_needs_every_pillar() {
    let mut inp = input(&["2025"], Vec::new(), Vec::new());
    for (o, p1, p2, cov2) in [
        ("A", 2.0, 3.0, 1.0),
        ("B", 3.0, 4.0, 0.5),
        ("C", 3.0, 3.0, 0.9),
    ] {
        inp.orgs.push(org(o, Acute));
        inp.scores.push(sc(o, "2025", "p1", p1, 1.0));
        inp.scores.push(sc(o, "2025", "p2", p2, cov2));
    }
    let a = analyse(&inp);
    let ok = row(&a, "A", OVERALL);
    assert_eq!((ok.level.score, ok.level.coverage), (Some(2.5), 1.0));
    assert_eq!(row(&a, "C", OVERALL).level.coverage, 0.9);
    let b = row(&a, "B", OVERALL);
    assert_eq!(b.level.score, None);
    assert!(!b.level.valid);
    assert_eq!(b.level.coverage, 0.5);
    assert!(b.statuses.contains(&Status::MissingPillar));
    assert!(b.reasons.iter().any(|s| s.contains("pillar(s) p2")));
    assert_eq!(b.reference.n, 2);
    let pillars: Vec<&str> = a.rows.iter().map(|r| r.pillar.as_str()).collect();
    assert_eq!(&pillars[..3], ["p1", "p2", OVERALL]);
}

#[test]
fn peer_group_falls_back_per_metric_and_type() {
    let mut inp = input(&["2025"], Vec::new(), Vec::new());
    for i in 0..8 {
        let o = format!("A{i}");
        inp.orgs.push(org(&o, Acute));
        inp.scores
            .push(sc(&o, "2025", "p1", 2.0 + 0.2 * i as f64, 1.0));
        let cov = if i == 0 { 0.6 } else { 1.0 };
        inp.scores
            .push(sc(&o, "2025", "p2", 2.0 + 0.1 * i as f64, cov));
    }
    for o in ["M1", "M2"] {
        inp.orgs.push(org(o, MentalHealth));
        inp.scores.push(sc(o, "2025", "p1", 3.0, 1.0));
        inp.scores.push(sc(o, "2025", "p2", 3.0, 1.0));
    }
    let members = ["A0", "A1", "A2", "A3", "A4", "M1"]
        .map(String::from)
        .to_vec();
    inp.reference = Reference::PeerGroup {
        key: "g1".into(),
        org_type: Acute,
        members,
    };
    let a = analyse(&inp);
    let r = row(&a, "A1", "p1");
    assert_eq!(
        (r.reference.kind, r.reference.key.as_ref(), r.reference.n),
        (RefKind::PeerGroup, "g1", 5)
    );
    fig(r.reference.median, "2.4");
    let out = row(&a, "A7", "p1"); // not a member: compared with the members plus itself
    assert_eq!(
        (out.reference.kind, out.reference.n),
        (RefKind::PeerGroup, 6)
    );
    fig(out.reference.median, "2.5");
    let thin = row(&a, "A1", "p2"); // only four valid members in p2
    assert_eq!(
        (thin.reference.kind, thin.reference.n),
        (RefKind::TypeNational, 7)
    );
    assert!(thin.level.statuses.contains(&Status::ReferenceFallback));
    let other = row(&a, "M1", "p1");
    assert_eq!(
        (other.reference.kind, other.reference.key.as_ref()),
        (RefKind::TypeNational, "mental_health")
    );
    assert!(other.level.statuses.contains(&Status::ReferenceFallback));
    assert!(other.level.statuses.contains(&Status::InsufficientPeers));
}

#[test]
fn item_matching_replaces_the_raw_change() {
    let mut inp = super::tests::b10_input();
    let matched = |ods: &str, previous_score, current_score| MatchedChange {
        ods: ods.into(),
        pillar: "p".into(),
        previous_score,
        current_score,
    };
    inp.item_matched = Some(ItemMatched {
        rows: vec![matched("A", 2.0, 2.1)],
        changed_item_sets: vec![ChangedItemSet {
            org_type: Acute,
            pillar: "p".into(),
        }],
        grids: Vec::new(),
    });
    let a = analyse(&inp);
    let c = row(&a, "A", "p").change.as_ref().expect("change");
    assert!(c.item_matched);
    fig(c.delta, "0.1");
    assert!(c.statuses.contains(&Status::ItemSetChanged));
    let b = row(&a, "B", "p").change.as_ref().expect("change");
    assert!(!b.item_matched);
    fig(b.delta, "0.6");
    // the status belongs to the type and pillar, matched or not; overall follows its pillars
    assert!(b.statuses.contains(&Status::ItemSetChanged));
    let overall = row(&a, "B", OVERALL).change.as_ref().expect("change");
    assert!(overall.statuses.contains(&Status::ItemSetChanged));
    // an unchanged set for the type: no status
    inp.item_matched.as_mut().expect("set").changed_item_sets[0].org_type = MentalHealth;
    let a = analyse(&inp);
    let c = row(&a, "A", "p").change.as_ref().expect("change");
    assert!(c.item_matched);
    assert!(!c.statuses.contains(&Status::ItemSetChanged));
}

#[test]
fn an_overall_without_a_score_gets_no_item_matched_change() {
    let mut inp = super::tests::b10_input();
    for (o, _, _) in super::tests::B10 {
        let cov = if o == "D" { 0.5 } else { 1.0 };
        inp.scores.push(sc(o, "2024", "q", 3.0, 1.0));
        inp.scores.push(sc(o, "2025", "q", 3.5, cov));
    }
    let rows = ["p", "q"]
        .into_iter()
        .map(|pillar| MatchedChange {
            ods: "D".into(),
            pillar: pillar.into(),
            previous_score: 3.0,
            current_score: 3.2,
        })
        .collect();
    inp.item_matched = Some(ItemMatched {
        rows,
        changed_item_sets: Vec::new(),
        grids: Vec::new(),
    });
    let a = analyse(&inp);
    let d = row(&a, "D", OVERALL);
    assert_eq!(d.level.score, None);
    assert!(d.statuses.contains(&Status::MissingPillar));
    assert_eq!(d.change.as_ref().and_then(|c| c.delta), None);
    // the pillars themselves keep their matched change
    fig(
        row(&a, "D", "p").change.as_ref().and_then(|c| c.delta),
        "0.2",
    );
}
