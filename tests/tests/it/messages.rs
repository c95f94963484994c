//! Messages and direct conversations: SPEC R-MSG-1 to R-MSG-4 and R-MSG-7, against the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conclave_tests::{Server, User};
use serde_json::{Value, json};

fn seqs(items: &[Value]) -> Vec<u64> {
    items.iter().map(|m| m["seq"].as_u64().unwrap()).collect()
}

async fn page(user: &User, room: &str, query: &str) -> Value {
    user.get(&format!("/api/rooms/{room}/messages{query}")).await.expect_status(200).body
}

/// R-MSG-1: a member's message is stored with the server's id, author, time and the room's
/// next sequence number; 60 messages get 1..60.
#[tokio::test]
async fn r_msg_1_messages_get_consecutive_sequence_numbers() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("sequence", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let first = alice
        .post(
            &format!("/api/rooms/{room}/messages"),
            json!({"body": "  hello\nworld  ", "color": "violet", "sticker": "cat"}),
        )
        .await
        .expect_status(201)
        .body["message"]
        .clone();
    assert_eq!(first["seq"], 1);
    assert_eq!(first["body"], "hello\nworld");
    assert_eq!(first["room_id"], room.as_str());
    assert_eq!(first["author_id"], alice.id.as_str());
    assert_eq!(first["author_username"], "alice");
    assert_eq!((first["color"].clone(), first["sticker"].clone()), (json!("violet"), json!("cat")));
    assert!(first["id"].is_string() && first["created_at"].is_string());
    assert_eq!(
        (first["edited_at"].clone(), first["deleted"].clone(), first["attachment"].clone()),
        (Value::Null, json!(false), Value::Null)
    );
    for i in 2..=60 {
        let author = if i % 3 == 0 { &bob } else { &alice };
        assert_eq!(author.say(&room, &format!("message {i}")).await["seq"], i);
    }
    let all = alice.all_items(&format!("/api/rooms/{room}/messages?limit=200")).await;
    assert_eq!(seqs(&all), (1..=60).rev().collect::<Vec<_>>());
    // A sticker alone is a message; an empty body alone is not.
    let sticker =
        alice.post(&format!("/api/rooms/{room}/messages"), json!({"sticker": "rocket"})).await.expect_status(201);
    assert_eq!(sticker.body["message"]["seq"], 61);
}

/// R-MSG-1 and R-SEC-3: invalid messages get a 422 naming the field; nothing is stored.
#[tokio::test]
async fn r_msg_1_invalid_messages_store_nothing() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("strict", "open").await;
    let path = format!("/api/rooms/{room}/messages");
    for (body, field) in [
        (json!({"body": ""}), "body"),
        (json!({"body": "   \n  "}), "body"),
        (json!({"body": "x".repeat(4001)}), "body"),
        (json!({"body": "hi", "client_id": ""}), "client_id"),
        (json!({"body": "hi", "client_id": "c".repeat(65)}), "client_id"),
    ] {
        let response = alice.post(&path, body).await.expect_error(422, "validation_failed");
        assert!(response.body["error"]["details"][field].is_string());
    }
    alice.post(&path, json!({"body": "hi", "color": "ultraviolet"})).await.expect_error(400, "malformed_json");
    alice.post(&path, json!({"body": "hi", "sticker": "dragon"})).await.expect_error(400, "malformed_json");
    alice.post(&path, json!({"body": 42})).await.expect_error(400, "malformed_json");
    assert!(page(&alice, &room, "").await["items"].as_array().unwrap().is_empty());
    assert_eq!(alice.say(&room, &"x".repeat(4000)).await["seq"], 1, "4000 chars is fine, and no number was used up");
}

/// R-MSG-1: the same client id twice stores one message and answers it twice.
#[tokio::test]
async fn r_msg_1_client_ids_are_idempotent() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("idempotent", "open").await;
    let path = format!("/api/rooms/{room}/messages");
    let first = alice.post(&path, json!({"body": "once", "client_id": "abc-1"})).await.expect_status(201).body;
    let second = alice.post(&path, json!({"body": "once", "client_id": "abc-1"})).await.expect_status(201).body;
    assert_eq!(first, second);
    assert_eq!(page(&alice, &room, "").await["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        alice.post(&path, json!({"body": "twice", "client_id": "abc-2"})).await.expect_status(201).body["message"]["seq"],
        2
    );
}

/// R-MSG-2: unknown room, not a member, terminated room: each its code, nothing stored.
#[tokio::test]
async fn r_msg_2_refused_sends() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    bob.post("/api/rooms/no-such-room/messages", json!({"body": "hi"})).await.expect_error(404, "room_not_found");
    let room = alice.create_room("members only", "open").await;
    bob.post(&format!("/api/rooms/{room}/messages"), json!({"body": "hi"})).await.expect_error(403, "not_a_member");
    bob.get(&format!("/api/rooms/{room}/messages")).await.expect_error(403, "not_a_member");
    alice.delete(&format!("/api/rooms/{room}")).await.expect_status(204);
    alice
        .post(&format!("/api/rooms/{room}/messages"), json!({"body": "hi"}))
        .await
        .expect_error(409, "room_terminated");
}

/// R-MSG-3: history newest first, in pages (default 50, max 200), before or after a sequence number.
#[tokio::test]
async fn r_msg_3_history_pages() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("history", "open").await;
    for i in 1..=60 {
        alice.say(&room, &format!("m{i}")).await;
    }
    // Joining shows the latest page: the default 50.
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let latest = page(&bob, &room, "").await;
    let items = latest["items"].as_array().unwrap();
    assert_eq!(seqs(items), (11..=60).rev().collect::<Vec<_>>());
    // Scrolling up with the cursor.
    let older = page(&bob, &room, &format!("?cursor={}", latest["next_cursor"].as_str().unwrap())).await;
    assert_eq!(seqs(older["items"].as_array().unwrap()), (1..=10).rev().collect::<Vec<_>>());
    assert!(older["next_cursor"].is_null());

    assert_eq!(seqs(page(&bob, &room, "?before=20&limit=5").await["items"].as_array().unwrap()), [19, 18, 17, 16, 15]);
    let after = page(&bob, &room, "?after=50&limit=4").await;
    assert_eq!(seqs(after["items"].as_array().unwrap()), [54, 53, 52, 51]);
    let rest = page(&bob, &room, &format!("?cursor={}&limit=4", after["next_cursor"].as_str().unwrap())).await;
    assert_eq!(seqs(rest["items"].as_array().unwrap()), [58, 57, 56, 55]);
    let all_after = bob.all_items(&format!("/api/rooms/{room}/messages?after=50&limit=3")).await;
    let mut got = seqs(&all_after);
    got.sort_unstable();
    assert_eq!(got, (51..=60).collect::<Vec<_>>(), "forward paging reaches the newest, nothing twice");
    assert!(page(&bob, &room, "?after=60").await["items"].as_array().unwrap().is_empty());
    assert_eq!(page(&bob, &room, "?limit=200").await["items"].as_array().unwrap().len(), 60);

    bob.get(&format!("/api/rooms/{room}/messages?limit=201")).await.expect_error(422, "validation_failed");
    bob.get(&format!("/api/rooms/{room}/messages?limit=0")).await.expect_error(422, "validation_failed");
    bob.get(&format!("/api/rooms/{room}/messages?before=-1")).await.expect_error(400, "invalid_query");
    bob.get(&format!("/api/rooms/{room}/messages?before=5&after=2")).await.expect_error(400, "invalid_query");
    // Sequence numbers end at 2^63 - 1, as the document says; one past it is refused.
    assert!(page(&bob, &room, "?after=9223372036854775807").await["items"].as_array().unwrap().is_empty());
    bob.get(&format!("/api/rooms/{room}/messages?before=9223372036854775808")).await.expect_error(400, "invalid_query");
    bob.get(&format!("/api/rooms/{room}/messages?cursor=garbage")).await.expect_error(400, "invalid_query");
}

/// Unread counts in "my rooms" follow what was read.
#[tokio::test]
async fn unread_counts_in_my_rooms() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("unread", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    for i in 0..3 {
        alice.say(&room, &format!("news {i}")).await;
    }
    let mine = bob.get("/api/rooms/mine").await.expect_status(200).body;
    assert_eq!(mine["items"][0]["unread_count"], 3);
    assert_eq!(alice.get("/api/rooms/mine").await.body["items"][0]["unread_count"], 0, "own messages are read");
    bob.post(&format!("/api/rooms/{room}/read"), json!({"seq": 2})).await.expect_status(204);
    assert_eq!(bob.get("/api/rooms/mine").await.body["items"][0]["unread_count"], 1);
    bob.post(&format!("/api/rooms/{room}/read"), json!({"seq": "all"})).await.expect_error(400, "malformed_json");
    let carol = server.user("carol").await;
    carol.post(&format!("/api/rooms/{room}/read"), json!({"seq": 1})).await.expect_error(403, "not_a_member");
}

/// R-MSG-4: one conversation per pair, two members, no roles, never listed; leaving hides it
/// until the next message. An offline recipient is notified (R-NOTE-1).
#[tokio::test]
async fn r_msg_4_direct_messages() {
    let server = Server::start().await;
    let (alice, bob, carol) = (server.user("alice").await, server.user("bob").await, server.user("carol").await);
    let dm = alice.post("/api/dms", json!({"username": "Bob"})).await.expect_status(200).body["room"].clone();
    assert_eq!(dm["kind"], "direct");
    assert_eq!(dm["member_count"], 2);
    assert!(dm["owner_id"].is_null());
    let id = dm["id"].as_str().unwrap();
    let again = bob.post("/api/dms", json!({"user_id": alice.id})).await.expect_status(200).body;
    assert_eq!(again["room"]["id"], id, "the same pair gets the same conversation");

    alice.say(id, "psst").await;
    assert_eq!(bob.notification_kinds().await, ["direct_message"]);
    let reply = bob.say(id, "hi!").await;
    assert_eq!(reply["seq"], 2);
    let mine = bob.get("/api/rooms/mine").await.body;
    assert_eq!(mine["items"][0]["role"], Value::Null);
    assert_eq!(mine["items"][0]["peer"]["username"], "alice");
    let members = bob.get(&format!("/api/rooms/{id}/members")).await.body;
    assert!(members["items"].as_array().unwrap().iter().all(|m| m["role"].is_null()));

    // Outsiders see nothing; nobody moderates or joins.
    carol.get(&format!("/api/rooms/{id}")).await.expect_error(404, "room_not_found");
    carol.get(&format!("/api/rooms/{id}/messages")).await.expect_error(403, "not_a_member");
    carol.post_empty(&format!("/api/rooms/{id}/join")).await.expect_error(403, "direct_room");
    alice
        .post(&format!("/api/rooms/{id}/invites"), json!({"username": "carol"}))
        .await
        .expect_error(403, "direct_room");
    alice.post_empty(&format!("/api/rooms/{id}/members/{}/kick", bob.id)).await.expect_error(403, "direct_room");
    alice.post(&format!("/api/rooms/{id}/bans"), json!({"user_id": bob.id})).await.expect_error(403, "direct_room");
    alice.delete(&format!("/api/rooms/{id}")).await.expect_error(403, "direct_room");
    assert!(carol.all_items("/api/rooms?q=alice").await.is_empty());

    // Leaving hides it until the next message.
    alice.post_empty(&format!("/api/rooms/{id}/leave")).await.expect_status(204);
    assert!(alice.all_items("/api/rooms/mine").await.is_empty());
    bob.say(id, "come back").await;
    let back = alice.all_items("/api/rooms/mine").await;
    assert_eq!(back[0]["room"]["id"], id);
    assert_eq!(back[0]["unread_count"], 2, "\"hi!\" and \"come back\" are unread");

    alice.post("/api/dms", json!({"username": "alice"})).await.expect_error(422, "invalid_target");
    alice.post("/api/dms", json!({"username": "ghost"})).await.expect_error(404, "user_not_found");
    alice.post("/api/dms", json!({})).await.expect_error(422, "validation_failed");
}

/// R-MSG-7: authors edit and delete their own messages; admins delete any; others cannot.
#[tokio::test]
async fn r_msg_7_edit_and_delete() {
    let server = Server::start().await;
    let (alice, bob, carol) = (server.user("alice").await, server.user("bob").await, server.user("carol").await);
    let room = alice.create_room("edits", "open").await;
    for user in [&bob, &carol] {
        user.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    let message = bob.say(&room, "teh typo").await;
    let id = message["id"].as_str().unwrap();
    let path = format!("/api/rooms/{room}/messages/{id}");
    let edited = bob.patch(&path, json!({"body": "the typo"})).await.expect_status(200).body["message"].clone();
    assert_eq!((edited["body"].clone(), edited["seq"].clone()), (json!("the typo"), message["seq"].clone()));
    assert!(edited["edited_at"].is_string());
    carol.patch(&path, json!({"body": "hijack"})).await.expect_error(403, "forbidden");
    alice.patch(&path, json!({"body": "admins cannot edit"})).await.expect_error(403, "forbidden");
    bob.patch(&path, json!({"body": ""})).await.expect_error(422, "validation_failed");
    carol.delete(&path).await.expect_error(403, "forbidden");
    bob.patch(&format!("/api/rooms/{room}/messages/missing"), json!({"body": "x"}))
        .await
        .expect_error(404, "message_not_found");

    bob.delete(&path).await.expect_status(204);
    let latest = bob.get(&format!("/api/rooms/{room}/messages")).await.body["items"][0].clone();
    assert_eq!((latest["deleted"].clone(), latest["body"].clone()), (json!(true), json!("")));
    bob.patch(&path, json!({"body": "undo"})).await.expect_error(409, "message_deleted");

    let carols = carol.say(&room, "rude words").await;
    alice.delete(&format!("/api/rooms/{room}/messages/{}", carols["id"].as_str().unwrap())).await.expect_status(204);
    bob.delete(&format!("/api/rooms/{room}/messages/missing")).await.expect_error(404, "message_not_found");
}

/// R-MSG-4, R-OPS-5: two people opening their conversation at the same moment, four times
/// each, get one room (a unique index per pair), with both of them in it.
#[tokio::test]
async fn r_msg_4_racing_opens_make_one_conversation() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let opens = (0..8).map(|i| {
        let (from, to) = if i % 2 == 0 { (&alice, "bob") } else { (&bob, "alice") };
        from.post("/api/dms", json!({ "username": to }))
    });
    let answers = futures_util::future::join_all(opens).await;
    let ids: std::collections::BTreeSet<_> =
        answers.into_iter().map(|a| a.expect_status(200).body["room"]["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let id = ids.first().unwrap();
    assert_eq!(alice.get(&format!("/api/rooms/{id}")).await.expect_status(200).body["room"]["member_count"], 2);
}

/// One emoji as a path segment.
fn emoji_path(room: &str, message: &str, emoji: &str) -> String {
    let encoded: String = emoji.bytes().map(|b| format!("%{b:02X}")).collect();
    format!("/api/rooms/{room}/messages/{message}/reactions/{encoded}")
}

fn reactions_of(page: &Value, message: &str) -> Vec<(String, u64, bool)> {
    let found = page["items"].as_array().unwrap().iter().find(|m| m["id"] == message).unwrap();
    found["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["emoji"].as_str().unwrap().to_owned(), r["count"].as_u64().unwrap(), r["me"].as_bool().unwrap()))
        .collect()
}

/// R-MSG-9: members react with emoji; a reaction counts once per member; each reader sees the
/// counts and which are theirs; taking one back is idempotent; `❤` and `❤️` are one reaction.
#[tokio::test]
async fn r_msg_9_reactions_count_once_and_show_your_own() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("reactions", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let message = alice.say(&room, "ship it?").await["id"].as_str().unwrap().to_owned();
    let put = |user: &User, emoji: &str| user.raw(reqwest::Method::PUT, &emoji_path(&room, &message, emoji));
    for (user, emoji) in [(&bob, "👍"), (&bob, "👍"), (&alice, "👍"), (&alice, "\u{2764}"), (&bob, "❤️")] {
        assert_eq!(user.send(put(user, emoji)).await.status, 204, "{} {emoji}", user.username);
    }
    let as_alice = page(&alice, &room, "").await;
    assert_eq!(reactions_of(&as_alice, &message), vec![("👍".into(), 2, true), ("❤️".into(), 2, true)]);
    bob.delete(&emoji_path(&room, &message, "👍")).await.expect_status(204);
    bob.delete(&emoji_path(&room, &message, "👍")).await.expect_status(204);
    let as_bob = page(&bob, &room, "").await;
    assert_eq!(reactions_of(&as_bob, &message), vec![("👍".into(), 1, false), ("❤️".into(), 2, true)]);
}

/// R-MSG-9, R-SEC-3: a reaction that is not one emoji, to a message that is not there or was
/// deleted, from someone outside the room, or one kind too many is refused with its code.
#[tokio::test]
async fn r_msg_9_bad_reactions_are_refused() {
    let server = Server::start().await;
    let (alice, carol) = (server.user("alice").await, server.user("carol").await);
    let room = alice.create_room("picky", "open").await;
    let message = alice.say(&room, "react to me").await["id"].as_str().unwrap().to_owned();
    let put = |user: &User, message: &str, emoji: &str| {
        let (client, path) = ((*user).clone(), emoji_path(&room, message, emoji));
        async move { client.send(client.raw(reqwest::Method::PUT, &path)).await }
    };
    for bad in ["a", "👍👍", ":thumbsup:", "<b>"] {
        put(&alice, &message, bad).await.expect_error(422, "validation_failed");
    }
    put(&alice, "no-such-message", "👍").await.expect_error(404, "message_not_found");
    put(&carol, &message, "👍").await.expect_error(403, "not_a_member");
    let kinds = [
        "😀", "😂", "😍", "🎉", "🔥", "🙏", "👀", "💯", "✅", "❌", "🤔", "😢", "😮", "🚀", "🍕", "🐱", "🌟", "👏",
        "👍", "🦀",
    ];
    for emoji in kinds {
        put(&alice, &message, emoji).await.expect_status(204);
    }
    put(&alice, &message, "🐢").await.expect_error(409, "too_many_reactions");
    alice.delete(&format!("/api/rooms/{room}/messages/{message}")).await.expect_status(204);
    put(&alice, &message, "🐢").await.expect_error(409, "message_deleted");
    let deleted = page(&alice, &room, "").await;
    assert_eq!(reactions_of(&deleted, &message), vec![], "a deleted message keeps no reactions");
}

/// R-MSG-9, R-WS-2: reactions reach the room live, with who reacted; an edit carries the counts
/// with nobody's `me`.
#[tokio::test]
async fn r_msg_9_reactions_are_delivered_live() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("live reactions", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let message = alice.say(&room, "first draft").await["id"].as_str().unwrap().to_owned();
    let (mut bob_ws, _) = server.connect(&bob).await;
    alice.send(alice.raw(reqwest::Method::PUT, &emoji_path(&room, &message, "🎉"))).await.expect_status(204);
    let added = bob_ws.next_of("reaction_added").await;
    assert_eq!(
        added,
        json!({"type": "reaction_added", "room_id": room, "message_id": message, "emoji": "🎉", "user_id": alice.id})
    );
    alice
        .patch(&format!("/api/rooms/{room}/messages/{message}"), json!({"body": "final draft"}))
        .await
        .expect_status(200);
    let edited = bob_ws.next_of("message_updated").await;
    assert_eq!(edited["message"]["reactions"], json!([{"emoji": "🎉", "count": 1, "me": false}]));
    alice.delete(&emoji_path(&room, &message, "🎉")).await.expect_status(204);
    let removed = bob_ws.next_of("reaction_removed").await;
    assert_eq!((removed["emoji"].clone(), removed["user_id"].clone()), (json!("🎉"), json!(alice.id)));
}

/// R-MSG-8: a reply, sent over REST or the gateway, carries its original (id, number, author,
/// a one-line excerpt) live and in history, and shows it as it is now: edited, then deleted.
#[tokio::test]
async fn r_msg_8_replies_show_their_original() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("replies", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let question = alice.say(&room, "lunch\n\nat   noon?").await;
    let question_id = question["id"].as_str().unwrap().to_owned();
    let (mut alice_ws, _) = server.connect(&alice).await;
    let by_rest = bob
        .post(&format!("/api/rooms/{room}/messages"), json!({"body": "yes", "reply_to": question_id}))
        .await
        .expect_status(201)
        .body;
    let expected = json!({"message_id": question_id, "seq": 1, "author_username": "alice",
                          "excerpt": "lunch at noon?", "deleted": false});
    assert_eq!(by_rest["message"]["reply_to"], expected);
    assert_eq!(alice_ws.next_of("message_created").await["message"]["reply_to"], expected, "live, too");
    let (mut bob_ws, _) = server.connect(&bob).await;
    bob_ws
        .send(json!({"type": "send_message", "room_id": room, "body": "where?", "client_id": "r2",
                     "reply_to": question_id}))
        .await;
    assert_eq!(bob_ws.next_of("ack").await["message"]["reply_to"], expected, "over the gateway");
    alice
        .patch(&format!("/api/rooms/{room}/messages/{question_id}"), json!({"body": "lunch at one?"}))
        .await
        .expect_status(200);
    let history = page(&alice, &room, "").await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items[0]["reply_to"]["excerpt"], "lunch at one?", "the original as it is now");
    assert_eq!(items[2]["reply_to"], Value::Null, "a message that answers nothing");
    alice.delete(&format!("/api/rooms/{room}/messages/{question_id}")).await.expect_status(204);
    let history = page(&bob, &room, "").await;
    assert_eq!(
        history["items"][1]["reply_to"],
        json!({"message_id": question_id, "seq": 1, "author_username": "alice", "excerpt": "", "deleted": true})
    );
}

/// R-MSG-8, R-OPS-5: a reply to a message of another room, or to none, is refused with
/// `message_not_found` on both transports, and nothing is stored.
#[tokio::test]
async fn r_msg_8_replies_to_other_rooms_are_refused() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let (room, other) = (alice.create_room("here", "open").await, alice.create_room("there", "open").await);
    let elsewhere = alice.say(&other, "over there").await["id"].as_str().unwrap().to_owned();
    for wrong in [elsewhere.as_str(), "no-such-message"] {
        alice
            .post(&format!("/api/rooms/{room}/messages"), json!({"body": "hm", "reply_to": wrong}))
            .await
            .expect_error(404, "message_not_found");
    }
    alice
        .post(&format!("/api/rooms/{room}/messages"), json!({"body": "hm", "reply_to": 42}))
        .await
        .expect_error(400, "malformed_json");
    let (mut ws, _) = server.connect(&alice).await;
    ws.send(json!({"type": "send_message", "room_id": room, "body": "hm", "client_id": "x", "reply_to": elsewhere}))
        .await;
    let refused = ws.next_of("error").await;
    assert_eq!((refused["code"].as_str(), refused["client_id"].as_str()), (Some("message_not_found"), Some("x")));
    assert_eq!(page(&alice, &room, "").await["items"], json!([]), "nothing stored");
}

fn bodies(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap().to_owned()).collect()
}

/// R-MSG-11: a room's search finds text in any case, newest first, with the reader's reactions,
/// skips deleted messages, and pages by cursor; people outside the room cannot search it.
#[tokio::test]
async fn r_msg_11_room_search() {
    let server = Server::start().await;
    let (alice, carol) = (server.user("alice").await, server.user("carol").await);
    let room = alice.create_room("plans", "open").await;
    for body in ["Lunch at noon?", "no, dinner", "LUNCH is better", "what about brunch", "after-lunch walk"] {
        alice.say(&room, body).await;
    }
    let gone = alice.say(&room, "lunch, deleted").await["id"].as_str().unwrap().to_owned();
    alice.delete(&format!("/api/rooms/{room}/messages/{gone}")).await.expect_status(204);
    let search = |query: &str| format!("/api/rooms/{room}/messages/search?{query}");
    let found = alice.get(&search("q=lunch")).await.expect_status(200).body;
    assert_eq!(bodies(&found), ["after-lunch walk", "LUNCH is better", "Lunch at noon?"]);
    assert_eq!(found["next_cursor"], Value::Null, "the whole room was read");

    let mut paged = Vec::new();
    let mut next = search("q=LUNCH&limit=1");
    loop {
        let page = alice.get(&next).await.expect_status(200).body;
        paged.extend(bodies(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => next = search(&format!("q=LUNCH&limit=1&cursor={cursor}")),
            None => break,
        }
    }
    assert_eq!(paged, ["after-lunch walk", "LUNCH is better", "Lunch at noon?"], "one by one, nothing twice");
    carol.get(&search("q=lunch")).await.expect_error(403, "not_a_member");
}

/// R-MSG-11, R-SEC-3: bad search queries are refused with their codes.
#[tokio::test]
async fn r_msg_11_bad_searches_are_refused() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("plans", "open").await;
    let long = "x".repeat(101);
    for query in ["q=", "q=%20%20", &format!("q={long}"), "q=a&limit=0", "q=a&limit=51"] {
        alice.get(&format!("/api/rooms/{room}/messages/search?{query}")).await.expect_error(422, "validation_failed");
        alice.get(&format!("/api/search/messages?{query}")).await.expect_error(422, "validation_failed");
    }
    alice.get("/api/search/messages").await.expect_error(400, "invalid_query");
    alice.get("/api/search/messages?q=a&cursor=not-one-of-ours").await.expect_error(400, "invalid_query");
    server.anonymous().get("/api/search/messages?q=a").await.expect_error(401, "token_missing");
}

/// R-MSG-11: searching everywhere reads every room the caller is in, direct conversations
/// included, newest first across them, and only those rooms.
#[tokio::test]
async fn r_msg_11_search_across_my_rooms() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let (first, second) = (alice.create_room("first", "open").await, alice.create_room("second", "open").await);
    let elsewhere = bob.create_room("bob's own", "open").await;
    alice.say(&first, "release on Friday").await;
    bob.say(&elsewhere, "release notes, private").await;
    alice.say(&second, "Release checklist").await;
    let dm = alice.post("/api/dms", json!({"username": "bob"})).await.expect_status(200).body["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bob.say(&dm, "the release is fine by me").await;
    let found = alice.get("/api/search/messages?q=release").await.expect_status(200).body;
    assert_eq!(bodies(&found), ["the release is fine by me", "Release checklist", "release on Friday"]);
    let rooms: Vec<&str> = found["items"].as_array().unwrap().iter().map(|m| m["room_id"].as_str().unwrap()).collect();
    assert_eq!(rooms, [dm.as_str(), second.as_str(), first.as_str()]);
}

/// R-MSG-11: a page reads at most 2000 messages: past that it stops with what it found (here
/// nothing) and a cursor that goes on reading further back, where the match is.
#[tokio::test]
async fn r_msg_11_a_page_reads_a_bounded_number_of_messages() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("busy", "open").await;
    alice.say(&room, "the needle").await;
    let (mut ws, _) = server.connect(&alice).await;
    // In rounds, each answered before the next; a send the server sheds is sent again.
    let mut unsent: Vec<usize> = (0..2000).collect();
    while !unsent.is_empty() {
        let round: Vec<usize> = unsent.drain(..unsent.len().min(250)).collect();
        let frames: Vec<Value> = round
            .iter()
            .map(|n| json!({"type": "send_message", "room_id": room, "body": format!("hay {n}"), "client_id": format!("h{n}")}))
            .collect();
        let mut answers = 0;
        let received = ws
            .send_while_reading(frames, |frame| {
                answers += usize::from(frame["type"] == "ack" || frame["type"] == "error");
                answers == round.len()
            })
            .await;
        for refused in received.iter().filter(|f| f["type"] == "error") {
            assert_eq!(refused["code"], "rate_limited", "{refused}");
            unsent.push(refused["client_id"].as_str().unwrap()[1..].parse().unwrap());
        }
    }
    let first = alice.get(&format!("/api/rooms/{room}/messages/search?q=needle")).await.expect_status(200).body;
    assert_eq!(bodies(&first), Vec::<String>::new(), "2000 newer messages read, no match among them");
    let cursor = first["next_cursor"].as_str().expect("it says where to go on").to_owned();
    let second =
        alice.get(&format!("/api/rooms/{room}/messages/search?q=needle&cursor={cursor}")).await.expect_status(200).body;
    assert_eq!(bodies(&second), ["the needle"]);
    assert_eq!(second["next_cursor"], Value::Null);
}
