//! Checkpoints off the send path: the write-ahead log is folded into the database file by a
//! thread of its own, on a connection of its own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, on the
//! connection that commits: with group commit (`group_commit.rs`) that is the send thread, so
//! every hundred or so batches one of them waited for the copy and its `fsync` (7 to 10 ms on
//! this machine, against well under a millisecond for a batch), which was the whole tail of
//! the send latency. Here the main connection never checkpoints: a `PASSIVE` checkpoint, which
//! takes no lock a writer needs, runs every [`INTERVAL`]. Under sustained writing a passive
//! checkpoint may never find the log fully copied (writers append while it runs), and the log
//! only starts over once it is; so past [`RESTART_FRAMES`] it asks for a `RESTART`, which waits
//! for the writer and has only the last few pages left to copy.

use super::rows;
use crate::error::{Cause, StoreError, StoreResult};
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How often the log is folded into the database.
const INTERVAL: Duration = Duration::from_millis(200);
/// A log this long (in 4 KiB pages, 64 MiB: seconds of sends at full speed) is started over
/// even if writers must wait. The file keeps its size and is written over from its start:
/// cutting it short (`journal_size_limit`) cost the next commit 60 ms here.
const RESTART_FRAMES: i64 = 16_384;

/// How long a connection waits for a lock another holds before it fails as busy: the writing
/// connection for a checkpoint's, the checkpoint for the writer's.
const LOCK_PATIENCE: Duration = Duration::from_secs(5);
/// How often it looks at the lock again meanwhile.
const LOCK_POLL: Duration = Duration::from_micros(100);

/// Makes `conn` wait for a lock held by a checkpoint by looking again every [`LOCK_POLL`], for
/// at most [`LOCK_PATIENCE`]. A `RESTART` (every few seconds under a steady stream of sends)
/// holds the write lock while it copies the last pages and syncs both files, about 10 ms
/// here; SQLite's own busy timeout sleeps 1, 2, 5, 10 ms between looks (traced: the send
/// thread's sleeps during a `RESTART`), so a send that met one waited 18 ms.
pub(super) fn wait_for_checkpoints(conn: &mut Connection) -> StoreResult<()> {
    let mut since = Instant::now();
    conn.busy_handler(Some(move |tries: i32| {
        if tries == 0 {
            since = Instant::now();
        }
        if since.elapsed() >= LOCK_PATIENCE {
            return false;
        }
        std::thread::sleep(LOCK_POLL);
        true
    }))
    .map_err(rows::backend)
}

/// The checkpoint thread; dropping this makes it checkpoint a last time and waits for it.
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`, whose other connections must have
    /// `wal_autocheckpoint` off.
    pub fn start(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path).map_err(rows::backend)?;
        conn.busy_timeout(LOCK_PATIENCE).map_err(rows::backend)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                loop {
                    let last = matches!(stopped.recv_timeout(INTERVAL), Err(RecvTimeoutError::Disconnected));
                    if let Err(error) = checkpoint(&conn) {
                        tracing::warn!(%error, "SQLite checkpoint failed; the write-ahead log keeps growing until one succeeds");
                    }
                    if last {
                        break;
                    }
                }
            })
            .map_err(|e| StoreError::Backend(Cause::msg(format!("cannot start the SQLite checkpoint thread: {e}"))))?;
        Ok(Self { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            // A thread that panicked has stopped too.
            thread.join().ok();
        }
    }
}

/// Copies what the log holds into the database; restarts a log grown past [`RESTART_FRAMES`].
fn checkpoint(conn: &Connection) -> StoreResult<()> {
    let frames = run(conn, "PRAGMA wal_checkpoint(PASSIVE)")?;
    if frames > RESTART_FRAMES {
        run(conn, "PRAGMA wal_checkpoint(RESTART)")?;
    }
    Ok(())
}

/// Runs a checkpoint pragma; returns the number of frames in the log.
fn run(conn: &Connection, pragma: &str) -> StoreResult<i64> {
    conn.query_row(pragma, [], |row| row.get::<_, i64>(1)).map_err(rows::backend)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Frames in the log, and how many of them are in the database file.
    fn log(conn: &Connection) -> (i64, i64) {
        // A passive checkpoint with nothing left to copy only reports.
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?))).unwrap()
    }

    /// Everything committed reaches the database file and the log starts over, while the
    /// writing connection never checkpoints.
    #[test]
    fn the_checkpoint_thread_folds_the_log_in_and_lets_it_start_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let checkpointer = Checkpointer::start(&path).unwrap();
        let big = vec![7_u8; 64 * 1024];
        for _ in 0..40 {
            writer.execute("INSERT INTO t (x) VALUES (?1)", [&big]).unwrap();
        }
        drop(checkpointer);
        let reader = Connection::open(&path).unwrap();
        let (frames, copied) = log(&reader);
        assert!(frames > 40 * 16, "the log held the writes ({frames} frames)");
        assert_eq!(copied, frames, "every frame is in the database file");
        writer.execute("INSERT INTO t (x) VALUES (x'00')", []).unwrap();
        assert!(log(&reader).0 < 10, "the next write started the log over");
        let rows: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 41);
    }

    /// A write that meets the lock of another connection (a checkpoint's) waits for it and
    /// then goes through, rather than failing as busy.
    #[test]
    fn a_write_waits_for_a_held_lock_and_then_goes_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        wait_for_checkpoints(&mut writer).unwrap();
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (x) VALUES (1)").unwrap();
        let (writing, about_to_write) = mpsc::channel::<()>();
        let holding = std::thread::spawn(move || {
            // Holds the write lock a little past the moment the writer goes for it.
            about_to_write.recv().unwrap();
            std::thread::sleep(Duration::from_millis(30));
            holder.execute_batch("COMMIT").unwrap();
        });
        writing.send(()).unwrap();
        writer.execute("INSERT INTO t (x) VALUES (2)", []).unwrap();
        holding.join().unwrap();
        let rows: Vec<i64> = writer
            .prepare("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows, [1, 2], "both writes are there, the waiting one after the holder's");
    }
}
