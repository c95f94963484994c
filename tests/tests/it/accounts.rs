//! Accounts and sessions: SPEC R-ACC-1 to R-ACC-5, against the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use conclave_tests::{JWT_SECRET, PASSWORD, Server};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn forge(secret: &[u8], claims: serde_json::Value) -> String {
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// R-ACC-1: sign up lowercases the username and answers the public profile only.
#[tokio::test]
async fn r_acc_1_signup_stores_lowercased_usernames() {
    let server = Server::start().await;
    let anon = server.anonymous();
    let created = anon
        .post(
            "/api/auth/signup",
            json!({"username": "Ada.Lovelace", "password": PASSWORD, "first_name": " Ada ", "last_name": "Lovelace"}),
        )
        .await
        .expect_status(201);
    let user = &created.body["user"];
    assert_eq!(user["username"], "ada.lovelace");
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["last_name"], "Lovelace");
    assert_eq!(user["online"], false);
    assert!(user.get("password_hash").is_none() && !created.body.to_string().contains("argon2"));
    // Unique case-insensitively.
    anon.post("/api/auth/signup", json!({"username": "ADA.LOVELACE", "password": PASSWORD}))
        .await
        .expect_error(409, "username_taken");
}

/// R-ACC-1: every invalid field gets its own entry in a 422, and nothing is stored.
#[tokio::test]
async fn r_acc_1_invalid_fields_answer_422_per_field() {
    let server = Server::start().await;
    let anon = server.anonymous();
    let cases = [
        (json!({"username": "ab", "password": PASSWORD}), vec!["username"]),
        (json!({"username": "has space", "password": PASSWORD}), vec!["username"]),
        (json!({"username": "x".repeat(33), "password": PASSWORD}), vec!["username"]),
        // The Kelvin sign lowercases to `k`, but it is not one of the letters a username has.
        (json!({"username": "\u{212a}elvin", "password": PASSWORD}), vec!["username"]),
        (json!({"username": "okname", "password": "123456789"}), vec!["password"]),
        (json!({"username": "okname", "password": "p".repeat(257)}), vec!["password"]),
        (json!({"username": "okname", "password": PASSWORD, "first_name": "f".repeat(65)}), vec!["first_name"]),
        (json!({"username": "okname", "password": PASSWORD, "last_name": "l".repeat(65)}), vec!["last_name"]),
        (
            json!({"username": "é", "password": "short", "first_name": "f".repeat(65)}),
            vec!["first_name", "password", "username"],
        ),
    ];
    for (body, fields) in cases {
        let response = anon.post("/api/auth/signup", body.clone()).await.expect_error(422, "validation_failed");
        let mut got: Vec<_> = response.body["error"]["details"].as_object().unwrap().keys().cloned().collect();
        got.sort();
        assert_eq!(got, fields, "for {body}");
    }
    // Surrounding white space is trimmed before the bounds, as the document's pattern says.
    let padded = anon
        .post("/api/auth/signup", json!({"username": "\u{3000} Grace\t", "password": PASSWORD}))
        .await
        .expect_status(201);
    assert_eq!(padded.body["user"]["username"], "grace");
    // Nothing was stored: the name is still free.
    anon.post("/api/auth/signup", json!({"username": "okname", "password": PASSWORD})).await.expect_status(201);
    // Missing fields or wrong types are malformed bodies.
    anon.post("/api/auth/signup", json!({"username": "another"})).await.expect_error(400, "malformed_json");
    anon.post("/api/auth/signup", json!({"username": 5, "password": PASSWORD}))
        .await
        .expect_error(400, "malformed_json");
}

/// R-ACC-3: login answers both tokens, the bearer type, the lifetime, and the refresh cookie.
#[tokio::test]
async fn r_acc_3_login_returns_tokens_and_cookie() {
    let server = Server::start().await;
    server.user("carol").await;
    let response = server
        .anonymous()
        .post("/api/auth/login", json!({"username": "CAROL", "password": PASSWORD}))
        .await
        .expect_status(200);
    let body = &response.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["username"], "carol");
    let refresh = body["refresh_token"].as_str().unwrap();
    let cookie = response.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with(&format!("conclave_refresh={refresh}")), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/;"] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    // The access token carries sub, exp, iat and jti; exp is 15 minutes after iat.
    let token = body["access_token"].as_str().unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["sub"], body["user"]["id"]);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
}

/// R-ACC-3: wrong credentials never say which part was wrong.
#[tokio::test]
async fn r_acc_3_wrong_credentials_are_one_error() {
    let server = Server::start().await;
    server.user("dave").await;
    let anon = server.anonymous();
    let wrong_password = anon
        .post("/api/auth/login", json!({"username": "dave", "password": "wrong password!"}))
        .await
        .expect_error(401, "invalid_credentials");
    let unknown_user = anon
        .post("/api/auth/login", json!({"username": "nobody", "password": PASSWORD}))
        .await
        .expect_error(401, "invalid_credentials");
    assert_eq!(wrong_password.body, unknown_user.body);
    anon.post("/api/auth/login", json!({"username": "x".repeat(500), "password": PASSWORD}))
        .await
        .expect_error(401, "invalid_credentials");
    anon.post("/api/auth/login", json!({"username": "dave"})).await.expect_error(400, "malformed_json");
}

/// R-ACC-3: refresh rotates; reusing an old refresh token revokes the whole family.
#[tokio::test]
async fn r_acc_3_refresh_rotates_and_reuse_revokes_the_family() {
    let server = Server::start().await;
    let erin = server.user("erin").await;
    let anon = server.anonymous();
    let first = erin.refresh_token.clone();
    let rotated = anon.post("/api/auth/refresh", json!({"refresh_token": first})).await.expect_status(200);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let token = rotated.body["access_token"].as_str().unwrap();
    anon.with_token(token).get("/api/users/me").await.expect_status(200);

    // The retired token comes back: refused, and the family (the second token too) is revoked.
    anon.post("/api/auth/refresh", json!({"refresh_token": first})).await.expect_error(401, "refresh_token_reused");
    anon.post("/api/auth/refresh", json!({"refresh_token": second})).await.expect_error(401, "invalid_refresh_token");

    // Other sessions (families) are untouched.
    let other = server.login("erin").await;
    anon.post("/api/auth/refresh", json!({"refresh_token": other.refresh_token})).await.expect_status(200);

    anon.post("/api/auth/refresh", json!({"refresh_token": "made-up"}))
        .await
        .expect_error(401, "invalid_refresh_token");
    anon.post_empty("/api/auth/refresh").await.expect_error(401, "invalid_refresh_token");
}

/// R-ACC-3: browsers refresh and log out with the HttpOnly cookie instead of the body.
#[tokio::test]
async fn r_acc_3_refresh_and_logout_with_the_cookie() {
    let server = Server::start().await;
    let frank = server.user("frank").await;
    let anon = server.anonymous();
    let cookie = format!("conclave_refresh={}", frank.refresh_token);
    let refreshed = anon
        .send(anon.raw(reqwest::Method::POST, "/api/auth/refresh").header("cookie", cookie))
        .await
        .expect_status(200);
    let next = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
    let new_cookie = refreshed.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(new_cookie.starts_with(&format!("conclave_refresh={next}")));

    let logout = anon
        .send(anon.raw(reqwest::Method::POST, "/api/auth/logout").header("cookie", format!("conclave_refresh={next}")))
        .await
        .expect_status(204);
    let cleared = logout.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.starts_with("conclave_refresh=;") && cleared.contains("Max-Age=0"), "{cleared}");
    anon.post("/api/auth/refresh", json!({"refresh_token": next})).await.expect_error(401, "invalid_refresh_token");
    // Logging out again is harmless.
    anon.post("/api/auth/logout", json!({"refresh_token": next})).await.expect_status(204);
    anon.post_empty("/api/auth/logout").await.expect_status(204);
}

/// R-ACC-4: no token, expired, tampered, `alg: none`, wrong key: each answers 401.
#[tokio::test]
async fn r_acc_4_token_attacks_answer_401() {
    let server = Server::start().await;
    let gina = server.user("gina").await;
    let anon = server.anonymous();
    anon.get("/api/users/me").await.expect_error(401, "token_missing");
    gina.get("/api/users/me").await.expect_status(200);

    let claims = |exp: i64| json!({"sub": gina.id, "iat": exp - 900, "exp": exp, "jti": "forged"});
    let expired = forge(JWT_SECRET.as_bytes(), claims(now() - 60));
    anon.with_token(&expired).get("/api/users/me").await.expect_error(401, "token_expired");

    let wrong_key = forge(b"some-other-secret-some-other-secret-123", claims(now() + 600));
    anon.with_token(&wrong_key).get("/api/users/me").await.expect_error(401, "token_invalid");

    let token = gina.token.clone().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let tampered_payload = URL_SAFE_NO_PAD.encode(payload.replace(&gina.id, "someone-else"));
    let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
    anon.with_token(&tampered).get("/api/users/me").await.expect_error(401, "token_invalid");

    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{none_header}.{}.", parts[1]);
    anon.with_token(&alg_none).get("/api/users/me").await.expect_error(401, "token_invalid");

    let hs512 =
        encode(&Header::new(Algorithm::HS512), &claims(now() + 600), &EncodingKey::from_secret(JWT_SECRET.as_bytes()))
            .unwrap();
    anon.with_token(&hs512).get("/api/users/me").await.expect_error(401, "token_invalid");

    anon.with_token("garbage").get("/api/rooms/mine").await.expect_error(401, "token_invalid");
    let basic = anon.raw(reqwest::Method::GET, "/api/users/me").header("authorization", "Basic Z2luYTpwdw==");
    anon.send(basic).await.expect_error(401, "token_invalid");

    // A validly signed token for an account that does not exist is not a session either.
    let ghost = forge(JWT_SECRET.as_bytes(), json!({"sub": "ghost", "iat": now(), "exp": now() + 600, "jti": "g"}));
    anon.with_token(&ghost).get("/api/users/me").await.expect_error(401, "token_invalid");
}

/// R-ACC-4: every endpoint but sign up, log in, refresh and log out needs a token.
#[tokio::test]
async fn r_acc_4_protected_endpoints_need_a_token() {
    let server = Server::start().await;
    let anon = server.anonymous();
    for path in [
        "/api/users/me",
        "/api/users",
        "/api/users/x",
        "/api/rooms",
        "/api/rooms/mine",
        "/api/rooms/history",
        "/api/rooms/r",
        "/api/rooms/r/members",
        "/api/rooms/r/messages",
        "/api/rooms/r/requests",
        "/api/rooms/r/bans",
        "/api/notifications",
    ] {
        anon.get(path).await.expect_error(401, "token_missing");
    }
    for path in [
        "/api/rooms",
        "/api/rooms/r/join",
        "/api/rooms/r/leave",
        "/api/rooms/r/messages",
        "/api/dms",
        "/api/rooms/r/invites",
        "/api/rooms/r/bans",
        "/api/notifications/read-all",
        "/api/rooms/r/members/u/kick",
    ] {
        anon.post(path, json!({})).await.expect_error(401, "token_missing");
    }
}

/// R-ACC-5: users search others by username prefix, in pages, and see public profiles.
#[tokio::test]
async fn r_acc_5_user_directory() {
    let server = Server::start().await;
    let viewer = server.user("viewer").await;
    for name in ["sam", "sammy", "samuel", "sandra", "zed"] {
        server
            .anonymous()
            .post("/api/auth/signup", json!({"username": name, "password": PASSWORD, "first_name": "N"}))
            .await
            .expect_status(201);
    }
    let page = viewer.get("/api/users?q=SAM&limit=2").await.expect_status(200).body;
    let names: Vec<_> = page["items"].as_array().unwrap().iter().map(|u| u["username"].clone()).collect();
    assert_eq!(names, ["sam", "sammy"]);
    assert!(page["next_cursor"].is_string());
    let all = viewer.all_items("/api/users?q=sa&limit=2").await;
    let names: Vec<_> = all.iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["sam", "sammy", "samuel", "sandra"]);
    assert_eq!(viewer.all_items("/api/users").await.len(), 6);

    let profile = viewer.get("/api/users/Sandra").await.expect_status(200).body;
    assert_eq!(profile["user"]["username"], "sandra");
    assert_eq!(profile["user"]["first_name"], "N");
    assert_eq!(profile["user"]["online"], false);
    viewer.get("/api/users/nobody").await.expect_error(404, "user_not_found");
    let me = viewer.get("/api/users/me").await.expect_status(200).body;
    assert_eq!(me["user"]["id"], viewer.id.as_str());

    viewer.get("/api/users?limit=0").await.expect_error(422, "validation_failed");
    viewer.get("/api/users?limit=101").await.expect_error(422, "validation_failed");
    viewer.get("/api/users?limit=lots").await.expect_error(400, "invalid_query");
    viewer.get(&format!("/api/users?q={}", "q".repeat(65))).await.expect_error(422, "validation_failed");
    viewer.get("/api/users?cursor=not-a-cursor").await.expect_error(400, "invalid_query");
}

/// R-ACC-1, R-OPS-5: eight sign-ups racing for one username, in different cases, make one
/// account; every other answer is 409 `username_taken` (the store's unique index), never a 500.
#[tokio::test]
async fn r_acc_1_racing_signups_make_one_account() {
    let server = Server::start().await;
    let names = ["racer", "RACER", "Racer", "rAcer", "raCer", "racEr", "raceR", "RaCeR"];
    let attempts = names.map(|name| {
        let anon = server.anonymous();
        async move { anon.post("/api/auth/signup", json!({ "username": name, "password": PASSWORD })).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409], "{answers:?}");
    for refused in answers.into_iter().filter(|a| a.status == 409) {
        refused.expect_error(409, "username_taken");
    }
    server.login("racer").await;
}

/// R-ACC-7: a user sets, keeps and removes their names; a name too long is refused by field.
#[tokio::test]
async fn r_acc_7_names_are_edited() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let named = alice.patch("/api/users/me", json!({"first_name": " Ada ", "last_name": "Lovelace"})).await;
    let user = named.expect_status(200).body["user"].clone();
    assert_eq!((user["first_name"].clone(), user["last_name"].clone()), (json!("Ada"), json!("Lovelace")));
    let kept = alice.patch("/api/users/me", json!({"last_name": ""})).await.expect_status(200).body["user"].clone();
    assert_eq!((kept["first_name"].clone(), kept["last_name"].clone()), (json!("Ada"), json!(null)));
    let refused = alice.patch("/api/users/me", json!({"first_name": "x".repeat(65)})).await;
    let refused = refused.expect_error(422, "validation_failed");
    assert!(refused.body["error"]["details"]["first_name"].is_string());
    let profile = alice.get("/api/users/alice").await.expect_status(200).body;
    assert_eq!(profile["user"]["first_name"], "Ada", "nothing changed by the refusal");
}

/// R-ACC-7: a password change needs the current password, ends every other session (their
/// refresh tokens stop working), and hands this client a new session; the old password no
/// longer logs in, the new one does.
#[tokio::test]
async fn r_acc_7_a_new_password_ends_the_other_sessions() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let laptop = server.login("alice").await;
    let new_password = "a brand new passphrase";
    let wrong = json!({"current_password": "not it at all", "new_password": new_password});
    let refused = alice.post("/api/users/me/password", wrong).await.expect_error(422, "validation_failed");
    assert!(refused.body["error"]["details"]["current_password"].is_string());
    let short = json!({"current_password": PASSWORD, "new_password": "short"});
    let refused = alice.post("/api/users/me/password", short).await.expect_error(422, "validation_failed");
    assert!(refused.body["error"]["details"]["new_password"].is_string());

    let change = json!({"current_password": PASSWORD, "new_password": new_password});
    let session = alice.post("/api/users/me/password", change).await.expect_status(200).body;
    assert!(session["access_token"].is_string() && session["refresh_token"].is_string());
    let anon = server.anonymous();
    for old in [&alice.refresh_token, &laptop.refresh_token] {
        anon.post("/api/auth/refresh", json!({"refresh_token": old})).await.expect_status(401);
    }
    anon.post("/api/auth/refresh", json!({"refresh_token": session["refresh_token"]})).await.expect_status(200);
    let old_login = json!({"username": "alice", "password": PASSWORD});
    anon.post("/api/auth/login", old_login).await.expect_error(401, "invalid_credentials");
    let new_login = json!({"username": "alice", "password": new_password});
    anon.post("/api/auth/login", new_login).await.expect_status(200);
}

/// A `width`×`height` picture encoded as `format`.
fn picture(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 250) as u8, (y % 250) as u8, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels).write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn put_avatar(user: &conclave_tests::Client, content_type: &str, bytes: Vec<u8>) -> reqwest::RequestBuilder {
    user.raw(reqwest::Method::PUT, "/api/users/me/avatar").header("content-type", content_type).body(bytes)
}

/// R-ACC-8: an avatar is set, shown to others as a 256-pixel square at an address that may be
/// cached for good, revalidated by its ETag without it, replaced at a new address, removed.
#[tokio::test]
async fn r_acc_8_avatars_are_set_served_and_removed() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    assert_eq!(bob.get("/api/users/alice").await.expect_status(200).body["user"]["avatar_url"], json!(null));
    let set = alice.send(put_avatar(&alice, "image/png", picture(600, 400, image::ImageFormat::Png))).await;
    let url = set.expect_status(200).body["user"]["avatar_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/api/users/alice/avatar?v="), "{url}");
    assert_eq!(bob.get("/api/users/alice").await.body["user"]["avatar_url"], json!(url), "others see it");

    let fetched = bob.raw(reqwest::Method::GET, &url).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    let header = |name: &str| fetched.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (cache, etag, kind) = (header("cache-control"), header("etag"), header("content-type"));
    assert_eq!(cache, "private, max-age=31536000, immutable");
    assert_eq!(kind, "image/jpeg");
    let stored = image::load_from_memory(&fetched.bytes().await.unwrap()).unwrap();
    assert_eq!((stored.width(), stored.height()), (256, 256));
    let plain = bob.raw(reqwest::Method::GET, "/api/users/ALICE/avatar").send().await.unwrap();
    assert_eq!(plain.headers()["cache-control"], "private, no-cache", "without v it is revalidated");
    let again =
        bob.raw(reqwest::Method::GET, "/api/users/alice/avatar").header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    let webp = alice.send(put_avatar(&alice, "image/webp", picture(64, 64, image::ImageFormat::WebP))).await;
    let new_url = webp.expect_status(200).body["user"]["avatar_url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url, "a new picture, a new address");
    let removed = alice.delete("/api/users/me/avatar").await.expect_status(200);
    assert_eq!(removed.body["user"]["avatar_url"], json!(null));
    bob.get("/api/users/alice/avatar").await.expect_error(404, "not_found");
    bob.get("/api/users/nobody/avatar").await.expect_error(404, "user_not_found");
}

/// R-ACC-8, R-SEC-3: other types, bytes that are not what they claim, broken or oversized
/// pictures are refused with their codes, and the avatar stays as it was.
#[tokio::test]
async fn r_acc_8_bad_avatars_are_refused() {
    let server = Server::start().await;
    let alice = server.user("alice").await;
    let png = picture(32, 32, image::ImageFormat::Png);
    alice.send(put_avatar(&alice, "image/png", png.clone())).await.expect_status(200);
    let before = alice.get("/api/users/me").await.body["user"]["avatar_url"].clone();
    alice.send(put_avatar(&alice, "image/gif", png.clone())).await.expect_error(415, "unsupported_media_type");
    alice.send(put_avatar(&alice, "image/jpeg", png.clone())).await.expect_error(415, "unsupported_media_type");
    alice
        .send(put_avatar(&alice, "image/png", b"<svg onload=alert(1)>".to_vec()))
        .await
        .expect_error(415, "unsupported_media_type");
    let cut = png[..png.len() / 2].to_vec();
    let refused = alice.send(put_avatar(&alice, "image/png", cut)).await.expect_error(422, "validation_failed");
    assert!(refused.body["error"]["details"]["avatar"].is_string());
    let huge = vec![0u8; 2 * 1024 * 1024 + 1];
    alice.send(put_avatar(&alice, "image/png", huge)).await.expect_error(413, "payload_too_large");
    let anon = server.anonymous();
    anon.send(put_avatar(&anon, "image/png", png)).await.expect_error(401, "token_missing");
    assert_eq!(alice.get("/api/users/me").await.body["user"]["avatar_url"], before, "unchanged");
}

/// R-ACC-7, R-ROOM-5: deleting an account takes its password; the user leaves every group
/// room (the next member takes over), their live session closes, their tokens stop working,
/// their messages stay under a deleted user's name, and the username is free again.
#[tokio::test]
async fn r_acc_7_deleting_an_account() {
    let server = Server::start().await;
    let (alice, bob, carol) = (server.user("alice").await, server.user("bob").await, server.user("carol").await);
    let room = alice.create_room("founders", "open").await;
    for member in [&bob, &carol] {
        member.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    }
    alice.say(&room, "see you all").await;
    let (mut alice_ws, _) = server.connect(&alice).await;
    let (mut bob_ws, _) = server.connect(&bob).await;

    let wrong = alice
        .send(alice.raw(reqwest::Method::DELETE, "/api/users/me").json(&json!({"password": "not my password"})))
        .await;
    assert!(wrong.expect_error(422, "validation_failed").body["error"]["details"]["password"].is_string());
    alice.delete("/api/users/me").await.expect_error(400, "malformed_json");
    alice
        .send(alice.raw(reqwest::Method::DELETE, "/api/users/me").json(&json!({"password": PASSWORD})))
        .await
        .expect_status(204);

    assert_eq!(alice_ws.close_frame().await.map(|(code, _)| code), Some(1008), "the live session closes");
    let left = bob_ws.next_of("member_left").await;
    assert_eq!((left["user_id"].as_str(), left["reason"].as_str()), (Some(alice.id.as_str()), Some("left")));
    let owner = bob_ws.next_of("role_changed").await;
    assert_eq!((owner["user_id"].as_str(), owner["role"].as_str()), (Some(bob.id.as_str()), Some("owner")));
    alice.get("/api/users/me").await.expect_error(401, "token_invalid");
    alice.get(&format!("/api/rooms/{room}")).await.expect_error(401, "token_invalid");
    let anon = server.anonymous();
    anon.post("/api/auth/refresh", json!({"refresh_token": alice.refresh_token})).await.expect_status(401);
    anon.post("/api/auth/login", json!({"username": "alice", "password": PASSWORD}))
        .await
        .expect_error(401, "invalid_credentials");
    bob.get("/api/users/alice").await.expect_error(404, "user_not_found");

    let history = bob.get(&format!("/api/rooms/{room}/messages")).await.expect_status(200).body;
    let author = history["items"][0]["author_username"].as_str().unwrap().to_owned();
    assert!(author.starts_with("deleted user "), "{author}");
    assert_eq!(history["items"][0]["body"], "see you all");
    let again = server.user("alice").await;
    assert_ne!(again.id, alice.id, "the name is free for someone new");
}
