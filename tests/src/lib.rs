//! The black-box harness: starts the real `conclave` binary on a free port with a temporary data
//! folder and drives it over HTTP as clients would. Nothing here reaches into the server's code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod storage;

use conclave_protocol::endpoints::{self, Endpoint};
use conclave_protocol::{CreateRoomRequest, JoinPolicy, LoginRequest, RoomId, SendMessageRequest, SignupRequest};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The signing secret the test servers use, so that tests can forge tokens the way an
/// attacker holding a wrong key, no key, or an old token would.
pub const JWT_SECRET: &str = "black-box-tests-jwt-secret-of-enough-length-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";

/// The `conclave` binary under test: `CONCLAVE_BIN`, or the workspace's debug build.
pub fn binary() -> PathBuf {
    built("CONCLAVE_BIN", "conclave", "conclave-server")
}

/// The terminal client under test: `CONCLAVE_CLI_BIN`, or the workspace's debug build.
pub fn cli_binary() -> PathBuf {
    built("CONCLAVE_CLI_BIN", "conclave-cli", "conclave-cli")
}

/// The binary `variable` names, else `name` in the workspace's debug build (of `package`).
fn built(variable: &str, name: &str, package: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
    assert!(path.exists(), "{} is missing: build it first with `cargo build -p {package}`", path.display());
    path
}

/// The store the servers under test use: the embedded one, or MongoDB when
/// `CONCLAVE_TEST_STORE=mongodb`, on the server `CONCLAVE_TEST_MONGODB_URI` (`mongodb://host:port`)
/// points at. `scripts/test.sh` runs the whole suite once each way.
pub fn testing_mongodb() -> bool {
    match std::env::var("CONCLAVE_TEST_STORE").as_deref() {
        Ok("mongodb") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("CONCLAVE_TEST_STORE={other}: expected sqlite or mongodb"),
    }
}

/// On MongoDB, each data folder gets a database of its own, named in a file inside it so that
/// a restart on the folder finds the same database.
fn mongodb_uri_for(data_dir: &Path) -> Option<String> {
    if !testing_mongodb() {
        return None;
    }
    let base = std::env::var("CONCLAVE_TEST_MONGODB_URI")
        .expect("CONCLAVE_TEST_STORE=mongodb needs CONCLAVE_TEST_MONGODB_URI (mongodb://host:port)");
    let name_file = data_dir.join("mongodb-database");
    let name = match std::fs::read_to_string(&name_file) {
        Ok(name) => name,
        Err(_) => {
            static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let count = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            let name = format!("blackbox_{}_{count}_{nanos}", std::process::id());
            std::fs::write(&name_file, &name).unwrap();
            name
        }
    };
    Some(format!("{}/{name}", base.trim_end_matches('/')))
}

/// The `conclave` command for a test server on `data_dir`, logging to `server.log` there; `env`
/// adds settings (`CONCLAVE_…`), and an empty value unsets one.
fn command(data_dir: &Path, bind: &str, env: &[(&str, &str)]) -> Command {
    let log = std::fs::File::create(data_dir.join("server.log")).unwrap();
    let mut command = Command::new(binary());
    match mongodb_uri_for(data_dir) {
        Some(uri) => command.env("CONCLAVE_MONGODB_URI", uri),
        None => command.env_remove("CONCLAVE_MONGODB_URI"),
    };
    command
        .arg("--bind")
        .arg(bind)
        .arg("--data-dir")
        .arg(data_dir)
        .env("CONCLAVE_JWT_SECRET", JWT_SECRET)
        .env("CONCLAVE_LOG", "warn")
        // Rate limits are tested on their own; elsewhere they would only slow tests down.
        .env("CONCLAVE_MESSAGE_BURST", "100000")
        .env("CONCLAVE_LOGIN_BURST", "100000")
        .envs(env.iter().copied().filter(|(_, value)| !value.is_empty()))
        .stdin(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    for (key, _) in env.iter().filter(|(_, value)| value.is_empty()) {
        command.env_remove(key);
    }
    command
}

/// What a one-off `conclave` command did.
pub struct Ran {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// `conclave ARGS…`, a one-off command such as `backup`, on `data_dir` and the test store (the
/// same as a server on that folder uses), with `env` added.
pub fn conclave_command(data_dir: &Path, args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary());
    match mongodb_uri_for(data_dir) {
        Some(uri) => command.env("CONCLAVE_MONGODB_URI", uri),
        None => command.env_remove("CONCLAVE_MONGODB_URI"),
    };
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("CONCLAVE_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs [`conclave_command`] to its end (at most 60 s).
pub async fn run_conclave(data_dir: &Path, args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Ran {
    let mut command = conclave_command(data_dir, args, env);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the command ends within 60 s")
        .expect("conclave runs");
    Ran {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A running server with its own data folder. Killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Server {
    pub async fn start() -> Server {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra environment variables (`CONCLAVE_…`); an empty value unsets one.
    pub async fn start_with(env: &[(&str, &str)]) -> Server {
        Self::start_in(tempfile::tempdir().unwrap(), env).await
    }

    /// Starts a server on an existing data folder (to test restarts): on MongoDB, the same
    /// database as before.
    pub async fn start_in(data_dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        Self::start_on(data_dir, "127.0.0.1:0", env).await
    }

    /// [`Server::start_in`] on the address `bind` (a restarted server on its old address, for
    /// the clients that reconnect to it).
    pub async fn start_on(data_dir: tempfile::TempDir, bind: &str, env: &[(&str, &str)]) -> Server {
        let mut command = command(data_dir.path(), bind, env);
        command.stdout(Stdio::piped());
        let mut child = command.spawn().expect("start conclave");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("conclave listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("conclave exited before listening; see its log")
        })
        .await
        .expect("conclave did not start within 30 s");
        // Keep reading stdout so that the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Server { child, base, data_dir, http }
    }

    /// Starts a server that is expected not to start (a bad setting): its exit status and log.
    pub async fn start_failure(env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
        Self::start_failure_in(tempfile::tempdir().unwrap().path(), env).await
    }

    /// [`Server::start_failure`] on an existing data folder.
    pub async fn start_failure_in(data_dir: &Path, env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
        let mut command = command(data_dir, "127.0.0.1:0", env);
        command.stdout(Stdio::null());
        let status = tokio::time::timeout(Duration::from_secs(60), command.status())
            .await
            .expect("conclave gives up within 60 s")
            .unwrap();
        (status, std::fs::read_to_string(data_dir.join("server.log")).unwrap())
    }

    /// Stops the server (SIGKILL) and hands back its data folder.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.child.kill().await.unwrap();
        self.data_dir
    }

    /// Stops the server as a deployment does (SIGTERM) and waits for it to exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("the server is running").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("conclave exits after SIGTERM")
            .unwrap()
    }

    /// Stops the server with SIGTERM, as a deployment does, and hands back its exit status and
    /// data folder (to start it again there).
    pub async fn shut_down(mut self) -> (std::process::ExitStatus, tempfile::TempDir) {
        let status = self.terminate().await;
        (status, self.data_dir)
    }

    /// A client without credentials.
    pub fn anonymous(&self) -> Client {
        Client { http: self.http.clone(), base: self.base.clone(), token: None }
    }

    /// Signs up and logs in `username`.
    pub async fn user(&self, username: &str) -> User {
        let signup = SignupRequest {
            username: username.to_owned(),
            password: PASSWORD.to_owned(),
            first_name: None,
            last_name: None,
        };
        self.anonymous().call(&endpoints::Signup {}, Some(&signup)).await;
        self.login(username).await
    }

    /// Logs in an existing `username`.
    pub async fn login(&self, username: &str) -> User {
        let login = LoginRequest { username: username.to_owned(), password: PASSWORD.to_owned() };
        let session = self.anonymous().call(&endpoints::Login {}, Some(&login)).await;
        User {
            id: session.user.id.0,
            username: session.user.username,
            refresh_token: session.refresh_token,
            client: Client { http: self.http.clone(), base: self.base.clone(), token: Some(session.access_token) },
        }
    }
}

/// A logged-in user: their id, name and an authenticated client.
pub struct User {
    pub id: String,
    pub username: String,
    pub refresh_token: String,
    pub client: Client,
}

impl std::ops::Deref for User {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// An HTTP client, with or without a bearer token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub fn with_token(&self, token: &str) -> Client {
        Client { token: Some(token.to_owned()), ..self.clone() }
    }

    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Response {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Response { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(self.raw(Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(self.raw(Method::DELETE, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send(self.raw(Method::POST, path).json(&body)).await
    }

    /// A POST without a body.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.send(self.raw(Method::POST, path)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.send(self.raw(Method::PATCH, path).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.send(self.raw(Method::PUT, path).json(&body)).await
    }

    /// Calls one operation of the protocol's endpoint table and reads a success as the table's
    /// answer type: an answer that does not fit the contract fails the test, as does an error.
    pub async fn call<E: Endpoint>(&self, endpoint: &E, body: Option<&E::Body>) -> E::Answer {
        let method = match E::METHOD {
            endpoints::Method::Get => Method::GET,
            endpoints::Method::Post => Method::POST,
            endpoints::Method::Put => Method::PUT,
            endpoints::Method::Patch => Method::PATCH,
            endpoints::Method::Delete => Method::DELETE,
        };
        let path = endpoint.path();
        let mut request = self.raw(method.clone(), &path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self.send(request).await;
        assert!(
            (200..300).contains(&response.status),
            "{method} {path} answered {}: {}",
            response.status,
            response.body
        );
        serde_json::from_value(response.body.clone()).unwrap_or_else(|e| {
            panic!("{method} {path}: the answer does not fit the protocol ({e}): {}", response.body)
        })
    }

    /// Creates a group room and returns its id.
    pub async fn create_room(&self, name: &str, policy: &str) -> String {
        let join_policy: JoinPolicy = serde_json::from_value(json!(policy)).expect("a join policy");
        let request = CreateRoomRequest { name: name.to_owned(), topic: None, join_policy, password: None };
        self.call(&endpoints::CreateRoom {}, Some(&request)).await.room.id.0
    }

    /// Sends a message and returns it.
    pub async fn say(&self, room: &str, body: &str) -> Value {
        let request = SendMessageRequest {
            body: body.to_owned(),
            color: None,
            sticker: None,
            client_id: None,
            attachment_id: None,
            reply_to: None,
        };
        let sent = self.call(&endpoints::SendMessage { room_id: RoomId::from(room) }, Some(&request)).await;
        serde_json::to_value(sent.message).expect("a message as JSON")
    }

    /// Every item of a paginated list, following `next_cursor`.
    pub async fn all_items(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{separator}cursor={c}"),
                None => path.to_owned(),
            };
            let page = self.get(&url).await.expect_status(200).body;
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// The kinds of my notifications, newest first.
    pub async fn notification_kinds(&self) -> Vec<String> {
        self.all_items("/api/notifications").await.iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
    }
}

/// Waits until `condition` holds, asking it again every 50 ms, for at most `within`: for effects
/// of background work (a cleanup run) that no response announces.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A response: status, headers and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Response {
    /// Panics, showing the body, unless the status is `expected`.
    #[track_caller]
    pub fn expect_status(self, expected: u16) -> Response {
        assert_eq!(self.status, expected, "unexpected status; body: {}", self.body);
        self
    }

    /// Panics unless this is an error with `status` and `code` in the R-OPS-5 shape.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Response {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "unexpected error code; body: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {}", self.body);
        self
    }
}

/// A WebSocket client of the gateway, speaking JSON frames.
pub struct Socket {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How long a test waits for a frame that should come.
pub const FRAME_WAIT: Duration = Duration::from_secs(10);

impl Server {
    /// The gateway's address.
    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }

    /// Opens a WebSocket without authenticating.
    pub async fn socket(&self) -> Socket {
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(self.ws_url(), None, true).await.expect("websocket connects");
        Socket { ws }
    }

    /// Opens a WebSocket whose client reads nothing unless asked: a tiny receive buffer, so
    /// that the server's frames pile up quickly when it does not read.
    pub async fn small_buffer_socket(&self) -> Socket {
        let address: std::net::SocketAddr = self.base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(address).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(self.ws_url(), tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .expect("websocket connects");
        Socket { ws }
    }

    /// Opens a WebSocket as `user` and waits for `ready`; returns the socket and that frame.
    pub async fn connect(&self, user: &User) -> (Socket, Value) {
        let mut socket = self.socket().await;
        socket.send(json!({"type": "authenticate", "token": user.token.clone().unwrap()})).await;
        let ready = socket.next().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        (socket, ready)
    }
}

impl From<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>> for Socket {
    fn from(ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>) -> Self {
        Socket { ws }
    }
}

impl Socket {
    pub async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    /// Sends `frames` one after the other while reading what comes back (a client that keeps
    /// reading is never too slow, R-WS-4), until every frame is sent and `done` has said so of
    /// a text frame received; returns the text frames received.
    pub async fn send_while_reading(&mut self, frames: Vec<Value>, mut done: impl FnMut(&Value) -> bool) -> Vec<Value> {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        let (mut sink, mut stream) = (&mut self.ws).split();
        let sending = async move {
            for frame in frames {
                sink.send(Message::text(frame.to_string())).await.expect("frame sent");
            }
        };
        let reading = async move {
            let mut received = Vec::new();
            loop {
                let message = tokio::time::timeout(FRAME_WAIT, stream.next()).await.expect("a frame within the wait");
                match message {
                    Some(Ok(Message::Text(text))) => {
                        let frame: Value = serde_json::from_str(&text).unwrap();
                        let last = done(&frame);
                        received.push(frame);
                        if last {
                            return received;
                        }
                    }
                    Some(Ok(Message::Close(frame))) => panic!("closed while frames were expected: {frame:?}"),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => panic!("the connection ended while frames were expected"),
                }
            }
        };
        tokio::join!(sending, reading).1
    }

    /// Sends `frame`; `false` when the connection is gone (a server that was killed).
    pub async fn try_send(&mut self, frame: Value) -> bool {
        use futures_util::SinkExt;
        self.ws.send(tokio_tungstenite::tungstenite::Message::text(frame.to_string())).await.is_ok()
    }

    pub async fn send_text(&mut self, text: String) {
        use futures_util::SinkExt;
        self.ws.send(tokio_tungstenite::tungstenite::Message::text(text)).await.expect("frame sent");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        use futures_util::SinkExt;
        self.ws.send(tokio_tungstenite::tungstenite::Message::binary(bytes)).await.expect("frame sent");
    }

    /// The next text frame, as JSON; panics when none comes in time or the connection ends.
    pub async fn next(&mut self) -> Value {
        match self.next_or_close().await {
            Ok(frame) => frame,
            Err(close) => panic!("connection closed while a frame was expected: {close:?}"),
        }
    }

    /// The next text frame, or the close reason (`None` when the connection just ended).
    pub async fn next_or_close(&mut self) -> Result<Value, Option<String>> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let message = tokio::time::timeout(FRAME_WAIT, self.ws.next()).await.expect("a frame within the wait");
            match message {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| f.reason.to_string())),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// Skips frames until the server closes the connection: its close code and reason.
    pub async fn close_frame(&mut self) -> Option<(u16, String)> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let message = tokio::time::timeout(FRAME_WAIT, self.ws.next()).await.expect("a frame within the wait");
            match message {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next frame of type `kind`, skipping presence, typing and notification frames that may
    /// come between, and member joins: on a cluster the bus may bring a join made on another node
    /// to a socket opened just after it.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        const MAY_COME_BETWEEN: [&str; 4] = ["presence", "typing", "notification_created", "member_joined"];
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
            assert!(MAY_COME_BETWEEN.iter().any(|between| frame["type"] == *between), "expected {kind}, got {frame}");
        }
    }

    /// Sends `ping` and collects every frame before the `pong`: what the server had queued.
    pub async fn drain(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping"})).await;
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            if frame["type"] == "pong" {
                return frames;
            }
            frames.push(frame);
        }
    }

    /// Like [`Socket::drain`], keeping only frames of `kind`.
    pub async fn drain_of(&mut self, kind: &str) -> Vec<Value> {
        self.drain().await.into_iter().filter(|f| f["type"] == kind).collect()
    }

    /// Closes the connection from the client side.
    pub async fn close(mut self) {
        // Closing a connection the server already ended is no failure.
        self.ws.close(None).await.ok();
    }
}
