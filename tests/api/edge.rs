//! Text hygiene and content types at the edge: control characters refused on every input kind
//! (path, query, JSON, form) with the field named, the same on SQLite and PostgreSQL; dates in
//! range; 415 for a body that is not JSON; 408 for a body that does not arrive; 414 and 431 as
//! problem documents.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::fixtures::{answers, open_round, save, scored_framework};
use crate::harness::{Reply, TestApp};

const ROUND: &str = "2026-27";

/// The one field a problem names, after checking it is a problem with `status`.
#[track_caller]
fn field_of(r: &Reply, status: u16) -> String {
    let p = r.assert_problem(status);
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(1), "{p}");
    p["errors"][0]["field"].as_str().unwrap().to_owned()
}

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    ct: Option<&str>,
    body: &str,
) -> Reply {
    let mut req = TestRequest::default().method(method).uri(path);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    if let Some(ct) = ct {
        req = req.insert_header(("content-type", ct));
    }
    app.call(req.set_payload(body.to_owned())).await
}

fn organisation(name: &str) -> Value {
    json!({"ods_code": "RXX1", "name": name, "org_type": "acute", "region_code": "Y62"})
}

#[actix_web::test]
async fn control_characters_in_paths_and_queries_are_400_naming_the_parameter() {
    let app = TestApp::new();
    let t = app.analyst();
    let r = app.get("/api/v1/organisations/R%00X", Some(&t)).await;
    assert_eq!(field_of(&r, 400), "ods");
    let r = app.get("/api/v1/rounds/2026%0A27", Some(&t)).await;
    assert_eq!(field_of(&r, 400), "key");
    let r = app
        .get(
            "/api/v1/rounds/2026-27/assessments/RA%7F7",
            Some(&app.admin()),
        )
        .await;
    assert_eq!(field_of(&r, 400), "ods");
    // Invalid UTF-8 once decoded is refused the same way, and so is a C1 control (U+0085).
    let r = app.get("/api/v1/organisations/%FF%FE", Some(&t)).await;
    assert_eq!(field_of(&r, 400), "ods");
    let r = app.get("/api/v1/organisations/R%C2%85", Some(&t)).await;
    assert_eq!(field_of(&r, 400), "ods");
    // Off the documented routes a segment is named by its position.
    let r = app.get("/api/v1/nowhere%00", Some(&t)).await;
    assert_eq!(field_of(&r, 400), "path[3]");

    let r = app
        .get("/api/v1/organisations?region=Y6%002", Some(&t))
        .await;
    assert_eq!(field_of(&r, 400), "region");
    let r = app
        .get("/api/v1/organisations?region=Y62%09", Some(&t))
        .await;
    assert_eq!(field_of(&r, 400), "region");
    let r = app
        .get("/api/v1/organisations?reg%00ion=Y62", Some(&t))
        .await;
    assert_eq!(field_of(&r, 400), "reg\\u{0}ion");
    let r = app.get("/api/v1/organisations?region=%FF", Some(&t)).await;
    assert_eq!(field_of(&r, 400), "region");
    // Refused before authentication: nothing behind the edge sees it.
    let r = app.get("/api/v1/audit?actor=a%00", None).await;
    assert_eq!(field_of(&r, 400), "actor");
    // Ordinary percent-encoding still works.
    app.get("/api/v1/organisations?region=Y%362", Some(&t))
        .await
        .assert_ok(200);
}

#[actix_web::test]
async fn control_characters_in_json_strings_and_keys_are_422_naming_the_json_path() {
    let app = TestApp::new();
    let a = app.admin();
    open_round(&app, scored_framework(), ROUND).await;

    let mut body = answers(&[("R1", json!("some")), ("C1", json!(60))]);
    body["answers"][1]["evidence"] = json!("board paper\u{0}2026/14");
    let r = save(&app, &a, ROUND, "RA7", body).await;
    assert_eq!(field_of(&r, 422), "answers[1].evidence");
    let mut body = answers(&[("R1", json!("some"))]);
    body["answers"][0]["evidence"] = json!("colour \u{1b}[31m");
    let r = save(&app, &a, ROUND, "RA7", body).await;
    assert_eq!(field_of(&r, 422), "answers[0].evidence");

    let r = app
        .send(
            Method::POST,
            "/api/v1/organisations",
            Some(&a),
            Some(organisation("Trust\u{0}")),
        )
        .await;
    assert_eq!(field_of(&r, 422), "name");
    // The escape is decoded before it is judged: `\u0000` written out in the JSON text.
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/organisations",
        Some(&a),
        Some("application/json"),
        r#"{"ods_code": "RXX1", "name": "A\u0000B", "org_type": "acute", "region_code": "Y62"}"#,
    )
    .await;
    assert_eq!(field_of(&r, 422), "name");
    // A key with a control character is refused too (here also an unknown field), escaped.
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/organisations",
        Some(&a),
        Some("application/json"),
        r#"{"ods_code": "RXX1", "na\u0000me": "A", "org_type": "acute"}"#,
    )
    .await;
    assert_eq!(field_of(&r, 422), "na\\u{0}me");

    let round = json!({"key": "2027-28", "title": "Round\u{7}", "framework": "sa-test",
                       "opens_at": "2027-04-01T00:00:00Z", "closes_at": "2028-03-31T00:00:00Z"});
    let r = app
        .send(Method::POST, "/api/v1/rounds", Some(&a), Some(round))
        .await;
    assert_eq!(field_of(&r, 422), "title");

    // Nothing was stored: the organisation does not exist, the return has no evidence.
    app.get("/api/v1/organisations/RXX1", Some(&a))
        .await
        .assert_problem(404);
    app.get("/api/v1/rounds/2027-28", Some(&a))
        .await
        .assert_problem(404);
}

#[actix_web::test]
async fn tabs_and_line_breaks_in_free_text_are_kept() {
    let app = TestApp::new();
    let a = app.admin();
    open_round(&app, scored_framework(), ROUND).await;
    let evidence = "Board paper 2026/14:\r\n\tsection 3\n\tsection 4";
    let mut body = answers(&[("C1", json!(60))]);
    body["answers"][0]["evidence"] = json!(evidence);
    save(&app, &a, ROUND, "RA7", body).await.assert_ok(200);
    let view = app
        .get(&format!("/api/v1/rounds/{ROUND}/assessments/RA7"), Some(&a))
        .await;
    assert_eq!(view.assert_ok(200)["answers"]["C1"]["evidence"], evidence);
}

#[actix_web::test]
async fn the_token_endpoint_refuses_control_characters_before_any_lookup() {
    let app = TestApp::new();
    let form = |body: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body.to_owned())
    };
    let r = app
        .call(form(
            "grant_type=client_credentials&client_id=a%00&client_secret=b",
        ))
        .await;
    assert_eq!(field_of(&r, 400), "client_id");
    let r = app.call(form("client_id=a&client_secret=%1Fb")).await;
    assert_eq!(field_of(&r, 400), "client_secret");
    // Fields the endpoint does not read are ignored unread (RFC 6749 §3.2), whatever they hold:
    // the unknown client is refused as any other.
    let r = app
        .call(form("client_id=a&client_secret=b&scope=x%00&%01=%FF"))
        .await;
    r.assert_problem(401);
    let r = app.call(form("client_id=%FF&client_secret=b")).await;
    assert_eq!(field_of(&r, 400), "client_id");

    let r = app
        .call(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .set_json(json!({"client_id": "a\u{0}", "client_secret": "b"})),
        )
        .await;
    assert_eq!(field_of(&r, 422), "client_id");
    // Basic credentials: "a\0:b" in base64.
    let r = app
        .call(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("Authorization", "Basic YQA6Yg==")),
        )
        .await;
    assert_eq!(field_of(&r, 400), "client_id");
    // Clean but unknown credentials still reach the lookup and get 401.
    app.call(form("client_id=nobody&client_secret=b"))
        .await
        .assert_problem(401);
}

fn round(key: &str, opens_at: &str, closes_at: &str) -> Value {
    json!({"key": key, "title": "Round", "framework": "sa-test",
           "opens_at": opens_at, "closes_at": closes_at})
}

#[actix_web::test]
async fn round_dates_lie_in_the_years_2000_to_2100() {
    let app = TestApp::new();
    let a = app.admin();
    open_round(&app, scored_framework(), ROUND).await;
    let cases = [
        ("0000-04-01T00:00:00Z", "2027-03-31T00:00:00Z", "opens_at"),
        ("-0001-04-01T00:00:00Z", "2027-03-31T00:00:00Z", "opens_at"),
        ("1999-12-31T23:59:59Z", "2027-03-31T00:00:00Z", "opens_at"),
        (
            "2000-01-01T00:30:00+01:00",
            "2027-03-31T00:00:00Z",
            "opens_at",
        ),
        ("2026-04-01T00:00:00Z", "2101-01-01T00:00:00Z", "closes_at"),
        (
            "2026-04-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "closes_at",
        ),
    ];
    for (i, (opens, closes, field)) in cases.into_iter().enumerate() {
        let r = app
            .send(
                Method::POST,
                "/api/v1/rounds",
                Some(&a),
                Some(round(&format!("r{i}"), opens, closes)),
            )
            .await;
        assert_eq!(field_of(&r, 422), field, "{opens} .. {closes}: {}", r.text);
    }
    let r = app
        .send(
            Method::POST,
            "/api/v1/rounds",
            Some(&a),
            Some(round(
                "2026-bounds",
                "2000-01-01T00:00:00Z",
                "2100-12-31T23:59:59Z",
            )),
        )
        .await;
    r.assert_ok(201);
    app.send(
        Method::POST,
        "/api/v1/rounds",
        Some(&a),
        Some(round(
            "2026-x",
            "2026-04-01T00:00:00Z",
            "2027-03-31T00:00:00Z",
        )),
    )
    .await
    .assert_ok(201);
    // Every round listed has dates the document's `date-time` format accepts.
    let list = app.get("/api/v1/rounds", Some(&a)).await;
    for r in list.assert_ok(200).as_array().unwrap() {
        for f in ["opens_at", "closes_at"] {
            let t = r[f].as_str().unwrap();
            assert!(
                chrono::DateTime::parse_from_rfc3339(t).is_ok(),
                "{f} = {t} is not RFC 3339"
            );
        }
    }
    // The published document states the range.
    let doc = app.get("/api-docs/openapi.json", None).await;
    let props = &doc.json["components"]["schemas"]["NewRound"]["properties"];
    for f in ["opens_at", "closes_at"] {
        let d = props[f]["description"].as_str().unwrap_or_default();
        assert!(
            d.contains("2000-01-01T00:00:00Z") && d.contains("2101-01-01T00:00:00Z"),
            "{f}: {d}"
        );
    }
}

#[actix_web::test]
async fn audit_filters_and_organisation_dates_are_bounded_too() {
    let app = TestApp::new();
    let a = app.admin();
    for q in [
        "since=0000-01-01T00:00:00Z",
        "until=2101-01-01T00:00:00Z",
        "since=1999-12-31T23:59:59Z",
    ] {
        let r = app.get(&format!("/api/v1/audit?{q}"), Some(&a)).await;
        assert_eq!(field_of(&r, 400), q.split('=').next().unwrap(), "{q}");
    }
    app.get(
        "/api/v1/audit?since=2026-01-01T00:00:00Z&until=2100-12-31T23:59:59Z",
        Some(&a),
    )
    .await
    .assert_ok(200);

    let mut body = organisation("Old Trust");
    body["opened_on"] = json!("1899-12-31");
    let r = app
        .send(Method::POST, "/api/v1/organisations", Some(&a), Some(body))
        .await;
    assert_eq!(field_of(&r, 422), "opened_on");
    let mut body = organisation("Old Trust");
    body["opened_on"] = json!("1948-07-05");
    body["closed_on"] = json!("2101-01-01");
    let r = app
        .send(Method::POST, "/api/v1/organisations", Some(&a), Some(body))
        .await;
    assert_eq!(field_of(&r, 422), "closed_on");
    let mut body = organisation("Old Trust");
    body["opened_on"] = json!("1948-07-05");
    app.send(Method::POST, "/api/v1/organisations", Some(&a), Some(body))
        .await
        .assert_ok(201);
}

#[actix_web::test]
async fn json_bodies_must_be_application_json_with_an_optional_utf8_charset() {
    let app = TestApp::new();
    let a = app.admin();
    let body = organisation("Content Type Trust").to_string();
    for ct in [
        Some("text/json"),
        Some("application/json; charset=latin1"),
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        Some("application/problem+json"),
        None,
    ] {
        let r = raw(
            &app,
            Method::POST,
            "/api/v1/organisations",
            Some(&a),
            ct,
            &body,
        )
        .await;
        let p = r.assert_problem(415);
        assert_eq!(p["type"], "/problems/unsupported-media-type", "{ct:?}");
    }
    // A caller without the role learns nothing from the content type either.
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/organisations",
        Some(&app.analyst()),
        Some("text/json"),
        &body,
    )
    .await;
    r.assert_problem(403);
    // No body and no content type: the body is missing, not of the wrong type.
    raw(
        &app,
        Method::POST,
        "/api/v1/organisations",
        Some(&a),
        None,
        "",
    )
    .await
    .assert_problem(400);
    raw(
        &app,
        Method::POST,
        "/api/v1/organisations",
        Some(&a),
        Some(" Application/JSON ; Charset=\"UTF-8\""),
        &body,
    )
    .await
    .assert_ok(201);

    let token = |ct: &str, body: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", ct.to_owned()))
            .set_payload(body.to_owned())
    };
    for ct in [
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded; charset=latin1",
        "multipart/form-data; boundary=x",
    ] {
        app.call(token(ct, "client_id=a&client_secret=b"))
            .await
            .assert_problem(415);
    }
    for ct in [
        "application/x-www-form-urlencoded; charset=utf-8",
        "application/json",
    ] {
        let body = if ct.contains("json") {
            r#"{"client_id":"nobody","client_secret":"b"}"#
        } else {
            "client_id=nobody&client_secret=b"
        };
        app.call(token(ct, body)).await.assert_problem(401);
    }
}

#[actix_web::test]
async fn very_long_uris_and_headers_are_problem_documents() {
    let app = TestApp::new();
    let t = app.analyst();
    let r = app
        .get(
            &format!("/api/v1/organisations?region={}", "Y".repeat(9000)),
            Some(&t),
        )
        .await;
    r.assert_problem(414);
    let r = app
        .call(
            TestRequest::get()
                .uri("/api/v1/organisations")
                .insert_header(("Authorization", format!("Bearer {t}")))
                .insert_header(("x-padding", "p".repeat(40_000))),
        )
        .await;
    r.assert_problem(431);
}

/// Serves the app on a random local port in its own thread; the server stops with the test process.
fn serve(app: &TestApp) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let state = app.state.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || dma::app::build(state.clone()))
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
        })
    });
    addr
}

#[actix_web::test]
async fn a_body_that_trickles_in_gets_408_and_the_connection_is_closed() {
    let app = TestApp::with_env(&[("DMA_BODY_READ_TIMEOUT_SECS", "1")]);
    let addr = serve(&app);
    let token = app.admin();
    let reply = actix_web::rt::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST /api/v1/organisations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        let started = std::time::Instant::now();
        // A byte every 300 ms (100 bytes would take 30 s); the server gives up after 1 s. The
        // client then only reads, so the server closes with nothing unread (a FIN, not a reset).
        for _ in 0..3 {
            s.write_all(b" ").unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        (text, started.elapsed())
    })
    .await
    .unwrap();
    let (text, elapsed) = reply;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{text}"
    );
    assert!(lower.contains("connection: close"), "{text}");
    assert!(text.contains("/problems/request-timeout"), "{text}");
    // read_to_string returned, so the server closed the connection (well before the 10 s guard).
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}

#[actix_web::test]
async fn a_body_sent_in_time_is_read_on_a_real_connection() {
    let app = TestApp::with_env(&[("DMA_BODY_READ_TIMEOUT_SECS", "1")]);
    let addr = serve(&app);
    let token = app.admin();
    let text = actix_web::rt::task::spawn_blocking(move || {
        let body = organisation("Prompt Trust").to_string();
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = format!(
            "POST /api/v1/organisations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        text
    })
    .await
    .unwrap();
    assert!(text.starts_with("HTTP/1.1 201"), "{text}");
}

/// Sends raw bytes on a fresh connection and returns everything the server answers.
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Pins what ARCHITECTURE.md ("Errors at the edge") says: actix-http's HTTP/1 dispatcher answers
/// a request it cannot parse, or a head over its fixed limits (128 KiB, 96 headers), itself, with an empty body, before
/// the application (and its problem documents) sees anything. Should actix ever route these
/// through the service, this test fails and the note should change.
#[actix_web::test]
async fn what_actix_answers_before_the_application_has_an_empty_body() {
    let app = TestApp::new();
    let addr = serve(&app);
    let (malformed, huge) = actix_web::rt::task::spawn_blocking(move || {
        let malformed = exchange(
            addr,
            b"GET /api/v1/organisations HTTP/1.1\r\nHost: x\r\nX-Bad: a\0b\r\n\r\n",
        );
        let mut head = b"GET /api/v1/organisations HTTP/1.1\r\nHost: x\r\n".to_vec();
        // More than actix's 96 headers (small, so the server reads them all and closes cleanly).
        for i in 0..100 {
            head.extend_from_slice(format!("X-Pad-{i}: p\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        (malformed, exchange(addr, &head))
    })
    .await
    .unwrap();
    for (text, status) in [(malformed, "400"), (huge, "431")] {
        assert!(text.starts_with(&format!("HTTP/1.1 {status}")), "{text}");
        assert!(
            text.to_ascii_lowercase().contains("content-length: 0"),
            "{text}"
        );
        assert!(!text.contains("problem+json"), "{text}");
    }
}
