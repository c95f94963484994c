//! The terminal client, `conclave-cli` (issue 17): every scriptable command against the real
//! server binary, with its exit code (0 done, 1 refused by the server, 2 bad usage, 3 cannot
//! reach the server, 4 not logged in), its `--json` output, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use conclave_tests::{PASSWORD, Server, cli_binary};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// One person at a terminal: their own config folder (so their own session), on one server.
struct Terminal {
    config: tempfile::TempDir,
    server: String,
}

/// What a command did.
#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// Asserts exit code `code`; the standard output.
    fn expect(&self, code: i32) -> &str {
        assert_eq!(self.code, code, "exit code; stdout: {} stderr: {}", self.stdout, self.stderr);
        &self.stdout
    }

    /// With `--json`: the document printed.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// With `--json`, a refusal: its error code.
    fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap().to_owned()
    }
}

impl Terminal {
    fn new(server: &Server) -> Self {
        Terminal { config: tempfile::tempdir().unwrap(), server: server.base.clone() }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(cli_binary());
        command
            .args(args)
            .env("CONCLAVE_SERVER", &self.server)
            .env("CONCLAVE_CONFIG_DIR", self.config.path())
            .env("CONCLAVE_PASSWORD", PASSWORD)
            .env_remove("CONCLAVE_ROOM_PASSWORD")
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    async fn finish(mut command: Command) -> Outcome {
        let output = tokio::time::timeout(Duration::from_secs(30), command.output())
            .await
            .expect("conclave-cli ends within 30 s")
            .expect("conclave-cli runs");
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    async fn run(&self, args: &[&str]) -> Outcome {
        Self::finish(self.command(args)).await
    }

    async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        Self::finish(command).await
    }

    /// Runs with `input` on standard input.
    async fn run_reading(&self, args: &[&str], input: &str) -> Outcome {
        let mut command = self.command(args);
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).await.unwrap();
        drop(stdin);
        let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.unwrap().unwrap();
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `--json ARGS…`, which must succeed: the document printed.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let outcome = self.run(&all).await;
        outcome.expect(0);
        outcome.json()
    }

    /// Signs `username` up (and so logs them in).
    async fn signup(server: &Server, username: &str) -> Terminal {
        let terminal = Terminal::new(server);
        terminal.run(&["signup", username]).await.expect(0);
        terminal
    }
}

/// Issue 17, R-ACC-1..3: sign-up logs in and keeps the session in a file only the user can
/// read; `whoami` names the user; wrong passwords and taken names are refused with the
/// server's sentence (exit 1); after `logout`, commands say to log in (exit 4).
#[tokio::test]
async fn cli_accounts_sign_up_log_in_and_out() {
    let server = Server::start().await;
    let alice = Terminal::new(&server);
    let said = alice.run(&["signup", "alice"]).await;
    assert!(said.expect(0).contains("signed up and logged in as alice"), "{said:?}");
    let sessions = alice.config.path().join("sessions.json");
    assert_eq!(std::fs::metadata(&sessions).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(alice.json(&["whoami"]).await["username"], "alice");

    let again = Terminal::new(&server);
    let taken = again.run(&["--json", "signup", "ALICE"]).await;
    taken.expect(1);
    assert_eq!(taken.error_code(), "username_taken");
    let short = again.run_with(&["signup", "bob"], &[("CONCLAVE_PASSWORD", "short")]).await;
    short.expect(1);
    assert!(short.stderr.contains("password"), "the field is named: {}", short.stderr);
    let wrong = again.run_with(&["login", "alice"], &[("CONCLAVE_PASSWORD", "not the password")]).await;
    wrong.expect(1);
    assert!(wrong.stderr.starts_with("conclave-cli: "), "{}", wrong.stderr);
    again.run(&["whoami"]).await.expect(4);
    again.run(&["login", "alice"]).await.expect(0);
    assert_eq!(again.json(&["whoami"]).await["username"], "alice", "a second device");

    assert!(alice.run(&["logout"]).await.expect(0).contains("logged out alice"));
    let gone = alice.run(&["whoami"]).await;
    gone.expect(4);
    assert!(gone.stderr.contains("run `conclave-cli login USERNAME`"), "{}", gone.stderr);
    let gone = alice.run(&["--json", "rooms", "list"]).await;
    gone.expect(4);
    assert_eq!(gone.error_code(), "not_logged_in");
    assert_eq!(again.json(&["whoami"]).await["username"], "alice", "the other device's session goes on");
}

/// Issue 17, R-ROOM-1/7/8: rooms are created, found by search, joined by name (a `request`
/// room files a request), shown, listed with their members, and left; an unknown room is
/// refused as the server would (exit 1, `room_not_found`).
#[tokio::test]
async fn cli_rooms_are_made_found_joined_and_left() {
    let server = Server::start().await;
    let alice = Terminal::signup(&server, "alice").await;
    let bob = Terminal::signup(&server, "bob").await;
    let general = alice.json(&["rooms", "create", "general", "--topic", "all of us"]).await;
    assert_eq!((&general["name"], &general["topic"]), (&Value::from("general"), &Value::from("all of us")));
    alice.run(&["rooms", "create", "club", "--policy", "request"]).await.expect(0);
    alice.run(&["rooms", "create", "secret", "--policy", "invite"]).await.expect(0);

    let found = bob.json(&["rooms", "search", ""]).await;
    let names: Vec<&str> = found.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"general") && names.contains(&"club") && !names.contains(&"secret"), "{names:?}");
    let found = bob.json(&["rooms", "search", "GEN"]).await;
    assert_eq!(found.as_array().unwrap().len(), 1, "by the start of the name, in any case");
    assert!(bob.run(&["rooms", "join", "general"]).await.expect(0).contains("joined general"));
    assert!(bob.run(&["rooms", "join", "club"]).await.expect(0).contains("asked to join club"));
    let mine = bob.json(&["rooms", "list"]).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["room"]["id"], general["id"]);
    let listed = bob.run(&["rooms", "list"]).await;
    assert!(listed.expect(0).starts_with("general  open  member  2 members"), "{}", listed.stdout);
    assert_eq!(bob.json(&["rooms", "show", "general"]).await["topic"], "all of us");
    let by_id = general["id"].as_str().unwrap();
    assert_eq!(bob.json(&["rooms", "show", by_id]).await["name"], "general", "by id too");
    let members = bob.json(&["rooms", "members", "general"]).await;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"]["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("alice", "owner"), ("bob", "member")]);

    // A password room: its password from the environment, at creation and to join.
    let password = [("CONCLAVE_ROOM_PASSWORD", "open sesame")];
    alice.run_with(&["rooms", "create", "vault", "--policy", "password"], &password).await.expect(0);
    let wrong =
        bob.run_with(&["--json", "rooms", "join", "vault", "--password"], &[("CONCLAVE_ROOM_PASSWORD", "nope")]).await;
    wrong.expect(1);
    assert_eq!(wrong.error_code(), "wrong_room_password");
    bob.run_with(&["rooms", "join", "vault", "--password"], &password).await.expect(0);
    let no_terminal = alice.run(&["rooms", "create", "other", "--policy", "password"]).await;
    no_terminal.expect(2);
    assert!(no_terminal.stderr.contains("set CONCLAVE_ROOM_PASSWORD"), "{}", no_terminal.stderr);
    bob.run(&["rooms", "leave", "vault"]).await.expect(0);

    let unknown = bob.run(&["--json", "rooms", "leave", "nowhere"]).await;
    unknown.expect(1);
    assert_eq!(unknown.error_code(), "room_not_found");
    let hidden = bob.run(&["--json", "rooms", "show", "secret"]).await;
    hidden.expect(1);
    assert_eq!(hidden.error_code(), "room_not_found", "an invite-only room stays hidden");
    assert!(bob.run(&["rooms", "leave", "general"]).await.expect(0).contains("left general"));
    assert_eq!(bob.json(&["rooms", "list"]).await, Value::Array(Vec::new()));
}

/// Issue 17, R-MSG-1/6: `send` takes text, standard input, a colour, a sticker and a file;
/// `history` reads them back oldest first, in pages; sending nothing, or a file that is not
/// there, is bad usage (exit 2) and sends nothing.
#[tokio::test]
async fn cli_messages_are_sent_and_read_back() {
    let server = Server::start().await;
    let alice = Terminal::signup(&server, "alice").await;
    alice.run(&["rooms", "create", "general"]).await.expect(0);
    assert!(alice.run(&["send", "general", "hello world"]).await.expect(0).contains("sent #1 to general"));
    alice.run_reading(&["send", "general", "-"], "from a pipe\nsecond line\n").await.expect(0);
    alice.run(&["send", "general", "in colour", "--color", "teal"]).await.expect(0);
    alice.run(&["send", "general", "--sticker", "thumbs-up"]).await.expect(0);
    let file = alice.config.path().join("notes.txt");
    std::fs::write(&file, "remember the milk").unwrap();
    alice.run(&["send", "general", "the list", "--file", file.to_str().unwrap()]).await.expect(0);

    let history = alice.json(&["history", "general"]).await;
    let messages = history.as_array().unwrap();
    let seqs: Vec<u64> = messages.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "oldest first");
    assert_eq!(messages[1]["body"], "from a pipe\nsecond line");
    assert_eq!(messages[2]["color"], "teal");
    assert_eq!(messages[3]["sticker"], "thumbs_up");
    assert_eq!(
        (&messages[4]["attachment"]["filename"], &messages[4]["attachment"]["content_type"]),
        (&Value::from("notes.txt"), &Value::from("text/plain"))
    );
    let page = alice.json(&["history", "general", "--before", "4", "--limit", "2"]).await;
    let seqs: Vec<u64> = page.as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [2, 3]);
    let lines = alice.run(&["history", "general", "--limit", "2"]).await;
    let text = lines.expect(0);
    assert!(text.contains("#5 alice: the list\n    [file: notes.txt (text/plain, 17 bytes)]"), "{text}");

    let nothing = alice.run(&["send", "general"]).await;
    nothing.expect(2);
    assert!(nothing.stderr.contains("nothing to send"), "{}", nothing.stderr);
    alice.run(&["send", "general", "x", "--file", "/no/such/file"]).await.expect(2);
    alice.run(&["history", "general", "--limit", "0"]).await.expect(2);
    alice.run(&["send", "general", "x", "--color", "plaid"]).await.expect(2);
    let blank = alice.run(&["--json", "send", "general", "   "]).await;
    blank.expect(1);
    assert_eq!(blank.error_code(), "validation_failed");
    assert_eq!(alice.json(&["history", "general"]).await.as_array().unwrap().len(), 5, "nothing more was sent");
}

/// Issue 17, R-ROOM-2/3/4/9: the admin commands (invite, requests, accept, decline, kick, ban,
/// unban, promote, demote) do what the API does, and a member who is not an admin is refused
/// (exit 1).
#[tokio::test]
async fn cli_moderation_commands() {
    let server = Server::start().await;
    let alice = Terminal::signup(&server, "alice").await;
    let bob = Terminal::signup(&server, "bob").await;
    let carol = Terminal::signup(&server, "carol").await;
    alice.run(&["rooms", "create", "club", "--policy", "request"]).await.expect(0);
    alice.run(&["rooms", "create", "secret", "--policy", "invite"]).await.expect(0);

    bob.run(&["rooms", "join", "club"]).await.expect(0);
    carol.run(&["rooms", "join", "club"]).await.expect(0);
    let asking = alice.json(&["requests", "club"]).await;
    let names: Vec<&str> = asking.as_array().unwrap().iter().map(|r| r["user"]["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["bob", "carol"]);
    assert_eq!(alice.json(&["accept", "club", "bob"]).await["membership"]["role"], "member");
    assert!(alice.run(&["decline", "club", "carol"]).await.expect(0).contains("declined carol's request"));
    assert_eq!(alice.json(&["requests", "club"]).await, Value::Array(Vec::new()));

    assert_eq!(alice.json(&["promote", "club", "bob"]).await["membership"]["role"], "admin");
    assert_eq!(alice.json(&["demote", "club", "bob"]).await["membership"]["role"], "member");
    let refused = bob.run(&["--json", "kick", "club", "alice"]).await;
    refused.expect(1);
    assert!(!refused.error_code().is_empty());
    alice.run(&["kick", "club", "bob"]).await.expect(0);
    assert_eq!(bob.json(&["rooms", "list"]).await, Value::Array(Vec::new()));
    let carol_id = carol.json(&["whoami"]).await["id"].clone();
    assert_eq!(alice.json(&["ban", "club", "carol"]).await["ban"]["user"]["id"], carol_id);
    // Search no longer shows her the room (R-ROOM-8); by its id, the server says why.
    let by_name = carol.run(&["--json", "rooms", "join", "club"]).await;
    by_name.expect(1);
    assert_eq!(by_name.error_code(), "room_not_found");
    let club = alice.json(&["rooms", "show", "club"]).await["id"].as_str().unwrap().to_owned();
    let banned = carol.run(&["--json", "rooms", "join", &club]).await;
    banned.expect(1);
    assert_eq!(banned.error_code(), "banned");
    alice.run(&["unban", "club", "carol"]).await.expect(0);
    carol.run(&["rooms", "join", "club"]).await.expect(0);

    alice.run(&["invite", "secret", "@carol"]).await.expect(0);
    assert!(carol.run(&["rooms", "join", "secret"]).await.expect(0).contains("joined secret"));
    let nobody = alice.run(&["--json", "invite", "secret", "nobody"]).await;
    nobody.expect(1);
    assert_eq!(nobody.error_code(), "user_not_found");
}

/// Issue 17, R-NOTE-1/2, R-ROOM-10: `dm` opens a direct conversation and sends; the peer reads
/// it in their notifications, marks one read, then all; `users search` finds people.
#[tokio::test]
async fn cli_direct_messages_people_and_notifications() {
    let server = Server::start().await;
    let alice = Terminal::signup(&server, "alice").await;
    let bob = Terminal::signup(&server, "bob").await;
    assert!(alice.run(&["dm", "bob", "hi bob"]).await.expect(0).contains("sent #1 to bob"));
    alice.run(&["dm", "bob", "and again"]).await.expect(0);
    let history = bob.json(&["history", "alice"]).await;
    assert_eq!(history.as_array().unwrap().len(), 2, "bob names the conversation by alice");
    let unread = bob.json(&["notifications", "--unread"]).await;
    let kinds: Vec<&str> = unread.as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert!(!kinds.is_empty() && kinds.iter().all(|k| *k == "direct_message"), "{kinds:?}");
    let first = unread[0]["id"].as_str().unwrap();
    bob.run(&["notifications", "read", first]).await.expect(0);
    assert_eq!(bob.json(&["notifications", "--unread"]).await.as_array().unwrap().len(), kinds.len() - 1);
    let all = bob.run(&["notifications"]).await;
    assert!(all.expect(0).contains("alice sent you a direct message"), "{}", all.stdout);
    bob.run(&["notifications", "read-all"]).await.expect(0);
    assert_eq!(bob.json(&["notifications", "--unread"]).await, Value::Array(Vec::new()));
    let missing = bob.run(&["--json", "notifications", "read", "no-such-notification"]).await;
    missing.expect(1);
    assert_eq!(missing.error_code(), "notification_not_found");

    let found = bob.json(&["users", "search", "al"]).await;
    assert_eq!(found[0]["username"], "alice");
    let nobody = bob.run(&["--json", "dm", "nobody", "hello"]).await;
    nobody.expect(1);
    assert_eq!(nobody.error_code(), "user_not_found");
}

/// Issue 17, R-WS-3: `tail` prints each new message once, in order, as it comes; when the
/// server restarts it reconnects by itself and resumes, so messages sent while it was away are
/// printed once, in their place.
#[tokio::test]
async fn cli_tail_prints_each_message_once_across_a_restart() {
    let server = Server::start().await;
    let alice = Terminal::signup(&server, "alice").await;
    alice.run(&["rooms", "create", "general"]).await.expect(0);
    alice.run(&["send", "general", "before the tail"]).await.expect(0);
    let mut tail = alice.command(&["--json", "tail", "general"]);
    tail.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = tail.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_seq = async || {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap().unwrap();
        let message: Value = serde_json::from_str(&line).unwrap();
        (message["seq"].as_u64().unwrap(), message["body"].as_str().unwrap().to_owned())
    };
    // The tail has started once a message sent after it shows; until then, one is sent again.
    let mut first = None;
    while first.is_none() {
        alice.run(&["send", "general", "hello"]).await.expect(0);
        first = tokio::time::timeout(Duration::from_millis(500), next_seq()).await.ok();
    }
    let (mut last, _) = first.unwrap();
    alice.run(&["send", "general", "live"]).await.expect(0);
    assert_eq!(next_seq().await, (last + 1, "live".to_owned()));
    last += 1;

    let address = server.base.trim_start_matches("http://").to_owned();
    let data = server.stop().await;
    let server = Server::start_on(data, &address, &[]).await;
    for n in 0..3 {
        alice.run(&["send", "general", &format!("while away {n}")]).await.expect(0);
    }
    for n in 0..3 {
        assert_eq!(next_seq().await, (last + 1, format!("while away {n}")), "resumed in order, once");
        last += 1;
    }
    alice.run(&["send", "general", "marker"]).await.expect(0);
    assert_eq!(next_seq().await, (last + 1, "marker".to_owned()), "nothing came twice");
    child.kill().await.unwrap();
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).await.unwrap();
    assert!(stderr.contains("reconnecting"), "it said so: {stderr}");
    drop(server);
}

/// Issue 17: a server that cannot be reached is exit 3 with a sentence; bad usage is exit 2;
/// completions and the manual page print without a server.
#[tokio::test]
async fn cli_exit_codes_for_an_unreachable_server_and_bad_usage() {
    let server = Server::start().await;
    let alice = Terminal::signup(&server, "alice").await;
    let away = Terminal { config: tempfile::tempdir().unwrap(), server: "http://127.0.0.1:9".into() };
    let unreachable = away.run(&["login", "alice"]).await;
    unreachable.expect(3);
    assert!(unreachable.stderr.contains("cannot reach the server at http://127.0.0.1:9"), "{}", unreachable.stderr);
    let unreachable = away.run(&["--json", "signup", "alice"]).await;
    unreachable.expect(3);
    assert_eq!(unreachable.error_code(), "unreachable");

    alice.run(&[]).await.expect(2);
    alice.run(&["rooms", "fly"]).await.expect(2);
    alice.run(&["--server", "ftp://example.org", "whoami"]).await.expect(2);
    let no_terminal = alice.run_with(&["login", "alice"], &[("CONCLAVE_PASSWORD", "")]).await;
    assert_eq!(no_terminal.code, 1, "an empty password is the server's to refuse: {no_terminal:?}");

    let completions = alice.run(&["completions", "bash"]).await;
    assert!(completions.expect(0).contains("conclave-cli"));
    let manual = alice.run(&["man"]).await;
    assert!(manual.expect(0).contains(".TH conclave-cli"), "{}", manual.stdout);
    let help = alice.run(&["rooms", "create", "--help"]).await;
    assert!(help.expect(0).contains("--policy"));
}

/// Issue 17, R-ACC-3: the access token is refreshed by itself (here it lives one second, so
/// every command refreshes), also by several commands at once, which share the rotation; a
/// session the server no longer knows says to log in (exit 4).
#[tokio::test]
async fn cli_refreshes_the_session_by_itself() {
    let server = Server::start_with(&[("CONCLAVE_ACCESS_TOKEN_TTL_SECS", "1")]).await;
    let alice = Terminal::signup(&server, "alice").await;
    for _ in 0..3 {
        assert_eq!(alice.json(&["whoami"]).await["username"], "alice");
    }
    let at_once: Vec<_> = (0..4).map(|_| alice.run(&["--json", "whoami"])).collect();
    for outcome in futures_util::future::join_all(at_once).await {
        outcome.expect(0);
    }
    assert_eq!(alice.json(&["whoami"]).await["username"], "alice", "still logged in after all of them");

    let sessions = alice.config.path().join("sessions.json");
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&sessions).unwrap()).unwrap();
    let session = saved.as_object_mut().unwrap().values_mut().next().unwrap();
    session["refresh_token"] = "not-a-token".into();
    session["access_expires_at"] = "2000-01-01T00:00:00Z".into();
    std::fs::write(&sessions, saved.to_string()).unwrap();
    let expired = alice.run(&["whoami"]).await;
    expired.expect(4);
    assert!(
        expired.stderr.contains("your session has expired; run `conclave-cli login USERNAME`"),
        "{}",
        expired.stderr
    );
}

/// Issue 17: `tail` with no room named follows every room, those joined while it runs too.
#[tokio::test]
async fn cli_tail_follows_rooms_joined_while_it_runs() {
    let server = Server::start().await;
    let alice = Terminal::signup(&server, "alice").await;
    let bob = Terminal::signup(&server, "bob").await;
    alice.run(&["rooms", "create", "general"]).await.expect(0);
    bob.run(&["rooms", "create", "club"]).await.expect(0);
    bob.run(&["send", "club", "before alice came"]).await.expect(0);
    let mut tail = alice.command(&["tail"]);
    tail.stdout(Stdio::piped());
    let mut child = tail.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_line =
        async || tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap().unwrap();
    // Started once a message sent after it shows.
    let mut started = None;
    while started.is_none() {
        alice.run(&["send", "general", "hello"]).await.expect(0);
        started = tokio::time::timeout(Duration::from_millis(500), next_line()).await.ok();
    }
    assert!(started.unwrap().ends_with("alice: hello"));
    alice.run(&["rooms", "join", "club"]).await.expect(0);
    // The join reaches the tail before any message of the room does; until it has, the first
    // messages may go by unprinted, so bob says it until one shows.
    let mut seen = None;
    for n in 0..20 {
        bob.run(&["send", "club", &format!("in the club {n}")]).await.expect(0);
        if let Ok(line) = tokio::time::timeout(Duration::from_millis(500), next_line()).await {
            seen = Some(line);
            break;
        }
    }
    let seen = seen.expect("a message of the room joined while the tail ran");
    assert!(seen.starts_with("#club ") && seen.contains("bob: in the club"), "{seen}");
    assert!(!seen.contains("before alice came"));
    child.kill().await.unwrap();
}

/// Issue 17, R-ROOM-6: the owner changes a room's name, topic and policy, and closes it; a
/// member may do neither (exit 1); closing without a terminal to confirm on needs `--yes`.
#[tokio::test]
async fn cli_owners_edit_and_close_rooms() {
    let server = Server::start().await;
    let alice = Terminal::signup(&server, "alice").await;
    let bob = Terminal::signup(&server, "bob").await;
    alice.run(&["rooms", "create", "draft"]).await.expect(0);
    bob.run(&["rooms", "join", "draft"]).await.expect(0);
    let edited =
        alice.json(&["rooms", "edit", "draft", "--name", "plans", "--topic", "q3", "--policy", "request"]).await;
    assert_eq!(
        (&edited["name"], &edited["topic"], &edited["join_policy"]),
        (&json!("plans"), &json!("q3"), &json!("request"))
    );
    let password = [("CONCLAVE_ROOM_PASSWORD", "open sesame")];
    let locked = alice.run_with(&["--json", "rooms", "edit", "plans", "--policy", "password"], &password).await;
    locked.expect(0);
    assert_eq!(locked.json()["join_policy"], "password");
    alice.run(&["rooms", "edit", "plans"]).await.expect(2);
    let refused = bob.run(&["--json", "rooms", "edit", "plans", "--topic", "mine now"]).await;
    refused.expect(1);
    assert!(!refused.error_code().is_empty());
    bob.run(&["--json", "rooms", "close", "plans", "--yes"]).await.expect(1);
    let unasked = alice.run(&["rooms", "close", "plans"]).await;
    unasked.expect(2);
    assert!(unasked.stderr.contains("add --yes"), "{}", unasked.stderr);
    assert!(alice.run(&["rooms", "close", "plans", "--yes"]).await.expect(0).contains("closed plans"));
    assert_eq!(bob.json(&["rooms", "list"]).await, Value::Array(Vec::new()), "everyone removed");
}
