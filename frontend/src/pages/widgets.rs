//! Small pieces that several pages share.

use super::go;
use crate::api::ApiError;
use crate::session::Session;
use chrono::{DateTime, Utc};
use conclave_protocol::endpoints::{self, JoinAnswer};
use conclave_protocol::{Color, JoinPolicy, JoinRoomRequest, MyRoom, Room, RoomId, RoomKind, User};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// An error from the server, in words, with room for it when there is none (R-UI-2).
#[component]
pub fn ErrorLine(error: RwSignal<Option<String>>) -> impl IntoView {
    view! { <Show when=move || error.with(Option::is_some)><p class="error" role="alert">{move || error.get()}</p></Show> }
}

/// Shows the outcome of an action: clears the error or shows it.
/// Safe to call after an `await`: the page may have gone meanwhile.
pub fn report<T>(error: RwSignal<Option<String>>, outcome: &Result<T, ApiError>) {
    error.try_set(outcome.as_ref().err().map(ApiError::message));
}

/// What joining a room came to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Joining {
    Idle,
    /// A password room: the field is open.
    AskingPassword,
    Busy,
    /// A `request` room: an admin will answer (R-ROOM-3).
    Requested,
}

/// Joins a room and opens it; asks for the password first for password rooms, and says so when
/// the room takes requests instead.
#[component]
pub fn JoinButton(
    room_id: RoomId,
    me: User,
    #[prop(optional)] password: bool,
    #[prop(default = "Join")] label: &'static str,
    #[prop(optional)] on_joined: Option<Callback<()>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let state = RwSignal::new(Joining::Idle);
    let secret = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let join = move || {
        if password && state.get_untracked() == Joining::Idle {
            state.set(Joining::AskingPassword);
            return;
        }
        state.set(Joining::Busy);
        let request = JoinRoomRequest { password: password.then(|| secret.get_untracked()) };
        let (room_id, navigate, home) = (room_id.clone(), navigate.clone(), super::home(&me));
        leptos::task::spawn_local(async move {
            match session.request(&endpoints::JoinRoom { room_id: room_id.clone() }, Some(&request)).await {
                Ok(JoinAnswer::Requested(_)) => drop(state.try_set(Joining::Requested)),
                Ok(JoinAnswer::Joined(_)) => {
                    if let Some(done) = on_joined {
                        done.run(());
                    }
                    go(&navigate, &format!("{home}/rooms/{room_id}"));
                }
                Err(e) => {
                    error.try_set(Some(e.message()));
                    state.try_set(if password { Joining::AskingPassword } else { Joining::Idle });
                }
            }
        });
    };
    let submit = {
        let join = join.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            join();
        }
    };
    view! {
        <span class="join">
            <Show when=move || state.get() == Joining::Requested fallback=move || {
                let submit = submit.clone();
                view! {
                    <form class="inline" on:submit=submit>
                        <Show when=move || state.get() == Joining::AskingPassword>
                            <input type="password" placeholder="Room password" aria-label="Room password" required bind:value=secret/>
                        </Show>
                        <button type="submit" disabled=move || state.get() == Joining::Busy>{label}</button>
                    </form>
                }
            }>
                <span class="pill">"Request sent"</span>
            </Show>
            <ErrorLine error=error/>
        </span>
    }
}

/// The join policies, as people read them.
const POLICIES: [(JoinPolicy, &str); 4] = [
    (JoinPolicy::Open, "Anyone"),
    (JoinPolicy::Password, "Anyone with the password"),
    (JoinPolicy::Request, "On request, answered by an admin"),
    (JoinPolicy::Invite, "Invited people only"),
];

/// "Who can join": a choice of join policy (R-ROOM-1), starting at the signal's value.
#[component]
pub fn PolicySelect(policy: RwSignal<JoinPolicy>) -> impl IntoView {
    let current = policy.get_untracked();
    view! {
        <label>"Who can join"
            <select on:change=move |ev| {
                let index = event_target_value(&ev).parse::<usize>().unwrap_or(0);
                policy.set(POLICIES.get(index).map_or(JoinPolicy::Open, |p| p.0));
            }>
                {POLICIES.iter().enumerate().map(|(i, (p, label))| view! {
                    <option value=i.to_string() selected=*p == current>{*label}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

/// How a room is called in lists: its name, or `@peer` for a direct conversation.
pub fn room_title(item: &MyRoom) -> String {
    match (&item.peer, item.room.kind) {
        (Some(peer), _) => format!("@{}", peer.username),
        (None, RoomKind::Direct) => "Direct conversation".into(),
        (None, RoomKind::Group) => item.room.name.clone(),
    }
}

pub fn policy_name(room: &Room) -> &'static str {
    match room.join_policy {
        JoinPolicy::Open => "open",
        JoinPolicy::Password => "password",
        JoinPolicy::Request => "on request",
        JoinPolicy::Invite => "invite only",
    }
}

/// The class that shows text in `color` (none: the default colour).
pub fn color_class(color: Option<Color>) -> String {
    color.map(|c| format!("color-{}", wire_name(&c))).unwrap_or_default()
}

/// A snake_case protocol value (a colour, a sticker, a role) as its wire name.
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// `at` as the browser's own date, which knows the reader's time zone and calendar.
fn js_date(at: DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
}

/// A time in the reader's own time zone: the hour for today, the date before that.
pub fn when(at: DateTime<Utc>) -> String {
    let date = js_date(at);
    let today = js_sys::Date::new_0();
    let time = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    if date.to_date_string() == today.to_date_string() { time } else { format!("{} {time}", day(at)) }
}

/// A day in the reader's own calendar, for dates such as "member since".
pub fn day(at: DateTime<Utc>) -> String {
    js_date(at).to_locale_date_string("default", &wasm_bindgen::JsValue::UNDEFINED).into()
}

/// Milliseconds since the epoch (the browser's clock, a float as JavaScript keeps it).
pub fn now_millis() -> f64 {
    js_sys::Date::now()
}

/// Asks the user to confirm a destructive action (the browser's own dialog); `false` when they
/// decline or it cannot be shown.
pub fn confirmed(question: &str) -> bool {
    web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
}
