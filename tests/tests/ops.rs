//! Operations and the contract: health, readiness, the OpenAPI document, restarts (SPEC R-OPS-4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conclave_tests::{JWT_SECRET, Server};
use serde_json::Value;

/// R-OPS-4: /healthz and /readyz answer for orchestration.
#[tokio::test]
async fn r_ops_4_health_and_readiness() {
    let server = Server::start().await;
    let anon = server.anonymous();
    assert_eq!(anon.get("/healthz").await.expect_status(200).body["status"], "ok");
    let ready = anon.get("/readyz").await.expect_status(200).body;
    assert_eq!((ready["status"].as_str(), ready["store"].as_str()), (Some("ready"), Some("ok")));
}

/// The served OpenAPI document is the one checked in under api-spec/, and the viewer is there.
#[tokio::test]
async fn openapi_document_is_served_and_checked_in() {
    let server = Server::start().await;
    let anon = server.anonymous();
    let served = anon.get("/api/openapi.json").await.expect_status(200).body;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../api-spec/openapi.json");
    let checked_in: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(served, checked_in, "run `cargo run -p conclave-server -- openapi > api-spec/openapi.json`");
    assert!(served["paths"]["/api/rooms/{room_id}/messages"]["post"].is_object());
    let viewer = anon.get("/api/docs/").await.expect_status(200);
    assert!(viewer.body.as_str().unwrap().contains("swagger-ui"));
    let redirect = anon.get("/api/docs").await;
    assert_eq!(redirect.status, 200, "the redirect lands on the viewer");
}

/// R-OPS-4: a restart on the same data folder finds everything again; tokens stay valid.
#[tokio::test]
async fn r_ops_4_restart_keeps_everything() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("durable", "open").await;
    alice.say(&room, "remember me").await;
    let token = alice.token.clone().unwrap();
    let data = server.stop().await;

    let server = Server::start_in(data, &[]).await;
    let client = server.anonymous().with_token(&token);
    let messages = client.get(&format!("/api/rooms/{room}/messages")).await.expect_status(200).body;
    assert_eq!(messages["items"][0]["body"], "remember me");
    server.login("alice").await;
}

/// R-OPS-4: without a configured secret, one is generated in the data folder (0600) and reused.
#[tokio::test]
async fn r_ops_4_generated_jwt_secret_survives_restarts() {
    let server = Server::start_with(&[("CONCLAVE_JWT_SECRET", "")]).await;
    let alice = server.user("alice").await;
    let token = alice.token.clone().unwrap();
    let secret_file = server.data_dir.path().join("jwt.secret");
    let secret = std::fs::read(&secret_file).unwrap();
    assert!(secret.len() >= 32 && secret != JWT_SECRET.as_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let data = server.stop().await;
    let server = Server::start_in(data, &[("CONCLAVE_JWT_SECRET", "")]).await;
    server.anonymous().with_token(&token).get("/api/users/me").await.expect_status(200);
}
