//! Divergence through the API: the worked example of `docs/divergence-v1.md` (B10) reproduced
//! from real submitted returns, who may see which rows, CSV, aggregates and what a submitter may
//! see of a peer-group reference. Peer groups themselves are in `peer_groups`.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::fixtures::{answers, open_round_at, open_round_on, save, submit};
use crate::harness::TestApp;

/// The six acute trusts standing for A–F of the worked example.
const ORGS: [&str; 6] = ["R0A", "R0B", "R0D", "R1F", "R1H", "R1K"];
const S_2024: [f64; 6] = [2.0, 2.5, 3.0, 3.0, 3.5, 2.5];
const S_2025: [f64; 6] = [1.4, 3.1, 3.4, 3.3, 4.3, 3.0];

fn code(v: f64) -> String {
    format!("v{}", (v * 10.0).round() as i64)
}

/// One pillar, one question whose options score exactly the example's values on a 1–5 scale.
fn example_framework() -> Value {
    let mut values: Vec<f64> = S_2024.iter().chain(S_2025.iter()).copied().collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    let options: Vec<Value> = values
        .iter()
        .map(|v| json!({"code": code(*v), "label": format!("{v}"), "score": v}))
        .collect();
    json!({"key": "example", "title": "Worked example", "version": "1", "method": "scored", "scale": {"min": 1, "max": 5},
           "pillars": [{"key": "smart_foundations", "title": "Ensure smart foundations", "domains": [
             {"key": "infrastructure", "title": "Infrastructure", "applies_to": ["acute"], "questions": [
               {"key": "S1", "text": "Maturity", "type": "single_choice", "options": options}]}]}]})
}

async fn round(app: &TestApp, key: &str, opens: &str, closes: &str, scores: &[f64; 6]) {
    let a = app.admin();
    open_round_on(app, "example", key, opens, closes).await;
    for (ods, s) in ORGS.iter().zip(scores) {
        save(app, &a, key, ods, answers(&[("S1", json!(code(*s)))]))
            .await
            .assert_ok(200);
        submit(app, &a, key, ods).await.assert_ok(200);
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

/// Publishes both rounds of the example, so that submitters may see them.
async fn publish_both(app: &TestApp) {
    let a = app.admin();
    for key in ["2024", "2025"] {
        app.send(
            Method::POST,
            &format!("/api/v1/rounds/{key}/publish"),
            Some(&a),
            None,
        )
        .await
        .assert_ok(200);
    }
}

pub(crate) async fn example() -> TestApp {
    let app = TestApp::new();
    let a = app.admin();
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&a),
        Some(example_framework()),
    )
    .await
    .assert_ok(201);
    app.send(
        Method::POST,
        "/api/v1/frameworks/example/publish",
        Some(&a),
        None,
    )
    .await
    .assert_ok(200);
    round(
        &app,
        "2024",
        "2024-04-01T00:00:00Z",
        "2025-03-31T00:00:00Z",
        &S_2024,
    )
    .await;
    round(
        &app,
        "2025",
        "2025-04-01T00:00:00Z",
        "2026-03-31T00:00:00Z",
        &S_2025,
    )
    .await;
    app
}

/// Agreement with a figure as the spec prints it: within 1e-4 relative, or within half a unit of
/// the last printed digit (the spec prints 0.01051 for 0.0105126…).
#[track_caller]
pub(crate) fn rel(actual: &Value, printed: &str) {
    let a = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{actual} is not a number"));
    let expected: f64 = printed.parse().unwrap();
    let (mantissa, exp) = printed
        .split_once('e')
        .map_or((printed, 0), |(m, e)| (m, e.parse::<i32>().unwrap()));
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len() as i32);
    let half_digit = 0.5 * 10f64.powi(exp - decimals);
    let tolerance = (1e-4 * expected.abs()).max(half_digit);
    assert!((a - expected).abs() <= tolerance, "{a} vs {printed}");
}

pub(crate) fn row<'a>(body: &'a Value, ods: &str, pillar: &str) -> &'a Value {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["org_id"] == ods && r["pillar"] == pillar)
        .unwrap()
}

/// The one-organisation view's distribution for one pillar.
fn distribution<'a>(body: &'a Value, pillar: &str) -> &'a Value {
    body["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["pillar"] == pillar)
        .unwrap()
}

fn flags(r: &Value) -> Vec<&str> {
    r["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn the_worked_example_comes_out_of_the_endpoint() {
    let app = example().await;
    let r = app
        .get(
            "/api/v1/rounds/2025/divergence?pillar=smart_foundations&method=divergence-v1",
            Some(&app.analyst()),
        )
        .await;
    let body = r.assert_ok(200);
    assert_eq!(body["previous_round"], "2024");
    assert_eq!(body["total"], 6);
    let a = row(body, "R0A", "smart_foundations");
    rel(&a["reference"]["median"], "3.2");
    rel(&a["reference"]["mad"], "0.2");
    rel(&a["reference"]["scale"], "0.29652");
    rel(&a["reference"]["q1"], "3.025");
    rel(&a["reference"]["q3"], "3.375");
    assert_eq!(a["reference"]["n"], 6);
    assert_eq!(a["reference"]["confidence"], "low");
    rel(&a["level"]["gap"], "-1.8");
    rel(&a["level"]["robust_z"], "-6.0704");
    rel(&a["level"]["p"], "0.001752");
    rel(&a["level"]["q"], "0.01051");
    assert_eq!(a["level"]["tier"], "alarm");
    rel(&a["level"]["percentile_rank"], "8.3");
    rel(&a["level"]["gap_prev"], "-0.75");
    rel(&a["level"]["gap_change"], "-1.05");
    rel(&a["change"]["delta"], "-0.6");
    rel(&a["change"]["peer_median_delta"], "0.45");
    rel(&a["change"]["excess"], "-1.05");
    rel(&a["change"]["scale"], "0.22239");
    rel(&a["change"]["robust_z"], "-4.7214");
    rel(&a["change"]["p"], "0.005236");
    rel(&a["change"]["q"], "0.03142");
    assert_eq!(a["change"]["tier"], "alert");
    assert_eq!(
        flags(a),
        [
            "LEVEL_BELOW_PEERS",
            "PROGRESS_BELOW_PEERS",
            "GAP_WIDENING_BEHIND",
            "PRIORITY_FALLING_BEHIND"
        ]
    );
    assert!(
        a["reasons"][0]
            .as_str()
            .unwrap()
            .contains("1.80 below the acute median 3.20")
    );
    assert_eq!(a["method"]["version"], "divergence-v1");
    assert_eq!(a["method"]["family_size"], 6);

    let e = row(body, "R1H", "smart_foundations");
    rel(&e["level"]["robust_z"], "3.7097");
    rel(&e["level"]["p"], "0.01386");
    rel(&e["level"]["q"], "0.04158");
    rel(&e["change"]["robust_z"], "1.5738");
    rel(&e["change"]["q"], "0.529");
    assert_eq!(flags(e), ["LEVEL_ABOVE_PEERS", "GAP_WIDENING_AHEAD"]);
    for ods in ["R0B", "R0D", "R1F", "R1K"] {
        let r = row(body, ods, "smart_foundations");
        rel(&r["level"]["q"], "0.7496");
        assert!(flags(r).is_empty(), "{ods}");
    }
    rel(
        &row(body, "R0B", "smart_foundations")["change"]["q"],
        "0.7949",
    );
    rel(
        &row(body, "R1F", "smart_foundations")["change"]["q"],
        "0.7949",
    );
    rel(
        &row(body, "R0D", "smart_foundations")["change"]["q"],
        "0.831",
    );
}

#[actix_web::test]
async fn the_normal_method_and_the_previous_round_follow_the_spec() {
    let app = example().await;
    let t = app.analyst();
    let normal = app
        .get(
            "/api/v1/rounds/2025/divergence?pillar=smart_foundations&p_method=normal&method=divergence-v1",
            Some(&t),
        )
        .await;
    let body = normal.assert_ok(200);
    assert_eq!(body["method"]["options"]["p_method"], "normal");
    let a = row(body, "R0A", "smart_foundations");
    rel(&a["level"]["p"], "1.28e-9");
    rel(&a["level"]["q"], "7.65e-9");
    rel(&a["change"]["p"], "2.34e-6");
    rel(&a["change"]["q"], "1.41e-5");
    rel(
        &row(body, "R1H", "smart_foundations")["change"]["q"],
        "0.347",
    );
    let default = app.get("/api/v1/rounds/2025/divergence", Some(&t)).await;
    assert_ne!(
        default.json["method"]["config_hash"],
        body["method"]["config_hash"]
    );

    // 2024 against nothing: level only; A's z −2.0235 is not flagged once BH applies.
    let first = app
        .get(
            "/api/v1/rounds/2024/divergence?pillar=smart_foundations&method=divergence-v1",
            Some(&t),
        )
        .await;
    let a = row(first.assert_ok(200), "R0A", "smart_foundations");
    rel(&a["level"]["robust_z"], "-2.0235");
    rel(&a["level"]["q"], "0.2968");
    assert!(a["change"].is_null());
    assert!(
        a["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "NO_PREVIOUS_ROUND")
    );
    assert!(flags(a).is_empty());
    app.get(
        "/api/v1/rounds/2025/divergence?previous_round=nope",
        Some(&t),
    )
    .await
    .assert_problem(422);
    app.get("/api/v1/rounds/2025/divergence?alpha_fdr=2", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/rounds/2025/divergence?p_method=bayes", Some(&t))
        .await
        .assert_problem(422);
    // The bounds the document states for min_ref_n: analysts may go down to 2, nobody above 10000.
    app.get("/api/v1/rounds/2025/divergence?min_ref_n=10001", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/rounds/2025/divergence?min_ref_n=1", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/rounds/2025/divergence?min_ref_n=10000", Some(&t))
        .await
        .assert_ok(200);
    app.get("/api/v1/rounds/2025/divergence?pillar=nope", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/rounds/nope/divergence", Some(&t))
        .await
        .assert_problem(404);
}

#[actix_web::test]
async fn filters_never_change_the_figures() {
    let app = example().await;
    let t = app.analyst();
    let all = app.get("/api/v1/rounds/2025/divergence", Some(&t)).await;
    let flagged = app
        .get("/api/v1/rounds/2025/divergence?flagged_only=true", Some(&t))
        .await;
    let flagged_codes: Vec<String> = flagged.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}/{}", r["org_id"], r["pillar"]))
        .collect();
    assert_eq!(
        flagged_codes.len(),
        4,
        "A and E, pillar and overall: {flagged_codes:?}"
    );
    let one = app
        .get(
            "/api/v1/rounds/2025/divergence?ods=R0A&region=Y62",
            Some(&t),
        )
        .await;
    assert_eq!(one.json["total"], 2);
    assert_eq!(
        row(&one.json, "R0A", "overall")["level"],
        row(&all.json, "R0A", "overall")["level"]
    );
    let none = app
        .get(
            "/api/v1/rounds/2025/divergence?type=mental_health",
            Some(&t),
        )
        .await;
    assert_eq!(none.json["total"], 0);
}

#[actix_web::test]
async fn submitters_see_their_own_rows_of_published_rounds_only() {
    let app = example().await;
    let mine = app.submitter(&["R0A"]);
    app.get("/api/v1/rounds/2025/divergence", Some(&mine))
        .await
        .assert_problem(403);
    publish_both(&app).await;
    let r = app.get("/api/v1/rounds/2025/divergence", Some(&mine)).await;
    let rows = r.assert_ok(200)["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|x| x["org_id"] == "R0A"));
    rel(&rows[0]["reference"]["median"], "3.2");
    app.get("/api/v1/rounds/2025/divergence/R1H", Some(&mine))
        .await
        .assert_problem(403);
    app.get("/api/v1/rounds/2025/divergence/icbs", Some(&mine))
        .await
        .assert_problem(403);
    let own = app
        .get(
            "/api/v1/rounds/2025/divergence/R0A?method=divergence-v1",
            Some(&mine),
        )
        .await;
    let body = own.assert_ok(200);
    assert_eq!(body["organisation"]["ods_code"], "R0A");
    assert!(
        body["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "PRIORITY_FALLING_BEHIND")
    );
    let dist = distribution(body, "smart_foundations");
    assert_eq!(dist["n"], 6);
    rel(&dist["median"], "3.2");
    assert!(
        dist["values"].as_array().unwrap().is_empty(),
        "no peer's own score for a submitter"
    );
    assert!(dist["min"].is_null() && dist["max"].is_null());
    let analyst = app
        .get("/api/v1/rounds/2025/divergence/R0A", Some(&app.analyst()))
        .await;
    let dist = distribution(&analyst.json, "smart_foundations").clone();
    assert_eq!(dist["values"].as_array().unwrap().len(), 6);
    app.get("/api/v1/rounds/2025/divergence", None)
        .await
        .assert_problem(401);
}

#[actix_web::test]
async fn the_csv_opens_cleanly() {
    let app = example().await;
    let r = app
        .get(
            "/api/v1/rounds/2025/divergence?format=csv&method=divergence-v1",
            Some(&app.analyst()),
        )
        .await;
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(r.text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 12);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let a = records
        .iter()
        .find(|r| &r[col("ods_code")] == "R0A" && &r[col("pillar")] == "smart_foundations")
        .unwrap();
    rel(
        &json!(a[col("robust_z")].parse::<f64>().unwrap()),
        "-6.0704",
    );
    assert!(a[col("flags")].contains("PRIORITY_FALLING_BEHIND"));
    assert!(records.iter().all(|r| r.len() == headers.len()));
}

#[actix_web::test]
async fn regions_are_compared_on_the_standardised_gap() {
    let app = example().await;
    let r = app
        .get(
            "/api/v1/rounds/2025/divergence/regions?pillar=smart_foundations",
            Some(&app.analyst()),
        )
        .await;
    let rows = r.assert_ok(200)["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 5, "five regions have a member");
    let london = rows.iter().find(|x| x["code"] == "Y56").unwrap();
    // R1H gap +1.10 and R1K gap −0.20 against the acute median 3.2.
    rel(&london["level"]["standardised_gap"], "0.45");
    assert_eq!(london["n_members"], 2);
    let icbs = app
        .get("/api/v1/rounds/2025/divergence/icbs", Some(&app.analyst()))
        .await;
    assert!(
        icbs.assert_ok(200)["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["code"] == "QOP")
    );
}

#[actix_web::test]
async fn a_submitter_cannot_shrink_the_reference_to_read_other_scores() {
    let app = example().await;
    let a = app.admin();
    publish_both(&app).await;
    let trio =
        json!({"key": "trio", "title": "Three acute trusts", "members": ["R0A", "R0B", "R0D"]});
    app.send(Method::POST, "/api/v1/peer-groups", Some(&a), Some(trio))
        .await
        .assert_ok(201);
    let mine = app.submitter(&["R0A"]);
    for path in [
        "/api/v1/rounds/2025/divergence?min_ref_n=2",
        "/api/v1/rounds/2025/divergence/R0A?reference=peer_group:trio&min_ref_n=2",
    ] {
        app.get(path, Some(&mine)).await.assert_problem(403);
    }
    // The trio falls back to the six acute trusts, and the distribution shown is that one.
    let body = app
        .get(
            "/api/v1/rounds/2025/divergence/R0A?reference=peer_group:trio",
            Some(&mine),
        )
        .await;
    let body = body.assert_ok(200);
    let dist = distribution(body, "smart_foundations");
    assert_eq!(dist["n"], 6);
    rel(&dist["median"], "3.2");
    // An analyst may look at the trio with a lowered threshold; a submitter only at references
    // of five or more.
    let analyst = app
        .get(
            "/api/v1/rounds/2025/divergence/R0A?reference=peer_group:trio&min_ref_n=2",
            Some(&app.analyst()),
        )
        .await;
    let dist = distribution(analyst.assert_ok(200), "smart_foundations").clone();
    assert_eq!(dist["n"], 3);
    assert_eq!(dist["values"].as_array().unwrap().len(), 3);
}

/// Every question of the staged fixture answered by an acute trust; `wl5` names the last
/// well-led criterion (it is renamed in the second framework).
fn full_return(wl5: &str, yes: bool) -> Value {
    let mut pairs: Vec<(&str, Value)> = ["CY2", "CY4", "CY5", "EP2", "EP3", "EP4", "EP5"]
        .into_iter()
        .map(|q| (q, json!(yes)))
        .collect();
    pairs.push(("CY3", json!(if yes { "all" } else { "most" })));
    for q in ["WL2", "WL3", "WL4", wl5] {
        pairs.push((q, json!(yes)));
    }
    answers(&pairs)
}

#[actix_web::test]
async fn a_changed_item_set_is_flagged_per_pillar_for_the_organisation_type() {
    let app = TestApp::new();
    let a = app.admin();
    let first = crate::fixtures::staged_framework();
    // the second framework replaces one well-led criterion and carries every other question over
    let mut second = first.clone();
    second["key"] = json!("dma-test-2");
    second["pillars"][1]["domains"][0]["questions"][3]["key"] = json!("WL5B");
    let carried: serde_json::Map<String, Value> = [
        "CY2", "CY3", "CY4", "CY5", "EP2", "EP3", "EP4", "EP5", "WL2", "WL3", "WL4",
    ]
    .into_iter()
    .map(|q| (q.to_owned(), json!(q)))
    .collect();
    second["carries_over"] = json!({"framework": "dma-test", "questions": carried});
    for (fw, round, opens) in [
        (first, "2024-25", "2024-04-01T00:00:00Z"),
        (second, "2025-26", "2025-04-01T00:00:00Z"),
    ] {
        open_round_at(&app, fw, round, opens).await;
        let wl5 = if round == "2024-25" { "WL5" } else { "WL5B" };
        for (i, ods) in ORGS.iter().enumerate() {
            save(&app, &a, round, ods, full_return(wl5, i % 2 == 0))
                .await
                .assert_ok(200);
            submit(&app, &a, round, ods).await.assert_ok(200);
        }
    }
    let reply = app
        .send(
            Method::GET,
            "/api/v1/rounds/2025-26/divergence?previous_round=2024-25",
            Some(&app.analyst()),
            None,
        )
        .await;
    let body = reply.assert_ok(200);
    let statuses = |pillar: &str| {
        let change = &row(body, "R0A", pillar)["change"];
        assert_eq!(change["item_matched"], json!(true), "{change}");
        change["statuses"].to_string()
    };
    assert!(statuses("well_led").contains("ITEM_SET_CHANGED"));
    assert!(!statuses("smart_foundations").contains("ITEM_SET_CHANGED"));
    assert!(statuses("overall").contains("ITEM_SET_CHANGED"));
}

/// Checks `value` against `schema` for the subset of JSON Schema the generated document uses
/// ($ref, oneOf, type, enum, properties with required and no undeclared keys, items,
/// additionalProperties). Returns the first mismatch with its JSON path.
fn conforms(doc: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return conforms(doc, &doc["components"]["schemas"][name], value, path);
    }
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let fits = alternatives
            .iter()
            .filter(|s| conforms(doc, s, value, path).is_ok())
            .count();
        return if fits == 1 {
            Ok(())
        } else {
            Err(format!("{path}: {fits} oneOf alternatives match {value}"))
        };
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let number_ok = kind == "integer" && allowed.contains(&"number");
    if !allowed.is_empty() && !allowed.contains(&kind) && !number_ok {
        return Err(format!("{path}: {kind} where {allowed:?} is declared"));
    }
    if let Some(options) = schema["enum"].as_array()
        && !value.is_null()
        && !options.contains(value)
    {
        return Err(format!("{path}: {value} is not among the declared values"));
    }
    match value {
        Value::Object(map) => {
            let properties = schema["properties"].as_object();
            for key in schema["required"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap_or_default();
                if !map.contains_key(key) {
                    return Err(format!("{path}: required `{key}` missing"));
                }
            }
            for (key, v) in map {
                let declared = properties.and_then(|p| p.get(key));
                let sub = match (declared, schema.get("additionalProperties")) {
                    (Some(s), _) => s,
                    (None, Some(s)) if s.is_object() => s,
                    _ => return Err(format!("{path}: `{key}` is not in the schema")),
                };
                conforms(doc, sub, v, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| conforms(doc, &schema["items"], v, &format!("{path}[{i}]"))),
        _ => Ok(()),
    }
}

#[actix_web::test]
async fn divergence_responses_match_the_published_schemas() {
    let app = example().await;
    let doc = app
        .get("/api-docs/openapi.json", None)
        .await
        .assert_ok(200)
        .clone();
    let t = app.analyst();
    for (path, schema) in [
        ("/api/v1/rounds/2025/divergence", "DivergenceReport"),
        (
            "/api/v1/rounds/2025/divergence/R0A",
            "OrganisationDivergence",
        ),
        ("/api/v1/rounds/2025/divergence/icbs", "AggregateReport"),
        ("/api/v1/rounds/2025/divergence/regions", "AggregateReport"),
        ("/api/v1/rounds/2024/divergence", "DivergenceReport"),
    ] {
        let reply = app.get(path, Some(&t)).await;
        let body = reply.assert_ok(200);
        let declared = json!({"$ref": format!("#/components/schemas/{schema}")});
        if let Err(e) = conforms(&doc, &declared, body, "$") {
            panic!("{path}: {e}");
        }
    }
    // the checker itself refuses what the schema does not declare
    let reply = app.get("/api/v1/rounds/2025/divergence", Some(&t)).await;
    let mut body = reply.assert_ok(200).clone();
    body["rows"][0]["level"]["undeclared"] = json!(1);
    let declared = json!({"$ref": "#/components/schemas/DivergenceReport"});
    assert!(conforms(&doc, &declared, &body, "$").is_err());
}

/// Every number of a response that is f64 noise: 0 < |x| ≤ 1e-9 (written as exactly 0 instead).
fn noise(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap();
            if x != 0.0 && x.abs() <= 1e-9 {
                out.push(format!("{path} = {n}"));
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, x)| noise(x, &format!("{path}[{i}]"), out)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, x)| noise(x, &format!("{path}.{k}"), out)),
        _ => {}
    }
}

#[actix_web::test]
async fn rows_carry_names_beside_codes_and_titles_beside_keys() {
    let app = example().await;
    let t = app.analyst();
    let body = app
        .get(
            "/api/v1/rounds/2025/divergence?method=divergence-v1",
            Some(&t),
        )
        .await
        .assert_ok(200)
        .clone();
    let a = row(&body, "R0A", "smart_foundations");
    assert_eq!(a["org_name"], "Manchester University NHS Foundation Trust");
    assert_eq!(a["region_code"], "Y62");
    assert_eq!(a["region_name"], "North West");
    assert_eq!(a["icb_code"], "QOP");
    assert_eq!(
        a["icb_name"],
        "NHS Greater Manchester Integrated Care Board"
    );
    assert_eq!(a["pillar_title"], "Ensure smart foundations");
    assert_eq!(row(&body, "R0A", "overall")["pillar_title"], "Overall");
    let e = row(&body, "R1H", "smart_foundations");
    assert_eq!(e["org_name"], "Barts Health NHS Trust");
    assert_eq!(e["region_name"], "London");
    // a decline is worded as one: never "Improved −0.60"
    let reasons = a["reasons"].to_string();
    assert!(
        reasons.contains("Score fell 0.60 while the peer median rose 0.45: 1.05 behind"),
        "{reasons}"
    );
    assert!(!reasons.contains("Improved"), "{reasons}");
    assert!(
        reasons.contains("Gap behind the acute median widened from 0.75 to 1.80"),
        "{reasons}"
    );

    let one = app
        .get("/api/v1/rounds/2025/divergence/R0A", Some(&t))
        .await;
    let one = one.assert_ok(200);
    assert_eq!(one["organisation"]["region_name"], "North West");
    assert_eq!(
        one["organisation"]["icb_name"],
        "NHS Greater Manchester Integrated Care Board"
    );
    assert_eq!(one["rows"][0]["org_name"], a["org_name"]);
    assert_eq!(one["rows"][0]["pillar_title"], "Ensure smart foundations");

    let regions = app
        .get("/api/v1/rounds/2025/divergence/regions", Some(&t))
        .await;
    let rows = regions.assert_ok(200)["rows"].as_array().unwrap().clone();
    let london = rows
        .iter()
        .find(|x| x["code"] == "Y56" && x["pillar"] == "smart_foundations")
        .unwrap();
    assert_eq!(london["name"], "London");
    assert_eq!(london["pillar_title"], "Ensure smart foundations");
    assert!(
        rows.iter().all(|x| x["name"].is_string()),
        "every region named"
    );
    let icbs = app
        .get("/api/v1/rounds/2025/divergence/icbs", Some(&t))
        .await;
    let rows = icbs.assert_ok(200)["rows"].as_array().unwrap().clone();
    let qop = rows.iter().find(|x| x["code"] == "QOP").unwrap();
    assert_eq!(qop["name"], "NHS Greater Manchester Integrated Care Board");
    assert!(
        rows.iter().all(|x| x["name"].is_string()),
        "every ICB named"
    );

    // CSV: the names and titles are columns too
    let csv = app
        .get("/api/v1/rounds/2025/divergence?format=csv", Some(&t))
        .await;
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let a = records
        .iter()
        .find(|r| &r[col("ods_code")] == "R0A" && &r[col("pillar")] == "smart_foundations")
        .unwrap();
    assert_eq!(
        &a[col("org_name")],
        "Manchester University NHS Foundation Trust"
    );
    assert_eq!(&a[col("region_code")], "Y62");
    assert_eq!(&a[col("region_name")], "North West");
    assert_eq!(&a[col("icb_code")], "QOP");
    assert_eq!(
        &a[col("icb_name")],
        "NHS Greater Manchester Integrated Care Board"
    );
    assert_eq!(&a[col("pillar_title")], "Ensure smart foundations");
    assert!(col("org_type") < col("pillar") && col("pillar") < col("pillar_title"));
}

#[actix_web::test]
async fn no_figure_is_written_as_f64_noise() {
    let app = example().await;
    let t = app.analyst();
    for path in [
        "/api/v1/rounds/2025/divergence",
        "/api/v1/rounds/2025/divergence?p_method=normal",
        "/api/v1/rounds/2024/divergence",
        "/api/v1/rounds/2025/divergence/R0A",
        "/api/v1/rounds/2025/divergence/icbs",
        "/api/v1/rounds/2025/divergence/regions",
        "/api/v1/rounds/2025/scores",
    ] {
        let reply = app.get(path, Some(&t)).await;
        let mut bad = Vec::new();
        noise(reply.assert_ok(200), "$", &mut bad);
        assert!(bad.is_empty(), "{path}: {bad:?}");
    }
    // the CSV has the same figures: no exponent-notation noise, no −0
    let csv = app
        .get("/api/v1/rounds/2025/divergence?format=csv", Some(&t))
        .await;
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    for record in reader.records().map(Result::unwrap) {
        for field in record.iter() {
            if let Ok(x) = field.parse::<f64>() {
                assert!(x == 0.0 || x.abs() > 1e-9, "{field} in {record:?}");
                assert_ne!(field, "-0", "{record:?}");
            }
        }
    }
}

fn keys(body: &Value) -> Vec<String> {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["org_id"].as_str().unwrap(),
                r["pillar"].as_str().unwrap()
            )
        })
        .collect()
}

#[actix_web::test]
async fn rows_filter_by_flag_code_and_by_tested_flags() {
    let app = example().await;
    let t = app.analyst();
    let get = |q: &'static str| {
        let app = &app;
        let t = t.clone();
        async move {
            // the v1 figures of the worked example (B10), whose flags these filters pick
            app.get(
                &format!("/api/v1/rounds/2025/divergence?method=divergence-v1&{q}"),
                Some(&t),
            )
            .await
            .assert_ok(200)
            .clone()
        }
    };
    let all = get("").await;
    // A: LEVEL_BELOW, PROGRESS_BELOW, GAP_WIDENING_BEHIND, PRIORITY; E: LEVEL_ABOVE, GAP_WIDENING_AHEAD
    let above = get("flags=LEVEL_ABOVE_PEERS").await;
    assert_eq!(
        keys(&above),
        ["R1H/smart_foundations", "R1H/overall"],
        "overall rows sort last"
    );
    assert_eq!(above["total"], 2);
    let any = get("flags=PROGRESS_BELOW_PEERS,%20GAP_WIDENING_AHEAD").await;
    assert_eq!(
        keys(&any),
        [
            "R0A/smart_foundations",
            "R0A/overall",
            "R1H/smart_foundations",
            "R1H/overall"
        ]
    );
    assert!(keys(&get("flags=TREND_BELOW_PEERS").await).is_empty());
    // the filters never change a figure
    for r in any["rows"].as_array().unwrap() {
        let (ods, pillar) = (r["org_id"].as_str().unwrap(), r["pillar"].as_str().unwrap());
        assert_eq!(r, row(&all, ods, pillar));
    }
    // tested_only: the same four rows here, as both have a tested flag …
    assert_eq!(keys(&get("tested_only=true").await), keys(&any));
    // … but with a stricter α only the descriptive gap-widening flags are left: flagged_only
    // keeps those rows, tested_only does not.
    let strict = get("alpha_fdr=0.001&flagged_only=true").await;
    assert_eq!(keys(&strict).len(), 4);
    for r in strict["rows"].as_array().unwrap() {
        assert!(
            flags(r).iter().all(|f| f.starts_with("GAP_WIDENING")),
            "{r}"
        );
    }
    let tested = get("alpha_fdr=0.001&tested_only=true").await;
    assert!(keys(&tested).is_empty(), "{tested}");
    let both = get("alpha_fdr=0.001&flagged_only=true&flags=GAP_WIDENING_BEHIND").await;
    assert_eq!(keys(&both), ["R0A/smart_foundations", "R0A/overall"]);
    assert!(
        keys(
            &get("flagged_only=true&tested_only=true&flags=LEVEL_BELOW_PEERS&pillar=overall").await
        ) == ["R0A/overall"]
    );
    // an empty list asks for nothing in particular
    assert_eq!(keys(&get("flags=").await).len(), 12);

    // unknown codes are refused like any other bad filter value, naming the code
    let bad = app
        .get(
            "/api/v1/rounds/2025/divergence?flags=LEVEL_BELOW_PEERS,FALLING",
            Some(&t),
        )
        .await;
    let problem = bad.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "flags");
    assert!(problem["detail"].as_str().unwrap().contains("`FALLING`"));
    // a malformed boolean is a malformed query, refused like any other (400, or 422 should
    // query errors be reported per field)
    let malformed = app
        .get("/api/v1/rounds/2025/divergence?tested_only=maybe", Some(&t))
        .await;
    let status = malformed.status.as_u16();
    assert!(status == 400 || status == 422, "{status}");
    malformed.assert_problem(status);
    app.get("/api/v1/rounds/2025/divergence/icbs?flags=NOPE", Some(&t))
        .await
        .assert_problem(422);

    // the CSV follows the same filters
    let csv = app
        .get(
            "/api/v1/rounds/2025/divergence?method=divergence-v1&format=csv&flags=LEVEL_BELOW_PEERS",
            Some(&t),
        )
        .await;
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| &r[0] == "R0A"));
    let csv = app
        .get(
            "/api/v1/rounds/2025/divergence?method=divergence-v1&format=csv&alpha_fdr=0.001&tested_only=true",
            Some(&t),
        )
        .await;
    assert_eq!(csv.text.lines().count(), 1, "the header only: {}", csv.text);

    // aggregates take the same flag filters
    let regions = app
        .get(
            "/api/v1/rounds/2025/divergence/regions?tested_only=true",
            Some(&t),
        )
        .await;
    for r in regions.assert_ok(200)["rows"].as_array().unwrap() {
        assert!(!flags(r).is_empty());
    }
}
