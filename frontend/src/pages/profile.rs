//! Profiles (SPEC R-ACC-5): one's own, with log out, and other people's, with a way to write
//! to them.

use super::avatar::Avatar;
use super::dms::open_dm;
use super::widgets::{ErrorLine, confirmed, day, when};
use crate::live::Live;
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{
    ChangePasswordRequest, DeleteAccountRequest, MAX_AVATAR_BYTES, UpdateProfileRequest, User, UserEnvelope,
};
use leptos::html;
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
        <div class="profile-head">
            <Avatar name=user.username.clone() url=Signal::stored(user.avatar_url.clone()) large=true/>
            <strong>{user.username.clone()}</strong>
        </div>
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
    let session = expect_context::<Session>();
    view! {
        <section class="card narrow">
            <h1>"Your profile"</h1>
            // The card follows the session's record, which a name change updates.
            {move || session.user.get().map(|user| view! { <Card user=user/> })}
            <button on:click=logout>"Log out"</button>
        </section>
        <AvatarForm/>
        <Names me=me/>
        <ChangePasswordForm/>
        <DeleteAccount/>
    }
}

/// Your picture (R-ACC-8): PNG, JPEG or WebP, shown as a square cut from its middle; without
/// one, your initials show.
#[component]
fn AvatarForm() -> impl IntoView {
    let session = expect_context::<Session>();
    let (error, busy) = (RwSignal::new(None::<String>), RwSignal::new(false));
    let input = NodeRef::<html::Input>::new();
    let has_one = move || session.user.with(|u| u.as_ref().is_some_and(|u| u.avatar_url.is_some()));
    // Either change answers the user as it now is.
    let settle = move |outcome: Result<UserEnvelope, crate::api::ApiError>| {
        match outcome {
            Ok(answer) => {
                error.try_set(None);
                session.updated(answer.user);
            }
            Err(e) => {
                error.try_set(Some(e.message()));
            }
        }
        busy.try_set(false);
    };
    let chosen = move |_| {
        let Some(file) = input.get().and_then(|i| i.files()).and_then(|files| files.get(0)) else { return };
        if let Some(input) = input.get() {
            input.set_value("");
        }
        let max = u64::try_from(MAX_AVATAR_BYTES).unwrap_or(u64::MAX);
        if file.size() > f64::from(u32::try_from(max).unwrap_or(u32::MAX)) {
            error.set(Some(format!("A picture is at most {}.", conclave_protocol::size_label(max))));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move { settle(session.upload(&endpoints::SetAvatar {}, &file).await) });
    };
    let remove = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move { settle(session.request(&endpoints::RemoveAvatar {}, None).await) });
    };
    view! {
        <section class="card narrow">
            <h2>"Your picture"</h2>
            <p class="muted">"A PNG, JPEG or WebP image of up to 2 MiB. It is shown as a square cut from its middle."</p>
            <input type="file" class="visually-hidden" node_ref=input aria-label="Picture to upload"
                accept="image/png,image/jpeg,image/webp" on:change=chosen/>
            <div class="row">
                <button type="button" disabled=move || busy.get()
                    on:click=move |_| { if let Some(input) = input.get() { input.click(); } }>
                    {move || if busy.get() { "Saving…" } else if has_one() { "Change picture" } else { "Upload a picture" }}
                </button>
                <Show when=has_one>
                    <button type="button" class="secondary" disabled=move || busy.get() on:click=remove>"Remove picture"</button>
                </Show>
            </div>
            <ErrorLine error=error/>
        </section>
    }
}

/// Deleting the account (R-ACC-7), with its password and a last question.
#[component]
fn DeleteAccount() -> impl IntoView {
    let session = expect_context::<Session>();
    let password = RwSignal::new(String::new());
    let (error, busy) = (RwSignal::new(None::<String>), RwSignal::new(false));
    let delete = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !confirmed(
            "Delete your account for good? You leave every room; your messages stay, shown as from a deleted user. This cannot be undone.",
        ) {
            return;
        }
        busy.set(true);
        let request = DeleteAccountRequest { password: password.get_untracked() };
        leptos::task::spawn_local(async move {
            match session.request(&endpoints::DeleteMe {}, Some(&request)).await {
                Ok(_) => {
                    // The answer cleared the refresh cookie; a fresh page load drops everything
                    // else this tab held for the account (its token, gateway, caches).
                    if window().location().set_href("/signup?deleted=1").is_err() {
                        session.logout().await;
                    }
                }
                Err(e) => {
                    error.try_set(Some(e.message()));
                    busy.try_set(false);
                }
            }
        });
    };
    view! {
        <section class="card narrow account-deletion">
            <h2>"Delete your account"</h2>
            <p class="muted">"You leave every room (each passes to its next member as when you leave it), every session ends, and your name becomes free. Your messages stay, shown as from a deleted user."</p>
            <form on:submit=delete>
                <label>"Your password" <input type="password" autocomplete="current-password" required bind:value=password/></label>
                <ErrorLine error=error/>
                <button type="submit" class="danger" disabled=move || busy.get()>"Delete my account"</button>
            </form>
        </section>
    }
}

/// First and last name (R-ACC-7): an empty field removes the name.
#[component]
fn Names(me: User) -> impl IntoView {
    let session = expect_context::<Session>();
    let first = RwSignal::new(me.first_name.clone().unwrap_or_default());
    let last = RwSignal::new(me.last_name.clone().unwrap_or_default());
    let (error, notice) = (RwSignal::new(None::<String>), RwSignal::new(None::<String>));
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request =
            UpdateProfileRequest { first_name: Some(first.get_untracked()), last_name: Some(last.get_untracked()) };
        leptos::task::spawn_local(async move {
            match session.request(&endpoints::UpdateMe {}, Some(&request)).await {
                Ok(answer) => {
                    error.try_set(None);
                    notice.try_set(Some("Your name is saved.".into()));
                    session.updated(answer.user);
                }
                Err(e) => {
                    notice.try_set(None);
                    error.try_set(Some(e.message()));
                }
            }
        });
    };
    view! {
        <section class="card narrow">
            <h2>"Your name"</h2>
            <form on:submit=save>
                <label>"First name" <input maxlength="64" autocomplete="given-name" bind:value=first/></label>
                <label>"Last name" <input maxlength="64" autocomplete="family-name" bind:value=last/></label>
                <ErrorLine error=error/>
                {move || notice.get().map(|text| view! { <p class="ok" role="status">{text}</p> })}
                <button type="submit">"Save"</button>
            </form>
        </section>
    }
}

/// A new password, with the current one (R-ACC-7); every other session is logged out.
#[component]
fn ChangePasswordForm() -> impl IntoView {
    let session = expect_context::<Session>();
    let (current, new) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (error, notice) = (RwSignal::new(None::<String>), RwSignal::new(None::<String>));
    let busy = RwSignal::new(false);
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let request =
            ChangePasswordRequest { current_password: current.get_untracked(), new_password: new.get_untracked() };
        leptos::task::spawn_local(async move {
            match session.change_password(request).await {
                Ok(()) => {
                    error.try_set(None);
                    current.try_set(String::new());
                    new.try_set(String::new());
                    notice.try_set(Some("Your password is changed. Your other sessions are logged out.".into()));
                }
                Err(e) => {
                    notice.try_set(None);
                    error.try_set(Some(e.message()));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <section class="card narrow">
            <h2>"Change your password"</h2>
            <form on:submit=change>
                <label>"Current password" <input type="password" autocomplete="current-password" required bind:value=current/></label>
                <label>"New password (10 characters or more)" <input type="password" autocomplete="new-password" required minlength="10" bind:value=new/></label>
                <ErrorLine error=error/>
                {move || notice.get().map(|text| view! { <p class="ok" role="status">{text}</p> })}
                <button type="submit" disabled=move || busy.get()>"Change password"</button>
            </form>
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
