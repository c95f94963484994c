//! The previous-rooms log (SPEC R-ROOM-7): rooms left, kicked from, banned from or closed,
//! with a way back in where there is one.

use super::widgets::{JoinButton, when};
use crate::live::Live;
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{JoinPolicy, LeaveReason, PageQuery, User};
use leptos::prelude::*;

#[component]
pub fn HistoryPage() -> impl IntoView {
    super::authed(|me| view! { <History me=me/> })
}

fn reason_text(reason: LeaveReason) -> &'static str {
    match reason {
        LeaveReason::Left => "You left",
        LeaveReason::Kicked => "You were removed",
        LeaveReason::Banned => "You were banned",
        LeaveReason::Terminated => "The room was closed",
    }
}

#[component]
fn History(me: User) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let log = LocalResource::new(move || {
        live.rooms_changed.track();
        async move {
            session.request(&endpoints::RoomHistory { query: PageQuery { limit: Some(100), cursor: None } }, None).await
        }
    });
    view! {
        <section class="card">
            <h1>"Previous rooms"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || log.get().map(|answer| match answer {
                    Err(e) => view! { <p class="error" role="alert">{e.message()}</p> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p class="muted">"Rooms you leave will be listed here."</p> }.into_any(),
                    Ok(page) => view! {
                        <ul class="rooms history">
                            {page.items.into_iter().map(|entry| {
                                // Banned and closed rooms cannot be rejoined; the others may let you in.
                                let rejoin = matches!(entry.reason, LeaveReason::Left | LeaveReason::Kicked) && entry.room.terminated_at.is_none();
                                let password = entry.room.join_policy == JoinPolicy::Password;
                                let label = if entry.room.join_policy == JoinPolicy::Request { "Ask to rejoin" } else { "Rejoin" };
                                view! {
                                    <li>
                                        <span>
                                            <strong>{entry.room.name.clone()}</strong>
                                            <span class="muted">{format!(" · {} · {}", reason_text(entry.reason), when(entry.left_at))}</span>
                                        </span>
                                        {rejoin.then(|| view! { <JoinButton room_id=entry.room.id.clone() me=me.clone() password=password label=label/> })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
