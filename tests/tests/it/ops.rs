//! Operations and the contract: health, readiness, the OpenAPI document, restarts (SPEC R-OPS-4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conclave_tests::{JWT_SECRET, Server};
use serde_json::{Value, json};

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

/// R-OPS-4: a restart on the same data folder (on MongoDB: the same database) finds everything
/// again: accounts, rooms and members, history, direct messages, notifications, moderation;
/// tokens stay valid and sequence numbers carry on where they were.
#[tokio::test]
async fn r_ops_4_restart_keeps_everything() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let room = alice.create_room("durable", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    carol.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    alice.post(&format!("/api/rooms/{room}/bans"), json!({ "user_id": carol.id })).await.expect_status(201);
    alice.say(&room, "remember me").await;
    bob.say(&room, "me too").await;
    let dm = alice.post("/api/dms", json!({ "username": "bob" })).await.expect_status(200).body["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    alice.say(&dm, "just us").await;
    let token = alice.token.clone().unwrap();
    let bobs_notifications = bob.get("/api/notifications").await.expect_status(200).body["items"].clone();
    let data = server.stop().await;

    let server = Server::start_in(data, &[]).await;
    let alice = server.anonymous().with_token(&token);
    let messages = alice.get(&format!("/api/rooms/{room}/messages")).await.expect_status(200).body;
    let bodies: Vec<_> = messages["items"].as_array().unwrap().iter().map(|m| m["body"].clone()).collect();
    assert_eq!(bodies, [json!("me too"), json!("remember me")]);
    let mine: Vec<_> = alice.all_items("/api/rooms/mine").await.iter().map(|r| r["room"]["id"].clone()).collect();
    assert!(mine.contains(&json!(room)) && mine.contains(&json!(dm)), "{mine:?}");
    let members: Vec<_> = alice
        .all_items(&format!("/api/rooms/{room}/members"))
        .await
        .iter()
        .map(|m| m["user"]["username"].clone())
        .collect();
    assert_eq!(members, [json!("alice"), json!("bob")]);
    let bans = alice.get(&format!("/api/rooms/{room}/bans")).await.expect_status(200).body;
    assert_eq!(bans["items"][0]["user"]["username"], "carol");
    let bob = server.login("bob").await;
    assert_eq!(
        bob.get(&format!("/api/rooms/{dm}/messages")).await.expect_status(200).body["items"][0]["body"],
        "just us"
    );
    assert_eq!(bob.get("/api/notifications").await.expect_status(200).body["items"], bobs_notifications);
    let next = alice.with_token(&token).say(&room, "after the restart").await;
    assert_eq!(next["seq"], 3, "sequence numbers carry on");
    server.login("carol").await;
}

/// R-OPS-4: a MongoDB URI that does not parse, or a MongoDB server that does not answer, stops
/// the server at start with a readable reason instead of serving requests it cannot keep.
#[tokio::test]
async fn r_ops_4_an_unusable_mongodb_setting_stops_the_start() {
    let (status, log) = Server::start_failure(&[("CONCLAVE_MONGODB_URI", "not-a-uri")]).await;
    assert!(!status.success());
    assert!(log.contains("cannot open the store"), "{log}");

    let (status, log) = Server::start_failure(&[(
        "CONCLAVE_MONGODB_URI",
        "mongodb://127.0.0.1:1/conclave?serverSelectionTimeoutMS=300",
    )])
    .await;
    assert!(!status.success());
    assert!(log.contains("cannot open the store"), "{log}");

    // R-MSG-6: an attachment limit MongoDB cannot keep is refused before anything is stored.
    let (status, log) = Server::start_failure(&[
        ("CONCLAVE_MONGODB_URI", "mongodb://127.0.0.1:1/conclave?serverSelectionTimeoutMS=300"),
        ("CONCLAVE_MAX_ATTACHMENT_BYTES", "20000000"),
    ])
    .await;
    assert!(!status.success());
    assert!(log.contains("CONCLAVE_MAX_ATTACHMENT_BYTES is 20000000") && log.contains("16 MiB"), "{log}");
}

/// R-OPS-4: `CONCLAVE_WORKERS` sets the worker threads. One is enough for REST and the gateway
/// together (a message sent over one reaches a socket on the same thread); zero, or a count
/// that is not a number, stops the start and names the setting.
#[tokio::test]
async fn r_ops_4_the_worker_count_is_a_setting() {
    let server = Server::start_with(&[("CONCLAVE_WORKERS", "1")]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("one-thread", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let (mut socket, _) = server.connect(&bob).await;
    alice.say(&room, "on one worker").await;
    assert_eq!(socket.next_of("message_created").await["message"]["body"], "on one worker");

    for bad in ["0", "two"] {
        let (status, log) = Server::start_failure(&[("CONCLAVE_WORKERS", bad)]).await;
        assert!(!status.success(), "CONCLAVE_WORKERS={bad} was accepted");
        assert!(log.contains("--workers"), "the setting is named: {log}");
    }
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
