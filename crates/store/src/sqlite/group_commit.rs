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
//! The thread is also where a room's order is kept: after the commit it runs each new
//! message's `on_created` in the batch's order, which is sequence order (the server publishes
//! there), and only then answers the callers. So no lock is held across a send's round trip,
//! and a room's concurrent sends share a transaction.

use super::messages::{self, Checked};
use super::rows;
use crate::error::{StoreError, StoreResult};
use crate::model::{InsertedMessage, NewMessage};
use crate::store::{BatchScope, OnCreated};
use chrono::{DateTime, Utc};
use conclave_crypto::Vault;
use rusqlite::Connection;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// At most this many sends share one transaction.
const MAX_BATCH: usize = 128;

struct Send {
    message: NewMessage,
    now: DateTime<Utc>,
    on_created: OnCreated,
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
                while let Ok(first) = sends.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match sends.try_recv() {
                            Ok(send) => batch.push(send),
                            Err(_) => break,
                        }
                    }
                    store_batch(&conn, &vault, &scope, batch);
                }
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the SQLite send thread: {e}")))?;
        Ok(Self { queue })
    }

    pub async fn insert(
        &self,
        message: NewMessage,
        now: DateTime<Utc>,
        on_created: OnCreated,
    ) -> StoreResult<InsertedMessage> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Send { message, now, on_created, reply })
            .map_err(|_| StoreError::Backend("the SQLite send thread has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Backend("the SQLite send thread has stopped".into()))?
    }
}

fn store_batch(conn: &Mutex<Connection>, vault: &Vault, scope: &BatchScope, batch: Vec<Send>) {
    let stored = {
        let Ok(guard) = conn.lock() else {
            return fail(batch.into_iter().map(|send| send.reply), "database lock poisoned");
        };
        match store_all(&guard, vault, batch) {
            Ok(stored) => stored,
            Err((replies, why)) => return fail(replies, &why),
        }
    };
    // Committed, and the connection free for readers: the new messages go out in order, then
    // their senders learn.
    let mut replies = Vec::with_capacity(stored.len());
    let mut stored = Some(stored);
    scope(&mut || {
        for (on_created, reply, result) in stored.take().into_iter().flatten() {
            if let Ok(inserted) = &result
                && inserted.created
            {
                on_created(&inserted.message);
            }
            replies.push((reply, result));
        }
    });
    for (reply, result) in replies {
        let _ = reply.send(result);
    }
}

/// A send's outcome once its batch is committed.
type Stored = (OnCreated, Reply, StoreResult<InsertedMessage>);

/// Stores the batch in one transaction; on failure, the replies to fail and why.
fn store_all(conn: &Connection, vault: &Vault, batch: Vec<Send>) -> Result<Vec<Stored>, (Vec<Reply>, String)> {
    if let Err(error) = run(conn, "BEGIN IMMEDIATE") {
        return Err((batch.into_iter().map(|send| send.reply).collect(), error.to_string()));
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
                    let _ = run(conn, "ROLLBACK");
                    let replies = results.into_iter().map(|(_, reply, _)| reply).chain([send.reply]);
                    return Err((replies.chain(batch.map(|send| send.reply)).collect(), broken.to_string()));
                }
            },
        };
        results.push((send.on_created, send.reply, outcome));
    }
    if let Err(error) = run(conn, "COMMIT") {
        let _ = run(conn, "ROLLBACK");
        return Err((results.into_iter().map(|(_, reply, _)| reply).collect(), error.to_string()));
    }
    Ok(results)
}

/// Runs one statement without parameters, prepared once per connection: the transaction
/// statements run for every batch, and parsing them showed.
fn run(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql).and_then(|mut statement| statement.execute([])).map(drop).map_err(rows::backend)
}

/// Tells every one of these sends that it was not stored, and why.
fn fail(replies: impl IntoIterator<Item = Reply>, why: &str) {
    for reply in replies {
        let _ = reply.send(Err(StoreError::Backend(why.to_owned())));
    }
}
