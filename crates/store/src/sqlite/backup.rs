//! Online backups of the embedded store. A snapshot is taken while the server runs: SQLite's
//! `VACUUM INTO` reads the database inside one read transaction, so the copy is the database
//! as it was at one moment, whatever is committed meanwhile, and holds no free pages (nothing
//! deleted survives into it). A copy is trusted only once [`verify`] has passed it.

use super::rows::backend;
use super::schema;
use crate::error::{Cause, StoreError, StoreResult};
use conclave_crypto::Vault;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// What a database holds, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contents {
    pub users: u64,
    pub rooms: u64,
    pub messages: u64,
    pub attachments: u64,
}

impl std::fmt::Display for Contents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { users, rooms, messages, attachments } = self;
        write!(f, "{users} users, {rooms} rooms, {messages} messages and {attachments} attachments")
    }
}

/// An existing database file, never created here.
fn open_existing(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    // The running server may hold the write lock for a moment; wait for it rather than fail.
    conn.busy_timeout(Duration::from_secs(30)).map_err(backend)?;
    Ok(conn)
}

/// Writes a consistent copy of the database at `source` to `target`, which must not exist.
pub fn snapshot(source: &Path, target: &Path) -> StoreResult<()> {
    let target = target
        .to_str()
        .ok_or_else(|| StoreError::Backend(Cause::msg(format!("{} is not a UTF-8 path", target.display()))))?;
    open_existing(source)?.execute("VACUUM INTO ?1", [target]).map_err(backend)?;
    Ok(())
}

/// Checks that the database at `path` is whole and that `vault`'s key opens it, and counts
/// what it holds.
pub fn verify(path: &Path, vault: &Vault) -> StoreResult<Contents> {
    let conn = open_existing(path)?;
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).map_err(backend)?;
    if integrity != "ok" {
        return Err(StoreError::Backend(Cause::msg(format!("the database is damaged: {integrity}"))));
    }
    schema::check_server_key(&conn, vault)?;
    let count = |table: &str| -> StoreResult<u64> {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok(Contents {
        users: count("users")?,
        rooms: count("rooms")?,
        messages: count("messages")?,
        attachments: count("attachments")?,
    })
}
