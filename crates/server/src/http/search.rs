//! Message search (SPEC R-MSG-11): in one room, or in every room of the caller.

use super::cursor;
use super::extract::AuthUser;
use crate::app::AppState;
use crate::app::access::RoomAccess;
use crate::app::error::{ApiError, ApiResult};
use crate::app::search::{self, Found};
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use conclave_domain::{PageLimit, SearchText};
use conclave_protocol::{ErrorBody, Message, MessageSearchQuery, Page};
use conclave_store::ScanPosition;

/// The query's parts, read: what to look for, where to start, how many.
fn parse(query: &MessageSearchQuery) -> ApiResult<(SearchText, Option<ScanPosition>, u32)> {
    let text = SearchText::parse(&query.q).map_err(|e| ApiError::field("q", e.0))?;
    let limit = cursor::limit(query.limit, PageLimit::SEARCH)?;
    let after: Option<ScanPosition> = cursor::decode(query.cursor.as_deref())?;
    Ok((text, after, limit))
}

fn answer(found: Found) -> HttpResponse {
    let next_cursor = found.next.as_ref().map(cursor::encode);
    HttpResponse::Ok().json(Page::new(found.messages, next_cursor))
}

/// Search a room's messages (members; R-MSG-11): text or attachment name containing `q` in any
/// case, newest first. A page reads at most 2000 messages, so it may hold fewer matches than
/// `limit` and still have a `next_cursor` that searches further back.
#[utoipa::path(get, path = "/api/rooms/{room_id}/messages/search", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), MessageSearchQuery),
    responses((status = 200, body = Page<Message>), (status = 403, description = "not_a_member", body = ErrorBody),
              (status = 404, description = "room_not_found", body = ErrorBody),
              (status = 422, description = "validation_failed: q, limit", body = ErrorBody)))]
pub async fn in_room(
    state: Data<AppState>,
    access: RoomAccess,
    Query(query): Query<MessageSearchQuery>,
) -> ApiResult<HttpResponse> {
    let (text, after, limit) = parse(&query)?;
    Ok(answer(search::in_room(&state, &access, &text, after, limit).await?))
}

/// Search the messages of every room you are in, direct conversations included (R-MSG-11);
/// paged as the room search is.
#[utoipa::path(get, path = "/api/search/messages", tag = "messages", security(("bearer" = [])),
    params(MessageSearchQuery),
    responses((status = 200, body = Page<Message>), (status = 422, description = "validation_failed: q, limit", body = ErrorBody)))]
pub async fn everywhere(
    state: Data<AppState>,
    auth: AuthUser,
    Query(query): Query<MessageSearchQuery>,
) -> ApiResult<HttpResponse> {
    let (text, after, limit) = parse(&query)?;
    Ok(answer(search::everywhere(&state, &auth, &text, after, limit).await?))
}
