//! Message content and authorship rules (SPEC R-MSG-1, R-MSG-6, R-MSG-7).

use crate::values::{MessageBody, Username, ValueError};
use conclave_protocol::{Color, Role, RoomKind, Sticker};

/// What a message says: a body of 1–4000 chars, or a sticker or an attachment with an optional
/// caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContent {
    pub body: String,
    pub color: Option<Color>,
    pub sticker: Option<Sticker>,
}

impl MessageContent {
    pub fn parse(
        body: &str,
        color: Option<Color>,
        sticker: Option<Sticker>,
        has_attachment: bool,
    ) -> Result<Self, ValueError> {
        let body = if (sticker.is_some() || has_attachment) && body.trim().is_empty() {
            String::new()
        } else {
            MessageBody::parse(body)?.into_string()
        };
        Ok(Self { body, color, sticker })
    }
}

/// One emoji, as a reaction (R-MSG-9): exactly one emoji of the Unicode emoji set, kept in its
/// fully qualified form so that `❤` and `❤️` are the same reaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Emoji(&'static str);

impl Emoji {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        emojis::get(input).map(|emoji| Self(emoji.as_str())).ok_or_else(|| ValueError("must be one emoji".into()))
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

/// At most this many people are notified of one message's @mentions (R-MSG-10, R-SEC-3).
pub const MAX_MENTIONS: usize = 10;

/// The usernames a message body @mentions (R-MSG-10): `@` at the start or after a character
/// that cannot be in a username, then a valid username; lowercased, each once, in order, at
/// most [`MAX_MENTIONS`]. `ann@example.org` mentions no one.
pub fn mentioned_usernames(body: &str) -> Vec<Username> {
    let in_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let mut found: Vec<Username> = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in body.char_indices() {
        let starts = c == '@' && previous.is_none_or(|p| !in_name(p) && p != '@');
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &body[at + 1..];
        let end = rest.find(|c: char| !in_name(c)).unwrap_or(rest.len());
        // A sentence's full stop is not part of the name.
        let name = rest[..end].trim_end_matches(['.', '-']);
        if let Ok(username) = Username::parse(name)
            && !found.contains(&username)
        {
            found.push(username);
            if found.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    found
}

/// How many different emoji one message may carry (R-MSG-9, R-SEC-3).
pub const MAX_REACTION_KINDS: usize = 20;

/// Why a reaction is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReactionDenial {
    #[error("a deleted message takes no reactions")]
    Deleted,
    #[error("this message already has as many different reactions as a message may (20)")]
    TooManyKinds,
}

/// Whether a reaction may be added to a message that is `deleted` or not and carries
/// `kinds` different emoji, `new_kind` saying whether this emoji would be one more.
pub fn may_react(deleted: bool, kinds: usize, new_kind: bool) -> Result<(), ReactionDenial> {
    if deleted {
        Err(ReactionDenial::Deleted)
    } else if new_kind && kinds >= MAX_REACTION_KINDS {
        Err(ReactionDenial::TooManyKinds)
    } else {
        Ok(())
    }
}

/// Why a message may not be edited or deleted by someone who may read the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageDenial {
    #[error("only the author can edit a message")]
    NotAuthor,
    #[error("a deleted message cannot be edited")]
    Deleted,
    #[error("only the author or a room admin can delete this message")]
    NotAuthorOrAdmin,
}

/// Only the author edits a message, and not once it is deleted (R-MSG-7).
pub fn may_edit_message(actor_is_author: bool, deleted: bool) -> Result<(), MessageDenial> {
    if !actor_is_author {
        Err(MessageDenial::NotAuthor)
    } else if deleted {
        Err(MessageDenial::Deleted)
    } else {
        Ok(())
    }
}

/// The author deletes their message; in group rooms admins delete any message (R-MSG-7).
pub fn may_delete_message(kind: RoomKind, actor_is_author: bool, actor_role: Role) -> Result<(), MessageDenial> {
    if actor_is_author || (kind == RoomKind::Group && actor_role.is_admin()) {
        Ok(())
    } else {
        Err(MessageDenial::NotAuthorOrAdmin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-MSG-1, R-MSG-6: a body, or a sticker with an optional caption.
    #[test]
    fn r_msg_6_content() {
        assert!(MessageContent::parse("", None, None, false).is_err());
        assert!(MessageContent::parse("   ", Some(Color::Red), None, false).is_err());
        let sticker = MessageContent::parse("  ", None, Some(Sticker::Cat), false).expect("sticker alone");
        assert_eq!(sticker.body, "");
        let caption = MessageContent::parse(" meow ", Some(Color::Blue), Some(Sticker::Cat), false).expect("caption");
        assert_eq!(caption.body, "meow");
        assert!(MessageContent::parse(&"x".repeat(4001), None, Some(Sticker::Cat), false).is_err());
        let file = MessageContent::parse("", None, None, true).expect("an attachment alone");
        assert_eq!(file.body, "");
    }

    /// R-MSG-7: authors edit and delete their own; admins delete any in group rooms.
    #[test]
    fn r_msg_7_edit_and_delete() {
        assert_eq!(may_edit_message(true, false), Ok(()));
        assert_eq!(may_edit_message(false, false), Err(MessageDenial::NotAuthor));
        assert_eq!(may_edit_message(false, true), Err(MessageDenial::NotAuthor));
        assert_eq!(may_edit_message(true, true), Err(MessageDenial::Deleted));
        let cases = [
            (RoomKind::Group, true, Role::Member, true),
            (RoomKind::Group, false, Role::Member, false),
            (RoomKind::Group, false, Role::Admin, true),
            (RoomKind::Group, false, Role::Owner, true),
            (RoomKind::Direct, true, Role::Member, true),
            (RoomKind::Direct, false, Role::Member, false),
        ];
        for (kind, author, role, expected) in cases {
            let allowed = may_delete_message(kind, author, role).is_ok();
            assert_eq!(allowed, expected, "{kind:?} {author} {role:?}");
        }
    }

    /// R-MSG-9: a reaction is one emoji, whatever its qualification; at most 20 kinds a message.
    #[test]
    fn r_msg_9_reactions_are_single_emoji_and_bounded() {
        assert_eq!(Emoji::parse("👍").map(|e| e.as_str()), Ok("👍"));
        assert_eq!(Emoji::parse("\u{2764}").map(|e| e.as_str()), Ok("\u{2764}\u{fe0f}"), "❤ is ❤️");
        assert_eq!(Emoji::parse("👍🏽").map(|e| e.as_str()), Ok("👍🏽"), "skin tones are their own emoji");
        for bad in ["", "a", "👍👍", " 👍", "👍 ", ":thumbsup:", "<script>"] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?} is not one emoji");
        }
        assert_eq!(may_react(false, 0, true), Ok(()));
        assert_eq!(may_react(false, MAX_REACTION_KINDS, false), Ok(()), "one more of an emoji already there");
        assert_eq!(may_react(false, MAX_REACTION_KINDS, true), Err(ReactionDenial::TooManyKinds));
        assert_eq!(may_react(true, 0, true), Err(ReactionDenial::Deleted));
    }

    /// R-MSG-10: who a body mentions: real usernames after a free-standing `@`, once each, in
    /// order, bounded; e-mail addresses and too-short names are no mentions.
    #[test]
    fn r_msg_10_mentions_are_parsed_once_and_bounded() {
        let names = |body: &str| mentioned_usernames(body).iter().map(|u| u.as_str().to_owned()).collect::<Vec<_>>();
        assert_eq!(names("@ada and @Bob, see @ada."), ["ada", "bob"]);
        assert_eq!(names("(@dan) @eve_2: hi @x.y-z."), ["dan", "eve_2", "x.y-z"]);
        assert!(
            names("mail ann@example.org or @@ada or @a or @").is_empty(),
            "{:?}",
            names("mail ann@example.org or @@ada or @a or @")
        );
        let many: String = (0..15).map(|i| format!("@user{i} ")).collect();
        assert_eq!(names(&many).len(), MAX_MENTIONS);
    }
}
