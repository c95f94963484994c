//! The full-screen client on values: `App::update` state tests, and snapshots of the main
//! screens drawn into an 80×24 test terminal (issue 17).

use super::app::*;
use super::view;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use conclave_protocol::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, minute, 0).unwrap()
}

fn user(name: &str, online: bool) -> User {
    User {
        id: UserId::from(format!("u-{name}").as_str()),
        username: name.into(),
        first_name: None,
        last_name: None,
        online,
        created_at: at(1, 0, 0),
        last_seen_at: None,
        avatar_url: None,
    }
}

fn room(id: &str, name: &str, peer: Option<User>, unread: u64, last: u32) -> MyRoom {
    MyRoom {
        room: Room {
            id: RoomId::from(id),
            kind: if peer.is_some() { RoomKind::Direct } else { RoomKind::Group },
            name: name.into(),
            topic: (name == "general").then(|| "all of us".to_owned()),
            join_policy: if peer.is_some() { JoinPolicy::Invite } else { JoinPolicy::Open },
            owner_id: None,
            member_count: 3,
            created_at: at(1, 0, 0),
            terminated_at: None,
        },
        role: peer.is_none().then_some(Role::Member),
        unread_count: unread,
        peer,
        last_read_seq: 0,
        last_message_at: Some(at(5, last, 0)),
    }
}

fn message(room: &str, seq: u64, author: &str, body: &str, when: DateTime<Utc>) -> Message {
    Message {
        id: MessageId::from(format!("{room}-{seq}").as_str()),
        room_id: RoomId::from(room),
        seq,
        author_id: UserId::from(format!("u-{author}").as_str()),
        author_username: author.into(),
        body: body.into(),
        color: None,
        sticker: None,
        attachment: None,
        created_at: when,
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
        reply_to: None,
    }
}

/// alice, in general (open), club and a direct conversation with bob (online).
fn app() -> App {
    let rooms = vec![
        room("r-general", "general", None, 0, 10),
        room("r-club", "club", None, 2, 9),
        room("r-bob", "bob", Some(user("bob", true)), 1, 8),
    ];
    let mut app = App::new(
        user("alice", true),
        "http://127.0.0.1:8080".into(),
        rooms,
        FixedOffset::east_opt(0).unwrap(),
        at(6, 12, 0),
    );
    app.update(Action::Connection(Connection::Connected));
    app
}

fn created(message: Message) -> Action {
    Action::Frame(ServerFrame::MessageCreated { message })
}

fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| app.update(Action::Insert(c))).collect()
}

fn seqs(app: &App, room: &str) -> Vec<u64> {
    app.room(&RoomId::from(room)).unwrap().messages.keys().copied().collect()
}

/// Issue 17, R-WS-3: live messages take their place by number, once; a room not open counts
/// them unread (not one's own); the open room is marked read as they come.
#[test]
fn messages_arrive_in_place_once() {
    let mut app = app();
    assert_eq!(app.current, Some(RoomId::from("r-general")), "the most active group first");
    for seq in [2, 1, 2] {
        app.update(created(message("r-club", seq, "bob", "hi", at(6, 11, 0))));
    }
    assert_eq!(seqs(&app, "r-club"), [1, 2]);
    assert_eq!(app.room(&RoomId::from("r-club")).unwrap().room.unread_count, 4, "2 before, 2 new");
    app.update(created(message("r-club", 3, "alice", "mine", at(6, 11, 1))));
    assert_eq!(app.room(&RoomId::from("r-club")).unwrap().room.unread_count, 4, "not my own");
    let effects = app.update(created(message("r-general", 1, "bob", "hello", at(6, 11, 2))));
    assert_eq!(effects, [Effect::MarkRead { room: RoomId::from("r-general"), seq: 1 }]);
    assert_eq!(app.last_seqs().get(&RoomId::from("r-club")), Some(&3), "where a resume starts");
}

/// The server's room list (the gateway's `ready`, after a reconnect) does not bring back as
/// unread what this client has read since.
#[test]
fn a_room_list_does_not_undo_reading() {
    let mut app = app();
    let general = RoomId::from("r-general");
    app.update(Action::History {
        room: general.clone(),
        messages: vec![message("r-general", 7, "bob", "x", at(6, 11, 0))],
        complete: false,
    });
    let mut stale = room("r-general", "general", None, 5, 10);
    stale.last_read_seq = 2;
    let effects = app.update(Action::Frame(ServerFrame::Ready { user: user("alice", true), rooms: vec![stale] }));
    assert_eq!(effects, []);
    assert_eq!(app.room(&general).unwrap().room.unread_count, 0);
    assert_eq!(app.room(&general).unwrap().room.last_read_seq, 7);
}

/// Issue 17: Enter sends, Alt-Enter adds a line; an empty composer sends nothing; text the
/// server refused comes back to be sent again.
#[test]
fn enter_sends_and_alt_enter_adds_a_line() {
    let mut app = app();
    typed(&mut app, "two");
    app.update(Action::Newline);
    typed(&mut app, "lines");
    let effects = app.update(Action::Submit);
    assert_eq!(
        effects,
        [Effect::Send {
            room: RoomId::from("r-general"),
            body: "two\nlines".into(),
            color: None,
            sticker: None,
            reply_to: None
        }]
    );
    assert_eq!(app.composer.text, "");
    assert_eq!(app.update(Action::Submit), []);
    typed(&mut app, "   ");
    assert_eq!(app.update(Action::Submit), []);
    app.update(Action::Home);
    app.update(Action::End);
    for _ in 0..3 {
        app.update(Action::Backspace);
    }
    app.update(Action::NotSent { body: "try again".into(), sentence: "you are sending too fast".into() });
    assert_eq!((app.composer.text.as_str(), app.composer.cursor), ("try again", 9));
    assert_eq!(app.notice, Some(Notice::Error("you are sending too fast".into())));
}

/// Issue 17: /commands become the admin actions and the rest; /color colours what follows;
/// a wrong command is a sentence in the status line.
#[test]
fn slash_commands_become_effects() {
    let mut app = app();
    typed(&mut app, "/kick @bob");
    assert_eq!(
        app.update(Action::Submit),
        [Effect::Moderate { room: RoomId::from("r-general"), action: Moderation::Kick, username: "bob".into() }]
    );
    typed(&mut app, "/color teal");
    assert_eq!(app.update(Action::Submit), []);
    typed(&mut app, "in teal");
    assert_eq!(
        app.update(Action::Submit),
        [Effect::Send {
            room: RoomId::from("r-general"),
            body: "in teal".into(),
            color: Some(Color::Teal),
            sticker: None,
            reply_to: None
        }]
    );
    typed(&mut app, "/sticker cat");
    assert_eq!(
        app.update(Action::Submit),
        [Effect::Send {
            room: RoomId::from("r-general"),
            body: String::new(),
            color: Some(Color::Teal),
            sticker: Some(Sticker::Cat),
            reply_to: None
        }]
    );
    typed(&mut app, "/dm carol see you");
    assert_eq!(app.update(Action::Submit), [Effect::OpenDm { username: "carol".into(), text: Some("see you".into()) }]);
    typed(&mut app, "/join lobby");
    assert_eq!(app.update(Action::Submit), [Effect::Join("lobby".into())]);
    typed(&mut app, "/leave");
    assert_eq!(app.update(Action::Submit), [Effect::Leave(RoomId::from("r-general"))]);
    typed(&mut app, "/shout");
    assert_eq!(app.update(Action::Submit), []);
    assert_eq!(app.notice, Some(Notice::Error("no command /shout; /help lists them".into())));
    assert!(typed(&mut app, "/quit").is_empty(), "a command is not typing");
    app.update(Action::Submit);
    assert!(app.quit);
}

/// Issue 17: Ctrl-K finds a room by name; opening one loads its history and members once.
#[test]
fn the_switcher_opens_rooms_by_name() {
    let mut app = app();
    app.update(Action::OpenSwitcher);
    for _ in 0..5 {
        app.update(Action::Down);
    }
    assert_eq!(app.switcher.as_ref().map(|s| s.selected), Some(2), "Down stops at the last of three");
    app.update(Action::Up);
    assert_eq!(app.switcher.as_ref().map(|s| s.selected), Some(1));
    typed(&mut app, "CL");
    assert_eq!(app.matches("CL").len(), 1);
    let effects = app.update(Action::Submit);
    let club = RoomId::from("r-club");
    assert_eq!(effects, [Effect::LoadHistory { room: club.clone(), before: None }, Effect::LoadMembers(club.clone())]);
    assert_eq!((app.current.as_ref(), app.switcher.as_ref()), (Some(&club), None));
    app.update(Action::OpenSwitcher);
    typed(&mut app, "nothing like it");
    app.update(Action::Submit);
    assert_eq!(app.current.as_ref(), Some(&club));
    assert!(matches!(app.notice, Some(Notice::Error(_))));
    assert!(app.update(Action::NextRoom).contains(&Effect::LoadMembers(RoomId::from("r-bob"))), "the next: bob");
}

/// Issue 17: PageUp past what is loaded asks for the page before the oldest message, until the
/// room's first one is there.
#[test]
fn paging_up_loads_earlier_history() {
    let mut app = app();
    let general = RoomId::from("r-general");
    let page: Vec<Message> = (48..=50).map(|seq| message("r-general", seq, "bob", "x", at(6, 10, 0))).collect();
    app.update(Action::History { room: general.clone(), messages: page, complete: false });
    app.update(Action::Resized(10));
    let effects = app.update(Action::PageUp);
    assert_eq!(effects, [Effect::LoadHistory { room: general.clone(), before: Some(48) }]);
    assert_eq!(app.update(Action::PageUp), [], "one page at a time");
    let earlier: Vec<Message> = (1..48).map(|seq| message("r-general", seq, "bob", "x", at(6, 9, 0))).collect();
    app.update(Action::History { room: general.clone(), messages: earlier, complete: true });
    assert_eq!(seqs(&app, "r-general"), (1..=50).collect::<Vec<_>>());
    for _ in 0..20 {
        assert_eq!(app.update(Action::PageUp), [], "nothing before the first");
    }
    app.update(Action::PageDown);
    assert!(app.room(&general).unwrap().scroll > 0);
}

/// Issue 17: "… is typing" shows for a while, goes with their message or after some seconds;
/// one's own typing is told at most every few seconds.
#[test]
fn typing_comes_and_goes() {
    let mut app = app();
    let general = RoomId::from("r-general");
    let bob = UserId::from("u-bob");
    app.update(Action::Frame(ServerFrame::Typing { room_id: general.clone(), user_id: bob.clone() }));
    assert!(app.room(&general).unwrap().typing.contains_key(&bob));
    app.update(Action::Tick(at(6, 12, 0) + chrono::Duration::seconds(7)));
    assert!(app.room(&general).unwrap().typing.is_empty(), "expired");
    app.update(Action::Frame(ServerFrame::Typing { room_id: general.clone(), user_id: bob.clone() }));
    app.update(created(message("r-general", 1, "bob", "done typing", at(6, 12, 0))));
    assert!(app.room(&general).unwrap().typing.is_empty(), "their message ends it");

    assert_eq!(typed(&mut app, "abc"), [Effect::Typing(general.clone())], "once for three keys");
    app.update(Action::Tick(at(6, 12, 1)));
    assert_eq!(typed(&mut app, "d"), [Effect::Typing(general)]);
}

/// Issue 17: edits and deletions change the message in its place.
#[test]
fn edits_and_deletions_change_messages_in_place() {
    let mut app = app();
    app.update(created(message("r-general", 1, "bob", "frist", at(6, 11, 0))));
    let edited = Message {
        body: "first".into(),
        edited_at: Some(at(6, 11, 1)),
        ..message("r-general", 1, "bob", "", at(6, 11, 0))
    };
    app.update(Action::Frame(ServerFrame::MessageUpdated { message: edited }));
    let room = RoomId::from("r-general");
    assert_eq!(app.room(&room).unwrap().messages[&1].body, "first");
    app.update(Action::Frame(ServerFrame::MessageDeleted {
        room_id: room.clone(),
        message_id: MessageId::from("r-general-1"),
    }));
    let gone = &app.room(&room).unwrap().messages[&1];
    assert!(gone.deleted && gone.body.is_empty());
}

/// R-MSG-7: Up in an empty composer takes one's own newest message to edit (Enter saves, Esc
/// leaves it as it was); /edit and /delete act on it; others' messages are not offered.
#[test]
fn own_messages_are_edited_and_deleted() {
    let mut app = app();
    let general = RoomId::from("r-general");
    app.update(created(message("r-general", 1, "alice", "teh plan", at(6, 11, 0))));
    app.update(created(message("r-general", 2, "bob", "which plan?", at(6, 11, 1))));
    app.update(Action::Up);
    assert_eq!(
        (app.composer.text.as_str(), app.composer.editing.clone()),
        ("teh plan", Some(MessageId::from("r-general-1")))
    );
    for _ in 0..8 {
        app.update(Action::Backspace);
    }
    typed(&mut app, "the plan");
    assert_eq!(
        app.update(Action::Submit),
        [Effect::Edit { room: general.clone(), message: MessageId::from("r-general-1"), body: "the plan".into() }]
    );
    assert_eq!(app.composer.editing, None);
    app.update(Action::Up);
    app.update(Action::Escape);
    assert_eq!((app.composer.text.as_str(), app.composer.editing.clone()), ("", None), "Esc leaves it");
    typed(&mut app, "/delete");
    assert_eq!(
        app.update(Action::Submit),
        [Effect::Delete { room: general.clone(), message: MessageId::from("r-general-1") }]
    );
    app.update(Action::Frame(ServerFrame::MessageDeleted {
        room_id: general.clone(),
        message_id: MessageId::from("r-general-1"),
    }));
    typed(&mut app, "/edit again");
    assert_eq!(app.update(Action::Submit), []);
    assert_eq!(app.notice, Some(Notice::Error("you have no message here to edit".into())));
    assert_eq!(app.update(Action::Up), [], "nothing of mine left: Up scrolls");
    assert_eq!(app.composer.editing, None);
}

/// R-MSG-8: /reply answers the newest message of someone else.
#[test]
fn replies_answer_the_newest_message_of_someone_else() {
    let mut app = app();
    app.update(created(message("r-general", 1, "bob", "ship it?", at(6, 11, 0))));
    app.update(created(message("r-general", 2, "alice", "looking", at(6, 11, 1))));
    typed(&mut app, "/reply yes");
    assert_eq!(
        app.update(Action::Submit),
        [Effect::Send {
            room: RoomId::from("r-general"),
            body: "yes".into(),
            color: None,
            sticker: None,
            reply_to: Some(MessageId::from("r-general-1")),
        }]
    );
    app.update(Action::NextRoom);
    typed(&mut app, "/reply anyone?");
    assert_eq!(app.update(Action::Submit), []);
    assert_eq!(app.notice, Some(Notice::Error("no one else's message here to answer".into())));
}

/// R-MSG-9: /react reacts to the newest message (again, takes it back); everyone's reactions
/// are counted as the gateway tells them.
#[test]
fn reactions_are_given_and_counted() {
    let mut app = app();
    let general = RoomId::from("r-general");
    let id = MessageId::from("r-general-1");
    app.update(created(message("r-general", 1, "bob", "ship it?", at(6, 11, 0))));
    typed(&mut app, "/react 👍");
    let react = |add| Effect::React { room: general.clone(), message: id.clone(), emoji: "👍".into(), add };
    assert_eq!(app.update(Action::Submit), [react(true)]);
    let told = |user: &str, added: bool| {
        let (room_id, message_id, emoji, user_id) = (general.clone(), id.clone(), "👍".to_owned(), UserId::from(user));
        Action::Frame(if added {
            ServerFrame::ReactionAdded { room_id, message_id, emoji, user_id }
        } else {
            ServerFrame::ReactionRemoved { room_id, message_id, emoji, user_id }
        })
    };
    app.update(told("u-bob", true));
    app.update(told("u-alice", true));
    app.update(told("u-alice", true));
    let counted = |app: &App| {
        app.room(&general).unwrap().messages[&1].reactions.iter().map(|r| (r.count, r.me)).collect::<Vec<_>>()
    };
    assert_eq!(counted(&app), [(2, true)], "mine once");
    typed(&mut app, "/react 👍");
    assert_eq!(app.update(Action::Submit), [react(false)], "again: taken back");
    app.update(told("u-alice", false));
    assert_eq!(counted(&app), [(1, false)]);
    app.update(told("u-bob", false));
    assert_eq!(counted(&app), []);
}

/// Issue 17, R-ROOM-3: removed from the open room, the client says so and opens the next.
#[test]
fn removed_from_the_open_room_moves_on() {
    let mut app = app();
    let general = RoomId::from("r-general");
    let effects = app.update(Action::Frame(ServerFrame::MemberLeft {
        room_id: general.clone(),
        user_id: UserId::from("u-alice"),
        reason: LeaveReason::Kicked,
    }));
    assert!(app.room(&general).is_none());
    assert_eq!(app.current, Some(RoomId::from("r-club")));
    assert!(effects.contains(&Effect::LoadHistory { room: RoomId::from("r-club"), before: None }));
    assert_eq!(app.notice, Some(Notice::Info("you were removed from general".into())));
    assert_eq!(
        app.update(Action::Frame(ServerFrame::MemberJoined {
            room_id: RoomId::from("r-new"),
            user: user("alice", true)
        })),
        [Effect::ReloadRooms]
    );
}

/// Issue 17, R-NOTE-2: the notifications pane; opening it with unread ones reads them.
#[test]
fn the_notifications_pane_reads_them() {
    let mut app = app();
    let notice = Notification {
        id: NotificationId::from("n1"),
        kind: NotificationKind::Mention,
        room_id: Some(RoomId::from("r-club")),
        actor_id: None,
        data: serde_json::json!({"room_name": "club", "actor_username": "bob"}),
        created_at: at(6, 11, 30),
        read: false,
    };
    app.update(Action::Frame(ServerFrame::NotificationCreated { notification: notice }));
    assert_eq!(app.unread_notifications(), 1);
    assert_eq!(app.update(Action::ToggleNotifications), [Effect::ReadAllNotifications]);
    assert_eq!(app.pane, Pane::Notifications);
    app.update(Action::Escape);
    assert_eq!(app.pane, Pane::Room);
}

fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| view::draw(frame, app)).unwrap();
    terminal.backend().to_string()
}

/// A room with a day's change, a colour, a sticker, an attachment, an edit and someone typing.
fn busy() -> App {
    let mut app = app();
    let general = RoomId::from("r-general");
    let mut messages = vec![
        message("r-general", 1, "bob", "yesterday's news", at(5, 18, 30)),
        message(
            "r-general",
            2,
            "carol",
            "good morning everyone, this line is long enough to wrap around the message area",
            at(6, 9, 5),
        ),
        Message { color: Some(Color::Teal), ..message("r-general", 3, "alice", "in teal", at(6, 9, 6)) },
        Message { sticker: Some(Sticker::Cat), ..message("r-general", 4, "bob", "", at(6, 9, 7)) },
        message("r-general", 5, "carol", "minutes\nattached", at(6, 9, 8)),
    ];
    messages[4].attachment = Some(Attachment {
        id: AttachmentId::from("a1"),
        filename: "minutes.pdf".into(),
        content_type: "application/pdf".into(),
        size: 48_213,
    });
    messages[4].edited_at = Some(at(6, 9, 9));
    messages[2].reactions = vec![Reaction { emoji: "👍".into(), count: 2, me: true }];
    app.update(Action::History { room: general.clone(), messages, complete: true });
    app.update(Action::Frame(ServerFrame::Typing { room_id: general, user_id: UserId::from("u-bob") }));
    typed(&mut app, "on my way");
    app
}

#[test]
fn the_main_screen() {
    insta::assert_snapshot!(screen(&busy()));
}

#[test]
fn the_switcher_over_it() {
    let mut app = busy();
    app.update(Action::OpenSwitcher);
    typed(&mut app, "b");
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn reconnecting_with_a_refusal() {
    let mut app = busy();
    app.update(Action::Connection(Connection::Reconnecting("connection reset".into())));
    app.update(Action::Failed("you are not an admin of this room".into()));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_notifications_pane() {
    let mut app = busy();
    let notices =
        [(NotificationKind::Invited, "carol", "secret", false), (NotificationKind::Mention, "bob", "general", true)];
    let list = notices
        .iter()
        .enumerate()
        .map(|(n, (kind, actor, room, read))| Notification {
            id: NotificationId::from(format!("n{n}").as_str()),
            kind: *kind,
            room_id: None,
            actor_id: None,
            data: serde_json::json!({"room_name": room, "actor_username": actor}),
            created_at: at(6, 8, 0),
            read: *read,
        })
        .collect();
    app.update(Action::Notifications(list));
    app.update(Action::ToggleNotifications);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn wrapping_keeps_words_and_cuts_long_ones() {
    assert_eq!(view::wrap("one two three", 7), ["one two", "three"]);
    assert_eq!(view::wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    assert_eq!(view::wrap("", 4), [""]);
}
