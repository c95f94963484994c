//! The WebSocket gateway at `/ws` (SPEC R-WS-1 to R-WS-6): connections taken over from the HTTP
//! layer at the upgrade, sessions over actix-http's WebSocket codec, fed by the hub.

mod connection;
mod inbound;
pub mod pressure;
mod session;

use actix_http::ws::HandshakeError;
use actix_web::{HttpRequest, HttpResponse};

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

pub use crate::config::GatewaySettings;
pub use connection::{Connections, accept};
