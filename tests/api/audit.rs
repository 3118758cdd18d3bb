//! The audit trail: filters by entity, key, actor and time, paging, and admins only.

use actix_web::http::Method;

use crate::fixtures::two_submitted;
use crate::harness::TestApp;

#[actix_web::test]
async fn the_audit_trail_records_every_write_for_admins_only() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let a = app.admin();
    let r = app
        .get(
            "/api/v1/audit?entity=assessment&entity_key=2026-27/RA7",
            Some(&a),
        )
        .await;
    let items = r.assert_ok(200)["items"].as_array().unwrap().clone();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["save_answers", "submit"]);
    assert_eq!(items[0]["actor"], "test-submitter");
    let rounds = app.get("/api/v1/audit?entity=round", Some(&a)).await;
    let actions: Vec<&str> = rounds.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["create", "open"]);
    let by_actor = app
        .get("/api/v1/audit?actor=test-admin&per_page=2", Some(&a))
        .await;
    assert_eq!(by_actor.json["items"].as_array().unwrap().len(), 2);
    assert!(by_actor.json["total"].as_i64().unwrap() >= 4);
    let future = app
        .get("/api/v1/audit?since=2099-01-01T00:00:00Z", Some(&a))
        .await;
    assert_eq!(future.json["total"], 0);
    app.get("/api/v1/audit", Some(&app.analyst()))
        .await
        .assert_problem(403);
    app.send(Method::DELETE, "/api/v1/audit", Some(&a), None)
        .await
        .assert_problem(405);
}
