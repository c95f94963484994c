//! Buffered writes (SPEC R-OPS-3). A batch needs no transaction of its own: each write is
//! idempotent (applied again after a failure, it changes nothing twice), and the one that
//! changes several documents (a declined join request) runs in a transaction of its own.

use super::docs::*;
use super::{MongoStore, notifications, rooms};
use crate::error::{StoreError, StoreResult};
use crate::model::{DeferredWrite, NotificationRecord};
use bson::doc;

/// Applies `writes` in order; a write whose target is gone is skipped. Returns the
/// notifications they stored.
pub async fn apply(store: &MongoStore, writes: Vec<DeferredWrite>) -> StoreResult<Vec<NotificationRecord>> {
    let c = &store.c;
    let mut stored = Vec::new();
    for write in writes {
        let outcome = match write {
            DeferredWrite::DeclineRequest { room, user, by, at } => {
                store.decline_join_request(&room, &user, &by, at).await.map(|notices| stored.extend(notices))
            }
            DeferredWrite::NotificationRead { user, id } => {
                store.run(notifications::mark_notification_read(c, &user, &id)).await
            }
            DeferredWrite::AllNotificationsRead { user } => {
                store.run(notifications::mark_all_notifications_read(c, &user)).await.map(drop)
            }
            DeferredWrite::RoomRead { room, user, seq } => store.run(rooms::mark_read(c, &room, &user, seq)).await,
            DeferredWrite::LastSeen { user, at } => {
                let (filter, update) = (doc! { "_id": user.as_str() }, doc! { "$max": { "last_seen_at": date(at) } });
                store.run(async { c.users.update_one(filter, update).await.map(drop) }).await
            }
        };
        match outcome {
            Ok(()) | Err(StoreError::NotFound(_) | StoreError::NotAMember) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(stored)
}
