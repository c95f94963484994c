//! `conclave backup DIR` and `conclave restore DIR`: the embedded store, its key file and the
//! token secret, with a manifest that names each file's size and SHA-256.
//!
//! A backup is taken while the server runs ([`conclave_store::backup::snapshot`] copies the
//! database as it was at one moment) and checked before it is called done: the copy is whole
//! and the key opens it. A restore checks every file against the manifest, refuses to
//! overwrite a database or a different key, and puts the database in place only after the
//! copy in the data folder passed the same checks. Buffered writes the server had not stored
//! yet (R-OPS-3: read markers, declined requests) are not in a backup.

use crate::config::Config;
use chrono::{DateTime, Utc};
use conclave_crypto::{KeyFileError, ServerKey, Vault};
use conclave_store::StoreError;
use conclave_store::backup::{Contents, snapshot, verify};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "conclave.db";
const KEY_FILE: &str = "server.key";
const JWT_SECRET: &str = "jwt.secret";
/// The manifest format this build writes and reads.
const FORMAT: u32 = 1;

/// What a backup holds, written last into its folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest's format.
    pub conclave_backup: u32,
    pub conclave_version: String,
    pub created_at: DateTime<Utc>,
    pub contents: Contents,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backup and restore copy the embedded store; with MongoDB, back up the database with its own tools \
         (mongodump --oplog, or a snapshot of a replica set member) and the key file apart from it"
    )]
    MongoDb,
    #[error("there is no database at {0} to back up")]
    NoDatabase(String),
    #[error("there is no key file at {0}; without it no message in a backup could be read")]
    NoKeyFile(String),
    #[error("a key rotation is under way ({0} exists): run `conclave rotate-key` to finish it first")]
    RotationUnderway(String),
    #[error("{0} already exists and is not empty: back up into a new folder")]
    TargetNotEmpty(String),
    #[error("{0} holds no Conclave backup: {1}")]
    NoManifest(String, String),
    #[error("the backup's format is {0}; this Conclave reads format {FORMAT}")]
    UnknownFormat(u32),
    #[error("{name} does not match the backup's manifest ({why}): the backup is damaged or incomplete")]
    Damaged { name: String, why: String },
    #[error("the data folder already holds a database ({0}): restore into an empty data folder, or move it away first")]
    DatabaseExists(String),
    #[error("another key file is already at {0}: move it away first, or restore with another CONCLAVE_KEY_FILE")]
    OtherKeyFile(String),
    #[error(transparent)]
    Lock(#[from] crate::data_lock::LockError),
    #[error("the backup's database does not open: {0}")]
    Store(#[from] StoreError),
    #[error("cannot use the key file: {0}")]
    KeyFile(#[from] KeyFileError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.display().to_string(), source }
}

/// Copies `from` to `to`, a new file only its owner can read, flushed to disk.
fn copy_private(from: &Path, to: &Path) -> Result<(), BackupError> {
    let bytes = zeroize::Zeroizing::new(fs::read(from).map_err(io(from))?);
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(to).map_err(io(to))?;
    file.write_all(&bytes).map_err(io(to))?;
    file.sync_all().map_err(io(to))
}

/// `path`'s size and SHA-256, as the manifest records them.
fn describe(path: &Path, name: &str) -> Result<FileEntry, BackupError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
    Ok(FileEntry { name: name.to_owned(), bytes, sha256: format!("{:x}", hasher.finalize()) })
}

fn is_empty_dir(dir: &Path) -> Result<bool, BackupError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(io(dir)(error)),
    }
}

/// Writes a backup of the configured embedded store into `dir` (new, or empty).
pub fn backup(config: &Config, dir: &Path) -> Result<Manifest, BackupError> {
    if config.mongodb_uri.is_some() {
        return Err(BackupError::MongoDb);
    }
    let database = config.database_path();
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database.display().to_string()));
    }
    let key_file = config.key_file_path();
    if !key_file.is_file() {
        return Err(BackupError::NoKeyFile(key_file.display().to_string()));
    }
    let rotating = crate::key_rotation::next_key_path(&key_file);
    if rotating.exists() {
        return Err(BackupError::RotationUnderway(rotating.display().to_string()));
    }
    let vault = Vault::new(ServerKey::load(&key_file)?);
    if !is_empty_dir(dir)? {
        return Err(BackupError::TargetNotEmpty(dir.display().to_string()));
    }
    fs::create_dir_all(dir).map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;

    snapshot(&database, &dir.join(DATABASE))?;
    fs::set_permissions(dir.join(DATABASE), fs::Permissions::from_mode(0o600)).map_err(io(dir))?;
    let contents = verify(&dir.join(DATABASE), &vault)?;
    copy_private(&key_file, &dir.join(KEY_FILE))?;
    let mut names = vec![DATABASE, KEY_FILE];
    let jwt_secret = config.jwt_secret_path();
    if config.jwt_secret.is_none() && jwt_secret.is_file() {
        copy_private(&jwt_secret, &dir.join(JWT_SECRET))?;
        names.push(JWT_SECRET);
    }
    let files = names.into_iter().map(|name| describe(&dir.join(name), name)).collect::<Result<_, _>>()?;
    let manifest = Manifest {
        conclave_backup: FORMAT,
        conclave_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: Utc::now(),
        contents,
        files,
    };
    // The manifest comes last and whole: a folder without one is not a backup.
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| io(dir)(e.into()))?;
    let partial = dir.join(format!("{MANIFEST}.partial"));
    let mut file = File::create(&partial).map_err(io(&partial))?;
    file.write_all(&json).and_then(|()| file.sync_all()).map_err(io(&partial))?;
    fs::rename(&partial, dir.join(MANIFEST)).map_err(io(dir))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    Ok(manifest)
}

/// Reads `dir`'s manifest and checks every file it names.
fn checked_manifest(dir: &Path) -> Result<Manifest, BackupError> {
    let not_a_backup = |why: String| BackupError::NoManifest(dir.display().to_string(), why);
    let text = fs::read(dir.join(MANIFEST)).map_err(|e| not_a_backup(format!("{MANIFEST}: {e}")))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| not_a_backup(format!("{MANIFEST} does not read: {e}")))?;
    if manifest.conclave_backup != FORMAT {
        return Err(BackupError::UnknownFormat(manifest.conclave_backup));
    }
    for name in [DATABASE, KEY_FILE] {
        if !manifest.files.iter().any(|f| f.name == name) {
            return Err(BackupError::Damaged { name: name.to_owned(), why: "not in the backup".to_owned() });
        }
    }
    for entry in &manifest.files {
        let damaged = |why: String| BackupError::Damaged { name: entry.name.clone(), why };
        if ![DATABASE, KEY_FILE, JWT_SECRET].contains(&entry.name.as_str()) {
            return Err(damaged("a file a backup does not hold".to_owned()));
        }
        let path = dir.join(&entry.name);
        if !path.is_file() {
            return Err(damaged("missing".to_owned()));
        }
        let found = describe(&path, &entry.name)?;
        if found.bytes != entry.bytes {
            return Err(damaged(format!("{} bytes, not {}", found.bytes, entry.bytes)));
        }
        if found.sha256 != entry.sha256 {
            return Err(damaged("its SHA-256 differs".to_owned()));
        }
    }
    Ok(manifest)
}

/// Puts the backup in `dir` into the configured data folder, which must hold no database.
pub fn restore(config: &Config, dir: &Path) -> Result<Manifest, BackupError> {
    if config.mongodb_uri.is_some() {
        return Err(BackupError::MongoDb);
    }
    let _lock = crate::data_lock::lock(config)?;
    let manifest = checked_manifest(dir)?;
    let database = config.database_path();
    let leftovers = ["", "-wal", "-shm"].map(|suffix| PathBuf::from(format!("{}{suffix}", database.display())));
    if let Some(existing) = leftovers.iter().find(|path| path.exists()) {
        return Err(BackupError::DatabaseExists(existing.display().to_string()));
    }
    let key_file = config.key_file_path();
    let backup_key = fs::read(dir.join(KEY_FILE)).map(zeroize::Zeroizing::new).map_err(io(&dir.join(KEY_FILE)))?;
    let key_in_place = match fs::read(&key_file).map(zeroize::Zeroizing::new) {
        Ok(existing) if existing == backup_key => true,
        Ok(_) => return Err(BackupError::OtherKeyFile(key_file.display().to_string())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
        Err(error) => return Err(io(&key_file)(error)),
    };
    let vault = Vault::new(ServerKey::load(&dir.join(KEY_FILE))?);
    fs::create_dir_all(&config.data_dir).map_err(io(&config.data_dir))?;

    // The copy in the data folder is checked, and only then given the database's name.
    let restoring = config.data_dir.join(format!("{DATABASE}.restoring"));
    fs::remove_file(&restoring).ok();
    copy_private(&dir.join(DATABASE), &restoring)?;
    if let Err(error) = verify(&restoring, &vault) {
        fs::remove_file(&restoring).ok();
        return Err(error.into());
    }
    if !key_in_place {
        if let Some(parent) = key_file.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        copy_private(&dir.join(KEY_FILE), &key_file)?;
    }
    let jwt_secret = config.jwt_secret_path();
    if config.jwt_secret.is_none() && manifest.files.iter().any(|f| f.name == JWT_SECRET) && !jwt_secret.exists() {
        copy_private(&dir.join(JWT_SECRET), &jwt_secret)?;
    }
    fs::rename(&restoring, &database).map_err(io(&database))?;
    File::open(&config.data_dir).and_then(|d| d.sync_all()).map_err(io(&config.data_dir))?;
    Ok(manifest)
}
