//! One WebSocket per tab (SPEC R-WS-1, R-WS-3, R-UI-2): authenticates with the access token,
//! keeps every room's messages by sequence number (so nothing shows twice), and after a drop
//! reconnects by itself and resumes from the last message it has.

use crate::session::Session;
use conclave_protocol::{ClientFrame, Message, RoomId, ServerFrame};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::Message as WsMessage;
use gloo_net::websocket::futures::WebSocket;
use leptos::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Lost; retrying. `attempts` counts the failures in a row.
    Retrying {
        attempts: u32,
    },
}

/// Messages per room by sequence number, and the state of the connection.
#[derive(Clone, Copy)]
pub struct Live {
    pub connection: RwSignal<Connection>,
    pub messages: RwSignal<HashMap<RoomId, BTreeMap<u64, Message>>>,
    /// Bumped by member, role and room events, so that pages showing those reload them.
    pub changes: RwSignal<u64>,
}

impl Live {
    pub fn new() -> Self {
        Self {
            connection: RwSignal::new(Connection::Connecting),
            messages: RwSignal::new(HashMap::new()),
            changes: RwSignal::new(0),
        }
    }

    /// Adds messages (from history or live); the same sequence number replaces, never doubles.
    pub fn add(&self, batch: Vec<Message>) {
        if batch.is_empty() {
            return;
        }
        self.messages.update(|rooms| {
            for message in batch {
                rooms.entry(message.room_id.clone()).or_default().insert(message.seq, message);
            }
        });
    }

    fn last_seqs(&self) -> BTreeMap<RoomId, u64> {
        self.messages.with_untracked(|rooms| {
            rooms
                .iter()
                .filter_map(|(room, messages)| messages.keys().next_back().map(|seq| (room.clone(), *seq)))
                .collect()
        })
    }

    /// Runs the connection for as long as someone is logged in.
    pub fn run(self, session: Session) {
        leptos::task::spawn_local(async move {
            let mut attempts = 0u32;
            loop {
                let Some(token) = session.token() else {
                    gloo_timers::future::sleep(Duration::from_millis(500)).await;
                    continue;
                };
                self.connection.set(if attempts == 0 {
                    Connection::Connecting
                } else {
                    Connection::Retrying { attempts }
                });
                match self.session_once(&token).await {
                    Ended::Normally => attempts = 0,
                    Ended::Failed => attempts += 1,
                    Ended::TokenRefused => {
                        attempts += 1;
                        let _ = session.refresh().await;
                    }
                }
                self.connection.set(Connection::Retrying { attempts: attempts.max(1) });
                let backoff = 500u64 * u64::from(attempts.clamp(1, 10));
                gloo_timers::future::sleep(Duration::from_millis(backoff)).await;
            }
        });
    }

    async fn session_once(&self, token: &str) -> Ended {
        let Ok(socket) = WebSocket::open(&gateway_url()) else { return Ended::Failed };
        let (mut sink, mut stream) = socket.split();
        let frame = |frame: &ClientFrame| WsMessage::Text(serde_json::to_string(frame).unwrap_or_default());
        if sink.send(frame(&ClientFrame::Authenticate { token: token.to_owned() })).await.is_err() {
            return Ended::Failed;
        }
        let mut ready = false;
        while let Some(Ok(WsMessage::Text(text))) = stream.next().await {
            let Ok(event) = serde_json::from_str::<ServerFrame>(&text) else { continue };
            match event {
                ServerFrame::Ready { .. } => {
                    ready = true;
                    self.connection.set(Connection::Live);
                    let rooms = self.last_seqs();
                    if !rooms.is_empty() && sink.send(frame(&ClientFrame::Resume { rooms })).await.is_err() {
                        return Ended::Failed;
                    }
                }
                ServerFrame::MessageCreated { message } | ServerFrame::MessageUpdated { message } => {
                    self.add(vec![message])
                }
                ServerFrame::Ack { message, .. } => self.add(vec![message]),
                ServerFrame::MessageDeleted { room_id, message_id } => self.messages.update(|rooms| {
                    if let Some(message) =
                        rooms.get_mut(&room_id).and_then(|m| m.values_mut().find(|m| m.id == message_id))
                    {
                        message.deleted = true;
                        message.body.clear();
                    }
                }),
                ServerFrame::MemberJoined { .. }
                | ServerFrame::MemberLeft { .. }
                | ServerFrame::RoleChanged { .. }
                | ServerFrame::RoomTerminated { .. }
                | ServerFrame::NotificationCreated { .. } => self.changes.update(|n| *n += 1),
                ServerFrame::Error { code, .. } if !ready => {
                    return if code == conclave_protocol::ErrorCode::TokenExpired
                        || code == conclave_protocol::ErrorCode::TokenInvalid
                    {
                        Ended::TokenRefused
                    } else {
                        Ended::Failed
                    };
                }
                _ => {}
            }
        }
        if ready { Ended::Normally } else { Ended::Failed }
    }
}

enum Ended {
    Normally,
    Failed,
    TokenRefused,
}

fn gateway_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    let secure = location.and_then(|l| l.protocol().ok()).is_some_and(|p| p == "https:");
    format!("{}://{host}/ws", if secure { "wss" } else { "ws" })
}
