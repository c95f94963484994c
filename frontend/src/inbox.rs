//! What waits for the user across all their rooms (SPEC R-UI-4): each room's unread count and
//! unread mentions, in the order of latest activity, kept current while messages arrive; the
//! room being looked at; and the total the tab's title shows.

use crate::live::Live;
use crate::session::Session;
use conclave_protocol::endpoints;
use conclave_protocol::{MyRoom, NotificationKind, NotificationsQuery, PageQuery, RoomId};
use leptos::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

/// Reloads of the room list while messages arrive are at most this close together.
const RELOAD_EVERY: Duration = Duration::from_millis(800);

#[derive(Clone, Copy)]
pub struct Inbox {
    /// My rooms, latest activity first.
    pub rooms: RwSignal<Vec<MyRoom>>,
    /// Unread mention notifications per room.
    pub mentions: RwSignal<HashMap<RoomId, u32>>,
    /// The room on screen, if any: it counts as read.
    pub viewing: RwSignal<Option<RoomId>>,
    /// Whether the list has loaded, or why it could not.
    pub loaded: RwSignal<Option<Result<(), String>>>,
}

/// When a room last saw activity: its latest message, or else when it was made.
fn activity(room: &MyRoom) -> chrono::DateTime<chrono::Utc> {
    room.last_message_at.unwrap_or(room.room.created_at)
}

impl Inbox {
    pub fn new() -> Self {
        Inbox {
            rooms: RwSignal::new(Vec::new()),
            mentions: RwSignal::new(HashMap::new()),
            viewing: RwSignal::new(None),
            loaded: RwSignal::new(None),
        }
    }

    /// Unread messages of `room` as the user should see them: none in the room on screen.
    pub fn unread(&self, room: &MyRoom) -> u64 {
        if self.viewing.with(|v| v.as_ref() == Some(&room.room.id)) { 0 } else { room.unread_count }
    }

    pub fn mentions_in(&self, room: &RoomId) -> u32 {
        if self.viewing.with(|v| v.as_ref() == Some(room)) {
            return 0;
        }
        self.mentions.with(|m| m.get(room).copied().unwrap_or(0))
    }

    /// My rooms once loaded, latest activity first, or why they could not be.
    pub fn mine(&self) -> Option<Result<Vec<MyRoom>, String>> {
        self.loaded.get().map(|loaded| loaded.map(|()| self.rooms.get()))
    }

    /// Unread messages in every room but the one on screen.
    pub fn total_unread(&self) -> u64 {
        self.rooms.with(|rooms| rooms.iter().map(|r| self.unread(r)).sum())
    }

    /// Keeps the lists current for as long as the app runs: on login and reconnect, when
    /// memberships change, as messages arrive (at most every [`RELOAD_EVERY`]), and when
    /// notifications do; and keeps the tab's title saying how many messages wait.
    pub fn run(self, session: Session, live: Live) {
        let arrivals = RwSignal::new(0u64);
        let pending = StoredValue::new(false);
        Effect::new(move |first: Option<()>| {
            live.messages_arrived.track();
            if first.is_none() || pending.get_value() {
                return;
            }
            pending.set_value(true);
            leptos::task::spawn_local(async move {
                gloo_timers::future::sleep(RELOAD_EVERY).await;
                pending.try_set_value(false);
                arrivals.try_update(|n| *n += 1);
            });
        });
        Effect::new(move |_| {
            live.rooms_changed.track();
            arrivals.track();
            let Some(_) = session.token_tracked() else {
                self.rooms.set(Vec::new());
                self.loaded.set(None);
                return;
            };
            leptos::task::spawn_local(async move {
                match all_my_rooms(session).await {
                    Ok(mut rooms) => {
                        rooms.sort_by_key(|r| std::cmp::Reverse(activity(r)));
                        self.rooms.try_set(rooms);
                        self.loaded.try_set(Some(Ok(())));
                    }
                    Err(e) => {
                        self.loaded.try_set(Some(Err(e.message())));
                    }
                }
            });
        });
        Effect::new(move |_| {
            live.notifications_changed.track();
            if session.token_tracked().is_none() {
                self.mentions.set(HashMap::new());
                return;
            }
            leptos::task::spawn_local(async move {
                let query = NotificationsQuery { unread_only: Some(true), limit: Some(100), cursor: None };
                if let Ok(page) = session.request(&endpoints::Notifications { query }, None).await {
                    let mut counts: HashMap<RoomId, u32> = HashMap::new();
                    for n in page.items.iter().filter(|n| n.kind == NotificationKind::Mention) {
                        if let Some(room) = &n.room_id {
                            *counts.entry(room.clone()).or_default() += 1;
                        }
                    }
                    self.mentions.try_set(counts);
                }
            });
        });
        Effect::new(move |_| {
            let total = self.total_unread();
            let title = if total > 0 { format!("({total}) Conclave") } else { "Conclave".to_owned() };
            document().set_title(&title);
        });
    }
}

/// Every page of my rooms.
async fn all_my_rooms(session: Session) -> Result<Vec<MyRoom>, crate::api::ApiError> {
    let mut rooms = Vec::new();
    let mut cursor = None;
    loop {
        let query = PageQuery { limit: Some(100), cursor };
        let page = session.request(&endpoints::MyRooms { query }, None).await?;
        rooms.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(rooms),
        }
    }
}
