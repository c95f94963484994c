//! The saved sessions: one per server, in `sessions.json` in the config folder
//! (`CONCLAVE_CONFIG_DIR`, else the XDG config folder's `conclave`), which only the user can
//! read (file 0600, folder 0700). Changes happen under a lock on `sessions.lock`, so two
//! commands refreshing at once do not spend the same single-use refresh token twice.

use crate::error::{CliError, CliResult};
use chrono::{DateTime, Utc};
use conclave_protocol::UserId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

/// A logged-in session on one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: UserId,
    pub username: String,
    /// Single use: each refresh answers a new one.
    pub refresh_token: String,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
}

impl Session {
    /// Whether the access token is good for `margin` more seconds.
    pub fn fresh(&self, now: DateTime<Utc>, margin: i64) -> bool {
        self.access_expires_at > now + chrono::Duration::seconds(margin)
    }
}

/// The config folder and what it holds.
#[derive(Debug, Clone)]
pub struct Sessions {
    dir: PathBuf,
}

/// Held while sessions change; released when dropped.
pub struct Locked {
    _file: File,
}

impl Sessions {
    /// `CONCLAVE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/conclave` (`~/.config/conclave`).
    pub fn from_env() -> CliResult<Self> {
        let dir = match std::env::var_os("CONCLAVE_CONFIG_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::config_dir()
                .map(|base| base.join("conclave"))
                .ok_or_else(|| CliError::Usage("no config folder: set CONCLAVE_CONFIG_DIR".into()))?,
        };
        Ok(Sessions { dir })
    }

    #[cfg(test)]
    pub fn at(dir: &std::path::Path) -> Self {
        Sessions { dir: dir.to_owned() }
    }

    fn file(&self) -> PathBuf {
        self.dir.join("sessions.json")
    }

    fn create_dir(&self) -> CliResult<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| CliError::local(format!("creating {}", self.dir.display()), e))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| CliError::local(format!("protecting {}", self.dir.display()), e))
    }

    /// Waits for, then holds, the lock under which sessions change.
    pub fn lock(&self) -> CliResult<Locked> {
        self.create_dir()?;
        let path = self.dir.join("sessions.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| CliError::local(format!("opening {}", path.display()), e))?;
        file.lock().map_err(|e| CliError::local(format!("locking {}", path.display()), e))?;
        Ok(Locked { _file: file })
    }

    fn all(&self) -> CliResult<BTreeMap<String, Session>> {
        let path = self.file();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                CliError::Usage(format!("{} is damaged ({e}); delete it and log in again", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(CliError::local(format!("reading {}", path.display()), e)),
        }
    }

    /// The session saved for `server`, if any.
    pub fn get(&self, server: &str) -> CliResult<Option<Session>> {
        Ok(self.all()?.remove(server))
    }

    /// Saves (or, with `None`, forgets) the session of `server`; the caller holds the lock.
    pub fn put(&self, _held: &Locked, server: &str, session: Option<&Session>) -> CliResult<()> {
        let mut all = self.all()?;
        match session {
            Some(session) => all.insert(server.to_owned(), session.clone()),
            None => all.remove(server),
        };
        let bytes = serde_json::to_vec_pretty(&all).map_err(|e| CliError::Usage(e.to_string()))?;
        // Written whole beside it, then renamed over it: a crash leaves the old file or the new.
        let (path, partial) = (self.file(), self.dir.join("sessions.json.partial"));
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(&partial)?;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)
        };
        write().map_err(|e| CliError::local(format!("saving {}", path.display()), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(token: &str) -> Session {
        Session {
            user_id: UserId::from("u1"),
            username: "alice".into(),
            refresh_token: token.into(),
            access_token: "a".into(),
            access_expires_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// Issue 17: the refresh token is kept in a file only the user can read, per server.
    #[test]
    fn sessions_are_kept_per_server_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = Sessions::at(&dir.path().join("conclave"));
        assert_eq!(sessions.get("http://a").unwrap(), None);
        let held = sessions.lock().unwrap();
        sessions.put(&held, "http://a", Some(&session("one"))).unwrap();
        sessions.put(&held, "http://b", Some(&session("two"))).unwrap();
        assert_eq!(sessions.get("http://a").unwrap().map(|s| s.refresh_token), Some("one".into()));
        let mode = |path: PathBuf| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(sessions.file()), 0o600);
        assert_eq!(mode(dir.path().join("conclave")), 0o700);
        sessions.put(&held, "http://a", None).unwrap();
        assert_eq!(sessions.get("http://a").unwrap(), None);
        assert_eq!(sessions.get("http://b").unwrap().map(|s| s.refresh_token), Some("two".into()));
    }

    #[test]
    fn a_damaged_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sessions.json"), "{not json").unwrap();
        let error = Sessions::at(dir.path()).get("http://a").unwrap_err();
        assert!(error.to_string().contains("sessions.json is damaged"), "{error}");
    }

    #[test]
    fn freshness_keeps_a_margin() {
        let now = Utc::now();
        let mut s = session("t");
        s.access_expires_at = now + chrono::Duration::seconds(20);
        assert!(s.fresh(now, 10));
        assert!(!s.fresh(now, 30));
    }
}
