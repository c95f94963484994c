//! What only the MongoDB backend has: a database server that can go away and come back while
//! Conclave runs. Each test starts a MongoDB-wire server of its own (`scripts/mongodb-wire.sh`,
//! installed by `scripts/test.sh`), whichever store the rest of the suite uses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::Server;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

/// A MongoDB-wire server on `port` (0: a free one) with `storage` as its folder and extra
/// `flags`: its pid and port.
pub(crate) async fn start_wire_server(storage: &Path, port: u16, flags: &[&str]) -> (u32, u16) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/mongodb-wire.sh");
    let output =
        Command::new(script).arg("start").arg(storage).arg(port.to_string()).args(flags).output().await.unwrap();
    assert!(
        output.status.success(),
        "cannot start the MongoDB-wire server (run ./scripts/mongodb-wire.sh install): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (pid, port) = stdout.trim().split_once(' ').unwrap();
    (pid.parse().unwrap(), port.parse().unwrap())
}

/// Stops the server as an orchestrator does (SIGTERM). (secantusd-rs loses its last writes
/// on SIGKILL; a real mongod journals them.)
async fn stop_wire_server(pid: u32) {
    let pid = pid.to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().await.unwrap().success());
    // Wait until it is gone, so that its port and storage are free again.
    while Command::new("kill").args(["-0", &pid]).status().await.unwrap().success() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `/readyz` until it answers `status`; the store reconnects on its own schedule, so
/// there is no event to await.
async fn wait_for_readiness(server: &Server, status: u16) {
    let anon = server.anonymous();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = anon.get("/readyz").await;
        if response.status == status {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "/readyz stayed {} (wanted {status})", response.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// R-OPS-4: `/readyz` follows the store: ready while MongoDB answers, 503 `unavailable` while it
/// is away, ready again when it is back, without restarting Conclave; what was stored before
/// the outage is still there.
#[tokio::test]
async fn r_ops_4_readiness_follows_the_mongodb_server() {
    let storage = tempfile::tempdir().unwrap();
    let (pid, port) = start_wire_server(storage.path(), 0, &[]).await;
    let uri = format!("mongodb://127.0.0.1:{port}/outage?serverSelectionTimeoutMS=1000");
    let server = Server::start_with(&[("CONCLAVE_MONGODB_URI", &uri)]).await;
    let alice = server.user("alice").await;
    let room = alice.create_room("steady", "open").await;
    alice.say(&room, "before").await;
    wait_for_readiness(&server, 200).await;

    stop_wire_server(pid).await;
    let refused = server.anonymous().get("/readyz").await.expect_error(503, "unavailable");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("store"));
    // A user acting meanwhile is told to try again, not that the server broke.
    alice
        .post(&format!("/api/rooms/{room}/messages"), json!({ "body": "during" }))
        .await
        .expect_error(503, "unavailable");

    let (pid, _) = start_wire_server(storage.path(), port, &[]).await;
    wait_for_readiness(&server, 200).await;
    let history = alice.get(&format!("/api/rooms/{room}/messages")).await.expect_status(200).body;
    let bodies: Vec<_> = history["items"].as_array().unwrap().iter().map(|m| m["body"].clone()).collect();
    assert_eq!(bodies, [json!("before")], "the refused message was not stored");
    assert_eq!(alice.say(&room, "after").await["seq"], 2, "no number was used up by the refused send");
    stop_wire_server(pid).await;
}

/// R-OPS-3: a stop is bounded even when MongoDB is gone: SIGTERM ends the process within the
/// configured grace (`CONCLAVE_STOP_GRACE_SECS`), and the log says which buffered writes
/// could not be stored (their count and kind) rather than trying for minutes.
#[tokio::test]
async fn r_ops_3_a_stop_is_bounded_when_mongodb_is_gone() {
    let storage = tempfile::tempdir().unwrap();
    let (pid, port) = start_wire_server(storage.path(), 0, &[]).await;
    let uri = format!("mongodb://127.0.0.1:{port}/stopping");
    // Buffered writes wait (an hour) until the stop stores them.
    let settings = [
        ("CONCLAVE_MONGODB_URI", uri.as_str()),
        ("CONCLAVE_STOP_GRACE_SECS", "2"),
        ("CONCLAVE_WRITE_BEHIND_MS", "3600000"),
    ];
    let mut server = Server::start_with(&settings).await;
    let alice = server.user("alice").await;
    let room = alice.create_room("left behind", "open").await;
    alice.say(&room, "one").await;
    alice.post(&format!("/api/rooms/{room}/read"), json!({"seq": 1})).await.expect_status(204);
    stop_wire_server(pid).await;

    let began = std::time::Instant::now();
    let status = server.terminate().await;
    let took = began.elapsed();
    assert!(status.success(), "{status}");
    // The grace, plus a process's start and end; before, minutes of retries.
    assert!(took < Duration::from_secs(10), "the stop took {took:?}");
    let log = std::fs::read_to_string(server.data_dir.path().join("server.log")).unwrap();
    assert!(log.contains("buffered writes could not be stored before stopping"), "{log}");
    assert!(log.contains("1 room read marker"), "{log}");
}

/// R-OPS-4: a MongoDB server that is not a replica set cannot run Conclave's transactions: the
/// server refuses to start and says why, instead of failing at the first write.
#[tokio::test]
async fn r_ops_4_a_standalone_mongodb_is_refused_at_start() {
    let storage = tempfile::tempdir().unwrap();
    let (pid, port) = start_wire_server(storage.path(), 0, &["--standalone"]).await;
    let uri = format!("mongodb://127.0.0.1:{port}/standalone?directConnection=true");
    let (status, log) = Server::start_failure(&[("CONCLAVE_MONGODB_URI", &uri)]).await;
    assert!(!status.success());
    assert!(log.contains("replica set"), "{log}");
    stop_wire_server(pid).await;
}
