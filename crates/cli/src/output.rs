//! How answers are printed: one JSON document (or JSON lines for a stream) with `--json`, else
//! lines for people. The line formats are pure functions of the protocol's types.

use crate::names;
use chrono::{DateTime, Local, Utc};
use conclave_protocol::{JoinRequest, Member, Message, MyRoom, Notification, Room, User};
use serde::Serialize;
use std::io::Write;

/// Where answers go, and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints `value` as one JSON document, or `human()` for people.
    pub fn show<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        let text = if self.json { serde_json::to_string_pretty(value).unwrap_or_default() } else { human() };
        print_line(&text);
    }

    /// Prints one item of a stream: a JSON line, or `human()`.
    pub fn line<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        let text = if self.json { serde_json::to_string(value).unwrap_or_default() } else { human() };
        print_line(&text);
    }
}

/// Prints and flushes (a stream's reader sees each line as it comes); a closed pipe is the
/// reader's choice, not an error.
fn print_line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if !text.is_empty() {
        writeln!(stdout, "{text}").ok();
    }
    stdout.flush().ok();
}

/// A time as people read it here: local, to the minute.
pub fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// Lines of `rows`, each column padded to its widest cell (the last one is not padded).
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(
                    |(c, cell)| {
                        if c + 1 == row.len() { cell.clone() } else { format!("{cell:<width$}", width = widths[c]) }
                    },
                )
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn snake<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Where, when, which and by whom, and its colour: what a message's line starts with. None for
/// a deleted message, which shows only that.
fn head(message: &Message, room: Option<&str>) -> Option<String> {
    if message.deleted {
        return None;
    }
    let mut head = who(message, room);
    if let Some(color) = &message.color {
        head.push_str(&format!(" [{}]", snake(color)));
    }
    Some(head)
}

fn who(message: &Message, room: Option<&str>) -> String {
    let place = room.map(|room| format!("#{room} ")).unwrap_or_default();
    format!("{place}[{}] #{} {}", when(message.created_at), message.seq, message.author_username)
}

fn deleted(message: &Message, room: Option<&str>) -> String {
    format!("{}: (deleted)", who(message, room))
}

/// A message: time, number, author and text; a colour in brackets, a sticker's art and an
/// attachment's name on the lines below; `room` first when several rooms are shown together.
pub fn message(message: &Message, room: Option<&str>) -> String {
    let Some(head) = head(message, room) else {
        return deleted(message, room);
    };
    let mut lines = Vec::new();
    if let Some(reply) = &message.reply_to {
        lines.push(format!("  ↳ reply to #{} {}: {}", reply.seq, reply.author_username, reply.excerpt));
    }
    let mut body = message.body.lines();
    let first = body.next().unwrap_or_default();
    let edited = if message.edited_at.is_some() { " (edited)" } else { "" };
    let mut text = vec![format!("{head}: {first}{edited}").trim_end().to_owned()];
    text.extend(body.map(|line| format!("    {line}")));
    text.extend(lines);
    if let Some(sticker) = message.sticker {
        text.extend(sticker.art().lines().map(|line| format!("    {line}")));
    }
    if let Some(file) = &message.attachment {
        text.push(format!("    [file: {} ({}, {} bytes)]", file.filename, file.content_type, file.size));
    }
    text.join("\n")
}

fn members(count: u32) -> String {
    if count == 1 { "1 member".to_owned() } else { format!("{count} members") }
}

/// A message on exactly one line, as `tail` prints it: new lines shown as `⏎`, a sticker and an
/// attachment by name.
pub fn message_line(message: &Message, room: Option<&str>) -> String {
    let Some(head) = head(message, room) else {
        return deleted(message, room);
    };
    let mut parts = vec![message.body.lines().collect::<Vec<_>>().join(" ⏎ ")];
    if let Some(sticker) = message.sticker {
        parts.push(format!("[sticker: {}]", snake(&sticker)));
    }
    if let Some(file) = &message.attachment {
        parts.push(format!("[file: {} ({} bytes)]", file.filename, file.size));
    }
    if message.edited_at.is_some() {
        parts.push("(edited)".to_owned());
    }
    parts.retain(|part| !part.is_empty());
    format!("{head}: {}", parts.join(" "))
}

/// One of the user's rooms: name, kind and policy, role, members, unread count, id.
pub fn my_room(room: &MyRoom) -> Vec<String> {
    let unread = if room.unread_count > 0 { format!("{} unread", room.unread_count) } else { String::new() };
    let kind = match room.peer {
        Some(ref peer) => format!("direct{}", if peer.online { ", online" } else { "" }),
        None => snake(&room.room.join_policy),
    };
    let role = room.role.map(|r| snake(&r)).unwrap_or_default();
    vec![names::label(room).to_owned(), kind, role, members(room.room.member_count), unread, room.room.id.to_string()]
}

/// A room found by search: name, policy, members, id.
pub fn room(room: &Room) -> Vec<String> {
    vec![room.name.clone(), snake(&room.join_policy), members(room.member_count), room.id.to_string()]
}

/// Everything about one room, for `rooms show`.
pub fn room_details(room: &Room) -> String {
    let mut lines = vec![
        format!("{} ({})", room.name, snake(&room.join_policy)),
        format!("id: {}", room.id),
        members(room.member_count),
        format!("created: {}", when(room.created_at)),
    ];
    if let Some(topic) = &room.topic {
        lines.insert(1, format!("topic: {topic}"));
    }
    if let Some(at) = room.terminated_at {
        lines.push(format!("closed: {}", when(at)));
    }
    lines.join("\n")
}

/// A person: username, full name, online or last seen.
pub fn user(user: &User) -> Vec<String> {
    let name =
        [user.first_name.as_deref(), user.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let presence = match (user.online, user.last_seen_at) {
        (true, _) => "online".to_owned(),
        (false, Some(at)) => format!("last seen {}", when(at)),
        (false, None) => "offline".to_owned(),
    };
    vec![user.username.clone(), name, presence]
}

pub fn member(member: &Member) -> Vec<String> {
    let mut row = user(&member.user);
    row.insert(1, member.role.map(|r| snake(&r)).unwrap_or_default());
    row
}

pub fn request(request: &JoinRequest) -> Vec<String> {
    vec![request.user.username.clone(), format!("asked {}", when(request.created_at))]
}

/// A notification as a line: unread mark, time, sentence, id.
pub fn notification(notice: &Notification) -> String {
    let unread = if notice.read { " " } else { "*" };
    format!("{unread} [{}] {}  ({})", when(notice.created_at), notice.sentence(), notice.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_protocol::{Attachment, AttachmentId, Color, MessageId, NotificationKind, RoomId, Sticker, UserId};

    fn at() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
    }

    fn sample() -> Message {
        Message {
            id: MessageId::from("m1"),
            room_id: RoomId::from("r1"),
            seq: 7,
            author_id: UserId::from("u1"),
            author_username: "alice".into(),
            body: "hello\nsecond line".into(),
            color: None,
            sticker: None,
            attachment: None,
            created_at: at(),
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            reply_to: None,
        }
    }

    /// Issue 17: one line per message (continuation lines indented), colours, stickers in
    /// monospace art, attachment names.
    #[test]
    fn messages_read_as_lines() {
        let time = when(at());
        assert_eq!(message(&sample(), None), format!("[{time}] #7 alice: hello\n    second line"));
        let styled = Message {
            body: "look".into(),
            color: Some(Color::Teal),
            sticker: Some(Sticker::Cat),
            attachment: Some(Attachment {
                id: AttachmentId::from("a1"),
                filename: "notes.txt".into(),
                content_type: "text/plain".into(),
                size: 17,
            }),
            edited_at: Some(at()),
            ..sample()
        };
        let shown = message(&styled, Some("general"));
        assert!(shown.starts_with(&format!("#general [{time}] #7 alice [teal]: look (edited)\n")), "{shown}");
        assert!(shown.contains("    ( o.o )"), "{shown}");
        assert!(shown.ends_with("    [file: notes.txt (text/plain, 17 bytes)]"), "{shown}");
        let gone = Message { deleted: true, body: String::new(), ..sample() };
        assert_eq!(message(&gone, None), format!("[{time}] #7 alice: (deleted)"));
    }

    /// Issue 17: `tail` prints one line per message, whatever it holds.
    #[test]
    fn tail_lines_are_one_line_each() {
        let time = when(at());
        assert_eq!(message_line(&sample(), None), format!("[{time}] #7 alice: hello ⏎ second line"));
        let sticker = Message { body: String::new(), sticker: Some(Sticker::ThumbsUp), ..sample() };
        assert_eq!(
            message_line(&sticker, Some("general")),
            format!("#general [{time}] #7 alice: [sticker: thumbs_up]")
        );
        let file = Message {
            attachment: Some(Attachment {
                id: AttachmentId::from("a1"),
                filename: "notes.txt".into(),
                content_type: "text/plain".into(),
                size: 17,
            }),
            ..sample()
        };
        assert!(!message_line(&file, None).contains('\n'));
    }

    #[test]
    fn tables_pad_every_column_but_the_last() {
        let rows =
            vec![vec!["a".into(), "long cell".into(), "x".into()], vec!["longer".into(), "b".into(), "y".into()]];
        assert_eq!(table(&rows), "a       long cell  x\nlonger  b          y");
        assert_eq!(table(&[]), "");
    }

    #[test]
    fn notifications_read_as_sentences() {
        let notice = Notification {
            id: conclave_protocol::NotificationId::from("n1"),
            kind: NotificationKind::RequestDeclined,
            room_id: Some(RoomId::from("r1")),
            actor_id: None,
            data: serde_json::json!({"room_name": "club", "actor_username": "alice"}),
            created_at: at(),
            read: false,
        };
        assert_eq!(notification(&notice), format!("* [{}] Your request to join club was declined.  (n1)", when(at())));
    }
}
