//! The audit trail (SPEC R-OPS-1) on SQLite: records written in the command's transaction,
//! sealed under the room's key or, for account records, the server's (R-SEC-2).

use super::messages::key_of_room;
use super::rows::*;
use crate::audit::{AuditFacts, open, seal};
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::sealing::{SERVER_SCOPE, room_key};
use chrono::{DateTime, Utc};
use conclave_crypto::{DataKey, Vault};
use conclave_protocol::{AuditId, RoomId, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;

/// The server's own data key (account records).
pub(super) fn server_key(conn: &Connection, vault: &Vault) -> StoreResult<Arc<DataKey>> {
    if let Some(key) = vault.cached(SERVER_SCOPE) {
        return Ok(key);
    }
    let wrapped: Option<Vec<u8>> = conn
        .query_row("SELECT wrapped FROM data_keys WHERE scope = ?1", [SERVER_SCOPE], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    room_key(vault, SERVER_SCOPE, wrapped.as_deref())
}

fn key_for(conn: &Connection, vault: &Vault, room: Option<&RoomId>) -> StoreResult<Arc<DataKey>> {
    match room {
        Some(room) => key_of_room(conn, vault, room.as_str()),
        None => server_key(conn, vault),
    }
}

/// Writes `facts` as records of `room` (or, without one, as account records of their actors).
pub fn record(
    conn: &Connection,
    vault: &Vault,
    room: Option<&RoomId>,
    facts: &[AuditFacts],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let key = key_for(conn, vault, room)?;
    for fact in facts {
        let sealed = seal(&key, room, fact)?;
        conn.execute(
            "INSERT INTO audit_log (id, room_id, user_id, created_at, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                sealed.id.as_str(),
                sealed.room_id.as_ref().map(RoomId::as_str),
                sealed.user_id.as_ref().map(UserId::as_str),
                ms(now),
                sealed.sealed
            ],
        )
        .map_err(backend)?;
    }
    Ok(())
}

/// Records newest first, of a room (`scope_column = room_id`) or of a user's account.
fn trail(
    conn: &Connection,
    vault: &Vault,
    room: Option<&RoomId>,
    condition: &str,
    subject: &str,
    after: Option<&AuditCursor>,
    limit: u32,
) -> StoreResult<Vec<AuditRecord>> {
    let (after_time, after_id) = after.map_or((i64::MAX, String::new()), |c| (ms(c.created_at), c.id.0.clone()));
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT id, created_at, record FROM audit_log
             WHERE {condition} AND (created_at < ?2 OR (created_at = ?2 AND (?3 = '' OR id < ?3)))
             ORDER BY created_at DESC, id DESC LIMIT ?4"
        ))
        .map_err(backend)?;
    let rows: Vec<(AuditId, DateTime<Utc>, Vec<u8>)> = statement
        .query_map(params![subject, after_time, after_id, limit], |row| {
            Ok((id_at(row, 0)?, time_at(row, 1)?, row.get(2)?))
        })
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let key = key_for(conn, vault, room)?;
    rows.into_iter().map(|(id, at, sealed)| open(&key, id, room.cloned(), &sealed, at)).collect()
}

pub fn room_audit(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    after: Option<&AuditCursor>,
    limit: u32,
) -> StoreResult<Vec<AuditRecord>> {
    if super::rooms::room(conn, room.as_str())?.is_none() {
        return Err(StoreError::NotFound(crate::error::Missing::Room));
    }
    trail(conn, vault, Some(room), "room_id = ?1", room.as_str(), after, limit)
}

pub fn account_audit(
    conn: &Connection,
    vault: &Vault,
    user: &UserId,
    after: Option<&AuditCursor>,
    limit: u32,
) -> StoreResult<Vec<AuditRecord>> {
    trail(conn, vault, None, "room_id IS NULL AND user_id = ?1", user.as_str(), after, limit)
}
