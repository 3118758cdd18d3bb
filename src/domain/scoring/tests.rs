use super::*;
use crate::domain::answers::{Answer, Answers};
use crate::domain::fixtures::{answers, choices, no, num, scored, staged, text, yes};

const EPS: f64 = 1e-9;

#[track_caller]
fn close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("a score");
    assert!((actual - expected).abs() < EPS, "{actual} != {expected}");
}

fn domain<'a>(scores: &'a Scores, key: &str) -> &'a DomainScore {
    scores
        .domains()
        .find(|d| d.domain == key)
        .expect("domain present")
}

fn pillar<'a>(scores: &'a Scores, key: &str) -> &'a PillarScore {
    scores
        .pillars
        .iter()
        .find(|p| p.pillar == key)
        .expect("pillar present")
}

fn full_scored() -> Answers {
    answers([
        ("R-01", text("c")),
        ("R-02", no()),
        ("R-03", text("We are on it")),
        ("R-04", num(35.0)),
        ("R-05", num(12.0)),
        ("C-01", choices(&["x", "y", "z"])),
        ("C-02", yes()),
        ("C-03", text("n")),
    ])
}

#[test]
fn scored_by_hand() {
    let scores = score(&scored(), OrgType::Acute, &full_scored());
    // strategy: R-01 100 (weight 2), R-02 no → 0, R-03 text unscored: (200 + 0) / 3
    let strategy = domain(&scores, "strategy");
    close(strategy.score, 200.0 / 3.0);
    assert_eq!(
        (strategy.answered, strategy.applicable, strategy.coverage),
        (3, 3, 1.0)
    );
    assert_eq!(strategy.pillar, "readiness");
    // workforce: 35 % → band 20-50 → 50; 12 FTE → band 10-1000 → 75
    close(domain(&scores, "workforce").score, 62.5);
    // records: 40 × 3 = 120 clamped to 100; yes → 100; C-03 (asked, as C-02 is yes) n → 0
    let records = domain(&scores, "records");
    close(records.score, 200.0 / 3.0);
    assert_eq!((records.answered, records.applicable), (3, 3));
    let readiness = pillar(&scores, "readiness");
    close(readiness.score, (200.0 / 3.0 + 62.5) / 2.0);
    assert_eq!((readiness.answered, readiness.applicable), (5, 5));
    close(pillar(&scores, "capabilities").score, 200.0 / 3.0);
    close(
        scores.score,
        ((200.0 / 3.0 + 62.5) / 2.0 + 200.0 / 3.0) / 2.0,
    );
    assert_eq!(
        (scores.answered, scores.applicable, scores.coverage),
        (8, 8, 1.0)
    );
    let order: Vec<&str> = scores.domains().map(|d| d.domain.as_str()).collect();
    assert_eq!(order, ["strategy", "workforce", "records"]);
}

#[test]
fn question_scores() {
    let f = scored();
    let s = |key: &str, value| question_score(f.scale, f.question(key).unwrap().2, &value);
    assert_eq!(s("R-01", text("b")), Some(50.0));
    assert_eq!(s("R-02", yes()), Some(100.0));
    assert_eq!(s("R-02", no()), Some(0.0));
    assert_eq!(s("R-03", text("anything")), None);
    assert_eq!(
        s("R-04", num(20.0)),
        Some(0.0),
        "bands are inclusive; the first match wins"
    );
    assert_eq!(s("R-04", num(50.0)), Some(50.0));
    assert_eq!(s("R-04", num(50.01)), Some(100.0));
    assert_eq!(s("R-05", num(0.0)), Some(25.0));
    assert_eq!(s("C-01", choices(&["x"])), Some(40.0));
    assert_eq!(s("C-01", choices(&["x", "z"])), Some(80.0));
    assert_eq!(
        s("C-01", choices(&["x", "y", "z"])),
        Some(100.0),
        "clamped to the scale"
    );
    assert_eq!(s("C-01", choices(&[])), Some(0.0));
    assert_eq!(
        s("R-01", yes()),
        None,
        "an answer of the wrong type is not scored"
    );
    // clamping also applies at the bottom of the scale
    let mut f = scored();
    f.scale.min = 10.0;
    let c01 = f.question("C-01").unwrap().2;
    assert_eq!(question_score(f.scale, c01, &choices(&[])), Some(10.0));
    let r02 = f.question("R-02").unwrap().2;
    assert_eq!(question_score(f.scale, r02, &no()), Some(10.0));
}

#[test]
fn weights_weigh() {
    let mut f = scored();
    let given = answers([("R-01", text("c")), ("R-02", no())]);
    close(
        domain(&score(&f, OrgType::Acute, &given), "strategy").score,
        200.0 / 3.0,
    );
    f.pillars[0].domains[0].questions[0].weight = 0.5;
    f.pillars[0].domains[0].questions[1].weight = 4.5;
    close(
        domain(&score(&f, OrgType::Acute, &given), "strategy").score,
        10.0,
    );
}

#[test]
fn unanswered_and_text_only_domains_have_no_score() {
    let f = scored();
    let given = answers([("R-03", text("notes only"))]);
    let scores = score(&f, OrgType::Acute, &given);
    let strategy = domain(&scores, "strategy");
    assert_eq!(strategy.score, None, "free text is never scored");
    assert_eq!((strategy.answered, strategy.applicable), (1, 3));
    close(Some(strategy.coverage), 1.0 / 3.0);
    assert_eq!(domain(&scores, "workforce").score, None);
    assert_eq!(pillar(&scores, "readiness").score, None);
    assert_eq!(scores.score, None);
    // records: C-03 not asked while C-02 is unanswered
    assert_eq!(domain(&scores, "records").applicable, 2);
    assert_eq!((scores.answered, scores.applicable), (1, 7));
    close(Some(scores.coverage), 1.0 / 7.0);
    // a score in one pillar only: overall is that pillar's score
    let given = answers([("C-02", yes())]);
    let scores = score(&f, OrgType::Acute, &given);
    close(scores.score, 100.0);
}

#[test]
fn conditional_question_not_asked_is_neither_required_nor_scored() {
    let f = scored();
    let mut given = full_scored();
    given.insert(
        "C-02".into(),
        Answer {
            value: no(),
            evidence: None,
        },
    );
    // C-03 keeps its stale answer "n" (0 points), but is not asked when C-02 is no
    let records = score(&f, OrgType::Acute, &given)
        .domains()
        .find(|d| d.domain == "records")
        .cloned();
    let records = records.unwrap();
    assert_eq!((records.answered, records.applicable), (2, 2));
    close(records.score, 50.0); // (100 + 0) / 2
    assert!(crate::domain::answers::missing_mandatory(&f, OrgType::Acute, &given).is_empty());
}

#[test]
fn only_domains_of_the_organisation_type_appear() {
    let f = scored();
    let scores = score(&f, OrgType::MentalHealth, &full_scored());
    let keys: Vec<&str> = scores.domains().map(|d| d.domain.as_str()).collect();
    assert_eq!(keys, ["strategy"]);
    assert_eq!(scores.pillars.len(), 1);
    close(scores.score, 200.0 / 3.0);
    assert_eq!((scores.answered, scores.applicable), (3, 3));

    let community = score(&f, OrgType::Community, &full_scored());
    assert_eq!(community.pillars.len(), 1);
    assert_eq!(community.pillars[0].pillar, "capabilities");

    let none = score(&f, OrgType::Ambulance, &full_scored());
    assert!(none.pillars.is_empty());
    assert_eq!((none.score, none.coverage, none.applicable), (None, 1.0, 0));
}

#[test]
fn subset_scores_only_included_questions() {
    let f = scored();
    let keep = ["R-01", "C-01", "C-02", "C-03"];
    let scores = score_subset(&f, OrgType::Acute, &full_scored(), |k| keep.contains(&k));
    let keys: Vec<&str> = scores.domains().map(|d| d.domain.as_str()).collect();
    assert_eq!(
        keys,
        ["strategy", "records"],
        "workforce has no included question"
    );
    let strategy = domain(&scores, "strategy");
    close(strategy.score, 100.0);
    assert_eq!((strategy.answered, strategy.applicable), (1, 1));
    close(domain(&scores, "records").score, 200.0 / 3.0);
    // applicability still follows excluded questions: C-03 depends on C-02
    let scores = score_subset(&f, OrgType::Acute, &full_scored(), |k| k == "C-03");
    close(scores.score, 0.0);
    let nothing = score_subset(&f, OrgType::Acute, &full_scored(), |_| false);
    assert!(nothing.pillars.is_empty());
    assert_eq!(
        score_subset(&f, OrgType::Acute, &full_scored(), |_| true),
        score(&f, OrgType::Acute, &full_scored())
    );
}

fn level(given: &[(&str, AnswerValue)], org: OrgType, domain_key: &str) -> Option<f64> {
    let scores = score(&staged(), org, &answers(given.iter().cloned()));
    domain(&scores, domain_key).score
}

#[test]
fn staged_levels_are_cumulative() {
    let lead = |given: &[(&str, AnswerValue)]| level(given, OrgType::Acute, "leadership");
    assert_eq!(lead(&[]), Some(1.0), "nothing met: level 1");
    assert_eq!(lead(&[("WL-01", no())]), Some(1.0));
    assert_eq!(lead(&[("WL-01", yes())]), Some(2.0));
    assert_eq!(
        lead(&[("WL-01", yes()), ("WL-02", text("b"))]),
        Some(2.0),
        "b does not meet"
    );
    assert_eq!(lead(&[("WL-01", yes()), ("WL-02", text("a"))]), Some(3.0));
    let up_to_3 = [("WL-01", yes()), ("WL-02", text("a"))];
    let with = |extra: &[(&'static str, AnswerValue)]| {
        let mut given = up_to_3.to_vec();
        given.extend_from_slice(extra);
        lead(&given)
    };
    assert_eq!(
        with(&[("WL-03", choices(&["y", "x"]))]),
        Some(4.0),
        "any chosen option meeting is enough"
    );
    assert_eq!(with(&[("WL-03", choices(&["y", "z"]))]), Some(3.0));
    assert_eq!(with(&[("WL-03", choices(&[]))]), Some(3.0));
    assert_eq!(
        with(&[("WL-03", choices(&["x"])), ("WL-04", yes())]),
        Some(5.0)
    );
    assert_eq!(
        with(&[("WL-04", yes())]),
        Some(3.0),
        "level 5 met but level 4 not: still 3"
    );
    // a gap at level 2 holds everything back
    let gap = [
        ("WL-01", no()),
        ("WL-02", text("a")),
        ("WL-03", choices(&["x"])),
        ("WL-04", yes()),
    ];
    assert_eq!(lead(&gap), Some(1.0));
}

#[test]
fn staged_levels_without_criteria_do_not_block() {
    let gov = |given: &[(&str, AnswerValue)]| level(given, OrgType::Acute, "governance");
    // WL-13 (level 3) is asked only when WL-12 is yes; level 5 has no criterion at all.
    assert_eq!(
        gov(&[("WL-10", yes()), ("WL-11", yes()), ("WL-12", no())]),
        Some(5.0)
    );
    assert_eq!(
        gov(&[("WL-10", yes()), ("WL-11", no()), ("WL-12", no())]),
        Some(3.0)
    );
    assert_eq!(
        gov(&[("WL-10", yes()), ("WL-11", yes()), ("WL-12", yes())]),
        Some(2.0),
        "WL-13 unanswered"
    );
    assert_eq!(
        gov(&[
            ("WL-10", yes()),
            ("WL-11", yes()),
            ("WL-12", yes()),
            ("WL-13", no())
        ]),
        Some(2.0)
    );
    assert_eq!(
        gov(&[
            ("WL-10", yes()),
            ("WL-11", yes()),
            ("WL-12", yes()),
            ("WL-13", yes())
        ]),
        Some(5.0)
    );
    assert_eq!(gov(&[("WL-10", no()), ("WL-11", yes())]), Some(1.0));
}

#[test]
fn staged_conditional_criteria() {
    let infra = |given: &[(&str, AnswerValue)]| level(given, OrgType::Community, "infrastructure");
    // SF-02 (the only criterion) is asked only when SF-01 >= 50
    assert_eq!(infra(&[]), None, "no applicable criterion: no level");
    assert_eq!(infra(&[("SF-01", num(30.0)), ("SF-02", yes())]), None);
    assert_eq!(infra(&[("SF-01", num(50.0))]), Some(1.0));
    assert_eq!(infra(&[("SF-01", num(80.0)), ("SF-02", yes())]), Some(5.0));
    let scores = score(
        &staged(),
        OrgType::Community,
        &answers([("SF-01", num(30.0))]),
    );
    let d = domain(&scores, "infrastructure");
    assert_eq!((d.answered, d.applicable, d.coverage), (1, 1, 1.0));
    assert_eq!(scores.score, None, "the only pillar has no level");
}

#[test]
fn staged_pillars_and_overall_average_levels() {
    let given = answers([
        ("WL-01", yes()),
        ("WL-02", text("a")),
        ("WL-10", yes()),
        ("WL-12", yes()),
        ("WL-13", yes()),
        ("SF-01", num(90.0)),
        ("SF-02", no()),
    ]);
    let scores = score(&staged(), OrgType::Acute, &given);
    close(domain(&scores, "leadership").score, 3.0);
    close(domain(&scores, "governance").score, 3.0); // WL-11 (level 4) unanswered
    close(domain(&scores, "infrastructure").score, 1.0);
    close(pillar(&scores, "well_led").score, 3.0);
    close(scores.score, 2.0);
    // leadership 2 of 5 answered, governance 3 of 4 (WL-13 asked), infrastructure 2 of 2
    assert_eq!((scores.answered, scores.applicable), (7, 11));
    let well_led = pillar(&scores, "well_led");
    assert_eq!((well_led.answered, well_led.applicable), (5, 9));
    close(Some(well_led.coverage), 5.0 / 9.0);
}

#[test]
fn criterion_met_rules() {
    let f = staged();
    let met = |key: &str, value| criterion_met(f.question(key).unwrap().2, &value);
    assert!(met("WL-01", yes()));
    assert!(!met("WL-01", no()));
    assert!(met("WL-02", text("a")));
    assert!(!met("WL-02", text("b")));
    assert!(!met("WL-02", text("zz")));
    assert!(met("WL-03", choices(&["z", "x"])));
    assert!(!met("WL-03", choices(&["z", "y"])));
    assert!(!met("WL-01", text("yes")));
}

#[test]
fn scores_serialize() {
    let scores = score(&staged(), OrgType::Community, &answers([]));
    let wire = serde_json::to_value(&scores).unwrap();
    assert_eq!(
        wire,
        serde_json::json!({
            "score": null, "coverage": 0.0, "answered": 0, "applicable": 1,
            "pillars": [ { "pillar": "foundations", "score": null, "coverage": 0.0, "answered": 0,
                "applicable": 1, "domains": [ { "pillar": "foundations", "domain": "infrastructure",
                "score": null, "coverage": 0.0, "answered": 0, "applicable": 1 } ] } ]
        })
    );
    let back: Scores = serde_json::from_value(wire).unwrap();
    assert_eq!(back, scores);
}

#[test]
fn in_framework_order_restores_order_and_drops_what_the_type_is_not_asked() {
    let f = scored();
    let scores = score(&f, OrgType::Acute, &full_scored());
    let mut shuffled = scores.clone();
    shuffled.pillars.reverse();
    for p in &mut shuffled.pillars {
        p.domains.reverse();
    }
    assert_ne!(shuffled, scores);
    assert_eq!(shuffled.in_framework_order(&f, OrgType::Acute), scores);
    // A mental health trust is asked only `strategy`: `workforce` and whole pillars go.
    let mh = scores.in_framework_order(&f, OrgType::MentalHealth);
    let kept: Vec<&str> = mh.domains().map(|d| d.domain.as_str()).collect();
    assert_eq!(kept, ["strategy"]);
    assert_eq!((mh.score, mh.coverage), (scores.score, scores.coverage));
}

#[test]
fn next_level_names_the_unmet_criteria_up_to_the_next_level() {
    let f = staged();
    // Leadership: level 2 met (WL-01), level 3 not (WL-02 = b): level 2, next 3 needs WL-02.
    let a = answers([
        ("WL-01", yes()),
        ("WL-02", text("b")),
        ("WL-03", choices(&["x"])),
    ]);
    let next = next_levels(&f, OrgType::Acute, &a);
    let (key, lead) = &next[0];
    assert_eq!(*key, "leadership");
    assert_eq!((lead.level, lead.next), (2, 3));
    let keys: Vec<&str> = lead.unmet.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(keys, ["WL-02"]);
    // Governance: nothing answered: level 1, next 2 needs WL-10 (WL-13 is not asked).
    let (key, gov) = &next[1];
    assert_eq!(*key, "governance");
    assert_eq!((gov.level, gov.next), (1, 2));
    assert_eq!(
        gov.unmet.iter().map(|q| q.key.as_str()).collect::<Vec<_>>(),
        ["WL-10"]
    );
    // The level agrees with the scores.
    let s = score(&f, OrgType::Acute, &a);
    assert_eq!(s.pillars[0].domains[0].score, Some(2.0));
    // At the top of the scale there is no next level.
    let all = answers([
        ("WL-01", yes()),
        ("WL-02", text("a")),
        ("WL-03", choices(&["x"])),
        ("WL-04", yes()),
    ]);
    assert!(next_levels(&f, OrgType::MentalHealth, &all).is_empty());
}
