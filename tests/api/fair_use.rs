//! Fair use: per-caller rate limits (token subject; client address without a valid token) and the
//! bound on expensive computations per caller and in all. Limits are set tiny through the
//! environment; expensive work is held deterministically by taking its slot through the state.

use actix_web::test::TestRequest;

use crate::fixtures::two_submitted;
use crate::harness::{Reply, TestApp};
use dma::auth::Role;

fn token_for(app: &TestApp, subject: &str) -> String {
    app.state
        .keys
        .mint(subject, None, Role::Analyst, Vec::new(), 600)
        .expect("token")
}

/// Asserts a 429 or 503 problem document of `kind` with a whole-second `Retry-After`.
#[track_caller]
fn assert_refused(reply: &Reply, status: u16, kind: &str) {
    let body = reply.assert_problem(status);
    assert_eq!(body["type"], kind, "body: {}", reply.text);
    let retry: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(retry >= 1);
}

/// Sends `GET path` until one is refused with 429 (or ten were sent); returns the statuses.
async fn until_refused(app: &TestApp, make: impl Fn() -> TestRequest) -> (Vec<u16>, Reply) {
    let mut seen = Vec::new();
    loop {
        let reply = app.call(make()).await;
        seen.push(reply.status.as_u16());
        if reply.status.as_u16() == 429 || seen.len() == 10 {
            return (seen, reply);
        }
    }
}

#[actix_web::test]
async fn a_token_over_its_rate_gets_429_with_retry_after_and_other_subjects_do_not() {
    let app = TestApp::with_env(&[
        ("DMA_RATE_LIMIT_PER_SECOND", "1"),
        ("DMA_RATE_LIMIT_BURST", "1"),
    ]);
    let a = token_for(&app, "flooder");
    let (seen, last) = until_refused(&app, || {
        TestRequest::get()
            .uri("/api/v1/organisations/RA7")
            .insert_header(("Authorization", format!("Bearer {a}")))
    })
    .await;
    // One request a second with a burst of one: ten in a row cannot all pass.
    assert_eq!(seen[0], 200, "the first is served: {seen:?}");
    assert_refused(&last, 429, "/problems/too-many-requests");
    // Another subject has its own allowance, and liveness is never limited.
    let b = token_for(&app, "bystander");
    app.get("/api/v1/organisations/RA7", Some(&b))
        .await
        .assert_ok(200);
    app.get("/health/live", None).await.assert_ok(200);
}

#[actix_web::test]
async fn callers_without_a_valid_token_are_limited_by_address() {
    let app = TestApp::with_env(&[
        ("DMA_ANON_RATE_LIMIT_PER_SECOND", "1"),
        ("DMA_ANON_RATE_LIMIT_BURST", "1"),
    ]);
    let from = |addr: &str| {
        TestRequest::get()
            .uri("/api/v1/organisations")
            .peer_addr(addr.parse().expect("address"))
    };
    let (seen, last) = until_refused(&app, || from("192.0.2.1:40000")).await;
    assert_eq!(seen[0], 401, "refused for want of a token first: {seen:?}");
    assert_refused(&last, 429, "/problems/too-many-requests");
    // A token that does not verify counts against the address too.
    let forged = from("192.0.2.1:40001").insert_header(("Authorization", "Bearer not.a.token"));
    assert_refused(&app.call(forged).await, 429, "/problems/too-many-requests");
    // Another address is unaffected; so are liveness probes from the limited one.
    app.call(from("192.0.2.2:40000")).await.assert_problem(401);
    let probe = TestRequest::get()
        .uri("/health/live")
        .peer_addr("192.0.2.1:40002".parse().expect("address"));
    app.call(probe).await.assert_ok(200);
    // A valid token counts against its subject, not against the limited address.
    let a = token_for(&app, "someone");
    let with_token =
        from("192.0.2.1:40003").insert_header(("Authorization", format!("Bearer {a}")));
    app.call(with_token).await.assert_ok(200);
}

#[actix_web::test]
async fn a_second_expensive_request_from_the_same_caller_is_429_while_others_proceed() {
    let app = TestApp::with_env(&[("DMA_HEAVY_PER_CALLER", "1"), ("DMA_HEAVY_TOTAL", "2")]);
    two_submitted(&app).await;
    let a = token_for(&app, "analyst-a");
    let b = token_for(&app, "analyst-b");
    // Analyst A's first expensive request is in flight (its slot taken as the handler takes it).
    let held = app.state.heavy.acquire("analyst-a").await.expect("slot");
    // Each divergence path asks for an analysis not yet stored (its own options), so it needs
    // a computation and so a slot.
    for path in [
        "/api/v1/rounds/2026-27/divergence",
        "/api/v1/rounds/2026-27/divergence?format=csv&alpha_fdr=0.06",
        "/api/v1/rounds/2026-27/divergence/RA7?alpha_fdr=0.07",
        "/api/v1/rounds/2026-27/divergence/icbs?alpha_fdr=0.08",
        "/api/v1/rounds/2026-27/scores?format=csv",
        "/api/v1/rounds/2026-27/completion",
    ] {
        let reply = app.get(path, Some(&a)).await;
        assert_refused(&reply, 429, "/problems/too-many-requests");
        // Analyst B is not held up by A, and cheap reads by A go on.
        app.get(path, Some(&b)).await.assert_ok(200);
    }
    app.get("/api/v1/organisations/RA7", Some(&a))
        .await
        .assert_ok(200);
    // An analysis already computed (by B, above) is read without a slot.
    app.get("/api/v1/rounds/2026-27/divergence?format=csv", Some(&a))
        .await
        .assert_ok(200);
    assert_eq!(
        app.state.heavy.running_for("analyst-b"),
        0,
        "B's slots came back"
    );
    drop(held);
    app.get("/api/v1/rounds/2026-27/divergence", Some(&a))
        .await
        .assert_ok(200);
    assert_eq!(app.state.heavy.running_for("analyst-a"), 0);
}

#[actix_web::test]
async fn when_every_expensive_slot_is_taken_others_get_503_and_cheap_reads_go_on() {
    let app = TestApp::with_env(&[("DMA_HEAVY_TOTAL", "1"), ("DMA_HEAVY_WAIT_MS", "0")]);
    two_submitted(&app).await;
    let held = app.state.heavy.acquire("someone-else").await.expect("slot");
    let a = app.analyst();
    let reply = app.get("/api/v1/rounds/2026-27/divergence", Some(&a)).await;
    assert_refused(&reply, 503, "/problems/overloaded");
    // The refused request holds nothing; cheap reads are served meanwhile.
    assert_eq!(app.state.heavy.running_for("test-analyst"), 0);
    app.get("/api/v1/organisations/RA7", Some(&a))
        .await
        .assert_ok(200);
    drop(held);
    app.get("/api/v1/rounds/2026-27/divergence", Some(&a))
        .await
        .assert_ok(200);
}

/// A refusal is held back by `DMA_RATE_LIMIT_DELAY_MS` before it is sent, so that a caller that
/// floods without honouring `Retry-After` waits on its own connections. (A lower bound only: the
/// delay is a sleep, which never ends early.)
#[actix_web::test]
async fn refusals_are_held_back_by_the_configured_delay() {
    let app = TestApp::with_env(&[
        ("DMA_RATE_LIMIT_PER_SECOND", "1"),
        ("DMA_RATE_LIMIT_BURST", "1"),
        ("DMA_RATE_LIMIT_DELAY_MS", "400"),
    ]);
    let a = token_for(&app, "flooder");
    let mut refused = None;
    for _ in 0..10 {
        let started = std::time::Instant::now();
        let reply = app.get("/api/v1/organisations/RA7", Some(&a)).await;
        if reply.status == 429 {
            refused = Some((reply, started.elapsed()));
            break;
        }
    }
    let (reply, took) = refused.expect("one of ten requests at 1/s is refused");
    assert_refused(&reply, 429, "/problems/too-many-requests");
    assert!(
        took >= std::time::Duration::from_millis(400),
        "refused after {took:?}"
    );
}
