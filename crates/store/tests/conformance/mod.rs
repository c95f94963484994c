//! The conformance suite: every `Store` backend must pass every case here. A backend's test
//! file builds a fresh store per case and expands `conformance_suite!` with it.
//! Each case names the SPEC rule it holds the store to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use conclave_crypto::{ServerKey, Vault};
use conclave_domain::Departure;
use conclave_protocol::*;
use conclave_store::*;
use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What a backend's test file gives the suite besides the store: its data as raw bytes, and
/// ways to reopen and to damage it.
#[async_trait]
pub trait Backing: Send + Sync {
    /// Opens the same data again, as a restarted server does, with `vault`'s server key.
    async fn try_reopen(&self, vault: Arc<Vault>) -> StoreResult<Arc<dyn Store>>;
    async fn reopen(&self, vault: Arc<Vault>) -> Arc<dyn Store> {
        self.try_reopen(vault).await.unwrap()
    }
    /// Everything the database holds, as bytes (what a stolen disk or dump would show).
    async fn dump(&self) -> Vec<u8>;
    /// Flips one byte of the stored body of message `id` (an attacker editing the database).
    async fn tamper_with_body(&self, id: &MessageId);
}

/// A store under test, the vault it was opened with, its backing, and whatever keeps it alive
/// (a temp dir, a server process).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub vault: Arc<Vault>,
    pub backing: Box<dyn Backing>,
    pub _guard: Box<dyn Any + Send>,
}

/// A vault with a fresh server key, as a first start creates.
pub fn test_vault() -> Arc<Vault> {
    Arc::new(Vault::new(ServerKey::generate()))
}

#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        $crate::conformance_suite!(@cases $make;
            users_are_unique_case_insensitively,
            user_search_pages_by_prefix,
            refresh_tokens_rotate_and_reuse_revokes_the_family,
            creating_a_room_makes_the_creator_owner,
            joining_consumes_invites_and_requests,
            joining_is_refused_when_banned_terminated_or_member,
            owner_leaving_transfers_by_join_order_then_terminates,
            admin_alone_keeps_the_room,
            last_member_leaving_terminates,
            bans_remove_members_and_hide_rooms_from_search,
            search_hides_invite_only_terminated_and_paginates,
            termination_removes_everyone_and_logs_it,
            messages_get_consecutive_sequence_numbers,
            concurrent_senders_never_share_a_sequence_number,
            refused_sends_among_concurrent_ones_leave_no_gap,
            a_rooms_new_messages_are_seen_once_in_sequence_order,
            sends_taken_in_turn_are_seen_in_turn,
            client_ids_make_sends_idempotent,
            sends_are_refused_outside_membership_or_after_termination,
            history_pages_before_and_after,
            edits_and_deletions,
            direct_rooms_are_one_per_pair_and_unhide_on_message,
            unread_counts_follow_read_markers,
            notifications_unread_first_and_owned,
            room_log_is_newest_first_and_cleared_on_rejoin,
            invites_and_requests_conflicts,
            refresh_tokens_identify_their_user_while_active,
            room_ids_include_hidden_direct_rooms,
            room_admins_and_direct_peers_in_one_read,
            reactions_count_once_per_user_and_go_with_their_message,
            replies_show_their_original_as_it_is_now,
            scans_read_rooms_newest_first_and_continue_where_they_stopped,
            invitations_are_declined_and_handled_notifications_read,
            names_change_and_a_new_password_ends_every_session,
            avatars_are_set_replaced_and_removed,
            deleted_accounts_keep_their_messages_under_a_deleted_name,
            audit_trail_records_room_actions_newest_first,
            account_audit_records_signups_and_logins,
            cleanup_deletes_ended_rooms_with_everything_in_them,
            cleanup_deletes_old_logs_read_notifications_and_expired_tokens,
            deferred_writes_apply_in_order_and_skip_what_is_gone,
            attachments_are_sent_once_by_their_uploader,
            an_upload_sent_by_concurrent_sends_goes_with_one,
            wrapped_keys_are_listed_in_pages_and_replaced_only_when_unchanged,
            mentions_are_stored_with_their_message,
            a_direct_message_notifies_the_offline_peer_in_its_write,
            departures_bans_and_terminations_store_their_notices,
            unbans_and_role_changes_store_their_notices,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $crate::conformance_suite!(@backing $make;
            reopening_finds_everything_again,
            attachments_are_sealed_at_rest,
            avatars_are_sealed_at_rest,
            message_bodies_are_sealed_at_rest,
            tampered_bodies_are_errors_never_text,
            another_server_key_opens_nothing,
        );
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let test_store = $make().await;
                conformance::$case(test_store.store.clone()).await;
            }
        )*
    };
    (@backing $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let test_store = $make().await;
                conformance::$case(&test_store).await;
            }
        )*
    };
}

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap() + Duration::minutes(minutes)
}

async fn user(store: &Arc<dyn Store>, name: &str) -> UserRecord {
    store
        .create_user(
            NewUser {
                username: name.to_owned(),
                password_hash: format!("$argon2id$fake${name}"),
                first_name: Some(format!("First {name}")),
                last_name: None,
            },
            t(0),
        )
        .await
        .unwrap()
}

async fn group(store: &Arc<dyn Store>, owner: &UserRecord, name: &str, policy: JoinPolicy) -> RoomRecord {
    store
        .create_room(
            NewRoom { name: name.to_owned(), topic: None, join_policy: policy, password_hash: None },
            &owner.id,
            t(1),
        )
        .await
        .unwrap()
}

/// The notice `user` gets when `by` invites them, at `minute`, to a new invite-only room named
/// `name`.
async fn invited(
    store: &Arc<dyn Store>,
    by: &UserRecord,
    user: &UserRecord,
    name: &str,
    minute: i64,
) -> NotificationRecord {
    let room = group(store, by, name, JoinPolicy::Invite).await;
    let invited = store.create_invite(&room.id, &user.id, &by.id, t(minute)).await.unwrap();
    invited.notices.into_iter().next().unwrap()
}

/// A plain text message, as a send without colour, sticker or attachment makes it.
fn text_message(room: &RoomId, author: &UserId, body: String, client_id: Option<String>) -> NewMessage {
    NewMessage {
        room_id: room.clone(),
        author_id: author.clone(),
        body,
        color: None,
        sticker: None,
        client_id,
        attachment_id: None,
        reply_to: None,
        mentions: Vec::new(),
        direct_notice: None,
    }
}

async fn send(store: &Arc<dyn Store>, room: &RoomRecord, author: &UserRecord, body: &str) -> MessageRecord {
    store.insert_message(text_message(&room.id, &author.id, body.to_owned(), None), t(10)).await.unwrap().message
}

async fn role_of(store: &Arc<dyn Store>, room: &RoomRecord, user: &UserRecord) -> Option<Role> {
    store.membership(&room.id, &user.id).await.unwrap().map(|m| m.role)
}

/// R-ACC-1: usernames are unique; the store reports a conflict, never a failure.
pub async fn users_are_unique_case_insensitively(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let again = store
        .create_user(
            NewUser { username: "alice".into(), password_hash: "x".into(), first_name: None, last_name: None },
            t(0),
        )
        .await;
    assert_eq!(again, Err(StoreError::Conflict(Conflict::UsernameTaken)));
    assert_eq!(store.user_by_username("ALICE").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.user(&alice.id).await.unwrap(), Some(alice));
    assert_eq!(store.user(&UserId::from("nobody")).await.unwrap(), None);
}

/// R-ACC-5: prefix search by username, paginated, with LIKE wildcards taken literally.
pub async fn user_search_pages_by_prefix(store: Arc<dyn Store>) {
    for name in ["bob", "bobby", "bob_z", "bobxz", "carol"] {
        user(&store, name).await;
    }
    let names = |list: Vec<UserRecord>| list.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(store.search_users("bob", None, 10).await.unwrap()), ["bob", "bob_z", "bobby", "bobxz"]);
    assert_eq!(names(store.search_users("bob", None, 2).await.unwrap()), ["bob", "bob_z"]);
    assert_eq!(names(store.search_users("bob", Some("bob_z"), 2).await.unwrap()), ["bobby", "bobxz"]);
    assert_eq!(names(store.search_users("bob_", None, 10).await.unwrap()), ["bob_z"]);
    assert_eq!(store.search_users("", None, 10).await.unwrap().len(), 5);
    assert!(store.search_users("%", None, 10).await.unwrap().is_empty());
}

/// R-ACC-3: refresh tokens rotate; a reused one revokes its whole family; logout revokes.
pub async fn refresh_tokens_rotate_and_reuse_revokes_the_family(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let expiry = t(60 * 24 * 30);
    store
        .insert_refresh_token(
            NewRefreshToken { digest: "d1".into(), user_id: alice.id.clone(), expires_at: expiry },
            t(0),
        )
        .await
        .unwrap();
    let rotated = store.rotate_refresh_token("d1", "d2", expiry, t(1)).await.unwrap();
    assert_eq!(rotated, Rotation::Rotated { user_id: alice.id.clone() });
    assert_eq!(
        store.rotate_refresh_token("d2", "d3", expiry, t(2)).await.unwrap(),
        Rotation::Rotated { user_id: alice.id.clone() }
    );
    // d1 again: reuse. The family, d3 included, is revoked.
    assert_eq!(
        store.rotate_refresh_token("d1", "dx", expiry, t(3)).await.unwrap(),
        Rotation::Reused { user_id: alice.id.clone() }
    );
    assert_eq!(store.rotate_refresh_token("d3", "d4", expiry, t(4)).await.unwrap(), Rotation::Invalid);
    assert_eq!(store.rotate_refresh_token("unknown", "d5", expiry, t(4)).await.unwrap(), Rotation::Invalid);

    store
        .insert_refresh_token(
            NewRefreshToken { digest: "e1".into(), user_id: alice.id.clone(), expires_at: t(10) },
            t(0),
        )
        .await
        .unwrap();
    assert_eq!(store.rotate_refresh_token("e1", "e2", expiry, t(11)).await.unwrap(), Rotation::Invalid, "expired");

    store
        .insert_refresh_token(
            NewRefreshToken { digest: "f1".into(), user_id: alice.id.clone(), expires_at: expiry },
            t(0),
        )
        .await
        .unwrap();
    store.revoke_refresh_family("f1").await.unwrap();
    assert_eq!(store.rotate_refresh_token("f1", "f2", expiry, t(1)).await.unwrap(), Rotation::Invalid, "logged out");
    store.revoke_refresh_family("never-issued").await.unwrap();
}

/// R-ROOM-1, R-ROOM-2: the creator is the owner and first member.
pub async fn creating_a_room_makes_the_creator_owner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let room = store
        .create_room(
            NewRoom {
                name: "General".into(),
                topic: Some("talk".into()),
                join_policy: JoinPolicy::Password,
                password_hash: Some("$argon2id$room".into()),
            },
            &alice.id,
            t(1),
        )
        .await
        .unwrap();
    assert_eq!(room.kind, RoomKind::Group);
    assert_eq!(room.owner_id, Some(alice.id.clone()));
    assert_eq!(room.member_count, 1);
    assert_eq!(room.last_seq, 0);
    assert_eq!(room.password_hash.as_deref(), Some("$argon2id$room"));
    assert_eq!(role_of(&store, &room, &alice).await, Some(Role::Owner));
    assert_eq!(store.room(&room.id).await.unwrap(), Some(room.clone()));

    let patched = store
        .update_room(
            &room.id,
            RoomPatch {
                name: Some("Lobby".into()),
                topic: Change::Clear,
                join_policy: Some(JoinPolicy::Open),
                password_hash: Change::Clear,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (patched.name.as_str(), patched.topic, patched.join_policy, patched.password_hash),
        ("Lobby", None, JoinPolicy::Open, None)
    );
    assert_eq!(
        store.update_room(&RoomId::from("missing"), RoomPatch::default()).await,
        Err(StoreError::NotFound(Missing::Room))
    );
}

/// R-ROOM-1, R-ROOM-9: joining consumes the user's invite and request, their notices are
/// handled in the same write, and a member an admin lets in is told.
pub async fn joining_consumes_invites_and_requests(store: Arc<dyn Store>) {
    let (alice, bob, carol) = (user(&store, "alice").await, user(&store, "bob").await, user(&store, "carol").await);
    let room = group(&store, &alice, "private", JoinPolicy::Invite).await;
    store.create_invite(&room.id, &bob.id, &alice.id, t(2)).await.unwrap();
    assert!(store.invite(&room.id, &bob.id).await.unwrap().is_some());
    assert_eq!(store.unread_notification_count(&bob.id).await.unwrap(), 1, "the invitation's notice");
    let joined = store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(3)).await.unwrap();
    assert_eq!(joined.membership.role, Role::Member);
    assert!(joined.notices.is_empty(), "nobody to tell of one's own join");
    assert!(store.invite(&room.id, &bob.id).await.unwrap().is_none());
    assert_eq!(store.unread_notification_count(&bob.id).await.unwrap(), 0, "the invitation is answered (R-ROOM-9)");

    let asked = store.create_join_request(&room.id, &carol.id, t(4)).await.unwrap();
    assert_eq!(asked.request.user.id, carol.id);
    assert_eq!(store.join_requests(&room.id).await.unwrap().len(), 1);
    assert_eq!(store.unread_notification_count(&alice.id).await.unwrap(), 1, "the request's notice");
    // An admin lets carol in: she is told, and the request's notice is answered.
    let accepted = store.add_member(&room.id, &carol.id, Role::Member, &alice.id, t(5)).await.unwrap();
    let told: Vec<_> = accepted.notices.iter().map(|n| (n.user_id.clone(), n.kind, n.actor_id.clone())).collect();
    assert_eq!(told, [(carol.id.clone(), NotificationKind::RequestAccepted, Some(alice.id.clone()))]);
    assert_eq!(store.unread_notification_count(&alice.id).await.unwrap(), 0);
    assert!(store.join_request(&room.id, &carol.id).await.unwrap().is_none());

    let members = store.members(&room.id, None, 10).await.unwrap();
    let order: Vec<_> = members.iter().map(|m| m.user.username.as_str()).collect();
    assert_eq!(order, ["alice", "bob", "carol"], "members in join order");
    let page = store.members(&room.id, Some(members[0].membership.join_seq), 1).await.unwrap();
    assert_eq!(page[0].user.username, "bob");
    assert_eq!(store.room(&room.id).await.unwrap().unwrap().member_count, 3);
}

/// R-ROOM-4, R-ROOM-6: the store refuses joins of banned users, into terminated rooms, twice.
pub async fn joining_is_refused_when_banned_terminated_or_member(store: Arc<dyn Store>) {
    let (alice, bob, carol) = (user(&store, "alice").await, user(&store, "bob").await, user(&store, "carol").await);
    let room = group(&store, &alice, "open", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    assert_eq!(
        store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(3)).await,
        Err(StoreError::Conflict(Conflict::AlreadyMember))
    );
    store.ban(&room.id, &carol.id, &alice.id, t(3)).await.unwrap();
    assert_eq!(store.add_member(&room.id, &carol.id, Role::Member, &carol.id, t(4)).await, Err(StoreError::Banned));
    assert_eq!(store.create_join_request(&room.id, &carol.id, t(4)).await, Err(StoreError::Banned));
    assert_eq!(store.create_invite(&room.id, &carol.id, &alice.id, t(4)).await, Err(StoreError::Banned));
    assert_eq!(
        store.add_member(&RoomId::from("missing"), &carol.id, Role::Member, &carol.id, t(4)).await,
        Err(StoreError::NotFound(Missing::Room))
    );
    store.terminate_room(&room.id, &alice.id, t(5)).await.unwrap();
    assert_eq!(store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(6)).await, Err(StoreError::RoomTerminated));
}

/// R-ROOM-5: the owner leaves a room of three: the earliest joiner becomes owner; the new owner
/// leaves: the last member, not an admin, is removed and the room terminated.
pub async fn owner_leaving_transfers_by_join_order_then_terminates(store: Arc<dyn Store>) {
    let (alice, bob, carol) = (user(&store, "alice").await, user(&store, "bob").await, user(&store, "carol").await);
    let room = group(&store, &alice, "trio", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    store.add_member(&room.id, &carol.id, Role::Member, &carol.id, t(3)).await.unwrap();

    let first = store.remove_member(&room.id, &alice.id, LeaveReason::Left, &alice.id, t(4)).await.unwrap();
    assert_eq!(first.role, Role::Owner);
    assert_eq!(first.departure, Departure::Continue { promotion: Some((bob.id.clone(), Role::Owner)) });
    assert_eq!(role_of(&store, &room, &bob).await, Some(Role::Owner));
    assert_eq!(store.room(&room.id).await.unwrap().unwrap().owner_id, Some(bob.id.clone()));

    let second = store.remove_member(&room.id, &bob.id, LeaveReason::Left, &bob.id, t(5)).await.unwrap();
    assert_eq!(second.departure, Departure::TerminateAndEvict(carol.id.clone()));
    let after = store.room(&room.id).await.unwrap().unwrap();
    assert!(after.terminated_at.is_some());
    assert_eq!(after.member_count, 0);
    assert_eq!(role_of(&store, &room, &carol).await, None);
    let log = store.room_log(&carol.id, None, 10).await.unwrap();
    assert_eq!((log[0].room.id.clone(), log[0].reason), (room.id.clone(), LeaveReason::Terminated));
    let log = store.room_log(&alice.id, None, 10).await.unwrap();
    assert_eq!(log[0].reason, LeaveReason::Left);
    assert_eq!(
        store.remove_member(&room.id, &carol.id, LeaveReason::Left, &carol.id, t(6)).await,
        Err(StoreError::RoomTerminated)
    );
}

/// R-ROOM-5: an admin who is the only member keeps the room alive (and owns it).
pub async fn admin_alone_keeps_the_room(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "duo", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    store.set_role(&room.id, &bob.id, Role::Admin, &alice.id, t(2)).await.unwrap();
    let out = store.remove_member(&room.id, &alice.id, LeaveReason::Left, &alice.id, t(3)).await.unwrap();
    assert_eq!(out.departure, Departure::Continue { promotion: Some((bob.id.clone(), Role::Owner)) });
    let after = store.room(&room.id).await.unwrap().unwrap();
    assert!(after.terminated_at.is_none());
    assert_eq!(after.member_count, 1);
    assert_eq!(
        store.remove_member(&room.id, &alice.id, LeaveReason::Left, &alice.id, t(3)).await,
        Err(StoreError::NotAMember)
    );
}

/// R-ROOM-5: the last member leaving terminates the room.
pub async fn last_member_leaving_terminates(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let room = group(&store, &alice, "solo", JoinPolicy::Open).await;
    let out = store.remove_member(&room.id, &alice.id, LeaveReason::Left, &alice.id, t(2)).await.unwrap();
    assert_eq!(out.departure, Departure::Terminate);
    assert!(store.room(&room.id).await.unwrap().unwrap().terminated_at.is_some());
}

/// R-ROOM-4: a ban removes a member (with R-ROOM-5), drops invites, hides the room from search.
pub async fn bans_remove_members_and_hide_rooms_from_search(store: Arc<dyn Store>) {
    let (alice, bob, carol, dave) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
        user(&store, "dave").await,
    );
    let room = group(&store, &alice, "club", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    store.add_member(&room.id, &carol.id, Role::Member, &carol.id, t(2)).await.unwrap();
    let outcome = store.ban(&room.id, &bob.id, &alice.id, t(3)).await.unwrap();
    assert_eq!(outcome.ban.user.id, bob.id);
    assert_eq!(outcome.departure.as_ref().map(|d| d.departure.clone()), Some(Departure::Continue { promotion: None }));
    assert_eq!(role_of(&store, &room, &bob).await, None);
    assert!(store.is_banned(&room.id, &bob.id).await.unwrap());
    assert_eq!(store.room_log(&bob.id, None, 10).await.unwrap()[0].reason, LeaveReason::Banned);
    assert!(store.search_rooms("club", &bob.id, None, 10).await.unwrap().is_empty());
    assert_eq!(store.search_rooms("club", &carol.id, None, 10).await.unwrap().len(), 1);
    assert_eq!(
        store.ban(&room.id, &bob.id, &alice.id, t(4)).await.map(|_| ()),
        Err(StoreError::Conflict(Conflict::AlreadyBanned))
    );

    // A pre-emptive ban of a non-member drops their invite and leaves no room-log entry.
    store.create_invite(&room.id, &dave.id, &alice.id, t(4)).await.unwrap();
    let outcome = store.ban(&room.id, &dave.id, &alice.id, t(5)).await.unwrap();
    assert!(outcome.departure.is_none());
    assert!(store.invite(&room.id, &dave.id).await.unwrap().is_none());
    assert!(store.room_log(&dave.id, None, 10).await.unwrap().is_empty());
    let bans = store.bans(&room.id).await.unwrap();
    assert_eq!(bans.iter().map(|b| b.user.username.as_str()).collect::<Vec<_>>(), ["dave", "bob"]);

    store.unban(&room.id, &bob.id, &alice.id, t(9)).await.unwrap();
    assert_eq!(store.unban(&room.id, &bob.id, &alice.id, t(9)).await, Err(StoreError::NotFound(Missing::Ban)));
    assert_eq!(store.search_rooms("club", &bob.id, None, 10).await.unwrap().len(), 1);
    assert_eq!(
        store.ban(&room.id, &UserId::from("ghost"), &alice.id, t(6)).await.map(|_| ()),
        Err(StoreError::NotFound(Missing::User))
    );
}

/// R-ROOM-8: search lists open, password and request rooms by name, never invite-only or
/// terminated ones, in pages.
pub async fn search_hides_invite_only_terminated_and_paginates(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let open = group(&store, &alice, "Rust A", JoinPolicy::Open).await;
    let password = group(&store, &alice, "rust b", JoinPolicy::Password).await;
    let request = group(&store, &alice, "RUST C", JoinPolicy::Request).await;
    group(&store, &alice, "rust secret", JoinPolicy::Invite).await;
    let gone = group(&store, &alice, "rust gone", JoinPolicy::Open).await;
    store.terminate_room(&gone.id, &alice.id, t(3)).await.unwrap();
    store.open_direct_room(&alice.id, &user(&store, "bob").await.id, "rust dm", t(3)).await.unwrap();

    let found = store.search_rooms("RUST", &alice.id, None, 10).await.unwrap();
    let ids: Vec<_> = found.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids, [open.id.clone(), password.id.clone(), request.id.clone()]);
    let first = store.search_rooms("rust", &alice.id, None, 2).await.unwrap();
    let cursor = RoomSearchCursor { name_lower: first[1].name.to_lowercase(), room_id: first[1].id.clone() };
    let rest = store.search_rooms("rust", &alice.id, Some(&cursor), 2).await.unwrap();
    assert_eq!(rest.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [request.id]);
    assert!(store.search_rooms("python", &alice.id, None, 10).await.unwrap().is_empty());
}

/// R-ROOM-6: termination removes every member, logs them, and drops invites and requests.
pub async fn termination_removes_everyone_and_logs_it(store: Arc<dyn Store>) {
    let (alice, bob, carol) = (user(&store, "alice").await, user(&store, "bob").await, user(&store, "carol").await);
    let room = group(&store, &alice, "doomed", JoinPolicy::Request).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    store.create_join_request(&room.id, &carol.id, t(2)).await.unwrap();
    let ended = store.terminate_room(&room.id, &alice.id, t(3)).await.unwrap();
    assert_eq!(ended.former_members, [alice.id.clone(), bob.id.clone()]);
    assert!(ended.room.terminated_at.is_some());
    assert!(store.join_requests(&room.id).await.unwrap().is_empty());
    assert!(store.rooms_of_user(&bob.id, None, 10).await.unwrap().is_empty());
    assert_eq!(store.room_log(&bob.id, None, 10).await.unwrap()[0].reason, LeaveReason::Terminated);
    assert_eq!(store.terminate_room(&room.id, &alice.id, t(4)).await.map(|_| ()), Err(StoreError::RoomTerminated));
}

/// R-MSG-1: every message gets the room's next sequence number.
pub async fn messages_get_consecutive_sequence_numbers(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "seq", JoinPolicy::Open).await;
    let other = group(&store, &alice, "other", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    for i in 1..=10u64 {
        let author = if i % 2 == 0 { &alice } else { &bob };
        let message = send(&store, &room, author, &format!("m{i}")).await;
        assert_eq!(message.seq, i);
        assert_eq!(message.author_username, author.username);
    }
    assert_eq!(send(&store, &other, &alice, "elsewhere").await.seq, 1, "sequences are per room");
    assert_eq!(store.room(&room.id).await.unwrap().unwrap().last_seq, 10);
}

/// R-MSG-1: concurrent senders never share or skip a sequence number: 8 senders × 200
/// messages into one room give 1..=1600, each once.
pub async fn concurrent_senders_never_share_a_sequence_number(store: Arc<dyn Store>) {
    const SENDERS: u64 = 8;
    const EACH: u64 = 200;
    let alice = user(&store, "alice").await;
    let room = group(&store, &alice, "busy", JoinPolicy::Open).await;
    let mut tasks = Vec::new();
    for sender in 0..SENDERS {
        let (store, room_id, author) = (store.clone(), room.id.clone(), alice.id.clone());
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..EACH {
                let message = text_message(&room_id, &author, format!("{sender}-{i}"), Some(format!("{sender}-{i}")));
                seqs.push(store.insert_message(message, t(5)).await.unwrap().message.seq);
            }
            seqs
        }));
    }
    let mut all = BTreeSet::new();
    for task in tasks {
        for seq in task.await.unwrap() {
            assert!(all.insert(seq), "sequence {seq} given twice");
        }
    }
    assert_eq!(all, (1..=SENDERS * EACH).collect::<BTreeSet<u64>>());
    let stored = store.messages(&room.id, HistoryRange::After(0), 2000).await.unwrap();
    assert_eq!(u64::try_from(stored.len()).unwrap(), SENDERS * EACH, "every message stored once");
    assert_eq!(store.room(&room.id).await.unwrap().unwrap().last_seq, SENDERS * EACH);
}

/// R-MSG-2: sends refused while others are stored at the same moment (on SQLite, in the same
/// transaction) undo only themselves: the stored messages still number 1, 2, 3… without a gap.
pub async fn refused_sends_among_concurrent_ones_leave_no_gap(store: Arc<dyn Store>) {
    const EACH: u64 = 100;
    let (alice, mallory) = (user(&store, "alice").await, user(&store, "mallory").await);
    let room = group(&store, &alice, "mixed", JoinPolicy::Open).await;
    let mut tasks = Vec::new();
    for author in [alice.id.clone(), mallory.id.clone(), alice.id.clone(), mallory.id.clone()] {
        let (store, room_id) = (store.clone(), room.id.clone());
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0..EACH {
                let message = text_message(&room_id, &author, format!("{i}"), None);
                outcomes.push(store.insert_message(message, t(5)).await.map(|m| m.message.seq));
            }
            (author, outcomes)
        }));
    }
    let mut seqs = BTreeSet::new();
    for task in tasks {
        let (author, outcomes) = task.await.unwrap();
        for outcome in outcomes {
            match outcome {
                Ok(seq) => {
                    assert_eq!(author, alice.id, "only the member's sends are stored");
                    assert!(seqs.insert(seq), "sequence {seq} given twice");
                }
                Err(error) => {
                    assert_eq!(author, mallory.id, "the member's send failed: {error}");
                    assert!(matches!(error, StoreError::NotAMember), "{error}");
                }
            }
        }
    }
    assert_eq!(seqs, (1..=2 * EACH).collect::<BTreeSet<u64>>());
    let stored = store.messages(&room.id, HistoryRange::After(0), 1000).await.unwrap();
    assert_eq!(u64::try_from(stored.len()).unwrap(), 2 * EACH);
    assert!(stored.iter().all(|m| m.author_id == alice.id));
}

/// R-WS-6 (one increasing sequence per room): what `insert_message_then` shows of concurrent
/// sends, which is what the server publishes, comes one message at a time in sequence order,
/// each new message once and before its send returns; a repeated client id and a refused send
/// show nothing.
pub async fn a_rooms_new_messages_are_seen_once_in_sequence_order(store: Arc<dyn Store>) {
    const SENDERS: u64 = 6;
    const EACH: u64 = 60;
    let (alice, mallory) = (user(&store, "alice").await, user(&store, "mallory").await);
    let room = group(&store, &alice, "ordered", JoinPolicy::Open).await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for sender in 0..SENDERS {
        let (store, room_id, seen) = (store.clone(), room.id.clone(), seen.clone());
        let author = if sender == 0 { mallory.id.clone() } else { alice.id.clone() };
        tasks.push(tokio::spawn(async move {
            let mut stored = Vec::new();
            for i in 0..EACH {
                // Every tenth send repeats the client id of the one before it.
                let client_id = format!("{sender}-{}", if i % 10 == 9 { i - 1 } else { i });
                let message = text_message(&room_id, &author, format!("{sender}-{i}"), Some(client_id));
                let sink = seen.clone();
                let on_stored: OnStored = Box::new(move |outcome| {
                    if let Ok(inserted) = outcome
                        && inserted.created
                    {
                        sink.lock().unwrap().push(inserted.message.seq);
                    }
                });
                match store.insert_message_then(message, t(5), on_stored).await {
                    Ok(inserted) => {
                        let seq = inserted.message.seq;
                        assert!(seen.lock().unwrap().contains(&seq), "message {seq} returned before it was seen");
                        stored.push((inserted.created, seq));
                    }
                    Err(error) => assert!(matches!(error, StoreError::NotAMember), "{error}"),
                }
            }
            stored
        }));
    }
    let mut created = 0;
    for task in tasks {
        for (was_created, _) in task.await.unwrap() {
            created += u64::from(was_created);
        }
    }
    assert_eq!(created, (SENDERS - 1) * (EACH - EACH / 10), "members' sends, repeats stored once");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, (1..=created).collect::<Vec<u64>>(), "each new message seen once, in sequence order");
}

/// R-MSG-1, R-WS-2: sends to a room taken one after another (each future polled once before
/// the next is made, as a gateway session takes a client's frames) and then stored together
/// are seen in that order, each once and before its send returns: new messages in sequence
/// order, a repeated client id and a refused send in their places.
pub async fn sends_taken_in_turn_are_seen_in_turn(store: Arc<dyn Store>) {
    use std::task::Poll;
    const SENDS: u32 = 12;
    type Seen = (u32, Result<(bool, u64), StoreError>);
    let alice = user(&store, "alice").await;
    let room = group(&store, &alice, "pipelined", JoinPolicy::Open).await;
    let seen: Arc<std::sync::Mutex<Vec<Seen>>> = Arc::default();
    let mut sends = Vec::new();
    for i in 0..SENDS {
        // The sixth repeats the fifth's client id; the ninth names an upload that is not there.
        let client_id = format!("c{}", if i == 5 { 4 } else { i });
        let mut message = text_message(&room.id, &alice.id, format!("m{i}"), Some(client_id));
        if i == 8 {
            message.attachment_id = Some(AttachmentId::from("missing"));
        }
        let sink = seen.clone();
        let on_stored: OnStored = Box::new(move |outcome| {
            let outcome = outcome.as_ref().map(|m| (m.created, m.message.seq)).map_err(Clone::clone);
            sink.lock().unwrap().push((i, outcome));
        });
        let mut send = store.insert_message_then(message, t(5), on_stored);
        let first = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
        sends.push((send, first));
    }
    let mut returned = Vec::new();
    for (i, (send, first)) in (0..SENDS).zip(sends) {
        let outcome = match first {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => send.await,
        };
        assert!(seen.lock().unwrap().iter().any(|(j, _)| *j == i), "send {i} returned before it was seen");
        returned.push((i, outcome.map(|m| (m.created, m.message.seq))));
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, returned, "seen in the order taken, as returned");
    let expected_seqs = [1, 2, 3, 4, 5, 5, 6, 7, 0, 8, 9, 10];
    for ((i, outcome), seq) in seen.iter().zip(expected_seqs) {
        match (i, outcome) {
            (5, Ok((false, 5))) => {}
            (8, Err(StoreError::NotFound(Missing::Attachment))) => {}
            (_, Ok((true, got))) => assert_eq!(*got, seq, "send {i}"),
            other => panic!("unexpected outcome {other:?}"),
        }
    }
}

/// R-MSG-1 / idempotency: the same client id from the same author stores one message.
pub async fn client_ids_make_sends_idempotent(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "idem", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    let message = |author: &UserRecord, body: &str| NewMessage {
        room_id: room.id.clone(),
        author_id: author.id.clone(),
        body: body.into(),
        color: Some(Color::Teal),
        sticker: Some(Sticker::Cat),
        client_id: Some("c-1".into()),
        attachment_id: None,
        reply_to: None,
        mentions: Vec::new(),
        direct_notice: None,
    };
    let first = store.insert_message(message(&alice, "hello"), t(3)).await.unwrap();
    let again = store.insert_message(message(&alice, "hello again"), t(4)).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.message, again.message);
    assert_eq!((first.message.color, first.message.sticker), (Some(Color::Teal), Some(Sticker::Cat)));
    let bobs = store.insert_message(message(&bob, "mine"), t(4)).await.unwrap();
    assert!(bobs.created, "client ids are per author");
    assert_eq!(bobs.message.seq, 2);
}

/// R-MSG-2: no room, not a member, terminated: refused, nothing stored.
pub async fn sends_are_refused_outside_membership_or_after_termination(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "strict", JoinPolicy::Open).await;
    let attempt = |room_id: RoomId, author: &UserRecord| text_message(&room_id, &author.id, "hi".into(), None);
    assert_eq!(
        store.insert_message(attempt(RoomId::from("nope"), &alice), t(2)).await,
        Err(StoreError::NotFound(Missing::Room))
    );
    assert_eq!(store.insert_message(attempt(room.id.clone(), &bob), t(2)).await, Err(StoreError::NotAMember));
    store.terminate_room(&room.id, &alice.id, t(3)).await.unwrap();
    assert_eq!(store.insert_message(attempt(room.id.clone(), &alice), t(4)).await, Err(StoreError::RoomTerminated));
    assert!(store.messages(&room.id, HistoryRange::Latest, 10).await.unwrap().is_empty());
    assert_eq!(store.room(&room.id).await.unwrap().unwrap().last_seq, 0);
}

/// R-MSG-3: newest first, before and after a sequence number.
pub async fn history_pages_before_and_after(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let room = group(&store, &alice, "history", JoinPolicy::Open).await;
    for i in 1..=60 {
        send(&store, &room, &alice, &format!("message {i}")).await;
    }
    let seqs = |list: Vec<MessageRecord>| list.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(seqs(store.messages(&room.id, HistoryRange::Latest, 3).await.unwrap()), [60, 59, 58]);
    assert_eq!(seqs(store.messages(&room.id, HistoryRange::Before(58), 3).await.unwrap()), [57, 56, 55]);
    assert_eq!(seqs(store.messages(&room.id, HistoryRange::Before(3), 5).await.unwrap()), [2, 1]);
    assert_eq!(seqs(store.messages(&room.id, HistoryRange::After(10), 3).await.unwrap()), [13, 12, 11]);
    assert_eq!(seqs(store.messages(&room.id, HistoryRange::After(58), 5).await.unwrap()), [60, 59]);
    assert!(store.messages(&room.id, HistoryRange::After(60), 5).await.unwrap().is_empty());
    assert_eq!(store.messages(&room.id, HistoryRange::Latest, 200).await.unwrap().len(), 60);
}

/// R-MSG-7: edits keep the sequence number; deletion forgets the content.
pub async fn edits_and_deletions(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let room = group(&store, &alice, "edits", JoinPolicy::Open).await;
    let original = send(&store, &room, &alice, "typo").await;
    let edited = store.edit_message(&room.id, &original.id, "fixed", t(20)).await.unwrap();
    assert_eq!((edited.body.as_str(), edited.seq, edited.edited_at), ("fixed", original.seq, Some(t(20))));
    let deleted = store.delete_message(&room.id, &original.id, t(21)).await.unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.body, "");
    assert_eq!(store.message(&room.id, &original.id).await.unwrap(), Some(deleted));
    let missing = MessageId::from("missing");
    assert_eq!(store.edit_message(&room.id, &missing, "x", t(22)).await, Err(StoreError::NotFound(Missing::Message)));
    assert_eq!(store.delete_message(&room.id, &missing, t(22)).await, Err(StoreError::NotFound(Missing::Message)));
}

/// R-MSG-4: one direct room per pair, two members; hidden until the next message.
pub async fn direct_rooms_are_one_per_pair_and_unhide_on_message(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let dm = store.open_direct_room(&alice.id, &bob.id, "alice, bob", t(1)).await.unwrap();
    let again = store.open_direct_room(&bob.id, &alice.id, "bob, alice", t(2)).await.unwrap();
    assert_eq!(dm.id, again.id);
    assert_eq!((dm.kind, dm.member_count, dm.owner_id.clone()), (RoomKind::Direct, 2, None));
    store.hide_direct_room(&dm.id, &alice.id).await.unwrap();
    assert!(store.rooms_of_user(&alice.id, None, 10).await.unwrap().is_empty());
    assert_eq!(store.rooms_of_user(&bob.id, None, 10).await.unwrap().len(), 1);
    send(&store, &dm, &bob, "ping").await;
    let mine = store.rooms_of_user(&alice.id, None, 10).await.unwrap();
    assert_eq!(mine.len(), 1, "a new message shows the conversation again");
    assert_eq!(mine[0].unread_count, 1);
    assert_eq!(
        store.remove_member(&dm.id, &alice.id, LeaveReason::Left, &alice.id, t(3)).await.map(|_| ()),
        Err(StoreError::NotFound(Missing::Membership))
    );
    let group_room = group(&store, &alice, "g", JoinPolicy::Open).await;
    assert_eq!(store.hide_direct_room(&group_room.id, &alice.id).await, Err(StoreError::NotAMember));
}

/// R-NOTE-1, R-MSG-4: the owner and admins of a room (who hear of join requests), in join
/// order, and the peer of each direct conversation on a page of a user's rooms.
pub async fn room_admins_and_direct_peers_in_one_read(store: Arc<dyn Store>) {
    let (alice, bob, carol, dave) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
        user(&store, "dave").await,
    );
    let room = group(&store, &alice, "g", JoinPolicy::Open).await;
    for member in [&bob, &carol, &dave] {
        store.add_member(&room.id, &member.id, Role::Member, &member.id, t(2)).await.unwrap();
    }
    store.set_role(&room.id, &dave.id, Role::Admin, &alice.id, t(3)).await.unwrap();
    assert_eq!(store.room_admins(&room.id).await.unwrap(), vec![alice.id.clone(), dave.id.clone()]);

    let with_bob = store.open_direct_room(&alice.id, &bob.id, "alice, bob", t(4)).await.unwrap();
    let with_carol = store.open_direct_room(&carol.id, &alice.id, "alice, carol", t(5)).await.unwrap();
    let asked = [room.id.clone(), with_bob.id.clone(), with_carol.id.clone()];
    let mut peers: Vec<(RoomId, String)> = store
        .direct_peers(&alice.id, &asked)
        .await
        .unwrap()
        .into_iter()
        .map(|(room, user)| (room, user.username))
        .collect();
    peers.sort();
    let mut expected = vec![(with_bob.id.clone(), "bob".to_owned()), (with_carol.id.clone(), "carol".to_owned())];
    expected.sort();
    assert_eq!(peers, expected, "group rooms have no peer");
    assert!(store.direct_peers(&alice.id, &[]).await.unwrap().is_empty());
}

fn picture(bytes: &[u8]) -> NewAvatar {
    NewAvatar { content_type: "image/png".into(), content: bytes.to_vec() }
}

/// R-ACC-8: an avatar is set (its time names it), replaced, and removed; a user without one
/// has none; a missing user is `NotFound`.
pub async fn avatars_are_set_replaced_and_removed(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    assert_eq!(alice.avatar_at, None);
    assert_eq!(store.avatar(&alice.id).await.unwrap(), None);
    let set = store.set_avatar(&alice.id, picture(b"first"), t(5)).await.unwrap();
    assert_eq!(set.avatar_at, Some(t(5)));
    let replaced = store.set_avatar(&alice.id, picture(b"second"), t(6)).await.unwrap();
    assert_eq!(replaced.avatar_at, Some(t(6)));
    let found = store.avatar(&alice.id).await.unwrap().expect("an avatar");
    assert_eq!(
        (found.content.as_slice(), found.content_type.as_str(), found.updated_at),
        (&b"second"[..], "image/png", t(6))
    );
    assert_eq!(store.user_by_username("alice").await.unwrap().unwrap().avatar_at, Some(t(6)), "user records show it");
    assert_eq!(store.avatar(&bob.id).await.unwrap(), None, "bob's is not alice's");
    let removed = store.remove_avatar(&alice.id).await.unwrap();
    assert_eq!(removed.avatar_at, None);
    assert_eq!(store.avatar(&alice.id).await.unwrap(), None);
    assert_eq!(store.remove_avatar(&alice.id).await.map(|u| u.avatar_at), Ok(None), "removing none is fine");
    let nobody = UserId::from("nobody");
    assert_eq!(
        store.set_avatar(&nobody, picture(b"x"), t(7)).await.map(|_| ()),
        Err(StoreError::NotFound(Missing::User))
    );
}

/// R-ACC-7: a deleted account is found no more (by id, name or search), its name is free
/// again, its sessions, invitations, requests, bans, notifications and avatar are gone; its
/// messages stay under a deleted user's name; it is audited. Deleting twice is `NotFound`.
pub async fn deleted_accounts_keep_their_messages_under_a_deleted_name(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "stays", JoinPolicy::Open).await;
    let private = group(&store, &alice, "private", JoinPolicy::Invite).await;
    let asking = group(&store, &alice, "asking", JoinPolicy::Request).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    let said = send(&store, &room, &bob, "bob was here").await;
    let dm = store.open_direct_room(&alice.id, &bob.id, "dm", t(3)).await.unwrap();
    let in_dm = send(&store, &dm, &bob, "hi alice").await;
    store.create_invite(&private.id, &bob.id, &alice.id, t(4)).await.unwrap();
    store.create_join_request(&asking.id, &bob.id, t(4)).await.unwrap();
    store.set_avatar(&bob.id, picture(b"face"), t(4)).await.unwrap();
    let token = NewRefreshToken { digest: "bobs".into(), user_id: bob.id.clone(), expires_at: t(100) };
    store.insert_refresh_token(token, t(4)).await.unwrap();
    // The app has him leave his group rooms first (R-ROOM-5 for each).
    store.remove_member(&room.id, &bob.id, LeaveReason::Left, &bob.id, t(5)).await.unwrap();

    store.delete_account(&bob.id, t(6)).await.unwrap();
    assert_eq!(store.user(&bob.id).await.unwrap(), None);
    assert_eq!(store.user_by_username("bob").await.unwrap(), None);
    assert!(store.search_users("", None, 10).await.unwrap().iter().all(|u| u.id != bob.id));
    assert_eq!(store.avatar(&bob.id).await.unwrap(), None);
    assert_eq!(store.refresh_token_user("bobs", t(7)).await.unwrap(), None);
    assert_eq!(store.invite(&private.id, &bob.id).await.unwrap(), None, "his invitation is gone");
    assert!(store.join_requests(&asking.id).await.unwrap().is_empty(), "his request is gone");
    let kept = store.message(&room.id, &said.id).await.unwrap().expect("his message stays");
    assert_eq!(kept.body, "bob was here");
    assert!(kept.author_username.starts_with(DELETED_USER_PREFIX), "{}", kept.author_username);
    let dm_message = store.message(&dm.id, &in_dm.id).await.unwrap().expect("his direct message stays");
    assert_eq!(dm_message.author_username, kept.author_username);
    let audit = store.account_audit(&bob.id, None, 1).await.unwrap();
    assert_eq!(audit.first().map(|r| r.action), Some(AuditAction::AccountDeleted));
    // The name is free again; the deleted account stays apart.
    let members = store.members(&dm.id, None, 10).await.unwrap();
    let names: Vec<&str> = members.iter().map(|m| m.user.username.as_str()).collect();
    assert_eq!(names, ["alice", kept.author_username.as_str()], "the direct room shows whom it was with");
    let new_bob = user(&store, "bob").await;
    assert_ne!(new_bob.id, bob.id);
    assert_eq!(store.delete_account(&bob.id, t(8)).await, Err(StoreError::NotFound(Missing::User)));
}

/// R-ACC-8, R-SEC-2: avatars are sealed: a dump shows none of their bytes.
pub async fn avatars_are_sealed_at_rest(test_store: &TestStore) {
    let store = &test_store.store;
    let alice = user(store, "alice").await;
    store.set_avatar(&alice.id, picture(b"PORTRAIT-PIXELS-0123456789"), t(1)).await.unwrap();
    let dump = test_store.backing.dump().await;
    assert!(!dump.windows(15).any(|w| w == b"PORTRAIT-PIXELS"), "the avatar is readable");
    let again = test_store.backing.reopen(test_store.vault.clone()).await;
    assert_eq!(again.avatar(&alice.id).await.unwrap().map(|a| a.content), Some(b"PORTRAIT-PIXELS-0123456789".to_vec()));
}

/// R-MSG-11: a scan reads several rooms' messages opened, newest first (ties by room, then
/// number), skips deleted ones and rooms not asked for, and continues after a position.
pub async fn scans_read_rooms_newest_first_and_continue_where_they_stopped(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let (a, b, other) = (
        group(&store, &alice, "a", JoinPolicy::Open).await,
        group(&store, &alice, "b", JoinPolicy::Open).await,
        group(&store, &alice, "other", JoinPolicy::Open).await,
    );
    let at = |room: &RoomRecord, body: &str, minute: i64| {
        let (store, new) = (store.clone(), text_message(&room.id, &alice.id, body.to_owned(), None));
        async move { store.insert_message(new, t(minute)).await.unwrap().message }
    };
    at(&a, "a1", 1).await;
    at(&b, "b1", 2).await;
    let gone = at(&a, "a2", 3).await;
    at(&other, "not asked for", 4).await;
    at(&a, "a3", 5).await;
    at(&b, "b2", 5).await;
    store.delete_message(&a.id, &gone.id, t(6)).await.unwrap();
    let rooms = [a.id.clone(), b.id.clone()];
    let all = store.scan_messages(&rooms, None, 10).await.unwrap();
    let bodies: Vec<&str> = all.iter().map(|m| m.body.as_str()).collect();
    // a3 and b2 share a minute: the greater room id comes first.
    let (first, second) = if a.id > b.id { ("a3", "b2") } else { ("b2", "a3") };
    assert_eq!(bodies, [first, second, "b1", "a1"]);
    let mut continued = Vec::new();
    let mut after: Option<ScanPosition> = None;
    loop {
        let page = store.scan_messages(&rooms, after.as_ref(), 1).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(ScanPosition::of(last));
        continued.extend(page.iter().map(|m| m.body.clone()));
    }
    assert_eq!(continued, bodies, "one at a time, the same order, nothing twice");
    assert!(store.scan_messages(&[], None, 10).await.unwrap().is_empty());
}

/// R-MSG-8: a reply names an earlier message of its room and shows it as it is now (edited,
/// deleted); a message of another room, or none, is refused with nothing stored.
pub async fn replies_show_their_original_as_it_is_now(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "talk", JoinPolicy::Open).await;
    let elsewhere = group(&store, &alice, "elsewhere", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    let original = send(&store, &room, &alice, "what time is lunch?").await;
    let other_room = send(&store, &elsewhere, &alice, "not here").await;
    let reply_to = |id: &MessageId| NewMessage {
        reply_to: Some(id.clone()),
        ..text_message(&room.id, &bob.id, "noon".into(), Some(format!("reply-{id}")))
    };
    let reply = store.insert_message(reply_to(&original.id), t(11)).await.unwrap().message;
    let shown = reply.reply_to.clone().expect("the reply names its original");
    assert_eq!(
        (shown.message_id, shown.seq, shown.author_username.as_str(), shown.body.as_str(), shown.deleted),
        (original.id.clone(), original.seq, "alice", "what time is lunch?", false)
    );
    // The same client id again: the same reply, its original with it.
    let repeated = store.insert_message(reply_to(&original.id), t(12)).await.unwrap();
    assert!(!repeated.created);
    assert_eq!(repeated.message.reply_to, reply.reply_to);
    for wrong in [other_room.id.clone(), MessageId::from("no-such-message".to_owned())] {
        assert_eq!(
            store.insert_message(reply_to(&wrong), t(13)).await.map(|m| m.message.seq),
            Err(StoreError::NotFound(Missing::ReplyTarget)),
            "a reply to {wrong} is refused"
        );
    }
    let history = store.messages(&room.id, HistoryRange::Latest, 10).await.unwrap();
    assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![2, 1], "refused replies took no number");
    assert_eq!(history[0].reply_to.as_ref().map(|r| r.body.as_str()), Some("what time is lunch?"));
    assert_eq!(history[1].reply_to, None);
    store.edit_message(&room.id, &original.id, "lunch at noon?", t(14)).await.unwrap();
    let after_edit = store.message(&room.id, &reply.id).await.unwrap().unwrap();
    assert_eq!(after_edit.reply_to.map(|r| r.body), Some("lunch at noon?".to_owned()));
    store.delete_message(&room.id, &original.id, t(15)).await.unwrap();
    let after_delete = store.messages(&room.id, HistoryRange::After(1), 10).await.unwrap();
    let gone = after_delete[0].reply_to.clone().expect("still names its original");
    assert!(gone.deleted && gone.body.is_empty(), "a deleted original shows nothing of itself: {gone:?}");
}

/// R-MSG-9: a reaction counts once per user and emoji; a reader sees counts and their own;
/// at most 20 kinds a message; deleted messages and terminated rooms take none.
pub async fn reactions_count_once_per_user_and_go_with_their_message(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "g", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    let (first, second) = (send(&store, &room, &alice, "one").await, send(&store, &room, &bob, "two").await);
    let react = |who: &UserRecord, emoji: &'static str, minute: i64| {
        let (store, room, message, user) = (store.clone(), room.id.clone(), first.id.clone(), who.id.clone());
        async move { store.add_reaction(&room, &message, &user, emoji, t(minute)).await }
    };
    assert_eq!(react(&alice, "👍", 20).await, Ok(true));
    assert_eq!(react(&alice, "👍", 21).await, Ok(false), "the same reaction again changes nothing");
    assert_eq!(react(&bob, "❤️", 22).await, Ok(true));
    assert_eq!(react(&bob, "👍", 23).await, Ok(true));
    let seen = |reader: &UserRecord| {
        let (store, room, messages, reader) =
            (store.clone(), room.id.clone(), vec![first.id.clone(), second.id.clone()], reader.id.clone());
        async move {
            store
                .reactions(&room, &messages, Some(&reader))
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.message_id.0, r.emoji, r.count, r.me))
                .collect::<Vec<_>>()
        }
    };
    let id = first.id.0.clone();
    assert_eq!(seen(&alice).await, vec![(id.clone(), "👍".into(), 2, true), (id.clone(), "❤️".into(), 1, false)]);
    assert_eq!(seen(&bob).await, vec![(id.clone(), "👍".into(), 2, true), (id.clone(), "❤️".into(), 1, true)]);
    let everyone = store.reactions(&room.id, std::slice::from_ref(&first.id), None).await.unwrap();
    assert!(everyone.iter().all(|r| !r.me) && everyone.len() == 2, "without a reader, nobody's own");

    assert_eq!(store.remove_reaction(&room.id, &first.id, &alice.id, "👍").await, Ok(true));
    assert_eq!(store.remove_reaction(&room.id, &first.id, &alice.id, "👍").await, Ok(false));
    // Ordered by each emoji's earliest reaction still there: bob's 👍 came after his ❤️.
    assert_eq!(seen(&alice).await, vec![(id.clone(), "❤️".into(), 1, false), (id.clone(), "👍".into(), 1, false)]);

    let missing = MessageId::from("no-such-message");
    assert_eq!(
        store.add_reaction(&room.id, &missing, &alice.id, "👍", t(24)).await,
        Err(StoreError::NotFound(Missing::Message))
    );
    let elsewhere = group(&store, &alice, "other", JoinPolicy::Open).await;
    assert_eq!(
        store.add_reaction(&elsewhere.id, &first.id, &alice.id, "👍", t(24)).await,
        Err(StoreError::NotFound(Missing::Message)),
        "a message is reached through its own room only"
    );
    assert_eq!(
        store.remove_reaction(&elsewhere.id, &first.id, &bob.id, "❤️").await,
        Err(StoreError::NotFound(Missing::Message))
    );

    // Twenty kinds at most; one more of a kind already there is fine.
    let more =
        ["😀", "😂", "😍", "🎉", "🔥", "🙏", "👀", "💯", "✅", "❌", "🤔", "😢", "😮", "🚀", "🍕", "🐱", "🌟", "👏"];
    for (i, emoji) in more.into_iter().enumerate() {
        assert_eq!(react(&bob, emoji, 30 + i64::try_from(i).unwrap()).await, Ok(true), "kind {}", i + 3);
    }
    assert_eq!(react(&alice, "🦀", 60).await, Err(StoreError::Conflict(Conflict::TooManyReactions)));
    assert_eq!(react(&alice, "🔥", 61).await, Ok(true), "an emoji already there is no new kind");

    store.delete_message(&room.id, &first.id, t(70)).await.unwrap();
    assert_eq!(seen(&bob).await, vec![], "a deleted message keeps no reactions");
    assert_eq!(react(&bob, "👍", 71).await, Err(StoreError::MessageDeleted));

    store.add_reaction(&room.id, &second.id, &alice.id, "👍", t(72)).await.unwrap();
    store.terminate_room(&room.id, &alice.id, t(80)).await.unwrap();
    assert_eq!(store.add_reaction(&room.id, &second.id, &bob.id, "👍", t(81)).await, Err(StoreError::RoomTerminated));
}

/// R-ROOM-9: an invitee declines their invitation, and its notice is marked read in the same
/// write; a declined join request (a buffered write, R-OPS-3) tells the one who asked and marks
/// the admins' notices of that request read, and no others; applied again it does nothing.
pub async fn invitations_are_declined_and_handled_notifications_read(store: Arc<dyn Store>) {
    let (alice, bob, carol, erin) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
        user(&store, "erin").await,
    );
    let room = group(&store, &alice, "secret", JoinPolicy::Invite).await;
    store.create_invite(&room.id, &bob.id, &alice.id, t(2)).await.unwrap();
    assert_eq!(store.unread_notification_count(&bob.id).await.unwrap(), 1, "the invitation's notice");
    assert_eq!(store.decline_invite(&room.id, &bob.id).await, Ok(()));
    assert_eq!(store.invite(&room.id, &bob.id).await.unwrap(), None);
    assert_eq!(store.unread_notification_count(&bob.id).await.unwrap(), 0, "handled with the decline");
    assert_eq!(store.decline_invite(&room.id, &bob.id).await, Err(StoreError::NotFound(Missing::Invite)));

    let asked = group(&store, &alice, "asked", JoinPolicy::Request).await;
    for asking in [&carol, &erin] {
        store.create_join_request(&asked.id, &asking.id, t(3)).await.unwrap();
    }
    assert_eq!(store.unread_notification_count(&alice.id).await.unwrap(), 2);
    let decline = |user: &UserRecord, by: &UserRecord| DeferredWrite::DeclineRequest {
        room: asked.id.clone(),
        user: user.id.clone(),
        by: by.id.clone(),
        at: t(4),
    };
    let told = store.apply_deferred(vec![decline(&carol, &alice)]).await.unwrap();
    let shape = |n: &NotificationRecord| {
        (n.user_id.clone(), n.kind, n.room_id.clone(), n.actor_id.clone(), n.data.clone(), n.created_at, n.read)
    };
    let expected = (
        carol.id.clone(),
        NotificationKind::RequestDeclined,
        Some(asked.id.clone()),
        Some(alice.id.clone()),
        serde_json::json!({"room_name": "asked", "actor_username": "alice"}),
        t(4),
        false,
    );
    assert_eq!(told.iter().map(shape).collect::<Vec<_>>(), std::slice::from_ref(&expected));
    let carols = store.notifications(&carol.id, false, None, 10).await.unwrap();
    assert_eq!(carols.iter().map(shape).collect::<Vec<_>>(), [expected], "stored as told");
    assert_eq!(store.join_request(&asked.id, &carol.id).await.unwrap(), None);
    assert_eq!(store.unread_notification_count(&alice.id).await.unwrap(), 1, "carol's request only, not erin's");
    assert_eq!(store.apply_deferred(vec![decline(&carol, &alice)]).await.unwrap(), [], "nothing twice");
    assert_eq!(store.unread_notification_count(&carol.id).await.unwrap(), 1);

    store.apply_deferred(vec![decline(&erin, &alice)]).await.unwrap();
    assert_eq!(store.unread_notification_count(&alice.id).await.unwrap(), 0);
}

/// Unread counts: messages by others after the read marker, which only moves forward.
pub async fn unread_counts_follow_read_markers(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "unread", JoinPolicy::Open).await;
    send(&store, &room, &alice, "before bob").await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    for i in 0..3 {
        send(&store, &room, &alice, &format!("to bob {i}")).await;
    }
    send(&store, &room, &bob, "own message").await;
    let unread = |list: Vec<MyRoomRecord>| list.into_iter().map(|r| r.unread_count).collect::<Vec<_>>();
    // Bob's own message moved his marker to 5.
    assert_eq!(unread(store.rooms_of_user(&bob.id, None, 10).await.unwrap()), [0]);
    assert_eq!(unread(store.rooms_of_user(&alice.id, None, 10).await.unwrap()), [1]);
    store.mark_read(&room.id, &alice.id, 99).await.unwrap();
    assert_eq!(store.membership(&room.id, &alice.id).await.unwrap().unwrap().last_read_seq, 5, "never past the last");
    store.mark_read(&room.id, &alice.id, 1).await.unwrap();
    assert_eq!(store.membership(&room.id, &alice.id).await.unwrap().unwrap().last_read_seq, 5, "never back");
    assert_eq!(unread(store.rooms_of_user(&alice.id, None, 10).await.unwrap()), [0]);
    // Counts are per room, and deleted messages do not count.
    let other = group(&store, &bob, "other", JoinPolicy::Open).await;
    store.add_member(&other.id, &alice.id, Role::Member, &alice.id, t(3)).await.unwrap();
    let gone = send(&store, &other, &bob, "one").await;
    send(&store, &other, &bob, "two").await;
    send(&store, &other, &bob, "three").await;
    store.delete_message(&other.id, &gone.id, t(4)).await.unwrap();
    send(&store, &room, &bob, "four").await;
    assert_eq!(unread(store.rooms_of_user(&alice.id, None, 10).await.unwrap()), [1, 2]);
    // Each room says when its latest message was sent (R-UI-4 orders the sidebar by it).
    let latest = store.insert_message(text_message(&other.id, &bob.id, "latest".into(), None), t(30)).await.unwrap();
    let times: Vec<Option<DateTime<Utc>>> =
        store.rooms_of_user(&alice.id, None, 10).await.unwrap().into_iter().map(|r| r.last_message_at).collect();
    assert_eq!(times, [Some(t(10)), Some(latest.message.created_at)]);
    let dora = user(&store, "dora").await;
    group(&store, &dora, "quiet", JoinPolicy::Open).await;
    assert_eq!(store.rooms_of_user(&dora.id, None, 10).await.unwrap()[0].last_message_at, None, "no message yet");
    let carol = user(&store, "carol").await;
    assert_eq!(store.mark_read(&room.id, &carol.id, 1).await, Err(StoreError::NotAMember));
}

/// R-NOTE-2: unread first, then newest first, in pages; only the owner reads or deletes.
pub async fn notifications_unread_first_and_owned(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(invited(&store, &bob, &alice, &format!("room {i}"), i).await.id);
    }
    store.mark_notification_read(&alice.id, &ids[4]).await.unwrap();
    assert_eq!(store.mark_notification_read(&bob.id, &ids[3]).await, Err(StoreError::NotFound(Missing::Notification)));
    let all = store.notifications(&alice.id, false, None, 10).await.unwrap();
    let order: Vec<_> = all.iter().map(|n| n.id.clone()).collect();
    assert_eq!(order, [ids[3].clone(), ids[2].clone(), ids[1].clone(), ids[0].clone(), ids[4].clone()]);
    assert_eq!(all[0].data["room_name"], "room 3");
    let first = store.notifications(&alice.id, false, None, 2).await.unwrap();
    let last = first.last().unwrap();
    let cursor = NotificationCursor { read: last.read, created_at: last.created_at, id: last.id.clone() };
    let next = store.notifications(&alice.id, false, Some(&cursor), 10).await.unwrap();
    assert_eq!(next.iter().map(|n| n.id.clone()).collect::<Vec<_>>(), order[2..]);
    assert_eq!(store.notifications(&alice.id, true, None, 10).await.unwrap().len(), 4);
    assert_eq!(store.mark_all_notifications_read(&alice.id).await.unwrap(), 4);
    assert!(store.notifications(&alice.id, true, None, 10).await.unwrap().is_empty());
    assert_eq!(store.delete_notification(&bob.id, &ids[0]).await, Err(StoreError::NotFound(Missing::Notification)));
    store.delete_notification(&alice.id, &ids[0]).await.unwrap();
    assert_eq!(store.notifications(&alice.id, false, None, 10).await.unwrap().len(), 4);
}

/// R-ROOM-7: previous rooms, newest first; rejoining removes the entry.
pub async fn room_log_is_newest_first_and_cleared_on_rejoin(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let first = group(&store, &alice, "first", JoinPolicy::Open).await;
    let second = group(&store, &alice, "second", JoinPolicy::Open).await;
    for room in [&first, &second] {
        store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    }
    store.remove_member(&first.id, &bob.id, LeaveReason::Left, &bob.id, t(3)).await.unwrap();
    store.remove_member(&second.id, &bob.id, LeaveReason::Kicked, &alice.id, t(4)).await.unwrap();
    let log = store.room_log(&bob.id, None, 10).await.unwrap();
    assert_eq!(
        log.iter().map(|e| (e.room.id.clone(), e.reason, e.left_at)).collect::<Vec<_>>(),
        [(second.id.clone(), LeaveReason::Kicked, t(4)), (first.id.clone(), LeaveReason::Left, t(3))]
    );
    let cursor = RoomLogCursor { left_at: log[0].left_at, room_id: log[0].room.id.clone() };
    assert_eq!(store.room_log(&bob.id, Some(&cursor), 10).await.unwrap().len(), 1);
    store.add_member(&first.id, &bob.id, Role::Member, &bob.id, t(5)).await.unwrap();
    let log = store.room_log(&bob.id, None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].room.id, second.id);
}

/// R-ROOM-1: one pending invite and one pending request per user and room.
pub async fn invites_and_requests_conflicts(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "ask", JoinPolicy::Request).await;
    store.create_invite(&room.id, &bob.id, &alice.id, t(2)).await.unwrap();
    assert_eq!(
        store.create_invite(&room.id, &bob.id, &alice.id, t(3)).await,
        Err(StoreError::Conflict(Conflict::AlreadyInvited))
    );
    assert_eq!(
        store.create_invite(&room.id, &alice.id, &alice.id, t(3)).await,
        Err(StoreError::Conflict(Conflict::AlreadyMember))
    );
    store.create_join_request(&room.id, &bob.id, t(3)).await.unwrap();
    assert_eq!(
        store.create_join_request(&room.id, &bob.id, t(4)).await.map(|_| ()),
        Err(StoreError::Conflict(Conflict::RequestPending))
    );
    assert_eq!(
        store.create_join_request(&room.id, &alice.id, t(4)).await.map(|_| ()),
        Err(StoreError::Conflict(Conflict::AlreadyMember))
    );
    // Declined, bob may ask again.
    let decline =
        DeferredWrite::DeclineRequest { room: room.id.clone(), user: bob.id.clone(), by: alice.id.clone(), at: t(5) };
    store.apply_deferred(vec![decline]).await.unwrap();
    store.create_join_request(&room.id, &bob.id, t(6)).await.unwrap();
}

/// R-WS-1: an active refresh token names its user without being rotated; used, revoked or
/// expired ones name nobody.
pub async fn refresh_tokens_identify_their_user_while_active(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let token =
        |digest: &str, expires_at| NewRefreshToken { digest: digest.into(), user_id: alice.id.clone(), expires_at };
    store.insert_refresh_token(token("a1", t(100)), t(0)).await.unwrap();
    assert_eq!(store.refresh_token_user("a1", t(1)).await.unwrap(), Some(alice.id.clone()));
    assert_eq!(store.refresh_token_user("a1", t(2)).await.unwrap(), Some(alice.id.clone()), "not rotated");
    assert_eq!(store.refresh_token_user("a1", t(100)).await.unwrap(), None, "expired");
    store.rotate_refresh_token("a1", "a2", t(100), t(3)).await.unwrap();
    assert_eq!(store.refresh_token_user("a1", t(4)).await.unwrap(), None, "used");
    assert_eq!(store.refresh_token_user("a2", t(4)).await.unwrap(), Some(alice.id.clone()));
    store.revoke_refresh_family("a2").await.unwrap();
    assert_eq!(store.refresh_token_user("a2", t(5)).await.unwrap(), None, "revoked");
    assert_eq!(store.refresh_token_user("nope", t(5)).await.unwrap(), None);
}

/// R-ACC-7: names are set, kept or cleared one by one; a new password revokes every refresh
/// token of the user, and no one else's.
pub async fn names_change_and_a_new_password_ends_every_session(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let named = store.update_names(&alice.id, Change::Set("Ada".into()), Change::Keep).await.unwrap();
    assert_eq!((named.first_name.as_deref(), named.last_name.as_deref()), (Some("Ada"), None));
    let named = store.update_names(&alice.id, Change::Keep, Change::Set("Lovelace".into())).await.unwrap();
    assert_eq!((named.first_name.as_deref(), named.last_name.as_deref()), (Some("Ada"), Some("Lovelace")));
    let named = store.update_names(&alice.id, Change::Clear, Change::Keep).await.unwrap();
    assert_eq!((named.first_name, named.last_name.as_deref()), (None, Some("Lovelace")));
    assert_eq!(store.user(&alice.id).await.unwrap().unwrap().last_name.as_deref(), Some("Lovelace"));
    let nobody = UserId::from("nobody");
    assert_eq!(
        store.update_names(&nobody, Change::Keep, Change::Keep).await.map(|_| ()),
        Err(StoreError::NotFound(Missing::User))
    );

    let token = |digest: &str, user: &UserRecord| NewRefreshToken {
        digest: digest.into(),
        user_id: user.id.clone(),
        expires_at: t(100),
    };
    for (digest, owner) in [("phone", &alice), ("laptop", &alice), ("bobs", &bob)] {
        store.insert_refresh_token(token(digest, owner), t(0)).await.unwrap();
    }
    store.change_password(&alice.id, "$argon2id$new").await.unwrap();
    assert_eq!(store.user(&alice.id).await.unwrap().unwrap().password_hash, "$argon2id$new");
    for digest in ["phone", "laptop"] {
        assert_eq!(store.refresh_token_user(digest, t(1)).await.unwrap(), None, "{digest} revoked");
    }
    assert_eq!(store.refresh_token_user("bobs", t(1)).await.unwrap(), Some(bob.id.clone()), "bob's untouched");
    assert_eq!(store.change_password(&nobody, "x").await, Err(StoreError::NotFound(Missing::User)));
}

/// R-WS-2: a user's rooms for event routing include hidden direct rooms, in join order.
pub async fn room_ids_include_hidden_direct_rooms(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "g", JoinPolicy::Open).await;
    let dm = store.open_direct_room(&alice.id, &bob.id, "alice, bob", t(2)).await.unwrap();
    store.hide_direct_room(&dm.id, &alice.id).await.unwrap();
    assert_eq!(store.room_ids_of_user(&alice.id).await.unwrap(), [room.id.clone(), dm.id.clone()]);
    assert_eq!(store.room_ids_of_user(&bob.id).await.unwrap(), [dm.id]);
    store.remove_member(&room.id, &alice.id, LeaveReason::Left, &alice.id, t(3)).await.unwrap();
    assert_eq!(store.room_ids_of_user(&alice.id).await.unwrap().len(), 1);
}

/// R-OPS-4: a restarted server finds everything again (on MongoDB, preparing collections,
/// validators and indexes a second time changes nothing), and sequence numbers carry on.
pub async fn reopening_finds_everything_again(test_store: &TestStore) {
    let store = test_store.store.clone();
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "kept", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    let first = send(&store, &room, &bob, "still here").await;
    let again = test_store.backing.reopen(test_store.vault.clone()).await;
    again.ping().await.unwrap();
    assert_eq!(again.user_by_username("alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(again.room(&room.id).await.unwrap().unwrap().member_count, 2);
    assert_eq!(again.messages(&room.id, HistoryRange::Latest, 10).await.unwrap(), [first]);
    assert_eq!(send(&again, &room, &alice, "after").await.seq, 2);
}

/// R-SEC-2: what the database holds shows no message text: not of current messages, not of
/// edited-away versions, not of deleted ones. Rooms, users and times stay readable.
pub async fn message_bodies_are_sealed_at_rest(test_store: &TestStore) {
    let store = &test_store.store;
    let (alice, bob) = (user(store, "alice").await, user(store, "bob").await);
    let room = group(store, &alice, "sealed-room", JoinPolicy::Open).await;
    let kept = send(store, &room, &alice, "the treasure is under platform nine").await;
    let edited = send(store, &room, &alice, "first draft about zeppelins").await;
    store.edit_message(&room.id, &edited.id, "second draft", t(11)).await.unwrap();
    let deleted = send(store, &room, &alice, "regrettable remark about marmalade").await;
    store.delete_message(&room.id, &deleted.id, t(12)).await.unwrap();
    let dm = store.open_direct_room(&alice.id, &bob.id, "alice, bob", t(13)).await.unwrap();
    send(store, &dm, &bob, "private rendezvous at quayside").await;

    let dump = test_store.backing.dump().await;
    let shows = |text: &str| dump.windows(text.len()).any(|w| w == text.as_bytes());
    assert!(shows("sealed-room"), "the dump is not empty: room names are not sealed");
    for secret in ["treasure", "platform nine", "zeppelins", "second draft", "marmalade", "rendezvous"] {
        assert!(!shows(secret), "the database shows message text: {secret:?}");
    }
    // Read back through the store, everything is there.
    let history = store.messages(&room.id, HistoryRange::Latest, 10).await.unwrap();
    let bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["", "second draft", "the treasure is under platform nine"]);
    assert_eq!(store.message(&room.id, &kept.id).await.unwrap().unwrap().body, kept.body);
    let dm_history = store.messages(&dm.id, HistoryRange::Latest, 10).await.unwrap();
    assert_eq!(dm_history[0].body, "private rendezvous at quayside");
}

/// R-SEC-2: a changed byte in a stored body is reported as an error, never returned as text,
/// and the room's other messages stay readable one by one.
pub async fn tampered_bodies_are_errors_never_text(test_store: &TestStore) {
    let store = &test_store.store;
    let alice = user(store, "alice").await;
    let room = group(store, &alice, "tamper", JoinPolicy::Open).await;
    let good = send(store, &room, &alice, "untouched").await;
    let bad = send(store, &room, &alice, "pay 10 coins").await;
    test_store.backing.tamper_with_body(&bad.id).await;
    assert!(matches!(store.message(&room.id, &bad.id).await, Err(StoreError::Corrupt(_))));
    assert!(matches!(store.messages(&room.id, HistoryRange::Latest, 10).await, Err(StoreError::Corrupt(_))));
    assert_eq!(store.message(&room.id, &good.id).await.unwrap().unwrap().body, "untouched");
    // After a restart (nothing in memory), the same.
    let again = test_store.backing.reopen(test_store.vault.clone()).await;
    assert!(matches!(again.message(&room.id, &bad.id).await, Err(StoreError::Corrupt(_))));
    assert_eq!(again.message(&room.id, &good.id).await.unwrap().unwrap().body, "untouched");
}

/// R-SEC-2: the data keys are wrapped to the server key. Opening the database with another
/// key file is refused with a reason (every message would be unreadable), and changes nothing.
pub async fn another_server_key_opens_nothing(test_store: &TestStore) {
    let store = &test_store.store;
    let alice = user(store, "alice").await;
    let room = group(store, &alice, "keyed", JoinPolicy::Open).await;
    let message = send(store, &room, &alice, "for our eyes only").await;
    let refused = test_store.backing.try_reopen(test_vault()).await.map(drop);
    assert_eq!(refused, Err(StoreError::WrongServerKey));
    let again = test_store.backing.reopen(test_store.vault.clone()).await;
    assert_eq!(again.message(&room.id, &message.id).await.unwrap().unwrap().body, "for our eyes only");
}

/// R-OPS-7 (key rotation): every wrapped data key is listed once, rooms' and the store's own,
/// in pages in scope order; a key is replaced only while it is still the one read.
pub async fn wrapped_keys_are_listed_in_pages_and_replaced_only_when_unchanged(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let mut rooms = BTreeSet::new();
    for name in ["one", "two", "three"] {
        rooms.insert(group(&store, &alice, name, JoinPolicy::Open).await.id.0);
    }
    let direct = store.open_direct_room(&alice.id, &bob.id, "alice, bob", t(0)).await.unwrap();
    rooms.insert(direct.id.0);
    let mut listed = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.wrapped_keys(after.as_deref(), 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.scope.clone());
        listed.extend(page);
    }
    let scopes: Vec<String> = listed.iter().map(|k| k.scope.clone()).collect();
    let mut expected: Vec<String> = rooms.iter().cloned().chain([SERVER_KEY_SCOPE.to_owned()]).collect();
    expected.sort();
    assert_eq!(scopes, expected, "every key once, in scope order");
    let (first, second) = (&listed[0], &listed[1]);
    assert!(!store.replace_wrapped_key(&first.scope, b"not what is stored", &second.wrapped).await.unwrap());
    assert!(store.replace_wrapped_key(&first.scope, &first.wrapped, &second.wrapped).await.unwrap());
    let now = store.wrapped_keys(None, 100).await.unwrap();
    assert_eq!(now.iter().find(|k| k.scope == first.scope).unwrap().wrapped, second.wrapped);
    assert!(!store.replace_wrapped_key(&first.scope, &first.wrapped, &first.wrapped).await.unwrap(), "changed since");
    assert!(store.replace_wrapped_key(&first.scope, &second.wrapped, &first.wrapped).await.unwrap());
    let own = listed.iter().find(|k| k.scope == SERVER_KEY_SCOPE).unwrap();
    assert!(store.replace_wrapped_key(SERVER_KEY_SCOPE, &own.wrapped, &own.wrapped).await.unwrap());
    assert!(!store.replace_wrapped_key("no-such-scope", &own.wrapped, &own.wrapped).await.unwrap());
}

/// R-MSG-10, R-NOTE-1: a message's @mentions are notified in the message's own write: each
/// mentioned member other than the author gets one `mention` pointing at it; a non-member, the
/// author and an unknown name get none; a repeated client id stores no second one.
pub async fn mentions_are_stored_with_their_message(store: Arc<dyn Store>) {
    let (alice, bob, carol) = (user(&store, "alice").await, user(&store, "bob").await, user(&store, "carol").await);
    let room = group(&store, &alice, "mentions", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(1)).await.unwrap();
    let mentioning = || NewMessage {
        mentions: ["bob", "carol", "alice", "nobody"].map(String::from).to_vec(),
        ..text_message(&room.id, &alice.id, "@bob @carol @alice @nobody look".into(), Some("m1".into()))
    };
    let sent = store.insert_message(mentioning(), t(2)).await.unwrap();
    assert!(sent.created);
    assert_eq!(sent.notices.len(), 1, "bob only: {:?}", sent.notices);
    let notice = &sent.notices[0];
    assert_eq!(
        (&notice.user_id, notice.kind, notice.room_id.as_ref()),
        (&bob.id, NotificationKind::Mention, Some(&room.id))
    );
    assert_eq!(notice.actor_id.as_ref(), Some(&alice.id));
    assert_eq!(notice.data["message_id"], sent.message.id.as_str());
    assert_eq!(notice.data["seq"], sent.message.seq);
    assert_eq!(
        (notice.data["room_name"].as_str(), notice.data["actor_username"].as_str()),
        (Some("mentions"), Some("alice"))
    );
    assert_eq!(store.notifications(&bob.id, false, None, 10).await.unwrap(), sent.notices);
    for nobody in [&alice, &carol] {
        assert!(store.notifications(&nobody.id, false, None, 10).await.unwrap().is_empty());
    }
    let again = store.insert_message(mentioning(), t(3)).await.unwrap();
    assert!(!again.created && again.notices.is_empty());
    assert_eq!(store.notifications(&bob.id, false, None, 10).await.unwrap().len(), 1);
}

/// R-NOTE-1: a direct message the app found its peer offline for leaves the peer a
/// `direct_message` notification in the message's own write; none for someone who is not in the
/// room, none for the author, none when the peer was online (no notice asked).
pub async fn a_direct_message_notifies_the_offline_peer_in_its_write(store: Arc<dyn Store>) {
    let (alice, bob, carol) = (user(&store, "alice").await, user(&store, "bob").await, user(&store, "carol").await);
    let dm = store.open_direct_room(&alice.id, &bob.id, "alice, bob", t(0)).await.unwrap();
    let sent = |n: u32, notice: Option<&UserRecord>| NewMessage {
        direct_notice: notice.map(|u| u.id.clone()),
        ..text_message(&dm.id, &alice.id, format!("hello {n}"), None)
    };
    let offline = store.insert_message(sent(1, Some(&bob)), t(1)).await.unwrap();
    assert_eq!(offline.notices.len(), 1);
    let notice = &offline.notices[0];
    assert_eq!((&notice.user_id, notice.kind), (&bob.id, NotificationKind::DirectMessage));
    assert_eq!(notice.data["message_id"], offline.message.id.as_str());
    assert_eq!(notice.data["actor_username"], "alice");
    for asked in [None, Some(&carol), Some(&alice)] {
        assert!(store.insert_message(sent(2, asked), t(2)).await.unwrap().notices.is_empty());
    }
    assert_eq!(store.notifications(&bob.id, false, None, 10).await.unwrap(), offline.notices);
    assert!(store.notifications(&carol.id, false, None, 10).await.unwrap().is_empty());
}

/// R-NOTE-1, R-ROOM-5: a kick, a ban, a termination and what R-ROOM-5 does after a departure
/// store their notices in their own transaction and return them: the kicked and the banned
/// member (from whoever did it), every other former member of a terminated room, the member a
/// departure promoted (inherited) and the last member its termination removed.
pub async fn departures_bans_and_terminations_store_their_notices(store: Arc<dyn Store>) {
    let [alice, bob, carol, dave] = [
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
        user(&store, "dave").await,
    ];
    let summary = |notices: &[NotificationRecord]| -> Vec<(UserId, NotificationKind, Option<UserId>)> {
        notices.iter().map(|n| (n.user_id.clone(), n.kind, n.actor_id.clone())).collect()
    };
    let room = group(&store, &alice, "moderated", JoinPolicy::Open).await;
    for member in [&bob, &carol, &dave] {
        store.add_member(&room.id, &member.id, Role::Member, &member.id, t(1)).await.unwrap();
    }
    let kicked = store.remove_member(&room.id, &bob.id, LeaveReason::Kicked, &alice.id, t(2)).await.unwrap();
    assert_eq!(summary(&kicked.notices), [(bob.id.clone(), NotificationKind::Kicked, Some(alice.id.clone()))]);
    let notice = &kicked.notices[0];
    assert_eq!(
        (notice.data["room_name"].as_str(), notice.data["actor_username"].as_str()),
        (Some("moderated"), Some("alice"))
    );
    assert_eq!(store.notifications(&bob.id, false, None, 10).await.unwrap(), kicked.notices);
    let banned = store.ban(&room.id, &carol.id, &alice.id, t(3)).await.unwrap();
    assert_eq!(summary(&banned.notices), [(carol.id.clone(), NotificationKind::Banned, Some(alice.id.clone()))]);
    assert!(banned.departure.unwrap().notices.is_empty(), "a ban tells its own");
    // The owner leaves dave alone, a member: the room ends and dave is removed, and told.
    let left = store.remove_member(&room.id, &alice.id, LeaveReason::Left, &alice.id, t(4)).await.unwrap();
    assert_eq!(summary(&left.notices), [(dave.id.clone(), NotificationKind::RoomTerminated, None)]);

    let inherited = group(&store, &alice, "inherited", JoinPolicy::Open).await;
    for member in [&bob, &dave] {
        store.add_member(&inherited.id, &member.id, Role::Member, &member.id, t(5)).await.unwrap();
    }
    let left = store.remove_member(&inherited.id, &alice.id, LeaveReason::Left, &alice.id, t(6)).await.unwrap();
    assert_eq!(summary(&left.notices), [(bob.id.clone(), NotificationKind::Promoted, None)]);
    assert_eq!(
        (left.notices[0].data["role"].as_str(), left.notices[0].data["inherited"].as_bool()),
        (Some("owner"), Some(true))
    );

    let ended = group(&store, &alice, "ended", JoinPolicy::Open).await;
    store.add_member(&ended.id, &dave.id, Role::Member, &dave.id, t(7)).await.unwrap();
    let terminated = store.terminate_room(&ended.id, &alice.id, t(8)).await.unwrap();
    assert_eq!(
        summary(&terminated.notices),
        [(dave.id.clone(), NotificationKind::RoomTerminated, Some(alice.id.clone()))]
    );
    assert!(store.notifications(&alice.id, false, None, 10).await.unwrap().is_empty(), "the actor is never told");
}

/// R-NOTE-1: an unban, a role change by the owner (a role set to what it was leaves none), an
/// invitation and a join request store their notices with them.
pub async fn unbans_and_role_changes_store_their_notices(store: Arc<dyn Store>) {
    let (alice, bob, carol) = (user(&store, "alice").await, user(&store, "bob").await, user(&store, "carol").await);
    let room = group(&store, &alice, "roles", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(1)).await.unwrap();
    let promoted = store.set_role(&room.id, &bob.id, Role::Admin, &alice.id, t(2)).await.unwrap();
    assert_eq!(promoted.membership.role, Role::Admin);
    assert_eq!(promoted.notices.len(), 1);
    let notice = &promoted.notices[0];
    assert_eq!(
        (&notice.user_id, notice.kind, notice.actor_id.as_ref()),
        (&bob.id, NotificationKind::Promoted, Some(&alice.id))
    );
    assert_eq!((notice.data["role"].as_str(), notice.data["actor_username"].as_str()), (Some("admin"), Some("alice")));
    assert!(store.set_role(&room.id, &bob.id, Role::Admin, &alice.id, t(3)).await.unwrap().notices.is_empty());
    let demoted = store.set_role(&room.id, &bob.id, Role::Member, &alice.id, t(4)).await.unwrap();
    assert_eq!(demoted.notices.iter().map(|n| n.kind).collect::<Vec<_>>(), [NotificationKind::Demoted]);
    store.ban(&room.id, &carol.id, &alice.id, t(5)).await.unwrap();
    let unbanned = store.unban(&room.id, &carol.id, &alice.id, t(6)).await.unwrap();
    assert_eq!(
        unbanned.iter().map(|n| (n.user_id.clone(), n.kind)).collect::<Vec<_>>(),
        [(carol.id.clone(), NotificationKind::Unbanned)]
    );
    let kinds: Vec<NotificationKind> =
        store.notifications(&carol.id, false, None, 10).await.unwrap().iter().map(|n| n.kind).collect();
    assert_eq!(kinds.len(), 2, "banned, then unbanned: {kinds:?}");
    // An invitation tells the invitee; a join request tells every admin, from the one asking.
    let invited = store.create_invite(&room.id, &carol.id, &alice.id, t(7)).await.unwrap();
    let told = |notices: &[NotificationRecord]| -> Vec<(UserId, NotificationKind, Option<UserId>)> {
        notices.iter().map(|n| (n.user_id.clone(), n.kind, n.actor_id.clone())).collect()
    };
    assert_eq!(told(&invited.notices), [(carol.id.clone(), NotificationKind::Invited, Some(alice.id.clone()))]);
    let asking = group(&store, &alice, "asking", JoinPolicy::Request).await;
    store.add_member(&asking.id, &bob.id, Role::Member, &bob.id, t(8)).await.unwrap();
    store.set_role(&asking.id, &bob.id, Role::Admin, &alice.id, t(8)).await.unwrap();
    let requested = store.create_join_request(&asking.id, &carol.id, t(9)).await.unwrap();
    let mut admins: Vec<UserId> = requested.notices.iter().map(|n| n.user_id.clone()).collect();
    admins.sort();
    let mut expected = vec![alice.id.clone(), bob.id.clone()];
    expected.sort();
    assert_eq!(admins, expected, "every admin");
    assert!(
        requested
            .notices
            .iter()
            .all(|n| n.kind == NotificationKind::JoinRequest && n.actor_id.as_ref() == Some(&carol.id))
    );
    assert_eq!(requested.notices[0].data["actor_username"], "carol");
}

/// What an audit record says: action, actor, target, role.
type AuditLine = (AuditAction, Option<UserId>, Option<UserId>, Option<Role>);

fn audit_summary(records: &[AuditRecord]) -> Vec<AuditLine> {
    records.iter().map(|r| (r.action, r.actor_id.clone(), r.target_id.clone(), r.role)).collect()
}

/// R-OPS-1: room creation, joins, role changes, kicks, bans, unbans, departures, what R-ROOM-5
/// did about them, and termination are recorded with actor, target and time, newest first; a
/// refused command records nothing.
pub async fn audit_trail_records_room_actions_newest_first(store: Arc<dyn Store>) {
    let (alice, bob, carol, dave) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
        user(&store, "dave").await,
    );
    let room = group(&store, &alice, "audited", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    store.add_member(&room.id, &carol.id, Role::Member, &alice.id, t(3)).await.unwrap();
    store.set_role(&room.id, &bob.id, Role::Admin, &alice.id, t(4)).await.unwrap();
    store.remove_member(&room.id, &carol.id, LeaveReason::Kicked, &alice.id, t(5)).await.unwrap();
    store.ban(&room.id, &dave.id, &bob.id, t(6)).await.unwrap();
    assert!(store.ban(&room.id, &dave.id, &bob.id, t(7)).await.is_err(), "already banned");
    store.unban(&room.id, &dave.id, &alice.id, t(8)).await.unwrap();
    assert!(store.unban(&room.id, &dave.id, &alice.id, t(9)).await.is_err(), "no ban left");
    store.remove_member(&room.id, &alice.id, LeaveReason::Left, &alice.id, t(10)).await.unwrap();
    store.terminate_room(&room.id, &bob.id, t(11)).await.unwrap();

    let trail = store.room_audit(&room.id, None, 50).await.unwrap();
    let some = |u: &UserRecord| Some(u.id.clone());
    assert_eq!(
        audit_summary(&trail),
        vec![
            (AuditAction::RoomTerminated, some(&bob), None, None),
            (AuditAction::RoleChanged, None, some(&bob), Some(Role::Owner)),
            (AuditAction::MemberLeft, some(&alice), some(&alice), None),
            (AuditAction::MemberUnbanned, some(&alice), some(&dave), None),
            (AuditAction::MemberBanned, some(&bob), some(&dave), None),
            (AuditAction::MemberKicked, some(&alice), some(&carol), None),
            (AuditAction::RoleChanged, some(&alice), some(&bob), Some(Role::Admin)),
            (AuditAction::MemberJoined, some(&alice), some(&carol), None),
            (AuditAction::MemberJoined, some(&bob), some(&bob), None),
            (AuditAction::RoomCreated, some(&alice), None, None),
        ]
    );
    assert_eq!(trail[0].created_at, t(11));
    assert_eq!(trail[9].created_at, t(1));
    assert!(trail.iter().all(|r| r.room_id.as_ref() == Some(&room.id)));

    // Pages of 4 give the same records in the same order.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.room_audit(&room.id, after.as_ref(), 4).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(AuditCursor { created_at: last.created_at, id: last.id.clone() });
        paged.extend(page);
    }
    assert_eq!(paged, trail);

    // R-ROOM-5 terminating a room records it without an actor.
    let small = group(&store, &alice, "small", JoinPolicy::Open).await;
    store.add_member(&small.id, &bob.id, Role::Member, &bob.id, t(12)).await.unwrap();
    store.remove_member(&small.id, &alice.id, LeaveReason::Left, &alice.id, t(13)).await.unwrap();
    let small_trail = store.room_audit(&small.id, None, 10).await.unwrap();
    assert_eq!(
        audit_summary(&small_trail[..2]),
        vec![
            (AuditAction::RoomTerminated, None, None, None),
            (AuditAction::MemberLeft, some(&alice), some(&alice), None),
        ]
    );
    assert_eq!(store.room_audit(&RoomId::from("missing"), None, 10).await, Err(StoreError::NotFound(Missing::Room)));
}

/// R-OPS-1: sign-ups and logins are recorded per account, newest first.
pub async fn account_audit_records_signups_and_logins(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    for (minute, digest) in [(5, "d1"), (6, "d2")] {
        let token = NewRefreshToken { digest: digest.into(), user_id: alice.id.clone(), expires_at: t(60) };
        store.insert_refresh_token(token, t(minute)).await.unwrap();
    }
    let trail = store.account_audit(&alice.id, None, 10).await.unwrap();
    let actions: Vec<(AuditAction, Option<UserId>, DateTime<Utc>)> =
        trail.iter().map(|r| (r.action, r.actor_id.clone(), r.created_at)).collect();
    let me = Some(alice.id.clone());
    assert_eq!(
        actions,
        vec![
            (AuditAction::LoggedIn, me.clone(), t(6)),
            (AuditAction::LoggedIn, me.clone(), t(5)),
            (AuditAction::SignedUp, me, alice.created_at),
        ]
    );
    assert!(trail.iter().all(|r| r.room_id.is_none()));
    let bobs = store.account_audit(&bob.id, None, 10).await.unwrap();
    assert_eq!(bobs.iter().map(|r| r.action).collect::<Vec<_>>(), [AuditAction::SignedUp]);
    let second_page = store
        .account_audit(&alice.id, Some(&AuditCursor { created_at: trail[0].created_at, id: trail[0].id.clone() }), 10)
        .await
        .unwrap();
    assert_eq!(second_page, trail[1..]);
}

/// R-OPS-2: rooms terminated before the cutoff go, with their messages, members' log entries
/// and audit trail; rooms terminated later and live rooms stay.
pub async fn cleanup_deletes_ended_rooms_with_everything_in_them(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let old = group(&store, &alice, "old", JoinPolicy::Open).await;
    store.add_member(&old.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    let message = send(&store, &old, &bob, "from the old days").await;
    store.terminate_room(&old.id, &alice.id, t(20)).await.unwrap();
    let recent = group(&store, &alice, "recent", JoinPolicy::Open).await;
    store.terminate_room(&recent.id, &alice.id, t(40)).await.unwrap();
    let live = group(&store, &alice, "live", JoinPolicy::Open).await;
    send(&store, &live, &alice, "still here").await;

    let deleted = store.delete_ended_rooms(t(30)).await.unwrap();
    assert_eq!(deleted, vec![old.id.clone()]);
    assert_eq!(store.room(&old.id).await.unwrap(), None);
    assert_eq!(store.message(&old.id, &message.id).await.unwrap(), None);
    assert!(store.messages(&old.id, HistoryRange::Latest, 10).await.unwrap().is_empty());
    assert_eq!(store.room_audit(&old.id, None, 10).await, Err(StoreError::NotFound(Missing::Room)));
    let bobs_log = store.room_log(&bob.id, None, 10).await.unwrap();
    assert!(bobs_log.is_empty(), "log entries of a deleted room go with it");

    assert!(store.room(&recent.id).await.unwrap().is_some(), "terminated after the cutoff: kept");
    assert_eq!(store.messages(&live.id, HistoryRange::Latest, 10).await.unwrap()[0].body, "still here");
    assert!(store.delete_ended_rooms(t(30)).await.unwrap().is_empty(), "a second run finds nothing");
    assert_eq!(store.delete_ended_rooms(t(50)).await.unwrap(), vec![recent.id.clone()]);
    assert!(store.room(&live.id).await.unwrap().is_some());
}

/// R-OPS-2: room-log entries and read notifications older than the cutoff go (ban records
/// stay: the banned user still cannot join), unread notifications stay; expired refresh tokens
/// go and live ones keep working.
pub async fn cleanup_deletes_old_logs_read_notifications_and_expired_tokens(store: Arc<dyn Store>) {
    let (alice, bob, carol) = (user(&store, "alice").await, user(&store, "bob").await, user(&store, "carol").await);
    let room = group(&store, &alice, "club", JoinPolicy::Open).await;
    for member in [&bob, &carol] {
        store.add_member(&room.id, &member.id, Role::Member, &member.id, t(2)).await.unwrap();
    }
    store.remove_member(&room.id, &bob.id, LeaveReason::Left, &bob.id, t(3)).await.unwrap();
    store.ban(&room.id, &carol.id, &alice.id, t(4)).await.unwrap();
    let other = group(&store, &alice, "other", JoinPolicy::Open).await;
    store.add_member(&other.id, &bob.id, Role::Member, &bob.id, t(5)).await.unwrap();
    store.remove_member(&other.id, &bob.id, LeaveReason::Left, &bob.id, t(60)).await.unwrap();

    assert_eq!(store.delete_room_log_before(t(30)).await.unwrap(), 2);
    let bobs_log = store.room_log(&bob.id, None, 10).await.unwrap();
    assert_eq!(bobs_log.iter().map(|e| e.room.id.clone()).collect::<Vec<_>>(), vec![other.id.clone()]);
    assert!(store.room_log(&carol.id, None, 10).await.unwrap().is_empty());
    assert!(store.is_banned(&room.id, &carol.id).await.unwrap(), "the ban record survives");
    assert_eq!(
        store.add_member(&room.id, &carol.id, Role::Member, &carol.id, t(61)).await.map(|_| ()),
        Err(StoreError::Banned)
    );

    let (old_read, old_unread, new_read) = (
        invited(&store, &bob, &alice, "old read", 1).await,
        invited(&store, &bob, &alice, "old unread", 2).await,
        invited(&store, &bob, &alice, "new read", 50).await,
    );
    for id in [&old_read.id, &new_read.id] {
        store.mark_notification_read(&alice.id, id).await.unwrap();
    }
    assert_eq!(store.delete_read_notifications_before(t(30)).await.unwrap(), 1);
    let left: Vec<NotificationId> =
        store.notifications(&alice.id, false, None, 10).await.unwrap().into_iter().map(|n| n.id).collect();
    assert_eq!(left, vec![old_unread.id.clone(), new_read.id.clone()]);

    for (digest, expires) in [("expired", t(10)), ("live", t(100))] {
        let token = NewRefreshToken { digest: digest.into(), user_id: bob.id.clone(), expires_at: expires };
        store.insert_refresh_token(token, t(1)).await.unwrap();
    }
    assert_eq!(store.delete_expired_refresh_tokens(t(50)).await.unwrap(), 1);
    assert_eq!(store.refresh_token_user("live", t(50)).await.unwrap(), Some(bob.id.clone()));
    assert_eq!(store.rotate_refresh_token("expired", "next", t(200), t(50)).await.unwrap(), Rotation::Invalid);
    assert_eq!(store.delete_expired_refresh_tokens(t(50)).await.unwrap(), 0);
}

/// R-OPS-3: a batch of deferred writes declines requests, marks notifications and rooms read
/// and moves last-seen forward (never back); writes whose target is gone are skipped, and the
/// rest of the batch still applies.
pub async fn deferred_writes_apply_in_order_and_skip_what_is_gone(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    assert_eq!(alice.last_seen_at, None);
    let room = group(&store, &alice, "deferred", JoinPolicy::Request).await;
    store.create_join_request(&room.id, &bob.id, t(2)).await.unwrap();
    let open = group(&store, &alice, "open", JoinPolicy::Open).await;
    store.add_member(&open.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    for text in ["one", "two", "three"] {
        send(&store, &open, &alice, text).await;
    }
    let mut notes = Vec::new();
    for minute in [3, 4, 5] {
        notes.push(invited(&store, &alice, &bob, &format!("invited {minute}"), minute).await);
    }
    assert_eq!(store.unread_notification_count(&bob.id).await.unwrap(), 3);
    assert_eq!(store.notification(&bob.id, &notes[0].id).await.unwrap().map(|n| n.read), Some(false));
    assert_eq!(store.notification(&alice.id, &notes[0].id).await.unwrap(), None, "not hers");

    let told = store
        .apply_deferred(vec![
            DeferredWrite::DeclineRequest {
                room: room.id.clone(),
                user: bob.id.clone(),
                by: alice.id.clone(),
                at: t(6),
            },
            DeferredWrite::DeclineRequest {
                room: room.id.clone(),
                user: bob.id.clone(),
                by: alice.id.clone(),
                at: t(6),
            },
            DeferredWrite::NotificationRead { user: bob.id.clone(), id: notes[0].id.clone() },
            DeferredWrite::NotificationRead { user: bob.id.clone(), id: NotificationId::from("gone") },
            DeferredWrite::RoomRead { room: open.id.clone(), user: bob.id.clone(), seq: 2 },
            DeferredWrite::RoomRead { room: open.id.clone(), user: bob.id.clone(), seq: 1 },
            DeferredWrite::RoomRead { room: RoomId::from("gone"), user: bob.id.clone(), seq: 1 },
            DeferredWrite::LastSeen { user: bob.id.clone(), at: t(30) },
            DeferredWrite::LastSeen { user: bob.id.clone(), at: t(20) },
            DeferredWrite::LastSeen { user: UserId::from("gone"), at: t(30) },
        ])
        .await
        .unwrap();
    assert_eq!(
        told.iter().map(|n| (n.user_id.clone(), n.kind)).collect::<Vec<_>>(),
        [(bob.id.clone(), NotificationKind::RequestDeclined)]
    );
    assert_eq!(store.join_request(&room.id, &bob.id).await.unwrap(), None);
    assert_eq!(store.unread_notification_count(&bob.id).await.unwrap(), 3, "one read, one more: the decline's");
    let mine = store.rooms_of_user(&bob.id, None, 10).await.unwrap();
    assert_eq!((mine[0].membership.last_read_seq, mine[0].unread_count), (2, 1), "never back");
    assert_eq!(store.user(&bob.id).await.unwrap().unwrap().last_seen_at, Some(t(30)), "never back");

    store.apply_deferred(vec![DeferredWrite::AllNotificationsRead { user: bob.id.clone() }]).await.unwrap();
    assert_eq!(store.unread_notification_count(&bob.id).await.unwrap(), 0);
    assert_eq!(store.apply_deferred(Vec::new()).await.unwrap(), []);
}

fn upload(room: &RoomRecord, uploader: &UserRecord, name: &str, content: &[u8]) -> NewAttachment {
    NewAttachment {
        room_id: room.id.clone(),
        uploader_id: uploader.id.clone(),
        filename: name.to_owned(),
        content_type: "text/plain".to_owned(),
        content: content.to_vec(),
    }
}

fn with_attachment(room: &RoomRecord, author: &UserRecord, attachment: &AttachmentId) -> NewMessage {
    NewMessage { attachment_id: Some(attachment.clone()), ..text_message(&room.id, &author.id, String::new(), None) }
}

/// R-MSG-6: an upload is sent with one message of its uploader in its room; the message shows
/// it, history keeps it, deleting the message forgets it, and unsent uploads are cleaned up.
pub async fn attachments_are_sent_once_by_their_uploader(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&store, "alice").await, user(&store, "bob").await);
    let room = group(&store, &alice, "files", JoinPolicy::Open).await;
    store.add_member(&room.id, &bob.id, Role::Member, &bob.id, t(2)).await.unwrap();
    let other = group(&store, &alice, "elsewhere", JoinPolicy::Open).await;
    let notes = store.insert_attachment(upload(&room, &alice, "notes.txt", b"remember the milk"), t(3)).await.unwrap();
    assert_eq!((notes.meta.size, notes.message_id.clone()), (17, None));

    let refused = [
        (with_attachment(&room, &bob, &notes.meta.id), "not bob's"),
        (with_attachment(&other, &alice, &notes.meta.id), "not that room's"),
        (with_attachment(&room, &alice, &AttachmentId::from("missing")), "no such upload"),
    ];
    for (message, why) in refused {
        assert_eq!(
            store.insert_message(message, t(4)).await.map(|_| ()),
            Err(StoreError::NotFound(Missing::Attachment)),
            "{why}"
        );
    }
    assert_eq!(store.room(&room.id).await.unwrap().unwrap().last_seq, 0, "refused sends store nothing");

    let sent = store.insert_message(with_attachment(&room, &alice, &notes.meta.id), t(5)).await.unwrap().message;
    assert_eq!(sent.attachment.as_ref(), Some(&notes.meta));
    assert_eq!(
        store.insert_message(with_attachment(&room, &alice, &notes.meta.id), t(6)).await.map(|_| ()),
        Err(StoreError::Conflict(Conflict::AttachmentUsed))
    );
    let history = store.messages(&room.id, HistoryRange::Latest, 10).await.unwrap();
    assert_eq!(history[0].attachment.as_ref(), Some(&notes.meta));
    let (record, content) = store.attachment(&room.id, &notes.meta.id).await.unwrap().unwrap();
    assert_eq!((record.message_id, content.as_slice()), (Some(sent.id.clone()), &b"remember the milk"[..]));
    assert_eq!(store.attachment(&other.id, &notes.meta.id).await.unwrap(), None, "only in its own room");

    // R-MSG-7: editing the text keeps the file.
    let edited = store.edit_message(&room.id, &sent.id, "the milk, really", t(6)).await.unwrap();
    assert_eq!(edited.attachment, sent.attachment);
    assert!(store.attachment(&room.id, &notes.meta.id).await.unwrap().is_some(), "an edit keeps the attachment");
    let deleted = store.delete_message(&room.id, &sent.id, t(7)).await.unwrap();
    assert_eq!(deleted.attachment, None);
    assert_eq!(store.attachment(&room.id, &notes.meta.id).await.unwrap(), None, "deleted with its message");

    let old = store.insert_attachment(upload(&room, &bob, "old.txt", b"never sent"), t(8)).await.unwrap();
    let kept = store.insert_attachment(upload(&room, &bob, "new.txt", b"about to be sent"), t(20)).await.unwrap();
    assert_eq!(store.delete_unsent_attachments_before(t(10)).await.unwrap(), 1);
    assert_eq!(store.attachment(&room.id, &old.meta.id).await.unwrap(), None);
    assert!(store.attachment(&room.id, &kept.meta.id).await.unwrap().is_some());
    store.terminate_room(&room.id, &alice.id, t(30)).await.unwrap();
    assert_eq!(
        store.insert_attachment(upload(&room, &bob, "late.txt", b"x"), t(31)).await.map(|_| ()),
        Err(StoreError::RoomTerminated)
    );
}

/// R-MSG-6, R-MSG-2: sends of one upload at the same moment (on SQLite, in one transaction,
/// each checked after the ones before it were written) store one message; the others are
/// refused as used, leave no gap, and the sends around them are stored.
pub async fn an_upload_sent_by_concurrent_sends_goes_with_one(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let room = group(&store, &alice, "files", JoinPolicy::Open).await;
    let notes = store.insert_attachment(upload(&room, &alice, "notes.txt", b"remember the milk"), t(3)).await.unwrap();
    let sends = (0..8).map(|i| {
        let message = if i % 2 == 0 {
            with_attachment(&room, &alice, &notes.meta.id)
        } else {
            text_message(&room.id, &alice.id, format!("plain {i}"), None)
        };
        store.insert_message(message, t(4))
    });
    let outcomes = futures_util::future::join_all(sends).await;
    let mut with_it = 0;
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(inserted) if i % 2 == 0 => {
                assert_eq!(inserted.message.attachment.as_ref(), Some(&notes.meta));
                with_it += 1;
            }
            Ok(inserted) => assert_eq!(inserted.message.attachment, None),
            Err(error) => {
                assert_eq!(i % 2, 0, "a plain send failed: {error}");
                assert_eq!(error, StoreError::Conflict(Conflict::AttachmentUsed));
            }
        }
    }
    assert_eq!(with_it, 1, "the upload went with one message");
    let history = store.messages(&room.id, HistoryRange::After(0), 10).await.unwrap();
    assert_eq!(
        history.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=5).rev().collect::<Vec<u64>>(),
        "newest first, no gap"
    );
    assert_eq!(history.iter().filter(|m| m.attachment.is_some()).count(), 1);
}

/// R-SEC-2, R-MSG-6: neither an attachment's bytes nor its name are readable in the database.
pub async fn attachments_are_sealed_at_rest(test_store: &TestStore) {
    let store = &test_store.store;
    let alice = user(store, "alice").await;
    let room = group(store, &alice, "vaulted", JoinPolicy::Open).await;
    let file = upload(&room, &alice, "salary-negotiation.txt", b"ask for forty-two thousand");
    let stored = store.insert_attachment(file, t(2)).await.unwrap();
    store.insert_message(with_attachment(&room, &alice, &stored.meta.id), t(3)).await.unwrap();
    let dump = test_store.backing.dump().await;
    for secret in ["salary-negotiation", "forty-two thousand"] {
        assert!(!dump.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret:?} is readable");
    }
    let again = test_store.backing.reopen(test_store.vault.clone()).await;
    let (record, content) = again.attachment(&room.id, &stored.meta.id).await.unwrap().unwrap();
    assert_eq!(
        (record.meta.filename.as_str(), content.as_slice()),
        ("salary-negotiation.txt", &b"ask for forty-two thousand"[..])
    );
}
