//! A room: history with infinite scroll upwards, live messages, members with roles and
//! presence, who is typing, and the composer (colour, stickers, attachments; Enter sends,
//! Shift+Enter breaks the line). SPEC R-MSG-1 to R-MSG-6, R-WS-2.
//!
//! - `history`: the messages, paging back, the read marker;
//! - `composer`: the draft, colours, stickers, uploads, and who is typing;
//! - `attachment`: a message's file, shown or linked;
//! - `members`: the member list with roles and presence.

mod attachment;
mod composer;
mod history;
mod members;
pub(crate) mod text;

use super::go;
use super::widgets::{ErrorLine, JoinButton, confirmed, report};
use crate::api::ApiError;
use crate::live::Live;
use crate::session::Session;
use composer::{Compose, Composer, Typing};
use conclave_protocol::endpoints;
use conclave_protocol::{ErrorCode, JoinPolicy, LeaveReason, Member, MembersQuery, Role, Room, RoomId, RoomKind, User};
use history::Messages;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use members::MemberList;

#[component]
pub fn RoomPage() -> impl IntoView {
    super::authed(|me| {
        let room_id = super::room_param();
        // The room on screen counts as read in the sidebar and the tab's title (R-UI-4).
        let inbox = expect_context::<crate::inbox::Inbox>();
        Effect::new(move |_| inbox.viewing.set(Some(room_id.get())));
        on_cleanup(move || inbox.viewing.set(None));
        view! { {move || view! { <Conversation me=me.clone() room_id=room_id.get()/> }} }
    })
}

/// The room and its members, reloaded when the gateway says they changed.
#[derive(Clone, PartialEq)]
pub(super) struct Details {
    pub room: Room,
    pub members: Vec<Member>,
}

impl Details {
    /// Loads both at once.
    pub async fn load(session: Session, room_id: &RoomId) -> Result<Self, ApiError> {
        let room = endpoints::GetRoom { room_id: room_id.clone() };
        let members =
            endpoints::Members { room_id: room_id.clone(), query: MembersQuery { limit: Some(200), cursor: None } };
        let (room, members) = futures::try_join!(session.request(&room, None), session.request(&members, None))?;
        Ok(Self { room: room.room, members: members.items })
    }

    fn role_of(&self, user: &User) -> Option<Role> {
        self.members.iter().find(|m| m.user.id == user.id).and_then(|m| m.role)
    }

    fn title(&self, me: &User) -> String {
        match self.room.kind {
            RoomKind::Group => self.room.name.clone(),
            RoomKind::Direct => self
                .members
                .iter()
                .find(|m| m.user.id != me.id)
                .map_or_else(|| "Direct conversation".to_owned(), |m| format!("@{}", m.user.username)),
        }
    }
}

fn removal_text(reason: LeaveReason) -> &'static str {
    match reason {
        LeaveReason::Left => "You left this room.",
        LeaveReason::Kicked => "You were removed from this room by an admin.",
        LeaveReason::Banned => "You were banned from this room.",
        LeaveReason::Terminated => "This room was closed by its owner.",
    }
}

/// Where the page is: the room's first load, a refusal, or the room. Reloads of the details
/// keep the phase, so the history, its scroll position and the draft stay as they are.
#[derive(Clone, PartialEq)]
enum Phase {
    Loading,
    Failed(ApiError),
    Removed(LeaveReason),
    Ready,
}

#[component]
fn Conversation(me: User, room_id: RoomId) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let loaded = LocalResource::new({
        let room_id = room_id.clone();
        move || {
            live.rooms_changed.track();
            let room_id = room_id.clone();
            async move { Details::load(session, &room_id).await }
        }
    });
    // The last details that loaded: a failed reload (say, just after a kick) keeps them.
    let details = RwSignal::new(None::<Details>);
    let failure = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| match loaded.get() {
        Some(Ok(fresh)) => {
            failure.set(None);
            if details.with_untracked(|d| d.as_ref() != Some(&fresh)) {
                details.set(Some(fresh));
            }
        }
        Some(Err(e)) => failure.set(Some(e)),
        None => {}
    });
    let phase = {
        let room_id = room_id.clone();
        Memo::new(move |_| {
            if let Some(reason) = live.removed.with(|r| r.get(&room_id).copied()) {
                Phase::Removed(reason)
            } else if details.with(Option::is_some) {
                Phase::Ready
            } else if let Some(error) = failure.get() {
                Phase::Failed(error)
            } else {
                Phase::Loading
            }
        })
    };
    let home = super::home(&me);
    view! {
        {move || match phase.get() {
            Phase::Loading => view! { <p class="loading">"Loading the room…"</p> }.into_any(),
            Phase::Removed(reason) => view! {
                <section class="card narrow" role="alert">
                    <h1>{removal_text(reason)}</h1>
                    <p><A href=home.clone()>"Back to my rooms"</A></p>
                </section>
            }.into_any(),
            Phase::Failed(error) if error.code() == Some(ErrorCode::NotAMember) => view! {
                <Outside me=me.clone() room_id=room_id.clone()/>
            }.into_any(),
            Phase::Failed(error) => view! {
                <section class="card narrow">
                    <p class="error" role="alert">{error.message()}</p>
                    <A href=home.clone()>"Back to my rooms"</A>
                </section>
            }.into_any(),
            Phase::Ready => view! { <RoomLayout me=me.clone() room_id=room_id.clone() details=details/> }.into_any(),
        }}
    }
}

/// A room the user is not in (say, after an unban, or from a link): what it is, and a way in
/// when its policy has one.
#[component]
fn Outside(me: User, room_id: RoomId) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let room = LocalResource::new({
        let room_id = room_id.clone();
        move || {
            let room_id = room_id.clone();
            async move { session.request(&endpoints::GetRoom { room_id }, None).await }
        }
    });
    let joined = Callback::new(move |()| live.rooms_changed.update(|n| *n += 1));
    let home = super::home(&me);
    view! {
        <section class="card narrow">
            {move || room.get().map(|found| match found {
                Ok(found) => {
                    let password = found.room.join_policy == JoinPolicy::Password;
                    view! {
                        <h1>{found.room.name.clone()}</h1>
                        {found.room.topic.clone().map(|topic| view! { <p class="muted">{topic}</p> })}
                        <p>"You are not a member of this room."</p>
                        <JoinButton room_id=found.room.id.clone() me=me.clone() password=password label="Join the room" on_joined=joined/>
                    }.into_any()
                }
                Err(error) => view! { <p class="error" role="alert">{error.message()}</p> }.into_any(),
            })}
            <p><A href=home.clone()>"Back to my rooms"</A></p>
        </section>
    }
}

#[component]
fn RoomLayout(me: User, room_id: RoomId, details: RwSignal<Option<Details>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let role = {
        let me = me.clone();
        Memo::new(move |_| details.with(|d| d.as_ref().and_then(|d| d.role_of(&me))))
    };
    let kind = Memo::new(move |_| details.with(|d| d.as_ref().map_or(RoomKind::Group, |d| d.room.kind)));
    let admin = Signal::derive(move || role.get().is_some_and(Role::is_admin) && kind.get() == RoomKind::Group);
    let members = Memo::new(move |_| details.with(|d| d.as_ref().map(|d| d.members.clone()).unwrap_or_default()));
    let title = {
        let me = me.clone();
        move || details.with(|d| d.as_ref().map(|d| d.title(&me)).unwrap_or_default())
    };
    let topic = move || details.with(|d| d.as_ref().and_then(|d| d.room.topic.clone()));
    let home = super::home(&me);
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let leave = {
        let (room_id, home) = (room_id.clone(), home.clone());
        move |_| {
            if !confirmed("Leave this room? You can rejoin it from History.") {
                return;
            }
            let (room_id, home, navigate) = (room_id.clone(), home.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                let outcome = session.request(&endpoints::LeaveRoom { room_id }, None).await;
                report(error, &outcome);
                if outcome.is_ok() {
                    go(&navigate, &home);
                }
            });
        }
    };
    let manage = format!("{home}/rooms/{room_id}/admin");
    let search = format!("{home}/search?room={room_id}");
    provide_context(Compose::new());
    // On a phone the member list is behind a button.
    let members_open = RwSignal::new(false);
    view! {
        <div class="room">
            <section class="card conversation">
                <header class="room-head">
                    <div>
                        <h1>{title}</h1>
                        {move || topic().map(|t| view! { <p class="muted topic">{t}</p> })}
                    </div>
                    <div class="actions">
                        <button type="button" class="secondary members-toggle" aria-expanded=move || members_open.get().to_string()
                            on:click=move |_| members_open.update(|open| *open = !*open)>
                            {move || format!("Members ({})", members.with(Vec::len))}
                        </button>
                        <A href=search.clone()>"Search"</A>
                        <Show when=move || admin.get()>
                            <A href=manage.clone()>"Manage"</A>
                        </Show>
                        <button class="secondary" on:click=leave.clone()>"Leave"</button>
                    </div>
                </header>
                <ErrorLine error=error/>
                <Messages me=me.clone() room_id=room_id.clone() can_moderate=admin members=members/>
                <Typing me=me.clone() room_id=room_id.clone() members=members/>
                <Composer me=me.clone() room_id=room_id.clone() members=members/>
            </section>
            <aside class="card members" class:open=move || members_open.get()>
                <h2>{move || format!("Members ({})", members.with(Vec::len))}</h2>
                {move || view! { <MemberList me=me.clone() members=members.get()/> }}
            </aside>
        </div>
    }
}
