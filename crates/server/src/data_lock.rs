//! One process at a time on an embedded store's data folder. A running server holds an
//! exclusive lock on `conclave.lock` there; `restore` and `rotate-key`, which must not run beside
//! it, take the same lock and refuse while it is held. The operating system lets go of it when
//! the process ends, however it ends. `backup` takes none: it copies a store that is serving.
//! With MongoDB, nodes may share a data folder (the key file), so nothing is locked.

use crate::config::Config;
use std::fs::{File, OpenOptions, TryLockError};

/// The lock, held until dropped.
#[derive(Debug)]
pub struct DataLock(#[allow(dead_code, reason = "held for its lock, released when dropped")] File);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another Conclave process is using the data folder {0} (it holds conclave.lock there): stop it first")]
    Held(String),
    #[error("cannot lock the data folder {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Takes the data folder's lock for this process (none with MongoDB).
pub fn lock(config: &Config) -> Result<Option<DataLock>, LockError> {
    if config.mongodb_uri.is_some() {
        return Ok(None);
    }
    let folder = config.data_dir.display().to_string();
    let io = |source| LockError::Io { path: folder.clone(), source };
    std::fs::create_dir_all(&config.data_dir).map_err(io)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(config.data_dir.join("conclave.lock"))
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(DataLock(file))),
        Err(TryLockError::WouldBlock) => Err(LockError::Held(folder)),
        Err(TryLockError::Error(error)) => Err(io(error)),
    }
}
