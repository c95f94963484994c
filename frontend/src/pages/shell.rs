//! The top bar of every logged-in page: where to go, the connection state, and log out.

use super::avatar::Avatar;
use super::go;
use crate::live::{Connection, Live};
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{NotificationsQuery, User};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// Logs out and goes to the login page.
pub fn use_logout() -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static {
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            session.logout().await;
            go(&navigate, "/login");
        });
    }
}

#[component]
pub fn TopBar(me: User, drawer: RwSignal<bool>) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let status = move || match live.connection.get() {
        Connection::Live => ("live", "Connected"),
        Connection::Connecting => ("connecting", "Connecting…"),
        Connection::Reconnecting | Connection::Unreachable { .. } => ("lost", "Reconnecting…"),
    };
    let unread = LocalResource::new(move || {
        live.notifications_changed.track();
        async move {
            let query = NotificationsQuery { unread_only: Some(true), limit: Some(100), cursor: None };
            session.request(&endpoints::Notifications { query }, None).await.map(|page| page.items.len()).unwrap_or(0)
        }
    });
    let unread = move || unread.get().unwrap_or(0);
    let logout = use_logout();
    let home = super::home(&me);
    view! {
        <header class="topbar">
            <button type="button" class="menu" aria-label="Rooms and conversations" aria-expanded=move || drawer.get().to_string()
                on:click=move |_| drawer.update(|open| *open = !*open)>"☰"</button>
            <A href=home.clone() attr:class="brand">"Conclave"</A>
            <nav>
                <A href=home.clone() exact=true>"Rooms"</A>
                <A href=format!("{home}/dms")>"Direct messages"</A>
                <A href=format!("{home}/notifications")>
                    "Notifications"
                    <Show when=move || { unread() > 0 }>
                        <span class="badge" title="unread notifications">{move || if unread() > 99 { "99+".to_owned() } else { unread().to_string() }}</span>
                    </Show>
                </A>
                <A href=format!("{home}/history")>"History"</A>
                <A href=format!("{home}/search")>"Search"</A>
                <A href=format!("{home}/profile") attr:class="me">
                    <Avatar name=me.username.clone() url=Signal::derive(move || session.user.with(|u| u.as_ref().and_then(|u| u.avatar_url.clone())))/>
                    {me.username.clone()}
                </A>
            </nav>
            <span class=move || format!("status {}", status().0) role="status">{move || status().1}</span>
            <button class="link" on:click=logout>"Log out"</button>
        </header>
    }
}
