//! Drawing the state: a sidebar of rooms and direct conversations, the open room (or the
//! notifications), the composer and a status line; the switcher over them. Fits 80×24 and uses
//! the 256-colour palette.

use super::app::{App, Connection, Notice, Pane, RoomState};
use chrono::FixedOffset;
use conclave_protocol::{Color as MessageColor, Message, Notification};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

const SIDEBAR: u16 = 22;
const DIM: Color = Color::Indexed(244);
const ACCENT: Color = Color::Indexed(39);

/// A message colour in the 256-colour palette.
fn palette(color: MessageColor) -> Color {
    Color::Indexed(match color {
        MessageColor::Red => 196,
        MessageColor::Orange => 208,
        MessageColor::Amber => 214,
        MessageColor::Green => 34,
        MessageColor::Teal => 37,
        MessageColor::Blue => 33,
        MessageColor::Indigo => 62,
        MessageColor::Violet => 135,
        MessageColor::Pink => 205,
        MessageColor::Gray => 245,
    })
}

/// Each author keeps one colour, from their name.
fn author_color(name: &str) -> Color {
    const AUTHORS: [u8; 6] = [75, 114, 179, 176, 80, 209];
    let sum = name.bytes().fold(0_usize, |sum, b| sum.wrapping_mul(31).wrapping_add(usize::from(b)));
    Color::Indexed(AUTHORS[sum % AUTHORS.len()])
}

pub fn draw(frame: &mut Frame, app: &App) {
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    let [sidebar, room] = Layout::horizontal([Constraint::Length(SIDEBAR), Constraint::Min(20)]).areas(main);
    draw_sidebar(frame, app, sidebar);
    match app.pane {
        Pane::Room => draw_room(frame, app, room),
        Pane::Notifications => draw_notifications(frame, app, room),
    }
    draw_status(frame, app, status);
    if app.switcher.is_some() {
        draw_switcher(frame, app, frame.area());
    }
}

/// The lines of the message area's height for `area` (what paging moves by).
pub fn message_lines(area: Rect) -> u16 {
    area.height.saturating_sub(1 + 1 + 3 + 1)
}

fn draw_sidebar(frame: &mut Frame, app: &App, area: Rect) {
    let mut lines = Vec::new();
    let width = usize::from(area.width.saturating_sub(2));
    let mut section = None;
    for room in &app.rooms {
        let heading = if room.is_direct() { "DIRECT" } else { "ROOMS" };
        if section != Some(heading) {
            if section.is_some() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(format!(" {heading}"), Style::new().fg(DIM).add_modifier(Modifier::BOLD)));
            section = Some(heading);
        }
        let mark = match &room.room.peer {
            Some(peer) if app.online.get(&peer.id).copied().unwrap_or(peer.online) => "●",
            Some(_) => "○",
            None => "#",
        };
        let unread = room.room.unread_count;
        let count = if unread > 0 { unread.to_string() } else { String::new() };
        let name_width = width.saturating_sub(3 + count.len());
        let name = clip(room.label(), name_width);
        let pad = name_width.saturating_sub(name.width());
        let rest = format!(" {name}{}{count}", " ".repeat(pad + 1));
        let mut style = Style::new();
        if unread > 0 {
            style = style.add_modifier(Modifier::BOLD);
        }
        if app.current.as_ref() == Some(room.id()) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let mark_style = if mark == "●" { Style::new().fg(Color::Indexed(40)) } else { Style::new().fg(DIM) };
        lines.push(Line::from(vec![
            Span::styled(" ", style),
            Span::styled(mark, mark_style.patch(style)),
            Span::styled(rest, style),
        ]));
    }
    if app.rooms.is_empty() {
        lines.push(Line::styled(" no rooms yet:", Style::new().fg(DIM)));
        lines.push(Line::styled(" /join NAME", Style::new().fg(DIM)));
    }
    let block = Block::new().borders(Borders::RIGHT).border_style(Style::new().fg(DIM));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// `text` cut to `width` columns, with `…` when cut.
fn clip(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    format!("{}…", fitting(text, width.saturating_sub(1)))
}

/// The longest start of `text` that takes at most `width` columns.
fn fitting(text: &str, width: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += c.width().unwrap_or(0);
        if used > width {
            return &text[..at];
        }
    }
    text
}

fn draw_room(frame: &mut Frame, app: &App, area: Rect) {
    let [header, messages, typing, composer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1), Constraint::Length(3)])
            .areas(area);
    let Some(room) = app.current_room() else {
        let hint = "No room open. Ctrl-K to choose one, /join NAME to join one, /dm USER to talk to someone.";
        frame.render_widget(
            Paragraph::new(hint).style(Style::new().fg(DIM)).wrap(ratatui::widgets::Wrap { trim: true }),
            messages,
        );
        draw_composer(frame, app, composer);
        return;
    };
    let title = if room.is_direct() {
        format!(" {} (direct)", room.label())
    } else {
        let members = room.room.room.member_count;
        let topic = room.room.room.topic.as_deref().map(|t| format!(" · {t}")).unwrap_or_default();
        format!(" #{} · {members} member{}{topic}", room.label(), if members == 1 { "" } else { "s" })
    };
    frame.render_widget(
        Paragraph::new(clip(&title, usize::from(header.width)))
            .style(Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)),
        header,
    );
    let width = usize::from(messages.width.max(10));
    let mut lines = history_lines(room, app.offset, width);
    let height = usize::from(messages.height);
    let scroll = usize::from(room.scroll).min(lines.len().saturating_sub(height));
    let end = lines.len().saturating_sub(scroll);
    let start = end.saturating_sub(height);
    let mut shown: Vec<Line> = lines.drain(start..end).collect();
    if start == 0 && shown.len() < height {
        // Short history: from the top, with where it begins above it.
        let first = if room.complete {
            "— the beginning of the room —"
        } else if room.loading {
            "loading…"
        } else {
            "PageUp for earlier messages"
        };
        shown.insert(0, Line::styled(first, Style::new().fg(DIM)));
        // Newest at the bottom, as in every chat: the room's start floats down to meet it.
        let blank = height.saturating_sub(shown.len());
        shown.splice(0..0, std::iter::repeat_n(Line::raw(""), blank));
    }
    frame.render_widget(Paragraph::new(shown), messages);
    frame.render_widget(
        Paragraph::new(typing_line(app, room)).style(Style::new().fg(DIM).add_modifier(Modifier::ITALIC)),
        typing,
    );
    draw_composer(frame, app, composer);
}

/// "bob is typing…", "bob and carol are typing…", "3 people are typing…".
fn typing_line(app: &App, room: &RoomState) -> String {
    let names: Vec<&str> = room.typing.keys().map(|id| app.names.get(id).map_or("someone", String::as_str)).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => format!(" {one} is typing…"),
        [a, b] => format!(" {a} and {b} are typing…"),
        more => format!(" {} people are typing…", more.len()),
    }
}

/// Every loaded message as lines `width` wide, oldest first, with a line between days.
pub fn history_lines(room: &RoomState, offset: FixedOffset, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut day = None;
    for message in room.messages.values() {
        let local = message.created_at.with_timezone(&offset);
        let date = local.date_naive();
        if day != Some(date) {
            let label = format!(" {} ", local.format("%A %-d %B %Y"));
            let side = width.saturating_sub(label.width()) / 2;
            lines.push(Line::styled(format!("{}{label}{}", "─".repeat(side), "─".repeat(side)), Style::new().fg(DIM)));
            day = Some(date);
        }
        lines.extend(message_lines_of(message, offset, width));
    }
    lines
}

fn message_lines_of(message: &Message, offset: FixedOffset, width: usize) -> Vec<Line<'static>> {
    let time = message.created_at.with_timezone(&offset).format("%H:%M").to_string();
    let author = message.author_username.clone();
    let head = vec![
        Span::styled(format!("{time} "), Style::new().fg(DIM)),
        Span::styled(author.clone(), Style::new().fg(author_color(&author)).add_modifier(Modifier::BOLD)),
        Span::raw(" "),
    ];
    let indent = 6;
    let body_style = message.color.map_or(Style::new(), |c| Style::new().fg(palette(c)));
    if message.deleted {
        let mut first = head;
        first.push(Span::styled("message deleted", Style::new().fg(DIM).add_modifier(Modifier::ITALIC)));
        return vec![Line::from(first)];
    }
    let mut lines = Vec::new();
    let mut first = Some(head);
    let lead = 6 + author.width() + 1;
    let mut text_lines: Vec<String> = Vec::new();
    if let Some(reply) = &message.reply_to {
        text_lines.push(format!("↳ {}: {}", reply.author_username, reply.excerpt));
    }
    text_lines.extend(message.body.lines().map(str::to_owned));
    if message.edited_at.is_some()
        && let Some(last) = text_lines.last_mut()
    {
        last.push_str(" (edited)");
    }
    for (n, text) in text_lines.iter().enumerate() {
        let available = if n == 0 { width.saturating_sub(lead) } else { width.saturating_sub(indent) };
        for (m, piece) in wrap(text, available.max(8)).into_iter().enumerate() {
            let mut spans = match first.take() {
                Some(head) => head,
                None => vec![Span::raw(" ".repeat(if n == 0 && m > 0 { lead } else { indent }))],
            };
            spans.push(Span::styled(piece, body_style));
            lines.push(Line::from(spans));
        }
    }
    if let Some(head) = first.take() {
        lines.push(Line::from(head));
    }
    if let Some(sticker) = message.sticker {
        for art in sticker.art().lines() {
            lines.push(Line::styled(format!("{}{art}", " ".repeat(indent)), body_style));
        }
    }
    if let Some(file) = &message.attachment {
        let size = human_size(file.size);
        lines.push(Line::styled(
            format!("{}[file] {} ({size})", " ".repeat(indent), file.filename),
            Style::new().fg(ACCENT),
        ));
    }
    if !message.reactions.is_empty() {
        let mut spans = vec![Span::raw(" ".repeat(indent))];
        for reaction in &message.reactions {
            let style =
                if reaction.me { Style::new().fg(ACCENT).add_modifier(Modifier::BOLD) } else { Style::new().fg(DIM) };
            spans.push(Span::styled(format!("{} {}", reaction.emoji, reaction.count), style));
            spans.push(Span::raw("  "));
        }
        lines.push(Line::from(spans));
    }
    lines
}

fn human_size(bytes: u64) -> String {
    match bytes {
        0..1_024 => format!("{bytes} B"),
        1_024..1_048_576 => format!("{} KiB", bytes / 1_024),
        _ => format!("{} MiB", bytes / 1_048_576),
    }
}

/// Greedy word wrap to `width` columns; a word longer than a line is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
        if candidate.width() <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        while rest.width() > width {
            let cut = fitting(rest, width);
            if cut.is_empty() {
                break;
            }
            lines.push(cut.to_owned());
            rest = &rest[cut.len()..];
        }
        line = rest.to_owned();
    }
    lines.push(line);
    lines
}

fn draw_composer(frame: &mut Frame, app: &App, area: Rect) {
    let target = app.current_room().map_or("no room".to_owned(), |r| {
        if r.is_direct() { format!("to {}", r.label()) } else { format!("#{}", r.label()) }
    });
    let color = app.composer.color.map(|c| {
        let name = serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        format!(" · {name}")
    });
    let title = match app.composer.editing {
        Some(_) => format!(" editing your message in {target} · Enter saves, Esc leaves it "),
        None => format!(" {target}{} · Enter sends, Alt-Enter new line ", color.unwrap_or_default()),
    };
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(Style::new().fg(DIM))
        .title(Span::styled(clip(&title, usize::from(area.width)), Style::new().fg(DIM)));
    let inner = block.inner(area);
    // The composer shows the lines around the cursor.
    let before: String = app.composer.text.chars().take(app.composer.cursor).collect();
    let row = before.matches('\n').count();
    let column = before.rsplit('\n').next().unwrap_or("").width();
    let rows = usize::from(inner.height.max(1));
    let skip = (row + 1).saturating_sub(rows);
    let text: Vec<Line> =
        app.composer.text.split('\n').skip(skip).take(rows).map(|l| Line::raw(l.to_owned())).collect();
    let width = usize::from(inner.width.max(1));
    let shift = column.saturating_sub(width.saturating_sub(1));
    frame.render_widget(Paragraph::new(text).block(block).scroll((0, u16::try_from(shift).unwrap_or(0))), area);
    if app.switcher.is_none() && app.pane == Pane::Room {
        let x = inner.x.saturating_add(u16::try_from(column - shift).unwrap_or(0));
        let y = inner.y.saturating_add(u16::try_from(row - skip).unwrap_or(0));
        frame.set_cursor_position(Position::new(x, y));
    }
}

fn draw_notifications(frame: &mut Frame, app: &App, area: Rect) {
    let [header, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(" Notifications · F2 or Esc to go back")
            .style(Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)),
        header,
    );
    let lines: Vec<Line> = if app.notifications.is_empty() {
        vec![Line::styled(" nothing yet", Style::new().fg(DIM))]
    } else {
        app.notifications.iter().map(|n| notification_line(n, app.offset)).collect()
    };
    frame.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }), list);
}

fn notification_line(notice: &Notification, offset: FixedOffset) -> Line<'static> {
    let sentence = notice.sentence();
    let when = notice.created_at.with_timezone(&offset).format("%d %b %H:%M").to_string();
    let (mark, style) =
        if notice.read { ("  ", Style::new()) } else { ("● ", Style::new().add_modifier(Modifier::BOLD)) };
    Line::from(vec![
        Span::styled(format!(" {mark}"), Style::new().fg(ACCENT)),
        Span::styled(format!("{when}  "), Style::new().fg(DIM)),
        Span::styled(sentence, style),
    ])
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let (state, color) = match &app.connection {
        Connection::Connecting => ("connecting…".to_owned(), Color::Indexed(214)),
        Connection::Connected => ("connected".to_owned(), Color::Indexed(40)),
        Connection::Reconnecting(_) => ("reconnecting…".to_owned(), Color::Indexed(214)),
    };
    let mut spans = vec![
        Span::styled(format!(" {} ", app.me.username), Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(format!("{state} "), Style::new().fg(color)),
    ];
    match &app.notice {
        Some(Notice::Error(sentence)) => {
            spans.push(Span::styled(sentence.clone(), Style::new().fg(Color::Indexed(203))))
        }
        Some(Notice::Info(sentence)) => spans.push(Span::raw(sentence.clone())),
        None => {
            let unread = app.unread_notifications();
            let bell = if unread > 0 { format!("F2 notifications ({unread})") } else { "F2 notifications".to_owned() };
            spans.push(Span::styled(format!("Ctrl-K rooms · {bell} · Ctrl-Q quit"), Style::new().fg(DIM)));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(Style::new().bg(Color::Indexed(236))), area);
}

fn draw_switcher(frame: &mut Frame, app: &App, area: Rect) {
    let Some(switcher) = &app.switcher else { return };
    let width = area.width.min(44);
    let height = area.height.min(12);
    let popup = Rect::new(area.x + (area.width - width) / 2, area.y + (area.height - height) / 3, width, height);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().title(" Go to a room (Enter, Esc) ").border_style(Style::new().fg(ACCENT));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let mut lines =
        vec![Line::from(vec![Span::styled("› ", Style::new().fg(ACCENT)), Span::raw(switcher.query.clone())])];
    let matches = app.matches(&switcher.query);
    if matches.is_empty() {
        lines.push(Line::styled("no room of yours matches", Style::new().fg(DIM)));
    }
    for (n, room) in matches.iter().enumerate().take(usize::from(inner.height.saturating_sub(1))) {
        let mark = if room.is_direct() { "@" } else { "#" };
        let style = if n == switcher.selected { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() };
        lines.push(Line::styled(format!("{mark} {}", room.label()), style));
    }
    frame.render_widget(Paragraph::new(lines), inner);
    let x = inner.x.saturating_add(2).saturating_add(u16::try_from(switcher.query.width()).unwrap_or(0));
    frame.set_cursor_position(Position::new(x.min(inner.right().saturating_sub(1)), inner.y));
}
