//! What joining a room takes (SPEC R-ROOM-1, R-ROOM-4, R-ROOM-6, R-MSG-4).

use conclave_protocol::{JoinPolicy, RoomKind};

/// What the server knows about a user and a room when the user asks to join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinContext {
    pub kind: RoomKind,
    pub policy: JoinPolicy,
    pub terminated: bool,
    pub banned: bool,
    pub already_member: bool,
    pub invited: bool,
    pub request_pending: bool,
}

/// The way in, when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinPath {
    /// Become a member now (open room, or holding an invite).
    JoinNow,
    /// Become a member if the room password matches.
    CheckPassword,
    /// File a join request for the admins.
    FileRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinDenial {
    #[error("direct conversations cannot be joined")]
    DirectRoom,
    #[error("this room was terminated")]
    Terminated,
    #[error("you are banned from this room")]
    Banned,
    #[error("you are already a member of this room")]
    AlreadyMember,
    #[error("this room is invite-only")]
    NotInvited,
    #[error("your request to join is already pending")]
    RequestPending,
}

/// Decides how `ctx`'s user may get into the room. An invite opens every policy.
pub fn join_path(ctx: JoinContext) -> Result<JoinPath, JoinDenial> {
    if ctx.kind == RoomKind::Direct {
        return Err(JoinDenial::DirectRoom);
    }
    if ctx.terminated {
        return Err(JoinDenial::Terminated);
    }
    if ctx.banned {
        return Err(JoinDenial::Banned);
    }
    if ctx.already_member {
        return Err(JoinDenial::AlreadyMember);
    }
    if ctx.invited {
        return Ok(JoinPath::JoinNow);
    }
    match ctx.policy {
        JoinPolicy::Open => Ok(JoinPath::JoinNow),
        JoinPolicy::Password => Ok(JoinPath::CheckPassword),
        JoinPolicy::Request if ctx.request_pending => Err(JoinDenial::RequestPending),
        JoinPolicy::Request => Ok(JoinPath::FileRequest),
        JoinPolicy::Invite => Err(JoinDenial::NotInvited),
    }
}

/// Why a user cannot be invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteDenial {
    #[error("this room was terminated")]
    Terminated,
    #[error("that user is banned from this room")]
    Banned,
    #[error("that user is already a member of this room")]
    AlreadyMember,
    #[error("that user is already invited")]
    AlreadyInvited,
}

/// What the server knows about the invited user (R-ROOM-4: banned users cannot be invited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviteContext {
    pub terminated: bool,
    pub banned: bool,
    pub already_member: bool,
    pub already_invited: bool,
}

pub fn may_invite(ctx: InviteContext) -> Result<(), InviteDenial> {
    if ctx.terminated {
        Err(InviteDenial::Terminated)
    } else if ctx.banned {
        Err(InviteDenial::Banned)
    } else if ctx.already_member {
        Err(InviteDenial::AlreadyMember)
    } else if ctx.already_invited {
        Err(InviteDenial::AlreadyInvited)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(policy: JoinPolicy) -> JoinContext {
        JoinContext {
            kind: RoomKind::Group,
            policy,
            terminated: false,
            banned: false,
            already_member: false,
            invited: false,
            request_pending: false,
        }
    }

    /// R-ROOM-1: each join policy's way in.
    #[test]
    fn r_room_1_join_policies() {
        assert_eq!(join_path(ctx(JoinPolicy::Open)), Ok(JoinPath::JoinNow));
        assert_eq!(join_path(ctx(JoinPolicy::Password)), Ok(JoinPath::CheckPassword));
        assert_eq!(join_path(ctx(JoinPolicy::Request)), Ok(JoinPath::FileRequest));
        assert_eq!(join_path(ctx(JoinPolicy::Invite)), Err(JoinDenial::NotInvited));
        for policy in [JoinPolicy::Open, JoinPolicy::Password, JoinPolicy::Request, JoinPolicy::Invite] {
            let invited = JoinContext { invited: true, ..ctx(policy) };
            assert_eq!(join_path(invited), Ok(JoinPath::JoinNow), "{policy:?}");
        }
        let pending = JoinContext { request_pending: true, ..ctx(JoinPolicy::Request) };
        assert_eq!(join_path(pending), Err(JoinDenial::RequestPending));
        let member = JoinContext { already_member: true, ..ctx(JoinPolicy::Open) };
        assert_eq!(join_path(member), Err(JoinDenial::AlreadyMember));
    }

    /// R-ROOM-4: a banned user cannot join or request, even holding an invite.
    #[test]
    fn r_room_4_banned_users_stay_out() {
        for policy in [JoinPolicy::Open, JoinPolicy::Password, JoinPolicy::Request, JoinPolicy::Invite] {
            let banned = JoinContext { banned: true, invited: true, ..ctx(policy) };
            assert_eq!(join_path(banned), Err(JoinDenial::Banned), "{policy:?}");
        }
        let banned = InviteContext { terminated: false, banned: true, already_member: false, already_invited: false };
        assert_eq!(may_invite(banned), Err(InviteDenial::Banned));
    }

    /// R-ROOM-6: a terminated room accepts no joins or invites.
    #[test]
    fn r_room_6_terminated_rooms_take_no_joins() {
        let terminated = JoinContext { terminated: true, invited: true, ..ctx(JoinPolicy::Open) };
        assert_eq!(join_path(terminated), Err(JoinDenial::Terminated));
        let invite = InviteContext { terminated: true, banned: false, already_member: false, already_invited: false };
        assert_eq!(may_invite(invite), Err(InviteDenial::Terminated));
    }

    /// R-MSG-4: direct rooms are never joined.
    #[test]
    fn r_msg_4_direct_rooms_cannot_be_joined() {
        let direct = JoinContext { kind: RoomKind::Direct, ..ctx(JoinPolicy::Invite) };
        assert_eq!(join_path(direct), Err(JoinDenial::DirectRoom));
    }

    #[test]
    fn invites_refuse_members_and_duplicates() {
        let base = InviteContext { terminated: false, banned: false, already_member: false, already_invited: false };
        assert_eq!(may_invite(base), Ok(()));
        assert_eq!(may_invite(InviteContext { already_member: true, ..base }), Err(InviteDenial::AlreadyMember));
        assert_eq!(may_invite(InviteContext { already_invited: true, ..base }), Err(InviteDenial::AlreadyInvited));
    }
}
