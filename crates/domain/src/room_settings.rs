//! A room's settings: which join policies take a password (SPEC R-ROOM-1, R-ROOM-2).

use crate::values::{RoomPassword, ValueError};
use conclave_protocol::JoinPolicy;

/// What creating or changing a room does to its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    /// Leave it as it is (none, for a new room).
    Keep,
    /// Set a new one.
    Set(RoomPassword),
    /// Remove it: the room no longer takes a password.
    Clear,
}

/// The password change that a room ends up with under `policy` (its policy after the change),
/// given `password` from the request, for a room that `had_password` before (`false` when it
/// is being created). Only `password` rooms have a password, and they must have one.
pub fn password_change(
    policy: JoinPolicy,
    password: Option<&str>,
    had_password: bool,
) -> Result<PasswordChange, ValueError> {
    match (policy, password) {
        (JoinPolicy::Password, Some(password)) => RoomPassword::parse(password).map(PasswordChange::Set),
        (JoinPolicy::Password, None) if had_password => Ok(PasswordChange::Keep),
        (JoinPolicy::Password, None) => Err(ValueError("password rooms need a password".into())),
        (_, Some(_)) => Err(ValueError("only rooms with the `password` policy have a password".into())),
        (_, None) if had_password => Ok(PasswordChange::Clear),
        (_, None) => Ok(PasswordChange::Keep),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(password: &str) -> PasswordChange {
        PasswordChange::Set(RoomPassword::parse(password).expect("a valid room password"))
    }

    /// R-ROOM-1: a new room has a password exactly when its policy is `password`.
    #[test]
    fn r_room_1_a_new_room_has_a_password_only_under_the_password_policy() {
        assert_eq!(password_change(JoinPolicy::Password, Some("hunter2"), false), Ok(set("hunter2")));
        assert!(password_change(JoinPolicy::Password, None, false).is_err());
        assert!(password_change(JoinPolicy::Password, Some("abc"), false).is_err(), "too short");
        for policy in [JoinPolicy::Open, JoinPolicy::Request, JoinPolicy::Invite] {
            assert!(password_change(policy, Some("hunter2"), false).is_err(), "{policy:?}");
            assert_eq!(password_change(policy, None, false), Ok(PasswordChange::Keep), "{policy:?}");
        }
    }

    /// R-ROOM-2: a changed room keeps its password, gets a new one, or loses it with its policy.
    #[test]
    fn r_room_2_changing_the_policy_keeps_sets_or_clears_the_password() {
        assert_eq!(password_change(JoinPolicy::Password, None, true), Ok(PasswordChange::Keep));
        assert_eq!(password_change(JoinPolicy::Password, Some("new-one"), true), Ok(set("new-one")));
        assert_eq!(password_change(JoinPolicy::Open, None, true), Ok(PasswordChange::Clear));
        assert!(password_change(JoinPolicy::Open, Some("new-one"), true).is_err());
    }
}
