//! Each command: read the arguments, call the API, print the answer.

use crate::api::Api;
use crate::args::{Command, NotificationsArgs, NotificationsCommand, RoomsCommand, SendArgs};
use crate::error::{CliError, CliResult};
use crate::names;
use crate::output::{self, Out};
use crate::prompt;
use conclave_protocol::endpoints::*;
use conclave_protocol::*;
use std::io::Read;

/// Runs one command (all but `completions` and `man`, which need no server).
pub async fn run(api: &mut Api, out: Out, command: Command) -> CliResult<()> {
    match command {
        Command::Signup { username } => signup(api, out, &username).await,
        Command::Login { username } => login(api, out, &username).await,
        Command::Logout => logout(api, out).await,
        Command::Whoami => {
            let me = api.call(&Me {}, None).await?.user;
            out.show(&me, || output::table(&[output::user(&me)]));
            Ok(())
        }
        Command::Rooms(command) => rooms(api, out, command).await,
        Command::Send(args) => send(api, out, args).await,
        Command::History { room, before, limit } => history(api, out, &room, before, limit).await,
        Command::Invite { room, user } => {
            let (room, user) = (names::my_room(api, &room).await?, names::user(api, &user).await?);
            let request = InviteRequest { user_id: Some(user.id.clone()), username: None };
            let invite = api.call(&endpoints::Invite { room_id: room.room.id.clone() }, Some(&request)).await?;
            out.show(&invite, || format!("invited {} to {}", user.username, names::label(&room)));
            Ok(())
        }
        Command::Kick { room, user } => {
            let (room, user) = (names::my_room(api, &room).await?, names::user(api, &user).await?);
            api.call(&Kick { room_id: room.room.id.clone(), user_id: user.id.clone() }, None).await?;
            done(out, format!("removed {} from {}", user.username, names::label(&room)));
            Ok(())
        }
        Command::Ban { room, user } => {
            let (room, user) = (names::my_room(api, &room).await?, names::user(api, &user).await?);
            let request = BanRequest { user_id: user.id.clone() };
            let ban = api.call(&endpoints::Ban { room_id: room.room.id.clone() }, Some(&request)).await?;
            out.show(&ban, || format!("banned {} from {}", user.username, names::label(&room)));
            Ok(())
        }
        Command::Unban { room, user } => {
            let (room, user) = (names::my_room(api, &room).await?, names::user(api, &user).await?);
            api.call(&Unban { room_id: room.room.id.clone(), user_id: user.id.clone() }, None).await?;
            done(out, format!("lifted the ban of {} from {}", user.username, names::label(&room)));
            Ok(())
        }
        Command::Promote { room, user } => set_role(api, out, &room, &user, AssignableRole::Admin).await,
        Command::Demote { room, user } => set_role(api, out, &room, &user, AssignableRole::Member).await,
        Command::Requests { room } => {
            let room = names::my_room(api, &room).await?;
            let page = api.call(&JoinRequests { room_id: room.room.id.clone() }, None).await?;
            out.show(&page.items, || {
                if page.items.is_empty() {
                    format!("no pending requests to join {}", names::label(&room))
                } else {
                    output::table(&page.items.iter().map(output::request).collect::<Vec<_>>())
                }
            });
            Ok(())
        }
        Command::Accept { room, user } => {
            let (room, user) = (names::my_room(api, &room).await?, names::user(api, &user).await?);
            let joined =
                api.call(&AcceptRequest { room_id: room.room.id.clone(), user_id: user.id.clone() }, None).await?;
            out.show(&joined, || format!("{} is now a member of {}", user.username, names::label(&room)));
            Ok(())
        }
        Command::Decline { room, user } => {
            let (room, user) = (names::my_room(api, &room).await?, names::user(api, &user).await?);
            api.call(&endpoints::DeclineRequest { room_id: room.room.id.clone(), user_id: user.id.clone() }, None)
                .await?;
            done(out, format!("declined {}'s request to join {}", user.username, names::label(&room)));
            Ok(())
        }
        Command::Dm { user, text } => dm(api, out, &user, text).await,
        Command::Users(crate::args::UsersCommand::Search { query }) => {
            let query = UserSearchQuery { q: Some(query), limit: Some(50), cursor: None };
            let page = api.call(&SearchUsers { query }, None).await?;
            out.show(&page.items, || output::table(&page.items.iter().map(output::user).collect::<Vec<_>>()));
            Ok(())
        }
        Command::Notifications(args) => notifications(api, out, args).await,
        Command::Completions { .. } | Command::Man | Command::Tui | Command::Tail { .. } => {
            Err(CliError::Usage("this command is run on its own, before the others".into()))
        }
    }
}

/// What a command that answers nothing prints: the sentence, or `{"done": true}`.
fn done(out: Out, sentence: String) {
    out.show(&serde_json::json!({"done": true}), || sentence);
}

async fn signup(api: &mut Api, out: Out, username: &str) -> CliResult<()> {
    let password = prompt::new_password()?;
    let request =
        SignupRequest { username: username.to_owned(), password: password.clone(), first_name: None, last_name: None };
    let created = api.call_anonymous(&Signup {}, Some(&request)).await?.user;
    let tokens =
        api.call_anonymous(&Login {}, Some(&LoginRequest { username: created.username.clone(), password })).await?;
    api.save_login(&tokens)?;
    out.show(&created, || format!("signed up and logged in as {} on {}", created.username, api.server()));
    Ok(())
}

async fn login(api: &mut Api, out: Out, username: &str) -> CliResult<()> {
    let password = prompt::password("Password")?;
    let request = LoginRequest { username: username.to_owned(), password };
    let tokens = api.call_anonymous(&Login {}, Some(&request)).await?;
    api.save_login(&tokens)?;
    out.show(&tokens.user, || format!("logged in as {} on {}", tokens.user.username, api.server()));
    Ok(())
}

async fn logout(api: &mut Api, out: Out) -> CliResult<()> {
    let session = api.session()?.clone();
    let request = RefreshRequest { refresh_token: Some(session.refresh_token) };
    // Forgotten here whatever the server says: a refused token is already of no use.
    let ended = api.call_anonymous(&Logout {}, Some(&request)).await;
    api.forget()?;
    match ended {
        Ok(_) | Err(CliError::Refused { .. }) => {
            done(out, format!("logged out {} from {}", session.username, api.server()));
            Ok(())
        }
        Err(other) => Err(other),
    }
}

async fn rooms(api: &mut Api, out: Out, command: RoomsCommand) -> CliResult<()> {
    match command {
        RoomsCommand::List => {
            let rooms = names::my_rooms(api).await?;
            out.show(&rooms, || {
                if rooms.is_empty() {
                    "you are in no room yet: `conclave-cli rooms search NAME`, or `rooms create NAME`".into()
                } else {
                    output::table(&rooms.iter().map(output::my_room).collect::<Vec<_>>())
                }
            });
        }
        RoomsCommand::Search { query } => {
            let query = RoomSearchQuery { q: Some(query), limit: Some(50), cursor: None };
            let page = api.call(&SearchRooms { query }, None).await?;
            out.show(&page.items, || {
                if page.items.is_empty() {
                    "no room found".into()
                } else {
                    output::table(&page.items.iter().map(output::room).collect::<Vec<_>>())
                }
            });
        }
        RoomsCommand::Create { name, policy, topic } => {
            let password = if policy == JoinPolicy::Password { Some(prompt::new_room_password()?) } else { None };
            let request = CreateRoomRequest { name, topic, join_policy: policy, password };
            let room = api.call(&CreateRoom {}, Some(&request)).await?.room;
            out.show(&room, || format!("created {} ({})", room.name, room.id));
        }
        RoomsCommand::Show { room } => {
            let room_id = names::any_room(api, &room).await?;
            let room = api.call(&GetRoom { room_id }, None).await?.room;
            out.show(&room, || output::room_details(&room));
        }
        RoomsCommand::Join { room, password } => {
            let room_id = names::any_room(api, &room).await?;
            let password = if password { Some(prompt::room_password()?) } else { None };
            let answer = api.call(&JoinRoom { room_id }, Some(&JoinRoomRequest { password })).await?;
            out.show(&answer, || match &answer {
                JoinAnswer::Joined(_) => format!("joined {room}"),
                JoinAnswer::Requested(_) => format!("asked to join {room}; an admin will answer"),
            });
        }
        RoomsCommand::Leave { room } => {
            let room = names::my_room(api, &room).await?;
            api.call(&LeaveRoom { room_id: room.room.id.clone() }, None).await?;
            done(out, format!("left {}", names::label(&room)));
        }
        RoomsCommand::Edit { room, name, topic, policy, password } => {
            let room = names::my_room(api, &room).await?;
            if name.is_none() && topic.is_none() && policy.is_none() && !password {
                return Err(CliError::Usage("nothing to change: give --name, --topic, --policy or --password".into()));
            }
            let switching = policy == Some(JoinPolicy::Password) && room.room.join_policy != JoinPolicy::Password;
            let password = if password || switching { Some(prompt::new_room_password()?) } else { None };
            let request = UpdateRoomRequest { name, topic, join_policy: policy, password };
            let updated = api.call(&UpdateRoom { room_id: room.room.id.clone() }, Some(&request)).await?.room;
            out.show(&updated, || output::room_details(&updated));
        }
        RoomsCommand::Close { room, yes } => {
            let room = names::my_room(api, &room).await?;
            if !yes && !prompt::confirm(&format!("Close {} for good? Everyone in it is removed.", names::label(&room)))?
            {
                return Err(CliError::Usage("not closed".into()));
            }
            api.call(&DeleteRoom { room_id: room.room.id.clone() }, None).await?;
            done(out, format!("closed {}", names::label(&room)));
        }
        RoomsCommand::Members { room } => {
            let room = names::my_room(api, &room).await?;
            let room_id = &room.room.id;
            let members = api
                .every(|cursor| Members { room_id: room_id.clone(), query: MembersQuery { limit: Some(200), cursor } })
                .await?;
            out.show(&members, || output::table(&members.iter().map(output::member).collect::<Vec<_>>()));
        }
    }
    Ok(())
}

/// The text to send: as given, or standard input for `-`.
fn text(given: Option<String>) -> CliResult<String> {
    match given.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| CliError::local("reading standard input", e))?;
            Ok(text)
        }
        _ => Ok(given.unwrap_or_default()),
    }
}

/// A file's type as the server accepts it: by its first bytes, else text when it is UTF-8.
fn content_type(bytes: &[u8]) -> String {
    match infer::get(bytes) {
        Some(kind) => kind.mime_type().to_owned(),
        None if std::str::from_utf8(bytes).is_ok() => "text/plain".to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

async fn send(api: &mut Api, out: Out, args: SendArgs) -> CliResult<()> {
    let SendArgs { room, text: given, color: chosen, sticker: chosen_sticker, file } = args;
    if given.is_none() && chosen_sticker.is_none() && file.is_none() {
        return Err(CliError::Usage(
            "nothing to send: give TEXT (or `-` for standard input), --sticker or --file".into(),
        ));
    }
    let body = text(given)?;
    let room = names::my_room(api, &room).await?;
    let room_id = room.room.id.clone();
    let attachment_id = match file {
        Some(path) => {
            let bytes = std::fs::read(&path).map_err(|e| CliError::local(format!("reading {}", path.display()), e))?;
            let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let upload = UploadAttachment { room_id: room_id.clone(), query: UploadAttachmentQuery { filename } };
            let kind = content_type(&bytes);
            Some(api.upload(&upload, bytes, &kind).await?.attachment.id)
        }
        None => None,
    };
    let request = SendMessageRequest {
        body,
        color: chosen,
        sticker: chosen_sticker,
        client_id: None,
        attachment_id,
        reply_to: None,
    };
    let message = api.call(&SendMessage { room_id }, Some(&request)).await?.message;
    out.show(&message, || format!("sent #{} to {}", message.seq, names::label(&room)));
    Ok(())
}

async fn history(api: &mut Api, out: Out, room: &str, before: Option<u64>, limit: u32) -> CliResult<()> {
    let room = names::my_room(api, room).await?;
    let query = MessagesQuery { before, limit: Some(limit), ..Default::default() };
    let page = api.call(&Messages { room_id: room.room.id.clone(), query }, None).await?;
    let mut messages = page.items;
    messages.sort_by_key(|m| m.seq);
    out.show(&messages, || {
        if messages.is_empty() {
            format!("no messages in {} yet", names::label(&room))
        } else {
            messages.iter().map(|m| output::message(m, None)).collect::<Vec<_>>().join("\n")
        }
    });
    Ok(())
}

async fn set_role(api: &mut Api, out: Out, room: &str, user: &str, role: AssignableRole) -> CliResult<()> {
    let (room, user) = (names::my_room(api, room).await?, names::user(api, user).await?);
    let endpoint = SetRole { room_id: room.room.id.clone(), user_id: user.id.clone() };
    let changed = api.call(&endpoint, Some(&RoleChangeRequest { role })).await?;
    out.show(&changed, || match role {
        AssignableRole::Admin => format!("{} is now an admin of {}", user.username, names::label(&room)),
        AssignableRole::Member => format!("{} is now a member of {}", user.username, names::label(&room)),
    });
    Ok(())
}

async fn dm(api: &mut Api, out: Out, user: &str, given: Option<String>) -> CliResult<()> {
    let peer = names::user(api, user).await?;
    let request = OpenDmRequest { user_id: Some(peer.id.clone()), username: None };
    let room = api.call(&OpenDm {}, Some(&request)).await?.room;
    let body = text(given)?;
    if body.is_empty() {
        out.show(&room, || format!("direct conversation with {}: {}", peer.username, room.id));
        return Ok(());
    }
    let request =
        SendMessageRequest { body, color: None, sticker: None, client_id: None, attachment_id: None, reply_to: None };
    let message = api.call(&SendMessage { room_id: room.id.clone() }, Some(&request)).await?.message;
    out.show(&message, || format!("sent #{} to {}", message.seq, peer.username));
    Ok(())
}

async fn notifications(api: &mut Api, out: Out, args: NotificationsArgs) -> CliResult<()> {
    match args.action {
        None => {
            let unread_only = Some(args.unread);
            let notices = api
                .every(|cursor| Notifications { query: NotificationsQuery { unread_only, limit: Some(200), cursor } })
                .await?;
            out.show(&notices, || {
                if notices.is_empty() {
                    "no notifications".into()
                } else {
                    notices.iter().map(output::notification).collect::<Vec<_>>().join("\n")
                }
            });
        }
        Some(NotificationsCommand::Read { id }) => {
            api.call(&MarkNotificationRead { id: NotificationId::from(id.as_str()) }, None).await?;
            done(out, "marked read".into());
        }
        Some(NotificationsCommand::ReadAll) => {
            let marked = api.call(&MarkAllNotificationsRead {}, None).await?;
            out.show(&marked, || format!("marked {} read", marked.marked));
        }
    }
    Ok(())
}
