//! Conclave's rules, free of I/O: validated values (parse, don't validate), who may do what in a
//! room, what joining requires, and what happens when a member departs (SPEC R-ROOM-5).
//!
//! The server asks these functions for every decision and only then touches the store.

pub mod access;
pub mod attachments;
pub mod departure;
pub mod join;
pub mod messages;
pub mod paging;
pub mod room_settings;
pub mod values;

#[cfg(test)]
mod text_patterns;

pub use access::{Denial, RoomAction, Target, authorize};
pub use attachments::{
    AttachmentType, DEFAULT_MAX_ATTACHMENT_BYTES, Filename, UploadRefusal, accept_upload, may_download,
};
pub use departure::{Departure, MemberSnapshot, after_departure};
pub use join::{
    InviteContext, InviteDenial, JoinContext, JoinDenial, JoinPath, ViewContext, ViewDenial, join_path, may_invite,
    may_view,
};
pub use messages::{
    Emoji, MAX_MENTIONS, MAX_REACTION_KINDS, MessageContent, MessageDenial, ReactionDenial, may_delete_message,
    may_edit_message, may_react, mentioned_usernames,
};
pub use paging::PageLimit;
pub use room_settings::{PasswordChange, password_change};
pub use values::*;
