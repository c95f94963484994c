//! Per-room order across nodes (SPEC R-WS-2 with several nodes). Each node publishes its own
//! messages in sequence order, but two nodes' messages in one room reach a third through Redis
//! in whatever order their publishes arrive, and core pub/sub may drop one. The sequencer sits
//! between every source of events (this node's own and the other nodes') and the hub: a room's
//! message that skips ahead of the next expected number is held, with the room's later events,
//! until the missing ones arrive or, after a short wait, are read from the store (one read per
//! room per node, whatever the number of its sessions). Pure: the caller applies what it
//! releases, runs the reads and says when they are done.

use super::hub::Event;
use conclave_protocol::RoomId;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A room's held messages beyond which order gives way to delivery: they are all released.
pub const MAX_HELD: usize = 4096;

/// One room's line: the highest message number released and what waits behind a gap.
#[derive(Default)]
struct Line {
    through: u64,
    /// Held messages by number, each followed by the room's events that came after it.
    held: BTreeMap<u64, Vec<Event>>,
    /// When the oldest open gap was noticed.
    since: Option<Instant>,
    /// The highest held number when a store read began (while one runs).
    reading: Option<u64>,
}

impl Line {
    /// Releases the held messages that follow on from `through`, each with its events.
    fn release_contiguous(&mut self, apply: &mut impl FnMut(Event)) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() > self.through + 1 {
                break;
            }
            let (seq, events) = entry.remove_entry();
            self.through = self.through.max(seq);
            events.into_iter().for_each(&mut *apply);
        }
    }

    /// Releases every held message numbered `last` or lower, in order.
    fn release_through(&mut self, last: u64, apply: &mut impl FnMut(Event)) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() > last {
                break;
            }
            let (seq, events) = entry.remove_entry();
            self.through = self.through.max(seq);
            events.into_iter().for_each(&mut *apply);
        }
        self.through = self.through.max(last);
    }

    fn after_release(&mut self, now: Instant) {
        self.since = if self.held.is_empty() { None } else { self.since.or(Some(now)) };
    }
}

/// A gap to fill from the store: the room's messages numbered above `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub room: RoomId,
    pub after: u64,
}

/// Every room's line on this node.
#[derive(Default)]
pub struct Sequencer {
    lines: HashMap<RoomId, Line>,
}

/// The room an event is ordered in, and its message number if it is a new message.
fn place(event: &Event) -> Option<(&RoomId, Option<u64>)> {
    match event {
        Event::ToRoom { room, seq, .. } => Some((room, *seq)),
        Event::Subscribe { room, .. } | Event::Unsubscribe { room, .. } | Event::Dissolve { room } => {
            Some((room, None))
        }
        Event::ToUsers { .. } | Event::ToRooms { .. } | Event::EndSessions { .. } | Event::Presence { .. } => None,
    }
}

impl Sequencer {
    /// Takes an event from anywhere; `apply` gets what may be applied now, in order.
    pub fn take(&mut self, event: Event, now: Instant, apply: &mut impl FnMut(Event)) {
        let Some((room, seq)) = place(&event) else { return apply(event) };
        let Some(seq) = seq else {
            // A room event that is not a new message waits behind the room's held messages.
            match self.lines.get_mut(room).and_then(|line| line.held.last_entry()) {
                Some(mut last) => last.get_mut().push(event),
                None => apply(event),
            }
            return;
        };
        let Some(line) = self.lines.get_mut(room) else {
            // The first message this node sees in the room starts its line.
            self.lines.insert(room.clone(), Line { through: seq, ..Line::default() });
            return apply(event);
        };
        if seq <= line.through {
            // Already passed: from the store or, at the line's start, a late one. Sessions
            // drop what they already have.
            return apply(event);
        }
        if seq == line.through + 1 && line.held.is_empty() {
            line.through = seq;
            return apply(event);
        }
        let overflowing = line.held.len() >= MAX_HELD;
        if overflowing {
            tracing::warn!(room_id = %room, "too many messages held for a gap; released out of order");
        }
        // A second copy of a held message is dropped.
        line.held.entry(seq).or_insert_with(|| vec![event]);
        line.release_contiguous(apply);
        if overflowing {
            let last = line.held.last_key_value().map_or(line.through, |(seq, _)| *seq);
            line.release_through(last, apply);
        }
        line.after_release(now);
    }

    /// The rooms whose gap has stayed open for `wait`, now being read (one read per room).
    pub fn overdue(&mut self, now: Instant, wait: Duration) -> Vec<Read> {
        let mut reads = Vec::new();
        for (room, line) in &mut self.lines {
            if line.reading.is_none() && line.since.is_some_and(|since| now.duration_since(since) >= wait) {
                line.reading = line.held.last_key_value().map(|(seq, _)| *seq);
                reads.push(Read { room: room.clone(), after: line.through });
            }
        }
        reads
    }

    /// Every room with a line and no read running, now being read: after missing what other
    /// nodes published (Redis came back), each room is read from its last released number.
    pub fn read_all(&mut self) -> Vec<Read> {
        let mut reads = Vec::new();
        for (room, line) in &mut self.lines {
            if line.reading.is_none() {
                line.reading = Some(line.held.last_key_value().map_or(line.through, |(seq, _)| *seq));
                reads.push(Read { room: room.clone(), after: line.through });
            }
        }
        reads
    }

    /// A read's answer: every message of the room numbered above its `after`, oldest first, as
    /// the store had them. They and what was held up to them are released in order.
    pub fn filled(&mut self, room: &RoomId, messages: Vec<Event>, now: Instant, apply: &mut impl FnMut(Event)) {
        let Some(line) = self.lines.get_mut(room) else { return messages.into_iter().for_each(apply) };
        let held_then = line.reading.take().unwrap_or(line.through);
        let mut last = held_then;
        for message in messages {
            let Some((_, Some(seq))) = place(&message) else { continue };
            last = last.max(seq);
            if seq > line.through {
                line.held.entry(seq).or_insert_with(|| vec![message]);
            }
        }
        // What was held when the read began was stored before it: numbers missing below it
        // are not in the store (none was taken), so nothing is waited for there.
        line.release_through(last, apply);
        line.release_contiguous(apply);
        line.after_release(now);
    }

    /// A read failed: the gap is read again after the wait.
    pub fn read_failed(&mut self, room: &RoomId, now: Instant) {
        if let Some(line) = self.lines.get_mut(room) {
            line.reading = None;
            if !line.held.is_empty() {
                line.since = Some(now);
            }
        }
    }

    /// Forgets the lines of rooms `keep` says no: nothing held, no read running.
    pub fn forget(&mut self, keep: impl Fn(&RoomId) -> bool) {
        self.lines.retain(|room, line| keep(room) || !line.held.is_empty() || line.reading.is_some());
    }

    /// How many rooms have a line.
    pub fn rooms(&self) -> usize {
        self.lines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_protocol::UserId;

    fn room() -> RoomId {
        RoomId::from("r")
    }

    fn message(seq: u64) -> Event {
        Event::ToRoom { room: room(), frame: format!("m{seq}").into(), seq: Some(seq) }
    }

    fn edit(text: &str) -> Event {
        Event::ToRoom { room: room(), frame: text.to_owned().into(), seq: None }
    }

    fn label(event: &Event) -> String {
        match event {
            Event::ToRoom { frame, .. } => frame.to_string(),
            Event::Unsubscribe { user, .. } => format!("unsubscribe {user}"),
            Event::Presence { user, .. } => format!("presence {user}"),
            other => format!("{other:?}"),
        }
    }

    /// Takes `events` at `now`, returning what was applied.
    fn take(sequencer: &mut Sequencer, events: Vec<Event>, now: Instant) -> Vec<String> {
        let mut applied = Vec::new();
        for event in events {
            sequencer.take(event, now, &mut |e| applied.push(label(&e)));
        }
        applied
    }

    /// R-WS-2: two nodes' messages that arrive swapped are applied in number order, and the
    /// room's other events wait behind the held one.
    #[test]
    fn r_ws_2_swapped_messages_are_put_back_in_order() {
        let mut s = Sequencer::default();
        let now = Instant::now();
        assert_eq!(take(&mut s, vec![message(1)], now), ["m1"]);
        assert_eq!(take(&mut s, vec![message(3), edit("edit of 3")], now), Vec::<String>::new());
        let other = Event::Presence { user: UserId::from("u"), online: true, told_rooms: true };
        assert_eq!(take(&mut s, vec![other], now), ["presence u"], "other events are not held");
        assert_eq!(take(&mut s, vec![message(2)], now), ["m2", "m3", "edit of 3"]);
        assert_eq!(take(&mut s, vec![message(4)], now), ["m4"]);
        assert!(s.overdue(now + Duration::from_secs(9), Duration::from_millis(1)).is_empty(), "no gap left");
    }

    /// R-WS-2: a gap still open after the wait is read from the store once per room; the read
    /// and what was held are released in order, and a late copy is passed to the sessions, which
    /// drop duplicates.
    #[test]
    fn r_ws_2_a_lasting_gap_is_read_from_the_store_once() {
        let mut s = Sequencer::default();
        let now = Instant::now();
        let wait = Duration::from_millis(200);
        take(&mut s, vec![message(1)], now);
        let kicked = Event::Unsubscribe { room: room(), user: UserId::from("bob") };
        assert!(take(&mut s, vec![message(4), kicked], now).is_empty());
        assert!(s.overdue(now + Duration::from_millis(100), wait).is_empty(), "too soon");
        let reads = s.overdue(now + wait, wait);
        assert_eq!(reads, [Read { room: room(), after: 1 }]);
        assert!(s.overdue(now + wait * 2, wait).is_empty(), "one read at a time");
        // Held during the read, after what the read will find.
        assert!(take(&mut s, vec![message(6)], now + wait).is_empty());
        let mut applied = Vec::new();
        s.filled(&room(), vec![message(2), message(3), message(4), message(5)], now + wait, &mut |e| {
            applied.push(label(&e))
        });
        assert_eq!(applied, ["m2", "m3", "m4", "unsubscribe bob", "m5", "m6"]);
        assert_eq!(take(&mut s, vec![message(3)], now), ["m3"], "late: the sessions drop it");
        assert_eq!(take(&mut s, vec![message(7)], now), ["m7"]);
    }

    /// A number that is not in the store (a deleted message stays as a tombstone, so this is
    /// one never taken) does not hold the room for ever.
    #[test]
    fn r_ws_2_a_number_the_store_lacks_is_passed_over() {
        let mut s = Sequencer::default();
        let now = Instant::now();
        take(&mut s, vec![message(1)], now);
        take(&mut s, vec![message(3)], now);
        let reads = s.overdue(now + Duration::from_secs(1), Duration::from_millis(10));
        assert_eq!(reads.len(), 1);
        let mut applied = Vec::new();
        s.filled(&room(), vec![message(3)], now, &mut |e| applied.push(label(&e)));
        assert_eq!(applied, ["m3"]);
        assert_eq!(take(&mut s, vec![message(4)], now), ["m4"]);
    }

    /// A failed read is tried again after the wait; Redis coming back reads every room.
    #[test]
    fn failed_reads_are_retried_and_every_room_is_read_after_a_gap_in_listening() {
        let mut s = Sequencer::default();
        let now = Instant::now();
        let wait = Duration::from_millis(50);
        take(&mut s, vec![message(1), message(3)], now);
        assert_eq!(s.overdue(now + wait, wait).len(), 1);
        s.read_failed(&room(), now + wait);
        assert!(s.overdue(now + wait, wait).is_empty());
        assert_eq!(s.overdue(now + wait * 2, wait).len(), 1);
        s.read_failed(&room(), now + wait * 2);
        assert_eq!(s.read_all(), [Read { room: room(), after: 1 }]);
        assert!(s.read_all().is_empty(), "already being read");
        s.filled(&room(), vec![message(2), message(3)], now, &mut |_| {});
        s.forget(|_| false);
        assert_eq!(s.rooms(), 0);
    }

    /// Order gives way to delivery when a gap holds too much.
    #[test]
    fn a_gap_holds_at_most_max_held_messages() {
        let mut s = Sequencer::default();
        let now = Instant::now();
        take(&mut s, vec![message(1)], now);
        let events: Vec<Event> = (3..=u64::try_from(MAX_HELD).expect("fits") + 3).map(message).collect();
        let applied = take(&mut s, events, now);
        assert_eq!(applied.len(), MAX_HELD + 1);
        assert_eq!(applied.first().map(String::as_str), Some("m3"));
        assert_eq!(take(&mut s, vec![message(2)], now), ["m2"]);
    }
}
