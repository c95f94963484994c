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

/// The `@word` that ends at byte `caret` of `text`, if one does: its `@`'s offset and the word
/// typed so far (possibly empty).
pub(super) fn mention_at(text: &str, caret: usize) -> Option<(usize, String)> {
    let before = text.get(..caret)?;
    let at = before.rfind('@')?;
    let word = &before[at + 1..];
    let starts_word = before[..at].chars().last().is_none_or(char::is_whitespace);
    let is_name = word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    (starts_word && is_name && word.len() <= 32).then(|| (at, word.to_owned()))
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
pub(super) fn Composer(me: User, room_id: RoomId, members: Memo<Vec<Member>>) -> impl IntoView {
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
    // One way in for a file, whether chosen, pasted or dropped (R-MSG-6).
    let upload = {
        let room_id = room_id.clone();
        move |file: web_sys::File| {
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
    let on_file = {
        let upload = upload.clone();
        move |_| {
            let Some(file) = file_input.get().and_then(|input| input.files()).and_then(|files| files.get(0)) else {
                return;
            };
            if let Some(input) = file_input.get() {
                input.set_value("");
            }
            upload(file);
        }
    };
    let on_paste = {
        let upload = upload.clone();
        move |ev: leptos::ev::ClipboardEvent| {
            if let Some(file) = ev.clipboard_data().and_then(|data| data.files()).and_then(|files| files.get(0)) {
                ev.prevent_default();
                upload(file);
            }
        }
    };
    let dragging = RwSignal::new(false);
    let on_drop = {
        let upload = upload.clone();
        move |ev: leptos::ev::DragEvent| {
            dragging.set(false);
            if let Some(file) = ev.data_transfer().and_then(|data| data.files()).and_then(|files| files.get(0)) {
                ev.prevent_default();
                upload(file);
            }
        }
    };
    let on_drag_over = move |ev: leptos::ev::DragEvent| {
        // Accepting the drag is what lets a drop happen here.
        ev.prevent_default();
        dragging.set(true);
    };
    // @mention suggestions from the room's members (R-MSG-10).
    let field = NodeRef::<html::Textarea>::new();
    let suggesting = RwSignal::new(None::<(usize, String)>);
    let picked = RwSignal::new(0usize);
    let suggestions = Memo::new({
        let me = me.clone();
        move |_| {
            let Some((_, typed)) = suggesting.get() else { return Vec::new() };
            members.with(|all| {
                all.iter()
                    .map(|m| m.user.username.clone())
                    .filter(|name| *name != me.username && name.starts_with(&typed.to_lowercase()))
                    .take(6)
                    .collect::<Vec<_>>()
            })
        }
    });
    let complete = move |name: String| {
        let Some((start, typed)) = suggesting.get_untracked() else { return };
        let text = draft.get_untracked();
        let end = (start + 1 + typed.len()).min(text.len());
        let completed = format!("{}@{name} {}", &text[..start], &text[end..]);
        let caret = start + name.len() + 2;
        draft.set(completed);
        suggesting.set(None);
        if let Some(field) = field.get_untracked() {
            field.set_value(&draft.get_untracked());
            let caret = u32::try_from(caret).unwrap_or(u32::MAX);
            // Where the caret goes is a nicety; the text is right either way.
            drop(field.set_selection_range(caret, caret));
            drop(field.focus());
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
            let offered = suggestions.with_untracked(Vec::len);
            match ev.key().as_str() {
                "ArrowDown" if offered > 0 => {
                    ev.prevent_default();
                    picked.update(|p| *p = (*p + 1) % offered);
                }
                "ArrowUp" if offered > 0 => {
                    ev.prevent_default();
                    picked.update(|p| *p = (*p + offered - 1) % offered);
                }
                "Enter" | "Tab" if offered > 0 => {
                    ev.prevent_default();
                    if let Some(name) = suggestions.with_untracked(|s| s.get(picked.get_untracked()).cloned()) {
                        complete(name);
                    }
                }
                "Escape" if offered > 0 => {
                    ev.prevent_default();
                    suggesting.set(None);
                }
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
        // An @word being typed right before the caret offers the members it may name.
        let caret = field
            .get_untracked()
            .and_then(|f| f.selection_start().ok().flatten())
            .and_then(|c| usize::try_from(c).ok());
        let typed = draft.with_untracked(|text| caret.and_then(|c| mention_at(text, c)));
        if typed != suggesting.get_untracked() {
            picked.set(0);
        }
        suggesting.set(typed);
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
        <Show when=move || suggestions.with(|s| !s.is_empty())>
            <ul class="mention-suggestions" role="listbox" aria-label="People to mention">
                {move || suggestions.get().into_iter().enumerate().map(|(at, name)| {
                    let chosen = name.clone();
                    view! {
                        <li role="option" aria-selected=move || (picked.get() == at).to_string()
                            on:mousedown=move |e| { e.prevent_default(); complete(chosen.clone()); }>
                            {format!("@{name}")}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </Show>
        <Show when=move || dragging.get()>
            <p class="drop-hint" aria-hidden="true">"Drop the file to attach it"</p>
        </Show>
        <form class="composer" class:dragging=move || dragging.get() on:submit=on_submit on:drop=on_drop
            on:dragover=on_drag_over on:dragleave=move |_| dragging.set(false)>
            <textarea id=COMPOSER_ID node_ref=field on:paste=on_paste rows="2" aria-label="Message" placeholder="Write a message (Enter sends, Shift+Enter for a new line)"
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

#[cfg(test)]
mod tests {
    use super::*;

    /// R-MSG-10: the word being typed is offered for completion only when it is an @name.
    #[test]
    fn mentions_being_typed() {
        assert_eq!(mention_at("hi @ad", 6), Some((3, "ad".to_owned())));
        assert_eq!(mention_at("@", 1), Some((0, String::new())));
        assert_eq!(mention_at("mail@ada", 8), None, "inside a word");
        assert_eq!(mention_at("hi @ada and", 11), None, "the caret is past it");
        assert_eq!(mention_at("é @b", 5), Some((3, "b".to_owned())));
        assert_eq!(mention_at("x", 9), None);
    }
}
