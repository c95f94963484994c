//! Users and their public profiles (SPEC R-ACC-1, R-ACC-5).

use crate::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user's public profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    /// Lowercase, 3–32 chars of `[a-z0-9_.-]`.
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Whether the user has a live WebSocket connection.
    pub online: bool,
    pub created_at: DateTime<Utc>,
    /// When the user was last active: their last connection closed, or they last typed.
    /// `null` until then.
    #[serde(default)]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Where the user's avatar is (R-ACC-8): `/api/users/{username}/avatar?v=…`, a new address
    /// for each new picture, so it may be cached for good. `null` when they have none.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// `GET /api/users/{username}/avatar?v=`: `v` names the picture (from `avatar_url`); the answer
/// is the same without it, but only with it may a cache keep the answer for good.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AvatarQuery {
    pub v: Option<String>,
}

/// The biggest avatar upload accepted (R-ACC-8), before it is re-encoded.
pub const MAX_AVATAR_BYTES: usize = 2 * 1024 * 1024;

/// The side, in pixels, of the square an avatar is stored as.
pub const AVATAR_SIDE: u32 = 256;

/// The name every deleted account shows under (R-ACC-7), followed by a short id that tells
/// deleted accounts apart. It has spaces, so no one can sign up with it.
pub const DELETED_USER_PREFIX: &str = "deleted user ";

/// `{"user": …}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserEnvelope {
    pub user: User,
}

/// `GET /api/users?q=&limit=&cursor=`: users whose username starts with `q`, by username.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UserSearchQuery {
    /// Username prefix (case-insensitive); empty or absent lists everyone.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::text::SearchPrefix>))]
    pub q: Option<String>,
    /// Page size: default 20, at most 100.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `PATCH /api/users/me` (R-ACC-7): a field left out stays as it is; an empty one is removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProfileRequest {
    /// At most 64 chars; `""` removes it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::text::PersonName>))]
    pub first_name: Option<String>,
    /// At most 64 chars; `""` removes it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::text::PersonName>))]
    pub last_name: Option<String>,
}

/// `POST /api/users/me/password` (R-ACC-7): answered with a new session for this client; every
/// other session of the account is logged out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// 10–256 chars.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 256))]
    pub new_password: String,
}

/// `DELETE /api/users/me` (R-ACC-7): the account's password, said again. The user leaves every
/// room (R-ROOM-5 applies to each), every session ends, and their messages stay, shown as from
/// a deleted user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteAccountRequest {
    pub password: String,
}
