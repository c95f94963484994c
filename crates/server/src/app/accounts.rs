//! Accounts: sign up, log in, refresh, log out, and the user directory (SPEC R-ACC-1 to R-ACC-6).

use super::AppState;
use super::auth::{AuthUser, actor};
use super::error::{ApiError, ApiResult};
use super::{events, rooms};
use chrono::{Duration, Utc};
use conclave_crypto::{IssuedAccessToken, RefreshToken};
use conclave_domain::{FieldErrors, Password, PersonName, SearchPrefix, Username};
use conclave_protocol::{
    ChangePasswordRequest, DeleteAccountRequest, ErrorCode, LoginRequest, RoomKind, SignupRequest,
    UpdateProfileRequest, UserId,
};
use conclave_store::{Change, NewRefreshToken, NewUser, Rotation, UserRecord};
use std::net::IpAddr;

/// A logged-in session: an access token and the refresh token that renews it.
pub struct Session {
    pub user: UserRecord,
    pub access: IssuedAccessToken,
    pub refresh: RefreshToken,
}

/// A refresh the server refuses, and whether the token presented is dead for good (a client
/// should forget it: it was unknown, expired, revoked or reused).
pub struct RefreshRefusal {
    pub error: ApiError,
    pub token_dead: bool,
}

/// Sign up (R-ACC-1).
pub async fn signup(state: &AppState, request: SignupRequest) -> ApiResult<UserRecord> {
    let mut errors = FieldErrors::new();
    let username = errors.check("username", Username::parse(&request.username));
    let password = errors.check("password", Password::parse(&request.password));
    let first_name = errors.check("first_name", PersonName::parse_optional(request.first_name.as_deref()));
    let last_name = errors.check("last_name", PersonName::parse_optional(request.last_name.as_deref()));
    let (Some(username), Some(password), Some(first_name), Some(last_name)) =
        (username, password, first_name, last_name)
    else {
        return Err(errors.into());
    };
    let password_hash = state.passwords.hash(password.expose().to_owned()).await?;
    let new = NewUser {
        username: username.into_string(),
        password_hash,
        first_name: first_name.map(|n| n.as_str().to_owned()),
        last_name: last_name.map(|n| n.as_str().to_owned()),
    };
    let user = state.store.create_user(new, Utc::now()).await?;
    tracing::info!(user_id = %user.id, username = %user.username, "signed up");
    Ok(user)
}

/// Log in (R-ACC-3) from `address` (rate-limited per account and address, R-ACC-6).
pub async fn login(state: &AppState, request: LoginRequest, address: Option<IpAddr>) -> ApiResult<Session> {
    let wrong = || ApiError::new(ErrorCode::InvalidCredentials, "wrong username or password");
    if request.username.len() > Username::MAX_LOGIN_INPUT_BYTES
        || request.password.chars().count() > Password::MAX_CHARS
    {
        return Err(wrong());
    }
    state.limits.login(&request.username, address).await?;
    let user = state.store.user_by_username(request.username.trim()).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = state.passwords.verify(request.password, stored_hash).await?;
    let user = match user {
        Some(user) if matches => user,
        _ => {
            tracing::info!("login refused");
            return Err(wrong());
        }
    };
    tracing::info!(user_id = %user.id, "logged in");
    new_session(state, user).await
}

/// A new refresh token for `user`, stored, and the session it starts.
async fn new_session(state: &AppState, user: UserRecord) -> ApiResult<Session> {
    let refresh = RefreshToken::generate();
    let now = Utc::now();
    let new = NewRefreshToken {
        digest: refresh.digest.clone(),
        user_id: user.id.clone(),
        expires_at: now + Duration::days(i64::from(state.settings.refresh_token_ttl_days)),
    };
    state.store.insert_refresh_token(new, now).await?;
    session(state, user, refresh)
}

/// A name change as the store takes it: left out keeps it, empty removes it.
fn name_change(field: &str, input: Option<&str>, errors: &mut FieldErrors) -> Change<String> {
    match input {
        None => Change::Keep,
        Some(given) => match errors.check(field, PersonName::parse_optional(Some(given))) {
            Some(Some(name)) => Change::Set(name.as_str().to_owned()),
            Some(None) => Change::Clear,
            None => Change::Keep,
        },
    }
}

/// Change the caller's first and last name (R-ACC-7).
pub async fn update_profile(state: &AppState, auth: &AuthUser, request: UpdateProfileRequest) -> ApiResult<UserRecord> {
    let mut errors = FieldErrors::new();
    let first = name_change("first_name", request.first_name.as_deref(), &mut errors);
    let last = name_change("last_name", request.last_name.as_deref(), &mut errors);
    errors.finish()?;
    Ok(state.store.update_names(&auth.id, first, last).await?)
}

/// Whether `given` is `me`'s password, as a signed-in user confirms an action with it. Longer
/// than any password can be, it is not (and costs no hashing).
async fn is_own_password(state: &AppState, me: &UserRecord, given: String) -> ApiResult<bool> {
    if given.chars().count() > Password::MAX_CHARS {
        return Ok(false);
    }
    state.passwords.verify(given, Some(me.password_hash.clone())).await
}

/// Change the caller's password, given the current one (R-ACC-7): every refresh token of the
/// account is revoked, so every other session ends, and this client gets a new session.
/// Attempts count against the account's login allowance (R-ACC-6).
pub async fn change_password(state: &AppState, auth: &AuthUser, request: ChangePasswordRequest) -> ApiResult<Session> {
    let me = actor(state, auth).await?;
    state.limits.login(&me.username, None).await?;
    let new_password = Password::parse(&request.new_password).map_err(|e| ApiError::field("new_password", e.0))?;
    if !is_own_password(state, &me, request.current_password).await? {
        return Err(ApiError::field("current_password", "is not your current password"));
    }
    let hash = state.passwords.hash(new_password.expose().to_owned()).await?;
    state.store.change_password(&me.id, &hash).await?;
    tracing::info!(user_id = %me.id, "password changed; other sessions revoked");
    new_session(state, me).await
}

/// Delete the caller's account, given its password (R-ACC-7): they leave every group room, each
/// applying R-ROOM-5 and told as a departure; then the account ends (see
/// `Store::delete_account`) and every live session of it closes. Attempts count against the
/// account's login allowance (R-ACC-6).
pub async fn delete_account(state: &AppState, auth: &AuthUser, request: DeleteAccountRequest) -> ApiResult<()> {
    let me = actor(state, auth).await?;
    state.limits.login(&me.username, None).await?;
    if !is_own_password(state, &me, request.password).await? {
        return Err(ApiError::field("password", "is not your password"));
    }
    for room_id in state.store.room_ids_of_user(&me.id).await? {
        let Some(room) = state.store.room(&room_id).await? else { continue };
        if room.kind == RoomKind::Group && room.terminated_at.is_none() {
            rooms::leave_group(state, &room, &me.id).await?;
        }
    }
    state.store.delete_account(&me.id, Utc::now()).await?;
    events::end_sessions(state.bus.as_ref(), &me.id, "this account was deleted");
    tracing::info!(user_id = %me.id, "account deleted");
    Ok(())
}

fn session(state: &AppState, user: UserRecord, refresh: RefreshToken) -> ApiResult<Session> {
    let access = state.tokens.issue(user.id.as_str(), Utc::now().timestamp()).map_err(ApiError::internal)?;
    Ok(Session { user, access, refresh })
}

/// Refresh (R-ACC-3): retires the presented token and issues a new pair. Presenting a retired
/// token revokes its whole family.
pub async fn refresh(state: &AppState, presented: Option<&str>) -> Result<Session, RefreshRefusal> {
    let invalid = || {
        ApiError::new(ErrorCode::InvalidRefreshToken, "the refresh token is unknown, expired or revoked; log in again")
    };
    let alive = |error: ApiError| RefreshRefusal { error, token_dead: false };
    let presented = presented.ok_or_else(|| alive(invalid()))?;
    let next = RefreshToken::generate();
    let now = Utc::now();
    let expires_at = now + Duration::days(i64::from(state.settings.refresh_token_ttl_days));
    let rotation = state
        .store
        .rotate_refresh_token(&RefreshToken::digest_of(presented), &next.digest, expires_at, now)
        .await
        .map_err(|e| alive(e.into()))?;
    let user_id = match rotation {
        Rotation::Rotated { user_id } => user_id,
        Rotation::Reused { user_id } => {
            tracing::warn!(%user_id, "refresh token reused: family revoked");
            let error = ApiError::new(
                ErrorCode::RefreshTokenReused,
                "this refresh token was already used; every session of its family is revoked",
            );
            return Err(RefreshRefusal { error, token_dead: true });
        }
        Rotation::Invalid => return Err(RefreshRefusal { error: invalid(), token_dead: true }),
    };
    let user = state.store.user(&user_id).await.map_err(|e| alive(e.into()))?.ok_or_else(|| alive(invalid()))?;
    session(state, user, next).map_err(alive)
}

/// Log out (R-ACC-3): revokes the presented refresh token's family. Idempotent.
pub async fn logout(state: &AppState, presented: Option<&str>) -> ApiResult<()> {
    if let Some(token) = presented {
        state.store.revoke_refresh_family(&RefreshToken::digest_of(token)).await?;
    }
    Ok(())
}

/// The caller's own account.
pub async fn me(state: &AppState, auth: &AuthUser) -> ApiResult<UserRecord> {
    actor(state, auth).await
}

/// Users whose username starts with `prefix`, by username after `after` (R-ACC-5): up to
/// `limit + 1`, the extra one saying that more follow.
pub async fn search(
    state: &AppState,
    prefix: &SearchPrefix,
    after: Option<&str>,
    limit: u32,
) -> ApiResult<Vec<UserRecord>> {
    Ok(state.store.search_users(prefix.as_str(), after, limit + 1).await?)
}

/// A user's public profile (R-ACC-5), by username, whatever its case.
pub async fn profile(state: &AppState, username: &str) -> ApiResult<UserRecord> {
    state
        .store
        .user_by_username(username.trim())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UserNotFound, "no such user"))
}

/// The user named by exactly one of an id and a username.
pub async fn named_user(state: &AppState, user_id: Option<&UserId>, username: Option<&str>) -> ApiResult<UserRecord> {
    let found = match (user_id, username) {
        (Some(id), None) => state.store.user(id).await?,
        (None, Some(name)) => state.store.user_by_username(name.trim()).await?,
        _ => {
            return Err(ApiError::field("user_id", "give exactly one of `user_id` and `username`"));
        }
    };
    found.ok_or_else(|| ApiError::new(ErrorCode::UserNotFound, "no such user"))
}
