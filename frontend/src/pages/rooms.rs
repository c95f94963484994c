//! My rooms with unread counts, room search and join (R-ROOM-8), and room creation.

use super::go;
use super::widgets::{ErrorLine, JoinButton, PolicySelect, policy_name, report, room_title};
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{CreateRoomRequest, JoinPolicy, MyRoom, Room, RoomId, RoomSearchQuery, User};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use std::collections::HashSet;

#[component]
pub fn RoomsPage() -> impl IntoView {
    super::authed(|me| view! { <RoomsBody me=me/> })
}

/// The rooms the user is in (the sidebar's list: reloaded when memberships change and while
/// messages arrive), or why they could not be loaded.
pub fn my_rooms() -> Signal<Option<Result<Vec<MyRoom>, String>>> {
    let inbox = expect_context::<crate::inbox::Inbox>();
    Signal::derive(move || inbox.mine())
}

/// A list of rooms with unread counts.
#[component]
pub fn RoomList(me: User, rooms: Vec<MyRoom>, #[prop(into)] empty: String) -> impl IntoView {
    if rooms.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    let home = super::home(&me);
    view! {
        <ul class="rooms">
            {rooms.into_iter().map(|item| {
                let title = room_title(&item);
                let href = format!("{home}/rooms/{}", item.room.id);
                let unread = item.unread_count;
                view! {
                    <li>
                        <A href=href>{title}</A>
                        <Show when=move || { unread > 0 }>
                            <span class="badge" title="unread messages">{unread}</span>
                        </Show>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn RoomsBody(me: User) -> impl IntoView {
    let session = expect_context::<Session>();
    let mine = my_rooms();
    let member_of = move || -> HashSet<RoomId> {
        mine.get().and_then(Result::ok).map(|rooms| rooms.into_iter().map(|r| r.room.id).collect()).unwrap_or_default()
    };
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Vec<Room>>);
    let search_error = RwSignal::new(None::<String>);
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        leptos::task::spawn_local(async move {
            let query = RoomSearchQuery { q: Some(q.trim().to_owned()), limit: Some(50), cursor: None };
            let outcome = session.request(&endpoints::SearchRooms { query }, None).await;
            report(search_error, &outcome);
            found.try_set(outcome.ok().map(|page| page.items));
        });
    };
    let (name, topic) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (policy, room_password) = (RwSignal::new(JoinPolicy::Open), RwSignal::new(String::new()));
    let create_error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let home = super::home(&me);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let join_policy = policy.get_untracked();
        let topic = Some(topic.get_untracked()).filter(|t| !t.trim().is_empty());
        let password = (join_policy == JoinPolicy::Password).then(|| room_password.get_untracked());
        let request = CreateRoomRequest { name: name.get_untracked(), topic, join_policy, password };
        let (navigate, home) = (navigate.clone(), home.clone());
        leptos::task::spawn_local(async move {
            let outcome = session.request(&endpoints::CreateRoom {}, Some(&request)).await;
            report(create_error, &outcome);
            if let Ok(created) = outcome {
                go(&navigate, &format!("{home}/rooms/{}", created.room.id));
            }
        });
    };
    let me_for_list = me.clone();
    view! {
        <div class="columns">
            <section class="card">
                <h1>"My rooms"</h1>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || mine.get().map(|answer| match answer {
                        Ok(rooms) => view! { <RoomList me=me_for_list.clone() rooms=rooms empty="No rooms yet: create one or find one."/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section class="card">
                <h2>"Find a room"</h2>
                <form class="inline" on:submit=search role="search">
                    <input type="search" placeholder="Room name" aria-label="Search rooms" bind:value=query/>
                    <button type="submit">"Search"</button>
                </form>
                <ErrorLine error=search_error/>
                {move || found.get().map(|rooms| {
                    if rooms.is_empty() {
                        return view! { <p class="muted">"No room matches."</p> }.into_any();
                    }
                    let mine = member_of();
                    view! {
                        <ul class="rooms results">
                            {rooms.into_iter().map(|room| {
                                let label = format!("{} · {} · {} members", room.name, policy_name(&room), room.member_count);
                                let action = if mine.contains(&room.id) {
                                    view! { <A href=format!("{}/rooms/{}", super::home(&me), room.id)>"Open"</A> }.into_any()
                                } else {
                                    let password = room.join_policy == JoinPolicy::Password;
                                    view! { <JoinButton room_id=room.id.clone() me=me.clone() password=password/> }.into_any()
                                };
                                view! { <li><span>{label}</span> {action}</li> }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })}
                <h2>"Create a room"</h2>
                <form on:submit=create>
                    <label>"Name" <input required maxlength="64" bind:value=name/></label>
                    <label>"Topic (optional)" <input maxlength="256" bind:value=topic/></label>
                    <PolicySelect policy=policy/>
                    <Show when=move || policy.get() == JoinPolicy::Password>
                        <label>"Room password" <input type="password" required minlength="4" bind:value=room_password/></label>
                    </Show>
                    <ErrorLine error=create_error/>
                    <button type="submit">"Create"</button>
                </form>
            </section>
        </div>
    }
}
