//! One WebSocket per tab (SPEC R-WS-1, R-WS-3, R-UI-2): authenticates with the access token,
//! keeps every room's messages by sequence number (so nothing shows twice), and after a drop
//! reconnects by itself and resumes from the last message it has.

use crate::session::Session;
use conclave_protocol::{ClientFrame, LeaveReason, Message, MessageId, Reaction, RoomId, ServerFrame, UserId};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::Message as WsMessage;
use gloo_net::websocket::futures::WebSocket;
use leptos::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long a `typing` frame keeps its "… is typing" line.
const TYPING_SHOWN: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// The connection dropped; reconnecting.
    Reconnecting,
    /// `attempts` connection attempts in a row failed: the server cannot be reached.
    Unreachable {
        attempts: u32,
    },
}

/// What the gateway told this tab: messages per room by sequence number, typing and presence,
/// and counters that pages showing rooms, members or notifications reload on.
#[derive(Clone, Copy)]
pub struct Live {
    pub connection: RwSignal<Connection>,
    pub messages: RwSignal<HashMap<RoomId, BTreeMap<u64, Message>>>,
    /// Bumped by member, role and room events.
    pub rooms_changed: RwSignal<u64>,
    /// Bumped by new notifications, and by pages that mark them read.
    pub notifications_changed: RwSignal<u64>,
    /// Bumped by messages from others: unread counts change.
    pub messages_arrived: RwSignal<u64>,
    /// The latest message from someone else (for alerts about it).
    pub arrival: RwSignal<Option<Message>>,
    /// Who went online or offline since their lists were loaded.
    pub presence: RwSignal<HashMap<UserId, bool>>,
    /// Who is typing where, with a serial number so that a newer frame outlives an older timer.
    pub typing: RwSignal<HashMap<RoomId, BTreeMap<UserId, u64>>>,
    /// Rooms this user was removed from while the tab was open, and why.
    pub removed: RwSignal<HashMap<RoomId, LeaveReason>>,
    me: RwSignal<Option<UserId>>,
    outbox: StoredValue<Option<UnboundedSender<Outgoing>>>,
    serial: StoredValue<u64>,
}

enum Step {
    Frame(String),
    Send(Outgoing),
    Closed,
}

/// What the tab asks of its connection.
enum Outgoing {
    Frame(ClientFrame),
    /// The user logged out: this connection speaks for nobody now.
    Close,
}

impl Live {
    pub fn new() -> Self {
        Self {
            connection: RwSignal::new(Connection::Connecting),
            messages: RwSignal::new(HashMap::new()),
            rooms_changed: RwSignal::new(0),
            notifications_changed: RwSignal::new(0),
            messages_arrived: RwSignal::new(0),
            arrival: RwSignal::new(None),
            presence: RwSignal::new(HashMap::new()),
            typing: RwSignal::new(HashMap::new()),
            removed: RwSignal::new(HashMap::new()),
            me: RwSignal::new(None),
            outbox: StoredValue::new(None),
            serial: StoredValue::new(0),
        }
    }

    /// Adds messages (from history or live); the same sequence number replaces, never doubles.
    pub fn add(&self, batch: Vec<Message>) {
        if batch.is_empty() {
            return;
        }
        let authors: Vec<(RoomId, UserId)> = batch.iter().map(|m| (m.room_id.clone(), m.author_id.clone())).collect();
        self.messages.update(|rooms| {
            for message in batch {
                rooms.entry(message.room_id.clone()).or_default().insert(message.seq, message);
            }
        });
        // Someone who sent a message has stopped typing it.
        for (room, user) in authors {
            self.typing_stopped(&room, &user, None);
        }
    }

    /// An edited message from the gateway: its reactions carry nobody's `me` (the frame goes to
    /// the whole room), so this tab's own marks are kept from the copy it has.
    fn updated(&self, mut message: Message) {
        let before = self.messages.with_untracked(|rooms| {
            rooms.get(&message.room_id).and_then(|m| m.get(&message.seq)).map(|m| m.reactions.clone())
        });
        for reaction in &mut message.reactions {
            reaction.me = before.iter().flatten().any(|r| r.emoji == reaction.emoji && r.me);
        }
        self.add(vec![message]);
    }

    /// Someone reacted to a message (or took it back): its count changes, and the mark when it
    /// was this user (R-MSG-9).
    fn reacted(&self, room: &RoomId, message: &MessageId, emoji: String, user: &UserId, added: bool) {
        let mine = self.is_me(user);
        self.messages.update(|rooms| {
            let Some(target) = rooms.get_mut(room).and_then(|m| m.values_mut().find(|m| &m.id == message)) else {
                return;
            };
            let existing = target.reactions.iter().position(|r| r.emoji == emoji);
            match (existing, added) {
                (Some(at), true) => {
                    target.reactions[at].count += 1;
                    target.reactions[at].me |= mine;
                }
                (None, true) => target.reactions.push(Reaction { emoji, count: 1, me: mine }),
                (Some(at), false) => {
                    let reaction = &mut target.reactions[at];
                    reaction.count = reaction.count.saturating_sub(1);
                    reaction.me &= !mine;
                    if reaction.count == 0 {
                        target.reactions.remove(at);
                    }
                }
                (None, false) => {}
            }
        });
    }

    /// Sends a frame if the gateway is connected; typing notices are not worth queueing.
    pub fn send(&self, frame: ClientFrame) {
        self.outbox.with_value(|outbox| {
            if let Some(outbox) = outbox {
                // A connection that just ended drops it; the next one resumes.
                outbox.unbounded_send(Outgoing::Frame(frame)).ok();
            }
        });
    }

    fn disconnect(&self) {
        self.outbox.with_value(|outbox| {
            if let Some(outbox) = outbox {
                outbox.unbounded_send(Outgoing::Close).ok();
            }
        });
    }

    /// Whether `user` is the one logged in on this tab (untracked).
    fn is_me(&self, user: &UserId) -> bool {
        self.me.with_untracked(|me| me.as_ref() == Some(user))
    }

    /// Whether `user` is online: live presence first, else what their list said.
    pub fn online(&self, user: &UserId, listed: bool) -> bool {
        if self.me.with(|me| me.as_ref() == Some(user)) {
            return self.connection.get() == Connection::Live;
        }
        self.presence.with(|p| p.get(user).copied()).unwrap_or(listed)
    }

    fn last_seqs(&self) -> BTreeMap<RoomId, u64> {
        self.messages.with_untracked(|rooms| {
            rooms
                .iter()
                .filter_map(|(room, messages)| messages.keys().next_back().map(|seq| (room.clone(), *seq)))
                .collect()
        })
    }

    /// Runs the connection for as long as someone is logged in; connects again after a logout
    /// and a new login, and forgets the previous user's messages.
    pub fn run(self, session: Session) {
        let logged_in = Memo::new(move |_| session.token_tracked().is_some());
        let (login, mut logins) = unbounded::<()>();
        Effect::new(move |_| {
            if logged_in.get() {
                login.unbounded_send(()).ok();
            } else {
                self.disconnect();
                self.messages.set(HashMap::new());
                self.removed.set(HashMap::new());
                self.me.set(None);
            }
        });
        leptos::task::spawn_local(async move {
            let mut failures = 0u32;
            loop {
                let Some(token) = session.token() else {
                    self.connection.set(Connection::Connecting);
                    let _ = logins.next().await;
                    continue;
                };
                match self.session_once(&token).await {
                    Ended::Normally => {
                        failures = 0;
                        self.connection.set(Connection::Reconnecting);
                    }
                    Ended::Failed => {
                        failures += 1;
                        self.connection.set(Connection::Unreachable { attempts: failures });
                    }
                    Ended::TokenRefused => {
                        if session.refresh().await.is_err() {
                            failures += 1;
                        }
                    }
                    Ended::LoggedOut => continue,
                }
                let backoff = 500u64 * u64::from(failures.clamp(1, 10));
                gloo_timers::future::sleep(Duration::from_millis(backoff)).await;
            }
        });
    }

    async fn session_once(&self, token: &str) -> Ended {
        let Ok(socket) = WebSocket::open(&gateway_url()) else { return Ended::Failed };
        let (mut sink, stream) = socket.split();
        let text = |frame: &ClientFrame| WsMessage::Text(serde_json::to_string(frame).unwrap_or_default());
        if sink.send(text(&ClientFrame::Authenticate { token: token.to_owned() })).await.is_err() {
            return Ended::Failed;
        }
        let (outbox, sending) = unbounded();
        self.outbox.set_value(Some(outbox));
        let incoming = stream
            .map(|frame| match frame {
                Ok(WsMessage::Text(text)) => Step::Frame(text),
                Ok(WsMessage::Bytes(_)) => Step::Frame(String::new()),
                Err(_) => Step::Closed,
            })
            .chain(futures::stream::iter([Step::Closed]));
        let mut steps = futures::stream::select(incoming, sending.map(Step::Send));
        let mut ready = false;
        let ended = loop {
            let Some(step) = steps.next().await else { break Ended::Failed };
            let frame = match step {
                Step::Closed => break if ready { Ended::Normally } else { Ended::Failed },
                Step::Send(Outgoing::Frame(frame)) => {
                    if sink.send(text(&frame)).await.is_err() {
                        break Ended::Normally;
                    }
                    continue;
                }
                Step::Send(Outgoing::Close) => {
                    sink.close().await.ok();
                    break Ended::LoggedOut;
                }
                Step::Frame(frame) => frame,
            };
            let Ok(event) = serde_json::from_str::<ServerFrame>(&frame) else { continue };
            match event {
                ServerFrame::Ready { user, .. } => {
                    ready = true;
                    self.me.set(Some(user.id));
                    self.connection.set(Connection::Live);
                    // Pages reload what may have changed while the tab was away.
                    self.rooms_changed.update(|n| *n += 1);
                    self.notifications_changed.update(|n| *n += 1);
                    let rooms = self.last_seqs();
                    if !rooms.is_empty() && sink.send(text(&ClientFrame::Resume { rooms })).await.is_err() {
                        break Ended::Normally;
                    }
                }
                ServerFrame::Error { code, .. } if !ready => {
                    break if code.refuses_access_token() { Ended::TokenRefused } else { Ended::Failed };
                }
                event => self.apply(event),
            }
        };
        self.outbox.set_value(None);
        ended
    }

    fn apply(&self, event: ServerFrame) {
        match event {
            ServerFrame::MessageCreated { message } => {
                let theirs = !self.is_me(&message.author_id);
                if theirs {
                    self.arrival.set(Some(message.clone()));
                }
                self.add(vec![message]);
                if theirs {
                    self.messages_arrived.update(|n| *n += 1);
                }
            }
            ServerFrame::MessageUpdated { message } => self.updated(message),
            ServerFrame::Ack { message, .. } => self.add(vec![message]),
            ServerFrame::ReactionAdded { room_id, message_id, emoji, user_id } => {
                self.reacted(&room_id, &message_id, emoji, &user_id, true)
            }
            ServerFrame::ReactionRemoved { room_id, message_id, emoji, user_id } => {
                self.reacted(&room_id, &message_id, emoji, &user_id, false)
            }
            ServerFrame::MessageDeleted { room_id, message_id } => self.messages.update(|rooms| {
                if let Some(message) = rooms.get_mut(&room_id).and_then(|m| m.values_mut().find(|m| m.id == message_id))
                {
                    message.deleted = true;
                    message.body.clear();
                    message.sticker = None;
                }
            }),
            ServerFrame::MemberLeft { room_id, user_id, reason } => {
                if self.is_me(&user_id) {
                    self.removed.update(|removed| {
                        removed.insert(room_id, reason);
                    });
                }
                self.rooms_changed.update(|n| *n += 1);
            }
            ServerFrame::MemberJoined { room_id, user } => {
                if self.is_me(&user.id) {
                    self.removed.update(|removed| {
                        removed.remove(&room_id);
                    });
                }
                self.rooms_changed.update(|n| *n += 1);
            }
            ServerFrame::RoleChanged { .. } => self.rooms_changed.update(|n| *n += 1),
            ServerFrame::RoomTerminated { room_id } => {
                self.removed.update(|removed| {
                    removed.entry(room_id).or_insert(LeaveReason::Terminated);
                });
                self.rooms_changed.update(|n| *n += 1);
            }
            ServerFrame::NotificationCreated { .. } => self.notifications_changed.update(|n| *n += 1),
            ServerFrame::Presence { user_id, online } => self.presence.update(|p| {
                p.insert(user_id, online);
            }),
            ServerFrame::Typing { room_id, user_id } => self.typing_started(room_id, user_id),
            _ => {}
        }
    }

    fn typing_started(&self, room: RoomId, user: UserId) {
        let serial = self.serial.get_value() + 1;
        self.serial.set_value(serial);
        self.typing.update(|typing| {
            typing.entry(room.clone()).or_default().insert(user.clone(), serial);
        });
        let live = *self;
        leptos::task::spawn_local(async move {
            gloo_timers::future::sleep(TYPING_SHOWN).await;
            live.typing_stopped(&room, &user, Some(serial));
        });
    }

    /// Takes `user`'s "… is typing" line in `room` away: any line, or only the one that
    /// `serial` started (a newer frame keeps it).
    fn typing_stopped(&self, room: &RoomId, user: &UserId, serial: Option<u64>) {
        let shown = self.typing.try_with_untracked(|t| t.get(room).and_then(|u| u.get(user)).copied()).flatten();
        if shown.is_some_and(|shown| serial.is_none_or(|serial| serial == shown)) {
            self.typing.update(|t| {
                if let Some(users) = t.get_mut(room) {
                    users.remove(user);
                }
            });
        }
    }
}

enum Ended {
    /// The server closed a working connection.
    Normally,
    /// No connection could be made.
    Failed,
    TokenRefused,
    LoggedOut,
}

fn gateway_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    let secure = location.and_then(|l| l.protocol().ok()).is_some_and(|p| p == "https:");
    format!("{}://{host}/ws", if secure { "wss" } else { "ws" })
}
