//! Conversions between rows and records, shared by every query.

use crate::error::{Cause, Conflict, StoreError};
use crate::model::*;
use crate::sealing::{SealedAttachmentMeta, SealedMessage, SealedReply};
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{ErrorCode, Row};
use serde::de::DeserializeOwned;

/// Milliseconds since the epoch, as stored.
pub fn ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

pub fn time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    let millis: i64 = row.get(index)?;
    DateTime::from_timestamp_millis(millis).ok_or(rusqlite::Error::IntegralValueOutOfRange(index, millis))
}

pub fn opt_time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let millis: Option<i64> = row.get(index)?;
    millis
        .map(|m| DateTime::from_timestamp_millis(m).ok_or(rusqlite::Error::IntegralValueOutOfRange(index, m)))
        .transpose()
}

pub fn enum_at<T: DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let name: String = row.get(index)?;
    serde_json::from_value(serde_json::Value::String(name))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

pub fn opt_enum_at<T: DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<T>> {
    let name: Option<String> = row.get(index)?;
    name.map(|n| {
        serde_json::from_value(serde_json::Value::String(n))
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
    })
    .transpose()
}

pub fn u64_at(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(index)?;
    u64::try_from(value).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(index, value))
}

pub fn id_at<T: From<String>>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    row.get::<_, String>(index).map(T::from)
}

pub fn opt_id_at<T: From<String>>(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<T>> {
    row.get::<_, Option<String>>(index).map(|v| v.map(T::from))
}

pub fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::Backend(Cause::new(error))
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ConstraintViolation)
}

/// Maps a uniqueness violation to `conflict` (a 409 for the caller), anything else to a backend error.
pub fn or_conflict(conflict: Conflict) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |error| if is_unique_violation(&error) { StoreError::Conflict(conflict) } else { backend(error) }
}

pub const USER_COLUMNS: &str =
    "u.id, u.username, u.password_hash, u.first_name, u.last_name, u.created_at, u.last_seen_at, u.avatar_at";

pub fn user_at(row: &Row<'_>, at: usize) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: id_at(row, at)?,
        username: row.get(at + 1)?,
        password_hash: row.get(at + 2)?,
        first_name: row.get(at + 3)?,
        last_name: row.get(at + 4)?,
        created_at: time_at(row, at + 5)?,
        last_seen_at: opt_time_at(row, at + 6)?,
        avatar_at: opt_time_at(row, at + 7)?,
    })
}

pub const ROOM_COLUMNS: &str = "r.id, r.kind, r.name, r.topic, r.join_policy, r.password_hash, r.owner_id, \
     (SELECT COUNT(*) FROM memberships mc WHERE mc.room_id = r.id), r.last_seq, r.created_at, r.terminated_at";

pub fn room_at(row: &Row<'_>, at: usize) -> rusqlite::Result<RoomRecord> {
    let count: i64 = row.get(at + 7)?;
    Ok(RoomRecord {
        id: id_at(row, at)?,
        kind: enum_at(row, at + 1)?,
        name: row.get(at + 2)?,
        topic: row.get(at + 3)?,
        join_policy: enum_at(row, at + 4)?,
        password_hash: row.get(at + 5)?,
        owner_id: opt_id_at(row, at + 6)?,
        member_count: u32::try_from(count).unwrap_or(u32::MAX),
        last_seq: u64_at(row, at + 8)?,
        created_at: time_at(row, at + 9)?,
        terminated_at: opt_time_at(row, at + 10)?,
    })
}

pub const MEMBERSHIP_COLUMNS: &str = "m.room_id, m.user_id, m.role, m.joined_at, m.join_seq, m.last_read_seq";

pub fn membership_at(row: &Row<'_>, at: usize) -> rusqlite::Result<MembershipRecord> {
    Ok(MembershipRecord {
        room_id: id_at(row, at)?,
        user_id: id_at(row, at + 1)?,
        role: enum_at(row, at + 2)?,
        joined_at: time_at(row, at + 3)?,
        join_seq: row.get(at + 4)?,
        last_read_seq: u64_at(row, at + 5)?,
    })
}

pub const MESSAGE_COLUMNS: &str = "msg.id, msg.room_id, msg.seq, msg.author_id, au.username, msg.body, msg.color, \
     msg.sticker, msg.client_id, msg.created_at, msg.edited_at, msg.deleted, msg.attachment_id, msg.attachment_name, \
     msg.attachment_type, msg.attachment_size, rt.id, rt.seq, ru.username, rt.body, rt.deleted";

/// What [`MESSAGE_COLUMNS`] reads from: a message, its author and the message it answers.
pub const MESSAGE_FROM: &str = "FROM messages msg JOIN users au ON au.id = msg.author_id \
     LEFT JOIN messages rt ON rt.id = msg.reply_to LEFT JOIN users ru ON ru.id = rt.author_id";

/// A message row; its body stays sealed until [`SealedMessage::open`].
pub fn message_at(row: &Row<'_>, at: usize) -> rusqlite::Result<SealedMessage> {
    let record = MessageRecord {
        id: id_at(row, at)?,
        room_id: id_at(row, at + 1)?,
        seq: u64_at(row, at + 2)?,
        author_id: id_at(row, at + 3)?,
        author_username: row.get(at + 4)?,
        body: String::new(),
        attachment: None,
        color: opt_enum_at(row, at + 6)?,
        sticker: opt_enum_at(row, at + 7)?,
        client_id: row.get(at + 8)?,
        created_at: time_at(row, at + 9)?,
        edited_at: opt_time_at(row, at + 10)?,
        deleted: row.get(at + 11)?,
        reply_to: None,
    };
    let attachment_id: Option<String> = row.get(at + 12)?;
    let attachment = match attachment_id {
        Some(id) => Some(SealedAttachmentMeta {
            id,
            filename: row.get(at + 13)?,
            content_type: row.get(at + 14)?,
            size: u64_at(row, at + 15)?,
        }),
        None => None,
    };
    let reply_id: Option<String> = row.get(at + 16)?;
    let reply_to = match reply_id {
        Some(id) => Some(SealedReply {
            record: ReplyRecord {
                message_id: id.into(),
                seq: u64_at(row, at + 17)?,
                author_username: row.get(at + 18)?,
                body: String::new(),
                deleted: row.get(at + 20)?,
            },
            body: row.get(at + 19)?,
        }),
        None => None,
    };
    Ok(SealedMessage { record, body: row.get(at + 5)?, attachment, reply_to })
}

pub const NOTIFICATION_COLUMNS: &str = "n.id, n.user_id, n.kind, n.room_id, n.actor_id, n.data, n.created_at, n.read";

pub fn notification_at(row: &Row<'_>, at: usize) -> rusqlite::Result<NotificationRecord> {
    let data: String = row.get(at + 5)?;
    Ok(NotificationRecord {
        id: id_at(row, at)?,
        user_id: id_at(row, at + 1)?,
        kind: enum_at(row, at + 2)?,
        room_id: opt_id_at(row, at + 3)?,
        actor_id: opt_id_at(row, at + 4)?,
        data: serde_json::from_str(&data)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(at + 5, Type::Text, Box::new(e)))?,
        created_at: time_at(row, at + 6)?,
        read: row.get(at + 7)?,
    })
}
