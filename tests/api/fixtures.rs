//! Small frameworks whose scores are worked out by hand, and set-up helpers.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

/// A 2015/16-style scored framework on 0–100.
/// Acute, answering R1=some, R2=yes, R3=5, C1=60, C2=[orders,results,eprescribing]:
/// strategy = (50·2 + 100·1 + 75·1)/4 = 68.75; records = (80 + min(120,100))/2 = 90;
/// overall = (68.75 + 90)/2 = 79.375.
pub fn scored_framework() -> Value {
    json!({
      "key": "sa-test", "title": "Scored self-assessment", "version": "1", "method": "scored",
      "scale": {"min": 0, "max": 100},
      "pillars": [
        {"key": "readiness", "title": "Readiness", "domains": [
          {"key": "strategy", "title": "Strategy", "applies_to": ["acute", "mental_health"], "questions": [
            {"key": "R1", "text": "Is there a board-approved digital strategy?", "type": "single_choice", "weight": 2,
             "options": [{"code": "none", "label": "No", "score": 0}, {"code": "some", "label": "In draft", "score": 50},
                         {"code": "full", "label": "Approved", "score": 100}]},
            {"key": "R2", "text": "Is there a named digital lead?", "type": "boolean"},
            {"key": "R3", "text": "How many digital pilots ran this year?", "type": "number", "mandatory": false,
             "bands": [{"from": 0, "to": 2, "score": 25}, {"from": 3, "to": 100, "score": 75}],
             "enable_when": {"question": "R2", "operator": "=", "answer": true}},
            {"key": "R4", "text": "Anything else?", "type": "text", "mandatory": false}
          ]}
        ]},
        {"key": "capabilities", "title": "Capabilities", "domains": [
          {"key": "records", "title": "Records", "applies_to": ["acute"], "questions": [
            {"key": "C1", "text": "Share of wards on the EPR", "type": "percentage",
             "bands": [{"from": 0, "to": 49.99, "score": 20}, {"from": 50, "to": 100, "score": 80}]},
            {"key": "C2", "text": "Which EPR modules are live?", "type": "multiple_choice",
             "options": [{"code": "orders", "label": "Orders", "score": 40}, {"code": "results", "label": "Results", "score": 40},
                         {"code": "eprescribing", "label": "ePrescribing", "score": 40}]}
          ]},
          {"key": "mh_records", "title": "Care plans", "applies_to": ["mental_health"], "questions": [
            {"key": "C3", "text": "Are care plans digital?", "type": "boolean"}
          ]}
        ]}
      ]
    })
}

/// A staged framework on 1–5. Acute answering CY2 yes, CY3 all, CY4 no, CY5 yes → cyber 3;
/// EP2–EP4 yes, EP5 no → epr 4; WL2 yes, WL3 no, WL4 yes, WL5 yes → strategy 2;
/// smart_foundations 3.5, well_led 2, overall 2.75.
pub fn staged_framework() -> Value {
    let yes_no = |key: &str, text: &str, level: u8| json!({"key": key, "text": text, "type": "boolean", "level": level});
    json!({
      "key": "dma-test", "title": "Staged test", "version": "1", "method": "staged",
      "scale": {"min": 1, "max": 5},
      "pillars": [
        {"key": "smart_foundations", "title": "Ensure smart foundations", "domains": [
          {"key": "cyber", "title": "Cyber resilience", "applies_to": ["acute", "mental_health"], "questions": [
            yes_no("CY2", "Are all DSPT standards met?", 2),
            {"key": "CY3", "text": "Multi-factor authentication coverage", "type": "single_choice", "level": 3,
             "options": [{"code": "none", "label": "None", "meets": false}, {"code": "most", "label": "Most accounts", "meets": false},
                         {"code": "all", "label": "All accounts", "meets": true}]},
            yes_no("CY4", "Are offline backups restore-tested?", 4),
            yes_no("CY5", "Has an external red-team exercise run?", 5)
          ]},
          {"key": "epr", "title": "Electronic patient record", "applies_to": ["acute"], "questions": [
            yes_no("EP2", "Is an EPR live?", 2),
            {"key": "EP3", "text": "Is the EPR live in the emergency department?", "type": "boolean", "level": 3,
             "enable_when": {"question": "EP2", "operator": "=", "answer": true}},
            yes_no("EP4", "Is medication administration closed-loop?", 4),
            yes_no("EP5", "Is clinical decision support live?", 5)
          ]}
        ]},
        {"key": "well_led", "title": "Well led", "domains": [
          {"key": "strategy", "title": "Strategy", "applies_to": ["acute", "mental_health"], "questions": [
            yes_no("WL2", "Is there a digital strategy?", 2),
            yes_no("WL3", "Is there a CCIO on the board?", 3),
            yes_no("WL4", "Has the board had digital training?", 4),
            yes_no("WL5", "Are benefits tracked?", 5)
          ]}
        ]}
      ]
    })
}

/// Creates and publishes a framework, then creates and opens a round on it.
pub async fn open_round(app: &TestApp, framework: Value, round: &str) {
    open_round_at(app, framework, round, "2026-01-01T00:00:00Z").await;
}

/// As [`open_round`], with the round opening at `opens_at`.
pub async fn open_round_at(app: &TestApp, framework: Value, round: &str, opens_at: &str) {
    let a = app.admin();
    let key = framework["key"].as_str().unwrap().to_owned();
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&a),
        Some(framework),
    )
    .await
    .assert_ok(201);
    app.send(
        Method::POST,
        &format!("/api/v1/frameworks/{key}/publish"),
        Some(&a),
        None,
    )
    .await
    .assert_ok(200);
    open_round_on(app, &key, round, opens_at, "2027-03-31T00:00:00Z").await;
}

/// Creates round `round` on the published framework `framework` and opens it.
pub async fn open_round_on(app: &TestApp, framework: &str, round: &str, opens: &str, closes: &str) {
    let a = app.admin();
    let body = json!({"key": round, "title": format!("Round {round}"), "framework": framework,
                      "opens_at": opens, "closes_at": closes});
    app.send(Method::POST, "/api/v1/rounds", Some(&a), Some(body))
        .await
        .assert_ok(201);
    app.send(
        Method::POST,
        &format!("/api/v1/rounds/{round}/open"),
        Some(&a),
        None,
    )
    .await
    .assert_ok(200);
}

pub fn answers(pairs: &[(&str, Value)]) -> Value {
    json!({"answers": pairs.iter().map(|(q, v)| json!({"question": q, "value": v})).collect::<Vec<_>>()})
}

pub async fn save(
    app: &TestApp,
    token: &str,
    round: &str,
    ods: &str,
    body: Value,
) -> crate::harness::Reply {
    app.send(
        Method::PUT,
        &format!("/api/v1/rounds/{round}/assessments/{ods}/answers"),
        Some(token),
        Some(body),
    )
    .await
}

pub async fn submit(app: &TestApp, token: &str, round: &str, ods: &str) -> crate::harness::Reply {
    app.send(
        Method::POST,
        &format!("/api/v1/rounds/{round}/assessments/{ods}/submit"),
        Some(token),
        None,
    )
    .await
}

#[track_caller]
pub fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

/// Round `2026-27` on the scored framework with RA7 and RJ1 (acute answers) and RNK submitted.
pub async fn two_submitted(app: &TestApp) {
    open_round(app, scored_framework(), "2026-27").await;
    let t = app.submitter(&["RA7", "RJ1", "RNK"]);
    let acute = answers(&[
        ("R1", json!("some")),
        ("R2", json!(true)),
        ("R3", json!(5)),
        ("C1", json!(60)),
        ("C2", json!(["orders", "results", "eprescribing"])),
    ]);
    for ods in ["RA7", "RJ1"] {
        save(app, &t, "2026-27", ods, acute.clone())
            .await
            .assert_ok(200);
        submit(app, &t, "2026-27", ods).await.assert_ok(200);
    }
    save(
        app,
        &t,
        "2026-27",
        "RNK",
        answers(&[
            ("R1", json!("full")),
            ("R2", json!(false)),
            ("C3", json!(true)),
        ]),
    )
    .await
    .assert_ok(200);
    submit(app, &t, "2026-27", "RNK").await.assert_ok(200);
}
