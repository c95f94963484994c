//! The audit trail (SPEC R-OPS-1): who did what to whom, and when. Stored sealed (R-SEC-2).

use crate::{AuditId, Role, RoomId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// An account was created (`actor` is the new user).
    SignedUp,
    /// A user logged in (a new session).
    LoggedIn,
    RoomCreated,
    /// By its owner (`actor`), or by SPEC R-ROOM-5 when too few members were left (no `actor`).
    RoomTerminated,
    /// `target` joined; `actor` is who let them in (themselves, or the admin who accepted).
    MemberJoined,
    MemberLeft,
    MemberKicked,
    MemberBanned,
    MemberUnbanned,
    /// `target` got `role`: from the owner (`actor`), or by SPEC R-ROOM-5 after a departure
    /// (no `actor`).
    RoleChanged,
    /// A user deleted their account (`actor` is the user, by id: their name is gone).
    AccountDeleted,
}

/// One audit record. Usernames are given for display; ids are what identifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: AuditId,
    pub action: AuditAction,
    pub room_id: Option<RoomId>,
    /// Who did it; absent when the rules of the room did it.
    pub actor_id: Option<UserId>,
    pub actor_username: Option<String>,
    /// Whom it was done to, when anyone.
    pub target_id: Option<UserId>,
    pub target_username: Option<String>,
    /// The new role, for `role_changed`.
    pub role: Option<Role>,
    pub created_at: DateTime<Utc>,
}
