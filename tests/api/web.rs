//! The web front end (`/app`) in-process: sign-in links, sessions, CSRF, the role rules, and the
//! figures on the pages against the API's. The real-browser walk (Chromium, axe-core) is
//! `tests/browser/`.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use diesel::RunQueryDsl;
use dma::auth::Role;
use regex::Regex;

use crate::harness::{Reply, TestApp};

pub(crate) fn link(app: &TestApp, role: Role, orgs: &[&str]) -> String {
    let mut conn = app.state.pool.get().unwrap();
    let orgs: Vec<String> = orgs.iter().map(|s| s.to_string()).collect();
    dma::web::login_link(&mut conn, "tester", role, &orgs).unwrap()
}

/// The `dma-session` cookie a response sets, as a `Cookie` header value.
pub(crate) fn session_cookie(r: &Reply) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("dma-session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

pub(crate) async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> Reply {
    let mut req = TestRequest::get().uri(path);
    if let Some(c) = cookie {
        req = req.insert_header(("Cookie", c.to_owned()));
    }
    app.call(req).await
}

pub(crate) async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> Reply {
    let mut req = TestRequest::default()
        .method(Method::POST)
        .uri(path)
        .set_form(
            form.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        );
    if let Some(c) = cookie {
        req = req.insert_header(("Cookie", c.to_owned()));
    }
    app.call(req).await
}

/// Signs in with a fresh link and returns the session cookie.
pub(crate) async fn sign_in(app: &TestApp, role: Role, orgs: &[&str]) -> String {
    let token = link(app, role, orgs);
    let r = post_form(app, "/app/login", None, &[("token", &token)]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    session_cookie(&r).expect("a session cookie")
}

pub(crate) fn csrf_of(html: &str) -> String {
    Regex::new(r#"name="csrf_token" value="([0-9a-f]{64})""#)
        .unwrap()
        .captures(html)
        .expect("a sign-out form with its token")[1]
        .to_owned()
}

pub(crate) fn load_demo(app: &TestApp) {
    let mut conn = app.state.pool.get().unwrap();
    dma::seed::demo::load_demo(&mut conn).unwrap();
}

#[actix_web::test]
async fn a_sign_in_link_works_once_and_sign_out_ends_the_session_everywhere() {
    let app = TestApp::new();
    // Not signed in: pages send to sign-in, keeping where the person was going.
    let r = page(&app, "/app/rounds/2025-26?type=acute", None).await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(
        r.header("location"),
        Some("/app/sign-in?next=%2Fapp%2Frounds%2F2025-26%3Ftype%3Dacute")
    );

    let token = link(&app, Role::Analyst, &[]);
    // Another site cannot post the link (no signing a browser in as someone else).
    let forged = app
        .call(
            TestRequest::default()
                .method(Method::POST)
                .uri("/app/login")
                .insert_header(("Sec-Fetch-Site", "cross-site"))
                .set_form(vec![("token".to_owned(), token.clone())]),
        )
        .await;
    assert_eq!(forged.status.as_u16(), 403);
    assert!(session_cookie(&forged).is_none());
    // Opening the link spends nothing: it shows a button.
    let shown = page(&app, &format!("/app/login/{token}"), None).await;
    assert_eq!(shown.status.as_u16(), 200);
    assert!(shown.text.contains(r#"action="/app/login""#));
    assert_eq!(shown.header("referrer-policy"), Some("no-referrer"));
    let r = post_form(&app, "/app/login", None, &[("token", &token)]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let set = r
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("dma-session="))
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    // The cookie is encrypted: neither the session id nor anything else is readable in it.
    assert!(!set.contains("sid"), "{set}");
    let cookie = session_cookie(&r).unwrap();
    let home = page(&app, "/app", Some(&cookie)).await;
    assert_eq!(home.status.as_u16(), 200);
    assert!(home.text.contains("tester (analyst)"));
    assert!(
        home.header("content-security-policy")
            .unwrap()
            .contains("default-src 'self'")
    );

    // The same link a second time: refused, and no session.
    let again = post_form(&app, "/app/login", None, &[("token", &token)]).await;
    assert_eq!(again.status.as_u16(), 403);
    assert!(
        again
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(session_cookie(&again).is_none());

    // Sign-out needs the session's CSRF token.
    let refused = post_form(
        &app,
        "/app/sign-out",
        Some(&cookie),
        &[("csrf_token", &"0".repeat(64))],
    )
    .await;
    assert_eq!(refused.status.as_u16(), 403);
    assert_eq!(
        page(&app, "/app", Some(&cookie)).await.status.as_u16(),
        200,
        "still signed in"
    );
    let csrf = csrf_of(&home.text);
    let out = post_form(
        &app,
        "/app/sign-out",
        Some(&cookie),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(out.status.as_u16(), 303);
    // A copy of the old cookie no longer works: the session itself has ended.
    let after = page(&app, "/app/rounds/2025-26", Some(&cookie)).await;
    assert_eq!(after.status.as_u16(), 303);
    assert!(
        after
            .header("location")
            .unwrap()
            .starts_with("/app/sign-in")
    );
}

#[actix_web::test]
async fn expired_forged_and_malformed_links_start_no_session() {
    let app = TestApp::new();
    let token = link(&app, Role::Analyst, &[]);
    {
        let mut conn = app.state.pool.get().unwrap();
        let sql = "UPDATE login_links SET expires_at = created_at";
        match &mut *conn {
            dma::db::DbConnection::Postgresql(c) => diesel::sql_query(sql).execute(c),
            dma::db::DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
        }
        .unwrap();
    }
    for t in [
        token.as_str(),
        &"a".repeat(64),
        "short",
        &format!("{token}0"),
    ] {
        let r = post_form(&app, "/app/login", None, &[("token", t)]).await;
        assert_eq!(r.status.as_u16(), 403, "{t}");
        assert!(session_cookie(&r).is_none());
    }
    assert_eq!(
        page(&app, "/app/login/not-a-token", None)
            .await
            .status
            .as_u16(),
        404
    );
    // A tampered cookie is no session.
    let r = page(
        &app,
        "/app",
        Some("dma-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303);
    // Links are checked when minted.
    let mut conn = app.state.pool.get().unwrap();
    assert!(dma::web::login_link(&mut conn, "x", Role::Submitter, &[]).is_err());
    assert!(dma::web::login_link(&mut conn, "x", Role::Analyst, &["RGT".into()]).is_err());
    assert!(dma::web::login_link(&mut conn, "x", Role::Submitter, &["ZZZZZ".into()]).is_err());
}

#[actix_web::test]
async fn a_submitter_sees_its_own_organisation_and_nothing_national() {
    let app = TestApp::new();
    load_demo(&app);
    let cookie = sign_in(&app, Role::Submitter, &["RBD"]).await;
    for path in [
        "/app/rounds/2025-26",
        "/app/rounds/2025-26/heatmap",
        "/app/rounds/2025-26/targeting",
        "/app/rounds/2025-26/areas",
        "/app/rounds/2025-26/divergence.csv",
        "/app/rounds/2025-26/divergence.csv?ods=RGT",
        "/app/rounds/2025-26/areas.csv",
        "/app/rounds/2025-26/completion.csv",
        "/app/organisations/RGT",
        "/app/organisations/RGT?round=2025-26",
    ] {
        let r = page(&app, path, Some(&cookie)).await;
        assert_eq!(r.status.as_u16(), 403, "{path}: {}", r.text);
        assert!(
            !r.text.contains("RGT\""),
            "{path} shows nothing of another organisation"
        );
    }
    let own = page(&app, "/app/organisations/RBD", Some(&cookie)).await;
    assert_eq!(own.status.as_u16(), 200, "{}", own.text);
    assert!(own.text.contains("Dorset County Hospital"));
    // Its peers only as quartiles: the page names no other organisation's code.
    let others = Regex::new(r#"data-ods="([A-Z0-9]+)""#).unwrap();
    assert!(others.captures_iter(&own.text).all(|c| &c[1] == "RBD"));
    let csv = page(
        &app,
        "/app/rounds/2025-26/divergence.csv?ods=RBD",
        Some(&cookie),
    )
    .await;
    assert_eq!(csv.status.as_u16(), 200);
    assert!(
        csv.text.lines().skip(1).all(|l| l.contains("RBD")),
        "{}",
        csv.text
    );
    let home = page(&app, "/app", Some(&cookie)).await;
    assert!(home.text.contains("/app/organisations/RBD"));
    assert!(!home.text.contains("/app/rounds/"));
}

/// `data-*` figures of the rows of a page, keyed by (ODS code, pillar).
fn cells(html: &str) -> BTreeMap<(String, String), String> {
    let row = Regex::new(r#"<tr data-ods="([A-Z0-9]+)"[^>]*>(.*?)</tr>"#).unwrap();
    let cell = Regex::new(r#"data-pillar="([a-z_]+)" data-z="([-0-9.]*)""#).unwrap();
    let mut out = BTreeMap::new();
    for r in row.captures_iter(html) {
        for c in cell.captures_iter(&r[2]) {
            out.insert((r[1].to_owned(), c[1].to_owned()), c[2].to_owned());
        }
    }
    out
}

fn fixed4(v: &serde_json::Value) -> String {
    v.as_f64().map(|x| format!("{x:.4}")).unwrap_or_default()
}

#[actix_web::test]
async fn the_pages_show_the_apis_figures() {
    let app = TestApp::new();
    load_demo(&app);
    let cookie = sign_in(&app, Role::Analyst, &[]).await;
    let t = app.analyst();
    let api = app
        .get("/api/v1/rounds/2025-26/divergence?limit=5000", Some(&t))
        .await;
    let rows = api.assert_ok(200)["rows"].as_array().unwrap().clone();

    // Heatmap: every cell's z is the API row's.
    let heat = page(&app, "/app/rounds/2025-26/heatmap", Some(&cookie)).await;
    assert_eq!(heat.status.as_u16(), 200);
    let shown = cells(&heat.text);
    assert_eq!(
        shown.len(),
        rows.len(),
        "one cell per organisation × pillar"
    );
    for r in &rows {
        let key = (
            r["org_id"].as_str().unwrap().to_owned(),
            r["pillar"].as_str().unwrap().to_owned(),
        );
        assert_eq!(
            shown.get(&key),
            Some(&fixed4(&r["level"]["robust_z"])),
            "{key:?}"
        );
    }
    // Filters are the API's filters.
    let acute = page(
        &app,
        "/app/rounds/2025-26/heatmap?type=acute&region=Y56",
        Some(&cookie),
    )
    .await;
    let api_acute = app
        .get(
            "/api/v1/rounds/2025-26/divergence?limit=5000&type=acute&region=Y56",
            Some(&t),
        )
        .await;
    assert_eq!(
        cells(&acute.text).len(),
        api_acute.json["rows"].as_array().unwrap().len()
    );

    // Overview: organisations per pillar and flag.
    let over = page(&app, "/app/rounds/2025-26", Some(&cookie)).await;
    assert_eq!(over.status.as_u16(), 200);
    let count =
        Regex::new(r#"data-pillar="([a-z_]+)" data-flag="([A-Z_]+)" data-count="(\d+)""#).unwrap();
    let mut n_cells = 0;
    for c in count.captures_iter(&over.text) {
        let expected = rows
            .iter()
            .filter(|r| {
                r["pillar"] == c[1] && r["flags"].as_array().unwrap().iter().any(|f| f == &c[2])
            })
            .count();
        assert_eq!(
            c[3].parse::<usize>().unwrap(),
            expected,
            "{} {}",
            &c[1],
            &c[2]
        );
        n_cells += 1;
    }
    assert_eq!(n_cells, 8 * 9);
    // The deliberately diverging trusts are listed, with links.
    for r in rows.iter().filter(|r| {
        r["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "PRIORITY_FALLING_BEHIND")
    }) {
        let ods = r["org_id"].as_str().unwrap();
        assert!(
            over.text
                .contains(&format!("/app/organisations/{ods}?round=2025-26")),
            "{ods}"
        );
    }

    // Targeting: gap and excess of each acute overall row.
    let target = page(
        &app,
        "/app/rounds/2025-26/targeting?type=acute&pillar=overall",
        Some(&cookie),
    )
    .await;
    assert_eq!(target.status.as_u16(), 200);
    assert!(target.text.contains("Behind and falling further behind"));
    let tr =
        Regex::new(r#"<tr data-ods="([A-Z0-9]+)" data-gap="([-0-9.]*)" data-excess="([-0-9.]*)""#)
            .unwrap();
    let mut n = 0;
    for c in tr.captures_iter(&target.text) {
        let r = rows
            .iter()
            .find(|r| r["org_id"] == c[1] && r["pillar"] == "overall")
            .unwrap();
        assert_eq!(c[2], fixed4(&r["level"]["gap"]));
        assert_eq!(c[3], fixed4(&r["change"]["excess"]));
        n += 1;
    }
    assert!(n > 50, "{n} acute trusts in the table");

    // Areas: each ICB's standardised gap.
    let areas = page(&app, "/app/rounds/2025-26/areas?by=icb", Some(&cookie)).await;
    let api_icbs = app
        .get(
            "/api/v1/rounds/2025-26/divergence/icbs?pillar=overall",
            Some(&t),
        )
        .await;
    let ar =
        Regex::new(r#"<tr data-code="([A-Z0-9]+)" data-standardised-gap="([-0-9.]*)""#).unwrap();
    let shown: BTreeMap<String, String> = ar
        .captures_iter(&areas.text)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let expected: BTreeMap<String, String> = api_icbs.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_owned(),
                fixed4(&r["level"]["standardised_gap"]),
            )
        })
        .collect();
    assert_eq!(shown, expected);

    // Organisation: each pillar's score.
    let org = page(&app, "/app/organisations/RBD?round=2025-26", Some(&cookie)).await;
    assert_eq!(org.status.as_u16(), 200);
    let api_org = app
        .get("/api/v1/rounds/2025-26/divergence/RBD", Some(&t))
        .await;
    for r in api_org.json["rows"].as_array().unwrap() {
        let attr = format!(
            r#"data-pillar="{}" data-score="{}""#,
            r["pillar"].as_str().unwrap(),
            fixed4(&r["level"]["score"])
        );
        assert!(org.text.contains(&attr), "{attr}");
        for reason in r["reasons"].as_array().unwrap() {
            let text = reason.as_str().unwrap();
            assert!(
                org.text.contains(&maud::html! { (text) }.into_string()),
                "{text}"
            );
        }
    }

    // The CSV download is the API's export.
    let csv = page(
        &app,
        "/app/rounds/2025-26/divergence.csv?type=acute",
        Some(&cookie),
    )
    .await;
    let api_csv = app
        .get(
            "/api/v1/rounds/2025-26/divergence?type=acute&format=csv",
            Some(&t),
        )
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    assert_eq!(csv.text, api_csv.text);

    // Filters the API would refuse are refused here too.
    for bad in [
        "/app/rounds/2025-26?region=Y99",
        "/app/rounds/2025-26?pillar=nope",
        "/app/rounds/2025-26/heatmap?type=hospital",
        "/app/rounds/2025-26/divergence.csv?pillar=nope",
    ] {
        assert_eq!(
            page(&app, bad, Some(&cookie)).await.status.as_u16(),
            400,
            "{bad}"
        );
    }

    // Nothing is loaded from anywhere else.
    let external = Regex::new(r#"(?:src|href|action)="(?:https?:)?//"#).unwrap();
    for p in [&heat, &over, &target, &areas, &org] {
        assert!(!external.is_match(&p.text));
    }
}

#[actix_web::test]
async fn assets_are_served_from_the_binary() {
    let app = TestApp::new();
    let css = page(&app, "/app/assets/nhsuk-frontend.min.css", None).await;
    assert_eq!(css.status.as_u16(), 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(
        !css.text.contains("assets.nhs.uk"),
        "no font from the NHS CDN"
    );
    assert!(
        !Regex::new(r"url\((?:https?:)?//")
            .unwrap()
            .is_match(&css.text)
    );
    let js = page(&app, "/app/assets/nhsuk-frontend.min.js", None).await;
    assert!(js.text.contains("initAll"));
    let tag = css.header("etag").unwrap().to_owned();
    let again = app
        .call(
            TestRequest::get()
                .uri("/app/assets/nhsuk-frontend.min.css")
                .insert_header(("If-None-Match", tag)),
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    assert_eq!(
        page(&app, "/app/assets/../Cargo.toml", None)
            .await
            .status
            .as_u16(),
        404
    );
}
