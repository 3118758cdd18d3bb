//! Frameworks and rounds: validation with every problem at once, immutability once published,
//! the seeded framework, round transitions and completion.

use actix_web::http::Method;
use serde_json::json;

use crate::fixtures::{answers, open_round, save, scored_framework, staged_framework, submit};
use crate::harness::TestApp;

#[actix_web::test]
async fn the_seeded_wgll_framework_is_published_and_tailored() {
    let app = TestApp::new();
    let t = app.submitter(&["RA7"]);
    let list = app.get("/api/v1/frameworks", Some(&t)).await;
    let wgll = list
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "wgll-2025")
        .unwrap()
        .clone();
    assert_eq!(wgll["status"], "published");
    assert_eq!(wgll["method"], "staged");
    assert_eq!(wgll["pillars"], 7);
    assert!(wgll["domains"].as_u64().unwrap() >= 30);
    let full = app.get("/api/v1/frameworks/wgll-2025", Some(&t)).await;
    let body = full.assert_ok(200);
    let titles: Vec<&str> = body["pillars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Well led",
            "Ensure smart foundations",
            "Safe practice",
            "Support people",
            "Empower citizens",
            "Improve care",
            "Healthy populations"
        ]
    );
    for p in body["pillars"].as_array().unwrap() {
        for d in p["domains"].as_array().unwrap() {
            let levels: std::collections::BTreeSet<u64> = d["questions"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|q| q["level"].as_u64())
                .collect();
            assert_eq!(
                levels.into_iter().collect::<Vec<_>>(),
                vec![2, 3, 4, 5],
                "{}",
                d["key"]
            );
        }
    }
    app.get("/api/v1/frameworks/nope", Some(&t))
        .await
        .assert_problem(404);
}

#[actix_web::test]
async fn a_framework_with_many_problems_reports_them_all_with_paths() {
    let app = TestApp::new();
    let mut f = scored_framework();
    f["pillars"][0]["domains"][0]["questions"][0]["options"][2]["score"] = json!(150);
    f["pillars"][0]["domains"][0]["questions"][1]["weight"] = json!(-1);
    f["pillars"][1]["domains"][0]["questions"][0]["bands"] = json!([]);
    f["pillars"][1]["domains"][0]["applies_to"] = json!(["hospital"]);
    f["pillars"][0]["domains"][0]["questions"][2]["enable_when"]["question"] = json!("C1");
    f["pillars"][1]["domains"][1]["questions"][0]["key"] = json!("R1");
    let r = app
        .send(
            Method::POST,
            "/api/v1/frameworks",
            Some(&app.admin()),
            Some(f),
        )
        .await;
    let errors = r.assert_problem(422)["errors"].as_array().unwrap().clone();
    assert!(errors.len() >= 6, "{errors:?}");
    for path in [
        "pillars[0].domains[0].questions[0].options[2]",
        "pillars[0].domains[0].questions[1].weight",
        "pillars[1].domains[0].questions[0].bands",
        "pillars[1].domains[0].applies_to",
        "pillars[0].domains[0].questions[2].enable_when",
        "pillars[1].domains[1].questions[0].key",
    ] {
        assert!(
            errors
                .iter()
                .any(|e| e["field"].as_str().unwrap().starts_with(path)),
            "{path} not in {errors:?}"
        );
    }
    assert_eq!(
        app.get("/api/v1/frameworks", Some(&app.admin()))
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn drafts_are_editable_and_published_frameworks_are_immutable() {
    let app = TestApp::new();
    let a = app.admin();
    let f = staged_framework();
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&a),
        Some(f.clone()),
    )
    .await
    .assert_ok(201);
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&a),
        Some(f.clone()),
    )
    .await
    .assert_problem(409);
    let mut edited = f.clone();
    edited["title"] = json!("Staged test, second draft");
    let r = app
        .send(
            Method::PUT,
            "/api/v1/frameworks/dma-test",
            Some(&a),
            Some(edited.clone()),
        )
        .await;
    assert_eq!(r.assert_ok(200)["title"], "Staged test, second draft");
    let mut wrong_key = edited.clone();
    wrong_key["key"] = json!("other");
    app.send(
        Method::PUT,
        "/api/v1/frameworks/dma-test",
        Some(&a),
        Some(wrong_key),
    )
    .await
    .assert_problem(422);
    app.send(
        Method::POST,
        "/api/v1/frameworks/dma-test/publish",
        Some(&a),
        None,
    )
    .await
    .assert_ok(200);
    app.send(
        Method::PUT,
        "/api/v1/frameworks/dma-test",
        Some(&a),
        Some(edited),
    )
    .await
    .assert_problem(409);
    app.send(
        Method::POST,
        "/api/v1/frameworks/dma-test/publish",
        Some(&a),
        None,
    )
    .await
    .assert_problem(409);
    let t = app.analyst();
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&t),
        Some(scored_framework()),
    )
    .await
    .assert_problem(403);
    app.send(
        Method::POST,
        "/api/v1/frameworks/dma-test/publish",
        Some(&t),
        None,
    )
    .await
    .assert_problem(403);
}

#[actix_web::test]
async fn carried_over_questions_must_exist_in_the_older_framework() {
    let app = TestApp::new();
    open_round(&app, staged_framework(), "2025-26").await;
    let mut next = staged_framework();
    next["key"] = json!("dma-test-2");
    next["carries_over"] =
        json!({"framework": "dma-test", "questions": {"CY2": "CY2", "CY3": "NOT-THERE"}});
    let r = app
        .send(
            Method::POST,
            "/api/v1/frameworks",
            Some(&app.admin()),
            Some(next.clone()),
        )
        .await;
    let errors = &r.assert_problem(422)["errors"];
    assert!(errors.to_string().contains("NOT-THERE"));
    next["carries_over"]["questions"] = json!({"CY2": "CY2", "CY3": "CY3"});
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&app.admin()),
        Some(next),
    )
    .await
    .assert_ok(201);
}

#[actix_web::test]
async fn rounds_follow_their_lifecycle() {
    let app = TestApp::new();
    let a = app.admin();
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&a),
        Some(staged_framework()),
    )
    .await
    .assert_ok(201);
    let round = json!({"key": "2026-27", "title": "DMA 2026/27", "framework": "dma-test",
                       "opens_at": "2026-09-01T00:00:00Z", "closes_at": "2027-01-31T00:00:00Z"});
    let r = app
        .send(
            Method::POST,
            "/api/v1/rounds",
            Some(&a),
            Some(round.clone()),
        )
        .await;
    assert!(
        r.assert_problem(422)["errors"]
            .to_string()
            .contains("not published")
    );
    app.send(
        Method::POST,
        "/api/v1/frameworks/dma-test/publish",
        Some(&a),
        None,
    )
    .await
    .assert_ok(200);
    let mut backwards = round.clone();
    backwards["closes_at"] = json!("2026-01-01T00:00:00Z");
    app.send(Method::POST, "/api/v1/rounds", Some(&a), Some(backwards))
        .await
        .assert_problem(422);
    let mut bad_key = round.clone();
    bad_key["key"] = json!("../etc");
    app.send(Method::POST, "/api/v1/rounds", Some(&a), Some(bad_key))
        .await
        .assert_problem(422);
    assert_eq!(
        app.send(
            Method::POST,
            "/api/v1/rounds",
            Some(&a),
            Some(round.clone())
        )
        .await
        .assert_ok(201)["status"],
        "planned"
    );
    app.send(Method::POST, "/api/v1/rounds", Some(&a), Some(round))
        .await
        .assert_problem(409);
    let step = |s: &'static str| format!("/api/v1/rounds/2026-27/{s}");
    app.send(Method::POST, &step("close"), Some(&a), None)
        .await
        .assert_problem(409);
    app.send(Method::POST, &step("publish"), Some(&a), None)
        .await
        .assert_problem(409);
    app.send(Method::POST, &step("open"), Some(&app.analyst()), None)
        .await
        .assert_problem(403);
    assert_eq!(
        app.send(Method::POST, &step("open"), Some(&a), None)
            .await
            .assert_ok(200)["status"],
        "open"
    );
    app.send(Method::POST, &step("open"), Some(&a), None)
        .await
        .assert_problem(409);
    assert_eq!(
        app.send(Method::POST, &step("close"), Some(&a), None)
            .await
            .assert_ok(200)["status"],
        "closed"
    );
    assert_eq!(
        app.send(Method::POST, &step("publish"), Some(&a), None)
            .await
            .assert_ok(200)["status"],
        "published"
    );
    app.send(Method::POST, "/api/v1/rounds/nope/open", Some(&a), None)
        .await
        .assert_problem(404);
    let listed = app
        .get("/api/v1/rounds", Some(&app.submitter(&["RA7"])))
        .await;
    assert_eq!(listed.assert_ok(200).as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn completion_counts_every_in_scope_organisation() {
    let app = TestApp::new();
    open_round(&app, staged_framework(), "2026-27").await;
    let all = answers(&[
        ("CY2", json!(true)),
        ("CY3", json!("all")),
        ("CY4", json!(true)),
        ("CY5", json!(true)),
        ("EP2", json!(true)),
        ("EP3", json!(true)),
        ("EP4", json!(true)),
        ("EP5", json!(true)),
        ("WL2", json!(true)),
        ("WL3", json!(true)),
        ("WL4", json!(true)),
        ("WL5", json!(true)),
    ]);
    let t = app.submitter(&["RA7", "R0A"]);
    save(&app, &t, "2026-27", "RA7", all).await.assert_ok(200);
    submit(&app, &t, "2026-27", "RA7").await.assert_ok(200);
    save(&app, &t, "2026-27", "R0A", answers(&[("CY2", json!(true))]))
        .await
        .assert_ok(200);
    app.get("/api/v1/rounds/2026-27/completion", Some(&t))
        .await
        .assert_problem(403);
    let r = app
        .get("/api/v1/rounds/2026-27/completion", Some(&app.analyst()))
        .await;
    let c = r.assert_ok(200);
    // In scope: acute and mental health trusts open on 1 Jan 2026, not the acute specialist,
    // community, ambulance, online trusts or ICBs. RVJ (closes 30 Jun 2026) and RNK (31 Mar 2026)
    // were still open on the opening day; RAP (closed Dec 2024) was not.
    assert_eq!(c["by_type"]["acute"]["total"], 121, "120 of 2026 + RVJ");
    assert_eq!(
        c["by_type"]["mental_health"]["total"], 48,
        "47 of 2026 + RNK, still open on the opening day"
    );
    assert_eq!(c["counts"]["total"], 169);
    assert_eq!(c["counts"]["submitted"], 1);
    assert_eq!(c["counts"]["draft"], 1);
    assert_eq!(c["counts"]["not_started"], 167);
    assert_eq!(c["by_region"]["Y58"]["submitted"], 1);
    assert!(c["by_type"].get("icb").is_none());
    let ra7 = c["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["ods_code"] == "RA7")
        .unwrap();
    assert_eq!(ra7["status"], "submitted");
}
