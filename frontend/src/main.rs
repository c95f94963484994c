//! The Conclave web client: a Leptos single-page app on the REST API and the WebSocket gateway.

mod api;
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
    leptos::task::spawn_local(async move {
        // Restores the session from the refresh cookie, if there is one.
        let _ = session.refresh().await;
    });
    live.run(session);
    view! {
        <Router>
            <ConnectionBanner/>
            <main>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::Home/>
                    <Route path=path!("/login") view=pages::Login/>
                    <Route path=path!("/signup") view=pages::Signup/>
                    <Route path=path!("/u/:username") view=pages::Rooms/>
                    <Route path=path!("/u/:username/rooms/:room_id") view=pages::RoomView/>
                </Routes>
            </main>
        </Router>
    }
}

/// R-UI-2: a clear notice while the server cannot be reached; it goes away once reconnected.
#[component]
fn ConnectionBanner() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let lost =
        move || session.current.with(Option::is_some) && matches!(live.connection.get(), Connection::Retrying { .. });
    view! {
        <Show when=lost>
            <div class="unreachable" role="alert">
                <strong>"The server cannot be reached."</strong>
                " Conclave keeps trying and will catch up on every message once it is back."
            </div>
        </Show>
    }
}
