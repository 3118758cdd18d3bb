//! Stored scores by round (filters, CSV) and per organisation across rounds.

use serde_json::json;

use dma::db::{assessments as stored, scores as stored_scores, write_transaction};
use dma::domain::divergence::PillarObservation;
use dma::domain::scoring::{DomainScore, PillarScore, Scores};

use crate::fixtures::{close, two_submitted};
use crate::harness::TestApp;

#[actix_web::test]
async fn round_scores_filter_and_export_one_row_per_organisation() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.analyst();
    let all = app.get("/api/v1/rounds/2026-27/scores", Some(&t)).await;
    let body = all.assert_ok(200);
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    assert_eq!(body["pillars"], json!(["readiness", "capabilities"]));
    let south_west = app
        .get("/api/v1/rounds/2026-27/scores?region=Y58", Some(&t))
        .await;
    let codes: Vec<&str> = south_west.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ods_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["RA7"]);
    let mh = app
        .get(
            "/api/v1/rounds/2026-27/scores?type=mental_health&pillar=readiness",
            Some(&t),
        )
        .await;
    let item = &mh.json["items"][0];
    assert_eq!(item["ods_code"], "RNK");
    // RNK: strategy = (100·2 + 0)/3 (R3 not asked); care plans = 100; overall = mean of pillars.
    close(item["pillars"][0]["score"].as_f64().unwrap(), 200.0 / 3.0);
    assert_eq!(item["pillars"].as_array().unwrap().len(), 1);
    close(
        item["overall"]["score"].as_f64().unwrap(),
        (200.0 / 3.0 + 100.0) / 2.0,
    );
    app.get("/api/v1/rounds/2026-27/scores?pillar=nope", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/rounds/2026-27/scores?type=nope", Some(&t))
        .await
        .assert_problem(422);
    app.get("/api/v1/rounds/nope/scores", Some(&t))
        .await
        .assert_problem(404);

    let csv = app
        .get("/api/v1/rounds/2026-27/scores?format=csv", Some(&t))
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "ods_code",
            "name",
            "org_type",
            "region_code",
            "region_name",
            "icb_code",
            "icb_name",
            "overall",
            "readiness",
            "capabilities"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let ra7 = rows.iter().find(|r| &r[0] == "RA7").unwrap();
    assert_eq!(&ra7[3], "Y58");
    assert_eq!(&ra7[4], "South West");
    assert_eq!(&ra7[5], "QUY");
    assert_eq!(
        &ra7[6],
        "NHS Bristol, North Somerset and South Gloucestershire Integrated Care Board"
    );
    assert_eq!(&ra7[7], "79.375");
    assert_eq!(&ra7[8], "68.75");
    assert_eq!(&ra7[9], "90");
}

#[actix_web::test]
async fn scores_carry_names_beside_codes_and_titles_beside_keys() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.analyst();
    let body = app
        .get("/api/v1/rounds/2026-27/scores", Some(&t))
        .await
        .assert_ok(200)
        .clone();
    assert_eq!(body["pillar_titles"], json!(["Readiness", "Capabilities"]));
    let rnk = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ods_code"] == "RNK")
        .unwrap();
    assert_eq!(rnk["region_code"], "Y56");
    assert_eq!(rnk["region_name"], "London");
    assert_eq!(rnk["icb_code"], "QMJ");
    assert_eq!(
        rnk["icb_name"],
        "NHS North Central London Integrated Care Board"
    );
    let readiness = &rnk["pillars"][0];
    assert_eq!(readiness["pillar"], "readiness");
    assert_eq!(readiness["pillar_title"], "Readiness");
    assert_eq!(readiness["domains"][0]["domain"], "strategy");
    assert_eq!(readiness["domains"][0]["domain_title"], "Strategy");
    let capabilities = &rnk["pillars"][1];
    assert_eq!(capabilities["pillar_title"], "Capabilities");
    assert_eq!(capabilities["domains"][0]["domain_title"], "Care plans");

    let one = app
        .get(
            "/api/v1/rounds/2026-27/scores?pillar=capabilities",
            Some(&t),
        )
        .await;
    assert_eq!(one.json["pillar_titles"], json!(["Capabilities"]));

    let history = app.get("/api/v1/organisations/RA7/scores", Some(&t)).await;
    let h = history.assert_ok(200);
    assert_eq!(h["org_type"], "acute");
    assert_eq!(h["region_code"], "Y58");
    assert_eq!(h["region_name"], "South West");
    assert_eq!(h["icb_code"], "QUY");
    assert_eq!(
        h["icb_name"],
        "NHS Bristol, North Somerset and South Gloucestershire Integrated Care Board"
    );
    let pillars = &h["rounds"][0]["pillars"];
    assert_eq!(pillars[0]["pillar_title"], "Readiness");
    assert_eq!(pillars[1]["domains"][0]["domain_title"], "Records");
}

#[actix_web::test]
async fn submitters_see_only_their_own_scores() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.submitter(&["RA7"]);
    let mine = app.get("/api/v1/rounds/2026-27/scores", Some(&t)).await;
    let codes: Vec<&str> = mine.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ods_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["RA7"]);
    app.get("/api/v1/organisations/RJ1/scores", Some(&t))
        .await
        .assert_problem(403);
    let history = app.get("/api/v1/organisations/RA7/scores", Some(&t)).await;
    let rounds = history.assert_ok(200)["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 1);
    close(rounds[0]["overall"]["score"].as_f64().unwrap(), 79.375);
    app.get("/api/v1/organisations/NOPE1/scores", Some(&app.analyst()))
        .await
        .assert_problem(404);
}

fn domain_score(pillar: &str, domain: &str, score: Option<f64>, coverage: f64) -> DomainScore {
    DomainScore {
        pillar: pillar.into(),
        domain: domain.into(),
        score,
        coverage,
        answered: 3,
        applicable: 7,
    }
}

/// Pillars and domains sorted by key: the order readers other than the assessment view give.
fn by_key(mut s: Scores) -> Scores {
    s.pillars.sort_by(|a, b| a.pillar.cmp(&b.pillar));
    for p in &mut s.pillars {
        p.domains.sort_by(|a, b| a.domain.cmp(&b.domain));
    }
    s
}

/// Scores → rows → Scores through the database (on the backend the suite runs on): what submit
/// stores is what the assessment view shows, every reader gets back the tree that was stored,
/// and storing again replaces it.
#[actix_web::test]
async fn stored_score_trees_come_back_whole_from_every_reader() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let shown = app
        .get("/api/v1/rounds/2026-27/assessments/RJ1", Some(&app.admin()))
        .await;
    let shown: Scores = serde_json::from_value(shown.assert_ok(200)["scores"].clone()).unwrap();
    let mut conn = app.state.pool.get().unwrap();
    let c = &mut *conn;
    let rj1 = stored::find(c, "2026-27", "RJ1").unwrap().unwrap();
    let at_submit = stored_scores::scores_of(c, &rj1.id).unwrap().unwrap();
    assert_eq!(at_submit, by_key(shown));

    // Edge values: no overall or pillar score, a third, a count near i32::MAX, tiny noise.
    let tree = Scores {
        score: None,
        coverage: 1.0 / 3.0,
        answered: 2_000_000_000,
        applicable: 2_000_000_001,
        pillars: vec![
            PillarScore {
                pillar: "capabilities".into(),
                score: Some(62.5),
                coverage: 0.5,
                answered: 1,
                applicable: 2,
                domains: vec![domain_score("capabilities", "records", Some(1e-12), 0.5)],
            },
            PillarScore {
                pillar: "readiness".into(),
                score: None,
                coverage: 0.0,
                answered: 0,
                applicable: 4,
                domains: vec![
                    domain_score("readiness", "strategy", None, 0.0),
                    domain_score("readiness", "workforce", Some(100.0), 1.0 / 3.0),
                ],
            },
        ],
    };
    let ra7 = stored::find(c, "2026-27", "RA7").unwrap().unwrap();
    write_transaction(c, |c| {
        stored_scores::store_scores(c, &ra7.id, "2026-27", "RA7", &tree)
    })
    .unwrap();
    assert_eq!(
        stored_scores::scores_of(c, &ra7.id).unwrap(),
        Some(tree.clone())
    );
    let round = stored_scores::submitted_scores_of_round(c, "2026-27").unwrap();
    assert_eq!(round.keys().collect::<Vec<_>>(), ["RA7", "RJ1", "RNK"]);
    assert_eq!(round["RA7"], tree);
    assert_eq!(round["RJ1"], at_submit);
    let history = stored_scores::submitted_scores_of_org(c, "RA7").unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history["2026-27"], tree);
    let observed: Vec<PillarObservation> = stored_scores::submitted_pillar_scores(c, "2026-27")
        .unwrap()
        .into_iter()
        .filter(|o| o.ods == "RA7")
        .collect();
    let expected: Vec<PillarObservation> = tree
        .pillars
        .iter()
        .map(|p| PillarObservation {
            ods: "RA7".into(),
            round: "2026-27".into(),
            pillar: p.pillar.clone(),
            score: p.score,
            coverage: p.coverage,
        })
        .collect();
    assert_eq!(observed, expected);

    // Storing again replaces the whole tree: no row of the old one is left.
    let mut smaller = tree.clone();
    smaller.pillars.truncate(1);
    write_transaction(c, |c| {
        stored_scores::store_scores(c, &ra7.id, "2026-27", "RA7", &smaller)
    })
    .unwrap();
    assert_eq!(stored_scores::scores_of(c, &ra7.id).unwrap(), Some(smaller));
}
