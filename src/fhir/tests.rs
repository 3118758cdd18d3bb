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
