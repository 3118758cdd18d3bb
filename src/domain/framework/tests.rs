use serde_json::json;

use super::*;
use crate::domain::fixtures::{framework, scored, staged};

#[test]
fn fixtures_are_valid() {
    assert_eq!(scored().validate(), Ok(()));
    assert_eq!(staged().validate(), Ok(()));
}

#[test]
fn json_round_trips_with_defaults_and_omissions() {
    let f = framework(json!({
        "key": "k", "title": "t", "version": "1", "method": "scored", "scale": { "min": 1, "max": 5 },
        "pillars": [ { "key": "p", "title": "P", "domains": [ { "key": "d", "title": "D",
            "applies_to": ["acute"], "questions": [ { "key": "Q1", "text": "?", "type": "boolean" } ] } ] } ]
    }));
    let question = &f.pillars[0].domains[0].questions[0];
    assert!(question.mandatory);
    assert_eq!(question.weight, 1.0);
    assert_eq!(question.kind, QuestionType::Boolean);
    assert!(question.options.is_empty() && question.bands.is_empty());
    assert_eq!((question.level, question.enable_when.len()), (None, 0));
    let out = serde_json::to_value(&f).unwrap();
    assert_eq!(
        out["pillars"][0]["domains"][0]["questions"][0]["type"],
        "boolean"
    );
    for absent in ["help", "options", "bands", "level", "enable_when"] {
        assert!(
            out["pillars"][0]["domains"][0]["questions"][0]
                .get(absent)
                .is_none(),
            "{absent}"
        );
    }
    assert!(out.get("description").is_none() && out.get("carries_over").is_none());
    for f in [scored(), staged()] {
        let again: Framework = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(again, f);
    }
}

#[test]
fn wire_names_are_the_contract() {
    let out = serde_json::to_value(staged()).unwrap();
    assert_eq!(out["method"], "staged");
    assert_eq!(out["carries_over"]["questions"]["WL-01"], "WL-1");
    let leadership = &out["pillars"][0]["domains"][0];
    assert_eq!(leadership["applies_to"], json!(["acute", "mental_health"]));
    assert_eq!(leadership["questions"][1]["type"], "single_choice");
    assert_eq!(leadership["questions"][1]["options"][0]["meets"], true);
    assert!(
        leadership["questions"][1]["options"][1]
            .get("meets")
            .is_none()
    );
    let governance = &out["pillars"][0]["domains"][1];
    assert_eq!(
        governance["questions"][3]["enable_when"],
        json!({ "question": "WL-12", "operator": "=", "answer": true })
    );
    let unknown_type = serde_json::from_value::<QuestionType>(json!("likert"));
    assert!(unknown_type.is_err());
}

#[test]
fn enable_when_reads_one_condition_or_a_one_element_list() {
    let question = |enable_when: serde_json::Value| {
        serde_json::from_value::<Question>(json!({
            "key": "Q2", "text": "?", "type": "boolean", "enable_when": enable_when
        }))
    };
    let condition = json!({ "question": "Q1", "operator": "=", "answer": true });
    let one = question(condition.clone()).unwrap();
    let list = question(json!([condition.clone()])).unwrap();
    assert_eq!(one, list);
    assert_eq!(
        serde_json::to_value(&list).unwrap()["enable_when"],
        condition
    );
    assert!(question(json!(null)).unwrap().enable_when.is_empty());
    // Several conditions (FHIR) are a list, written back as one.
    let two = question(json!([condition.clone(), condition.clone()])).unwrap();
    assert_eq!(two.enable_when.len(), 2);
    assert_eq!(
        serde_json::to_value(&two).unwrap()["enable_when"],
        json!([condition.clone(), condition])
    );
    assert!(question(json!([])).unwrap().enable_when.is_empty());
    assert!(
        question(json!({ "question": "Q1" })).is_err(),
        "operator is required"
    );
}

#[test]
fn look_ups() {
    let f = scored();
    let keys: Vec<&str> = f.questions().map(|(_, _, q)| q.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "R-01", "R-02", "R-03", "R-04", "R-05", "C-01", "C-02", "C-03"
        ]
    );
    assert_eq!(f.question_count(), 8);
    let (p, d, q) = f.question("R-04").unwrap();
    assert_eq!(
        (p.key.as_str(), d.key.as_str(), q.key.as_str()),
        ("readiness", "workforce", "R-04")
    );
    assert!(f.question("R-99").is_none());
    assert_eq!(
        q.band_for(20.0).and_then(|b| b.score),
        Some(0.0),
        "first band wins"
    );
    assert_eq!(q.band_for(20.5).and_then(|b| b.score), Some(50.0));
    assert!(q.band_for(100.5).is_none());
    assert!(f.question("R-01").unwrap().2.option("c").is_some());
    assert!(f.applies_to_type(OrgType::Community));
    assert!(!f.applies_to_type(OrgType::Ambulance));
    let pillars: Vec<&str> = f
        .pillars_for(OrgType::MentalHealth)
        .map(|p| p.key.as_str())
        .collect();
    assert_eq!(pillars, ["readiness"]);
    let domains: Vec<&str> = f.pillars[0]
        .domains_for(OrgType::Acute)
        .map(|d| d.key.as_str())
        .collect();
    assert_eq!(domains, ["strategy", "workforce"]);
    assert!(staged().is_staged() && !f.is_staged());
}

#[test]
fn operators_parse() {
    for op in Operator::ALL {
        assert_eq!(Operator::parse(op.as_str()), Some(op));
        assert_eq!(serde_json::to_value(op).unwrap(), json!(op.as_str()));
    }
    assert_eq!(Operator::parse("=="), None);
    assert!(Operator::Ge.is_ordering() && !Operator::Ne.is_ordering());
}

#[test]
fn problems_serialize_as_path_and_message() {
    let problem = Problem {
        path: "key".into(),
        message: "must not be empty".into(),
    };
    assert_eq!(
        serde_json::to_value(problem).unwrap(),
        json!({ "path": "key", "message": "must not be empty" })
    );
}
