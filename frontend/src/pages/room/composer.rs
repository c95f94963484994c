//! The composer (colour, stickers, attachments; Enter sends, Shift+Enter breaks the line) and
//! who is typing (R-WS-2).

use super::attachment::size_label;
use crate::live::Live;
use crate::pages::widgets::{ErrorLine, color_class, wire_name};
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{
    Attachment, ClientFrame, Color, MAX_MESSAGE_CHARS, Member, Message, MessageId, RoomId, SendMessageRequest, Sticker,
    UploadAttachmentQuery, User, UserId, excerpt,
};
use leptos::html;
use leptos::prelude::*;

/// At most one typing notice per this many milliseconds (the server throttles too).
const TYPING_EVERY_MS: f64 = 3000.0;

/// The composer's text box, focused when a reply begins.
pub(super) const COMPOSER_ID: &str = "composer-input";

/// What the room's writing is about besides a new message: the message it answers (R-MSG-8)
/// and the one being edited in place (R-MSG-7). Shared by the history and the composer.
#[derive(Clone, Copy)]
pub(super) struct Compose {
    pub replying: RwSignal<Option<Message>>,
    pub editing: RwSignal<Option<MessageId>>,
}

impl Compose {
    pub fn new() -> Self {
        Compose { replying: RwSignal::new(None), editing: RwSignal::new(None) }
    }

    /// Answers `message`: the composer says so and takes the focus.
    pub fn reply_to(&self, message: Message) {
        self.replying.set(Some(message));
        focus(COMPOSER_ID);
    }
}

/// Puts the keyboard focus on the element with `id`, if there is one.
pub(super) fn focus(id: &str) {
    let id = id.to_owned();
    request_animation_frame(move || {
        if let Some(element) = document().get_element_by_id(&id)
            && let Ok(element) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element)
        {
            // Focus may be refused (a hidden element): nothing to tell anyone.
            drop(element.focus());
        }
    });
}

/// "ada is typing…", from the gateway's typing frames (R-WS-2).
#[component]
pub(super) fn Typing(me: User, room_id: RoomId, members: Memo<Vec<Member>>) -> impl IntoView {
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
pub(super) fn Composer(me: User, room_id: RoomId) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let compose = expect_context::<Compose>();
    let draft = RwSignal::new(String::new());
    // Counted as the server counts (characters), shown near the limit; nothing is cut.
    let length = Memo::new(move |_| draft.with(|d| d.chars().count()));
    let near_limit = Memo::new(move |_| length.get() > MAX_MESSAGE_CHARS * 9 / 10);
    let too_long = Memo::new(move |_| length.get() > MAX_MESSAGE_CHARS);
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
            let endpoint = endpoints::UploadAttachment {
                room_id: room_id.clone(),
                query: UploadAttachmentQuery { filename: file.name() },
            };
            uploading.set(true);
            leptos::task::spawn_local(async move {
                match session.upload(&endpoint, &file).await {
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
            if body.chars().count() > MAX_MESSAGE_CHARS {
                // The counter says so; nothing is cut and nothing is sent.
                return;
            }
            let client_id = format!("web-{:.0}-{}", crate::pages::widgets::now_millis(), body.len());
            let request = SendMessageRequest {
                body,
                color: color.get_untracked(),
                sticker,
                client_id: Some(client_id),
                attachment_id: attachment.as_ref().map(|a| a.id.clone()),
                reply_to: compose.replying.with_untracked(|m| m.as_ref().map(|m| m.id.clone())),
            };
            let replying = compose.replying.get_untracked();
            let room_id = room_id.clone();
            draft.set(String::new());
            attached.set(None);
            compose.replying.set(None);
            stickers_open.set(false);
            typing_sent.set_value(0.0);
            leptos::task::spawn_local(async move {
                match session.request(&endpoints::SendMessage { room_id }, Some(&request)).await {
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
                        if compose.replying.try_with_untracked(Option::is_none) == Some(true) {
                            compose.replying.try_set(replying);
                        }
                        error.try_set(Some(e.message()));
                    }
                }
            });
        }
    };
    let on_key = {
        let (send, room_id) = (send.clone(), room_id.clone());
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.is_composing() {
                return;
            }
            match ev.key().as_str() {
                "Enter" if !ev.shift_key() => {
                    ev.prevent_default();
                    send(None);
                }
                // Up in an empty composer edits your last message, as in Slack and Element.
                "ArrowUp" if draft.with_untracked(String::is_empty) => {
                    let last = live.messages.with_untracked(|rooms| {
                        rooms.get(&room_id).and_then(|m| {
                            m.values()
                                .rev()
                                .find(|m| m.author_id == me.id && !m.deleted && !m.body.is_empty())
                                .map(|m| m.id.clone())
                        })
                    });
                    if let Some(id) = last {
                        ev.prevent_default();
                        compose.editing.set(Some(id));
                    }
                }
                "Escape" if compose.replying.with_untracked(Option::is_some) => {
                    ev.prevent_default();
                    compose.replying.set(None);
                }
                _ => {}
            }
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        draft.set(event_target_value(&ev));
        let now = crate::pages::widgets::now_millis();
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
        // Above the composer, so that it opens inside the window, not below its bottom edge.
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
        {move || compose.replying.get().map(|m| {
            let about = if m.body.is_empty() { "a message without text".to_owned() } else { excerpt(&m.body) };
            view! {
                <div class="replying" aria-live="polite">
                    <span>"Replying to "<strong>{m.author_username.clone()}</strong>": "<span class="muted">{about}</span></span>
                    <button type="button" class="link small" aria-label="Cancel the reply" title="Cancel the reply (Esc)"
                        on:click=move |_| compose.replying.set(None)>"Cancel"</button>
                </div>
            }
        })}
        <form class="composer" on:submit=on_submit>
            <textarea id=COMPOSER_ID rows="2" aria-label="Message" placeholder="Write a message (Enter sends, Shift+Enter for a new line)"
                class=move || color_class(color.get()) aria-describedby="message-length"
                prop:value=move || draft.get() on:input=on_input on:keydown=on_key></textarea>
            <button type="submit" disabled=move || too_long.get()>"Send"</button>
        </form>
        <Show when=move || near_limit.get()>
            <p id="message-length" class="length" class:error=move || too_long.get() aria-live="polite">
                {move || {
                    let used = length.get();
                    if used > MAX_MESSAGE_CHARS {
                        format!("{used} / {MAX_MESSAGE_CHARS} characters: shorten it by {} to send it.", used - MAX_MESSAGE_CHARS)
                    } else {
                        format!("{used} / {MAX_MESSAGE_CHARS} characters")
                    }
                }}
            </p>
        </Show>
    }
}
