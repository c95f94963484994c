//! Buffered writes (SPEC R-OPS-3): declining a join request, marking notifications and rooms
//! read, and last-seen times (from typing and from leaving) are queued in a bounded buffer and
//! written in batches, by size or after a short delay, instead of one write per request.
//!
//! - The buffer is bounded: when it is full, a request waits for room (back-pressure), nothing
//!   is dropped.
//! - Reads that show these writes' effects call [`WriteBehind::settle`] first, so a user always
//!   sees their own writes (it costs nothing when the buffer is empty).
//! - On a graceful stop, [`WriteBehind::close`] writes what is left before the process exits.
//! - A batch the store refuses (an outage) is kept and tried again at the next flush.

use conclave_store::{DeferredWrite, Store};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// The handle the handlers use; the flusher task owns the buffer.
pub struct WriteBehind {
    tx: mpsc::Sender<Command>,
    /// Writes queued and not yet stored.
    pending: Arc<AtomicUsize>,
}

/// Why a write could not be queued: the server is stopping and the flusher has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is stopping")]
pub struct Stopped;

impl WriteBehind {
    /// Starts the flusher task on the current runtime.
    pub fn start(store: Arc<dyn Store>, settings: WriteBehindSettings) -> Self {
        let (tx, rx) = mpsc::channel(settings.capacity.max(1));
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(flusher(store, rx, settings, Arc::clone(&pending)));
        Self { tx, pending }
    }

    /// Queues `write`; waits while the buffer is full.
    pub async fn defer(&self, write: DeferredWrite) -> Result<(), Stopped> {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(Command::Write(write)).await.is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(Stopped);
        }
        Ok(())
    }

    /// Returns once every write queued before it is stored (at once when none is waiting).
    pub async fn settle(&self) {
        if self.pending.load(Ordering::SeqCst) == 0 {
            return;
        }
        let (reply, done) = oneshot::channel();
        if self.tx.send(Command::Settle(reply)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Stores everything still queued and stops the flusher (graceful shutdown).
    pub async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.tx.send(Command::Close(reply)).await.is_ok() {
            let _ = done.await;
        }
    }
}

async fn flusher(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Command>,
    settings: WriteBehindSettings,
    pending: Arc<AtomicUsize>,
) {
    let mut batch: Vec<DeferredWrite> = Vec::new();
    let mut deadline: Option<Instant> = None;
    loop {
        let command = match deadline {
            Some(at) => tokio::select! {
                command = rx.recv() => command,
                () = tokio::time::sleep_until(at) => {
                    flush(&*store, &mut batch, &pending).await;
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
                    flush(&*store, &mut batch, &pending).await;
                }
                deadline = if batch.is_empty() {
                    None
                } else {
                    deadline.or_else(|| Some(Instant::now() + settings.flush_after))
                };
            }
            Some(Command::Settle(reply)) => {
                flush(&*store, &mut batch, &pending).await;
                let _ = reply.send(());
            }
            Some(Command::Close(reply)) => {
                // A stopping server gets a few tries if the store is briefly away.
                for _ in 0..10 {
                    flush(&*store, &mut batch, &pending).await;
                    if batch.is_empty() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                if !batch.is_empty() {
                    tracing::error!(lost = batch.len(), "buffered writes could not be stored before stopping");
                }
                let _ = reply.send(());
                return;
            }
            None => {
                flush(&*store, &mut batch, &pending).await;
                return;
            }
        }
    }
}

/// Stores the batch (merged: one last-seen per user, the latest). On failure the writes stay
/// in the batch for the next try.
async fn flush(store: &dyn Store, batch: &mut Vec<DeferredWrite>, pending: &AtomicUsize) {
    if batch.is_empty() {
        return;
    }
    let taken = batch.len();
    let writes = merged(std::mem::take(batch));
    let count = writes.len();
    match store.apply_deferred(writes.clone()).await {
        Ok(()) => {
            pending.fetch_sub(taken, Ordering::SeqCst);
            tracing::debug!(writes = count, "buffered writes stored");
        }
        Err(error) => {
            tracing::warn!(%error, writes = count, "buffered writes not stored yet; trying again");
            pending.fetch_sub(taken - count, Ordering::SeqCst);
            *batch = writes;
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
    use chrono::{TimeZone, Utc};
    use conclave_protocol::UserId;

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
