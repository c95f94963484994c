//! Records from the store, turned into the wire types of `protocol`. The only place where that
//! happens: hashes and internal fields never leave here.

use crate::live::hub::Hub;
use conclave_protocol::*;
use conclave_store::*;

pub fn user(record: &UserRecord, presence: &Hub) -> User {
    User {
        id: record.id.clone(),
        username: record.username.clone(),
        first_name: record.first_name.clone(),
        last_name: record.last_name.clone(),
        online: presence.is_online(&record.id),
        created_at: record.created_at,
        last_seen_at: record.last_seen_at,
        avatar_url: record
            .avatar_at
            .map(|at| format!("/api/users/{}/avatar?v={}", record.username, at.timestamp_millis())),
    }
}

pub fn room(record: &RoomRecord) -> Room {
    Room {
        id: record.id.clone(),
        kind: record.kind,
        name: record.name.clone(),
        topic: record.topic.clone(),
        join_policy: record.join_policy,
        owner_id: record.owner_id.clone(),
        member_count: record.member_count,
        created_at: record.created_at,
        terminated_at: record.terminated_at,
    }
}

/// Direct rooms have no roles (SPEC R-MSG-4).
pub fn role(kind: RoomKind, role: Role) -> Option<Role> {
    match kind {
        RoomKind::Group => Some(role),
        RoomKind::Direct => None,
    }
}

pub fn membership(record: &MembershipRecord) -> Membership {
    Membership {
        room_id: record.room_id.clone(),
        user_id: record.user_id.clone(),
        role: record.role,
        joined_at: record.joined_at,
    }
}

pub fn member(record: &MemberRecord, kind: RoomKind, presence: &Hub) -> Member {
    Member {
        user: user(&record.user, presence),
        role: role(kind, record.membership.role),
        joined_at: record.membership.joined_at,
    }
}

pub fn message(record: &MessageRecord) -> Message {
    Message {
        id: record.id.clone(),
        room_id: record.room_id.clone(),
        seq: record.seq,
        author_id: record.author_id.clone(),
        author_username: record.author_username.clone(),
        body: record.body.clone(),
        color: record.color,
        sticker: record.sticker,
        attachment: record.attachment.as_ref().map(|a| Attachment {
            id: a.id.clone(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
        }),
        created_at: record.created_at,
        edited_at: record.edited_at,
        deleted: record.deleted,
        reactions: Vec::new(),
        reply_to: record.reply_to.as_ref().map(|r| ReplyTo {
            message_id: r.message_id.clone(),
            seq: r.seq,
            author_username: r.author_username.clone(),
            excerpt: excerpt(&r.body),
            deleted: r.deleted,
        }),
    }
}

/// Messages with their reactions as one reader sees them (`counts` from the store, per
/// message in order).
pub fn messages_with_reactions(records: &[MessageRecord], counts: Vec<ReactionCount>) -> Vec<Message> {
    let mut views: Vec<Message> = records.iter().map(message).collect();
    for count in counts {
        if let Some(view) = views.iter_mut().find(|m| m.id == count.message_id) {
            view.reactions.push(Reaction { emoji: count.emoji, count: count.count, me: count.me });
        }
    }
    views
}

pub fn notification(record: &NotificationRecord) -> Notification {
    Notification {
        id: record.id.clone(),
        kind: record.kind,
        room_id: record.room_id.clone(),
        actor_id: record.actor_id.clone(),
        data: record.data.clone(),
        created_at: record.created_at,
        read: record.read,
    }
}

pub fn join_request(record: &JoinRequestRecord, presence: &Hub) -> JoinRequest {
    JoinRequest { room_id: record.room_id.clone(), user: user(&record.user, presence), created_at: record.created_at }
}

pub fn ban(record: &BanRecord, presence: &Hub) -> Ban {
    Ban {
        room_id: record.room_id.clone(),
        user: user(&record.user, presence),
        banned_by: record.banned_by.clone(),
        created_at: record.created_at,
    }
}

pub fn invite(record: &InviteRecord) -> Invite {
    Invite {
        room_id: record.room_id.clone(),
        user_id: record.user_id.clone(),
        invited_by: record.invited_by.clone(),
        created_at: record.created_at,
    }
}
