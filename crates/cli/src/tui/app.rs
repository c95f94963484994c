//! The full-screen client's state and its one transition, [`App::update`]: an action in (a
//! key, a gateway frame, an answer, a tick), the new state and the effects to run out. Pure: no
//! I/O, no clock (time comes in with the actions), so every behaviour is tested on values.

use super::slash::{self, Slash};
use chrono::{DateTime, FixedOffset, Utc};
use conclave_protocol::{
    Color, Member, Message, MyRoom, Notification, RoomId, RoomKind, ServerFrame, Sticker, User, UserId,
};
use std::collections::{BTreeMap, HashMap};

/// How long a "… is typing" lasts without a new typing frame.
const TYPING_SECS: i64 = 6;
/// A typing frame is sent at most this often while the user types.
const TYPING_EVERY_SECS: i64 = 3;

/// One room as the client holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomState {
    pub room: MyRoom,
    /// By sequence number: live ones and the history loaded so far.
    pub messages: BTreeMap<u64, Message>,
    /// The history reaches the room's first message.
    pub complete: bool,
    /// A page of history is on its way.
    pub loading: bool,
    /// Lines scrolled up from the newest.
    pub scroll: u16,
    /// Who is typing, until when.
    pub typing: BTreeMap<UserId, DateTime<Utc>>,
}

impl RoomState {
    fn new(room: MyRoom) -> Self {
        RoomState {
            room,
            messages: BTreeMap::new(),
            complete: false,
            loading: false,
            scroll: 0,
            typing: BTreeMap::new(),
        }
    }

    pub fn id(&self) -> &RoomId {
        &self.room.room.id
    }

    /// The name it goes by: a direct conversation's is the other person's username.
    pub fn label(&self) -> &str {
        crate::names::label(&self.room)
    }

    pub fn is_direct(&self) -> bool {
        self.room.room.kind == RoomKind::Direct
    }

    fn newest(&self) -> Option<u64> {
        self.messages.keys().next_back().copied()
    }
}

/// Which of `rooms` the switcher offers for `query`: names holding it in any case, in order.
fn matches<'a>(rooms: &'a [RoomState], query: &str) -> Vec<&'a RoomState> {
    let query = query.to_lowercase();
    rooms.iter().filter(|r| r.label().to_lowercase().contains(&query)).collect()
}

/// What the composer holds: text (lines joined by `\n`) and the cursor, in characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Composer {
    pub text: String,
    pub cursor: usize,
    /// The colour of the messages sent from now on (`/color`).
    pub color: Option<Color>,
    /// The message being edited (Up in an empty composer): Enter saves the text as its new one.
    pub editing: Option<conclave_protocol::MessageId>,
}

impl Composer {
    fn byte_at(&self, chars: usize) -> usize {
        self.text.char_indices().nth(chars).map_or(self.text.len(), |(at, _)| at)
    }

    fn insert(&mut self, c: char) {
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }
}

/// The room switcher (Ctrl-K): what is typed, and which match is chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Switcher {
    pub query: String,
    pub selected: usize,
}

/// The gateway connection as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Connected,
    /// Lost; trying again (why it was lost).
    Reconnecting(String),
}

/// A line for the status bar: something done, or something refused (as a sentence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Error(String),
}

/// What the main area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Room,
    Notifications,
}

/// Everything that can happen to the client.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    // Keys, already read as intentions.
    Insert(char),
    Newline,
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    Submit,
    Up,
    Down,
    PageUp,
    PageDown,
    NextRoom,
    PreviousRoom,
    OpenSwitcher,
    Escape,
    ToggleNotifications,
    Quit,
    /// The terminal's main area is this many lines high (for paging).
    Resized(u16),
    // Answers and news.
    Frame(ServerFrame),
    Connection(Connection),
    Rooms(Vec<MyRoom>),
    History {
        room: RoomId,
        messages: Vec<Message>,
        complete: bool,
    },
    Members {
        room: RoomId,
        members: Vec<Member>,
    },
    Notifications(Vec<Notification>),
    /// Open this room (one just joined or opened).
    Open(RoomId),
    /// A message this client sent was stored (shown at once, before its live frame).
    Sent(Message),
    /// A message could not be sent: its text, and why.
    NotSent {
        body: String,
        sentence: String,
    },
    /// An effect did what it said: a sentence for the status line.
    Done(String),
    /// An effect was refused or failed: the sentence.
    Failed(String),
    Tick(DateTime<Utc>),
}

/// An admin command from the composer (`/kick bob`): the room and the username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moderation {
    Invite,
    Kick,
    Ban,
    Unban,
    Promote,
    Demote,
    Accept,
    Decline,
}

/// What the client must do outside: calls to the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send {
        room: RoomId,
        body: String,
        color: Option<Color>,
        sticker: Option<Sticker>,
        /// The message it answers (R-MSG-8).
        reply_to: Option<conclave_protocol::MessageId>,
    },
    LoadHistory {
        room: RoomId,
        before: Option<u64>,
    },
    LoadMembers(RoomId),
    MarkRead {
        room: RoomId,
        seq: u64,
    },
    Typing(RoomId),
    Moderate {
        room: RoomId,
        action: Moderation,
        username: String,
    },
    /// Give one's own message new text.
    Edit {
        room: RoomId,
        message: conclave_protocol::MessageId,
        body: String,
    },
    /// Delete one's own message.
    Delete {
        room: RoomId,
        message: conclave_protocol::MessageId,
    },
    /// Add (or, with `add` false, take back) a reaction.
    React {
        room: RoomId,
        message: conclave_protocol::MessageId,
        emoji: String,
        add: bool,
    },
    OpenDm {
        username: String,
        text: Option<String>,
    },
    Join(String),
    Leave(RoomId),
    ReloadRooms,
    ReadAllNotifications,
}

/// The client.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub me: User,
    pub server: String,
    /// The sidebar's order: groups, then direct conversations, each by latest activity.
    pub rooms: Vec<RoomState>,
    pub current: Option<RoomId>,
    pub composer: Composer,
    pub switcher: Option<Switcher>,
    pub pane: Pane,
    pub notifications: Vec<Notification>,
    pub connection: Connection,
    pub notice: Option<Notice>,
    /// Usernames by id, from everything seen (for typing and presence).
    pub names: HashMap<UserId, String>,
    pub online: HashMap<UserId, bool>,
    /// Where times are shown (the terminal's zone at start; fixed in tests).
    pub offset: FixedOffset,
    pub now: DateTime<Utc>,
    /// Lines of the message area, for paging.
    pub page: u16,
    last_typing: Option<(RoomId, DateTime<Utc>)>,
    pub quit: bool,
}

impl App {
    pub fn new(me: User, server: String, rooms: Vec<MyRoom>, offset: FixedOffset, now: DateTime<Utc>) -> Self {
        let mut app = App {
            names: HashMap::from([(me.id.clone(), me.username.clone())]),
            me,
            server,
            rooms: Vec::new(),
            current: None,
            composer: Composer::default(),
            switcher: None,
            pane: Pane::Room,
            notifications: Vec::new(),
            connection: Connection::Connecting,
            notice: None,
            online: HashMap::new(),
            offset,
            now,
            page: 20,
            last_typing: None,
            quit: false,
        };
        app.set_rooms(rooms);
        app
    }

    /// The effects a fresh start needs: the open room's history and members.
    pub fn start(&mut self) -> Vec<Effect> {
        match self.current.clone() {
            Some(room) => self.opened(room),
            None => Vec::new(),
        }
    }

    pub fn room(&self, id: &RoomId) -> Option<&RoomState> {
        self.rooms.iter().find(|r| r.id() == id)
    }

    fn room_mut(&mut self, id: &RoomId) -> Option<&mut RoomState> {
        self.rooms.iter_mut().find(|r| r.id() == id)
    }

    pub fn current_room(&self) -> Option<&RoomState> {
        self.current.as_ref().and_then(|id| self.room(id))
    }

    /// The newest message number known of each room (where a resume starts).
    pub fn last_seqs(&self) -> BTreeMap<RoomId, u64> {
        self.rooms.iter().filter_map(|r| r.newest().map(|seq| (r.id().clone(), seq))).collect()
    }

    /// The rooms the switcher offers for its query, in sidebar order.
    pub fn matches(&self, query: &str) -> Vec<&RoomState> {
        matches(&self.rooms, query)
    }

    fn set_rooms(&mut self, rooms: Vec<MyRoom>) {
        let mut kept: HashMap<RoomId, RoomState> = self.rooms.drain(..).map(|r| (r.id().clone(), r)).collect();
        for room in rooms {
            if let Some(peer) = &room.peer {
                self.names.insert(peer.id.clone(), peer.username.clone());
                self.online.insert(peer.id.clone(), peer.online);
            }
            let state = match kept.remove(&room.room.id) {
                Some(mut state) => {
                    // What this client read since the server's list was made stays read.
                    let (read, unread) = (state.room.last_read_seq, state.room.unread_count);
                    state.room = room;
                    if read > state.room.last_read_seq {
                        state.room.last_read_seq = read;
                        state.room.unread_count = unread;
                    }
                    state
                }
                None => RoomState::new(room),
            };
            self.rooms.push(state);
        }
        self.sort();
        if self.current.as_ref().is_none_or(|id| self.room(id).is_none()) {
            self.current = self.rooms.first().map(|r| r.id().clone());
        }
    }

    fn sort(&mut self) {
        self.rooms.sort_by(|a, b| {
            a.is_direct()
                .cmp(&b.is_direct())
                .then(b.room.last_message_at.cmp(&a.room.last_message_at))
                .then(a.label().to_lowercase().cmp(&b.label().to_lowercase()))
        });
    }

    /// Opening a room: its unread count is done with, its history and members are loaded when
    /// not yet there.
    fn opened(&mut self, id: RoomId) -> Vec<Effect> {
        self.current = Some(id.clone());
        self.pane = Pane::Room;
        let mut effects = Vec::new();
        if let Some(room) = self.room_mut(&id) {
            room.scroll = 0;
            if room.messages.is_empty() && !room.complete && !room.loading {
                room.loading = true;
                effects.push(Effect::LoadHistory { room: id.clone(), before: None });
                effects.push(Effect::LoadMembers(id.clone()));
            }
        }
        effects.extend(self.read_current());
        effects
    }

    /// Marks the open room read up to its newest message, when it shows the newest.
    fn read_current(&mut self) -> Vec<Effect> {
        let Some(id) = self.current.clone() else { return Vec::new() };
        let Some(room) = self.room_mut(&id) else { return Vec::new() };
        let Some(newest) = room.newest() else { return Vec::new() };
        if room.scroll > 0 || room.room.last_read_seq >= newest {
            return Vec::new();
        }
        room.room.last_read_seq = newest;
        room.room.unread_count = 0;
        vec![Effect::MarkRead { room: id, seq: newest }]
    }

    fn step_room(&mut self, by: isize) -> Vec<Effect> {
        if self.rooms.is_empty() {
            return Vec::new();
        }
        let count = isize::try_from(self.rooms.len()).unwrap_or(isize::MAX);
        let at = self
            .current
            .as_ref()
            .and_then(|id| self.rooms.iter().position(|r| r.id() == id))
            .and_then(|at| isize::try_from(at).ok())
            .unwrap_or(0);
        let next = usize::try_from((at + by).rem_euclid(count)).unwrap_or(0);
        let id = self.rooms[next].id().clone();
        self.opened(id)
    }

    fn fail(&mut self, sentence: impl Into<String>) -> Vec<Effect> {
        self.notice = Some(Notice::Error(sentence.into()));
        Vec::new()
    }

    /// The one transition.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        if let Some(switcher) = self.switcher.as_mut() {
            match action {
                Action::Insert(c) => {
                    switcher.query.push(c);
                    switcher.selected = 0;
                    return Vec::new();
                }
                Action::Backspace => {
                    switcher.query.pop();
                    switcher.selected = 0;
                    return Vec::new();
                }
                Action::Up => {
                    switcher.selected = switcher.selected.saturating_sub(1);
                    return Vec::new();
                }
                Action::Down => {
                    let last = matches(&self.rooms, &switcher.query).len().saturating_sub(1);
                    switcher.selected = (switcher.selected + 1).min(last);
                    return Vec::new();
                }
                Action::Submit => {
                    let Switcher { query, selected } = self.switcher.take().unwrap_or_default();
                    let chosen = self.matches(&query).get(selected).map(|r| r.id().clone());
                    return match chosen {
                        Some(id) => self.opened(id),
                        None => self.fail(format!("no room of yours matches {query:?}")),
                    };
                }
                Action::Escape | Action::OpenSwitcher => {
                    self.switcher = None;
                    return Vec::new();
                }
                _ => {}
            }
        }
        match action {
            Action::Insert(c) => {
                self.composer.insert(c);
                self.typed()
            }
            Action::Newline => {
                self.composer.insert('\n');
                Vec::new()
            }
            Action::Backspace => {
                self.composer.backspace();
                Vec::new()
            }
            Action::Delete => {
                self.composer.delete();
                Vec::new()
            }
            Action::Left => {
                self.composer.cursor = self.composer.cursor.saturating_sub(1);
                Vec::new()
            }
            Action::Right => {
                self.composer.cursor = (self.composer.cursor + 1).min(self.composer.text.chars().count());
                Vec::new()
            }
            Action::Home => {
                self.composer.cursor = 0;
                Vec::new()
            }
            Action::End => {
                self.composer.cursor = self.composer.text.chars().count();
                Vec::new()
            }
            Action::Submit => self.submit(),
            Action::Up if self.composer.text.is_empty() && self.pane == Pane::Room => {
                match self.my_newest().map(|mine| (mine.id.clone(), mine.body.clone())) {
                    Some((id, body)) => {
                        self.composer.cursor = body.chars().count();
                        self.composer.text = body;
                        self.composer.editing = Some(id);
                        self.notice =
                            Some(Notice::Info("editing your last message: Enter saves, Esc leaves it".into()));
                        Vec::new()
                    }
                    None => self.scroll_up(1),
                }
            }
            Action::Up | Action::PageUp => self.scroll_up(if action == Action::Up { 1 } else { self.page.max(2) - 1 }),
            Action::Down | Action::PageDown => {
                let by = if action == Action::Down { 1 } else { self.page.max(2) - 1 };
                if let Some(room) = self.current.clone().and_then(|id| self.room_mut(&id)) {
                    room.scroll = room.scroll.saturating_sub(by);
                }
                self.read_current()
            }
            Action::NextRoom => self.step_room(1),
            Action::PreviousRoom => self.step_room(-1),
            Action::OpenSwitcher => {
                self.switcher = Some(Switcher::default());
                Vec::new()
            }
            Action::Escape => {
                if self.composer.editing.take().is_some() {
                    self.composer.take();
                }
                self.notice = None;
                self.pane = Pane::Room;
                Vec::new()
            }
            Action::ToggleNotifications => self.toggle_notifications(),
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Resized(lines) => {
                self.page = lines;
                Vec::new()
            }
            Action::Frame(frame) => self.frame(frame),
            Action::Connection(connection) => {
                self.connection = connection;
                Vec::new()
            }
            Action::Rooms(rooms) => {
                self.set_rooms(rooms);
                match self.current.clone() {
                    Some(id) => self.opened(id),
                    None => Vec::new(),
                }
            }
            Action::History { room, messages, complete } => {
                for message in &messages {
                    self.names.insert(message.author_id.clone(), message.author_username.clone());
                }
                if let Some(state) = self.room_mut(&room) {
                    state.loading = false;
                    state.complete |= complete;
                    for message in messages {
                        state.messages.insert(message.seq, message);
                    }
                }
                if self.current.as_ref() == Some(&room) { self.read_current() } else { Vec::new() }
            }
            Action::Members { members, .. } => {
                for member in members {
                    self.online.insert(member.user.id.clone(), member.user.online);
                    self.names.insert(member.user.id.clone(), member.user.username);
                }
                Vec::new()
            }
            Action::Notifications(notifications) => {
                self.notifications = notifications;
                Vec::new()
            }
            Action::Open(id) => self.opened(id),
            Action::Sent(message) => self.message(message),
            Action::NotSent { body, sentence } => {
                // The text comes back to be sent again, unless something else was typed since.
                if self.composer.text.is_empty() {
                    self.composer.cursor = body.chars().count();
                    self.composer.text = body;
                }
                self.fail(sentence)
            }
            Action::Done(sentence) => {
                self.notice = Some(Notice::Info(sentence));
                Vec::new()
            }
            Action::Failed(sentence) => self.fail(sentence),
            Action::Tick(now) => {
                self.now = now;
                for room in &mut self.rooms {
                    room.typing.retain(|_, until| *until > now);
                }
                Vec::new()
            }
        }
    }

    /// Typing in a room tells the others, at most every few seconds; `/commands` do not.
    fn typed(&mut self) -> Vec<Effect> {
        let Some(room) = self.current.clone() else { return Vec::new() };
        if self.composer.text.starts_with('/') || self.pane != Pane::Room {
            return Vec::new();
        }
        let recent = self.last_typing.as_ref().is_some_and(|(last, at)| {
            *last == room && self.now.signed_duration_since(*at).num_seconds() < TYPING_EVERY_SECS
        });
        if recent {
            return Vec::new();
        }
        self.last_typing = Some((room.clone(), self.now));
        vec![Effect::Typing(room)]
    }

    fn scroll_up(&mut self, by: u16) -> Vec<Effect> {
        let Some(id) = self.current.clone() else { return Vec::new() };
        let Some(room) = self.room_mut(&id) else { return Vec::new() };
        room.scroll = room.scroll.saturating_add(by);
        // Further back than what is loaded: the page before the oldest.
        let oldest = room.messages.keys().next().copied();
        let lines_loaded = u16::try_from(room.messages.len().saturating_mul(2)).unwrap_or(u16::MAX);
        if !room.complete && !room.loading && room.scroll >= lines_loaded.saturating_sub(by) {
            room.loading = true;
            return vec![Effect::LoadHistory { room: id, before: oldest }];
        }
        Vec::new()
    }

    fn toggle_notifications(&mut self) -> Vec<Effect> {
        if self.pane == Pane::Notifications {
            self.pane = Pane::Room;
            return Vec::new();
        }
        self.pane = Pane::Notifications;
        if self.notifications.iter().any(|n| !n.read) {
            // Seen now: read on the server, and shown as read from the next opening.
            return vec![Effect::ReadAllNotifications];
        }
        Vec::new()
    }

    pub fn unread_notifications(&self) -> usize {
        self.notifications.iter().filter(|n| !n.read).count()
    }

    fn submit(&mut self) -> Vec<Effect> {
        let text = self.composer.text.trim().to_owned();
        if text.is_empty() {
            return Vec::new();
        }
        if text.starts_with('/') {
            self.composer.take();
            return match slash::parse(&text) {
                Ok(command) => self.slash(command),
                Err(sentence) => self.fail(sentence),
            };
        }
        let Some(room) = self.current.clone() else {
            return self.fail("no room is open: Ctrl-K to choose one, or /join NAME");
        };
        self.composer.take();
        if let Some(message) = self.composer.editing.take() {
            self.notice = None;
            return vec![Effect::Edit { room, message, body: text }];
        }
        vec![Effect::Send { room, body: text, color: self.composer.color, sticker: None, reply_to: None }]
    }

    fn slash(&mut self, command: Slash) -> Vec<Effect> {
        let room = self.current.clone();
        let in_room = |effect: &dyn Fn(RoomId) -> Effect| -> Result<Vec<Effect>, String> {
            room.clone().map(|id| vec![effect(id)]).ok_or_else(|| "open a room first".to_owned())
        };
        let outcome = match command {
            Slash::Color(color) => {
                self.composer.color = color;
                self.notice = Some(Notice::Info(match color {
                    Some(_) => "messages from now on have that colour (/color none to stop)".into(),
                    None => "messages from now on have no colour".into(),
                }));
                Ok(Vec::new())
            }
            Slash::Sticker(sticker) => in_room(&|room| Effect::Send {
                room,
                body: String::new(),
                color: self.composer.color,
                sticker: Some(sticker),
                reply_to: None,
            }),
            Slash::Reply(body) => {
                let theirs = self
                    .current_room()
                    .and_then(|room| room.messages.values().rev().find(|m| m.author_id != self.me.id && !m.deleted));
                match (self.current.clone(), theirs.map(|m| m.id.clone())) {
                    (Some(room), Some(message)) => Ok(vec![Effect::Send {
                        room,
                        body,
                        color: self.composer.color,
                        sticker: None,
                        reply_to: Some(message),
                    }]),
                    _ => Err("no one else's message here to answer".to_owned()),
                }
            }
            Slash::Dm { username, text } => Ok(vec![Effect::OpenDm { username, text }]),
            Slash::Join(name) => Ok(vec![Effect::Join(name)]),
            Slash::Leave => in_room(&Effect::Leave),
            Slash::React(emoji) => self.react(emoji),
            Slash::Edit(body) => match (self.current.clone(), self.my_newest().map(|m| m.id.clone())) {
                (Some(room), Some(message)) => Ok(vec![Effect::Edit { room, message, body }]),
                _ => Err("you have no message here to edit".to_owned()),
            },
            Slash::Delete => match (self.current.clone(), self.my_newest().map(|m| m.id.clone())) {
                (Some(room), Some(message)) => Ok(vec![Effect::Delete { room, message }]),
                _ => Err("you have no message here to delete".to_owned()),
            },
            Slash::Moderate(action, username) => {
                in_room(&|room| Effect::Moderate { room, action: action.clone(), username: username.clone() })
            }
            Slash::Notifications => Ok(self.toggle_notifications()),
            Slash::Quit => {
                self.quit = true;
                Ok(Vec::new())
            }
            Slash::Help => {
                self.notice = Some(Notice::Info(slash::HELP.into()));
                Ok(Vec::new())
            }
        };
        outcome.unwrap_or_else(|sentence| self.fail(sentence))
    }

    /// The user's own newest message in the open room that is still there.
    fn my_newest(&self) -> Option<&Message> {
        self.current_room()?.messages.values().rev().find(|m| m.author_id == self.me.id && !m.deleted)
    }

    /// `/react`: to the open room's newest message; an emoji given already is taken back.
    fn react(&self, emoji: String) -> Result<Vec<Effect>, String> {
        let room = self.current_room().ok_or("open a room first")?;
        let newest = room.messages.values().rev().find(|m| !m.deleted).ok_or("no message to react to")?;
        let add = !newest.reactions.iter().any(|r| r.emoji == emoji && r.me);
        Ok(vec![Effect::React { room: room.id().clone(), message: newest.id.clone(), emoji, add }])
    }

    /// A reaction given (`add`) or taken back by `user`, counted on its message.
    fn reacted(
        &mut self,
        room: &RoomId,
        message: &conclave_protocol::MessageId,
        emoji: String,
        user: &UserId,
        add: bool,
    ) {
        let mine = *user == self.me.id;
        let Some(room) = self.room_mut(room) else { return };
        let Some(message) = room.messages.values_mut().find(|m| m.id == *message) else { return };
        let at = message.reactions.iter().position(|r| r.emoji == emoji);
        match (at, add) {
            (Some(at), true) => {
                let reaction = &mut message.reactions[at];
                if !(mine && reaction.me) {
                    reaction.count += 1;
                    reaction.me |= mine;
                }
            }
            (None, true) => message.reactions.push(conclave_protocol::Reaction { emoji, count: 1, me: mine }),
            (Some(at), false) => {
                let reaction = &mut message.reactions[at];
                if !mine || reaction.me {
                    reaction.count = reaction.count.saturating_sub(1);
                    reaction.me &= !mine;
                }
                if reaction.count == 0 {
                    message.reactions.remove(at);
                }
            }
            (None, false) => {}
        }
    }

    /// A message arrives (live, or this client's own once stored): in its place, once.
    fn message(&mut self, message: Message) -> Vec<Effect> {
        let mine = message.author_id == self.me.id;
        self.names.insert(message.author_id.clone(), message.author_username.clone());
        let id = message.room_id.clone();
        let open = self.current.as_ref() == Some(&id) && self.pane == Pane::Room;
        let Some(room) = self.room_mut(&id) else {
            // A room this client does not know yet (a new direct conversation): the list again.
            return vec![Effect::ReloadRooms];
        };
        room.typing.remove(&message.author_id);
        let new = !room.messages.contains_key(&message.seq);
        room.room.last_message_at = Some(message.created_at).max(room.room.last_message_at);
        if new && !mine && message.seq > room.room.last_read_seq && !open {
            room.room.unread_count += 1;
        }
        if mine {
            room.room.last_read_seq = room.room.last_read_seq.max(message.seq);
        }
        room.messages.insert(message.seq, message);
        self.sort();
        if open { self.read_current() } else { Vec::new() }
    }

    fn frame(&mut self, frame: ServerFrame) -> Vec<Effect> {
        match frame {
            ServerFrame::Ready { user, rooms } => {
                self.me = user;
                self.set_rooms(rooms);
                self.read_current()
            }
            ServerFrame::MessageCreated { message } => self.message(message),
            ServerFrame::MessageUpdated { message } => {
                if let Some(room) = self.room_mut(&message.room_id) {
                    room.messages.insert(message.seq, message);
                }
                Vec::new()
            }
            ServerFrame::MessageDeleted { room_id, message_id } => {
                if let Some(room) = self.room_mut(&room_id) {
                    for message in room.messages.values_mut().filter(|m| m.id == message_id) {
                        message.deleted = true;
                        message.body.clear();
                        message.attachment = None;
                        message.sticker = None;
                    }
                }
                Vec::new()
            }
            ServerFrame::Typing { room_id, user_id } => {
                let until = self.now + chrono::Duration::seconds(TYPING_SECS);
                if user_id != self.me.id
                    && let Some(room) = self.room_mut(&room_id)
                {
                    room.typing.insert(user_id, until);
                }
                Vec::new()
            }
            ServerFrame::Presence { user_id, online } => {
                self.online.insert(user_id.clone(), online);
                for room in &mut self.rooms {
                    if let Some(peer) = room.room.peer.as_mut().filter(|p| p.id == user_id) {
                        peer.online = online;
                    }
                }
                Vec::new()
            }
            ServerFrame::MemberJoined { room_id, user } => {
                self.names.insert(user.id.clone(), user.username.clone());
                if user.id == self.me.id {
                    return vec![Effect::ReloadRooms];
                }
                if let Some(room) = self.room_mut(&room_id) {
                    room.room.room.member_count += 1;
                }
                Vec::new()
            }
            ServerFrame::MemberLeft { room_id, user_id, reason } => {
                if user_id == self.me.id {
                    let label = self.room(&room_id).map(|r| r.label().to_owned()).unwrap_or_default();
                    self.rooms.retain(|r| r.id() != &room_id);
                    if self.current.as_ref() == Some(&room_id) {
                        self.current = self.rooms.first().map(|r| r.id().clone());
                    }
                    let why = match reason {
                        conclave_protocol::LeaveReason::Left => "you left",
                        conclave_protocol::LeaveReason::Kicked => "you were removed from",
                        conclave_protocol::LeaveReason::Banned => "you were banned from",
                        conclave_protocol::LeaveReason::Terminated => "closed:",
                    };
                    self.notice = Some(Notice::Info(format!("{why} {label}")));
                    return match self.current.clone() {
                        Some(id) => self.opened(id),
                        None => Vec::new(),
                    };
                }
                if let Some(room) = self.room_mut(&room_id) {
                    room.room.room.member_count = room.room.room.member_count.saturating_sub(1);
                }
                Vec::new()
            }
            ServerFrame::RoleChanged { room_id, user_id, role } => {
                if user_id == self.me.id
                    && let Some(room) = self.room_mut(&room_id)
                {
                    room.room.role = Some(role);
                }
                Vec::new()
            }
            ServerFrame::RoomTerminated { room_id } => {
                let label = self.room(&room_id).map(|r| r.label().to_owned()).unwrap_or_default();
                self.rooms.retain(|r| r.id() != &room_id);
                self.notice = Some(Notice::Info(format!("{label} was closed")));
                if self.current.as_ref() == Some(&room_id) {
                    self.current = self.rooms.first().map(|r| r.id().clone());
                    if let Some(id) = self.current.clone() {
                        return self.opened(id);
                    }
                }
                Vec::new()
            }
            ServerFrame::NotificationCreated { notification } => {
                self.notifications.insert(0, notification);
                Vec::new()
            }
            ServerFrame::Error { message, client_id: None, .. } => self.fail(message),
            ServerFrame::ReactionAdded { room_id, message_id, emoji, user_id } => {
                self.reacted(&room_id, &message_id, emoji, &user_id, true);
                Vec::new()
            }
            ServerFrame::ReactionRemoved { room_id, message_id, emoji, user_id } => {
                self.reacted(&room_id, &message_id, emoji, &user_id, false);
                Vec::new()
            }
            ServerFrame::Ack { .. } | ServerFrame::Error { .. } | ServerFrame::Resumed | ServerFrame::Pong => {
                Vec::new()
            }
        }
    }
}
