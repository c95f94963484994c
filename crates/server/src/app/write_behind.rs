//! Buffered writes (SPEC R-OPS-3): declining a join request, marking notifications and rooms
//! read, and last-seen times (from typing and from leaving) are queued in a bounded buffer and
//! written in batches, by size or after a short delay, instead of one write per request.
//!
//! - The buffer is bounded: when it is full, a request waits for room (back-pressure), nothing
//!   is dropped.
//! - Reads that show these writes' effects wait for the writes they touch first (a user's
//!   notifications and read markers, a room's join requests, last-seen times), so a user always
//!   sees their own writes: [`ReadYourWrites`](super::read_your_writes::ReadYourWrites) does it
//!   for every read of the store, and it costs nothing when none of those writes is waiting.
//! - On a graceful stop, [`WriteBehind::close`] writes what is left before the process exits.
//! - A batch the store refuses (an outage) is kept and tried again at the next flush.
//! - The notifications a batch stored (a declined request's) are told live once stored.

use conclave_protocol::{RoomId, UserId};
use conclave_store::{DeferredWrite, MaintenanceStore, NotificationRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// How the buffer flushes.
#[derive(Debug, Clone, Copy)]
pub struct WriteBehindSettings {
    /// A write waits at most this long before its batch is written.
    pub flush_after: Duration,
    /// A batch is written as soon as it has this many writes.
    pub batch_size: usize,
    /// Writes that may wait at once; past that, callers wait.
    pub capacity: usize,
}

enum Command {
    Write(DeferredWrite),
    /// Write everything queued before this, then answer.
    Settle(oneshot::Sender<()>),
    /// Write everything queued before this, answer, and stop.
    Close(oneshot::Sender<()>),
}

/// What a buffered write changes, as the reads that show it name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Touch {
    /// A user's own notifications and read markers (so their unread counts).
    User(UserId),
    /// A room's join requests.
    Room(RoomId),
    /// Somebody's last-seen time, as user records show it.
    LastSeen,
    /// Admins' notices of join requests, which a decline marks handled (whose they are is
    /// known only once it is stored; declines are rare, so every notification read waits).
    RequestNotices,
}

impl Touch {
    /// What `write` changes.
    fn of(write: &DeferredWrite) -> Vec<Touch> {
        match write {
            DeferredWrite::DeclineRequest { room, user, .. } => {
                vec![Touch::Room(room.clone()), Touch::User(user.clone()), Touch::RequestNotices]
            }
            DeferredWrite::NotificationRead { user, .. }
            | DeferredWrite::AllNotificationsRead { user }
            | DeferredWrite::RoomRead { user, .. } => vec![Touch::User(user.clone())],
            DeferredWrite::LastSeen { .. } => vec![Touch::LastSeen],
        }
    }
}

/// What kind of write `write` is, as logs name it.
fn kind(write: &DeferredWrite) -> &'static str {
    match write {
        DeferredWrite::DeclineRequest { .. } => "join request declined",
        DeferredWrite::NotificationRead { .. } => "notification read",
        DeferredWrite::AllNotificationsRead { .. } => "all notifications read",
        DeferredWrite::RoomRead { .. } => "room read marker",
        DeferredWrite::LastSeen { .. } => "last seen time",
    }
}

/// Writes queued and not yet stored, by what they touch and by kind.
#[derive(Default)]
struct Pending(Mutex<Counts>);

#[derive(Default)]
struct Counts {
    touches: HashMap<Touch, usize>,
    kinds: HashMap<&'static str, usize>,
}

/// Takes one off `key`'s count, forgetting it at zero.
fn decrement<K: Eq + std::hash::Hash>(counts: &mut HashMap<K, usize>, key: K) {
    if let Some(count) = counts.get_mut(&key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(&key);
        }
    }
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        // Plain counts stay usable after a panic elsewhere.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn add<'a>(&self, writes: impl IntoIterator<Item = &'a DeferredWrite>) {
        let mut counts = self.lock();
        for write in writes {
            for touch in Touch::of(write) {
                *counts.touches.entry(touch).or_default() += 1;
            }
            *counts.kinds.entry(kind(write)).or_default() += 1;
        }
    }

    fn remove<'a>(&self, writes: impl IntoIterator<Item = &'a DeferredWrite>) {
        let mut counts = self.lock();
        for write in writes {
            for touch in Touch::of(write) {
                decrement(&mut counts.touches, touch);
            }
            decrement(&mut counts.kinds, kind(write));
        }
    }

    fn any(&self, touches: &[Touch]) -> bool {
        let counts = self.lock();
        touches.iter().any(|t| counts.touches.contains_key(t))
    }

    /// How many writes of each kind wait, most first.
    fn by_kind(&self) -> Vec<(&'static str, usize)> {
        let mut kinds: Vec<(&'static str, usize)> = self.lock().kinds.iter().map(|(k, n)| (*k, *n)).collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        kinds
    }
}

/// The handle the application uses; the flusher task owns the buffer.
pub struct WriteBehind {
    tx: mpsc::Sender<Command>,
    pending: Arc<Pending>,
}

/// Why a write could not be queued: the server is stopping and the flusher has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is stopping")]
pub struct Stopped;

/// What is done with the notifications a batch stored: they are told live.
pub type Tell = Box<dyn Fn(&[NotificationRecord]) + Send + Sync>;

impl WriteBehind {
    /// Starts the flusher task on the current runtime; `tell` gets the notifications each batch
    /// stored.
    pub fn start(store: Arc<dyn MaintenanceStore>, settings: WriteBehindSettings, tell: Tell) -> Self {
        let (tx, rx) = mpsc::channel(settings.capacity.max(1));
        let pending = Arc::new(Pending::default());
        let flushing = Flushing { store, pending: Arc::clone(&pending), tell };
        tokio::spawn(flusher(flushing, rx, settings));
        Self { tx, pending }
    }

    /// Queues `write`; waits while the buffer is full.
    pub async fn defer(&self, write: DeferredWrite) -> Result<(), Stopped> {
        self.pending.add([&write]);
        if let Err(mpsc::error::SendError(Command::Write(write))) = self.tx.send(Command::Write(write)).await {
            self.pending.remove([&write]);
            return Err(Stopped);
        }
        Ok(())
    }

    /// Returns once every write queued before it that changes one of `touches` is stored (at
    /// once when none is waiting; otherwise everything queued is stored).
    pub async fn settle_touching(&self, touches: &[Touch]) {
        if !self.pending.any(touches) {
            return;
        }
        let (reply, done) = oneshot::channel();
        // A flusher that stopped has stored what it could: nothing is left to wait for.
        if self.tx.send(Command::Settle(reply)).await.is_ok() {
            done.await.ok();
        }
    }

    /// Stores everything still queued and stops the flusher (graceful shutdown), trying again
    /// while the store is away, until `deadline`. Past it, what is left is logged by kind and
    /// given up: a stop is bounded even when the store is unreachable.
    pub async fn close(&self, deadline: Instant) {
        let (reply, done) = oneshot::channel();
        // Past the deadline the flusher is left behind: what it has not stored is counted below.
        tokio::time::timeout_at(deadline, async {
            if self.tx.send(Command::Close(reply)).await.is_ok() {
                done.await.ok();
            }
        })
        .await
        .ok();
        let left = self.pending.by_kind();
        if !left.is_empty() {
            let total: usize = left.iter().map(|(_, n)| n).sum();
            let kinds = left.iter().map(|(kind, n)| format!("{n} {kind}")).collect::<Vec<_>>().join(", ");
            tracing::error!(lost = total, kinds = %kinds, "buffered writes could not be stored before stopping");
        }
    }
}

/// What the flusher task writes through: the store, the counts of what waits, and where stored
/// notifications go.
struct Flushing {
    store: Arc<dyn MaintenanceStore>,
    pending: Arc<Pending>,
    tell: Tell,
}

async fn flusher(flushing: Flushing, mut rx: mpsc::Receiver<Command>, settings: WriteBehindSettings) {
    let mut batch: Vec<DeferredWrite> = Vec::new();
    let mut deadline: Option<Instant> = None;
    loop {
        let command = match deadline {
            Some(at) => tokio::select! {
                command = rx.recv() => command,
                () = tokio::time::sleep_until(at) => {
                    flushing.flush(&mut batch).await;
                    deadline = (!batch.is_empty()).then(|| Instant::now() + settings.flush_after);
                    continue;
                }
            },
            None => rx.recv().await,
        };
        match command {
            Some(Command::Write(write)) => {
                batch.push(write);
                if batch.len() >= settings.batch_size {
                    flushing.flush(&mut batch).await;
                }
                deadline = if batch.is_empty() {
                    None
                } else {
                    deadline.or_else(|| Some(Instant::now() + settings.flush_after))
                };
            }
            Some(Command::Settle(reply)) => {
                flushing.flush(&mut batch).await;
                // A reader that gave up waiting needs no answer.
                reply.send(()).ok();
            }
            Some(Command::Close(reply)) => {
                // A stopping server tries again while the store is away, until `close` gives up.
                loop {
                    flushing.flush(&mut batch).await;
                    if batch.is_empty() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                reply.send(()).ok();
                return;
            }
            None => {
                flushing.flush(&mut batch).await;
                return;
            }
        }
    }
}

impl Flushing {
    /// Stores the batch (merged: one last-seen per user, the latest) and tells the notifications
    /// it stored. On failure the writes stay in the batch for the next try.
    async fn flush(&self, batch: &mut Vec<DeferredWrite>) {
        if batch.is_empty() {
            return;
        }
        let taken = std::mem::take(batch);
        let writes = merged(taken.clone());
        let count = writes.len();
        match self.store.apply_deferred(writes.clone()).await {
            Ok(stored) => {
                self.pending.remove(&taken);
                (self.tell)(&stored);
                tracing::debug!(writes = count, notifications = stored.len(), "buffered writes stored");
            }
            Err(error) => {
                tracing::warn!(%error, writes = count, "buffered writes not stored yet; trying again");
                // What merging dropped is done with; the rest waits for the next try (counted
                // again before the taken ones are let go, so a read in between still waits).
                self.pending.add(&writes);
                self.pending.remove(&taken);
                *batch = writes;
            }
        }
    }
}

/// Keeps only the latest last-seen time of each user; everything else as it came, in order.
fn merged(writes: Vec<DeferredWrite>) -> Vec<DeferredWrite> {
    let mut latest: HashMap<conclave_protocol::UserId, chrono::DateTime<chrono::Utc>> = HashMap::new();
    for write in &writes {
        if let DeferredWrite::LastSeen { user, at } = write {
            let entry = latest.entry(user.clone()).or_insert(*at);
            *entry = (*entry).max(*at);
        }
    }
    writes
        .into_iter()
        .filter(|write| match write {
            DeferredWrite::LastSeen { user, at } => {
                if latest.get(user) == Some(at) {
                    latest.remove(user);
                    true
                } else {
                    false
                }
            }
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};
    use conclave_store::StoreResult;

    /// A store that only records the buffered writes it is given, and answers a notice for each
    /// declined request.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<DeferredWrite>>);

    impl Recorder {
        fn stored(&self) -> Vec<DeferredWrite> {
            self.0.lock().map(|w| w.clone()).unwrap_or_default()
        }
    }

    #[async_trait]
    impl MaintenanceStore for Recorder {
        async fn ping(&self) -> StoreResult<()> {
            Ok(())
        }
        async fn delete_ended_rooms(&self, _: DateTime<Utc>) -> StoreResult<Vec<RoomId>> {
            Ok(Vec::new())
        }
        async fn delete_room_log_before(&self, _: DateTime<Utc>) -> StoreResult<u64> {
            Ok(0)
        }
        async fn delete_read_notifications_before(&self, _: DateTime<Utc>) -> StoreResult<u64> {
            Ok(0)
        }
        async fn delete_expired_refresh_tokens(&self, _: DateTime<Utc>) -> StoreResult<u64> {
            Ok(0)
        }
        async fn apply_deferred(&self, writes: Vec<DeferredWrite>) -> StoreResult<Vec<NotificationRecord>> {
            let notices = writes
                .iter()
                .filter_map(|write| match write {
                    DeferredWrite::DeclineRequest { room, user, by, at } => Some(NotificationRecord {
                        id: conclave_protocol::NotificationId::from("declined"),
                        user_id: user.clone(),
                        kind: conclave_protocol::NotificationKind::RequestDeclined,
                        room_id: Some(room.clone()),
                        actor_id: Some(by.clone()),
                        data: serde_json::json!({}),
                        created_at: *at,
                        read: false,
                    }),
                    _ => None,
                })
                .collect();
            if let Ok(mut stored) = self.0.lock() {
                stored.extend(writes);
            }
            Ok(notices)
        }
    }

    /// R-OPS-3: a read waits for the buffered writes it shows, and only for those: a user's
    /// notification reads for their list, a decline for its room's requests, the declined
    /// user's notices and any admin's, last-seen times for user records. Nothing is stored for a
    /// read that touches none of them. What a batch stored is told once it is stored.
    #[tokio::test]
    async fn a_read_waits_only_for_the_writes_it_touches() {
        let store = Arc::new(Recorder::default());
        // Nothing is flushed by time or size during the test: only reads make writes go.
        let settings = WriteBehindSettings { flush_after: Duration::from_secs(3600), batch_size: 100, capacity: 100 };
        let maintenance: Arc<dyn MaintenanceStore> = store.clone();
        let told = Arc::new(Mutex::new(Vec::new()));
        let telling = Arc::clone(&told);
        let tell: Tell = Box::new(move |stored: &[NotificationRecord]| {
            if let Ok(mut told) = telling.lock() {
                told.extend(stored.iter().map(|notice| notice.user_id.clone()));
            }
        });
        let buffer = WriteBehind::start(maintenance, settings, tell);
        let (alice, bob, room) = (UserId::from("alice"), UserId::from("bob"), RoomId::from("room"));
        let read = DeferredWrite::AllNotificationsRead { user: alice.clone() };
        buffer.defer(read.clone()).await.unwrap_or_default();
        buffer.settle_touching(&[Touch::User(bob.clone()), Touch::Room(room.clone()), Touch::LastSeen]).await;
        assert!(store.stored().is_empty(), "bob's, the room's and last-seen reads do not wait for alice's");
        buffer.settle_touching(&[Touch::User(alice.clone())]).await;
        assert_eq!(store.stored(), vec![read.clone()], "alice sees her own write");

        let decline =
            DeferredWrite::DeclineRequest { room: room.clone(), user: bob.clone(), by: alice.clone(), at: Utc::now() };
        for touched in [Touch::Room(room.clone()), Touch::User(bob.clone()), Touch::RequestNotices] {
            buffer.defer(decline.clone()).await.unwrap_or_default();
            buffer.settle_touching(&[Touch::User(alice.clone())]).await;
            assert_eq!(told.lock().map(|t| t.len()).unwrap_or_default(), 0, "nothing told before it is stored");
            buffer.settle_touching(&[touched]).await;
            assert_eq!(store.stored().last(), Some(&decline));
            assert_eq!(
                told.lock().map(|t| t.last().cloned()).unwrap_or_default(),
                Some(bob.clone()),
                "told once stored"
            );
            told.lock().map(|mut t| t.clear()).unwrap_or_default();
        }
        assert_eq!(store.stored().len(), 4);

        buffer.defer(DeferredWrite::LastSeen { user: bob, at: Utc::now() }).await.unwrap_or_default();
        buffer.settle_touching(&[Touch::LastSeen]).await;
        assert_eq!(store.stored().len(), 5);
        buffer.close(Instant::now() + Duration::from_secs(5)).await;
    }

    #[test]
    fn last_seen_is_merged_to_the_latest_per_user() {
        let at = |minute| Utc.with_ymd_and_hms(2026, 1, 1, 0, minute, 0).single().unwrap_or_default();
        let (a, b) = (UserId::from("a"), UserId::from("b"));
        let merged = merged(vec![
            DeferredWrite::LastSeen { user: a.clone(), at: at(1) },
            DeferredWrite::AllNotificationsRead { user: a.clone() },
            DeferredWrite::LastSeen { user: b.clone(), at: at(2) },
            DeferredWrite::LastSeen { user: a.clone(), at: at(3) },
            DeferredWrite::LastSeen { user: a.clone(), at: at(3) },
        ]);
        assert_eq!(
            merged,
            vec![
                DeferredWrite::AllNotificationsRead { user: a.clone() },
                DeferredWrite::LastSeen { user: b, at: at(2) },
                DeferredWrite::LastSeen { user: a, at: at(3) },
            ]
        );
    }
}
