//! Message search (SPEC R-MSG-11): in every room of yours, or in one. Each page of results
//! reads a bounded number of messages on the server, so "Search further back" goes on where
//! the last page stopped, even after a page with no matches.

use super::avatar::Avatar;
use super::widgets::{ErrorLine, room_title, when};
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{Message, MessageSearchQuery, PageQuery, RoomId, User, excerpt};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::HashMap;

#[component]
pub fn SearchPage() -> impl IntoView {
    super::authed(|me| view! { <Search me=me/> })
}

/// Where the results stand: what was searched for, what was found, where to go on.
#[derive(Debug, Clone, Default, PartialEq)]
struct Results {
    q: String,
    found: Vec<Message>,
    next: Option<String>,
    done: bool,
}

/// `text` cut around the first place `q` occurs (any case), as (before, match, after).
fn around(text: &str, q: &str) -> (String, String, String) {
    let one_line = excerpt(text);
    let lower = one_line.to_lowercase();
    let needle = q.trim().to_lowercase();
    match lower.find(&needle) {
        // Lowercasing can change byte lengths; only split where both agree.
        Some(at) if lower.len() == one_line.len() && one_line.is_char_boundary(at + needle.len()) => (
            one_line[..at].to_owned(),
            one_line[at..at + needle.len()].to_owned(),
            one_line[at + needle.len()..].to_owned(),
        ),
        _ => (one_line, String::new(), String::new()),
    }
}

#[component]
fn Search(me: User) -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    let navigate = use_navigate();
    let home = super::home(&me);
    let room: Option<RoomId> = query.with_untracked(|q| q.get("room")).map(RoomId);
    let typed = RwSignal::new(query.with_untracked(|q| q.get("q")).unwrap_or_default());
    let results = RwSignal::new(Results::default());
    let (error, busy) = (RwSignal::new(None::<String>), RwSignal::new(false));
    // Names of my rooms, for the results.
    let rooms = LocalResource::new(move || async move {
        let query = PageQuery { limit: Some(100), cursor: None };
        session
            .request(&endpoints::MyRooms { query }, None)
            .await
            .map(|page| page.items.iter().map(|r| (r.room.id.clone(), room_title(r))).collect::<HashMap<_, _>>())
            .unwrap_or_default()
    });
    let run = {
        let room = room.clone();
        move |more: bool| {
            let q =
                if more { results.with_untracked(|r| r.q.clone()) } else { typed.get_untracked().trim().to_owned() };
            if q.is_empty() || busy.get_untracked() {
                return;
            }
            let cursor = if more { results.with_untracked(|r| r.next.clone()) } else { None };
            let query = MessageSearchQuery { q: q.clone(), limit: Some(20), cursor };
            let room = room.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let outcome = match room {
                    Some(room_id) => session.request(&endpoints::SearchRoomMessages { room_id, query }, None).await,
                    None => session.request(&endpoints::SearchMessages { query }, None).await,
                };
                match outcome {
                    Ok(page) => {
                        error.try_set(None);
                        results.try_update(|r| {
                            if !more {
                                *r = Results { q, ..Results::default() };
                            }
                            r.found.extend(page.items);
                            r.done = page.next_cursor.is_none();
                            r.next = page.next_cursor;
                        });
                    }
                    Err(e) => {
                        error.try_set(Some(e.message()));
                    }
                }
                busy.try_set(false);
            });
        }
    };
    if !typed.get_untracked().trim().is_empty() {
        run(false);
    }
    let submit = {
        let (run, navigate, home, room) = (run.clone(), navigate.clone(), home.clone(), room.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            // The address keeps the search, so Back comes back to these results.
            let q = crate::api::encode(typed.get_untracked().trim());
            let in_room = room.as_ref().map(|r| format!("&room={r}")).unwrap_or_default();
            navigate(
                &format!("{home}/search?q={q}{in_room}"),
                leptos_router::NavigateOptions { replace: true, ..Default::default() },
            );
            run(false);
        }
    };
    let title = {
        let room = room.clone();
        move || match &room {
            Some(id) => {
                let name = rooms.get().and_then(|names| names.get(id).cloned()).unwrap_or_else(|| "this room".into());
                format!("Search in {name}")
            }
            None => "Search your messages".to_owned(),
        }
    };
    let run_more = run.clone();
    view! {
        <section class="card search">
            <h1>{title}</h1>
            <form class="search-form" role="search" on:submit=submit>
                <input type="search" aria-label="Search for" placeholder="Words in messages or file names" maxlength="100" autofocus
                    bind:value=typed/>
                <button type="submit" disabled=move || busy.get()>"Search"</button>
            </form>
            {room.clone().map(|_| view! { <p class="muted"><A href=format!("{home}/search")>"Search all your rooms instead"</A></p> })}
            <ErrorLine error=error/>
            <ol class="results" aria-live="polite">
                {move || {
                    let names = rooms.get().unwrap_or_default();
                    let q = results.with(|r| r.q.clone());
                    results.with(|r| r.found.clone()).into_iter().map(|m| {
                        let href = format!("{home}/rooms/{}?at={}", m.room_id, m.seq);
                        let room_name = names.get(&m.room_id).cloned().unwrap_or_default();
                        let text = match &m.attachment {
                            Some(a) if m.body.is_empty() => format!("📎 {}", a.filename),
                            _ => m.body.clone(),
                        };
                        let (before, hit, after) = around(&text, &q);
                        view! {
                            <li>
                                <A href=href>
                                    <span class="meta">
                                        <Avatar name=m.author_username.clone() url=Signal::stored(None::<String>)/>
                                        <span class="author">{m.author_username.clone()}</span>
                                        <span class="muted">{format!(" in {room_name}")}</span>
                                        <time datetime=m.created_at.to_rfc3339()>{when(m.created_at)}</time>
                                    </span>
                                    <span class="excerpt">{before}<mark>{hit}</mark>{after}</span>
                                </A>
                            </li>
                        }
                    }).collect_view()
                }}
            </ol>
            {move || {
                let (searched, count, done) = results.with(|r| (!r.q.is_empty(), r.found.len(), r.done));
                let run_more = run_more.clone();
                match (searched, count, done) {
                    (false, _, _) => ().into_any(),
                    (true, 0, true) => view! { <p class="muted">"No messages match."</p> }.into_any(),
                    (true, _, true) => view! { <p class="muted">"That is every match."</p> }.into_any(),
                    (true, n, false) => view! {
                        <p class="muted">
                            {if n == 0 { "No matches among the latest messages. ".to_owned() } else { String::new() }}
                            <button type="button" class="secondary" disabled=move || busy.get() on:click=move |_| run_more(true)>"Search further back"</button>
                        </p>
                    }.into_any(),
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-MSG-11: results show where the text was found.
    #[test]
    fn matches_are_marked_in_their_excerpt() {
        let (before, hit, after) = around("Lunch at NOON, then\nback", "noon");
        assert_eq!((before.as_str(), hit.as_str(), after.as_str()), ("Lunch at ", "NOON", ", then back"));
        let (before, hit, _) = around("nothing here", "noon");
        assert_eq!((before.as_str(), hit.as_str()), ("nothing here", ""));
    }
}
