//! Operations: health, metrics, request ids, error shapes for unknown routes, wrong methods,
//! malformed and oversized bodies; the OpenAPI document and the deployment files.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::harness::TestApp;

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = TestApp::new();
    assert_eq!(
        app.get("/health/live", None).await.assert_ok(200)["status"],
        "ok"
    );
    let ready = app.get("/health/ready", None).await;
    let expected = if app.db.is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    assert_eq!(ready.assert_ok(200)["database"], expected);
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::new();
    app.get("/api/v1/organisations", Some(&app.analyst()))
        .await
        .assert_ok(200);
    app.get("/api/v1/organisations", None)
        .await
        .assert_problem(401);
    let m = app.get("/metrics", None).await;
    assert!(
        m.text.contains(
            r#"dma_http_requests_total{method="GET",route="/api/v1/organisations",status="200"} 1"#
        ),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains(r#"route="/api/v1/organisations",status="401"} 1"#)
    );
    assert!(m.text.contains("dma_http_request_duration_seconds_bucket"));
}

#[actix_web::test]
async fn request_ids_are_echoed_or_made() {
    let app = TestApp::new();
    let mine = app
        .call(
            TestRequest::get()
                .uri("/health/live")
                .insert_header(("x-request-id", "trace-123")),
        )
        .await;
    assert_eq!(mine.header("x-request-id"), Some("trace-123"));
    let made = app.get("/health/live", None).await;
    assert_eq!(made.header("x-request-id").map(str::len), Some(36));
    let err = app.get("/nowhere", None).await;
    assert!(err.header("x-request-id").is_some());
}

#[actix_web::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = TestApp::new();
    app.get("/api/v1/nothing-here", None)
        .await
        .assert_problem(404);
    let r = app
        .send(
            Method::DELETE,
            "/api/v1/organisations/RA7",
            Some(&app.admin()),
            None,
        )
        .await;
    r.assert_problem(405);
    assert_eq!(r.header("allow"), Some("GET, PUT"));
}

#[actix_web::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let app = TestApp::with_env(&[("DMA_BODY_LIMIT_BYTES", "2048")]);
    let a = app.admin();
    let malformed = TestRequest::post()
        .uri("/api/v1/organisations")
        .insert_header(("Authorization", format!("Bearer {a}")))
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"ods_code\": ");
    app.call(malformed).await.assert_problem(400);
    let wrong_shape = app
        .send(
            Method::POST,
            "/api/v1/organisations",
            Some(&a),
            Some(json!({"ods_code": 12})),
        )
        .await;
    wrong_shape.assert_problem(422);
    let huge = json!({"ods_code": "RXX9", "name": "x".repeat(5000), "org_type": "acute"});
    app.send(Method::POST, "/api/v1/organisations", Some(&a), Some(huge))
        .await
        .assert_problem(413);
    let token = TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "application/json"))
        .set_payload("x".repeat(5000));
    app.call(token).await.assert_problem(413);
    let listed = app.get("/api/v1/organisations/RXX9", Some(&a)).await;
    listed.assert_problem(404);
}

#[actix_web::test]
async fn the_committed_openapi_document_matches_the_code() {
    let generated = dma::app::openapi().to_pretty_json().unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test openapi` and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[actix_web::test]
async fn the_served_document_is_the_generated_one_and_docs_render() {
    let app = TestApp::new();
    let served = app.get("/api-docs/openapi.json", None).await;
    let generated: serde_json::Value = serde_json::to_value(dma::app::openapi()).unwrap();
    assert_eq!(served.assert_ok(200), &generated);
    for path in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/api/v1/organisations",
        "/api/v1/organisations/{ods}",
        "/api/v1/auth/token",
        "/api/v1/clients",
        "/api/v1/clients/{id}/revoke",
    ] {
        assert!(
            generated["paths"][path].is_object(),
            "{path} missing from the document"
        );
    }
    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status.as_u16(), 200);
    assert!(docs.text.contains("swagger-ui"));
    let redirect = app.get("/docs", None).await;
    assert_eq!(redirect.header("location"), Some("/docs/"));
}

#[test]
fn the_compose_file_wires_the_api_to_a_healthy_postgres() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
        .unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let services = &doc["services"];
    let db = &services["db"];
    assert!(db["image"].as_str().unwrap().starts_with("postgres:"));
    assert!(db["healthcheck"]["test"].is_sequence());
    assert!(!doc["volumes"].as_mapping().unwrap().is_empty());
    let api = &services["api"];
    assert_eq!(api["depends_on"]["db"]["condition"], "service_healthy");
    let env = api["environment"].as_mapping().unwrap();
    let url = env.get("DATABASE_URL").and_then(|v| v.as_str()).unwrap();
    assert!(url.starts_with("postgres://") && url.contains("@db:5432/"));
    assert!(env.contains_key("DMA_BIND"));
}

#[actix_web::test]
async fn a_corrupt_stored_value_is_an_internal_error_not_an_empty_list() {
    let app = TestApp::new();
    {
        let mut conn = app.state.pool.get().expect("connection");
        let t = dma::db::now();
        dma::db::peer_groups::insert(
            &mut conn,
            &dma::db::peer_groups::PeerGroupRow {
                key: "damaged".into(),
                title: "Damaged".into(),
                org_type: "acute".into(),
                members: "[\"RA7\", oops".into(),
                created_at: t,
                updated_at: t,
            },
        )
        .expect("insert");
    }
    let r = app.get("/api/v1/peer-groups", Some(&app.analyst())).await;
    let p = r.assert_problem(500);
    assert!(
        !p["detail"].as_str().unwrap().contains("oops"),
        "the cause stays in the log: {p}"
    );
    app.get("/api/v1/peer-groups/damaged", Some(&app.analyst()))
        .await
        .assert_problem(500);
}

/// A connection that breaks mid-request (its PostgreSQL session terminated, as when the server
/// restarts) is a 503 with `Retry-After`, not a 500; the pool replaces the connection and the next
/// request succeeds. (SQLite has no session to lose; its busy and I/O errors are mapped by the
/// same function, tested in `error`'s unit tests.)
#[actix_web::test]
async fn a_connection_lost_mid_request_is_503_and_the_pool_recovers() {
    use diesel::prelude::*;
    let app = TestApp::new();
    if !app.db.is_postgres() {
        return;
    }
    let mut killer = app.state.pool.get().unwrap();
    let outcome = dma::api::with_conn(&app.state, move |c| {
        let pid: i32 = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
            "pg_backend_pid()",
        ))
        .get_result(c)?;
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})")).execute(&mut *killer)?;
        Ok(dma::db::organisations::find(c, "RA7")?)
    })
    .await;
    let err = outcome.expect_err("the session was terminated");
    assert_eq!(err.problem().status, 503, "{err}");
    let res = actix_web::ResponseError::error_response(&err);
    assert_eq!(res.headers().get("retry-after").unwrap(), "2");
    let a = app.analyst();
    for _ in 0..4 {
        app.get("/api/v1/organisations/RA7", Some(&a))
            .await
            .assert_ok(200);
    }
}
