//! One connection's outgoing frames (SPEC R-WS-3, R-WS-4): a bounded queue that the hub and the
//! session fill and that the connection's writer drains, every frame waiting at that moment in
//! one buffer and so in one socket write.
//!
//! There is one hop from the hub to the socket: the hub encodes a frame (its WebSocket header
//! and the event's shared JSON) straight into the connection's pending buffer under the
//! outbox's lock, and wakes the writer only when it is idle; the writer (a task of its own that
//! owns the socket's sending side) takes the whole buffer at once. A queue that
//! reaches its bound means a client that does not keep up: the hub cuts it off (R-WS-4) and the
//! session closes it.
//!
//! The outbox also keeps "exactly once, in order" per room: it remembers the sequence numbers it
//! queued per room, and while a resume replays a room from the store it holds that room's live
//! messages back, releasing them once the replay has passed them (R-WS-3, R-WS-6).

use super::Frame;
use actix_http::ws::CloseReason;
use actix_web::web::{Bytes, BytesMut};
use conclave_protocol::RoomId;
use rustc_hash::FxHashMap as HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A frame waiting to be written.
#[derive(Debug, Clone)]
pub enum OutFrame {
    Text(Frame),
    Ping,
    Pong(Bytes),
    Close(CloseReason),
}

/// What became of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Queued (or held back until a replay has passed it).
    Queued,
    /// Already delivered to this session: not sent again.
    Duplicate,
    /// The queue is at its bound: the client is not keeping up.
    Full,
    /// The connection is closing or gone.
    Closed,
}

/// Sequence numbers already queued for one room, as merged ranges (few: live delivery is
/// contiguous, so the common case extends the last range in place).
#[derive(Debug, Default)]
pub struct SeenSeqs(Vec<(u64, u64)>);

impl SeenSeqs {
    pub fn contains(&self, seq: u64) -> bool {
        let after = self.0.partition_point(|(first, _)| *first <= seq);
        after > 0 && self.0[after - 1].1 >= seq
    }

    /// Records `seq`; `false` when it was already there.
    pub fn insert(&mut self, seq: u64) -> bool {
        if let Some(last) = self.0.last_mut()
            && last.1.checked_add(1) == Some(seq)
        {
            last.1 = seq;
            return true;
        }
        if self.contains(seq) {
            return false;
        }
        let at = self.0.partition_point(|(first, _)| *first < seq);
        let joins_previous = at > 0 && self.0[at - 1].1.saturating_add(1) == seq;
        let joins_next = self.0.get(at).is_some_and(|(first, _)| seq.checked_add(1) == Some(*first));
        match (joins_previous, joins_next) {
            (true, true) => {
                self.0[at - 1].1 = self.0[at].1;
                self.0.remove(at);
            }
            (true, false) => self.0[at - 1].1 = seq,
            (false, true) => self.0[at].0 = seq,
            (false, false) => self.0.insert(at, (seq, seq)),
        }
        true
    }
}

#[derive(Debug, Default)]
struct RoomCursor {
    seen: SeenSeqs,
    /// Live messages held back while a replay of the room runs, or may be about to (a new
    /// session), in publish (= sequence) order.
    held: Option<Vec<(u64, Frame)>>,
    /// Whether a replay of the room runs now.
    replaying: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    Open,
    /// A close frame is queued (or nothing more will be): the writer ends after the queue.
    Closing,
    /// Give up on the connection now, written or not.
    Abort,
}

/// Frames waiting for the writer, already encoded.
#[derive(Default)]
struct Pending {
    buffer: BytesMut,
    /// How many frames `buffer` holds (the bound counts frames).
    frames: usize,
    /// Whether `buffer` ends with a close frame.
    close: bool,
    writer: Option<Waker>,
}

impl Pending {
    fn append(&mut self, frame: &OutFrame) {
        // The frame encoder of actix-http, which actix-ws uses too.
        use actix_http::ws::{OpCode, Parser};
        let buffer = &mut self.buffer;
        match frame {
            OutFrame::Text(text) => return self.append_text(text),
            OutFrame::Ping => Parser::write_message(buffer, [], OpCode::Ping, true, false),
            OutFrame::Pong(bytes) => {
                // A control frame carries at most 125 bytes.
                Parser::write_message(buffer, &bytes[..bytes.len().min(125)], OpCode::Pong, true, false);
            }
            OutFrame::Close(reason) => {
                let mut reason = reason.clone();
                if let Some(description) = reason.description.as_mut() {
                    // The code and at most 123 bytes of reason.
                    let mut end = description.len().min(123);
                    while !description.is_char_boundary(end) {
                        end -= 1;
                    }
                    description.truncate(end);
                }
                Parser::write_close(buffer, Some(reason), false);
                self.close = true;
            }
        }
        self.frames += 1;
    }

    fn append_text(&mut self, text: &str) {
        use actix_http::ws::{OpCode, Parser};
        Parser::write_message(&mut self.buffer, text.as_bytes(), OpCode::Text, true, false);
        self.frames += 1;
    }

    /// Appends `frame` unless `capacity` frames are already waiting.
    fn push(&mut self, frame: &OutFrame, capacity: usize) -> Push {
        self.admit(capacity, |pending| pending.append(frame))
    }

    /// [`Pending::push`] of a text frame, which the caller keeps.
    fn push_text(&mut self, text: &str, capacity: usize) -> Push {
        self.admit(capacity, |pending| pending.append_text(text))
    }

    /// Runs `append` and wakes the writer, unless `capacity` frames are already waiting.
    fn admit(&mut self, capacity: usize, append: impl FnOnce(&mut Self)) -> Push {
        if self.frames >= capacity {
            return Push::Full;
        }
        append(self);
        self.wake();
        Push::Queued
    }

    fn clear(&mut self) {
        self.buffer = BytesMut::new();
        self.frames = 0;
        self.close = false;
    }

    fn wake(&mut self) {
        if let Some(waker) = self.writer.take() {
            let now = HELD_WAKES.with(|held| match held.borrow_mut().as_mut() {
                Some(held) => {
                    held.push(waker);
                    None
                }
                None => Some(waker),
            });
            if let Some(waker) = now {
                waker.wake();
            }
        }
    }
}

thread_local! {
    /// Writers to wake when the [`batched`] publication running on this thread ends.
    static HELD_WAKES: std::cell::RefCell<Option<Vec<Waker>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `publish` (several events at once: a group commit's messages, from the store's
/// thread) with the writers' wake-ups held until it is done, so that a writer on another
/// thread does not wake for the first frame and write the batch's frames one by one.
pub fn batched(publish: &mut dyn FnMut()) {
    HELD_WAKES.with(|held| *held.borrow_mut() = Some(Vec::new()));
    publish();
    for waker in HELD_WAKES.with(|held| held.borrow_mut().take()).into_iter().flatten() {
        waker.wake();
    }
}

struct State {
    out: Pending,
    rooms: HashMap<RoomId, RoomCursor>,
    /// Whether rooms not seen yet start out held (a new session, until it has had the
    /// chance to resume: see [`Outbox::hold_until_resumed`]).
    hold_new_rooms: bool,
    /// Nothing is written until the session's first frame is queued ([`Outbox::open_with`]):
    /// events the hub pushes meanwhile wait behind it.
    gated: bool,
    /// A replay waits for the writer to take frames ([`Outbox::wait_for_room`]).
    replay_waiting: bool,
    phase: Phase,
}

/// The outgoing side of one gateway connection.
pub struct Outbox {
    state: Mutex<State>,
    capacity: usize,
    /// Signalled when the writer has taken frames, for a replay waiting for room.
    drained: Notify,
    /// Cancelled when the writer is gone: the peer left, or the response ended.
    gone: CancellationToken,
    /// Cancelled when the hub gives up on the session: its queue overflowed (R-WS-4).
    cut_off: CancellationToken,
    /// Cancelled by [`Outbox::abort`]: the writer stops even in the middle of a write.
    aborted: CancellationToken,
}

impl Outbox {
    /// An outbox holding at most `capacity` frames, and the writer that writes them.
    pub fn new(capacity: usize) -> (Arc<Self>, Writer) {
        let outbox = Arc::new(Self {
            state: Mutex::new(State {
                out: Pending::default(),
                rooms: HashMap::default(),
                hold_new_rooms: false,
                gated: false,
                replay_waiting: false,
                phase: Phase::Open,
            }),
            capacity: capacity.max(1),
            drained: Notify::new(),
            gone: CancellationToken::new(),
            cut_off: CancellationToken::new(),
            aborted: CancellationToken::new(),
        });
        let writer = Writer { outbox: Arc::clone(&outbox), done: false };
        (outbox, writer)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain data behind the lock: a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Cancelled when the writer is gone: nothing more reaches the client.
    pub fn gone(&self) -> &CancellationToken {
        &self.gone
    }

    /// Cancelled when the hub has given up on this session (R-WS-4).
    pub fn cut_off(&self) -> &CancellationToken {
        &self.cut_off
    }

    /// The hub gives up on a session that does not keep up; the session then closes it.
    pub fn give_up(&self) {
        self.cut_off.cancel();
    }

    /// Queues a frame that is not a room's message (events, replies, heartbeats).
    pub fn push(&self, frame: OutFrame) -> Push {
        let mut state = self.lock();
        if state.phase != Phase::Open {
            return Push::Closed;
        }
        state.out.push(&frame, self.capacity)
    }

    /// Queues a room's live message, unless it was delivered already; held back while the room
    /// is being replayed.
    pub fn push_message(&self, room: &RoomId, seq: u64, frame: &Frame) -> Push {
        let mut state = self.lock();
        let State { out, rooms, hold_new_rooms, phase, .. } = &mut *state;
        if *phase != Phase::Open {
            return Push::Closed;
        }
        let cursor = match rooms.get_mut(room) {
            Some(cursor) => cursor,
            None => rooms
                .entry(room.clone())
                .or_insert_with(|| RoomCursor { held: hold_new_rooms.then(Vec::new), ..RoomCursor::default() }),
        };
        if let Some(held) = &mut cursor.held {
            // A new session's hold is a courtesy to a resume that may come: at half the bound
            // it ends (leaving room for what follows), rather than the session.
            let bound = if cursor.replaying { self.capacity } else { (self.capacity / 2).max(1) };
            if held.len() < bound {
                held.push((seq, frame.clone()));
                return Push::Queued;
            }
            if cursor.replaying {
                return Push::Full;
            }
            release_room(out, cursor);
        }
        if cursor.seen.contains(seq) {
            return Push::Duplicate;
        }
        let pushed = out.push_text(frame, self.capacity);
        if pushed == Push::Queued {
            cursor.seen.insert(seq);
        }
        pushed
    }

    /// Starts replaying `room`: its live messages wait until [`Outbox::release`].
    pub fn hold(&self, room: &RoomId) {
        let mut state = self.lock();
        let cursor = state.rooms.entry(room.clone()).or_default();
        cursor.held.get_or_insert_with(Vec::new);
        cursor.replaying = true;
    }

    /// Queues a replayed message of a held room, unless it was delivered already. A replay
    /// waits for room (`wait_for_room`) before each push rather than overflowing.
    pub fn push_replayed(&self, room: &RoomId, seq: u64, frame: Frame) -> Push {
        let mut state = self.lock();
        let State { out, rooms, phase, .. } = &mut *state;
        if *phase != Phase::Open {
            return Push::Closed;
        }
        if !rooms.entry(room.clone()).or_default().seen.insert(seq) {
            return Push::Duplicate;
        }
        out.append(&OutFrame::Text(frame));
        out.wake();
        Push::Queued
    }

    /// Ends the replay of `room`: the live messages held meanwhile follow, those the replay
    /// already sent skipped, so the room's messages form one increasing sequence. (Holding was
    /// bounded by the queue's capacity, so this may go past it once by that much.)
    pub fn release(&self, room: &RoomId) {
        let mut state = self.lock();
        let State { out, rooms, phase, .. } = &mut *state;
        if *phase != Phase::Open {
            return;
        }
        if let Some(cursor) = rooms.get_mut(room) {
            release_room(out, cursor);
        }
        out.wake();
    }

    /// A new session holds the live messages of every room from the start, so that a client
    /// that resumes right after `ready` gets each room's replay before anything live of it,
    /// even what was published between `ready` and its `resume` (R-WS-6). The session ends
    /// this with [`Outbox::release_all`] once the client has resumed or sent something else,
    /// or after a short grace period.
    pub fn hold_until_resumed(&self) {
        self.lock().hold_new_rooms = true;
    }

    /// Writes nothing until [`Outbox::open_with`] queues the frame that must come first (the
    /// session's `ready`), whatever the hub pushes meanwhile.
    pub fn gate(&self) {
        self.lock().gated = true;
    }

    /// Queues `first` ahead of everything waiting, and lets the writer go.
    pub fn open_with(&self, first: OutFrame) -> Push {
        let mut state = self.lock();
        state.gated = false;
        if state.phase != Phase::Open {
            return Push::Closed;
        }
        let waiting = std::mem::take(&mut state.out.buffer);
        state.out.append(&first);
        state.out.buffer.extend_from_slice(&waiting);
        state.out.wake();
        Push::Queued
    }

    /// Ends every hold: the held messages follow, each room's in sequence order.
    pub fn release_all(&self) {
        let mut state = self.lock();
        let State { out, rooms, hold_new_rooms, phase, .. } = &mut *state;
        *hold_new_rooms = false;
        if *phase != Phase::Open {
            return;
        }
        for cursor in rooms.values_mut() {
            release_room(out, cursor);
        }
        out.wake();
    }

    /// Waits until the queue is less than half full (or the connection is over), so that a
    /// long replay follows the client's pace and leaves room for live frames.
    pub async fn wait_for_room(&self) {
        let half = self.half();
        loop {
            let drained = self.drained.notified();
            {
                let mut state = self.lock();
                if state.out.frames < half || state.phase != Phase::Open {
                    return;
                }
                state.replay_waiting = true;
            }
            tokio::select! {
                () = drained => {}
                () = self.gone.cancelled() => return,
                () = self.cut_off.cancelled() => return,
            }
        }
    }

    fn half(&self) -> usize {
        (self.capacity / 2).max(1)
    }

    /// Whether the queue is less than half full: the session answers its next frame only then,
    /// so that its own answers never fill the queue (only a client that does not read does).
    pub fn has_room(&self) -> bool {
        self.lock().out.frames < self.half()
    }

    /// Queues a close frame after what is waiting; nothing is queued after it. With
    /// `discard_waiting`, what is waiting is dropped first (a client cut off for being slow
    /// resumes it), so that the reason reaches it as soon as it reads again.
    pub fn close(&self, reason: CloseReason, discard_waiting: bool) {
        let mut state = self.lock();
        if state.phase != Phase::Open {
            return;
        }
        if discard_waiting {
            state.out.clear();
        }
        state.out.append(&OutFrame::Close(reason));
        state.phase = Phase::Closing;
        state.gated = false;
        state.out.wake();
    }

    /// Ends the connection after what is queued, without a close frame (the session is over).
    pub fn finish(&self) {
        let mut state = self.lock();
        if state.phase == Phase::Open {
            state.phase = Phase::Closing;
        }
        state.out.wake();
    }

    /// Ends the connection now, whatever is still queued (a client that never reads).
    pub fn abort(&self) {
        let mut state = self.lock();
        state.phase = Phase::Abort;
        state.out.clear();
        state.out.wake();
        drop(state);
        self.aborted.cancel();
    }

    /// Frames waiting.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.lock().out.frames
    }
}

/// Queues what `cursor` held and had not queued yet, and ends its hold.
fn release_room(out: &mut Pending, cursor: &mut RoomCursor) {
    cursor.replaying = false;
    for (seq, frame) in cursor.held.take().into_iter().flatten() {
        if cursor.seen.insert(seq) {
            out.append(&OutFrame::Text(frame));
        }
    }
}

/// What the writer has to do next.
enum Next {
    /// Nothing to write yet (or the first frame is not queued yet).
    Wait,
    Abort,
    End,
    Frames,
}

fn next_for_writer(state: &State) -> Next {
    match state.phase {
        Phase::Abort => Next::Abort,
        Phase::Closing if state.out.frames == 0 => Next::End,
        _ if state.out.frames == 0 || (state.gated && state.phase == Phase::Open) => Next::Wait,
        _ => Next::Frames,
    }
}

/// Has the writer woken when frames arrive.
fn register(out: &mut Pending, cx: &Context<'_>) {
    match &out.writer {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => out.writer = Some(cx.waker().clone()),
    }
}

/// What the writer takes from the outbox at once.
#[derive(Debug)]
pub enum Taken {
    /// Every frame waiting, encoded one after the other.
    Bytes(Bytes),
    /// Everything was written: end the connection.
    End,
    /// The session gave up on a client that does not read: end the connection now.
    Abort,
}

/// The connection's writer: writes every frame waiting into the socket, all at once, so that
/// they go out with one system call.
pub struct Writer {
    outbox: Arc<Outbox>,
    done: bool,
}

impl Writer {
    /// Ready when there is something to take (frames, or the end), else registers to be woken.
    fn poll_waiting(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let mut state = self.outbox.lock();
        match next_for_writer(&state) {
            Next::Wait => {
                register(&mut state.out, cx);
                Poll::Pending
            }
            Next::Abort | Next::End | Next::Frames => Poll::Ready(()),
        }
    }

    /// Takes every frame waiting, or registers to be woken when there are some.
    pub fn poll_take(&mut self, cx: &mut Context<'_>) -> Poll<Taken> {
        if self.done {
            return Poll::Ready(Taken::End);
        }
        let (bytes, replay_waiting) = {
            let mut state = self.outbox.lock();
            match next_for_writer(&state) {
                Next::Wait => {
                    register(&mut state.out, cx);
                    return Poll::Pending;
                }
                Next::Abort => {
                    self.done = true;
                    return Poll::Ready(Taken::Abort);
                }
                Next::End => {
                    self.done = true;
                    return Poll::Ready(Taken::End);
                }
                Next::Frames => {
                    // Nothing follows a close frame.
                    self.done = state.out.close;
                    // Taken whole: the outbox holds no buffer until the next frame.
                    let bytes = std::mem::take(&mut state.out.buffer).freeze();
                    state.out.clear();
                    (bytes, std::mem::take(&mut state.replay_waiting))
                }
            }
        };
        if replay_waiting {
            self.outbox.drained.notify_waiters();
        }
        Poll::Ready(Taken::Bytes(bytes))
    }

    /// Writes what the outbox is given until the connection ends; then the session learns it
    /// (the outbox is [`gone`](Outbox::gone)). After the last frame the socket's sending side
    /// is shut down, so the client sees the end at once. A client that takes nothing for
    /// `drain_within` while frames wait for it is cut off (R-WS-4): it pins no buffer and no
    /// task for longer, whatever its heartbeats say.
    pub async fn write_to(mut self, mut socket: OwnedWriteHalf, drain_within: Duration) {
        loop {
            std::future::poll_fn(|cx| self.poll_waiting(cx)).await;
            // Let every task that is ready to run go first: the sessions among them publish
            // more, and what they add to this connection goes out in the same write.
            tokio::task::yield_now().await;
            let bytes = match std::future::poll_fn(|cx| self.poll_take(cx)).await {
                Taken::Bytes(bytes) => bytes,
                Taken::End => {
                    // The last frames are written; a peer already gone makes this fail harmlessly.
                    socket.shutdown().await.ok();
                    return;
                }
                Taken::Abort => return,
            };
            // Most writes go at once; only one the socket cannot take whole waits (and can be
            // aborted while it waits).
            let mut rest = match socket.try_write(&bytes) {
                Ok(written) if written == bytes.len() => {
                    // A connection that is never idle still lets its worker's other tasks run.
                    tokio::task::consume_budget().await;
                    continue;
                }
                Ok(written) => bytes.slice(written..),
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => bytes,
                Err(_) => return,
            };
            while !rest.is_empty() {
                tokio::select! {
                    biased;
                    // A client that stopped reading never lets the write finish.
                    () = self.outbox.aborted.cancelled() => return,
                    written = tokio::time::timeout(drain_within, socket.write(&rest)) => match written {
                        Ok(Ok(written)) if written > 0 => rest = rest.slice(written..),
                        Ok(_) => return,
                        Err(_) => {
                            tracing::warn!(?drain_within, "a client took nothing for too long; connection ended");
                            self.outbox.give_up();
                            return;
                        }
                    },
                }
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // The connection is over: the session and the hub learn at once.
        {
            let mut state = self.outbox.lock();
            if state.phase == Phase::Open {
                state.phase = Phase::Closing;
            }
            state.out.clear();
        }
        self.outbox.gone.cancel();
        self.outbox.drained.notify_waiters();
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Polls the writer once and returns what it wrote, decoded back into text frames.
    pub fn written(writer: &mut Writer) -> Poll<Option<Vec<String>>> {
        let mut cx = Context::from_waker(Waker::noop());
        match writer.poll_take(&mut cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Taken::End) => Poll::Ready(None),
            Poll::Ready(Taken::Abort) => Poll::Ready(Some(vec!["<aborted>".into()])),
            Poll::Ready(Taken::Bytes(bytes)) => Poll::Ready(Some(decode_all(bytes))),
        }
    }

    fn decode_all(bytes: Bytes) -> Vec<String> {
        use actix_http::ws::{Codec, Frame};
        use tokio_util::codec::Decoder;
        let mut codec = Codec::new().client_mode();
        let mut buffer = BytesMut::from(&bytes[..]);
        let mut out = Vec::new();
        while let Ok(Some(frame)) = codec.decode(&mut buffer) {
            out.push(match frame {
                Frame::Text(text) => String::from_utf8_lossy(&text).into_owned(),
                Frame::Close(reason) => format!("close {:?}", reason.map(|r| u16::from(r.code))),
                Frame::Ping(_) => "ping".into(),
                other => format!("{other:?}"),
            });
        }
        out
    }

    /// What one poll of the writer wrote; nothing when it had nothing to write.
    pub fn written_texts(writer: &mut Writer) -> Vec<String> {
        match written(writer) {
            Poll::Ready(Some(texts)) => texts,
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::written;
    use super::*;

    fn frame(text: &str) -> Frame {
        Frame::from(text.to_owned())
    }

    fn room() -> RoomId {
        RoomId::from("r")
    }

    /// R-WS-4: every frame waiting is written in one buffer, in order.
    #[test]
    fn r_ws_4_waiting_frames_go_out_in_one_write() {
        let (outbox, mut writer) = Outbox::new(8);
        assert!(written(&mut writer).is_pending());
        for text in ["a", "b", "c"] {
            assert_eq!(outbox.push(OutFrame::Text(frame(text))), Push::Queued);
        }
        assert_eq!(written(&mut writer), Poll::Ready(Some(vec!["a".into(), "b".into(), "c".into()])));
        assert!(written(&mut writer).is_pending());
    }

    /// A waker that counts its wake-ups.
    struct Counting(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// A batch published at once wakes each writer once, after the batch: its frames then go
    /// out in one write.
    #[test]
    fn a_batch_wakes_its_writers_once_when_it_is_published() {
        let (outbox, mut writer) = Outbox::new(8);
        let count = Arc::new(Counting(std::sync::atomic::AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        assert!(writer.poll_take(&mut Context::from_waker(&waker)).is_pending());
        let woken = || count.0.load(std::sync::atomic::Ordering::SeqCst);
        batched(&mut || {
            for (seq, text) in [(1, "a"), (2, "b"), (3, "c")] {
                assert_eq!(outbox.push_message(&room(), seq, &frame(text)), Push::Queued);
            }
            assert_eq!(woken(), 0, "held until the batch is published");
        });
        assert_eq!(woken(), 1);
        assert_eq!(written(&mut writer), Poll::Ready(Some(vec!["a".into(), "b".into(), "c".into()])));
        // Outside a batch, a push wakes the writer at once.
        assert!(writer.poll_take(&mut Context::from_waker(&waker)).is_pending());
        assert_eq!(outbox.push(OutFrame::Text(frame("d"))), Push::Queued);
        assert_eq!(woken(), 2);
    }

    /// R-WS-4: the queue is bounded; a full queue is reported, not grown.
    #[test]
    fn r_ws_4_a_full_queue_refuses_more() {
        let (outbox, _writer) = Outbox::new(2);
        assert_eq!(outbox.push(OutFrame::Ping), Push::Queued);
        assert_eq!(outbox.push_message(&room(), 1, &frame("m1")), Push::Queued);
        assert_eq!(outbox.push_message(&room(), 2, &frame("m2")), Push::Full);
        assert_eq!(outbox.queued(), 2);
        // Not queued, so not counted as delivered: a resume sends it.
        assert_eq!(outbox.push_replayed(&room(), 2, frame("m2")), Push::Queued);
    }

    /// R-WS-3: a room's message is queued once, whether it comes live or replayed.
    #[test]
    fn r_ws_3_messages_are_queued_once() {
        let (outbox, mut writer) = Outbox::new(16);
        assert_eq!(outbox.push_message(&room(), 5, &frame("m5")), Push::Queued);
        assert_eq!(outbox.push_message(&room(), 5, &frame("m5")), Push::Duplicate);
        outbox.hold(&room());
        for seq in 3..=6 {
            outbox.push_replayed(&room(), seq, frame(&format!("m{seq}")));
        }
        outbox.release(&room());
        assert_eq!(written(&mut writer), Poll::Ready(Some(vec!["m5".into(), "m3".into(), "m4".into(), "m6".into()])));
    }

    /// R-WS-6: live messages that arrive during a replay wait for it, so the room's messages
    /// reach the client as one increasing sequence, without repeats.
    #[test]
    fn r_ws_6_live_messages_wait_for_the_replay() {
        let (outbox, mut writer) = Outbox::new(16);
        outbox.hold(&room());
        assert_eq!(outbox.push_message(&room(), 11, &frame("m11")), Push::Queued);
        assert_eq!(outbox.push_message(&room(), 12, &frame("m12")), Push::Queued);
        assert!(written(&mut writer).is_pending(), "held live messages are not written yet");
        for seq in 9..=11 {
            outbox.push_replayed(&room(), seq, frame(&format!("m{seq}")));
        }
        outbox.release(&room());
        outbox.push_message(&room(), 13, &frame("m13"));
        let expected: Vec<String> = (9..=13).map(|s| format!("m{s}")).collect();
        assert_eq!(written(&mut writer), Poll::Ready(Some(expected)));
    }

    /// R-WS-6: a new session holds live messages until it has resumed, so the replay of what
    /// was missed comes first even when live messages were published before the resume.
    #[test]
    fn r_ws_6_a_new_session_holds_live_messages_until_it_resumes() {
        let (outbox, mut writer) = Outbox::new(16);
        let other = RoomId::from("other");
        outbox.hold_until_resumed();
        outbox.push(OutFrame::Text(frame("ready")));
        outbox.push_message(&room(), 11, &frame("m11"));
        outbox.push_message(&other, 1, &frame("o1"));
        assert_eq!(written(&mut writer), Poll::Ready(Some(vec!["ready".into()])));
        // The client resumes `room` from 9.
        outbox.hold(&room());
        for seq in 10..=11 {
            outbox.push_replayed(&room(), seq, frame(&format!("m{seq}")));
        }
        outbox.release(&room());
        outbox.release_all();
        outbox.push_message(&room(), 12, &frame("m12"));
        outbox.push_message(&other, 2, &frame("o2"));
        let expected = ["m10", "m11", "o1", "m12", "o2"].map(String::from).to_vec();
        assert_eq!(written(&mut writer), Poll::Ready(Some(expected)));
    }

    /// R-WS-1: `ready` is the first frame after authentication, even when the hub pushed
    /// events to the session before it was queued.
    #[test]
    fn r_ws_1_the_first_frame_goes_ahead_of_what_waits() {
        let (outbox, mut writer) = Outbox::new(8);
        outbox.gate();
        outbox.push(OutFrame::Text(frame("presence")));
        assert!(written(&mut writer).is_pending(), "nothing is written before the first frame");
        outbox.open_with(OutFrame::Text(frame("ready")));
        assert_eq!(written(&mut writer), Poll::Ready(Some(vec!["ready".into(), "presence".into()])));
    }

    /// R-WS-4: a close frame goes last, nothing after it, and ends the body.
    #[test]
    fn r_ws_4_close_is_the_last_frame() {
        let (outbox, mut writer) = Outbox::new(4);
        outbox.push(OutFrame::Text(frame("a")));
        outbox.close(CloseReason { code: actix_http::ws::CloseCode::Policy, description: Some("slow".into()) }, true);
        assert_eq!(outbox.push(OutFrame::Text(frame("b"))), Push::Closed);
        assert_eq!(written(&mut writer), Poll::Ready(Some(vec!["close Some(1008)".into()])));
        assert_eq!(written(&mut writer), Poll::Ready(None));
    }

    /// The connection's end reaches the session and refuses further frames.
    #[test]
    fn a_dropped_writer_ends_the_outbox() {
        let (outbox, writer) = Outbox::new(4);
        drop(writer);
        assert!(outbox.gone().is_cancelled());
        assert_eq!(outbox.push(OutFrame::Ping), Push::Closed);
    }

    /// An aborted connection ends with an error, so actix-http drops it at once.
    #[test]
    fn abort_ends_the_body_with_an_error() {
        let (outbox, mut writer) = Outbox::new(4);
        outbox.push(OutFrame::Ping);
        outbox.abort();
        assert_eq!(written(&mut writer), Poll::Ready(Some(vec!["<aborted>".into()])));
    }

    /// R-WS-3: seen sequence numbers merge into few ranges and refuse repeats.
    #[test]
    fn r_ws_3_seen_sequences_merge_into_ranges() {
        let mut seen = SeenSeqs::default();
        for seq in [11, 12, 13, 4, 5, 6, 7, 8, 9, 10, 20, 18, 19, 2] {
            assert!(seen.insert(seq), "{seq}");
        }
        assert_eq!(seen.0, [(2, 2), (4, 13), (18, 20)]);
        assert!(!seen.insert(9));
        assert!(!seen.insert(20));
        assert!(seen.insert(3));
        assert_eq!(seen.0, [(2, 13), (18, 20)]);
        assert!(seen.contains(13) && !seen.contains(14) && !seen.contains(1));
    }
}
