//! Cleanup (SPEC R-OPS-2): what the background jobs delete. Foreign keys cascade a room's
//! deletion to its messages, memberships, invites, requests, bans, room log and audit trail.

use super::rows::*;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use conclave_crypto::Vault;
use conclave_protocol::RoomId;
use rusqlite::{Connection, params};

pub fn delete_ended_rooms(
    conn: &Connection,
    vault: &Vault,
    terminated_before: DateTime<Utc>,
) -> StoreResult<Vec<RoomId>> {
    let ended: Vec<RoomId> = conn
        .prepare(
            "SELECT id FROM rooms
             WHERE terminated_at < ?1
                OR (terminated_at IS NULL
                    AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = rooms.id))",
        )
        .and_then(|mut statement| statement.query_map([ms(terminated_before)], |row| id_at(row, 0))?.collect())
        .map_err(backend)?;
    for room in &ended {
        conn.execute("DELETE FROM rooms WHERE id = ?1", [room.as_str()]).map_err(backend)?;
        vault.forget(room.as_str());
    }
    Ok(ended)
}

fn count(changed: usize) -> u64 {
    u64::try_from(changed).unwrap_or(u64::MAX)
}

pub fn delete_room_log_before(conn: &Connection, before: DateTime<Utc>) -> StoreResult<u64> {
    conn.execute("DELETE FROM room_log WHERE left_at < ?1", [ms(before)]).map(count).map_err(backend)
}

pub fn delete_read_notifications_before(conn: &Connection, before: DateTime<Utc>) -> StoreResult<u64> {
    conn.execute("DELETE FROM notifications WHERE read = 1 AND created_at < ?1", [ms(before)])
        .map(count)
        .map_err(backend)
}

pub fn delete_expired_refresh_tokens(conn: &Connection, now: DateTime<Utc>) -> StoreResult<u64> {
    conn.execute("DELETE FROM refresh_tokens WHERE expires_at < ?1", params![ms(now)]).map(count).map_err(backend)
}

pub fn delete_unsent_attachments_before(conn: &Connection, before: DateTime<Utc>) -> StoreResult<u64> {
    conn.execute("DELETE FROM attachments WHERE message_id IS NULL AND created_at < ?1", [ms(before)])
        .map(count)
        .map_err(backend)
}
