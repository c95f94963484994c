//! `tail`: new messages of some rooms as they come, through the gateway. When the connection
//! ends (a restart, a network cut, an expired token) it connects again and resumes from the last
//! message printed in each room (R-WS-3), so each message is printed once, in order.

use crate::api::Api;
use crate::error::{CliError, CliResult};
use crate::gateway::{self, Event, LastSeen};
use crate::names;
use crate::output::{self, Out};
use conclave_protocol::endpoints::Messages;
use conclave_protocol::{Message, MessagesQuery, RoomId, ServerFrame};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};

/// The rooms followed: their names, and the last message number printed in each (shared with
/// the gateway, which resumes from it).
struct Followed {
    labels: BTreeMap<RoomId, String>,
    last: LastSeen,
}

impl Followed {
    /// Follows `room` too (just joined), from its newest message on.
    async fn add(&mut self, api: &mut Api, room: &RoomId) -> CliResult<()> {
        let rooms = names::my_rooms(api).await?;
        let Some(joined) = rooms.iter().find(|r| &r.room.id == room) else { return Ok(()) };
        let seq = latest(api, room).await?;
        self.labels.insert(room.clone(), names::label(joined).to_owned());
        if let Ok(mut last) = self.last.lock() {
            last.entry(room.clone()).or_insert(seq);
        }
        Ok(())
    }

    /// Prints `message` if it is the next one of a followed room.
    fn take(&self, out: Out, message: &Message) {
        let Ok(mut last) = self.last.lock() else { return };
        let Some(seen) = last.get_mut(&message.room_id) else { return };
        if message.seq <= *seen {
            return;
        }
        *seen = message.seq;
        let label = (self.labels.len() > 1).then(|| self.labels.get(&message.room_id).map(String::as_str)).flatten();
        out.line(message, || output::message_line(message, label));
    }
}

pub async fn run(mut api: Api, out: Out, specs: &[String]) -> CliResult<()> {
    let mine = names::my_rooms(&mut api).await?;
    let rooms = if specs.is_empty() {
        mine
    } else {
        let mut chosen = Vec::new();
        for spec in specs {
            chosen.push(names::pick(&mine, spec)?.cloned().ok_or_else(|| names::no_room(spec))?);
        }
        chosen
    };
    if rooms.is_empty() {
        return Err(CliError::Usage("you are in no room to follow".into()));
    }
    let mut labels = BTreeMap::new();
    let mut last = BTreeMap::new();
    for room in &rooms {
        labels.insert(room.room.id.clone(), names::label(room).to_owned());
        last.insert(room.room.id.clone(), latest(&mut api, &room.room.id).await?);
    }
    let mut followed = Followed { labels, last: Arc::new(std::sync::Mutex::new(last)) };
    // With no room named, every room: those joined meanwhile too.
    let me = specs.is_empty().then(|| api.session().map(|s| s.user_id.clone())).transpose()?;
    let api = Arc::new(Mutex::new(api));
    let (events, mut incoming) = mpsc::unbounded_channel();
    // `tail` sends nothing: the sending side is dropped at once.
    let (_, nothing_to_send) = mpsc::unbounded_channel();
    tokio::spawn(gateway::run(Arc::clone(&api), Arc::clone(&followed.last), events, nothing_to_send));
    while let Some(event) = incoming.recv().await {
        match event {
            Event::Frame(frame) => match *frame {
                ServerFrame::MessageCreated { message } => followed.take(out, &message),
                ServerFrame::MemberJoined { room_id, user } if Some(&user.id) == me.as_ref() => {
                    followed.add(&mut *api.lock().await, &room_id).await?;
                }
                ServerFrame::Error { message, .. } => eprintln!("conclave-cli: {message}"),
                _ => {}
            },
            Event::Connected => {}
            Event::Lost(why) => eprintln!("conclave-cli: connection lost ({why}); reconnecting…"),
            Event::Ended(error) => return Err(error),
        }
    }
    Ok(())
}

/// The number of `room`'s newest message (0 before the first): where printing starts.
async fn latest(api: &mut Api, room: &RoomId) -> CliResult<u64> {
    let query = MessagesQuery { limit: Some(1), ..Default::default() };
    let page = api.call(&Messages { room_id: room.clone(), query }, None).await?;
    Ok(page.items.first().map_or(0, |m| m.seq))
}
