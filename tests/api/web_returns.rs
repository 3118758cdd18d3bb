//! The CIO's questionnaire: the API's questionnaire view, and the return's pages in-process (saves
//! without JavaScript, the autosave's JSON, conflicts kept or resolved, validation that changes
//! nothing, submission, re-opening, history, who may reach what). The real-browser walk is
//! `tests/browser/questionnaire.py`.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use dma::auth::Role;
use regex::Regex;
use serde_json::{Value, json};

use crate::fixtures::{answers, open_round, save, staged_framework};
use crate::harness::{Reply, TestApp};
use crate::web::{csrf_of, page, post_form, sign_in};

const ROUND: &str = "2026-27";
const ACUTE: &str = "RA7";
const MH: &str = "R1L";

fn questions(q: &Value) -> Vec<&Value> {
    q["pillars"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["domains"].as_array().unwrap())
        .flat_map(|d| d["questions"].as_array().unwrap())
        .collect()
}

fn question<'a>(q: &'a Value, key: &str) -> &'a Value {
    questions(q).into_iter().find(|x| x["key"] == key).unwrap()
}

async fn questionnaire(app: &TestApp, token: &str, ods: &str) -> Reply {
    app.get(
        &format!("/api/v1/rounds/{ROUND}/assessments/{ods}/questionnaire"),
        Some(token),
    )
    .await
}

#[actix_web::test]
async fn the_questionnaire_shows_what_is_asked_of_the_organisation_now() {
    let app = TestApp::new();
    open_round(&app, staged_framework(), ROUND).await;
    let t = app.submitter(&[ACUTE, MH]);
    let r = questionnaire(&app, &t, ACUTE).await;
    assert_eq!(r.header("etag"), Some("\"0\""));
    let q = r.assert_ok(200).clone();
    assert_eq!(q["status"], "not_started");
    assert_eq!(q["editable"], true);
    // Acute: cyber and epr, then strategy; EP3 waits for EP2 = yes.
    let domains: Vec<&str> = q["pillars"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["domains"].as_array().unwrap())
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["cyber", "epr", "strategy"]);
    assert_eq!(question(&q, "EP3")["enabled"], false);
    assert_eq!(
        question(&q, "EP3")["condition"]["conditions"][0],
        json!({"question": "EP2", "operator": "=", "answer": true})
    );
    assert_eq!(
        question(&q, "CY3")["options"][2],
        json!({"code": "all", "label": "All accounts"})
    );
    assert_eq!(
        (q["answered"].as_u64(), q["applicable"].as_u64()),
        (Some(0), Some(11))
    );
    assert_eq!(q["missing_mandatory"], 11);
    assert_eq!(q["missing"].as_array().unwrap().len(), 11);
    // Mental health: no epr domain.
    let mh = questionnaire(&app, &t, MH).await;
    assert_eq!(questions(mh.assert_ok(200)).len(), 8);

    let mut body = answers(&[("EP2", json!(true)), ("CY2", json!(false))]);
    body["answers"][0]["evidence"] = json!("go-live report");
    save(&app, &t, ROUND, ACUTE, body).await.assert_ok(200);
    let r = questionnaire(&app, &t, ACUTE).await;
    assert_eq!(r.header("etag"), Some("\"1\""));
    let q = r.assert_ok(200).clone();
    assert_eq!(q["status"], "draft");
    assert_eq!(question(&q, "EP3")["enabled"], true);
    assert_eq!(
        question(&q, "EP2")["answer"],
        json!({"value": true, "evidence": "go-live report"})
    );
    // 12 asked now (EP3 too), 2 answered.
    assert_eq!(
        (q["answered"].as_u64(), q["applicable"].as_u64()),
        (Some(2), Some(12))
    );
    let epr = &q["pillars"][0]["domains"][1];
    assert_eq!(
        (epr["answered"].as_u64(), epr["applicable"].as_u64()),
        (Some(1), Some(4))
    );
    assert_eq!(q["pillars"][0]["missing_mandatory"], 6);

    // Who may see it: the organisation, national readers; not another organisation.
    let other = app.submitter(&["RXW"]);
    questionnaire(&app, &other, ACUTE).await.assert_problem(403);
    questionnaire(&app, &app.analyst(), ACUTE)
        .await
        .assert_ok(200);
    app.get(
        &format!("/api/v1/rounds/1999-00/assessments/{ACUTE}/questionnaire"),
        Some(&t),
    )
    .await
    .assert_problem(404);
    app.get(
        &format!("/api/v1/rounds/{ROUND}/assessments/{ACUTE}/questionnaire"),
        None,
    )
    .await
    .assert_problem(401);
}

/// The fields a browser would post from the page's forms: hidden inputs, checked radios and
/// checkboxes, text inputs and text areas (`name` empty: all of them; else only that name).
fn hidden(html: &str, name: &str) -> Vec<(String, String)> {
    let input = Regex::new(r#"<input ([^>]*)>"#).unwrap();
    let attr = Regex::new(r#"([a-z-]+)(?:="([^"]*)")?"#).unwrap();
    let mut out = Vec::new();
    for c in input.captures_iter(html) {
        let attrs: Vec<(String, String)> = attr
            .captures_iter(&c[1])
            .map(|a| {
                (
                    a[1].to_owned(),
                    a.get(2).map_or("", |m| m.as_str()).to_owned(),
                )
            })
            .collect();
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (Some(n), Some(kind)) = (get("name"), get("type")) else {
            continue;
        };
        let checked = get("checked").is_some();
        let keep = match kind.as_str() {
            "radio" | "checkbox" => checked,
            _ => true,
        };
        if keep {
            out.push((n, unescape(&get("value").unwrap_or_default())));
        }
    }
    let area = Regex::new(r#"(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>"#).unwrap();
    for c in area.captures_iter(html) {
        out.push((c[1].to_owned(), unescape(&c[2])));
    }
    out.retain(|(n, _)| name.is_empty() || n == name);
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// `pairs` with `name` set to `value` (a radio's choice replaces the checked one).
fn set(pairs: &mut Vec<(String, String)>, name: &str, value: &str) {
    pairs.retain(|(n, _)| n != name);
    pairs.push((name.to_owned(), value.to_owned()));
}

async fn post_pairs(
    app: &TestApp,
    path: &str,
    cookie: &str,
    pairs: &[(String, String)],
    script: bool,
) -> Reply {
    let mut req = TestRequest::default()
        .method(Method::POST)
        .uri(path)
        .insert_header(("Cookie", cookie.to_owned()))
        .set_form(pairs.to_vec());
    if script {
        req = req.insert_header(("X-Requested-With", "fetch"));
    }
    app.call(req).await
}

async fn assessment(app: &TestApp, ods: &str) -> Value {
    app.get(
        &format!("/api/v1/rounds/{ROUND}/assessments/{ods}"),
        Some(&app.admin()),
    )
    .await
    .assert_ok(200)
    .clone()
}

#[actix_web::test]
async fn the_form_saves_keeps_both_sides_of_a_conflict_and_submits() {
    let app = TestApp::new();
    open_round(&app, staged_framework(), ROUND).await;
    let cookie = sign_in(&app, Role::Submitter, &[ACUTE]).await;
    let url = format!("/app/returns/{ROUND}/{ACUTE}/smart_foundations");
    let p = page(&app, &url, Some(&cookie)).await;
    assert_eq!(p.status.as_u16(), 200, "{}", p.text);
    assert!(
        Regex::new(r#"id="q-EP3"[^>]*data-enabled="false"[^>]*hidden"#)
            .unwrap()
            .is_match(&p.text)
    );
    let drawn = hidden(&p.text, "");
    let with = |extra: &[(&str, &str)]| {
        let mut v = drawn.clone();
        for (k, x) in extra {
            set(&mut v, k, x);
        }
        v
    };

    // A save that does not read changes nothing and says why, linked to the field.
    let bad = post_pairs(
        &app,
        &url,
        &cookie,
        &with(&[("answer.CY3", "everything"), ("answer.CY2", "yes")]),
        false,
    )
    .await;
    assert_eq!(bad.status.as_u16(), 422);
    assert!(
        bad.text.contains(
            r##"<a href="#answer-CY3" data-question="CY3">Select one of the options shown</a>"##
        ),
        "{}",
        bad.text
    );
    assert_eq!(assessment(&app, ACUTE).await["version"], 0);

    // Without JavaScript: save and continue; EP2 = yes reveals EP3, so the page comes back.
    let saved = post_pairs(
        &app,
        &url,
        &cookie,
        &with(&[
            ("answer.EP2", "yes"),
            ("evidence.EP2", "go-live report"),
            ("action", "continue"),
        ]),
        false,
    )
    .await;
    assert_eq!(saved.status.as_u16(), 303);
    assert_eq!(
        saved.header("location"),
        Some(format!("{url}?saved=1&revealed=1#q-EP3").as_str())
    );
    let a = assessment(&app, ACUTE).await;
    assert_eq!(
        a["answers"]["EP2"],
        json!({"value": true, "evidence": "go-live report"})
    );
    assert_eq!(a["version"], 1);

    // The page's autosave: JSON with what is asked now.
    let p = page(&app, &url, Some(&cookie)).await;
    let drawn = hidden(&p.text, "");
    let mut pairs = drawn.clone();
    set(&mut pairs, "answer.CY2", "yes");
    let auto = post_pairs(&app, &url, &cookie, &pairs, true).await;
    let body: Value = serde_json::from_str(&auto.text).unwrap();
    assert_eq!(body["outcome"], "saved", "{}", auto.text);
    assert_eq!(body["version"], 2);
    assert_eq!(body["enabled"]["EP3"], true);
    assert_eq!(body["orig"]["CY2"], r#"{"value":true}"#);

    // Someone else changes CY2 while this page (version 1) is open; this person's save of CY2
    // meets the conflict and nothing is written.
    let t = app.submitter(&[ACUTE]);
    save(&app, &t, ROUND, ACUTE, answers(&[("CY2", json!(false))]))
        .await
        .assert_ok(200);
    let mut mine = drawn.clone();
    set(&mut mine, "answer.CY2", "yes");
    set(&mut mine, "answer.CY4", "yes");
    let c = post_pairs(&app, &url, &cookie, &mine, false).await;
    assert_eq!(c.status.as_u16(), 409, "{}", c.text);
    assert!(c.text.contains(r#"<tr data-question="CY2">"#));
    assert!(
        Regex::new(r#"(?s)data-question="CY2">.*?class="app-mine">Yes<.*?class="app-theirs">No<"#)
            .unwrap()
            .is_match(&c.text)
    );
    assert_eq!(assessment(&app, ACUTE).await["version"], 3);
    // The autosave meets it too.
    let auto = post_pairs(&app, &url, &cookie, &mine, true).await;
    assert_eq!(auto.status.as_u16(), 409);
    assert_eq!(
        serde_json::from_str::<Value>(&auto.text).unwrap()["outcome"],
        "conflict"
    );
    // Keep mine: CY2 and CY4 are this person's; the history has both saves.
    let mut keep = hidden(&c.text, "");
    keep.push(("resolve".into(), "mine".into()));
    let kept = post_pairs(&app, &url, &cookie, &keep, false).await;
    assert_eq!(kept.status.as_u16(), 303, "{}", kept.text);
    let a = assessment(&app, ACUTE).await;
    assert_eq!(a["answers"]["CY2"]["value"], true);
    assert_eq!(a["answers"]["CY4"]["value"], true);
    assert_eq!(
        a["answers"]["EP2"]["evidence"], "go-live report",
        "untouched answers stay"
    );
    let h = app
        .get(
            &format!("/api/v1/rounds/{ROUND}/assessments/{ACUTE}/history"),
            Some(&app.admin()),
        )
        .await;
    let events = h.assert_ok(200).as_array().unwrap().clone();
    let cy2 = events
        .iter()
        .flat_map(|e| e["summary"]["changes"].as_array().into_iter().flatten())
        .filter(|ch| ch["question"] == "CY2")
        .count();
    assert_eq!(cy2, 3, "set yes, then theirs (no), then mine again (yes)");

    // Take theirs: another change by someone else wins, this person's is dropped, visibly.
    save(&app, &t, ROUND, ACUTE, answers(&[("CY4", json!(false))]))
        .await
        .assert_ok(200);
    let p = page(&app, &url, Some(&cookie)).await;
    let stale = hidden(&p.text, "");
    save(&app, &t, ROUND, ACUTE, answers(&[("CY4", json!(true))]))
        .await
        .assert_ok(200);
    // This person adds evidence to the answer as drawn (no); the other made it yes.
    let mut mine = stale.clone();
    set(&mut mine, "evidence.CY4", "backup test log, May");
    let c = post_pairs(&app, &url, &cookie, &mine, false).await;
    assert_eq!(c.status.as_u16(), 409);
    let mut take = hidden(&c.text, "");
    take.push(("resolve".into(), "theirs".into()));
    let taken = post_pairs(&app, &url, &cookie, &take, false).await;
    assert_eq!(taken.status.as_u16(), 303);
    assert_eq!(
        assessment(&app, ACUTE).await["answers"]["CY4"],
        json!({"value": true})
    );

    // Fill in the rest through the form, then check and submit.
    let p = page(&app, &url, Some(&cookie)).await;
    let mut pairs = hidden(&p.text, "");
    for (k, v) in [
        ("CY3", "all"),
        ("CY5", "no"),
        ("EP3", "yes"),
        ("EP4", "yes"),
        ("EP5", "no"),
    ] {
        set(&mut pairs, &format!("answer.{k}"), v);
    }
    pairs.push(("action".into(), "continue".into()));
    let r = post_pairs(&app, &url, &cookie, &pairs, false).await;
    assert_eq!(
        r.header("location"),
        Some(format!("/app/returns/{ROUND}/{ACUTE}/well_led").as_str())
    );
    let wl = format!("/app/returns/{ROUND}/{ACUTE}/well_led");
    let p = page(&app, &wl, Some(&cookie)).await;
    let mut pairs = hidden(&p.text, "");
    for (k, v) in [
        ("WL2", "yes"),
        ("WL3", "no"),
        ("WL4", "yes"),
        ("WL5", "yes"),
    ] {
        set(&mut pairs, &format!("answer.{k}"), v);
    }
    pairs.push(("action".into(), "continue".into()));
    let r = post_pairs(&app, &wl, &cookie, &pairs, false).await;
    assert_eq!(
        r.header("location"),
        Some(format!("/app/returns/{ROUND}/{ACUTE}?saved=1").as_str())
    );
    let check = page(
        &app,
        &format!("/app/returns/{ROUND}/{ACUTE}/submit"),
        Some(&cookie),
    )
    .await;
    assert!(
        check.text.contains(r#"id="confirm-submit""#),
        "{}",
        check.text
    );
    let version = hidden(&check.text, "version")[0].1.clone();
    let csrf = csrf_of(&check.text);
    let r = post_form(
        &app,
        &format!("/app/returns/{ROUND}/{ACUTE}/submit"),
        Some(&cookie),
        &[("csrf_token", &csrf), ("version", &version)],
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some(format!("/app/returns/{ROUND}/{ACUTE}?submitted=1").as_str())
    );
    let a = assessment(&app, ACUTE).await;
    assert_eq!(a["status"], "submitted");
    // The overview's scores are the stored ones; the next level names the unmet criteria.
    let o = page(
        &app,
        &format!("/app/returns/{ROUND}/{ACUTE}"),
        Some(&cookie),
    )
    .await;
    for p in a["scores"]["pillars"].as_array().unwrap() {
        let want = format!(
            r#"data-pillar="{}" data-score="{:.4}""#,
            p["pillar"].as_str().unwrap(),
            p["score"].as_f64().unwrap()
        );
        assert!(o.text.contains(&want), "{want}");
        for d in p["domains"].as_array().unwrap() {
            let want = format!(
                r#"data-domain="{}" data-score="{:.4}""#,
                d["domain"].as_str().unwrap(),
                d["score"].as_f64().unwrap()
            );
            assert!(o.text.contains(&want), "{want}");
        }
    }
    // cyber: CY5 no → level 4, next needs CY5; strategy: WL3 no → level 2, next needs WL3.
    assert!(
        Regex::new(
            r#"(?s)data-domain="cyber" data-level="4" data-next="5">.*?data-question="CY5""#
        )
        .unwrap()
        .is_match(&o.text),
        "{}",
        o.text
    );
    assert!(
        Regex::new(
            r#"(?s)data-domain="strategy" data-level="2" data-next="3">.*?data-question="WL3""#
        )
        .unwrap()
        .is_match(&o.text)
    );
    // Read-only now.
    let p = page(&app, &url, Some(&cookie)).await;
    assert!(!p.text.contains("return-form"));
    let r = post_pairs(&app, &url, &cookie, &pairs, false).await;
    assert_eq!(r.status.as_u16(), 409, "a submitted return refuses saves");
}

#[actix_web::test]
async fn only_the_organisation_and_national_readers_reach_a_return_and_only_admins_reopen() {
    let app = TestApp::new();
    open_round(&app, staged_framework(), ROUND).await;
    let t = app.submitter(&[ACUTE]);
    let all = answers(&[
        ("CY2", json!(true)),
        ("CY3", json!("all")),
        ("CY4", json!(true)),
        ("CY5", json!(true)),
        ("EP2", json!(false)),
        ("EP4", json!(false)),
        ("EP5", json!(false)),
        ("WL2", json!(true)),
        ("WL3", json!(true)),
        ("WL4", json!(true)),
        ("WL5", json!(true)),
    ]);
    save(&app, &t, ROUND, ACUTE, all).await.assert_ok(200);
    crate::fixtures::submit(&app, &t, ROUND, ACUTE)
        .await
        .assert_ok(200);

    let other = sign_in(&app, Role::Submitter, &["RXW"]).await;
    for path in ["", "/smart_foundations", "/submit", "/history"] {
        let r = page(
            &app,
            &format!("/app/returns/{ROUND}/{ACUTE}{path}"),
            Some(&other),
        )
        .await;
        assert_eq!(r.status.as_u16(), 403, "{path}");
        assert!(!r.text.contains("All accounts"));
    }
    let r = post_form(
        &app,
        &format!("/app/returns/{ROUND}/{ACUTE}/smart_foundations"),
        Some(&other),
        &[("csrf_token", "x"), ("version", "2")],
    )
    .await;
    assert_eq!(r.status.as_u16(), 403);

    let analyst = sign_in(&app, Role::Analyst, &[]).await;
    let o = page(
        &app,
        &format!("/app/returns/{ROUND}/{ACUTE}"),
        Some(&analyst),
    )
    .await;
    assert_eq!(o.status.as_u16(), 200);
    assert!(!o.text.contains("reopen-form"), "analysts do not re-open");
    let list = page(
        &app,
        &format!("/app/rounds/{ROUND}/returns"),
        Some(&analyst),
    )
    .await;
    assert!(
        list.text
            .contains(&format!(r#"data-ods="{ACUTE}" data-status="submitted""#))
    );

    let admin = sign_in(&app, Role::Admin, &[]).await;
    let url = format!("/app/returns/{ROUND}/{ACUTE}");
    let o = page(&app, &url, Some(&admin)).await;
    assert!(o.text.contains(r#"id="reopen-form""#));
    let csrf = csrf_of(&o.text);
    let r = post_form(
        &app,
        &format!("{url}/reopen"),
        Some(&admin),
        &[("csrf_token", &csrf), ("reason", "  ")],
    )
    .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(
        r.text
            .contains(r##"<a href="#reopen-reason">Enter why the return is being re-opened</a>"##)
    );
    assert_eq!(assessment(&app, ACUTE).await["status"], "submitted");
    let r = post_form(
        &app,
        &format!("{url}/reopen"),
        Some(&admin),
        &[
            ("csrf_token", &csrf),
            ("reason", "EPR answer queried by the region"),
        ],
    )
    .await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(assessment(&app, ACUTE).await["status"], "reopened");
    let h = page(&app, &format!("{url}/history"), Some(&admin)).await;
    assert!(h.text.contains(r#"data-action="reopen""#));
    assert!(h.text.contains("EPR answer queried by the region"));
    assert!(h.text.contains(r#"data-action="submit""#));
    let submitter = sign_in(&app, Role::Submitter, &[ACUTE]).await;
    let h = page(&app, &format!("{url}/history"), Some(&submitter)).await;
    assert_eq!(
        h.status.as_u16(),
        403,
        "the audit of staff is for national readers"
    );
    let p = page(&app, &format!("{url}/well_led"), Some(&submitter)).await;
    assert!(
        p.text.contains("return-form"),
        "editable again once re-opened"
    );
}

#[actix_web::test]
async fn a_page_save_writes_only_what_the_person_changed() {
    let app = TestApp::new();
    open_round(&app, crate::fixtures::scored_framework(), ROUND).await;
    let t = app.submitter(&[ACUTE]);
    // Chosen options stored in an order other than the page's.
    save(
        &app,
        &t,
        ROUND,
        ACUTE,
        answers(&[("C1", json!(60)), ("C2", json!(["results", "orders"]))]),
    )
    .await
    .assert_ok(200);
    let cookie = sign_in(&app, Role::Submitter, &[ACUTE]).await;
    let url = format!("/app/returns/{ROUND}/{ACUTE}/capabilities");
    let changes_of = |events: &[Value], key: &str| {
        events
            .iter()
            .flat_map(|e| e["summary"]["changes"].as_array().into_iter().flatten())
            .filter(|ch| ch["question"] == key)
            .count()
    };
    let history = || async {
        app.get(
            &format!("/api/v1/rounds/{ROUND}/assessments/{ACUTE}/history"),
            Some(&app.admin()),
        )
        .await
        .assert_ok(200)
        .as_array()
        .unwrap()
        .clone()
    };

    // Changing C1 leaves C2 exactly as stored: not rewritten in the page's order.
    let p = page(&app, &url, Some(&cookie)).await;
    let mut pairs = hidden(&p.text, "");
    set(&mut pairs, "answer.C1", "70");
    let r = post_pairs(&app, &url, &cookie, &pairs, false).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let a = assessment(&app, ACUTE).await;
    assert_eq!(a["answers"]["C1"]["value"], 70.0);
    assert_eq!(a["answers"]["C2"]["value"], json!(["results", "orders"]));
    assert_eq!(
        changes_of(&history().await, "C2"),
        1,
        "only the API's own save"
    );

    // Someone else changes C2 while the page is open. This person's save of C1 shows the conflict
    // (C2 moved on the page); keeping theirs-and-mine saves C1 and leaves C2 as the other made it.
    let p = page(&app, &url, Some(&cookie)).await;
    let mut pairs = hidden(&p.text, "");
    save(
        &app,
        &t,
        ROUND,
        ACUTE,
        answers(&[("C2", json!(["eprescribing"]))]),
    )
    .await
    .assert_ok(200);
    set(&mut pairs, "answer.C1", "80");
    let c = post_pairs(&app, &url, &cookie, &pairs, false).await;
    assert_eq!(c.status.as_u16(), 409, "{}", c.text);
    assert!(
        Regex::new(r#"(?s)data-question="C2">.*?class="app-mine">Orders; Results<.*?class="app-theirs">ePrescribing<"#)
            .unwrap()
            .is_match(&c.text),
        "{}",
        c.text
    );
    let mut keep = hidden(&c.text, "");
    keep.push(("resolve".into(), "mine".into()));
    let r = post_pairs(&app, &url, &cookie, &keep, false).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let a = assessment(&app, ACUTE).await;
    assert_eq!(a["answers"]["C1"]["value"], 80.0);
    assert_eq!(a["answers"]["C2"]["value"], json!(["eprescribing"]));
    assert_eq!(
        changes_of(&history().await, "C2"),
        2,
        "the API's two saves only"
    );
}
