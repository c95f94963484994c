//! Avatars (SPEC R-ACC-8): a user's picture, fetched once per address (an address names one
//! picture, so it never goes stale), or their initials on a colour of their own.

use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{AvatarQuery, DELETED_USER_PREFIX};
use leptos::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
enum Picture {
    Loading,
    Ready(String),
    Failed,
}

/// The pictures fetched so far, by address, shared by every avatar on every page.
#[derive(Clone, Copy)]
pub struct Avatars {
    pictures: RwSignal<HashMap<String, Picture>>,
}

impl Avatars {
    pub fn new() -> Self {
        Avatars { pictures: RwSignal::new(HashMap::new()) }
    }

    /// The `blob:` URL of the picture at `url`, once fetched (tracked); starts fetching it.
    fn picture(&self, session: Session, url: &str) -> Option<String> {
        match self.pictures.with(|p| p.get(url).cloned()) {
            Some(Picture::Ready(found)) => return Some(found),
            Some(Picture::Loading | Picture::Failed) => return None,
            None => {}
        }
        let Some(endpoint) = endpoint_of(url) else {
            self.pictures.update(|p| {
                p.insert(url.to_owned(), Picture::Failed);
            });
            return None;
        };
        self.pictures.update(|p| {
            p.insert(url.to_owned(), Picture::Loading);
        });
        let (pictures, url) = (self.pictures, url.to_owned());
        leptos::task::spawn_local(async move {
            let outcome = match session.blob_url(&endpoint, "image/jpeg").await {
                Ok(found) => Picture::Ready(found),
                Err(_) => Picture::Failed,
            };
            pictures.try_update(|p| p.insert(url, outcome));
        });
        None
    }
}

/// The endpoint an `avatar_url` names: `/api/users/{username}/avatar?v=…`.
fn endpoint_of(url: &str) -> Option<endpoints::Avatar> {
    let rest = url.strip_prefix("/api/users/")?;
    let (username, query) = rest.split_once("/avatar")?;
    let v = query.strip_prefix("?v=").map(str::to_owned);
    Some(endpoints::Avatar { username: username.to_owned(), query: AvatarQuery { v } })
}

/// Up to two letters for a name: `ada` → `A`, `ada.lovelace` → `AL`; `?` for a deleted user.
pub fn initials(name: &str) -> String {
    if name.starts_with(DELETED_USER_PREFIX) {
        return "?".to_owned();
    }
    name.split(['.', '_', '-', ' '])
        .filter_map(|part| part.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// A hue of the colour wheel that is always the same for a name.
pub fn hue(name: &str) -> u32 {
    name.bytes().fold(7u32, |hash, byte| hash.wrapping_mul(31).wrapping_add(u32::from(byte))) % 360
}

/// A round avatar: the picture at `url`, or the initials of `name` until then (and for good
/// without one).
#[component]
pub fn Avatar(name: String, #[prop(into)] url: Signal<Option<String>>, #[prop(optional)] large: bool) -> impl IntoView {
    let session = expect_context::<Session>();
    let avatars = expect_context::<Avatars>();
    let picture = move || url.get().and_then(|url| avatars.picture(session, &url));
    let style = format!("--avatar-hue: {}", hue(&name));
    let letters = initials(&name);
    view! {
        <span class="avatar" class:large=large style=style aria-hidden="true">
            {move || match picture() {
                Some(src) => view! { <img src=src alt=""/> }.into_any(),
                None => view! { <span class="initials">{letters.clone()}</span> }.into_any(),
            }}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-ACC-8: initials stand in for a picture.
    #[test]
    fn initials_of_names() {
        assert_eq!(initials("ada"), "A");
        assert_eq!(initials("ada.lovelace"), "AL");
        assert_eq!(initials("grace_b_hopper"), "GB");
        assert_eq!(initials("deleted user 1a2b3c4d"), "?");
        assert_eq!(hue("ada"), hue("ada"));
        assert!(hue("ada") < 360);
    }

    #[test]
    fn avatar_addresses_name_their_endpoint() {
        let endpoint = endpoint_of("/api/users/ada/avatar?v=17").expect("an avatar address");
        assert_eq!((endpoint.username.as_str(), endpoint.query.v.as_deref()), ("ada", Some("17")));
        assert!(endpoint_of("https://elsewhere.example/x.png").is_none());
    }
}
