//! Persisted notifications (SPEC R-NOTE-1). The action they report has already happened, so a
//! failure to store one is logged rather than turned into an error for the actor.

use crate::state::AppState;
use chrono::Utc;
use conclave_domain::Departure;
use conclave_protocol::{NotificationKind, Role, UserId};
use conclave_store::{DepartureRecord, NewNotification, RoomRecord, UserRecord};
use serde_json::{Value, json};

/// Who did it and where, for the notification's `data`.
pub struct Context<'a> {
    pub room: Option<&'a RoomRecord>,
    pub actor: Option<&'a UserRecord>,
}

pub async fn notify(
    state: &AppState,
    user: &UserId,
    kind: NotificationKind,
    context: Context<'_>,
    extra: Value,
) {
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
    if let Err(error) = state
        .store
        .insert_notification(notification, Utc::now())
        .await
    {
        tracing::error!(%error, user_id = %user, ?kind, "could not store a notification");
    }
}

/// Tells the members concerned what a departure did to the room (SPEC R-ROOM-5).
pub async fn departure(state: &AppState, room: &RoomRecord, outcome: &DepartureRecord) {
    match &outcome.departure {
        Departure::TerminateAndEvict(last) => {
            notify(
                state,
                last,
                NotificationKind::RoomTerminated,
                Context {
                    room: Some(room),
                    actor: None,
                },
                json!({}),
            )
            .await;
        }
        Departure::Continue {
            promotion: Some((user, role)),
        } => {
            let extra = json!({ "role": role, "inherited": true });
            notify(
                state,
                user,
                NotificationKind::Promoted,
                Context {
                    room: Some(room),
                    actor: None,
                },
                extra,
            )
            .await;
        }
        Departure::Terminate | Departure::Continue { promotion: None } => {}
    }
    tracing::info!(room_id = %room.id, user_id = %outcome.user_id, departure = ?outcome.departure, "member departed");
}

/// The `data` for a role change.
pub fn role_data(role: Role) -> Value {
    json!({ "role": role })
}
