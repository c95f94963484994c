//! Messages: sequence numbers, idempotent sends, history, edits and deletions.

use super::rows::*;
use crate::error::{Missing, StoreError, StoreResult};
use crate::model::*;
use chrono::{DateTime, Utc};
use conclave_protocol::{MessageId, RoomId};
use rusqlite::{Connection, OptionalExtension, params};

const MESSAGE_FROM: &str = "FROM messages msg JOIN users au ON au.id = msg.author_id";

pub fn message(conn: &Connection, room: &RoomId, id: &MessageId) -> StoreResult<Option<MessageRecord>> {
    conn.query_row(
        &format!("SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM} WHERE msg.room_id = ?1 AND msg.id = ?2"),
        [room.as_str(), id.as_str()],
        |row| message_at(row, 0),
    )
    .optional()
    .map_err(backend)
}

pub fn insert_message(conn: &Connection, new: NewMessage, now: DateTime<Utc>) -> StoreResult<InsertedMessage> {
    let room: Option<Option<i64>> = conn
        .query_row("SELECT terminated_at FROM rooms WHERE id = ?1", [new.room_id.as_str()], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    match room {
        None => return Err(StoreError::NotFound(Missing::Room)),
        Some(Some(_)) => return Err(StoreError::RoomTerminated),
        Some(None) => {}
    }
    let is_member = conn
        .query_row(
            "SELECT 1 FROM memberships WHERE room_id = ?1 AND user_id = ?2",
            [new.room_id.as_str(), new.author_id.as_str()],
            |_| Ok(()),
        )
        .optional()
        .map_err(backend)?
        .is_some();
    if !is_member {
        return Err(StoreError::NotAMember);
    }
    if let Some(client_id) = &new.client_id {
        let earlier = conn
            .query_row(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}
                     WHERE msg.room_id = ?1 AND msg.author_id = ?2 AND msg.client_id = ?3"
                ),
                [new.room_id.as_str(), new.author_id.as_str(), client_id.as_str()],
                |row| message_at(row, 0),
            )
            .optional()
            .map_err(backend)?;
        if let Some(message) = earlier {
            return Ok(InsertedMessage { message, created: false });
        }
    }
    let seq: i64 = conn
        .query_row(
            "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
            [new.room_id.as_str()],
            |row| row.get(0),
        )
        .map_err(backend)?;
    let id = MessageId(uuid::Uuid::new_v4().to_string());
    conn.execute(
        "INSERT INTO messages (id, room_id, seq, author_id, body, color, sticker, client_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id.as_str(),
            new.room_id.as_str(),
            seq,
            new.author_id.as_str(),
            new.body,
            new.color.as_ref().map(name_of),
            new.sticker.as_ref().map(name_of),
            new.client_id,
            ms(now)
        ],
    )
    .map_err(backend)?;
    // The author has read their own message; a hidden direct room shows up again.
    conn.execute(
        "UPDATE memberships SET last_read_seq = ?3 WHERE room_id = ?1 AND user_id = ?2",
        params![new.room_id.as_str(), new.author_id.as_str(), seq],
    )
    .map_err(backend)?;
    conn.execute("UPDATE memberships SET hidden = 0 WHERE room_id = ?1 AND hidden = 1", [new.room_id.as_str()])
        .map_err(backend)?;
    let message = self::message(conn, &new.room_id, &id)?.ok_or(StoreError::NotFound(Missing::Message))?;
    Ok(InsertedMessage { message, created: true })
}

pub fn messages(conn: &Connection, room: &RoomId, range: HistoryRange, limit: u32) -> StoreResult<Vec<MessageRecord>> {
    let (condition, order, bound) = match range {
        HistoryRange::Latest => ("msg.seq > ?2", "DESC", 0),
        HistoryRange::Before(seq) => ("msg.seq < ?2", "DESC", to_i64(seq)),
        HistoryRange::After(seq) => ("msg.seq > ?2", "ASC", to_i64(seq)),
    };
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}
             WHERE msg.room_id = ?1 AND ({condition}) ORDER BY msg.seq {order} LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = statement.query_map(params![room.as_str(), bound, limit], |row| message_at(row, 0)).map_err(backend)?;
    let mut list: Vec<MessageRecord> = rows.collect::<Result<_, _>>().map_err(backend)?;
    if matches!(range, HistoryRange::After(_)) {
        list.reverse();
    }
    Ok(list)
}

pub fn edit_message(
    conn: &Connection,
    room: &RoomId,
    id: &MessageId,
    body: &str,
    now: DateTime<Utc>,
) -> StoreResult<MessageRecord> {
    let changed = conn
        .execute(
            "UPDATE messages SET body = ?3, edited_at = ?4 WHERE room_id = ?1 AND id = ?2",
            params![room.as_str(), id.as_str(), body, ms(now)],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::Message));
    }
    message(conn, room, id)?.ok_or(StoreError::NotFound(Missing::Message))
}

pub fn delete_message(
    conn: &Connection,
    room: &RoomId,
    id: &MessageId,
    now: DateTime<Utc>,
) -> StoreResult<MessageRecord> {
    let changed = conn
        .execute(
            "UPDATE messages SET body = '', color = NULL, sticker = NULL, deleted = 1, edited_at = ?3
             WHERE room_id = ?1 AND id = ?2",
            params![room.as_str(), id.as_str(), ms(now)],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::Message));
    }
    message(conn, room, id)?.ok_or(StoreError::NotFound(Missing::Message))
}
