//! What happens to a group room when a member leaves, is kicked or is banned (SPEC R-ROOM-5).

use conclave_protocol::{Role, UserId};

/// A remaining member, as the rule needs to see them. Callers pass the remaining members in
/// join order, earliest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSnapshot {
    pub user_id: UserId,
    pub role: Role,
}

/// The room's fate after a departure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Departure {
    /// Nobody is left: the room is terminated.
    Terminate,
    /// One non-admin member is left: the room is terminated and that member removed (and told).
    TerminateAndEvict(UserId),
    /// The room lives on. `promotion` names a member who takes a new role, if anyone does.
    Continue { promotion: Option<(UserId, Role)> },
}

/// Applies R-ROOM-5 to the members left after `leaver_role` departed.
///
/// - no one left: terminate;
/// - one left who is not an admin: terminate and evict them;
/// - otherwise, when the owner left, the earliest-joined admin becomes owner, or, with no
///   admin left, the earliest-joined member does; when no admin is left at all, the
///   earliest-joined member becomes admin. An admin who is the only member keeps the room.
pub fn after_departure(leaver_role: Role, remaining: &[MemberSnapshot]) -> Departure {
    match remaining {
        [] => return Departure::Terminate,
        [last] if !last.role.is_admin() => {
            return Departure::TerminateAndEvict(last.user_id.clone());
        }
        _ => {}
    }
    let owner_left = leaver_role == Role::Owner && !remaining.iter().any(|m| m.role == Role::Owner);
    let earliest_admin = remaining.iter().find(|m| m.role.is_admin());
    let promotion = match (owner_left, earliest_admin) {
        (true, Some(admin)) => Some((admin.user_id.clone(), Role::Owner)),
        (true, None) => remaining.first().map(|m| (m.user_id.clone(), Role::Owner)),
        (false, None) => remaining.first().map(|m| (m.user_id.clone(), Role::Admin)),
        (false, Some(_)) => None,
    };
    Departure::Continue { promotion }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    fn members(list: &[(&str, Role)]) -> Vec<MemberSnapshot> {
        list.iter().map(|(id, role)| MemberSnapshot { user_id: UserId::from(*id), role: *role }).collect()
    }

    fn promote(id: &str, role: Role) -> Departure {
        Departure::Continue { promotion: Some((UserId::from(id), role)) }
    }

    /// R-ROOM-5, every branch.
    #[test]
    fn r_room_5_departures() {
        let cases: Vec<(Role, Vec<MemberSnapshot>, Departure)> = vec![
            // remaining = 0: terminated.
            (Owner, members(&[]), Departure::Terminate),
            (Member, members(&[]), Departure::Terminate),
            // remaining = 1, not an admin: terminated, last member evicted.
            (Owner, members(&[("m", Member)]), Departure::TerminateAndEvict(UserId::from("m"))),
            (Admin, members(&[("m", Member)]), Departure::TerminateAndEvict(UserId::from("m"))),
            // remaining = 1, an admin: the room lives (and they own it if the owner left).
            (Owner, members(&[("a", Admin)]), promote("a", Owner)),
            (Member, members(&[("o", Owner)]), Departure::Continue { promotion: None }),
            (Admin, members(&[("o", Owner)]), Departure::Continue { promotion: None }),
            // the owner leaves a room of three: the earliest joiner becomes owner.
            (Owner, members(&[("b", Member), ("c", Member)]), promote("b", Owner)),
            // the owner leaves, an admin remains: the admin (even if later) becomes owner.
            (Owner, members(&[("b", Member), ("c", Admin), ("d", Admin)]), promote("c", Owner)),
            // a member leaves, the owner remains: nothing changes.
            (Member, members(&[("o", Owner), ("c", Member)]), Departure::Continue { promotion: None }),
            // no admin at all remains (not reachable while owners exist, but defined): earliest becomes admin.
            (Admin, members(&[("b", Member), ("c", Member)]), promote("b", Admin)),
        ];
        for (leaver, remaining, expected) in cases {
            assert_eq!(after_departure(leaver, &remaining), expected, "{leaver:?} {remaining:?}");
        }
    }
}
