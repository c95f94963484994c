//! Messages: sequence numbers, idempotent sends, history, edits and deletions.

use super::attachments;
use super::notifications;
use super::rows::*;
use crate::error::{Cause, Missing, StoreError, StoreResult};
use crate::model::*;
use crate::sealing::{SealedAttachmentMeta, SealedMessage, SealedReply, open_all, room_key, seal_body};
use chrono::{DateTime, Utc};
use conclave_crypto::{DataKey, Vault};
use conclave_protocol::{MessageId, NotificationKind, RoomId, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;

/// The data key of `room` (R-SEC-2), from memory or unwrapped from the room's row.
pub fn key_of_room(conn: &Connection, vault: &Vault, room: &str) -> StoreResult<Arc<DataKey>> {
    if let Some(key) = vault.cached(room) {
        return Ok(key);
    }
    let wrapped: Option<Option<Vec<u8>>> = conn
        .query_row("SELECT data_key FROM rooms WHERE id = ?1", [room], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    room_key(vault, room, wrapped.ok_or(StoreError::NotFound(Missing::Room))?.as_deref())
}

fn sealed_message(conn: &Connection, room: &RoomId, id: &MessageId) -> StoreResult<Option<SealedMessage>> {
    conn.prepare_cached(&format!("SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM} WHERE msg.room_id = ?1 AND msg.id = ?2"))
        .map_err(backend)?
        .query_row([room.as_str(), id.as_str()], |row| message_at(row, 0))
        .optional()
        .map_err(backend)
}

pub fn message(conn: &Connection, vault: &Vault, room: &RoomId, id: &MessageId) -> StoreResult<Option<MessageRecord>> {
    match sealed_message(conn, room, id)? {
        Some(sealed) => Ok(Some(sealed.open(&*key_of_room(conn, vault, room.as_str())?)?)),
        None => Ok(None),
    }
}

/// A send that passed every check (the room open, the author a member, the client id new, the
/// attachment theirs and unsent) and whose body is sealed: writing it refuses nothing.
pub struct CheckedSend {
    /// The message as a read will find it.
    record: MessageRecord,
    body: Vec<u8>,
    attachment: Option<SealedAttachmentMeta>,
    /// Who it notifies and how (its @mentions, the offline peer of a direct room), and the
    /// room's name for their notices.
    notified: Vec<(UserId, NotificationKind)>,
    room_name: String,
}

/// What checking a send finds.
pub enum Checked {
    /// A new message, to be written.
    New(CheckedSend),
    /// The author sent this client id before: that message, unchanged.
    Repeated(InsertedMessage),
}

/// What a send reads of its room: when it ended, its wrapped key, its last number, its name.
type RoomForSend = (Option<i64>, Option<Vec<u8>>, i64, String);

/// Checks and seals a send, reading only: a refused send has written nothing, so it needs no
/// undo when other sends share its transaction (`group_commit.rs`).
pub fn check_send(conn: &Connection, vault: &Vault, new: NewMessage, now: DateTime<Utc>) -> StoreResult<Checked> {
    // Statements are prepared once per connection (`prepare_cached`): sending is the hot path.
    // The room's last sequence number is read here and the next one written by `write_send`:
    // the batch's transaction is the only writer, and each send is checked after the ones
    // before it were written.
    let room: Option<RoomForSend> = conn
        .prepare_cached("SELECT terminated_at, data_key, last_seq, name FROM rooms WHERE id = ?1")
        .map_err(backend)?
        .query_row([new.room_id.as_str()], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
        .optional()
        .map_err(backend)?;
    let (wrapped_key, last_seq, room_name) = match room {
        None => return Err(StoreError::NotFound(Missing::Room)),
        Some((Some(_), _, _, _)) => return Err(StoreError::RoomTerminated),
        Some((None, wrapped_key, last_seq, name)) => (wrapped_key, last_seq, name),
    };
    let seq = last_seq
        .checked_add(1)
        .and_then(|seq| u64::try_from(seq).ok())
        .ok_or_else(|| StoreError::Backend(Cause::msg(format!("sequence number {last_seq} out of range"))))?;
    let key = room_key(vault, new.room_id.as_str(), wrapped_key.as_deref())?;
    // A member, and the name the stored message shows (read here, not read back).
    let author_username: String = conn
        .prepare_cached(
            "SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.room_id = ?1 AND m.user_id = ?2",
        )
        .map_err(backend)?
        .query_row([new.room_id.as_str(), new.author_id.as_str()], |row| row.get(0))
        .optional()
        .map_err(backend)?
        .ok_or(StoreError::NotAMember)?;
    if let Some(client_id) = &new.client_id {
        // `IS NOT NULL` is what lets the planner use the partial index on client ids, since
        // it does not look at bound values (QPSG, see `SqliteStore::configure`).
        let earlier = conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}
                 WHERE msg.client_id IS NOT NULL
                   AND msg.room_id = ?1 AND msg.author_id = ?2 AND msg.client_id = ?3"
            ))
            .map_err(backend)?
            .query_row([new.room_id.as_str(), new.author_id.as_str(), client_id.as_str()], |row| message_at(row, 0))
            .optional()
            .map_err(backend)?;
        if let Some(message) = earlier {
            let message = message.open(&key)?;
            return Ok(Checked::Repeated(InsertedMessage { message, created: false, notices: Vec::new() }));
        }
    }
    // Time-ordered: a new id lands at the end of the id index, not on a random page of it.
    let id = MessageId(uuid::Uuid::now_v7().to_string());
    let attachment = match &new.attachment_id {
        Some(attachment) => Some(attachments::check_unsent(conn, &new, attachment)?),
        None => None,
    };
    let reply_to = match &new.reply_to {
        Some(original) => Some(reply_target(conn, &key, &new.room_id, original)?),
        None => None,
    };
    let opened_attachment = attachment.clone().map(|a| a.open(&key, new.room_id.as_str())).transpose()?;
    let mut notified = Vec::new();
    for name in &new.mentions {
        let member: Option<String> = conn
            .prepare_cached(
                "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.username = ?1 AND m.room_id = ?2",
            )
            .map_err(backend)?
            .query_row([name.as_str(), new.room_id.as_str()], |row| row.get(0))
            .optional()
            .map_err(backend)?;
        if let Some(member) = member.filter(|id| id != new.author_id.as_str()) {
            notified.push((UserId(member), NotificationKind::Mention));
        }
    }
    if let Some(peer) = new.direct_notice.as_ref().filter(|peer| **peer != new.author_id) {
        let member = conn
            .prepare_cached("SELECT 1 FROM memberships WHERE room_id = ?1 AND user_id = ?2")
            .map_err(backend)?
            .query_row([new.room_id.as_str(), peer.as_str()], |_| Ok(()))
            .optional()
            .map_err(backend)?;
        if member.is_some() {
            notified.push((peer.clone(), NotificationKind::DirectMessage));
        }
    }
    let body = seal_body(&key, new.room_id.as_str(), id.as_str(), &new.body)?;
    let created_at =
        DateTime::from_timestamp_millis(ms(now)).ok_or(StoreError::Backend(Cause::msg("time out of range")))?;
    let record = MessageRecord {
        id,
        room_id: new.room_id,
        seq,
        author_id: new.author_id,
        author_username,
        body: new.body,
        color: new.color,
        sticker: new.sticker,
        attachment: opened_attachment,
        client_id: new.client_id,
        created_at,
        edited_at: None,
        deleted: false,
        reply_to,
    };
    Ok(Checked::New(CheckedSend { record, body, attachment, notified, room_name }))
}

/// The message of `room` that a new one answers, as it is now (R-MSG-8).
fn reply_target(conn: &Connection, key: &DataKey, room: &RoomId, original: &MessageId) -> StoreResult<ReplyRecord> {
    let found = conn
        .prepare_cached(
            "SELECT rt.seq, ru.username, rt.body, rt.deleted FROM messages rt JOIN users ru ON ru.id = rt.author_id
             WHERE rt.room_id = ?1 AND rt.id = ?2",
        )
        .map_err(backend)?
        .query_row([room.as_str(), original.as_str()], |row| {
            Ok((u64_at(row, 0)?, row.get::<_, String>(1)?, row.get::<_, Vec<u8>>(2)?, row.get::<_, bool>(3)?))
        })
        .optional()
        .map_err(backend)?;
    let (seq, author_username, body, deleted) = found.ok_or(StoreError::NotFound(Missing::ReplyTarget))?;
    let reply = ReplyRecord { message_id: original.clone(), seq, author_username, body: String::new(), deleted };
    SealedReply { record: reply, body }.open(key, room.as_str())
}

/// Writes a checked send. An error here is the database's (I/O, a full disk), not a refusal,
/// and ends the whole transaction. Each write is `OR ROLLBACK` for that reason, and because a
/// statement that could fail alone needs a statement journal to undo itself: a copy of every
/// page the transaction changed before it, allocated and freed at every send.
pub fn write_send(conn: &Connection, send: CheckedSend) -> StoreResult<InsertedMessage> {
    let CheckedSend { record, body, attachment, notified, room_name } = send;
    let room = record.room_id.as_str();
    if let Some(attachment) = &attachment {
        attachments::mark_sent(conn, &attachment.id, &record.id)?;
    }
    let seq = to_i64(record.seq);
    conn.prepare_cached("UPDATE OR ROLLBACK rooms SET last_seq = ?2 WHERE id = ?1")
        .map_err(backend)?
        .execute(params![room, seq])
        .map_err(backend)?;
    conn.prepare_cached(
        "INSERT OR ROLLBACK INTO messages (id, room_id, seq, author_id, body, color, sticker, client_id, created_at,
                                           attachment_id, attachment_name, attachment_type, attachment_size, reply_to)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )
    .map_err(backend)?
    .execute(params![
        record.id.as_str(),
        room,
        seq,
        record.author_id.as_str(),
        body,
        record.color.as_ref().map(name_of),
        record.sticker.as_ref().map(name_of),
        record.client_id,
        ms(record.created_at),
        attachment.as_ref().map(|a| a.id.as_str()),
        attachment.as_ref().map(|a| a.filename.as_slice()),
        attachment.as_ref().map(|a| a.content_type.as_str()),
        attachment.as_ref().map(|a| to_i64(a.size)),
        record.reply_to.as_ref().map(|r| r.message_id.as_str())
    ])
    .map_err(backend)?;
    // The author has read their own message; a hidden direct room shows up again.
    conn.prepare_cached("UPDATE OR ROLLBACK memberships SET last_read_seq = ?3 WHERE room_id = ?1 AND user_id = ?2")
        .map_err(backend)?
        .execute(params![room, record.author_id.as_str(), seq])
        .map_err(backend)?;
    conn.prepare_cached("UPDATE OR ROLLBACK memberships SET hidden = 0 WHERE room_id = ?1 AND hidden = 1")
        .map_err(backend)?
        .execute([room])
        .map_err(backend)?;
    let notices = notified
        .into_iter()
        .map(|(user, kind)| {
            let notice = NewNotification::about_message(kind, &record, &room_name, user);
            notifications::insert_notification(conn, notice, record.created_at)
        })
        .collect::<StoreResult<_>>()?;
    Ok(InsertedMessage { message: record, created: true, notices })
}

pub fn messages(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    range: HistoryRange,
    limit: u32,
) -> StoreResult<Vec<MessageRecord>> {
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
    let mut list: Vec<SealedMessage> = rows.collect::<Result<_, _>>().map_err(backend)?;
    if list.is_empty() {
        return Ok(Vec::new());
    }
    if matches!(range, HistoryRange::After(_)) {
        list.reverse();
    }
    open_all(&*key_of_room(conn, vault, room.as_str())?, list)
}

/// See `MessageStore::scan_messages`. The rooms go in as one JSON array, so the statement is
/// the same whatever their number; each room's key opens its messages.
pub fn scan_messages(
    conn: &Connection,
    vault: &Vault,
    rooms: &[RoomId],
    after: Option<&ScanPosition>,
    limit: u32,
) -> StoreResult<Vec<MessageRecord>> {
    if rooms.is_empty() {
        return Ok(Vec::new());
    }
    let rooms_json = serde_json::to_string(&rooms.iter().map(RoomId::as_str).collect::<Vec<_>>())
        .map_err(|e| StoreError::Backend(Cause::new(e)))?;
    // Without a position, one past the newest possible: every message is before it.
    let (at, room, seq) = match after {
        Some(p) => (ms(p.created_at), p.room_id.as_str().to_owned(), to_i64(p.seq)),
        None => (i64::MAX, String::new(), 0),
    };
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}
             WHERE msg.room_id IN (SELECT value FROM json_each(?1)) AND msg.deleted = 0
               AND (msg.created_at < ?2 OR (msg.created_at = ?2 AND (msg.room_id < ?3
                    OR (msg.room_id = ?3 AND msg.seq < ?4))))
             ORDER BY msg.created_at DESC, msg.room_id DESC, msg.seq DESC LIMIT ?5"
        ))
        .map_err(backend)?;
    let rows =
        statement.query_map(params![rooms_json, at, room, seq, limit], |row| message_at(row, 0)).map_err(backend)?;
    let sealed: Vec<SealedMessage> = rows.collect::<Result<_, _>>().map_err(backend)?;
    sealed
        .into_iter()
        .map(|message| {
            let key = key_of_room(conn, vault, message.record.room_id.as_str())?;
            message.open(&key)
        })
        .collect()
}

pub fn edit_message(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    id: &MessageId,
    body: &str,
    now: DateTime<Utc>,
) -> StoreResult<MessageRecord> {
    let key = key_of_room(conn, vault, room.as_str())?;
    let changed = conn
        .execute(
            "UPDATE messages SET body = ?3, edited_at = ?4 WHERE room_id = ?1 AND id = ?2",
            params![room.as_str(), id.as_str(), seal_body(&key, room.as_str(), id.as_str(), body)?, ms(now)],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::Message));
    }
    message(conn, vault, room, id)?.ok_or(StoreError::NotFound(Missing::Message))
}

pub fn delete_message(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    id: &MessageId,
    now: DateTime<Utc>,
) -> StoreResult<MessageRecord> {
    let changed = conn
        .execute(
            "UPDATE messages SET body = X'', color = NULL, sticker = NULL, deleted = 1, edited_at = ?3,
                    attachment_id = NULL, attachment_name = NULL, attachment_type = NULL, attachment_size = NULL
             WHERE room_id = ?1 AND id = ?2",
            params![room.as_str(), id.as_str(), ms(now)],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::Message));
    }
    conn.execute("DELETE FROM attachments WHERE message_id = ?1", [id.as_str()]).map_err(backend)?;
    super::reactions::forget_reactions(conn, id)?;
    message(conn, vault, room, id)?.ok_or(StoreError::NotFound(Missing::Message))
}
