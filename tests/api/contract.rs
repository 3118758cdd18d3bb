//! The request contract: authorisation before parsing, strict bodies and query strings, partial
//! saves that keep what they were not asked to change, and an audit trail with values.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::fixtures::{answers, open_round, save, scored_framework};
use crate::harness::TestApp;

const ROUND: &str = "2026-27";
const RETURN: &str = "/api/v1/rounds/2026-27/assessments/RA7";

/// Sends a raw body with a content type, bypassing `set_json`, so it can be malformed.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: &str,
) -> crate::harness::Reply {
    app.call(
        TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_owned()),
    )
    .await
}

#[actix_web::test]
async fn a_caller_without_the_role_gets_403_whatever_the_body_holds() {
    let app = TestApp::new();
    let analyst = app.analyst();
    let cases = [
        (Method::POST, "/api/v1/organisations"),
        (Method::PUT, "/api/v1/organisations/RA7"),
        (Method::POST, "/api/v1/frameworks"),
        (Method::POST, "/api/v1/rounds"),
        (Method::POST, "/api/v1/peer-groups"),
        (Method::POST, "/api/v1/clients"),
        (
            Method::POST,
            "/api/v1/rounds/2026-27/assessments/RA7/reopen",
        ),
        (
            Method::PUT,
            "/api/v1/rounds/2026-27/assessments/RA7/answers",
        ),
    ];
    for (method, path) in cases {
        for body in ["{\"nonsense\": [1, 2", "{\"surely\": \"not this\"}", "[]"] {
            let r = send_raw(&app, method.clone(), path, &analyst, body).await;
            let p = r.assert_problem(403);
            assert!(p.get("errors").is_none(), "{method} {path}: {p}");
            assert!(
                !r.text.contains("expected"),
                "{method} {path} hints at the schema: {}",
                r.text
            );
        }
    }
    // A submitter writing to another trust's return is refused the same way.
    let other = app.submitter(&["RJ1"]);
    send_raw(
        &app,
        Method::PUT,
        &format!("{RETURN}/answers"),
        &other,
        "{\"answers\": 7}",
    )
    .await
    .assert_problem(403);
}

#[actix_web::test]
async fn unknown_body_fields_are_refused_by_json_path_and_change_nothing() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    save(&app, &t, ROUND, "RA7", answers(&[("R1", json!("some"))]))
        .await
        .assert_ok(200);
    let typo = json!({"answers": [{"question": "R2", "value": true, "evidnce": "Board paper"}]});
    let p = save(&app, &t, ROUND, "RA7", typo)
        .await
        .assert_problem(422)
        .clone();
    assert_eq!(p["errors"][0]["field"], "answers[0].evidnce", "{p}");
    let extra = json!({"answers": [{"question": "R2", "value": true}], "comment": "x"});
    let p = save(&app, &t, ROUND, "RA7", extra)
        .await
        .assert_problem(422)
        .clone();
    assert_eq!(p["errors"][0]["field"], "comment", "{p}");
    let now = app.get(RETURN, Some(&t)).await;
    assert_eq!(now.json["version"], 1, "nothing was written: {}", now.text);
    assert!(now.json["answers"].get("R2").is_none());

    // Admin bodies too, including nested framework members and the token request's JSON.
    let admin = app.admin();
    let mut framework = scored_framework();
    framework["key"] = json!("strict-check");
    framework["pillars"][0]["domains"][0]["questions"][0]["mandatroy"] = json!(true);
    let p = app
        .send(
            Method::POST,
            "/api/v1/frameworks",
            Some(&admin),
            Some(framework),
        )
        .await
        .assert_problem(422)
        .clone();
    assert_eq!(
        p["errors"][0]["field"], "pillars[0].domains[0].questions[0].mandatroy",
        "{p}"
    );
    app.get("/api/v1/frameworks/strict-check", Some(&admin))
        .await
        .assert_problem(404);
    let org = json!({"ods_code": "RZZ9", "name": "Test", "org_type": "acute", "region_code": "Y62",
                     "icb_code": null, "opened_on": null, "closed_on": null, "successor_code": null,
                     "colour": "blue"});
    let p = app
        .send(
            Method::POST,
            "/api/v1/organisations",
            Some(&admin),
            Some(org),
        )
        .await
        .assert_problem(422)
        .clone();
    assert_eq!(p["errors"][0]["field"], "colour");
    app.get("/api/v1/organisations/RZZ9", Some(&admin))
        .await
        .assert_problem(404);
    let token = json!({"client_id": "x", "client_secret": "y", "scope": "all"});
    let p = app
        .send(Method::POST, "/api/v1/auth/token", None, Some(token))
        .await
        .assert_problem(422)
        .clone();
    assert_eq!(p["errors"][0]["field"], "scope");
}

#[actix_web::test]
async fn unknown_query_parameters_and_unoffered_formats_are_400() {
    let app = TestApp::new();
    let t = app.analyst();
    let all = app.get("/api/v1/organisations?region=Y62", Some(&t)).await;
    all.assert_ok(200);
    let p = app
        .get("/api/v1/organisations?regoin=Y62", Some(&t))
        .await
        .assert_problem(400)
        .clone();
    assert!(p["detail"].as_str().unwrap().contains("`regoin`"), "{p}");
    let p = app
        .get("/api/v1/organisations/RA7?verbose=1&also=2", Some(&t))
        .await
        .assert_problem(400)
        .clone();
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("`also`") && detail.contains("`verbose`"),
        "{p}"
    );
    // Declared parameters still pass, percent-encoded names are decoded before judging.
    app.get("/api/v1/organisations?%74ype=acute&page=1", Some(&t))
        .await
        .assert_ok(200);
    // Formats: only where offered, and only json or csv.
    open_round(&app, scored_framework(), ROUND).await;
    app.get("/api/v1/rounds/2026-27/scores?format=xml", Some(&t))
        .await
        .assert_problem(400);
    app.get("/api/v1/rounds/2026-27/completion?format=csv", Some(&t))
        .await
        .assert_problem(400);
    app.get("/api/v1/rounds/2026-27/scores?format=csv", Some(&t))
        .await
        .assert_ok(200);
    for path in [
        "/api/v1/rounds/2026-27/divergence/icbs?format=csv",
        "/api/v1/rounds/2026-27/divergence/regions?ods=RA7",
        "/api/v1/rounds/2026-27/divergence/RA7?pillar=overall",
        "/api/v1/rounds/2026-27/divergence?format=xlsx",
    ] {
        app.get(path, Some(&t)).await.assert_problem(400);
    }
}

fn evidence_of(view: &Value, q: &str) -> Value {
    view["answers"][q]["evidence"].clone()
}

#[actix_web::test]
async fn value_and_evidence_are_merged_independently() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    let first = json!({"answers": [{"question": "R1", "value": "some", "evidence": "Board paper 2026/41"}]});
    save(&app, &t, ROUND, "RA7", first).await.assert_ok(200);

    // The value changes; the evidence, absent, stays.
    let v = save(&app, &t, ROUND, "RA7", answers(&[("R1", json!("full"))])).await;
    assert_eq!(v.json["answers"]["R1"]["value"], "full");
    assert_eq!(
        evidence_of(&v.json, "R1"),
        "Board paper 2026/41",
        "{}",
        v.text
    );

    // Evidence alone changes the evidence and keeps the value.
    let only = json!({"answers": [{"question": "R1", "evidence": "Audit report 7"}]});
    let v = save(&app, &t, ROUND, "RA7", only).await;
    assert_eq!(v.json["answers"]["R1"]["value"], "full", "{}", v.text);
    assert_eq!(evidence_of(&v.json, "R1"), "Audit report 7");

    // `null` evidence clears the evidence only.
    let clear = json!({"answers": [{"question": "R1", "evidence": null}]});
    let v = save(&app, &t, ROUND, "RA7", clear).await;
    assert_eq!(v.json["answers"]["R1"]["value"], "full");
    assert!(evidence_of(&v.json, "R1").is_null(), "{}", v.text);

    // Evidence for a question with no answer, or neither member, is refused and changes nothing.
    let version = v.json["version"].clone();
    let orphan = json!({"answers": [{"question": "R2", "evidence": "x"}]});
    save(&app, &t, ROUND, "RA7", orphan)
        .await
        .assert_problem(422);
    let empty = json!({"answers": [{"question": "R1"}]});
    save(&app, &t, ROUND, "RA7", empty)
        .await
        .assert_problem(422);
    assert_eq!(app.get(RETURN, Some(&t)).await.json["version"], version);

    // `null` value removes the answer.
    let v = save(&app, &t, ROUND, "RA7", answers(&[("R1", Value::Null)])).await;
    assert!(v.json["answers"].get("R1").is_none(), "{}", v.text);
}

#[actix_web::test]
async fn the_audit_of_a_save_holds_values_before_and_after_with_actor_and_request() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), ROUND).await;
    let t = app.submitter(&["RA7"]);
    let long = "e".repeat(700);
    let first = json!({"answers": [{"question": "R1", "value": "some", "evidence": long}]});
    save(&app, &t, ROUND, "RA7", first).await.assert_ok(200);
    let second = json!({"answers": [{"question": "R1", "value": "full"}, {"question": "R2", "value": true}]});
    app.call(
        TestRequest::put()
            .uri(&format!("{RETURN}/answers"))
            .insert_header(("Authorization", format!("Bearer {t}")))
            .insert_header(("x-request-id", "cio-save-42"))
            .set_json(second),
    )
    .await
    .assert_ok(200);
    let history = app.get(&format!("{RETURN}/history"), Some(&t)).await;
    let events = history.json.as_array().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last["action"], "save_answers");
    assert_eq!(last["actor"], "test-submitter");
    assert_eq!(last["client_id"], "test-client");
    assert_eq!(last["request_id"], "cio-save-42");
    let changes = last["summary"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{last}");
    assert_eq!(changes[0]["question"], "R1");
    assert_eq!(changes[0]["before"]["value"], "some");
    assert_eq!(changes[0]["after"]["value"], "full");
    let kept = changes[0]["after"]["evidence"].as_str().unwrap();
    assert_eq!(
        kept.chars().count(),
        501,
        "truncated to 500 characters and marked"
    );
    assert!(kept.ends_with('…'));
    assert!(changes[1]["before"].is_null());
    assert_eq!(changes[1]["after"]["value"], true);
    // The national audit shows the same event to an admin.
    let audit = app
        .get(
            "/api/v1/audit?entity=assessment&per_page=500",
            Some(&app.admin()),
        )
        .await;
    let items = audit.json["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|e| e["request_id"] == "cio-save-42" && e["client_id"] == "test-client")
    );
}

#[test]
fn the_token_command_never_invents_a_signing_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dma"))
        .args(["token", "--role", "analyst"])
        .current_dir(dir.path())
        .env_remove("DMA_JWT_SECRET")
        .env_remove("DMA_DATA_DIR")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run dma token");
    assert!(
        !out.status.success(),
        "a token was printed without a secret"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no token signing secret"), "{stderr}");
    assert!(!dir.path().join("data").join("jwt-secret").exists());
    // With the server's secret in its data directory, the same command signs with it.
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("jwt-secret"), crate::harness::SECRET).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dma"))
        .args(["token", "--role", "analyst"])
        .current_dir(dir.path())
        .env_remove("DMA_JWT_SECRET")
        .env_remove("DMA_DATA_DIR")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run dma token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let keys =
        dma::auth::TokenKeys::from_secret(&dma::config::Secret::new(crate::harness::SECRET.into()));
    assert!(
        keys.verify(&token).is_ok(),
        "the token is signed with the server's secret"
    );
}

/// Every operation of the generated document, with its path and method.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if op.get("responses").is_some() {
                out.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

#[test]
fn openapi_operations_declare_each_parameter_name_once() {
    let doc = serde_json::to_value(dma::app::openapi()).unwrap();
    let ops = operations(&doc);
    assert!(ops.len() > 30, "{} operations", ops.len());
    let mut problems = Vec::new();
    for (method, path, op) in ops {
        let mut seen = std::collections::BTreeMap::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().expect("a parameter has a name");
            let at = p["in"].as_str().expect("a parameter has a location");
            if let Some(before) = seen.insert(name.to_ascii_lowercase(), at) {
                problems.push(format!(
                    "{method} {path}: `{name}` declared in {before} and in {at}"
                ));
            }
        }
        // Every `{name}` of the template is declared, and declared in the path.
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(['{', '}']);
            if seen.get(name) != Some(&"path") {
                problems.push(format!("{method} {path}: `{name}` is not a path parameter"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn openapi_every_operation_documents_the_common_problem_responses() {
    let doc = serde_json::to_value(dma::app::openapi()).unwrap();
    let components = &doc["components"]["responses"];
    for (status, name) in dma::api::problems::COMMON {
        let c = &components[name];
        assert!(c["description"].is_string(), "{name}: {c}");
        assert_eq!(
            c["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{name}"
        );
        if matches!(status, "429" | "503") {
            assert!(c["headers"]["Retry-After"].is_object(), "{name}: {c}");
        }
    }
    let mut missing = Vec::new();
    for (method, path, op) in operations(&doc) {
        if path.starts_with("/fhir/") {
            // The FHIR facade answers every error as an OperationOutcome, documented as `default`.
            let default = &op["responses"]["default"]["content"]["application/fhir+json"];
            if !default.is_object() {
                missing.push(format!("{method} {path}: no `default` OperationOutcome"));
            }
            continue;
        }
        for (status, name) in dma::api::problems::COMMON {
            let reference = format!("#/components/responses/{name}");
            if op["responses"][status]["$ref"] != reference.as_str() {
                missing.push(format!(
                    "{method} {path} {status}: {}",
                    op["responses"][status]
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn openapi_flags_pattern_names_every_flag_code() {
    let doc = serde_json::to_value(dma::app::openapi()).unwrap();
    let params = doc["paths"]["/api/v1/rounds/{round}/divergence"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let flags = params.iter().find(|p| p["name"] == "flags").unwrap();
    let pattern = flags["schema"]["pattern"].as_str().unwrap();
    // The codes of the pattern: each alternation lists every code once.
    let mut named: Vec<&str> = pattern
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .filter(|w| w.len() > 1)
        .collect();
    named.sort_unstable();
    let mut expected: Vec<&str> = dma::domain::divergence::Flag::ALL
        .iter()
        .flat_map(|f| [f.as_str(), f.as_str()])
        .collect();
    expected.sort_unstable();
    assert_eq!(named, expected, "{pattern}");
}
