//! Peer groups through the API: admin-maintained lists of organisations of one type, and their
//! use as the divergence reference (with the fallback below `min_ref_n`).

use actix_web::http::Method;
use serde_json::json;

use crate::divergence::{example, rel, row};

#[actix_web::test]
async fn peer_groups_are_admin_maintained_and_usable_as_the_reference() {
    let app = example().await;
    let a = app.admin();
    let body = json!({"key": "northern", "title": "Northern acute trusts", "members": ["R0A", "R0B", "R0D"]});
    app.send(
        Method::POST,
        "/api/v1/peer-groups",
        Some(&app.analyst()),
        Some(body.clone()),
    )
    .await
    .assert_problem(403);
    app.send(
        Method::POST,
        "/api/v1/peer-groups",
        Some(&a),
        Some(body.clone()),
    )
    .await
    .assert_ok(201);
    app.send(Method::POST, "/api/v1/peer-groups", Some(&a), Some(body))
        .await
        .assert_problem(409);
    let mixed = json!({"key": "mixed", "title": "Mixed", "members": ["R0A", "RNK"]});
    app.send(Method::POST, "/api/v1/peer-groups", Some(&a), Some(mixed))
        .await
        .assert_problem(422);
    let unknown = json!({"key": "ghosts", "title": "Ghosts", "members": ["ZZZ99"]});
    app.send(Method::POST, "/api/v1/peer-groups", Some(&a), Some(unknown))
        .await
        .assert_problem(422);
    let got = app
        .get("/api/v1/peer-groups/northern", Some(&app.analyst()))
        .await;
    assert_eq!(got.assert_ok(200)["org_type"], "acute");

    // Three members is below min_ref_n 5: the reference falls back to type-national.
    let r = app
        .get(
            "/api/v1/rounds/2025/divergence?reference=peer_group:northern&pillar=smart_foundations",
            Some(&app.analyst()),
        )
        .await;
    let a_row = row(r.assert_ok(200), "R0A", "smart_foundations");
    assert_eq!(a_row["reference"]["kind"], "type_national");
    assert!(
        a_row["level"]["statuses"]
            .to_string()
            .contains("REFERENCE_FALLBACK")
            || a_row["statuses"].to_string().contains("REFERENCE_FALLBACK")
    );
    app.get(
        "/api/v1/rounds/2025/divergence?reference=peer_group:nope",
        Some(&app.analyst()),
    )
    .await
    .assert_problem(422);

    let five =
        json!({"title": "Five acute trusts", "members": ["R0A", "R0B", "R0D", "R1F", "R1H"]});
    app.send(
        Method::PUT,
        "/api/v1/peer-groups/northern",
        Some(&a),
        Some(five),
    )
    .await
    .assert_ok(200);
    let r = app
        .get(
            "/api/v1/rounds/2025/divergence?reference=peer_group:northern&pillar=smart_foundations",
            Some(&app.analyst()),
        )
        .await;
    let a_row = row(r.assert_ok(200), "R0A", "smart_foundations");
    assert_eq!(a_row["reference"]["kind"], "peer_group");
    assert_eq!(a_row["reference"]["n"], 5);
    rel(&a_row["reference"]["median"], "3.3");
    app.send(
        Method::DELETE,
        "/api/v1/peer-groups/northern",
        Some(&a),
        None,
    )
    .await
    .assert_ok(204);
    app.get("/api/v1/peer-groups/northern", Some(&a))
        .await
        .assert_problem(404);
}
