//! The history, newest at the bottom: paging back, live messages, the read marker.

use super::attachment::AttachmentView;
use super::composer::{Compose, focus};
use super::text::{InlineText, RichText};
use crate::live::{Connection, Live};
use crate::pages::avatar::Avatar;
use crate::pages::widgets::{ErrorLine, color_class, confirmed, day, report, when, wire_name};
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{
    EditMessageRequest, MAX_MESSAGE_CHARS, MarkReadRequest, Member, Message, MessageId, MessagesQuery, ReplyTo, RoomId,
    User,
};
use leptos::html;
use leptos::prelude::*;
use std::time::Duration;

/// Messages asked for per page of history.
const PAGE: u32 = 50;
/// Within this many pixels of the bottom, new messages keep the view at the bottom.
const NEAR_BOTTOM_PX: i32 = 80;

/// The history, newest at the bottom. Scrolling to the top loads earlier messages, keeping
/// the reader's place; new messages keep the view at the bottom if the reader was there.
#[component]
pub(super) fn Messages(
    me: User,
    room_id: RoomId,
    can_moderate: Signal<bool>,
    members: Memo<Vec<Member>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let compose = expect_context::<Compose>();
    let list = NodeRef::<html::Ol>::new();
    let more = RwSignal::new(true);
    // A quoted message being looked for (R-MSG-8), or the one a search result (`?at=`) names
    // (R-MSG-11): earlier pages load until it is there.
    let at =
        leptos_router::hooks::use_query_map().with_untracked(|q| q.get("at").and_then(|at| at.parse::<u64>().ok()));
    let seeking = RwSignal::new(at);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let stick = StoredValue::new(true);
    // Whether the reader is away from the latest messages ("Jump to latest" shows).
    let scrolled_up = RwSignal::new(false);
    // The reader's read marker when the room opened with unread messages (R-UI-4), once the
    // sidebar knows it; the "New messages" line stays where it was put.
    let inbox = expect_context::<crate::inbox::Inbox>();
    let read_up_to = RwSignal::new(None::<u64>);
    let marker_known = StoredValue::new(false);
    Effect::new({
        let room_id = room_id.clone();
        move |_| {
            if marker_known.get_value() {
                return;
            }
            let Some((unread, read)) = inbox
                .rooms
                .with(|rooms| rooms.iter().find(|r| r.room.id == room_id).map(|r| (r.unread_count, r.last_read_seq)))
            else {
                return;
            };
            marker_known.set_value(true);
            if unread > 0 {
                read_up_to.set(Some(read));
            }
        }
    });

    let load = {
        let room_id = room_id.clone();
        move |before: Option<u64>| {
            if loading.get_untracked() {
                return;
            }
            loading.set(true);
            let room_id = room_id.clone();
            leptos::task::spawn_local(async move {
                let query = MessagesQuery { before, limit: Some(PAGE), ..MessagesQuery::default() };
                let outcome = session.request(&endpoints::Messages { room_id, query }, None).await;
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
            scrolled_up.set(from_bottom >= NEAR_BOTTOM_PX * 3);
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
    Effect::new({
        let load = load.clone();
        move |_| {
            let Some(seq) = seeking.get() else { return };
            let oldest = messages.with(|m| m.first().map(|m| m.seq));
            if messages.with(|m| m.iter().any(|m| m.seq == seq)) {
                seeking.set(None);
                stick.set_value(false);
                request_animation_frame(move || show_message(list, seq));
            } else if oldest.is_some_and(|oldest| oldest > seq) && more.get() && !loading.get() {
                load(oldest);
            } else if !more.get() || oldest.is_none() {
                seeking.set(None);
            }
        }
    });

    let remove = move |message: Message| {
        if !confirmed("Delete this message for everyone?") {
            return;
        }
        leptos::task::spawn_local(async move {
            let endpoint = endpoints::DeleteMessage { room_id: message.room_id, message_id: message.id };
            let outcome = session.request(&endpoint, None).await;
            report(error, &outcome);
        });
    };
    let jump = move |_| {
        if let Some(element) = list.get_untracked() {
            stick.set_value(true);
            scrolled_up.set(false);
            element.set_scroll_top(element.scroll_height());
        }
    };
    view! {
        <div class="messages-wrap">
        <ol class="messages" node_ref=list on:scroll=on_scroll aria-live="polite">
            <li class="history-edge">
                {move || if more.get() {
                    let earlier = earlier.clone();
                    view! { <button class="link" on:click=move |_| earlier() disabled=move || loading.get()>"Load earlier messages"</button> }.into_any()
                } else {
                    view! { <span class="muted">"This is the beginning of the conversation."</span> }.into_any()
                }}
            </li>
            <For each=move || placed(&messages.get(), read_up_to.get()) key=|(m, place)| (m.seq, m.edited_at, m.deleted, place.clone()) let:item>
                {
                    let (m, place) = item;
                    let mine = m.author_id == me.id;
                    let deleted = m.deleted;
                    let removable = move || (mine || can_moderate.get()) && !deleted;
                    let body_class = format!("body {}", color_class(m.color));
                    let message = m.clone();
                    let editable = mine && !m.deleted && !m.body.is_empty();
                    let edited = m.clone();
                    let editing = {
                        let id = m.id.clone();
                        Memo::new(move |_| compose.editing.with(|e| e.as_ref() == Some(&id)))
                    };
                    let picking = RwSignal::new(false);
                    let (body, my_name) = (m.body.clone(), me.username.clone());
                    let separator = place.day.clone().map(|day| view! { <li class="day-separator" role="separator"><span>{day}</span></li> });
                    let new_line = place.first_new.then(|| view! { <li class="new-messages" role="separator"><span>"New messages"</span></li> });
                    view! {
                        {separator}
                        {new_line}
                        <li class:deleted=m.deleted class:mine=mine class:grouped=place.grouped data-seq=m.seq>
                            <div class="meta">
                                {
                                    let author = m.author_id.clone();
                                    let url = Signal::derive(move || members.with(|all| all.iter().find(|x| x.user.id == author).and_then(|x| x.user.avatar_url.clone())));
                                    view! { <Avatar name=m.author_username.clone() url=url/> }
                                }
                                <span class="author">{m.author_username.clone()}</span>
                                <time datetime=m.created_at.to_rfc3339()>{when(m.created_at)}</time>
                                {(m.edited_at.is_some() && !m.deleted).then(|| view! { <span class="muted">" (edited)"</span> })}
                                {(!m.deleted).then(|| {
                                    let message = message.clone();
                                    view! { <button class="link small" title="Reply to this message" on:click=move |_| compose.reply_to(message.clone())>"Reply"</button> }
                                })}
                                {editable.then(|| {
                                    let id = m.id.clone();
                                    view! { <button class="link small" title="Edit this message (Up in an empty composer)" on:click=move |_| compose.editing.set(Some(id.clone()))>"Edit"</button> }
                                })}
                                {(!m.deleted).then(|| view! {
                                    <button class="link small react" title="Add a reaction" aria-expanded=move || picking.get().to_string()
                                        on:click=move |_| picking.update(|open| *open = !*open)>"React"</button>
                                })}
                                <Show when=removable>
                                    {
                                        let message = message.clone();
                                        view! { <button class="link small" title="Delete this message" on:click=move |_| remove(message.clone())>"Delete"</button> }
                                    }
                                </Show>
                            </div>
                            {m.reply_to.clone().map(|r| view! { <Quote reply=r seeking=seeking/> })}
                            {m.sticker.map(|s| view! { <pre class="sticker" aria-label=format!("{} sticker", wire_name(&s))>{s.art()}</pre> })}
                            {m.attachment.clone().map(|a| view! { <AttachmentView room_id=m.room_id.clone() attachment=a/> })}
                            <Show when=move || editing.get()>
                                <EditInPlace message=edited.clone()/>
                            </Show>
                            <Show when={let body = m.body.clone(); move || (!body.is_empty() || m.deleted) && !editing.get()}>
                                <div class=body_class.clone()>
                                    {if m.deleted {
                                        "This message was deleted.".into_any()
                                    } else {
                                        view! { <RichText body=body.clone() me=my_name.clone()/> }.into_any()
                                    }}
                                </div>
                            </Show>
                            {(!m.deleted).then(|| view! { <Reactions room_id=m.room_id.clone() seq=m.seq message_id=m.id.clone() picking=picking/> })}
                        </li>
                    }
                }
            </For>
        </ol>
        <Show when=move || scrolled_up.get()>
            <button type="button" class="jump" on:click=jump>"Jump to latest ↓"</button>
        </Show>
        </div>
        <ErrorLine error=error/>
    }
}

/// Scrolls the message numbered `seq` into the middle of the view and marks it for a moment.
fn show_message(list: NodeRef<html::Ol>, seq: u64) {
    let Some(list) = list.get_untracked() else { return };
    let Ok(Some(item)) = list.query_selector(&format!("li[data-seq=\"{seq}\"]")) else { return };
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    options.set_behavior(web_sys::ScrollBehavior::Smooth);
    item.scroll_into_view_with_scroll_into_view_options(&options);
    // Only the highlight fails if the class list refuses: nothing to tell anyone.
    drop(item.class_list().add_1("flash"));
    leptos::task::spawn_local(async move {
        gloo_timers::future::sleep(Duration::from_millis(1600)).await;
        drop(item.class_list().remove_1("flash"));
    });
}

/// What a reply shows of the message it answers; a click goes to that message (R-MSG-8).
#[component]
fn Quote(reply: ReplyTo, seeking: RwSignal<Option<u64>>) -> impl IntoView {
    let text = match (reply.deleted, reply.excerpt.is_empty()) {
        (true, _) => "This message was deleted.".to_owned(),
        (false, true) => "A message without text".to_owned(),
        (false, false) => reply.excerpt.clone(),
    };
    view! {
        <button type="button" class="quote" class:deleted=reply.deleted title="Go to the original"
            on:click=move |_| seeking.set(Some(reply.seq))>
            <span class="author">{reply.author_username.clone()}</span>
            <span class="excerpt"><InlineText text=text/></span>
        </button>
    }
}

/// A message's text being edited where it stands (R-MSG-7): Enter saves, Shift+Enter breaks the
/// line, Esc puts it back as it was.
#[component]
fn EditInPlace(message: Message) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let compose = expect_context::<Compose>();
    let text = RwSignal::new(message.body.clone());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let too_long = Memo::new(move |_| text.with(|t| t.chars().count() > MAX_MESSAGE_CHARS));
    let field_id = format!("edit-{}", message.seq);
    focus(&field_id);
    let done = move || {
        compose.editing.set(None);
        focus(super::composer::COMPOSER_ID);
    };
    let save = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() || too_long.get_untracked() || saving.get_untracked() {
            return;
        }
        if body == message.body {
            done();
            return;
        }
        saving.set(true);
        let endpoint = endpoints::EditMessage { room_id: message.room_id.clone(), message_id: message.id.clone() };
        leptos::task::spawn_local(async move {
            let outcome = session.request(&endpoint, Some(&EditMessageRequest { body })).await;
            report(error, &outcome);
            saving.try_set(false);
            if let Ok(edited) = outcome {
                live.add(vec![edited.message]);
                done();
            }
        });
    };
    let on_key = {
        let save = save.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.is_composing() {
                return;
            }
            match ev.key().as_str() {
                "Enter" if !ev.shift_key() => {
                    ev.prevent_default();
                    save();
                }
                "Escape" => {
                    ev.prevent_default();
                    done();
                }
                _ => {}
            }
        }
    };
    view! {
        <div class="edit-in-place">
            <textarea id=field_id rows="2" aria-label="Edit the message" prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev)) on:keydown=on_key></textarea>
            <div class="edit-actions">
                <span class="muted small">"Enter saves · Esc cancels"</span>
                <button type="button" class="secondary" on:click=move |_| done()>"Cancel"</button>
                <button type="button" disabled=move || saving.get() || too_long.get() on:click=move |_| save()>"Save"</button>
            </div>
            <Show when=move || too_long.get()>
                <p class="error">{format!("A message has at most {MAX_MESSAGE_CHARS} characters.")}</p>
            </Show>
            <ErrorLine error=error/>
        </div>
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
            if session.request(&endpoints::MarkRead { room_id }, Some(&MarkReadRequest { seq })).await.is_ok() {
                marked.try_set_value(seq);
            }
            gloo_timers::future::sleep(Duration::from_millis(700)).await;
            pending.try_set_value(false);
        });
    });
}

/// What the reaction picker offers, by kind: a built-in set, nothing fetched from elsewhere (the
/// server accepts any single emoji).
const EMOJI_SET: [(&str, &[&str]); 6] = [
    ("Frequent", &["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "🔥", "👀", "✅", "👎", "🚀"]),
    (
        "Faces",
        &[
            "😀", "😃", "😄", "😁", "😅", "🤣", "😊", "😇", "🙂", "😉", "😍", "🥰", "😘", "😋", "😜", "🤪", "🤓", "😎",
            "🥳", "😏", "😒", "😞", "😔", "😟", "😕", "🙁", "😣", "😫", "😩", "🥺", "😭", "😤", "😠", "😡", "🤯", "😳",
            "😱", "🤔", "🤫", "🤭", "🙄", "😬", "😴", "🤤", "🤒", "🤕", "🤢", "🤧",
        ],
    ),
    (
        "Gestures",
        &[
            "👏", "🙌", "👐", "🤝", "✌️", "🤞", "🤟", "🤘", "👌", "🤌", "👈", "👉", "👆", "👇", "☝️", "✋", "🖐️", "👋",
            "💪", "🫡",
        ],
    ),
    (
        "Things",
        &[
            "☕", "🍕", "🍔", "🍰", "🍺", "🍷", "🎂", "🎁", "🏆", "⚽", "🎮", "🎵", "📌", "📎", "📅", "💡", "🔧", "🐛",
            "💻", "📱",
        ],
    ),
    (
        "Nature",
        &["🐱", "🐶", "🦊", "🐼", "🐧", "🐢", "🦀", "🐝", "🌱", "🌲", "🌸", "🌈", "☀️", "🌙", "⭐", "⚡", "❄️", "🌊"],
    ),
    (
        "Symbols",
        &["💯", "❗", "❓", "💬", "➕", "➖", "❌", "⭕", "🆗", "🆒", "💤", "🔔", "🏁", "♻️", "💔", "💙", "💚", "💜"],
    ),
];

/// A message's reactions, live (R-MSG-9): each emoji with its count, yours marked; a click adds
/// yours or takes it back. While `picking`, the emoji set is offered too.
#[component]
fn Reactions(room_id: RoomId, seq: u64, message_id: MessageId, picking: RwSignal<bool>) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let error = RwSignal::new(None::<String>);
    let reactions = {
        let room_id = room_id.clone();
        Memo::new(move |_| {
            live.messages.with(|rooms| {
                rooms.get(&room_id).and_then(|m| m.get(&seq)).map(|m| m.reactions.clone()).unwrap_or_default()
            })
        })
    };
    // The room learns of it, this tab included, through the gateway's reaction frames.
    let toggle = move |emoji: String| {
        let mine = reactions.with_untracked(|all| all.iter().any(|r| r.emoji == emoji && r.me));
        let (room_id, message_id) = (room_id.clone(), message_id.clone());
        picking.set(false);
        leptos::task::spawn_local(async move {
            let outcome = if mine {
                session.request(&endpoints::RemoveReaction { room_id, message_id, emoji }, None).await
            } else {
                session.request(&endpoints::AddReaction { room_id, message_id, emoji }, None).await
            };
            report(error, &outcome);
        });
    };
    let toggle_existing = toggle.clone();
    let shown = move || picking.get() || error.with(Option::is_some) || reactions.with(|all| !all.is_empty());
    view! {
        <div class="reactions" class:hidden=move || !shown()>
            <For each=move || reactions.get() key=|r| (r.emoji.clone(), r.count, r.me) let:r>
                {
                    let toggle = toggle_existing.clone();
                    let emoji = r.emoji.clone();
                    let label = format!("{} {} ({})", r.emoji, r.count, if r.me { "yours; click to take it back" } else { "click to add yours" });
                    view! {
                        <button class="reaction" class:mine=r.me aria-pressed=r.me.to_string() title=label
                            on:click=move |_| toggle(emoji.clone())>
                            {format!("{} {}", r.emoji, r.count)}
                        </button>
                    }
                }
            </For>
            <Show when=move || picking.get()>
                <div class="picker" role="menu" aria-label="Reactions">
                    {EMOJI_SET.iter().map(|(kind, emoji)| {
                        let toggle = toggle.clone();
                        view! {
                            <span class="picker-kind" role="group" aria-label=*kind>
                                <span class="muted small">{*kind}</span>
                                {emoji.iter().map(|emoji| {
                                    let toggle = toggle.clone();
                                    view! { <button class="reaction" role="menuitem" on:click=move |_| toggle((*emoji).to_owned())>{*emoji}</button> }
                                }).collect_view()}
                            </span>
                        }
                    }).collect_view()}
                </div>
            </Show>
            <ErrorLine error=error/>
        </div>
    }
}

/// Consecutive messages of one author within this long read as one group.
const GROUP_WITHIN_SECS: i64 = 5 * 60;

/// Where a message sits among those before it: the first of a day gets that day's separator;
/// one that follows its author's previous message closely is drawn without their name again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Place {
    day: Option<String>,
    grouped: bool,
    /// The first message after the reader's read marker: the "New messages" line goes above it.
    first_new: bool,
}

/// Places `messages`; `read_up_to` is the reader's read marker when the room was opened with
/// unread messages (R-UI-4).
fn placed(messages: &[Message], read_up_to: Option<u64>) -> Vec<(Message, Place)> {
    let mut previous: Option<(&Message, String)> = None;
    let mut out = Vec::with_capacity(messages.len());
    let mut divided = false;
    for message in messages {
        let first_new = !divided && read_up_to.is_some_and(|read| message.seq > read);
        divided |= first_new;
        let this_day = day(message.created_at);
        let new_day = previous.as_ref().is_none_or(|(_, previous_day)| *previous_day != this_day);
        let grouped = !new_day
            && !first_new
            && previous.as_ref().is_some_and(|(p, _)| {
                p.author_id == message.author_id
                    && !p.deleted
                    && !message.deleted
                    && (message.created_at - p.created_at).num_seconds() < GROUP_WITHIN_SECS
            });
        out.push((message.clone(), Place { day: new_day.then(|| this_day.clone()), grouped, first_new }));
        previous = Some((message, this_day));
    }
    out
}
