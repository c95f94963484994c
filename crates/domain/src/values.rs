//! Validated values. Each type can only hold what the SPEC allows, so code that has one
//! never checks it again.

use std::collections::BTreeMap;
use std::fmt;

/// Why a value was refused, in words for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(message.into()))
}

/// Per-field problems, collected so that a 422 answer names every bad field at once (R-ACC-1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the problem under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, ValueError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(ValueError(message)) => {
                self.0.insert(field.to_owned(), message);
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.insert(field.to_owned(), message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    /// `Ok(())` when nothing was recorded.
    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// One field refused on its own.
impl FieldErrors {
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// A username: 3–32 chars of `[a-z0-9_.-]`, stored lowercased (R-ACC-1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;
    /// A login name longer than this cannot be anyone's (usernames are trimmed and at most
    /// [`Self::MAX_CHARS`]): it is refused before any work is spent on it.
    pub const MAX_LOGIN_INPUT_BYTES: usize = 64;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let trimmed = input.trim();
        let len = char_len(trimmed);
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&len) {
            return err("must be 3 to 32 characters");
        }
        // Checked before lowercasing: Unicode lowercasing turns the Kelvin sign into `k`.
        if !trimmed.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            return err("may contain only letters a-z, digits, '_', '.' and '-'");
        }
        Ok(Self(trimmed.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plain password on its way to the hasher: 10–256 chars (R-ACC-1). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let len = char_len(input);
        if len < Self::MIN_CHARS {
            return err("must be at least 10 characters");
        }
        if len > Self::MAX_CHARS {
            return err("must be at most 256 characters");
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A room password: 4–256 chars. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct RoomPassword(String);

impl RoomPassword {
    pub const MIN_CHARS: usize = 4;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let len = char_len(input);
        if len < Self::MIN_CHARS {
            return err("must be at least 4 characters");
        }
        if len > Self::MAX_CHARS {
            return err("must be at most 256 characters");
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RoomPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoomPassword(<redacted>)")
    }
}

/// Trims `input` and checks its length in chars and that it holds no control characters
/// other than newline and tab.
fn bounded_text(input: &str, min: usize, max: usize) -> Result<String, ValueError> {
    let trimmed = input.trim();
    let len = char_len(trimmed);
    if len < min {
        return if min == 1 { err("must not be empty") } else { err(format!("must be at least {min} characters")) };
    }
    if len > max {
        return err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return err("must not contain control characters");
    }
    Ok(trimmed.to_owned())
}

/// A first or last name: at most 64 chars, trimmed; empty means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// `Ok(None)` for an absent or blank name.
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, ValueError> {
        match input.map(str::trim) {
            None | Some("") => Ok(None),
            Some(name) => {
                if name.contains('\n') {
                    return err("must be a single line");
                }
                bounded_text(name, 1, 64).map(|n| Some(Self(n)))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room name: 1–64 chars, single line, trimmed (R-ROOM-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        if input.trim().contains('\n') {
            return err("must be a single line");
        }
        bounded_text(input, 1, 64).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room topic: at most 256 chars; empty means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic(String);

impl Topic {
    /// `Ok(None)` for an absent or blank topic.
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, ValueError> {
        match input.map(str::trim) {
            None | Some("") => Ok(None),
            Some(topic) => bounded_text(topic, 1, 256).map(|t| Some(Self(t))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: 1–4000 chars after trimming (R-MSG-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = conclave_protocol::MAX_MESSAGE_CHARS;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        bounded_text(input, 1, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A client-chosen idempotency key for sends: 1–64 printable ASCII chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let len = input.len();
        if !(1..=64).contains(&len) {
            return err("must be 1 to 64 characters");
        }
        if !input.chars().all(|c| c.is_ascii_graphic()) {
            return err("must be printable ASCII without spaces");
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A search prefix: at most 64 chars, trimmed and lowercased; empty matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchPrefix(String);

impl SearchPrefix {
    pub fn parse_optional(input: Option<&str>) -> Result<Self, ValueError> {
        let trimmed = input.unwrap_or("").trim();
        if char_len(trimmed) > 64 {
            return err("must be at most 64 characters");
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a message search looks for (R-MSG-11): 1–100 characters after trimming, matched
/// case-insensitively anywhere in a message's text or its attachment's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let trimmed = input.trim();
        match char_len(trimmed) {
            0 => err("must not be empty"),
            n if n > Self::MAX_CHARS => err(format!("must be at most {} characters", Self::MAX_CHARS)),
            _ => Ok(Self(trimmed.to_lowercase())),
        }
    }

    /// Whether `text` (a body, a file name) contains what is looked for, in any case.
    pub fn found_in(&self, text: &str) -> bool {
        text.to_lowercase().contains(&self.0)
    }
}

/// How many messages one page of a search opens and reads at most (R-MSG-11): bodies are
/// sealed, so a search reads them; a page that reaches this many stops there and says where
/// to go on, even with fewer matches than asked for.
pub const SEARCH_SCAN_PER_PAGE: u32 = 2000;

#[cfg(test)]
mod tests {
    use super::*;

    /// R-MSG-11: search text is trimmed, bounded and matched in any case.
    #[test]
    fn r_msg_11_search_text() {
        let text = SearchText::parse("  Lunch ").expect("valid");
        assert!(text.found_in("LUNCH at noon?") && text.found_in("after-lunch nap"));
        assert!(!text.found_in("dinner"));
        assert!(SearchText::parse("ÉTÉ").expect("valid").found_in("l'été dernier"));
        assert!(SearchText::parse("   ").is_err());
        assert!(SearchText::parse(&"x".repeat(101)).is_err());
        assert!(SearchText::parse(&"x".repeat(100)).is_ok());
    }

    /// R-ACC-1: usernames are 3–32 chars of [a-z0-9_.-], any case accepted and lowercased.
    #[test]
    fn r_acc_1_usernames() {
        let cases: &[(&str, Option<&str>)] = &[
            ("alice", Some("alice")),
            ("Alice", Some("alice")),
            ("  BOB_42  ", Some("bob_42")),
            ("a.b-c", Some("a.b-c")),
            ("ab", None),
            ("", None),
            (&"x".repeat(32), Some(&"x".repeat(32))),
            (&"x".repeat(33), None),
            ("al ice", None),
            ("alice!", None),
            ("élodie", None),
            ("名前名前", None),
        ];
        for (input, expected) in cases {
            let parsed = Username::parse(input).ok();
            assert_eq!(parsed.as_ref().map(Username::as_str), *expected, "input {input:?}");
        }
    }

    /// R-ACC-1: passwords are 10–256 chars and are never printed.
    #[test]
    fn r_acc_1_passwords() {
        assert!(Password::parse("123456789").is_err());
        assert!(Password::parse("1234567890").is_ok());
        assert!(Password::parse(&"p".repeat(256)).is_ok());
        assert!(Password::parse(&"p".repeat(257)).is_err());
        let shown = format!("{:?}", Password::parse("correct horse battery").ok());
        assert!(!shown.contains("horse"), "{shown}");
    }

    /// R-ACC-1: first and last names are optional and at most 64 chars.
    #[test]
    fn r_acc_1_names() {
        assert_eq!(PersonName::parse_optional(None), Ok(None));
        assert_eq!(PersonName::parse_optional(Some("   ")), Ok(None));
        assert_eq!(
            PersonName::parse_optional(Some(" Ada ")).map(|n| n.map(|n| n.as_str().to_owned())),
            Ok(Some("Ada".to_owned()))
        );
        assert!(PersonName::parse_optional(Some(&"n".repeat(64))).is_ok());
        assert!(PersonName::parse_optional(Some(&"n".repeat(65))).is_err());
        assert!(PersonName::parse_optional(Some("a\nb")).is_err());
    }

    /// R-ROOM-1: room names are 1–64 chars.
    #[test]
    fn r_room_1_room_names() {
        assert!(RoomName::parse("general").is_ok());
        assert!(RoomName::parse("   ").is_err());
        assert!(RoomName::parse(&"r".repeat(64)).is_ok());
        assert!(RoomName::parse(&"r".repeat(65)).is_err());
        assert!(RoomName::parse("two\nlines").is_err());
        assert!(RoomName::parse("bell\u{7}").is_err());
        assert!(Topic::parse_optional(Some(&"t".repeat(257))).is_err());
        assert_eq!(Topic::parse_optional(Some("")), Ok(None));
        assert!(RoomPassword::parse("abc").is_err());
        assert!(RoomPassword::parse("abcd").is_ok());
    }

    /// R-MSG-1: bodies are 1–4000 chars after trimming; newlines and tabs are kept.
    #[test]
    fn r_msg_1_message_bodies() {
        assert!(MessageBody::parse("").is_err());
        assert!(MessageBody::parse(" \n\t ").is_err());
        assert_eq!(MessageBody::parse("  hi\n\tthere  ").map(MessageBody::into_string), Ok("hi\n\tthere".to_owned()));
        assert!(MessageBody::parse(&"m".repeat(4000)).is_ok());
        assert!(MessageBody::parse(&format!("  {}  ", "m".repeat(4000))).is_ok());
        assert!(MessageBody::parse(&"m".repeat(4001)).is_err());
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok(), "chars, not bytes");
    }

    /// R-SEC-3: client ids and search prefixes are bounded.
    #[test]
    fn r_sec_3_bounded_inputs() {
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("abc-123").is_ok());
        assert!(ClientId::parse(&"c".repeat(65)).is_err());
        assert!(ClientId::parse("has space").is_err());
        assert_eq!(SearchPrefix::parse_optional(None).map(|p| p.as_str().to_owned()), Ok(String::new()));
        assert_eq!(SearchPrefix::parse_optional(Some(" GEN ")).map(|p| p.as_str().to_owned()), Ok("gen".to_owned()));
        assert!(SearchPrefix::parse_optional(Some(&"q".repeat(65))).is_err());
    }

    #[test]
    fn field_errors_collect_every_field() {
        let mut errors = FieldErrors::new();
        assert!(errors.check("username", Username::parse("x")).is_none());
        assert!(errors.check("password", Password::parse("short")).is_none());
        assert!(errors.check("first_name", PersonName::parse_optional(None)).is_some());
        let map = errors.clone().into_map();
        assert_eq!(map.len(), 2);
        assert!(errors.finish().is_err());
    }
}
