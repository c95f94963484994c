//! Reactions (SPEC R-MSG-9): one row per message, emoji and user. The emoji is metadata, not
//! message content, and is stored as it is (R-SEC-2 seals bodies, names and files).

use super::rows::*;
use crate::error::{Conflict, Missing, StoreError, StoreResult};
use crate::model::ReactionCount;
use chrono::{DateTime, Utc};
use conclave_domain::{ReactionDenial, may_react};
use conclave_protocol::{MessageId, RoomId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

/// Whether the message of the room is deleted; `NotFound(Message)` when there is none, and
/// `RoomTerminated` when its room was terminated.
fn message_state(conn: &Connection, room: &RoomId, message: &MessageId) -> StoreResult<bool> {
    let found: Option<(bool, bool)> = conn
        .query_row(
            "SELECT m.deleted, r.terminated_at IS NOT NULL FROM messages m JOIN rooms r ON r.id = m.room_id
             WHERE m.room_id = ?1 AND m.id = ?2",
            [room.as_str(), message.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(backend)?;
    match found {
        None => Err(StoreError::NotFound(Missing::Message)),
        Some((_, true)) => Err(StoreError::RoomTerminated),
        Some((deleted, false)) => Ok(deleted),
    }
}

pub fn add_reaction(
    conn: &Connection,
    room: &RoomId,
    message: &MessageId,
    user: &UserId,
    emoji: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let deleted = message_state(conn, room, message)?;
    let (kinds, this_kind, mine): (i64, bool, bool) = conn
        .query_row(
            "SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji = ?2), 0), COALESCE(MAX(emoji = ?2 AND user_id = ?3), 0)
             FROM reactions WHERE message_id = ?1",
            params![message.as_str(), emoji, user.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(backend)?;
    // Deleted messages keep no reactions, so one of the user's own means a live message.
    if mine {
        return Ok(false);
    }
    may_react(deleted, usize::try_from(kinds).unwrap_or(usize::MAX), !this_kind).map_err(|denial| match denial {
        ReactionDenial::Deleted => StoreError::MessageDeleted,
        ReactionDenial::TooManyKinds => StoreError::Conflict(Conflict::TooManyReactions),
    })?;
    conn.execute(
        "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![message.as_str(), emoji, user.as_str(), ms(now)],
    )
    .map_err(backend)?;
    Ok(true)
}

pub fn remove_reaction(
    conn: &Connection,
    room: &RoomId,
    message: &MessageId,
    user: &UserId,
    emoji: &str,
) -> StoreResult<bool> {
    let exists = conn
        .query_row("SELECT 1 FROM messages WHERE room_id = ?1 AND id = ?2", [room.as_str(), message.as_str()], |_| {
            Ok(())
        })
        .optional()
        .map_err(backend)?;
    if exists.is_none() {
        return Err(StoreError::NotFound(Missing::Message));
    }
    let removed = conn
        .execute(
            "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
            params![message.as_str(), emoji, user.as_str()],
        )
        .map_err(backend)?;
    Ok(removed > 0)
}

/// A deleted message keeps no reactions.
pub fn forget_reactions(conn: &Connection, message: &MessageId) -> StoreResult<()> {
    conn.execute("DELETE FROM reactions WHERE message_id = ?1", [message.as_str()]).map_err(backend)?;
    Ok(())
}

pub fn reactions(
    conn: &Connection,
    room: &RoomId,
    messages: &[MessageId],
    reader: Option<&UserId>,
) -> StoreResult<Vec<ReactionCount>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(&messages.iter().map(MessageId::as_str).collect::<Vec<_>>())
        .map_err(|e| StoreError::Backend(crate::error::Cause::new(e)))?;
    let mut statement = conn
        .prepare_cached(
            "SELECT r.message_id, r.emoji, COUNT(*), COALESCE(MAX(r.user_id = ?3), 0), MIN(r.rowid) AS first
             FROM json_each(?1) wanted
             JOIN messages m ON m.id = wanted.value AND m.room_id = ?2
             JOIN reactions r ON r.message_id = m.id
             GROUP BY r.message_id, r.emoji
             ORDER BY r.message_id, first",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(params![ids, room.as_str(), reader.map(UserId::as_str)], |row| {
            Ok(ReactionCount {
                message_id: MessageId(row.get(0)?),
                emoji: row.get(1)?,
                count: row.get(2)?,
                me: row.get(3)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}
