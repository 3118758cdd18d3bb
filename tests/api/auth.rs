//! Authentication: the token endpoint, API clients, and the refusal of every bad token.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::harness::{SECRET, TestApp};

async fn create_client(app: &TestApp, body: serde_json::Value) -> (String, String) {
    let r = app
        .send(
            Method::POST,
            "/api/v1/clients",
            Some(&app.admin()),
            Some(body),
        )
        .await;
    let b = r.assert_ok(201);
    (
        b["client_id"].as_str().unwrap().to_owned(),
        b["client_secret"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn a_client_exchanges_its_secret_for_a_token() {
    let app = TestApp::new();
    let (id, secret) = create_client(
        &app,
        json!({"name": "Leeds EPR", "role": "submitter", "organisations": ["RR8"]}),
    )
    .await;

    let json_req = TestRequest::post()
        .uri("/api/v1/auth/token")
        .set_json(json!({"client_id": id, "client_secret": secret}));
    let r = app.call(json_req).await;
    let body = r.assert_ok(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let principal = app
        .state
        .keys
        .verify(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(principal.orgs, vec!["RR8".to_string()]);

    let form = TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(format!(
            "grant_type=client_credentials&client_id={id}&client_secret={secret}"
        ));
    app.call(form).await.assert_ok(200);

    let wrong = TestRequest::post()
        .uri("/api/v1/auth/token")
        .set_json(json!({"client_id": id, "client_secret": "guess"}));
    app.call(wrong).await.assert_problem(401);
    let unknown = TestRequest::post()
        .uri("/api/v1/auth/token")
        .set_json(json!({"client_id": "nobody", "client_secret": "x"}));
    app.call(unknown).await.assert_problem(401);
    let grant = TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload("grant_type=password&username=a&password=b");
    app.call(grant).await.assert_problem(400);
    let malformed = TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "application/json"))
        .set_payload("{not json");
    app.call(malformed).await.assert_problem(400);
}

#[actix_web::test]
async fn secrets_are_stored_only_as_hashes_and_revoked_clients_get_no_tokens() {
    let app = TestApp::new();
    let (id, secret) = create_client(
        &app,
        json!({"name": "National analytics", "role": "analyst"}),
    )
    .await;
    let mut conn = app.state.pool.get().unwrap();
    let row = dma::db::clients::find(&mut conn, &id).unwrap().unwrap();
    assert!(row.secret_hash.starts_with("$argon2"));
    assert!(!row.secret_hash.contains(&secret));

    let listed = app.get("/api/v1/clients", Some(&app.admin())).await;
    assert!(!listed.text.contains(&secret));
    assert!(!listed.text.contains("argon2"));

    let revoked = app
        .send(
            Method::POST,
            &format!("/api/v1/clients/{id}/revoke"),
            Some(&app.admin()),
            None,
        )
        .await;
    assert!(revoked.assert_ok(200)["revoked_at"].is_string());
    let req = TestRequest::post()
        .uri("/api/v1/auth/token")
        .set_json(json!({"client_id": id, "client_secret": secret}));
    app.call(req).await.assert_problem(401);
}

#[actix_web::test]
async fn a_revoked_clients_tokens_are_refused_at_once_and_after_a_restart() {
    let app = TestApp::new();
    let (id, secret) = create_client(&app, json!({"name": "Supplier", "role": "analyst"})).await;
    let (other, other_secret) =
        create_client(&app, json!({"name": "Other", "role": "analyst"})).await;
    let token_of = |id: String, secret: String| {
        let app = &app;
        async move {
            let req = TestRequest::post()
                .uri("/api/v1/auth/token")
                .set_json(json!({"client_id": id, "client_secret": secret}));
            app.call(req).await.assert_ok(200)["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (token, other_token) = (
        token_of(id.clone(), secret).await,
        token_of(other, other_secret).await,
    );
    let path = "/api/v1/organisations/RA7";
    app.get(path, Some(&token)).await.assert_ok(200);
    app.send(
        Method::POST,
        &format!("/api/v1/clients/{id}/revoke"),
        Some(&app.admin()),
        None,
    )
    .await
    .assert_ok(200);
    let refused = app.get(path, Some(&token)).await;
    refused.assert_problem(401);
    assert!(refused.json["detail"].as_str().unwrap().contains("revoked"));
    app.get(path, Some(&other_token)).await.assert_ok(200);

    // A new process on the same database (a restart) refuses it too.
    let restarted = dma::state::AppState::init(app.state.config.clone()).unwrap();
    assert!(restarted.revoked.contains(&id));
    assert!(
        restarted.keys.verify(&token).is_ok(),
        "the token itself is still well signed"
    );
}

#[actix_web::test]
async fn tokens_issued_in_the_future_are_refused_and_the_scheme_is_case_insensitive() {
    let app = TestApp::new();
    let path = "/api/v1/organisations/RA7";
    let now = chrono::Utc::now().timestamp();
    let mut future = claims("dma", "dma-api", 3600, 0);
    future["iat"] = json!(now + 600);
    app.get(path, Some(&hs256(SECRET, &future)))
        .await
        .assert_problem(401);
    let mut skewed = claims("dma", "dma-api", 3600, 0);
    skewed["iat"] = json!(now + 10);
    app.get(path, Some(&hs256(SECRET, &skewed)))
        .await
        .assert_ok(200);

    let token = app.analyst();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let req = TestRequest::get()
            .uri(path)
            .insert_header(("Authorization", format!("{scheme} {token}")));
        app.call(req).await.assert_ok(200);
    }
    for header in [
        format!("Basic {token}"),
        format!("Bearer{token}"),
        "Bearer ".to_owned(),
    ] {
        let req = TestRequest::get()
            .uri(path)
            .insert_header(("Authorization", header));
        app.call(req).await.assert_problem(401);
    }
}

#[actix_web::test]
async fn clients_are_validated_and_admin_only() {
    let app = TestApp::new();
    let a = app.admin();
    let bad = [
        json!({"name": "x", "role": "submitter", "organisations": []}),
        json!({"name": "x", "role": "submitter", "organisations": ["NOPE9"]}),
        json!({"name": "x", "role": "analyst", "organisations": ["RA7"]}),
        json!({"name": "", "role": "analyst"}),
    ];
    for body in bad {
        app.send(Method::POST, "/api/v1/clients", Some(&a), Some(body))
            .await
            .assert_problem(422);
    }
    app.send(
        Method::POST,
        "/api/v1/clients",
        Some(&a),
        Some(json!({"name": "x", "role": "root"})),
    )
    .await
    .assert_problem(422);
    let analyst = app.analyst();
    app.send(
        Method::POST,
        "/api/v1/clients",
        Some(&analyst),
        Some(json!({"name": "x", "role": "admin"})),
    )
    .await
    .assert_problem(403);
    app.get("/api/v1/clients", Some(&analyst))
        .await
        .assert_problem(403);
    app.send(Method::POST, "/api/v1/clients/nope/revoke", Some(&a), None)
        .await
        .assert_problem(404);
    assert_eq!(
        app.get("/api/v1/clients", Some(&a))
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

fn claims(iss: &str, aud: &str, exp_offset: i64, nbf_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": "someone", "role": "analyst", "orgs": [], "iat": now, "nbf": now + nbf_offset,
           "exp": now + exp_offset, "iss": iss, "aud": aud})
}

fn hs256(secret: &str, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[actix_web::test]
async fn bad_service_tokens_are_refused() {
    let app = TestApp::new();
    let path = "/api/v1/organisations/RA7";
    let good = hs256(SECRET, &claims("dma", "dma-api", 300, 0));
    app.get(path, Some(&good)).await.assert_ok(200);
    let refused = [
        hs256(SECRET, &claims("dma", "dma-api", -300, 0)),
        hs256(SECRET, &claims("dma", "dma-api", 900, 600)),
        hs256(SECRET, &claims("dma", "someone-else", 300, 0)),
        hs256(SECRET, &claims("evil", "dma-api", 300, 0)),
        hs256(
            "another-secret-that-is-long-enough-to-use",
            &claims("dma", "dma-api", 300, 0),
        ),
        format!(
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
            good.split('.').nth(1).unwrap()
        ),
        format!("{}x", good),
        "garbage".to_owned(),
    ];
    for t in refused {
        let r = app.get(path, Some(&t)).await;
        r.assert_problem(401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
}

#[actix_web::test]
async fn external_rs256_tokens_are_accepted_only_when_right() {
    let public = include_str!("../fixtures/test-rsa-public.pem");
    let private = include_bytes!("../fixtures/test-rsa-private.pem");
    let other = include_bytes!("../fixtures/other-rsa-private.pem");
    let app = TestApp::with_env(&[
        ("DMA_JWT_PUBLIC_KEY", public),
        ("DMA_JWT_ISSUER", "https://auth.nhs.example"),
        ("DMA_JWT_AUDIENCE", "dma"),
    ]);
    let rs = |key: &[u8], c: &serde_json::Value| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            c,
            &EncodingKey::from_rsa_pem(key).unwrap(),
        )
        .unwrap()
    };
    let path = "/api/v1/organisations/RA7";
    let ok = rs(private, &claims("https://auth.nhs.example", "dma", 300, 0));
    app.get(path, Some(&ok)).await.assert_ok(200);
    // Identity providers often send `aud` as a list and may leave out iat and nbf.
    let now = chrono::Utc::now().timestamp();
    let listed = json!({"sub": "someone", "role": "analyst", "exp": now + 300,
                        "iss": "https://auth.nhs.example", "aud": ["account", "dma"]});
    app.get(path, Some(&rs(private, &listed)))
        .await
        .assert_ok(200);
    let elsewhere = json!({"sub": "someone", "role": "analyst", "exp": now + 300,
                           "iss": "https://auth.nhs.example", "aud": ["account", "other-api"]});
    app.get(path, Some(&rs(private, &elsewhere)))
        .await
        .assert_problem(401);
    let refused = [
        rs(other, &claims("https://auth.nhs.example", "dma", 300, 0)),
        rs(
            private,
            &claims("https://auth.nhs.example", "other-api", 300, 0),
        ),
        rs(private, &claims("https://evil.example", "dma", 300, 0)),
        rs(private, &claims("https://auth.nhs.example", "dma", -300, 0)),
        // HS/RS confusion: an HS256 token keyed with the public key's PEM.
        hs256(public, &claims("https://auth.nhs.example", "dma", 300, 0)),
    ];
    for t in refused {
        app.get(path, Some(&t)).await.assert_problem(401);
    }
}

#[actix_web::test]
async fn a_valid_token_without_the_role_gets_403() {
    let app = TestApp::new();
    let t = app.submitter(&["RA7"]);
    app.get("/api/v1/clients", Some(&t))
        .await
        .assert_problem(403);
}
