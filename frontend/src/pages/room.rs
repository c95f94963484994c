//! A room: history with infinite scroll upwards, live messages, members with roles and
//! presence, who is typing, and the composer (colour, stickers, attachments; Enter sends,
//! Shift+Enter breaks the line). SPEC R-MSG-1 to R-MSG-6, R-WS-2.

use super::go;
use super::widgets::{ErrorLine, color_class, report, when, wire_name};
use crate::api::{ApiError, Method};
use crate::live::{Connection, Live};
use crate::session::Session;
use conclave_protocol::{
    Attachment, AttachmentEnvelope, ClientFrame, Color, LeaveReason, MarkReadRequest, Member, Message, MessageEnvelope,
    Page, Role, Room, RoomEnvelope, RoomId, RoomKind, SendMessageRequest, Sticker, User, UserId,
};
use leptos::html;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use std::time::Duration;

/// Messages asked for per page of history.
const PAGE: usize = 50;
/// At most one typing notice per this many milliseconds (the server throttles too).
const TYPING_EVERY_MS: f64 = 3000.0;
/// Within this many pixels of the bottom, new messages keep the view at the bottom.
const NEAR_BOTTOM_PX: i32 = 80;

#[component]
pub fn RoomPage() -> impl IntoView {
    super::authed(|me| {
        let room_id = super::room_param();
        view! { {move || view! { <Conversation me=me.clone() room_id=room_id.get()/> }} }
    })
}

/// The room and its members, reloaded when the gateway says they changed.
#[derive(Clone, PartialEq)]
pub(super) struct Details {
    pub room: Room,
    pub members: Vec<Member>,
}

impl Details {
    /// Loads both at once.
    pub async fn load(session: Session, room_id: &RoomId) -> Result<Self, ApiError> {
        let (room, members) = (format!("/api/rooms/{room_id}"), format!("/api/rooms/{room_id}/members?limit=200"));
        let (room, members) =
            futures::try_join!(session.get::<RoomEnvelope>(&room), session.get::<Page<Member>>(&members))?;
        Ok(Self { room: room.room, members: members.items })
    }

    fn role_of(&self, user: &User) -> Option<Role> {
        self.members.iter().find(|m| m.user.id == user.id).and_then(|m| m.role)
    }

    fn title(&self, me: &User) -> String {
        match self.room.kind {
            RoomKind::Group => self.room.name.clone(),
            RoomKind::Direct => self
                .members
                .iter()
                .find(|m| m.user.id != me.id)
                .map_or_else(|| "Direct conversation".to_owned(), |m| format!("@{}", m.user.username)),
        }
    }
}

fn removal_text(reason: LeaveReason) -> &'static str {
    match reason {
        LeaveReason::Left => "You left this room.",
        LeaveReason::Kicked => "You were removed from this room by an admin.",
        LeaveReason::Banned => "You were banned from this room.",
        LeaveReason::Terminated => "This room was closed by its owner.",
    }
}

/// Where the page is: the room's first load, a refusal, or the room. Reloads of the details
/// keep the phase, so the history, its scroll position and the draft stay as they are.
#[derive(Clone, PartialEq)]
enum Phase {
    Loading,
    Failed(String),
    Removed(LeaveReason),
    Ready,
}

#[component]
fn Conversation(me: User, room_id: RoomId) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let loaded = LocalResource::new({
        let room_id = room_id.clone();
        move || {
            live.rooms_changed.track();
            let room_id = room_id.clone();
            async move { Details::load(session, &room_id).await }
        }
    });
    // The last details that loaded: a failed reload (say, just after a kick) keeps them.
    let details = RwSignal::new(None::<Details>);
    let failure = RwSignal::new(None::<String>);
    Effect::new(move |_| match loaded.get() {
        Some(Ok(fresh)) => {
            failure.set(None);
            if details.with_untracked(|d| d.as_ref() != Some(&fresh)) {
                details.set(Some(fresh));
            }
        }
        Some(Err(e)) => failure.set(Some(e.message())),
        None => {}
    });
    let phase = {
        let room_id = room_id.clone();
        Memo::new(move |_| {
            if let Some(reason) = live.removed.with(|r| r.get(&room_id).copied()) {
                Phase::Removed(reason)
            } else if details.with(Option::is_some) {
                Phase::Ready
            } else if let Some(message) = failure.get() {
                Phase::Failed(message)
            } else {
                Phase::Loading
            }
        })
    };
    let home = super::home(&me);
    view! {
        {move || match phase.get() {
            Phase::Loading => view! { <p class="loading">"Loading the room…"</p> }.into_any(),
            Phase::Removed(reason) => view! {
                <section class="card narrow" role="alert">
                    <h1>{removal_text(reason)}</h1>
                    <p><A href=home.clone()>"Back to my rooms"</A></p>
                </section>
            }.into_any(),
            Phase::Failed(message) => view! {
                <section class="card narrow">
                    <p class="error" role="alert">{message}</p>
                    <A href=home.clone()>"Back to my rooms"</A>
                </section>
            }.into_any(),
            Phase::Ready => view! { <RoomLayout me=me.clone() room_id=room_id.clone() details=details/> }.into_any(),
        }}
    }
}

#[component]
fn RoomLayout(me: User, room_id: RoomId, details: RwSignal<Option<Details>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let role = {
        let me = me.clone();
        Memo::new(move |_| details.with(|d| d.as_ref().and_then(|d| d.role_of(&me))))
    };
    let kind = Memo::new(move |_| details.with(|d| d.as_ref().map_or(RoomKind::Group, |d| d.room.kind)));
    let admin = Signal::derive(move || role.get().is_some_and(Role::is_admin) && kind.get() == RoomKind::Group);
    let members = Memo::new(move |_| details.with(|d| d.as_ref().map(|d| d.members.clone()).unwrap_or_default()));
    let title = {
        let me = me.clone();
        move || details.with(|d| d.as_ref().map(|d| d.title(&me)).unwrap_or_default())
    };
    let topic = move || details.with(|d| d.as_ref().and_then(|d| d.room.topic.clone()));
    let home = super::home(&me);
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let leave = {
        let (room_id, home) = (room_id.clone(), home.clone());
        move |_| {
            let confirmed = web_sys::window()
                .and_then(|w| w.confirm_with_message("Leave this room? You can rejoin it from History.").ok())
                .unwrap_or(false);
            if !confirmed {
                return;
            }
            let (room_id, home, navigate) = (room_id.clone(), home.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                let outcome = session.act::<()>(Method::Post, &format!("/api/rooms/{room_id}/leave"), None).await;
                report(error, &outcome);
                if outcome.is_ok() {
                    go(&navigate, &home);
                }
            });
        }
    };
    let manage = format!("{home}/rooms/{room_id}/admin");
    view! {
        <div class="room">
            <section class="card conversation">
                <header class="room-head">
                    <div>
                        <h1>{title}</h1>
                        {move || topic().map(|t| view! { <p class="muted topic">{t}</p> })}
                    </div>
                    <div class="actions">
                        <Show when=move || admin.get()>
                            <A href=manage.clone()>"Manage"</A>
                        </Show>
                        <button class="secondary" on:click=leave.clone()>"Leave"</button>
                    </div>
                </header>
                <ErrorLine error=error/>
                <Messages me=me.clone() room_id=room_id.clone() can_moderate=admin/>
                <Typing me=me.clone() room_id=room_id.clone() members=members/>
                <Composer room_id=room_id.clone()/>
            </section>
            <aside class="card members">
                <h2>{move || format!("Members ({})", members.with(Vec::len))}</h2>
                {move || view! { <MemberList me=me.clone() members=members.get()/> }}
            </aside>
        </div>
    }
}

/// The history, newest at the bottom. Scrolling to the top loads earlier messages, keeping
/// the reader's place; new messages keep the view at the bottom if the reader was there.
#[component]
fn Messages(me: User, room_id: RoomId, can_moderate: Signal<bool>) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let list = NodeRef::<html::Ol>::new();
    let more = RwSignal::new(true);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let stick = StoredValue::new(true);

    let load = {
        let room_id = room_id.clone();
        move |before: Option<u64>| {
            if loading.get_untracked() {
                return;
            }
            loading.set(true);
            let room_id = room_id.clone();
            leptos::task::spawn_local(async move {
                let path = match before {
                    Some(seq) => format!("/api/rooms/{room_id}/messages?before={seq}&limit={PAGE}"),
                    None => format!("/api/rooms/{room_id}/messages?limit={PAGE}"),
                };
                let outcome = session.get::<Page<Message>>(&path).await;
                report(error, &outcome);
                if let Ok(page) = outcome {
                    more.try_set(page.next_cursor.is_some());
                    let element = list.try_get_untracked().flatten();
                    let (height, top) = element.as_ref().map_or((0, 0), |e| (e.scroll_height(), e.scroll_top()));
                    live.add(page.items);
                    if before.is_some()
                        && let Some(element) = element
                    {
                        // Keeps the message the reader was looking at in place.
                        request_animation_frame(move || element.set_scroll_top(element.scroll_height() - height + top));
                    }
                }
                loading.try_set(false);
            });
        }
    };
    load(None);

    let messages = {
        let room_id = room_id.clone();
        Memo::new(move |_| {
            live.messages
                .with(|rooms| rooms.get(&room_id).map(|m| m.values().cloned().collect::<Vec<_>>()).unwrap_or_default())
        })
    };
    // History that could not load (the server was away) loads once the gateway is back; rooms
    // with messages catch up through the gateway's resume.
    Effect::new({
        let load = load.clone();
        move |_| {
            if live.connection.get() == Connection::Live && messages.with_untracked(Vec::is_empty) {
                load(None);
            }
        }
    });
    let oldest = move || messages.with(|m| m.first().map(|m| m.seq));
    let earlier = {
        let load = load.clone();
        move || {
            if more.get_untracked()
                && let Some(seq) = oldest()
            {
                load(Some(seq));
            }
        }
    };
    let on_scroll = {
        let earlier = earlier.clone();
        move |_| {
            let Some(element) = list.get_untracked() else { return };
            let from_bottom = element.scroll_height() - element.scroll_top() - element.client_height();
            stick.set_value(from_bottom < NEAR_BOTTOM_PX);
            if element.scroll_top() < NEAR_BOTTOM_PX {
                earlier();
            }
        }
    };
    // Follows new messages when the reader is at the bottom.
    Effect::new(move |_| {
        messages.track();
        if stick.get_value()
            && let Some(element) = list.get()
        {
            request_animation_frame(move || element.set_scroll_top(element.scroll_height()));
        }
    });
    mark_read(room_id.clone(), messages);

    let remove = move |message: Message| {
        leptos::task::spawn_local(async move {
            let path = format!("/api/rooms/{}/messages/{}", message.room_id, message.id);
            let outcome = session.act::<()>(Method::Delete, &path, None).await;
            report(error, &outcome);
        });
    };
    view! {
        <ol class="messages" node_ref=list on:scroll=on_scroll aria-live="polite">
            <li class="history-edge">
                {move || if more.get() {
                    let earlier = earlier.clone();
                    view! { <button class="link" on:click=move |_| earlier() disabled=move || loading.get()>"Load earlier messages"</button> }.into_any()
                } else {
                    view! { <span class="muted">"This is the beginning of the conversation."</span> }.into_any()
                }}
            </li>
            <For each=move || messages.get() key=|m| (m.seq, m.edited_at, m.deleted) let:m>
                {
                    let mine = m.author_id == me.id;
                    let deleted = m.deleted;
                    let removable = move || (mine || can_moderate.get()) && !deleted;
                    let body_class = format!("body {}", color_class(m.color));
                    let message = m.clone();
                    view! {
                        <li class:deleted=m.deleted class:mine=mine data-seq=m.seq>
                            <div class="meta">
                                <span class="author">{m.author_username.clone()}</span>
                                <time datetime=m.created_at.to_rfc3339()>{when(m.created_at)}</time>
                                {m.edited_at.map(|_| view! { <span class="muted">" (edited)"</span> })}
                                <Show when=removable>
                                    {
                                        let message = message.clone();
                                        view! { <button class="link small" title="Delete this message" on:click=move |_| remove(message.clone())>"Delete"</button> }
                                    }
                                </Show>
                            </div>
                            {m.sticker.map(|s| view! { <pre class="sticker" aria-label=format!("{} sticker", wire_name(&s))>{s.art()}</pre> })}
                            {m.attachment.clone().map(|a| view! { <AttachmentView room_id=m.room_id.clone() attachment=a/> })}
                            <Show when={let body = m.body.clone(); move || !body.is_empty() || m.deleted}>
                                <div class=body_class.clone()>{if m.deleted { "This message was deleted.".to_owned() } else { m.body.clone() }}</div>
                            </Show>
                        </li>
                    }
                }
            </For>
        </ol>
        <ErrorLine error=error/>
    }
}

/// Tells the server how far the reader has read (unread counts), at most once a second.
fn mark_read(room_id: RoomId, messages: Memo<Vec<Message>>) {
    let session = expect_context::<Session>();
    let marked = StoredValue::new(0u64);
    let pending = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(latest) = messages.with(|m| m.last().map(|m| m.seq)) else { return };
        if latest <= marked.get_value() || pending.get_value() {
            return;
        }
        pending.set_value(true);
        let room_id = room_id.clone();
        leptos::task::spawn_local(async move {
            gloo_timers::future::sleep(Duration::from_millis(300)).await;
            let Some(seq) = messages.try_with_untracked(|m| m.last().map_or(latest, |m| m.seq)) else { return };
            let path = format!("/api/rooms/{room_id}/read");
            if session.act(Method::Post, &path, Some(&MarkReadRequest { seq })).await.is_ok() {
                marked.try_set_value(seq);
            }
            gloo_timers::future::sleep(Duration::from_millis(700)).await;
            pending.try_set_value(false);
        });
    });
}

/// "ada is typing…", from the gateway's typing frames (R-WS-2).
#[component]
fn Typing(me: User, room_id: RoomId, members: Memo<Vec<Member>>) -> impl IntoView {
    let live = expect_context::<Live>();
    let line = move || {
        let typing: Vec<UserId> = live.typing.with(|typing| {
            typing
                .get(&room_id)
                .map(|users| users.keys().filter(|user| **user != me.id).cloned().collect())
                .unwrap_or_default()
        });
        let names: Vec<String> = members.with(|members| {
            typing
                .iter()
                .filter_map(|user| members.iter().find(|m| m.user.id == *user))
                .map(|m| m.user.username.clone())
                .collect()
        });
        match names.as_slice() {
            [] => String::new(),
            [one] => format!("{one} is typing…"),
            [one, two] => format!("{one} and {two} are typing…"),
            _ => "Several people are typing…".to_owned(),
        }
    };
    view! { <p class="typing muted" aria-live="polite">{line}</p> }
}

#[component]
fn Composer(room_id: RoomId) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let draft = RwSignal::new(String::new());
    let color = RwSignal::new(None::<Color>);
    let error = RwSignal::new(None::<String>);
    let typing_sent = StoredValue::new(0.0_f64);
    let stickers_open = RwSignal::new(false);
    let attached = RwSignal::new(None::<Attachment>);
    let uploading = RwSignal::new(false);
    let file_input = NodeRef::<html::Input>::new();
    let on_file = {
        let room_id = room_id.clone();
        move |_| {
            let Some(file) = file_input.get().and_then(|input| input.files()).and_then(|files| files.get(0)) else {
                return;
            };
            if let Some(input) = file_input.get() {
                input.set_value("");
            }
            let path = format!("/api/rooms/{room_id}/attachments?filename={}", crate::api::encode(&file.name()));
            uploading.set(true);
            leptos::task::spawn_local(async move {
                match session.upload::<AttachmentEnvelope>(&path, &file).await {
                    Ok(uploaded) => {
                        error.try_set(None);
                        attached.try_set(Some(uploaded.attachment));
                    }
                    Err(e) => {
                        error.try_set(Some(e.message()));
                    }
                }
                uploading.try_set(false);
            });
        }
    };
    let send = {
        let room_id = room_id.clone();
        move |sticker: Option<Sticker>| {
            let body = draft.get_untracked();
            let attachment = attached.get_untracked();
            if body.trim().is_empty() && sticker.is_none() && attachment.is_none() {
                return;
            }
            let client_id = format!("web-{:.0}-{}", super::widgets::now_millis(), body.len());
            let request = SendMessageRequest {
                body,
                color: color.get_untracked(),
                sticker,
                client_id: Some(client_id),
                attachment_id: attachment.as_ref().map(|a| a.id.clone()),
            };
            let room_id = room_id.clone();
            draft.set(String::new());
            attached.set(None);
            stickers_open.set(false);
            typing_sent.set_value(0.0);
            leptos::task::spawn_local(async move {
                let path = format!("/api/rooms/{room_id}/messages");
                match session.post::<_, MessageEnvelope>(&path, &request).await {
                    Ok(sent) => {
                        error.try_set(None);
                        live.add(vec![sent.message]);
                    }
                    Err(e) => {
                        // Nothing is lost: the text and the file come back to the composer.
                        if draft.try_with_untracked(String::is_empty) == Some(true) {
                            draft.try_set(request.body);
                        }
                        if attached.try_with_untracked(Option::is_none) == Some(true) {
                            attached.try_set(attachment);
                        }
                        error.try_set(Some(e.message()));
                    }
                }
            });
        }
    };
    let on_key = {
        let send = send.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                ev.prevent_default();
                send(None);
            }
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        draft.set(event_target_value(&ev));
        let now = super::widgets::now_millis();
        if now - typing_sent.get_value() > TYPING_EVERY_MS {
            typing_sent.set_value(now);
            live.send(ClientFrame::Typing { room_id: room_id.clone() });
        }
    };
    let on_submit = {
        let send = send.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send(None);
        }
    };
    view! {
        <ErrorLine error=error/>
        <div class="toolbar">
            <div class="palette" role="radiogroup" aria-label="Text colour">
                <button type="button" role="radio" class="swatch default" title="Default colour" aria-label="Default colour"
                    aria-checked=move || color.with(Option::is_none).to_string() on:click=move |_| color.set(None)></button>
                {Color::ALL.iter().map(|c| {
                    let (choice, name) = (*c, wire_name(c));
                    view! {
                        <button type="button" role="radio" class=format!("swatch {}", color_class(Some(choice))) title=name.clone() aria-label=name.clone()
                            aria-checked=move || (color.get() == Some(choice)).to_string() on:click=move |_| color.set(Some(choice))></button>
                    }
                }).collect_view()}
            </div>
            <button type="button" class="secondary" aria-expanded=move || stickers_open.get().to_string()
                on:click=move |_| stickers_open.update(|open| *open = !*open)>"Sticker"</button>
            <input type="file" class="visually-hidden" node_ref=file_input aria-label="File to attach"
                accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain" on:change=on_file/>
            <button type="button" class="secondary" disabled=move || uploading.get()
                on:click=move |_| { if let Some(input) = file_input.get() { input.click(); } }>
                {move || if uploading.get() { "Attaching…" } else { "Attach" }}
            </button>
        </div>
        {move || attached.get().map(|a| view! {
            <div class="pending-attachment" aria-live="polite">
                <span>{format!("📎 {} ({})", a.filename, size_label(a.size))}</span>
                <button type="button" class="link small" aria-label="Remove the attachment" on:click=move |_| attached.set(None)>"Remove"</button>
            </div>
        })}
        <form class="composer" on:submit=on_submit>
            <textarea rows="2" aria-label="Message" placeholder="Write a message (Enter sends, Shift+Enter for a new line)" maxlength="4000"
                class=move || color_class(color.get())
                prop:value=move || draft.get() on:input=on_input on:keydown=on_key></textarea>
            <button type="submit">"Send"</button>
        </form>
        <Show when=move || stickers_open.get()>
            <div class="sticker-picker" role="menu" aria-label="Stickers">
                {Sticker::ALL.iter().map(|s| {
                    let (sticker, send) = (*s, send.clone());
                    view! {
                        <button type="button" role="menuitem" title=wire_name(s) aria-label=format!("Send the {} sticker", wire_name(s))
                            on:click=move |_| send(Some(sticker))>
                            <pre>{s.art()}</pre>
                        </button>
                    }
                }).collect_view()}
            </div>
        </Show>
    }
}

/// "2.4 MB", "512 B": a file size for people.
fn size_label(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{} KB", (bytes + 512) / 1024),
        _ => {
            let tenths = (bytes.saturating_mul(10) + 524_288) / 1_048_576;
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }
}

/// An attachment in a message: images shown, other files as a link that downloads them. The
/// file comes through the API with the session's token, as a `blob:` URL.
#[component]
fn AttachmentView(room_id: RoomId, attachment: Attachment) -> impl IntoView {
    let session = expect_context::<Session>();
    let path = format!("/api/rooms/{room_id}/attachments/{}", attachment.id);
    let url = RwSignal::new(None::<String>);
    let failed = RwSignal::new(None::<String>);
    let content_type = attachment.content_type.clone();
    let image = content_type.starts_with("image/");
    let fetch = {
        let (path, content_type) = (path.clone(), content_type.clone());
        move || {
            let (path, content_type) = (path.clone(), content_type.clone());
            leptos::task::spawn_local(async move {
                match session.blob_url(&path, &content_type).await {
                    Ok(found) => {
                        url.try_set(Some(found));
                    }
                    Err(e) => {
                        failed.try_set(Some(e.message()));
                    }
                }
            });
        }
    };
    if image {
        fetch();
    }
    on_cleanup(move || {
        if let Some(Some(found)) = url.try_get_untracked() {
            // A URL the browser no longer knows is already revoked.
            web_sys::Url::revoke_object_url(&found).ok();
        }
    });
    let label = format!("📎 {} ({})", attachment.filename, size_label(attachment.size));
    let filename = attachment.filename.clone();
    view! {
        <div class="attachment">
            {image.then(|| {
                let alt = attachment.filename.clone();
                view! { <Show when=move || url.with(Option::is_some)><img class="attachment-image" alt=alt.clone() src=move || url.get().unwrap_or_default()/></Show> }
            })}
            {move || match url.get() {
                Some(href) => view! { <a class="attachment-file" href=href download=filename.clone()>{label.clone()}</a> }.into_any(),
                None => {
                    let fetch = fetch.clone();
                    view! { <button type="button" class="link attachment-file" on:click=move |_| fetch()>{label.clone()}</button> }.into_any()
                }
            }}
            {move || failed.get().map(|message| view! { <span class="error small">{message}</span> })}
        </div>
    }
}

#[component]
fn MemberList(me: User, members: Vec<Member>) -> impl IntoView {
    let live = expect_context::<Live>();
    let home = super::home(&me);
    view! {
        <ul>
            {members.into_iter().map(|m| {
                let (id, listed) = (m.user.id.clone(), m.user.online);
                let online = Signal::derive(move || live.online(&id, listed));
                let href = if m.user.id == me.id { format!("{home}/profile") } else { format!("{home}/people/{}", m.user.username) };
                view! {
                    <li class:online=online>
                        <span class="dot" title=move || if online.get() { "online" } else { "offline" }></span>
                        <A href=href>{m.user.username.clone()}</A>
                        {m.role.filter(|r| *r != Role::Member).map(|r| view! { <span class="role">{wire_name(&r)}</span> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
