//! Buffered writes (SPEC R-OPS-3): declining a request, marking notifications and rooms read,
//! and last-seen times are stored in batches, seen at once by their author, and never lost on a
//! graceful stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::Server;
use conclave_tests::storage::notification_is_read;
use serde_json::json;

/// R-OPS-3: with a flush interval of an hour, the writes are still in the buffer when SIGTERM
/// comes; the server stores them before it exits, and a restart finds every one.
#[tokio::test]
async fn r_ops_3_buffered_writes_survive_a_graceful_stop() {
    let server =
        Server::start_with(&[("CONCLAVE_WRITE_BEHIND_MS", "3600000"), ("CONCLAVE_WRITE_BEHIND_BATCH", "100000")]).await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let club = alice.create_room("club", "request").await;
    bob.post_empty(&format!("/api/rooms/{club}/join")).await.expect_status(202);
    let secret = alice.create_room("secret", "invite").await;
    alice.post(&format!("/api/rooms/{secret}/invites"), json!({"username": "bob"})).await.expect_status(201);
    let chat = alice.create_room("chat", "open").await;
    bob.post_empty(&format!("/api/rooms/{chat}/join")).await.expect_status(200);
    for text in ["one", "two", "three"] {
        alice.say(&chat, text).await;
    }
    let notes = bob.get("/api/notifications").await.expect_status(200).body;
    let invited = notes["items"][0]["id"].as_str().unwrap().to_owned();

    alice
        .post_empty(&format!("/api/rooms/{club}/requests/{}/decline", alice.id))
        .await
        .expect_error(404, "request_not_found");
    alice.post_empty(&format!("/api/rooms/{club}/requests/{}/decline", bob.id)).await.expect_status(204);
    bob.post_empty(&format!("/api/notifications/{invited}/read")).await.expect_status(204);
    bob.post(&format!("/api/rooms/{chat}/read"), json!({"seq": 3})).await.expect_status(204);
    bob.post_empty("/api/notifications/no-such-id/read").await.expect_error(404, "notification_not_found");

    assert!(!notification_is_read(server.data_dir.path(), &invited).await, "still in the buffer");
    let (status, data_dir) = server.shut_down().await;
    assert!(status.success(), "a graceful stop: {status}");
    assert!(notification_is_read(data_dir.path(), &invited).await, "stored on the way out");

    let server = Server::start_in(data_dir, &[]).await;
    let (alice, bob) = (server.login("alice").await, server.login("bob").await);
    let requests = alice.get(&format!("/api/rooms/{club}/requests")).await.expect_status(200).body;
    assert_eq!(requests["items"], json!([]), "the decline was stored");
    let mine = bob.get("/api/rooms/mine").await.expect_status(200).body;
    let chat_entry = mine["items"].as_array().unwrap().iter().find(|r| r["room"]["id"] == chat.as_str()).unwrap();
    assert_eq!(chat_entry["unread_count"], 0, "the read marker was stored");
    let notes = bob.get("/api/notifications").await.expect_status(200).body;
    let stored = notes["items"].as_array().unwrap().iter().find(|n| n["id"] == invited.as_str()).unwrap();
    assert_eq!(stored["read"], true);
}

/// R-OPS-3: a buffered write is visible to its author's next read at once, whatever the flush
/// interval; last-seen is recorded when the last connection closes.
#[tokio::test]
async fn r_ops_3_buffered_writes_read_back_at_once() {
    let server = Server::start_with(&[("CONCLAVE_WRITE_BEHIND_MS", "3600000")]).await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let secret = alice.create_room("secret", "invite").await;
    alice.post(&format!("/api/rooms/{secret}/invites"), json!({"username": "bob"})).await.expect_status(201);
    assert_eq!(bob.post_empty("/api/notifications/read-all").await.expect_status(200).body["marked"], 1);
    let notes = bob.get("/api/notifications?unread_only=true").await.expect_status(200).body;
    assert_eq!(notes["items"], json!([]), "read at once for its author");

    let profile = alice.get("/api/users/bob").await.expect_status(200).body;
    assert!(profile["user"]["last_seen_at"].is_null(), "never connected yet");
    let (socket, _) = server.connect(&bob).await;
    socket.close().await;
    conclave_tests::eventually(std::time::Duration::from_secs(10), "bob's last-seen time", || async {
        let profile = alice.get("/api/users/bob").await.body;
        profile["user"]["online"] == false && profile["user"]["last_seen_at"].is_string()
    })
    .await;
}
