//! Key rotation (SPEC R-OPS-7): `conclave rotate-key` re-wraps every room's data key under a new
//! key pair; killed halfway, the server refuses to start until the command is run again, which
//! finishes the rotation; after it every message opens, with the new key file only. Both stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::{Server, conclave_command, run_conclave, testing_mongodb};
use serde_json::json;
use std::ffi::OsStr;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Rooms in the store: a rotation stopped by a full output pipe is far from done with them.
const ROOMS: usize = 300;

#[tokio::test]
async fn r_ops_7_a_rotation_killed_halfway_finishes_when_run_again() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let mut rooms = Vec::new();
    for n in 0..ROOMS {
        rooms.push(alice.create_room(&format!("room {n}"), "open").await);
    }
    let sealed: Vec<(String, String)> =
        rooms.iter().step_by(50).map(|room| (room.clone(), format!("sealed in {room}"))).collect();
    for (room, body) in &sealed {
        alice.say(room, body).await;
    }
    let (_, data_dir) = server.shut_down().await;
    let key_file = data_dir.path().join("server.key");
    let next = data_dir.path().join("server.key.next");
    let old_key = std::fs::read(&key_file).unwrap();

    let done = rotate_until_killed(data_dir.path()).await;
    assert!((10..ROOMS / 2).contains(&done), "killed halfway, after {done} keys");
    assert!(next.exists(), "the new key pair waits beside the old one");

    let (status, log) = Server::start_failure_in(data_dir.path(), &[]).await;
    assert!(!status.success());
    assert!(log.contains("a key rotation is under way"), "{log}");

    let finished = run_conclave(data_dir.path(), &[OsStr::new("rotate-key")], &[]).await;
    assert!(finished.success, "{}", finished.stderr);
    let report = finished.stdout.lines().last().unwrap().to_owned();
    assert!(report.starts_with("rotated: "), "{report}");
    let already: usize = report.split('(').nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(already >= done, "the second run went on where the first stopped: {report}");
    assert!(!next.exists());
    assert_ne!(std::fs::read(&key_file).unwrap(), old_key, "a new key pair");

    // The old key file opens nothing any more; the new one opens every message.
    let old_copy = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(old_copy.path(), &old_key).unwrap();
    let with_old = [("CONCLAVE_KEY_FILE", old_copy.path().to_str().unwrap())];
    let (status, log) = Server::start_failure_in(data_dir.path(), &with_old).await;
    assert!(!status.success() && log.contains("key"), "{log}");
    let server = Server::start_in(data_dir, &[]).await;
    let alice = server.login("alice").await;
    for (room, body) in &sealed {
        let history = alice.all_items(&format!("/api/rooms/{room}/messages")).await;
        assert_eq!(history.len(), 1);
        assert_eq!(history[0]["body"], body.as_str());
    }
    let later = alice.create_room("after the rotation", "open").await;
    assert_eq!(alice.say(&later, "still sealed").await["body"], "still sealed");
}

/// Starts `rotate-key --report-every 1` on `data_dir` and kills it after ten keys: how many
/// keys it had done. A line per key goes into a pipe of one page that the test stops reading,
/// so the rotation can go at most a page of lines further before it blocks, and is killed there.
async fn rotate_until_killed(data_dir: &std::path::Path) -> usize {
    let args = [OsStr::new("rotate-key"), OsStr::new("--report-every"), OsStr::new("1")];
    let mut child = conclave_command(data_dir, &args, &[]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(4096)).unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut last = String::new();
    for _ in 0..10 {
        last = lines.next_line().await.unwrap().expect("a progress line");
    }
    child.kill().await.unwrap();
    while let Some(line) = lines.next_line().await.unwrap() {
        last = line;
    }
    last.split(' ').next().unwrap().parse().unwrap()
}

/// R-OPS-7 with a server left running. On the embedded store the rotation refuses while a
/// server holds the data folder. On MongoDB nodes share the database, not a folder, so the
/// rotation runs; the node left running then wraps no new data key for the retiring key pair:
/// a room it would make is refused (503 `unavailable`) while the rotation is marked in the
/// database, and after it until the node is restarted with the new key file, while its rooms
/// go on working; a node starting elsewhere meanwhile is refused. After a restart every
/// message opens and new rooms are made again.
#[tokio::test]
async fn r_ops_7_a_server_left_running_wraps_no_key_for_the_old_key_pair() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let before = alice.create_room("before", "open").await;
    alice.say(&before, "sealed before").await;
    if !testing_mongodb() {
        let refused = run_conclave(server.data_dir.path(), &[OsStr::new("rotate-key")], &[]).await;
        assert!(!refused.success && refused.stderr.contains("another Conclave process is using"), "{}", refused.stderr);
        return;
    }
    for n in 0..ROOMS {
        alice.create_room(&format!("room {n}"), "open").await;
    }
    let data_dir = server.data_dir.path().to_owned();
    let done = rotate_until_killed(&data_dir).await;
    assert!((10..ROOMS / 2).contains(&done), "killed halfway, after {done} keys");

    let refused = alice.post("/api/rooms", json!({"name": "during", "join_policy": "open"})).await;
    refused.expect_error(503, "unavailable");
    server.user("bob").await;
    alice.post("/api/dms", json!({"username": "bob"})).await.expect_error(503, "unavailable");
    assert_eq!(alice.say(&before, "its rooms go on").await["body"], "its rooms go on");
    // Another host: the same database, a copy of the key file, no `.next` beside it.
    let elsewhere = tempfile::tempdir().unwrap();
    for file in ["mongodb-database", "server.key"] {
        std::fs::copy(data_dir.join(file), elsewhere.path().join(file)).unwrap();
    }
    let (status, log) = Server::start_failure_in(elsewhere.path(), &[]).await;
    assert!(!status.success() && log.contains("a key rotation is under way (the database says so)"), "{log}");

    let finished = run_conclave(&data_dir, &[OsStr::new("rotate-key")], &[]).await;
    assert!(finished.success, "{}", finished.stderr);
    alice
        .post("/api/rooms", json!({"name": "after, old key", "join_policy": "open"}))
        .await
        .expect_error(503, "unavailable");

    let data = server.stop().await;
    let server = Server::start_in(data, &[]).await;
    let alice = server.login("alice").await;
    let history = alice.all_items(&format!("/api/rooms/{before}/messages")).await;
    let bodies: Vec<&str> = history.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["its rooms go on", "sealed before"]);
    let after = alice.create_room("after the restart", "open").await;
    assert_eq!(alice.say(&after, "sealed for the new pair").await["body"], "sealed for the new pair");
}
