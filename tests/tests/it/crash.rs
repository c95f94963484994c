//! Crashes (SPEC R-OPS-3, R-OPS-4, R-WS-3): a server killed with SIGKILL in the middle of
//! traffic loses nothing it acknowledged, on either store. Buffered writes (R-OPS-3: read
//! markers, declined requests, last-seen times) are the only writes a kill may lose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::{Server, Socket, User};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

/// How many messages each sender tries; the server is killed long before they are all sent.
const EACH: usize = 400;
/// Acknowledgements after which the server is killed.
const KILL_AFTER: usize = 120;

/// Counts acknowledgements across the senders and wakes the killer at `KILL_AFTER`.
#[derive(Default)]
struct Acks {
    count: AtomicUsize,
    enough: Notify,
}

impl Acks {
    fn one(&self) {
        if self.count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
            self.enough.notify_one();
        }
    }
}

/// Sends over the gateway, one message after the other's ack, until the connection is gone:
/// the bodies acknowledged, and the highest message number seen.
async fn gateway_sender(mut socket: Socket, room: String, name: &'static str, acks: Arc<Acks>) -> (Vec<String>, u64) {
    let (mut acked, mut seen) = (Vec::new(), 0);
    'sending: for n in 0..EACH {
        let (id, body) = message(name, n);
        if !socket.try_send(json!({"type": "send_message", "room_id": room, "body": body, "client_id": id})).await {
            break;
        }
        loop {
            match socket.next_or_close().await {
                Ok(frame) if frame["type"] == "ack" && frame["client_id"] == id.as_str() => break,
                Ok(frame) if frame["type"] == "message_created" => {
                    seen = seen.max(frame["message"]["seq"].as_u64().unwrap());
                }
                Ok(frame) if frame["type"] == "error" => panic!("{frame}"),
                Ok(_) => {}
                Err(_) => break 'sending,
            }
        }
        acked.push(body);
        acks.one();
    }
    (acked, seen)
}

/// The client id and body of `name`'s `n`th message: each @mentions erin (R-MSG-10).
fn message(name: &str, n: usize) -> (String, String) {
    let id = format!("{name}-{n}");
    let body = format!("{id} for @erin");
    (id, body)
}

/// Sends over REST, one after the other, until the server is gone: the bodies acknowledged.
async fn rest_sender(user: User, room: String, name: &'static str, acks: Arc<Acks>) -> Vec<String> {
    let mut acked = Vec::new();
    for n in 0..EACH {
        let (id, body) = message(name, n);
        let path = format!("/api/rooms/{room}/messages");
        match user.raw(reqwest::Method::POST, &path).json(&json!({"body": body, "client_id": id})).send().await {
            Ok(answer) if answer.status() == 201 => acked.push(body),
            Ok(answer) => panic!("send answered {}", answer.status()),
            Err(_) => break,
        }
        acks.one();
    }
    acked
}

/// R-OPS-4, R-WS-3: four members send at once, two over the gateway and two over REST, and the
/// server is killed (SIGKILL) in the middle. After a restart on the same data (on MongoDB, the
/// same database), every acknowledged message is there exactly once, the numbers have no gaps,
/// and a gateway client resumes from the last message it saw with nothing lost or twice. Every
/// message @mentions a member, whose mention notifications are stored with the messages: one
/// for each stored message, none lost, none twice (R-MSG-10, R-NOTE-1).
#[tokio::test]
async fn r_ops_4_a_killed_server_keeps_every_acknowledged_message() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("crash", "open").await;
    let mut members = Vec::new();
    for name in ["bob", "carol", "dave", "erin"] {
        let member = server.user(name).await;
        member.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
        members.push(member);
    }
    drop(members.pop().unwrap());
    let dave = members.pop().unwrap();
    let carol = members.pop().unwrap();
    let bob = members.pop().unwrap();
    let acks = Arc::new(Acks::default());
    let (alice_ws, _) = server.connect(&alice).await;
    let (bob_ws, _) = server.connect(&bob).await;
    let senders = (
        tokio::spawn(gateway_sender(alice_ws, room.clone(), "alice", Arc::clone(&acks))),
        tokio::spawn(gateway_sender(bob_ws, room.clone(), "bob", Arc::clone(&acks))),
        tokio::spawn(rest_sender(carol, room.clone(), "carol", Arc::clone(&acks))),
        tokio::spawn(rest_sender(dave, room.clone(), "dave", Arc::clone(&acks))),
    );
    tokio::time::timeout(std::time::Duration::from_secs(60), acks.enough.notified())
        .await
        .expect("the senders reach the acknowledgements the kill waits for");
    let data = server.stop().await;
    let ((alice_acked, alice_seen), (bob_acked, _), carol_acked, dave_acked) =
        (senders.0.await.unwrap(), senders.1.await.unwrap(), senders.2.await.unwrap(), senders.3.await.unwrap());
    let acked: Vec<String> = [alice_acked, bob_acked, carol_acked, dave_acked].concat();
    assert!(acked.len() >= KILL_AFTER);

    let server = Server::start_in(data, &[]).await;
    let alice = server.login("alice").await;
    let stored = alice.all_items(&format!("/api/rooms/{room}/messages?limit=200")).await;
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for message in &stored {
        *copies.entry(message["body"].as_str().unwrap()).or_default() += 1;
    }
    assert!(copies.values().all(|n| *n == 1), "a message stored twice: {copies:?}");
    let missing: Vec<&String> = acked.iter().filter(|body| !copies.contains_key(body.as_str())).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let mut numbers: Vec<u64> = stored.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    numbers.sort_unstable();
    let last = u64::try_from(stored.len()).unwrap();
    assert_eq!(numbers, (1..=last).collect::<Vec<_>>(), "numbered without gaps");
    let erin = server.login("erin").await;
    let mut mentioned: Vec<String> = erin
        .all_items("/api/notifications?limit=100")
        .await
        .iter()
        .filter(|n| n["kind"] == "mention")
        .map(|n| n["data"]["message_id"].as_str().unwrap().to_owned())
        .collect();
    mentioned.sort_unstable();
    let mut sent_ids: Vec<String> = stored.iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    sent_ids.sort_unstable();
    assert_eq!(mentioned, sent_ids, "one mention notification for each stored message");

    // Alice's client comes back and resumes from the last message it saw.
    let (mut socket, _) = server.connect(&alice).await;
    socket.send(json!({"type": "resume", "rooms": {room.clone(): alice_seen}})).await;
    let mut got = Vec::new();
    loop {
        let frame: Value = socket.next().await;
        match frame["type"].as_str() {
            Some("message_created") => got.push(frame["message"]["seq"].as_u64().unwrap()),
            Some("resumed") => break,
            _ => {}
        }
    }
    assert_eq!(got, ((alice_seen + 1)..=last).collect::<Vec<_>>(), "everything after the last seen, once, in order");
}
