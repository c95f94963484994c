//! Who is calling: access tokens (SPEC R-ACC-4), for REST and the gateway alike, and refresh
//! tokens where a transport carries them (R-ACC-3, R-WS-1).

use super::AppState;
use super::error::{ApiError, ApiResult};
use chrono::Utc;
use conclave_crypto::{RefreshToken, TokenError};
use conclave_protocol::{ErrorCode, UserId};
use conclave_store::UserRecord;

/// The user behind a valid access token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
}

/// Who an access token speaks for, or why it is refused.
pub fn verify_access_token(state: &AppState, token: &str) -> ApiResult<AuthUser> {
    match state.tokens.verify(token) {
        Ok(claims) => Ok(AuthUser { id: UserId(claims.sub) }),
        Err(TokenError::Expired) => {
            Err(ApiError::new(ErrorCode::TokenExpired, "the access token has expired; refresh it"))
        }
        Err(_) => Err(ApiError::new(ErrorCode::TokenInvalid, "the access token is invalid")),
    }
}

/// The caller's own record (for what names them), refused when the account is gone.
pub async fn actor(state: &AppState, auth: &AuthUser) -> ApiResult<UserRecord> {
    state
        .store
        .user(&auth.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::TokenInvalid, "the account behind this token no longer exists"))
}

/// The user of a live refresh token's secret, without rotating it: a browser's gateway
/// connection authenticates by its refresh cookie (R-WS-1). `None` when it is unknown, expired,
/// revoked, or the store cannot say.
pub async fn refresh_token_user(state: &AppState, secret: &str) -> Option<UserId> {
    let digest = RefreshToken::digest_of(secret);
    state.store.refresh_token_user(&digest, Utc::now()).await.unwrap_or_else(|error| {
        tracing::warn!(%error, "could not check a refresh token");
        None
    })
}
