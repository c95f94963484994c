//! The audit trail (SPEC R-OPS-1): what the owner of a room and each user can read, and that
//! it is sealed at rest (R-SEC-2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::Server;
use conclave_tests::storage::{contains, stored_bytes};
use serde_json::{Value, json};

fn summary(items: &[Value]) -> Vec<(String, Value, Value)> {
    items
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["actor_username"].clone(), e["target_username"].clone()))
        .collect()
}

/// R-OPS-1: the owner reads who joined, who was promoted, kicked and banned, by whom, newest
/// first and in pages; nobody else can read it.
#[tokio::test]
async fn r_ops_1_the_owner_reads_the_rooms_audit_trail() {
    let server = Server::start().await;
    let (alice, bob, carol, dave) =
        (server.user("alice").await, server.user("bob").await, server.user("carol").await, server.user("dave").await);
    let room = alice.create_room("audited", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    carol.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    alice.put(&format!("/api/rooms/{room}/members/{}/role", bob.id), json!({"role": "admin"})).await.expect_status(200);
    bob.post_empty(&format!("/api/rooms/{room}/members/{}/kick", carol.id)).await.expect_status(204);
    bob.post(&format!("/api/rooms/{room}/bans"), json!({"user_id": carol.id})).await.expect_status(201);

    let trail = alice.get(&format!("/api/rooms/{room}/audit")).await.expect_status(200).body;
    let items = trail["items"].as_array().unwrap();
    let s = |v: &str| json!(v);
    assert_eq!(
        summary(items),
        vec![
            ("member_banned".into(), s("bob"), s("carol")),
            ("member_kicked".into(), s("bob"), s("carol")),
            ("role_changed".into(), s("alice"), s("bob")),
            ("member_joined".into(), s("carol"), s("carol")),
            ("member_joined".into(), s("bob"), s("bob")),
            ("room_created".into(), s("alice"), Value::Null),
        ]
    );
    assert_eq!(items[2]["role"], "admin");
    assert_eq!(items[1]["actor_id"], bob.id.as_str());
    assert_eq!(items[1]["target_id"], carol.id.as_str());
    assert_eq!(items[1]["room_id"], room.as_str());
    assert!(items[1]["created_at"].as_str().unwrap().ends_with('Z'));

    // Pages of two give the same records.
    let mut paged = Vec::new();
    let mut path = format!("/api/rooms/{room}/audit?limit=2");
    loop {
        let page = alice.get(&path).await.expect_status(200).body;
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => path = format!("/api/rooms/{room}/audit?limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(&paged, items);

    // Only the owner: an admin is forbidden, an outsider is not a member.
    bob.get(&format!("/api/rooms/{room}/audit")).await.expect_error(403, "forbidden");
    dave.get(&format!("/api/rooms/{room}/audit")).await.expect_error(403, "not_a_member");
    server.anonymous().get(&format!("/api/rooms/{room}/audit")).await.expect_error(401, "token_missing");
    alice.get("/api/rooms/no-such-room/audit").await.expect_error(404, "room_not_found");
    alice.get(&format!("/api/rooms/{room}/audit?limit=0")).await.expect_error(422, "validation_failed");
    alice.get(&format!("/api/rooms/{room}/audit?cursor=junk")).await.expect_error(400, "invalid_query");

    // Sealed at rest: the stored data never names an audited action.
    let data_dir = server.stop().await;
    let stored = stored_bytes(data_dir.path()).await;
    for action in ["member_kicked", "member_banned", "role_changed", "room_created", "signed_up", "logged_in"] {
        assert!(!contains(&stored, action), "{action:?} is readable in the stored data");
    }
}

/// R-OPS-1: each user sees their own sign-up and logins, newest first, and nobody else's.
#[tokio::test]
async fn r_ops_1_users_read_their_own_signup_and_logins() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let alice_again = server.login("alice").await;
    let trail = alice_again.get("/api/users/me/audit").await.expect_status(200).body;
    let items = trail["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["logged_in", "logged_in", "signed_up"]);
    assert!(items.iter().all(|e| e["actor_username"] == "alice" && e["room_id"].is_null()));
    let first_page = alice.get("/api/users/me/audit?limit=1").await.expect_status(200).body;
    assert_eq!(first_page["items"][0], items[0]);
    assert!(first_page["next_cursor"].is_string());
    server.anonymous().get("/api/users/me/audit").await.expect_error(401, "token_missing");
}
