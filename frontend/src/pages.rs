//! The pages (SPEC R-UI-1 to R-UI-3). Client URLs follow `/u/{username}/…`; a logged-out or
//! wrong-user visit lands on the login page and comes back after login.

use crate::api::{self, ApiError};
use crate::live::{Connection, Live};
use crate::session::Session;
use conclave_protocol::*;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate, use_params_map, use_query_map};

/// Navigates with a function taken from `use_navigate()` in the component's body: the router is
/// not reachable from async tasks.
fn go(navigate: &impl Fn(&str, NavigateOptions), path: &str) {
    navigate(path, NavigateOptions::default());
}

fn encode(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.~/".contains(c) { c.to_string() } else { format!("%{:02X}", c as u32) }
        })
        .collect()
}

/// The logged-in user, once the session is known to match `username` in the URL. Otherwise
/// sends the visitor to the login page, with the way back (R-ACC-4, R-UI-3).
fn guard() -> Signal<Option<crate::session::Signed>> {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if !session.checked.get() {
            return;
        }
        let wanted = params.with(|p| p.get("username")).unwrap_or_default();
        let matches = session.current.with(|s| s.as_ref().is_some_and(|s| s.user.username == wanted));
        if !matches {
            let back = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
            navigate(
                &format!("/login?next={}", encode(&back)),
                NavigateOptions { replace: true, ..Default::default() },
            );
        }
    });
    Signal::derive(move || {
        let wanted = params.with(|p| p.get("username")).unwrap_or_default();
        session.current.get().filter(|s| s.user.username == wanted)
    })
}

#[component]
pub fn Home() -> impl IntoView {
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if session.checked.get() {
            match session.current.get() {
                Some(signed) => go(&navigate, &format!("/u/{}", signed.user.username)),
                None => go(&navigate, "/login"),
            }
        }
    });
    view! { <p class="loading">"Loading…"</p> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Nothing here"</h1>
            <p>"This page does not exist. " <A href="/">"Go to your rooms"</A></p>
        </section>
    }
}

#[component]
fn ErrorLine(error: RwSignal<Option<String>>) -> impl IntoView {
    view! { <Show when=move || error.with(Option::is_some)><p class="error" role="alert">{move || error.get()}</p></Show> }
}

#[component]
pub fn Login() -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    let (username, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let next = query.with_untracked(|q| q.get("next"));
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match session.login(username.get_untracked(), password.get_untracked()).await {
                Ok(()) => {
                    let me = session
                        .current
                        .with_untracked(|s| s.as_ref().map(|s| s.user.username.clone()))
                        .unwrap_or_default();
                    let home = format!("/u/{me}");
                    let target = next.filter(|n| n.starts_with(&format!("{home}/")) || *n == home).unwrap_or(home);
                    go(&navigate, &target);
                }
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Log in to Conclave"</h1>
            <form on:submit=submit>
                <label>"Username" <input autocomplete="username" required bind:value=username/></label>
                <label>"Password" <input type="password" autocomplete="current-password" required bind:value=password/></label>
                <ErrorLine error=error/>
                <button type="submit" disabled=move || busy.get()>"Log in"</button>
            </form>
            <p>"New here? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}

#[component]
pub fn Signup() -> impl IntoView {
    let session = expect_context::<Session>();
    let (username, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (first_name, last_name) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let optional = |s: String| if s.trim().is_empty() { None } else { Some(s) };
        let request = SignupRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
            first_name: optional(first_name.get_untracked()),
            last_name: optional(last_name.get_untracked()),
        };
        leptos::task::spawn_local(async move {
            let created: Result<UserEnvelope, ApiError> = api::post("/api/auth/signup", &request, None).await;
            match created {
                Ok(_) => match session.login(request.username.clone(), request.password).await {
                    Ok(()) => go(&navigate, &format!("/u/{}", request.username.trim().to_lowercase())),
                    Err(e) => error.set(Some(e.message())),
                },
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <form on:submit=submit>
                <label>"Username" <input autocomplete="username" required minlength="3" maxlength="32" bind:value=username/></label>
                <label>"Password" <input type="password" autocomplete="new-password" required minlength="10" bind:value=password/></label>
                <label>"First name (optional)" <input autocomplete="given-name" bind:value=first_name/></label>
                <label>"Last name (optional)" <input autocomplete="family-name" bind:value=last_name/></label>
                <ErrorLine error=error/>
                <button type="submit">"Sign up"</button>
            </form>
            <p>"Already have an account? " <A href="/login">"Log in"</A></p>
        </section>
    }
}

#[component]
fn TopBar(me: crate::session::Signed) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let status = move || match live.connection.get() {
        Connection::Live => ("live", "Connected"),
        Connection::Connecting => ("connecting", "Connecting…"),
        Connection::Retrying { .. } => ("lost", "Reconnecting…"),
    };
    let navigate = use_navigate();
    let logout = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            session.logout().await;
            go(&navigate, "/login");
        });
    };
    let home = format!("/u/{}", me.user.username);
    view! {
        <header class="topbar">
            <A href=home>"Conclave"</A>
            <span class=move || format!("status {}", status().0)>{move || status().1}</span>
            <span class="me">{me.user.username.clone()}</span>
            <button class="link" on:click=logout>"Log out"</button>
        </header>
    }
}

/// My rooms with unread counts, room search and join, and room creation.
#[component]
pub fn Rooms() -> impl IntoView {
    let me = guard();
    view! {
        <Show when=move || me.with(Option::is_some) fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || me.get().map(|me| view! { <TopBar me=me.clone()/> <RoomsBody me=me/> })}
        </Show>
    }
}

#[component]
fn RoomsBody(me: crate::session::Signed) -> impl IntoView {
    let live = expect_context::<Live>();
    let token = me.token.clone();
    let username = me.user.username.clone();
    let reload = RwSignal::new(0u32);
    let mine = LocalResource::new({
        let token = token.clone();
        move || {
            reload.track();
            live.changes.track();
            let token = token.clone();
            async move { api::get::<Page<MyRoom>>("/api/rooms/mine?limit=100", Some(&token)).await }
        }
    });
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(Vec::<Room>::new());
    let error = RwSignal::new(None::<String>);
    let search = {
        let token = token.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (token, q) = (token.clone(), query.get_untracked());
            leptos::task::spawn_local(async move {
                match api::get::<Page<Room>>(&format!("/api/rooms?q={}", encode(q.trim())), Some(&token)).await {
                    Ok(page) => {
                        error.set(None);
                        found.set(page.items);
                    }
                    Err(e) => error.set(Some(e.message())),
                }
            });
        }
    };
    let navigate = use_navigate();
    let join = {
        let (token, username, navigate) = (token.clone(), username.clone(), navigate.clone());
        move |room: Room| {
            let (token, username, navigate) = (token.clone(), username.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                let password = if room.join_policy == JoinPolicy::Password {
                    web_sys::window().and_then(|w| w.prompt_with_message("Room password").ok().flatten())
                } else {
                    None
                };
                let path = format!("/api/rooms/{}/join", room.id);
                match api::post::<_, serde_json::Value>(&path, &JoinRoomRequest { password }, Some(&token)).await {
                    Ok(answer) if answer.get("join_request").is_some() => {
                        error.set(Some(format!("Request sent: an admin of {} will answer.", room.name)))
                    }
                    Ok(_) => go(&navigate, &format!("/u/{username}/rooms/{}", room.id)),
                    Err(e) => error.set(Some(e.message())),
                }
            });
        }
    };
    let (name, policy, room_password) =
        (RwSignal::new(String::new()), RwSignal::new("open".to_owned()), RwSignal::new(String::new()));
    let create = {
        let (token, username, navigate) = (token.clone(), username.clone(), navigate.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let join_policy = match policy.get_untracked().as_str() {
                "password" => JoinPolicy::Password,
                "request" => JoinPolicy::Request,
                "invite" => JoinPolicy::Invite,
                _ => JoinPolicy::Open,
            };
            let password = (join_policy == JoinPolicy::Password).then(|| room_password.get_untracked());
            let request = CreateRoomRequest { name: name.get_untracked(), topic: None, join_policy, password };
            let (token, username, navigate) = (token.clone(), username.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                match api::post::<_, RoomEnvelope>("/api/rooms", &request, Some(&token)).await {
                    Ok(created) => go(&navigate, &format!("/u/{username}/rooms/{}", created.room.id)),
                    Err(e) => error.set(Some(e.message())),
                }
            });
        }
    };
    view! {
        <div class="columns">
            <section class="card">
                <h2>"My rooms"</h2>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || mine.get().map(|answer| match answer {
                        Ok(page) if page.items.is_empty() => view! { <p class="muted">"No rooms yet: create one or find one."</p> }.into_any(),
                        Ok(page) => view! {
                            <ul class="rooms">
                                {page.items.into_iter().map(|item| {
                                    let title = match &item.peer { Some(peer) => format!("@{}", peer.username), None => item.room.name.clone() };
                                    let href = format!("/u/{}/rooms/{}", username, item.room.id);
                                    view! {
                                        <li>
                                            <A href=href>{title}</A>
                                            <Show when=move || { item.unread_count > 0 }>
                                                <span class="badge" title="unread">{item.unread_count}</span>
                                            </Show>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="error">{e.message()}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section class="card">
                <h2>"Find a room"</h2>
                <form class="inline" on:submit=search>
                    <input placeholder="Room name" bind:value=query/>
                    <button type="submit">"Search"</button>
                </form>
                <ErrorLine error=error/>
                <ul class="rooms">
                    <For each=move || found.get() key=|room| room.id.clone() let:room>
                        {
                            let join = join.clone();
                            let label = format!("{} · {} · {} members", room.name, policy_name(room.join_policy), room.member_count);
                            view! { <li><span>{label}</span> <button on:click=move |_| join(room.clone())>"Join"</button></li> }
                        }
                    </For>
                </ul>
                <h2>"Create a room"</h2>
                <form on:submit=create>
                    <label>"Name" <input required maxlength="64" bind:value=name/></label>
                    <label>"Who can join"
                        <select on:change=move |ev| policy.set(event_target_value(&ev))>
                            <option value="open">"Anyone"</option>
                            <option value="password">"Anyone with the password"</option>
                            <option value="request">"On request"</option>
                            <option value="invite">"Invited people only"</option>
                        </select>
                    </label>
                    <Show when=move || policy.get() == "password">
                        <label>"Room password" <input type="password" minlength="4" bind:value=room_password/></label>
                    </Show>
                    <button type="submit">"Create"</button>
                </form>
            </section>
        </div>
    }
}

fn policy_name(policy: JoinPolicy) -> &'static str {
    match policy {
        JoinPolicy::Open => "open",
        JoinPolicy::Password => "password",
        JoinPolicy::Request => "on request",
        JoinPolicy::Invite => "invite only",
    }
}

/// A room: history, live messages, members, and the composer (Enter sends, Shift+Enter breaks the line).
#[component]
pub fn RoomView() -> impl IntoView {
    let me = guard();
    view! {
        <Show when=move || me.with(Option::is_some) fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || me.get().map(|me| view! { <TopBar me=me.clone()/> <RoomBody me=me/> })}
        </Show>
    }
}

#[component]
fn RoomBody(me: crate::session::Signed) -> impl IntoView {
    let live = expect_context::<Live>();
    let params = use_params_map();
    let room_id = move || RoomId(params.with(|p| p.get("room_id")).unwrap_or_default());
    let token = me.token.clone();
    let error = RwSignal::new(None::<String>);
    let details = LocalResource::new({
        let token = token.clone();
        move || {
            live.changes.track();
            let (token, room) = (token.clone(), room_id());
            async move {
                let room = api::get::<RoomEnvelope>(&format!("/api/rooms/{room}"), Some(&token)).await?;
                let members =
                    api::get::<Page<Member>>(&format!("/api/rooms/{}/members?limit=200", room.room.id), Some(&token))
                        .await?;
                let history =
                    api::get::<Page<Message>>(&format!("/api/rooms/{}/messages", room.room.id), Some(&token)).await?;
                Ok::<_, ApiError>((room.room, members.items, history.items))
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok((room, _, history))) = details.get() {
            live.add(history.clone());
            if let Some(latest) = history.first() {
                let (token, room_id, seq) = (me.token.clone(), room.id.clone(), latest.seq);
                leptos::task::spawn_local(async move {
                    let _ =
                        api::post_empty(&format!("/api/rooms/{room_id}/read"), &MarkReadRequest { seq }, Some(&token))
                            .await;
                });
            }
        }
    });
    let messages = move || {
        live.messages
            .with(|rooms| rooms.get(&room_id()).map(|m| m.values().cloned().collect::<Vec<_>>()).unwrap_or_default())
    };
    let draft = RwSignal::new(String::new());
    let color = RwSignal::new(String::new());
    let send = {
        let token = token.clone();
        move || {
            let body = draft.get_untracked();
            if body.trim().is_empty() {
                return;
            }
            let color = serde_json::from_value::<Color>(serde_json::Value::String(color.get_untracked())).ok();
            let client_id = format!("web-{}", js_sys_now());
            let request = SendMessageRequest { body, color, sticker: None, client_id: Some(client_id) };
            let (token, room) = (token.clone(), room_id());
            draft.set(String::new());
            leptos::task::spawn_local(async move {
                match api::post::<_, MessageEnvelope>(&format!("/api/rooms/{room}/messages"), &request, Some(&token))
                    .await
                {
                    Ok(sent) => {
                        error.set(None);
                        live.add(vec![sent.message]);
                    }
                    Err(e) => {
                        draft.set(request.body);
                        error.set(Some(e.message()));
                    }
                }
            });
        }
    };
    let on_key = {
        let send = send.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" && !ev.shift_key() {
                ev.prevent_default();
                send();
            }
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send();
    };
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the room…"</p> }>
            {move || details.get().map(|answer| match answer {
                Err(e) => view! { <section class="card"><p class="error">{e.message()}</p><A href="/">"Back to my rooms"</A></section> }.into_any(),
                Ok((room, members, _)) => view! {
                    <div class="room">
                        <section class="card conversation">
                            <h1>{room.name.clone()}</h1>
                            {room.topic.clone().map(|t| view! { <p class="muted">{t}</p> })}
                            <ol class="messages">
                                <For each=messages key=|m| (m.seq, m.edited_at, m.deleted) let:m>
                                    <li class=if m.deleted { "deleted" } else { "" }>
                                        <span class="author">{m.author_username.clone()}</span>
                                        <span class=format!("body {}", m.color.map(|c| format!("color-{}", serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())).unwrap_or_default())>
                                            {if m.deleted { "(deleted)".to_owned() } else { m.body.clone() }}
                                        </span>
                                        {m.sticker.map(|s| view! { <pre class="sticker">{s.art()}</pre> })}
                                    </li>
                                </For>
                            </ol>
                            <ErrorLine error=error/>
                            <form class="composer" on:submit=on_submit.clone()>
                                <textarea rows="2" placeholder="Write a message (Enter sends, Shift+Enter for a new line)" maxlength="4000"
                                    prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev)) on:keydown=on_key.clone()></textarea>
                                <select on:change=move |ev| color.set(event_target_value(&ev)) title="Text colour">
                                    <option value="">"Default colour"</option>
                                    {Color::ALL.iter().map(|c| {
                                        let name = serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                                        view! { <option value=name.clone()>{name.clone()}</option> }
                                    }).collect_view()}
                                </select>
                                <button type="submit">"Send"</button>
                            </form>
                        </section>
                        <aside class="card members">
                            <h2>"Members"</h2>
                            <ul>
                                {members.into_iter().map(|m| view! {
                                    <li class=if m.user.online { "online" } else { "" }>
                                        {m.user.username.clone()}
                                        {m.role.map(|r| view! { <span class="role">{format!("{r:?}").to_lowercase()}</span> })}
                                    </li>
                                }).collect_view()}
                            </ul>
                        </aside>
                    </div>
                }.into_any(),
            })}
        </Suspense>
    }
}

fn js_sys_now() -> u64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| (p.time_origin() + p.now()) as u64).unwrap_or_default()
}
