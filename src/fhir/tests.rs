//! Round trips through the FHIR mapping, on the HL7 examples in `tests/fhir/questionnaires` and
//! on the seeded framework: export(import(Q)) keeps every linkId, text, type, option
//! code/display/score, `required`, `repeats`, `enableWhen` and `enableBehavior`.

use fhir_model::r4b::resources::Questionnaire;
use serde_json::{Value, json};

use super::questionnaire::{export, import};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fhir/questionnaires/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn parse(value: &Value) -> Questionnaire {
    serde_json::from_value(value.clone()).unwrap()
}

/// Options of an item as (code, display, score), from `answerOption` or a contained ValueSet.
fn options(q: &Value, item: &Value) -> Vec<Value> {
    let score = |e: &Value| {
        e["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|x| {
                let url = x["url"].as_str()?;
                (url.ends_with("ordinalValue") || url.ends_with("itemWeight"))
                    .then(|| x["valueDecimal"].as_f64().or(x["valueInteger"].as_f64()))?
            })
    };
    if let Some(list) = item["answerOption"].as_array() {
        return list
            .iter()
            .map(|o| match o.get("valueCoding") {
                Some(c) => json!([
                    c["code"],
                    c["display"].as_str().or(c["code"].as_str()),
                    score(o).or(score(c))
                ]),
                None => {
                    let (_, v) = o
                        .as_object()
                        .unwrap()
                        .iter()
                        .find(|(k, _)| k.starts_with("value"))
                        .unwrap();
                    json!([
                        v.to_string().trim_matches('"'),
                        v.to_string().trim_matches('"'),
                        score(o)
                    ])
                }
            })
            .collect();
    }
    let Some(id) = item["answerValueSet"]
        .as_str()
        .and_then(|r| r.strip_prefix('#'))
    else {
        return Vec::new();
    };
    let vs = q["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    let mut out = Vec::new();
    for include in vs["compose"]["include"].as_array().into_iter().flatten() {
        for c in include["concept"].as_array().into_iter().flatten() {
            out.push(json!([
                c["code"],
                c["display"].as_str().or(c["code"].as_str()),
                score(c)
            ]));
        }
    }
    out
}

/// The compared shape of an item tree.
fn shape(q: &Value, items: &Value) -> Vec<Value> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| !is_help(i))
        .map(|i| {
            json!({
                "linkId": i["linkId"],
                "text": i["text"],
                "type": i["type"],
                "required": i["required"].as_bool().unwrap_or(false),
                "repeats": i["repeats"].as_bool().unwrap_or(false),
                "enableWhen": i["enableWhen"],
                "enableBehavior": i["enableBehavior"],
                "options": options(q, i),
                "answerValueSet": i["answerValueSet"].as_str().filter(|r| !r.starts_with('#')),
                "item": shape(q, &i["item"]),
            })
        })
        .collect()
}

fn is_help(item: &Value) -> bool {
    item["type"] == "display" && item.to_string().contains("\"code\":\"help\"")
}

fn round_trip(original: &Value) -> Value {
    let imported = import(&parse(original)).unwrap_or_else(|issues| panic!("{issues:#?}"));
    serde_json::to_value(export(&imported.framework, false).unwrap()).unwrap()
}

#[test]
fn hl7_examples_survive_a_round_trip_item_by_item() {
    for name in [
        "questionnaire-sdc-test-enablewhen.json",
        "r4-example-gcs.json",
        "sdc-example-item-weight.json",
        "phq2-total.json",
    ] {
        let original = fixture(name);
        let back = round_trip(&original);
        assert_eq!(
            shape(&back, &back["item"]),
            shape(&original, &original["item"]),
            "{name}"
        );
        if original.get("url").is_some() {
            assert_eq!(back["url"], original["url"], "{name}");
        }
        if original.get("version").is_some() {
            assert_eq!(back["version"], original["version"], "{name}");
        }
        // A second trip changes nothing at all.
        assert_eq!(round_trip(&back), back, "{name}");
    }
}

/// Drops `repeats` from every group (what keeps the nested-groups example out).
fn without_repeating_groups(mut value: Value) -> Value {
    fn walk(items: &mut Value) {
        for item in items.as_array_mut().into_iter().flatten() {
            if item["type"] == "group" {
                item.as_object_mut().unwrap().remove("repeats");
            }
            if let Some(children) = item.get_mut("item") {
                walk(children);
            }
        }
    }
    walk(&mut value["item"]);
    value
}

#[test]
fn groups_nested_below_the_domain_and_items_under_questions_survive_a_round_trip() {
    let original = without_repeating_groups(fixture("refused-sdc-test-nested-groups.json"));
    let back = round_trip(&original);
    assert_eq!(
        shape(&back, &back["item"]),
        shape(&original, &original["item"])
    );
    // Depth beyond pillar and domain is held as `group` items naming their parent.
    let imported = import(&parse(&original)).unwrap().framework;
    let nested: Vec<_> = imported
        .questions()
        .filter(|(_, _, q)| q.parent.is_some())
        .collect();
    assert!(!nested.is_empty());
}

#[test]
fn what_the_model_cannot_hold_is_refused_with_every_path() {
    for name in [
        "refused-sdc-example-phq9.json",
        "refused-sdc-test-nested-groups.json",
        "refused-sdc-test-all-data-types.json",
        // its calculatedExpression chooses a coding: not a sum the service can compute
        "refused-sdc-example-hunger-vital-signs.json",
    ] {
        let issues = import(&parse(&fixture(name))).unwrap_err();
        assert!(!issues.is_empty(), "{name}");
        for issue in &issues {
            let path = issue.expression.as_deref().unwrap_or("");
            assert!(path.starts_with("Questionnaire"), "{name}: {issue:?}");
        }
    }
}

#[test]
fn the_seeded_framework_survives_a_round_trip() {
    let seeded: crate::domain::framework::Framework =
        serde_json::from_str(crate::seed::WGLL_FRAMEWORK).unwrap();
    let exported = serde_json::to_value(export(&seeded, true).unwrap()).unwrap();
    assert_eq!(exported["status"], "active");
    let back = import(&parse(&exported))
        .unwrap_or_else(|issues| panic!("{issues:#?}"))
        .framework;
    assert_eq!(back.pillars, seeded.pillars);
    assert_eq!((back.method, back.scale), (seeded.method, seeded.scale));
}

fn two_systems() -> crate::domain::framework::Framework {
    serde_json::from_value(json!({
        "key": "codes", "title": "Codes", "version": "1", "method": "scored",
        "scale": {"min": 0, "max": 2},
        "pillars": [{"key": "p", "title": "P", "domains": [{"key": "d", "title": "D",
            "applies_to": ["acute"], "questions": [
                {"key": "Q", "text": "Which?", "type": "single_choice", "options": [
                    {"code": "1", "system": "http://a.example", "label": "A one", "score": 1},
                    {"code": "1", "system": "http://b.example", "label": "B one", "score": 2},
                    {"code": "2", "system": "http://a.example", "label": "A two", "score": 0}]}]}]}]
    }))
    .unwrap()
}

fn response_with(answer: Value) -> fhir_model::r4b::resources::QuestionnaireResponse {
    serde_json::from_value(json!({
        "resourceType": "QuestionnaireResponse", "status": "in-progress",
        "item": [{"linkId": "p", "item": [{"linkId": "d", "item": [{"linkId": "Q", "answer": [answer]}]}]}]
    }))
    .unwrap()
}

#[test]
fn codings_match_on_system_and_code_or_on_an_unambiguous_code() {
    use crate::domain::organisation::OrgType;
    use crate::fhir::response::read_answers;
    let f = two_systems();
    let read = |answer: Value| read_answers(&response_with(answer), &f, OrgType::Acute);
    // Code alone, when one option has it.
    let got = read(json!({"valueCoding": {"code": "2"}})).unwrap();
    assert_eq!(
        got.answers["Q"].value,
        crate::domain::answers::AnswerValue::Text("2".into())
    );
    // Code alone, when two options have it: refused, asking for the system.
    let issues = read(json!({"valueCoding": {"code": "1"}})).unwrap_err();
    assert!(
        issues[0].diagnostics.contains("send its system"),
        "{issues:?}"
    );
    assert_eq!(
        issues[0].expression.as_deref(),
        Some("QuestionnaireResponse.item[0].item[0].item[0].answer[0].valueCoding.system")
    );
    // System and code pick one; a system that does not have the code picks none.
    assert!(read(json!({"valueCoding": {"system": "http://b.example", "code": "1"}})).is_ok());
    assert!(read(json!({"valueCoding": {"system": "http://c.example", "code": "1"}})).is_err());
}

#[test]
fn a_response_goes_out_with_its_groups_answers_and_evidence() {
    use crate::domain::answers::{Answer, AnswerValue, Answers};
    use crate::domain::organisation::OrgType;
    use crate::fhir::response::{ReturnView, Status, export};
    let f = two_systems();
    let mut answers = Answers::new();
    answers.insert(
        "Q".into(),
        Answer {
            value: AnswerValue::Text("2".into()),
            evidence: Some("Minute 4".into()),
        },
    );
    let qr = export(&ReturnView {
        id: "abc",
        version: 3,
        updated_at: chrono::Utc::now(),
        framework: &f,
        questionnaire: "https://fhir.dma.nhs.uk/Questionnaire/codes|1".into(),
        round: "r1",
        ods: "RA7",
        organisation_name: "Trust",
        org_type: OrgType::Acute,
        status: Status::InProgress,
        answers: &answers,
        scores: None,
        warnings: &[],
    })
    .unwrap();
    let v = serde_json::to_value(&qr).unwrap();
    let q = &v["item"][0]["item"][0]["item"][0];
    assert_eq!(q["linkId"], "Q");
    assert_eq!(
        q["answer"][0]["valueCoding"],
        json!({"system": "http://a.example", "code": "2", "display": "A two"})
    );
    assert_eq!(q["answer"][0]["extension"][0]["valueString"], "Minute 4");
    assert_eq!(
        v["subject"]["identifier"]["system"],
        "https://fhir.nhs.uk/Id/ods-organization-code"
    );
    assert_eq!(v["meta"]["versionId"], "3");
    // And it reads back as the same answers.
    let back: fhir_model::r4b::resources::QuestionnaireResponse =
        serde_json::from_value(v).unwrap();
    let read = crate::fhir::response::read_answers(&back, &f, OrgType::Acute).unwrap();
    assert_eq!(read.answers, answers);
}

#[test]
fn a_total_keeps_what_it_sums_and_no_condition_is_dropped() {
    let mut f = two_systems();
    // (codes are unique within a question in a stored framework)
    f.pillars[0].domains[0].questions[0].options[1].code = "3".into();
    let extra: Vec<crate::domain::framework::Question> = serde_json::from_value(json!([
        {"key": "when", "text": "When?", "type": "date", "mandatory": false},
        {"key": "later", "text": "Later?", "type": "boolean", "scored": false, "mandatory": false,
         "enable_when": [{"question": "when", "operator": ">", "answer": "2024-1-5"},
                         {"question": "Q", "operator": "=", "answer": "2"}]},
        {"key": "all", "text": "Total", "type": "integer", "mandatory": false,
         "total": {"of": "framework"}}
    ]))
    .unwrap();
    f.pillars[0].domains[0].questions.extend(extra);
    assert_eq!(f.validate(), Ok(()));
    let exported = serde_json::to_value(export(&f, false).unwrap()).unwrap();
    let back = import(&parse(&exported)).unwrap().framework;
    let (_, _, total) = back.question("all").unwrap();
    assert_eq!(
        total.total.as_ref().unwrap().of,
        crate::domain::framework::TotalOf::Framework
    );
    let (_, _, later) = back.question("later").unwrap();
    assert_eq!(
        later.enable_when.len(),
        2,
        "a date FHIR cannot read still travels, as text"
    );
    let items = &exported["item"][0]["item"][0]["item"];
    assert_eq!(
        items[2]["enableBehavior"], "all",
        "two conditions need enableBehavior (que-12)"
    );
}
