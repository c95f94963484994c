//! Notifications: list, mark read, mark all read, delete (SPEC R-NOTE-2).

use super::AppState;
use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use conclave_protocol::{ErrorCode, NotificationId};
use conclave_store::{DeferredWrite, NotificationCursor, NotificationRecord};

/// The caller's notifications, unread first, then newest first: up to `limit + 1`.
pub async fn list(
    state: &AppState,
    auth: &AuthUser,
    unread_only: bool,
    after: Option<&NotificationCursor>,
    limit: u32,
) -> ApiResult<Vec<NotificationRecord>> {
    Ok(state.store.notifications(&auth.id, unread_only, after, limit + 1).await?)
}

/// Mark one of the caller's notifications read (a buffered write, R-OPS-3).
pub async fn mark_read(state: &AppState, auth: &AuthUser, id: NotificationId) -> ApiResult<()> {
    if state.store.notification(&auth.id, &id).await?.is_none() {
        return Err(ApiError::new(ErrorCode::NotificationNotFound, "no such notification"));
    }
    Ok(state.deferred.defer(DeferredWrite::NotificationRead { user: auth.id.clone(), id }).await?)
}

/// Mark every notification of the caller's read; how many were unread.
pub async fn mark_all_read(state: &AppState, auth: &AuthUser) -> ApiResult<u64> {
    let marked = state.store.unread_notification_count(&auth.id).await?;
    state.deferred.defer(DeferredWrite::AllNotificationsRead { user: auth.id.clone() }).await?;
    Ok(marked)
}

/// Delete one of the caller's notifications.
pub async fn delete(state: &AppState, auth: &AuthUser, id: &NotificationId) -> ApiResult<()> {
    Ok(state.store.delete_notification(&auth.id, id).await?)
}
