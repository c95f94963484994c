//! The OpenAPI document's patterns for text fields (`conclave_protocol::text`) against the
//! parsers that decide: for every string tried, the pattern matches exactly when the parser
//! accepts. Tried: every string of up to three characters from an alphabet of the characters
//! that sit on a rule's edge (white space trimmed or not, control characters, slashes, dots,
//! the Kelvin sign that lowercases to `k`, astral emoji), and strings around each length bound
//! with each of those characters inside, at the ends and around them.

use crate::{Filename, MessageBody, PersonName, RoomName, SearchPrefix, SearchText, Topic, Username};
use conclave_protocol::text;
use regex::{Regex, RegexBuilder};

const ALPHABET: &[char] = &[
    'a', 'Z', '0', '_', '.', '-', '/', '\\', ' ', '\t', '\n', '\r', '\u{b}', '\0', '\u{1c}', '\u{7f}', '\u{85}',
    '\u{a0}', '\u{2003}', '\u{3000}', '\u{feff}', '\u{212a}', 'é', '😀',
];

fn compiled(pattern: &str) -> Regex {
    RegexBuilder::new(pattern).size_limit(1 << 30).build().expect("the pattern compiles")
}

/// Strings of up to three characters of [`ALPHABET`].
fn short_strings() -> Vec<String> {
    let mut out = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..3 {
        last = last.iter().flat_map(|s| ALPHABET.iter().map(move |c| format!("{s}{c}"))).collect();
        out.extend(last.iter().cloned());
    }
    out
}

/// Strings of `bound - 1`, `bound` and `bound + 1` characters of `filler`, with each character
/// of the alphabet in the middle, at either end, and around them.
fn strings_around(bound: usize, filler: char) -> Vec<String> {
    let mut out = Vec::new();
    for len in [bound.saturating_sub(1), bound, bound + 1] {
        let core: String = std::iter::repeat_n(filler, len).collect();
        out.push(core.clone());
        for &c in ALPHABET {
            let mut middle: Vec<char> = core.chars().collect();
            if let Some(slot) = middle.get_mut(len / 2) {
                *slot = c;
            }
            out.push(middle.into_iter().collect());
            out.push(format!("{c}{core}"));
            out.push(format!("{core}{c}"));
            out.push(format!("{c}{core}{c}"));
        }
    }
    out
}

/// Asserts that `pattern` matches exactly the strings `accepts` takes.
fn agree(rule: &str, pattern: &str, bound: usize, filler: char, accepts: impl Fn(&str) -> bool) {
    let regex = compiled(pattern);
    for candidate in short_strings().into_iter().chain(strings_around(bound, filler)) {
        assert_eq!(
            regex.is_match(&candidate),
            accepts(&candidate),
            "{rule}: the pattern and the parser disagree on {candidate:?}"
        );
    }
}

/// R-ACC-1: usernames, any case, trimmed.
#[test]
fn r_acc_1_username_pattern_is_the_parser() {
    agree("username", text::USERNAME, 32, 'a', |s| Username::parse(s).is_ok());
}

/// R-ACC-1, R-ACC-7: first and last names.
#[test]
fn r_acc_1_person_name_pattern_is_the_parser() {
    agree("person name", text::PERSON_NAME, 64, 'é', |s| PersonName::parse_optional(Some(s)).is_ok());
}

/// R-ROOM-1: room names and topics.
#[test]
fn r_room_1_room_name_and_topic_patterns_are_the_parsers() {
    agree("room name", text::ROOM_NAME, 64, 'a', |s| RoomName::parse(s).is_ok());
    agree("topic", text::TOPIC, 256, 'a', |s| Topic::parse_optional(Some(s)).is_ok());
}

/// R-MSG-1: a body is 1–4000 characters after trimming, or blank beside a sticker or an
/// attachment.
#[test]
fn r_msg_1_body_pattern_is_the_parser() {
    agree("body", text::MESSAGE_BODY, 4000, 'a', |s| s.trim().is_empty() || MessageBody::parse(s).is_ok());
}

/// R-MSG-11 and the directory searches.
#[test]
fn r_msg_11_search_patterns_are_the_parsers() {
    agree("search text", text::SEARCH_TEXT, 100, '😀', |s| SearchText::parse(s).is_ok());
    agree("search prefix", text::SEARCH_PREFIX, 64, 'a', |s| SearchPrefix::parse_optional(Some(s)).is_ok());
}

/// R-MSG-6: attachment names.
#[test]
fn r_msg_6_filename_pattern_is_the_parser() {
    agree("file name", text::FILENAME, 255, '.', |s| Filename::parse(s).is_ok());
}
