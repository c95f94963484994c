//! `tail`: new messages of some rooms as they come, through the gateway. When the connection
//! ends (a restart, a network cut, an expired token) it connects again and resumes from the last
//! message printed in each room (R-WS-3), so each message is printed once, in order.

use crate::api::Api;
use crate::error::{CliError, CliResult};
use crate::names;
use crate::output::{self, Out};
use conclave_protocol::endpoints::Messages;
use conclave_protocol::{ClientFrame, MessagesQuery, RoomId, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as Frame;

/// The rooms followed: their names, and the last message number printed in each.
struct Followed {
    labels: BTreeMap<RoomId, String>,
    last: BTreeMap<RoomId, u64>,
}

impl Followed {
    /// Prints `message` if it is the next one of a followed room; false when it is not new.
    fn take(&mut self, out: Out, message: &conclave_protocol::Message) -> bool {
        let Some(last) = self.last.get_mut(&message.room_id) else {
            return false;
        };
        if message.seq <= *last {
            return false;
        }
        *last = message.seq;
        let label = (self.labels.len() > 1).then(|| self.labels.get(&message.room_id).map(String::as_str)).flatten();
        out.line(message, || output::message(message, label));
        true
    }
}

/// How a connection ended.
enum Ended {
    /// The server or the network ended it: connect again.
    Lost(String),
}

pub async fn run(api: &mut Api, out: Out, specs: &[String]) -> CliResult<()> {
    let mine = names::my_rooms(api).await?;
    let rooms = if specs.is_empty() {
        mine
    } else {
        let mut chosen = Vec::new();
        for spec in specs {
            chosen.push(names::pick(&mine, spec)?.cloned().ok_or_else(|| no_room(spec))?);
        }
        chosen
    };
    if rooms.is_empty() {
        return Err(CliError::Usage("you are in no room to follow".into()));
    }
    let mut followed = Followed { labels: BTreeMap::new(), last: BTreeMap::new() };
    for room in &rooms {
        // From now on: the latest message's number is where printing starts.
        let query = MessagesQuery { limit: Some(1), ..Default::default() };
        let latest = api.call(&Messages { room_id: room.room.id.clone(), query }, None).await?;
        let seq = latest.items.first().map_or(0, |m| m.seq);
        followed.labels.insert(room.room.id.clone(), names::label(room).to_owned());
        followed.last.insert(room.room.id.clone(), seq);
    }
    let mut delay = Duration::from_millis(250);
    loop {
        match follow(api, out, &mut followed, &mut delay).await {
            Ok(Ended::Lost(why)) => eprintln!("conclave-cli: connection lost ({why}); reconnecting…"),
            Err(CliError::Unreachable { reason, .. }) => {
                eprintln!("conclave-cli: server away ({reason}); reconnecting…")
            }
            Err(other) => return Err(other),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

fn no_room(spec: &str) -> CliError {
    CliError::Refused {
        status: 404,
        code: Some(conclave_protocol::ErrorCode::RoomNotFound),
        message: format!("you are in no room named {spec:?}"),
    }
}

/// The gateway's address for an API address: `http` → `ws`, `https` → `wss`.
pub fn gateway_url(server: &str) -> String {
    match server.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}/ws"),
        None => format!("ws://{}/ws", server.trim_start_matches("http://")),
    }
}

/// One connection: authenticate, resume from what was printed, print what comes.
async fn follow(api: &mut Api, out: Out, followed: &mut Followed, delay: &mut Duration) -> CliResult<Ended> {
    let url = gateway_url(api.server());
    let unreachable = |e: tokio_tungstenite::tungstenite::Error| CliError::Unreachable {
        server: api.server().to_owned(),
        reason: e.to_string(),
    };
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.map_err(unreachable)?;
    let token = api.access_token().await?;
    let send = |frame: &ClientFrame| Frame::text(serde_json::to_string(frame).unwrap_or_default());
    let lost = |e: tokio_tungstenite::tungstenite::Error| Ended::Lost(e.to_string());
    if let Err(e) = socket.send(send(&ClientFrame::Authenticate { token })).await {
        return Ok(lost(e));
    }
    let resume = ClientFrame::Resume { rooms: followed.last.clone() };
    while let Some(frame) = socket.next().await {
        let text = match frame {
            Ok(Frame::Text(text)) => text,
            Ok(Frame::Close(close)) => {
                return Ok(Ended::Lost(close.map_or("closed".to_owned(), |c| c.reason.to_string())));
            }
            Ok(_) => continue,
            Err(e) => return Ok(lost(e)),
        };
        // A frame of a newer server that this client does not know is passed over.
        let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) else { continue };
        match frame {
            ServerFrame::Ready { .. } => {
                if let Err(e) = socket.send(send(&resume)).await {
                    return Ok(lost(e));
                }
            }
            ServerFrame::Resumed => *delay = Duration::from_millis(250),
            ServerFrame::MessageCreated { message } => {
                followed.take(out, &message);
            }
            ServerFrame::Error { code, message, .. } if code.refuses_access_token() => {
                // Refused before the next try: the token is refreshed by `access_token` then.
                return Ok(Ended::Lost(message));
            }
            ServerFrame::Error { message, .. } => eprintln!("conclave-cli: {message}"),
            _ => {}
        }
    }
    Ok(Ended::Lost("closed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_is_beside_the_api() {
        assert_eq!(gateway_url("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/ws");
        assert_eq!(gateway_url("https://chat.example.org"), "wss://chat.example.org/ws");
    }
}
