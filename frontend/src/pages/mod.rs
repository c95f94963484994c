//! The pages (SPEC R-UI-1 to R-UI-3). Client URLs follow `/u/{username}/…`; a logged-out or
//! wrong-user visit lands on the login page and comes back after login.

mod admin;
mod auth;
pub mod avatar;
mod dms;
mod history;
mod notifications;
mod profile;
mod room;
mod rooms;
mod search;
mod shell;
mod sidebar;
mod widgets;

pub use admin::AdminPage;
pub use auth::{Login, Signup};
pub use dms::DmsPage;
pub use history::HistoryPage;
pub use notifications::NotificationsPage;
pub use profile::{PersonPage, ProfilePage};
pub use room::RoomPage;
pub use rooms::RoomsPage;
pub use search::SearchPage;

use crate::session::Session;
use conclave_protocol::User;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate, use_params_map};

/// Navigates with a function taken from `use_navigate()` in the component's body: the router is
/// not reachable from async tasks.
fn go(navigate: &impl Fn(&str, NavigateOptions), path: &str) {
    navigate(path, NavigateOptions::default());
}

/// The logged-in user, once the session is known to match `username` in the URL. Otherwise
/// sends the visitor to the login page, with the way back (R-ACC-4, R-UI-3).
fn guard() -> Memo<Option<User>> {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let location = use_location();
    let navigate = use_navigate();
    let wanted = move || params.with(|p| p.get("username")).unwrap_or_default();
    Effect::new(move |_| {
        if !session.checked.get() {
            return;
        }
        let matches = session.user.with(|u| u.as_ref().is_some_and(|u| u.username == wanted()));
        if !matches {
            let back = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
            navigate(
                &format!("/login?next={}", crate::api::encode(&back)),
                NavigateOptions { replace: true, ..Default::default() },
            );
        }
    });
    Memo::new(move |_| session.user.get().filter(|u| u.username == wanted()))
}

/// A page for the logged-in user: the top bar, then `body`, drawn once per user.
fn authed<V: IntoView + 'static>(body: impl Fn(User) -> V + Send + Sync + 'static) -> impl IntoView {
    let me = guard();
    // Drawn again only when another user signs in. A refreshed token brings the same user back
    // with fresh fields (now online, say); drawing the page again for that wiped whatever was
    // being typed in it.
    let who = Memo::new(move |_| me.with(|me| me.as_ref().map(|me| me.id.clone())));
    let body = std::sync::Arc::new(body);
    // The sidebar's drawer on a phone, and the Ctrl+K switcher (R-UI-4).
    let (drawer, switching) = (RwSignal::new(false), RwSignal::new(false));
    view! {
        <Show when=move || who.with(Option::is_some) fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let body = body.clone();
                move || who.get().and_then(|_| me.get_untracked()).map(|me| view! {
                    <shell::TopBar me=me.clone() drawer=drawer/>
                    <div class="layout">
                        <sidebar::Sidebar me=me.clone() open=drawer switching=switching/>
                        <div class="page">{body(me.clone())}</div>
                    </div>
                    <sidebar::Switcher me=me.clone() switching=switching/>
                    <sidebar::Alerts me=me/>
                })
            }
        </Show>
    }
}

/// The `:room_id` of the address.
fn room_param() -> Memo<conclave_protocol::RoomId> {
    let params = use_params_map();
    Memo::new(move |_| conclave_protocol::RoomId(params.with(|p| p.get("room_id")).unwrap_or_default()))
}

/// Where a user's pages live.
fn home(me: &User) -> String {
    format!("/u/{}", me.username)
}

#[component]
pub fn Home() -> impl IntoView {
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if session.checked.get() {
            match session.user.get() {
                Some(user) => go(&navigate, &home(&user)),
                None => go(&navigate, "/login"),
            }
        }
    });
    view! { <p class="loading">"Loading…"</p> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card narrow">
            <h1>"Nothing here"</h1>
            <p>"This page does not exist. " <A href="/">"Go to your rooms"</A></p>
        </section>
    }
}
