//! Reads at national scale: the round listing a page at a time, exports streamed, analyses
//! computed once per data state (and never served stale), entity tags, compression and the read
//! replica.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::fixtures::{answers, save, submit, two_submitted};
use crate::harness::{TestApp, TestDb, config_for};

const ROUND: &str = "/api/v1/rounds/2026-27/divergence";

fn rows(v: &Value) -> Vec<Value> {
    v["rows"].as_array().expect("rows").clone()
}

/// Every page of `path` (which has a `?`), following `next_cursor`.
async fn all_pages(app: &TestApp, token: &str, path: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let r = app.get(&url, Some(token)).await;
        let page = r.assert_ok(200).clone();
        assert!(rows(&page).len() <= limit);
        assert_eq!(page["limit"], limit);
        out.extend(rows(&page));
        match page["next_cursor"].as_str() {
            Some(next) => {
                let link = r.header("link").expect("a Link to the next page");
                assert!(link.contains(&format!("cursor={next}")) && link.ends_with("rel=\"next\""));
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(r.header("link").is_none());
                return out;
            }
        }
    }
}

#[actix_web::test]
async fn the_round_listing_comes_a_page_at_a_time_in_a_stable_order() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.analyst();
    let whole = app.get(&format!("{ROUND}?limit=5000"), Some(&t)).await;
    let whole = whole.assert_ok(200).clone();
    let all = rows(&whole);
    assert_eq!(whole["total"], all.len());
    assert!(whole["next_cursor"].is_null());
    assert!(all.len() > 7, "{} rows", all.len());
    for limit in [1, 3, 7] {
        let paged = all_pages(&app, &t, &format!("{ROUND}?method=divergence-v2"), limit).await;
        assert_eq!(
            paged, all,
            "pages of {limit} put together are the whole listing"
        );
    }
    // the default page, and filters applied before paging
    let first = app.get(ROUND, Some(&t)).await.assert_ok(200).clone();
    assert_eq!(first["limit"], 100);
    let acute = all_pages(&app, &t, &format!("{ROUND}?type=acute"), 2).await;
    assert!(!acute.is_empty() && acute.iter().all(|r| r["org_type"] == "acute"));
    assert_eq!(
        acute.len(),
        all.iter().filter(|r| r["org_type"] == "acute").count()
    );
}

#[actix_web::test]
async fn limits_and_cursors_out_of_bounds_are_refused() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.analyst();
    for bad in [
        "limit=0",
        "limit=5001",
        "cursor=zz",
        "cursor=41",
        "cursor=3939",
    ] {
        let r = app.get(&format!("{ROUND}?{bad}"), Some(&t)).await;
        let status = r.status.as_u16();
        assert!(status == 400 || status == 422, "{bad}: {status} {}", r.text);
        r.assert_problem(status);
    }
    // a cursor to a row that is no longer listed
    let gone = hex("0\u{1f}NOPE/overall");
    app.get(&format!("{ROUND}?cursor={gone}"), Some(&t))
        .await
        .assert_problem(422);
    // aggregates and round scores honour `limit` too
    let icbs = app
        .get(&format!("{ROUND}/icbs?limit=1"), Some(&t))
        .await
        .assert_ok(200)
        .clone();
    assert_eq!(rows(&icbs).len(), 1);
    let scores = app
        .get("/api/v1/rounds/2026-27/scores?limit=2", Some(&t))
        .await
        .assert_ok(200)
        .clone();
    assert_eq!(scores["items"].as_array().unwrap().len(), 2);
    let rest = app
        .get(
            &format!(
                "/api/v1/rounds/2026-27/scores?limit=2&cursor={}",
                scores["next_cursor"].as_str().expect("a next page")
            ),
            Some(&t),
        )
        .await
        .assert_ok(200)
        .clone();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
}

/// A complete return for an acute trust on the scored test framework.
fn acute_return() -> Value {
    answers(&[
        ("R1", json!("full")),
        ("R2", json!(true)),
        ("R3", json!(4)),
        ("C1", json!(80)),
        ("C2", json!(["orders", "results"])),
    ])
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[actix_web::test]
async fn exports_hold_every_row_after_the_filters() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.analyst();
    let all = rows(
        app.get(&format!("{ROUND}?limit=5000"), Some(&t))
            .await
            .assert_ok(200),
    );
    let nd = app.get(&format!("{ROUND}?format=ndjson"), Some(&t)).await;
    assert_eq!(nd.status.as_u16(), 200);
    assert_eq!(nd.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = nd
        .text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON row a line"))
        .collect();
    assert_eq!(lines, all);
    let csv = app
        .get(&format!("{ROUND}?format=csv&pillar=overall"), Some(&t))
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let header = reader.headers().expect("header").clone();
    assert_eq!(&header[0], "ods_code");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    let overall: Vec<&Value> = all.iter().filter(|r| r["pillar"] == "overall").collect();
    assert_eq!(records.len(), overall.len());
    for (rec, row) in records.iter().zip(overall) {
        assert_eq!(&rec[0], row["org_id"].as_str().unwrap());
    }
    // `limit` bounds an export as well
    let one = app
        .get(&format!("{ROUND}?format=ndjson&limit=1"), Some(&t))
        .await;
    assert_eq!(one.text.lines().count(), 1);
    // a submitter's export holds its own rows only
    let own = app
        .get(
            "/api/v1/rounds/2026-27/divergence?format=ndjson",
            Some(&app.submitter(&["RNK"])),
        )
        .await;
    let status = own.status.as_u16();
    if status == 200 {
        assert!(own.text.lines().all(|l| l.contains("\"org_id\":\"RNK\"")));
    } else {
        own.assert_problem(403); // the round is not yet published
    }
}

#[actix_web::test]
async fn an_analysis_is_computed_once_per_data_state_and_never_served_stale() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.analyst();
    let before = app.state.divergence.computations();
    let first = app.get(&format!("{ROUND}?limit=5000"), Some(&t)).await;
    let tag = first.header("etag").expect("an ETag").to_owned();
    let first = first.assert_ok(200).clone();
    for path in [
        format!("{ROUND}?limit=5000"),
        format!("{ROUND}?format=csv"),
        format!("{ROUND}/RA7"),
        format!("{ROUND}/icbs"),
        format!("{ROUND}/regions"),
    ] {
        app.get(&path, Some(&t)).await.assert_ok(200);
    }
    assert_eq!(
        app.state.divergence.computations(),
        before + 1,
        "one analysis for every view of the same data"
    );
    // revalidation: the same data gives 304 and no body
    let again = app
        .call(
            TestRequest::get()
                .uri(&format!("{ROUND}?limit=5000"))
                .insert_header(("Authorization", format!("Bearer {t}")))
                .insert_header(("If-None-Match", tag.clone())),
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    // a draft save changes nothing an analysis reads
    let s = app.submitter(&["RAE"]);
    save(&app, &s, "2026-27", "RAE", acute_return())
        .await
        .assert_ok(200);
    let same = app.get(&format!("{ROUND}?limit=5000"), Some(&t)).await;
    assert_eq!(same.header("etag"), Some(tag.as_str()));
    // a submit does: new tag, new rows
    submit(&app, &s, "2026-27", "RAE").await.assert_ok(200);
    let after = app
        .call(
            TestRequest::get()
                .uri(&format!("{ROUND}?limit=5000"))
                .insert_header(("Authorization", format!("Bearer {t}")))
                .insert_header(("If-None-Match", tag.clone())),
        )
        .await;
    assert_eq!(after.status.as_u16(), 200, "{}", after.text);
    let new_tag = after.header("etag").expect("ETag").to_owned();
    assert_ne!(new_tag, tag);
    assert!(rows(&after.json).len() > rows(&first).len());
    assert!(rows(&after.json).iter().any(|r| r["org_id"] == "RAE"));
    // a re-open takes the return out again
    app.send(
        Method::POST,
        "/api/v1/rounds/2026-27/assessments/RAE/reopen",
        Some(&app.admin()),
        Some(json!({"reason": "checking a figure"})),
    )
    .await
    .assert_ok(200);
    let reopened = app.get(&format!("{ROUND}?limit=5000"), Some(&t)).await;
    assert_ne!(reopened.header("etag"), Some(new_tag.as_str()));
    assert_eq!(rows(&reopened.json), rows(&first));
    // the tag depends on who asks: a submitter's view is not an analyst's
    let theirs = app
        .get(&format!("{ROUND}/RA7"), Some(&app.submitter(&["RA7"])))
        .await;
    let ours = app.get(&format!("{ROUND}/RA7"), Some(&t)).await;
    if theirs.status.as_u16() == 200 {
        assert_ne!(theirs.header("etag"), ours.header("etag"));
    }
}

#[actix_web::test]
async fn score_responses_carry_tags_that_move_with_the_data() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.analyst();
    for path in [
        "/api/v1/rounds/2026-27/scores",
        "/api/v1/organisations/RA7/scores",
    ] {
        let r = app.get(path, Some(&t)).await;
        let tag = r.header("etag").expect("ETag").to_owned();
        let again = app
            .call(
                TestRequest::get()
                    .uri(path)
                    .insert_header(("Authorization", format!("Bearer {t}")))
                    .insert_header(("If-None-Match", format!("\"x\", {tag}"))),
            )
            .await;
        assert_eq!(again.status.as_u16(), 304, "{path}");
    }
    let before = app.get("/api/v1/rounds/2026-27/scores", Some(&t)).await;
    let s = app.submitter(&["RAE"]);
    save(&app, &s, "2026-27", "RAE", acute_return())
        .await
        .assert_ok(200);
    submit(&app, &s, "2026-27", "RAE").await.assert_ok(200);
    let after = app.get("/api/v1/rounds/2026-27/scores", Some(&t)).await;
    assert_ne!(before.header("etag"), after.header("etag"));
    assert_eq!(
        after.json["items"].as_array().unwrap().len(),
        before.json["items"].as_array().unwrap().len() + 1
    );
}

#[actix_web::test]
async fn responses_are_compressed_when_the_client_asks() {
    use std::io::Read;
    let app = TestApp::new();
    two_submitted(&app).await;
    let t = app.analyst();
    let plain = app.get(&format!("{ROUND}?limit=5000"), Some(&t)).await;
    for encoding in ["gzip", "br"] {
        let req = TestRequest::get()
            .uri(&format!("{ROUND}?limit=5000"))
            .insert_header(("Authorization", format!("Bearer {t}")))
            .insert_header(("Accept-Encoding", encoding));
        let app_svc = actix_web::test::init_service(dma::app::build(app.state.clone())).await;
        let res = actix_web::test::call_service(&app_svc, req.to_request()).await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(
            res.headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some(encoding)
        );
        let bytes = actix_web::test::read_body(res).await;
        assert!(
            bytes.len() < plain.text.len() / 3,
            "{encoding}: {} bytes",
            bytes.len()
        );
        if encoding == "gzip" {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .expect("gzip");
            assert_eq!(text, plain.text);
        }
    }
}

#[actix_web::test]
async fn a_read_replica_is_read_only_once_it_has_caught_up() {
    // The replica here is a second database that has the register but none of the primary's
    // rounds: behind the primary's data stamp, it must not be read.
    let replica = TestDb::new();
    {
        let state = dma::state::AppState::init(config_for(&replica, &[])).expect("replica");
        let mut conn = state.pool.get().expect("connection");
        dma::seed::load_reference_data(&mut conn).expect("reference data");
    }
    let app = TestApp::with_env(&[("DATABASE_READ_URL", replica.url())]);
    two_submitted(&app).await;
    let t = app.analyst();
    let scores = app.get("/api/v1/rounds/2026-27/scores", Some(&t)).await;
    assert_eq!(scores.assert_ok(200)["items"].as_array().unwrap().len(), 3);
    let divergence = app.get(&format!("{ROUND}?limit=5000"), Some(&t)).await;
    assert!(!rows(divergence.assert_ok(200)).is_empty());
    // Once the replica's stamp has caught up, reads go to it (and it has no such round).
    {
        use diesel::connection::SimpleConnection;
        let state = dma::state::AppState::init(config_for(&replica, &[])).expect("replica");
        let mut conn = state.pool.get().expect("connection");
        conn.batch_execute("UPDATE data_stamp SET version = version + 1000000")
            .expect("stamp");
    }
    app.get("/api/v1/rounds/2026-27/scores", Some(&t))
        .await
        .assert_problem(404);
}

#[actix_web::test]
async fn a_write_answers_with_exactly_what_a_read_gives_afterwards() {
    // Saves and submits build their response from what they wrote, without reading it back.
    let app = TestApp::new();
    two_submitted(&app).await;
    let s = app.submitter(&["RAE"]);
    let path = "/api/v1/rounds/2026-27/assessments/RAE";
    let first = save(
        &app,
        &s,
        "2026-27",
        "RAE",
        answers(&[("R1", json!("some"))]),
    )
    .await;
    let read = app.get(path, Some(&s)).await;
    assert_eq!(first.assert_ok(200), read.assert_ok(200));
    assert_eq!(first.header("etag"), read.header("etag"));
    let second = save(&app, &s, "2026-27", "RAE", acute_return()).await;
    let read = app.get(path, Some(&s)).await;
    assert_eq!(second.assert_ok(200), read.assert_ok(200));
    assert_eq!(second.header("etag"), read.header("etag"));
    let submitted = submit(&app, &s, "2026-27", "RAE").await;
    let read = app.get(path, Some(&s)).await;
    assert_eq!(submitted.assert_ok(200), read.assert_ok(200));
    assert_eq!(submitted.header("etag"), read.header("etag"));
    assert!(read.json["scores"].is_object());
}

#[actix_web::test]
async fn every_list_honours_limit_and_hands_on_a_cursor() {
    let app = TestApp::new();
    two_submitted(&app).await;
    let admin = app.admin();
    // A second round, so that lists have something to page through.
    crate::fixtures::open_round_on(
        &app,
        "wgll-2025",
        "2027-28",
        "2027-04-01T00:00:00Z",
        "2028-03-31T00:00:00Z",
    )
    .await;
    for path in [
        "/api/v1/rounds",
        "/api/v1/frameworks",
        "/api/v1/rounds/2026-27/assessments/RA7/history",
    ] {
        let whole = app.get(path, Some(&admin)).await.assert_ok(200).clone();
        let whole = whole.as_array().expect("an array").clone();
        assert!(whole.len() >= 2, "{path}: {} items", whole.len());
        let mut got = Vec::new();
        let mut url = format!("{path}?limit=1");
        loop {
            let r = app.get(&url, Some(&admin)).await;
            let items = r.assert_ok(200).as_array().expect("an array").clone();
            assert_eq!(items.len(), 1, "{url}");
            got.extend(items);
            match r.header("link") {
                Some(link) => {
                    let next = link
                        .trim_start_matches('<')
                        .split('>')
                        .next()
                        .expect("a URL")
                        .to_owned();
                    url = next;
                }
                None => break,
            }
        }
        assert_eq!(got, whole, "{path}: the pages put together are the list");
    }
    // the paged lists take `limit` too
    for path in ["/api/v1/organisations?limit=3", "/api/v1/audit?limit=3"] {
        let page = app.get(path, Some(&admin)).await.assert_ok(200).clone();
        assert_eq!(page["items"].as_array().unwrap().len(), 3, "{path}");
        assert_eq!(page["per_page"], 3);
    }
    for bad in ["/api/v1/rounds?limit=0", "/api/v1/organisations?limit=5001"] {
        app.get(bad, Some(&admin)).await.assert_problem(422);
    }
}
