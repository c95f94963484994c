//! Crashes (SPEC R-OPS-3, R-OPS-4, R-WS-3, R-NOTE-1): a server killed with SIGKILL in the middle
//! of traffic (messages, or moderation) loses nothing it acknowledged, and no notice of what it
//! stored, on either store. Buffered writes (R-OPS-3: read
//! markers, declined requests, last-seen times) are the only writes a kill may lose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::{Client, Server, Socket, User};
use reqwest::Method;
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

/// One request of a moderation cycle: who sends it, what, and the status that acknowledges it.
struct Step {
    by: Client,
    method: Method,
    path: String,
    body: Option<Value>,
    status: u16,
}

fn step(by: &User, method: Method, path: String, body: Option<Value>, status: u16) -> Step {
    Step { by: by.client.clone(), method, path, body, status }
}

/// Runs `steps` over and over, each after the one before was acknowledged, until the server is
/// gone: how many times each step was acknowledged.
async fn cycle(steps: Vec<Step>, acks: Arc<Acks>) -> Vec<usize> {
    let mut acked = vec![0; steps.len()];
    for _ in 0..EACH {
        for (n, step) in steps.iter().enumerate() {
            let mut request = step.by.raw(step.method.clone(), &step.path);
            if let Some(body) = &step.body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(answer) if answer.status() == step.status => acked[n] += 1,
                Ok(answer) => panic!("{} {} answered {}", step.method, step.path, answer.status()),
                Err(_) => return acked,
            }
            acks.one();
        }
    }
    acked
}

/// Of `items` (audit records or notifications), those with these field values.
fn count(items: &[Value], fields: &[(&str, &str)]) -> usize {
    items.iter().filter(|item| fields.iter().all(|(field, value)| item[*field] == *value)).count()
}

/// R-OPS-4, R-NOTE-1: the owner of five rooms kicks a member who keeps rejoining, bans and
/// unbans another, promotes and demotes a third, invites a fourth who keeps declining, and
/// accepts a fifth's join requests (who leaves and asks again), all at once, and the server is
/// killed in the middle. After a restart, every moderation action acknowledged is stored (at
/// most one more, done as the kill came), and each stored action left exactly one notice: as
/// many as the room's audit trail has records of it (invitations and requests are not audited:
/// their notices are held to what is pending). Handled notices are read exactly when handled.
#[tokio::test]
async fn r_ops_4_a_killed_server_keeps_one_notice_for_each_moderation() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let names = ["bob", "carol", "dave", "erin", "frank"];
    let mut users = HashMap::new();
    for name in names {
        users.insert(name, server.user(name).await);
    }
    let kicks = alice.create_room("kicks", "open").await;
    let bans = alice.create_room("bans", "open").await;
    let roles = alice.create_room("roles", "open").await;
    let invites = alice.create_room("invites", "invite").await;
    let requests = alice.create_room("requests", "request").await;
    let (bob, carol, dave, erin, frank) =
        (&users["bob"], &users["carol"], &users["dave"], &users["erin"], &users["frank"]);
    dave.post_empty(&format!("/api/rooms/{roles}/join")).await.expect_status(200);

    let acks = Arc::new(Acks::default());
    let cycles = [
        vec![
            step(bob, Method::POST, format!("/api/rooms/{kicks}/join"), None, 200),
            step(&alice, Method::POST, format!("/api/rooms/{kicks}/members/{}/kick", bob.id), None, 204),
        ],
        vec![
            step(&alice, Method::POST, format!("/api/rooms/{bans}/bans"), Some(json!({"user_id": carol.id})), 201),
            step(&alice, Method::DELETE, format!("/api/rooms/{bans}/bans/{}", carol.id), None, 204),
        ],
        vec![
            step(
                &alice,
                Method::PUT,
                format!("/api/rooms/{roles}/members/{}/role", dave.id),
                Some(json!({"role": "admin"})),
                200,
            ),
            step(
                &alice,
                Method::PUT,
                format!("/api/rooms/{roles}/members/{}/role", dave.id),
                Some(json!({"role": "member"})),
                200,
            ),
        ],
        vec![
            step(&alice, Method::POST, format!("/api/rooms/{invites}/invites"), Some(json!({"user_id": erin.id})), 201),
            step(erin, Method::DELETE, format!("/api/rooms/{invites}/invites/me"), None, 204),
        ],
        vec![
            step(frank, Method::POST, format!("/api/rooms/{requests}/join"), None, 202),
            step(&alice, Method::POST, format!("/api/rooms/{requests}/requests/{}/accept", frank.id), None, 200),
            step(frank, Method::POST, format!("/api/rooms/{requests}/leave"), None, 204),
        ],
    ];
    let running: Vec<_> = cycles.into_iter().map(|steps| tokio::spawn(cycle(steps, Arc::clone(&acks)))).collect();
    tokio::time::timeout(std::time::Duration::from_secs(60), acks.enough.notified())
        .await
        .expect("the moderators reach the acknowledgements the kill waits for");
    let data = server.stop().await;
    let mut acked = Vec::new();
    for task in running {
        acked.push(task.await.unwrap());
    }

    let server = Server::start_in(data, &[]).await;
    let alice = server.login("alice").await;
    let mut notices = HashMap::new();
    for name in names.into_iter().chain(["alice"]) {
        notices.insert(name, server.login(name).await.all_items("/api/notifications?limit=100").await);
    }
    let audit = |room: String| {
        let alice = &alice;
        async move { alice.all_items(&format!("/api/rooms/{room}/audit?limit=100")).await }
    };
    // Stored at least as often as acknowledged, at most once more (the kill came after it was
    // stored, before its answer); `what` names the step.
    let within = |stored: usize, acked: usize, what: &str| {
        assert!((acked..=acked + 1).contains(&stored), "{what}: {stored} stored, {acked} acknowledged");
    };

    let trail = audit(kicks.clone()).await;
    let kicked = count(&trail, &[("action", "member_kicked"), ("target_id", &bob.id)]);
    within(kicked, acked[0][1], "kicks");
    assert_eq!(count(&notices["bob"], &[("kind", "kicked"), ("room_id", &kicks)]), kicked, "a notice per kick");

    let trail = audit(bans.clone()).await;
    for (n, (action, kind)) in [("member_banned", "banned"), ("member_unbanned", "unbanned")].into_iter().enumerate() {
        let stored = count(&trail, &[("action", action), ("target_id", &carol.id)]);
        within(stored, acked[1][n], action);
        assert_eq!(count(&notices["carol"], &[("kind", kind), ("room_id", &bans)]), stored, "a notice per {action}");
    }

    let trail = audit(roles.clone()).await;
    for (n, (role, kind)) in [("admin", "promoted"), ("member", "demoted")].into_iter().enumerate() {
        let stored = count(&trail, &[("action", "role_changed"), ("target_id", &dave.id), ("role", role)]);
        within(stored, acked[2][n], kind);
        assert_eq!(count(&notices["dave"], &[("kind", kind), ("room_id", &roles)]), stored, "a notice per role change");
    }

    // Invitations: one notice each; read once declined, so unread only while one is pending.
    let invited = count(&notices["erin"], &[("kind", "invited"), ("room_id", &invites)]);
    within(invited, acked[3][0], "invitations");
    let pending = usize::from(server.login("erin").await.get(&format!("/api/rooms/{invites}")).await.status == 200);
    let unread = notices["erin"].iter().filter(|n| n["kind"] == "invited" && n["read"] == false).count();
    assert_eq!(unread, pending, "only a pending invitation's notice is unread");

    // Join requests: alice is told of each; each accepted one tells frank and is read.
    let trail = audit(requests.clone()).await;
    let admitted = count(&trail, &[("action", "member_joined"), ("target_id", &frank.id), ("actor_id", &alice.id)]);
    within(admitted, acked[4][1], "acceptances");
    let accepted = count(&notices["frank"], &[("kind", "request_accepted"), ("room_id", &requests)]);
    assert_eq!(accepted, admitted, "a notice per acceptance");
    let asking = alice.get(&format!("/api/rooms/{requests}/requests")).await.expect_status(200).body;
    let pending = usize::from(asking["items"].as_array().unwrap().iter().any(|r| r["user"]["id"] == frank.id.as_str()));
    let asked = [("kind", "join_request"), ("room_id", requests.as_str()), ("actor_id", frank.id.as_str())];
    assert_eq!(count(&notices["alice"], &asked), admitted + pending, "a notice per request");
    let unread = notices["alice"].iter().filter(|n| n["kind"] == "join_request" && n["read"] == false).count();
    assert_eq!(unread, pending, "an accepted request's notice is read");
}
