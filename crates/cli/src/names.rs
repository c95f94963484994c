//! What ROOM and USER on the command line mean. ROOM is a room id, or the name of one of your
//! rooms (a direct conversation by the other person's username); USER is a username.

use crate::api::Api;
use crate::error::{CliError, CliResult};
use conclave_protocol::endpoints::{MyRooms, Notifications, Profile, SearchRooms};
use conclave_protocol::{
    ErrorCode, MyRoom, NotificationKind, NotificationsQuery, PageQuery, Room, RoomKind, RoomSearchQuery, User,
};

/// Every room the user is in (every page).
pub async fn my_rooms(api: &mut Api) -> CliResult<Vec<MyRoom>> {
    api.every(|cursor| MyRooms { query: PageQuery { limit: Some(100), cursor } }).await
}

/// The name a room goes by on the command line: a direct conversation's is the other person's
/// username.
pub fn label(room: &MyRoom) -> &str {
    match (&room.room.kind, &room.peer) {
        (RoomKind::Direct, Some(peer)) => &peer.username,
        _ => &room.room.name,
    }
}

/// Which of `rooms` `spec` names: by id, else by name (exactly, then ignoring case). None when
/// none does; a usage error when several do.
pub fn pick<'a>(rooms: &'a [MyRoom], spec: &str) -> CliResult<Option<&'a MyRoom>> {
    if let Some(room) = rooms.iter().find(|r| r.room.id.as_str() == spec) {
        return Ok(Some(room));
    }
    let wanted = spec.strip_prefix('@').unwrap_or(spec);
    let exact: Vec<&MyRoom> = rooms.iter().filter(|r| label(r) == wanted).collect();
    let named = if exact.is_empty() {
        rooms.iter().filter(|r| label(r).to_lowercase() == wanted.to_lowercase()).collect()
    } else {
        exact
    };
    match named.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several => {
            let ids: Vec<&str> = several.iter().map(|r| r.room.id.as_str()).collect();
            Err(CliError::Usage(format!(
                "{} of your rooms are named {spec:?}; name one by its id: {}",
                several.len(),
                ids.join(", ")
            )))
        }
    }
}

/// The refusal for a ROOM that names none of the user's rooms.
pub fn no_room(spec: &str) -> CliError {
    CliError::Refused {
        status: 404,
        code: Some(ErrorCode::RoomNotFound),
        message: format!("you are in no room named {spec:?} (name a room by its id, or by the name of one of yours)"),
    }
}

/// One of the user's rooms.
pub async fn my_room(api: &mut Api, spec: &str) -> CliResult<MyRoom> {
    let rooms = my_rooms(api).await?;
    pick(&rooms, spec)?.cloned().ok_or_else(|| no_room(spec))
}

/// A room the user may not be in yet (to join or look at): one of theirs, else one they were
/// invited to (by the name their invitation gave it), else the one listed room of that name,
/// else `spec` taken as an id (the server says whether it exists).
pub async fn any_room(api: &mut Api, spec: &str) -> CliResult<conclave_protocol::RoomId> {
    let rooms = my_rooms(api).await?;
    if let Some(room) = pick(&rooms, spec)? {
        return Ok(room.room.id.clone());
    }
    let query = NotificationsQuery { unread_only: None, limit: Some(200), cursor: None };
    let notices = api.call(&Notifications { query }, None).await?.items;
    let invited = notices.iter().find(|n| {
        n.kind == NotificationKind::Invited
            && n.data["room_name"].as_str().is_some_and(|name| name.eq_ignore_ascii_case(spec))
    });
    if let Some(room_id) = invited.and_then(|n| n.room_id.clone()) {
        return Ok(room_id);
    }
    let query = RoomSearchQuery { q: Some(spec.to_owned()), limit: Some(100), cursor: None };
    let found = api.call(&SearchRooms { query }, None).await;
    let found: Vec<Room> = match found {
        Ok(page) => page.items.into_iter().filter(|r| r.name.to_lowercase() == spec.to_lowercase()).collect(),
        // Not a valid search (too long, say): it can only be an id.
        Err(CliError::Refused { status: 400 | 422, .. }) => Vec::new(),
        Err(other) => return Err(other),
    };
    match found.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Ok(conclave_protocol::RoomId::from(spec)),
        several => {
            let ids: Vec<&str> = several.iter().map(|r| r.id.as_str()).collect();
            Err(CliError::Usage(format!(
                "{} rooms are named {spec:?}; name one by its id: {}",
                several.len(),
                ids.join(", ")
            )))
        }
    }
}

/// A user by username.
pub async fn user(api: &mut Api, username: &str) -> CliResult<User> {
    let username = username.strip_prefix('@').unwrap_or(username);
    if username.is_empty() || username.contains('/') {
        return Err(CliError::Refused {
            status: 404,
            code: Some(ErrorCode::UserNotFound),
            message: format!("no user named {username:?}"),
        });
    }
    Ok(api.call(&Profile { username: username.to_owned() }, None).await?.user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_protocol::{JoinPolicy, Role, RoomId, UserId};

    fn room(id: &str, name: &str, peer: Option<&str>) -> MyRoom {
        let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        MyRoom {
            room: Room {
                id: RoomId::from(id),
                kind: if peer.is_some() { RoomKind::Direct } else { RoomKind::Group },
                name: name.into(),
                topic: None,
                join_policy: JoinPolicy::Open,
                owner_id: None,
                member_count: 2,
                created_at: at,
                terminated_at: None,
            },
            role: Some(Role::Member),
            unread_count: 0,
            peer: peer.map(|username| User {
                id: UserId::from(username),
                username: username.into(),
                first_name: None,
                last_name: None,
                online: false,
                created_at: at,
                last_seen_at: None,
                avatar_url: None,
            }),
            last_read_seq: 0,
            last_message_at: None,
        }
    }

    /// Issue 17: ROOM is an id or a unique name of one of your rooms.
    #[test]
    fn rooms_are_named_by_id_name_or_peer() {
        let rooms = [room("r1", "General", None), room("r2", "general-2", None), room("r3", "dm", Some("bob"))];
        let id = |spec| pick(&rooms, spec).unwrap().map(|r| r.room.id.as_str().to_owned());
        assert_eq!(id("r2"), Some("r2".into()));
        assert_eq!(id("General"), Some("r1".into()));
        assert_eq!(id("general"), Some("r1".into()), "case is a second chance");
        assert_eq!(id("bob"), Some("r3".into()), "a direct conversation by its peer");
        assert_eq!(id("@bob"), Some("r3".into()));
        assert_eq!(id("nowhere"), None);
    }

    #[test]
    fn an_ambiguous_name_asks_for_an_id() {
        let rooms = [room("r1", "team", None), room("r2", "Team", None), room("r3", "TEAM", None)];
        assert_eq!(pick(&rooms, "team").unwrap().map(|r| r.room.id.as_str()), Some("r1"), "the exact one");
        let error = pick(&rooms, "tEaM").unwrap_err();
        assert!(error.to_string().contains("3 of your rooms are named"), "{error}");
        assert!(error.to_string().contains("r1, r2, r3"), "{error}");
    }
}
