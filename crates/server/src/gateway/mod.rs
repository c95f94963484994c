//! The WebSocket gateway at `/ws` (SPEC R-WS-1 to R-WS-6): sessions over actix-http's WebSocket codec, fed by the hub.

pub mod hub;
mod inbound;
pub mod outbox;
mod session;

use crate::http::accounts::REFRESH_COOKIE;
use crate::state::AppState;
use actix_web::body::BoxBody;
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use conclave_crypto::RefreshToken;
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
}

/// Frames larger than this close the connection; up to it, frames over 64 KiB are refused with
/// an error frame and the session goes on.
const HARD_FRAME_LIMIT: usize = 1024 * 1024;

/// The WebSocket gateway (SPEC R-WS-1 to R-WS-5). JSON text frames with a `type` tag: the client
/// sends `ClientFrame`s, the server `ServerFrame`s. Authenticate with the first frame
/// (`{"type":"authenticate","token":…}`) within 10 s, or send the refresh cookie with the
/// upgrade. Frames over 64 KiB are refused; a client that cannot keep up is disconnected with
/// a `slow_consumer` close and resumes with `{"type":"resume","rooms":{room_id: last_seq}}`.
#[utoipa::path(get, path = "/ws", tag = "gateway",
    responses((status = 101, description = "switching to the WebSocket protocol"),
              (status = 400, description = "not a WebSocket upgrade request")))]
pub async fn upgrade(req: HttpRequest, body: Payload, state: Data<AppState>) -> actix_web::Result<HttpResponse> {
    let cookie_user = match req.cookie(REFRESH_COOKIE) {
        Some(cookie) if !cookie.value().is_empty() => {
            let digest = RefreshToken::digest_of(cookie.value());
            state.store.refresh_token_user(&digest, Utc::now()).await.unwrap_or_else(|error| {
                tracing::warn!(%error, "could not check the refresh cookie");
                None
            })
        }
        _ => None,
    };
    let mut handshake = actix_http::ws::handshake(req.head())?;
    let (outbox, writer) = outbox::Outbox::new(state.settings.gateway.queue);
    let response = handshake.message_body(BoxBody::new(writer))?;
    let inbound = inbound::Inbound::new(body, HARD_FRAME_LIMIT);
    actix_web::rt::spawn(session::run(state.into_inner(), outbox, inbound, cookie_user));
    Ok(response.into())
}
