//! Presence and typing (SPEC R-WS-2, R-WS-5): who is online, told to the rooms they share, and
//! who is typing. Sessions come and go in the gateway; what their coming and going means is
//! decided here.

use super::AppState;
use super::access::RoomAccess;
use super::error::ApiResult;
use super::events;
use crate::live::hub::{Bus, Event, Frame, Heard};
use chrono::Utc;
use conclave_domain::RoomAction;
use conclave_protocol::{RoomId, ServerFrame, UserId};
use conclave_store::DeferredWrite;

/// The rooms whose events `user`'s sessions receive (hidden direct rooms included).
pub async fn routed_rooms(state: &AppState, user: &UserId) -> ApiResult<Vec<RoomId>> {
    Ok(state.store.room_ids_of_user(user).await?)
}

/// Tells `rooms` (all but `user` themselves) that `user` came online or went offline.
pub fn announce(state: &AppState, user: &UserId, rooms: Vec<RoomId>, online: bool) {
    state.bus.publish(presence_event(user, rooms, online));
}

/// [`announce`] to this node's own sessions only (several nodes: each tells its own).
fn announce_here(state: &AppState, user: &UserId, rooms: Vec<RoomId>, online: bool) {
    state.hub.publish(presence_event(user, rooms, online));
}

fn presence_event(user: &UserId, rooms: Vec<RoomId>, online: bool) -> Event {
    let frame = ServerFrame::Presence { user_id: user.clone(), online }.to_json();
    Event::ToRooms { rooms, except: user.clone(), frame: Frame::from(frame) }
}

/// `user`'s first session on this node began: other nodes learn it, and their rooms are told
/// unless the user was online on another node already.
pub fn came_online(state: &AppState, user: &UserId, rooms: Vec<RoomId>) {
    let elsewhere = state.hub.online_elsewhere(user);
    state.bus.publish(Event::Presence { user: user.clone(), online: true, told_rooms: !elsewhere });
    if !elsewhere {
        announce(state, user, rooms, true);
    }
}

/// `user`'s last session on this node ended: other nodes learn it; unless the user is still
/// online on another node, their rooms are told, and it is when they were last seen.
pub async fn went_offline(state: &AppState, user: &UserId, rooms: Vec<RoomId>) {
    if state.hub.online_elsewhere(user) {
        // That node tells the rooms when it ends; should both end at once, this one does.
        state.bus.publish(Event::Presence { user: user.clone(), online: false, told_rooms: false });
        state.hub.left_while_elsewhere(user);
        return;
    }
    // The rooms are told before the other nodes learn it: a node where a session began
    // meanwhile answers "online" after this "offline", on every node (one channel, in order).
    announce(state, user, rooms, false);
    state.bus.publish(Event::Presence { user: user.clone(), online: false, told_rooms: true });
    seen(state, user).await;
}

/// What this node learns of `users`' presence from the others (several nodes). Those whose
/// node went silent: this node tells its own sessions in their rooms (every node does the same
/// for its own). Those who left here while online on a node that has let them go since: their
/// rooms are told, as [`went_offline`] would have. Those another node called offline while
/// they have a session here: their rooms are told they are online. Those a heartbeat shows
/// online or gone though this node missed it: this node tells its own sessions.
pub async fn heard(state: &AppState, users: Vec<UserId>, what: Heard) {
    let only_here = matches!(what, Heard::GoneWithTheirNode | Heard::BackWithTheirNode);
    if only_here && state.hub.session_count() == 0 {
        // Nobody here to tell (a node that just started hears everyone come back).
        return;
    }
    for user in users {
        let rooms = match routed_rooms(state, &user).await {
            Ok(rooms) => rooms,
            Err(error) => {
                tracing::warn!(user_id = %user, message = %error.message, "could not tell a gone user's rooms");
                continue;
            }
        };
        match what {
            Heard::StillHere => {
                if state.hub.is_online_here(&user) {
                    announce(state, &user, rooms, true);
                }
            }
            Heard::BackWithTheirNode => {
                if state.hub.is_online(&user) {
                    announce_here(state, &user, rooms, true);
                }
            }
            // Back meanwhile (on any node, as far as this one has heard): nothing to tell.
            _ if state.hub.is_online(&user) => {}
            Heard::GoneWithTheirNode => announce_here(state, &user, rooms, false),
            Heard::GoneElsewhereToo => {
                announce(state, &user, rooms, false);
                seen(state, &user).await;
            }
        }
    }
}

/// Moves `user`'s last-seen time to now (a buffered write, R-OPS-3). Best effort: a server that
/// is stopping keeps the time it has.
async fn seen(state: &AppState, user: &UserId) {
    if state.deferred.defer(DeferredWrite::LastSeen { user: user.clone(), at: Utc::now() }).await.is_err() {
        tracing::debug!(user_id = %user, "last seen not recorded: the server is stopping");
    }
}

/// Tells the room that the caller is typing (members of live rooms), unless `repeated`: the
/// session told it moments ago (the gateway says it at most once a second per room). Typing is
/// activity: it moves their last-seen time.
pub async fn typing(state: &AppState, access: &RoomAccess, repeated: bool) -> ApiResult<()> {
    access.authorize(RoomAction::Post)?;
    access.live()?;
    if repeated {
        return Ok(());
    }
    let frame = ServerFrame::Typing { room_id: access.room.id.clone(), user_id: access.user.id.clone() };
    events::to_room(state.bus.as_ref(), &access.room.id, &frame);
    seen(state, &access.user.id).await;
    Ok(())
}
