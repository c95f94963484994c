//! Notifications: unread first, then newest first.

use super::rows::*;
use crate::error::{Missing, StoreError, StoreResult};
use crate::model::*;
use chrono::{DateTime, Utc};
use conclave_protocol::{NotificationId, NotificationKind, RoomId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

/// Stores a notification. `OR ROLLBACK`: a send's notices are written inside its batch's
/// transaction (`messages::write_send`), where a failed statement must end it whole.
pub fn insert_notification(
    conn: &Connection,
    new: NewNotification,
    now: DateTime<Utc>,
) -> StoreResult<NotificationRecord> {
    let record = NotificationRecord {
        id: NotificationId(uuid::Uuid::new_v4().to_string()),
        user_id: new.user_id,
        kind: new.kind,
        room_id: new.room_id,
        actor_id: new.actor_id,
        data: new.data,
        created_at: stored_time(now),
        read: false,
    };
    conn.prepare_cached(
        "INSERT OR ROLLBACK INTO notifications (id, user_id, kind, room_id, actor_id, data, created_at, read)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
    )
    .map_err(backend)?
    .execute(params![
        record.id.as_str(),
        record.user_id.as_str(),
        name_of(&record.kind),
        record.room_id.as_ref().map(|r| r.as_str()),
        record.actor_id.as_ref().map(|a| a.as_str()),
        record.data.to_string(),
        ms(now)
    ])
    .map_err(backend)?;
    Ok(record)
}

pub fn notifications(
    conn: &Connection,
    user: &UserId,
    unread_only: bool,
    after: Option<&NotificationCursor>,
    limit: u32,
) -> StoreResult<Vec<NotificationRecord>> {
    // Sort key: (read ASC, created_at DESC, id DESC). "After" the cursor means further along it.
    let (read, time, id) = after.map_or((0, i64::MAX, "\u{10FFFF}".to_owned()), |c| {
        (i64::from(c.read), ms(c.created_at), c.id.as_str().to_owned())
    });
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications n
             WHERE n.user_id = ?1 AND (?2 = 0 OR n.read = 0)
               AND (n.read > ?3 OR (n.read = ?3 AND (n.created_at < ?4 OR (n.created_at = ?4 AND n.id < ?5))))
             ORDER BY n.read ASC, n.created_at DESC, n.id DESC LIMIT ?6"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![user.as_str(), unread_only, read, time, id, limit], |row| notification_at(row, 0))
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn mark_notification_read(conn: &Connection, user: &UserId, id: &NotificationId) -> StoreResult<()> {
    let changed = conn
        .execute("UPDATE notifications SET read = 1 WHERE user_id = ?1 AND id = ?2", [user.as_str(), id.as_str()])
        .map_err(backend)?;
    if changed == 0 { Err(StoreError::NotFound(Missing::Notification)) } else { Ok(()) }
}

pub fn mark_all_notifications_read(conn: &Connection, user: &UserId) -> StoreResult<u64> {
    conn.execute("UPDATE notifications SET read = 1 WHERE user_id = ?1 AND read = 0", [user.as_str()])
        .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
        .map_err(backend)
}

pub fn delete_notification(conn: &Connection, user: &UserId, id: &NotificationId) -> StoreResult<()> {
    let changed = conn
        .execute("DELETE FROM notifications WHERE user_id = ?1 AND id = ?2", [user.as_str(), id.as_str()])
        .map_err(backend)?;
    if changed == 0 { Err(StoreError::NotFound(Missing::Notification)) } else { Ok(()) }
}

pub fn notification(conn: &Connection, user: &UserId, id: &NotificationId) -> StoreResult<Option<NotificationRecord>> {
    conn.query_row(
        &format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications n WHERE n.user_id = ?1 AND n.id = ?2"),
        [user.as_str(), id.as_str()],
        |row| notification_at(row, 0),
    )
    .optional()
    .map_err(backend)
}

pub fn unread_notification_count(conn: &Connection, user: &UserId) -> StoreResult<u64> {
    let count: i64 = conn
        .query_row("SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND read = 0", [user.as_str()], |row| {
            row.get(0)
        })
        .map_err(backend)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub fn mark_read_about(
    conn: &Connection,
    user: Option<&UserId>,
    kind: NotificationKind,
    room: &RoomId,
    actor: Option<&UserId>,
) -> StoreResult<u64> {
    conn.execute(
        "UPDATE notifications SET read = 1
         WHERE read = 0 AND kind = ?1 AND room_id = ?2 AND (?3 IS NULL OR user_id = ?3) AND (?4 IS NULL OR actor_id = ?4)",
        params![name_of(&kind), room.as_str(), user.map(UserId::as_str), actor.map(UserId::as_str)],
    )
    .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
    .map_err(backend)
}
