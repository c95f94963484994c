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
///
/// The order of the refusals is the order a user sees: an unlisted (invite-only) room does not
/// reveal itself, not even that it was terminated, to someone who is neither invited, banned
/// from it nor in it (R-ROOM-8).
pub fn join_path(ctx: JoinContext) -> Result<JoinPath, JoinDenial> {
    if ctx.kind == RoomKind::Direct {
        return Err(JoinDenial::DirectRoom);
    }
    if !ctx.policy.is_listed() && !ctx.invited && !ctx.banned && !ctx.already_member {
        return Err(JoinDenial::NotInvited);
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

/// What the server knows when someone who is not a member asks to see a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewContext {
    pub kind: RoomKind,
    pub policy: JoinPolicy,
    pub banned: bool,
    pub invited: bool,
}

/// Why a room is not shown to someone outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ViewDenial {
    #[error("you are banned from this room")]
    Banned,
    /// Shown as "no such room": the room does not reveal itself.
    #[error("no such room")]
    Hidden,
}

/// Whether someone outside a room may see it (members always do): a listed group room, or one
/// they are invited to; never one that bans them (R-ROOM-4, R-ROOM-8). Direct conversations
/// are seen only by their two members.
pub fn may_view(ctx: ViewContext) -> Result<(), ViewDenial> {
    if ctx.banned {
        return Err(ViewDenial::Banned);
    }
    match ctx.kind {
        RoomKind::Group if ctx.policy.is_listed() || ctx.invited => Ok(()),
        RoomKind::Group | RoomKind::Direct => Err(ViewDenial::Hidden),
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

    /// R-ROOM-8: an invite-only room does not reveal itself to outsiders, not even that it
    /// was terminated; its members, invitees and banned users get the real answer.
    #[test]
    fn r_room_8_invite_only_rooms_stay_hidden() {
        let outsider = JoinContext { terminated: true, ..ctx(JoinPolicy::Invite) };
        assert_eq!(join_path(outsider), Err(JoinDenial::NotInvited));
        let banned = JoinContext { banned: true, ..outsider };
        assert_eq!(join_path(banned), Err(JoinDenial::Terminated));
        let member = JoinContext { already_member: true, terminated: false, ..outsider };
        assert_eq!(join_path(member), Err(JoinDenial::AlreadyMember));
        let view = ViewContext { kind: RoomKind::Group, policy: JoinPolicy::Invite, banned: false, invited: false };
        assert_eq!(may_view(view), Err(ViewDenial::Hidden));
        assert_eq!(may_view(ViewContext { invited: true, ..view }), Ok(()));
        assert_eq!(may_view(ViewContext { banned: true, invited: true, ..view }), Err(ViewDenial::Banned));
        assert_eq!(may_view(ViewContext { policy: JoinPolicy::Request, ..view }), Ok(()));
        assert_eq!(
            may_view(ViewContext { kind: RoomKind::Direct, policy: JoinPolicy::Open, ..view }),
            Err(ViewDenial::Hidden)
        );
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
