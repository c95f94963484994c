//! Attachments (SPEC R-MSG-6): upload, send with a message, download as a member; every bad
//! upload refused with its code; stored sealed (R-SEC-2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::storage::{contains, stored_bytes};
use conclave_tests::{Client, Response, Server};
use reqwest::Method;
use serde_json::json;

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";

async fn upload(client: &Client, room: &str, filename: &str, content_type: &str, bytes: &[u8]) -> Response {
    let request = client
        .raw(Method::POST, &format!("/api/rooms/{room}/attachments?filename={filename}"))
        .header("content-type", content_type)
        .body(bytes.to_vec());
    client.send(request).await
}

async fn download(client: &Client, room: &str, id: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = client.raw(Method::GET, &format!("/api/rooms/{room}/attachments/{id}")).send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// R-MSG-6: a file goes up, out with one message (REST or WebSocket), and down to members only.
#[tokio::test]
async fn r_msg_6_attachments_reach_the_members_of_the_room() {
    let server = Server::start().await;
    let (alice, bob, eve) = (server.user("alice").await, server.user("bob").await, server.user("eve").await);
    let room = alice.create_room("photos", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);

    let uploaded = upload(&alice, &room, "dot%20%C3%A9t%C3%A9.png", "image/png", PNG).await.expect_status(201).body;
    let attachment = uploaded["attachment"].clone();
    assert_eq!(attachment["filename"], "dot été.png");
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!(attachment["size"], PNG.len());
    let id = attachment["id"].as_str().unwrap().to_owned();

    // Unsent, it is the uploader's alone.
    assert_eq!(download(&bob, &room, &id).await.0, 404);
    assert_eq!(download(&alice, &room, &id).await.0, 200);
    // Only its uploader sends it, once.
    bob.post(&format!("/api/rooms/{room}/messages"), json!({"attachment_id": id}))
        .await
        .expect_error(404, "attachment_not_found");
    let sent = alice
        .post(&format!("/api/rooms/{room}/messages"), json!({"body": "", "attachment_id": id}))
        .await
        .expect_status(201)
        .body;
    assert_eq!(sent["message"]["attachment"], attachment);
    alice
        .post(&format!("/api/rooms/{room}/messages"), json!({"body": "again", "attachment_id": id}))
        .await
        .expect_error(409, "attachment_used");
    let history = bob.get(&format!("/api/rooms/{room}/messages")).await.expect_status(200).body;
    assert_eq!(history["items"][0]["attachment"], attachment);

    let (status, headers, bytes) = download(&bob, &room, &id).await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("inline") && disposition.contains("UTF-8''dot%20%C3%A9t%C3%A9.png"),
        "{disposition}"
    );
    assert_eq!(download(&eve, &room, &id).await.0, 403, "not a member");
    assert_eq!(download(&bob, &room, "no-such-file").await.0, 404);
    assert_eq!(download(&server.anonymous(), &room, &id).await.0, 401);

    // Over the gateway too.
    let text = upload(&bob, &room, "notes.txt", "text/plain", b"line one\n").await.expect_status(201).body;
    let text_id = text["attachment"]["id"].as_str().unwrap().to_owned();
    let (mut socket, _) = server.connect(&bob).await;
    socket
        .send(json!({"type": "send_message", "room_id": room, "body": "my notes", "client_id": "n1", "attachment_id": text_id}))
        .await;
    let ack = socket.next_of("ack").await;
    assert_eq!(ack["message"]["attachment"]["filename"], "notes.txt");
    let (_, headers, bytes) = download(&alice, &room, &text_id).await;
    assert_eq!(
        (headers["content-type"].to_str().unwrap(), bytes.as_slice()),
        ("text/plain; charset=utf-8", &b"line one\n"[..])
    );

    // Deleting the message forgets the file.
    let message_id = sent["message"]["id"].as_str().unwrap();
    alice.delete(&format!("/api/rooms/{room}/messages/{message_id}")).await.expect_status(204);
    assert_eq!(download(&bob, &room, &id).await.0, 404);
}

/// R-MSG-6, R-SEC-3: every bad upload is refused with its code, and nothing is stored.
#[tokio::test]
async fn r_msg_6_bad_uploads_are_refused() {
    let server = Server::start_with(&[("CONCLAVE_MAX_ATTACHMENT_BYTES", "1024")]).await;
    let (alice, eve) = (server.user("alice").await, server.user("eve").await);
    let room = alice.create_room("strict", "open").await;
    upload(&alice, &room, "page.html", "text/html", b"<script>alert(1)</script>")
        .await
        .expect_error(415, "unsupported_media_type");
    upload(&alice, &room, "image.svg", "image/svg+xml", b"<svg/>").await.expect_error(415, "unsupported_media_type");
    upload(&alice, &room, "fake.png", "image/png", b"%PDF-1.7 not a png")
        .await
        .expect_error(415, "unsupported_media_type");
    upload(&alice, &room, "photo.jpg", "image/jpeg", PNG).await.expect_error(415, "unsupported_media_type");
    upload(&alice, &room, "binary.txt", "text/plain", b"a\0b").await.expect_error(415, "unsupported_media_type");
    upload(&alice, &room, "big.txt", "text/plain", &[b'a'; 2000]).await.expect_error(413, "payload_too_large");
    let empty = upload(&alice, &room, "empty.txt", "text/plain", b"").await.expect_error(422, "validation_failed");
    assert!(empty.body["error"]["details"]["file"].is_string());
    let path = upload(&alice, &room, "..%2Fsecret", "text/plain", b"x").await.expect_error(422, "validation_failed");
    assert!(path.body["error"]["details"]["filename"].is_string());
    let request = alice
        .raw(Method::POST, &format!("/api/rooms/{room}/attachments"))
        .header("content-type", "text/plain")
        .body("x");
    alice.send(request).await.expect_error(400, "invalid_query");
    upload(&eve, &room, "a.txt", "text/plain", b"x").await.expect_error(403, "not_a_member");
    upload(&alice, "no-such-room", "a.txt", "text/plain", b"x").await.expect_error(404, "room_not_found");
    alice
        .post(&format!("/api/rooms/{room}/messages"), json!({"attachment_id": "no-such-file"}))
        .await
        .expect_error(404, "attachment_not_found");
    let history = alice.get(&format!("/api/rooms/{room}/messages")).await.expect_status(200).body;
    assert_eq!(history["items"], json!([]), "nothing was sent");
    alice.delete(&format!("/api/rooms/{room}")).await.expect_status(204);
}

/// R-SEC-2: neither a file's bytes nor its name are readable in the stored data.
#[tokio::test]
async fn r_msg_6_attachments_are_sealed_at_rest() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("vault", "open").await;
    let uploaded =
        upload(&alice, &room, "launch-codes.txt", "text/plain", b"zero zero zero zero").await.expect_status(201);
    let id = uploaded.body["attachment"]["id"].as_str().unwrap().to_owned();
    alice.post(&format!("/api/rooms/{room}/messages"), json!({"attachment_id": id})).await.expect_status(201);
    let data_dir = server.stop().await;
    let stored = stored_bytes(data_dir.path()).await;
    assert!(!contains(&stored, "launch-codes"), "the file name is readable");
    assert!(!contains(&stored, "zero zero zero"), "the file is readable");
}
