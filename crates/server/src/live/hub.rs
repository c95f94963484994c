//! Fan-out: which sessions are online, which rooms their users are in, and delivery of frames
//! to them through their bounded outboxes (SPEC R-WS-2, R-WS-4, R-WS-5).
//!
//! Everything that happens is an [`Event`] published on a [`Bus`]. The in-process bus is the
//! [`Hub`] itself; several server nodes would put a broker-backed bus in front of their hubs.
//! Events are applied one at a time under one lock, so every session sees them in publish order.

use super::outbox::{OutFrame, Outbox, Push};
use actix_http::ws::CloseReason;
use conclave_protocol::{RoomId, UserId};
use futures_util::future::BoxFuture;
use indexmap::IndexMap;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use super::Frame;

/// A frame on its way to sessions. `seq` marks a room's `message_created` frames, so that a
/// session can drop what a resume replay already delivered and hold it during one.
#[derive(Debug, Clone)]
struct Outbound {
    frame: Frame,
    seq: Option<(RoomId, u64)>,
}

/// Something every node must apply to its sessions.
#[derive(Debug, Clone)]
pub enum Event {
    /// To the online members of a room.
    ToRoom { room: RoomId, frame: Frame, seq: Option<u64> },
    /// To every session of these users.
    ToUsers { users: Vec<UserId>, frame: Frame },
    /// To the online members of any of `rooms` but `except`, once each (presence).
    ToRooms { rooms: Vec<RoomId>, except: UserId, frame: Frame },
    /// `user` joined `room`: their sessions now receive its events.
    Subscribe { room: RoomId, user: UserId },
    /// `user` left `room` (or was removed): delivery to them stops.
    Unsubscribe { room: RoomId, user: UserId },
    /// The room is gone for everyone.
    Dissolve { room: RoomId },
    /// Every session of `user` closes with `reason` (their account is gone).
    EndSessions { user: UserId, reason: CloseReason },
    /// `user`'s first session on the publishing node began, or its last ended (and whether
    /// that node told the user's rooms). A node's own hub knows its sessions already; other
    /// nodes keep it as that node's presence.
    Presence { user: UserId, online: bool, told_rooms: bool },
}

/// What a node among several learns about users' presence from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Offline everywhere: their node went silent (killed, cut off). Each node tells its own
    /// sessions.
    GoneWithTheirNode,
    /// Offline everywhere: their last session here ended while another node still had one,
    /// which has ended since. This node tells their rooms, as it would have.
    GoneElsewhereToo,
    /// Another node told their rooms they went offline, but they have a session here (it began
    /// before this node heard of the other's end): this node tells their rooms they are online.
    StillHere,
    /// Online on a node, as its heartbeat says, though this node had them offline everywhere
    /// (it missed their news): each node tells its own sessions.
    BackWithTheirNode,
}

/// Reads a room's messages numbered above the given one from the store, oldest first, as
/// events (at most a bounded number); `None` when the store could not be read (logged).
pub type ReadMissing = Box<dyn Fn(RoomId, u64) -> BoxFuture<'static, Option<Vec<Event>>> + Send + Sync>;

/// What a node does when it learns something about `users`' presence from the others.
pub type PresenceHeard = Box<dyn Fn(Vec<UserId>, Heard) + Send + Sync>;

/// Where events are published. The in-process implementation is [`Hub`].
pub trait Bus: Send + Sync {
    fn publish(&self, event: Event);
    /// Sets what to do when other nodes' news changes who is online (several nodes; one node
    /// has no others).
    fn when_presence_heard(&self, _then: PresenceHeard) {}
    /// Sets how messages that did not arrive are read from the store (several nodes: a gap in
    /// a room's numbers, or Redis came back after this node missed what it carried).
    fn when_missing(&self, _read: ReadMissing) {}
}

pub type SessionId = u64;

struct SessionEntry {
    user: UserId,
    outbox: Arc<Outbox>,
}

/// The sessions a room's events go to, in a dense table (removal swaps the last one in).
type RoomSessions = IndexMap<SessionId, Arc<Outbox>, FxBuildHasher>;

#[derive(Default)]
struct State {
    sessions: HashMap<SessionId, SessionEntry>,
    by_user: HashMap<UserId, HashSet<SessionId>>,
    room_users: HashMap<RoomId, HashSet<UserId>>,
    user_rooms: HashMap<UserId, HashSet<RoomId>>,
    /// Every session of `room_users[room]`, kept with the maps above: a room's event is pushed
    /// down this list, with no lookup per recipient (the fan-out is the hot path).
    room_sessions: HashMap<RoomId, RoomSessions>,
}

/// A session as the hub hands it out.
pub struct Registration {
    pub id: SessionId,
    /// Whether this is the user's first live session (they just came online).
    pub came_online: bool,
}

/// The local fan-out of one server node.
pub struct Hub {
    state: Mutex<State>,
    /// Who is online on the other nodes, by node (several nodes; empty with one).
    remote: Mutex<HashMap<String, HashSet<UserId>>>,
    /// Users whose last session here ended while another node had them online: when that node
    /// says they left too, this node tells their rooms (two nodes closing at once would
    /// otherwise each leave it to the other).
    pending_offline: Mutex<HashSet<UserId>>,
    next_id: AtomicU64,
    dropped_slow: AtomicU64,
    deliveries: AtomicU64,
}

impl Hub {
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            remote: Mutex::new(HashMap::default()),
            pending_offline: Mutex::new(HashSet::default()),
            next_id: AtomicU64::new(1),
            dropped_slow: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain maps behind, which stay consistent enough
        // to keep serving; recover rather than take the whole gateway down.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a session of `user`, who is a member of `rooms`, writing to `outbox`.
    pub fn register(&self, user: &UserId, rooms: Vec<RoomId>, outbox: Arc<Outbox>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        let state = &mut *state;
        state.sessions.insert(id, SessionEntry { user: user.clone(), outbox: Arc::clone(&outbox) });
        let sessions = state.by_user.entry(user.clone()).or_default();
        sessions.insert(id);
        let came_online = sessions.len() == 1;
        for room in rooms {
            subscribe(state, &room, user);
        }
        // The user's rooms, those loaded now and those joined since their first session.
        for room in state.user_rooms.get(user).into_iter().flatten() {
            state.room_sessions.entry(room.clone()).or_default().insert(id, Arc::clone(&outbox));
        }
        Registration { id, came_online }
    }

    /// Removes a session. When it was the user's last (they just went offline), returns the
    /// rooms they were in, to tell those rooms.
    pub fn unregister(&self, id: SessionId) -> Option<Vec<RoomId>> {
        let mut state = self.lock();
        remove_session(&mut state, id)
    }

    /// Whether `user`'s sessions here receive `room`'s events: they are a member, as far as
    /// the events published so far tell.
    pub fn routes(&self, user: &UserId, room: &RoomId) -> bool {
        self.lock().room_users.get(room).is_some_and(|users| users.contains(user))
    }

    /// Whether `user` has a live session on this node or, as far as this node has heard, on
    /// another.
    pub fn is_online(&self, user: &UserId) -> bool {
        self.is_online_here(user) || self.online_elsewhere(user)
    }

    /// Whether `user` has a live session on this node.
    pub fn is_online_here(&self, user: &UserId) -> bool {
        self.lock().by_user.get(user).is_some_and(|s| !s.is_empty())
    }

    fn remote(&self) -> MutexGuard<'_, HashMap<String, HashSet<UserId>>> {
        self.remote.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `room`'s events have sessions here to go to.
    pub fn serves(&self, room: &RoomId) -> bool {
        self.lock().room_sessions.get(room).is_some_and(|sessions| !sessions.is_empty())
    }

    /// Whether another node has said that `user` has a session there.
    pub fn online_elsewhere(&self, user: &UserId) -> bool {
        self.remote().values().any(|users| users.contains(user))
    }

    /// The users with a session on this node.
    pub fn users_here(&self) -> Vec<UserId> {
        self.lock().by_user.iter().filter(|(_, sessions)| !sessions.is_empty()).map(|(user, _)| user.clone()).collect()
    }

    /// Another node says `user` came online there, or went offline.
    pub fn node_presence(&self, node: &str, user: &UserId, online: bool) {
        let mut remote = self.remote();
        let users = remote.entry(node.to_owned()).or_default();
        if online {
            users.insert(user.clone());
        } else {
            users.remove(user);
        }
    }

    /// Another node says who is online there now (its heartbeat). Returns who is online now
    /// and was online nowhere before, and who was online there and now is nowhere: this node
    /// missed their news (Redis was away, or the node was forgotten for being silent).
    pub fn node_users(&self, node: &str, users: Vec<UserId>) -> (Vec<UserId>, Vec<UserId>) {
        let came: Vec<UserId> = users.iter().filter(|user| !self.is_online(user)).cloned().collect();
        let before = self.remote().insert(node.to_owned(), users.into_iter().collect()).unwrap_or_default();
        let left = before.into_iter().filter(|user| !self.is_online(user)).collect();
        (came, left)
    }

    /// Remembers that `user` left this node while online elsewhere (see `pending_offline`).
    pub fn left_while_elsewhere(&self, user: &UserId) {
        self.pending_offline.lock().unwrap_or_else(|p| p.into_inner()).insert(user.clone());
    }

    /// The users left here while online elsewhere who are now online nowhere: theirs to tell.
    pub fn now_gone_everywhere(&self) -> Vec<UserId> {
        let mut pending = self.pending_offline.lock().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<UserId> = pending.iter().filter(|user| !self.is_online(user)).cloned().collect();
        for user in &gone {
            pending.remove(user);
        }
        // One who came back here is no longer pending.
        pending.retain(|user| !self.is_online_here(user));
        gone
    }

    /// Forgets a node that stopped being heard: its users that are online nowhere else.
    pub fn forget_node(&self, node: &str) -> Vec<UserId> {
        let gone = self.remote().remove(node).unwrap_or_default();
        gone.into_iter().filter(|user| !self.is_online(user)).collect()
    }

    /// Live sessions on this node.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Sessions cut off because their queue overflowed, since start.
    pub fn dropped_slow(&self) -> u64 {
        self.dropped_slow.load(Ordering::Relaxed)
    }

    /// Frames handed to sessions' outboxes, since start.
    pub fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::Relaxed)
    }

    /// Pushes `outbound` to these sessions; returns those to forget (too slow, or gone).
    fn deliver<'s>(
        &self,
        sessions: impl IntoIterator<Item = (&'s SessionId, &'s Arc<Outbox>)>,
        outbound: &Outbound,
    ) -> Vec<SessionId> {
        let mut overflowed = Vec::new();
        let mut delivered = 0_u64;
        for (id, outbox) in sessions {
            let pushed = match &outbound.seq {
                Some((room, seq)) => outbox.push_message(room, *seq, &outbound.frame),
                None => outbox.push(OutFrame::Text(outbound.frame.clone())),
            };
            match pushed {
                Push::Queued => delivered += 1,
                Push::Duplicate => {}
                Push::Full => {
                    outbox.give_up();
                    overflowed.push(*id);
                }
                Push::Closed => overflowed.push(*id),
            }
        }
        self.deliveries.fetch_add(delivered, Ordering::Relaxed);
        overflowed
    }

    /// Pushes `outbound` to every session of `users`.
    fn deliver_to_users<'u>(
        &self,
        state: &State,
        users: impl IntoIterator<Item = &'u UserId>,
        outbound: &Outbound,
    ) -> Vec<SessionId> {
        let sessions = users
            .into_iter()
            .filter_map(|user| state.by_user.get(user))
            .flatten()
            .filter_map(|id| state.sessions.get(id).map(|entry| (id, &entry.outbox)));
        self.deliver(sessions, outbound)
    }

    fn forget(&self, state: &mut State, sessions: Vec<SessionId>) {
        for id in sessions {
            if state.sessions.get(&id).is_some_and(|e| e.outbox.cut_off().is_cancelled()) {
                self.dropped_slow.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(session = id, "slow consumer disconnected: its queue is full");
            }
            remove_session(state, id);
        }
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

fn subscribe(state: &mut State, room: &RoomId, user: &UserId) {
    state.room_users.entry(room.clone()).or_default().insert(user.clone());
    state.user_rooms.entry(user.clone()).or_default().insert(room.clone());
    let sessions = state.room_sessions.entry(room.clone()).or_default();
    for id in state.by_user.get(user).into_iter().flatten() {
        if let Some(entry) = state.sessions.get(id) {
            sessions.insert(*id, Arc::clone(&entry.outbox));
        }
    }
}

fn unsubscribe(state: &mut State, room: &RoomId, user: &UserId) {
    if let Some(users) = state.room_users.get_mut(room) {
        users.remove(user);
        if users.is_empty() {
            state.room_users.remove(room);
        }
    }
    if let Some(rooms) = state.user_rooms.get_mut(user) {
        rooms.remove(room);
    }
    if let Some(sessions) = state.room_sessions.get_mut(room) {
        for id in state.by_user.get(user).into_iter().flatten() {
            sessions.swap_remove(id);
        }
        if sessions.is_empty() {
            state.room_sessions.remove(room);
        }
    }
}

/// Forgets a session; when it was its user's last, forgets the user's rooms too and returns them.
fn remove_session(state: &mut State, id: SessionId) -> Option<Vec<RoomId>> {
    let entry = state.sessions.remove(&id)?;
    for room in state.user_rooms.get(&entry.user).into_iter().flatten() {
        if let Some(sessions) = state.room_sessions.get_mut(room) {
            sessions.swap_remove(&id);
            if sessions.is_empty() {
                state.room_sessions.remove(room);
            }
        }
    }
    let sessions = state.by_user.get_mut(&entry.user)?;
    sessions.remove(&id);
    if !sessions.is_empty() {
        return None;
    }
    state.by_user.remove(&entry.user);
    let rooms: Vec<RoomId> = state.user_rooms.remove(&entry.user).unwrap_or_default().into_iter().collect();
    for room in &rooms {
        if let Some(users) = state.room_users.get_mut(room) {
            users.remove(&entry.user);
            if users.is_empty() {
                state.room_users.remove(room);
            }
        }
    }
    Some(rooms)
}

impl Bus for Hub {
    fn publish(&self, event: Event) {
        let mut state = self.lock();
        match event {
            Event::ToRoom { room, frame, seq } => {
                let sessions = state.room_sessions.get(&room);
                let outbound = Outbound { frame, seq: seq.map(|s| (room.clone(), s)) };
                let dropped = self.deliver(sessions.into_iter().flatten(), &outbound);
                self.forget(&mut state, dropped);
            }
            Event::ToUsers { users, frame } => {
                let dropped = self.deliver_to_users(&state, &users, &Outbound { frame, seq: None });
                self.forget(&mut state, dropped);
            }
            Event::ToRooms { rooms, except, frame } => {
                let mut users = HashSet::default();
                for room in &rooms {
                    users.extend(state.room_users.get(room).into_iter().flatten().filter(|u| **u != except));
                }
                let dropped = self.deliver_to_users(&state, users, &Outbound { frame, seq: None });
                self.forget(&mut state, dropped);
            }
            Event::Subscribe { room, user } => {
                // Only users online here are routed; the others load their rooms when they connect.
                if state.by_user.contains_key(&user) {
                    subscribe(&mut state, &room, &user);
                }
            }
            Event::Unsubscribe { room, user } => unsubscribe(&mut state, &room, &user),
            // This hub has the sessions that made it; other nodes' buses record it.
            Event::Presence { .. } => {}
            Event::EndSessions { user, reason } => {
                for id in state.by_user.get(&user).into_iter().flatten() {
                    if let Some(session) = state.sessions.get(id) {
                        session.outbox.close(reason.clone(), true);
                    }
                }
            }
            Event::Dissolve { room } => {
                state.room_sessions.remove(&room);
                for user in state.room_users.remove(&room).unwrap_or_default() {
                    if let Some(rooms) = state.user_rooms.get_mut(&user) {
                        rooms.remove(&room);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::outbox::Writer;
    use crate::live::outbox::testing::written_texts;

    fn frame(text: &str) -> Frame {
        Frame::from(text.to_owned())
    }

    struct Client {
        registration: Registration,
        outbox: Arc<Outbox>,
        writer: Writer,
    }

    fn connect(hub: &Hub, user: &UserId, rooms: Vec<RoomId>, capacity: usize) -> Client {
        let (outbox, writer) = Outbox::new(capacity);
        let registration = hub.register(user, rooms, Arc::clone(&outbox));
        Client { registration, outbox, writer }
    }

    fn drain(client: &mut Client) -> Vec<String> {
        written_texts(&mut client.writer)
    }

    /// R-WS-2: room events reach the online members of the room, every session of theirs.
    #[test]
    fn r_ws_2_room_events_reach_members_only() {
        let hub = Hub::new();
        let (alice, bob, carol) = (UserId::from("alice"), UserId::from("bob"), UserId::from("carol"));
        let room = RoomId::from("r");
        let mut a1 = connect(&hub, &alice, vec![room.clone()], 8);
        let mut a2 = connect(&hub, &alice, vec![room.clone()], 8);
        let mut b = connect(&hub, &bob, vec![room.clone()], 8);
        let mut c = connect(&hub, &carol, vec![], 8);
        assert!(a1.registration.came_online && !a2.registration.came_online);
        hub.publish(Event::ToRoom { room: room.clone(), frame: frame("m1"), seq: Some(1) });
        assert_eq!(drain(&mut a1), ["m1"]);
        assert_eq!(drain(&mut a2), ["m1"]);
        assert_eq!(drain(&mut b), ["m1"]);
        assert!(drain(&mut c).is_empty());

        hub.publish(Event::Unsubscribe { room: room.clone(), user: bob.clone() });
        hub.publish(Event::Subscribe { room: room.clone(), user: carol.clone() });
        hub.publish(Event::ToRoom { room: room.clone(), frame: frame("m2"), seq: Some(2) });
        assert!(drain(&mut b).is_empty(), "removed members stop receiving");
        assert_eq!(drain(&mut c), ["m2"]);

        hub.publish(Event::ToRooms { rooms: vec![room.clone()], except: carol.clone(), frame: frame("presence") });
        assert_eq!(drain(&mut a1), ["m2", "presence"]);
        assert!(drain(&mut b).is_empty(), "bob shares no room with carol any more");

        hub.publish(Event::Dissolve { room: room.clone() });
        hub.publish(Event::ToRoom { room, frame: frame("m3"), seq: Some(3) });
        assert!(drain(&mut a1).is_empty());
    }

    /// R-WS-2: a room joined while online reaches the sessions the user opens later too, one
    /// session closing leaves the others receiving, and leaving stops them all.
    #[test]
    fn r_ws_2_rooms_follow_the_user_across_sessions() {
        let hub = Hub::new();
        let alice = UserId::from("alice");
        let room = RoomId::from("r");
        let mut first = connect(&hub, &alice, vec![], 8);
        hub.publish(Event::Subscribe { room: room.clone(), user: alice.clone() });
        // Registered with the rooms the store knew a moment before the join.
        let mut second = connect(&hub, &alice, vec![], 8);
        hub.publish(Event::ToRoom { room: room.clone(), frame: frame("m1"), seq: Some(1) });
        assert_eq!(drain(&mut first), ["m1"]);
        assert_eq!(drain(&mut second), ["m1"]);

        assert_eq!(hub.unregister(first.registration.id), None);
        hub.publish(Event::ToRoom { room: room.clone(), frame: frame("m2"), seq: Some(2) });
        assert!(drain(&mut first).is_empty(), "a closed session receives nothing");
        assert_eq!(drain(&mut second), ["m2"]);

        hub.publish(Event::Unsubscribe { room: room.clone(), user: alice.clone() });
        hub.publish(Event::ToRoom { room: room.clone(), frame: frame("m3"), seq: Some(3) });
        assert!(drain(&mut second).is_empty());
        assert!(!hub.routes(&alice, &room));
    }

    /// R-WS-4: a session whose queue is full is cancelled and dropped; others keep receiving.
    #[test]
    fn r_ws_4_slow_sessions_are_dropped() {
        let hub = Hub::new();
        let room = RoomId::from("r");
        let slow = connect(&hub, &UserId::from("slow"), vec![room.clone()], 2);
        let mut fast = connect(&hub, &UserId::from("fast"), vec![room.clone()], 2);
        for i in 0..3 {
            hub.publish(Event::ToRoom { room: room.clone(), frame: frame(&format!("m{i}")), seq: Some(i) });
            assert_eq!(drain(&mut fast).len(), 1);
        }
        assert!(slow.outbox.cut_off().is_cancelled());
        assert_eq!(hub.dropped_slow(), 1);
        assert_eq!(hub.session_count(), 1);
        assert!(!hub.is_online(&UserId::from("slow")));
    }

    /// R-WS-5: a user is online while any of their sessions is.
    #[test]
    fn r_ws_5_online_until_the_last_session_closes() {
        let hub = Hub::new();
        let alice = UserId::from("alice");
        let first = connect(&hub, &alice, vec![], 4);
        let second = connect(&hub, &alice, vec![], 4);
        assert!(hub.is_online(&alice));
        assert_eq!(hub.unregister(first.registration.id), None);
        assert!(hub.is_online(&alice));
        assert_eq!(hub.unregister(second.registration.id), Some(vec![]));
        assert!(!hub.is_online(&alice));
        assert_eq!(hub.unregister(second.registration.id), None);
    }
}
