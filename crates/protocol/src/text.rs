//! What the server accepts in its text fields, said exactly, for the OpenAPI document.
//!
//! Names, topics, bodies and search text are trimmed before their bounds are checked, so a
//! length alone cannot say what is accepted (`" ab "` is a fine room name of two characters).
//! Each field has a regular expression instead (ECMA-262, as OpenAPI asks; also valid for
//! Python's `re` and Rust's `regex`): surrounding white space (Unicode's `White_Space`, what
//! Rust's `str::trim` removes), then the trimmed text with its bounds and its characters. The
//! domain crate's tests hold every pattern to its parser, string by string, so the two cannot
//! drift apart.

/// One character `str::trim` removes (Unicode `White_Space`).
macro_rules! space {
    () => {
        r"[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    };
}

/// One character that is not white space.
macro_rules! not_space {
    () => {
        r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    };
}

/// One character that is neither white space nor a control character.
macro_rules! solid {
    () => {
        r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    };
}

/// One character of a single line: no control character but tab.
macro_rules! in_line {
    () => {
        r"[^\x00-\x08\x0a-\x1f\x7f-\x9f]"
    };
}

/// One character of text: no control character but tab and newline.
macro_rules! in_text {
    () => {
        r"[^\x00-\x08\x0b-\x1f\x7f-\x9f]"
    };
}

/// Any one character.
macro_rules! any {
    () => {
        r"[\s\S]"
    };
}

/// One character of a file name's ends: no white space, control character or slash.
macro_rules! file_end {
    () => {
        r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\\]"
    };
}

/// The same, not a dot either.
macro_rules! file_end_not_dot {
    () => {
        r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\\.]"
    };
}

/// One character inside a file name: no control character or slash.
macro_rules! file_inside {
    () => {
        r"[^\x00-\x1f\x7f-\x9f/\\]"
    };
}

/// A username (R-ACC-1): 3–32 of `[a-z0-9_.-]` in any case, stored lowercased.
pub const USERNAME: &str = concat!("^", space!(), "*[A-Za-z0-9_.-]{3,32}", space!(), "*$");

/// A first or last name: at most 64 characters on one line; blank means none.
pub const PERSON_NAME: &str =
    concat!("^", space!(), "*(?:", solid!(), "(?:", in_line!(), "{0,62}", solid!(), ")?", space!(), "*)?$");

/// A room name (R-ROOM-1): 1–64 characters on one line.
pub const ROOM_NAME: &str =
    concat!("^", space!(), "*", solid!(), "(?:", in_line!(), "{0,62}", solid!(), ")?", space!(), "*$");

/// A room topic: at most 256 characters; blank means none.
pub const TOPIC: &str =
    concat!("^", space!(), "*(?:", solid!(), "(?:", in_text!(), "{0,254}", solid!(), ")?", space!(), "*)?$");

/// A message body (R-MSG-1): at most 4000 characters; blank only beside a sticker or an
/// attachment (which a pattern cannot see).
pub const MESSAGE_BODY: &str =
    concat!("^", space!(), "*(?:", solid!(), "(?:", in_text!(), "{0,3998}", solid!(), ")?", space!(), "*)?$");

/// What a message search looks for (R-MSG-11): 1–100 characters.
pub const SEARCH_TEXT: &str =
    concat!("^", space!(), "*", not_space!(), "(?:", any!(), "{0,98}", not_space!(), ")?", space!(), "*$");

/// A username or room name prefix: at most 64 characters; blank matches everything.
pub const SEARCH_PREFIX: &str =
    concat!("^", space!(), "*(?:", not_space!(), "(?:", any!(), "{0,62}", not_space!(), ")?", space!(), "*)?$");

/// An attachment's file name (R-MSG-6): 1–255 characters, no path, not `.` or `..`.
pub const FILENAME: &str = concat!(
    "^",
    space!(),
    "*(?:",
    file_end_not_dot!(),
    "|",
    file_end!(),
    file_end_not_dot!(),
    "|",
    file_end_not_dot!(),
    file_end!(),
    "|",
    file_end!(),
    file_inside!(),
    "{1,253}",
    file_end!(),
    ")",
    space!(),
    "*$"
);

/// OpenAPI schemas for the fields above: each is a named string schema with its pattern, so
/// a field says `#[schema(value_type = text::RoomName)]`.
#[cfg(feature = "openapi")]
mod schemas {
    use std::borrow::Cow;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

    macro_rules! text_schema {
        ($(#[doc = $doc:literal])* $name:ident = $pattern:expr) => {
            $(#[doc = $doc])*
            pub struct $name;

            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    let description = [$($doc),*].map(str::trim).join(" ");
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some($pattern))
                        .description(Some(description))
                        .into()
                }
            }

            impl utoipa::ToSchema for $name {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($name))
                }
            }
        };
    }

    text_schema! {
        /// 3–32 characters of `[a-z0-9_.-]` in any case (stored lowercased), after surrounding
        /// white space is trimmed.
        Username = super::USERNAME
    }
    text_schema! {
        /// At most 64 characters on one line, after surrounding white space is trimmed; blank
        /// means none.
        PersonName = super::PERSON_NAME
    }
    text_schema! {
        /// 1–64 characters on one line, after surrounding white space is trimmed.
        RoomName = super::ROOM_NAME
    }
    text_schema! {
        /// At most 256 characters, after surrounding white space is trimmed; blank means none.
        Topic = super::TOPIC
    }
    text_schema! {
        /// At most 4000 characters, after surrounding white space is trimmed; newlines and
        /// tabs are kept, other control characters refused. Blank only when the message
        /// carries a sticker or an attachment.
        MessageBody = super::MESSAGE_BODY
    }
    text_schema! {
        /// 1–100 characters, after surrounding white space is trimmed; found in any case.
        SearchText = super::SEARCH_TEXT
    }
    text_schema! {
        /// At most 64 characters, after surrounding white space is trimmed; blank or absent
        /// matches everything.
        SearchPrefix = super::SEARCH_PREFIX
    }
    text_schema! {
        /// The file's name as people will see it: 1–255 characters after surrounding white
        /// space is trimmed, no `/`, `\` or control characters, not `.` or `..`.
        Filename = super::FILENAME
    }
}

#[cfg(feature = "openapi")]
pub use schemas::*;
