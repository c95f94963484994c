//! The WebSocket gateway: SPEC R-WS-1 to R-WS-5, R-MSG-5 and the frame list, with a real
//! WebSocket client against the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conclave_tests::{Server, Socket, User};
use serde_json::{Value, json};

fn seqs(frames: &[Value]) -> Vec<u64> {
    frames.iter().map(|f| f["message"]["seq"].as_u64().unwrap()).collect()
}

async fn room_with(owner: &User, others: &[&User], name: &str) -> String {
    let room = owner.create_room(name, "open").await;
    for user in others {
        user.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    room
}

fn send_frame(room: &str, body: &str, client_id: &str) -> Value {
    json!({"type": "send_message", "room_id": room, "body": body, "client_id": client_id})
}

/// Collects `count` message_created frames, skipping acks, presence, typing and notifications.
async fn messages(socket: &mut Socket, count: usize) -> Vec<Value> {
    let mut got = Vec::new();
    while got.len() < count {
        let frame = socket.next().await;
        match frame["type"].as_str() {
            Some("message_created") => got.push(frame),
            Some("ack" | "presence" | "typing" | "notification_created") => {}
            _ => panic!("expected message_created, got {frame}"),
        }
    }
    got
}

/// R-WS-1: the first frame authenticates; nothing else is accepted before it; `ready` names the
/// user and their rooms.
#[tokio::test]
async fn r_ws_1_first_frame_authenticates() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("lobby", "open").await;

    let mut socket = server.socket().await;
    socket.send(json!({"type": "ping"})).await;
    assert_eq!(socket.next().await["code"], "not_authenticated");
    socket.send(send_frame(&room, "sneaky", "c1")).await;
    assert_eq!(socket.next().await["code"], "not_authenticated");
    socket.send(json!({"type": "authenticate", "token": alice.token.clone().unwrap()})).await;
    let ready = socket.next().await;
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["user"]["username"], "alice");
    assert_eq!(ready["user"]["online"], true);
    assert_eq!(ready["rooms"][0]["room"]["id"], room.as_str());
    assert_eq!(ready["rooms"][0]["role"], "owner");
    // The same user again is harmless (a browser sends its token even when its cookie already
    // authenticated it); nothing comes back before the pong.
    socket.send(json!({"type": "authenticate", "token": alice.token.clone().unwrap()})).await;
    assert!(socket.drain().await.is_empty());
    let mallory = server.user("mallory").await;
    socket.send(json!({"type": "authenticate", "token": mallory.token.clone().unwrap()})).await;
    assert_eq!(socket.next().await["code"], "already_authenticated");
    assert!(alice.get(&format!("/api/rooms/{room}/messages")).await.body["items"].as_array().unwrap().is_empty());

    let mut bad = server.socket().await;
    bad.send(json!({"type": "authenticate", "token": "forged"})).await;
    assert_eq!(bad.next().await["code"], "token_invalid");
    assert_eq!(bad.next_or_close().await.unwrap_err().as_deref(), Some("token_invalid"));
}

/// R-WS-1: a connection that does not authenticate in time is closed with a reason.
#[tokio::test]
async fn r_ws_1_silent_connections_are_closed() {
    let server = Server::start_with(&[("CONCLAVE_WS_AUTH_TIMEOUT_SECS", "1")]).await;
    let mut socket = server.socket().await;
    let reason = socket.next_or_close().await.unwrap_err().unwrap();
    assert!(reason.starts_with("authentication_timeout"), "{reason}");
}

/// R-WS-1: a browser authenticates with its refresh cookie instead of a frame.
#[tokio::test]
async fn r_ws_1_cookie_authentication() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let mut request = server.ws_url().into_client_request().unwrap();
    let cookie = format!("conclave_refresh={}", alice.refresh_token);
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut socket = Socket::from(ws);
    assert_eq!(socket.next().await["user"]["id"], alice.id.as_str());

    // A revoked cookie authenticates nobody: the client must send a frame.
    server.anonymous().post("/api/auth/logout", json!({"refresh_token": alice.refresh_token})).await.expect_status(204);
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("cookie", format!("conclave_refresh={}", alice.refresh_token).parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut socket = Socket::from(ws);
    socket.send(json!({"type": "ping"})).await;
    assert_eq!(socket.next().await["code"], "not_authenticated");
}

/// R-WS-2, R-MSG-1: two users in a room receive every message exactly once, in sequence order,
/// the sender's other device included; the sender gets an ack.
#[tokio::test]
async fn r_ws_2_two_users_receive_every_message_once_in_order() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = room_with(&alice, &[&bob], "pair").await;
    let (mut alice_ws, _) = server.connect(&alice).await;
    let (mut alice_phone, _) = server.connect(&alice).await;
    let (mut bob_ws, _) = server.connect(&bob).await;
    for i in 0..30 {
        alice_ws.send(send_frame(&room, &format!("message {i}"), &format!("c{i}"))).await;
    }
    // REST sends are delivered the same way.
    bob.say(&room, "from rest").await;
    let mut acks = Vec::new();
    let mut created = Vec::new();
    while acks.len() < 30 || created.len() < 31 {
        let frame = alice_ws.next().await;
        match frame["type"].as_str().unwrap() {
            "ack" => acks.push(frame),
            "message_created" => created.push(frame),
            "presence" => {}
            other => panic!("unexpected {other}: {frame}"),
        }
    }
    assert_eq!(
        acks.iter().map(|a| a["client_id"].as_str().unwrap().to_owned()).collect::<Vec<_>>(),
        (0..30).map(|i| format!("c{i}")).collect::<Vec<_>>()
    );
    assert_eq!(seqs(&created), (1..=31).collect::<Vec<_>>());
    assert_eq!(seqs(&messages(&mut bob_ws, 31).await), (1..=31).collect::<Vec<_>>());
    assert_eq!(seqs(&messages(&mut alice_phone, 31).await), (1..=31).collect::<Vec<_>>());
    for socket in [&mut alice_ws, &mut bob_ws, &mut alice_phone] {
        assert!(socket.drain_of("message_created").await.is_empty(), "nothing twice");
    }
}

/// R-WS-2: a room created while its owner is connected is live on that connection at once:
/// the owner sees who joins, what they say, and who is typing.
#[tokio::test]
async fn r_ws_2_a_new_room_is_live_for_its_connected_owner() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let (mut alice_ws, _) = server.connect(&alice).await;
    let room = room_with(&alice, &[&bob], "fresh").await;
    let joined = alice_ws.next_of("member_joined").await;
    assert_eq!(joined["user"]["username"], "bob");
    let (mut bob_ws, _) = server.connect(&bob).await;
    bob_ws.send(json!({"type": "typing", "room_id": room})).await;
    assert_eq!(alice_ws.next_of("typing").await["user_id"], json!(bob.id));
    bob.say(&room, "hello owner").await;
    assert_eq!(alice_ws.next_of("message_created").await["message"]["body"], "hello owner");
}

/// R-WS-3: a server that is stopped (SIGTERM, as in a deployment) closes its WebSocket sessions
/// with 1001 (going away) and a reason at once, so clients reconnect and resume rather than
/// wait on a node that is leaving, and then exits cleanly.
#[tokio::test]
async fn r_ws_3_stopping_the_server_closes_sessions_as_going_away() {
    let mut server = Server::start().await;
    let alice = server.user("alice").await;
    let (mut socket, _) = server.connect(&alice).await;
    let (status, close) = tokio::join!(server.terminate(), socket.close_frame());
    let (code, reason) = close.expect("a close frame with a reason");
    assert_eq!(code, 1001, "going away");
    assert!(reason.starts_with("server_stopping"), "{reason}");
    assert!(status.success(), "exit status {status}");
}

/// R-WS-2: twenty users in a room, five of them sending: everyone receives all 50 messages
/// exactly once, in sequence order.
#[tokio::test]
async fn r_ws_2_twenty_users_receive_everything_once() {
    let server = Server::start().await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(server.user(&format!("user{i:02}")).await);
    }
    let others: Vec<&User> = users[1..].iter().collect();
    let room = room_with(&users[0], &others, "crowd").await;
    let mut sockets = Vec::new();
    for user in &users {
        sockets.push(server.connect(user).await.0);
    }
    let mut senders = Vec::new();
    for (index, socket) in sockets.iter_mut().take(5).enumerate() {
        for i in 0..10 {
            socket.send(send_frame(&room, &format!("{index}-{i}"), &format!("{index}-{i}"))).await;
        }
        senders.push(index);
    }
    for socket in &mut sockets {
        let got = messages(socket, 50).await;
        assert_eq!(seqs(&got), (1..=50).collect::<Vec<_>>());
        assert!(socket.drain_of("message_created").await.is_empty());
    }
}

/// R-WS-2: the same client id twice stores one message and acks it twice.
#[tokio::test]
async fn r_ws_2_acks_are_idempotent() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("acks", "open").await;
    let (mut socket, _) = server.connect(&alice).await;
    socket.send(send_frame(&room, "once", "same-id")).await;
    socket.send(send_frame(&room, "once", "same-id")).await;
    let frames = socket.drain().await;
    let acks: Vec<_> = frames.iter().filter(|f| f["type"] == "ack").collect();
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0]["message"], acks[1]["message"]);
    assert_eq!(frames.iter().filter(|f| f["type"] == "message_created").count(), 1);
    let history = alice.get(&format!("/api/rooms/{room}/messages")).await.body;
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
}

/// R-WS-2: sends written back to back, without waiting for answers, are answered in the order
/// they were sent, refusals and repeats in their places, each ack before its message's echo,
/// and stored in that order (the session keeps several in flight, ARCHITECTURE.md).
#[tokio::test]
async fn r_ws_2_back_to_back_sends_are_answered_in_order() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("burst", "open").await;
    let (mut socket, _) = server.connect(&alice).await;
    let frames = vec![
        send_frame(&room, "one", "c1"),
        send_frame(&room, "two", "c2"),
        send_frame(&room, "   ", "c3"),
        send_frame(&room, "two again", "c2"),
        send_frame(&room, "three", "c5"),
        send_frame(&room, "four", "c6"),
    ];
    let (mut answers, mut echoes) = (0, 0);
    let received = socket
        .send_while_reading(frames, |frame| {
            match frame["type"].as_str() {
                Some("ack" | "error") => answers += 1,
                Some("message_created") => echoes += 1,
                _ => {}
            }
            answers == 6 && echoes == 4
        })
        .await;
    let answered: Vec<(String, String, Option<u64>)> = received
        .iter()
        .filter(|f| f["type"] == "ack" || f["type"] == "error")
        .map(|f| {
            let what = f["code"].as_str().unwrap_or("ack").to_owned();
            (f["client_id"].as_str().unwrap().to_owned(), what, f["message"]["seq"].as_u64())
        })
        .collect();
    let expected = [
        ("c1", "ack", Some(1)),
        ("c2", "ack", Some(2)),
        ("c3", "validation_failed", None),
        ("c2", "ack", Some(2)),
        ("c5", "ack", Some(3)),
        ("c6", "ack", Some(4)),
    ]
    .map(|(id, what, seq)| (id.to_owned(), what.to_owned(), seq));
    assert_eq!(answered, expected);
    let echoed: Vec<Value> = received.iter().filter(|f| f["type"] == "message_created").cloned().collect();
    assert_eq!(seqs(&echoed), vec![1, 2, 3, 4], "each new message echoed once, in order");
    for seq in 1..=4u64 {
        let position = |kind: &str| {
            received.iter().position(|f| f["type"] == kind && f["message"]["seq"].as_u64() == Some(seq)).unwrap()
        };
        assert!(position("ack") < position("message_created"), "ack of {seq} before its echo");
    }
    let history = alice.get(&format!("/api/rooms/{room}/messages")).await.body;
    let bodies: Vec<&str> = history["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["four", "three", "two", "one"], "stored in the order sent (newest first)");
}

/// R-MSG-4, R-WS-2: a direct message reaches its two members only.
#[tokio::test]
async fn r_ws_2_direct_messages_are_targeted() {
    let server = Server::start().await;
    let (alice, bob, carol) = (server.user("alice").await, server.user("bob").await, server.user("carol").await);
    let dm = alice.post("/api/dms", json!({"username": "bob"})).await.body["room"]["id"].as_str().unwrap().to_owned();
    room_with(&alice, &[&carol], "shared").await;
    let (mut bob_ws, _) = server.connect(&bob).await;
    let (mut carol_ws, _) = server.connect(&carol).await;
    let (mut alice_ws, _) = server.connect(&alice).await;
    alice_ws.send(send_frame(&dm, "just for bob", "dm-1")).await;
    assert_eq!(bob_ws.next_of("message_created").await["message"]["body"], "just for bob");
    assert!(carol_ws.drain_of("message_created").await.is_empty());
    // Bob was online: no "direct message while offline" notification.
    assert!(bob.notification_kinds().await.is_empty());
}

/// R-WS-3: after a reconnect, resume delivers every message sent meanwhile, in order, then
/// `resumed`; nothing is lost or duplicated, even with live messages arriving during the replay.
#[tokio::test]
async fn r_ws_3_resume_without_loss_or_duplicates() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = room_with(&alice, &[&bob], "resume").await;
    let (mut bob_ws, _) = server.connect(&bob).await;
    for i in 1..=3 {
        alice.say(&room, &format!("before {i}")).await;
    }
    let seen = seqs(&messages(&mut bob_ws, 3).await);
    let last_seen = *seen.last().unwrap();
    bob_ws.close().await;

    for i in 1..=7 {
        alice.say(&room, &format!("while away {i}")).await;
    }
    let (mut bob_ws, _) = server.connect(&bob).await;
    let (mut alice_ws, _) = server.connect(&alice).await;
    bob_ws.send(json!({"type": "resume", "rooms": {room.clone(): last_seen}})).await;
    for i in 0..5 {
        alice_ws.send(send_frame(&room, &format!("live {i}"), &format!("live-{i}"))).await;
    }
    let mut got = Vec::new();
    let mut resumed_after = None;
    while got.len() < 12 {
        let frame = bob_ws.next().await;
        match frame["type"].as_str().unwrap() {
            "message_created" => got.push(frame["message"]["seq"].as_u64().unwrap()),
            "resumed" => resumed_after = Some(got.len()),
            "presence" => {}
            other => panic!("unexpected {other}: {frame}"),
        }
    }
    assert_eq!(got, (4..=15).collect::<Vec<_>>(), "every message once, in order");
    let resumed_after = match resumed_after {
        Some(at) => at,
        None => {
            assert_eq!(bob_ws.next_of("resumed").await["type"], "resumed");
            got.len()
        }
    };
    assert!(resumed_after >= 7, "the replay covers what was missed before `resumed`");
    assert!(bob_ws.drain_of("message_created").await.is_empty(), "nothing twice");

    // Rooms one is not in are refused; what this session already delivered is not sent again.
    let other = alice.create_room("private", "invite").await;
    bob_ws.send(json!({"type": "resume", "rooms": {other.clone(): 0, room.clone(): 14}})).await;
    let mut frames = Vec::new();
    loop {
        let frame = bob_ws.next().await;
        if frame["type"] == "resumed" {
            break;
        }
        frames.push(frame);
    }
    assert_eq!(frames.len(), 1, "this session already has 15: {frames:?}");
    assert_eq!(frames[0]["code"], "not_a_member");
}

/// R-WS-3: resume order is a guarantee, not luck: twenty times in a row, a client comes back,
/// resumes from the last message it saw while live messages are sent at the same moment, and
/// sees one increasing sequence with nothing missing and nothing twice.
#[tokio::test]
async fn r_ws_3_resume_is_in_order_every_time() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = room_with(&alice, &[&bob], "again and again").await;
    let (mut alice_ws, _) = server.connect(&alice).await;
    let mut last_seen = 0_u64;
    for round in 0..20 {
        for i in 0..3 {
            alice.say(&room, &format!("round {round}, away {i}")).await;
        }
        let (mut bob_ws, _) = server.connect(&bob).await;
        bob_ws.send(json!({"type": "resume", "rooms": {room.clone(): last_seen}})).await;
        for i in 0..3 {
            alice_ws.send(send_frame(&room, &format!("round {round}, live {i}"), &format!("r{round}-{i}"))).await;
        }
        let latest = last_seen + 6;
        let mut got = Vec::new();
        while got.last().is_none_or(|seq| *seq < latest) {
            let frame = bob_ws.next().await;
            if frame["type"] == "message_created" {
                got.push(frame["message"]["seq"].as_u64().unwrap());
            }
        }
        assert_eq!(got, ((last_seen + 1)..=latest).collect::<Vec<_>>(), "round {round}: once each, in order");
        bob_ws.close().await;
        last_seen = latest;
    }
}

/// R-WS-2, R-ROOM-3/4/6: kick, ban and termination events reach the right users, and delivery to
/// the removed stops.
#[tokio::test]
async fn r_ws_2_kick_ban_and_termination_stop_delivery() {
    let server = Server::start().await;
    let (alice, bob, carol, dave) =
        (server.user("alice").await, server.user("bob").await, server.user("carol").await, server.user("dave").await);
    let room = room_with(&alice, &[&bob, &carol, &dave], "moderated").await;
    let (mut bob_ws, _) = server.connect(&bob).await;
    let (mut carol_ws, _) = server.connect(&carol).await;
    let (mut dave_ws, _) = server.connect(&dave).await;

    alice.post_empty(&format!("/api/rooms/{room}/members/{}/kick", bob.id)).await.expect_status(204);
    let frames = bob_ws.drain().await;
    let left = frames.iter().find(|f| f["type"] == "member_left").expect("member_left");
    assert_eq!((left["user_id"].as_str(), left["reason"].as_str()), (Some(bob.id.as_str()), Some("kicked")));
    assert!(frames.iter().any(|f| f["type"] == "notification_created" && f["notification"]["kind"] == "kicked"));
    assert_eq!(carol_ws.next_of("member_left").await["reason"], "kicked");

    alice.post(&format!("/api/rooms/{room}/bans"), json!({"user_id": carol.id})).await.expect_status(201);
    assert_eq!(carol_ws.next_of("member_left").await["reason"], "banned");
    assert_eq!(dave_ws.next_of("member_left").await["reason"], "kicked");
    assert_eq!(dave_ws.next_of("member_left").await["reason"], "banned");

    alice.say(&room, "after the purge").await;
    assert_eq!(dave_ws.next_of("message_created").await["message"]["body"], "after the purge");
    assert!(bob_ws.drain_of("message_created").await.is_empty(), "kicked: no more messages");
    assert!(carol_ws.drain_of("message_created").await.is_empty(), "banned: no more messages");

    // Role changes and joins are announced.
    alice
        .put(&format!("/api/rooms/{room}/members/{}/role", dave.id), json!({"role": "admin"}))
        .await
        .expect_status(200);
    let changed = dave_ws.next_of("role_changed").await;
    assert_eq!((changed["user_id"].as_str(), changed["role"].as_str()), (Some(dave.id.as_str()), Some("admin")));
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    assert_eq!(dave_ws.next_of("member_joined").await["user"]["username"], "bob");
    assert_eq!(
        bob_ws.next_of("member_joined").await["user"]["username"],
        "bob",
        "the joiner's sessions follow the room"
    );

    alice.delete(&format!("/api/rooms/{room}")).await.expect_status(204);
    assert_eq!(dave_ws.next_of("room_terminated").await["room_id"], room.as_str());
    assert_eq!(bob_ws.next_of("room_terminated").await["room_id"], room.as_str());
    dave_ws.send(send_frame(&room, "hello?", "late")).await;
    let refused = dave_ws.next_of("error").await;
    assert_eq!((refused["code"].as_str(), refused["client_id"].as_str()), (Some("room_terminated"), Some("late")));
}

/// R-WS-2, R-WS-5: typing reaches the room; presence turns online with the first connection and
/// offline when the last one closes.
#[tokio::test]
async fn r_ws_5_typing_and_presence() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = room_with(&alice, &[&bob], "chatty").await;
    let (mut alice_ws, _) = server.connect(&alice).await;
    let (bob_ws, _) = server.connect(&bob).await;
    let (mut bob_phone, _) = server.connect(&bob).await;
    let online = alice_ws.next().await;
    assert_eq!(
        (online["type"].as_str(), online["user_id"].as_str(), online["online"].as_bool()),
        (Some("presence"), Some(bob.id.as_str()), Some(true))
    );
    assert_eq!(alice.get("/api/users/bob").await.body["user"]["online"], true);

    bob_phone.send(json!({"type": "typing", "room_id": room})).await;
    let typing = alice_ws.next().await;
    assert_eq!(
        (typing["type"].as_str(), typing["user_id"].as_str(), typing["room_id"].as_str()),
        (Some("typing"), Some(bob.id.as_str()), Some(room.as_str()))
    );

    bob_ws.close().await;
    assert!(alice_ws.drain_of("presence").await.is_empty(), "bob is still online on his phone");
    bob_phone.close().await;
    let offline = alice_ws.next().await;
    assert_eq!((offline["type"].as_str(), offline["online"].as_bool()), (Some("presence"), Some(false)));
    assert_eq!(alice.get("/api/users/bob").await.body["user"]["online"], false);

    // Typing where one is not a member is refused.
    let other = bob.create_room("bob's", "invite").await;
    alice_ws.send(json!({"type": "typing", "room_id": other})).await;
    assert_eq!(alice_ws.next().await["code"], "not_a_member");
}

/// R-WS-4: a client that never reads is cut off with a reason while the others keep receiving,
/// and it can resume what it missed.
#[tokio::test]
async fn r_ws_4_slow_consumers_are_disconnected() {
    let server = Server::start_with(&[("CONCLAVE_WS_QUEUE", "8")]).await;
    let (alice, bob, slow) = (server.user("alice").await, server.user("bob").await, server.user("slow").await);
    let room = room_with(&alice, &[&bob, &slow], "firehose").await;
    let mut slow_ws = server.small_buffer_socket().await;
    slow_ws.send(json!({"type": "authenticate", "token": slow.token.clone().unwrap()})).await;
    let (mut bob_ws, _) = server.connect(&bob).await;
    // More than the kernel's socket buffers hold (4 MiB send buffer, 4 KiB receive buffer), so
    // that the frames really pile up on the server.
    let big = "x".repeat(4000);
    let total = 1500;
    let reader = tokio::spawn(async move {
        let got = messages(&mut bob_ws, total).await;
        (seqs(&got), bob_ws)
    });
    for _ in 0..total {
        alice.say(&room, &big).await;
    }
    let (bob_seqs, _bob_ws) = reader.await.unwrap();
    assert_eq!(bob_seqs, (1..=total as u64).collect::<Vec<_>>(), "the others keep receiving");

    // The slow client finds its buffered frames, then the close with its reason.
    let mut received = Vec::new();
    let reason = loop {
        match slow_ws.next_or_close().await {
            Ok(frame) if frame["type"] == "message_created" => received.push(frame["message"]["seq"].as_u64().unwrap()),
            Ok(_) => {}
            Err(reason) => break reason,
        }
    };
    assert!(received.len() < total, "it was cut off before the end");
    // The close frame carries the reason when the connection can still take it; a client that
    // read nothing for long may only see the connection end.
    if let Some(reason) = reason {
        assert!(reason.starts_with("slow_consumer"), "{reason}");
    }
    let last = received.last().copied().unwrap_or(0);
    let (mut again, _) = server.connect(&slow).await;
    again.send(json!({"type": "resume", "rooms": {room: last}})).await;
    let rest = messages(&mut again, total - last as usize).await;
    assert_eq!(seqs(&rest), (last + 1..=total as u64).collect::<Vec<_>>(), "and it resumes the rest");
}

/// R-SEC-3: junk frames get an error frame with a code, and the session carries on.
#[tokio::test]
async fn r_sec_3_junk_frames_are_answered_not_fatal() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("junk", "open").await;
    let (mut socket, _) = server.connect(&alice).await;
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "malformed_frame"),
        ("{}".into(), "malformed_frame"),
        (r#"{"type":"shout"}"#.into(), "malformed_frame"),
        (r#"{"type":"send_message","room_id":5}"#.into(), "malformed_frame"),
        (
            json!({"type": "send_message", "room_id": room, "body": "x", "client_id": "c", "color": "neon"})
                .to_string(),
            "malformed_frame",
        ),
        (
            json!({"type": "send_message", "room_id": "nope", "body": "x", "client_id": "c"}).to_string(),
            "room_not_found",
        ),
        (
            json!({"type": "send_message", "room_id": room, "body": "  ", "client_id": "c"}).to_string(),
            "validation_failed",
        ),
        (
            json!({"type": "send_message", "room_id": room, "body": "x".repeat(4001), "client_id": "c"}).to_string(),
            "validation_failed",
        ),
        (
            json!({"type": "send_message", "room_id": room, "body": "x", "client_id": ""}).to_string(),
            "validation_failed",
        ),
        (json!({"type": "typing", "room_id": "nope"}).to_string(), "room_not_found"),
        (format!(r#"{{"type":"ping","pad":"{}"}}"#, "p".repeat(70 * 1024)), "frame_too_large"),
    ];
    for (text, code) in cases {
        socket.send_text(text.clone()).await;
        let frame = socket.next().await;
        assert_eq!(
            (frame["type"].as_str(), frame["code"].as_str()),
            (Some("error"), Some(code)),
            "for {}",
            &text[..text.len().min(80)]
        );
    }
    socket.send_binary(vec![1, 2, 3]).await;
    assert_eq!(socket.next().await["code"], "malformed_frame");
    socket.send(send_frame(&room, "still alive", "ok-1")).await;
    assert_eq!(socket.next_of("ack").await["message"]["seq"], 1);
    assert_eq!(alice.get(&format!("/api/rooms/{room}/messages")).await.body["items"].as_array().unwrap().len(), 1);
    server.anonymous().get("/healthz").await.expect_status(200);
}

/// R-MSG-5: of a burst of 80 sends, exactly the accepted ones are stored; the refused ones are
/// answered `rate_limited` with the time to wait (429 + Retry-After over REST).
#[tokio::test]
async fn r_msg_5_rate_limit_stores_exactly_the_accepted() {
    let server = Server::start_with(&[("CONCLAVE_MESSAGE_BURST", "10"), ("CONCLAVE_MESSAGE_PER_SECOND", "1")]).await;
    let alice = server.user("alice").await;
    let room = alice.create_room("flood", "open").await;
    let (mut socket, _) = server.connect(&alice).await;
    for i in 0..80 {
        socket.send(send_frame(&room, &format!("flood {i}"), &format!("f{i}"))).await;
    }
    let (mut accepted, mut refused) = (Vec::new(), 0);
    while accepted.len() + refused < 80 {
        let frame = socket.next().await;
        match frame["type"].as_str().unwrap() {
            "ack" => accepted.push(frame["message"]["id"].as_str().unwrap().to_owned()),
            "error" => {
                assert_eq!(frame["code"], "rate_limited");
                assert!(frame["retry_after_secs"].as_u64().unwrap() >= 1);
                assert!(frame["client_id"].is_string());
                refused += 1;
            }
            _ => {}
        }
    }
    assert!((10..20).contains(&accepted.len()), "{} accepted", accepted.len());
    let stored: Vec<String> = alice
        .all_items(&format!("/api/rooms/{room}/messages?limit=200"))
        .await
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = accepted.clone();
    expected.sort();
    let mut stored_sorted = stored.clone();
    stored_sorted.sort();
    assert_eq!(stored_sorted, expected, "exactly the accepted ones are stored");

    let limited = alice
        .post(&format!("/api/rooms/{room}/messages"), json!({"body": "one more"}))
        .await
        .expect_error(429, "rate_limited");
    let retry_after: u64 = limited.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(limited.body["error"]["details"]["retry_after_secs"], retry_after);
}

/// R-MSG-5 / R-WS-2 under overload: a server that cannot take sends as fast as they come
/// refuses the ones that waited too long (here anything over a millisecond) with
/// `rate_limited` at once, rather than acking them late. Every send gets exactly one answer,
/// exactly the acked ones are stored, without a gap in the sequence, and the other members
/// receive exactly those, once and in order.
#[tokio::test]
async fn r_msg_5_a_server_behind_refuses_sends_and_loses_nothing_it_acked() {
    const SENDS: usize = 300;
    // The test client reads more slowly than a debug server writes: a queue long enough for the
    // whole burst keeps this about shedding, not slow consumers (R-WS-4, tested on its own).
    let server = Server::start_with(&[("CONCLAVE_SHED_LAG_MS", "1"), ("CONCLAVE_WS_QUEUE", "4096")]).await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = room_with(&alice, &[&bob], "busy").await;
    let (mut sender, _) = server.connect(&alice).await;
    let (mut receiver, _) = server.connect(&bob).await;
    // Bob reads all along, until the message Alice sends last, by REST.
    let bob_reads = tokio::spawn(async move {
        let mut seqs = Vec::new();
        loop {
            let frame = receiver.next().await;
            if frame["type"] == "message_created" {
                if frame["message"]["body"] == "done" {
                    return (seqs, receiver);
                }
                seqs.push(frame["message"]["seq"].as_u64().unwrap());
            }
        }
    });
    let frames = (0..SENDS).map(|i| send_frame(&room, &format!("burst {i}"), &format!("b{i}"))).collect();
    let mut answers = 0;
    let received = sender
        .send_while_reading(frames, |frame| {
            answers += usize::from(matches!(frame["type"].as_str(), Some("ack" | "error")));
            answers == SENDS
        })
        .await;
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    for frame in received {
        match frame["type"].as_str().unwrap() {
            "ack" => {
                acked.push((frame["client_id"].as_str().unwrap().to_owned(), frame["message"]["seq"].as_u64().unwrap()))
            }
            "error" => {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                assert_eq!(frame["retry_after_secs"], 1, "{frame}");
                refused.push(frame["client_id"].as_str().unwrap().to_owned());
            }
            _ => {}
        }
    }
    assert!(!refused.is_empty(), "a burst of {SENDS} sends waits more than a millisecond");
    let mut answered: Vec<&str> =
        acked.iter().map(|(id, _)| id.as_str()).chain(refused.iter().map(String::as_str)).collect();
    answered.sort_unstable();
    answered.dedup();
    assert_eq!(answered.len(), SENDS, "one answer per send");
    let seqs_acked: Vec<u64> = acked.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs_acked, (1..=acked.len() as u64).collect::<Vec<_>>(), "acked in order, without a gap");
    let stored = alice.all_items(&format!("/api/rooms/{room}/messages?limit=200")).await;
    assert_eq!(stored.len(), acked.len(), "exactly the acked messages are stored");
    alice.say(&room, "done").await;
    let (received, mut receiver) = bob_reads.await.unwrap();
    assert_eq!(received, seqs_acked, "the others receive exactly those, once and in order");
    assert!(receiver.drain_of("message_created").await.is_empty());
    let metrics = server.anonymous().get("/metrics").await.expect_status(200);
    let Value::String(text) = metrics.body else { panic!("metrics are text") };
    let shed = text.lines().find_map(|l| l.strip_prefix("conclave_sends_shed_total ")).unwrap();
    assert!(shed.parse::<usize>().unwrap() > 0, "shed sends are counted: {shed} for {} refused", refused.len());
}

/// R-ACC-6: logins are limited per account and per client address.
#[tokio::test]
async fn r_acc_6_login_rate_limit() {
    let server = Server::start_with(&[("CONCLAVE_LOGIN_BURST", "3"), ("CONCLAVE_LOGIN_PER_MINUTE", "1")]).await;
    let anon = server.anonymous();
    anon.post("/api/auth/signup", json!({"username": "target", "password": conclave_tests::PASSWORD}))
        .await
        .expect_status(201);
    for _ in 0..3 {
        anon.post("/api/auth/login", json!({"username": "target", "password": "wrong guess!!"}))
            .await
            .expect_error(401, "invalid_credentials");
    }
    let limited = anon
        .post("/api/auth/login", json!({"username": "target", "password": conclave_tests::PASSWORD}))
        .await
        .expect_error(429, "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    // The address is limited too: another account from the same client is refused.
    anon.post("/api/auth/login", json!({"username": "someone", "password": "whatever123"}))
        .await
        .expect_error(429, "rate_limited");
}

/// R-ACC-6 behind a load balancer: with the proxy trusted, each client behind it has its own
/// login allowance (by `X-Forwarded-For`); a client that is not a trusted proxy cannot pick its
/// address by sending the header.
#[tokio::test]
async fn r_acc_6_login_limits_follow_trusted_proxies_only() {
    let login = |client: &conclave_tests::Client, forwarded: &str, who: &str| {
        client
            .raw(reqwest::Method::POST, "/api/auth/login")
            .header("x-forwarded-for", forwarded)
            .json(&json!({"username": who, "password": "wrong guess!!"}))
    };
    let limits = [("CONCLAVE_LOGIN_BURST", "2"), ("CONCLAVE_LOGIN_PER_MINUTE", "1")];
    let behind_proxy =
        Server::start_with(&[limits[0], limits[1], ("CONCLAVE_TRUSTED_PROXIES", "127.0.0.0/8,::1")]).await;
    let anon = behind_proxy.anonymous();
    for (n, client) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"].iter().enumerate() {
        // Different accounts, different clients: no allowance is shared.
        for _ in 0..2 {
            anon.send(login(&anon, client, &format!("user{n}"))).await.expect_error(401, "invalid_credentials");
        }
    }
    anon.send(login(&anon, "198.51.100.1", "user9")).await.expect_error(429, "rate_limited");
    // Without the setting, the header changes nothing: every attempt is the socket's.
    let direct = Server::start_with(&limits).await;
    let anon = direct.anonymous();
    for (n, client) in ["198.51.100.1", "198.51.100.2"].iter().enumerate() {
        anon.send(login(&anon, client, &format!("user{n}"))).await.expect_error(401, "invalid_credentials");
    }
    anon.send(login(&anon, "198.51.100.3", "user7")).await.expect_error(429, "rate_limited");
    let (status, log) = Server::start_failure(&[("CONCLAVE_TRUSTED_PROXIES", "10.0.0.0/8,the load balancer")]).await;
    assert!(!status.success());
    assert!(log.contains("\"the load balancer\" is neither an IP address nor a CIDR"), "{log}");
}

/// R-WS-4: a client that stops reading while frames wait for it is cut off once it has taken
/// nothing for `CONCLAVE_WS_DRAIN_TIMEOUT_SECS`, even though its queue is far from full and its
/// heartbeats are far from due: it cannot pin a buffer or a task. Its user turns offline.
#[tokio::test]
async fn r_ws_4_a_client_that_stops_reading_is_cut_off_within_the_drain_timeout() {
    let server = Server::start_with(&[
        ("CONCLAVE_WS_QUEUE", "100000"),
        ("CONCLAVE_WS_HEARTBEAT_SECS", "600"),
        ("CONCLAVE_WS_DRAIN_TIMEOUT_SECS", "1"),
    ])
    .await;
    let (alice, stuck) = (server.user("alice").await, server.user("stuck").await);
    let room = room_with(&alice, &[&stuck], "stuck").await;
    let (mut alice_ws, _) = server.connect(&alice).await;
    let mut stuck_ws = server.small_buffer_socket().await;
    stuck_ws.send(json!({"type": "authenticate", "token": stuck.token.clone().unwrap()})).await;
    let online = alice_ws.next_of("presence").await;
    assert_eq!((online["user_id"].as_str(), online["online"].as_bool()), (Some(stuck.id.as_str()), Some(true)));
    // Alice reads all along; the stuck client's connection ends and its user goes offline.
    let watching = tokio::spawn(async move {
        loop {
            let frame = alice_ws.next().await;
            if frame["type"] == "presence" {
                return frame;
            }
        }
    });
    // More than the kernel's socket buffers hold (4 MiB send buffer, 4 KiB receive buffer):
    // the server's write waits for a client that reads nothing.
    let big = "x".repeat(4000);
    for _ in 0..1500 {
        alice.say(&room, &big).await;
    }
    let offline = watching.await.unwrap();
    assert_eq!((offline["user_id"].as_str(), offline["online"].as_bool()), (Some(stuck.id.as_str()), Some(false)));
    drop(stuck_ws);
}

/// R-WS-5: heartbeats find a connection that stopped answering; its user turns offline.
#[tokio::test]
async fn r_ws_5_dead_connections_are_detected_by_heartbeats() {
    let server = Server::start_with(&[("CONCLAVE_WS_HEARTBEAT_SECS", "1")]).await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    room_with(&alice, &[&bob], "heartbeat").await;
    let (mut alice_ws, _) = server.connect(&alice).await;
    // Bob's client authenticates, then never reads again: it answers no ping.
    let mut bob_ws = server.small_buffer_socket().await;
    bob_ws.send(json!({"type": "authenticate", "token": bob.token.clone().unwrap()})).await;
    let online = alice_ws.next_of("presence").await;
    assert_eq!((online["user_id"].as_str(), online["online"].as_bool()), (Some(bob.id.as_str()), Some(true)));
    // Alice keeps answering pings (her client reads), so only Bob's connection is dropped.
    let offline = alice_ws.next_of("presence").await;
    assert_eq!((offline["user_id"].as_str(), offline["online"].as_bool()), (Some(bob.id.as_str()), Some(false)));
    assert_eq!(alice.get("/api/users/bob").await.body["user"]["online"], false);
}
