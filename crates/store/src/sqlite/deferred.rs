//! Buffered writes (SPEC R-OPS-3), applied in one transaction per batch.

use super::rows::*;
use super::{notifications, rooms};
use crate::error::{StoreError, StoreResult};
use crate::model::{DeferredWrite, NotificationRecord};
use rusqlite::{Connection, params};

/// Applies `writes` in order; a write whose target is gone is skipped. Returns the notifications
/// they stored.
pub fn apply(conn: &Connection, writes: Vec<DeferredWrite>) -> StoreResult<Vec<NotificationRecord>> {
    let mut stored = Vec::new();
    for write in writes {
        let outcome = match write {
            DeferredWrite::DeclineRequest { room, user, by, at } => {
                rooms::decline_join_request(conn, &room, &user, &by, at).map(|notices| stored.extend(notices))
            }
            DeferredWrite::NotificationRead { user, id } => notifications::mark_notification_read(conn, &user, &id),
            DeferredWrite::AllNotificationsRead { user } => {
                notifications::mark_all_notifications_read(conn, &user).map(drop)
            }
            DeferredWrite::RoomRead { room, user, seq } => rooms::mark_read(conn, &room, &user, seq),
            DeferredWrite::LastSeen { user, at } => conn
                .execute(
                    "UPDATE users SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?2) WHERE id = ?1",
                    params![user.as_str(), ms(at)],
                )
                .map(drop)
                .map_err(backend),
        };
        match outcome {
            Ok(()) | Err(StoreError::NotFound(_) | StoreError::NotAMember) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(stored)
}
