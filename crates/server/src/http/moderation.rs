//! Room moderation: invites, join requests, kicks, bans and roles (SPEC R-ROOM-2 to R-ROOM-4).

use super::extract::{AuthUser, Body};
use super::rooms::{RoomAccess, named_user};
use super::views;
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::notify;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{Data, Path};
use chrono::Utc;
use conclave_domain::{InviteContext, RoomAction, Target, may_invite};
use conclave_protocol::*;
use conclave_store::DeferredWrite;
use serde_json::json;

async fn target(state: &AppState, access: &RoomAccess, auth: &AuthUser, user: &UserId) -> ApiResult<Target> {
    let role = state.store.membership(&access.room.id, user).await?.map(|m| m.role);
    Ok(Target { role, is_self: *user == auth.id })
}

/// Invite a user by id or username (admins, R-ROOM-2). The invitee is notified with the room id.
#[utoipa::path(post, path = "/api/rooms/{room_id}/invites", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body = InviteRequest,
    responses((status = 201, body = InviteEnvelope), (status = 403, description = "forbidden, banned", body = ErrorBody),
              (status = 404, description = "user_not_found", body = ErrorBody),
              (status = 409, description = "already_member, already_invited", body = ErrorBody)))]
pub async fn invite(
    state: Data<AppState>,
    access: RoomAccess,
    Body(request): Body<InviteRequest>,
) -> ApiResult<HttpResponse> {
    let (auth, room_id) = (&access.user, access.room.id.clone());
    access.authorize(RoomAction::Invite)?;
    let invitee = named_user(&state, request.user_id.as_ref(), request.username.as_deref()).await?;
    let store = &state.store;
    may_invite(InviteContext {
        terminated: access.room.terminated_at.is_some(),
        banned: store.is_banned(&room_id, &invitee.id).await?,
        already_member: store.membership(&room_id, &invitee.id).await?.is_some(),
        already_invited: store.invite(&room_id, &invitee.id).await?.is_some(),
    })?;
    let invite = store.create_invite(&room_id, &invitee.id, &auth.id, Utc::now()).await?;
    access.tell(&state, &invitee.id, NotificationKind::Invited, json!({})).await?;
    Ok(HttpResponse::Created().json(InviteEnvelope { invite: views::invite(&invite) }))
}

/// Pending join requests, oldest first (admins).
#[utoipa::path(get, path = "/api/rooms/{room_id}/requests", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path)),
    responses((status = 200, body = Page<JoinRequest>), (status = 403, body = ErrorBody)))]
pub async fn requests(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    let room_id = access.room.id.clone();
    access.authorize(RoomAction::ManageRequests)?;
    state.deferred.settle().await;
    let pending = state.store.join_requests(&room_id).await?;
    let items = pending.iter().map(|r| views::join_request(r, &state.hub)).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, None)))
}

/// Accept a join request (admins): the requester becomes a member and is notified.
#[utoipa::path(post, path = "/api/rooms/{room_id}/requests/{user_id}/accept", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = MembershipEnvelope), (status = 403, body = ErrorBody),
              (status = 404, description = "request_not_found", body = ErrorBody)))]
pub async fn accept(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let user_id = UserId(path.into_inner().1);
    let room_id = access.room.id.clone();
    access.authorize(RoomAction::ManageRequests)?;
    access.live()?;
    // A request declined a moment ago (still buffered) cannot be accepted.
    state.deferred.settle().await;
    let request = state
        .store
        .join_request(&room_id, &user_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::RequestNotFound, "no pending join request from that user"))?;
    let membership = state.store.add_member(&room_id, &user_id, Role::Member, &access.user.id, Utc::now()).await?;
    events::member_joined(&state, &room_id, &request.user);
    access.tell(&state, &user_id, NotificationKind::RequestAccepted, json!({})).await?;
    Ok(HttpResponse::Ok().json(MembershipEnvelope { membership: views::membership(&membership) }))
}

/// Decline a join request (admins): the requester is notified.
#[utoipa::path(post, path = "/api/rooms/{room_id}/requests/{user_id}/decline", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "declined"), (status = 403, body = ErrorBody),
              (status = 404, description = "request_not_found", body = ErrorBody)))]
pub async fn decline(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let user_id = UserId(path.into_inner().1);
    let room_id = access.room.id.clone();
    access.authorize(RoomAction::ManageRequests)?;
    // A decline still buffered is already a decline.
    state.deferred.settle().await;
    if state.store.join_request(&room_id, &user_id).await?.is_none() {
        return Err(ApiError::new(ErrorCode::RequestNotFound, "no pending join request from that user"));
    }
    state.deferred.defer(DeferredWrite::DeclineRequest { room: room_id.clone(), user: user_id.clone() }).await?;
    access.tell(&state, &user_id, NotificationKind::RequestDeclined, json!({})).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Kick a member (admins; not the owner, nor an admin unless you are the owner). R-ROOM-3.
#[utoipa::path(post, path = "/api/rooms/{room_id}/members/{user_id}/kick", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "kicked"), (status = 403, body = ErrorBody), (status = 422, description = "invalid_target", body = ErrorBody)))]
pub async fn kick(state: Data<AppState>, access: RoomAccess, path: Path<(String, String)>) -> ApiResult<HttpResponse> {
    let user_id = UserId(path.into_inner().1);
    let (auth, room_id) = (&access.user, access.room.id.clone());
    access.authorize(RoomAction::Kick(target(&state, &access, auth, &user_id).await?))?;
    let outcome = state.store.remove_member(&room_id, &user_id, LeaveReason::Kicked, &auth.id, Utc::now()).await?;
    access.tell(&state, &user_id, NotificationKind::Kicked, json!({})).await?;
    events::departure(&state, &access.room, &outcome, LeaveReason::Kicked).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Ban a user (admins, R-ROOM-4): removed if a member, kept out until unbanned, notified.
#[utoipa::path(post, path = "/api/rooms/{room_id}/bans", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body = BanRequest,
    responses((status = 201, body = BanEnvelope), (status = 403, body = ErrorBody),
              (status = 404, description = "user_not_found", body = ErrorBody), (status = 409, description = "already_banned", body = ErrorBody)))]
pub async fn ban(
    state: Data<AppState>,
    access: RoomAccess,
    Body(request): Body<BanRequest>,
) -> ApiResult<HttpResponse> {
    let (auth, room_id) = (&access.user, access.room.id.clone());
    let banned = named_user(&state, Some(&request.user_id), None).await?;
    access.authorize(RoomAction::Ban(target(&state, &access, auth, &banned.id).await?))?;
    access.live()?;
    let outcome = state.store.ban(&room_id, &banned.id, &auth.id, Utc::now()).await?;
    access.tell(&state, &banned.id, NotificationKind::Banned, json!({})).await?;
    if let Some(departure) = &outcome.departure {
        events::departure(&state, &access.room, departure, LeaveReason::Banned).await;
    }
    Ok(HttpResponse::Created().json(BanEnvelope { ban: views::ban(&outcome.ban, &state.hub) }))
}

/// The room's bans, newest first (admins).
#[utoipa::path(get, path = "/api/rooms/{room_id}/bans", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path)), responses((status = 200, body = Page<Ban>), (status = 403, body = ErrorBody)))]
pub async fn bans(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    let room_id = access.room.id.clone();
    access.authorize(RoomAction::Unban)?;
    let list = state.store.bans(&room_id).await?;
    let items = list.iter().map(|b| views::ban(b, &state.hub)).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, None)))
}

/// Lift a ban (admins); the user is notified.
#[utoipa::path(delete, path = "/api/rooms/{room_id}/bans/{user_id}", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "unbanned"), (status = 403, body = ErrorBody), (status = 404, description = "ban_not_found", body = ErrorBody)))]
pub async fn unban(state: Data<AppState>, access: RoomAccess, path: Path<(String, String)>) -> ApiResult<HttpResponse> {
    let user_id = UserId(path.into_inner().1);
    let room_id = access.room.id.clone();
    access.authorize(RoomAction::Unban)?;
    state.store.unban(&room_id, &user_id, &access.user.id, Utc::now()).await?;
    access.tell(&state, &user_id, NotificationKind::Unbanned, json!({})).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Make a member admin or take it back (owner only); the member is notified.
#[utoipa::path(put, path = "/api/rooms/{room_id}/members/{user_id}/role", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path), ("user_id" = String, Path)), request_body = RoleChangeRequest,
    responses((status = 200, body = MembershipEnvelope), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_role(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String)>,
    Body(request): Body<RoleChangeRequest>,
) -> ApiResult<HttpResponse> {
    let user_id = UserId(path.into_inner().1);
    let (auth, room_id) = (&access.user, access.room.id.clone());
    let target = target(&state, &access, auth, &user_id).await?;
    access.authorize(RoomAction::ChangeRole(target))?;
    access.live()?;
    let role = Role::from(request.role);
    let membership = state.store.set_role(&room_id, &user_id, role, &auth.id, Utc::now()).await?;
    if target.role != Some(role) {
        events::role_changed(state.bus.as_ref(), &room_id, &user_id, role);
        let kind = if role.is_admin() { NotificationKind::Promoted } else { NotificationKind::Demoted };
        access.tell(&state, &user_id, kind, notify::role_data(role)).await?;
    }
    Ok(HttpResponse::Ok().json(MembershipEnvelope { membership: views::membership(&membership) }))
}
