//! Persisted notifications (SPEC R-NOTE-1, R-NOTE-2).

use crate::{NotificationId, RoomId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// You were invited; join with the `room_id` it carries.
    Invited,
    /// Someone asks to join a room you administer.
    JoinRequest,
    RequestAccepted,
    RequestDeclined,
    Kicked,
    Banned,
    Unbanned,
    Promoted,
    Demoted,
    RoomTerminated,
    /// A direct message arrived while you were offline.
    DirectMessage,
    /// Someone @mentioned you in a room you are in; `data` adds `message_id` and `seq`.
    Mention,
}

/// A notification. `data` carries display names: `room_name`, `actor_username`, and for
/// `promoted`/`demoted` the new `role`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub room_id: Option<RoomId>,
    pub actor_id: Option<UserId>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

impl Notification {
    /// What it says, as a sentence, from the names its `data` carries (the web client and the
    /// terminal client show the same words).
    pub fn sentence(&self) -> String {
        let field = |key: &str| self.data.get(key).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let room = match field("room_name") {
            name if name.is_empty() => "a room".to_owned(),
            name => name,
        };
        let actor = match field("actor_username") {
            name if name.is_empty() => "Someone".to_owned(),
            name => name,
        };
        match self.kind {
            NotificationKind::Invited => format!("{actor} invited you to {room}."),
            NotificationKind::JoinRequest => format!("{actor} asks to join {room}."),
            NotificationKind::RequestAccepted => format!("Your request to join {room} was accepted."),
            NotificationKind::RequestDeclined => format!("Your request to join {room} was declined."),
            NotificationKind::Kicked => format!("{actor} removed you from {room}."),
            NotificationKind::Banned => format!("{actor} banned you from {room}."),
            NotificationKind::Unbanned => format!("{actor} lifted your ban from {room}."),
            NotificationKind::Promoted if self.data.get("inherited").is_some() => {
                format!("You are now the {} of {room}.", field("role"))
            }
            NotificationKind::Promoted => format!("{actor} made you {} of {room}.", article(&field("role"))),
            NotificationKind::Demoted => format!("{actor} made you {} of {room}.", article(&field("role"))),
            NotificationKind::RoomTerminated => format!("{room} was closed."),
            NotificationKind::DirectMessage => format!("{actor} sent you a direct message."),
            NotificationKind::Mention => format!("{actor} mentioned you in {room}."),
        }
    }
}

fn article(role: &str) -> String {
    match role {
        "admin" => "an admin".into(),
        "owner" => "the owner".into(),
        "" => "a member".into(),
        other => format!("a {other}"),
    }
}

/// `GET /api/notifications?unread_only=&limit=&cursor=`: unread first, then newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct NotificationsQuery {
    pub unread_only: Option<bool>,
    /// Page size: default 50, at most 200.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The answer to `POST /api/notifications/read-all`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkedRead {
    pub marked: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(kind: NotificationKind, data: serde_json::Value) -> Notification {
        Notification {
            id: NotificationId::from("n1"),
            kind,
            room_id: None,
            actor_id: None,
            data,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            read: false,
        }
    }

    /// R-NOTE-1: each notification reads as a sentence naming who and where.
    #[test]
    fn notifications_read_as_sentences() {
        let names = serde_json::json!({"room_name": "club", "actor_username": "alice"});
        assert_eq!(notice(NotificationKind::Invited, names.clone()).sentence(), "alice invited you to club.");
        let promoted = serde_json::json!({"room_name": "club", "actor_username": "alice", "role": "admin"});
        assert_eq!(notice(NotificationKind::Promoted, promoted).sentence(), "alice made you an admin of club.");
        let inherited = serde_json::json!({"room_name": "club", "role": "owner", "inherited": true});
        assert_eq!(notice(NotificationKind::Promoted, inherited).sentence(), "You are now the owner of club.");
        assert_eq!(
            notice(NotificationKind::Kicked, serde_json::json!({})).sentence(),
            "Someone removed you from a room."
        );
    }
}
