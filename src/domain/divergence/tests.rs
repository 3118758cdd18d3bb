//! The worked example B10 in full, plus shared test helpers.

use super::*;
use crate::domain::organisation::OrgType;

pub fn org(ods: &str, t: OrgType) -> OrgInfo {
    OrgInfo {
        ods: ods.to_owned(),
        name: None,
        org_type: t,
        region: None,
        icb: None,
        icb_name: None,
        predecessors: Vec::new(),
    }
}

pub fn sc(ods: &str, round: &str, pillar: &str, score: f64, coverage: f64) -> PillarObservation {
    PillarObservation {
        ods: ods.to_owned(),
        round: round.to_owned(),
        pillar: pillar.to_owned(),
        score: Some(score),
        coverage,
    }
}

pub fn input(rounds: &[&str], orgs: Vec<OrgInfo>, scores: Vec<PillarObservation>) -> EngineInput {
    EngineInput {
        rounds: rounds.iter().map(|r| r.to_string()).collect(),
        previous_round: (rounds.len() > 1).then(|| rounds[rounds.len() - 2].to_string()),
        orgs,
        scores,
        reference: Reference::TypeNational,
        item_matched: None,
        // The v1 worked example and edge cases; v2 has its own (`tests_v2`).
        options: Options {
            method: MethodVersion::V1,
            ..Options::default()
        },
        pillar_titles: Default::default(),
        grids: Vec::new(),
    }
}

pub fn row<'a>(a: &'a Analysis, ods: &str, pillar: &str) -> &'a DivergenceRow {
    a.rows
        .iter()
        .find(|r| r.org_id == ods && r.pillar == pillar)
        .unwrap_or_else(|| panic!("no row {ods}/{pillar}"))
}

/// Asserts `actual` matches a figure printed in the spec: within 1e-4 relative, or within half a
/// unit of the last printed digit when the spec prints fewer significant digits than that.
pub fn fig(actual: Option<f64>, printed: &str) {
    let actual = actual.unwrap_or_else(|| panic!("expected {printed}, got null"));
    let expected: f64 = printed.parse().expect("a number");
    let mantissa = printed.split(['e', 'E']).next().unwrap_or(printed);
    let exponent: i32 = printed
        .split(['e', 'E'])
        .nth(1)
        .map_or(0, |e| e.parse().expect("exponent"));
    let decimals = mantissa.split('.').nth(1).map_or(0, str::len) as i32;
    let half_unit = 0.5 * 10f64.powi(exponent - decimals) * (1.0 + 1e-9);
    let tol = half_unit.max(1e-4 * expected.abs());
    assert!(
        (actual - expected).abs() <= tol,
        "expected {printed}, got {actual}"
    );
}

pub const B10: [(&str, f64, f64); 6] = [
    ("A", 2.0, 1.4),
    ("B", 2.5, 3.1),
    ("C", 3.0, 3.4),
    ("D", 3.0, 3.3),
    ("E", 3.5, 4.3),
    ("F", 2.5, 3.0),
];

fn b10_rounds(rounds: &[&str]) -> EngineInput {
    let orgs = B10.iter().map(|(o, _, _)| org(o, OrgType::Acute)).collect();
    let mut scores = Vec::new();
    for (o, s24, s25) in B10 {
        scores.push(sc(o, "2024", "p", s24, 1.0));
        scores.push(sc(o, "2025", "p", s25, 1.0));
    }
    input(rounds, orgs, scores)
}

/// The B10 input: six acute organisations, one pillar `p`, rounds 2024 and 2025.
pub fn b10_input() -> EngineInput {
    b10_rounds(&["2024", "2025"])
}

pub fn b10(rounds: &[&str], method: PMethod) -> Analysis {
    let mut inp = b10_rounds(rounds);
    inp.options.p_method = method;
    analyse(&inp)
}

#[test]
fn b10_level_2024() {
    let a = b10(&["2024"], PMethod::T);
    let ra = row(&a, "A", "p");
    fig(ra.reference.median, "2.75");
    fig(ra.reference.mad, "0.25");
    fig(ra.reference.scale, "0.37065");
    for (o, z, p, q) in [
        ("A", "-2.0235", "0.09893", "0.2968"),
        ("E", "2.0235", "0.09893", "0.2968"),
        ("B", "-0.6745", "0.5299", "0.5299"),
        ("F", "-0.6745", "0.5299", "0.5299"),
        ("C", "0.6745", "0.5299", "0.5299"),
        ("D", "0.6745", "0.5299", "0.5299"),
    ] {
        let l = &row(&a, o, "p").level;
        fig(l.robust_z, z);
        fig(l.p, p);
        fig(l.q, q);
    }
    assert!(a.rows.iter().all(|r| r.flags.is_empty()));
    assert!(ra.change.is_none() && ra.statuses.contains(&Status::NoPreviousRound));

    let n = b10(&["2024"], PMethod::Normal);
    let l = &row(&n, "A", "p").level;
    fig(l.p, "0.0430");
    fig(l.q, "0.129");
    assert_eq!(l.tier, Tier::Alert);
    assert!(
        row(&n, "A", "p").flags.is_empty(),
        "BH removes the nominal hit"
    );
}

#[test]
fn b10_level_2025() {
    let a = b10(&["2024", "2025"], PMethod::T);
    let ra = row(&a, "A", "p");
    let r = &ra.reference;
    assert_eq!(
        (r.kind, r.key.as_ref(), r.n),
        (RefKind::TypeNational, "acute", 6)
    );
    fig(r.median, "3.2");
    fig(r.mad, "0.2");
    fig(r.scale, "0.29652");
    fig(r.q1, "3.025");
    fig(r.q3, "3.375");
    assert_eq!(r.scale_method, Some(ScaleMethod::Mad));
    assert_eq!(r.confidence, Confidence::Low);
    fig(ra.level.robust_z, "-6.0704");
    fig(ra.level.p, "0.001752");
    fig(ra.level.q, "0.01051");
    assert_eq!(ra.level.tier, Tier::Alarm);
    let re = row(&a, "E", "p");
    fig(re.level.robust_z, "3.7097");
    fig(re.level.p, "0.01386");
    fig(re.level.q, "0.04158");
    assert_eq!(re.level.tier, Tier::Alert);
    for (o, z, p) in [
        ("B", "-0.3372", "0.7496"),
        ("D", "0.3372", "0.7496"),
        ("C", "0.6745", "0.5299"),
        ("F", "-0.6745", "0.5299"),
    ] {
        let l = &row(&a, o, "p").level;
        fig(l.robust_z, z);
        fig(l.p, p);
        fig(l.q, "0.7496");
        assert_eq!(l.tier, Tier::None);
    }
    assert_eq!(ra.level.family_size, 6);
    assert_eq!(ra.method.family_size, 6);
    assert_eq!(a.family_sizes.level, 6);
    assert_eq!(a.family_sizes.overall_level, 6);
    assert_eq!(ra.method.version, "divergence-v1");
    assert_eq!(ra.method.config_hash.to_string().len(), 16);
}

#[test]
fn b10_change_gaps_ranks_and_flags() {
    let a = b10(&["2024", "2025"], PMethod::T);
    let c = row(&a, "A", "p").change.as_ref().expect("change");
    fig(c.delta, "-0.6");
    fig(c.peer_median_delta, "0.45");
    fig(c.reference.mad, "0.15");
    fig(c.scale, "0.22239");
    fig(c.excess, "-1.05");
    fig(c.robust_z, "-4.7214");
    fig(c.p, "0.005236");
    fig(c.q, "0.03142");
    assert_eq!(c.tier, Tier::Alert);
    let e = row(&a, "E", "p").change.as_ref().expect("change");
    fig(e.robust_z, "1.5738");
    fig(e.p, "0.1763");
    fig(e.q, "0.529");
    for (o, z, q) in [
        ("B", "0.6745", "0.7949"),
        ("D", "-0.6745", "0.7949"),
        ("C", "-0.2248", "0.831"),
        ("F", "0.2248", "0.831"),
    ] {
        let c = row(&a, o, "p").change.as_ref().expect("change");
        fig(c.robust_z, z);
        fig(c.q, q);
    }
    for (o, pr_prev, pr, g_prev, g) in [
        ("A", "8.3", "8.3", "-0.75", "-1.80"),
        ("B", "33.3", "41.7", "-0.25", "-0.10"),
        ("C", "66.7", "75.0", "0.25", "0.20"),
        ("D", "66.7", "58.3", "0.25", "0.10"),
        ("E", "91.7", "91.7", "0.75", "1.10"),
        ("F", "33.3", "25.0", "-0.25", "-0.20"),
    ] {
        let l = &row(&a, o, "p").level;
        fig(l.percentile_rank_prev, pr_prev);
        fig(l.percentile_rank, pr);
        fig(l.gap_prev, g_prev);
        fig(l.gap, g);
    }
    fig(row(&a, "A", "p").level.gap_change, "-1.05");
    use Flag::*;
    assert_eq!(
        row(&a, "A", "p").flags,
        [
            LevelBelowPeers,
            ProgressBelowPeers,
            GapWideningBehind,
            PriorityFallingBehind
        ]
    );
    assert_eq!(row(&a, "E", "p").flags, [LevelAbovePeers, GapWideningAhead]);
    for o in ["B", "C", "D", "F"] {
        assert!(row(&a, o, "p").flags.is_empty(), "{o}");
    }
    let reasons = &row(&a, "A", "p").reasons;
    assert_eq!(
        reasons[0],
        "Score 1.40 is 1.80 below the acute median 3.20 (robust z −6.07, q 0.011, 99.8% tier)"
    );
    assert_eq!(
        reasons[1],
        "Score fell 0.60 while the peer median rose 0.45: 1.05 behind peers' progress \
         (robust z −4.72, q 0.031, 95% tier)"
    );
    assert_eq!(
        reasons[2],
        "Gap behind the acute median widened from 0.75 to 1.80"
    );
    assert_eq!(reasons.len(), 4);
    // the overall rows (one pillar) repeat the figures in their own families
    let o = row(&a, "A", OVERALL);
    fig(o.level.q, "0.01051");
    assert_eq!(o.flags, row(&a, "A", "p").flags);
}

#[test]
fn b10_normal() {
    let a = b10(&["2024", "2025"], PMethod::Normal);
    let ra = row(&a, "A", "p");
    fig(ra.level.p, "1.28e-9");
    fig(ra.level.q, "7.65e-9");
    let re = row(&a, "E", "p");
    fig(re.level.p, "2.08e-4");
    fig(re.level.q, "6.23e-4");
    let c = ra.change.as_ref().expect("change");
    fig(c.p, "2.34e-6");
    fig(c.q, "1.41e-5");
    fig(re.change.as_ref().and_then(|c| c.q), "0.347");
    let t = b10(&["2024", "2025"], PMethod::T);
    for o in ["A", "B", "C", "D", "E", "F"] {
        assert_eq!(row(&a, o, "p").flags, row(&t, o, "p").flags, "{o}");
    }
}

#[test]
fn b10_serialises_with_spec_names() {
    let a = b10(&["2024", "2025"], PMethod::T);
    let v = serde_json::to_value(row(&a, "A", "p")).expect("json");
    for key in [
        "org_id",
        "org_type",
        "pillar",
        "round",
        "previous_round",
        "reference",
        "level",
        "change",
        "trend",
        "flags",
        "reasons",
        "statuses",
        "method",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["org_type"], "acute");
    assert_eq!(v["reference"]["kind"], "type_national");
    assert_eq!(v["reference"]["scale_method"], "mad");
    assert_eq!(v["level"]["tier"], "alarm");
    assert_eq!(v["flags"][0], "LEVEL_BELOW_PEERS");
    assert_eq!(v["method"]["p_method"], "t");
    assert!(v["trend"].is_null());
    let b = serde_json::to_value(row(&a, "B", "p")).expect("json");
    assert!(b["level"]["q"].is_number());
    let hash = v["method"]["config_hash"].as_str().expect("hash");
    assert_eq!(hash, a.options.config_hash());
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
}

/// The v1 hash is the FNV-1a 64 of the options' JSON as v1 wrote it, before the method was an
/// option (computed independently: Python over this exact text), so a published v1
/// `config_hash` is reproduced; v2 hashes differ.
#[test]
fn the_v1_hash_is_unchanged_and_v2_hashes_differ() {
    let v1 = Options {
        method: MethodVersion::V1,
        ..Options::default()
    };
    assert_eq!(v1.config_hash(), "b3c6762ed3e9fa87");
    assert_ne!(Options::default().config_hash(), v1.config_hash());
    let text = serde_json::to_string(&Options::default()).expect("json");
    assert!(text.ends_with(r#","method":"divergence-v2"}"#), "{text}");
}

#[test]
fn options_validate_and_hash() {
    let o = Options::default();
    assert!(o.validate().is_empty());
    let bad = Options {
        alpha_fdr: 1.5,
        delta_level: -1.0,
        min_ref_n: 1,
        ..Options::default()
    };
    assert_eq!(bad.validate().len(), 3);
    assert_ne!(bad.config_hash(), o.config_hash());
    assert_eq!(o.config_hash(), Options::default().config_hash());
    let parsed: Options = serde_json::from_str(r#"{"p_method":"normal"}"#).expect("options");
    assert_eq!(parsed.p_method, PMethod::Normal);
    assert!(serde_json::from_str::<Options>(r#"{"alpha":0.1}"#).is_err());
    // FNV-1a 64 reference vectors
    assert_eq!(super::options::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(super::options::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
}
