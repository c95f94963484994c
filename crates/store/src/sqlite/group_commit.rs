//! Group commit of sends: messages sent at the same moment are stored in one transaction.
//!
//! A send is the hottest write (SPEC R-MSG-1: stored before it is delivered). One transaction
//! per message makes every send pay a commit (WAL frames for the room, message and index pages,
//! and the checkpoints they bring) and queue for the connection one at a time. Here sends go to
//! one writer thread that takes every send waiting, stores them in one `IMMEDIATE` transaction
//! and commits once. Each caller gets its own result.
//!
//! A send is checked before it writes anything (`messages::check_send` only reads, and sees the
//! sends before it in the batch), so a refused send is as if it had had its own transaction,
//! without a savepoint: a savepoint per send copied every page the batch had already changed
//! into a statement journal, and freeing that journal made the allocator hand memory back to
//! the kernel at every send (`madvise`, with a TLB shootdown on every core). A failed write is
//! the database's, not a refusal: it fails the whole batch, like a failed commit.
//!
//! The thread is also where a room's order is kept: after the commit it runs each send's
//! `on_stored` in the batch's order, which is the order the sends were queued in and sequence
//! order (the server publishes and answers there), and only then answers the callers. So no
//! lock is held across a send's round trip, and a room's concurrent sends share a transaction.
//!
//! Under a steady stream of sends the writer lets them gather for a millisecond before it
//! takes them ([`Gather`]): taking each as it comes would commit nearly every send alone, and
//! the commits' CPU is what the rest of the server is short of exactly then (at the stress
//! load, 2,500 sends a second, it made the server's CPU per delivery 5 % lower). At a trickle
//! it does not wait.

use super::messages::{self, Checked};
use super::rows;
use crate::error::{Cause, StoreError, StoreResult};
use crate::model::{InsertedMessage, NewMessage};
use crate::store::{BatchScope, OnStored};
use chrono::{DateTime, Utc};
use conclave_crypto::Vault;
use rusqlite::Connection;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// At most this many sends share one transaction.
const MAX_BATCH: usize = 128;

/// How long a busy writer lets sends gather before it commits (see [`Gather`]).
const GATHER_WINDOW: Duration = Duration::from_millis(1);

/// Over about how long the writer remembers the rate of sends.
const RATE_MEMORY: Duration = Duration::from_millis(50);

struct Send {
    message: NewMessage,
    now: DateTime<Utc>,
    on_stored: OnStored,
    reply: Reply,
}

/// Where a send's outcome goes.
type Reply = oneshot::Sender<StoreResult<InsertedMessage>>;

/// The queue in front of the writer thread.
pub struct GroupCommit {
    queue: mpsc::Sender<Send>,
}

impl GroupCommit {
    /// Starts the writer thread on `conn`; it ends when the last handle is dropped.
    pub fn start(conn: Arc<Mutex<Connection>>, vault: Arc<Vault>, scope: BatchScope) -> StoreResult<Self> {
        let (queue, sends) = mpsc::channel::<Send>();
        std::thread::Builder::new()
            .name("sqlite-sends".into())
            .spawn(move || {
                let mut gather = Gather::default();
                while let Ok(first) = sends.recv() {
                    if gather.should_wait() {
                        // Sleeping, not waiting on the queue: a send that arrives meanwhile
                        // does not wake the thread.
                        std::thread::sleep(GATHER_WINDOW);
                    }
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match sends.try_recv() {
                            Ok(send) => batch.push(send),
                            Err(_) => break,
                        }
                    }
                    gather.taken(batch.len(), Instant::now());
                    store_batch(&conn, &vault, &scope, batch);
                }
            })
            .map_err(|e| StoreError::Backend(Cause::msg(format!("cannot start the SQLite send thread: {e}"))))?;
        Ok(Self { queue })
    }

    pub async fn insert(
        &self,
        message: NewMessage,
        now: DateTime<Utc>,
        on_stored: OnStored,
    ) -> StoreResult<InsertedMessage> {
        // Queued at the first poll, with nothing awaited before: the send's place is taken.
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Send { message, now, on_stored, reply })
            .map_err(|_| StoreError::Backend(Cause::msg("the SQLite send thread has stopped")))?;
        answer.await.map_err(|_| StoreError::Backend(Cause::msg("the SQLite send thread has stopped")))?
    }
}

/// When to let sends gather before a commit. A commit costs about as much as four sends
/// (WAL frames for every page it touched, a wake-up of each caller), so under a steady stream
/// of sends, committing them a millisecond at a time instead of one at a time frees CPU the
/// rest of the server needs; at a trickle, waiting would only add latency. The decision is
/// taken from the recent arrival rate: the writer waits when a window is expected to bring at
/// least two more sends. A send so waits at most one window.
#[derive(Debug, Default)]
struct Gather {
    /// When the writer last took sends from the queue.
    last_take: Option<Instant>,
    /// Smoothed sends per second.
    rate: f64,
}

impl Gather {
    /// Whether to wait a window before taking what is queued, a send having just come.
    fn should_wait(&self) -> bool {
        self.rate * GATHER_WINDOW.as_secs_f64() >= 2.0
    }

    /// `count` sends were taken at `now`: they arrived since the previous take.
    fn taken(&mut self, count: usize, now: Instant) {
        if let Some(previous) = self.last_take {
            let elapsed = now.saturating_duration_since(previous).as_secs_f64().max(1e-6);
            let sample = f64::from(u32::try_from(count).unwrap_or(u32::MAX)) / elapsed;
            // Smoothed over about the last 50 ms: a pause ends the waiting by itself.
            let weight = 1.0 - (-elapsed / RATE_MEMORY.as_secs_f64()).exp();
            self.rate += (sample - self.rate) * weight;
        }
        self.last_take = Some(now);
    }
}

fn store_batch(conn: &Mutex<Connection>, vault: &Vault, scope: &BatchScope, batch: Vec<Send>) {
    let stored = {
        let Ok(guard) = conn.lock() else {
            return fail(batch.into_iter().map(|send| (send.on_stored, send.reply)), "database lock poisoned");
        };
        match store_all(&guard, vault, batch) {
            Ok(stored) => stored,
            Err((replies, why)) => return fail(replies, &why),
        }
    };
    // Committed, and the connection free for readers: the new messages go out in order, then
    // their senders learn, still inside the scope. A scope may hold back what the messages
    // wake (the server's writers) until it ends: the senders then run first, and a sender
    // with more to send is not kept waiting behind the deliveries of this batch, which would
    // make a batch of many sends take long enough for the next to be as large.
    let mut stored = Some(stored);
    scope(&mut || {
        let Some(stored) = stored.take() else { return };
        let mut replies = Vec::with_capacity(stored.len());
        for (on_stored, reply, result) in stored {
            on_stored(&result);
            replies.push((reply, result));
        }
        for (reply, result) in replies {
            // A caller that went away has nobody to tell.
            reply.send(result).ok();
        }
    });
}

/// A send's outcome once its batch is committed.
type Stored = (OnStored, Reply, StoreResult<InsertedMessage>);

/// Where a send that failed with its batch learns it.
type Failed = (OnStored, Reply);

/// Stores the batch in one transaction; on failure, the sends to fail and why.
fn store_all(conn: &Connection, vault: &Vault, batch: Vec<Send>) -> Result<Vec<Stored>, (Vec<Failed>, String)> {
    let failed = |send: Send| (send.on_stored, send.reply);
    if let Err(error) = run(conn, "BEGIN IMMEDIATE") {
        return Err((batch.into_iter().map(failed).collect(), error.to_string()));
    }
    let mut results: Vec<Stored> = Vec::with_capacity(batch.len());
    let mut batch = batch.into_iter();
    for send in batch.by_ref() {
        let outcome = match messages::check_send(conn, vault, send.message, send.now) {
            Err(refused) => Err(refused),
            Ok(Checked::Repeated(earlier)) => Ok(earlier),
            Ok(Checked::New(checked)) => match messages::write_send(conn, checked) {
                Ok(inserted) => Ok(inserted),
                Err(broken) => {
                    // Half a send may be written: nothing of the batch is kept.
                    run(conn, "ROLLBACK").ok();
                    let done = results.into_iter().map(|(on_stored, reply, _)| (on_stored, reply));
                    let rest = [(send.on_stored, send.reply)].into_iter().chain(batch.map(failed));
                    return Err((done.chain(rest).collect(), broken.to_string()));
                }
            },
        };
        results.push((send.on_stored, send.reply, outcome));
    }
    if let Err(error) = run(conn, "COMMIT") {
        // The batch failed either way; a rollback that fails too leaves nothing more to undo.
        run(conn, "ROLLBACK").ok();
        return Err((results.into_iter().map(|(on_stored, reply, _)| (on_stored, reply)).collect(), error.to_string()));
    }
    Ok(results)
}

/// Runs one statement without parameters, prepared once per connection: the transaction
/// statements run for every batch, and parsing them showed.
fn run(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql).and_then(|mut statement| statement.execute([])).map(drop).map_err(rows::backend)
}

/// Tells every one of these sends that it was not stored, and why, in their order.
fn fail(sends: impl IntoIterator<Item = Failed>, why: &str) {
    for (on_stored, reply) in sends {
        let outcome = Err(StoreError::Backend(Cause::msg(why)));
        on_stored(&outcome);
        reply.send(outcome).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `count` sends every `every`, `times` times, starting at `start`; returns the end.
    fn feed(gather: &mut Gather, start: Instant, count: usize, every: Duration, times: u32) -> Instant {
        let mut now = start;
        for _ in 0..times {
            now += every;
            gather.taken(count, now);
        }
        now
    }

    #[test]
    fn a_first_send_is_committed_at_once() {
        assert!(!Gather::default().should_wait());
    }

    #[test]
    fn sends_at_a_trickle_are_committed_at_once() {
        let mut gather = Gather::default();
        // 100 sends a second: a window would bring a tenth of one.
        feed(&mut gather, Instant::now(), 1, Duration::from_millis(10), 200);
        assert!(!gather.should_wait());
    }

    #[test]
    fn a_steady_stream_of_sends_gathers_and_a_pause_ends_it() {
        let mut gather = Gather::default();
        // 4,000 sends a second, two at a time: a window brings four.
        let now = feed(&mut gather, Instant::now(), 2, Duration::from_micros(500), 200);
        assert!(gather.should_wait());
        // A pause: the next send is committed at once.
        feed(&mut gather, now, 1, Duration::from_millis(200), 1);
        assert!(!gather.should_wait());
    }
}
