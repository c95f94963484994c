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
}
