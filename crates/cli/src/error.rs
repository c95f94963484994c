//! What can go wrong, as the exit codes and sentences a user or a script sees.

use conclave_protocol::ErrorCode;
use std::process::ExitCode;

/// One error type for the whole client; [`CliError::exit_code`] maps it once, at the edge.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server answered with an error (its own sentence).
    #[error("{message}")]
    Refused { status: u16, code: Option<ErrorCode>, message: String },
    /// The command line asks for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    /// No answer from the server.
    #[error("cannot reach the server at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    /// No session, or one the server no longer accepts.
    #[error("{0}; run `conclave-cli login USERNAME`")]
    NotLoggedIn(String),
    /// Reading or writing a local file (the session, an attachment, a prompt).
    #[error("{what}: {source}")]
    Local { what: String, source: std::io::Error },
    /// An answer that does not fit the protocol: a server of another version, or not Conclave.
    #[error("the server's answer to {what} does not fit the protocol: {reason}")]
    Protocol { what: String, reason: String },
}

pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub fn local(what: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Local { what: what.into(), source }
    }

    /// 0 done, 1 refused by the server, 2 bad usage, 3 cannot reach the server, 4 not logged in
    /// or the session expired. A local failure (a file that cannot be read) is bad usage.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Refused { .. } | CliError::Protocol { .. } => 1,
            CliError::Usage(_) | CliError::Local { .. } => 2,
            CliError::Unreachable { .. } => 3,
            CliError::NotLoggedIn(_) => 4,
        })
    }

    /// As `--json` prints it: the server's error shape, so a script reads one form.
    pub fn to_json(&self) -> serde_json::Value {
        let code = match self {
            CliError::Refused { code: Some(code), .. } => serde_json::to_value(code).unwrap_or_default(),
            CliError::Refused { code: None, .. } => "refused".into(),
            CliError::Usage(_) | CliError::Local { .. } => "usage".into(),
            CliError::Unreachable { .. } => "unreachable".into(),
            CliError::NotLoggedIn(_) => "not_logged_in".into(),
            CliError::Protocol { .. } => "protocol".into(),
        };
        serde_json::json!({ "error": { "code": code, "message": self.to_string() } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exit codes scripts rely on (issue 17): each kind of failure has its own.
    #[test]
    fn each_failure_has_its_exit_code() {
        let refused = CliError::Refused { status: 404, code: Some(ErrorCode::RoomNotFound), message: "no".into() };
        let cases = [
            (refused, ExitCode::from(1)),
            (CliError::Usage("bad".into()), ExitCode::from(2)),
            (CliError::Unreachable { server: "s".into(), reason: "r".into() }, ExitCode::from(3)),
            (CliError::NotLoggedIn("not logged in".into()), ExitCode::from(4)),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit_code(), code, "{error}");
        }
    }

    #[test]
    fn json_errors_carry_the_servers_code() {
        let refused = CliError::Refused { status: 404, code: Some(ErrorCode::RoomNotFound), message: "no room".into() };
        assert_eq!(refused.to_json(), serde_json::json!({"error": {"code": "room_not_found", "message": "no room"}}));
        let expired = CliError::NotLoggedIn("your session has expired".into());
        assert_eq!(expired.to_json()["error"]["code"], "not_logged_in");
    }
}
