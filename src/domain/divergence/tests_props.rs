//! Property tests (input order, shift invariance, direction, q ≥ p, no tested flags on caveated blocks)
//! and the hand-computed aggregate case.

use super::reasons::tests::wording_ok;
use super::tests::{fig, org, sc};
use super::*;
use crate::domain::organisation::OrgType::{self, Acute, Community};
use proptest::prelude::*;

/// (type is community, 2024 score, 2025 score, low coverage in 2025, absent in 2024) per org; two
/// pillars get the score and the score + 0.5 (on a 0.05 grid, so ties and MAD = 0 occur).
type OrgSpec = (bool, u32, u32, bool, bool);

fn build(specs: &[OrgSpec], shift: f64) -> EngineInput {
    let mut inp = super::tests::input(&["2024", "2025"], Vec::new(), Vec::new());
    for (i, &(community, s24, s25, low, absent)) in specs.iter().enumerate() {
        let ods = format!("O{i:03}");
        let mut o = org(&ods, if community { Community } else { Acute });
        o.icb = Some(format!("Q{}", i % 4));
        o.region = Some(format!("Y{}", 56 + i % 2));
        inp.orgs.push(o);
        for (pillar, extra) in [("p1", 0.0), ("p2", 0.5)] {
            let v24 = 1.0 + f64::from(s24) * 0.05 + extra + shift;
            let v25 = 1.0 + f64::from(s25) * 0.05 + extra + shift;
            if !absent {
                inp.scores.push(sc(&ods, "2024", pillar, v24, 1.0));
            }
            let cov = if low && pillar == "p2" { 0.6 } else { 1.0 };
            inp.scores.push(sc(&ods, "2025", pillar, v25, cov));
        }
    }
    inp
}

fn specs() -> impl Strategy<Value = Vec<OrgSpec>> {
    prop::collection::vec(
        (
            any::<bool>(),
            0u32..60,
            0u32..60,
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.1),
        ),
        3..30,
    )
}

fn close(a: Option<f64>, b: Option<f64>, tol: f64) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs())),
        (None, None) => true,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn input_order_does_not_matter(specs in specs(), seed in any::<u64>()) {
        let inp = build(&specs, 0.0);
        let mut shuffled = inp.clone();
        // a deterministic permutation from the seed (Fisher–Yates with an LCG)
        let mut state = seed | 1;
        let mut next = |n: usize| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (state >> 33) as usize % n
        };
        for i in (1..shuffled.scores.len()).rev() {
            shuffled.scores.swap(i, next(i + 1));
        }
        for i in (1..shuffled.orgs.len()).rev() {
            shuffled.orgs.swap(i, next(i + 1));
        }
        let a = serde_json::to_value(analyse(&inp).rows).expect("json");
        let b = serde_json::to_value(analyse(&shuffled).rows).expect("json");
        prop_assert_eq!(a, b);
    }

    #[test]
    fn adding_a_constant_changes_no_verdict(specs in specs(), k in -4i32..40) {
        let shift = f64::from(k) * 0.25;
        let a = analyse(&build(&specs, 0.0));
        let b = analyse(&build(&specs, shift));
        prop_assert_eq!(a.rows.len(), b.rows.len());
        for (x, y) in a.rows.iter().zip(&b.rows) {
            prop_assert!(close(x.level.robust_z, y.level.robust_z, 1e-6));
            prop_assert!(close(x.level.p, y.level.p, 1e-6));
            prop_assert!(close(x.level.q, y.level.q, 1e-6));
            let (cx, cy) = (x.change.as_ref(), y.change.as_ref());
            prop_assert_eq!(cx.is_some(), cy.is_some());
            if let (Some(cx), Some(cy)) = (cx, cy) {
                prop_assert!(close(cx.robust_z, cy.robust_z, 1e-6));
                prop_assert!(close(cx.p, cy.p, 1e-6));
                prop_assert!(close(cx.q, cy.q, 1e-6));
                prop_assert_eq!(cx.tier, cy.tier);
            }
            prop_assert_eq!(x.level.tier, y.level.tier);
            prop_assert_eq!(&x.flags, &y.flags);
        }
    }

    #[test]
    fn verdicts_are_consistent(specs in specs(), normal in any::<bool>()) {
        let mut inp = build(&specs, 0.0);
        if normal {
            inp.options.p_method = PMethod::Normal;
        }
        let a = analyse(&inp);
        for r in &a.rows {
            if let (Some(s), Some(m)) = (r.level.score, r.reference.median)
                && s >= m
            {
                prop_assert!(!r.flags.contains(&Flag::LevelBelowPeers));
            }
            let blocks = [
                (r.level.p, r.level.q, &r.level.statuses),
                (r.change.as_ref().and_then(|c| c.p), r.change.as_ref().and_then(|c| c.q),
                    r.change.as_ref().map_or(&r.level.statuses, |c| &c.statuses)),
            ];
            for (p, q, _) in &blocks {
                if let (Some(p), Some(q)) = (p, q) {
                    prop_assert!(q >= p && *q <= 1.0);
                }
                prop_assert_eq!(p.is_some(), q.is_some());
            }
            let caveat = |st: &Vec<Status>| {
                st.contains(&Status::InsufficientCoverage) || st.contains(&Status::InsufficientPeers)
            };
            // Too little coverage: no level at all, so no flag of any kind. Too few peers: no
            // test, so only the descriptive gap-widening codes may appear.
            if r.level.statuses.contains(&Status::InsufficientCoverage) {
                prop_assert!(r.flags.is_empty(), "{:?}", r);
            }
            if caveat(&r.level.statuses) {
                prop_assert!(
                    r.flags.iter().all(|f| matches!(f, Flag::GapWideningBehind | Flag::GapWideningAhead)),
                    "{:?}", r
                );
            }
            if r.change.as_ref().is_some_and(|c| caveat(&c.statuses)) {
                prop_assert!(!r.flags.contains(&Flag::ProgressBelowPeers));
                prop_assert!(!r.flags.contains(&Flag::ProgressAbovePeers));
            }
            for reason in &r.reasons {
                prop_assert!(wording_ok(reason).is_ok(), "{:?}", wording_ok(reason));
            }
        }
    }

    /// Scores on a 0.05 grid make differences like 0.19999999999999973 and MADs of 4.44e-16;
    /// no figure written out lies within 1e-9 of zero unless it is exactly 0 (and never −0).
    #[test]
    fn no_figure_is_noise(specs in specs(), shift in 0u32..8) {
        let inp = build(&specs, f64::from(shift) * 0.1);
        let a = analyse(&inp);
        let mut out = serde_json::json!({"rows": a.rows});
        for by in [AggregateBy::Icb, AggregateBy::Region] {
            let rows = aggregate(&inp, &a, by);
            for r in &rows {
                for reason in &r.reasons {
                    prop_assert!(wording_ok(reason).is_ok(), "{:?}", wording_ok(reason));
                }
            }
            out[by_key(by)] = serde_json::to_value(rows).expect("json");
        }
        let mut bad = Vec::new();
        figures(&out, "$", &mut bad);
        prop_assert!(bad.is_empty(), "{:?}", bad);
    }
}

fn by_key(by: AggregateBy) -> &'static str {
    match by {
        AggregateBy::Icb => "icb",
        AggregateBy::Region => "region",
    }
}

/// Every number of a JSON document that is noise: 0 < |x| ≤ 1e-9, or −0.
fn figures(v: &serde_json::Value, path: &str, bad: &mut Vec<String>) {
    match v {
        serde_json::Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if (x != 0.0 && x.abs() <= 1e-9) || (x == 0.0 && x.is_sign_negative()) {
                bad.push(format!("{path} = {n}"));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                figures(x, &format!("{path}[{i}]"), bad);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, x) in map {
                figures(x, &format!("{path}.{k}"), bad);
            }
        }
        _ => {}
    }
}

/// Two ICBs with mixed types (hand-computed). Acute scores 2.0 2.5 3.0 3.0 3.5 2.5 (median 2.75),
/// community 1 2 3 4 2 (median 2). Q1 = {A1 −0.75, A2 −0.25, C1 −1} → −2/3;
/// Q2 = {A3 +0.25, C2 0, C3 +1} → 5/12. Median of the two units −0.125, gaps ∓0.541667,
/// MAD 0.541667, s = 1.4826·MAD, z = ∓0.67449, p (t, ν = 1) = 1 − 2·atan(|z|)/π.
fn aggregate_input() -> EngineInput {
    let mut inp = super::tests::input(&["2025"], Vec::new(), Vec::new());
    let acute = [2.0, 2.5, 3.0, 3.0, 3.5, 2.5];
    let community = [1.0, 2.0, 3.0, 4.0, 2.0];
    let icb = |i: usize| match i {
        0 | 1 => Some("Q1".to_owned()),
        2 => Some("Q2".to_owned()),
        _ => None,
    };
    let icb_c = |i: usize| match i {
        0 => Some("Q1".to_owned()),
        1 | 2 => Some("Q2".to_owned()),
        _ => None,
    };
    let mut add = |ods: String, t: OrgType, v: f64, icb: Option<String>| {
        let mut o = org(&ods, t);
        o.icb = icb;
        o.region = Some("Y56".into());
        inp.orgs.push(o);
        inp.scores.push(sc(&ods, "2025", "p", v, 1.0));
    };
    for (i, v) in acute.iter().enumerate() {
        add(format!("A{}", i + 1), Acute, *v, icb(i));
    }
    for (i, v) in community.iter().enumerate() {
        add(format!("C{}", i + 1), Community, *v, icb_c(i));
    }
    inp
}

#[test]
fn aggregate_by_icb_hand_computed() {
    let mut inp = aggregate_input();
    inp.options.min_ref_n = 2;
    let a = analyse(&inp);
    let rows = aggregate(&inp, &a, AggregateBy::Icb);
    assert_eq!(rows.len(), 4, "two ICBs × (p, overall)");
    let q1 = &rows[0];
    assert_eq!((q1.code.as_str(), q1.pillar.as_str()), ("Q1", "p"));
    assert_eq!(q1.n_members, 3);
    assert_eq!(q1.type_mix.get(&Acute), Some(&2));
    assert_eq!(q1.type_mix.get(&Community), Some(&1));
    fig(q1.level.standardised_gap, &format!("{}", -2.0 / 3.0));
    fig(q1.level.reference.median, "-0.125");
    fig(q1.level.gap, "-0.541667");
    fig(
        q1.level.reference.scale,
        &format!("{}", 1.4826 * 0.541_666_666_7),
    );
    fig(q1.level.robust_z, "-0.67449");
    let z: f64 = 0.541_666_666_666_7 / (1.4826 * 0.541_666_666_666_7);
    let p = 1.0 - 2.0 * z.atan() / std::f64::consts::PI;
    fig(q1.level.p, &format!("{p}"));
    fig(q1.level.q, &format!("{p}"));
    assert_eq!(q1.level.family_size, 2);
    assert!(q1.change.is_none());
    assert!(q1.flags.is_empty());
    let q2 = rows
        .iter()
        .find(|r| r.code == "Q2" && r.pillar == "p")
        .expect("Q2");
    fig(q2.level.standardised_gap, &format!("{}", 5.0 / 12.0));
    fig(q2.level.robust_z, "0.67449");
    assert_eq!(rows[1].pillar, OVERALL);
    // with the default min_ref_n two units are descriptive only
    let inp = aggregate_input();
    let a = analyse(&inp);
    let rows = aggregate(&inp, &a, AggregateBy::Region);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].level.robust_z, None);
    assert!(rows[0].level.statuses.contains(&Status::InsufficientPeers));
    assert_eq!(rows[0].n_members, 11);
    // every member against its own type median: (−0.75−0.25+0.25+0.25+0.75−0.25 −1+0+1+2+0)/11 = 2/11
    fig(rows[0].level.standardised_gap, &format!("{}", 2.0 / 11.0));
}

#[test]
fn aggregate_flags_a_falling_unit() {
    // ten ICBs of one acute organisation each, one far below: level flag at the unit level
    let mut inp = super::tests::input(&["2024", "2025"], Vec::new(), Vec::new());
    for i in 0..10 {
        let ods = format!("T{i:02}");
        let mut o = org(&ods, Acute);
        o.icb = Some(format!("Q{i:02}"));
        inp.orgs.push(o);
        let base = 3.0 + 0.05 * f64::from(i % 5);
        let (s24, s25) = if i == 0 {
            (2.0, 1.0)
        } else {
            (base, base + 0.2)
        };
        inp.scores.push(sc(&ods, "2024", "p", s24, 1.0));
        inp.scores.push(sc(&ods, "2025", "p", s25, 1.0));
    }
    let a = analyse(&inp);
    let rows = aggregate(&inp, &a, AggregateBy::Icb);
    let worst = rows
        .iter()
        .find(|r| r.code == "Q00" && r.pillar == "p")
        .expect("Q00");
    assert_eq!(
        worst.flags,
        [
            Flag::LevelBelowPeers,
            Flag::ProgressBelowPeers,
            Flag::PriorityFallingBehind
        ]
    );
    assert!(worst.reasons[0].starts_with("Standardised gap −2."));
    let c = worst.change.as_ref().expect("change");
    assert_eq!(c.n_valid, 1);
    assert_eq!(c.family_size, 10);
}
