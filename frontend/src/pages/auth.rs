//! Sign up and log in (SPEC R-ACC-1 to R-ACC-4). After login the visitor returns to the page
//! that sent them here, if it was one of their own.

use super::go;
use super::widgets::ErrorLine;
use crate::api::{self};
use crate::session::Session;
use conclave_protocol::SignupRequest;
use conclave_protocol::endpoints;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn Login() -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    let (username, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    // Whose page `next` is, when it is one (`/u/{username}/…`).
    let owner_of_next = move || {
        query
            .with(|q| q.get("next"))
            .and_then(|next| next.strip_prefix("/u/").map(|rest| rest.split('/').next().unwrap_or_default().to_owned()))
    };
    // Someone already logged in goes on: to `next` when it is theirs, else to their rooms. A
    // page of another user's stays here and says why.
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            let Some(me) = session.user.get() else { return };
            let theirs = owner_of_next().is_some_and(|owner| owner != me.username);
            if !theirs && !busy.get_untracked() {
                let next = query.with_untracked(|q| q.get("next"));
                go(&navigate, &destination(next, &super::home(&me)));
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let next = query.with_untracked(|q| q.get("next"));
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match session.login(username.get_untracked(), password.get_untracked()).await {
                Ok(()) => {
                    let home = session.user.get_untracked().map(|me| super::home(&me)).unwrap_or_default();
                    go(&navigate, &destination(next, &home));
                }
                Err(e) => drop(error.try_set(Some(e.message()))),
            }
            busy.try_set(false);
        });
    };
    let why = move || {
        let owner = owner_of_next()?;
        Some(match session.user.get() {
            Some(me) if me.username != owner => {
                format!("You are logged in as {}; that page is {owner}'s. Log in as {owner} to open it.", me.username)
            }
            _ => format!("Log in as {owner} to continue."),
        })
    };
    view! {
        <section class="card narrow">
            <h1>"Log in to Conclave"</h1>
            {move || why().map(|why| view! { <p class="muted" role="note">{why}</p> })}
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
    // Where a deleted account lands (R-ACC-7).
    let deleted = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("deleted").is_some());
    let (username, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (first_name, last_name) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let navigate = navigate.clone();
        let optional = |s: String| if s.trim().is_empty() { None } else { Some(s) };
        let request = SignupRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
            first_name: optional(first_name.get_untracked()),
            last_name: optional(last_name.get_untracked()),
        };
        leptos::task::spawn_local(async move {
            let created = api::request(&endpoints::Signup {}, Some(&request), None).await;
            let outcome = match created {
                Ok(created) => session.login(created.user.username.clone(), request.password).await.map(|()| created),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(created) => go(&navigate, &super::home(&created.user)),
                Err(e) => drop(error.try_set(Some(e.message()))),
            }
            busy.try_set(false);
        });
    };
    view! {
        <section class="card narrow">
            {deleted.then(|| view! { <p class="ok" role="status">"Your account is deleted. Goodbye — or start again below."</p> })}
            <h1>"Create your account"</h1>
            <form on:submit=submit>
                <label>"Username" <input autocomplete="username" required minlength="3" maxlength="32" bind:value=username/></label>
                <label>"Password" <input type="password" autocomplete="new-password" required minlength="10" bind:value=password/></label>
                <label>"First name (optional)" <input autocomplete="given-name" bind:value=first_name/></label>
                <label>"Last name (optional)" <input autocomplete="family-name" bind:value=last_name/></label>
                <ErrorLine error=error/>
                <button type="submit" disabled=move || busy.get()>"Sign up"</button>
            </form>
            <p>"Already have an account? " <A href="/login">"Log in"</A></p>
        </section>
    }
}

/// Where a login leads: `next` when it is one of this user's own pages (it comes from the
/// address bar), else their rooms.
fn destination(next: Option<String>, home: &str) -> String {
    next.filter(|n| n.starts_with(&format!("{home}/")) || n == home).unwrap_or_else(|| home.to_owned())
}
