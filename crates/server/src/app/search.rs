//! Message search (SPEC R-MSG-11) over sealed bodies: a bounded decrypt-and-scan. A page opens
//! at most [`SEARCH_SCAN_PER_PAGE`] of the rooms' messages, newest first, and keeps those that
//! match; where it stopped is the next page's start. Nothing about a body is kept unsealed, so
//! a search costs reading (see the README's "Search" for the figures).

use super::AppState;
use super::access::RoomAccess;
use super::auth::AuthUser;
use super::error::ApiResult;
use super::views;
use conclave_domain::{RoomAction, SEARCH_SCAN_PER_PAGE, SearchText};
use conclave_protocol::{Message, MessageId, RoomId, UserId};
use conclave_store::{MessageRecord, ScanPosition};
use std::collections::BTreeMap;

/// One page of matches, and where the next page starts (none when the rooms are read to their
/// first message).
pub struct Found {
    pub messages: Vec<Message>,
    pub next: Option<ScanPosition>,
}

/// Search the room of `access` (members).
pub async fn in_room(
    state: &AppState,
    access: &RoomAccess,
    text: &SearchText,
    after: Option<ScanPosition>,
    limit: u32,
) -> ApiResult<Found> {
    access.authorize(RoomAction::Read)?;
    search(state, &access.user.id, std::slice::from_ref(&access.room.id), text, after, limit).await
}

/// Search every room the caller is in, direct conversations included.
pub async fn everywhere(
    state: &AppState,
    auth: &AuthUser,
    text: &SearchText,
    after: Option<ScanPosition>,
    limit: u32,
) -> ApiResult<Found> {
    let rooms = state.store.room_ids_of_user(&auth.id).await?;
    search(state, &auth.id, &rooms, text, after, limit).await
}

fn matches(text: &SearchText, message: &MessageRecord) -> bool {
    text.found_in(&message.body) || message.attachment.as_ref().is_some_and(|a| text.found_in(&a.filename))
}

async fn search(
    state: &AppState,
    reader: &UserId,
    rooms: &[RoomId],
    text: &SearchText,
    after: Option<ScanPosition>,
    limit: u32,
) -> ApiResult<Found> {
    let scanned = state.store.scan_messages(rooms, after.as_ref(), SEARCH_SCAN_PER_PAGE).await?;
    let read_to_the_start = scanned.len() < usize::try_from(SEARCH_SCAN_PER_PAGE).unwrap_or(usize::MAX);
    // Where the scan stopped: the next page goes on from there, unless the rooms are read out.
    let mut next = if read_to_the_start { None } else { scanned.last().map(ScanPosition::of) };
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut hits: Vec<MessageRecord> = Vec::new();
    for message in scanned {
        if matches(text, &message) {
            hits.push(message);
            if hits.len() == wanted {
                next = hits.last().map(ScanPosition::of);
                break;
            }
        }
    }
    // The reader's reactions, one read per room the matches are in.
    let mut by_room: BTreeMap<&RoomId, Vec<MessageId>> = BTreeMap::new();
    for hit in &hits {
        by_room.entry(&hit.room_id).or_default().push(hit.id.clone());
    }
    let mut counts = Vec::new();
    for (room, ids) in by_room {
        counts.extend(state.store.reactions(room, &ids, Some(reader)).await?);
    }
    Ok(Found { messages: views::messages_with_reactions(&hits, counts), next })
}
