//! The audit trail (SPEC R-OPS-1): a room's for its owner, and each user's own account records
//! (sign-up, logins), so that people can spot a login that was not theirs.

use super::cursor;
use super::extract::AuthUser;
use crate::app::access::RoomAccess;
use crate::app::error::ApiResult;
use crate::app::{AppState, audit};
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use chrono::{DateTime, Utc};
use conclave_domain::PageLimit;
use conclave_protocol::{AuditEntry, AuditId, ErrorBody, Page, PageQuery};
use conclave_store::AuditCursor;

#[derive(serde::Serialize, serde::Deserialize)]
struct Cursor(DateTime<Utc>, String);

fn after(query: &PageQuery) -> ApiResult<Option<AuditCursor>> {
    Ok(cursor::decode::<Cursor>(query.cursor.as_deref())?
        .map(|Cursor(created_at, id)| AuditCursor { created_at, id: AuditId(id) }))
}

fn page(found: Vec<AuditEntry>, limit: u32) -> Page<AuditEntry> {
    cursor::page(found, limit, |e| Cursor(e.created_at, e.id.0.clone()), AuditEntry::clone)
}

/// The room's audit trail, newest first (owner only): creation, joins, departures, kicks, bans,
/// unbans, role changes and termination, with who did it to whom.
#[utoipa::path(get, path = "/api/rooms/{room_id}/audit", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, description = "forbidden: not the owner", body = ErrorBody),
              (status = 404, description = "room_not_found", body = ErrorBody)))]
pub async fn room(
    state: Data<AppState>,
    access: RoomAccess,
    Query(query): Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let found = audit::room(&state, &access, after(&query)?.as_ref(), limit).await?;
    Ok(HttpResponse::Ok().json(page(found, limit)))
}

/// My account's audit trail, newest first: sign-up and every login.
#[utoipa::path(get, path = "/api/users/me/audit", tag = "users", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<AuditEntry>)))]
pub async fn mine(state: Data<AppState>, auth: AuthUser, Query(query): Query<PageQuery>) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let found = audit::mine(&state, &auth, after(&query)?.as_ref(), limit).await?;
    Ok(HttpResponse::Ok().json(page(found, limit)))
}
