//! Reactions (SPEC R-MSG-9): one document per message, emoji and user (a unique index), with
//! the room for cleanup. The emoji is metadata, not message content, and is stored as it is.

use super::docs::*;
use super::{Collections, lock_live_room};
use crate::error::{Conflict, Missing, StoreError};
use crate::model::ReactionCount;
use bson::doc;
use chrono::{DateTime, Utc};
use conclave_domain::{ReactionDenial, may_react};
use conclave_protocol::{MessageId, RoomId, UserId};
use futures_util::TryStreamExt;
use mongodb::ClientSession;

/// In a transaction that claims the room first, so that two reactions to one room are never
/// counted against each other's limit at once.
pub async fn add_reaction(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    message: &MessageId,
    user: &UserId,
    emoji: &str,
    now: DateTime<Utc>,
) -> MongoResult<bool> {
    lock_live_room(c, s, room.as_str()).await?;
    let target = c
        .messages
        .find_one(doc! { "room_id": room.as_str(), "_id": message.as_str() })
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Message)))?;
    let existing: Vec<ReactionDoc> = c
        .reactions
        .find(doc! { "message_id": message.as_str() })
        .session(&mut *s)
        .await?
        .stream(&mut *s)
        .try_collect()
        .await?;
    // Deleted messages keep no reactions, so one of the user's own means a live message.
    if existing.iter().any(|r| r.emoji == emoji && r.user_id == user.as_str()) {
        return Ok(false);
    }
    let mut kinds: Vec<&str> = existing.iter().map(|r| r.emoji.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let new_kind = !kinds.contains(&emoji);
    may_react(target.deleted, kinds.len(), new_kind).map_err(|denial| {
        fail(match denial {
            ReactionDenial::Deleted => StoreError::MessageDeleted,
            ReactionDenial::TooManyKinds => StoreError::Conflict(Conflict::TooManyReactions),
        })
    })?;
    let reaction = ReactionDoc {
        room_id: room.0.clone(),
        message_id: message.0.clone(),
        emoji: emoji.to_owned(),
        user_id: user.0.clone(),
        created_at: date(now),
    };
    c.reactions.insert_one(reaction).session(s).await?;
    Ok(true)
}

pub async fn remove_reaction(
    c: &Collections,
    room: &RoomId,
    message: &MessageId,
    user: &UserId,
    emoji: &str,
) -> MongoResult<bool> {
    if c.messages.find_one(doc! { "room_id": room.as_str(), "_id": message.as_str() }).await?.is_none() {
        return Err(fail(StoreError::NotFound(Missing::Message)));
    }
    let filter = doc! { "message_id": message.as_str(), "emoji": emoji, "user_id": user.as_str() };
    Ok(c.reactions.delete_one(filter).await?.deleted_count > 0)
}

pub async fn reactions(
    c: &Collections,
    room: &RoomId,
    messages: &[MessageId],
    reader: Option<&UserId>,
) -> MongoResult<Vec<ReactionCount>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = messages.iter().map(MessageId::as_str).collect();
    let found: Vec<ReactionDoc> = c
        .reactions
        .find(doc! { "room_id": room.as_str(), "message_id": { "$in": ids } })
        // `_id`s are ObjectIds, which grow in the order one server inserts them.
        .sort(doc! { "message_id": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?;
    // Sorted by message, then insertion: each emoji's earliest reaction comes first.
    let mut counts: Vec<ReactionCount> = Vec::new();
    for reaction in found {
        let me = reader.is_some_and(|reader| reaction.user_id == reader.as_str());
        let same = |c: &&mut ReactionCount| c.message_id.as_str() == reaction.message_id && c.emoji == reaction.emoji;
        match counts.iter_mut().rev().find(same) {
            Some(count) => {
                count.count = count.count.saturating_add(1);
                count.me |= me;
            }
            None => counts.push(ReactionCount {
                message_id: MessageId(reaction.message_id),
                emoji: reaction.emoji,
                count: 1,
                me,
            }),
        }
    }
    Ok(counts)
}
