//! The full-screen client's gateway connection: it authenticates, resumes from the newest
//! message the client holds in each room (R-WS-3), passes every frame on as an action and sends
//! what the client asks (typing); when the connection ends it says so and connects again.

use super::app::{Action, Connection};
use crate::api::Api;
use crate::tail::gateway_url;
use conclave_protocol::{ClientFrame, RoomId, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio_tungstenite::tungstenite::Message as Frame;

/// Where the client's newest message numbers are kept for the next resume.
pub type LastSeen = Arc<std::sync::Mutex<BTreeMap<RoomId, u64>>>;

/// Runs until `actions` is closed (the client ended).
pub async fn run(
    api: Arc<Mutex<Api>>,
    last: LastSeen,
    actions: mpsc::UnboundedSender<Action>,
    mut outgoing: mpsc::UnboundedReceiver<ClientFrame>,
) {
    let mut delay = Duration::from_millis(250);
    loop {
        let why = connection(&api, &last, &actions, &mut outgoing, &mut delay).await;
        if actions.send(Action::Connection(Connection::Reconnecting(why))).is_err() {
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
    actions: &mpsc::UnboundedSender<Action>,
    outgoing: &mut mpsc::UnboundedReceiver<ClientFrame>,
    delay: &mut Duration,
) -> String {
    let (url, token) = {
        let mut api = api.lock().await;
        let url = gateway_url(api.server());
        match api.access_token().await {
            Ok(token) => (url, token),
            Err(error) => return error.to_string(),
        }
    };
    let mut socket = match tokio_tungstenite::connect_async(url.as_str()).await {
        Ok((socket, _)) => socket,
        Err(error) => return error.to_string(),
    };
    let text = |frame: &ClientFrame| Frame::text(serde_json::to_string(frame).unwrap_or_default());
    if let Err(error) = socket.send(text(&ClientFrame::Authenticate { token })).await {
        return error.to_string();
    }
    loop {
        tokio::select! {
            frame = socket.next() => {
                let text_frame = match frame {
                    Some(Ok(Frame::Text(text_frame))) => text_frame,
                    Some(Ok(Frame::Close(close))) => return close.map_or("closed".to_owned(), |c| c.reason.to_string()),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return error.to_string(),
                    None => return "closed".to_owned(),
                };
                let Ok(frame) = serde_json::from_str::<ServerFrame>(&text_frame) else { continue };
                match &frame {
                    ServerFrame::Ready { .. } => {
                        let rooms = last.lock().map(|seen| seen.clone()).unwrap_or_default();
                        if let Err(error) = socket.send(text(&ClientFrame::Resume { rooms })).await {
                            return error.to_string();
                        }
                    }
                    ServerFrame::Resumed => {
                        *delay = Duration::from_millis(250);
                        if actions.send(Action::Connection(Connection::Connected)).is_err() {
                            return "ended".to_owned();
                        }
                    }
                    ServerFrame::Error { code, message, .. } if code.refuses_access_token() => return message.clone(),
                    _ => {}
                }
                if actions.send(Action::Frame(frame)).is_err() {
                    return "ended".to_owned();
                }
            }
            asked = outgoing.recv() => match asked {
                Some(frame) => {
                    if let Err(error) = socket.send(text(&frame)).await {
                        return error.to_string();
                    }
                }
                None => return "ended".to_owned(),
            },
        }
    }
}
