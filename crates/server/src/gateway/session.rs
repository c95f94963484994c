//! One WebSocket connection, from authentication to close.

use super::hub::{Event, Frame, Outbound, Registration};
use crate::error::ApiError;
use crate::events;
use crate::http::extract::{AuthUser, verify_access_token};
use crate::http::rooms::{RoomAccess, actor, my_rooms};
use crate::http::views;
use crate::messaging::{self, Draft};
use crate::state::AppState;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use conclave_domain::RoomAction;
use conclave_protocol::{ClientFrame, ErrorCode, MAX_FRAME_BYTES, RoomId, ServerFrame, UserId};
use conclave_store::{DeferredWrite, HistoryRange, UserRecord};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How many messages a resume reads from the store at a time.
const REPLAY_PAGE: u32 = 200;
/// At most this many rooms per `resume` frame.
const MAX_RESUME_ROOMS: usize = 1000;

enum Flow {
    Continue,
    Close,
}

pub async fn run(
    state: Arc<AppState>,
    mut ws: Session,
    mut stream: AggregatedMessageStream,
    cookie_user: Option<UserId>,
) {
    let user = match cookie_user {
        Some(id) => match state.store.user(&id).await {
            Ok(Some(user)) => Some(user),
            _ => None,
        },
        None => authenticate(&state, &mut ws, &mut stream).await,
    };
    let Some(user) = user else {
        return;
    };
    tracing::debug!(user_id = %user.id, "gateway session authenticated");
    connected(state, ws, stream, user).await;
}

fn error_frame(error: &ApiError, client_id: Option<String>) -> String {
    ServerFrame::Error {
        code: error.code,
        message: error.message.clone(),
        client_id,
        retry_after_secs: error.retry_after_secs,
    }
    .to_json()
}

fn refusal(code: ErrorCode, message: &str) -> String {
    error_frame(&ApiError::new(code, message), None)
}

/// Closes with a reason, waiting up to `patience` for room to send it: a client that stopped
/// reading may never make room for it. Dropping the session ends the connection either way.
async fn close_within(ws: Session, code: CloseCode, description: &str, patience: Duration) {
    let reason = CloseReason { code, description: Some(description.to_owned()) };
    let _ = tokio::time::timeout(patience, ws.close(Some(reason))).await;
}

async fn close(ws: Session, code: CloseCode, description: &str) {
    close_within(ws, code, description, Duration::from_secs(2)).await;
}

/// Reads and checks a text frame.
fn parse(text: &str) -> Result<ClientFrame, String> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(refusal(ErrorCode::FrameTooLarge, "frames are limited to 64 KiB"));
    }
    serde_json::from_str(text)
        .map_err(|e| refusal(ErrorCode::MalformedFrame, &format!("not a frame this gateway knows: {e}")))
}

/// Waits for `authenticate` (R-WS-1): nothing else is accepted before it, and a connection that
/// does not authenticate in time is closed.
async fn authenticate(state: &AppState, ws: &mut Session, stream: &mut AggregatedMessageStream) -> Option<UserRecord> {
    let deadline = tokio::time::sleep(state.settings.gateway.auth_timeout);
    tokio::pin!(deadline);
    loop {
        let message = tokio::select! {
            _ = &mut deadline => {
                close(ws.clone(), CloseCode::Policy, "authentication_timeout: send an authenticate frame first").await;
                return None;
            }
            message = stream.recv() => message,
        };
        let text = match message {
            None | Some(Err(_)) | Some(Ok(AggregatedMessage::Close(_))) => return None,
            Some(Ok(AggregatedMessage::Ping(bytes))) => {
                let _ = ws.pong(&bytes).await;
                continue;
            }
            Some(Ok(AggregatedMessage::Pong(_))) => continue,
            Some(Ok(AggregatedMessage::Binary(_))) => {
                let _ = ws.text(refusal(ErrorCode::MalformedFrame, "frames are JSON text")).await;
                continue;
            }
            Some(Ok(AggregatedMessage::Text(text))) => text,
        };
        let token = match parse(&text) {
            Ok(ClientFrame::Authenticate { token }) => token,
            Ok(_) => {
                let _ = ws.text(refusal(ErrorCode::NotAuthenticated, "the first frame must be authenticate")).await;
                continue;
            }
            Err(frame) => {
                let _ = ws.text(frame).await;
                continue;
            }
        };
        let refused = match verify_access_token(state, &token) {
            Ok(auth) => match actor(state, &auth).await {
                Ok(user) => return Some(user),
                Err(refused) => refused,
            },
            Err(refused) => refused,
        };
        let _ = ws.text(error_frame(&refused, None)).await;
        close(ws.clone(), CloseCode::Policy, refused.code.as_str()).await;
        return None;
    }
}

/// The authenticated session: `ready`, then frames both ways until either side stops.
async fn connected(state: Arc<AppState>, mut ws: Session, mut stream: AggregatedMessageStream, user: UserRecord) {
    let auth = AuthUser { id: user.id.clone() };
    let room_ids = match state.store.room_ids_of_user(&user.id).await {
        Ok(ids) => ids,
        Err(error) => {
            tracing::error!(%error, "could not load the user's rooms");
            close(ws, CloseCode::Error, "internal").await;
            return;
        }
    };
    let Registration { id, mut outbound, cancelled, came_online } = state.hub.register(&user.id, room_ids.clone());
    state.metrics.ws_sessions_opened.inc();
    if came_online {
        publish_presence(&state, &user.id, room_ids, true);
    }
    let ready = match my_rooms(&state, &user.id).await {
        Ok(rooms) => ServerFrame::Ready { user: views::user(&user, &state.hub), rooms },
        Err(_) => {
            finish(&state, id, &user.id, &cancelled).await;
            close(ws, CloseCode::Error, "internal").await;
            return;
        }
    };
    let mut session =
        SessionState { state: Arc::clone(&state), auth, delivered: HashMap::new(), last_typing: HashMap::new() };
    let mut open = send(&mut ws, &cancelled, ready.to_json()).await;
    let mut heartbeat = tokio::time::interval(state.settings.gateway.heartbeat);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    while open {
        tokio::select! {
            biased;
            _ = cancelled.cancelled() => break,
            () = state.stopping.cancelled() => {
                close(ws.clone(), CloseCode::Away, "server_stopping: reconnect and resume").await;
                break;
            }
            message = stream.recv() => {
                last_heard = Instant::now();
                open = match message {
                    None | Some(Ok(AggregatedMessage::Close(_))) => false,
                    Some(Err(error)) => {
                        close(ws.clone(), CloseCode::Size, &format!("protocol_error: {error}")).await;
                        false
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => ws.pong(&bytes).await.is_ok(),
                    Some(Ok(AggregatedMessage::Pong(_))) => true,
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        send(&mut ws, &cancelled, refusal(ErrorCode::MalformedFrame, "frames are JSON text")).await
                    }
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        // Whatever was published before this frame goes out before its answer.
                        let mut flushed = true;
                        while let (true, Ok(out)) = (flushed, outbound.try_recv()) {
                            flushed = session.deliver(&mut ws, &cancelled, out).await;
                        }
                        flushed && match parse(&text) {
                            Err(frame) => send(&mut ws, &cancelled, frame).await,
                            Ok(frame) => matches!(session.handle(&mut ws, &cancelled, frame).await, Flow::Continue),
                        }
                    }
                };
            }
            next = outbound.recv() => {
                open = match next {
                    Some(out) => session.deliver(&mut ws, &cancelled, out).await,
                    None => false,
                };
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > state.settings.gateway.idle_timeout {
                    close(ws.clone(), CloseCode::Away, "heartbeat_timeout").await;
                    break;
                }
                open = ws.ping(b"").await.is_ok();
            }
        }
    }
    if cancelled.is_cancelled() {
        // A slow client gets longer to take the reason: it is usually just behind.
        let reason = "slow_consumer: too many frames were waiting; reconnect and resume";
        close_within(ws, CloseCode::Policy, reason, Duration::from_secs(10)).await;
    }
    finish(&state, id, &user.id, &cancelled).await;
}

/// Unregisters the session; the user's rooms learn when their last session is gone (R-WS-5).
async fn finish(state: &AppState, id: super::hub::SessionId, user: &UserId, cancelled: &CancellationToken) {
    let rooms = match state.hub.unregister(id) {
        Some(rooms) => Some(rooms),
        // The hub already dropped a session it gave up on, and with it the user's rooms.
        None if cancelled.is_cancelled() && !state.hub.is_online(user) => state.store.room_ids_of_user(user).await.ok(),
        None => None,
    };
    if let Some(rooms) = rooms {
        publish_presence(state, user, rooms, false);
        // Their last session ended: that is when they were last seen (a buffered write, R-OPS-3).
        let _ = state.deferred.defer(DeferredWrite::LastSeen { user: user.clone(), at: chrono::Utc::now() }).await;
    }
}

fn publish_presence(state: &AppState, user: &UserId, rooms: Vec<RoomId>, online: bool) {
    let frame = ServerFrame::Presence { user_id: user.clone(), online }.to_json();
    state.bus.publish(Event::ToRooms { rooms, except: user.clone(), frame: Frame::from(frame) });
}

/// Sends one frame unless the hub has given up on the session meanwhile. `false`: closed.
async fn send(ws: &mut Session, cancelled: &CancellationToken, text: impl Into<Frame>) -> bool {
    let text: Frame = text.into();
    tokio::select! {
        _ = cancelled.cancelled() => false,
        sent = ws.text(text) => sent.is_ok(),
    }
}

struct SessionState {
    state: Arc<AppState>,
    auth: AuthUser,
    /// What this session delivered per room, live or replayed: it never sends a message twice.
    delivered: HashMap<RoomId, SeenSeqs>,
    last_typing: HashMap<RoomId, Instant>,
}

/// Sequence numbers already delivered, as merged ranges (few: live delivery is contiguous).
#[derive(Debug, Default)]
struct SeenSeqs(Vec<(u64, u64)>);

impl SeenSeqs {
    fn contains(&self, seq: u64) -> bool {
        self.0.iter().any(|(first, last)| (*first..=*last).contains(&seq))
    }

    /// Records `seq`; `false` when it was already there.
    fn insert(&mut self, seq: u64) -> bool {
        if self.contains(seq) {
            return false;
        }
        self.0.push((seq, seq));
        self.0.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.0.len());
        for (first, last) in self.0.drain(..) {
            match merged.last_mut() {
                Some(previous) if first <= previous.1.saturating_add(1) => previous.1 = previous.1.max(last),
                _ => merged.push((first, last)),
            }
        }
        self.0 = merged;
        true
    }
}

impl SessionState {
    /// Delivers a frame from the hub, skipping messages this session already has.
    async fn deliver(&mut self, ws: &mut Session, cancelled: &CancellationToken, out: Outbound) -> bool {
        if let Some((room, seq)) = out.seq
            && !self.delivered.entry(room).or_default().insert(seq)
        {
            return true;
        }
        send(ws, cancelled, out.frame).await
    }

    async fn access(&self, room: RoomId) -> Result<RoomAccess, ApiError> {
        RoomAccess::load(&self.state, room, self.auth.clone()).await
    }

    async fn handle(&mut self, ws: &mut Session, cancelled: &CancellationToken, frame: ClientFrame) -> Flow {
        let reply = match frame {
            // A browser authenticated by its cookie still sends its token: the same user again
            // is no news. Another user's token cannot take the session over.
            ClientFrame::Authenticate { token } => match self.state.tokens.verify(&token) {
                Ok(claims) if claims.sub == self.auth.id.as_str() => return Flow::Continue,
                _ => refusal(ErrorCode::AlreadyAuthenticated, "this session is already authenticated as another user"),
            },
            ClientFrame::Ping => ServerFrame::Pong.to_json(),
            ClientFrame::SendMessage { room_id, body, client_id, color, sticker, attachment_id } => {
                let result = match self.access(room_id).await {
                    Ok(access) => {
                        let draft = Draft { body: &body, color, sticker, client_id: Some(&client_id), attachment_id };
                        messaging::send(&self.state, &access, draft).await
                    }
                    Err(error) => Err(error),
                };
                match result {
                    Ok(inserted) => {
                        ServerFrame::Ack { client_id, message: views::message(&inserted.message) }.to_json()
                    }
                    Err(error) => error_frame(&error, Some(client_id)),
                }
            }
            ClientFrame::Typing { room_id } => match self.typing(room_id).await {
                Ok(()) => return Flow::Continue,
                Err(error) => error_frame(&error, None),
            },
            ClientFrame::Resume { rooms } => return self.resume(ws, cancelled, rooms).await,
        };
        if send(ws, cancelled, reply).await { Flow::Continue } else { Flow::Close }
    }

    /// Tells the room that the user is typing, at most once a second per room.
    async fn typing(&mut self, room_id: RoomId) -> Result<(), ApiError> {
        let access = self.access(room_id.clone()).await?;
        access.authorize(RoomAction::Post)?;
        access.live()?;
        let now = Instant::now();
        if self.last_typing.get(&room_id).is_some_and(|at| now.duration_since(*at).as_millis() < 1000) {
            return Ok(());
        }
        self.last_typing.insert(room_id.clone(), now);
        let frame = ServerFrame::Typing { room_id: room_id.clone(), user_id: self.auth.id.clone() };
        events::to_room(self.state.bus.as_ref(), &room_id, &frame);
        // Typing is activity: it moves the user's last-seen time (a buffered write, R-OPS-3).
        let seen = DeferredWrite::LastSeen { user: self.auth.id.clone(), at: chrono::Utc::now() };
        let _ = self.state.deferred.defer(seen).await;
        Ok(())
    }

    /// Replays every message after the client's last sequence number per room, in order, then
    /// `resumed` (R-WS-3). Messages this session already delivered are not sent again, whether
    /// they came live before the resume or come live after it.
    async fn resume(&mut self, ws: &mut Session, cancelled: &CancellationToken, rooms: BTreeMap<RoomId, u64>) -> Flow {
        if rooms.len() > MAX_RESUME_ROOMS {
            let frame = refusal(ErrorCode::MalformedFrame, "resume at most 1000 rooms at a time");
            return if send(ws, cancelled, frame).await { Flow::Continue } else { Flow::Close };
        }
        for (room_id, last_seq) in rooms {
            let access =
                match self.access(room_id.clone()).await.and_then(|a| a.authorize(RoomAction::Read).map(|()| a)) {
                    Ok(access) => access,
                    Err(error) => {
                        let frame =
                            error_frame(&ApiError::new(error.code, format!("{} ({room_id})", error.message)), None);
                        if !send(ws, cancelled, frame).await {
                            return Flow::Close;
                        }
                        continue;
                    }
                };
            let mut cursor = last_seq;
            loop {
                let page =
                    match self.state.store.messages(&access.room.id, HistoryRange::After(cursor), REPLAY_PAGE).await {
                        Ok(page) => page,
                        Err(error) => {
                            let frame = error_frame(&ApiError::from(error), None);
                            return if send(ws, cancelled, frame).await { Flow::Continue } else { Flow::Close };
                        }
                    };
                let full = page.len() == REPLAY_PAGE as usize;
                for message in page.iter().rev() {
                    cursor = message.seq;
                    if !self.delivered.entry(room_id.clone()).or_default().insert(message.seq) {
                        continue;
                    }
                    let frame = ServerFrame::MessageCreated { message: views::message(message) }.to_json();
                    if !send(ws, cancelled, frame).await {
                        return Flow::Close;
                    }
                }
                if !full {
                    break;
                }
            }
        }
        if send(ws, cancelled, ServerFrame::Resumed.to_json()).await { Flow::Continue } else { Flow::Close }
    }
}

#[cfg(test)]
mod tests {
    use super::SeenSeqs;

    /// R-WS-3: a session remembers what it delivered, in few ranges, and refuses repeats.
    #[test]
    fn r_ws_3_seen_sequences_merge_into_ranges() {
        let mut seen = SeenSeqs::default();
        for seq in [11, 12, 13, 4, 5, 6, 7, 8, 9, 10, 20] {
            assert!(seen.insert(seq), "{seq}");
        }
        assert_eq!(seen.0, [(4, 13), (20, 20)]);
        assert!(!seen.insert(9));
        assert!(!seen.insert(20));
        assert!(seen.contains(13) && !seen.contains(14) && !seen.contains(3));
    }
}
