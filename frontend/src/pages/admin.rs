//! The admin panel of a room (SPEC R-ROOM-3, R-ROOM-4, R-ROOM-6): invite by username, answer
//! join requests, kick, ban and unban, promote and demote; for the owner, the room's settings
//! and closing the room.

use super::go;
use super::room::Details;
use super::widgets::{ErrorLine, PolicySelect, confirmed, report, wire_name};
use crate::api::ApiError;
use crate::live::Live;
use crate::session::{Prepared, Session};
use conclave_protocol::endpoints;
use conclave_protocol::{
    AssignableRole, Ban, BanRequest, InviteRequest, JoinPolicy, JoinRequest, Member, Role, RoleChangeRequest, Room,
    RoomId, UpdateRoomRequest, User,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

#[component]
pub fn AdminPage() -> impl IntoView {
    super::authed(|me| {
        let room_id = super::room_param();
        view! { {move || view! { <Panel me=me.clone() room_id=room_id.get()/> }} }
    })
}

#[derive(Clone)]
struct State {
    room: Room,
    members: Vec<Member>,
    requests: Vec<JoinRequest>,
    bans: Vec<Ban>,
}

#[component]
fn Panel(me: User, room_id: RoomId) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let reload = RwSignal::new(0u32);
    let state = LocalResource::new({
        let room_id = room_id.clone();
        move || {
            live.rooms_changed.track();
            live.notifications_changed.track();
            reload.track();
            let room_id = room_id.clone();
            async move {
                let (requests, bans) = (
                    endpoints::JoinRequests { room_id: room_id.clone() },
                    endpoints::Bans { room_id: room_id.clone() },
                );
                let (details, requests, bans) = futures::try_join!(
                    Details::load(session, &room_id),
                    session.request(&requests, None),
                    session.request(&bans, None),
                )?;
                let Details { room, members } = details;
                Ok::<_, ApiError>(State { room, members, requests: requests.items, bans: bans.items })
            }
        }
    });
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let leaving = RwSignal::new(false);
    // Runs one moderation call; the lists reload whatever the outcome.
    let act = Callback::new(move |call: Call| {
        leptos::task::spawn_local(async move {
            let outcome = session.run(&call.request).await;
            report(error, &outcome);
            notice.try_set(outcome.is_ok().then_some(call.done));
            reload.try_update(|n| *n += 1);
            // Answering a request answers its notifications (R-ROOM-9): the badge follows.
            live.notifications_changed.try_update(|n| *n += 1);
            if call.leaves && outcome.is_ok() {
                leaving.try_set(true);
            }
        });
    });
    let navigate = use_navigate();
    let home = super::home(&me);
    Effect::new({
        let home = home.clone();
        move |_| {
            if leaving.get() {
                go(&navigate, &home);
            }
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let (me, home) = (me.clone(), home.clone());
                move || state.get().map(|answer| match answer {
                    Err(e) => view! {
                        <section class="card narrow"><p class="error" role="alert">{e.message()}</p><A href=home.clone()>"Back to my rooms"</A></section>
                    }.into_any(),
                    Ok(state) => {
                        let my_role = state.members.iter().find(|m| m.user.id == me.id).and_then(|m| m.role);
                        let owner = my_role == Some(Role::Owner);
                        let room_href = format!("{home}/rooms/{}", state.room.id);
                        view! {
                            <section class="card">
                                <header class="room-head">
                                    <h1>{format!("Manage {}", state.room.name)}</h1>
                                    <A href=room_href>"Back to the room"</A>
                                </header>
                                <Show when=move || notice.with(Option::is_some)><p class="ok" role="status">{move || notice.get()}</p></Show>
                                <ErrorLine error=error/>
                            </section>
                            <div class="columns">
                                <div>
                                    <Invite room_id=state.room.id.clone() act=act/>
                                    <Requests room_id=state.room.id.clone() requests=state.requests.clone() act=act/>
                                    <Bans room_id=state.room.id.clone() bans=state.bans.clone() act=act/>
                                </div>
                                <div>
                                    <Members me=me.clone() room_id=state.room.id.clone() members=state.members.clone() owner=owner act=act/>
                                    {owner.then(|| view! { <Settings room=state.room.clone() act=act/> })}
                                </div>
                            </div>
                        }.into_any()
                    }
                })
            }
        </Suspense>
    }
}

/// One moderation call: method, path, body, and what to say when it worked.
#[derive(Clone)]
struct Call {
    request: Prepared,
    done: String,
    /// The call closes the room: go back to the rooms list after it.
    leaves: bool,
}

impl Call {
    fn new(request: Prepared, done: String) -> Self {
        Self { request, done, leaves: false }
    }
}

#[component]
fn Invite(room_id: RoomId, act: Callback<Call>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = username.get_untracked().trim().to_owned();
        let body = InviteRequest { user_id: None, username: Some(name.clone()) };
        let invite = Prepared::new(&endpoints::Invite { room_id: room_id.clone() }, Some(&body));
        act.run(Call::new(invite, format!("{name} is invited.")));
        username.set(String::new());
    };
    view! {
        <section class="card">
            <h2>"Invite someone"</h2>
            <form class="inline" on:submit=submit>
                <input placeholder="Username" aria-label="Username to invite" required bind:value=username/>
                <button type="submit">"Invite"</button>
            </form>
        </section>
    }
}

#[component]
fn Requests(room_id: RoomId, requests: Vec<JoinRequest>, act: Callback<Call>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Requests to join"</h2>
            {if requests.is_empty() {
                view! { <p class="muted">"No pending requests."</p> }.into_any()
            } else {
                view! {
                    <ul class="rooms requests">
                        {requests.into_iter().map(|request| {
                            let (name, user) = (request.user.username.clone(), request.user.id.clone());
                            let (room_id, user_id) = (room_id.clone(), user.clone());
                            let accept = Prepared::new(&endpoints::AcceptRequest { room_id: room_id.clone(), user_id: user_id.clone() }, None);
                            let decline = Prepared::new(&endpoints::DeclineRequest { room_id, user_id }, None);
                            let (accepted, declined) = (format!("{name} joined."), format!("{name}'s request is declined."));
                            view! {
                                <li>
                                    <span>{name.clone()}</span>
                                    <span class="buttons">
                                        <button on:click=move |_| act.run(Call::new(accept.clone(), accepted.clone()))>"Accept"</button>
                                        <button class="secondary" on:click=move |_| act.run(Call::new(decline.clone(), declined.clone()))>"Decline"</button>
                                    </span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Bans(room_id: RoomId, bans: Vec<Ban>, act: Callback<Call>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Banned"</h2>
            {if bans.is_empty() {
                view! { <p class="muted">"Nobody is banned."</p> }.into_any()
            } else {
                view! {
                    <ul class="rooms bans">
                        {bans.into_iter().map(|ban| {
                            let name = ban.user.username.clone();
                            let path = Prepared::new(&endpoints::Unban { room_id: room_id.clone(), user_id: ban.user.id.clone() }, None);
                            let done = format!("{name} may come back.");
                            view! {
                                <li>
                                    <span>{name.clone()}</span>
                                    <button class="secondary" on:click=move |_| act.run(Call::new(path.clone(), done.clone()))>"Unban"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Members(me: User, room_id: RoomId, members: Vec<Member>, owner: bool, act: Callback<Call>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Members"</h2>
            <ul class="rooms members-admin">
                {members.into_iter().map(|member| {
                    let role = member.role.unwrap_or(Role::Member);
                    let (name, user) = (member.user.username.clone(), member.user.id.clone());
                    let others = user != me.id && role != Role::Owner;
                    let kick = Prepared::new(&endpoints::Kick { room_id: room_id.clone(), user_id: user.clone() }, None);
                    let (to, label) = if role == Role::Admin {
                        (AssignableRole::Member, "Make member")
                    } else {
                        (AssignableRole::Admin, "Make admin")
                    };
                    let set_role = Prepared::new(
                        &endpoints::SetRole { room_id: room_id.clone(), user_id: user.clone() },
                        Some(&RoleChangeRequest { role: to }),
                    );
                    let ban = Prepared::new(
                        &endpoints::Ban { room_id: room_id.clone() },
                        Some(&BanRequest { user_id: user.clone() }),
                    );
                    let (kicked, banned) = (format!("{name} was removed."), format!("{name} is banned."));
                    let kick_question = format!("Remove {name} from the room? They can ask to join again.");
                    let ban_question = format!("Ban {name}? They are removed and cannot come back until unbanned.");
                    let changed = format!("{name} is now {}.", if to == AssignableRole::Admin { "an admin" } else { "a member" });
                    view! {
                        <li data-user=name.clone()>
                            <span>{name.clone()} " " <span class="role">{wire_name(&role)}</span></span>
                            <Show when=move || others>
                                <span class="buttons">
                                    {owner.then(|| {
                                        let (set_role, changed) = (set_role.clone(), changed.clone());
                                        view! { <button class="secondary" on:click=move |_| act.run(Call::new(set_role.clone(), changed.clone()))>{label}</button> }
                                    })}
                                    {
                                        let (kick, kicked) = (kick.clone(), kicked.clone());
                                        let question = kick_question.clone();
                                        view! { <button class="secondary" on:click=move |_| if confirmed(&question) { act.run(Call::new(kick.clone(), kicked.clone())) }>"Kick"</button> }
                                    }
                                    {
                                        let (ban, banned) = (ban.clone(), banned.clone());
                                        let question = ban_question.clone();
                                        view! { <button class="danger" on:click=move |_| if confirmed(&question) { act.run(Call::new(ban.clone(), banned.clone())) }>"Ban"</button> }
                                    }
                                </span>
                            </Show>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The owner's settings: name, topic, who may join (and the password), and closing the room.
#[component]
fn Settings(room: Room, act: Callback<Call>) -> impl IntoView {
    let name = RwSignal::new(room.name.clone());
    let topic = RwSignal::new(room.topic.clone().unwrap_or_default());
    let policy = RwSignal::new(room.join_policy);
    let password = RwSignal::new(String::new());
    let room_id = room.id.clone();
    let save = {
        let room_id = room_id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let join_policy = policy.get_untracked();
            let secret = password.get_untracked();
            let request = UpdateRoomRequest {
                name: Some(name.get_untracked()),
                topic: Some(topic.get_untracked()),
                join_policy: Some(join_policy),
                password: (join_policy == JoinPolicy::Password && !secret.is_empty()).then_some(secret),
            };
            let update = Prepared::new(&endpoints::UpdateRoom { room_id: room_id.clone() }, Some(&request));
            act.run(Call::new(update, "Settings saved.".into()));
        }
    };
    let close = move |_| {
        if confirmed("Close this room for everyone? This cannot be undone.") {
            let delete = Prepared::new(&endpoints::DeleteRoom { room_id: room_id.clone() }, None);
            let call = Call { leaves: true, ..Call::new(delete, "The room is closed.".into()) };
            act.run(call);
        }
    };
    let current = room.join_policy;
    view! {
        <section class="card">
            <h2>"Settings"</h2>
            <form on:submit=save>
                <label>"Name" <input required maxlength="64" bind:value=name/></label>
                <label>"Topic" <input maxlength="256" bind:value=topic/></label>
                <PolicySelect policy=policy/>
                <Show when=move || policy.get() == JoinPolicy::Password>
                    <label>{if current == JoinPolicy::Password { "New password (leave empty to keep it)" } else { "Room password" }}
                        <input type="password" minlength="4" bind:value=password/></label>
                </Show>
                <button type="submit">"Save"</button>
            </form>
            <h2 class="danger-zone">"Close the room"</h2>
            <p class="muted">"Everyone is removed and the room disappears from search."</p>
            <button class="danger" on:click=close>"Close the room"</button>
        </section>
    }
}
