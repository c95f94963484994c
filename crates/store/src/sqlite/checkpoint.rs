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
use crate::error::{StoreError, StoreResult};
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How often the log is folded into the database.
const INTERVAL: Duration = Duration::from_millis(200);
/// A log this long (in 4 KiB pages, 64 MiB: seconds of sends at full speed) is started over
/// even if writers must wait. The file keeps its size and is written over from its start:
/// cutting it short (`journal_size_limit`) cost the next commit 60 ms here.
const RESTART_FRAMES: i64 = 16_384;

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
        conn.busy_timeout(Duration::from_secs(5)).map_err(rows::backend)?;
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
            .map_err(|e| StoreError::Backend(format!("cannot start the SQLite checkpoint thread: {e}")))?;
        Ok(Self { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
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
}
