//! Group commit of sends: messages sent at the same moment are stored in one transaction.
//!
//! A send is the hottest write (SPEC R-MSG-1: stored before it is delivered). One transaction
//! per message makes every send pay a commit (WAL frames for the room, message and index pages,
//! and the checkpoints they bring) and queue for the connection one at a time. Here sends go to
//! one writer thread that takes every send waiting, stores each under a savepoint of one
//! `IMMEDIATE` transaction (a refused send rolls back alone, as if it had had its own
//! transaction) and commits once. Each caller gets its own result; a failed commit fails all.
//!
//! The thread is also where a room's order is kept: after the commit it runs each new
//! message's `on_created` in the batch's order, which is sequence order (the server publishes
//! there), and only then answers the callers. So no lock is held across a send's round trip,
//! and a room's concurrent sends share a transaction.

use super::messages;
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
        match in_savepoint(conn, |conn| messages::insert_message(conn, vault, send.message, send.now)) {
            Ok(stored) => results.push((send.on_created, send.reply, stored)),
            Err(broken) => {
                // What the failed send wrote could not be undone: nothing of the batch is kept.
                let _ = run(conn, "ROLLBACK");
                let replies = results.into_iter().map(|(_, reply, _)| reply).chain([send.reply]);
                return Err((replies.chain(batch.map(|send| send.reply)).collect(), broken.to_string()));
            }
        }
    }
    if let Err(error) = run(conn, "COMMIT") {
        let _ = run(conn, "ROLLBACK");
        return Err((results.into_iter().map(|(_, reply, _)| reply).collect(), error.to_string()));
    }
    Ok(results)
}

/// Runs one statement without parameters, prepared once per connection: the transaction and
/// savepoint statements run for every batch and every send, and parsing them showed.
fn run(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql).and_then(|mut statement| statement.execute([])).map(drop).map_err(rows::backend)
}

/// Runs `work` under a savepoint: what it wrote is undone when it fails. The outer error
/// means the transaction itself is broken (the savepoint could not be rolled back).
fn in_savepoint<T>(conn: &Connection, work: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<StoreResult<T>> {
    run(conn, "SAVEPOINT send")?;
    let result = work(conn);
    if result.is_err() {
        run(conn, "ROLLBACK TO send")?;
    }
    run(conn, "RELEASE send")?;
    Ok(result)
}

/// Tells every one of these sends that it was not stored, and why.
fn fail(replies: impl IntoIterator<Item = Reply>, why: &str) {
    for reply in replies {
        let _ = reply.send(Err(StoreError::Backend(why.to_owned())));
    }
}
