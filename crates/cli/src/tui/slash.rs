//! The composer's `/commands`, parsed: what the user asked for, or a sentence saying what is
//! wrong with it.

use super::app::Moderation;
use clap::ValueEnum;
use conclave_protocol::{Color, Sticker};

/// A command typed in the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slash {
    /// `/color NAME` (or `none`): the colour of the messages sent from now on.
    Color(Option<Color>),
    /// `/sticker NAME`: send it.
    Sticker(Sticker),
    /// `/dm USER [TEXT]`.
    Dm { username: String, text: Option<String> },
    /// `/join ROOM`.
    Join(String),
    /// `/leave` the open room.
    Leave,
    /// `/react EMOJI`: to the newest message of the open room (again: take it back).
    React(String),
    /// `/reply TEXT`: answers the newest message of someone else in the open room.
    Reply(String),
    /// `/edit TEXT`: your newest message of the open room says TEXT instead.
    Edit(String),
    /// `/delete`: your newest message of the open room goes.
    Delete,
    /// `/kick USER` and the other admin commands, in the open room.
    Moderate(Moderation, String),
    /// `/notifications`.
    Notifications,
    /// `/quit`.
    Quit,
    /// `/help`.
    Help,
}

/// What `/help` shows.
pub const HELP: &str = "/color NAME|none  /sticker NAME  /react EMOJI  /reply TEXT  /edit TEXT  /delete  /dm USER [TEXT]  /join ROOM  /leave  \
/invite /kick /ban /unban /promote /demote /accept /decline USER  /notifications  /quit";

/// The colour or sticker `name` names, as the command line names it (`thumbs-up`; `_` and any
/// case are taken too).
fn named<T: ValueEnum>(name: &str) -> Option<T> {
    T::from_str(&name.replace('_', "-"), true).ok()
}

/// Every name of a colour or a sticker, for a refusal to list.
fn names<T: ValueEnum>() -> String {
    T::value_variants()
        .iter()
        .filter_map(|value| value.to_possible_value().map(|possible| possible.get_name().to_owned()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `line`, which starts with `/`.
pub fn parse(line: &str) -> Result<Slash, String> {
    let line = line.trim().trim_start_matches('/');
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let one = |what: &str| -> Result<String, String> {
        match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [one] => Ok(one.trim_start_matches('@').to_owned()),
            _ => Err(format!("/{name} takes one {what}")),
        }
    };
    let moderate = |action: Moderation| one("username").map(|user| Slash::Moderate(action, user));
    match name.to_lowercase().as_str() {
        "color" | "colour" => match rest {
            "" | "none" | "off" => Ok(Slash::Color(None)),
            other => named::<Color>(other)
                .map(|c| Slash::Color(Some(c)))
                .ok_or_else(|| format!("no colour {other:?}: {}, or none", names::<Color>())),
        },
        "sticker" => named::<Sticker>(rest)
            .map(Slash::Sticker)
            .ok_or_else(|| format!("no sticker {rest:?}: {}", names::<Sticker>())),
        "dm" | "msg" => {
            let (user, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if user.is_empty() {
                return Err("/dm takes a username, and may take a message".into());
            }
            let text = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            Ok(Slash::Dm { username: user.trim_start_matches('@').to_owned(), text })
        }
        "join" => match rest {
            "" => Err("/join takes a room's name or id".into()),
            room => Ok(Slash::Join(room.to_owned())),
        },
        "leave" | "part" => Ok(Slash::Leave),
        "reply" | "re" => match rest {
            "" => Err("/reply takes the text of the answer".into()),
            text => Ok(Slash::Reply(text.to_owned())),
        },
        "edit" => match rest {
            "" => Err("/edit takes the new text (or press Up in an empty composer)".into()),
            text => Ok(Slash::Edit(text.to_owned())),
        },
        "delete" => Ok(Slash::Delete),
        "react" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [emoji] => Ok(Slash::React((*emoji).to_owned())),
            _ => Err("/react takes one emoji".into()),
        },
        "invite" => moderate(Moderation::Invite),
        "kick" => moderate(Moderation::Kick),
        "ban" => moderate(Moderation::Ban),
        "unban" => moderate(Moderation::Unban),
        "promote" => moderate(Moderation::Promote),
        "demote" => moderate(Moderation::Demote),
        "accept" => moderate(Moderation::Accept),
        "decline" => moderate(Moderation::Decline),
        "notifications" | "n" => Ok(Slash::Notifications),
        "quit" | "q" => Ok(Slash::Quit),
        "help" | "?" => Ok(Slash::Help),
        _ => Err(format!("no command /{name}; /help lists them")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: the composer's /commands for the admin actions, /color, /sticker, /dm, /join,
    /// /leave; a wrong one is a sentence, not a crash.
    #[test]
    fn commands_parse() {
        assert_eq!(parse("/color teal"), Ok(Slash::Color(Some(Color::Teal))));
        assert_eq!(parse("/color none"), Ok(Slash::Color(None)));
        assert_eq!(parse("/sticker thumbs-up"), Ok(Slash::Sticker(Sticker::ThumbsUp)));
        assert_eq!(
            parse("/dm @bob hello there"),
            Ok(Slash::Dm { username: "bob".into(), text: Some("hello there".into()) })
        );
        assert_eq!(parse("/dm bob"), Ok(Slash::Dm { username: "bob".into(), text: None }));
        assert_eq!(parse("/join general"), Ok(Slash::Join("general".into())));
        assert_eq!(parse("/leave"), Ok(Slash::Leave));
        assert_eq!(parse("/react 👍"), Ok(Slash::React("👍".into())));
        assert_eq!(parse("/edit fixed it"), Ok(Slash::Edit("fixed it".into())));
        assert_eq!(parse("/delete"), Ok(Slash::Delete));
        assert_eq!(parse("/reply yes, ship it"), Ok(Slash::Reply("yes, ship it".into())));
        assert!(parse("/edit").is_err());
        assert!(parse("/react").is_err());
        assert_eq!(parse("/kick bob"), Ok(Slash::Moderate(Moderation::Kick, "bob".into())));
        assert_eq!(parse("/PROMOTE @carol"), Ok(Slash::Moderate(Moderation::Promote, "carol".into())));
        assert_eq!(parse("/quit"), Ok(Slash::Quit));
    }

    #[test]
    fn wrong_commands_say_why() {
        assert_eq!(parse("/frobnicate"), Err("no command /frobnicate; /help lists them".into()));
        assert!(parse("/color plaid").unwrap_err().contains("teal"));
        assert!(parse("/sticker").unwrap_err().contains("thumbs-up"));
        assert_eq!(parse("/kick"), Err("/kick takes one username".into()));
        assert_eq!(parse("/ban bob carol"), Err("/ban takes one username".into()));
        assert!(parse("/join").is_err());
        assert!(parse("/dm").is_err());
    }
}
