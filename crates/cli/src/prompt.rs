//! Passwords: from the environment for scripts, else asked for on the terminal without echo.

use crate::error::{CliError, CliResult};
use std::io::IsTerminal;

/// `variable`'s value, else a no-echo prompt with `label` (asked twice when `confirm`).
fn secret(variable: &str, label: &str, confirm: bool) -> CliResult<String> {
    if let Some(value) = std::env::var_os(variable) {
        return value.into_string().map_err(|_| CliError::Usage(format!("{variable} is not UTF-8")));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!("no terminal to ask for the password on: set {variable}")));
    }
    let ask = |label: &str| {
        rpassword::prompt_password(format!("{label}: ")).map_err(|e| CliError::local("reading the password", e))
    };
    let first = ask(label)?;
    if confirm && ask(&format!("{label} again"))? != first {
        return Err(CliError::Usage("the two passwords differ".into()));
    }
    Ok(first)
}

/// The account's password (`CONCLAVE_PASSWORD`).
pub fn password(label: &str) -> CliResult<String> {
    secret("CONCLAVE_PASSWORD", label, false)
}

/// A new account's password, asked twice on a terminal.
pub fn new_password() -> CliResult<String> {
    secret("CONCLAVE_PASSWORD", "New password (10 characters or more)", true)
}

/// A room's password, to join it (`CONCLAVE_ROOM_PASSWORD`).
pub fn room_password() -> CliResult<String> {
    secret("CONCLAVE_ROOM_PASSWORD", "Room password", false)
}

/// A yes or no on the terminal (no terminal: no).
pub fn confirm(question: &str) -> CliResult<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!("{question} There is no terminal to answer on: add --yes")));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| CliError::local("reading the answer", e))?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// A new room's password, asked twice on a terminal.
pub fn new_room_password() -> CliResult<String> {
    secret("CONCLAVE_ROOM_PASSWORD", "Room password", true)
}
