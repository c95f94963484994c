//! Messages: sequence numbers, idempotent sends, history, edits and deletions.

use super::Collections;
use super::docs::*;
use crate::error::{Missing, StoreError};
use crate::model::*;
use bson::{Bson, doc};
use chrono::{DateTime, Utc};
use conclave_protocol::{MessageId, RoomId};
use futures_util::TryStreamExt;
use mongodb::ClientSession;
use mongodb::options::ReturnDocument;

pub async fn message(c: &Collections, room: &RoomId, id: &MessageId) -> MongoResult<Option<MessageRecord>> {
    Ok(c.messages.find_one(doc! { "room_id": room.as_str(), "_id": id.as_str() }).await?.map(MessageRecord::from))
}

/// Stores the message with the room's next sequence number. The `$inc` of the room's counter
/// and the insert commit together or not at all, and the counter write serialises concurrent
/// senders (see the module notes of `mongo`): no gaps, no duplicates. A failed check aborts the
/// transaction, which takes the increment back with it.
pub async fn insert_message(
    c: &Collections,
    s: &mut ClientSession,
    new: &NewMessage,
    now: DateTime<Utc>,
) -> MongoResult<InsertedMessage> {
    let (room, author) = (new.room_id.as_str(), new.author_id.as_str());
    // First the write that numbers the message: a concurrent sender (or a termination) of this
    // room conflicts with it here, before any other work, and is retried from the start.
    let numbered = c
        .rooms
        .find_one_and_update(doc! { "_id": room }, doc! { "$inc": { "last_seq": 1_i64 } })
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Room)))?;
    if numbered.terminated_at.is_some() {
        return Err(fail(StoreError::RoomTerminated));
    }
    let is_member =
        c.memberships.find_one(doc! { "room_id": room, "user_id": author }).session(&mut *s).await?.is_some();
    if !is_member {
        return Err(fail(StoreError::NotAMember));
    }
    let key = new.client_id.as_deref().map(|client_id| send_key(room, author, client_id));
    if let Some(key) = &key {
        let earlier = c.messages.find_one(doc! { "send_key": key }).session(&mut *s).await?;
        if let Some(message) = earlier {
            // A repeat: hand the number back (the room is still ours in this transaction).
            c.rooms.update_one(doc! { "_id": room }, doc! { "$inc": { "last_seq": -1_i64 } }).session(&mut *s).await?;
            return Ok(InsertedMessage { message: message.into(), created: false });
        }
    }
    let author_username = c
        .users
        .find_one(doc! { "_id": author })
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::User)))?
        .username;
    let message = MessageDoc {
        id: uuid::Uuid::new_v4().to_string(),
        room_id: room.to_owned(),
        seq: numbered.last_seq,
        author_id: author.to_owned(),
        author_username,
        body: new.body.clone(),
        color: new.color,
        sticker: new.sticker,
        client_id: new.client_id.clone(),
        send_key: key,
        created_at: date(now),
        edited_at: None,
        deleted: false,
    };
    c.messages.insert_one(&message).session(&mut *s).await?;
    // The author has read their own message; a hidden direct room shows up again.
    c.memberships
        .update_one(doc! { "room_id": room, "user_id": author }, doc! { "$set": { "last_read_seq": message.seq } })
        .session(&mut *s)
        .await?;
    c.memberships
        .update_many(doc! { "room_id": room, "hidden": true }, doc! { "$set": { "hidden": false } })
        .session(s)
        .await?;
    Ok(InsertedMessage { message: message.into(), created: true })
}

pub async fn messages(
    c: &Collections,
    room: &RoomId,
    range: HistoryRange,
    limit: u32,
) -> MongoResult<Vec<MessageRecord>> {
    let (seq, order) = match range {
        HistoryRange::Latest => (doc! { "$gt": 0_i64 }, -1),
        HistoryRange::Before(seq) => (doc! { "$lt": to_i64(seq) }, -1),
        HistoryRange::After(seq) => (doc! { "$gt": to_i64(seq) }, 1),
    };
    let docs: Vec<MessageDoc> = c
        .messages
        .find(doc! { "room_id": room.as_str(), "seq": seq })
        .sort(doc! { "seq": order })
        .limit(i64::from(limit))
        .await?
        .try_collect()
        .await?;
    let mut list: Vec<MessageRecord> = docs.into_iter().map(MessageRecord::from).collect();
    if matches!(range, HistoryRange::After(_)) {
        list.reverse();
    }
    Ok(list)
}

async fn update_message(
    c: &Collections,
    room: &RoomId,
    id: &MessageId,
    set: bson::Document,
) -> MongoResult<MessageRecord> {
    c.messages
        .find_one_and_update(doc! { "room_id": room.as_str(), "_id": id.as_str() }, doc! { "$set": set })
        .return_document(ReturnDocument::After)
        .await?
        .map(MessageRecord::from)
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Message)))
}

pub async fn edit_message(
    c: &Collections,
    room: &RoomId,
    id: &MessageId,
    body: &str,
    now: DateTime<Utc>,
) -> MongoResult<MessageRecord> {
    update_message(c, room, id, doc! { "body": body, "edited_at": date(now) }).await
}

pub async fn delete_message(
    c: &Collections,
    room: &RoomId,
    id: &MessageId,
    now: DateTime<Utc>,
) -> MongoResult<MessageRecord> {
    update_message(
        c,
        room,
        id,
        doc! { "body": "", "color": Bson::Null, "sticker": Bson::Null, "deleted": true, "edited_at": date(now) },
    )
    .await
}
