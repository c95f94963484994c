//! Attachments (SPEC R-MSG-6): uploads sealed under their room's key, sent with one message.

use super::messages::key_of_room;
use super::rows::*;
use crate::error::{Conflict, Missing, StoreError, StoreResult};
use crate::model::*;
use crate::sealing::{SealedAttachmentMeta, open_attachment_content, seal_attachment};
use chrono::{DateTime, Utc};
use conclave_crypto::Vault;
use conclave_protocol::{AttachmentId, MessageId, RoomId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

pub fn insert_attachment(
    conn: &Connection,
    vault: &Vault,
    new: NewAttachment,
    now: DateTime<Utc>,
) -> StoreResult<AttachmentRecord> {
    let terminated: Option<Option<i64>> = conn
        .query_row("SELECT terminated_at FROM rooms WHERE id = ?1", [new.room_id.as_str()], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    match terminated {
        None => return Err(StoreError::NotFound(Missing::Room)),
        Some(Some(_)) => return Err(StoreError::RoomTerminated),
        Some(None) => {}
    }
    let id = AttachmentId(uuid::Uuid::new_v4().to_string());
    let key = key_of_room(conn, vault, new.room_id.as_str())?;
    let (name, content) = seal_attachment(&key, new.room_id.as_str(), id.as_str(), &new.filename, &new.content)?;
    let size = u64::try_from(new.content.len()).unwrap_or(u64::MAX);
    conn.execute(
        "INSERT INTO attachments (id, room_id, uploader_id, filename, content_type, size, created_at, content)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id.as_str(),
            new.room_id.as_str(),
            new.uploader_id.as_str(),
            name,
            new.content_type,
            to_i64(size),
            ms(now),
            content
        ],
    )
    .map_err(backend)?;
    Ok(AttachmentRecord {
        meta: AttachmentMeta { id, filename: new.filename, content_type: new.content_type, size },
        room_id: new.room_id,
        uploader_id: new.uploader_id,
        message_id: None,
        created_at: stored_time(now),
    })
}

/// An attachment row: its record (the name still sealed) and, when asked for, its content.
struct StoredAttachment {
    room_id: RoomId,
    uploader_id: UserId,
    message_id: Option<MessageId>,
    created_at: DateTime<Utc>,
    meta: SealedAttachmentMeta,
    content: Vec<u8>,
}

/// The attachment `id` (in `room`, when given).
fn stored(conn: &Connection, id: &AttachmentId, with_content: bool) -> StoreResult<Option<StoredAttachment>> {
    let content = if with_content { "content" } else { "X''" };
    conn.query_row(
        &format!(
            "SELECT room_id, uploader_id, message_id, created_at, filename, content_type, size, {content}
             FROM attachments WHERE id = ?1"
        ),
        [id.as_str()],
        |row| {
            Ok(StoredAttachment {
                room_id: id_at(row, 0)?,
                uploader_id: id_at(row, 1)?,
                message_id: opt_id_at(row, 2)?,
                created_at: time_at(row, 3)?,
                meta: SealedAttachmentMeta {
                    id: id.0.clone(),
                    filename: row.get(4)?,
                    content_type: row.get(5)?,
                    size: u64_at(row, 6)?,
                },
                content: row.get(7)?,
            })
        },
    )
    .optional()
    .map_err(backend)
}

/// Checks that `attachment` may go with a message of `new`'s author: it must be theirs, in
/// this room, and unsent. Returns what the message keeps of it.
pub fn check_unsent(
    conn: &Connection,
    new: &NewMessage,
    attachment: &AttachmentId,
) -> StoreResult<SealedAttachmentMeta> {
    let found = stored(conn, attachment, false)?
        .filter(|a| a.room_id == new.room_id && a.uploader_id == new.author_id)
        .ok_or(StoreError::NotFound(Missing::Attachment))?;
    if found.message_id.is_some() {
        return Err(StoreError::Conflict(Conflict::AttachmentUsed));
    }
    Ok(found.meta)
}

/// Records that `attachment` (checked by [`check_unsent`]) went with `message`.
pub fn mark_sent(conn: &Connection, attachment: &str, message: &MessageId) -> StoreResult<()> {
    conn.prepare_cached("UPDATE OR ROLLBACK attachments SET message_id = ?2 WHERE id = ?1")
        .map_err(backend)?
        .execute([attachment, message.as_str()])
        .map(drop)
        .map_err(backend)
}

pub fn attachment(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    id: &AttachmentId,
) -> StoreResult<Option<(AttachmentRecord, Vec<u8>)>> {
    let Some(found) = stored(conn, id, true)?.filter(|a| &a.room_id == room) else {
        return Ok(None);
    };
    let key = key_of_room(conn, vault, room.as_str())?;
    let meta = found.meta.open(&key, room.as_str())?;
    let content = open_attachment_content(&key, room.as_str(), id.as_str(), &found.content)?;
    let record = AttachmentRecord {
        meta,
        room_id: found.room_id,
        uploader_id: found.uploader_id,
        message_id: found.message_id,
        created_at: found.created_at,
    };
    Ok(Some((record, content)))
}
