//! Message content and authorship rules (SPEC R-MSG-1, R-MSG-6, R-MSG-7).

use crate::values::{MessageBody, ValueError};
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
}
