//! The REST API as a table: each operation's method and path, paired once with the types of
//! its path parameters, query, body and answer. The web client calls the API through it, the
//! black-box tests can, and a server test holds it to the OpenAPI document the server generates,
//! so the three cannot drift apart.
//!
//! ```
//! use conclave_protocol::endpoints::{Endpoint, Messages};
//! use conclave_protocol::{MessagesQuery, RoomId};
//! let page = Messages { room_id: RoomId::from("r1"), query: MessagesQuery { before: Some(7), ..Default::default() } };
//! assert_eq!(page.path(), "/api/rooms/r1/messages?before=7");
//! ```

use crate::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// An HTTP method of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// Lowercase, as the OpenAPI document names operations.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }
}

/// One REST operation. A value of it is one call: its path parameters and query.
pub trait Endpoint {
    const METHOD: Method;
    /// The path as the OpenAPI document writes it (`/api/rooms/{room_id}`).
    const TEMPLATE: &'static str;
    /// The JSON body it takes ([`NoBody`] when none; [`FileBody`] for an upload's raw bytes).
    type Body: Serialize;
    /// What a success answers ([`NoContent`] for 204; [`FileBytes`] for a download).
    type Answer: DeserializeOwned;

    /// The path parameters by name, as strings.
    fn parameters(&self) -> Vec<(&'static str, String)>;

    /// The query string (without `?`), when the call has one.
    fn query(&self) -> Option<String>;

    /// The path to request: the template filled in (each parameter percent-encoded), then the
    /// query.
    fn path(&self) -> String {
        let mut path = Self::TEMPLATE.to_owned();
        for (name, value) in self.parameters() {
            let encoded = percent_encoding::utf8_percent_encode(&value, SEGMENT).to_string();
            path = path.replace(&format!("{{{name}}}"), &encoded);
        }
        match self.query() {
            Some(query) if !query.is_empty() => format!("{path}?{query}"),
            _ => path,
        }
    }
}

/// What a path segment may not hold as it is (RFC 3986: everything but unreserved characters).
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The body of an operation that takes none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NoBody;

/// An upload's body: the file's own bytes, not JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileBody;

/// The answer of an operation that answers 204 (read from an empty body as JSON `null`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct NoContent;

/// A download's answer: the file's own bytes, not JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct FileBytes;

/// What joining a room answers: membership (200), or a join request filed (202).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JoinAnswer {
    Joined(MembershipEnvelope),
    Requested(JoinRequestEnvelope),
}

fn query_string<Q: Serialize>(query: &Q) -> Option<String> {
    serde_urlencoded::to_string(query).ok()
}

macro_rules! endpoints {
    ($(
        $(#[$doc:meta])*
        $name:ident { $($param:ident: $ptype:ty),* $(; query: $query:ty)? }
            = $method:ident $template:literal, $body:ty => $answer:ty;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq)]
            pub struct $name {
                $(pub $param: $ptype,)*
                $(pub query: $query,)?
            }

            impl Endpoint for $name {
                const METHOD: Method = Method::$method;
                const TEMPLATE: &'static str = $template;
                type Body = $body;
                type Answer = $answer;

                fn parameters(&self) -> Vec<(&'static str, String)> {
                    vec![$((stringify!($param), self.$param.to_string())),*]
                }

                fn query(&self) -> Option<String> {
                    $(return query_string::<$query>(&self.query);)?
                    #[allow(unreachable_code)]
                    None
                }
            }
        )*

        /// Every operation of the table: method and path template.
        pub const ALL: &[(Method, &str)] = &[$((Method::$method, $template)),*];
    };
}

endpoints! {
    /// Sign up (R-ACC-1).
    Signup {} = Post "/api/auth/signup", SignupRequest => UserEnvelope;
    /// Log in (R-ACC-3).
    Login {} = Post "/api/auth/login", LoginRequest => TokenResponse;
    /// A new token pair for a refresh token (body or cookie).
    Refresh {} = Post "/api/auth/refresh", RefreshRequest => TokenResponse;
    /// End the session of a refresh token (body or cookie).
    Logout {} = Post "/api/auth/logout", RefreshRequest => NoContent;
    /// The logged-in user.
    Me {} = Get "/api/users/me", NoBody => UserEnvelope;
    /// Change my first and last name (R-ACC-7).
    UpdateMe {} = Patch "/api/users/me", UpdateProfileRequest => UserEnvelope;
    /// Change my password; every other session ends (R-ACC-7).
    ChangePassword {} = Post "/api/users/me/password", ChangePasswordRequest => TokenResponse;
    /// Delete my account (R-ACC-7), with my password.
    DeleteMe {} = Delete "/api/users/me", DeleteAccountRequest => NoContent;
    /// Set my avatar (R-ACC-8): PNG, JPEG or WebP bytes, re-encoded as a square.
    SetAvatar {} = Put "/api/users/me/avatar", FileBody => UserEnvelope;
    /// Remove my avatar.
    RemoveAvatar {} = Delete "/api/users/me/avatar", NoBody => UserEnvelope;
    /// A user's avatar (R-ACC-8).
    Avatar { username: String; query: AvatarQuery } = Get "/api/users/{username}/avatar", NoBody => FileBytes;
    /// My account's audit trail.
    MyAudit { ; query: PageQuery } = Get "/api/users/me/audit", NoBody => Page<AuditEntry>;
    /// The user directory, by username prefix (R-ACC-5).
    SearchUsers { ; query: UserSearchQuery } = Get "/api/users", NoBody => Page<User>;
    /// A user's public profile.
    Profile { username: String } = Get "/api/users/{username}", NoBody => UserEnvelope;
    /// Create a room (R-ROOM-1).
    CreateRoom {} = Post "/api/rooms", CreateRoomRequest => RoomEnvelope;
    /// Listed rooms by name prefix (R-ROOM-8).
    SearchRooms { ; query: RoomSearchQuery } = Get "/api/rooms", NoBody => Page<Room>;
    /// My rooms, with role and unread count.
    MyRooms { ; query: PageQuery } = Get "/api/rooms/mine", NoBody => Page<MyRoom>;
    /// Rooms I was in (R-ROOM-7).
    RoomHistory { ; query: PageQuery } = Get "/api/rooms/history", NoBody => Page<RoomLogEntry>;
    /// A room.
    GetRoom { room_id: RoomId } = Get "/api/rooms/{room_id}", NoBody => RoomEnvelope;
    /// Change a room's settings (owner).
    UpdateRoom { room_id: RoomId } = Patch "/api/rooms/{room_id}", UpdateRoomRequest => RoomEnvelope;
    /// Terminate a room (owner, R-ROOM-6).
    DeleteRoom { room_id: RoomId } = Delete "/api/rooms/{room_id}", NoBody => NoContent;
    /// Join a room, or ask to.
    JoinRoom { room_id: RoomId } = Post "/api/rooms/{room_id}/join", JoinRoomRequest => JoinAnswer;
    /// Leave a room (R-ROOM-5).
    LeaveRoom { room_id: RoomId } = Post "/api/rooms/{room_id}/leave", NoBody => NoContent;
    /// A room's members in join order.
    Members { room_id: RoomId; query: MembersQuery } = Get "/api/rooms/{room_id}/members", NoBody => Page<Member>;
    /// Mark a room read up to a sequence number.
    MarkRead { room_id: RoomId } = Post "/api/rooms/{room_id}/read", MarkReadRequest => NoContent;
    /// A room's audit trail (owner, R-OPS-1).
    RoomAudit { room_id: RoomId; query: PageQuery } = Get "/api/rooms/{room_id}/audit", NoBody => Page<AuditEntry>;
    /// Upload a file to a room (R-MSG-6).
    UploadAttachment { room_id: RoomId; query: UploadAttachmentQuery }
        = Post "/api/rooms/{room_id}/attachments", FileBody => AttachmentEnvelope;
    /// Download an attachment.
    DownloadAttachment { room_id: RoomId, attachment_id: AttachmentId }
        = Get "/api/rooms/{room_id}/attachments/{attachment_id}", NoBody => FileBytes;
    /// Invite a user (admins).
    Invite { room_id: RoomId } = Post "/api/rooms/{room_id}/invites", InviteRequest => InviteEnvelope;
    /// Decline your invitation to a room (R-ROOM-9).
    DeclineInvite { room_id: RoomId } = Delete "/api/rooms/{room_id}/invites/me", NoBody => NoContent;
    /// Pending join requests (admins).
    JoinRequests { room_id: RoomId } = Get "/api/rooms/{room_id}/requests", NoBody => Page<JoinRequest>;
    /// Accept a join request (admins).
    AcceptRequest { room_id: RoomId, user_id: UserId }
        = Post "/api/rooms/{room_id}/requests/{user_id}/accept", NoBody => MembershipEnvelope;
    /// Decline a join request (admins).
    DeclineRequest { room_id: RoomId, user_id: UserId }
        = Post "/api/rooms/{room_id}/requests/{user_id}/decline", NoBody => NoContent;
    /// Kick a member (admins, R-ROOM-3).
    Kick { room_id: RoomId, user_id: UserId } = Post "/api/rooms/{room_id}/members/{user_id}/kick", NoBody => NoContent;
    /// Make a member admin or take it back (owner).
    SetRole { room_id: RoomId, user_id: UserId }
        = Put "/api/rooms/{room_id}/members/{user_id}/role", RoleChangeRequest => MembershipEnvelope;
    /// Ban a user (admins, R-ROOM-4).
    Ban { room_id: RoomId } = Post "/api/rooms/{room_id}/bans", BanRequest => BanEnvelope;
    /// A room's bans (admins).
    Bans { room_id: RoomId } = Get "/api/rooms/{room_id}/bans", NoBody => Page<crate::Ban>;
    /// Lift a ban (admins).
    Unban { room_id: RoomId, user_id: UserId } = Delete "/api/rooms/{room_id}/bans/{user_id}", NoBody => NoContent;
    /// A room's messages, newest first (R-MSG-3).
    Messages { room_id: RoomId; query: MessagesQuery } = Get "/api/rooms/{room_id}/messages", NoBody => Page<Message>;
    /// Send a message (R-MSG-1).
    SendMessage { room_id: RoomId } = Post "/api/rooms/{room_id}/messages", SendMessageRequest => MessageEnvelope;
    /// Edit your message (R-MSG-7).
    EditMessage { room_id: RoomId, message_id: MessageId }
        = Patch "/api/rooms/{room_id}/messages/{message_id}", EditMessageRequest => MessageEnvelope;
    /// Delete a message (R-MSG-7).
    DeleteMessage { room_id: RoomId, message_id: MessageId }
        = Delete "/api/rooms/{room_id}/messages/{message_id}", NoBody => NoContent;
    /// React to a message with an emoji (R-MSG-9); reacting again changes nothing.
    AddReaction { room_id: RoomId, message_id: MessageId, emoji: String }
        = Put "/api/rooms/{room_id}/messages/{message_id}/reactions/{emoji}", NoBody => NoContent;
    /// Take a reaction back; taking back one you did not give changes nothing.
    RemoveReaction { room_id: RoomId, message_id: MessageId, emoji: String }
        = Delete "/api/rooms/{room_id}/messages/{message_id}/reactions/{emoji}", NoBody => NoContent;
    /// Search a room's messages (members; R-MSG-11).
    SearchRoomMessages { room_id: RoomId; query: MessageSearchQuery }
        = Get "/api/rooms/{room_id}/messages/search", NoBody => Page<Message>;
    /// Search the messages of every room I am in (R-MSG-11).
    SearchMessages { ; query: MessageSearchQuery } = Get "/api/search/messages", NoBody => Page<Message>;
    /// Open (or find) a direct conversation (R-MSG-4).
    OpenDm {} = Post "/api/dms", OpenDmRequest => RoomEnvelope;
    /// My notifications (R-NOTE-2).
    Notifications { ; query: NotificationsQuery } = Get "/api/notifications", NoBody => Page<Notification>;
    /// Mark every notification read.
    MarkAllNotificationsRead {} = Post "/api/notifications/read-all", NoBody => MarkedRead;
    /// Mark one notification read.
    MarkNotificationRead { id: NotificationId } = Post "/api/notifications/{id}/read", NoBody => NoContent;
    /// Delete a notification.
    DeleteNotification { id: NotificationId } = Delete "/api/notifications/{id}", NoBody => NoContent;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parameters are encoded as path segments; empty queries leave no `?`.
    #[test]
    fn paths_fill_their_templates() {
        let profile = Profile { username: "ann é/x".into() };
        assert_eq!(profile.path(), "/api/users/ann%20%C3%A9%2Fx");
        let kick = Kick { room_id: RoomId::from("r1"), user_id: UserId::from("u2") };
        assert_eq!(kick.path(), "/api/rooms/r1/members/u2/kick");
        assert_eq!(MyRooms { query: PageQuery::default() }.path(), "/api/rooms/mine");
        let search = SearchRooms { query: RoomSearchQuery { q: Some("a b&c".into()), limit: Some(50), cursor: None } };
        assert_eq!(search.path(), "/api/rooms?q=a+b%26c&limit=50");
        assert_eq!(<Kick as Endpoint>::METHOD, Method::Post);
    }

    #[test]
    fn join_answers_either_shape() {
        let requested: JoinAnswer = serde_json::from_value(serde_json::json!({"join_request": {
            "room_id": "r", "user": {"id": "u", "username": "ann", "first_name": null, "last_name": null,
            "online": false, "created_at": "2026-01-01T00:00:00Z", "last_seen_at": null},
            "created_at": "2026-01-01T00:00:00Z"}}))
        .expect("a join request");
        assert!(matches!(requested, JoinAnswer::Requested(_)));
        let _: NoContent = serde_json::from_value(serde_json::Value::Null).expect("204 reads as null");
    }
}
