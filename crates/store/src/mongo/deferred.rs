//! Buffered writes (SPEC R-OPS-3). Each is a single-document (or single-user) update that is
//! idempotent, so a batch needs no transaction: applied again after a failure, it changes
//! nothing twice.

use super::docs::*;
use super::{Collections, notifications, rooms};
use crate::error::StoreError;
use crate::model::DeferredWrite;
use bson::doc;

/// Applies `writes` in order; a write whose target is gone is skipped.
pub async fn apply(c: &Collections, writes: Vec<DeferredWrite>) -> MongoResult<()> {
    for write in writes {
        let outcome = match write {
            DeferredWrite::DeclineRequest { room, user } => rooms::delete_join_request(c, &room, &user).await,
            DeferredWrite::NotificationRead { user, id } => notifications::mark_notification_read(c, &user, &id).await,
            DeferredWrite::AllNotificationsRead { user } => {
                notifications::mark_all_notifications_read(c, &user).await.map(drop)
            }
            DeferredWrite::RoomRead { room, user, seq } => rooms::mark_read(c, &room, &user, seq).await,
            DeferredWrite::LastSeen { user, at } => c
                .users
                .update_one(doc! { "_id": user.as_str() }, doc! { "$max": { "last_seen_at": date(at) } })
                .await
                .map(drop),
        };
        match outcome {
            Err(error)
                if matches!(
                    error.get_custom::<StoreError>(),
                    Some(StoreError::NotFound(_) | StoreError::NotAMember)
                ) => {}
            other => other?,
        }
    }
    Ok(())
}
