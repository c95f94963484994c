//! Background jobs (SPEC R-OPS-2), on a server whose retention is zero days and whose cleanup
//! runs every second: what has ended goes, what the rules keep stays.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::{Server, eventually};
use serde_json::json;
use std::time::Duration;

/// R-OPS-2: a terminated room, previous-room entries and read notifications are deleted; the
/// ban record stays (the banned user still cannot join), unread notifications stay, live rooms
/// and sessions are untouched; each run is logged with its counts.
#[tokio::test]
async fn r_ops_2_cleanup_deletes_exactly_what_has_expired() {
    let server = Server::start_with(&[
        ("CONCLAVE_RETENTION_DAYS", "0"),
        ("CONCLAVE_CLEANUP_INTERVAL_SECS", "1"),
        ("CONCLAVE_LOG", "conclave_server=info,warn"),
    ])
    .await;
    let (alice, bob, carol) = (server.user("alice").await, server.user("bob").await, server.user("carol").await);
    let ended = alice.create_room("ended", "open").await;
    bob.post_empty(&format!("/api/rooms/{ended}/join")).await.expect_status(200);
    bob.say(&ended, "last words").await;
    alice.delete(&format!("/api/rooms/{ended}")).await.expect_status(204);
    let club = alice.create_room("club", "open").await;
    carol.post_empty(&format!("/api/rooms/{club}/join")).await.expect_status(200);
    alice.post(&format!("/api/rooms/{club}/bans"), json!({"user_id": carol.id})).await.expect_status(201);
    carol.post_empty("/api/notifications/read-all").await.expect_status(200);

    eventually(Duration::from_secs(20), "the terminated room and the room logs are cleaned up", || async {
        let bobs = bob.get("/api/rooms/history").await.body;
        let carols = carol.get("/api/rooms/history").await.body;
        bobs["items"].as_array().is_some_and(Vec::is_empty) && carols["items"].as_array().is_some_and(Vec::is_empty)
    })
    .await;
    eventually(Duration::from_secs(20), "read notifications are cleaned up", || async {
        carol.get("/api/notifications").await.body["items"].as_array().is_some_and(Vec::is_empty)
    })
    .await;

    // The ban outlives its room-log entry.
    carol.post_empty(&format!("/api/rooms/{club}/join")).await.expect_error(403, "banned");
    // Unread notifications stay (bob was told the room ended and has not read it).
    assert_eq!(bob.notification_kinds().await, ["room_terminated"]);
    // The live room and its history stay; sessions still refresh.
    alice.say(&club, "still open").await;
    alice.get(&format!("/api/rooms/{club}/messages")).await.expect_status(200);
    server
        .anonymous()
        .post("/api/auth/refresh", json!({"refresh_token": alice.refresh_token}))
        .await
        .expect_status(200);
    let log = std::fs::read_to_string(server.data_dir.path().join("server.log")).unwrap();
    assert!(log.contains("cleanup finished"), "each run is logged: {log}");
    assert!(log.contains("rooms=1"), "with what it deleted: {log}");
}
