//! Rooms, memberships, invites, join requests, bans and the previous-rooms log
//! (SPEC R-ROOM-1 to R-ROOM-8).

use crate::{User, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::RoomId;

/// Group rooms and one-to-one conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    Group,
    Direct,
}

/// How users get into a room (SPEC R-ROOM-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum JoinPolicy {
    /// Anyone not banned joins at once.
    Open,
    /// Joins with the room password.
    Password,
    /// A join request that an admin accepts or declines.
    Request,
    /// Private: not listed; only invited users join.
    Invite,
}

impl JoinPolicy {
    /// Whether room search lists rooms of this policy (SPEC R-ROOM-8).
    pub fn is_listed(self) -> bool {
        !matches!(self, JoinPolicy::Invite)
    }
}

/// A member's role in a group room (SPEC R-ROOM-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// Owners and admins moderate the room.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// The roles the owner can give (`owner` is never given, only inherited by R-ROOM-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssignableRole {
    Admin,
    Member,
}

impl From<AssignableRole> for Role {
    fn from(value: AssignableRole) -> Self {
        match value {
            AssignableRole::Admin => Role::Admin,
            AssignableRole::Member => Role::Member,
        }
    }
}

/// A room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Room {
    pub id: RoomId,
    pub kind: RoomKind,
    pub name: String,
    pub topic: Option<String>,
    /// Direct conversations answer `invite`: they are private.
    pub join_policy: JoinPolicy,
    /// `null` for direct conversations, which have no roles.
    pub owner_id: Option<UserId>,
    pub member_count: u32,
    pub created_at: DateTime<Utc>,
    /// Set once the room is terminated (SPEC R-ROOM-6).
    pub terminated_at: Option<DateTime<Utc>>,
}

/// `{"room": …}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomEnvelope {
    pub room: Room,
}

/// `POST /api/rooms`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateRoomRequest {
    /// 1–64 chars.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::text::RoomName))]
    pub name: String,
    /// At most 256 chars.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::text::Topic>))]
    pub topic: Option<String>,
    pub join_policy: JoinPolicy,
    /// Required for `password` rooms (4–256 chars), refused otherwise.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 4, max_length = 256))]
    pub password: Option<String>,
}

/// `PATCH /api/rooms/{room_id}`: the owner changes settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateRoomRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::text::RoomName>))]
    pub name: Option<String>,
    /// An empty string clears the topic.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::text::Topic>))]
    pub topic: Option<String>,
    #[serde(default)]
    pub join_policy: Option<JoinPolicy>,
    /// Required when switching to `password`; sets a new password on a `password` room.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 4, max_length = 256))]
    pub password: Option<String>,
}

/// `GET /api/rooms?q=&limit=&cursor=`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RoomSearchQuery {
    /// Room name prefix (case-insensitive); empty or absent lists every listed room.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::text::SearchPrefix>))]
    pub q: Option<String>,
    /// Page size: default 20, at most 100.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A user's place in a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// `{"membership": …}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipEnvelope {
    pub membership: Membership,
}

/// `POST /api/rooms/{room_id}/join`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinRoomRequest {
    /// The room password, for `password` rooms.
    #[serde(default)]
    pub password: Option<String>,
}

/// A pending request to join a `request` room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinRequest {
    pub room_id: RoomId,
    pub user: User,
    pub created_at: DateTime<Utc>,
}

/// `{"join_request": …}`, the 202 answer to joining a `request` room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinRequestEnvelope {
    pub join_request: JoinRequest,
}

/// An item of `GET /api/rooms/mine`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyRoom {
    pub room: Room,
    /// `null` in direct conversations.
    pub role: Option<Role>,
    /// Messages by others after the last one this user read.
    pub unread_count: u64,
    /// For direct conversations: the other member.
    pub peer: Option<User>,
    /// The sequence number of the last message this user read (the "new messages" line goes
    /// after it).
    #[serde(default)]
    pub last_read_seq: u64,
    /// When the latest message was sent; `null` before the first (orders a sidebar by activity).
    #[serde(default)]
    pub last_message_at: Option<DateTime<Utc>>,
}

/// An item of `GET /api/rooms/{room_id}/members`, in join order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub user: User,
    /// `null` in direct conversations.
    pub role: Option<Role>,
    pub joined_at: DateTime<Utc>,
}

/// Why a room is in a user's previous-rooms log (SPEC R-ROOM-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Kicked,
    Banned,
    Terminated,
}

/// An item of `GET /api/rooms/history`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomLogEntry {
    pub room: Room,
    pub left_at: DateTime<Utc>,
    pub reason: LeaveReason,
}

/// `POST /api/rooms/{room_id}/invites`: exactly one of `user_id` and `username`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InviteRequest {
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub username: Option<String>,
}

/// An invitation into a room. The invited user joins with `POST /api/rooms/{room_id}/join`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invite {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// `{"invite": …}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteEnvelope {
    pub invite: Invite,
}

/// `POST /api/rooms/{room_id}/bans`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BanRequest {
    pub user_id: UserId,
}

/// A ban: the user cannot join, request or be invited until unbanned (SPEC R-ROOM-4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ban {
    pub room_id: RoomId,
    pub user: User,
    pub banned_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// `{"ban": …}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BanEnvelope {
    pub ban: Ban,
}

/// `PUT /api/rooms/{room_id}/members/{user_id}/role`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleChangeRequest {
    pub role: AssignableRole,
}

/// `POST /api/rooms/{room_id}/read`: marks messages up to `seq` as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkReadRequest {
    /// A whole number; JSON's `12.0` is the same number as `12`.
    #[serde(deserialize_with = "crate::numbers::whole")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 9223372036854775807_u64))]
    pub seq: u64,
}

/// `POST /api/dms`: exactly one of `user_id` and `username`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenDmRequest {
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub username: Option<String>,
}

/// The schema of a request that names one person, by id or by username: exactly one of the
/// two, the other absent or null. OpenAPI says so with `oneOf`; a derived schema would make
/// both optional and `{}` valid.
#[cfg(feature = "openapi")]
mod one_person {
    use super::{InviteRequest, OpenDmRequest};
    use crate::UserId;
    use std::borrow::Cow;
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    use utoipa::openapi::{Ref, RefOr};
    use utoipa::{PartialSchema, ToSchema};

    fn schema(description: &str) -> RefOr<Schema> {
        let by = |given: &str, schema: RefOr<Schema>, other: &str| {
            ObjectBuilder::new()
                .property(given, schema)
                .required(given)
                .property(other, ObjectBuilder::new().schema_type(Type::Null))
        };
        OneOfBuilder::new()
            .item(by("user_id", Ref::from_schema_name("UserId").into(), "username"))
            .item(by("username", ObjectBuilder::new().schema_type(Type::String).into(), "user_id"))
            .description(Some(description))
            .into()
    }

    fn user_id(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((UserId::name().into_owned(), UserId::schema()));
    }

    impl PartialSchema for InviteRequest {
        fn schema() -> RefOr<Schema> {
            schema(
                "`POST /api/rooms/{room_id}/invites`: the user to invite, by `user_id` or by `username` (exactly one).",
            )
        }
    }

    impl ToSchema for InviteRequest {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("InviteRequest")
        }

        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            user_id(schemas);
        }
    }

    impl PartialSchema for OpenDmRequest {
        fn schema() -> RefOr<Schema> {
            schema("`POST /api/dms`: the other person, by `user_id` or by `username` (exactly one).")
        }
    }

    impl ToSchema for OpenDmRequest {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("OpenDmRequest")
        }

        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            user_id(schemas);
        }
    }
}
