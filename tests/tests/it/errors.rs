//! One error shape and bounded inputs everywhere: SPEC R-OPS-5 and R-SEC-3, against the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conclave_tests::Server;
use reqwest::Method;
use serde_json::json;

/// R-OPS-5/R-SEC-3: malformed JSON answers 400 in the error shape, and the server carries on.
#[tokio::test]
async fn r_sec_3_malformed_json_is_a_clear_400() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    for junk in ["{", "not json", "[1,2", "{\"name\": \"x\", \"join_policy\": }", "\u{0}\u{1}"] {
        let request = alice.raw(Method::POST, "/api/rooms").header("content-type", "application/json").body(junk);
        let response = alice.send(request).await.expect_error(400, "malformed_json");
        assert!(response.body["error"].as_object().unwrap().contains_key("details"));
    }
    let request = alice.raw(Method::POST, "/api/rooms").header("content-type", "application/json");
    alice.send(request).await.expect_error(400, "malformed_json");
    let request = alice.raw(Method::POST, "/api/rooms").header("content-type", "text/plain").body("{}");
    alice.send(request).await.expect_error(415, "unsupported_media_type");
    assert!(alice.all_items("/api/rooms/mine").await.is_empty(), "nothing was stored");
    server.anonymous().get("/healthz").await.expect_status(200);
}

/// R-SEC-3: bodies over the limit answer 413 and store nothing, whether or not they declare a length.
#[tokio::test]
async fn r_sec_3_oversized_bodies_are_refused() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("big", "open").await;
    let huge = json!({ "body": "x".repeat(70 * 1024) });
    alice.post(&format!("/api/rooms/{room}/messages"), huge).await.expect_error(413, "payload_too_large");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..80).map(|_| Ok(vec![b' '; 1024])).collect();
    let streamed = reqwest::Body::wrap_stream(tokio_stream::iter(chunks));
    let request = alice
        .raw(Method::POST, &format!("/api/rooms/{room}/messages"))
        .header("content-type", "application/json")
        .body(streamed);
    alice.send(request).await.expect_error(413, "payload_too_large");
    assert!(alice.get(&format!("/api/rooms/{room}/messages")).await.body["items"].as_array().unwrap().is_empty());
    alice.say(&room, "still works").await;
}

/// R-SEC-3: the body limit is configurable.
#[tokio::test]
async fn r_sec_3_body_limit_is_configurable() {
    let server = Server::start_with(&[("CONCLAVE_MAX_BODY_BYTES", "200")]).await;
    let anon = server.anonymous();
    anon.post("/api/auth/signup", json!({"username": "u".repeat(30), "password": "p".repeat(200)}))
        .await
        .expect_error(413, "payload_too_large");
    anon.post("/api/auth/signup", json!({"username": "small", "password": "p".repeat(20)})).await.expect_status(201);
}

/// R-OPS-5: unknown routes and methods answer in the error shape too.
#[tokio::test]
async fn r_ops_5_unknown_routes_and_methods() {
    let server = Server::start().await;
    let anon = server.anonymous();
    anon.get("/api/nothing-here").await.expect_error(404, "not_found");
    // Other paths are the web client's (tests/client.rs); only reads fall back to it.
    anon.send(anon.raw(Method::POST, "/definitely/not")).await.expect_error(404, "not_found");
    anon.send(anon.raw(Method::PUT, "/healthz")).await.expect_error(405, "method_not_allowed");
    anon.send(anon.raw(Method::DELETE, "/api/auth/login")).await.expect_error(405, "method_not_allowed");
    let alice = server.user("alice").await;
    alice.send(alice.raw(Method::PUT, "/api/rooms/mine")).await.expect_error(405, "method_not_allowed");
}

/// R-OPS-5: every 405 names the methods its path takes in `Allow` (RFC 9110), for every
/// operation of the API.
#[tokio::test]
async fn r_ops_5_method_not_allowed_says_what_is_allowed() {
    use conclave_protocol::endpoints::{ALL, Method as Op};
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let to_http = |op: Op| Method::from_bytes(op.as_str().to_uppercase().as_bytes()).unwrap();
    let mut templates: Vec<&str> = ALL.iter().map(|(_, template)| *template).collect();
    templates.dedup();
    for template in templates {
        let allowed: Vec<Method> = ALL.iter().filter(|(_, t)| *t == template).map(|(op, _)| to_http(*op)).collect();
        // A filled template: each `{name}` becomes `x`.
        let path: String = template
            .split('/')
            .map(|part| if part.starts_with('{') { "x" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        let other = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE]
            .into_iter()
            .find(|method| !allowed.contains(method))
            .expect("some method is not allowed");
        let refused = alice.send(alice.raw(other.clone(), &path)).await.expect_error(405, "method_not_allowed");
        let allow = refused.headers.get("allow").map(|v| v.to_str().unwrap().to_owned());
        let expected = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        assert_eq!(allow.as_deref(), Some(expected.as_str()), "{other} {path}");
    }
    let anon = server.anonymous();
    let refused = anon.send(anon.raw(Method::PUT, "/healthz")).await.expect_error(405, "method_not_allowed");
    assert_eq!(refused.headers.get("allow").unwrap(), "GET");
}

/// An optional body may be absent or JSON `null` alike (logout with the refresh cookie), a
/// whole number may be written `12.0` (JSON Schema's integer), as the OpenAPI document says;
/// `12.5` is still refused, and so is an array where an object is due.
#[tokio::test]
async fn r_ops_5_bodies_read_as_the_document_says() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("numbers", "open").await;
    alice.say(&room, "one").await;
    let read = format!("/api/rooms/{room}/read");
    alice.post(&read, json!({"seq": 1.0})).await.expect_status(204);
    alice.post(&read, json!({"seq": 1.5})).await.expect_error(400, "malformed_json");
    alice.post(&read, json!({"seq": 9_223_372_036_854_775_808_u64})).await.expect_error(400, "malformed_json");
    // A struct is not read from an array of its fields.
    alice.patch("/api/users/me", json!([null, null])).await.expect_error(400, "malformed_json");
    let logout = alice.raw(Method::POST, "/api/auth/logout").header("content-type", "application/json").body("null");
    alice.send(logout).await.expect_status(204);
}

/// R-ROOM-1, R-MSG-11: names and search text are trimmed, then bounded, as the document's
/// patterns say: a padded name of 64 characters is a name of 64, and a search of 100 characters
/// is one, however many its lowercase has.
#[tokio::test]
async fn r_room_1_text_is_trimmed_then_bounded() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let name = "n".repeat(64);
    let created =
        alice.post("/api/rooms", json!({"name": format!(" {name}\n"), "join_policy": "open"})).await.expect_status(201);
    assert_eq!(created.body["room"]["name"], name.as_str());
    let long = alice
        .post("/api/rooms", json!({"name": "n".repeat(65), "join_policy": "open"}))
        .await
        .expect_error(422, "validation_failed");
    assert!(long.body["error"]["details"]["name"].is_string());
    let room = created.body["room"]["id"].as_str().unwrap().to_owned();
    // `İ` lowercases to two characters; a hundred of them are still a hundred.
    let dotted = "%C4%B0".repeat(100);
    alice.get(&format!("/api/rooms/{room}/messages/search?q=%20{dotted}%20")).await.expect_status(200);
    alice
        .get(&format!("/api/rooms/{room}/messages/search?q={dotted}%C4%B0"))
        .await
        .expect_error(422, "validation_failed");
    alice.get(&format!("/api/rooms/{room}/messages/search?q=%20%09")).await.expect_error(422, "validation_failed");
}

/// R-SEC-3: ids that are not ids, and odd characters, are just "not found".
#[tokio::test]
async fn r_sec_3_odd_ids_are_not_found() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    for id in ["%27%3B%20DROP%20TABLE%20rooms%3B--", "%E2%98%83", "x".repeat(300).as_str()] {
        alice.get(&format!("/api/rooms/{id}")).await.expect_error(404, "room_not_found");
        alice
            .post(&format!("/api/rooms/{id}/messages"), json!({"body": "hi"}))
            .await
            .expect_error(404, "room_not_found");
    }
    alice.get("/api/users/%25").await.expect_error(404, "user_not_found");
    assert_eq!(alice.all_items("/api/users?q=%25").await.len(), 0, "LIKE wildcards are literal");
    assert_eq!(alice.all_items("/api/users?q=_").await.len(), 0);
}
