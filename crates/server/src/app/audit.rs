//! The audit trail (SPEC R-OPS-1): a room's for its owner, and each user's own account records
//! (sign-up, logins), so that people can spot a login that was not theirs.

use super::AppState;
use super::access::RoomAccess;
use super::auth::AuthUser;
use super::error::ApiResult;
use conclave_domain::RoomAction;
use conclave_protocol::{AuditEntry, UserId};
use conclave_store::{AuditCursor, AuditRecord, UserStore};
use std::collections::HashMap;

/// Records with the usernames of the people in them (usernames never change).
async fn named(store: &dyn UserStore, found: Vec<AuditRecord>) -> ApiResult<Vec<AuditEntry>> {
    let mut names: HashMap<UserId, Option<String>> = HashMap::new();
    for id in found.iter().flat_map(|r| [&r.actor_id, &r.target_id]).flatten() {
        if !names.contains_key(id) {
            let name = store.user(id).await?.map(|u| u.username);
            names.insert(id.clone(), name);
        }
    }
    let name = |id: &Option<UserId>| id.as_ref().and_then(|id| names.get(id).cloned().flatten());
    Ok(found
        .into_iter()
        .map(|r| AuditEntry {
            actor_username: name(&r.actor_id),
            target_username: name(&r.target_id),
            id: r.id,
            action: r.action,
            room_id: r.room_id,
            actor_id: r.actor_id,
            target_id: r.target_id,
            role: r.role,
            created_at: r.created_at,
        })
        .collect())
}

/// The room's audit trail, newest first (owner only): up to `limit + 1`.
pub async fn room(
    state: &AppState,
    access: &RoomAccess,
    after: Option<&AuditCursor>,
    limit: u32,
) -> ApiResult<Vec<AuditEntry>> {
    access.authorize(RoomAction::ReadAudit)?;
    let found = state.store.room_audit(&access.room.id, after, limit + 1).await?;
    named(&*state.store, found).await
}

/// The caller's account audit trail, newest first: up to `limit + 1`.
pub async fn mine(
    state: &AppState,
    auth: &AuthUser,
    after: Option<&AuditCursor>,
    limit: u32,
) -> ApiResult<Vec<AuditEntry>> {
    let found = state.store.account_audit(&auth.id, after, limit + 1).await?;
    named(&*state.store, found).await
}
