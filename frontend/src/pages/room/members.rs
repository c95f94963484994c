//! The member list: roles and presence.

use crate::live::Live;
use crate::pages::avatar::Avatar;
use crate::pages::widgets::wire_name;
use conclave_protocol::{Member, Role, User};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub(super) fn MemberList(me: User, members: Vec<Member>) -> impl IntoView {
    let live = expect_context::<Live>();
    let home = crate::pages::home(&me);
    view! {
        <ul>
            {members.into_iter().map(|m| {
                let (id, listed) = (m.user.id.clone(), m.user.online);
                let online = Signal::derive(move || live.online(&id, listed));
                let href = if m.user.id == me.id { format!("{home}/profile") } else { format!("{home}/people/{}", m.user.username) };
                view! {
                    <li class:online=online>
                        <span class="dot" title=move || if online.get() { "online" } else { "offline" }></span>
                        <Avatar name=m.user.username.clone() url=Signal::stored(m.user.avatar_url.clone())/>
                        <A href=href>{m.user.username.clone()}</A>
                        {m.role.filter(|r| *r != Role::Member).map(|r| view! { <span class="role">{wire_name(&r)}</span> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
