//! Key rotation (SPEC R-OPS-7): `conclave rotate-key` re-wraps every room's data key under a new
//! key pair; killed halfway, the server refuses to start until the command is run again, which
//! finishes the rotation; after it every message opens, with the new key file only. Both stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::{Server, conclave_command, run_conclave};
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

    // A line per key, into a pipe of one page that the test stops reading: the rotation can
    // go at most a page of lines further before it blocks, and is killed there.
    let args = [OsStr::new("rotate-key"), OsStr::new("--report-every"), OsStr::new("1")];
    let mut child = conclave_command(data_dir.path(), &args, &[]).stdout(Stdio::piped()).spawn().unwrap();
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
    let done: usize = last.split(' ').next().unwrap().parse().unwrap();
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
