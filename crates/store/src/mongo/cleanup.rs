//! Cleanup (SPEC R-OPS-2): what the background jobs delete.

use super::docs::*;
use super::{Collections, lock_room};
use crate::error::StoreError;
use bson::doc;
use chrono::{DateTime, Utc};
use conclave_protocol::RoomId;
use futures_util::TryStreamExt;
use mongodb::ClientSession;

/// Rooms that have ended: terminated before `terminated_before`, or live without any member.
pub async fn ended_rooms(c: &Collections, terminated_before: DateTime<Utc>) -> MongoResult<Vec<RoomId>> {
    let filter = doc! { "$or": [
        { "terminated_at": { "$lt": date(terminated_before) } },
        { "terminated_at": null, "member_count": { "$lte": 0_i64 } },
    ] };
    let rooms: Vec<RoomDoc> = c.rooms.find(filter).await?.try_collect().await?;
    Ok(rooms.into_iter().map(|r| RoomId(r.id)).collect())
}

/// Deletes `room` and everything in it, if it has still ended (checked in the transaction, which
/// claims the room first). Returns whether it did.
pub async fn delete_room(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    terminated_before: DateTime<Utc>,
) -> MongoResult<bool> {
    let locked = match lock_room(c, s, room.as_str()).await {
        Ok(locked) => locked,
        // Deleted meanwhile (another server's job): nothing to do.
        Err(error) if error.get_custom::<StoreError>().is_some() => return Ok(false),
        Err(error) => return Err(error),
    };
    let ended = match locked.terminated_at {
        Some(terminated_at) => terminated_at < date(terminated_before),
        None => locked.member_count <= 0,
    };
    if !ended {
        return Ok(false);
    }
    let this = doc! { "room_id": room.as_str() };
    c.messages.delete_many(this.clone()).session(&mut *s).await?;
    c.memberships.delete_many(this.clone()).session(&mut *s).await?;
    c.invites.delete_many(this.clone()).session(&mut *s).await?;
    c.join_requests.delete_many(this.clone()).session(&mut *s).await?;
    c.bans.delete_many(this.clone()).session(&mut *s).await?;
    c.room_log.delete_many(this.clone()).session(&mut *s).await?;
    c.audit.delete_many(this.clone()).session(&mut *s).await?;
    c.attachments.delete_many(this.clone()).session(&mut *s).await?;
    c.reactions.delete_many(this).session(&mut *s).await?;
    c.rooms.delete_one(doc! { "_id": room.as_str() }).session(s).await?;
    Ok(true)
}

pub async fn delete_room_log_before(c: &Collections, before: DateTime<Utc>) -> MongoResult<u64> {
    Ok(c.room_log.delete_many(doc! { "left_at": { "$lt": date(before) } }).await?.deleted_count)
}

pub async fn delete_read_notifications_before(c: &Collections, before: DateTime<Utc>) -> MongoResult<u64> {
    Ok(c.notifications.delete_many(doc! { "read": true, "created_at": { "$lt": date(before) } }).await?.deleted_count)
}

pub async fn delete_expired_refresh_tokens(c: &Collections, now: DateTime<Utc>) -> MongoResult<u64> {
    Ok(c.refresh_tokens.delete_many(doc! { "expires_at": { "$lt": date(now) } }).await?.deleted_count)
}

pub async fn delete_unsent_attachments_before(c: &Collections, before: DateTime<Utc>) -> MongoResult<u64> {
    Ok(c.attachments
        .delete_many(doc! { "message_id": null, "created_at": { "$lt": date(before) } })
        .await?
        .deleted_count)
}
