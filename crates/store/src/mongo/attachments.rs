//! Attachments (SPEC R-MSG-6): uploads sealed under their room's key, sent with one message.

use super::Collections;
use super::docs::*;
use super::messages::key_of_room;
use crate::error::{Conflict, Missing, StoreError};
use crate::model::*;
use crate::sealing::{SealedAttachmentMeta, open_attachment_content, seal_attachment};
use bson::doc;
use chrono::{DateTime, Utc};
use conclave_protocol::{AttachmentId, MessageId, RoomId, UserId};
use mongodb::ClientSession;

pub async fn insert_attachment(
    c: &Collections,
    new: NewAttachment,
    now: DateTime<Utc>,
) -> MongoResult<AttachmentRecord> {
    let room = c
        .rooms
        .find_one(doc! { "_id": new.room_id.as_str() })
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Room)))?;
    if room.terminated_at.is_some() {
        return Err(fail(StoreError::RoomTerminated));
    }
    let id = AttachmentId(uuid::Uuid::new_v4().to_string());
    let key = key_of_room(c, new.room_id.as_str()).await?;
    let (name, content) =
        seal_attachment(&key, new.room_id.as_str(), id.as_str(), &new.filename, &new.content).map_err(fail)?;
    let size = u64::try_from(new.content.len()).unwrap_or(u64::MAX);
    let doc = AttachmentDoc {
        id: id.0.clone(),
        room_id: new.room_id.0.clone(),
        uploader_id: new.uploader_id.0.clone(),
        message_id: None,
        filename: binary(name),
        content_type: new.content_type.clone(),
        size: to_i64(size),
        created_at: date(now),
        content: binary(content),
    };
    c.attachments.insert_one(&doc).await?;
    Ok(AttachmentRecord {
        meta: AttachmentMeta { id, filename: new.filename, content_type: new.content_type, size },
        room_id: new.room_id,
        uploader_id: new.uploader_id,
        message_id: None,
        created_at: stored_time(now),
    })
}

/// Sends `attachment` with message `message` of `new`'s author, in the send's transaction: it
/// must be theirs, in this room, and unsent. Returns what the message keeps of it.
pub async fn claim(
    c: &Collections,
    s: &mut ClientSession,
    new: &NewMessage,
    attachment: &str,
    message: &str,
) -> MongoResult<AttachmentMetaDoc> {
    let found = c.attachments.find_one(doc! { "_id": attachment }).session(&mut *s).await?;
    let Some(found) = found.filter(|a| a.room_id == new.room_id.as_str() && a.uploader_id == new.author_id.as_str())
    else {
        return Err(fail(StoreError::NotFound(Missing::Attachment)));
    };
    if found.message_id.is_some() {
        return Err(fail(StoreError::Conflict(Conflict::AttachmentUsed)));
    }
    c.attachments
        .update_one(doc! { "_id": attachment, "message_id": null }, doc! { "$set": { "message_id": message } })
        .session(s)
        .await?;
    Ok(AttachmentMetaDoc { id: found.id, filename: found.filename, content_type: found.content_type, size: found.size })
}

pub async fn attachment(
    c: &Collections,
    room: &RoomId,
    id: &AttachmentId,
) -> MongoResult<Option<(AttachmentRecord, Vec<u8>)>> {
    let Some(found) = c.attachments.find_one(doc! { "room_id": room.as_str(), "_id": id.as_str() }).await? else {
        return Ok(None);
    };
    let key = key_of_room(c, room.as_str()).await?;
    let sealed = SealedAttachmentMeta {
        id: found.id.clone(),
        filename: found.filename.bytes,
        content_type: found.content_type,
        size: unsigned(found.size),
    };
    let meta = sealed.open(&key, room.as_str()).map_err(fail)?;
    let content = open_attachment_content(&key, room.as_str(), id.as_str(), &found.content.bytes).map_err(fail)?;
    Ok(Some((
        AttachmentRecord {
            meta,
            room_id: room.clone(),
            uploader_id: UserId(found.uploader_id),
            message_id: found.message_id.map(MessageId),
            created_at: found.created_at.to_chrono(),
        },
        content,
    )))
}
