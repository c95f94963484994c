//! The gateway connection that `tail` and `tui` share: it authenticates, resumes from the
//! newest message the client holds in each room (R-WS-3), passes every frame on and sends what
//! the client asks (typing). When the connection ends it says so and connects again, with a
//! growing pause; only a session the server no longer accepts ends it.

use crate::api::Api;
use crate::error::{CliError, CliResult};
use conclave_protocol::{ClientFrame, RoomId, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio_tungstenite::tungstenite::Message as Frame;

/// The newest message number the client holds in each room: where the next resume starts.
pub type LastSeen = Arc<std::sync::Mutex<BTreeMap<RoomId, u64>>>;

/// What happens on the connection.
#[derive(Debug)]
pub enum Event {
    Frame(Box<ServerFrame>),
    /// Authenticated and resumed: everything missed has been passed on.
    Connected,
    /// Lost (why); connecting again.
    Lost(String),
    /// The session is over (logged out elsewhere, expired): the connection will not come back.
    Ended(CliError),
}

/// The gateway's address for an API address: `http` → `ws`, `https` → `wss`.
pub fn url(server: &str) -> String {
    match server.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}/ws"),
        None => format!("ws://{}/ws", server.trim_start_matches("http://")),
    }
}

/// Runs until the session ends or `events` is closed (the client stopped listening).
pub async fn run(
    api: Arc<Mutex<Api>>,
    last: LastSeen,
    events: mpsc::UnboundedSender<Event>,
    mut outgoing: mpsc::UnboundedReceiver<ClientFrame>,
) {
    let mut delay = Duration::from_millis(250);
    loop {
        let event = match connection(&api, &last, &events, &mut outgoing, &mut delay).await {
            Ok(why) => Event::Lost(why),
            Err(ended @ CliError::NotLoggedIn(_)) => {
                events.send(Event::Ended(ended)).ok();
                return;
            }
            Err(other) => Event::Lost(other.to_string()),
        };
        if events.send(event).is_err() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// One connection, to its end: why it ended.
async fn connection(
    api: &Mutex<Api>,
    last: &LastSeen,
    events: &mpsc::UnboundedSender<Event>,
    outgoing: &mut mpsc::UnboundedReceiver<ClientFrame>,
    delay: &mut Duration,
) -> CliResult<String> {
    let (address, token) = {
        let mut api = api.lock().await;
        (url(api.server()), api.access_token().await?)
    };
    let mut socket = match tokio_tungstenite::connect_async(address.as_str()).await {
        Ok((socket, _)) => socket,
        Err(error) => return Ok(error.to_string()),
    };
    let text = |frame: &ClientFrame| Frame::text(serde_json::to_string(frame).unwrap_or_default());
    // Whether the client may still ask for frames to be sent.
    let mut asking = true;
    if let Err(error) = socket.send(text(&ClientFrame::Authenticate { token })).await {
        return Ok(error.to_string());
    }
    loop {
        tokio::select! {
            frame = socket.next() => {
                let received = match frame {
                    Some(Ok(Frame::Text(received))) => received,
                    Some(Ok(Frame::Close(close))) => return Ok(close.map_or("closed".to_owned(), |c| c.reason.to_string())),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Ok(error.to_string()),
                    None => return Ok("closed".to_owned()),
                };
                // A frame of a newer server that this client does not know is passed over.
                let Ok(frame) = serde_json::from_str::<ServerFrame>(&received) else { continue };
                match &frame {
                    ServerFrame::Ready { .. } => {
                        let rooms = last.lock().map(|seen| seen.clone()).unwrap_or_default();
                        if let Err(error) = socket.send(text(&ClientFrame::Resume { rooms })).await {
                            return Ok(error.to_string());
                        }
                    }
                    ServerFrame::Resumed => {
                        *delay = Duration::from_millis(250);
                        if events.send(Event::Connected).is_err() {
                            return Ok("ended".to_owned());
                        }
                    }
                    // Refused (expired early): the next try refreshes the token first.
                    ServerFrame::Error { code, message, .. } if code.refuses_access_token() => {
                        api.lock().await.expire();
                        return Ok(message.clone());
                    }
                    _ => {}
                }
                if events.send(Event::Frame(Box::new(frame))).is_err() {
                    return Ok("ended".to_owned());
                }
            }
            asked = outgoing.recv(), if asking => match asked {
                Some(frame) => {
                    if let Err(error) = socket.send(text(&frame)).await {
                        return Ok(error.to_string());
                    }
                }
                None => asking = false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_is_beside_the_api() {
        assert_eq!(url("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/ws");
        assert_eq!(url("https://chat.example.org"), "wss://chat.example.org/ws");
    }
}
