//! `divergence-v2` through the API: the worked example of `docs/divergence-v2.md` (two staged
//! pillars, eight acute trusts, three rounds) submitted as real returns, and the endpoint's rows
//! compared field by field with the independent script's figures
//! (`docs/divergence_v2_example.json`, from `docs/divergence_v2_example.py`).

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::fixtures::{answers, open_round_on, save, submit};
use crate::harness::TestApp;

const EXAMPLE: &str = include_str!("../../docs/divergence_v2_example.json");

/// Acute trusts of the register standing for A–H of the example.
const ORGS: [&str; 8] = ["R0A", "R0B", "R0D", "R1F", "R1H", "R1K", "RA2", "RA7"];

fn stand_in(letter: &str) -> &'static str {
    let i = (letter.as_bytes()[0] - b'A') as usize;
    ORGS[i]
}

/// A staged framework whose pillars have the example's numbers of domains, each domain with one
/// yes/no criterion per level 2–5, so any whole level 1–5 can be answered.
fn framework(pillars: &serde_json::Map<String, Value>) -> Value {
    let pillars: Vec<Value> = pillars
        .iter()
        .map(|(p, d)| {
            let domains: Vec<Value> = (1..=d.as_u64().unwrap())
                .map(|k| {
                    let questions: Vec<Value> = (2..=5)
                        .map(|level| {
                            json!({"key": format!("{p}-{k}-{level}"), "text": format!("Criterion {level}"),
                                   "type": "boolean", "level": level})
                        })
                        .collect();
                    json!({"key": format!("{p}{k}"), "title": format!("{p} {k}"),
                           "applies_to": ["acute"], "questions": questions})
                })
                .collect();
            json!({"key": p, "title": p, "domains": domains})
        })
        .collect();
    json!({"key": "v2example", "title": "divergence-v2 worked example", "version": "1",
           "method": "staged", "scale": {"min": 1, "max": 5}, "pillars": pillars})
}

/// The answers giving each domain its level: criteria up to the level met, the rest not.
fn levels_to_answers(levels: &serde_json::Map<String, Value>) -> Value {
    let mut pairs: Vec<(String, Value)> = Vec::new();
    for (p, ls) in levels {
        for (k, l) in ls.as_array().unwrap().iter().enumerate() {
            let l = l.as_u64().unwrap();
            for level in 2..=5 {
                pairs.push((format!("{p}-{}-{level}", k + 1), json!(level <= l)));
            }
        }
    }
    let refs: Vec<(&str, Value)> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    answers(&refs)
}

/// Every number of `expected` within 1e-4 relative (1e-9 absolute near zero) of `actual`;
/// strings, arrays and nulls exactly. Returns the count of numbers compared.
fn compare(path: &str, expected: &Value, actual: &Value) -> usize {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            assert!(
                (e - a).abs() <= (1e-4 * e.abs()).max(1e-9),
                "{path}: expected {e}, endpoint {a}"
            );
            1
        }
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .filter(|(k, _)| k.as_str() != "org_id")
            .map(|(k, v)| {
                let got = a.get(k).unwrap_or_else(|| panic!("{path}.{k} missing"));
                compare(&format!("{path}.{k}"), v, got)
            })
            .sum(),
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{path}: {expected} vs {actual}");
            e.iter()
                .zip(a)
                .enumerate()
                .map(|(i, (x, y))| compare(&format!("{path}[{i}]"), x, y))
                .sum()
        }
        _ => {
            assert_eq!(expected, actual, "{path}");
            0
        }
    }
}

async fn example() -> (TestApp, Value) {
    let doc: Value = serde_json::from_str(EXAMPLE).unwrap();
    let input = &doc["input"];
    let app = TestApp::new();
    let a = app.admin();
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&a),
        Some(framework(input["pillars"].as_object().unwrap())),
    )
    .await
    .assert_ok(201);
    app.send(
        Method::POST,
        "/api/v1/frameworks/v2example/publish",
        Some(&a),
        None,
    )
    .await
    .assert_ok(200);
    for round in input["rounds"].as_array().unwrap() {
        let key = round.as_str().unwrap();
        let year: i32 = key.parse().unwrap();
        let (opens, closes) = (
            format!("{year}-04-01T00:00:00Z"),
            format!("{}-03-31T00:00:00Z", year + 1),
        );
        open_round_on(&app, "v2example", key, &opens, &closes).await;
        for org in input["orgs"].as_array().unwrap() {
            let ods = stand_in(org["ods"].as_str().unwrap());
            let levels = org["levels"][key].as_object().unwrap();
            save(&app, &a, key, ods, levels_to_answers(levels))
                .await
                .assert_ok(200);
            submit(&app, &a, key, ods).await.assert_ok(200);
        }
        app.send(
            Method::POST,
            &format!("/api/v1/rounds/{key}/close"),
            Some(&a),
            None,
        )
        .await
        .assert_ok(200);
    }
    (app, doc)
}

#[actix_web::test]
async fn the_v2_worked_example_comes_out_of_the_endpoint_field_by_field() {
    let (app, doc) = example().await;
    let r = app
        .get("/api/v1/rounds/2025/divergence", Some(&app.analyst()))
        .await;
    let body = r.assert_ok(200);
    assert_eq!(
        body["method"]["version"], "divergence-v2",
        "v2 is the default"
    );
    assert_eq!(body["method"]["families"], "round");
    assert_eq!(body["method"]["family_sizes"]["round"], 72);
    assert!(
        body["method"]["power"]
            .as_str()
            .unwrap()
            .contains("detectable_gap")
    );
    let rows = body["rows"].as_array().unwrap();
    let expected = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    let mut checked = 0;
    for e in expected {
        let ods = stand_in(e["org_id"].as_str().unwrap());
        let pillar = e["pillar"].as_str().unwrap();
        let got = rows
            .iter()
            .find(|r| r["org_id"] == ods && r["pillar"] == pillar)
            .unwrap_or_else(|| panic!("no row {ods}/{pillar}"));
        checked += compare(&format!("{ods}/{pillar}"), e, got);
    }
    assert!(checked > 500, "{checked}");
}

#[actix_web::test]
async fn v1_stays_selectable_and_differs_where_the_grid_mattered() {
    let (app, _) = example().await;
    let t = app.analyst();
    let v1 = app
        .get(
            "/api/v1/rounds/2025/divergence?method=divergence-v1&pillar=beta",
            Some(&t),
        )
        .await;
    let body = v1.assert_ok(200);
    assert_eq!(body["method"]["version"], "divergence-v1");
    assert_eq!(body["method"]["families"], "metric_and_scope");
    // G's change: v1 reads MeanAD of a spike and flags it; v2 reads the grid step and watches.
    let g = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["org_id"] == stand_in("G"))
        .unwrap();
    assert!(
        g["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "PROGRESS_ABOVE_PEERS")
    );
    assert!(g["change"]["detectable_gap"].is_null());
    assert!(g["reference"]["resolution"].is_null());
    app.get(
        "/api/v1/rounds/2025/divergence?method=divergence-v3",
        Some(&t),
    )
    .await
    .assert_problem(422);
    let csv = app
        .get("/api/v1/rounds/2025/divergence?format=csv", Some(&t))
        .await;
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let g = records
        .iter()
        .find(|r| &r[col("ods_code")] == stand_in("G") && &r[col("pillar")] == "beta")
        .unwrap();
    assert_eq!(&g[col("method")], "divergence-v2");
    assert!(g[col("statuses")].contains("WATCH"));
    assert!(!g[col("change_detectable_gap")].is_empty());
}
