//! Notifications: unread first, then newest first. Each command writes one document (or one
//! user's documents with one `update_many`), so none needs a transaction.

use super::Collections;
use super::docs::*;
use crate::error::{Missing, StoreError};
use crate::model::*;
use bson::doc;
use chrono::{DateTime, Utc};
use conclave_protocol::{NotificationId, NotificationKind, RoomId, UserId};
use futures_util::TryStreamExt;
use mongodb::ClientSession;

/// The document of a new notification.
pub fn notification_doc(new: NewNotification, now: DateTime<Utc>) -> NotificationDoc {
    NotificationDoc {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: new.user_id.0,
        kind: new.kind,
        room_id: new.room_id.map(|r| r.0),
        actor_id: new.actor_id.map(|a| a.0),
        data: new.data,
        created_at: date(now),
        read: false,
    }
}

pub async fn notifications(
    c: &Collections,
    user: &UserId,
    unread_only: bool,
    after: Option<&NotificationCursor>,
    limit: u32,
) -> MongoResult<Vec<NotificationRecord>> {
    let mut filter = doc! { "user_id": user.as_str() };
    if unread_only {
        filter.insert("read", false);
    }
    // Sort key: (read ascending, created_at descending, id descending); "after" the cursor is
    // further along it.
    if let Some(cursor) = after {
        let at = date(cursor.created_at);
        filter.insert(
            "$or",
            vec![
                doc! { "read": { "$gt": cursor.read } },
                doc! { "read": cursor.read, "created_at": { "$lt": at } },
                doc! { "read": cursor.read, "created_at": at, "_id": { "$lt": cursor.id.as_str() } },
            ],
        );
    }
    let docs: Vec<NotificationDoc> = c
        .notifications
        .find(filter)
        .sort(doc! { "read": 1, "created_at": -1, "_id": -1 })
        .limit(i64::from(limit))
        .await?
        .try_collect()
        .await?;
    Ok(docs.into_iter().map(NotificationRecord::from).collect())
}

fn one_of_theirs(user: &UserId, id: &NotificationId) -> bson::Document {
    doc! { "user_id": user.as_str(), "_id": id.as_str() }
}

pub async fn mark_notification_read(c: &Collections, user: &UserId, id: &NotificationId) -> MongoResult<()> {
    let matched =
        c.notifications.update_one(one_of_theirs(user, id), doc! { "$set": { "read": true } }).await?.matched_count;
    if matched == 0 { Err(fail(StoreError::NotFound(Missing::Notification))) } else { Ok(()) }
}

pub async fn mark_all_notifications_read(c: &Collections, user: &UserId) -> MongoResult<u64> {
    let result = c
        .notifications
        .update_many(doc! { "user_id": user.as_str(), "read": false }, doc! { "$set": { "read": true } })
        .await?;
    Ok(result.modified_count)
}

pub async fn delete_notification(c: &Collections, user: &UserId, id: &NotificationId) -> MongoResult<()> {
    let deleted = c.notifications.delete_one(one_of_theirs(user, id)).await?.deleted_count;
    if deleted == 0 { Err(fail(StoreError::NotFound(Missing::Notification))) } else { Ok(()) }
}

pub async fn notification(
    c: &Collections,
    user: &UserId,
    id: &NotificationId,
) -> MongoResult<Option<NotificationRecord>> {
    Ok(c.notifications
        .find_one(doc! { "user_id": user.as_str(), "_id": id.as_str() })
        .await?
        .map(NotificationRecord::from))
}

pub async fn unread_notification_count(c: &Collections, user: &UserId) -> MongoResult<u64> {
    c.notifications.count_documents(doc! { "user_id": user.as_str(), "read": false }).await
}

/// Marks read every unread `kind` notification about `room` (for `user`, from `actor`, when
/// given), in the session's transaction: an answered invitation or join request (R-ROOM-9).
pub async fn mark_read_about(
    c: &Collections,
    s: &mut ClientSession,
    user: Option<&UserId>,
    kind: NotificationKind,
    room: &RoomId,
    actor: Option<&UserId>,
) -> MongoResult<()> {
    let mut filter = doc! { "read": false, "kind": name_of(&kind), "room_id": room.as_str() };
    if let Some(user) = user {
        filter.insert("user_id", user.as_str());
    }
    if let Some(actor) = actor {
        filter.insert("actor_id", actor.as_str());
    }
    c.notifications.update_many(filter, doc! { "$set": { "read": true } }).session(s).await?;
    Ok(())
}
