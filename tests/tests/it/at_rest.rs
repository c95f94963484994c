//! Encryption at rest (SPEC R-SEC-2), seen from outside: what the server leaves in its data
//! folder and database, what happens when someone changes it, and the key file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::storage::{contains, stored_bytes, tamper_with_message_body};
use conclave_tests::{PASSWORD, Server};
use serde_json::json;

/// R-SEC-2: after messages sent over REST and the gateway, edited, deleted and in a direct
/// room, nothing in the data folder or the database shows their text or a password.
#[tokio::test]
async fn r_sec_2_storage_shows_no_message_text_and_no_password() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("lighthouse", "open").await;
    alice.say(&room, "the eagle lands at midnight").await;
    let draft = alice.say(&room, "first draft mentioning zanzibar").await;
    alice
        .patch(&format!("/api/rooms/{room}/messages/{}", draft["id"].as_str().unwrap()), json!({"body": "edited"}))
        .await
        .expect_status(200);
    let regret = alice.say(&room, "regrettable remark about marmalade").await;
    alice.delete(&format!("/api/rooms/{room}/messages/{}", regret["id"].as_str().unwrap())).await.expect_status(204);
    let dm = alice.post("/api/dms", json!({"username": "bob"})).await.body["room"]["id"].as_str().unwrap().to_owned();
    let (mut socket, _) = server.connect(&bob).await;
    socket
        .send(
            json!({"type": "send_message", "room_id": dm, "body": "private rendezvous at quayside", "client_id": "c1"}),
        )
        .await;
    socket.next_of("ack").await;

    let data_dir = server.stop().await;
    let stored = stored_bytes(data_dir.path()).await;
    assert!(contains(&stored, "lighthouse"), "room names are stored as they are: the dump is real");
    for secret in ["eagle lands", "zanzibar", "marmalade", "rendezvous", PASSWORD] {
        assert!(!contains(&stored, secret), "{secret:?} is readable in the stored data");
    }
    // The server started again on the same data reads everything back.
    let server = Server::start_in(data_dir, &[]).await;
    let alice = server.login("alice").await;
    let history = alice.get(&format!("/api/rooms/{room}/messages")).await.expect_status(200).body;
    let bodies: Vec<&str> = history["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["", "edited", "the eagle lands at midnight"]);
}

/// R-SEC-2: a byte changed in a stored message is reported (500 `data_corrupted`), never
/// shown as text; the messages around it still load.
#[tokio::test]
async fn r_sec_2_a_changed_ciphertext_byte_is_an_error_not_text() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("ledger", "open").await;
    alice.say(&room, "balance: 10 coins").await;
    let target = alice.say(&room, "pay bob 5 coins").await;
    let target_id = target["id"].as_str().unwrap().to_owned();

    let data_dir = server.stop().await;
    tamper_with_message_body(data_dir.path(), &target_id).await;
    let server = Server::start_in(data_dir, &[]).await;
    let alice = server.login("alice").await;
    let page = alice.get(&format!("/api/rooms/{room}/messages")).await.expect_error(500, "data_corrupted");
    assert!(!page.body.to_string().contains("coins"), "no text of the damaged page is shown");
    let before = alice.get(&format!("/api/rooms/{room}/messages?before=2")).await.expect_status(200).body;
    assert_eq!(before["items"][0]["body"], "balance: 10 coins");
    // The room goes on: a new message is stored and read as usual.
    alice.say(&room, "recorded again").await;
    let after = alice.get(&format!("/api/rooms/{room}/messages?after=2")).await.expect_status(200).body;
    assert_eq!(after["items"][0]["body"], "recorded again");
}

/// R-SEC-2: the key file is created on first start (mode 0600) in the data folder or where
/// `CONCLAVE_KEY_FILE` says; a server given another key file than its database's refuses to
/// start, with the reason, rather than serve unreadable history.
#[tokio::test]
async fn r_sec_2_the_key_file_is_private_and_must_match_the_database() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("vault", "open").await;
    alice.say(&room, "kept safe").await;
    let data_dir = server.stop().await;
    let key_file = data_dir.path().join("server.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "only the server's user may read its key");
    }

    let elsewhere = tempfile::tempdir().unwrap();
    let other_key = elsewhere.path().join("other.key");
    let other_key = other_key.to_str().unwrap();
    let (status, log) = Server::start_failure_in(data_dir.path(), &[("CONCLAVE_KEY_FILE", other_key)]).await;
    assert!(!status.success());
    assert!(log.contains("server key does not match this database"), "the reason is given: {log}");
    assert!(std::path::Path::new(other_key).exists(), "CONCLAVE_KEY_FILE names where a new key is created");

    // With its own key file the server starts and reads its history.
    let server = Server::start_in(data_dir, &[]).await;
    let alice = server.login("alice").await;
    let history = alice.get(&format!("/api/rooms/{room}/messages")).await.expect_status(200).body;
    assert_eq!(history["items"][0]["body"], "kept safe");
}
