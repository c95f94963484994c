//! `conclave rotate-key` (SPEC R-OPS-7): every data key re-wrapped under a new ML-KEM-768 key
//! pair, on either store, with every server stopped.
//!
//! The new key pair is written first, beside the key file (`server.key.next`), and kept until
//! the end: while it is there the server refuses to start (on MongoDB, the database carries the
//! mark too, for servers on other hosts, and no server wraps a new data key until it is done;
//! a server still running with the old key pair afterwards makes no new rooms until restarted), and running the command again goes
//! on where it stopped, since a data key the new key pair already opens is passed over. Each
//! key is replaced on its own, compare-and-set, so a kill leaves every key wrapped for one key
//! pair or the other, never lost. The store's own key comes last (until then the current key
//! file still opens the store). At the end the new key file takes the old one's name; the old
//! key pair is gone. The data keys themselves do not change, so nothing sealed is rewritten.

use crate::StartError;
use crate::config::Config;
use conclave_crypto::{KeyFileError, Rewrapped, ServerKey, Vault};
use conclave_store::{KeyStore, SERVER_KEY_SCOPE, StoreError, WrappedKey};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Keys read from the store at a time.
const PAGE: u32 = 500;

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Data keys wrapped again by this run.
    pub rewrapped: u64,
    /// Data keys an interrupted run had done already.
    pub already: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("there is no key file at {0} to rotate")]
    NoKeyFile(String),
    #[error("cannot use a key file: {0}")]
    KeyFile(#[from] KeyFileError),
    #[error(transparent)]
    Open(#[from] StartError),
    #[error(transparent)]
    Lock(#[from] crate::data_lock::LockError),
    #[error("cannot store a re-wrapped key: {0}")]
    Store(#[from] StoreError),
    #[error("the data key of {0} opens with neither the current nor the new key pair: the store is damaged")]
    Unopenable(String),
    #[error("the data key of {0} changed while it was being re-wrapped: stop every Conclave server first")]
    Changed(String),
    #[error("cannot put the new key file in place: {0}")]
    Rename(std::io::Error),
}

/// Where a rotation keeps the new key pair until it is done: beside the key file.
pub fn next_key_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// Re-wraps every data key of the configured store under a new key pair, then puts the new
/// key file in place of the old. `progress` hears a line every `report_every` keys.
pub async fn rotate(
    config: &Config,
    report_every: u64,
    mut progress: impl FnMut(&str),
) -> Result<Rotation, RotationError> {
    let _lock = crate::data_lock::lock(config)?;
    let key_file = config.key_file_path();
    if !key_file.is_file() {
        return Err(RotationError::NoKeyFile(key_file.display().to_string()));
    }
    let next = next_key_path(&key_file);
    let (current, new) = (ServerKey::load(&key_file)?, ServerKey::load_or_create(&next)?);
    // The store's own key is re-wrapped last: until then the current key opens the store,
    // after it (an interrupted run) the new one does.
    let vault = |path: &Path| ServerKey::load(path).map(|key| Arc::new(Vault::new(key)));
    let store = match crate::open_store(config, vault(&key_file)?).await {
        Err(StartError::Store(StoreError::WrongServerKey)) => crate::open_store(config, vault(&next)?).await?,
        opened => opened?,
    };
    // From here until the end no server wraps a new data key (nor starts): a room made meanwhile
    // would be wrapped for the retiring key pair after this run had passed it.
    store.set_key_rotation(true).await?;
    let mut rotation = Rotation::default();
    let mut own = None;
    let mut after: Option<String> = None;
    loop {
        let page = store.wrapped_keys(after.as_deref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.scope.clone());
        for key in page {
            if key.scope == SERVER_KEY_SCOPE {
                own = Some(key);
                continue;
            }
            rewrap(store.as_ref(), &current, &new, key, &mut rotation).await?;
            let done = rotation.rewrapped + rotation.already;
            if report_every > 0 && done % report_every == 0 {
                progress(&format!("{done} data keys re-wrapped so far"));
            }
        }
    }
    if let Some(key) = own {
        rewrap(store.as_ref(), &current, &new, key, &mut rotation).await?;
    }
    // Servers started with the new key file may wrap keys again; those still running with the
    // old one may not (the store's own key is no longer wrapped as when they started).
    store.set_key_rotation(false).await?;
    drop(store);
    std::fs::rename(&next, &key_file).map_err(RotationError::Rename)?;
    if let Some(folder) = key_file.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(folder).and_then(|f| f.sync_all()).map_err(RotationError::Rename)?;
    }
    Ok(rotation)
}

async fn rewrap(
    store: &dyn KeyStore,
    current: &ServerKey,
    new: &ServerKey,
    key: WrappedKey,
    rotation: &mut Rotation,
) -> Result<(), RotationError> {
    match Vault::rewrap(current, new, &key.scope, &key.wrapped) {
        Ok(Rewrapped::Already) => rotation.already += 1,
        Ok(Rewrapped::Now(wrapped)) => {
            if !store.replace_wrapped_key(&key.scope, &key.wrapped, &wrapped).await? {
                return Err(RotationError::Changed(key.scope));
            }
            rotation.rewrapped += 1;
        }
        Err(_) => return Err(RotationError::Unopenable(key.scope)),
    }
    Ok(())
}
