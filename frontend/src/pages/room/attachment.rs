//! A message's attachment (R-MSG-6): images shown, other files as links.

use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{Attachment, RoomId};
use leptos::prelude::*;

/// "2.4 MiB", "512 B": a file size for people.
pub(super) fn size_label(bytes: u64) -> String {
    conclave_protocol::size_label(bytes)
}

/// An attachment in a message: images shown, other files as a link that downloads them. The
/// file comes through the API with the session's token, as a `blob:` URL.
#[component]
pub(super) fn AttachmentView(room_id: RoomId, attachment: Attachment) -> impl IntoView {
    let session = expect_context::<Session>();
    let path = endpoints::DownloadAttachment { room_id, attachment_id: attachment.id.clone() };
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
