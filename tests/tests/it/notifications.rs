//! Notifications: SPEC R-NOTE-1 and R-NOTE-2, against the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conclave_tests::Server;
use serde_json::json;

/// R-NOTE-2: unread first then newest first, in pages; mark read, mark all read, delete.
#[tokio::test]
async fn r_note_2_list_read_and_delete() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let mut rooms = Vec::new();
    for i in 0..4 {
        let room = alice.create_room(&format!("room {i}"), "invite").await;
        alice.post(&format!("/api/rooms/{room}/invites"), json!({"username": "bob"})).await.expect_status(201);
        rooms.push(room);
    }
    let all = bob.all_items("/api/notifications?limit=3").await;
    assert_eq!(all.len(), 4);
    let order: Vec<_> = all.iter().map(|n| n["room_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(order, rooms.iter().rev().cloned().collect::<Vec<_>>(), "newest first");
    assert!(all.iter().all(|n| n["read"] == false && n["kind"] == "invited"));

    let oldest = all[3]["id"].as_str().unwrap();
    bob.post_empty(&format!("/api/notifications/{oldest}/read")).await.expect_status(204);
    let newest = all[0]["id"].as_str().unwrap();
    bob.post_empty(&format!("/api/notifications/{newest}/read")).await.expect_status(204);
    let listed = bob.all_items("/api/notifications").await;
    let flags: Vec<_> = listed.iter().map(|n| n["read"].as_bool().unwrap()).collect();
    assert_eq!(flags, [false, false, true, true], "unread first");
    assert_eq!(listed[2]["id"], newest, "then newest first among the read");
    assert_eq!(bob.all_items("/api/notifications?unread_only=true").await.len(), 2);

    // Others cannot touch them.
    alice.post_empty(&format!("/api/notifications/{oldest}/read")).await.expect_error(404, "notification_not_found");
    alice.delete(&format!("/api/notifications/{oldest}")).await.expect_error(404, "notification_not_found");

    let marked = bob.post_empty("/api/notifications/read-all").await.expect_status(200).body;
    assert_eq!(marked["marked"], 2);
    assert!(bob.all_items("/api/notifications?unread_only=true").await.is_empty());
    bob.delete(&format!("/api/notifications/{oldest}")).await.expect_status(204);
    bob.delete(&format!("/api/notifications/{oldest}")).await.expect_error(404, "notification_not_found");
    assert_eq!(bob.all_items("/api/notifications").await.len(), 3);
    bob.get("/api/notifications?unread_only=maybe").await.expect_error(400, "invalid_query");
    bob.get("/api/notifications?limit=201").await.expect_error(422, "validation_failed");
}

/// R-NOTE-1: accept, promote, kick and ban each reach the user concerned, with who did it.
#[tokio::test]
async fn r_note_1_moderation_notifications() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("moderated", "request").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(202);
    let request_note = &alice.all_items("/api/notifications").await[0];
    assert_eq!(request_note["kind"], "join_request");
    assert_eq!(request_note["actor_id"], bob.id.as_str());
    assert_eq!(request_note["data"]["actor_username"], "bob");
    alice.post_empty(&format!("/api/rooms/{room}/requests/{}/accept", bob.id)).await.expect_status(200);
    alice.put(&format!("/api/rooms/{room}/members/{}/role", bob.id), json!({"role": "admin"})).await.expect_status(200);
    alice
        .put(&format!("/api/rooms/{room}/members/{}/role", bob.id), json!({"role": "member"}))
        .await
        .expect_status(200);
    alice.post_empty(&format!("/api/rooms/{room}/members/{}/kick", bob.id)).await.expect_status(204);
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(202);
    alice.post(&format!("/api/rooms/{room}/bans"), json!({"user_id": bob.id})).await.expect_status(201);
    let notes = bob.all_items("/api/notifications").await;
    let kinds: Vec<_> = notes.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["banned", "kicked", "demoted", "promoted", "request_accepted"]);
    assert!(notes.iter().all(|n| n["room_id"] == room.as_str() && n["actor_id"] == alice.id.as_str()));
    assert_eq!(notes[2]["data"]["role"], "member");
    assert_eq!(notes[3]["data"]["role"], "admin");
}

/// R-MSG-10: an @mention notifies the members it names, live when connected, once per message
/// (a repeated client id sends it again to no one); not outsiders, not the author, not unknown
/// names, and an e-mail address is no mention.
#[tokio::test]
async fn r_msg_10_mentions_notify_the_members_named() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let (carol, dan) = (server.user("carol").await, server.user("dan").await);
    let room = alice.create_room("standup", "open").await;
    for member in [&bob, &carol] {
        member.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    let (mut bob_ws, _) = server.connect(&bob).await;
    let body = "@bob and @Carol: ready? (cc @dan, @alice, @nobody, mail carol@example.org)";
    let send = json!({"body": body, "client_id": "standup-1"});
    let sent = alice.post(&format!("/api/rooms/{room}/messages"), send.clone()).await.expect_status(201).body;
    alice.post(&format!("/api/rooms/{room}/messages"), send).await.expect_status(201);

    let live = bob_ws.next_of("notification_created").await;
    assert_eq!(live["notification"]["kind"], "mention");
    for (user, expected) in [(&bob, 1), (&carol, 1), (&dan, 0), (&alice, 0)] {
        let notes = user.get("/api/notifications").await.expect_status(200).body;
        let mentions: Vec<&serde_json::Value> =
            notes["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "mention").collect();
        assert_eq!(mentions.len(), expected, "{}", user.username);
        if let Some(mention) = mentions.first() {
            assert_eq!(mention["room_id"], room.as_str());
            assert_eq!(mention["actor_id"], alice.id.as_str());
            assert_eq!(mention["data"]["actor_username"], "alice");
            assert_eq!(mention["data"]["message_id"], sent["message"]["id"]);
            assert_eq!(mention["data"]["seq"], sent["message"]["seq"]);
        }
    }
}
