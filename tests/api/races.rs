//! Races on a round's and a return's state: each pair of moves that depends on the same state
//! (re-open/publish, close/save, submit/save, re-open/submit) is fired at once, many times, at the
//! in-process app (the database work of each request runs on its own blocking thread), and the
//! outcome must be one that some serial order of the two would give. Bounded: a fixed number of
//! trials, each a handful of requests.

use actix_web::http::Method;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::fixtures::{answers, save, scored_framework, submit};
use crate::harness::{Reply, TestApp};

const TRIALS: usize = 16;

/// Start offsets for the two sides of a race, varied by trial so that each side's state check
/// and write fall at different points of the other's: (first side, second side).
fn stagger(trial: usize) -> (Duration, Duration) {
    const STEPS_MICROS: [u64; 8] = [0, 100, 300, 600, 1_000, 1_500, 2_500, 4_000];
    let d = Duration::from_micros(STEPS_MICROS[(trial / 2) % STEPS_MICROS.len()]);
    if trial.is_multiple_of(2) {
        (Duration::ZERO, d)
    } else {
        (d, Duration::ZERO)
    }
}

async fn after<T>(delay: Duration, work: impl std::future::Future<Output = T>) -> T {
    if !delay.is_zero() {
        actix_web::rt::time::sleep(delay).await;
    }
    work.await
}

/// Every mandatory question of the scored fixture answered for an acute trust.
fn full_return() -> Value {
    answers(&[
        ("R1", json!("some")),
        ("R2", json!(true)),
        ("R3", json!(5)),
        ("C1", json!(60)),
        ("C2", json!(["orders"])),
    ])
}

/// An app with the scored framework published (rounds are made per trial).
async fn app_with_framework() -> TestApp {
    // Enough connections that every request of a race holds one at the same time.
    let app = TestApp::with_env(&[("DMA_POOL_SIZE", "8")]);
    let a = app.admin();
    let framework = scored_framework();
    let key = framework["key"].as_str().unwrap().to_owned();
    app.send(
        Method::POST,
        "/api/v1/frameworks",
        Some(&a),
        Some(framework),
    )
    .await
    .assert_ok(201);
    app.send(
        Method::POST,
        &format!("/api/v1/frameworks/{key}/publish"),
        Some(&a),
        None,
    )
    .await
    .assert_ok(200);
    app
}

/// Creates round `key` on the scored framework and opens it.
async fn open_new_round(app: &TestApp, key: &str) {
    let a = app.admin();
    let framework = scored_framework()["key"].as_str().unwrap().to_owned();
    let body = json!({"key": key, "title": format!("Round {key}"), "framework": framework,
                      "opens_at": "2026-01-01T00:00:00Z", "closes_at": "2027-03-31T00:00:00Z"});
    app.send(Method::POST, "/api/v1/rounds", Some(&a), Some(body))
        .await
        .assert_ok(201);
    round_move(app, key, "open").await.assert_ok(200);
}

async fn round_move(app: &TestApp, round: &str, action: &str) -> Reply {
    let a = app.admin();
    app.send(
        Method::POST,
        &format!("/api/v1/rounds/{round}/{action}"),
        Some(&a),
        None,
    )
    .await
}

async fn reopen(app: &TestApp, round: &str, ods: &str) -> Reply {
    let a = app.admin();
    app.send(
        Method::POST,
        &format!("/api/v1/rounds/{round}/assessments/{ods}/reopen"),
        Some(&a),
        Some(json!({"reason": "correction"})),
    )
    .await
}

async fn round_status(app: &TestApp, round: &str) -> String {
    let r = app
        .get(&format!("/api/v1/rounds/{round}"), Some(&app.admin()))
        .await;
    r.assert_ok(200)["status"].as_str().unwrap().to_owned()
}

async fn return_of(app: &TestApp, round: &str, ods: &str) -> Value {
    let path = format!("/api/v1/rounds/{round}/assessments/{ods}");
    app.get(&path, Some(&app.admin()))
        .await
        .assert_ok(200)
        .clone()
}

/// The version an `ETag` names.
fn version(reply: &Reply) -> i64 {
    reply
        .header("etag")
        .and_then(|t| t.trim_matches('"').parse().ok())
        .expect("a versioned ETag")
}

/// The audit events of one round and its returns, oldest first, as (action, time).
async fn round_audit(app: &TestApp, round: &str) -> Vec<(String, String)> {
    let a = app.admin();
    let mut events = Vec::new();
    for query in [
        format!("entity=round&entity_key={round}"),
        format!("entity=assessment&entity_key={round}/RA7"),
    ] {
        let page = app
            .get(&format!("/api/v1/audit?{query}&per_page=500"), Some(&a))
            .await;
        for e in page.assert_ok(200)["items"].as_array().unwrap() {
            events.push((
                e["action"].as_str().unwrap().to_owned(),
                e["occurred_at"].as_str().unwrap().to_owned(),
            ));
        }
    }
    events.sort_by(|x, y| x.1.cmp(&y.1));
    events
}

#[actix_web::test]
async fn reopen_racing_publish_never_leaves_a_published_round_with_a_reopened_return() {
    let app = app_with_framework().await;
    let a = app.admin();
    let mut seen = (0, 0);
    for trial in 0..TRIALS {
        let round = format!("race-rp-{trial}");
        open_new_round(&app, &round).await;
        save(&app, &a, &round, "RA7", full_return())
            .await
            .assert_ok(200);
        submit(&app, &a, &round, "RA7").await.assert_ok(200);
        round_move(&app, &round, "close").await.assert_ok(200);
        let (d1, d2) = stagger(trial);
        let (re, publish) = futures_util::join!(
            after(d1, reopen(&app, &round, "RA7")),
            after(d2, round_move(&app, &round, "publish"))
        );
        let (status, ret) = (
            round_status(&app, &round).await,
            return_of(&app, &round, "RA7").await,
        );
        match (re.status.as_u16(), publish.status.as_u16()) {
            (200, 409) => {
                seen.0 += 1;
                assert_eq!(
                    (status.as_str(), ret["status"].as_str()),
                    ("closed", Some("reopened"))
                );
            }
            (409, 200) => {
                seen.1 += 1;
                assert_eq!(
                    (status.as_str(), ret["status"].as_str()),
                    ("published", Some("submitted"))
                );
            }
            other => panic!(
                "trial {trial}: re-open and publish answered {other:?}: {} / {}",
                re.text, publish.text
            ),
        }
    }
    assert_eq!(seen.0 + seen.1, TRIALS);
}

#[actix_web::test]
async fn saves_racing_close_either_commit_before_it_or_are_refused() {
    let app = app_with_framework().await;
    let a = app.admin();
    for trial in 0..TRIALS {
        let round = format!("race-cs-{trial}");
        open_new_round(&app, &round).await;
        save(&app, &a, &round, "RA7", answers(&[("R1", json!("some"))]))
            .await
            .assert_ok(200);
        let saves = join_all((0..4).map(|i| {
            let body = answers(&[("R3", json!(i + 1))]);
            let (app, a, round) = (&app, &a, &round);
            async move { save(app, a, round, "RA7", body).await }
        }));
        let (d1, d2) = stagger(trial);
        let (close, saves) = futures_util::join!(
            after(d1, round_move(&app, &round, "close")),
            after(d2, saves)
        );
        close.assert_ok(200);
        let accepted = saves.iter().filter(|s| s.status == 200).count();
        for s in &saves {
            assert!(
                s.status == 200 || s.status == 409,
                "trial {trial}: a save racing close answered {}: {}",
                s.status,
                s.text
            );
        }
        let events = round_audit(&app, &round).await;
        let closed_at = events
            .iter()
            .position(|(action, _)| action == "closed")
            .unwrap();
        let saved_after = events[closed_at..]
            .iter()
            .filter(|(action, _)| action == "save_answers")
            .count();
        assert_eq!(
            saved_after, 0,
            "trial {trial}: saves committed after the close: {events:?}"
        );
        let saved = events
            .iter()
            .filter(|(action, _)| action == "save_answers")
            .count();
        assert_eq!(
            saved,
            1 + accepted,
            "trial {trial}: every accepted save is recorded, no other"
        );
        assert_eq!(
            return_of(&app, &round, "RA7").await["version"],
            json!(1 + accepted)
        );
    }
}

#[actix_web::test]
async fn a_save_racing_submit_is_either_in_the_submitted_return_or_refused() {
    let app = app_with_framework().await;
    let a = app.admin();
    for trial in 0..TRIALS {
        let round = format!("race-ss-{trial}");
        open_new_round(&app, &round).await;
        save(&app, &a, &round, "RA7", full_return())
            .await
            .assert_ok(200);
        let (d1, d2) = stagger(trial);
        let (sub, saved) = futures_util::join!(
            after(d1, submit(&app, &a, &round, "RA7")),
            after(
                d2,
                save(&app, &a, &round, "RA7", answers(&[("R3", json!(1))]))
            )
        );
        let ret = return_of(&app, &round, "RA7").await;
        match (sub.status.as_u16(), saved.status.as_u16()) {
            (200, 200) => assert!(
                version(&saved) < version(&sub),
                "trial {trial}: the save was accepted after the submission"
            ),
            (200, 409) | (412, 200) => {}
            other => panic!(
                "trial {trial}: submit and save answered {other:?}: {} / {}",
                sub.text, saved.text
            ),
        }
        let submitted = sub.status == 200;
        assert_eq!(ret["status"] == "submitted", submitted, "trial {trial}");
        let r3 = ret["answers"]["R3"]["value"].clone();
        assert_eq!(
            r3 == json!(1.0) || r3 == json!(1),
            saved.status == 200,
            "trial {trial}: {r3}"
        );
        if submitted {
            // The stored scores are those of the answers as stored: re-scoring what is there
            // (by re-opening and submitting again) gives the same figures.
            let before = ret["scores"].clone();
            assert!(
                before.is_object(),
                "trial {trial}: a submitted return has scores"
            );
            reopen(&app, &round, "RA7").await.assert_ok(200);
            submit(&app, &a, &round, "RA7").await.assert_ok(200);
            let after = return_of(&app, &round, "RA7").await["scores"].clone();
            assert_eq!(before, after, "trial {trial}");
        }
    }
}

#[actix_web::test]
async fn reopen_racing_submit_in_a_closed_round_gives_a_serial_outcome() {
    let app = app_with_framework().await;
    let a = app.admin();
    for trial in 0..TRIALS {
        let round = format!("race-rs-{trial}");
        open_new_round(&app, &round).await;
        save(&app, &a, &round, "RA7", full_return())
            .await
            .assert_ok(200);
        submit(&app, &a, &round, "RA7").await.assert_ok(200);
        round_move(&app, &round, "close").await.assert_ok(200);
        let (re, sub) =
            futures_util::join!(reopen(&app, &round, "RA7"), submit(&app, &a, &round, "RA7"));
        re.assert_ok(200);
        let ret = return_of(&app, &round, "RA7").await;
        match sub.status.as_u16() {
            // After the re-opening: submitted again, later than the re-opening.
            200 => {
                assert!(version(&re) < version(&sub), "trial {trial}");
                assert_eq!(ret["status"], "submitted", "trial {trial}");
            }
            // Before it (already submitted, read-only) or while it wrote: nothing changed.
            409 | 412 => assert_eq!(ret["status"], "reopened", "trial {trial}"),
            other => panic!("trial {trial}: submit answered {other}: {}", sub.text),
        }
        // Whatever the order, the round can be published only with no re-opened return.
        let publish = round_move(&app, &round, "publish").await;
        assert_eq!(
            publish.status == 200,
            ret["status"] == "submitted",
            "trial {trial}"
        );
    }
}

#[actix_web::test]
async fn the_database_refuses_any_change_to_a_published_rounds_returns_and_scores() {
    use diesel::connection::SimpleConnection;
    let app = app_with_framework().await;
    let a = app.admin();
    open_new_round(&app, "pub").await;
    save(&app, &a, "pub", "RA7", full_return())
        .await
        .assert_ok(200);
    submit(&app, &a, "pub", "RA7").await.assert_ok(200);
    round_move(&app, "pub", "close").await.assert_ok(200);
    round_move(&app, "pub", "publish").await.assert_ok(200);
    let before = return_of(&app, "pub", "RA7").await;
    assert!(before["scores"].is_object());
    let mut conn = app.state.pool.get().unwrap();
    for statement in [
        "UPDATE scores SET score = 0 WHERE round_key = 'pub'",
        "DELETE FROM scores WHERE round_key = 'pub'",
        "UPDATE assessments SET status = 'reopened' WHERE round_key = 'pub'",
        "DELETE FROM assessments WHERE round_key = 'pub'",
    ] {
        let refused = conn.batch_execute(statement).unwrap_err().to_string();
        assert!(
            refused.contains("published results cannot change"),
            "{statement}: {refused}"
        );
    }
    drop(conn);
    assert_eq!(before, return_of(&app, "pub", "RA7").await);
    // Through the API the same change is a 409, not a 500.
    reopen(&app, "pub", "RA7").await.assert_problem(409);
}
