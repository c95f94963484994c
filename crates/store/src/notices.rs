//! Which notifications a command leaves (SPEC R-NOTE-1), as both backends write them in the
//! command's own transaction, beside its audit records: a change and the notice of it never
//! part. A notice's `data` names the room and, when a person acted, who.

use crate::model::{DepartureRecord, NewNotification};
use conclave_domain::Departure;
use conclave_protocol::{LeaveReason, NotificationKind, Role, RoomId, UserId};
use serde_json::{Value, json};

/// Where a command happened: the room and its name.
pub(crate) struct Place<'a> {
    pub room_id: &'a RoomId,
    pub room_name: &'a str,
}

/// Who acted: their id and username.
pub(crate) type Actor<'a> = (&'a UserId, &'a str);

fn notice(
    place: &Place<'_>,
    user: &UserId,
    kind: NotificationKind,
    actor: Option<Actor<'_>>,
    extra: Value,
) -> NewNotification {
    let mut data = json!({ "room_name": place.room_name });
    if let Some((_, username)) = actor {
        data["actor_username"] = json!(username);
    }
    if let (Value::Object(target), Value::Object(more)) = (&mut data, extra) {
        target.extend(more);
    }
    NewNotification {
        user_id: user.clone(),
        kind,
        room_id: Some(place.room_id.clone()),
        actor_id: actor.map(|(id, _)| id.clone()),
        data,
    }
}

/// A departure's: a kicked member is told who kicked them (a ban tells its own), and what
/// R-ROOM-5 made of it: the member it made admin or owner, or the last member its termination
/// removed. `kicker` is needed for kicks only.
pub(crate) fn departure(
    place: &Place<'_>,
    record: &DepartureRecord,
    reason: LeaveReason,
    kicker: Option<Actor<'_>>,
) -> Vec<NewNotification> {
    let mut notices = Vec::new();
    if reason == LeaveReason::Kicked {
        notices.push(notice(place, &record.user_id, NotificationKind::Kicked, kicker, json!({})));
    }
    match &record.departure {
        Departure::TerminateAndEvict(last) => {
            notices.push(notice(place, last, NotificationKind::RoomTerminated, None, json!({})));
        }
        Departure::Continue { promotion: Some((user, role)) } => {
            let extra = json!({ "role": role, "inherited": true });
            notices.push(notice(place, user, NotificationKind::Promoted, None, extra));
        }
        Departure::Terminate | Departure::Continue { promotion: None } => {}
    }
    notices
}

/// A ban's: the banned user.
pub(crate) fn ban(place: &Place<'_>, user: &UserId, by: Actor<'_>) -> NewNotification {
    notice(place, user, NotificationKind::Banned, Some(by), json!({}))
}

/// An unban's: the user let back.
pub(crate) fn unban(place: &Place<'_>, user: &UserId, by: Actor<'_>) -> NewNotification {
    notice(place, user, NotificationKind::Unbanned, Some(by), json!({}))
}

/// A role change by the owner: the member, promoted to admin or back to member.
pub(crate) fn role_change(place: &Place<'_>, user: &UserId, role: Role, by: Actor<'_>) -> NewNotification {
    let kind = if role.is_admin() { NotificationKind::Promoted } else { NotificationKind::Demoted };
    notice(place, user, kind, Some(by), json!({ "role": role }))
}

/// An invitation's: the invitee.
pub(crate) fn invitation(place: &Place<'_>, user: &UserId, by: Actor<'_>) -> NewNotification {
    notice(place, user, NotificationKind::Invited, Some(by), json!({}))
}

/// A join request's: each of the room's admins, from the one asking.
pub(crate) fn join_request(place: &Place<'_>, admins: &[UserId], asking: Actor<'_>) -> Vec<NewNotification> {
    admins.iter().map(|admin| notice(place, admin, NotificationKind::JoinRequest, Some(asking), json!({}))).collect()
}

/// An admission by an admin (a join request accepted): the new member.
pub(crate) fn accepted(place: &Place<'_>, user: &UserId, by: Actor<'_>) -> NewNotification {
    notice(place, user, NotificationKind::RequestAccepted, Some(by), json!({}))
}

/// A declined join request's: the one who asked.
pub(crate) fn declined(place: &Place<'_>, user: &UserId, by: Actor<'_>) -> NewNotification {
    notice(place, user, NotificationKind::RequestDeclined, Some(by), json!({}))
}

/// A termination by its owner: every other former member.
pub(crate) fn termination(place: &Place<'_>, former: &[UserId], by: Actor<'_>) -> Vec<NewNotification> {
    former
        .iter()
        .filter(|member| *member != by.0)
        .map(|member| notice(place, member, NotificationKind::RoomTerminated, Some(by), json!({})))
        .collect()
}
