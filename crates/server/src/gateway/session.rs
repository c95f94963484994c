//! One WebSocket connection, from authentication to close. The session reads the client's
//! frames and answers them through the connection's [`Outbox`], the same queue the hub fills,
//! so an answer always follows what was published before its frame arrived.

use super::inbound::{Inbound, Incoming};
use super::pressure::WorkerLoad;
use crate::app::access::RoomAccess;
use crate::app::auth::{AuthUser, actor, verify_access_token};
use crate::app::error::ApiError;
use crate::app::messages::{self, Draft};
use crate::app::{AppState, presence, rooms, views};
use crate::live::hub::{Frame, Registration};
use crate::live::outbox::{OutFrame, Outbox, Push};
use actix_http::ws::{CloseCode, CloseReason};
use conclave_domain::RoomAction;
use conclave_protocol::{ClientFrame, ErrorCode, MAX_FRAME_BYTES, RoomId, ServerFrame, UserId};
use conclave_store::{HistoryRange, InsertedMessage, MessageRecord, StoreResult, UserRecord};
use futures_util::stream::{FuturesOrdered, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// A session tells a room that its user is typing at most this often.
const TYPING_INTERVAL: Duration = Duration::from_secs(1);
/// How many messages a resume reads from the store at a time.
const REPLAY_PAGE: u32 = 200;
/// At most this many rooms per `resume` frame.
const MAX_RESUME_ROOMS: usize = 1000;
/// How long a new session holds live messages back for a `resume` that may follow `ready`
/// (R-WS-6); any other frame ends the wait at once.
const RESUME_GRACE: Duration = Duration::from_millis(500);

enum Flow {
    Continue,
    Close,
}

pub async fn run(
    state: Arc<AppState>,
    outbox: Arc<Outbox>,
    mut inbound: Inbound,
    cookie_user: Option<UserId>,
    load: Arc<WorkerLoad>,
) {
    let user = match cookie_user {
        Some(id) => actor(&state, &AuthUser { id }).await.ok(),
        None => Box::pin(authenticate(&state, &outbox, &mut inbound)).await,
    };
    match user {
        Some(user) => {
            tracing::debug!(user_id = %user.id, "gateway session authenticated");
            connected(state, &outbox, inbound, user, load).await;
        }
        None => outbox.finish(),
    }
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

/// The `ack` of a send: the stored message, under the client's id for it.
fn ack(client_id: String, message: &MessageRecord) -> String {
    ServerFrame::Ack { client_id, message: views::message(message) }.to_json()
}

fn refusal(code: ErrorCode, message: &str) -> String {
    error_frame(&ApiError::new(code, message), None)
}

/// Closes with a reason and waits up to `patience` for it to be written; a client that stopped
/// reading may never make room for it, and is then cut off without it.
async fn close_within(outbox: &Outbox, code: CloseCode, description: &str, patience: Duration, discard_waiting: bool) {
    outbox.close(CloseReason { code, description: Some(description.to_owned()) }, discard_waiting);
    if tokio::time::timeout(patience, outbox.gone().cancelled()).await.is_err() {
        outbox.abort();
    }
}

async fn close(outbox: &Outbox, code: CloseCode, description: &str) {
    close_within(outbox, code, description, Duration::from_secs(2), false).await;
}

/// Queues a text frame for the client. `false`: the connection is over (or cannot keep up).
fn send(outbox: &Outbox, text: impl Into<Frame>) -> bool {
    queue(outbox, OutFrame::Text(text.into()))
}

/// Queues any frame; a client too far behind to take it is cut off (R-WS-4).
fn queue(outbox: &Outbox, frame: OutFrame) -> bool {
    match outbox.push(frame) {
        Push::Queued | Push::Duplicate => true,
        Push::Full => {
            outbox.give_up();
            false
        }
        Push::Closed => false,
    }
}

/// Reads and checks a text frame.
fn parse(text: &str) -> Result<ClientFrame, String> {
    if text.len() > MAX_FRAME_BYTES {
        let limit = format!("frames are limited to {} KiB", MAX_FRAME_BYTES / 1024);
        return Err(refusal(ErrorCode::FrameTooLarge, &limit));
    }
    serde_json::from_str(text)
        .map_err(|e| refusal(ErrorCode::MalformedFrame, &format!("not a frame this gateway knows: {e}")))
}

/// What the session does with a control or binary frame, or the text of a text frame.
enum Read {
    Text(bytestring::ByteString),
    Handled,
    /// The client closed, or the connection broke.
    Ended,
}

/// Handles what every phase of a connection handles alike: pings, pongs, binary frames,
/// the client's close (answered with a close frame echoing its code, RFC 6455 §5.5.1) and
/// broken frames (closed with the code RFC 6455 gives).
async fn read(outbox: &Outbox, message: Option<Result<Incoming, super::inbound::Broken>>) -> Read {
    match message {
        None => Read::Ended,
        Some(Err(broken)) => {
            close(outbox, broken.close_code(), &format!("protocol_error: {broken}")).await;
            Read::Ended
        }
        Some(Ok(Incoming::Close(reason))) => {
            let code = reason.map_or(CloseCode::Normal, |r| r.code);
            outbox.close(CloseReason { code, description: None }, false);
            Read::Ended
        }
        Some(Ok(Incoming::Ping(bytes))) => {
            queue(outbox, OutFrame::Pong(bytes));
            Read::Handled
        }
        Some(Ok(Incoming::Pong)) => Read::Handled,
        Some(Ok(Incoming::Binary)) => {
            send(outbox, refusal(ErrorCode::MalformedFrame, "frames are JSON text"));
            Read::Handled
        }
        Some(Ok(Incoming::Text(text))) => Read::Text(text),
    }
}

/// Waits for `authenticate` (R-WS-1): nothing else is accepted before it, and a connection that
/// does not authenticate in time is closed.
async fn authenticate(state: &AppState, outbox: &Outbox, inbound: &mut Inbound) -> Option<UserRecord> {
    let deadline = tokio::time::sleep(state.settings.gateway.auth_timeout);
    tokio::pin!(deadline);
    loop {
        let message = tokio::select! {
            _ = &mut deadline => {
                close(outbox, CloseCode::Policy, "authentication_timeout: send an authenticate frame first").await;
                return None;
            }
            () = outbox.gone().cancelled() => return None,
            message = inbound.next() => message,
        };
        let text = match read(outbox, message).await {
            Read::Text(text) => text,
            Read::Handled => continue,
            Read::Ended => return None,
        };
        let token = match parse(&text) {
            Ok(ClientFrame::Authenticate { token }) => token,
            Ok(_) => {
                send(outbox, refusal(ErrorCode::NotAuthenticated, "the first frame must be authenticate"));
                continue;
            }
            Err(frame) => {
                send(outbox, frame);
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
        send(outbox, error_frame(&refused, None));
        close(outbox, CloseCode::Policy, refused.code.as_str()).await;
        return None;
    }
}

/// The authenticated session: `ready`, then frames both ways until either side stops.
async fn connected(
    state: Arc<AppState>,
    outbox: &Arc<Outbox>,
    mut inbound: Inbound,
    user: UserRecord,
    load: Arc<WorkerLoad>,
) {
    let auth = AuthUser { id: user.id.clone() };
    let room_ids = match presence::routed_rooms(&state, &user.id).await {
        Ok(ids) => ids,
        Err(error) => {
            tracing::error!(%error, "could not load the user's rooms");
            close(outbox, CloseCode::Error, "internal").await;
            return;
        }
    };
    // `ready` goes first: what the hub pushes from registration on waits behind it.
    outbox.gate();
    outbox.hold_until_resumed();
    let Registration { id, came_online } = state.hub.register(&user.id, room_ids.clone(), Arc::clone(outbox));
    state.metrics.ws_sessions_opened.inc();
    if came_online {
        presence::came_online(&state, &user.id, room_ids);
    }
    let ready = match Box::pin(rooms::all_mine(&state, &user.id)).await {
        Ok(rooms) => ServerFrame::Ready { user: views::user(&user, &state.hub), rooms },
        Err(_) => {
            finish(&state, id, &user.id, outbox).await;
            close(outbox, CloseCode::Error, "internal").await;
            return;
        }
    };
    let session = SessionState {
        state: Arc::clone(&state),
        outbox: Arc::clone(outbox),
        auth,
        last_typing: HashMap::new(),
        rooms: HashMap::new(),
        load,
        waits: Waits::new(state.settings.gateway.shed_lag, Instant::now()),
    };
    let mut open = outbox.open_with(OutFrame::Text(ready.to_json().into())) == Push::Queued;
    let mut heartbeat = tokio::time::interval(state.settings.gateway.heartbeat);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    let grace = tokio::time::sleep(RESUME_GRACE);
    tokio::pin!(grace);
    let mut holding = true;
    let mut backlog = Backlog::default();
    let mut handler = Handler::Idle(session);
    let mut pipeline = Pipeline::default();
    let mut stopping = false;
    while open {
        let room_for_more = outbox.has_room();
        if handler.is_idle()
            && room_for_more
            && backlog.frames.front().is_some_and(|next| pipeline.admits(next))
            && let Some(next) = backlog.pop()
        {
            // The first frame after `ready` ends the hold: after its replay when it is a
            // resume, before anything else.
            let resuming = matches!(next.frame, Ok(ClientFrame::Resume { .. }));
            if std::mem::replace(&mut holding, false) && !resuming {
                outbox.release_all();
            }
            open = handler.start(next, resuming, outbox);
            continue;
        }
        // The next frame waits until the writer has taken what the session queued.
        let next_waits = handler.is_idle() && !backlog.frames.is_empty() && !room_for_more;
        tokio::select! {
            biased;
            () = outbox.cut_off().cancelled() => break,
            () = outbox.gone().cancelled() => break,
            () = state.stopping.cancelled() => {
                stopping = true;
                break;
            }
            handled = handler.finished() => open = pipeline.take(handled),
            answer = pipeline.next() => {
                if let Some(answer) = answer {
                    open = send(outbox, answer);
                }
            }
            () = outbox.wait_for_room(), if next_waits => {}
            // A full backlog refuses sends at once, while there is room for the refusals.
            message = inbound.next(), if backlog.has_room() && (!backlog.is_full() || outbox.has_room()) => {
                last_heard = Instant::now();
                open = match read(outbox, message).await {
                    Read::Ended => false,
                    Read::Handled => true,
                    Read::Text(text) => backlog.take(&text, &state, outbox),
                };
            }
            () = &mut grace, if holding => {
                holding = false;
                outbox.release_all();
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > state.settings.gateway.idle_timeout {
                    close(outbox, CloseCode::Away, "heartbeat_timeout").await;
                    break;
                }
                open = queue(outbox, OutFrame::Ping);
            }
        }
    }
    // A frame being handled is finished whatever ends the session, and the sends in flight
    // with it: a send the store has taken is published to the room even if its sender is gone.
    if let Some(handled) = handler.finish().await {
        pipeline.take(handled);
    }
    pipeline.finish(outbox).await;
    if stopping {
        close(outbox, CloseCode::Away, "server_stopping: reconnect and resume").await;
    }
    if outbox.cut_off().is_cancelled() {
        // A slow client gets longer to take the reason: it is usually just behind. What was
        // waiting for it is dropped, for it resumes anyway.
        let reason = "slow_consumer: too many frames were waiting; reconnect and resume";
        close_within(outbox, CloseCode::Policy, reason, Duration::from_secs(10), true).await;
    }
    finish(&state, id, &user.id, outbox).await;
    outbox.finish();
}

/// At most this many frames are read ahead of the one being handled…
const READ_AHEAD_FRAMES: usize = 64;
/// …holding at most this much text.
const READ_AHEAD_BYTES: usize = 256 * 1024;

/// A frame read and not handled yet.
struct Waiting {
    /// The frame, or the refusal of a text that is not one.
    frame: Result<ClientFrame, String>,
    received: Instant,
    bytes: usize,
}

/// The frames read ahead of the one being handled. The session keeps reading while a frame
/// is handled (a send waits for its turn to be stored), so the time a frame waits is the
/// server's to see rather than hidden in the socket's receive buffer: a send that waited too
/// long is refused ([`Waits`]), and one that finds the backlog full is refused at once. Other frames are handled in the order they came; a full backlog stops reading.
#[derive(Default)]
struct Backlog {
    frames: std::collections::VecDeque<Waiting>,
    bytes: usize,
}

impl Backlog {
    fn is_full(&self) -> bool {
        self.frames.len() >= READ_AHEAD_FRAMES || self.bytes >= READ_AHEAD_BYTES
    }

    /// Whether to read on: a full backlog still reads the frame that shows it full.
    fn has_room(&self) -> bool {
        self.frames.len() <= READ_AHEAD_FRAMES && self.bytes <= READ_AHEAD_BYTES
    }

    /// Queues a text frame read now; `false` when the connection is over.
    fn take(&mut self, text: &str, state: &AppState, outbox: &Outbox) -> bool {
        let frame = parse(text);
        if self.is_full() {
            match frame {
                Ok(ClientFrame::SendMessage { client_id, .. }) => {
                    return send(outbox, error_frame(&messages::shed(state), Some(client_id)));
                }
                // Typing is a courtesy a session that is behind skips.
                Ok(ClientFrame::Typing { .. }) => return true,
                _ => {}
            }
        }
        let bytes = text.len();
        self.bytes += bytes;
        self.frames.push_back(Waiting { frame, received: Instant::now(), bytes });
        true
    }

    fn pop(&mut self) -> Option<Waiting> {
        let next = self.frames.pop_front()?;
        self.bytes -= next.bytes;
        Some(next)
    }
}

/// Takes one frame at a time; while it does, the session owns no [`SessionState`].
enum Handler {
    Idle(SessionState),
    Busy {
        handling: Pin<Box<dyn Future<Output = (SessionState, Handled)>>>,
        /// The frame is the first one, a resume: the held live messages follow its replay.
        then_release: bool,
    },
    /// Only while switching between the two.
    Switching,
}

impl Handler {
    fn is_idle(&self) -> bool {
        matches!(self, Self::Idle(_))
    }

    /// Starts handling `next`; `false` when the connection is over.
    fn start(&mut self, next: Waiting, then_release: bool, outbox: &Outbox) -> bool {
        let Waiting { frame, received, .. } = next;
        let mut session = match std::mem::replace(self, Self::Switching) {
            Self::Idle(session) => session,
            busy => {
                // Never: the session starts a frame only when idle.
                *self = busy;
                return true;
            }
        };
        match frame {
            Err(refusal) => {
                *self = Self::Idle(session);
                if then_release {
                    outbox.release_all();
                }
                send(outbox, refusal)
            }
            Ok(frame) => {
                let handling = Box::pin(async move {
                    let handled = session.handle(frame, received).await;
                    (session, handled)
                });
                *self = Self::Busy { handling, then_release };
                true
            }
        }
    }

    /// Waits until the frame being taken is (never, when none is).
    async fn finished(&mut self) -> Handled {
        let Self::Busy { handling, then_release } = self else {
            return std::future::pending().await;
        };
        let (session, handled) = handling.as_mut().await;
        if *then_release {
            session.outbox.release_all();
        }
        *self = Self::Idle(session);
        handled
    }

    /// Lets the frame being taken finish.
    async fn finish(&mut self) -> Option<Handled> {
        if matches!(self, Self::Busy { .. }) { Some(self.finished().await) } else { None }
    }
}

/// What taking a frame leaves to do.
enum Handled {
    /// Nothing: the frame is answered.
    Done(Flow),
    /// A send to `room`, stored or refused: its answer waits for the sends before it.
    Send { room: RoomId, answer: Answer, refused: bool },
}

/// What is left of a send once its session has taken it: the store answers a send it has
/// queued (`None` here), a refusal is answered in its turn (`Some`).
type Answer = Pin<Box<dyn Future<Output = Option<String>>>>;

fn answered(answer: Option<String>) -> Answer {
    Box::pin(std::future::ready(answer))
}

/// At most this many of a session's sends are in flight at once.
const PIPELINE_SENDS: usize = 16;

/// A session's sends in flight, in the order it took them. A client that sends several
/// messages in a row has them stored together instead of one round trip to the store each
/// (a session that waited for each send's ack before taking the next made every send queued
/// behind it wait that long again). Answers keep the frames' order: consecutive sends to one
/// room are queued in the store in the order taken, which answers them in that order
/// (`messages::store`); a send refused before the store (and any other frame) waits until
/// the sends before it are answered, and nothing joins behind a refusal until it is given.
#[derive(Default)]
struct Pipeline {
    answers: FuturesOrdered<Answer>,
    /// The room of the sends in flight.
    room: Option<RoomId>,
    /// A refusal is waiting for the sends before it.
    closed: bool,
}

impl Pipeline {
    /// Whether `next` may be taken now: any frame when nothing is in flight, or a send to the
    /// same room while there is room in the pipeline and no refusal waits.
    fn admits(&self, next: &Waiting) -> bool {
        if self.answers.is_empty() {
            return true;
        }
        let same_room =
            matches!(&next.frame, Ok(ClientFrame::SendMessage { room_id, .. }) if self.room.as_ref() == Some(room_id));
        same_room && !self.closed && self.answers.len() < PIPELINE_SENDS
    }

    /// Takes what a frame left to do; `false` when the connection is over.
    fn take(&mut self, handled: Handled) -> bool {
        match handled {
            Handled::Done(flow) => matches!(flow, Flow::Continue),
            Handled::Send { room, answer, refused } => {
                self.room = Some(room);
                self.closed |= refused;
                self.answers.push_back(answer);
                true
            }
        }
    }

    /// The next send's answer to give, once it and those before it are done (never, while
    /// none is in flight).
    async fn next(&mut self) -> Option<String> {
        if self.answers.is_empty() {
            return std::future::pending().await;
        }
        let answer = self.answers.next().await.flatten();
        if self.answers.is_empty() {
            self.room = None;
            self.closed = false;
        }
        answer
    }

    /// Waits for every send in flight, giving their answers.
    async fn finish(&mut self, outbox: &Outbox) {
        while !self.answers.is_empty() {
            if let Some(answer) = self.next().await {
                send(outbox, answer);
            }
        }
    }
}

/// Unregisters the session; the user's rooms learn when their last session is gone (R-WS-5).
async fn finish(state: &AppState, id: crate::live::hub::SessionId, user: &UserId, outbox: &Outbox) {
    let forgotten = outbox.cut_off().is_cancelled() || outbox.gone().is_cancelled();
    let rooms = match state.hub.unregister(id) {
        Some(rooms) => Some(rooms),
        // The hub already forgot a session it gave up on or found gone, and with it the rooms.
        None if forgotten && !state.hub.is_online_here(user) => presence::routed_rooms(state, user).await.ok(),
        None => None,
    };
    if let Some(rooms) = rooms {
        presence::went_offline(state, user, rooms).await;
    }
}

struct SessionState {
    state: Arc<AppState>,
    outbox: Arc<Outbox>,
    auth: AuthUser,
    last_typing: HashMap<RoomId, Instant>,
    /// Rooms this session has loaded as a member, reused while the hub still routes the room
    /// to the user: leaving, being removed and termination stop the routing, and the store
    /// checks membership and termination again inside every write anyway. So a frame costs
    /// no store read for what the hub already knows.
    rooms: HashMap<RoomId, Arc<RoomAccess>>,
    /// How late this session's worker runs: a saturated one takes no new messages.
    load: Arc<WorkerLoad>,
    /// How long its sends wait for their turn.
    waits: Waits,
}

/// How often [`Waits`] looks at the shortest wait.
const WAIT_INTERVAL: Duration = Duration::from_secs(1);

/// How long a session's sends wait for their turn (in the read-ahead, behind its earlier
/// frames), judged as CoDel judges a queue (RFC 8289): a burst passes, only a standing queue
/// sheds. When every send of the last interval waited longer than the bound
/// (`CONCLAVE_SHED_LAG_MS`), the server is behind, and a send that has waited that long too is
/// refused rather than stored and acked late.
#[derive(Debug)]
struct Waits {
    bound: Duration,
    interval_start: Instant,
    /// The shortest wait of the interval so far.
    shortest: Option<Duration>,
    /// Whether the last interval's shortest wait was over the bound.
    standing: bool,
}

impl Waits {
    fn new(bound: Duration, now: Instant) -> Self {
        Self { bound, interval_start: now, shortest: None, standing: false }
    }

    /// Notes a send that waited `wait`; whether to refuse it.
    fn shed(&mut self, wait: Duration, now: Instant) -> bool {
        if self.bound.is_zero() {
            return false;
        }
        if now.duration_since(self.interval_start) >= WAIT_INTERVAL {
            self.standing = self.shortest.is_some_and(|shortest| shortest > self.bound);
            self.interval_start = now;
            self.shortest = None;
        }
        self.shortest = Some(self.shortest.map_or(wait, |shortest| shortest.min(wait)));
        self.standing && wait > self.bound
    }
}

/// At most this many rooms are remembered per session.
const MAX_REMEMBERED_ROOMS: usize = 1024;

impl SessionState {
    async fn access(&mut self, room: RoomId) -> Result<Arc<RoomAccess>, ApiError> {
        if let Some(access) = self.rooms.get(&room)
            && self.state.hub.routes(&self.auth.id, &room)
        {
            return Ok(Arc::clone(access));
        }
        let access = Arc::new(RoomAccess::load(&self.state, room.clone(), self.auth.clone()).await?);
        if access.role.is_some() && access.room.terminated_at.is_none() {
            if self.rooms.len() >= MAX_REMEMBERED_ROOMS {
                self.rooms.clear();
            }
            self.rooms.insert(room, Arc::clone(&access));
        } else {
            self.rooms.remove(&room);
        }
        Ok(access)
    }

    fn reply(&self, frame: String) -> Flow {
        if send(&self.outbox, frame) { Flow::Continue } else { Flow::Close }
    }

    /// Takes a frame the session received at `received`.
    async fn handle(&mut self, frame: ClientFrame, received: Instant) -> Handled {
        let reply = match frame {
            // A browser authenticated by its cookie still sends its token: the same user again
            // is no news. Another user's token cannot take the session over.
            ClientFrame::Authenticate { token } => match self.state.tokens.verify(&token) {
                Ok(claims) if claims.sub == self.auth.id.as_str() => return Handled::Done(Flow::Continue),
                _ => refusal(ErrorCode::AlreadyAuthenticated, "this session is already authenticated as another user"),
            },
            ClientFrame::Ping => ServerFrame::Pong.to_json(),
            ClientFrame::SendMessage { room_id, body, client_id, color, sticker, attachment_id, reply_to } => {
                let draft = Draft { body: &body, color, sticker, client_id: Some(&client_id), attachment_id, reply_to };
                return self.take_send(room_id, draft, received).await;
            }
            // Typing is a courtesy a saturated server skips.
            ClientFrame::Typing { .. } if self.load.saturated() => return Handled::Done(Flow::Continue),
            ClientFrame::Typing { room_id } => match self.typing(room_id).await {
                Ok(()) => return Handled::Done(Flow::Continue),
                Err(error) => error_frame(&error, None),
            },
            ClientFrame::Resume { rooms } => return Handled::Done(self.resume(rooms).await),
        };
        Handled::Done(self.reply(reply))
    }

    /// Takes a send: checks it and queues it for the store, both in the frame's turn. The
    /// store answers it (`ack`, or `error` with its client id) in the order the session's
    /// sends were queued, before the message reaches anyone (`messages::store`); a send
    /// refused before the store is answered in its turn ([`Pipeline`]).
    async fn take_send(&mut self, room_id: RoomId, draft: Draft<'_>, received: Instant) -> Handled {
        let client_id = draft.client_id.unwrap_or_default().to_owned();
        let refuse = |room: RoomId, error: &ApiError| Handled::Send {
            room,
            answer: answered(Some(error_frame(error, Some(client_id.clone())))),
            refused: true,
        };
        if self.load.saturated() || self.waits.shed(received.elapsed(), Instant::now()) {
            return refuse(room_id, &messages::shed(&self.state));
        }
        let taken = Instant::now();
        let checked = match self.access(room_id.clone()).await {
            Ok(access) => messages::check(&self.state, &access, draft).await,
            Err(error) => Err(error),
        };
        let message = match checked {
            Ok(checked) => checked,
            Err(error) => {
                self.state.metrics.ws_send(taken.saturating_duration_since(received), taken.elapsed());
                return refuse(room_id, &error);
            }
        };
        let (state, outbox) = (Arc::clone(&self.state), Arc::clone(&self.outbox));
        let answer = move |outcome: &StoreResult<InsertedMessage>| {
            state.metrics.ws_send(taken.saturating_duration_since(received), taken.elapsed());
            let frame = match outcome {
                Ok(inserted) => ack(client_id, &inserted.message),
                Err(error) => error_frame(&ApiError::from(error.clone()), Some(client_id)),
            };
            // A client too far behind to take it is cut off, and the session ends.
            send(&outbox, frame);
        };
        let state = Arc::clone(&self.state);
        let mut storing: Answer = Box::pin(async move {
            // Answered by `answer`, whatever the outcome.
            messages::store(&state, message, answer).await.ok();
            None
        });
        // The first poll queues the send in the store, which takes its place in the room's
        // order: before the session takes its next frame.
        let answer = match std::future::poll_fn(|cx| Poll::Ready(storing.as_mut().poll(cx))).await {
            Poll::Ready(answer) => answered(answer),
            Poll::Pending => storing,
        };
        Handled::Send { room: room_id, answer, refused: false }
    }

    /// Tells the room that the user is typing, at most once a second per room.
    async fn typing(&mut self, room_id: RoomId) -> Result<(), ApiError> {
        let access = self.access(room_id.clone()).await?;
        let now = Instant::now();
        let repeated = self.last_typing.get(&room_id).is_some_and(|at| now.duration_since(*at) < TYPING_INTERVAL);
        presence::typing(&self.state, &access, repeated).await?;
        if !repeated {
            self.last_typing.insert(room_id, now);
        }
        Ok(())
    }

    /// Replays every message after the client's last sequence number per room, in order, then
    /// `resumed` (R-WS-3). Live messages of a room wait while it is replayed and follow it, and
    /// none is sent twice (R-WS-6): the outbox remembers what it queued.
    async fn resume(&mut self, rooms: BTreeMap<RoomId, u64>) -> Flow {
        if rooms.len() > MAX_RESUME_ROOMS {
            let limit = format!("resume at most {MAX_RESUME_ROOMS} rooms at a time");
            return self.reply(refusal(ErrorCode::MalformedFrame, &limit));
        }
        for (room_id, last_seq) in rooms {
            let access =
                match self.access(room_id.clone()).await.and_then(|a| a.authorize(RoomAction::Read).map(|()| a)) {
                    Ok(access) => access,
                    Err(error) => {
                        let error = ApiError::new(error.code, format!("{} ({room_id})", error.message));
                        if let Flow::Close = self.reply(error_frame(&error, None)) {
                            return Flow::Close;
                        }
                        continue;
                    }
                };
            self.outbox.hold(&room_id);
            let replayed = self.replay(&access, last_seq).await;
            self.outbox.release(&room_id);
            match replayed {
                Ok(()) => {}
                Err(Some(error)) => return self.reply(error_frame(&error, None)),
                Err(None) => return Flow::Close,
            }
        }
        self.reply(ServerFrame::Resumed.to_json())
    }

    /// Queues a room's messages after `last_seq`, a page at a time, at the client's pace.
    /// `Err(None)`: the connection is over.
    async fn replay(&self, access: &RoomAccess, last_seq: u64) -> Result<(), Option<ApiError>> {
        let room = &access.room.id;
        let mut cursor = last_seq;
        loop {
            let page =
                messages::history(&self.state, access, HistoryRange::After(cursor), REPLAY_PAGE).await.map_err(Some)?;
            let full = u32::try_from(page.len()).map_or(true, |n| n > REPLAY_PAGE);
            for message in page.into_iter().rev() {
                let seq = message.seq;
                cursor = seq;
                self.outbox.wait_for_room().await;
                let frame = Frame::from(ServerFrame::MessageCreated { message }.to_json());
                if self.outbox.push_replayed(room, seq, frame) == Push::Closed {
                    return Err(None);
                }
            }
            if !full {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_millis(250);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// R-MSG-5 under overload: a burst whose sends wait longer and longer, up to a second,
    /// still passes whole, since its first sends did not wait.
    #[test]
    fn a_burst_is_not_shed() {
        let start = Instant::now();
        let mut waits = Waits::new(BOUND, start);
        for i in 0..100u64 {
            // Each send handled 10 ms after the one before, all received at once.
            assert!(!waits.shed(ms(10 * i), start + ms(10 * i)), "send {i} refused");
        }
    }

    /// A standing queue (every send of an interval waited past the bound) sheds the sends that
    /// waited that long, until a send gets through quickly again.
    #[test]
    fn a_standing_queue_sheds_until_it_drains() {
        let start = Instant::now();
        let mut waits = Waits::new(BOUND, start);
        let mut at = start;
        let mut refused = 0;
        for _ in 0..200 {
            at += ms(10);
            refused += usize::from(waits.shed(ms(400), at));
        }
        assert!(refused >= 100, "only {refused} of 200 refused");
        // A send that did not wait is never refused, and ends the standing queue.
        at += ms(10);
        assert!(!waits.shed(ms(1), at));
        at += WAIT_INTERVAL;
        assert!(!waits.shed(ms(400), at), "the queue had drained");
    }

    #[test]
    fn a_zero_bound_never_sheds() {
        let start = Instant::now();
        let mut waits = Waits::new(Duration::ZERO, start);
        assert!((1..100u64).all(|i| !waits.shed(ms(10_000), start + ms(i * 50))));
    }
}
