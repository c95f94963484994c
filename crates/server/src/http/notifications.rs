//! Notifications: list, mark read, mark all read, delete (SPEC R-NOTE-2).

use super::cursor;
use super::extract::AuthUser;
use crate::app::error::ApiResult;
use crate::app::{AppState, notifications, views};
use actix_web::HttpResponse;
use actix_web::web::{Data, Path, Query};
use chrono::{DateTime, Utc};
use conclave_domain::PageLimit;
use conclave_protocol::*;
use conclave_store::NotificationCursor;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Cursor(bool, DateTime<Utc>, String);

/// My notifications: unread first, then newest first.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])), params(NotificationsQuery),
    responses((status = 200, body = Page<Notification>)))]
pub async fn list(
    state: Data<AppState>,
    auth: AuthUser,
    Query(query): Query<NotificationsQuery>,
) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::MESSAGES)?;
    let after = cursor::decode::<Cursor>(query.cursor.as_deref())?
        .map(|Cursor(read, created_at, id)| NotificationCursor { read, created_at, id: NotificationId(id) });
    let unread_only = query.unread_only.unwrap_or(false);
    let found = notifications::list(&state, &auth, unread_only, after.as_ref(), limit).await?;
    let page = cursor::page(found, limit, |n| Cursor(n.read, n.created_at, n.id.0.clone()), views::notification);
    Ok(HttpResponse::Ok().json(page))
}

/// Mark one notification read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "marked"), (status = 404, description = "notification_not_found", body = ErrorBody)))]
pub async fn mark_read(state: Data<AppState>, auth: AuthUser, id: Path<String>) -> ApiResult<HttpResponse> {
    notifications::mark_read(&state, &auth, NotificationId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark every notification read.
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = MarkedRead)))]
pub async fn mark_all_read(state: Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    let marked = notifications::mark_all_read(&state, &auth).await?;
    Ok(HttpResponse::Ok().json(MarkedRead { marked }))
}

/// Delete a notification.
#[utoipa::path(delete, path = "/api/notifications/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 404, description = "notification_not_found", body = ErrorBody)))]
pub async fn delete(state: Data<AppState>, auth: AuthUser, id: Path<String>) -> ApiResult<HttpResponse> {
    notifications::delete(&state, &auth, &NotificationId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
