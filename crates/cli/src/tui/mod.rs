//! `conclave-cli tui`: the full-screen chat. One loop over three sources (terminal events,
//! actions from the gateway and from finished effects, a tick), each turned into actions for
//! the pure [`app::App::update`], whose effects run as tasks and answer with more actions.
//! The terminal is restored on every way out: a quit, an error, a panic.

pub mod app;
mod effects;
mod keys;
pub mod slash;
#[cfg(test)]
mod tests;
pub mod view;

use crate::api::Api;
use crate::error::{CliError, CliResult};
use crate::gateway::{self, Event as Gateway};
use crate::names;
use app::{Action, App, Connection};
use chrono::{Local, Offset, Utc};
use conclave_protocol::endpoints::Me;
use futures_util::StreamExt;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event, EventStream};
use ratatui::crossterm::execute;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

pub async fn run(mut api: Api) -> CliResult<()> {
    let me = api.call(&Me {}, None).await?.user;
    let rooms = names::my_rooms(&mut api).await?;
    let notifications = effects::notifications(&mut api).await?;
    let offset = Local::now().offset().fix();
    let mut app = App::new(me, api.server().to_owned(), rooms, offset, Utc::now());
    app.update(Action::Notifications(notifications));

    let api = Arc::new(Mutex::new(api));
    let (actions, mut incoming) = mpsc::unbounded_channel();
    let (outgoing, to_gateway) = mpsc::unbounded_channel();
    let (news, mut from_gateway) = mpsc::unbounded_channel();
    let last: gateway::LastSeen = Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let gateway = tokio::spawn(gateway::run(Arc::clone(&api), Arc::clone(&last), news, to_gateway));

    let mut terminal = start_terminal()?;
    let outcome = async {
        let mut events = EventStream::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let area = terminal.size().map_err(|e| CliError::local("reading the terminal's size", e))?;
        let mut pending = vec![Action::Resized(view::message_lines(area.into()))];
        let mut effects = app.start();
        loop {
            for action in pending.drain(..) {
                effects.extend(app.update(action));
            }
            for effect in effects.drain(..) {
                let (api, actions, outgoing) = (Arc::clone(&api), actions.clone(), outgoing.clone());
                tokio::spawn(async move {
                    for action in effects::run(effect, &api, &outgoing).await {
                        actions.send(action).ok();
                    }
                });
            }
            if app.quit {
                return Ok(());
            }
            if let Ok(mut seen) = last.lock() {
                *seen = app.last_seqs();
            }
            terminal.draw(|frame| view::draw(frame, &app)).map_err(|e| CliError::local("drawing", e))?;
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(Event::Resize(width, height))) => {
                        pending.push(Action::Resized(view::message_lines(ratatui::layout::Rect::new(0, 0, width, height))));
                    }
                    Some(Ok(event)) => pending.extend(keys::actions(&event)),
                    Some(Err(e)) => return Err(CliError::local("reading the terminal", e)),
                    None => return Ok(()),
                },
                Some(action) = incoming.recv() => pending.push(action),
                Some(news) = from_gateway.recv() => pending.push(match news {
                    Gateway::Frame(frame) => Action::Frame(*frame),
                    Gateway::Connected => Action::Connection(Connection::Connected),
                    Gateway::Lost(why) => Action::Connection(Connection::Reconnecting(why)),
                    Gateway::Ended(error) => Action::Failed(error.to_string()),
                }),
                _ = tick.tick() => pending.push(Action::Tick(Utc::now())),
            }
        }
    }
    .await;
    restore_terminal();
    gateway.abort();
    outcome
}

fn start_terminal() -> CliResult<ratatui::DefaultTerminal> {
    let terminal = ratatui::try_init().map_err(|e| CliError::local("starting the full screen", e))?;
    execute!(std::io::stdout(), EnableBracketedPaste).ok();
    // A panic leaves the terminal as it was found (ratatui's own hook restores the screen).
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        execute!(std::io::stdout(), DisableBracketedPaste).ok();
        previous(info);
    }));
    Ok(terminal)
}

fn restore_terminal() {
    execute!(std::io::stdout(), DisableBracketedPaste).ok();
    ratatui::restore();
}
