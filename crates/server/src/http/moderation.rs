//! Room moderation: invites, join requests, kicks, bans and roles (SPEC R-ROOM-2 to R-ROOM-4).

use super::extract::Body;
use crate::app::access::RoomAccess;
use crate::app::error::ApiResult;
use crate::app::{AppState, moderation, views};
use actix_web::HttpResponse;
use actix_web::web::{Data, Path};
use conclave_protocol::*;

/// The `{user_id}` of a `/rooms/{room_id}/…/{user_id}` route.
fn user_in(path: Path<(String, String)>) -> UserId {
    UserId(path.into_inner().1)
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
    let invite = moderation::invite(&state, &access, request).await?;
    Ok(HttpResponse::Created().json(InviteEnvelope { invite: views::invite(&invite) }))
}

/// Pending join requests, oldest first (admins).
#[utoipa::path(get, path = "/api/rooms/{room_id}/requests", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path)),
    responses((status = 200, body = Page<JoinRequest>), (status = 403, body = ErrorBody)))]
pub async fn requests(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    let pending = moderation::requests(&state, &access).await?;
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
    let membership = moderation::accept(&state, &access, &user_in(path)).await?;
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
    moderation::decline(&state, &access, &user_in(path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Kick a member (admins; not the owner, nor an admin unless you are the owner). R-ROOM-3.
#[utoipa::path(post, path = "/api/rooms/{room_id}/members/{user_id}/kick", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "kicked"), (status = 403, body = ErrorBody), (status = 422, description = "invalid_target", body = ErrorBody)))]
pub async fn kick(state: Data<AppState>, access: RoomAccess, path: Path<(String, String)>) -> ApiResult<HttpResponse> {
    moderation::kick(&state, &access, &user_in(path)).await?;
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
    let ban = moderation::ban(&state, &access, &request.user_id).await?;
    Ok(HttpResponse::Created().json(BanEnvelope { ban: views::ban(&ban, &state.hub) }))
}

/// The room's bans, newest first (admins).
#[utoipa::path(get, path = "/api/rooms/{room_id}/bans", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path)), responses((status = 200, body = Page<Ban>), (status = 403, body = ErrorBody)))]
pub async fn bans(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    let list = moderation::bans(&state, &access).await?;
    let items = list.iter().map(|b| views::ban(b, &state.hub)).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, None)))
}

/// Lift a ban (admins); the user is notified.
#[utoipa::path(delete, path = "/api/rooms/{room_id}/bans/{user_id}", tag = "moderation", security(("bearer" = [])),
    params(("room_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "unbanned"), (status = 403, body = ErrorBody), (status = 404, description = "ban_not_found", body = ErrorBody)))]
pub async fn unban(state: Data<AppState>, access: RoomAccess, path: Path<(String, String)>) -> ApiResult<HttpResponse> {
    moderation::unban(&state, &access, &user_in(path)).await?;
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
    let membership = moderation::set_role(&state, &access, &user_in(path), Role::from(request.role)).await?;
    Ok(HttpResponse::Ok().json(MembershipEnvelope { membership: views::membership(&membership) }))
}
