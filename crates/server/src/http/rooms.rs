//! Rooms: create, search, list, read, change, delete, join, leave, members, read markers
//! (SPEC R-ROOM-1, R-ROOM-5 to R-ROOM-8).

use super::cursor;
use super::extract::{AuthUser, Body, OptionalBody};
use crate::app::access::RoomAccess;
use crate::app::error::{ApiError, ApiResult};
use crate::app::rooms::{self, Joined};
use crate::app::{AppState, views};
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use chrono::{DateTime, Utc};
use conclave_domain::{PageLimit, SearchPrefix};
use conclave_protocol::*;
use conclave_store::{RoomLogCursor, RoomSearchCursor};

/// Create a room (R-ROOM-1); the creator is its owner.
#[utoipa::path(post, path = "/api/rooms", tag = "rooms", security(("bearer" = [])), request_body = CreateRoomRequest,
    responses((status = 201, body = RoomEnvelope), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: Data<AppState>,
    auth: AuthUser,
    Body(request): Body<CreateRoomRequest>,
) -> ApiResult<HttpResponse> {
    let room = rooms::create(&state, &auth, request).await?;
    Ok(HttpResponse::Created().json(RoomEnvelope { room: views::room(&room) }))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SearchCursor(String, String);

/// Search listed rooms by name (R-ROOM-8): never invite-only rooms, never rooms that ban you.
#[utoipa::path(get, path = "/api/rooms", tag = "rooms", security(("bearer" = [])), params(RoomSearchQuery),
    responses((status = 200, body = Page<Room>), (status = 422, body = ErrorBody)))]
pub async fn search(
    state: Data<AppState>,
    auth: AuthUser,
    Query(query): Query<RoomSearchQuery>,
) -> ApiResult<HttpResponse> {
    let prefix = SearchPrefix::parse_optional(query.q.as_deref()).map_err(|e| ApiError::field("q", e.0))?;
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let after = cursor::decode::<SearchCursor>(query.cursor.as_deref())?
        .map(|SearchCursor(name_lower, id)| RoomSearchCursor { name_lower, room_id: RoomId(id) });
    let found = rooms::search(&state, &auth, &prefix, after.as_ref(), limit).await?;
    let page = cursor::page(found, limit, |r| SearchCursor(r.name.to_lowercase(), r.id.0.clone()), views::room);
    Ok(HttpResponse::Ok().json(page))
}

/// The rooms I am in, with my role and unread count, in the order I joined them.
#[utoipa::path(get, path = "/api/rooms/mine", tag = "rooms", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<MyRoom>)))]
pub async fn mine(state: Data<AppState>, auth: AuthUser, Query(query): Query<PageQuery>) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let after: Option<i64> = cursor::decode(query.cursor.as_deref())?;
    let (items, next) = rooms::mine(&state, &auth.id, after, limit).await?;
    Ok(HttpResponse::Ok().json(Page::new(items, next.map(|join_seq| cursor::encode(&join_seq)))))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct LogCursor(DateTime<Utc>, String);

/// Rooms I was in and left, was kicked or banned from, or that were terminated (R-ROOM-7).
#[utoipa::path(get, path = "/api/rooms/history", tag = "rooms", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<RoomLogEntry>)))]
pub async fn history(state: Data<AppState>, auth: AuthUser, Query(query): Query<PageQuery>) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let after = cursor::decode::<LogCursor>(query.cursor.as_deref())?
        .map(|LogCursor(left_at, id)| RoomLogCursor { left_at, room_id: RoomId(id) });
    let found = rooms::history(&state, &auth, after.as_ref(), limit).await?;
    let page = cursor::page(
        found,
        limit,
        |e| LogCursor(e.left_at, e.room.id.0.clone()),
        |e| RoomLogEntry { room: views::room(&e.room), left_at: e.left_at, reason: e.reason },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// A room: for its members, for anyone when it is listed, and for invitees.
#[utoipa::path(get, path = "/api/rooms/{room_id}", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)),
    responses((status = 200, body = RoomEnvelope), (status = 403, description = "banned", body = ErrorBody),
              (status = 404, description = "room_not_found", body = ErrorBody)))]
pub async fn get(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    rooms::get(&state, &access).await?;
    Ok(HttpResponse::Ok().json(RoomEnvelope { room: views::room(&access.room) }))
}

/// Change the room's settings (owner only, R-ROOM-2).
#[utoipa::path(patch, path = "/api/rooms/{room_id}", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body = UpdateRoomRequest,
    responses((status = 200, body = RoomEnvelope), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    state: Data<AppState>,
    access: RoomAccess,
    Body(request): Body<UpdateRoomRequest>,
) -> ApiResult<HttpResponse> {
    let room = rooms::update(&state, &access, request).await?;
    Ok(HttpResponse::Ok().json(RoomEnvelope { room: views::room(&room) }))
}

/// Terminate the room (owner only, R-ROOM-2, R-ROOM-6); every member is told.
#[utoipa::path(delete, path = "/api/rooms/{room_id}", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), responses((status = 204, description = "terminated"), (status = 403, body = ErrorBody)))]
pub async fn delete(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    rooms::terminate(&state, &access).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Join a room (R-ROOM-1): at once for open rooms and invitees, with the password for password
/// rooms, or as a join request (202) for request rooms.
#[utoipa::path(post, path = "/api/rooms/{room_id}/join", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body(content = JoinRoomRequest, description = "optional"),
    responses((status = 200, body = MembershipEnvelope), (status = 202, body = JoinRequestEnvelope),
              (status = 403, description = "banned, wrong_room_password, not_invited", body = ErrorBody),
              (status = 409, description = "already_member, request_pending, room_terminated", body = ErrorBody)))]
pub async fn join(
    state: Data<AppState>,
    access: RoomAccess,
    OptionalBody(request): OptionalBody<JoinRoomRequest>,
) -> ApiResult<HttpResponse> {
    Ok(match rooms::join(&state, &access, request).await? {
        Joined::Member(membership) => {
            HttpResponse::Ok().json(MembershipEnvelope { membership: views::membership(&membership) })
        }
        Joined::Requested(request) => HttpResponse::Accepted()
            .json(JoinRequestEnvelope { join_request: views::join_request(&request, &state.hub) }),
    })
}

/// Decline your invitation to the room (R-ROOM-9); its notification is marked read.
#[utoipa::path(delete, path = "/api/rooms/{room_id}/invites/me", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)),
    responses((status = 204, description = "declined"),
              (status = 404, description = "room_not_found, invite_not_found", body = ErrorBody)))]
pub async fn decline_invitation(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    rooms::decline_invitation(&state, &access).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Leave a room (R-ROOM-5). Leaving a direct conversation hides it until its next message.
#[utoipa::path(post, path = "/api/rooms/{room_id}/leave", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), responses((status = 204, description = "left"), (status = 403, body = ErrorBody)))]
pub async fn leave(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    rooms::leave(&state, &access).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The room's members in join order.
#[utoipa::path(get, path = "/api/rooms/{room_id}/members", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path), MembersQuery),
    responses((status = 200, body = Page<Member>), (status = 403, body = ErrorBody)))]
pub async fn members(
    state: Data<AppState>,
    access: RoomAccess,
    Query(query): Query<MembersQuery>,
) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::MESSAGES)?;
    let after: Option<i64> = cursor::decode(query.cursor.as_deref())?;
    let found = rooms::members(&state, &access, after, limit).await?;
    let page =
        cursor::page(found, limit, |m| m.membership.join_seq, |m| views::member(m, access.room.kind, &state.hub));
    Ok(HttpResponse::Ok().json(page))
}

/// Marks the room read up to `seq`, for unread counts.
#[utoipa::path(post, path = "/api/rooms/{room_id}/read", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body = MarkReadRequest,
    responses((status = 204, description = "marked"), (status = 403, body = ErrorBody)))]
pub async fn mark_read(
    state: Data<AppState>,
    access: RoomAccess,
    Body(request): Body<MarkReadRequest>,
) -> ApiResult<HttpResponse> {
    rooms::mark_read(&state, &access, request.seq).await?;
    Ok(HttpResponse::NoContent().finish())
}
