//! The command line: nouns and verbs, each with its `--help`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Conclave in a terminal. ROOM is a room id or the name of one of your rooms (a direct
/// conversation by the other person's username); USER is a username.
///
/// Exit codes: 0 done, 1 refused by the server, 2 bad usage, 3 cannot reach the server, 4 not
/// logged in or the session expired.
#[derive(Debug, Parser)]
#[command(name = "conclave-cli", version, about, long_about, propagate_version = true)]
pub struct Cli {
    /// The server's address.
    #[arg(long, global = true, env = "CONCLAVE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Print one JSON document (JSON lines for `tail`), errors included.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account and log in (password from a prompt, or CONCLAVE_PASSWORD).
    Signup { username: String },
    /// Log in (password from a prompt, or CONCLAVE_PASSWORD); the session is kept.
    Login { username: String },
    /// End the session here and on the server.
    Logout,
    /// Who you are logged in as.
    Whoami,
    /// Rooms: yours, found, made, joined, left.
    #[command(subcommand)]
    Rooms(RoomsCommand),
    /// Send a message (TEXT `-` reads standard input).
    Send(SendArgs),
    /// A room's messages, oldest first.
    History {
        room: String,
        /// Only messages numbered below this.
        #[arg(long)]
        before: Option<u64>,
        /// How many (1–100).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: u32,
    },
    /// Print new messages of these rooms as they come (all your rooms when none is named);
    /// reconnects and resumes by itself, so nothing is missed or repeated. Stop with Ctrl-C.
    Tail { rooms: Vec<String> },
    /// Invite a user to a room (admins).
    Invite { room: String, user: String },
    /// Remove a member from a room (admins).
    Kick { room: String, user: String },
    /// Ban a user from a room (admins).
    Ban { room: String, user: String },
    /// Lift a ban (admins).
    Unban { room: String, user: String },
    /// Make a member an admin (the owner).
    Promote { room: String, user: String },
    /// Make an admin a member again (the owner).
    Demote { room: String, user: String },
    /// Pending join requests of a room (admins).
    Requests { room: String },
    /// Accept a join request (admins).
    Accept { room: String, user: String },
    /// Decline a join request (admins).
    Decline { room: String, user: String },
    /// Open a direct conversation with a user, and send TEXT if given.
    Dm { user: String, text: Option<String> },
    /// People.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Your notifications, unread first; or mark them read.
    Notifications(NotificationsArgs),
    /// The full-screen chat: rooms and direct conversations, live messages, a composer with
    /// /commands. Ctrl-K switches rooms, F2 shows notifications, Ctrl-Q quits.
    Tui,
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    Man,
}

#[derive(Debug, Subcommand)]
pub enum RoomsCommand {
    /// The rooms you are in, with unread counts.
    List,
    /// Find rooms you can join by name.
    Search { query: String },
    /// Create a room; you are its owner.
    Create {
        name: String,
        #[arg(long, value_enum, default_value_t = conclave_protocol::JoinPolicy::Open)]
        policy: conclave_protocol::JoinPolicy,
        #[arg(long)]
        topic: Option<String>,
    },
    /// A room's details.
    Show { room: String },
    /// Join a room (a `request` room files a request; `--password` prompts for a room's
    /// password, or reads CONCLAVE_ROOM_PASSWORD).
    Join {
        room: String,
        #[arg(long)]
        password: bool,
    },
    /// Leave a room.
    Leave { room: String },
    /// Change a room's name, topic or join policy (the owner; `--password` with `--policy
    /// password` prompts for the room's password, or reads CONCLAVE_ROOM_PASSWORD).
    Edit {
        room: String,
        #[arg(long)]
        name: Option<String>,
        /// An empty topic clears it.
        #[arg(long)]
        topic: Option<String>,
        #[arg(long, value_enum)]
        policy: Option<conclave_protocol::JoinPolicy>,
        /// Set a new room password.
        #[arg(long)]
        password: bool,
    },
    /// Close a room for good (the owner): everyone is removed and it is read-only.
    Close {
        room: String,
        /// Say yes without being asked (scripts).
        #[arg(long)]
        yes: bool,
    },
    /// A room's members.
    Members { room: String },
}

#[derive(Debug, Args)]
pub struct SendArgs {
    pub room: String,
    /// The text; `-` reads it from standard input. May be left out with --sticker or --file.
    pub text: Option<String>,
    #[arg(long, value_enum)]
    pub color: Option<conclave_protocol::Color>,
    #[arg(long, value_enum)]
    pub sticker: Option<conclave_protocol::Sticker>,
    /// Attach a file (PNG, JPEG, GIF, WebP, PDF or text).
    #[arg(long)]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Find people by the start of their username.
    Search { query: String },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct NotificationsArgs {
    /// Only the unread ones.
    #[arg(long)]
    pub unread: bool,
    #[command(subcommand)]
    pub action: Option<NotificationsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// Mark one read.
    Read { id: String },
    /// Mark all read.
    ReadAll,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Issue 17: every colour and sticker can be named, as the protocol names it (`-` for `_`).
    #[test]
    fn colours_and_stickers_are_named_as_the_protocol_names_them() {
        use clap::ValueEnum;
        use conclave_protocol::{Color, Sticker};
        for color in Color::ALL {
            let name = serde_json::to_value(color).unwrap();
            assert_eq!(Color::from_str(name.as_str().unwrap(), false), Ok(color));
        }
        for sticker in Sticker::ALL {
            let name = serde_json::to_value(sticker).unwrap().as_str().unwrap().replace('_', "-");
            assert_eq!(Sticker::from_str(&name, false), Ok(sticker));
        }
    }
}
