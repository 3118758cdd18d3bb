//! The organisation register: filters, pagination, lineage, admin writes and their refusals.

use actix_web::http::Method;
use serde_json::json;

use crate::harness::TestApp;

#[actix_web::test]
async fn the_register_holds_the_reference_population() {
    let app = TestApp::new();
    let t = app.analyst();
    let page = |q: &str| format!("/api/v1/organisations?per_page=500{q}");
    let all = app.get(&page(""), Some(&t)).await;
    assert_eq!(
        all.assert_ok(200)["total"],
        244,
        "202 active trusts + 42 ICBs"
    );
    let icbs = app.get(&page("&type=icb"), Some(&t)).await;
    assert_eq!(icbs.json["total"], 42);
    let acute = app.get(&page("&type=acute"), Some(&t)).await;
    assert_eq!(acute.json["total"], 120);
    let closed = app.get(&page("&active=false"), Some(&t)).await;
    assert_eq!(closed.json["total"], 11);
}

#[actix_web::test]
async fn filters_combine_and_order_is_stable() {
    let app = TestApp::new();
    let t = app.analyst();
    let r = app
        .get(
            "/api/v1/organisations?type=acute&region=Y62&per_page=500",
            Some(&t),
        )
        .await;
    let body = r.assert_ok(200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(body["total"], items.len());
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|o| o["org_type"] == "acute" && o["region_code"] == "Y62")
    );
    let codes: Vec<&str> = items
        .iter()
        .map(|o| o["ods_code"].as_str().unwrap())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
    assert!(
        codes.contains(&"R0A"),
        "Manchester University NHS FT is acute in the North West"
    );

    let by_icb = app
        .get("/api/v1/organisations?icb=QOP&per_page=500", Some(&t))
        .await;
    assert!(
        by_icb.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["icb_code"] == "QOP")
    );

    let q = app.get("/api/v1/organisations?q=bristol", Some(&t)).await;
    let names: Vec<&str> = q.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["ods_code"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"RA7"), "{names:?}");
    let by_code = app.get("/api/v1/organisations?q=ra7", Some(&t)).await;
    assert_eq!(by_code.json["items"][0]["ods_code"], "RA7");
    let literal = app.get("/api/v1/organisations?q=%25", Some(&t)).await;
    assert_eq!(literal.json["total"], 0, "% is matched literally");
}

#[actix_web::test]
async fn pagination_walks_the_whole_list() {
    let app = TestApp::new();
    let t = app.analyst();
    let p1 = app
        .get(
            "/api/v1/organisations?type=acute&per_page=50&page=1",
            Some(&t),
        )
        .await;
    let p3 = app
        .get(
            "/api/v1/organisations?type=acute&per_page=50&page=3",
            Some(&t),
        )
        .await;
    assert_eq!(p1.json["items"].as_array().unwrap().len(), 50);
    assert_eq!(p3.json["items"].as_array().unwrap().len(), 20);
    assert_eq!(p3.json["page"], 3);
    app.get("/api/v1/organisations?per_page=501", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/organisations?page=0", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/organisations?per_page=lots", Some(&t))
        .await
        .assert_problem(400);
    app.get("/api/v1/organisations?type=hospital", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/organisations?region=Y99", Some(&t))
        .await
        .assert_problem(422);
}

#[actix_web::test]
async fn one_organisation_shows_its_lineage() {
    let app = TestApp::new();
    let t = app.submitter(&["RJ1"]);
    let ra7 = app.get("/api/v1/organisations/RA7", Some(&t)).await;
    let body = ra7.assert_ok(200);
    assert_eq!(body["predecessors"][0]["ods_code"], "RVJ");
    assert_eq!(body["predecessors"][0]["merged_on"], "2026-07-01");
    let rvj = app.get("/api/v1/organisations/RVJ", Some(&t)).await;
    assert_eq!(rvj.json["successor"]["ods_code"], "RA7");
    assert_eq!(rvj.json["active"], false);
    let north_london = app.get("/api/v1/organisations/G6V2S", Some(&t)).await;
    let preds: Vec<&str> = north_london.json["predecessors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ods_code"].as_str().unwrap())
        .collect();
    assert_eq!(preds, vec!["RNK", "RRP", "TAF"]);
    app.get("/api/v1/organisations/ZZZ9", Some(&t))
        .await
        .assert_problem(404);
}

#[actix_web::test]
async fn reading_needs_a_token() {
    let app = TestApp::new();
    let r = app.get("/api/v1/organisations", None).await;
    r.assert_problem(401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    app.get("/api/v1/organisations/RA7", Some("not.a.token"))
        .await
        .assert_problem(401);
}

fn new_org() -> serde_json::Value {
    json!({ "ods_code": "RXX1", "name": "Test Valley Hospitals NHS Trust", "org_type": "acute",
            "region_code": "Y58", "icb_code": "QUY" })
}

#[actix_web::test]
async fn admins_register_and_update_organisations() {
    let app = TestApp::new();
    let a = app.admin();
    let created = app
        .send(
            Method::POST,
            "/api/v1/organisations",
            Some(&a),
            Some(new_org()),
        )
        .await;
    assert_eq!(created.assert_ok(201)["ods_code"], "RXX1");
    app.send(
        Method::POST,
        "/api/v1/organisations",
        Some(&a),
        Some(new_org()),
    )
    .await
    .assert_problem(409);

    let update = json!({ "name": "Test Valley NHS FT", "org_type": "acute", "region_code": "Y58",
                         "icb_code": "QUY", "closed_on": "2026-09-30", "successor_code": "RA7" });
    let updated = app
        .send(
            Method::PUT,
            "/api/v1/organisations/RXX1",
            Some(&a),
            Some(update),
        )
        .await;
    assert_eq!(updated.assert_ok(200)["successor"]["ods_code"], "RA7");
    let ra7 = app.get("/api/v1/organisations/RA7", Some(&a)).await;
    let preds: Vec<&str> = ra7.json["predecessors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ods_code"].as_str().unwrap())
        .collect();
    assert_eq!(preds, vec!["RVJ", "RXX1"]);

    let missing = app
        .send(
            Method::PUT,
            "/api/v1/organisations/NOPE1",
            Some(&a),
            Some(json!({"name": "x", "org_type": "acute"})),
        )
        .await;
    missing.assert_problem(404);
}

#[actix_web::test]
async fn invalid_organisations_are_refused_and_change_nothing() {
    let app = TestApp::new();
    let a = app.admin();
    let cases = [
        (
            json!({"ods_code": "rx1", "name": "x", "org_type": "acute"}),
            "ods_code",
        ),
        (
            json!({"ods_code": "RXXXXXX", "name": "x", "org_type": "acute"}),
            "ods_code",
        ),
        (
            json!({"ods_code": "RXX2", "name": "x", "org_type": "hospital"}),
            "org_type",
        ),
        (
            json!({"ods_code": "RXX2", "name": "x", "org_type": "acute", "region_code": "Y99"}),
            "region_code",
        ),
        (
            json!({"ods_code": "RXX2", "name": "x", "org_type": "acute", "icb_code": "RA7"}),
            "icb_code",
        ),
        (
            json!({"ods_code": "RXX2", "name": "", "org_type": "acute"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .send(
                Method::POST,
                "/api/v1/organisations",
                Some(&a),
                Some(body.clone()),
            )
            .await;
        let p = r.assert_problem(422);
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{body}: {p}"
        );
    }
    let all = app.get("/api/v1/organisations?active=true", Some(&a)).await;
    assert_eq!(all.json["total"], 244);
}

#[actix_web::test]
async fn only_admins_write_the_register() {
    let app = TestApp::new();
    for t in [app.analyst(), app.submitter(&["RA7"])] {
        app.send(
            Method::POST,
            "/api/v1/organisations",
            Some(&t),
            Some(new_org()),
        )
        .await
        .assert_problem(403);
        app.send(
            Method::PUT,
            "/api/v1/organisations/RA7",
            Some(&t),
            Some(json!({"name": "Hijacked", "org_type": "acute"})),
        )
        .await
        .assert_problem(403);
    }
    app.send(Method::POST, "/api/v1/organisations", None, Some(new_org()))
        .await
        .assert_problem(401);
    let ra7 = app
        .get("/api/v1/organisations/RA7", Some(&app.analyst()))
        .await;
    assert_eq!(ra7.json["name"], "Bristol NHS Foundation Trust");
}

#[actix_web::test]
async fn writes_are_audited() {
    let app = TestApp::new();
    let a = app.admin();
    app.send(
        Method::POST,
        "/api/v1/organisations",
        Some(&a),
        Some(new_org()),
    )
    .await
    .assert_ok(201);
    let mut conn = app.state.pool.get().unwrap();
    let (events, total) = dma::db::audit::list(
        &mut conn,
        &dma::db::audit::AuditFilter {
            entity_key: Some("RXX1".into()),
            ..Default::default()
        },
        1,
        10,
    )
    .unwrap();
    assert_eq!(total, 1);
    assert_eq!(events[0].action, "create");
    assert_eq!(events[0].actor, "test-admin");
}
