//! Messages: history, send, edit, delete (SPEC R-MSG-1 to R-MSG-3, R-MSG-7).

use super::cursor;
use super::extract::Body;
use crate::app::access::RoomAccess;
use crate::app::error::{ApiError, ApiResult};
use crate::app::messages::{self, Draft};
use crate::app::{AppState, views};
use actix_web::HttpResponse;
use actix_web::web::{Data, Path, Query};
use conclave_domain::PageLimit;
use conclave_protocol::*;
use conclave_store::HistoryRange;
use serde::{Deserialize, Serialize};

/// Where a history page continues: before or after a sequence number.
#[derive(Serialize, Deserialize)]
enum HistoryCursor {
    Before(u64),
    After(u64),
}

/// A room's messages, newest first, before or after a sequence number (R-MSG-3).
#[utoipa::path(get, path = "/api/rooms/{room_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), MessagesQuery),
    responses((status = 200, body = Page<Message>), (status = 403, description = "not_a_member", body = ErrorBody),
              (status = 404, description = "room_not_found", body = ErrorBody)))]
pub async fn list(
    state: Data<AppState>,
    access: RoomAccess,
    Query(query): Query<MessagesQuery>,
) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::MESSAGES)?;
    // A cursor continues the page it came from, so it wins over the `before`/`after` that started it.
    let range = match (cursor::decode::<HistoryCursor>(query.cursor.as_deref())?, query.before, query.after) {
        (Some(HistoryCursor::Before(seq)), _, _) => HistoryRange::Before(seq),
        (Some(HistoryCursor::After(seq)), _, _) => HistoryRange::After(seq),
        (None, None, None) => HistoryRange::Latest,
        (None, Some(seq), None) => HistoryRange::Before(seq),
        (None, None, Some(seq)) => HistoryRange::After(seq),
        (None, Some(_), Some(_)) => {
            return Err(ApiError::new(ErrorCode::InvalidQuery, "use `before` or `after`, not both"));
        }
    };
    if let HistoryRange::Before(seq) | HistoryRange::After(seq) = range
        && seq > MAX_SEQ
    {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "sequence numbers are at most 9223372036854775807"));
    }
    let mut fetched = messages::history(&state, &access, range, limit).await?;
    let more = u32::try_from(fetched.len()).map_or(true, |n| n > limit);
    if more {
        // Newest first: the extra message is the oldest when paging back, the newest when forward.
        match range {
            HistoryRange::After(_) => drop(fetched.remove(0)),
            HistoryRange::Latest | HistoryRange::Before(_) => drop(fetched.pop()),
        }
    }
    let next_cursor = match (more, range) {
        (false, _) => None,
        (true, HistoryRange::After(_)) => fetched.first().map(|m| cursor::encode(&HistoryCursor::After(m.seq))),
        (true, _) => fetched.last().map(|m| cursor::encode(&HistoryCursor::Before(m.seq))),
    };
    Ok(HttpResponse::Ok().json(Page::new(fetched, next_cursor)))
}

/// Send a message (R-MSG-1): stored with the room's next sequence number. A repeated
/// `client_id` stores nothing new and answers with the first message.
#[utoipa::path(post, path = "/api/rooms/{room_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body = SendMessageRequest,
    responses((status = 201, body = MessageEnvelope), (status = 403, description = "not_a_member", body = ErrorBody),
              (status = 404, description = "room_not_found; message_not_found for a `reply_to` not in the room", body = ErrorBody),
              (status = 409, description = "room_terminated", body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, description = "rate_limited, with Retry-After; nothing stored", body = ErrorBody)))]
pub async fn send(
    state: Data<AppState>,
    access: RoomAccess,
    Body(request): Body<SendMessageRequest>,
) -> ApiResult<HttpResponse> {
    let draft = Draft {
        body: &request.body,
        color: request.color,
        sticker: request.sticker,
        client_id: request.client_id.as_deref(),
        attachment_id: request.attachment_id,
        reply_to: request.reply_to,
    };
    let inserted = messages::send(&state, &access, draft).await?;
    Ok(HttpResponse::Created().json(MessageEnvelope { message: views::message(&inserted.message) }))
}

/// Edit your own message (R-MSG-7).
#[utoipa::path(patch, path = "/api/rooms/{room_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), ("message_id" = String, Path)), request_body = EditMessageRequest,
    responses((status = 200, body = MessageEnvelope), (status = 403, description = "forbidden: not the author", body = ErrorBody),
              (status = 404, description = "message_not_found", body = ErrorBody),
              (status = 409, description = "message_deleted", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String)>,
    Body(request): Body<EditMessageRequest>,
) -> ApiResult<HttpResponse> {
    let message_id = MessageId(path.into_inner().1);
    let edited = messages::edit(&state, &access, &message_id, &request.body).await?;
    Ok(HttpResponse::Ok().json(MessageEnvelope { message: edited }))
}

/// Delete a message: your own, or any in a room you administer (R-MSG-7).
#[utoipa::path(delete, path = "/api/rooms/{room_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), ("message_id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody), (status = 404, description = "message_not_found", body = ErrorBody)))]
pub async fn delete(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    messages::delete(&state, &access, &MessageId(path.into_inner().1)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The `{message_id}` and `{emoji}` of a reaction's path.
fn reaction_of(path: Path<(String, String, String)>) -> (MessageId, String) {
    let (_, message_id, emoji) = path.into_inner();
    (MessageId(message_id), emoji)
}

/// React to a message with an emoji (R-MSG-9): one emoji, URL-encoded in the path; at most 20
/// different ones a message. Reacting again with the same emoji changes nothing.
#[utoipa::path(put, path = "/api/rooms/{room_id}/messages/{message_id}/reactions/{emoji}", tag = "messages",
    security(("bearer" = [])),
    params(("room_id" = String, Path), ("message_id" = String, Path),
           ("emoji" = String, Path, description = "one emoji, URL-encoded (`%F0%9F%91%8D` for 👍)")),
    responses((status = 204, description = "reacted"), (status = 403, description = "not_a_member", body = ErrorBody),
              (status = 404, description = "message_not_found", body = ErrorBody),
              (status = 409, description = "message_deleted, too_many_reactions, room_terminated", body = ErrorBody),
              (status = 422, description = "validation_failed: not one emoji", body = ErrorBody)))]
pub async fn add_reaction(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (message_id, emoji) = reaction_of(path);
    messages::react(&state, &access, &message_id, &emoji).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Take your reaction back. Taking back one you did not give changes nothing.
#[utoipa::path(delete, path = "/api/rooms/{room_id}/messages/{message_id}/reactions/{emoji}", tag = "messages",
    security(("bearer" = [])),
    params(("room_id" = String, Path), ("message_id" = String, Path),
           ("emoji" = String, Path, description = "one emoji, URL-encoded")),
    responses((status = 204, description = "taken back"), (status = 403, description = "not_a_member", body = ErrorBody),
              (status = 404, description = "message_not_found", body = ErrorBody),
              (status = 409, description = "room_terminated", body = ErrorBody),
              (status = 422, description = "validation_failed: not one emoji", body = ErrorBody)))]
pub async fn remove_reaction(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (message_id, emoji) = reaction_of(path);
    messages::unreact(&state, &access, &message_id, &emoji).await?;
    Ok(HttpResponse::NoContent().finish())
}
