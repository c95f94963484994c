//! Persisted notifications (SPEC R-NOTE-1), delivered live to connected users. The action they report has already happened, so a
//! failure to store one is logged rather than turned into an error for the actor.

use super::AppState;
use super::events;
use super::views;
use chrono::Utc;
use conclave_protocol::{NotificationKind, ServerFrame, UserId};
use conclave_store::{NewNotification, NotificationRecord, RoomRecord, UserRecord};
use serde_json::{Value, json};

/// Who did it and where, for the notification's `data`.
pub struct Context<'a> {
    pub room: Option<&'a RoomRecord>,
    pub actor: Option<&'a UserRecord>,
}

pub async fn notify(state: &AppState, user: &UserId, kind: NotificationKind, context: Context<'_>, extra: Value) {
    let mut data = json!({});
    if let Some(room) = context.room {
        data["room_name"] = json!(room.name);
    }
    if let Some(actor) = context.actor {
        data["actor_username"] = json!(actor.username);
    }
    if let (Value::Object(target), Value::Object(more)) = (&mut data, extra) {
        target.extend(more);
    }
    let notification = NewNotification {
        user_id: user.clone(),
        kind,
        room_id: context.room.map(|r| r.id.clone()),
        actor_id: context.actor.map(|a| a.id.clone()),
        data,
    };
    match state.store.insert_notification(notification, Utc::now()).await {
        Ok(stored) => push(state, std::slice::from_ref(&stored)),
        Err(error) => {
            tracing::error!(%error, user_id = %user, ?kind, "could not store a notification")
        }
    }
}

/// Tells each stored notification's user, live when connected.
pub fn push(state: &AppState, stored: &[NotificationRecord]) {
    for notice in stored {
        let frame = ServerFrame::NotificationCreated { notification: views::notification(notice) };
        events::to_users(state.bus.as_ref(), vec![notice.user_id.clone()], &frame);
    }
}

/// Marks read the `kind` notifications about `room` that an action just handled (for `user`,
/// from `actor`, when given; R-ROOM-9). The action has happened, so a failure is logged.
pub async fn handled(
    state: &AppState,
    user: Option<&UserId>,
    kind: NotificationKind,
    room: &conclave_protocol::RoomId,
    actor: Option<&UserId>,
) {
    if let Err(error) = state.store.mark_read_about(user, kind, room, actor).await {
        tracing::warn!(%error, ?kind, room_id = %room, "could not mark handled notifications read");
    }
}
