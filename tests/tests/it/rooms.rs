//! Rooms, roles and membership rules: SPEC R-ROOM-1 to R-ROOM-8, against the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conclave_tests::{Server, User};
use serde_json::{Value, json};

async fn members(user: &User, room: &str) -> Vec<(String, Value)> {
    user.all_items(&format!("/api/rooms/{room}/members"))
        .await
        .iter()
        .map(|m| (m["user"]["username"].as_str().unwrap().to_owned(), m["role"].clone()))
        .collect()
}

async fn room_ids(user: &User, path: &str) -> Vec<String> {
    user.all_items(path).await.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

async fn my_room_ids(user: &User) -> Vec<String> {
    user.all_items("/api/rooms/mine").await.iter().map(|r| r["room"]["id"].as_str().unwrap().to_owned()).collect()
}

/// R-ROOM-1: create rooms of every policy; bad settings get a 422 per field.
#[tokio::test]
async fn r_room_1_create_rooms() {
    let server = Server::start().await;
    let owner = server.user("owner").await;
    let created = owner
        .post("/api/rooms", json!({"name": " Book club ", "topic": "novels", "join_policy": "request"}))
        .await
        .expect_status(201)
        .body;
    let room = &created["room"];
    assert_eq!(room["name"], "Book club");
    assert_eq!(room["topic"], "novels");
    assert_eq!(room["kind"], "group");
    assert_eq!(room["join_policy"], "request");
    assert_eq!(room["owner_id"], owner.id.as_str());
    assert_eq!(room["member_count"], 1);
    assert!(room["terminated_at"].is_null());
    let id = room["id"].as_str().unwrap();
    assert_eq!(members(&owner, id).await, [("owner".to_owned(), json!("owner"))]);
    let mine = owner.get("/api/rooms/mine").await.expect_status(200).body;
    assert_eq!(mine["items"][0]["role"], "owner");
    assert_eq!(mine["items"][0]["unread_count"], 0);

    let bad = [
        (json!({"name": "", "join_policy": "open"}), "name"),
        (json!({"name": "n".repeat(65), "join_policy": "open"}), "name"),
        (json!({"name": "ok", "topic": "t".repeat(257), "join_policy": "open"}), "topic"),
        (json!({"name": "ok", "join_policy": "password"}), "password"),
        (json!({"name": "ok", "join_policy": "password", "password": "abc"}), "password"),
        (json!({"name": "ok", "join_policy": "open", "password": "secret"}), "password"),
    ];
    for (body, field) in bad {
        let response = owner.post("/api/rooms", body.clone()).await.expect_error(422, "validation_failed");
        assert!(response.body["error"]["details"][field].is_string(), "{body} → {}", response.body);
    }
    owner.post("/api/rooms", json!({"name": "ok", "join_policy": "secret"})).await.expect_error(400, "malformed_json");
    assert_eq!(my_room_ids(&owner).await.len(), 1, "nothing was stored for the bad ones");
}

/// R-ROOM-1: the four join policies, end to end.
#[tokio::test]
async fn r_room_1_join_policies() {
    let server = Server::start().await;
    let (owner, bob) = (server.user("owner").await, server.user("bob").await);

    let open = owner.create_room("open room", "open").await;
    let joined = bob.post_empty(&format!("/api/rooms/{open}/join")).await.expect_status(200).body;
    assert_eq!(joined["membership"]["role"], "member");
    assert_eq!(joined["membership"]["user_id"], bob.id.as_str());
    bob.post_empty(&format!("/api/rooms/{open}/join")).await.expect_error(409, "already_member");

    let locked = owner
        .post("/api/rooms", json!({"name": "locked", "join_policy": "password", "password": "open sesame"}))
        .await
        .expect_status(201)
        .body["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bob.post_empty(&format!("/api/rooms/{locked}/join")).await.expect_error(403, "wrong_room_password");
    bob.post(&format!("/api/rooms/{locked}/join"), json!({"password": "wrong"}))
        .await
        .expect_error(403, "wrong_room_password");
    bob.post(&format!("/api/rooms/{locked}/join"), json!({"password": "open sesame"})).await.expect_status(200);

    let ask = owner.create_room("ask first", "request").await;
    let pending = bob.post_empty(&format!("/api/rooms/{ask}/join")).await.expect_status(202).body;
    assert_eq!(pending["join_request"]["user"]["username"], "bob");
    bob.post_empty(&format!("/api/rooms/{ask}/join")).await.expect_error(409, "request_pending");
    let requests = owner.get(&format!("/api/rooms/{ask}/requests")).await.expect_status(200).body;
    assert_eq!(requests["items"][0]["user"]["id"], bob.id.as_str());
    bob.get(&format!("/api/rooms/{ask}/requests")).await.expect_error(403, "not_a_member");
    owner.post_empty(&format!("/api/rooms/{ask}/requests/{}/accept", bob.id)).await.expect_status(200);
    assert!(my_room_ids(&bob).await.contains(&ask));
    owner
        .post_empty(&format!("/api/rooms/{ask}/requests/{}/accept", bob.id))
        .await
        .expect_error(404, "request_not_found");

    let private = owner.create_room("private", "invite").await;
    bob.post_empty(&format!("/api/rooms/{private}/join")).await.expect_error(403, "not_invited");
    bob.get(&format!("/api/rooms/{private}")).await.expect_error(404, "room_not_found");
    owner.post(&format!("/api/rooms/{private}/invites"), json!({"username": "BOB"})).await.expect_status(201);
    bob.get(&format!("/api/rooms/{private}")).await.expect_status(200);
    bob.post_empty(&format!("/api/rooms/{private}/join")).await.expect_status(200);

    bob.post_empty("/api/rooms/no-such-room/join").await.expect_error(404, "room_not_found");
}

/// R-ROOM-1/R-NOTE-1: declining a request notifies the requester (live, once the buffered
/// decline is stored), who may ask again.
#[tokio::test]
async fn r_room_1_declined_requests() {
    let server = Server::start().await;
    let (owner, bob) = (server.user("owner").await, server.user("bob").await);
    let ask = owner.create_room("ask", "request").await;
    bob.post_empty(&format!("/api/rooms/{ask}/join")).await.expect_status(202);
    assert_eq!(owner.notification_kinds().await, ["join_request"]);
    let (mut bob_ws, _) = server.connect(&bob).await;
    owner.post_empty(&format!("/api/rooms/{ask}/requests/{}/decline", bob.id)).await.expect_status(204);
    let told = bob_ws.next_of("notification_created").await;
    assert_eq!(
        (&told["notification"]["kind"], &told["notification"]["data"]["actor_username"]),
        (&json!("request_declined"), &json!("owner"))
    );
    owner
        .post_empty(&format!("/api/rooms/{ask}/requests/{}/decline", bob.id))
        .await
        .expect_error(404, "request_not_found");
    assert_eq!(bob.notification_kinds().await, ["request_declined"]);
    assert!(!my_room_ids(&bob).await.contains(&ask));
    bob.post_empty(&format!("/api/rooms/{ask}/join")).await.expect_status(202);
}

/// R-ROOM-2: who may do what: members, admins and the owner.
#[tokio::test]
async fn r_room_2_roles() {
    let server = Server::start().await;
    let (owner, admin, member, other) = (
        server.user("owner").await,
        server.user("admin").await,
        server.user("member").await,
        server.user("other").await,
    );
    let room = owner.create_room("roles", "open").await;
    for user in [&admin, &member, &other] {
        user.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    let promoted = owner
        .put(&format!("/api/rooms/{room}/members/{}/role", admin.id), json!({"role": "admin"}))
        .await
        .expect_status(200)
        .body;
    assert_eq!(promoted["membership"]["role"], "admin");
    assert_eq!(admin.notification_kinds().await, ["promoted"]);

    // Members cannot moderate.
    member.post(&format!("/api/rooms/{room}/invites"), json!({"username": "x"})).await.expect_error(403, "forbidden");
    member.post_empty(&format!("/api/rooms/{room}/members/{}/kick", other.id)).await.expect_error(403, "forbidden");
    member.post(&format!("/api/rooms/{room}/bans"), json!({"user_id": other.id})).await.expect_error(403, "forbidden");
    // Admins cannot touch the owner's settings, roles, or the owner; the owner can.
    admin.patch(&format!("/api/rooms/{room}"), json!({"name": "mine now"})).await.expect_error(403, "forbidden");
    admin.delete(&format!("/api/rooms/{room}")).await.expect_error(403, "forbidden");
    admin
        .put(&format!("/api/rooms/{room}/members/{}/role", member.id), json!({"role": "admin"}))
        .await
        .expect_error(403, "forbidden");
    admin.post_empty(&format!("/api/rooms/{room}/members/{}/kick", owner.id)).await.expect_error(403, "forbidden");
    admin.post(&format!("/api/rooms/{room}/bans"), json!({"user_id": owner.id})).await.expect_error(403, "forbidden");
    // An admin cannot kick another admin unless they are the owner.
    owner
        .put(&format!("/api/rooms/{room}/members/{}/role", member.id), json!({"role": "admin"}))
        .await
        .expect_status(200);
    admin.post_empty(&format!("/api/rooms/{room}/members/{}/kick", member.id)).await.expect_error(403, "forbidden");
    owner
        .put(&format!("/api/rooms/{room}/members/{}/role", member.id), json!({"role": "member"}))
        .await
        .expect_status(200);
    assert_eq!(member.notification_kinds().await, ["demoted", "promoted"]);
    // Admins do kick members.
    admin.post_empty(&format!("/api/rooms/{room}/members/{}/kick", other.id)).await.expect_status(204);
    // Bad targets.
    owner
        .put(&format!("/api/rooms/{room}/members/{}/role", owner.id), json!({"role": "member"}))
        .await
        .expect_error(422, "invalid_target");
    owner
        .put(&format!("/api/rooms/{room}/members/{}/role", other.id), json!({"role": "admin"}))
        .await
        .expect_error(422, "invalid_target");
    owner
        .put(&format!("/api/rooms/{room}/members/{}/role", member.id), json!({"role": "owner"}))
        .await
        .expect_error(400, "malformed_json");
    admin.post_empty(&format!("/api/rooms/{room}/members/{}/kick", admin.id)).await.expect_error(422, "invalid_target");
    other.post_empty(&format!("/api/rooms/{room}/members/{}/kick", member.id)).await.expect_error(403, "not_a_member");

    // The owner changes settings.
    let changed = owner
        .patch(
            &format!("/api/rooms/{room}"),
            json!({"name": "Renamed", "topic": "", "join_policy": "password", "password": "letmein"}),
        )
        .await
        .expect_status(200)
        .body;
    assert_eq!((changed["room"]["name"].clone(), changed["room"]["topic"].clone()), (json!("Renamed"), Value::Null));
    assert_eq!(changed["room"]["join_policy"], "password");
    other.post(&format!("/api/rooms/{room}/join"), json!({"password": "letmein"})).await.expect_status(200);
    owner.patch(&format!("/api/rooms/{room}"), json!({"name": ""})).await.expect_error(422, "validation_failed");
    owner
        .patch(&format!("/api/rooms/{room}"), json!({"join_policy": "open", "password": "x1234"}))
        .await
        .expect_error(422, "validation_failed");
}

/// R-ROOM-2: invites by user id or username, and their bad inputs.
#[tokio::test]
async fn r_room_2_invites() {
    let server = Server::start().await;
    let (owner, bob, carol) = (server.user("owner").await, server.user("bob").await, server.user("carol").await);
    let room = owner.create_room("club", "invite").await;
    let invite =
        owner.post(&format!("/api/rooms/{room}/invites"), json!({"user_id": bob.id})).await.expect_status(201).body;
    assert_eq!(invite["invite"]["user_id"], bob.id.as_str());
    assert_eq!(invite["invite"]["invited_by"], owner.id.as_str());
    owner
        .post(&format!("/api/rooms/{room}/invites"), json!({"user_id": bob.id}))
        .await
        .expect_error(409, "already_invited");
    owner
        .post(&format!("/api/rooms/{room}/invites"), json!({"username": "owner"}))
        .await
        .expect_error(409, "already_member");
    owner
        .post(&format!("/api/rooms/{room}/invites"), json!({"username": "ghost"}))
        .await
        .expect_error(404, "user_not_found");
    owner.post(&format!("/api/rooms/{room}/invites"), json!({})).await.expect_error(422, "validation_failed");
    owner
        .post(&format!("/api/rooms/{room}/invites"), json!({"user_id": carol.id, "username": "carol"}))
        .await
        .expect_error(422, "validation_failed");
    // The invitee is told, with the room id to join by.
    let notes = bob.all_items("/api/notifications").await;
    assert_eq!(notes[0]["kind"], "invited");
    assert_eq!(notes[0]["room_id"], room.as_str());
    assert_eq!(notes[0]["actor_id"], owner.id.as_str());
    assert_eq!(notes[0]["data"]["room_name"], "club");
    assert_eq!(notes[0]["data"]["actor_username"], "owner");
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
}

/// R-ROOM-3: a kicked member is removed, notified, and can ask again or be invited again.
#[tokio::test]
async fn r_room_3_kick() {
    let server = Server::start().await;
    let (owner, bob, carol) = (server.user("owner").await, server.user("bob").await, server.user("carol").await);
    let room = owner.create_room("kicks", "request").await;
    owner.post(&format!("/api/rooms/{room}/invites"), json!({"username": "bob"})).await.expect_status(201);
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    owner.post(&format!("/api/rooms/{room}/invites"), json!({"username": "carol"})).await.expect_status(201);
    carol.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    owner.post_empty(&format!("/api/rooms/{room}/members/{}/kick", bob.id)).await.expect_status(204);
    assert_eq!(bob.notification_kinds().await, ["kicked", "invited"]);
    assert!(!my_room_ids(&bob).await.contains(&room));
    bob.get(&format!("/api/rooms/{room}/messages")).await.expect_error(403, "not_a_member");
    let history = bob.all_items("/api/rooms/history").await;
    assert_eq!(
        (history[0]["room"]["id"].as_str().unwrap(), history[0]["reason"].as_str().unwrap()),
        (room.as_str(), "kicked")
    );
    owner.post_empty(&format!("/api/rooms/{room}/members/{}/kick", bob.id)).await.expect_error(422, "invalid_target");
    // They can ask again, or be invited again.
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(202);
    owner.post(&format!("/api/rooms/{room}/invites"), json!({"username": "bob"})).await.expect_status(201);
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
}

/// R-ROOM-4: a banned user cannot join, request or be invited, and no longer finds the room,
/// until unbanned. They are notified both times.
#[tokio::test]
async fn r_room_4_ban_and_unban() {
    let server = Server::start().await;
    let (owner, bob, carol) = (server.user("owner").await, server.user("bob").await, server.user("carol").await);
    let room = owner.create_room("banners", "open").await;
    let asking = owner.create_room("banners ask", "request").await;
    for user in [&bob, &carol] {
        user.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    let ban = owner.post(&format!("/api/rooms/{room}/bans"), json!({"user_id": bob.id})).await.expect_status(201).body;
    assert_eq!(ban["ban"]["user"]["username"], "bob");
    assert_eq!(ban["ban"]["banned_by"], owner.id.as_str());
    owner
        .post(&format!("/api/rooms/{room}/bans"), json!({"user_id": bob.id}))
        .await
        .expect_error(409, "already_banned");
    owner
        .post(&format!("/api/rooms/{room}/bans"), json!({"user_id": "ghost"}))
        .await
        .expect_error(404, "user_not_found");
    assert_eq!(bob.notification_kinds().await, ["banned"]);
    assert!(!my_room_ids(&bob).await.contains(&room));
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_error(403, "banned");
    bob.get(&format!("/api/rooms/{room}")).await.expect_error(403, "banned");
    owner.post(&format!("/api/rooms/{room}/invites"), json!({"user_id": bob.id})).await.expect_error(403, "banned");
    assert_eq!(room_ids(&bob, "/api/rooms?q=banners").await, std::slice::from_ref(&asking));
    assert_eq!(room_ids(&carol, "/api/rooms?q=banners").await, [room.clone(), asking.clone()]);
    // A pre-emptive ban on a request room keeps a non-member from asking.
    owner.post(&format!("/api/rooms/{asking}/bans"), json!({"user_id": bob.id})).await.expect_status(201);
    bob.post_empty(&format!("/api/rooms/{asking}/join")).await.expect_error(403, "banned");
    assert!(room_ids(&bob, "/api/rooms?q=banners").await.is_empty());

    let bans = owner.get(&format!("/api/rooms/{room}/bans")).await.expect_status(200).body;
    assert_eq!(bans["items"].as_array().unwrap().len(), 1);
    carol.get(&format!("/api/rooms/{room}/bans")).await.expect_error(403, "forbidden");
    owner.delete(&format!("/api/rooms/{room}/bans/{}", bob.id)).await.expect_status(204);
    owner.delete(&format!("/api/rooms/{room}/bans/{}", bob.id)).await.expect_error(404, "ban_not_found");
    assert_eq!(bob.notification_kinds().await[0], "unbanned");
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
}

/// R-ROOM-5: the owner leaves a room of three and the earliest joiner becomes owner; the new
/// owner leaves and the last member, not an admin, is removed and told the room was terminated.
#[tokio::test]
async fn r_room_5_owner_leaves_then_last_member_is_evicted() {
    let server = Server::start().await;
    let (alice, bob, carol) = (server.user("alice").await, server.user("bob").await, server.user("carol").await);
    let room = alice.create_room("trio", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    carol.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);

    alice.post_empty(&format!("/api/rooms/{room}/leave")).await.expect_status(204);
    assert_eq!(members(&bob, &room).await, [("bob".to_owned(), json!("owner")), ("carol".to_owned(), json!("member"))]);
    let details = bob.get(&format!("/api/rooms/{room}")).await.expect_status(200).body;
    assert_eq!(details["room"]["owner_id"], bob.id.as_str());
    assert_eq!(bob.notification_kinds().await, ["promoted"]);

    bob.post_empty(&format!("/api/rooms/{room}/leave")).await.expect_status(204);
    assert!(my_room_ids(&carol).await.is_empty(), "the last member was removed");
    let notes = carol.all_items("/api/notifications").await;
    assert_eq!(
        (notes[0]["kind"].as_str().unwrap(), notes[0]["room_id"].as_str().unwrap()),
        ("room_terminated", room.as_str())
    );
    let history = carol.all_items("/api/rooms/history").await;
    assert_eq!(history[0]["reason"], "terminated");
    assert!(history[0]["room"]["terminated_at"].is_string());
    // A terminated room takes no joins or messages.
    carol.post_empty(&format!("/api/rooms/{room}/join")).await.expect_error(409, "room_terminated");
    carol
        .post(&format!("/api/rooms/{room}/messages"), json!({"body": "hello?"}))
        .await
        .expect_error(409, "room_terminated");
    bob.post_empty(&format!("/api/rooms/{room}/leave")).await.expect_error(403, "not_a_member");
}

/// R-ROOM-5: an admin who is the only member keeps the room alive; a kick that leaves one
/// non-admin terminates it.
#[tokio::test]
async fn r_room_5_admin_alone_keeps_the_room() {
    let server = Server::start().await;
    let (alice, bob, carol) = (server.user("alice").await, server.user("bob").await, server.user("carol").await);
    let room = alice.create_room("duo", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    alice.put(&format!("/api/rooms/{room}/members/{}/role", bob.id), json!({"role": "admin"})).await.expect_status(200);
    alice.post_empty(&format!("/api/rooms/{room}/leave")).await.expect_status(204);
    let details = bob.get(&format!("/api/rooms/{room}")).await.expect_status(200).body;
    assert!(details["room"]["terminated_at"].is_null());
    assert_eq!(details["room"]["owner_id"], bob.id.as_str());
    assert_eq!(details["room"]["member_count"], 1);
    bob.say(&room, "still here").await;

    // The owner kicks the only other member of a two-person room: they stay, as an owner is an admin.
    carol.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    bob.post_empty(&format!("/api/rooms/{room}/members/{}/kick", carol.id)).await.expect_status(204);
    assert!(bob.get(&format!("/api/rooms/{room}")).await.expect_status(200).body["room"]["terminated_at"].is_null());
    // The last member leaves: terminated.
    bob.post_empty(&format!("/api/rooms/{room}/leave")).await.expect_status(204);
    let history = bob.all_items("/api/rooms/history").await;
    assert!(history[0]["room"]["terminated_at"].is_string());
}

/// R-ROOM-6: the owner deletes a room: it is terminated and every member is notified.
#[tokio::test]
async fn r_room_6_owner_deletes_the_room() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("short lived", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    bob.delete(&format!("/api/rooms/{room}")).await.expect_error(403, "forbidden");
    alice.delete(&format!("/api/rooms/{room}")).await.expect_status(204);
    assert_eq!(bob.notification_kinds().await, ["room_terminated"]);
    assert!(my_room_ids(&bob).await.is_empty());
    bob.post(&format!("/api/rooms/{room}/messages"), json!({"body": "anyone?"}))
        .await
        .expect_error(409, "room_terminated");
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_error(409, "room_terminated");
    assert!(room_ids(&bob, "/api/rooms?q=short").await.is_empty(), "terminated rooms are not listed");
    alice.delete(&format!("/api/rooms/{room}")).await.expect_error(403, "not_a_member");
}

/// R-ROOM-7: the previous-rooms log, newest first, and rejoining from it.
#[tokio::test]
async fn r_room_7_previous_rooms() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let first = alice.create_room("first", "open").await;
    let second = alice.create_room("second", "open").await;
    for room in [&first, &second] {
        bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    bob.post_empty(&format!("/api/rooms/{first}/leave")).await.expect_status(204);
    alice.post_empty(&format!("/api/rooms/{second}/members/{}/kick", bob.id)).await.expect_status(204);
    let log = bob.all_items("/api/rooms/history").await;
    let entries: Vec<_> =
        log.iter().map(|e| (e["room"]["id"].as_str().unwrap(), e["reason"].as_str().unwrap())).collect();
    assert_eq!(entries, [(second.as_str(), "kicked"), (first.as_str(), "left")]);
    assert!(log[0]["left_at"].is_string());
    let page = bob.get("/api/rooms/history?limit=1").await.expect_status(200).body;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["next_cursor"].is_string());
    // Joining back takes the room out of the log.
    bob.post_empty(&format!("/api/rooms/{first}/join")).await.expect_status(200);
    assert_eq!(bob.all_items("/api/rooms/history").await.len(), 1);
}

/// R-ROOM-8: search lists open, password and request rooms by name, paginated; never invite-only.
#[tokio::test]
async fn r_room_8_search() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let mut listed = Vec::new();
    for (name, policy) in [("Chess A", "open"), ("chess B", "request"), ("CHESS C", "open")] {
        listed.push(alice.create_room(name, policy).await);
    }
    listed.push(
        alice
            .post("/api/rooms", json!({"name": "chess D", "join_policy": "password", "password": "knight"}))
            .await
            .expect_status(201)
            .body["room"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    alice.create_room("chess secret", "invite").await;
    alice.create_room("checkers", "open").await;
    let page = bob.get("/api/rooms?q=chess&limit=2").await.expect_status(200).body;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(room_ids(&bob, "/api/rooms?q=CHESS&limit=2").await, listed);
    assert_eq!(room_ids(&bob, "/api/rooms?q=che").await.len(), 5);
    assert!(room_ids(&bob, "/api/rooms?q=chess secret").await.is_empty());
    assert_eq!(room_ids(&bob, "/api/rooms").await.len(), 5);
    bob.get("/api/rooms?limit=500").await.expect_error(422, "validation_failed");
    // Listed rooms can be looked at before joining.
    bob.get(&format!("/api/rooms/{}", listed[0])).await.expect_status(200);
    bob.get("/api/rooms/nope").await.expect_error(404, "room_not_found");
}

/// R-ROOM-1, R-OPS-5: one user joining one room from eight requests at once becomes one member;
/// the other requests answer 409 `already_member`, and the member count says 2.
#[tokio::test]
async fn r_room_1_racing_joins_make_one_membership() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("crowded", "open").await;
    let path = format!("/api/rooms/{room}/join");
    let answers = futures_util::future::join_all((0..8).map(|_| bob.post_empty(&path))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    for refused in answers.into_iter().filter(|a| a.status == 409) {
        refused.expect_error(409, "already_member");
    }
    let details = alice.get(&format!("/api/rooms/{room}")).await.expect_status(200).body;
    assert_eq!(details["room"]["member_count"], 2);
}

/// The unread notifications of `user` of `kind` about `room`, and whether each is read.
async fn notes_about(user: &User, kind: &str, room: &str) -> Vec<bool> {
    let notes = user.get("/api/notifications?limit=100").await.expect_status(200).body;
    notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind && n["room_id"] == room)
        .map(|n| n["read"].as_bool().unwrap())
        .collect()
}

/// R-ROOM-9: an invitee declines; the invitation and its notification are done with; a second
/// decline, or one without an invitation, is refused (an invite-only room stays hidden).
#[tokio::test]
async fn r_room_9_an_invitation_can_be_declined() {
    let server = Server::start().await;
    let (alice, bob, carol) = (server.user("alice").await, server.user("bob").await, server.user("carol").await);
    let secret = alice.create_room("secret", "invite").await;
    alice.post(&format!("/api/rooms/{secret}/invites"), json!({"username": "bob"})).await.expect_status(201);
    assert_eq!(notes_about(&bob, "invited", &secret).await, vec![false]);
    bob.delete(&format!("/api/rooms/{secret}/invites/me")).await.expect_status(204);
    assert_eq!(notes_about(&bob, "invited", &secret).await, vec![true], "declining answers the notification");
    bob.delete(&format!("/api/rooms/{secret}/invites/me")).await.expect_error(404, "room_not_found");
    bob.post_empty(&format!("/api/rooms/{secret}/join")).await.expect_error(403, "not_invited");
    carol.delete(&format!("/api/rooms/{secret}/invites/me")).await.expect_error(404, "room_not_found");
    let open = alice.create_room("open house", "open").await;
    carol.delete(&format!("/api/rooms/{open}/invites/me")).await.expect_error(404, "invite_not_found");

    // Accepting an invitation by joining answers its notification too.
    alice.post(&format!("/api/rooms/{secret}/invites"), json!({"username": "carol"})).await.expect_status(201);
    carol.post_empty(&format!("/api/rooms/{secret}/join")).await.expect_status(200);
    assert_eq!(notes_about(&carol, "invited", &secret).await, vec![true]);
}

/// R-ROOM-9: once an admin accepts or declines a join request, every admin's notification of
/// it is read; other requests' stay unread.
#[tokio::test]
async fn r_room_9_handled_requests_are_read_for_every_admin() {
    let server = Server::start().await;
    let (alice, dan) = (server.user("alice").await, server.user("dan").await);
    let (bob, carol) = (server.user("bob").await, server.user("carol").await);
    let club = alice.create_room("club", "request").await;
    dan.post_empty(&format!("/api/rooms/{club}/join")).await.expect_status(202);
    alice.post_empty(&format!("/api/rooms/{club}/requests/{}/accept", dan.id)).await.expect_status(200);
    alice.put(&format!("/api/rooms/{club}/members/{}/role", dan.id), json!({"role": "admin"})).await.expect_status(200);
    for user in [&bob, &carol] {
        user.post_empty(&format!("/api/rooms/{club}/join")).await.expect_status(202);
    }
    assert_eq!(notes_about(&dan, "join_request", &club).await, vec![false, false]);
    alice.post_empty(&format!("/api/rooms/{club}/requests/{}/accept", bob.id)).await.expect_status(200);
    let mut seen = notes_about(&dan, "join_request", &club).await;
    seen.sort_unstable();
    assert_eq!(seen, vec![false, true], "bob's is answered, carol's is not");
    dan.post_empty(&format!("/api/rooms/{club}/requests/{}/decline", carol.id)).await.expect_status(204);
    for admin in [&alice, &dan] {
        let all = notes_about(admin, "join_request", &club).await;
        assert!(all.iter().all(|read| *read), "{}: {all:?}", admin.username);
    }
}
