//! Several nodes through Redis (issue 15's first step): nodes on one MongoDB database and one
//! Redis deliver each other's live events. Each test starts its own MongoDB-wire server and
//! Debian's `redis-server` on free ports (`scripts/test.sh` installs both).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::mongodb::start_wire_server;
use conclave_tests::Server;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::process::{Child, Command};

/// A Redis server of the test's own, on a free port; stopped when dropped.
struct Redis {
    _child: Option<Child>,
    url: String,
}

impl Redis {
    /// What stands in for a server that was stopped.
    fn stopped() -> Self {
        Redis { _child: None, url: String::new() }
    }
}

async fn start_redis() -> Redis {
    start_redis_on(std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()).await
}

/// A Redis server on `port` (the same again after a restart).
async fn start_redis_on(port: u16) -> Redis {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server runs (scripts/test.sh installs Debian's redis-server)");
    // Ready when it accepts connections: nothing to await but the port.
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Redis { _child: Some(child), url: format!("redis://127.0.0.1:{port}") };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("redis-server did not listen on {port} within 5 s");
}

/// Nodes on one database and one Redis, sharing the key file (as a deployment must).
struct Cluster {
    nodes: Vec<Server>,
    redis: Redis,
    mongodb: String,
    key_file: String,
    _storage: tempfile::TempDir,
}

async fn cluster(nodes: usize) -> Cluster {
    cluster_with(nodes, &[]).await
}

/// [`cluster`], each node with the settings `extra` too.
async fn cluster_with(nodes: usize, extra: &[(&str, &str)]) -> Cluster {
    let storage = tempfile::tempdir().unwrap();
    let (_, port) = start_wire_server(&storage.path().join("mongodb"), 0, &[]).await;
    let redis = start_redis().await;
    let mongodb = format!("mongodb://127.0.0.1:{port}/cluster");
    // A node killed in the middle of a send leaves its transaction open, holding the room's
    // sends on the other nodes until it is aborted: after 2 s here (docker-compose.yml: 10 s).
    let admin = ::mongodb::Client::with_uri_str(&mongodb).await.unwrap().database("admin");
    admin.run_command(::mongodb::bson::doc! {"setParameter": 1, "transactionLifetimeLimitSeconds": 2}).await.unwrap();
    let key_file = storage.path().join("server.key");
    let key_file = key_file.to_str().unwrap().to_owned();
    let mut started = Vec::new();
    for _ in 0..nodes {
        let env = [
            ("CONCLAVE_MONGODB_URI", mongodb.as_str()),
            ("CONCLAVE_REDIS_URL", redis.url.as_str()),
            ("CONCLAVE_KEY_FILE", key_file.as_str()),
            // A node not heard for 3 s is gone (60 s in production): the presence test kills one.
            ("CONCLAVE_PRESENCE_TTL_SECS", "3"),
        ];
        let env: Vec<(&str, &str)> = env.iter().chain(extra).copied().collect();
        started.push(Server::start_with(&env).await);
    }
    Cluster { nodes: started, redis, mongodb, key_file, _storage: storage }
}

fn send_frame(room: &str, body: &str, client_id: &str) -> Value {
    json!({"type": "send_message", "room_id": room, "body": body, "client_id": client_id})
}

/// Members connected to three different nodes see each other's messages live, once each and
/// in order, whether sent over the gateway or REST.
#[tokio::test]
async fn members_on_different_nodes_talk_live() {
    let cluster = cluster(3).await;
    let (a, b, c) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);
    let alice = a.user("alice").await;
    b.user("bob").await;
    let bob = b.login("bob").await;
    c.user("carol").await;
    let carol = c.login("carol").await;
    let room = alice.create_room("across", "open").await;
    for member in [&bob, &carol] {
        member.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    let (mut alice_ws, _) = a.connect(&alice).await;
    let (mut bob_ws, _) = b.connect(&bob).await;
    let (mut carol_ws, _) = c.connect(&carol).await;
    let frames: Vec<Value> = (1..=20).map(|n| send_frame(&room, &format!("a{n}"), &format!("c{n}"))).collect();
    let mut acks = 0;
    alice_ws
        .send_while_reading(frames, |frame| {
            acks += usize::from(frame["type"] == "ack");
            acks == 20
        })
        .await;
    let sent: Vec<String> = (1..=20).map(|n| format!("a{n}")).collect();
    for (name, socket) in [("bob", &mut bob_ws), ("carol", &mut carol_ws)] {
        let mut seen = Vec::new();
        while seen.len() < 20 {
            let frame = socket.next_of("message_created").await;
            seen.push(frame["message"]["body"].as_str().unwrap().to_owned());
        }
        assert_eq!(seen, sent, "{name}: once each, in order, on another node");
    }
    bob.say(&room, "hello from node b").await;
    // Alice's own messages come back to her first (their echoes follow her acks).
    let got = loop {
        let frame = alice_ws.next_of("message_created").await;
        if frame["message"]["author_id"] == bob.id.as_str() {
            break frame;
        }
    };
    assert_eq!(
        (got["message"]["body"].as_str(), got["message"]["seq"].as_u64()),
        (Some("hello from node b"), Some(21))
    );
    let on_c = carol_ws.next_of("message_created").await;
    assert_eq!(on_c["message"]["seq"], 21, "and on the third node");
}

/// A kick on one node stops delivery to the kicked member's session on another at once: the
/// next room message never reaches them, while what is meant for them still does.
#[tokio::test]
async fn a_kick_on_one_node_stops_delivery_on_another() {
    let cluster = cluster(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let alice = a.user("alice").await;
    b.user("bob").await;
    let bob = b.login("bob").await;
    let room = alice.create_room("strict", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let (mut bob_ws, _) = b.connect(&bob).await;
    alice.post_empty(&format!("/api/rooms/{room}/members/{}/kick", bob.id)).await.expect_status(204);
    let left = bob_ws.next_of("member_left").await;
    assert_eq!(left["reason"], "kicked");
    alice.say(&room, "not for bob").await;
    // A direct message to bob afterwards: it arrives, and nothing of the room came before it.
    let dm = alice.post("/api/dms", json!({"username": "bob"})).await.body["room"]["id"].as_str().unwrap().to_owned();
    alice.say(&dm, "just for bob").await;
    let mut before = Vec::new();
    loop {
        let frame = bob_ws.next_of("message_created").await;
        if frame["message"]["room_id"] == dm.as_str() {
            break;
        }
        before.push(frame);
    }
    assert_eq!(before, Vec::<Value>::new(), "the kicked member got the room's message");
}

/// Presence is cluster-wide: a user online on one node is online for every node; closing one
/// of two sessions on different nodes tells nobody they left; a node killed with its sessions
/// has its users go offline within the presence lifetime, and their rooms are told.
#[tokio::test]
async fn presence_spans_nodes_and_survives_a_killed_node() {
    let mut cluster = cluster(2).await;
    let alice = cluster.nodes[0].user("alice").await;
    cluster.nodes[1].user("bob").await;
    let bob_there = cluster.nodes[1].login("bob").await;
    let bob_here = cluster.nodes[0].login("bob").await;
    let room = alice.create_room("presence", "open").await;
    bob_there.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let (mut alice_ws, _) = cluster.nodes[0].connect(&alice).await;
    let presence = |frame: &Value| (frame["user_id"].as_str().map(str::to_owned), frame["online"].as_bool());
    let bob_id = Some(bob_there.id.clone());

    // Bob comes online on node B: alice, on node A, is told, and A's directory says so.
    let (bob_b, _) = cluster.nodes[1].connect(&bob_there).await;
    assert_eq!(presence(&alice_ws.next_of("presence").await), (bob_id.clone(), Some(true)));
    assert_eq!(alice.get("/api/users/bob").await.expect_status(200).body["user"]["online"], true);

    // A second session on node A, then both close: bob is offline once the last one ends (two
    // nodes that close at once may both say so, and a late "online" may come before; the
    // directory tells which is the last word), and online again when he comes back.
    let (bob_a, _) = cluster.nodes[0].connect(&bob_here).await;
    bob_b.close().await;
    bob_a.close().await;
    loop {
        let (user, online) = presence(&alice_ws.next_of("presence").await);
        assert_eq!(user, bob_id);
        if online == Some(false) && alice.get("/api/users/bob").await.body["user"]["online"] == false {
            break;
        }
    }
    let (_bob_b_again, _) = cluster.nodes[1].connect(&bob_there).await;
    loop {
        let (user, online) = presence(&alice_ws.next_of("presence").await);
        assert_eq!(user, bob_id);
        if online == Some(true) {
            break;
        }
    }
    assert_eq!(alice.get("/api/users/bob").await.body["user"]["online"], true);

    // Node B is killed with bob's session on it: within the lifetime, bob is offline. (Late
    // duplicates of the earlier news may come first, "online" from a node that had missed it
    // included; the directory tells which "offline" is the kill's.)
    cluster.nodes.pop().expect("node B").stop().await;
    loop {
        let (user, online) = presence(&alice_ws.next_of("presence").await);
        assert_eq!(user, bob_id);
        if online == Some(false) && alice.get("/api/users/bob").await.body["user"]["online"] == false {
            break;
        }
    }
}

/// Two nodes that see one user leave one and join the other at once: the node the user left
/// told the rooms "offline" before it heard of the session on the other, which had not said
/// "online" because the first still had them. The other node, hearing that "offline", tells the
/// rooms the user is online after all. (The race is played by publishing the first node's
/// news on Redis by hand, as a node that did not know would.)
#[tokio::test]
async fn a_user_called_offline_elsewhere_while_online_here_is_announced_again() {
    let cluster = cluster(2).await;
    let alice = cluster.nodes[0].user("alice").await;
    cluster.nodes[1].user("bob").await;
    let bob = cluster.nodes[1].login("bob").await;
    let room = alice.create_room("races", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let (mut alice_ws, _) = cluster.nodes[0].connect(&alice).await;
    let (_bob_ws, _) = cluster.nodes[1].connect(&bob).await;
    assert_eq!(alice_ws.next_of("presence").await["online"], true);

    let news = json!({"node": "a-node-that-did-not-know",
        "event": {"kind": "presence", "user": bob.id, "online": false, "told_rooms": true}});
    let port = cluster.redis.url.rsplit(':').next().unwrap().to_owned();
    let published = Command::new("redis-cli")
        .args(["-p", &port, "PUBLISH", "conclave:events", &news.to_string()])
        .output()
        .await
        .expect("redis-cli runs (it comes with Debian's redis-server)");
    assert!(published.status.success());
    let said = alice_ws.next_of("presence").await;
    assert_eq!((said["user_id"].as_str(), said["online"].as_bool()), (Some(bob.id.as_str()), Some(true)));
    assert_eq!(alice.get("/api/users/bob").await.expect_status(200).body["user"]["online"], true);
}

/// A node killed (SIGKILL) while messages flow: the other node loses nothing, and a client of
/// the killed node reconnects to the other and resumes from the last message it saw, with
/// nothing lost and nothing twice.
#[tokio::test]
async fn a_killed_nodes_clients_resume_on_another_without_loss() {
    let mut cluster = cluster(2).await;
    let alice = cluster.nodes[0].user("alice").await;
    cluster.nodes[1].user("bob").await;
    let bob_on_b = cluster.nodes[1].login("bob").await;
    let room = alice.create_room("failover", "open").await;
    bob_on_b.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let (mut bob_ws, _) = cluster.nodes[1].connect(&bob_on_b).await;
    for n in 1..=10 {
        alice.say(&room, &format!("m{n}")).await;
    }
    let mut last_seen = 0;
    while last_seen < 5 {
        last_seen = bob_ws.next_of("message_created").await["message"]["seq"].as_u64().unwrap();
    }
    // Node B dies with bob's connection; alice goes on sending on node A meanwhile.
    cluster.nodes.pop().expect("node B").stop().await;
    for n in 11..=20 {
        alice.say(&room, &format!("m{n}")).await;
    }
    drop(bob_ws);
    let bob_on_a = cluster.nodes[0].login("bob").await;
    let (mut bob_ws, _) = cluster.nodes[0].connect(&bob_on_a).await;
    bob_ws.send(json!({"type": "resume", "rooms": {room.clone(): last_seen}})).await;
    for n in 21..=22 {
        alice.say(&room, &format!("m{n}")).await;
    }
    let mut got = Vec::new();
    while got.len() < usize::try_from(22 - last_seen).unwrap() {
        let frame = bob_ws.next().await;
        match frame["type"].as_str().unwrap() {
            "message_created" => got.push(frame["message"]["seq"].as_u64().unwrap()),
            "resumed" | "presence" | "typing" => {}
            other => panic!("unexpected {other}: {frame}"),
        }
    }
    assert_eq!(got, ((last_seen + 1)..=22).collect::<Vec<_>>(), "every message after the last seen, once, in order");
    let history = alice.get(&format!("/api/rooms/{room}/messages?limit=50")).await.expect_status(200).body;
    assert_eq!(history["items"].as_array().unwrap().len(), 22, "the surviving node lost nothing");
}

/// Reads `socket` until it has seen message number `last`, adding each to `seen`.
async fn read_through(socket: &mut conclave_tests::Socket, seen: &mut Vec<u64>, last: u64) {
    while seen.last().is_none_or(|seq| *seq < last) {
        let Ok(frame) = tokio::time::timeout(Duration::from_secs(5), socket.next()).await else {
            panic!("not all {last} messages within 5 s of the last; seen {seen:?}");
        };
        if frame["type"] == "message_created" {
            seen.push(frame["message"]["seq"].as_u64().unwrap());
        }
    }
}

/// Sends messages `numbers` over `socket`, each after the last was acknowledged, noting the
/// numbers of every message seen meanwhile.
async fn send_acked(
    socket: &mut conclave_tests::Socket,
    room: &str,
    prefix: &str,
    numbers: std::ops::Range<usize>,
    seen: &mut Vec<u64>,
) {
    for n in numbers {
        let id = format!("{prefix}{n}");
        socket.send(send_frame(room, &id, &id)).await;
        loop {
            let frame = socket.next().await;
            match frame["type"].as_str() {
                Some("message_created") => seen.push(frame["message"]["seq"].as_u64().unwrap()),
                Some("ack") if frame["client_id"] == id.as_str() => break,
                Some("error") => panic!("{frame}"),
                _ => {}
            }
        }
    }
}

/// Four members send at once through three nodes, over REST and the gateway, and one node is
/// killed (SIGKILL) in the middle: the store has every message once, numbered without gaps;
/// the sessions on the surviving nodes see every one once and in order; the killed node's two
/// clients go to another node, send again what was not acknowledged (same client ids: stored
/// once) and the gateway one resumes with nothing lost and nothing twice.
#[tokio::test]
async fn senders_on_every_node_lose_nothing_when_one_is_killed() {
    const EACH: usize = 25;
    let mut cluster = cluster(3).await;
    let alice = cluster.nodes[0].user("alice").await;
    let room = alice.create_room("busy", "open").await;
    let mut members = Vec::new();
    for (node, name) in [(1, "bob"), (2, "carol"), (2, "dave")] {
        cluster.nodes[node].user(name).await;
        let member = cluster.nodes[node].login(name).await;
        member.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
        members.push(member);
    }
    let dave = members.pop().unwrap();
    let carol = members.pop().unwrap();
    let bob = members.pop().unwrap();
    let survivor = cluster.nodes[0].base.clone();
    let (mut alice_ws, _) = cluster.nodes[0].connect(&alice).await;
    let (mut bob_ws, _) = cluster.nodes[1].connect(&bob).await;
    let (mut carol_ws, _) = cluster.nodes[2].connect(&carol).await;

    // Alice over the gateway on node A, bob over REST on node B.
    let alice_room = room.clone();
    let alice_sends = tokio::spawn(async move {
        let mut seen = Vec::new();
        send_acked(&mut alice_ws, &alice_room, "a", 0..EACH, &mut seen).await;
        (alice_ws, seen)
    });
    let bob_room = room.clone();
    let bob_sends = tokio::spawn(async move {
        for n in 0..EACH {
            let body = json!({"body": format!("b{n}"), "client_id": format!("b{n}")});
            bob.post(&format!("/api/rooms/{bob_room}/messages"), body).await.expect_status(201);
        }
    });
    // Dave over REST on node C until it fails, then on node A, sending the failed one again.
    let (dave_room, dave_fails_over) = (room.clone(), survivor.clone());
    let dave_sends = tokio::spawn(async move {
        let mut client = dave.client.clone();
        for n in 0..EACH {
            let body = json!({"body": format!("d{n}"), "client_id": format!("d{n}")});
            loop {
                let path = format!("/api/rooms/{dave_room}/messages");
                match client.raw(reqwest::Method::POST, &path).json(&body).send().await {
                    Ok(answer) if answer.status() == 201 => break,
                    Ok(answer) => assert!(answer.status().is_server_error(), "{}", answer.status()),
                    Err(_) => client.base = dave_fails_over.clone(),
                }
            }
        }
    });
    // Carol over the gateway on node C: node C is killed with her eleventh message on its way.
    let mut carol_seen = Vec::new();
    send_acked(&mut carol_ws, &room, "c", 0..10, &mut carol_seen).await;
    carol_ws.send(send_frame(&room, "c10", "c10")).await;
    cluster.nodes.pop().expect("node C").stop().await;
    drop(carol_ws);
    let carol_on_a = cluster.nodes[0].login("carol").await;
    let (mut carol_ws, _) = cluster.nodes[0].connect(&carol_on_a).await;
    let last_seen = carol_seen.last().copied().unwrap_or(0);
    carol_ws.send(json!({"type": "resume", "rooms": {room.clone(): last_seen}})).await;
    send_acked(&mut carol_ws, &room, "c", 10..EACH, &mut carol_seen).await;

    let (mut alice_ws, mut alice_seen) = alice_sends.await.unwrap();
    bob_sends.await.unwrap();
    dave_sends.await.unwrap();
    let stored = alice.all_items(&format!("/api/rooms/{room}/messages?limit=200")).await;
    let mut bodies: Vec<String> = stored.iter().map(|m| m["body"].as_str().unwrap().to_owned()).collect();
    bodies.sort();
    let mut expected: Vec<String> =
        ["a", "b", "c", "d"].iter().flat_map(|p| (0..EACH).map(move |n| format!("{p}{n}"))).collect();
    expected.sort();
    assert_eq!(bodies, expected, "every message stored once");
    let mut numbers: Vec<u64> = stored.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    numbers.sort_unstable();
    let last = u64::try_from(4 * EACH).unwrap();
    assert_eq!(numbers, (1..=last).collect::<Vec<_>>(), "numbered without gaps");

    let mut bob_seen = Vec::new();
    read_through(&mut alice_ws, &mut alice_seen, last).await;
    read_through(&mut bob_ws, &mut bob_seen, last).await;
    read_through(&mut carol_ws, &mut carol_seen, last).await;
    for (name, seen) in [("alice", alice_seen), ("bob", bob_seen), ("carol", carol_seen)] {
        assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "{name}: every message once, in order");
    }
}

/// Redis killed and restarted while a member sends without pause: once it is back, every
/// message reaches the other node's session once and in order; the presence each node lost
/// with the other (it went silent for longer than the lifetime) comes back, users who connected
/// meanwhile included; and a member who joined the room meanwhile on the other node receives
/// its messages.
#[tokio::test]
async fn redis_restarted_during_traffic_recovers_messages_presence_and_subscriptions() {
    let mut cluster = cluster(2).await;
    let alice = cluster.nodes[0].user("alice").await;
    let room = alice.create_room("steady", "open").await;
    let mut members = Vec::new();
    for name in ["bob", "carol", "dave"] {
        cluster.nodes[1].user(name).await;
        members.push(cluster.nodes[1].login(name).await);
    }
    let dave = members.pop().unwrap();
    let carol = members.pop().unwrap();
    let bob = members.pop().unwrap();
    for member in [&bob, &carol] {
        member.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    let (mut alice_ws, _) = cluster.nodes[0].connect(&alice).await;
    let dave_on_a = cluster.nodes[0].login("dave").await;
    let (mut dave_ws, _) = cluster.nodes[0].connect(&dave_on_a).await;
    let (_bob_ws, _) = cluster.nodes[1].connect(&bob).await;
    let presence = |frame: &Value| (frame["user_id"].as_str().unwrap().to_owned(), frame["online"].as_bool().unwrap());
    let bob_id = bob.id.clone();
    assert_eq!(presence(&alice_ws.next_of("presence").await), (bob_id.clone(), true));

    // Bob sends every 20 ms over REST on node B until told to stop.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let bob_room = room.clone();
    let traffic = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(20));
        let mut sent = 0_u64;
        while !*stopped.borrow_and_update() {
            tokio::select! {
                _ = every.tick() => {
                    sent += 1;
                    bob.post(&format!("/api/rooms/{bob_room}/messages"), json!({"body": format!("b{sent}")}))
                        .await
                        .expect_status(201);
                }
                _ = stopped.changed() => {}
            }
        }
        sent
    });

    let mut seen = Vec::new();
    let note = |frame: Value, seen: &mut Vec<u64>, said: &mut Vec<(String, bool)>| match frame["type"].as_str() {
        Some("message_created") => seen.push(frame["message"]["seq"].as_u64().unwrap()),
        Some("presence") => said.push(presence(&frame)),
        _ => {}
    };
    let mut said = Vec::new();
    while seen.len() < 5 {
        let frame = alice_ws.next().await;
        note(frame, &mut seen, &mut said);
    }
    let port: u16 = cluster.redis.url.rsplit(':').next().unwrap().parse().unwrap();
    drop(std::mem::replace(&mut cluster.redis, Redis::stopped()));
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Meanwhile, on node B: carol comes online and dave joins the room.
    let (_carol_ws, _) = cluster.nodes[1].connect(&carol).await;
    dave.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    // Node A stops hearing node B for the lifetime: bob goes offline for alice.
    // (Messages keep coming meanwhile, so each wait has a bound of its own.)
    let within = |what: &'static str| move |_| panic!("not within 30 s: {what}");
    tokio::time::timeout(Duration::from_secs(30), async {
        while !said.contains(&(bob_id.clone(), false)) {
            let frame = alice_ws.next().await;
            note(frame, &mut seen, &mut said);
        }
    })
    .await
    .unwrap_or_else(within("bob offline once node B is silent"));
    cluster.redis = start_redis_on(port).await;
    // Back: bob and carol are online again for alice (node B's heartbeat, its queued events).
    let restarted = said.len();
    tokio::time::timeout(Duration::from_secs(30), async {
        while !(said[restarted..].contains(&(bob_id.clone(), true))
            && said[restarted..].contains(&(carol.id.clone(), true)))
        {
            let frame = alice_ws.next().await;
            note(frame, &mut seen, &mut said);
        }
    })
    .await
    .unwrap_or_else(within("bob and carol online once Redis is back"));
    for user in ["bob", "carol"] {
        assert_eq!(alice.get(&format!("/api/users/{user}")).await.expect_status(200).body["user"]["online"], true);
    }
    stop.send(true).unwrap();
    let sent = traffic.await.unwrap();
    read_through(&mut alice_ws, &mut seen, sent).await;
    assert_eq!(seen, (1..=sent).collect::<Vec<_>>(), "every message, once, in order, across the outage");
    // Dave, who joined on node B while Redis was away, receives the room's messages on node A.
    alice.say(&room, "marker").await;
    loop {
        let frame = dave_ws.next().await;
        if frame["type"] == "message_created" && frame["message"]["body"] == "marker" {
            break;
        }
    }
}

/// Redis restarted while members talk: nothing sent meanwhile is lost for the other node's
/// sessions (queued sends go out once it is back; what a node missed is read from the store),
/// and nothing shows twice.
#[tokio::test]
async fn nothing_is_lost_when_redis_restarts() {
    let mut cluster = cluster(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let alice = a.user("alice").await;
    b.user("bob").await;
    let bob = b.login("bob").await;
    let room = alice.create_room("outage", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let (mut alice_ws, _) = a.connect(&alice).await;
    bob.say(&room, "before").await;
    assert_eq!(alice_ws.next_of("message_created").await["message"]["seq"], 1);

    let port: u16 = cluster.redis.url.rsplit(':').next().unwrap().parse().unwrap();
    drop(std::mem::replace(&mut cluster.redis, Redis::stopped()));
    // Gone once its port refuses connections (it is killed, not asked to stop).
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for n in 2..=4 {
        bob.say(&room, &format!("during {n}")).await;
    }
    cluster.redis = start_redis_on(port).await;
    for n in 5..=6 {
        bob.say(&room, &format!("after {n}")).await;
    }
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let frame = alice_ws.next_of("message_created").await;
        seen.push(frame["message"]["seq"].as_u64().unwrap());
    }
    assert_eq!(seen, [2, 3, 4, 5, 6], "every message, once, in order");
    // A marker: nothing of the outage comes again after it.
    bob.say(&room, "marker").await;
    assert_eq!(alice_ws.next_of("message_created").await["message"]["seq"], 7);
}

/// A message that no bus carried (its node had no Redis: misconfigured, or it died between
/// storing and publishing) still reaches the other nodes' sessions, in its place: the next
/// message shows the gap, which is read from the store once it has lasted a moment.
#[tokio::test]
async fn a_gap_in_a_rooms_numbers_is_filled_from_the_store_in_order() {
    let cluster = cluster(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let alice = a.user("alice").await;
    b.user("bob").await;
    let bob = b.login("bob").await;
    let room = alice.create_room("gaps", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let (mut alice_ws, _) = a.connect(&alice).await;
    bob.say(&room, "one").await;
    assert_eq!(alice_ws.next_of("message_created").await["message"]["seq"], 1);

    // A node on the same database and key, but on no bus.
    let lone =
        Server::start_with(&[("CONCLAVE_MONGODB_URI", &cluster.mongodb), ("CONCLAVE_KEY_FILE", &cluster.key_file)])
            .await;
    lone.login("bob").await.say(&room, "two, never published").await;
    bob.say(&room, "three").await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let frame = alice_ws.next_of("message_created").await;
        seen.push((frame["message"]["seq"].as_u64().unwrap(), frame["message"]["body"].as_str().unwrap().to_owned()));
    }
    assert_eq!(seen, [(2, "two, never published".to_owned()), (3, "three".to_owned())], "in order, once each");
    bob.say(&room, "four").await;
    assert_eq!(alice_ws.next_of("message_created").await["message"]["seq"], 4, "nothing came twice");
}

/// R-MSG-5 across nodes: a user sending through three nodes at once, over REST and the
/// gateway, gets one allowance (a burst of 20, plus what refills while they send), not one per
/// node; refusals are `rate_limited` with the time to wait, and exactly the accepted are stored.
#[tokio::test]
async fn r_msg_5_a_users_message_limit_holds_across_nodes() {
    let limits = [("CONCLAVE_MESSAGE_BURST", "20"), ("CONCLAVE_MESSAGE_PER_SECOND", "1")];
    let cluster = cluster_with(3, &limits).await;
    let alice = cluster.nodes[0].user("alice").await;
    let room = alice.create_room("limits", "open").await;
    let on_b = cluster.nodes[1].login("alice").await;
    let (mut on_c, _) = cluster.nodes[2].connect(&cluster.nodes[2].login("alice").await).await;
    let started = std::time::Instant::now();
    let (mut accepted, mut refused) = (0_u64, 0_u64);
    for n in 0..20 {
        for sender in [&alice, &on_b] {
            let sent = sender.post(&format!("/api/rooms/{room}/messages"), json!({"body": format!("m{n}")})).await;
            if sent.status == 429 {
                let refusal = sent.expect_error(429, "rate_limited");
                assert!(refusal.headers.get("retry-after").is_some());
                refused += 1;
            } else {
                sent.expect_status(201);
                accepted += 1;
            }
        }
        on_c.send(send_frame(&room, &format!("ws{n}"), &format!("c{n}"))).await;
        loop {
            let frame = on_c.next().await;
            match frame["type"].as_str() {
                Some("ack") => accepted += 1,
                Some("error") => {
                    assert_eq!(frame["code"], "rate_limited", "{frame}");
                    refused += 1;
                }
                _ => continue,
            }
            break;
        }
    }
    let refilled = started.elapsed().as_secs() + 1;
    assert!((20..=20 + refilled).contains(&accepted), "{accepted} of 60 accepted in {:?}", started.elapsed());
    assert_eq!(accepted + refused, 60);
    let stored = alice.all_items(&format!("/api/rooms/{room}/messages?limit=200")).await;
    assert_eq!(u64::try_from(stored.len()).unwrap(), accepted, "exactly the accepted are stored");
}

/// R-ACC-6 across nodes: login attempts for one account through three nodes count against one
/// allowance (a burst of 3 a minute), not one per node.
#[tokio::test]
async fn r_acc_6_login_attempts_are_counted_across_nodes() {
    let cluster = cluster_with(3, &[("CONCLAVE_LOGIN_BURST", "3"), ("CONCLAVE_LOGIN_PER_MINUTE", "1")]).await;
    let attempt = |node: usize| {
        let client = cluster.nodes[node].anonymous();
        async move { client.post("/api/auth/login", json!({"username": "nobody", "password": "not the one"})).await }
    };
    for node in 0..3 {
        attempt(node).await.expect_error(401, "invalid_credentials");
    }
    for node in 0..3 {
        let refused = attempt(node).await.expect_error(429, "rate_limited");
        assert!(refused.headers.get("retry-after").is_some());
    }
}

/// A node's count of cleanup runs with `outcome`.
async fn cleanup_runs(node: &Server, outcome: &str) -> f64 {
    let text = node.anonymous().get("/metrics").await.expect_status(200).body;
    let Value::String(text) = text else { panic!("metrics are text") };
    let line = format!("conclave_job_runs_total{{job=\"cleanup\",outcome=\"{outcome}\"}}");
    text.lines().find_map(|l| l.strip_prefix(&line).and_then(|n| n.trim().parse().ok())).unwrap_or(0.0)
}

/// The cleanup job runs on one node at a time: the first node takes its lease and keeps it by
/// running; the other leaves each run to it.
#[tokio::test]
async fn cleanup_runs_on_one_node_at_a_time() {
    let cluster = cluster_with(2, &[("CONCLAVE_CLEANUP_INTERVAL_SECS", "1")]).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    // Node B's runs come every second: it has left two to node A once these pass.
    conclave_tests::eventually(Duration::from_secs(10), "node B to leave two runs to node A", || async {
        cleanup_runs(b, "held_elsewhere").await >= 2.0
    })
    .await;
    assert_eq!(cleanup_runs(b, "ok").await, 0.0, "node B never ran it");
    assert!(cleanup_runs(a, "ok").await >= 2.0, "node A ran it each time");
}

/// Bad configuration is refused at start, with a sentence: Redis that cannot be reached, and
/// Redis with the embedded store.
#[tokio::test]
async fn bad_cluster_settings_are_refused_at_start() {
    let storage = tempfile::tempdir().unwrap();
    let (_, port) = start_wire_server(&storage.path().join("mongodb"), 0, &[]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mongodb = format!("mongodb://127.0.0.1:{port}/refused");
    let unreachable = format!("redis://127.0.0.1:{closed}");
    let (status, log) =
        Server::start_failure(&[("CONCLAVE_MONGODB_URI", &mongodb), ("CONCLAVE_REDIS_URL", &unreachable)]).await;
    assert!(!status.success());
    assert!(log.contains(&format!("cannot reach Redis at {unreachable}")), "{log}");
    let (status, log) =
        Server::start_failure(&[("CONCLAVE_MONGODB_URI", ""), ("CONCLAVE_REDIS_URL", &unreachable)]).await;
    assert!(!status.success());
    assert!(log.contains("set CONCLAVE_MONGODB_URI too"), "{log}");
}
