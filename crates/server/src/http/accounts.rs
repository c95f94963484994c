//! Sign up, log in, refresh, log out, and the user directory (SPEC R-ACC-1 to R-ACC-5).

use super::cursor;
use super::extract::{AuthUser, Body, OptionalBody};
use crate::app::accounts::{self, RefreshRefusal, Session};
use crate::app::error::{ApiError, ApiResult};
use crate::app::{AppState, views};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use conclave_domain::{PageLimit, SearchPrefix};
use conclave_protocol::*;

/// The longest refresh token the server reads; anything longer is none it gave out.
const MAX_REFRESH_TOKEN_BYTES: usize = 256;

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

/// A new session: the tokens in the body, the refresh token in its cookie too.
fn session_response(state: &AppState, session: Session) -> HttpResponse {
    let Session { user, access, refresh } = session;
    let body = TokenResponse {
        access_token: access.token,
        token_type: "Bearer".into(),
        expires_in: access.expires_in,
        refresh_token: refresh.secret.clone(),
        user: views::user(&user, &state.hub),
    };
    HttpResponse::Ok().cookie(refresh_cookie(refresh.secret, state.settings.refresh_token_ttl_days)).json(body)
}

/// The refresh token from the body, or else from the cookie.
fn presented_refresh_token(req: &HttpRequest, body: RefreshRequest) -> Option<String> {
    body.refresh_token
        .filter(|t| !t.is_empty())
        .or_else(|| req.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned()))
        .filter(|t| !t.is_empty() && t.len() <= MAX_REFRESH_TOKEN_BYTES)
}

/// Sign up (R-ACC-1).
#[utoipa::path(post, path = "/api/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = UserEnvelope), (status = 409, description = "username_taken", body = ErrorBody),
              (status = 422, description = "validation_failed: one entry per invalid field", body = ErrorBody)))]
pub async fn signup(state: Data<AppState>, Body(request): Body<SignupRequest>) -> ApiResult<HttpResponse> {
    let user = accounts::signup(&state, request).await?;
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
    // R-ACC-6: limited per client address, the socket's (no proxy header is trusted).
    let address = super::extract::client_address(&req, &state.settings.trusted_proxies);
    let session = accounts::login(&state, request, address).await?;
    Ok(session_response(&state, session))
}

/// Refresh (R-ACC-3): retires the presented token and issues a new pair. Presenting a retired
/// token revokes its whole family.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body(content = Option<RefreshRequest>, description = "or send the refresh cookie and no body"),
    responses((status = 200, body = TokenResponse),
              (status = 401, description = "invalid_refresh_token or refresh_token_reused", body = ErrorBody)))]
pub async fn refresh(
    state: Data<AppState>,
    req: HttpRequest,
    OptionalBody(body): OptionalBody<RefreshRequest>,
) -> HttpResponse {
    let presented = presented_refresh_token(&req, body);
    match accounts::refresh(&state, presented.as_deref()).await {
        Ok(session) => session_response(&state, session),
        Err(RefreshRefusal { error, token_dead }) => {
            let mut response = actix_web::ResponseError::error_response(&error);
            if token_dead {
                // The browser forgets a token that can never work again.
                if let Err(error) = response.add_cookie(&cleared_cookie()) {
                    tracing::warn!(%error, "could not clear the refresh cookie");
                }
            }
            response
        }
    }
}

/// Log out (R-ACC-3): revokes the refresh token's family and clears the cookie. Idempotent.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body(content = Option<RefreshRequest>, description = "or send the refresh cookie and no body"),
    responses((status = 204, description = "logged out")))]
pub async fn logout(
    state: Data<AppState>,
    req: HttpRequest,
    OptionalBody(body): OptionalBody<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    accounts::logout(&state, presented_refresh_token(&req, body).as_deref()).await?;
    Ok(HttpResponse::NoContent().cookie(cleared_cookie()).finish())
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserEnvelope), (status = 401, body = ErrorBody)))]
pub async fn me(state: Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    let user = accounts::me(&state, &auth).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user: views::user(&user, &state.hub) }))
}

/// Change your first and last name (R-ACC-7): a field left out stays, an empty one is removed.
#[utoipa::path(patch, path = "/api/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateProfileRequest,
    responses((status = 200, body = UserEnvelope), (status = 422, description = "validation_failed", body = ErrorBody)))]
pub async fn update_me(
    state: Data<AppState>,
    auth: AuthUser,
    Body(request): Body<UpdateProfileRequest>,
) -> ApiResult<HttpResponse> {
    let user = accounts::update_profile(&state, &auth, request).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user: views::user(&user, &state.hub) }))
}

/// Change your password with the current one (R-ACC-7): every other session of the account is
/// logged out; this client gets a new session (tokens and cookie), as a login gives.
#[utoipa::path(post, path = "/api/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = TokenResponse),
              (status = 422, description = "validation_failed: current_password wrong, new_password invalid", body = ErrorBody),
              (status = 429, description = "rate_limited: too many attempts for this account", body = ErrorBody)))]
pub async fn change_password(
    state: Data<AppState>,
    auth: AuthUser,
    Body(request): Body<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let session = accounts::change_password(&state, &auth, request).await?;
    Ok(session_response(&state, session))
}

/// Delete your account, with its password (R-ACC-7): you leave every group room (R-ROOM-5
/// applies to each), every session ends, and your messages stay, shown as from a deleted user.
#[utoipa::path(delete, path = "/api/users/me", tag = "users", security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204, description = "the account is gone; the refresh cookie is cleared"),
              (status = 422, description = "validation_failed: password wrong", body = ErrorBody),
              (status = 429, description = "rate_limited: too many attempts for this account", body = ErrorBody)))]
pub async fn delete_me(
    state: Data<AppState>,
    auth: AuthUser,
    Body(request): Body<DeleteAccountRequest>,
) -> ApiResult<HttpResponse> {
    accounts::delete_account(&state, &auth, request).await?;
    Ok(HttpResponse::NoContent().cookie(cleared_cookie()).finish())
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
    let found = accounts::search(&state, &prefix, after.as_deref(), limit).await?;
    let page = cursor::page(found, limit, |u| u.username.clone(), |u| views::user(u, &state.hub));
    Ok(HttpResponse::Ok().json(page))
}

/// A user's public profile (R-ACC-5).
#[utoipa::path(get, path = "/api/users/{username}", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "case-insensitive")),
    responses((status = 200, body = UserEnvelope), (status = 404, description = "user_not_found", body = ErrorBody)))]
pub async fn profile(state: Data<AppState>, _auth: AuthUser, username: Path<String>) -> ApiResult<HttpResponse> {
    let user = accounts::profile(&state, &username).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user: views::user(&user, &state.hub) }))
}
