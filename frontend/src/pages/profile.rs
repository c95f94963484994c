//! Profiles (SPEC R-ACC-5): one's own, with log out, and other people's, with a way to write
//! to them.

use super::dms::open_dm;
use super::widgets::{ErrorLine, day, when};
use crate::live::Live;
use crate::session::Session;
use conclave_protocol::User;
use conclave_protocol::endpoints;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ProfilePage() -> impl IntoView {
    super::authed(|me| view! { <Own me=me/> })
}

#[component]
pub fn PersonPage() -> impl IntoView {
    super::authed(|me| {
        let params = use_params_map();
        let other = Memo::new(move |_| params.with(|p| p.get("other")).unwrap_or_default());
        view! { {move || view! { <Person me=me.clone() username=other.get()/> }} }
    })
}

#[component]
fn Card(user: User) -> impl IntoView {
    let live = expect_context::<Live>();
    let full = [user.first_name.clone(), user.last_name.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let (id, listed) = (user.id.clone(), user.online);
    let online = move || live.online(&id, listed);
    let last_seen = user.last_seen_at;
    let status = move || match (online(), last_seen) {
        (true, _) => "online".to_owned(),
        (false, Some(at)) => format!("offline, last seen {}", when(at)),
        (false, None) => "offline".to_owned(),
    };
    view! {
        <dl class="profile">
            <dt>"Username"</dt><dd>{user.username.clone()}</dd>
            <dt>"Name"</dt><dd>{if full.is_empty() { "—".to_owned() } else { full }}</dd>
            <dt>"Member since"</dt><dd>{day(user.created_at)}</dd>
            <dt>"Status"</dt><dd>{status}</dd>
        </dl>
    }
}

#[component]
fn Own(me: User) -> impl IntoView {
    let logout = super::shell::use_logout();
    view! {
        <section class="card narrow">
            <h1>"Your profile"</h1>
            <Card user=me/>
            <button on:click=logout>"Log out"</button>
        </section>
    }
}

#[component]
fn Person(me: User, username: String) -> impl IntoView {
    let session = expect_context::<Session>();
    let profile = LocalResource::new({
        let username = username.clone();
        move || {
            let username = username.clone();
            async move { session.request(&endpoints::Profile { username }, None).await }
        }
    });
    let error = RwSignal::new(None::<String>);
    let open = open_dm(&me);
    view! {
        <section class="card narrow">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {
                    let open = open.clone();
                    move || profile.get().map(|answer| match answer {
                        Err(e) => view! { <p class="error" role="alert">{e.message()}</p> }.into_any(),
                        Ok(found) => {
                            let (open, name) = (open.clone(), found.user.username.clone());
                            view! {
                                <h1>{found.user.username.clone()}</h1>
                                <Card user=found.user/>
                                <button on:click=move |_| open(name.clone(), error)>"Send a message"</button>
                            }.into_any()
                        }
                    })
                }
            </Suspense>
            <ErrorLine error=error/>
        </section>
    }
}
