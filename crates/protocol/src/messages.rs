//! Messages, their options and history queries (SPEC R-MSG-1 to R-MSG-7).

use crate::{AttachmentId, MessageId, RoomId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The fixed text colour palette (SPEC R-MSG-6). Clients map each name to a shade that reads
/// well on their light and dark themes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Color {
    Red,
    Orange,
    Amber,
    Green,
    Teal,
    Blue,
    Indigo,
    Violet,
    Pink,
    Gray,
}

impl Color {
    pub const ALL: [Color; 10] = [
        Color::Red,
        Color::Orange,
        Color::Amber,
        Color::Green,
        Color::Teal,
        Color::Blue,
        Color::Indigo,
        Color::Violet,
        Color::Pink,
        Color::Gray,
    ];
}

/// The fixed set of ASCII stickers (SPEC R-MSG-6), rendered in monospace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Sticker {
    Wave,
    Cat,
    Heart,
    Coffee,
    ThumbsUp,
    Party,
    Rocket,
    Ghost,
}

impl Sticker {
    pub const ALL: [Sticker; 8] = [
        Sticker::Wave,
        Sticker::Cat,
        Sticker::Heart,
        Sticker::Coffee,
        Sticker::ThumbsUp,
        Sticker::Party,
        Sticker::Rocket,
        Sticker::Ghost,
    ];

    /// The sticker's art: plain ASCII, several lines.
    pub fn art(self) -> &'static str {
        match self {
            Sticker::Wave => "  _\n | |  hi!\n | |_\n(___/",
            Sticker::Cat => " /\\_/\\\n( o.o )\n > ^ <",
            Sticker::Heart => " .-. .-.\n(   V   )\n \\     /\n  `. .'\n    V",
            Sticker::Coffee => "   ( (\n    ) )\n  .______.\n  |      |]\n  \\      /\n   `----'",
            Sticker::ThumbsUp => "    _\n   ( )\n __| |___\n(____    )\n(____    )\n(____)___/",
            Sticker::Party => "  \\o/\n   |\n  / \\\n*party*",
            Sticker::Rocket => "    /\\\n   |==|\n   |  |\n  /|##|\\\n   ^^^^",
            Sticker::Ghost => "  .-.\n (o o)\n | O \\\n  \\   \\\n   `~~~'",
        }
    }
}

/// A file attached to a message (SPEC R-MSG-6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: AttachmentId,
    pub filename: String,
    /// One of `image/png`, `image/jpeg`, `image/gif`, `image/webp`, `application/pdf`,
    /// `text/plain`.
    pub content_type: String,
    /// In bytes.
    pub size: u64,
}

/// `{"attachment": …}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentEnvelope {
    pub attachment: Attachment,
}

/// `POST /api/rooms/{room_id}/attachments?filename=`: the file is the request body, its type
/// the `Content-Type` header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UploadAttachmentQuery {
    /// The file's name as people will see it: 1–255 characters, no path.
    #[cfg_attr(feature = "openapi", param(value_type = crate::text::Filename))]
    pub filename: String,
}

/// A message in a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub room_id: RoomId,
    /// Per-room sequence number: 1 for the first message, one more for each next one.
    pub seq: u64,
    pub author_id: UserId,
    pub author_username: String,
    /// Empty once deleted.
    pub body: String,
    pub color: Option<Color>,
    pub sticker: Option<Sticker>,
    pub attachment: Option<Attachment>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    /// Emoji reactions, in the order each emoji was first used (R-MSG-9). `me` is the
    /// caller's in REST answers; a live frame's message carries `me: false` (a client keeps
    /// its own from `reaction_added` and `reaction_removed`).
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// The earlier message this one answers (R-MSG-8), as it is now; null when none.
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
}

/// What a reply shows of the message it answers (R-MSG-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyTo {
    pub message_id: MessageId,
    pub seq: u64,
    pub author_username: String,
    /// The start of its text, on one line (at most [`REPLY_EXCERPT_CHARS`] characters, `…`
    /// when cut); empty when it has none or was deleted.
    pub excerpt: String,
    /// The original was deleted since.
    pub deleted: bool,
}

/// The most characters of a reply's excerpt (R-MSG-8), the `…` included.
pub const REPLY_EXCERPT_CHARS: usize = 140;

/// A body's first [`REPLY_EXCERPT_CHARS`] characters on one line: runs of white space become one
/// space, and a cut text ends with `…`.
pub fn excerpt(body: &str) -> String {
    let mut words = body.split_whitespace();
    let mut out = String::new();
    let mut chars = 0;
    let mut first = true;
    for word in words.by_ref() {
        let needed = word.chars().count() + usize::from(!first);
        if chars + needed > REPLY_EXCERPT_CHARS - 1 {
            let room = (REPLY_EXCERPT_CHARS - 1).saturating_sub(chars + usize::from(!first));
            if !first && room > 0 {
                out.push(' ');
            }
            out.extend(word.chars().take(room));
            out.push('…');
            return out;
        }
        if !first {
            out.push(' ');
        }
        out.push_str(word);
        chars += needed;
        first = false;
    }
    out
}

/// One emoji's reactions to a message (R-MSG-9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    /// One emoji, fully qualified (`❤️`, not `❤`).
    pub emoji: String,
    pub count: u32,
    /// Whether the caller is among those who reacted with it.
    pub me: bool,
}

/// The highest sequence number there can be (`i64::MAX`, what both stores hold); a larger one
/// in a request is refused rather than read as "after everything".
pub const MAX_SEQ: u64 = 9_223_372_036_854_775_807;

/// The most characters a message's body may have (R-MSG-1).
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// A size for people, in binary units: `512 B`, `12 KiB`, `2.4 MiB`.
pub fn size_label(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    match bytes {
        0..KIB => format!("{bytes} B"),
        KIB..MIB => format!("{} KiB", (bytes + KIB / 2) / KIB),
        _ => {
            let tenths = (bytes.saturating_mul(10) + MIB / 2) / MIB;
            if tenths.is_multiple_of(10) {
                format!("{} MiB", tenths / 10)
            } else {
                format!("{}.{} MiB", tenths / 10, tenths % 10)
            }
        }
    }
}

/// `{"message": …}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageEnvelope {
    pub message: Message,
}

/// `POST /api/rooms/{room_id}/messages`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessageRequest {
    /// 1–4000 chars after trimming; may be empty when a sticker is sent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::text::MessageBody))]
    pub body: String,
    #[serde(default)]
    pub color: Option<Color>,
    #[serde(default)]
    pub sticker: Option<Sticker>,
    /// A client-chosen id (1–64 printable ASCII characters, no spaces): sending the same one
    /// again stores nothing new and answers with the message stored the first time.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64, pattern = "^[!-~]+$"))]
    pub client_id: Option<String>,
    /// A file uploaded to this room by the sender and not yet sent (R-MSG-6).
    #[serde(default)]
    pub attachment_id: Option<AttachmentId>,
    /// An earlier message of this room that this one answers (R-MSG-8).
    #[serde(default)]
    pub reply_to: Option<MessageId>,
}

/// `PATCH /api/rooms/{room_id}/messages/{message_id}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditMessageRequest {
    /// 1–4000 chars after trimming.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::text::MessageBody))]
    pub body: String,
}

/// `GET /api/rooms/{room_id}/messages?before=&after=&limit=&cursor=`: newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct MessagesQuery {
    /// Only messages with a smaller sequence number.
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 9223372036854775807_u64))]
    pub before: Option<u64>,
    /// Only messages with a larger sequence number (the oldest `limit` of them).
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 9223372036854775807_u64))]
    pub after: Option<u64>,
    /// Page size: default 50, at most 200.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page: continues in the same direction (and wins over
    /// `before`/`after`).
    pub cursor: Option<String>,
}

/// `GET /api/rooms/{room_id}/messages/search?q=` and `GET /api/search/messages?q=` (R-MSG-11):
/// messages whose text or attachment name contains `q` in any case, newest first. Bodies are
/// sealed at rest, so each page reads at most 2000 messages: a page may hold fewer matches
/// than `limit` (none, even) and still have a `next_cursor` that searches further back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct MessageSearchQuery {
    /// 1–100 characters after trimming.
    #[cfg_attr(feature = "openapi", param(value_type = crate::text::SearchText))]
    pub q: String,
    /// Matches per page: default 20, at most 50.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 50))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(size_label(0), "0 B");
        assert_eq!(size_label(1023), "1023 B");
        assert_eq!(size_label(1024), "1 KiB");
        assert_eq!(size_label(12 * 1024 + 100), "12 KiB");
        assert_eq!(size_label(10 * 1024 * 1024), "10 MiB");
        assert_eq!(size_label(2_516_582), "2.4 MiB");
    }

    /// R-MSG-8: an excerpt is one line, cut with `…` at the limit.
    #[test]
    fn excerpts_are_one_bounded_line() {
        assert_eq!(excerpt("  hello\n\n  world \t"), "hello world");
        assert_eq!(excerpt(""), "");
        let long = "word ".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), REPLY_EXCERPT_CHARS);
        assert!(cut.ends_with('…'));
        let one_long_word = "é".repeat(500);
        assert_eq!(excerpt(&one_long_word).chars().count(), REPLY_EXCERPT_CHARS);
        let exact = "a".repeat(REPLY_EXCERPT_CHARS - 1);
        assert_eq!(excerpt(&exact), exact);
    }
}
