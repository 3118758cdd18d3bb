//! Returns: partial saves, submission with scores computed by hand, re-opening, concurrency,
//! refusals that change nothing, and who may see what.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::fixtures::{
    answers, close, open_round, save, scored_framework, staged_framework, submit,
};
use crate::harness::TestApp;

const ROUND: &str = "2026-27";
const PATH: &str = "/api/v1/rounds/2026-27/assessments";

fn pillar<'a>(scores: &'a Value, key: &str) -> &'a Value {
    scores["pillars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pillar"] == key)
        .unwrap()
}

/// Every mandatory question of the scored fixture answered for an acute trust.
fn full_scored_return() -> Value {
    answers(&[
        ("R1", json!("some")),
        ("R2", json!(true)),
        ("R3", json!(5)),
        ("C1", json!(60)),
        ("C2", json!(["orders"])),
    ])
}

#[actix_web::test]
async fn a_scored_return_over_several_sittings_scores_as_worked_by_hand() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    let first = save(
        &app,
        &t,
        ROUND,
        "RA7",
        answers(&[("R1", json!("some")), ("R2", json!(true))]),
    )
    .await;
    assert_eq!(first.assert_ok(200)["status"], "draft");
    assert_eq!(first.header("etag"), Some("\"1\""));
    let mut body = answers(&[
        ("R3", json!(5)),
        ("C1", json!(60)),
        ("C2", json!(["orders", "results", "eprescribing"])),
    ]);
    body["answers"][1]["evidence"] = json!("EPR roll-out report, board paper 2026/14");
    let second = save(&app, &t, ROUND, "RA7", body).await;
    let view = second.assert_ok(200);
    assert_eq!(view["answers"].as_object().unwrap().len(), 5, "saves merge");
    assert_eq!(
        view["answers"]["C1"]["evidence"],
        "EPR roll-out report, board paper 2026/14"
    );
    assert_eq!(view["missing_mandatory"], json!([]));

    let submitted = submit(&app, &t, ROUND, "RA7").await;
    let s = &submitted.assert_ok(200)["scores"];
    close(pillar(s, "readiness")["score"].as_f64().unwrap(), 68.75);
    close(pillar(s, "capabilities")["score"].as_f64().unwrap(), 90.0);
    close(s["score"].as_f64().unwrap(), 79.375);
    close(pillar(s, "readiness")["coverage"].as_f64().unwrap(), 0.75);

    save(&app, &t, ROUND, "RA7", answers(&[("R1", json!("full"))]))
        .await
        .assert_problem(409);
    let read = app.get(&format!("{PATH}/RA7"), Some(&app.analyst())).await;
    assert_eq!(read.assert_ok(200)["status"], "submitted");
    close(read.json["scores"]["score"].as_f64().unwrap(), 79.375);
}

#[actix_web::test]
async fn a_condition_that_does_not_hold_removes_its_question() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    let body = answers(&[
        ("R1", json!("some")),
        ("R2", json!(false)),
        ("R3", json!(5)),
        ("C1", json!(10)),
        ("C2", json!([])),
    ]);
    save(&app, &t, ROUND, "RA7", body).await.assert_ok(200);
    let s = submit(&app, &t, ROUND, "RA7").await;
    let scores = &s.assert_ok(200)["scores"];
    // R3 is not asked when R2 is no: strategy = (50·2 + 0·1)/3; records = (20 + 0)/2.
    close(
        pillar(scores, "readiness")["score"].as_f64().unwrap(),
        100.0 / 3.0,
    );
    close(
        pillar(scores, "capabilities")["score"].as_f64().unwrap(),
        10.0,
    );
}

#[actix_web::test]
async fn a_staged_return_reaches_the_level_whose_criteria_are_all_met() {
    let app = TestApp::new();
    open_round(&app, staged_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    let body = answers(&[
        ("CY2", json!(true)),
        ("CY3", json!("all")),
        ("CY4", json!(false)),
        ("CY5", json!(true)),
        ("EP2", json!(true)),
        ("EP3", json!(true)),
        ("EP4", json!(true)),
        ("EP5", json!(false)),
        ("WL2", json!(true)),
        ("WL3", json!(false)),
        ("WL4", json!(true)),
        ("WL5", json!(true)),
    ]);
    save(&app, &t, ROUND, "RA7", body).await.assert_ok(200);
    let s = submit(&app, &t, ROUND, "RA7").await;
    let scores = &s.assert_ok(200)["scores"];
    let sf = pillar(scores, "smart_foundations");
    let level = |d: &str| {
        sf["domains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["domain"] == d)
            .unwrap()["score"]
            .as_f64()
            .unwrap()
    };
    close(level("cyber"), 3.0);
    close(level("epr"), 4.0);
    close(sf["score"].as_f64().unwrap(), 3.5);
    close(pillar(scores, "well_led")["score"].as_f64().unwrap(), 2.0);
    close(scores["score"].as_f64().unwrap(), 2.75);

    // A mental health trust is not asked the EPR domain: only cyber and strategy count.
    let mh = app.submitter(&["RNK"]);
    let rnk = answers(&[
        ("CY2", json!(false)),
        ("CY3", json!("none")),
        ("CY4", json!(false)),
        ("CY5", json!(false)),
        ("WL2", json!(true)),
        ("WL3", json!(true)),
        ("WL4", json!(true)),
        ("WL5", json!(true)),
    ]);
    save(&app, &mh, ROUND, "G6V2S", rnk.clone())
        .await
        .assert_problem(403);
    let g6 = app.submitter(&["G6V2S"]);
    save(&app, &g6, ROUND, "G6V2S", rnk).await.assert_ok(200);
    let s = submit(&app, &g6, ROUND, "G6V2S").await;
    close(s.assert_ok(200)["scores"]["score"].as_f64().unwrap(), 3.0);
    save(&app, &g6, ROUND, "G6V2S", answers(&[("EP2", json!(true))]))
        .await
        .assert_problem(409);
}

#[actix_web::test]
async fn every_invalid_answer_is_refused_naming_its_question_and_nothing_changes() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    save(&app, &t, ROUND, "RA7", answers(&[("R1", json!("some"))]))
        .await
        .assert_ok(200);
    let cases = [
        ("NOPE", json!(true)),
        ("R1", json!(true)),
        ("R1", json!("maybe")),
        ("R2", json!("yes")),
        ("C1", json!(120)),
        ("R3", json!(1000)),
        ("C2", json!(["orders", "teleporter"])),
        ("C2", json!([1, 2])),
        ("C3", json!(true)),
        ("R1", json!({"code": "some"})),
    ];
    for (q, v) in cases {
        let r = save(
            &app,
            &t,
            ROUND,
            "RA7",
            answers(&[("R2", json!(true)), (q, v.clone())]),
        )
        .await;
        let p = r.assert_problem(422);
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == q),
            "{q}={v}: {p}"
        );
    }
    let mut long = answers(&[("R2", json!(true))]);
    long["answers"][0]["evidence"] = json!("x".repeat(4001));
    save(&app, &t, ROUND, "RA7", long).await.assert_problem(422);
    let twice = answers(&[("R2", json!(true)), ("R2", json!(false))]);
    save(&app, &t, ROUND, "RA7", twice)
        .await
        .assert_problem(422);
    let now = app.get(&format!("{PATH}/RA7"), Some(&t)).await;
    assert_eq!(now.json["version"], 1, "nothing was saved");
    assert_eq!(now.json["answers"].as_object().unwrap().len(), 1);
}

#[actix_web::test]
async fn null_clears_an_answer() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    save(
        &app,
        &t,
        ROUND,
        "RA7",
        answers(&[("R1", json!("some")), ("R2", json!(true))]),
    )
    .await
    .assert_ok(200);
    let r = save(&app, &t, ROUND, "RA7", answers(&[("R1", Value::Null)])).await;
    assert!(r.assert_ok(200)["answers"].get("R1").is_none());
}

#[actix_web::test]
async fn a_stale_etag_changes_nothing() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    save(&app, &t, ROUND, "RA7", answers(&[("R1", json!("some"))]))
        .await
        .assert_ok(200);
    let put = |etag: &str, value: &str| {
        TestRequest::put()
            .uri(&format!("{PATH}/RA7/answers"))
            .insert_header(("Authorization", format!("Bearer {t}")))
            .insert_header(("If-Match", etag.to_owned()))
            .set_json(answers(&[("R1", json!(value))]))
    };
    app.call(put("\"1\"", "full")).await.assert_ok(200);
    app.call(put("\"1\"", "none")).await.assert_problem(412);
    let now = app.get(&format!("{PATH}/RA7"), Some(&t)).await;
    assert_eq!(now.json["answers"]["R1"]["value"], "full");
    assert_eq!(now.header("etag"), Some("\"2\""));
}

#[actix_web::test]
async fn two_saves_racing_on_one_etag_leave_exactly_one_winner() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    save(&app, &t, ROUND, "RA7", answers(&[("R1", json!("some"))]))
        .await
        .assert_ok(200);
    let put = |value: &str| {
        TestRequest::put()
            .uri(&format!("{PATH}/RA7/answers"))
            .insert_header(("Authorization", format!("Bearer {t}")))
            .insert_header(("If-Match", "\"1\""))
            .set_json(answers(&[("R1", json!(value))]))
    };
    for _ in 0..3 {
        let before = app.get(&format!("{PATH}/RA7"), Some(&t)).await.json["version"]
            .as_i64()
            .unwrap();
        let etag = format!("\"{before}\"");
        let (a, b) = futures_util::join!(
            app.call(put("full").insert_header(("If-Match", etag.clone()))),
            app.call(put("none").insert_header(("If-Match", etag.clone())))
        );
        let mut statuses = vec![a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, vec![200, 412], "{} / {}", a.text, b.text);
        let after = app.get(&format!("{PATH}/RA7"), Some(&t)).await.json["version"]
            .as_i64()
            .unwrap();
        assert_eq!(after, before + 1);
    }
}

#[actix_web::test]
async fn submission_needs_every_applicable_mandatory_answer() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    save(
        &app,
        &t,
        ROUND,
        "RA7",
        answers(&[("R1", json!("some")), ("R2", json!(false))]),
    )
    .await
    .assert_ok(200);
    let r = submit(&app, &t, ROUND, "RA7").await;
    let fields: Vec<&str> = r.assert_problem(422)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["C1", "C2"],
        "R3 is not asked when R2 is no; R4 is optional"
    );
    assert_eq!(
        app.get(&format!("{PATH}/RA7"), Some(&t)).await.json["status"],
        "draft"
    );
}

#[actix_web::test]
async fn reopening_needs_an_admin_and_a_reason_and_resubmission_replaces_scores() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    let full = full_scored_return();
    save(&app, &t, ROUND, "RA7", full).await.assert_ok(200);
    submit(&app, &t, ROUND, "RA7").await.assert_ok(200);
    let reopen = format!("{PATH}/RA7/reopen");
    app.send(
        Method::POST,
        &reopen,
        Some(&t),
        Some(json!({"reason": "typo"})),
    )
    .await
    .assert_problem(403);
    app.send(
        Method::POST,
        &reopen,
        Some(&app.admin()),
        Some(json!({"reason": ""})),
    )
    .await
    .assert_problem(422);
    app.send(Method::POST, &reopen, Some(&app.admin()), Some(json!({})))
        .await
        .assert_problem(422);
    let r = app
        .send(
            Method::POST,
            &reopen,
            Some(&app.admin()),
            Some(json!({"reason": "C1 was mistyped"})),
        )
        .await;
    assert_eq!(r.assert_ok(200)["status"], "reopened");
    assert!(r.json["scores"].is_null());
    app.send(
        Method::POST,
        &reopen,
        Some(&app.admin()),
        Some(json!({"reason": "again"})),
    )
    .await
    .assert_problem(409);
    save(&app, &t, ROUND, "RA7", answers(&[("C1", json!(10))]))
        .await
        .assert_ok(200);
    let s = submit(&app, &t, ROUND, "RA7").await;
    // records = (20 + 40)/2 = 30; overall = (68.75 + 30)/2.
    close(
        s.assert_ok(200)["scores"]["score"].as_f64().unwrap(),
        49.375,
    );

    let history = app.get(&format!("{PATH}/RA7/history"), Some(&t)).await;
    let actions: Vec<&str> = history
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["save_answers", "submit", "reopen", "save_answers", "submit"]
    );
    assert_eq!(history.json[2]["summary"]["reason"], "C1 was mistyped");
}

#[actix_web::test]
async fn a_submitter_cannot_read_or_write_another_trusts_return() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let mine = app.submitter(&["RA7"]);
    let other = app.submitter(&["RJ1"]);
    save(&app, &mine, ROUND, "RA7", answers(&[("R1", json!("some"))]))
        .await
        .assert_ok(200);
    let existing = app.get(&format!("{PATH}/RA7"), Some(&other)).await;
    let missing = app.get(&format!("{PATH}/R0A"), Some(&other)).await;
    existing.assert_problem(403);
    missing.assert_problem(403);
    assert_eq!(
        existing.json["detail"]
            .as_str()
            .map(|d| d.replace("RA7", "X")),
        missing.json["detail"]
            .as_str()
            .map(|d| d.replace("R0A", "X")),
        "no hint of existence"
    );
    save(
        &app,
        &other,
        ROUND,
        "RA7",
        answers(&[("R1", json!("full"))]),
    )
    .await
    .assert_problem(403);
    submit(&app, &other, ROUND, "RA7").await.assert_problem(403);
    app.get(&format!("{PATH}/RA7/history"), Some(&other))
        .await
        .assert_problem(403);
    save(
        &app,
        &app.analyst(),
        ROUND,
        "RA7",
        answers(&[("R1", json!("full"))]),
    )
    .await
    .assert_problem(403);
    save(&app, &mine, ROUND, "RA7", answers(&[("R1", json!("full"))]))
        .await
        .assert_ok(200);
    app.get(&format!("{PATH}/RA7"), None)
        .await
        .assert_problem(401);
}

#[actix_web::test]
async fn returns_need_an_open_round_and_known_records() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let a = app.admin();
    save(
        &app,
        &a,
        "no-such-round",
        "RA7",
        answers(&[("R1", json!("some"))]),
    )
    .await
    .assert_problem(404);
    save(&app, &a, ROUND, "ZZZ99", answers(&[("R1", json!("some"))]))
        .await
        .assert_problem(404);
    app.send(
        Method::POST,
        &format!("/api/v1/rounds/{ROUND}/close"),
        Some(&a),
        None,
    )
    .await
    .assert_ok(200);
    save(
        &app,
        &app.submitter(&["RA7"]),
        ROUND,
        "RA7",
        answers(&[("R1", json!("some"))]),
    )
    .await
    .assert_problem(409);
    let body = TestRequest::put()
        .uri(&format!("{PATH}/RA7/answers"))
        .insert_header(("Authorization", format!("Bearer {a}")))
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"answers\": [");
    app.call(body).await.assert_problem(400);
}

#[actix_web::test]
async fn a_round_with_a_reopened_return_cannot_be_published() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let a = app.admin();
    let full = full_scored_return();
    save(&app, &a, ROUND, "RA7", full).await.assert_ok(200);
    submit(&app, &a, ROUND, "RA7").await.assert_ok(200);
    let round = "/api/v1/rounds/2026-27";
    app.send(Method::POST, &format!("{round}/close"), Some(&a), None)
        .await
        .assert_ok(200);
    app.send(
        Method::POST,
        &format!("{PATH}/RA7/reopen"),
        Some(&a),
        Some(json!({"reason": "late correction"})),
    )
    .await
    .assert_ok(200);
    let refused = app
        .send(Method::POST, &format!("{round}/publish"), Some(&a), None)
        .await;
    refused.assert_problem(409);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("re-opened")
    );
    assert_eq!(app.get(round, Some(&a)).await.json["status"], "closed");
    submit(&app, &a, ROUND, "RA7").await.assert_ok(200);
    app.send(Method::POST, &format!("{round}/publish"), Some(&a), None)
        .await
        .assert_ok(200);
}
