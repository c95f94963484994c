//! Several nodes (SPEC R-WS-2 across nodes): a [`Bus`] that applies each event to this node's
//! hub at once, as one node does, and publishes it on Redis pub/sub, where every other node's
//! subscriber applies it to its own hub. Redis only rings the bell: the store is the truth, and
//! what a node misses while Redis is away is repaired from it (resume, history).
//!
//! One publisher task per node sends this node's events in the order they were published, so
//! a subscriber sees one node's events in that order. Both tasks reconnect by themselves.
//! Different nodes' messages in one room may still arrive out of order, or not at all: every
//! event, this node's and the others', passes the [`Sequencer`] on its way to the hub, which
//! holds a room's messages behind a gap and has the gap read from the store when it lasts.

use super::Frame;
use super::hub::{Bus, Event, Heard, Hub, PresenceHeard, ReadMissing};
use super::sequencer::{Read, Sequencer};
use crate::shared::{RedisUnreachable, redacted};
use actix_http::ws::{CloseCode, CloseReason};
use conclave_protocol::{RoomId, UserId};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The channel every node publishes on and listens to.
const CHANNEL: &str = "conclave:events";
/// The wait before connecting to Redis again after losing it.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);
/// How long a gap in a room's message numbers may stay open before it is read from the store:
/// well above the time two nodes' publishes take to cross Redis, well below what a person notices.
const GAP_WAIT: Duration = Duration::from_millis(200);
/// How often the lines of rooms with no sessions here are forgotten.
const FORGET_EVERY: Duration = Duration::from_secs(10);

/// An [`Event`] as it crosses Redis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum WireEvent {
    ToRoom {
        room: RoomId,
        frame: String,
        seq: Option<u64>,
    },
    ToUsers {
        users: Vec<UserId>,
        frame: String,
    },
    ToRooms {
        rooms: Vec<RoomId>,
        except: UserId,
        frame: String,
    },
    Subscribe {
        room: RoomId,
        user: UserId,
    },
    Unsubscribe {
        room: RoomId,
        user: UserId,
    },
    Dissolve {
        room: RoomId,
    },
    EndSessions {
        user: UserId,
        code: u16,
        reason: Option<String>,
    },
    Presence {
        user: UserId,
        online: bool,
        #[serde(default)]
        told_rooms: bool,
    },
    /// Who is online on the publishing node, every third of the presence lifetime: a node not
    /// heard for a lifetime is gone, with its users' sessions.
    Heartbeat {
        users: Vec<UserId>,
    },
}

impl From<&Event> for WireEvent {
    fn from(event: &Event) -> Self {
        match event.clone() {
            Event::ToRoom { room, frame, seq } => WireEvent::ToRoom { room, frame: frame.to_string(), seq },
            Event::ToUsers { users, frame } => WireEvent::ToUsers { users, frame: frame.to_string() },
            Event::ToRooms { rooms, except, frame } => WireEvent::ToRooms { rooms, except, frame: frame.to_string() },
            Event::Subscribe { room, user } => WireEvent::Subscribe { room, user },
            Event::Unsubscribe { room, user } => WireEvent::Unsubscribe { room, user },
            Event::Dissolve { room } => WireEvent::Dissolve { room },
            Event::EndSessions { user, reason } => {
                WireEvent::EndSessions { user, code: u16::from(reason.code), reason: reason.description }
            }
            Event::Presence { user, online, told_rooms } => WireEvent::Presence { user, online, told_rooms },
        }
    }
}

impl WireEvent {
    /// The event it carries; a heartbeat carries none.
    fn into_event(self) -> Option<Event> {
        Some(match self {
            WireEvent::ToRoom { room, frame, seq } => Event::ToRoom { room, frame: Frame::from(frame), seq },
            WireEvent::ToUsers { users, frame } => Event::ToUsers { users, frame: Frame::from(frame) },
            WireEvent::ToRooms { rooms, except, frame } => Event::ToRooms { rooms, except, frame: Frame::from(frame) },
            WireEvent::Subscribe { room, user } => Event::Subscribe { room, user },
            WireEvent::Unsubscribe { room, user } => Event::Unsubscribe { room, user },
            WireEvent::Dissolve { room } => Event::Dissolve { room },
            WireEvent::EndSessions { user, code, reason } => {
                Event::EndSessions { user, reason: CloseReason { code: CloseCode::from(code), description: reason } }
            }
            WireEvent::Presence { user, online, told_rooms } => Event::Presence { user, online, told_rooms },
            WireEvent::Heartbeat { .. } => return None,
        })
    }
}

/// What a node publishes: its id (so that it skips its own events) and the event.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    node: String,
    event: WireEvent,
}

/// The bus of a node among several.
pub struct RedisBus {
    hub: Arc<Hub>,
    node: String,
    outgoing: mpsc::UnboundedSender<String>,
    /// When each other node was last heard from.
    heard: Mutex<HashMap<String, Instant>>,
    presence_heard: OnceLock<PresenceHeard>,
    sequencer: Mutex<Sequencer>,
    read_missing: OnceLock<ReadMissing>,
}

impl RedisBus {
    fn send(&self, event: WireEvent) {
        match serde_json::to_string(&Envelope { node: self.node.clone(), event }) {
            Ok(text) => {
                if self.outgoing.send(text).is_err() {
                    tracing::error!("the Redis publisher has stopped; other nodes miss this event");
                }
            }
            Err(error) => tracing::error!(%error, "an event could not be encoded for Redis"),
        }
    }

    fn heard(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.heard.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sequencer(&self) -> MutexGuard<'_, Sequencer> {
        self.sequencer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies an event to this node's sessions, in its room's order. The hub is reached
    /// under the sequencer's lock, so what it releases is applied in the order released.
    fn apply(&self, event: Event) {
        self.sequencer().take(event, Instant::now(), &mut |event| self.hub.publish(event));
    }

    /// Hands a finished read of `room` to the sequencer, which releases it in order.
    fn filled(&self, room: &RoomId, messages: Vec<Event>) {
        self.sequencer().filled(room, messages, Instant::now(), &mut |event| self.hub.publish(event));
    }

    /// Runs `reads`: rooms with no sessions here release what they held without one.
    fn start_reads(self: &Arc<Self>, reads: Vec<Read>) {
        for Read { room, after } in reads {
            let read = match self.read_missing.get() {
                Some(read) if self.hub.serves(&room) => read(room.clone(), after),
                _ => {
                    self.filled(&room, Vec::new());
                    continue;
                }
            };
            let bus = Arc::clone(self);
            tokio::spawn(async move {
                match read.await {
                    Some(messages) => bus.filled(&room, messages),
                    None => bus.sequencer().read_failed(&room, Instant::now()),
                }
            });
        }
    }

    /// Applies what another node published.
    fn receive(&self, envelope: Envelope) {
        if envelope.node == self.node {
            return;
        }
        self.heard().insert(envelope.node.clone(), Instant::now());
        match envelope.event {
            WireEvent::Heartbeat { users } => {
                // A heartbeat is the node's whole presence: what this node missed shows here.
                let (came, left) = self.hub.node_users(&envelope.node, users);
                if !came.is_empty() {
                    self.heard_of(came, Heard::BackWithTheirNode);
                }
                if !left.is_empty() {
                    self.heard_of(left, Heard::GoneWithTheirNode);
                }
            }
            WireEvent::Presence { user, online, told_rooms } => {
                self.hub.node_presence(&envelope.node, &user, online);
                // That node told the rooms "offline" without knowing of the session here.
                if !online && told_rooms && self.hub.is_online_here(&user) {
                    self.heard_of(vec![user], Heard::StillHere);
                }
            }
            other => {
                if let Some(event) = other.into_event() {
                    self.apply(event);
                }
                return;
            }
        }
        let gone = self.hub.now_gone_everywhere();
        if !gone.is_empty() {
            self.heard_of(gone, Heard::GoneElsewhereToo);
        }
    }

    fn heard_of(&self, users: Vec<UserId>, what: Heard) {
        if let Some(then) = self.presence_heard.get() {
            then(users, what);
        }
    }

    /// Forgets the nodes not heard for `lifetime`; their users who are online nowhere else
    /// are handed to what [`Bus::when_presence_heard`] set.
    fn sweep(&self, lifetime: Duration) {
        let silent: Vec<String> = {
            let mut heard = self.heard();
            let silent: Vec<String> =
                heard.iter().filter(|(_, at)| at.elapsed() > lifetime).map(|(node, _)| node.clone()).collect();
            for node in &silent {
                heard.remove(node);
            }
            silent
        };
        for node in silent {
            let mut users = self.hub.forget_node(&node);
            tracing::warn!(node = %node, users = users.len(), "a node went silent; its users are offline");
            let left = self.hub.now_gone_everywhere();
            users.retain(|user| !left.contains(user));
            if !users.is_empty() {
                self.heard_of(users, Heard::GoneWithTheirNode);
            }
            if !left.is_empty() {
                self.heard_of(left, Heard::GoneElsewhereToo);
            }
        }
    }
}

impl Bus for RedisBus {
    fn publish(&self, event: Event) {
        let wire = WireEvent::from(&event);
        // This node's own sessions get it at once, as with one node (unless a gap holds it).
        self.apply(event);
        self.send(wire);
    }

    fn when_presence_heard(&self, then: PresenceHeard) {
        if self.presence_heard.set(then).is_err() {
            tracing::error!("what to do on presence news was set twice; the first stays");
        }
    }

    fn when_missing(&self, read: ReadMissing) {
        if self.read_missing.set(read).is_err() {
            tracing::error!("how to read missing messages was set twice; the first stays");
        }
    }
}

/// Connects to Redis at `url` (refusing to start when it cannot be reached) and starts this
/// node's publisher, subscriber and heartbeat on the current runtime. A node not heard for
/// `presence_lifetime` is taken for gone, and its users for offline.
pub async fn connect(url: &str, hub: Arc<Hub>, presence_lifetime: Duration) -> Result<Arc<RedisBus>, RedisUnreachable> {
    let unreachable = |source| RedisUnreachable::new(url, source);
    let client = redis::Client::open(url).map_err(unreachable)?;
    let connection = client.get_multiplexed_async_connection().await.map_err(unreachable)?;
    let node = uuid::Uuid::new_v4().to_string();
    let (outgoing, queued) = mpsc::unbounded_channel();
    let bus = Arc::new(RedisBus {
        hub,
        node,
        outgoing,
        heard: Mutex::default(),
        presence_heard: OnceLock::new(),
        sequencer: Mutex::default(),
        read_missing: OnceLock::new(),
    });
    tokio::spawn(publish_loop(client.clone(), connection, queued));
    tokio::spawn(subscribe_loop(client, Arc::clone(&bus)));
    let beating = Arc::clone(&bus);
    tokio::spawn(async move {
        let mut every = tokio::time::interval((presence_lifetime / 3).max(Duration::from_millis(100)));
        loop {
            every.tick().await;
            beating.send(WireEvent::Heartbeat { users: beating.hub.users_here() });
            beating.sweep(presence_lifetime);
        }
    });
    let watching = Arc::clone(&bus);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(GAP_WAIT / 4);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut forgotten = Instant::now();
        loop {
            every.tick().await;
            let reads = watching.sequencer().overdue(Instant::now(), GAP_WAIT);
            watching.start_reads(reads);
            if forgotten.elapsed() >= FORGET_EVERY {
                forgotten = Instant::now();
                watching.sequencer().forget(|room| watching.hub.serves(room));
            }
        }
    });
    tracing::info!(node = %bus.node, redis = %redacted(url), "live events go through Redis");
    Ok(bus)
}

/// Sends this node's events in order; on a failure, connects again and sends the same event.
async fn publish_loop(
    client: redis::Client,
    mut connection: redis::aio::MultiplexedConnection,
    mut queued: mpsc::UnboundedReceiver<String>,
) {
    while let Some(text) = queued.recv().await {
        loop {
            let sent: redis::RedisResult<i64> =
                redis::cmd("PUBLISH").arg(CHANNEL).arg(&text).query_async(&mut connection).await;
            match sent {
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "publishing on Redis failed; connecting again");
                    tokio::time::sleep(RECONNECT_AFTER).await;
                    if let Ok(again) = client.get_multiplexed_async_connection().await {
                        connection = again;
                    }
                }
            }
        }
    }
}

/// Applies other nodes' events to this node's hub; resubscribes after losing Redis.
async fn subscribe_loop(client: redis::Client, bus: Arc<RedisBus>) {
    let mut first = true;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                Ok(()) => {
                    tracing::info!("subscribed to other nodes' events");
                    if !std::mem::replace(&mut first, false) {
                        // What the others published while this node was not listening is in
                        // the store: every room is read from its last released number.
                        let reads = bus.sequencer().read_all();
                        bus.start_reads(reads);
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(text) = message.get_payload::<String>() else { continue };
                        match serde_json::from_str::<Envelope>(&text) {
                            Ok(envelope) => bus.receive(envelope),
                            Err(error) => tracing::warn!(%error, "an event from Redis could not be read"),
                        }
                    }
                    tracing::warn!("lost the Redis subscription; subscribing again");
                }
                Err(error) => tracing::warn!(%error, "subscribing on Redis failed"),
            },
            Err(error) => tracing::warn!(%error, "cannot reach Redis to subscribe"),
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of event crosses Redis unchanged.
    #[test]
    fn events_survive_the_wire() {
        let (room, user) = (RoomId::from("r"), UserId::from("u"));
        let events = [
            WireEvent::ToRoom { room: room.clone(), frame: "{\"a\":1}".into(), seq: Some(7) },
            WireEvent::ToUsers { users: vec![user.clone()], frame: "x".into() },
            WireEvent::ToRooms { rooms: vec![room.clone()], except: user.clone(), frame: "y".into() },
            WireEvent::Subscribe { room: room.clone(), user: user.clone() },
            WireEvent::Unsubscribe { room: room.clone(), user: user.clone() },
            WireEvent::Dissolve { room },
            WireEvent::EndSessions { user: user.clone(), code: 1008, reason: Some("gone".into()) },
            WireEvent::Presence { user, online: true, told_rooms: false },
        ];
        for wire in events {
            let text = serde_json::to_string(&Envelope { node: "n".into(), event: wire.clone() }).expect("encodes");
            let back: Envelope = serde_json::from_str(&text).expect("decodes");
            assert_eq!(back.event.into_event().map(|e| WireEvent::from(&e)), Some(wire));
        }
        assert_eq!(WireEvent::Heartbeat { users: Vec::new() }.into_event().map(|e| WireEvent::from(&e)), None);
        assert_eq!(redacted("redis://:secret@10.0.0.1:6379/0"), "redis://…@10.0.0.1:6379/0");
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
