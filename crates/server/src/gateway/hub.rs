//! Fan-out: which sessions are online, which rooms their users are in, and delivery of frames
//! to them through bounded queues (SPEC R-WS-2, R-WS-4, R-WS-5).
//!
//! Everything that happens is an [`Event`] published on a [`Bus`]. The in-process bus is the
//! [`Hub`] itself; several server nodes would put a broker-backed bus in front of their hubs.
//! Events are applied one at a time under one lock, so every session sees them in publish order.

use conclave_protocol::{RoomId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A serialised frame, shared by every session that receives it (cloning it copies nothing).
pub type Frame = bytestring::ByteString;

/// A frame on its way to one session. `seq` marks `message_created` frames, so that a session
/// can drop what a resume replay already delivered.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub frame: Frame,
    pub seq: Option<(RoomId, u64)>,
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
}

/// Where events are published. The in-process implementation is [`Hub`].
pub trait Bus: Send + Sync {
    fn publish(&self, event: Event);
}

pub type SessionId = u64;

struct SessionEntry {
    user: UserId,
    tx: mpsc::Sender<Outbound>,
    cancel: CancellationToken,
}

#[derive(Default)]
struct State {
    sessions: HashMap<SessionId, SessionEntry>,
    by_user: HashMap<UserId, HashSet<SessionId>>,
    room_users: HashMap<RoomId, HashSet<UserId>>,
    user_rooms: HashMap<UserId, HashSet<RoomId>>,
}

/// A session as the hub hands it out.
pub struct Registration {
    pub id: SessionId,
    pub outbound: mpsc::Receiver<Outbound>,
    /// Cancelled when the hub gives up on the session (its queue overflowed).
    pub cancelled: CancellationToken,
    /// Whether this is the user's first live session (they just came online).
    pub came_online: bool,
}

/// The local fan-out of one server node.
pub struct Hub {
    state: Mutex<State>,
    next_id: AtomicU64,
    queue_capacity: usize,
    dropped_slow: AtomicU64,
    deliveries: AtomicU64,
}

impl Hub {
    /// `queue_capacity` frames may wait for each session before it counts as too slow.
    pub fn new(queue_capacity: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1),
            queue_capacity: queue_capacity.max(1),
            dropped_slow: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain maps behind, which stay consistent enough
        // to keep serving; recover rather than take the whole gateway down.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a session of `user`, who is a member of `rooms`.
    pub fn register(&self, user: &UserId, rooms: Vec<RoomId>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, outbound) = mpsc::channel(self.queue_capacity);
        let cancelled = CancellationToken::new();
        let mut state = self.lock();
        state.sessions.insert(id, SessionEntry { user: user.clone(), tx, cancel: cancelled.clone() });
        let sessions = state.by_user.entry(user.clone()).or_default();
        sessions.insert(id);
        let came_online = sessions.len() == 1;
        for room in rooms {
            subscribe(&mut state, &room, user);
        }
        Registration { id, outbound, cancelled, came_online }
    }

    /// Removes a session. When it was the user's last (they just went offline), returns the
    /// rooms they were in, to tell those rooms.
    pub fn unregister(&self, id: SessionId) -> Option<Vec<RoomId>> {
        let mut state = self.lock();
        remove_session(&mut state, id)
    }

    /// Whether `user` has a live session on this node.
    pub fn is_online(&self, user: &UserId) -> bool {
        self.lock().by_user.get(user).is_some_and(|s| !s.is_empty())
    }

    /// Live sessions on this node.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Sessions cut off because their queue overflowed, since start.
    pub fn dropped_slow(&self) -> u64 {
        self.dropped_slow.load(Ordering::Relaxed)
    }

    /// Frames handed to sessions' queues, since start.
    pub fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::Relaxed)
    }

    fn deliver(&self, state: &mut State, users: Vec<UserId>, outbound: &Outbound) {
        let mut overflowed = Vec::new();
        let mut delivered = 0_u64;
        for user in users {
            let Some(sessions) = state.by_user.get(&user) else {
                continue;
            };
            for id in sessions {
                let Some(entry) = state.sessions.get(id) else {
                    continue;
                };
                match entry.tx.try_send(outbound.clone()) {
                    Ok(()) => delivered += 1,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        entry.cancel.cancel();
                        overflowed.push(*id);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => overflowed.push(*id),
                }
            }
        }
        self.deliveries.fetch_add(delivered, Ordering::Relaxed);
        for id in overflowed {
            if state.sessions.get(&id).is_some_and(|e| e.cancel.is_cancelled()) {
                self.dropped_slow.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(session = id, "slow consumer disconnected: its queue is full");
            }
            remove_session(state, id);
        }
    }
}

fn subscribe(state: &mut State, room: &RoomId, user: &UserId) {
    state.room_users.entry(room.clone()).or_default().insert(user.clone());
    state.user_rooms.entry(user.clone()).or_default().insert(room.clone());
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
}

/// Forgets a session; when it was its user's last, forgets the user's rooms too and returns them.
fn remove_session(state: &mut State, id: SessionId) -> Option<Vec<RoomId>> {
    let entry = state.sessions.remove(&id)?;
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
                let users: Vec<UserId> =
                    state.room_users.get(&room).map(|u| u.iter().cloned().collect()).unwrap_or_default();
                let outbound = Outbound { frame, seq: seq.map(|s| (room, s)) };
                self.deliver(&mut state, users, &outbound);
            }
            Event::ToUsers { users, frame } => {
                self.deliver(&mut state, users, &Outbound { frame, seq: None });
            }
            Event::ToRooms { rooms, except, frame } => {
                let mut users = HashSet::new();
                for room in &rooms {
                    users.extend(state.room_users.get(room).into_iter().flatten().filter(|u| **u != except).cloned());
                }
                self.deliver(&mut state, users.into_iter().collect(), &Outbound { frame, seq: None });
            }
            Event::Subscribe { room, user } => {
                // Only users online here are routed; the others load their rooms when they connect.
                if state.by_user.contains_key(&user) {
                    subscribe(&mut state, &room, &user);
                }
            }
            Event::Unsubscribe { room, user } => unsubscribe(&mut state, &room, &user),
            Event::Dissolve { room } => {
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

    fn frame(text: &str) -> Frame {
        Frame::from(text.to_owned())
    }

    fn drain(rx: &mut mpsc::Receiver<Outbound>) -> Vec<String> {
        let mut got = Vec::new();
        while let Ok(out) = rx.try_recv() {
            got.push(out.frame.to_string());
        }
        got
    }

    /// R-WS-2: room events reach the online members of the room, every session of theirs.
    #[test]
    fn r_ws_2_room_events_reach_members_only() {
        let hub = Hub::new(8);
        let (alice, bob, carol) = (UserId::from("alice"), UserId::from("bob"), UserId::from("carol"));
        let room = RoomId::from("r");
        let mut a1 = hub.register(&alice, vec![room.clone()]);
        let mut a2 = hub.register(&alice, vec![room.clone()]);
        let mut b = hub.register(&bob, vec![room.clone()]);
        let mut c = hub.register(&carol, vec![]);
        assert!(a1.came_online && !a2.came_online);
        hub.publish(Event::ToRoom { room: room.clone(), frame: frame("m1"), seq: Some(1) });
        assert_eq!(drain(&mut a1.outbound), ["m1"]);
        assert_eq!(drain(&mut a2.outbound), ["m1"]);
        assert_eq!(drain(&mut b.outbound), ["m1"]);
        assert!(drain(&mut c.outbound).is_empty());

        hub.publish(Event::Unsubscribe { room: room.clone(), user: bob.clone() });
        hub.publish(Event::Subscribe { room: room.clone(), user: carol.clone() });
        hub.publish(Event::ToRoom { room: room.clone(), frame: frame("m2"), seq: Some(2) });
        assert!(drain(&mut b.outbound).is_empty(), "removed members stop receiving");
        assert_eq!(drain(&mut c.outbound), ["m2"]);

        hub.publish(Event::ToRooms { rooms: vec![room.clone()], except: carol.clone(), frame: frame("presence") });
        assert_eq!(drain(&mut a1.outbound), ["m2", "presence"]);
        assert!(drain(&mut b.outbound).is_empty(), "bob shares no room with carol any more");

        hub.publish(Event::Dissolve { room: room.clone() });
        hub.publish(Event::ToRoom { room, frame: frame("m3"), seq: Some(3) });
        assert!(drain(&mut a1.outbound).is_empty());
    }

    /// R-WS-4: a session whose queue is full is cancelled and dropped; others keep receiving.
    #[test]
    fn r_ws_4_slow_sessions_are_dropped() {
        let hub = Hub::new(2);
        let room = RoomId::from("r");
        let slow = hub.register(&UserId::from("slow"), vec![room.clone()]);
        let mut fast = hub.register(&UserId::from("fast"), vec![room.clone()]);
        for i in 0..3 {
            hub.publish(Event::ToRoom { room: room.clone(), frame: frame(&format!("m{i}")), seq: Some(i) });
            assert_eq!(drain(&mut fast.outbound).len(), 1);
        }
        assert!(slow.cancelled.is_cancelled());
        assert_eq!(hub.dropped_slow(), 1);
        assert_eq!(hub.session_count(), 1);
        assert!(!hub.is_online(&UserId::from("slow")));
    }

    /// R-WS-5: a user is online while any of their sessions is.
    #[test]
    fn r_ws_5_online_until_the_last_session_closes() {
        let hub = Hub::new(4);
        let alice = UserId::from("alice");
        let first = hub.register(&alice, vec![]);
        let second = hub.register(&alice, vec![]);
        assert!(hub.is_online(&alice));
        assert_eq!(hub.unregister(first.id), None);
        assert!(hub.is_online(&alice));
        assert_eq!(hub.unregister(second.id), Some(vec![]));
        assert!(!hub.is_online(&alice));
        assert_eq!(hub.unregister(second.id), None);
    }
}
