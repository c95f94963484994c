//! The audit trail (SPEC R-OPS-1) as both backends keep it: which records each command writes
//! (in the command's own transaction, so a change and its record never part), and how a record
//! is sealed (R-SEC-2). Only the room (or, for account records, the user) and the time stay in
//! the clear, for lookups; action, actor, target and role are sealed.

use crate::error::{Cause, StoreError, StoreResult};
use crate::model::{AuditRecord, DepartureRecord};
use crate::sealing::SERVER_SCOPE;
use chrono::{DateTime, Utc};
use conclave_crypto::{Aad, DataKey};
use conclave_domain::Departure;
use conclave_protocol::{AuditAction, AuditId, LeaveReason, Role, RoomId, UserId};
use serde::{Deserialize, Serialize};

/// What a record says; sealed as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AuditFacts {
    pub action: AuditAction,
    pub actor_id: Option<UserId>,
    pub target_id: Option<UserId>,
    pub role: Option<Role>,
}

impl AuditFacts {
    pub fn new(action: AuditAction, actor: Option<&UserId>, target: Option<&UserId>) -> Self {
        Self { action, actor_id: actor.cloned(), target_id: target.cloned(), role: None }
    }

    pub fn with_role(self, role: Role) -> Self {
        Self { role: Some(role), ..self }
    }
}

/// A record ready to store: its id, scope and sealed facts.
pub(crate) struct SealedAudit {
    pub id: AuditId,
    pub room_id: Option<RoomId>,
    /// Account records: the user they are about (the actor), for lookups.
    pub user_id: Option<UserId>,
    pub sealed: Vec<u8>,
}

fn aad(scope: &str, id: &AuditId) -> Aad {
    Aad::new("audit record").part(scope).part(id.as_str())
}

/// Seals `facts` for `room` (under the room's key) or, without a room, as an account record
/// of its actor (under the server key). Ids are time-ordered (UUIDv7).
pub(crate) fn seal(key: &DataKey, room: Option<&RoomId>, facts: &AuditFacts) -> StoreResult<SealedAudit> {
    let id = AuditId(uuid::Uuid::now_v7().to_string());
    let scope = room.map_or(SERVER_SCOPE, RoomId::as_str);
    let json = serde_json::to_vec(facts).map_err(|e| StoreError::Backend(Cause::new(e)))?;
    Ok(SealedAudit {
        sealed: key.seal(&aad(scope, &id), &json)?,
        user_id: if room.is_none() { facts.actor_id.clone() } else { None },
        room_id: room.cloned(),
        id,
    })
}

/// Opens a stored record; any change is `Corrupt`.
pub(crate) fn open(
    key: &DataKey,
    id: AuditId,
    room: Option<RoomId>,
    sealed: &[u8],
    created_at: DateTime<Utc>,
) -> StoreResult<AuditRecord> {
    let scope = room.as_ref().map_or(SERVER_SCOPE, RoomId::as_str);
    let json = key
        .open(&aad(scope, &id), sealed)
        .map_err(|e| StoreError::Corrupt(Cause::msg(format!("audit record {id}: {e}"))))?;
    let facts: AuditFacts = serde_json::from_slice(&json)
        .map_err(|e| StoreError::Corrupt(Cause::msg(format!("audit record {id}: {e}"))))?;
    Ok(AuditRecord {
        id,
        room_id: room,
        action: facts.action,
        actor_id: facts.actor_id,
        target_id: facts.target_id,
        role: facts.role,
        created_at,
    })
}

/// The records of a departure: the departure itself (`left` or `kicked`, by `actor`; a ban is
/// recorded by the ban), then what SPEC R-ROOM-5 did about it.
pub(crate) fn departure_facts(departure: &DepartureRecord, reason: LeaveReason, actor: &UserId) -> Vec<AuditFacts> {
    let leaver = Some(&departure.user_id);
    let mut facts = match reason {
        LeaveReason::Left => vec![AuditFacts::new(AuditAction::MemberLeft, leaver, leaver)],
        LeaveReason::Kicked => vec![AuditFacts::new(AuditAction::MemberKicked, Some(actor), leaver)],
        LeaveReason::Banned | LeaveReason::Terminated => Vec::new(),
    };
    match &departure.departure {
        Departure::Terminate | Departure::TerminateAndEvict(_) => {
            facts.push(AuditFacts::new(AuditAction::RoomTerminated, None, None));
        }
        Departure::Continue { promotion: Some((user, role)) } => {
            facts.push(AuditFacts::new(AuditAction::RoleChanged, None, Some(user)).with_role(*role));
        }
        Departure::Continue { promotion: None } => {}
    }
    facts
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    // R-OPS-1 + R-SEC-2: a record opens only as itself, in its own room.
    #[test]
    fn records_are_sealed_for_their_room_and_id() {
        let key = DataKey::generate();
        let room = RoomId::from("r1");
        let facts = AuditFacts::new(AuditAction::MemberKicked, Some(&UserId::from("a")), Some(&UserId::from("b")));
        let sealed = seal(&key, Some(&room), &facts).unwrap();
        assert_eq!(sealed.user_id, None);
        let opened = open(&key, sealed.id.clone(), Some(room.clone()), &sealed.sealed, Utc::now()).unwrap();
        assert_eq!((opened.action, opened.actor_id, opened.target_id), (facts.action, facts.actor_id, facts.target_id));
        let elsewhere = open(&key, sealed.id.clone(), Some(RoomId::from("r2")), &sealed.sealed, Utc::now());
        assert!(matches!(elsewhere, Err(StoreError::Corrupt(_))));
        let account =
            seal(&key, None, &AuditFacts::new(AuditAction::LoggedIn, Some(&UserId::from("a")), None)).unwrap();
        assert_eq!(account.user_id, Some(UserId::from("a")));
    }

    // R-OPS-1: departures are recorded with what R-ROOM-5 made of them.
    #[test]
    fn departures_record_their_consequences() {
        let (owner, admin) = (UserId::from("owner"), UserId::from("admin"));
        let record = |departure| DepartureRecord {
            room_id: RoomId::from("r"),
            user_id: owner.clone(),
            role: Role::Owner,
            departure,
            notices: Vec::new(),
        };
        let promoted = record(Departure::Continue { promotion: Some((admin.clone(), Role::Owner)) });
        let facts = departure_facts(&promoted, LeaveReason::Left, &owner);
        assert_eq!(
            facts.iter().map(|f| f.action).collect::<Vec<_>>(),
            [AuditAction::MemberLeft, AuditAction::RoleChanged]
        );
        assert_eq!(
            (facts[1].actor_id.clone(), facts[1].target_id.clone(), facts[1].role),
            (None, Some(admin.clone()), Some(Role::Owner))
        );
        let kicked = departure_facts(&record(Departure::Terminate), LeaveReason::Kicked, &admin);
        assert_eq!(
            kicked.iter().map(|f| f.action).collect::<Vec<_>>(),
            [AuditAction::MemberKicked, AuditAction::RoomTerminated]
        );
        assert_eq!(kicked[0].actor_id, Some(admin.clone()));
        let banned = departure_facts(&record(Departure::Continue { promotion: None }), LeaveReason::Banned, &admin);
        assert!(banned.is_empty(), "the ban records itself");
    }
}
