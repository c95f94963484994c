//! Keys, read as intentions.

use super::app::Action;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a terminal event asks for: none, one action, or a paste's many.
pub fn actions(event: &Event) -> Vec<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => key_action(key).into_iter().collect(),
        Event::Paste(text) => pasted(text),
        _ => Vec::new(),
    }
}

fn key_action(key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        KeyCode::Char('c' | 'q') if ctrl => Action::Quit,
        KeyCode::Char('k') if ctrl => Action::OpenSwitcher,
        KeyCode::Char('n') if ctrl => Action::NextRoom,
        KeyCode::Char('p') if ctrl => Action::PreviousRoom,
        KeyCode::Char('a') if ctrl => Action::Home,
        KeyCode::Char('e') if ctrl => Action::End,
        KeyCode::Down if alt => Action::NextRoom,
        KeyCode::Up if alt => Action::PreviousRoom,
        KeyCode::Enter if alt || key.modifiers.contains(KeyModifiers::SHIFT) => Action::Newline,
        KeyCode::Char('j') if ctrl => Action::Newline,
        KeyCode::Enter => Action::Submit,
        KeyCode::Char(c) if !ctrl => Action::Insert(c),
        KeyCode::Backspace => Action::Backspace,
        KeyCode::Delete => Action::Delete,
        KeyCode::Left => Action::Left,
        KeyCode::Right => Action::Right,
        KeyCode::Home => Action::Home,
        KeyCode::End => Action::End,
        KeyCode::Up => Action::Up,
        KeyCode::Down => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Esc => Action::Escape,
        KeyCode::F(2) => Action::ToggleNotifications,
        KeyCode::Tab => Action::NextRoom,
        KeyCode::BackTab => Action::PreviousRoom,
        _ => return None,
    })
}

/// A paste: its characters, new lines kept as new lines (never as a send).
fn pasted(text: &str) -> Vec<Action> {
    text.chars().filter(|c| *c != '\r').map(|c| if c == '\n' { Action::Newline } else { Action::Insert(c) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<Action> {
        actions(&Event::Key(KeyEvent::new(code, modifiers))).pop()
    }

    /// Issue 17: Enter sends, Alt-Enter is a new line, Ctrl-K the switcher.
    #[test]
    fn keys_mean_what_the_help_says() {
        assert_eq!(key(KeyCode::Enter, KeyModifiers::NONE), Some(Action::Submit));
        assert_eq!(key(KeyCode::Enter, KeyModifiers::ALT), Some(Action::Newline));
        assert_eq!(key(KeyCode::Char('k'), KeyModifiers::CONTROL), Some(Action::OpenSwitcher));
        assert_eq!(key(KeyCode::Char('c'), KeyModifiers::CONTROL), Some(Action::Quit));
        assert_eq!(key(KeyCode::Char('é'), KeyModifiers::NONE), Some(Action::Insert('é')));
        assert_eq!(key(KeyCode::Char('A'), KeyModifiers::SHIFT), Some(Action::Insert('A')));
        assert_eq!(key(KeyCode::F(2), KeyModifiers::NONE), Some(Action::ToggleNotifications));
        assert_eq!(key(KeyCode::F(9), KeyModifiers::NONE), None);
        let paste = actions(&Event::Paste("a\r\nb".into()));
        assert_eq!(paste, [Action::Insert('a'), Action::Newline, Action::Insert('b')]);
    }
}
