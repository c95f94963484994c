//! Messages: sequence numbers, idempotent sends, history, edits and deletions.

use super::docs::*;
use super::{Collections, attachments, notifications};
use crate::error::{Cause, Missing, StoreError};
use crate::model::*;
use crate::sealing::{SealedMessage, SealedReply, new_room_key, open_all, room_key, seal_body};
use bson::{Bson, doc};
use chrono::{DateTime, Utc};
use conclave_crypto::DataKey;
use conclave_protocol::{MessageId, NotificationKind, RoomId, UserId};
use futures_util::TryStreamExt;
use mongodb::ClientSession;
use mongodb::options::ReturnDocument;
use std::collections::HashMap;
use std::sync::Arc;

/// The data key of `room` (R-SEC-2), from memory or unwrapped from the room's document.
pub async fn key_of_room(c: &Collections, room: &str) -> MongoResult<Arc<DataKey>> {
    if let Some(key) = c.vault.cached(room) {
        return Ok(key);
    }
    let doc = c.rooms.find_one(doc! { "_id": room }).await?.ok_or_else(|| fail(StoreError::NotFound(Missing::Room)))?;
    room_key(&c.vault, room, doc.wrapped_key()).map_err(fail)
}

/// The `counters` document that says a database's old data is sealed: later starts skip the
/// scan of every message.
const SEALED_MARKER: &str = "sealed_at_rest";

/// Encryption at rest for a database written before it (R-SEC-2): gives every room a data key
/// and seals every body still stored as text, once per database. Idempotent, and safe when
/// several servers start at once: each update applies only to what is still unsealed, and a key
/// that lost the race is forgotten.
pub async fn seal_existing(c: &Collections) -> MongoResult<()> {
    if c.counters.find_one(doc! { "_id": SEALED_MARKER }).await?.is_some() {
        return Ok(());
    }
    let keyless: Vec<RoomDoc> = c.rooms.find(doc! { "data_key": { "$exists": false } }).await?.try_collect().await?;
    for room in keyless {
        let (_, wrapped) = new_room_key(&c.vault, &room.id).map_err(fail)?;
        let set = c
            .rooms
            .update_one(
                doc! { "_id": &room.id, "data_key": { "$exists": false } },
                doc! { "$set": { "data_key": binary(wrapped) } },
            )
            .await?;
        if set.matched_count == 0 {
            c.vault.forget(&room.id);
        }
    }
    let raw = c.messages.clone_with_type::<bson::Document>();
    let mut plain = raw
        .find(doc! { "body": { "$type": "string" } })
        .projection(doc! { "room_id": 1, "body": 1, "deleted": 1 })
        .await?;
    while let Some(message) = plain.try_next().await? {
        let field = |name: &str| message.get_str(name).map_err(|e| fail(StoreError::Corrupt(Cause::new(e))));
        let (id, room, text) = (field("_id")?, field("room_id")?, field("body")?);
        let sealed = if message.get_bool("deleted").unwrap_or(false) {
            Vec::new()
        } else {
            seal_body(&*key_of_room(c, room).await?, room, id, text).map_err(fail)?
        };
        raw.update_one(doc! { "_id": id, "body": { "$type": "string" } }, doc! { "$set": { "body": binary(sealed) } })
            .await?;
    }
    c.counters
        .update_one(doc! { "_id": SEALED_MARKER }, doc! { "$setOnInsert": { "value": 1_i64 } })
        .upsert(true)
        .await?;
    Ok(())
}

/// Opens one message with its room's key.
async fn opened(c: &Collections, doc: MessageDoc) -> MongoResult<MessageRecord> {
    let key = key_of_room(c, &doc.room_id).await?;
    let room = RoomId(doc.room_id.clone());
    let mut list = with_replies(c, None, &room, vec![doc]).await?;
    list.pop().ok_or_else(|| fail(StoreError::NotFound(Missing::Message)))?.open(&key).map_err(fail)
}

/// Messages of `room` with the messages they answer (R-MSG-8), read in one query.
async fn with_replies(
    c: &Collections,
    s: Option<&mut ClientSession>,
    room: &RoomId,
    docs: Vec<MessageDoc>,
) -> MongoResult<Vec<SealedMessage>> {
    let wanted: Vec<&str> = docs.iter().filter_map(|d| d.reply_to.as_deref()).collect();
    let mut originals: HashMap<String, MessageDoc> = HashMap::new();
    if !wanted.is_empty() {
        let find = c.messages.find(doc! { "room_id": room.as_str(), "_id": { "$in": wanted } });
        let found: Vec<MessageDoc> = match s {
            Some(s) => find.session(&mut *s).await?.stream(s).try_collect().await?,
            None => find.await?.try_collect().await?,
        };
        originals = found.into_iter().map(|d| (d.id.clone(), d)).collect();
    }
    Ok(docs
        .into_iter()
        .map(|doc| {
            let reply = doc.reply_to.as_ref().and_then(|id| originals.get(id)).cloned().map(SealedReply::from);
            SealedMessage { reply_to: reply, ..SealedMessage::from(doc) }
        })
        .collect())
}

pub async fn message(c: &Collections, room: &RoomId, id: &MessageId) -> MongoResult<Option<MessageRecord>> {
    match c.messages.find_one(doc! { "room_id": room.as_str(), "_id": id.as_str() }).await? {
        Some(doc) => Ok(Some(opened(c, doc).await?)),
        None => Ok(None),
    }
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
    let data_key = room_key(&c.vault, room, numbered.wrapped_key()).map_err(fail)?;
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
            let mut sealed = with_replies(c, Some(&mut *s), &new.room_id, vec![message]).await?;
            let message = sealed.pop().ok_or_else(|| fail(StoreError::NotFound(Missing::Message)))?;
            let message = message.open(&data_key).map_err(fail)?;
            return Ok(InsertedMessage { message, created: false, notices: Vec::new() });
        }
    }
    let author_username = c
        .users
        .find_one(doc! { "_id": author })
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::User)))?
        .username;
    let reply_to = match &new.reply_to {
        Some(original) => Some(
            c.messages
                .find_one(doc! { "room_id": room, "_id": original.as_str() })
                .session(&mut *s)
                .await?
                .ok_or_else(|| fail(StoreError::NotFound(Missing::ReplyTarget)))?,
        ),
        None => None,
    };
    let id = uuid::Uuid::new_v4().to_string();
    let body = seal_body(&data_key, room, &id, &new.body).map_err(fail)?;
    let attachment = match &new.attachment_id {
        Some(attachment) => Some(attachments::claim(c, s, new, attachment.as_str(), &id).await?),
        None => None,
    };
    let message = MessageDoc {
        id,
        room_id: room.to_owned(),
        seq: numbered.last_seq,
        author_id: author.to_owned(),
        author_username,
        body: binary(body),
        attachment,
        color: new.color,
        sticker: new.sticker,
        client_id: new.client_id.clone(),
        send_key: key,
        created_at: date(now),
        edited_at: None,
        deleted: false,
        reply_to: reply_to.as_ref().map(|original| original.id.clone()),
    };
    c.messages.insert_one(&message).session(&mut *s).await?;
    // The author has read their own message; a hidden direct room shows up again.
    c.memberships
        .update_one(doc! { "room_id": room, "user_id": author }, doc! { "$set": { "last_read_seq": message.seq } })
        .session(&mut *s)
        .await?;
    c.memberships
        .update_many(doc! { "room_id": room, "hidden": true }, doc! { "$set": { "hidden": false } })
        .session(&mut *s)
        .await?;
    let sealed = SealedMessage { reply_to: reply_to.map(SealedReply::from), ..SealedMessage::from(message) };
    let message = sealed.open(&data_key).map_err(fail)?;
    // Its notices, in the same transaction: the members it @mentions (R-MSG-10) and a direct
    // room's offline peer (R-NOTE-1), never its author.
    let mut notified = Vec::new();
    for name in &new.mentions {
        if let Some(user) = c.users.find_one(doc! { "username": name }).session(&mut *s).await? {
            notified.push((user.id, NotificationKind::Mention));
        }
    }
    if let Some(peer) = &new.direct_notice {
        notified.push((peer.0.clone(), NotificationKind::DirectMessage));
    }
    let mut notices = Vec::new();
    for (user, kind) in notified {
        let member = c.memberships.find_one(doc! { "room_id": room, "user_id": &user }).session(&mut *s).await?;
        if user == author || member.is_none() {
            continue;
        }
        let notice = NewNotification::about_message(kind, &message, &numbered.name, UserId(user));
        let stored = notifications::notification_doc(notice, now);
        c.notifications.insert_one(&stored).session(&mut *s).await?;
        notices.push(stored.into());
    }
    Ok(InsertedMessage { message, created: true, notices })
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
    if docs.is_empty() {
        return Ok(Vec::new());
    }
    let mut list = with_replies(c, None, room, docs).await?;
    if matches!(range, HistoryRange::After(_)) {
        list.reverse();
    }
    open_all(&*key_of_room(c, room.as_str()).await?, list).map_err(fail)
}

/// See `MessageStore::scan_messages`: one query over the rooms, sorted by the scan order; the
/// replies' originals are read per room, as history reads them.
pub async fn scan_messages(
    c: &Collections,
    rooms: &[RoomId],
    after: Option<&ScanPosition>,
    limit: u32,
) -> MongoResult<Vec<MessageRecord>> {
    if rooms.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rooms.iter().map(RoomId::as_str).collect();
    let mut filter = doc! { "room_id": { "$in": ids }, "deleted": false };
    if let Some(p) = after {
        let (at, room, seq) = (date(p.created_at), p.room_id.as_str(), to_i64(p.seq));
        filter.insert(
            "$or",
            vec![
                doc! { "created_at": { "$lt": at } },
                doc! { "created_at": at, "room_id": { "$lt": room } },
                doc! { "created_at": at, "room_id": room, "seq": { "$lt": seq } },
            ],
        );
    }
    let docs: Vec<MessageDoc> = c
        .messages
        .find(filter)
        .sort(doc! { "created_at": -1, "room_id": -1, "seq": -1 })
        .limit(i64::from(limit))
        .await?
        .try_collect()
        .await?;
    let mut by_room: HashMap<String, Vec<(usize, MessageDoc)>> = HashMap::new();
    for (at, doc) in docs.into_iter().enumerate() {
        by_room.entry(doc.room_id.clone()).or_default().push((at, doc));
    }
    let mut opened: Vec<(usize, MessageRecord)> = Vec::new();
    for (room, docs) in by_room {
        let key = key_of_room(c, &room).await?;
        let (places, docs): (Vec<usize>, Vec<MessageDoc>) = docs.into_iter().unzip();
        let sealed = with_replies(c, None, &RoomId(room), docs).await?;
        for (place, message) in places.into_iter().zip(sealed) {
            opened.push((place, message.open(&key).map_err(fail)?));
        }
    }
    opened.sort_by_key(|(place, _)| *place);
    Ok(opened.into_iter().map(|(_, message)| message).collect())
}

async fn update_message(
    c: &Collections,
    room: &RoomId,
    id: &MessageId,
    set: bson::Document,
) -> MongoResult<MessageRecord> {
    let updated = c
        .messages
        .find_one_and_update(doc! { "room_id": room.as_str(), "_id": id.as_str() }, doc! { "$set": set })
        .return_document(ReturnDocument::After)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Message)))?;
    opened(c, updated).await
}

pub async fn edit_message(
    c: &Collections,
    room: &RoomId,
    id: &MessageId,
    body: &str,
    now: DateTime<Utc>,
) -> MongoResult<MessageRecord> {
    let key = key_of_room(c, room.as_str()).await?;
    let sealed = binary(seal_body(&key, room.as_str(), id.as_str(), body).map_err(fail)?);
    update_message(c, room, id, doc! { "body": sealed, "edited_at": date(now) }).await
}

/// Marks the message deleted and forgets its content, its attachment with it, in one
/// transaction.
pub async fn delete_message(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    id: &MessageId,
    now: DateTime<Utc>,
) -> MongoResult<MessageRecord> {
    let forgotten = doc! {
        "body": binary(Vec::new()), "color": Bson::Null, "sticker": Bson::Null, "attachment": Bson::Null,
        "deleted": true, "edited_at": date(now),
    };
    let updated = c
        .messages
        .find_one_and_update(doc! { "room_id": room.as_str(), "_id": id.as_str() }, doc! { "$set": forgotten })
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Message)))?;
    c.attachments.delete_many(doc! { "message_id": id.as_str() }).session(&mut *s).await?;
    c.reactions.delete_many(doc! { "message_id": id.as_str() }).session(&mut *s).await?;
    opened(c, updated).await
}
