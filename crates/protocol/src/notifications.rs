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
