//! Sign up, log in, refresh, log out, and the user directory (SPEC R-ACC-1 to R-ACC-5).

use super::cursor;
use super::extract::{AuthUser, Body, OptionalBody};
use super::rooms::actor;
use super::views;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use conclave_crypto::RefreshToken;
use conclave_domain::{FieldErrors, PageLimit, Password, PersonName, SearchPrefix, Username};
use conclave_protocol::*;
use conclave_store::{NewRefreshToken, NewUser, Rotation, UserRecord};

/// The browser's refresh cookie (R-ACC-3): HttpOnly, Secure, SameSite=Strict, auth paths only.
pub const REFRESH_COOKIE: &str = "conclave_refresh";

fn refresh_cookie(value: String, max_age_days: u32) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, value)
        // The gateway at /ws authenticates browsers by this cookie too (R-WS-1).
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::days(i64::from(max_age_days)))
        .finish()
}

fn cleared_cookie() -> Cookie<'static> {
    let mut cookie = refresh_cookie(String::new(), 0);
    cookie.make_removal();
    cookie
}

/// Sign up (R-ACC-1).
#[utoipa::path(post, path = "/api/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = UserEnvelope), (status = 409, description = "username_taken", body = ErrorBody),
              (status = 422, description = "validation_failed: one entry per invalid field", body = ErrorBody)))]
pub async fn signup(state: Data<AppState>, Body(request): Body<SignupRequest>) -> ApiResult<HttpResponse> {
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
    let user = state
        .store
        .create_user(
            NewUser {
                username: username.into_string(),
                password_hash,
                first_name: first_name.map(|n| n.as_str().to_owned()),
                last_name: last_name.map(|n| n.as_str().to_owned()),
            },
            Utc::now(),
        )
        .await?;
    tracing::info!(user_id = %user.id, username = %user.username, "signed up");
    Ok(HttpResponse::Created().json(UserEnvelope { user: views::user(&user, &state.hub) }))
}

/// Log in (R-ACC-3): an access token and a refresh token, in the body and the refresh cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "invalid_credentials", body = ErrorBody),
              (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
pub async fn login(
    state: Data<AppState>,
    req: HttpRequest,
    Body(request): Body<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let wrong = || ApiError::new(ErrorCode::InvalidCredentials, "wrong username or password");
    if request.username.len() > 64 || request.password.chars().count() > 256 {
        return Err(wrong());
    }
    // R-ACC-6: per account and per client address (the socket's; no proxy header is trusted).
    state.limits.login(&request.username, req.peer_addr().map(|a| a.ip()))?;
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
    let refresh = RefreshToken::generate();
    let now = Utc::now();
    state
        .store
        .insert_refresh_token(
            NewRefreshToken {
                digest: refresh.digest.clone(),
                user_id: user.id.clone(),
                expires_at: now + Duration::days(i64::from(state.settings.refresh_token_ttl_days)),
            },
            now,
        )
        .await?;
    tracing::info!(user_id = %user.id, "logged in");
    session_response(&state, &user, refresh)
}

fn session_response(state: &AppState, user: &UserRecord, refresh: RefreshToken) -> ApiResult<HttpResponse> {
    let access = state.tokens.issue(user.id.as_str(), Utc::now().timestamp()).map_err(ApiError::internal)?;
    let body = TokenResponse {
        access_token: access.token,
        token_type: "Bearer".into(),
        expires_in: access.expires_in,
        refresh_token: refresh.secret.clone(),
        user: views::user(user, &state.hub),
    };
    Ok(HttpResponse::Ok().cookie(refresh_cookie(refresh.secret, state.settings.refresh_token_ttl_days)).json(body))
}

/// The refresh token from the body, or else from the cookie.
fn presented_refresh_token(req: &HttpRequest, body: RefreshRequest) -> Option<String> {
    body.refresh_token
        .filter(|t| !t.is_empty())
        .or_else(|| req.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned()))
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// Refresh (R-ACC-3): retires the presented token and issues a new pair. Presenting a retired
/// token revokes its whole family.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body(content = RefreshRequest, description = "or send the refresh cookie and no body"),
    responses((status = 200, body = TokenResponse),
              (status = 401, description = "invalid_refresh_token or refresh_token_reused", body = ErrorBody)))]
pub async fn refresh(
    state: Data<AppState>,
    req: HttpRequest,
    OptionalBody(body): OptionalBody<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let invalid = || {
        ApiError::new(ErrorCode::InvalidRefreshToken, "the refresh token is unknown, expired or revoked; log in again")
    };
    let presented = presented_refresh_token(&req, body).ok_or_else(invalid)?;
    let next = RefreshToken::generate();
    let now = Utc::now();
    let expires_at = now + Duration::days(i64::from(state.settings.refresh_token_ttl_days));
    let rotation =
        state.store.rotate_refresh_token(&RefreshToken::digest_of(&presented), &next.digest, expires_at, now).await?;
    let user_id = match rotation {
        Rotation::Rotated { user_id } => user_id,
        Rotation::Reused { user_id } => {
            tracing::warn!(%user_id, "refresh token reused: family revoked");
            let error = ApiError::new(
                ErrorCode::RefreshTokenReused,
                "this refresh token was already used; every session of its family is revoked",
            );
            return Ok(with_cleared_cookie(error));
        }
        Rotation::Invalid => return Ok(with_cleared_cookie(invalid())),
    };
    let user = state.store.user(&user_id).await?.ok_or_else(invalid)?;
    session_response(&state, &user, next)
}

fn with_cleared_cookie(error: ApiError) -> HttpResponse {
    let mut response = actix_web::ResponseError::error_response(&error);
    let _ = response.add_cookie(&cleared_cookie());
    response
}

/// Log out (R-ACC-3): revokes the refresh token's family and clears the cookie. Idempotent.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body(content = RefreshRequest, description = "or send the refresh cookie and no body"),
    responses((status = 204, description = "logged out")))]
pub async fn logout(
    state: Data<AppState>,
    req: HttpRequest,
    OptionalBody(body): OptionalBody<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    if let Some(token) = presented_refresh_token(&req, body) {
        state.store.revoke_refresh_family(&RefreshToken::digest_of(&token)).await?;
    }
    Ok(HttpResponse::NoContent().cookie(cleared_cookie()).finish())
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserEnvelope), (status = 401, body = ErrorBody)))]
pub async fn me(state: Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    state.deferred.settle().await;
    let user = actor(&state, &auth).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user: views::user(&user, &state.hub) }))
}

/// Users whose username starts with `q`, by username (R-ACC-5).
#[utoipa::path(get, path = "/api/users", tag = "users", security(("bearer" = [])), params(UserSearchQuery),
    responses((status = 200, body = Page<User>), (status = 422, body = ErrorBody)))]
pub async fn search(
    state: Data<AppState>,
    _auth: AuthUser,
    Query(query): Query<UserSearchQuery>,
) -> ApiResult<HttpResponse> {
    let prefix = SearchPrefix::parse_optional(query.q.as_deref()).map_err(|e| ApiError::field("q", e.0))?;
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let after: Option<String> = cursor::decode(query.cursor.as_deref())?;
    state.deferred.settle().await;
    let found = state.store.search_users(prefix.as_str(), after.as_deref(), limit + 1).await?;
    let page = cursor::page(found, limit, |u| u.username.clone(), |u| views::user(u, &state.hub));
    Ok(HttpResponse::Ok().json(page))
}

/// A user's public profile (R-ACC-5).
#[utoipa::path(get, path = "/api/users/{username}", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "case-insensitive")),
    responses((status = 200, body = UserEnvelope), (status = 404, description = "user_not_found", body = ErrorBody)))]
pub async fn profile(state: Data<AppState>, _auth: AuthUser, username: Path<String>) -> ApiResult<HttpResponse> {
    state.deferred.settle().await;
    let user = state
        .store
        .user_by_username(username.trim())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UserNotFound, "no such user"))?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user: views::user(&user, &state.hub) }))
}
