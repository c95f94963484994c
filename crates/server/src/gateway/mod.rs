//! The WebSocket gateway at `/ws` (SPEC R-WS-1 to R-WS-6): connections taken over from the HTTP
//! layer at the upgrade, sessions over actix-http's WebSocket codec, fed by the hub.

mod connection;
pub mod hub;
mod inbound;
pub mod outbox;
pub mod pressure;
mod session;

use actix_http::ws::HandshakeError;
use actix_web::{HttpRequest, HttpResponse};
use std::time::Duration;

/// Timing of the gateway.
#[derive(Debug, Clone, Copy)]
pub struct GatewaySettings {
    /// A connection that has not authenticated by then is closed (10 s per SPEC R-WS-1).
    pub auth_timeout: Duration,
    /// How often the server pings.
    pub heartbeat: Duration,
    /// A connection silent for this long is dead (R-WS-5).
    pub idle_timeout: Duration,
    /// Frames that may wait for one connection before it counts as too slow (R-WS-4).
    pub queue: usize,
    /// Sends waiting this long for their turn, or a worker running this late, are refused (see
    /// `session::Waits` and [`pressure`]); zero: never.
    pub shed_lag: Duration,
}

/// Frames larger than this close the connection; up to it, frames over 64 KiB are refused with
/// an error frame and the session goes on.
const HARD_FRAME_LIMIT: usize = 1024 * 1024;

/// The WebSocket gateway (SPEC R-WS-1 to R-WS-5). JSON text frames with a `type` tag: the client
/// sends `ClientFrame`s, the server `ServerFrame`s. Authenticate with the first frame
/// (`{"type":"authenticate","token":…}`) within 10 s, or send the refresh cookie with the
/// upgrade. Frames over 64 KiB are refused; a client that cannot keep up is disconnected with
/// a `slow_consumer` close and resumes with `{"type":"resume","rooms":{room_id: last_seq}}`.
//
// Upgrade requests never reach this route: the HTTP layer hands them to `connection::accept`
// with their socket. A plain request gets here, and is told what it lacks.
#[utoipa::path(get, path = "/ws", tag = "gateway",
    responses((status = 101, description = "switching to the WebSocket protocol"),
              (status = 400, description = "not a WebSocket upgrade request"),
              (status = 503, description = "the server holds all the connections it may (`unavailable`); \
                                            `Retry-After` says when to try again",
               body = conclave_protocol::ErrorBody)))]
pub async fn upgrade(req: HttpRequest) -> HttpResponse {
    let refusal = actix_http::ws::verify_handshake(req.head()).err().unwrap_or(HandshakeError::NoWebsocketUpgrade);
    actix_web::dev::Response::from(refusal).into()
}

pub use connection::{Connections, accept};
