//! Running the client's effects against the server: each answers with the actions that report
//! how it went (refusals as the server's sentences).

use super::app::{Action, Effect, Moderation};
use crate::api::Api;
use crate::error::CliResult;
use crate::names;
use conclave_protocol::endpoints::{self, *};
use conclave_protocol::*;
use tokio::sync::{Mutex, mpsc};

/// Messages per page of history.
const PAGE: u32 = 50;

pub async fn run(effect: Effect, api: &Mutex<Api>, outgoing: &mpsc::UnboundedSender<ClientFrame>) -> Vec<Action> {
    let mut api = api.lock().await;
    match effect {
        Effect::Send { room, body, color, sticker, reply_to } => {
            let request = SendMessageRequest {
                body: body.clone(),
                color,
                sticker,
                client_id: None,
                attachment_id: None,
                reply_to,
            };
            match api.call(&SendMessage { room_id: room }, Some(&request)).await {
                Ok(sent) => vec![Action::Sent(sent.message)],
                Err(error) => vec![Action::NotSent { body, sentence: error.to_string() }],
            }
        }
        Effect::Typing(room_id) => {
            // The gateway may be away; a lost typing notice is of no consequence.
            outgoing.send(ClientFrame::Typing { room_id }).ok();
            Vec::new()
        }
        other => report(other_effect(&mut api, other).await),
    }
}

fn report(outcome: CliResult<Vec<Action>>) -> Vec<Action> {
    outcome.unwrap_or_else(|error| vec![Action::Failed(error.to_string())])
}

async fn other_effect(api: &mut Api, effect: Effect) -> CliResult<Vec<Action>> {
    Ok(match effect {
        Effect::LoadHistory { room, before } => {
            let query = MessagesQuery { before, limit: Some(PAGE), ..Default::default() };
            let page = api.call(&Messages { room_id: room.clone(), query }, None).await?;
            let complete = page.next_cursor.is_none() || page.items.iter().any(|m| m.seq == 1);
            vec![Action::History { room, messages: page.items, complete }]
        }
        Effect::LoadMembers(room) => {
            let query = MembersQuery { limit: Some(200), cursor: None };
            let page = api.call(&endpoints::Members { room_id: room.clone(), query }, None).await?;
            vec![Action::Members { room, members: page.items }]
        }
        Effect::MarkRead { room, seq } => {
            api.call(&MarkRead { room_id: room }, Some(&MarkReadRequest { seq })).await?;
            Vec::new()
        }
        Effect::Moderate { room, action, username } => {
            let user = names::user(api, &username).await?;
            let (room_id, user_id) = (room, user.id.clone());
            let done = match action {
                Moderation::Invite => {
                    let request = InviteRequest { user_id: Some(user_id), username: None };
                    api.call(&endpoints::Invite { room_id }, Some(&request)).await?;
                    "invited"
                }
                Moderation::Kick => {
                    api.call(&Kick { room_id, user_id }, None).await?;
                    "removed"
                }
                Moderation::Ban => {
                    api.call(&endpoints::Ban { room_id }, Some(&BanRequest { user_id })).await?;
                    "banned"
                }
                Moderation::Unban => {
                    api.call(&Unban { room_id, user_id }, None).await?;
                    "lifted the ban of"
                }
                Moderation::Promote | Moderation::Demote => {
                    let role =
                        if action == Moderation::Promote { AssignableRole::Admin } else { AssignableRole::Member };
                    api.call(&SetRole { room_id, user_id }, Some(&RoleChangeRequest { role })).await?;
                    if role == AssignableRole::Admin { "made an admin:" } else { "made a member:" }
                }
                Moderation::Accept => {
                    api.call(&AcceptRequest { room_id, user_id }, None).await?;
                    "let in"
                }
                Moderation::Decline => {
                    api.call(&endpoints::DeclineRequest { room_id, user_id }, None).await?;
                    "declined the request of"
                }
            };
            vec![Action::Done(format!("{done} {}", user.username))]
        }
        Effect::OpenDm { username, text } => {
            let peer = names::user(api, &username).await?;
            let request = OpenDmRequest { user_id: Some(peer.id.clone()), username: None };
            let room = api.call(&OpenDm {}, Some(&request)).await?.room;
            let mut actions = vec![Action::Rooms(names::my_rooms(api).await?), Action::Open(room.id.clone())];
            if let Some(body) = text {
                let request = SendMessageRequest {
                    body,
                    color: None,
                    sticker: None,
                    client_id: None,
                    attachment_id: None,
                    reply_to: None,
                };
                let sent = api.call(&SendMessage { room_id: room.id }, Some(&request)).await?;
                actions.push(Action::Sent(sent.message));
            }
            actions
        }
        Effect::Join(spec) => {
            let room_id = names::any_room(api, &spec).await?;
            let answer = api.call(&JoinRoom { room_id: room_id.clone() }, Some(&JoinRoomRequest::default())).await?;
            match answer {
                JoinAnswer::Joined(_) => vec![Action::Rooms(names::my_rooms(api).await?), Action::Open(room_id)],
                JoinAnswer::Requested(_) => vec![Action::Done(format!("asked to join {spec}; an admin will answer"))],
            }
        }
        Effect::Leave(room) => {
            api.call(&LeaveRoom { room_id: room }, None).await?;
            vec![Action::Rooms(names::my_rooms(api).await?), Action::Done("left the room".into())]
        }
        Effect::Edit { room, message, body } => {
            let request = EditMessageRequest { body };
            let edited = api.call(&EditMessage { room_id: room, message_id: message }, Some(&request)).await?;
            vec![Action::Frame(ServerFrame::MessageUpdated { message: edited.message })]
        }
        Effect::Delete { room, message } => {
            api.call(&DeleteMessage { room_id: room.clone(), message_id: message.clone() }, None).await?;
            vec![Action::Frame(ServerFrame::MessageDeleted { room_id: room, message_id: message })]
        }
        Effect::React { room, message, emoji, add } => {
            let (room_id, message_id) = (room, message);
            if add {
                api.call(&AddReaction { room_id, message_id, emoji }, None).await?;
            } else {
                api.call(&RemoveReaction { room_id, message_id, emoji }, None).await?;
            }
            // The gateway's frame counts it, here as for everyone.
            Vec::new()
        }
        Effect::ReloadRooms => vec![Action::Rooms(names::my_rooms(api).await?)],
        Effect::ReadAllNotifications => {
            api.call(&MarkAllNotificationsRead {}, None).await?;
            vec![Action::Notifications(notifications(api).await?)]
        }
        Effect::Send { .. } | Effect::Typing(_) => Vec::new(),
    })
}

/// The newest page of notifications.
pub async fn notifications(api: &mut Api) -> CliResult<Vec<Notification>> {
    let query = NotificationsQuery { unread_only: None, limit: Some(100), cursor: None };
    Ok(api.call(&Notifications { query }, None).await?.items)
}
