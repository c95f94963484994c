//! The gateway's connections themselves. actix-http hands every `Upgrade: websocket` request to
//! [`accept`] together with its socket, and its HTTP connection task ends there, buffers and
//! all: a WebSocket connection then costs what the gateway keeps for it and nothing more. The
//! gateway answers the handshake, and from then on owns the socket: the session task reads it
//! ([`Inbound`]), the writer task drains the connection's [`Outbox`] into it.

use super::inbound::Inbound;
use super::pressure::WorkerLoad;
use super::{HARD_FRAME_LIMIT, session};
use crate::app::AppState;
use crate::app::auth::refresh_token_user;
use crate::app::error::ApiError;
use crate::live::outbox::Outbox;
use actix_codec::Framed;
use actix_http::body::{BodySize, BoxBody, MessageBody};
use actix_http::header;
use actix_http::{ConnectionType, HttpMessage, Request, Response, h1};
use actix_web::ResponseError;
use actix_web::cookie::Cookie;
use conclave_protocol::{ErrorCode, REFRESH_COOKIE, UserId};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::Encoder;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

/// The gateway's open connections, up to a bound (`CONCLAVE_MAX_CONNECTIONS`).
#[derive(Clone)]
pub struct Connections {
    tracker: TaskTracker,
    max: usize,
}

impl Connections {
    pub fn new(max: usize) -> Self {
        Self { tracker: TaskTracker::new(), max: max.max(1) }
    }

    /// How many connections are open.
    pub fn open(&self) -> usize {
        self.tracker.len()
    }

    /// Waits up to `patience` for every connection to end (the server is stopping and has told
    /// the sessions so); `false` if some are still open then.
    pub async fn wait_for_all(&self, patience: Duration) -> bool {
        self.tracker.close();
        tokio::time::timeout(patience, self.tracker.wait()).await.is_ok()
    }
}

/// Answers a WebSocket upgrade request on `framed`'s socket: the gateway's at `/ws`, a refusal
/// with the API's error body anywhere else or when the server holds all the connections it may.
pub async fn accept(
    state: Arc<AppState>,
    connections: Connections,
    load: Arc<WorkerLoad>,
    request: Request,
    framed: Framed<TcpStream, h1::Codec>,
) -> Result<(), actix_http::Error> {
    let started = Instant::now();
    let method = request.method().to_string();
    // The connection counts from here, while its handshake is answered.
    let (response, held) = match check(&connections, &request) {
        Err(refusal) => (refusal, None),
        Ok(held) => match actix_http::ws::handshake(request.head()) {
            Err(error) => (Response::from(error), None),
            Ok(mut handshake) => (handshake.finish().map_into_boxed_body(), Some(held)),
        },
    };
    let upgraded = held.is_some();
    let route = if request.path() == "/ws" { "/ws" } else { "unmatched" };
    let status = response.status().as_u16();
    let mut parts = framed.into_parts();
    let written = write_response(&mut parts.io, &mut parts.codec, response, upgraded).await;
    state.metrics.http_request(route, &method, status, started.elapsed().as_secs_f64());
    if let Err(error) = written {
        tracing::debug!(%error, "the client left during the WebSocket handshake");
        return Ok(());
    }
    let Some(held) = held else {
        // The refusal is written; a client already gone makes the shutdown fail, which is fine.
        parts.io.shutdown().await.ok();
        return Ok(());
    };
    let cookie_user = refresh_cookie_user(&state, &request).await;
    let (read, write) = parts.io.into_split();
    let (outbox, writer) = Outbox::new(state.settings.gateway.queue);
    let inbound = Inbound::new(read, parts.read_buf, HARD_FRAME_LIMIT);
    // The connection counts until the session has ended and the writer written its last frames.
    let writing = actix_web::rt::spawn(writer.write_to(write, state.settings.gateway.drain_timeout));
    actix_web::rt::spawn(async move {
        session::run(state, outbox, inbound, cookie_user, load).await;
        // The writer ends when the connection does; how does not matter to the count.
        writing.await.ok();
        drop(held);
    });
    Ok(())
}

/// Refuses what the gateway does not take: another path, or one connection too many.
fn check(connections: &Connections, request: &Request) -> Result<TaskTrackerToken, Response<BoxBody>> {
    if request.path() != "/ws" {
        let error = ApiError::new(ErrorCode::NotFound, "no WebSocket endpoint here: the gateway is at /ws");
        return Err(error.error_response().into());
    }
    if connections.open() >= connections.max {
        let mut error =
            ApiError::new(ErrorCode::Unavailable, "the server holds all the connections it may; try again later");
        error.retry_after_secs = Some(1);
        return Err(error.error_response().into());
    }
    Ok(connections.tracker.token())
}

/// The user of a valid refresh cookie sent with the upgrade: a browser authenticates by it
/// (R-WS-1).
async fn refresh_cookie_user(state: &AppState, request: &Request) -> Option<UserId> {
    let value = request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| Cookie::parse(pair.trim()).ok())
        .find(|cookie| cookie.name() == REFRESH_COOKIE && !cookie.value().is_empty())?
        .value()
        .to_owned();
    refresh_token_user(state, &value).await
}

/// Writes the handshake's answer with actix-http's HTTP/1 encoder; a refusal closes the
/// connection after its body.
async fn write_response(
    socket: &mut TcpStream,
    codec: &mut h1::Codec,
    response: Response<BoxBody>,
    upgraded: bool,
) -> std::io::Result<()> {
    let (mut head, body) = response.into_parts();
    let body = actix_http::body::to_bytes(body).await.unwrap_or_default();
    if !upgraded {
        head.head_mut().set_connection_type(ConnectionType::Close);
    }
    let size = if upgraded { BodySize::None } else { body.size() };
    let mut out = actix_web::web::BytesMut::new();
    codec.encode(h1::Message::Item((head, size)), &mut out)?;
    if !body.is_empty() {
        codec.encode(h1::Message::Chunk(Some(body)), &mut out)?;
    }
    socket.write_all(&out).await
}
