//! The synthetic demo rounds: idempotent, clearly marked, and showing divergence out of the box.

use crate::harness::TestApp;

#[actix_web::test]
async fn the_demo_shows_diverging_trusts_out_of_the_box() {
    let app = TestApp::new();
    {
        let mut conn = app.state.pool.get().unwrap();
        let report = dma::seed::demo::load_demo(&mut conn).unwrap();
        assert_eq!(report.rounds_added, 3);
        assert!(report.submitted > 600, "{report:?}");
        assert!(
            report.returns_added > report.submitted,
            "some returns stay drafts"
        );
        let again = dma::seed::demo::load_demo(&mut conn).unwrap();
        assert_eq!(again.rounds_added, 0, "loading twice changes nothing");
    }
    let t = app.analyst();
    let rounds = app.get("/api/v1/rounds", Some(&t)).await;
    for r in rounds.assert_ok(200).as_array().unwrap() {
        assert_eq!(r["synthetic"], true);
        assert!(r["title"].as_str().unwrap().contains("synthetic"));
    }
    let d = app
        .get(
            "/api/v1/rounds/2025-26/divergence?flagged_only=true",
            Some(&t),
        )
        .await;
    let body = d.assert_ok(200);
    assert_eq!(body["previous_round"], "2024-25");
    let all_flags: Vec<&str> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
        })
        .collect();
    for wanted in [
        "LEVEL_BELOW_PEERS",
        "PROGRESS_BELOW_PEERS",
        "PRIORITY_FALLING_BEHIND",
        "LEVEL_ABOVE_PEERS",
    ] {
        assert!(all_flags.contains(&wanted), "{wanted} missing");
    }
    // readable rows: names beside codes, titles beside keys, wording that follows the sign
    for r in body["rows"].as_array().unwrap() {
        assert!(
            r["org_name"].is_string() && r["pillar_title"].is_string(),
            "{r}"
        );
        assert_eq!(
            r["region_code"].is_string(),
            r["region_name"].is_string(),
            "{r}"
        );
        assert_eq!(r["icb_code"].is_string(), r["icb_name"].is_string(), "{r}");
        assert!(!r["reasons"].to_string().contains("Improved"), "{r}");
    }
    let tested = app
        .get(
            "/api/v1/rounds/2025-26/divergence?tested_only=true",
            Some(&t),
        )
        .await;
    let tested = tested.assert_ok(200)["rows"].as_array().unwrap().clone();
    assert!(!tested.is_empty());
    assert!(tested.len() <= body["rows"].as_array().unwrap().len());
    for r in &tested {
        assert!(
            r["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| !f.as_str().unwrap().starts_with("GAP_WIDENING")),
            "{r}"
        );
    }
    // North London NHS FT was formed from trusts assessed in 2023/24: its trend follows lineage.
    let g6 = app
        .get("/api/v1/rounds/2025-26/divergence/G6V2S", Some(&t))
        .await;
    let g6 = g6.assert_ok(200);
    assert!(
        g6["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["statuses"].to_string().contains("LINEAGE_MERGED")),
        "{}",
        g6["rows"][0]
    );
    let csv = app
        .get(
            "/api/v1/rounds/2025-26/scores?format=csv&type=acute",
            Some(&t),
        )
        .await;
    assert!(csv.text.lines().count() > 100);
}

/// `dma seed --synthetic --organisations N`: synthetic GP practices and care providers added in
/// the real ICBs until N organisations are open, three rounds with their returns and scores, the
/// divergence engine over all of them.
#[actix_web::test]
async fn a_national_synthetic_data_set_reaches_the_asked_size_with_practices_and_care_providers() {
    let app = TestApp::new();
    let t = app.analyst();
    let open_before = app.get("/api/v1/organisations?per_page=1", Some(&t)).await;
    let open_before = open_before.assert_ok(200)["total"].as_u64().unwrap();
    {
        let mut conn = app.state.pool.get().unwrap();
        let report = dma::seed::demo::load_synthetic(&mut conn, 900, 42).unwrap();
        assert_eq!(report.rounds_added, 3);
        assert!(report.submitted > 2_000, "{report:?}");
        // published rounds take no more returns: a second national set is refused
        assert!(dma::seed::demo::load_synthetic(&mut conn, 900, 42).is_err());
        assert!(dma::seed::demo::load_demo(&mut conn).unwrap().rounds_added == 0);
    }
    let count = |q: &'static str| {
        let app = &app;
        let t = t.clone();
        async move {
            app.get(&format!("/api/v1/organisations?per_page=1&{q}"), Some(&t))
                .await
                .assert_ok(200)["total"]
                .as_u64()
                .unwrap()
        }
    };
    assert_eq!(count("").await, 900);
    let gp = count("type=gp_practice").await;
    let care = count("type=social_care").await;
    assert_eq!(gp + care, 900 - open_before);
    assert!(
        care > 2 * gp,
        "about 18,000 care providers to 6,300 practices"
    );
    let practice = app
        .get(
            "/api/v1/organisations?type=gp_practice&per_page=1",
            Some(&t),
        )
        .await;
    let practice = practice.assert_ok(200)["items"][0].clone();
    assert!(practice["name"].as_str().unwrap().starts_with("Synthetic"));
    assert!(practice["icb_code"].is_string() && practice["region_code"].is_string());
    for r in app
        .get("/api/v1/rounds", Some(&t))
        .await
        .assert_ok(200)
        .as_array()
        .unwrap()
    {
        assert!(
            r["title"]
                .as_str()
                .unwrap()
                .contains("synthetic national data, 900")
        );
    }
    // practices answer their own domains and are compared with practices
    let d = app
        .get(
            "/api/v1/rounds/2025-26/divergence?type=gp_practice&pillar=empower_citizens&limit=5000",
            Some(&t),
        )
        .await;
    let body = d.assert_ok(200);
    let rows = body["rows"].as_array().unwrap();
    assert!(
        rows.len() as u64 * 10 > gp * 9,
        "{} rows for {gp} practices",
        rows.len()
    );
    let n = rows[0]["reference"]["n"].as_u64().unwrap();
    assert!(n > gp / 2 && n <= gp, "{n} practices in the reference");
    assert_eq!(rows[0]["reference"]["key"], "gp_practice");
    // one domain a pillar for practices: the level lives on whole numbers
    assert_eq!(rows[0]["reference"]["resolution"], 1.0);
}
