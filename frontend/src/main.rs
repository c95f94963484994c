//! The Conclave web client: a Leptos single-page app on the REST API and the WebSocket gateway.

mod api;
mod inbox;
mod live;
mod pages;
mod session;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use live::{Connection, Live};
use session::Session;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let session = Session::new();
    let live = Live::new();
    provide_context(session);
    provide_context(live);
    provide_context(pages::avatar::Avatars::new());
    let inbox = inbox::Inbox::new();
    provide_context(inbox);
    inbox.run(session, live);
    leptos::task::spawn_local(async move {
        // Restores the session from the refresh cookie, if there is one.
        session.refresh().await.ok();
    });
    live.run(session);
    view! {
        <Router>
            <Unreachable/>
            <main>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::Home/>
                    <Route path=path!("/login") view=pages::Login/>
                    <Route path=path!("/signup") view=pages::Signup/>
                    <Route path=path!("/u/:username") view=pages::RoomsPage/>
                    <Route path=path!("/u/:username/dms") view=pages::DmsPage/>
                    <Route path=path!("/u/:username/notifications") view=pages::NotificationsPage/>
                    <Route path=path!("/u/:username/history") view=pages::HistoryPage/>
                    <Route path=path!("/u/:username/search") view=pages::SearchPage/>
                    <Route path=path!("/u/:username/profile") view=pages::ProfilePage/>
                    <Route path=path!("/u/:username/people/:other") view=pages::PersonPage/>
                    <Route path=path!("/u/:username/rooms/:room_id") view=pages::RoomPage/>
                    <Route path=path!("/u/:username/rooms/:room_id/admin") view=pages::AdminPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// R-UI-2: while the server cannot be reached, a page says so over the app (which keeps its
/// state, drafts included, underneath) and goes away by itself once the connection is back.
#[component]
fn Unreachable() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let attempts = move || match live.connection.get() {
        Connection::Unreachable { attempts } if session.user.with(Option::is_some) => Some(attempts),
        _ => None,
    };
    view! {
        <Show when=move || attempts().is_some()>
            <div class="unreachable" role="alertdialog" aria-labelledby="unreachable-title" aria-live="assertive">
                <div class="card narrow">
                    <h1 id="unreachable-title">"The server cannot be reached"</h1>
                    <p>"Conclave lost its connection to the server. Check your network; if it is fine, the server may be restarting."</p>
                    <p>"Conclave keeps trying by itself and catches up on every message once the server is back. Nothing you wrote is lost."</p>
                    <p class="muted" role="status">{move || format!("Attempt {} failed; trying again…", attempts().unwrap_or(0))}</p>
                </div>
            </div>
        </Show>
    }
}
