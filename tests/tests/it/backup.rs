//! Backups (SPEC R-OPS-7): `conclave backup DIR` copies the embedded store while it serves, and
//! `conclave restore DIR` brings it back whole, or refuses with a sentence and writes nothing.
//! The embedded store only: test.sh's MongoDB pass skips this module.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::{Ran, Server, run_conclave};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

async fn backup(data_dir: &Path, into: &Path, env: &[(&str, &str)]) -> Ran {
    run_conclave(data_dir, &[OsStr::new("backup"), into.as_os_str()], env).await
}

async fn restore(data_dir: &Path, from: &Path, env: &[(&str, &str)]) -> Ran {
    run_conclave(data_dir, &[OsStr::new("restore"), from.as_os_str()], env).await
}

fn bodies(items: &[Value]) -> Vec<String> {
    let mut messages: Vec<_> =
        items.iter().map(|m| (m["seq"].as_u64().unwrap(), m["body"].as_str().unwrap())).collect();
    messages.sort_unstable();
    let seqs: Vec<u64> = messages.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=u64::try_from(seqs.len()).unwrap()).collect::<Vec<_>>(), "numbers without gaps");
    messages.into_iter().map(|(_, body)| body.to_owned()).collect()
}

/// R-OPS-7: a backup taken while a sender keeps sending is the database at one moment: after
/// a restore into an empty folder, a new server opens every message sealed before it, the
/// messages sent during it are a prefix of those acknowledged, numbered without gaps, and
/// accounts and sessions work as before.
#[tokio::test]
async fn r_ops_7_a_backup_taken_while_serving_restores_whole() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("kept", "open").await;
    let before: Vec<String> = (0..10).map(|n| format!("before-{n}")).collect();
    for body in &before {
        alice.say(&room, body).await;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let sender = tokio::spawn({
        let (alice, room, stop) = (server.login("alice").await, room.clone(), Arc::clone(&stop));
        async move {
            let mut acked = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let body = format!("during-{}", acked.len());
                alice.say(&room, &body).await;
                acked.push(body);
            }
            acked
        }
    });
    let folder = tempfile::tempdir().unwrap();
    let into = folder.path().join("backup");
    let made = backup(server.data_dir.path(), &into, &[]).await;
    stop.store(true, Ordering::SeqCst);
    let during = sender.await.unwrap();
    assert!(made.success, "backup failed: {}", made.stderr);
    assert!(made.stdout.starts_with("backed up 1 users, 1 rooms, "), "{}", made.stdout);
    let manifest: Value = serde_json::from_slice(&std::fs::read(into.join("manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["conclave.db", "server.key"], "the token secret came from the environment");
    drop(server.stop().await);

    let restored_dir = tempfile::tempdir().unwrap();
    let restored = restore(restored_dir.path(), &into, &[]).await;
    assert!(restored.success, "restore failed: {}", restored.stderr);
    assert!(restored.stdout.starts_with("restored 1 users, 1 rooms, "), "{}", restored.stdout);
    let server = Server::start_in(restored_dir, &[]).await;
    // The session from before the backup still works; so does the password.
    let old_session = server.anonymous().with_token(alice.client.token.as_deref().unwrap());
    let history = bodies(&old_session.all_items(&format!("/api/rooms/{room}/messages")).await);
    let fresh = server.login("alice").await;
    assert_eq!(bodies(&fresh.all_items(&format!("/api/rooms/{room}/messages")).await), history);
    assert_eq!(manifest["contents"]["messages"].as_u64().unwrap(), u64::try_from(history.len()).unwrap());
    assert_eq!(history[..before.len()], before[..], "every message from before the backup");
    let kept_during = &history[before.len()..];
    assert_eq!(kept_during, &during[..kept_during.len()], "a prefix of what was acknowledged during it");
    // And the restored server goes on from there.
    let next = fresh.say(&room, "after").await;
    assert_eq!(next["seq"].as_u64().unwrap(), u64::try_from(history.len()).unwrap() + 1);
}

/// R-OPS-7: what backup and restore cannot do safely they refuse, with a sentence and exit
/// status 1, writing nothing: MongoDB (its own tools), a folder with no database, a backup
/// folder in use, a data folder a server is using (nor may a second server or a key rotation
/// run there), a data folder that holds a database, a folder that is not a backup, a damaged
/// file, another key file in the way.
#[tokio::test]
async fn r_ops_7_backup_and_restore_refuse_what_is_unsafe() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("kept", "open").await;
    alice.say(&room, "one").await;
    let data = server.data_dir.path();
    let scratch = tempfile::tempdir().unwrap();
    let at = |name: &str| scratch.path().join(name);
    let refused = |ran: Ran, says: &str| {
        assert!(!ran.success, "expected a refusal saying {says:?}");
        assert!(ran.stderr.contains(says), "expected {says:?} in: {}", ran.stderr);
    };

    refused(backup(data, &at("m"), &[("CONCLAVE_MONGODB_URI", "mongodb://127.0.0.1:9")]).await, "mongodump");
    refused(backup(&at("nothing-here"), &at("n"), &[]).await, "there is no database");
    std::fs::create_dir(at("busy")).unwrap();
    std::fs::write(at("busy").join("notes.txt"), "mine").unwrap();
    refused(backup(data, &at("busy"), &[]).await, "is not empty");
    let good = at("good");
    assert!(backup(data, &good, &[]).await.success);

    // A running server holds its folder: no restore, rotation or second server beside it.
    let in_use = "another Conclave process is using the data folder";
    refused(restore(data, &good, &[]).await, in_use);
    refused(run_conclave(data, &[OsStr::new("rotate-key")], &[]).await, in_use);
    let (status, log) = Server::start_failure_in(data, &[]).await;
    assert!(!status.success() && log.contains(in_use), "{log}");
    refused(restore(&at("empty"), &at("busy"), &[]).await, "holds no Conclave backup");
    // One flipped byte in the database copy.
    let damaged = at("damaged");
    std::fs::create_dir(&damaged).unwrap();
    for file in ["manifest.json", "conclave.db", "server.key"] {
        std::fs::copy(good.join(file), damaged.join(file)).unwrap();
    }
    let mut bytes = std::fs::read(damaged.join("conclave.db")).unwrap();
    bytes[5000] ^= 0x01;
    std::fs::write(damaged.join("conclave.db"), bytes).unwrap();
    refused(restore(&at("empty"), &damaged, &[]).await, "conclave.db does not match the backup's manifest");
    // Another server's key where the restore would put this one.
    let other = Server::start().await;
    let other_key = other.data_dir.path().join("server.key");
    let with_other_key = [("CONCLAVE_KEY_FILE", other_key.to_str().unwrap())];
    refused(restore(&at("empty"), &good, &with_other_key).await, "another key file is already at");
    assert!(!at("empty").join("conclave.db").exists(), "a refused restore writes no database");

    let done = restore(&at("empty"), &good, &[]).await;
    assert!(done.success, "{}", done.stderr);
    assert!(at("empty").join("conclave.db").exists() && at("empty").join("server.key").exists());
    refused(restore(&at("empty"), &good, &[]).await, "already holds a database");
}
