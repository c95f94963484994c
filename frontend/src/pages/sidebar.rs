//! Around every logged-in page (SPEC R-UI-4): the sidebar of rooms and conversations with their
//! unread and mention badges, latest activity first; the Ctrl+K switcher; and the alerts for
//! what arrives elsewhere: a pop-up for a direct message, a browser notification for direct
//! messages and mentions while the tab is hidden.

use super::avatar::Avatar;
use super::room::text::mentions;
use super::widgets::room_title;
use crate::inbox::Inbox;
use crate::live::Live;
use conclave_protocol::{Message, MyRoom, RoomKind, User, excerpt};
use leptos::ev;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

fn room_href(home: &str, room: &MyRoom) -> String {
    format!("{home}/rooms/{}", room.room.id)
}

/// A room's picture in lists: the other person's avatar in a conversation, else the room's
/// initials.
fn room_avatar(room: &MyRoom) -> impl IntoView + use<> {
    let (name, url) = match &room.peer {
        Some(peer) => (peer.username.clone(), peer.avatar_url.clone()),
        None => (room.room.name.clone(), None),
    };
    view! { <Avatar name=name url=Signal::stored(url)/> }
}

/// The sidebar: on a phone, a drawer that `open` shows.
#[component]
pub fn Sidebar(me: User, open: RwSignal<bool>, switching: RwSignal<bool>) -> impl IntoView {
    let inbox = expect_context::<Inbox>();
    let home = super::home(&me);
    let list = {
        let home = home.clone();
        move || {
            inbox
                .rooms
                .get()
                .into_iter()
                .map(|room| {
                    let href = room_href(&home, &room);
                    let (unread, mentions) = (inbox.unread(&room), inbox.mentions_in(&room.room.id));
                    let id = room.room.id.clone();
                    let active = move || inbox.viewing.with(|v| v.as_ref() == Some(&id));
                    let direct = room.room.kind == RoomKind::Direct;
                    view! {
                        <li class:unread=(unread > 0) class:active=active class:direct=direct>
                            <A href=href on:click=move |_| open.set(false)>
                                {room_avatar(&room)}
                                <span class="name">{room_title(&room)}</span>
                                {(mentions > 0).then(|| view! { <span class="badge mention" title="unread mentions of you">"@"</span> })}
                                {(unread > 0).then(|| view! { <span class="badge" title="unread messages">{if unread > 99 { "99+".to_owned() } else { unread.to_string() }}</span> })}
                            </A>
                        </li>
                    }
                })
                .collect_view()
        }
    };
    view! {
        <div class="sidebar-backdrop" class:open=move || open.get() on:click=move |_| open.set(false)></div>
        <nav class="sidebar" class:open=move || open.get() aria-label="Your rooms and conversations">
            <button type="button" class="switch" on:click=move |_| { open.set(false); switching.set(true); }>
                "Jump to…" <kbd>"Ctrl K"</kbd>
            </button>
            <ul class="inbox">{list}</ul>
            <Show when=move || inbox.rooms.with(Vec::is_empty)>
                <p class="muted small">"No rooms yet."</p>
            </Show>
            <A href=home.clone() attr:class="small" on:click=move |_| open.set(false)>"Find or create a room"</A>
            <NotificationsSwitch/>
        </nav>
    }
}

/// Ctrl+K (or ⌘K): a box that finds a room or conversation by name; Enter opens the first
/// (or the one chosen with the arrows), Esc closes.
#[component]
pub fn Switcher(me: User, switching: RwSignal<bool>) -> impl IntoView {
    let inbox = expect_context::<Inbox>();
    let navigate = use_navigate();
    let home = super::home(&me);
    let typed = RwSignal::new(String::new());
    let chosen = RwSignal::new(0usize);
    let keys = window_event_listener(ev::keydown, move |e| {
        if (e.ctrl_key() || e.meta_key()) && e.key().eq_ignore_ascii_case("k") {
            e.prevent_default();
            typed.set(String::new());
            chosen.set(0);
            switching.update(|s| *s = !*s);
        }
    });
    on_cleanup(move || keys.remove());
    let found = Memo::new(move |_| {
        let wanted = typed.get().trim().to_lowercase();
        inbox.rooms.with(|rooms| {
            rooms.iter().filter(|r| room_title(r).to_lowercase().contains(&wanted)).take(8).cloned().collect::<Vec<_>>()
        })
    });
    let go_to = {
        let (navigate, home) = (navigate.clone(), home.clone());
        move |room: &MyRoom| {
            switching.set(false);
            navigate(&room_href(&home, room), Default::default());
        }
    };
    let on_key = {
        let go_to = go_to.clone();
        move |e: ev::KeyboardEvent| match e.key().as_str() {
            "ArrowDown" => {
                e.prevent_default();
                chosen.update(|c| *c = (*c + 1).min(found.with_untracked(Vec::len).saturating_sub(1)));
            }
            "ArrowUp" => {
                e.prevent_default();
                chosen.update(|c| *c = c.saturating_sub(1));
            }
            "Enter" => {
                e.prevent_default();
                if let Some(room) = found.with_untracked(|f| f.get(chosen.get_untracked()).cloned()) {
                    go_to(&room);
                }
            }
            "Escape" => switching.set(false),
            _ => {}
        }
    };
    view! {
        <Show when=move || switching.get()>
            <div class="switcher-backdrop" on:click=move |_| switching.set(false)></div>
            <div class="switcher card" role="dialog" aria-label="Jump to a room or conversation">
                <input type="search" aria-label="Room or person" placeholder="Jump to a room or conversation…" autofocus
                    prop:value=move || typed.get() on:input=move |e| { typed.set(event_target_value(&e)); chosen.set(0); }
                    on:keydown=on_key.clone()/>
                <ul role="listbox">
                    {
                        let go_to = go_to.clone();
                        move || found.get().into_iter().enumerate().map(|(at, room)| {
                            let go_to = go_to.clone();
                            let picked = room.clone();
                            view! {
                                <li role="option" aria-selected=move || (chosen.get() == at).to_string()
                                    on:mousedown=move |e| { e.prevent_default(); go_to(&picked); }>
                                    {room_avatar(&room)}
                                    <span>{room_title(&room)}</span>
                                </li>
                            }
                        }).collect_view()
                    }
                </ul>
                <Show when=move || found.with(Vec::is_empty)>
                    <p class="muted small">"No room or conversation by that name."</p>
                </Show>
            </div>
        </Show>
    }
}

/// The browser's permission to show notifications, asked for on a click (browsers ignore
/// requests that no gesture started).
#[component]
fn NotificationsSwitch() -> impl IntoView {
    let permission = RwSignal::new(web_sys::Notification::permission());
    let ask = move |_| {
        if let Ok(promise) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                // The answer is read back from the browser either way.
                drop(wasm_bindgen_futures::JsFuture::from(promise).await);
                permission.try_set(web_sys::Notification::permission());
            });
        }
    };
    view! {
        <Show when=move || permission.get() == web_sys::NotificationPermission::Default>
            <button type="button" class="link small" on:click=ask>"Turn on desktop notifications"</button>
        </Show>
    }
}

/// What arrived elsewhere: a direct message opens a pop-up (click goes to the conversation);
/// while the tab is hidden, direct messages and mentions of the user become browser
/// notifications.
#[component]
pub fn Alerts(me: User) -> impl IntoView {
    let live = expect_context::<Live>();
    let inbox = expect_context::<Inbox>();
    let navigate = use_navigate();
    let home = super::home(&me);
    let popup = RwSignal::new(None::<(Message, String)>);
    Effect::new({
        let me = me.clone();
        move |_| {
            let Some(message) = live.arrival.get() else { return };
            // A resume after a reconnect replays older messages: those are not news.
            let age_ms = super::widgets::now_millis() - js_sys::Date::parse(&message.created_at.to_rfc3339());
            let fresh = age_ms < 120_000.0;
            if !fresh
                || message.author_id == me.id
                || inbox.viewing.with_untracked(|v| v.as_ref() == Some(&message.room_id))
            {
                return;
            }
            let room = inbox.rooms.with_untracked(|rooms| rooms.iter().find(|r| r.room.id == message.room_id).cloned());
            // A room not listed yet is a conversation someone just opened with this user.
            let direct = room.as_ref().is_none_or(|r| r.room.kind == RoomKind::Direct);
            let mentioned = mentions(&message.body, &me.username);
            if !direct && !mentioned {
                return;
            }
            let title = match (&room, direct) {
                (_, true) => format!("{} wrote to you", message.author_username),
                (Some(room), false) => format!("{} mentioned you in {}", message.author_username, room_title(room)),
                (None, false) => format!("{} mentioned you", message.author_username),
            };
            let hidden = document().hidden();
            if hidden && web_sys::Notification::permission() == web_sys::NotificationPermission::Granted {
                let options = web_sys::NotificationOptions::new();
                options.set_body(&excerpt(&message.body));
                options.set_tag(message.room_id.as_str());
                // Shown or not, nothing else is to be done.
                drop(web_sys::Notification::new_with_options(&title, &options));
            }
            if direct {
                popup.set(Some((message, title)));
            }
        }
    });
    let open = move |_| {
        if let Some((message, _)) = popup.get_untracked() {
            popup.set(None);
            navigate(&format!("{home}/rooms/{}", message.room_id), Default::default());
        }
    };
    view! {
        {move || popup.get().map(|(message, title)| view! {
            <aside class="popup card" role="status" aria-live="polite">
                <button type="button" class="popup-open" on:click=open.clone()>
                    <Avatar name=message.author_username.clone() url=Signal::stored(None::<String>)/>
                    <span>
                        <strong>{title}</strong>
                        <span class="excerpt">{excerpt(&message.body)}</span>
                    </span>
                </button>
                <button type="button" class="link small" aria-label="Close" on:click=move |_| popup.set(None)>"×"</button>
            </aside>
        })}
    }
}
