//! Who may do what in a room (SPEC R-ROOM-2, R-MSG-4, R-SEC-1). Every authorization decision
//! of the server is made here.

use conclave_protocol::{Role, RoomKind};

/// The user an action is aimed at, as the room sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The target's role, `None` when they are not a member.
    pub role: Option<Role>,
    /// Whether the actor aims at themselves.
    pub is_self: bool,
}

/// Things a user can try to do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomAction {
    /// Read the room, its members and its history.
    Read,
    /// Send a message.
    Post,
    /// Invite a user by id or username.
    Invite,
    /// See, accept and decline join requests; see and lift bans.
    ManageRequests,
    Unban,
    Kick(Target),
    Ban(Target),
    /// Make a member admin or take it back.
    ChangeRole(Target),
    /// Change name, topic, policy or password.
    UpdateSettings,
    /// Terminate the room.
    Delete,
    /// Read the room's audit trail.
    ReadAudit,
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("you are not a member of this room")]
    NotAMember,
    #[error("your role in this room does not allow this")]
    Forbidden,
    #[error("direct conversations have no roles, invites, joins, requests, kicks or bans")]
    DirectRoom,
    #[error("{0}")]
    InvalidTarget(&'static str),
}

/// Decides whether `actor` (their role in the room, `None` if not a member) may do `action`.
pub fn authorize(kind: RoomKind, actor: Option<Role>, action: RoomAction) -> Result<(), Denial> {
    let Some(actor) = actor else {
        return Err(Denial::NotAMember);
    };
    use RoomAction::*;
    if kind == RoomKind::Direct {
        return match action {
            Read | Post => Ok(()),
            _ => Err(Denial::DirectRoom),
        };
    }
    match action {
        Read | Post => Ok(()),
        Invite | ManageRequests | Unban => admin(actor),
        UpdateSettings | Delete | ReadAudit => owner(actor),
        Kick(target) => {
            admin(actor)?;
            let role = target_member(target)?;
            may_remove(actor, role)
        }
        Ban(target) => {
            admin(actor)?;
            if target.is_self {
                return Err(Denial::InvalidTarget("you cannot target yourself"));
            }
            // A user who is not a member can be banned pre-emptively.
            match target.role {
                Some(role) => may_remove(actor, role),
                None => Ok(()),
            }
        }
        ChangeRole(target) => {
            owner(actor)?;
            match target_member(target)? {
                Role::Owner => Err(Denial::InvalidTarget("the owner's role cannot be changed")),
                Role::Admin | Role::Member => Ok(()),
            }
        }
    }
}

fn admin(actor: Role) -> Result<(), Denial> {
    if actor.is_admin() { Ok(()) } else { Err(Denial::Forbidden) }
}

fn owner(actor: Role) -> Result<(), Denial> {
    if actor == Role::Owner { Ok(()) } else { Err(Denial::Forbidden) }
}

fn target_member(target: Target) -> Result<Role, Denial> {
    if target.is_self {
        return Err(Denial::InvalidTarget("you cannot target yourself"));
    }
    target.role.ok_or(Denial::InvalidTarget("that user is not a member of this room"))
}

/// An admin cannot kick or ban the owner, nor another admin unless they are the owner.
fn may_remove(actor: Role, target: Role) -> Result<(), Denial> {
    match (actor, target) {
        (_, Role::Owner) => Err(Denial::Forbidden),
        (Role::Owner, Role::Admin) => Ok(()),
        (_, Role::Admin) => Err(Denial::Forbidden),
        (_, Role::Member) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;
    use RoomAction::*;
    use RoomKind::*;

    fn target(role: Option<Role>) -> Target {
        Target { role, is_self: false }
    }

    /// R-ROOM-2: the table of who may do what in a group room.
    #[test]
    fn r_room_2_group_room_permissions() {
        let f = Err(Denial::Forbidden);
        let ok = Ok(());
        let cases: Vec<(Option<Role>, RoomAction, Result<(), Denial>)> = vec![
            (None, Read, Err(Denial::NotAMember)),
            (None, Post, Err(Denial::NotAMember)),
            (None, Invite, Err(Denial::NotAMember)),
            (Some(Member), Read, ok),
            (Some(Member), Post, ok),
            (Some(Member), Invite, f),
            (Some(Member), ManageRequests, f),
            (Some(Member), Kick(target(Some(Member))), f),
            (Some(Member), Ban(target(Some(Member))), f),
            (Some(Admin), Invite, ok),
            (Some(Admin), ManageRequests, ok),
            (Some(Admin), Unban, ok),
            (Some(Admin), Kick(target(Some(Member))), ok),
            (Some(Admin), Ban(target(Some(Member))), ok),
            (Some(Admin), Ban(target(None)), ok),
            (Some(Admin), Kick(target(Some(Admin))), f),
            (Some(Admin), Ban(target(Some(Admin))), f),
            (Some(Admin), Kick(target(Some(Owner))), f),
            (Some(Admin), Ban(target(Some(Owner))), f),
            (Some(Owner), Kick(target(Some(Admin))), ok),
            (Some(Owner), Ban(target(Some(Admin))), ok),
            (Some(Admin), UpdateSettings, f),
            (Some(Admin), Delete, f),
            (Some(Admin), ReadAudit, f),
            (Some(Admin), ChangeRole(target(Some(Member))), f),
            (Some(Owner), UpdateSettings, ok),
            (Some(Owner), Delete, ok),
            (Some(Owner), ReadAudit, ok),
            (Some(Owner), ChangeRole(target(Some(Member))), ok),
            (Some(Owner), ChangeRole(target(Some(Admin))), ok),
            (Some(Owner), Kick(target(None)), Err(Denial::InvalidTarget("that user is not a member of this room"))),
            (
                Some(Owner),
                ChangeRole(Target { role: Some(Owner), is_self: true }),
                Err(Denial::InvalidTarget("you cannot target yourself")),
            ),
            (
                Some(Admin),
                Kick(Target { role: Some(Admin), is_self: true }),
                Err(Denial::InvalidTarget("you cannot target yourself")),
            ),
            (
                Some(Admin),
                Ban(Target { role: Some(Admin), is_self: true }),
                Err(Denial::InvalidTarget("you cannot target yourself")),
            ),
        ];
        for (actor, action, expected) in cases {
            assert_eq!(authorize(Group, actor, action), expected, "{actor:?} {action:?}");
        }
    }

    /// R-MSG-4: a direct room has no roles: only reading and posting.
    #[test]
    fn r_msg_4_direct_rooms_have_no_moderation() {
        for action in [Read, Post] {
            assert_eq!(authorize(Direct, Some(Member), action), Ok(()));
        }
        for action in [
            Invite,
            ManageRequests,
            Unban,
            Kick(target(Some(Member))),
            Ban(target(Some(Member))),
            ChangeRole(target(Some(Member))),
            UpdateSettings,
            Delete,
            ReadAudit,
        ] {
            assert_eq!(authorize(Direct, Some(Member), action), Err(Denial::DirectRoom));
        }
        assert_eq!(authorize(Direct, None, Read), Err(Denial::NotAMember));
    }
}
