use serde_json::json;

use super::*;
use crate::domain::fixtures::{answers, choices, framework, no, num, scored, staged, text, yes};
use crate::domain::framework::EnableWhen;

#[track_caller]
fn rejects(key: &str, value: AnswerValue, kind: AnswerProblemKind, fragment: &str) {
    rejects_for(OrgType::Acute, key, value, kind, fragment);
}

#[track_caller]
fn rejects_for(
    org: OrgType,
    key: &str,
    value: AnswerValue,
    kind: AnswerProblemKind,
    fragment: &str,
) {
    let problem = check_answer(&scored(), org, key, &value).unwrap_err();
    assert_eq!(problem.question, key);
    assert_eq!(problem.kind, kind, "{problem}");
    assert!(problem.message.contains(fragment), "{problem}");
}

#[track_caller]
fn accepts(key: &str, value: AnswerValue) {
    assert_eq!(
        check_answer(&scored(), OrgType::Acute, key, &value),
        Ok(()),
        "{key} {value:?}"
    );
}

#[test]
fn answer_values_use_plain_json() {
    let cases = [
        (json!(true), yes()),
        (json!(42.5), num(42.5)),
        (json!(3), num(3.0)),
        (json!("b"), text("b")),
        (json!(["a", "c"]), choices(&["a", "c"])),
        (json!([]), choices(&[])),
    ];
    for (wire, value) in cases {
        assert_eq!(
            serde_json::from_value::<AnswerValue>(wire.clone()).unwrap(),
            value
        );
        let back = serde_json::to_value(&value).unwrap();
        assert_eq!(serde_json::from_value::<AnswerValue>(back).unwrap(), value);
    }
    assert!(serde_json::from_value::<AnswerValue>(json!(null)).is_err());
    assert!(serde_json::from_value::<AnswerValue>(json!({ "a": 1 })).is_err());
    assert!(serde_json::from_value::<AnswerValue>(json!([1, 2])).is_err());

    let answer: Answer = serde_json::from_value(json!({ "value": "c" })).unwrap();
    assert_eq!(
        answer,
        Answer {
            value: text("c"),
            evidence: None
        }
    );
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({ "value": "c" })
    );
    let answer: Answer =
        serde_json::from_value(json!({ "value": true, "evidence": "board minutes" })).unwrap();
    assert_eq!(answer.evidence.as_deref(), Some("board minutes"));
}

#[test]
fn valid_answers_pass() {
    accepts("R-01", text("c"));
    accepts("R-02", no());
    accepts("R-03", text(""));
    accepts("R-03", text(&"é".repeat(MAX_TEXT_CHARS)));
    accepts("R-04", num(0.0));
    accepts("R-04", num(100.0));
    accepts("R-05", num(10.0));
    accepts("C-01", choices(&["z", "x"]));
    accepts("C-01", choices(&[]));
    accepts("C-03", text("y")); // conditional: accepted before its condition holds
    let mh = check_answer(&scored(), OrgType::MentalHealth, "R-01", &text("a"));
    assert_eq!(mh, Ok(()));
}

#[test]
fn unknown_and_not_applicable_questions() {
    rejects(
        "R-99",
        yes(),
        AnswerProblemKind::UnknownQuestion,
        "no question",
    );
    rejects_for(
        OrgType::MentalHealth,
        "R-04",
        num(10.0),
        AnswerProblemKind::NotApplicable,
        "domain `workforce` is not asked of mental health organisations",
    );
    rejects_for(
        OrgType::Ambulance,
        "C-02",
        yes(),
        AnswerProblemKind::NotApplicable,
        "ambulance",
    );
}

#[test]
fn wrong_types() {
    use AnswerProblemKind::WrongType;
    rejects(
        "R-01",
        choices(&["a"]),
        WrongType,
        "single_choice question is answered with an option code",
    );
    rejects("R-01", yes(), WrongType, "not a boolean");
    rejects(
        "C-01",
        text("x"),
        WrongType,
        "array of option codes, not a string",
    );
    rejects("R-04", text("50"), WrongType, "a number, not a string");
    rejects("R-05", yes(), WrongType, "a number");
    rejects("R-05", num(f64::NAN), WrongType, "finite");
    rejects("R-04", num(f64::INFINITY), WrongType, "finite");
    rejects("R-02", text("yes"), WrongType, "true or false");
    rejects("R-02", num(1.0), WrongType, "true or false");
    rejects("R-03", num(1.0), WrongType, "a string");
    rejects("R-03", choices(&["a"]), WrongType, "not an array");
}

#[test]
fn options_must_be_offered_once() {
    use AnswerProblemKind::{OptionNotOffered, RepeatedOption};
    rejects("R-01", text("d"), OptionNotOffered, "`d` is not an option");
    rejects("R-01", text("A"), OptionNotOffered, "`A`");
    rejects(
        "C-01",
        choices(&["x", "w"]),
        OptionNotOffered,
        "`w` is not an option",
    );
    rejects(
        "C-01",
        choices(&["x", "y", "x"]),
        RepeatedOption,
        "`x` is chosen more than once",
    );
}

#[test]
fn numbers_must_fall_in_range_and_band() {
    use AnswerProblemKind::OutOfRange;
    rejects(
        "R-04",
        num(100.5),
        OutOfRange,
        "between 0 and 100, not 100.5",
    );
    rejects("R-04", num(-1.0), OutOfRange, "between 0 and 100");
    rejects(
        "R-05",
        num(-0.5),
        OutOfRange,
        "-0.5 lies outside every band",
    );
    rejects("R-05", num(1000.5), OutOfRange, "outside every band");
    // a percentage inside 0..=100 but in no band
    let mut f = scored();
    f.pillars[0].domains[1].questions[0].bands.truncate(2);
    let problem = check_answer(&f, OrgType::Acute, "R-04", &num(75.0)).unwrap_err();
    assert_eq!(problem.kind, OutOfRange);
    assert!(problem.message.contains("outside every band"));
}

#[test]
fn free_text_is_bounded() {
    let long = "x".repeat(MAX_TEXT_CHARS + 1);
    rejects(
        "R-03",
        text(&long),
        AnswerProblemKind::TooLong,
        "limited to 10000 characters, not 10001",
    );
}

#[test]
fn batches_report_every_problem_in_key_order() {
    let f = scored();
    let good = answers([
        ("R-01", text("a")),
        ("C-01", choices(&["x"])),
        ("C-03", text("y")),
    ]);
    assert_eq!(check_answers(&f, OrgType::Acute, &good), Ok(()));
    let bad = answers([
        ("R-99", yes()),
        ("R-01", text("a")),
        ("R-04", num(200.0)),
        ("C-01", text("x")),
    ]);
    let problems = check_answers(&f, OrgType::Acute, &bad).unwrap_err();
    let found: Vec<(&str, AnswerProblemKind)> = problems
        .iter()
        .map(|p| (p.question.as_str(), p.kind))
        .collect();
    assert_eq!(
        found,
        [
            ("C-01", AnswerProblemKind::WrongType),
            ("R-04", AnswerProblemKind::OutOfRange),
            ("R-99", AnswerProblemKind::UnknownQuestion),
        ]
    );
    let problems = check_answers(&f, OrgType::MentalHealth, &good).unwrap_err();
    assert!(
        problems
            .iter()
            .all(|p| p.kind == AnswerProblemKind::NotApplicable)
    );
    assert_eq!(problems.len(), 2);
}

#[test]
fn problems_serialize_with_kind() {
    let problem = check_answer(&scored(), OrgType::Acute, "R-99", &yes()).unwrap_err();
    let wire = serde_json::to_value(&problem).unwrap();
    assert_eq!(wire["question"], "R-99");
    assert_eq!(wire["kind"], "unknown_question");
    assert_eq!(
        problem.to_string(),
        "R-99: no question of this framework has this key"
    );
}

fn when(operator: &str, answer: serde_json::Value) -> EnableWhen {
    EnableWhen {
        question: "Q".into(),
        operator: operator.into(),
        answer: serde_json::from_value(answer).unwrap(),
        system: None,
        answer_type: None,
    }
}

#[test]
fn condition_operators() {
    let cases: &[(&str, serde_json::Value, Option<AnswerValue>, bool)] = &[
        ("exists", json!(null), Some(no()), true),
        ("exists", json!(null), None, false),
        ("exists", json!(true), Some(text("")), true),
        ("exists", json!(false), None, true),
        ("exists", json!(false), Some(yes()), false),
        ("exists", json!(3), Some(yes()), false),
        ("=", json!(true), Some(yes()), true),
        ("=", json!(true), Some(no()), false),
        ("=", json!(true), None, false),
        ("=", json!(5), Some(num(5.0)), true),
        ("=", json!(5), Some(num(5.5)), false),
        ("=", json!("b"), Some(text("b")), true),
        ("=", json!("b"), Some(text("B")), false),
        ("=", json!("x"), Some(choices(&["y", "x"])), true),
        ("=", json!("x"), Some(choices(&["y"])), false),
        ("=", json!("x"), Some(choices(&[])), false),
        ("=", json!(true), Some(text("true")), false),
        ("=", json!(null), Some(yes()), false),
        ("!=", json!(true), Some(no()), true),
        ("!=", json!(true), Some(yes()), false),
        ("!=", json!(true), None, false),
        ("!=", json!(5), Some(num(4.0)), true),
        ("!=", json!("b"), Some(text("a")), true),
        ("!=", json!("x"), Some(choices(&["y"])), true),
        ("!=", json!("x"), Some(choices(&["x"])), false),
        ("!=", json!(1), Some(text("1")), false),
        (">", json!(50), Some(num(50.5)), true),
        (">", json!(50), Some(num(50.0)), false),
        (">", json!(50), None, false),
        // A choice code compared with a number is read as one (FHIR forms compare codes so).
        (">", json!(50), Some(text("60")), true),
        (">", json!(50), Some(text("sixty")), false),
        ("=", json!(2), Some(text("2")), true),
        ("=", json!(2), Some(choices(&["1", "2"])), true),
        ("<", json!(2.1), Some(text("1.1")), true),
        // Dates and times in ISO form order as they read.
        (">", json!("2000-01-01"), Some(text("2000-01-02")), true),
        ("<=", json!("2000-01-01"), Some(text("2000-01-02")), false),
        (">", json!("11:11:11"), Some(text("12:00:00")), true),
        ("<", json!(50), Some(num(49.0)), true),
        ("<", json!(50), Some(num(50.0)), false),
        (">=", json!(50), Some(num(50.0)), true),
        (">=", json!(50), Some(num(49.9)), false),
        ("<=", json!(50), Some(num(50.0)), true),
        ("<=", json!(50), Some(num(50.1)), false),
        ("~", json!(50), Some(num(50.0)), false),
    ];
    for (operator, expected, actual, holds) in cases {
        let condition = when(operator, expected.clone());
        assert_eq!(
            condition_holds(&condition, actual.as_ref()),
            *holds,
            "{operator} {expected} on {actual:?}"
        );
    }
}

#[test]
fn domain_decides_applicability() {
    let f = scored();
    let none = answers([]);
    let app = Applicability::new(&f, OrgType::Community, &none);
    assert!(app.is_applicable("C-01"));
    assert!(!app.is_applicable("R-01"));
    assert!(!app.is_applicable("R-99"));
    assert!(is_applicable(&f, OrgType::Acute, &none, "R-05"));
    assert!(!is_applicable(&f, OrgType::MentalHealth, &none, "R-05"));
}

#[test]
fn conditional_question_follows_its_condition() {
    let f = scored();
    let cases = [
        (None, false),
        (Some(no()), false),
        (Some(yes()), true),
        (Some(text("x")), false),
    ];
    for (c02, applicable) in cases {
        let given = answers(c02.clone().map(|v| ("C-02", v)));
        assert_eq!(
            is_applicable(&f, OrgType::Acute, &given, "C-03"),
            applicable,
            "{c02:?}"
        );
    }
}

#[test]
fn only_valid_answers_count() {
    let f = scored();
    let given = answers([("R-01", text("zzz")), ("R-02", yes())]);
    let app = Applicability::new(&f, OrgType::Acute, &given);
    assert!(app.is_applicable("R-01") && !app.is_answered("R-01"));
    assert_eq!(app.answer("R-02"), Some(&yes()));
    // answers to questions not asked of the organisation are ignored
    let app = Applicability::new(&f, OrgType::Community, &given);
    assert_eq!(app.answer("R-02"), None);
}

/// A chain Q1 → Q2 → Q3 → Q4 across domains; Q5 exists=false on Q2; D2 is acute only.
fn chain() -> crate::domain::framework::Framework {
    framework(json!({
        "key": "chain", "title": "Chain", "version": "1", "method": "scored",
        "scale": { "min": 0, "max": 10 },
        "pillars": [ { "key": "p", "title": "P", "domains": [
            { "key": "d1", "title": "D1", "applies_to": ["acute", "community"], "questions": [
                { "key": "Q1", "text": "Beds", "type": "number", "bands": [ { "from": 0, "to": 5000, "score": 5 } ] },
                { "key": "Q2", "text": "Wards digital?", "type": "boolean",
                  "enable_when": { "question": "Q1", "operator": ">", "answer": 100 } } ] },
            { "key": "d2", "title": "D2", "applies_to": ["acute"], "questions": [
                { "key": "Q3", "text": "Which?", "type": "multiple_choice",
                  "options": [ { "code": "a", "label": "A", "score": 1 }, { "code": "b", "label": "B", "score": 2 } ],
                  "enable_when": { "question": "Q2", "operator": "=", "answer": true } } ] },
            { "key": "d3", "title": "D3", "applies_to": ["acute", "community"], "questions": [
                { "key": "Q4", "text": "Why b?", "type": "text",
                  "enable_when": { "question": "Q3", "operator": "=", "answer": "b" } },
                { "key": "Q5", "text": "Why not?", "type": "text",
                  "enable_when": { "question": "Q2", "operator": "exists", "answer": false } } ] } ] } ]
    }))
}

#[test]
fn conditions_chain() {
    let f = chain();
    assert_eq!(f.validate(), Ok(()));
    let applicable = |org, given: &Answers| -> Vec<&'static str> {
        let app = Applicability::new(&f, org, given);
        ["Q1", "Q2", "Q3", "Q4", "Q5"]
            .into_iter()
            .filter(|k| app.is_applicable(k))
            .collect()
    };
    let all = answers([
        ("Q1", num(200.0)),
        ("Q2", yes()),
        ("Q3", choices(&["b"])),
        ("Q4", text(".")),
    ]);
    assert_eq!(applicable(OrgType::Acute, &all), ["Q1", "Q2", "Q3", "Q4"]);
    // Q3's domain is not asked of community trusts, so Q4 (which depends on Q3) is not either.
    assert_eq!(applicable(OrgType::Community, &all), ["Q1", "Q2"]);
    // Breaking the chain at its root switches off everything downstream, stale answers included;
    // Q5 (exists = false on Q2) needs Q2 to be applicable, so it is off as well.
    let small = answers([("Q1", num(50.0)), ("Q2", yes()), ("Q3", choices(&["b"]))]);
    assert_eq!(applicable(OrgType::Acute, &small), ["Q1"]);
    let unanswered = answers([("Q1", num(200.0))]);
    assert_eq!(applicable(OrgType::Acute, &unanswered), ["Q1", "Q2", "Q5"]);
    let only_a = answers([("Q1", num(200.0)), ("Q2", yes()), ("Q3", choices(&["a"]))]);
    assert_eq!(applicable(OrgType::Acute, &only_a), ["Q1", "Q2", "Q3"]);
}

#[test]
fn invalid_references_do_not_hold() {
    let mut f = chain();
    // forward reference (invalid framework): treated as not holding, never a loop
    f.pillars[0].domains[0].questions[1].enable_when = vec![EnableWhen {
        question: "Q4".into(),
        operator: "exists".into(),
        answer: Some(AnswerValue::Bool(false)),
        system: None,
        answer_type: None,
    }];
    let none = answers([]);
    assert!(!is_applicable(&f, OrgType::Acute, &none, "Q2"));
}

#[test]
fn missing_mandatory_lists_applicable_unanswered_in_order() {
    let f = scored();
    let none = answers([]);
    assert_eq!(
        missing_mandatory(&f, OrgType::Acute, &none),
        ["R-01", "R-02", "R-04", "R-05", "C-01", "C-02"],
        "R-03 is optional and C-03 is not asked until C-02 is yes"
    );
    assert_eq!(
        missing_mandatory(&f, OrgType::MentalHealth, &none),
        ["R-01", "R-02"]
    );
    assert!(missing_mandatory(&f, OrgType::Ambulance, &none).is_empty());
    let some = answers([
        ("R-01", text("a")),
        ("R-02", text("not a bool")),
        ("C-01", choices(&[])),
        ("C-02", yes()),
    ]);
    assert_eq!(
        missing_mandatory(&f, OrgType::Acute, &some),
        ["R-02", "R-04", "R-05", "C-03"],
        "an invalid answer is no answer; C-03 is now asked"
    );
    let staged = staged();
    let given = answers([("SF-01", num(80.0))]);
    assert_eq!(
        missing_mandatory(&staged, OrgType::Community, &given),
        ["SF-02"]
    );
}

/// One domain of FHIR-shaped items: dates, times, integers, display, a total, group conditions.
fn fhir_shaped() -> crate::domain::framework::Framework {
    framework(json!({
        "key": "f", "title": "F", "version": "1", "method": "scored", "scale": {"min": 0, "max": 3},
        "pillars": [{"key": "p", "title": "P", "domains": [
            {"key": "d1", "title": "D1", "applies_to": ["acute"], "questions": [
                {"key": "intro", "text": "Read this first", "type": "display"},
                {"key": "born", "text": "Date", "type": "date", "mandatory": false},
                {"key": "at", "text": "Time", "type": "time", "mandatory": false},
                {"key": "n", "text": "How many?", "type": "integer", "scored": false, "mandatory": false},
                {"key": "c", "text": "Choose", "type": "single_choice", "options": [
                    {"code": "a", "label": "A", "score": 1}, {"code": "b", "label": "B", "score": 3}]},
                {"key": "sum", "text": "Total", "type": "integer", "mandatory": false,
                 "total": {"of": "framework"}}
            ]},
            {"key": "d2", "title": "D2", "applies_to": ["acute"], "enable_behavior": "any",
             "enable_when": [{"question": "born", "operator": ">", "answer": "2000-01-01"},
                             {"question": "n", "operator": ">=", "answer": 10}],
             "questions": [{"key": "late", "text": "Later", "type": "boolean"}]}
        ]}]
    }))
}

#[test]
fn fhir_shaped_items_are_checked_and_never_answered_where_the_service_fills_them() {
    let f = fhir_shaped();
    assert_eq!(f.validate(), Ok(()));
    let check = |key: &str, v: AnswerValue| check_answer(&f, OrgType::Acute, key, &v);
    assert!(check("born", text("2001-02-03")).is_ok());
    assert!(check("born", text("2001-02")).is_ok());
    assert_eq!(
        check("born", text("3 Feb 2001")).unwrap_err().kind,
        AnswerProblemKind::BadFormat
    );
    assert!(check("at", text("11:11:11")).is_ok());
    assert_eq!(
        check("at", text("25:00:00")).unwrap_err().kind,
        AnswerProblemKind::BadFormat
    );
    assert!(check("n", num(12.0)).is_ok());
    assert_eq!(
        check("n", num(1.5)).unwrap_err().kind,
        AnswerProblemKind::WrongType
    );
    assert_eq!(
        check("intro", text("x")).unwrap_err().kind,
        AnswerProblemKind::NotAnswerable
    );
    assert_eq!(
        check("sum", num(4.0)).unwrap_err().kind,
        AnswerProblemKind::NotAnswerable
    );
    // Display items and totals are never missing.
    let a = answers([("c", text("b"))]);
    assert_eq!(
        missing_mandatory(&f, OrgType::Acute, &a),
        Vec::<String>::new()
    );
}

#[test]
fn a_domain_is_asked_when_any_or_all_of_its_conditions_hold() {
    let mut f = fhir_shaped();
    let none = answers([] as [(&str, AnswerValue); 0]);
    assert!(!is_applicable(&f, OrgType::Acute, &none, "late"));
    let born_late = answers([("born", text("2001-01-01"))]);
    assert!(is_applicable(&f, OrgType::Acute, &born_late, "late"));
    let many = answers([("n", num(10.0))]);
    assert!(is_applicable(&f, OrgType::Acute, &many, "late"));
    f.pillars[0].domains[1].enable_behavior = Some(crate::domain::framework::EnableBehavior::All);
    assert!(!is_applicable(&f, OrgType::Acute, &many, "late"));
    let both = answers([("n", num(10.0)), ("born", text("2001-01-01"))]);
    assert!(is_applicable(&f, OrgType::Acute, &both, "late"));
}

#[test]
fn a_total_sums_the_chosen_options_and_scores_nothing_itself() {
    let f = fhir_shaped();
    let a = answers([("c", text("b")), ("n", num(3.0)), ("late", yes())]);
    let applicability = Applicability::new(&f, OrgType::Acute, &a);
    let (_, _, sum) = f.question("sum").unwrap();
    assert_eq!(
        crate::domain::scoring::total(&f, &applicability, sum),
        Some(3.0)
    );
    let scores = crate::domain::scoring::score(&f, OrgType::Acute, &a);
    // d1: only `c` earns points (3); the unscored integer, the date, time, display and total do not.
    assert_eq!(scores.pillars[0].domains[0].score, Some(3.0));
    // Display and total are not counted as applicable questions; date, time, n and c are.
    assert_eq!(scores.pillars[0].domains[0].applicable, 4);
}

#[test]
fn progress_counts_agree_with_scoring_and_follow_conditions() {
    let f = staged();
    let mut a = answers([("WL-01", yes()), ("WL-12", no()), ("SF-01", num(40.0))]);
    let p = progress(&f, OrgType::Acute, &a);
    let s = crate::domain::scoring::score(&f, OrgType::Acute, &a);
    assert_eq!(p.counts.answered, s.answered);
    assert_eq!(p.counts.applicable, s.applicable);
    for (pp, ps) in p.pillars.iter().zip(&s.pillars) {
        assert_eq!(f.pillars[pp.pillar].key, ps.pillar);
        assert_eq!(
            (pp.counts.answered, pp.counts.applicable),
            (ps.answered, ps.applicable)
        );
    }
    // WL-13 (asked when WL-12 = yes) and SF-02 (when SF-01 >= 50) are not asked yet.
    let governance = &p.pillars[0].domains[1];
    assert!(!governance.questions[3].enabled);
    assert!(!p.pillars[1].domains[0].questions[1].enabled);
    // Mandatory by default, except WL-05: missing are WL-02, WL-03, WL-04, WL-10, WL-11.
    assert_eq!(p.counts.missing_mandatory, 5);
    assert_eq!(
        p.counts.missing_mandatory as usize,
        missing_mandatory(&f, OrgType::Acute, &a).len()
    );
    a.insert(
        "WL-12".into(),
        Answer {
            value: yes(),
            evidence: None,
        },
    );
    let p = progress(&f, OrgType::Acute, &a);
    assert!(p.pillars[0].domains[1].questions[3].enabled);
    assert!(p.pillars[0].domains[1].questions[3].missing);
    assert_eq!(p.counts.missing_mandatory, 6);
}

#[test]
fn progress_leaves_out_domains_the_type_is_not_asked() {
    let f = staged();
    let p = progress(&f, OrgType::MentalHealth, &Answers::new());
    assert_eq!(p.pillars.len(), 1);
    assert_eq!(p.pillars[0].domains.len(), 1);
    assert_eq!(
        f.pillars[0].domains[p.pillars[0].domains[0].domain].key,
        "leadership"
    );
    assert_eq!(p.counts.applicable, 5);
    assert_eq!(p.counts.answered, 0);
}
