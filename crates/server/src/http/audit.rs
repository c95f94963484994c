//! The audit trail (SPEC R-OPS-1): a room's for its owner, and each user's own account records
//! (sign-up, logins), so that people can spot a login that was not theirs.

use super::cursor;
use super::extract::AuthUser;
use super::rooms::RoomAccess;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use chrono::{DateTime, Utc};
use conclave_domain::{PageLimit, RoomAction};
use conclave_protocol::{AuditEntry, AuditId, ErrorBody, Page, PageQuery, UserId};
use conclave_store::{AuditCursor, AuditRecord, Store};
use std::collections::HashMap;

#[derive(serde::Serialize, serde::Deserialize)]
struct Cursor(DateTime<Utc>, String);

fn after(query: &PageQuery) -> ApiResult<Option<AuditCursor>> {
    Ok(cursor::decode::<Cursor>(query.cursor.as_deref())?
        .map(|Cursor(created_at, id)| AuditCursor { created_at, id: AuditId(id) }))
}

/// A page of records with the usernames of the people in them (usernames never change).
async fn page(store: &dyn Store, found: Vec<AuditRecord>, limit: u32) -> ApiResult<Page<AuditEntry>> {
    let mut names: HashMap<UserId, Option<String>> = HashMap::new();
    for id in found.iter().take(limit as usize).flat_map(|r| [&r.actor_id, &r.target_id]).flatten() {
        if !names.contains_key(id) {
            let name = store.user(id).await?.map(|u| u.username);
            names.insert(id.clone(), name);
        }
    }
    let name = |id: &Option<UserId>| id.as_ref().and_then(|id| names.get(id).cloned().flatten());
    Ok(cursor::page(
        found,
        limit,
        |r| Cursor(r.created_at, r.id.0.clone()),
        |r| AuditEntry {
            id: r.id.clone(),
            action: r.action,
            room_id: r.room_id.clone(),
            actor_id: r.actor_id.clone(),
            actor_username: name(&r.actor_id),
            target_id: r.target_id.clone(),
            target_username: name(&r.target_id),
            role: r.role,
            created_at: r.created_at,
        },
    ))
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
    access.authorize(RoomAction::ReadAudit)?;
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let found = state.store.room_audit(&access.room.id, after(&query)?.as_ref(), limit + 1).await?;
    Ok(HttpResponse::Ok().json(page(&*state.store, found, limit).await?))
}

/// My account's audit trail, newest first: sign-up and every login.
#[utoipa::path(get, path = "/api/users/me/audit", tag = "users", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<AuditEntry>)))]
pub async fn mine(state: Data<AppState>, auth: AuthUser, Query(query): Query<PageQuery>) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let found = state.store.account_audit(&auth.id, after(&query)?.as_ref(), limit + 1).await?;
    Ok(HttpResponse::Ok().json(page(&*state.store, found, limit).await?))
}
