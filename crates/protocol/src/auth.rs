//! Sign up, log in, refresh and log out (SPEC R-ACC-1 to R-ACC-3).

use crate::User;
use serde::{Deserialize, Serialize};

/// The browser's refresh cookie (R-ACC-3): HttpOnly, Secure, SameSite=Strict. The gateway at
/// `/ws` authenticates browsers by it too (R-WS-1).
pub const REFRESH_COOKIE: &str = "conclave_refresh";

/// `POST /api/auth/signup`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    /// 3–32 chars of `[a-z0-9_.-]` after lowercasing.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::text::Username))]
    pub username: String,
    /// 10–256 chars.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 256))]
    pub password: String,
    /// At most 64 chars.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::text::PersonName>))]
    pub first_name: Option<String>,
    /// At most 64 chars.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::text::PersonName>))]
    pub last_name: Option<String>,
}

/// `POST /api/auth/login`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// `POST /api/auth/refresh` and `POST /api/auth/logout`. Browsers send `{}` (or nothing) and
/// the refresh cookie instead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// The answer to login and refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// A JWT for `Authorization: Bearer …`, valid for `expires_in` seconds.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: u64,
    /// Single use: refreshing returns a new one and retires this one.
    pub refresh_token: String,
    pub user: User,
}
