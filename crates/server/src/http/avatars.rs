//! Avatars (SPEC R-ACC-8): set and remove your own, fetch anyone's. An avatar's address names
//! the picture (`?v=`), so a client may keep it for good; a new picture gets a new address.

use super::extract::{AuthUser, read_limited};
use crate::app::error::ApiResult;
use crate::app::{AppState, avatars, views};
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use conclave_protocol::{AvatarQuery, ErrorBody, MAX_AVATAR_BYTES, UserEnvelope};

/// Set your avatar (R-ACC-8): the request body is a PNG, JPEG or WebP image (its
/// `Content-Type` says which, and its bytes must agree), at most 2 MiB and 8192 pixels a side.
/// It is stored as a 256-pixel square cut from the middle, re-encoded (no metadata survives).
#[utoipa::path(put, path = "/api/users/me/avatar", tag = "users", security(("bearer" = [])),
    request_body(content = Vec<u8>, description = "the picture's bytes", content_type = "image/png"),
    responses((status = 200, body = UserEnvelope),
              (status = 413, description = "payload_too_large", body = ErrorBody),
              (status = 415, description = "unsupported_media_type: not PNG, JPEG or WebP, or bytes of another type", body = ErrorBody),
              (status = 422, description = "validation_failed: avatar (the picture cannot be read)", body = ErrorBody)))]
pub async fn set(state: Data<AppState>, auth: AuthUser, req: HttpRequest, payload: Payload) -> ApiResult<HttpResponse> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let content = read_limited(&req, payload, MAX_AVATAR_BYTES, avatars::too_large());
    let user = avatars::set(&state, &auth, content_type, content).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user: views::user(&user, &state.hub) }))
}

/// Remove your avatar: your initials show instead. Removing none changes nothing.
#[utoipa::path(delete, path = "/api/users/me/avatar", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserEnvelope)))]
pub async fn remove(state: Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    let user = avatars::remove(&state, &auth).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user: views::user(&user, &state.hub) }))
}

/// A user's avatar (R-ACC-8), as its `avatar_url` names it. With the current `v`, it may be
/// cached for good; without it, it is revalidated by its `ETag`.
#[utoipa::path(get, path = "/api/users/{username}/avatar", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "case-insensitive"), AvatarQuery),
    responses((status = 200, description = "the picture (PNG or JPEG)", content_type = "image/jpeg"),
              (status = 304, description = "the picture has not changed since the `ETag` sent"),
              (status = 404, description = "user_not_found, or not_found: no avatar", body = ErrorBody)))]
pub async fn get(
    state: Data<AppState>,
    _auth: AuthUser,
    req: HttpRequest,
    username: Path<String>,
    Query(query): Query<AvatarQuery>,
) -> ApiResult<HttpResponse> {
    let (_, avatar) = avatars::of(&state, &username).await?;
    let version = avatar.updated_at.timestamp_millis().to_string();
    let etag = format!("\"{version}\"");
    let cache = if query.v.as_deref() == Some(version.as_str()) {
        "private, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut response = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
    if unchanged {
        return Ok(response.finish());
    }
    Ok(response.content_type(avatar.content_type).body(avatar.content))
}
