//! The FHIR R4 facade at `/fhir/r4`, through HTTP as an integrator meets it: the
//! CapabilityStatement, frameworks as Questionnaires both ways, returns as QuestionnaireResponses
//! (saved, submitted, scored as the API scores them), totals recomputed, OperationOutcomes for
//! every refusal, and nothing reachable for another organisation.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::fixtures::{answers, close, open_round, open_round_on, save, scored_framework, submit};
use crate::harness::{Reply, TestApp};

const FHIR: &str = "application/fhir+json";

async fn post_fhir(app: &TestApp, path: &str, token: &str, body: &Value) -> Reply {
    app.call(
        TestRequest::default()
            .method(Method::POST)
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", FHIR))
            .set_payload(body.to_string()),
    )
    .await
}

/// Asserts an OperationOutcome with this status; returns its issues.
#[track_caller]
fn outcome(r: &Reply, status: u16) -> Vec<Value> {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.header("content-type"), Some(FHIR), "{}", r.text);
    assert_eq!(r.json["resourceType"], "OperationOutcome", "{}", r.text);
    let issues = r.json["issue"].as_array().expect("issues").clone();
    assert!(!issues.is_empty());
    issues
}

fn expressions(issues: &[Value]) -> Vec<String> {
    issues
        .iter()
        .flat_map(|i| i["expression"].as_array().cloned().unwrap_or_default())
        .map(|e| e.as_str().unwrap_or("").to_owned())
        .collect()
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fhir/questionnaires/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn coding(code: &str) -> Value {
    json!({"valueCoding": {"code": code}})
}

/// A QuestionnaireResponse for `ods` answering the scored test framework.
fn response(status: &str, ods: &str, items: Value) -> Value {
    json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://fhir.dma.nhs.uk/Questionnaire/sa-test|1",
        "status": status,
        "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": ods}},
        "item": items
    })
}

fn acute_items(with_records: bool) -> Value {
    let mut pillars = vec![
        json!({"linkId": "readiness", "item": [{"linkId": "strategy", "item": [
            {"linkId": "R1", "answer": [coding("some")]},
            {"linkId": "R2", "answer": [{"valueBoolean": true,
                "extension": [{"url": "https://fhir.dma.nhs.uk/StructureDefinition/evidence", "valueString": "Board minute 12"}]}]},
            {"linkId": "R3", "answer": [{"valueDecimal": 5}]}
        ]}]}),
    ];
    if with_records {
        pillars.push(json!({"linkId": "capabilities", "item": [{"linkId": "records", "item": [
            {"linkId": "C1", "answer": [{"valueDecimal": 60}]},
            {"linkId": "C2", "answer": [coding("orders"), coding("results"), coding("eprescribing")]}
        ]}]}));
    }
    json!(pillars)
}

fn scores_extension(qr: &Value) -> Value {
    qr["extension"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["url"] == "https://fhir.dma.nhs.uk/StructureDefinition/scores")
        .cloned()
        .expect("scores extension")
}

fn part(ext: &Value, name: &str) -> Option<Value> {
    ext["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"] == name)
        .map(|e| e["valueDecimal"].clone())
}

#[actix_web::test]
async fn metadata_needs_no_token_and_lists_both_resources() {
    let app = TestApp::new();
    let r = app.get("/fhir/r4/metadata", None).await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.header("content-type"), Some(FHIR));
    assert_eq!(r.json["resourceType"], "CapabilityStatement");
    assert_eq!(r.json["fhirVersion"], "4.0.1");
    let types: Vec<&str> = r.json["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|res| res["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Questionnaire", "QuestionnaireResponse"]);
    let text = r.text.as_str();
    for ext in [
        "staged-level",
        "applies-to",
        "evidence",
        "ordinalValue",
        "sdc-questionnaire-calculatedExpression",
    ] {
        assert!(text.contains(ext), "{ext} listed");
    }
}

#[actix_web::test]
async fn every_refusal_is_an_operation_outcome_with_the_api_status() {
    let app = TestApp::new();
    let admin = app.admin();
    outcome(&app.get("/fhir/r4/Questionnaire", None).await, 401);
    outcome(
        &app.get("/fhir/r4/Questionnaire/nope", Some(&app.analyst()))
            .await,
        404,
    );
    outcome(
        &app.get("/fhir/r4/Questionnaire?colour=red", Some(&app.analyst()))
            .await,
        400,
    );
    outcome(
        &app.get("/fhir/r4/Nothing", Some(&app.analyst())).await,
        404,
    );
    // A malformed resource names the element.
    let bad = json!({"resourceType": "Questionnaire", "status": "nonsense"});
    let issues = outcome(
        &post_fhir(&app, "/fhir/r4/Questionnaire", &admin, &bad).await,
        422,
    );
    assert!(
        expressions(&issues)
            .iter()
            .any(|e| e.starts_with("Questionnaire")),
        "{issues:?}"
    );
    let wrong = json!({"resourceType": "Patient"});
    let issues = outcome(
        &post_fhir(&app, "/fhir/r4/Questionnaire", &admin, &wrong).await,
        422,
    );
    assert_eq!(expressions(&issues), ["Questionnaire.resourceType"]);
    let r = app
        .call(
            TestRequest::default()
                .method(Method::POST)
                .uri("/fhir/r4/Questionnaire")
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
    outcome(&r, 415);
    // Importing is for admins.
    let q = fixture("phq2-total.json");
    outcome(
        &post_fhir(&app, "/fhir/r4/Questionnaire", &app.analyst(), &q).await,
        403,
    );
    outcome(
        &post_fhir(&app, "/fhir/r4/Questionnaire", &app.submitter(&["RA7"]), &q).await,
        403,
    );
}

#[actix_web::test]
async fn a_framework_goes_out_as_a_questionnaire_and_comes_back_the_same() {
    let app = TestApp::new();
    let admin = app.admin();
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&admin),
        Some(scored_framework()),
    )
    .await
    .assert_ok(201);
    let r = app
        .get("/fhir/r4/Questionnaire/sa-test", Some(&app.analyst()))
        .await;
    let q = r.assert_ok(200).clone();
    assert_eq!(r.header("content-type"), Some(FHIR));
    assert_eq!(
        (q["status"].as_str(), q["version"].as_str()),
        (Some("draft"), Some("1"))
    );
    assert_eq!(q["url"], "https://fhir.dma.nhs.uk/Questionnaire/sa-test");
    let strategy = &q["item"][0]["item"][0];
    assert_eq!(
        (strategy["linkId"].as_str(), strategy["type"].as_str()),
        (Some("strategy"), Some("group"))
    );
    let r1 = &strategy["item"][0];
    assert_eq!(r1["linkId"], "R1");
    assert_eq!(r1["required"], true);
    assert_eq!(r1["answerOption"][1]["valueCoding"]["code"], "some");
    assert_eq!(r1["answerOption"][1]["extension"][0]["valueDecimal"], 50.0);
    let r3 = &strategy["item"][2];
    assert_eq!(
        r3["enableWhen"],
        json!([{"question": "R2", "operator": "=", "answerBoolean": true}])
    );
    let c2 = &q["item"][1]["item"][0]["item"][1];
    assert_eq!(
        (c2["type"].as_str(), c2["repeats"].as_bool()),
        (Some("choice"), Some(true))
    );

    // The same url|version again is a conflict; a new version is a new draft framework.
    let issues = outcome(
        &post_fhir(&app, "/fhir/r4/Questionnaire", &admin, &q).await,
        409,
    );
    assert!(
        issues[0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("sa-test")
    );
    let mut next = q.clone();
    next["version"] = json!("2");
    let r = post_fhir(&app, "/fhir/r4/Questionnaire", &admin, &next).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(
        r.header("location"),
        Some("/fhir/r4/Questionnaire/sa-test-2")
    );
    assert_eq!(r.json["status"], "draft");
    let native = app.get("/api/v1/frameworks/sa-test-2", Some(&admin)).await;
    let original = app.get("/api/v1/frameworks/sa-test", Some(&admin)).await;
    assert_eq!(
        native.assert_ok(200)["pillars"],
        original.assert_ok(200)["pillars"]
    );
    assert_eq!(native.json["scale"], original.json["scale"]);
    assert_eq!(native.json["version"], "2");
    // Search by url, version and status.
    let r = app
        .get(
            "/fhir/r4/Questionnaire?url=https://fhir.dma.nhs.uk/Questionnaire/sa-test&version=2",
            Some(&admin),
        )
        .await;
    let bundle = r.assert_ok(200);
    assert_eq!(
        (bundle["type"].as_str(), bundle["total"].as_u64()),
        (Some("searchset"), Some(1))
    );
    assert_eq!(bundle["entry"][0]["resource"]["id"], "sa-test-2");
    let r = app
        .get("/fhir/r4/Questionnaire?status=active", Some(&admin))
        .await;
    let ids: Vec<&str> = r.json["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"sa-test") && ids.contains(&"wgll-2025"),
        "{ids:?}"
    );
}

#[actix_web::test]
async fn an_hl7_form_is_imported_with_its_link_ids_and_conditions_and_refusals_store_nothing() {
    let app = TestApp::new();
    let admin = app.admin();
    let q = fixture("questionnaire-sdc-test-enablewhen.json");
    let r = post_fhir(&app, "/fhir/r4/Questionnaire", &admin, &q).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let key = r
        .header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let native = app
        .get(&format!("/api/v1/frameworks/{key}"), Some(&admin))
        .await;
    let native = native.assert_ok(200);
    assert_eq!(
        (native["status"].as_str(), native["method"].as_str()),
        (Some("draft"), Some("scored"))
    );
    // linkIds are kept exactly, a group's conditions stay on it.
    let text = native.to_string();
    assert!(text.contains("5e1209b7-c9e0-4bf4-b228-fr096s903m25"));
    let scenario_one = &native["pillars"][0];
    let group = scenario_one["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == "76daed4f-f957-45cb-9584-aab95f6021d4")
        .unwrap();
    assert_eq!(group["enable_behavior"], "all");
    assert_eq!(group["enable_when"].as_array().unwrap().len(), 2);

    let before = app
        .get("/api/v1/frameworks", Some(&admin))
        .await
        .json
        .as_array()
        .unwrap()
        .len();
    for name in [
        "refused-sdc-test-nested-groups.json",
        "refused-sdc-test-all-data-types.json",
        "refused-sdc-example-phq9.json",
    ] {
        let issues = outcome(
            &post_fhir(&app, "/fhir/r4/Questionnaire", &admin, &fixture(name)).await,
            422,
        );
        let paths = expressions(&issues);
        assert!(
            !paths.is_empty() && paths.iter().all(|p| p.starts_with("Questionnaire.item[")),
            "{name}: {paths:?}"
        );
    }
    let after = app
        .get("/api/v1/frameworks", Some(&admin))
        .await
        .json
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
}

#[actix_web::test]
async fn a_response_saves_then_submits_a_return_scored_as_the_api_scores_it() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), "2026-27").await;
    let t = app.submitter(&["RA7", "RJ1"]);
    // in-progress: a draft, evidence kept, codes matched without their system.
    let r = post_fhir(
        &app,
        "/fhir/r4/QuestionnaireResponse",
        &t,
        &response("in-progress", "RA7", acute_items(false)),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let location = r.header("location").unwrap().to_owned();
    assert_eq!(r.json["status"], "in-progress");
    let native = app
        .get("/api/v1/rounds/2026-27/assessments/RA7", Some(&t))
        .await;
    let native = native.assert_ok(200).clone();
    assert_eq!(native["status"], "draft");
    assert_eq!(native["answers"]["R1"]["value"], "some");
    assert_eq!(native["answers"]["R2"]["evidence"], "Board minute 12");
    // completed with mandatory questions unanswered: 422 naming them, and nothing changes.
    let r = post_fhir(
        &app,
        "/fhir/r4/QuestionnaireResponse",
        &t,
        &response("completed", "RA7", json!([])),
    )
    .await;
    let issues = outcome(&r, 422);
    let missing = expressions(&issues);
    assert!(
        missing.contains(&"C1".to_owned()) && missing.contains(&"R1".to_owned()),
        "{missing:?}"
    );
    let unchanged = app
        .get("/api/v1/rounds/2026-27/assessments/RA7", Some(&t))
        .await;
    assert_eq!(unchanged.json, native);
    // completed with everything: submitted, with the scores the API gives the same answers.
    let r = post_fhir(
        &app,
        "/fhir/r4/QuestionnaireResponse",
        &t,
        &response("completed", "RA7", acute_items(true)),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json["status"], "completed");
    let scores = scores_extension(&r.json);
    close(part(&scores, "score").unwrap().as_f64().unwrap(), 79.375);
    let body = answers(&[
        ("R1", json!("some")),
        ("R2", json!(true)),
        ("R3", json!(5)),
        ("C1", json!(60)),
        ("C2", json!(["orders", "results", "eprescribing"])),
    ]);
    save(&app, &t, "2026-27", "RJ1", body).await.assert_ok(200);
    let via_api = submit(&app, &t, "2026-27", "RJ1")
        .await
        .assert_ok(200)
        .clone();
    let via_fhir = app
        .get("/api/v1/rounds/2026-27/assessments/RA7", Some(&t))
        .await;
    assert_eq!(via_fhir.json["scores"], via_api["scores"]);
    assert_eq!(via_fhir.json["status"], "submitted");
    // Read back by id, as the Location says.
    let r = app.get(&location, Some(&t)).await;
    let qr = r.assert_ok(200);
    assert_eq!(
        qr["questionnaire"],
        "https://fhir.dma.nhs.uk/Questionnaire/sa-test|1"
    );
    assert_eq!(qr["subject"]["identifier"]["value"], "RA7");
    let c2 = &qr["item"][1]["item"][0]["item"][1];
    assert_eq!(c2["answer"].as_array().unwrap().len(), 3);
    // A submitted return is read-only.
    let r = post_fhir(
        &app,
        "/fhir/r4/QuestionnaireResponse",
        &t,
        &response("in-progress", "RA7", acute_items(false)),
    )
    .await;
    outcome(&r, 409);
}

#[actix_web::test]
async fn bad_answers_are_named_by_their_item_and_change_nothing() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), "2026-27").await;
    let t = app.submitter(&["RA7"]);
    let items = json!([
        {"linkId": "R1", "answer": [coding("maybe")]},
        {"linkId": "R2", "answer": [{"valueString": "yes"}]},
        {"linkId": "NOPE", "answer": [{"valueBoolean": true}]}
    ]);
    let issues = outcome(
        &post_fhir(
            &app,
            "/fhir/r4/QuestionnaireResponse",
            &t,
            &response("in-progress", "RA7", items),
        )
        .await,
        422,
    );
    let paths = expressions(&issues);
    assert_eq!(paths.len(), 3, "{issues:?}");
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("QuestionnaireResponse.item[0]"))
    );
    assert!(paths.contains(&"QuestionnaireResponse.item[2].linkId".to_owned()));
    let native = app
        .get("/api/v1/rounds/2026-27/assessments/RA7", Some(&t))
        .await;
    assert_eq!(native.assert_ok(200)["status"], "not_started");
    // A code named with another system is not that option.
    let items = json!([{"linkId": "R1", "answer": [{"valueCoding": {"system": "http://example.org", "code": "some"}}]}]);
    outcome(
        &post_fhir(
            &app,
            "/fhir/r4/QuestionnaireResponse",
            &t,
            &response("in-progress", "RA7", items),
        )
        .await,
        422,
    );
    // Evidence as a save takes it: at most 4,000 characters.
    let long = "e".repeat(4001);
    let items = json!([{"linkId": "R2", "answer": [{"valueBoolean": true, "extension": [
        {"url": "https://fhir.dma.nhs.uk/StructureDefinition/evidence", "valueString": long}]}]}]);
    let issues = outcome(
        &post_fhir(
            &app,
            "/fhir/r4/QuestionnaireResponse",
            &t,
            &response("in-progress", "RA7", items),
        )
        .await,
        422,
    );
    assert_eq!(
        expressions(&issues),
        ["QuestionnaireResponse.item[0].answer[0].extension"]
    );
    // No open round on an unknown questionnaire.
    let mut other = response("in-progress", "RA7", json!([]));
    other["questionnaire"] = json!("http://example.org/Questionnaire/x|1");
    let issues = outcome(
        &post_fhir(&app, "/fhir/r4/QuestionnaireResponse", &t, &other).await,
        422,
    );
    assert_eq!(
        expressions(&issues),
        ["QuestionnaireResponse.questionnaire"]
    );
}

#[actix_web::test]
async fn nothing_of_another_organisation_can_be_written_or_read() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), "2026-27").await;
    let rj1 = app.submitter(&["RJ1"]);
    let ra7 = app.submitter(&["RA7"]);
    let r = post_fhir(
        &app,
        "/fhir/r4/QuestionnaireResponse",
        &rj1,
        &response("in-progress", "RJ1", acute_items(false)),
    )
    .await;
    let location = r.header("location").unwrap().to_owned();
    // RA7 cannot write RJ1's return, through subject or author.
    outcome(
        &post_fhir(
            &app,
            "/fhir/r4/QuestionnaireResponse",
            &ra7,
            &response("in-progress", "RJ1", acute_items(false)),
        )
        .await,
        403,
    );
    let mut by_author = response("in-progress", "RJ1", acute_items(false));
    by_author.as_object_mut().unwrap().remove("subject");
    by_author["author"] = json!({"reference": "Organization/RJ1"});
    outcome(
        &post_fhir(&app, "/fhir/r4/QuestionnaireResponse", &ra7, &by_author).await,
        403,
    );
    outcome(
        &post_fhir(
            &app,
            "/fhir/r4/QuestionnaireResponse",
            &app.analyst(),
            &by_author,
        )
        .await,
        403,
    );
    // ...nor read it, by id or by search.
    // (an id the caller may not read is answered as unknown: it says nothing about whose it is)
    outcome(&app.get(&location, Some(&ra7)).await, 404);
    let r = app
        .get("/fhir/r4/QuestionnaireResponse?subject=RJ1", Some(&ra7))
        .await;
    assert_eq!(r.assert_ok(200)["total"], 0);
    let r = app.get("/fhir/r4/QuestionnaireResponse", Some(&ra7)).await;
    assert_eq!(r.assert_ok(200)["total"], 0);
    // Analysts read every organisation's.
    let r = app.get("/fhir/r4/QuestionnaireResponse?subject=https://fhir.nhs.uk/Id/ods-organization-code|RJ1", Some(&app.analyst())).await;
    assert_eq!(r.assert_ok(200)["total"], 1);
    assert_eq!(
        app.get(&location, Some(&app.analyst()))
            .await
            .status
            .as_u16(),
        200
    );
}

#[actix_web::test]
async fn totals_are_recomputed_never_trusted() {
    let app = TestApp::new();
    let admin = app.admin();
    let r = post_fhir(
        &app,
        "/fhir/r4/Questionnaire",
        &admin,
        &fixture("phq2-total.json"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let key = r.json["id"].as_str().unwrap().to_owned();
    let native = app
        .get(&format!("/api/v1/frameworks/{key}"), Some(&admin))
        .await;
    let total = native.json["pillars"][0]["domains"][0]["questions"][2].clone();
    assert_eq!(total["total"]["of"], "framework", "{total}");
    app.send(
        Method::POST,
        &format!("/api/v1/frameworks/{key}/publish"),
        Some(&admin),
        None,
    )
    .await
    .assert_ok(200);
    open_round_on(
        &app,
        &key,
        "phq-1",
        "2026-01-01T00:00:00Z",
        "2027-03-31T00:00:00Z",
    )
    .await;
    let t = app.submitter(&["RA7"]);
    let mut qr = json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://example.org/fhir/Questionnaire/phq2-total|1.0.0",
        "status": "completed",
        "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RA7"}},
        "item": [
            {"linkId": "phq2-1", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6570-1"}}]},
            {"linkId": "phq2-2", "answer": [{"valueCoding": {"code": "LA6571-9"}}]},
            {"linkId": "phq2-total", "answer": [{"valueInteger": 0}]}
        ]
    });
    let r = post_fhir(&app, "/fhir/r4/QuestionnaireResponse", &t, &qr).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let items = r.json["item"].as_array().unwrap();
    let sent_total = items.iter().find(|i| i["linkId"] == "phq2-total").unwrap();
    assert_eq!(
        sent_total["answer"][0]["valueInteger"], 5,
        "2 + 3, not the 0 sent"
    );
    let warning = r.json["meta"]["extension"][0]["valueString"]
        .as_str()
        .unwrap();
    assert!(
        warning.contains("phq2-total") && warning.contains('5'),
        "{warning}"
    );
    // The stored scores are the service's: the mean of the two answers' scores.
    close(
        part(&scores_extension(&r.json), "score")
            .unwrap()
            .as_f64()
            .unwrap(),
        2.5,
    );
    // The total is never an answer to store.
    let native = app
        .get("/api/v1/rounds/phq-1/assessments/RA7", Some(&t))
        .await;
    assert!(native.json["answers"].get("phq2-total").is_none());
    let issues = save(
        &app,
        &admin,
        "phq-1",
        "RA7",
        answers(&[("phq2-total", json!(3))]),
    )
    .await;
    assert_eq!(issues.status.as_u16(), 409, "submitted: read-only");
    qr["status"] = json!("in-progress");
}

#[actix_web::test]
async fn a_return_submitted_again_after_reopening_is_amended() {
    let app = TestApp::new();
    open_round(&app, scored_framework(), "2026-27").await;
    let t = app.submitter(&["RA7"]);
    let r = post_fhir(
        &app,
        "/fhir/r4/QuestionnaireResponse",
        &t,
        &response("completed", "RA7", acute_items(true)),
    )
    .await;
    assert_eq!(r.json["status"], "completed", "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    app.send(
        Method::POST,
        "/api/v1/rounds/2026-27/assessments/RA7/reopen",
        Some(&app.admin()),
        Some(json!({"reason": "C1 was misread"})),
    )
    .await
    .assert_ok(200);
    let r = app
        .get(&format!("/fhir/r4/QuestionnaireResponse/{id}"), Some(&t))
        .await;
    assert_eq!(r.json["status"], "in-progress");
    let r = post_fhir(
        &app,
        "/fhir/r4/QuestionnaireResponse",
        &t,
        &response("completed", "RA7", acute_items(true)),
    )
    .await;
    assert_eq!(r.json["status"], "amended", "{}", r.text);
    for (status, total) in [("amended", 1), ("completed", 0), ("in-progress", 0)] {
        let r = app
            .get(
                &format!("/fhir/r4/QuestionnaireResponse?status={status}"),
                Some(&t),
            )
            .await;
        assert_eq!(r.assert_ok(200)["total"], total, "{status}");
    }
    let r = app
        .get("/fhir/r4/QuestionnaireResponse?questionnaire=https://fhir.dma.nhs.uk/Questionnaire/sa-test|1", Some(&app.analyst()))
        .await;
    assert_eq!(r.assert_ok(200)["total"], 1);
}
