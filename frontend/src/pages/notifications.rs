//! Notifications (SPEC R-NOTE-1, R-NOTE-2): unread first, each with what can be done about it:
//! accept an invitation, review requests, open the room; mark read, delete.

use super::widgets::{ErrorLine, JoinButton, report, when};
use crate::live::Live;
use crate::session::{Prepared, Session};
use conclave_protocol::endpoints;
use conclave_protocol::{NotificationKind, NotificationsQuery, User};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    super::authed(|me| view! { <Notifications me=me/> })
}

#[component]
fn Notifications(me: User) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let list = LocalResource::new(move || {
        live.notifications_changed.track();
        async move {
            let query = NotificationsQuery { limit: Some(100), ..NotificationsQuery::default() };
            session.request(&endpoints::Notifications { query }, None).await
        }
    });
    let error = RwSignal::new(None::<String>);
    let act = move |call: Prepared| {
        leptos::task::spawn_local(async move {
            let outcome = session.run(&call).await;
            report(error, &outcome);
            live.notifications_changed.update(|n| *n += 1);
        });
    };
    let read_all = move |_| act(Prepared::new(&endpoints::MarkAllNotificationsRead {}, None));
    let home = super::home(&me);
    view! {
        <section class="card">
            <header class="room-head">
                <h1>"Notifications"</h1>
                <button class="secondary" on:click=read_all>"Mark all read"</button>
            </header>
            <ErrorLine error=error/>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || list.get().map(|answer| match answer {
                    Err(e) => view! { <p class="error" role="alert">{e.message()}</p> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p class="muted">"Nothing new."</p> }.into_any(),
                    Ok(page) => view! {
                        <ul class="notifications">
                            {page.items.into_iter().map(|n| {
                                let id = n.id.clone();
                                let room_href = n.room_id.as_ref().map(|room| format!("{home}/rooms/{room}"));
                                let action = match (n.kind, n.room_id.clone()) {
                                    (NotificationKind::Invited, Some(room)) if !n.read => {
                                        let read = Prepared::new(&endpoints::MarkNotificationRead { id: id.clone() }, None);
                                        let done = Callback::new(move |()| act(read.clone()));
                                        let decline = Prepared::new(&endpoints::DeclineInvite { room_id: room.clone() }, None);
                                        view! {
                                            <JoinButton room_id=room me=me.clone() label="Accept invitation" on_joined=done/>
                                            <button class="secondary" on:click=move |_| act(decline.clone())>"Decline"</button>
                                        }.into_any()
                                    }
                                    (NotificationKind::JoinRequest, Some(room)) => {
                                        view! { <A href=format!("{home}/rooms/{room}/admin")>"Review requests"</A> }.into_any()
                                    }
                                    (NotificationKind::Unbanned, Some(_)) => {
                                        // The room page offers the way back in.
                                        view! { <A href=room_href.clone().unwrap_or_default()>"Go to the room"</A> }.into_any()
                                    }
                                    (NotificationKind::RequestAccepted | NotificationKind::Promoted | NotificationKind::Demoted
                                        | NotificationKind::DirectMessage | NotificationKind::Mention, Some(_)) => {
                                        view! { <A href=room_href.clone().unwrap_or_default()>"Open the room"</A> }.into_any()
                                    }
                                    _ => ().into_any(),
                                };
                                let read_path = Prepared::new(&endpoints::MarkNotificationRead { id: id.clone() }, None);
                                let delete_path = Prepared::new(&endpoints::DeleteNotification { id: id.clone() }, None);
                                let unread = !n.read;
                                view! {
                                    <li class:unread=unread>
                                        <div>
                                            <p>{n.sentence()}</p>
                                            <time class="muted" datetime=n.created_at.to_rfc3339()>{when(n.created_at)}</time>
                                        </div>
                                        <div class="buttons">
                                            {action}
                                            {unread.then(|| view! { <button class="secondary" on:click=move |_| act(read_path.clone())>"Mark read"</button> })}
                                            <button class="link" title="Delete" on:click=move |_| act(delete_path.clone())>"Delete"</button>
                                        </div>
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
