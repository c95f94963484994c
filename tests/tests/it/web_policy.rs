//! Operations seen from outside: security headers and CORS (SPEC R-SEC-4), metrics and request
//! logs (R-OPS-4, R-OPS-1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::{Response, Server};
use reqwest::Method;
use serde_json::{Value, json};

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers.get(name).map(|v| v.to_str().unwrap())
}

/// R-SEC-4: every response, success, error or unknown route, carries no-sniff, frame-deny and
/// a CSP without inline scripts; HSTS only when the server is told it is behind TLS.
#[tokio::test]
async fn r_sec_4_security_headers_on_every_response() {
    let server = Server::start().await;
    let anonymous = server.anonymous();
    for response in [
        anonymous.get("/healthz").await,
        anonymous.get("/api/users/me").await,
        anonymous.get("/api/no-such-route").await,
        anonymous.get("/u/alice/rooms").await,
        anonymous.post("/api/auth/login", json!({"username": "nobody", "password": "nothing at all"})).await,
    ] {
        assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
        let csp = header(&response, "content-security-policy").expect("a CSP");
        let directive = |name: &str| csp.split(';').map(str::trim).find(|d| d.starts_with(name)).unwrap_or("");
        assert_eq!(directive("script-src"), "script-src 'self' 'wasm-unsafe-eval'", "no inline or foreign scripts");
        assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
        assert_eq!(directive("default-src"), "default-src 'self'");
        assert!(header(&response, "x-request-id").is_some(), "every response names its request");
        assert_eq!(header(&response, "strict-transport-security"), None, "not behind TLS: no HSTS");
    }
    let behind_tls = Server::start_with(&[("CONCLAVE_HSTS", "true")]).await;
    let response = behind_tls.anonymous().get("/healthz").await;
    assert_eq!(header(&response, "strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
}

/// R-SEC-4: browsers may call the API from the configured origins (and the server's own),
/// from no other.
#[tokio::test]
async fn r_sec_4_cors_allows_only_the_configured_origins() {
    let server =
        Server::start_with(&[("CONCLAVE_CORS_ORIGINS", "https://chat.example.com,https://other.example")]).await;
    let client = server.anonymous();
    let preflight = |origin: &str| {
        client
            .raw(Method::OPTIONS, "/api/rooms")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
    };
    let allowed = client.send(preflight("https://chat.example.com")).await;
    assert_eq!(allowed.status, 200);
    assert_eq!(header(&allowed, "access-control-allow-origin"), Some("https://chat.example.com"));
    assert!(header(&allowed, "access-control-allow-methods").unwrap().contains("POST"));
    let refused = client.send(preflight("https://evil.example")).await;
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
    assert_ne!(refused.status, 200);

    let simple = |origin: &str| client.raw(Method::GET, "/healthz").header("Origin", origin);
    let allowed = client.send(simple("https://other.example")).await;
    assert_eq!(header(&allowed, "access-control-allow-origin"), Some("https://other.example"));
    let refused = client.send(simple("https://evil.example")).await;
    assert_eq!(header(&refused, "access-control-allow-origin"), None, "the browser will not let evil read it");
    // The server's own pages are always allowed.
    let own = server.base.clone();
    let same = client.send(simple(&own)).await;
    assert_eq!(header(&same, "access-control-allow-origin"), Some(own.as_str()));
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(line_start).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no metric {line_start} in:\n{text}"))
}

/// R-OPS-4: `/metrics` in Prometheus format counts requests by route pattern and status,
/// messages, WebSocket connections and deliveries, and cleanup runs.
#[tokio::test]
async fn r_ops_4_metrics_count_what_happens() {
    let server = Server::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let room = alice.create_room("counted", "open").await;
    bob.post_empty(&format!("/api/rooms/{room}/join")).await.expect_status(200);
    let (mut socket, _) = server.connect(&bob).await;
    alice.say(&room, "one").await;
    alice.say(&room, "two").await;
    socket.next_of("message_created").await;
    socket.next_of("message_created").await;
    socket.send(json!({"type": "send_message", "room_id": room, "body": "three", "client_id": "c3"})).await;
    socket.next_of("ack").await;
    alice.get("/api/rooms/not-a-room").await.expect_status(404);

    let response = server.anonymous().get("/metrics").await.expect_status(200);
    assert!(header(&response, "content-type").unwrap().starts_with("text/plain"));
    let Value::String(text) = response.body else { panic!("metrics are text") };
    let route = "conclave_http_requests_total{method=\"POST\",route=\"/api/rooms/{room_id}/messages\",status=\"201\"}";
    assert_eq!(metric(&text, route), 2.0, "by route pattern, never by id");
    assert_eq!(
        metric(&text, "conclave_http_requests_total{method=\"GET\",route=\"/api/rooms/{room_id}\",status=\"404\"}"),
        1.0
    );
    assert_eq!(metric(&text, "conclave_messages_sent_total"), 3.0);
    // A WebSocket send is timed in two stages: waiting for its session, then for the store.
    assert_eq!(metric(&text, "conclave_ws_send_seconds_count{stage=\"queued\"}"), 1.0);
    assert_eq!(metric(&text, "conclave_ws_send_seconds_count{stage=\"stored\"}"), 1.0);
    assert_eq!(metric(&text, "conclave_ws_connections"), 1.0);
    assert!(metric(&text, "conclave_ws_deliveries_total") >= 2.0);
    assert_eq!(metric(&text, "conclave_ws_slow_consumers_dropped_total"), 0.0);
    assert!(metric(&text, "conclave_job_runs_total{job=\"cleanup\",outcome=\"ok\"}") >= 1.0, "a cleanup ran at start");
    assert!(!text.contains(&room), "no ids in labels");
}

/// R-OPS-1: with JSON logs, every request has a line with its method, route, status and the
/// request id that its response carries.
#[tokio::test]
async fn r_ops_1_json_logs_carry_the_request_id() {
    let server = Server::start_with(&[("CONCLAVE_LOG_FORMAT", "json"), ("CONCLAVE_LOG", "info")]).await;
    let response = server
        .anonymous()
        .post("/api/auth/signup", json!({"username": "logged", "password": "correct horse battery"}))
        .await
        .expect_status(201);
    let id = header(&response, "x-request-id").unwrap().to_owned();
    let log_path = server.data_dir.path().join("server.log");
    let mut found = None;
    conclave_tests::eventually(std::time::Duration::from_secs(10), "the request's log line", || {
        let log = std::fs::read_to_string(&log_path).unwrap();
        found = log
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["span"]["request_id"] == id.as_str() && !line["span"]["http.status_code"].is_null());
        std::future::ready(found.is_some())
    })
    .await;
    let line = found.unwrap();
    assert_eq!(line["span"]["http.method"], "POST");
    assert_eq!(line["span"]["http.route"], "/api/auth/signup");
    assert_eq!(line["span"]["http.status_code"], 201);
    assert!(!line.to_string().contains("correct horse"), "no password in the logs");
}
