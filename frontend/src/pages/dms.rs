//! Direct messages (SPEC R-DM-1): my conversations, and the people to start one with.

use super::go;
use super::rooms::{RoomList, my_rooms};
use super::widgets::{ErrorLine, report};
use crate::live::Live;
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{OpenDmRequest, RoomKind, User, UserSearchQuery};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn DmsPage() -> impl IntoView {
    super::authed(|me| view! { <Dms me=me/> })
}

/// Opens (or finds) the direct conversation with `username` and goes there.
pub fn open_dm(me: &User) -> impl Fn(String, RwSignal<Option<String>>) + Clone + use<> {
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    let home = super::home(me);
    move |username: String, error: RwSignal<Option<String>>| {
        let (navigate, home) = (navigate.clone(), home.clone());
        leptos::task::spawn_local(async move {
            let request = OpenDmRequest { user_id: None, username: Some(username) };
            let outcome = session.request(&endpoints::OpenDm {}, Some(&request)).await;
            report(error, &outcome);
            if let Ok(opened) = outcome {
                go(&navigate, &format!("{home}/rooms/{}", opened.room.id));
            }
        });
    }
}

#[component]
fn Dms(me: User) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let mine = my_rooms();
    let query = RwSignal::new(String::new());
    let people = LocalResource::new(move || {
        let q = query.get();
        async move {
            let query = UserSearchQuery { q: Some(q.trim().to_owned()), limit: Some(50), cursor: None };
            session.request(&endpoints::SearchUsers { query }, None).await
        }
    });
    let error = RwSignal::new(None::<String>);
    let open = open_dm(&me);
    let me_list = me.clone();
    view! {
        <div class="columns">
            <section class="card">
                <h1>"Direct messages"</h1>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || mine.get().map(|answer| match answer {
                        Ok(rooms) => {
                            let direct = rooms.into_iter().filter(|r| r.room.kind == RoomKind::Direct).collect::<Vec<_>>();
                            view! { <RoomList me=me_list.clone() rooms=direct empty="No conversations yet: pick someone to write to."/> }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section class="card">
                <h2>"People"</h2>
                <input type="search" placeholder="Search by username" aria-label="Search people"
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
                <ErrorLine error=error/>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || people.get().map(|answer| match answer {
                        Err(e) => view! { <p class="error" role="alert">{e.message()}</p> }.into_any(),
                        Ok(page) => {
                            let others: Vec<User> = page.items.into_iter().filter(|u| u.id != me.id).collect();
                            if others.is_empty() {
                                return view! { <p class="muted">"Nobody matches."</p> }.into_any();
                            }
                            view! {
                                <ul class="rooms people">
                                    {others.into_iter().map(|user| {
                                        let (id, listed) = (user.id.clone(), user.online);
                                        let online = move || live.online(&id, listed);
                                        let (open, name) = (open.clone(), user.username.clone());
                                        let full = [user.first_name.clone(), user.last_name.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ");
                                        view! {
                                            <li class:online=online>
                                                <span><span class="dot"></span>{user.username.clone()} " " <span class="muted">{full}</span></span>
                                                <button on:click=move |_| open(name.clone(), error)>"Message"</button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    })}
                </Suspense>
            </section>
        </div>
    }
}
