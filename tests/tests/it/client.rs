//! Serving the web client (SPEC R-UI-3): its files, `index.html` for deep links, and the API's
//! JSON errors untouched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conclave_tests::Server;

fn header(response: &conclave_tests::Response, name: &str) -> String {
    response.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// R-UI-3: client URLs such as /u/{username}/rooms/{room_id} answer with the app.
#[tokio::test]
async fn r_ui_3_deep_links_answer_with_the_app() {
    let client = tempfile::tempdir().unwrap();
    std::fs::write(client.path().join("index.html"), "<!doctype html><title>conclave-app</title>").unwrap();
    std::fs::create_dir(client.path().join("assets")).unwrap();
    std::fs::write(client.path().join("assets/app.js"), "console.log('conclave');").unwrap();
    let dir = client.path().to_str().unwrap().to_owned();
    let server = Server::start_with(&[("CONCLAVE_CLIENT_DIR", dir.as_str())]).await;
    let anon = server.anonymous();

    for path in ["/", "/login", "/u/alice/rooms/123", "/u/alice/notifications"] {
        let page = anon.get(path).await.expect_status(200);
        assert!(header(&page, "content-type").starts_with("text/html"), "{path}");
        assert!(page.body.as_str().unwrap().contains("conclave-app"), "{path}");
    }
    let script = anon.get("/assets/app.js").await.expect_status(200);
    assert!(header(&script, "content-type").contains("javascript"));
    // The API and the gateway keep their own answers.
    anon.get("/api/nothing-here").await.expect_error(404, "not_found");
    anon.get("/api").await.expect_error(404, "not_found");
    anon.get("/healthz").await.expect_status(200);
    anon.send(anon.raw(reqwest::Method::POST, "/u/alice")).await.expect_error(404, "not_found");
    let alice = server.user("alice").await;
    server.connect(&alice).await;
}

/// R-UI-2: without a built client, pages say so plainly instead of showing nothing.
#[tokio::test]
async fn r_ui_2_missing_client_is_explained() {
    let missing = tempfile::tempdir().unwrap();
    let dir = missing.path().join("not-built").to_str().unwrap().to_owned();
    let server = Server::start_with(&[("CONCLAVE_CLIENT_DIR", dir.as_str())]).await;
    let anon = server.anonymous();
    let page = anon.get("/u/alice/rooms/1").await.expect_status(503);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(page.body.as_str().unwrap().contains("web client is not built"));
    anon.get("/api/nothing-here").await.expect_error(404, "not_found");
}
