//! Encryption at rest (SPEC R-SEC-2): what a stolen database reveals is ciphertext.
//!
//! - Every room (and the server's own audit scope) has a random 256-bit **data key**. Message
//!   bodies, attachment bytes and audit records are sealed with AES-256-GCM under it, with a
//!   random 96-bit nonce and associated data naming what the value is and where it belongs
//!   ([`Aad`]): a sealed body moved to another message or room no longer opens.
//! - A data key is stored **wrapped**: encapsulated to the server's ML-KEM-768 public key
//!   (FIPS 203, the standardised Kyber), the shared secret run through HKDF-SHA256, and the data
//!   key sealed with AES-256-GCM under the result. Only the server's key pair unwraps it.
//! - The key pair is a 64-byte ML-KEM seed in a key file (mode 0600), kept apart from the
//!   database. Unwrapped data keys are kept in memory by the [`Vault`].
//!
//! This protects a leaked database or backup. It is not end-to-end encryption: the running
//! server holds the keys and sees every message.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use hkdf::Hkdf;
use ml_kem::kem::{Decapsulate, Encapsulate};
use ml_kem::{Ciphertext, DecapsulationKey, EncapsulationKey, MlKem768, Seed};
use sha2_kdf::Sha256;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

use crate::secrets::{SecretError, random_bytes, write_new_secret_file};

/// The first bytes of a key file: what it holds, so that another secret is never taken for it.
const KEY_FILE_HEADER: &[u8] = b"conclave server key: ML-KEM-768 seed, v1\n";
const SEED_LEN: usize = 64;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const DATA_KEY_LEN: usize = 32;
/// Format byte of sealed values and of wrapped keys.
const FORMAT_V1: u8 = 1;
const KEM_CIPHERTEXT_LEN: usize = 1088;
/// The length of a wrapped data key: format, ML-KEM ciphertext, nonce, sealed key and its tag.
pub const WRAPPED_KEY_LEN: usize = 1 + KEM_CIPHERTEXT_LEN + NONCE_LEN + DATA_KEY_LEN + TAG_LEN;
/// How many bytes sealing adds to a value: format, nonce and tag.
pub const SEAL_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
/// Unwrapped data keys the vault keeps at most; past that it forgets one to make room.
const CACHE_CAPACITY: usize = 65_536;

/// Why a sealed value or wrapped key did not open. Never a partial plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed data failed its integrity check (changed, truncated, or not sealed for this place)")]
    Tampered,
    #[error("the sealed data has an unknown format")]
    UnknownFormat,
    #[error("the value is too large to seal")]
    TooLarge,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error(transparent)]
    File(#[from] SecretError),
    #[error("{0} is not a Conclave server key file (expected an ML-KEM-768 seed written by Conclave)")]
    NotAKeyFile(String),
}

/// What a sealed value is and where it belongs, bound to its ciphertext as associated data.
/// Each part is length-prefixed, so no two different lists of parts give the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aad(Vec<u8>);

impl Aad {
    /// `kind` names the sort of value ("message", "attachment", "audit", "room-key"…).
    pub fn new(kind: &str) -> Self {
        Self(Vec::with_capacity(64)).part(kind)
    }

    /// Adds one identifying part (a room id, a message id…).
    #[must_use]
    pub fn part(mut self, part: &str) -> Self {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(part.as_bytes());
        self
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A 256-bit AES-GCM key that seals the values of one room (or scope).
pub struct DataKey {
    bytes: Zeroizing<[u8; DATA_KEY_LEN]>,
    cipher: Aes256Gcm,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self::from_bytes(Zeroizing::new(random_bytes::<DATA_KEY_LEN>()))
    }

    fn from_bytes(bytes: Zeroizing<[u8; DATA_KEY_LEN]>) -> Self {
        let cipher = Aes256Gcm::new(&(*bytes).into());
        Self { bytes, cipher }
    }

    /// Seals `plaintext` for the place `aad` names: format byte, random nonce, ciphertext, tag.
    pub fn seal(&self, aad: &Aad, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        seal_with(&self.cipher, aad, plaintext)
    }

    /// Opens what [`DataKey::seal`] sealed for the same `aad`; any change is [`SealError::Tampered`].
    pub fn open(&self, aad: &Aad, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        open_with(&self.cipher, aad, sealed)
    }
}

fn seal_with(cipher: &Aes256Gcm, aad: &Aad, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let nonce = random_bytes::<NONCE_LEN>();
    let ciphertext = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: aad.as_bytes() })
        .map_err(|_| SealError::TooLarge)?;
    let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    sealed.push(FORMAT_V1);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

fn open_with(cipher: &Aes256Gcm, aad: &Aad, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    let (&format, rest) = sealed.split_first().ok_or(SealError::Tampered)?;
    if format != FORMAT_V1 {
        return Err(SealError::UnknownFormat);
    }
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::Tampered);
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Tampered)?;
    cipher
        .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: aad.as_bytes() })
        .map_err(|_| SealError::Tampered)
}

/// The server's ML-KEM-768 key pair, which wraps and unwraps data keys.
pub struct ServerKey {
    decapsulation: DecapsulationKey<MlKem768>,
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey(ML-KEM-768, …)")
    }
}

impl ServerKey {
    /// A fresh key pair from 64 random bytes.
    pub fn generate() -> Self {
        Self::from_seed(&Zeroizing::new(random_bytes::<SEED_LEN>()))
    }

    fn from_seed(seed: &[u8; SEED_LEN]) -> Self {
        Self { decapsulation: DecapsulationKey::<MlKem768>::from_seed(Seed::from(*seed)) }
    }

    /// Reads the key file at `path`; a missing file is an error.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let bytes = std::fs::read(path)
            .map(Zeroizing::new)
            .map_err(|source| SecretError::Io { path: path.display().to_string(), source })?;
        Self::from_file_bytes(&bytes, path)
    }

    fn from_file_bytes(bytes: &[u8], path: &Path) -> Result<Self, KeyFileError> {
        let seed: &[u8; SEED_LEN] = bytes
            .strip_prefix(KEY_FILE_HEADER)
            .and_then(|seed| seed.try_into().ok())
            .ok_or_else(|| KeyFileError::NotAKeyFile(path.display().to_string()))?;
        Ok(Self::from_seed(seed))
    }

    /// Reads the key file at `path`, or creates it (mode 0600) with a new key pair when absent.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyFileError> {
        match std::fs::read(path) {
            Ok(bytes) => Self::from_file_bytes(&Zeroizing::new(bytes), path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let seed = Zeroizing::new(random_bytes::<SEED_LEN>());
                let mut contents = Zeroizing::new(Vec::with_capacity(KEY_FILE_HEADER.len() + SEED_LEN));
                contents.extend_from_slice(KEY_FILE_HEADER);
                contents.extend_from_slice(&*seed);
                write_new_secret_file(path, &contents)?;
                Ok(Self::from_seed(&seed))
            }
            Err(source) => Err(SecretError::Io { path: path.display().to_string(), source }.into()),
        }
    }

    fn encapsulation_key(&self) -> &EncapsulationKey<MlKem768> {
        self.decapsulation.encapsulation_key()
    }

    /// Wraps `key` for the place `aad` names (a room): a fresh ML-KEM encapsulation, HKDF-SHA256
    /// over its shared secret, AES-256-GCM over the key. [`WRAPPED_KEY_LEN`] bytes.
    pub fn wrap(&self, key: &DataKey, aad: &Aad) -> Result<Vec<u8>, SealError> {
        let (kem_ciphertext, shared) = self.encapsulation_key().encapsulate();
        let kek = key_encryption_key(&shared, &kem_ciphertext, aad)?;
        let sealed = seal_with(&kek, aad, &*key.bytes)?;
        let mut wrapped = Vec::with_capacity(WRAPPED_KEY_LEN);
        wrapped.push(FORMAT_V1);
        wrapped.extend_from_slice(&kem_ciphertext);
        wrapped.extend_from_slice(&sealed[1..]);
        Ok(wrapped)
    }

    /// Unwraps what [`ServerKey::wrap`] wrapped for the same `aad`.
    pub fn unwrap_key(&self, wrapped: &[u8], aad: &Aad) -> Result<DataKey, SealError> {
        let (&format, rest) = wrapped.split_first().ok_or(SealError::Tampered)?;
        if format != FORMAT_V1 {
            return Err(SealError::UnknownFormat);
        }
        if wrapped.len() != WRAPPED_KEY_LEN {
            return Err(SealError::Tampered);
        }
        let (kem_ciphertext, sealed_key) = rest.split_at(KEM_CIPHERTEXT_LEN);
        let kem_ciphertext = Ciphertext::<MlKem768>::try_from(kem_ciphertext).map_err(|_| SealError::Tampered)?;
        // ML-KEM decapsulation never fails: a changed ciphertext gives another secret (implicit
        // rejection), which the AES-GCM tag below then refuses.
        let shared = self.decapsulation.decapsulate(&kem_ciphertext);
        let kek = key_encryption_key(&shared, &kem_ciphertext, aad)?;
        let mut sealed = Vec::with_capacity(1 + sealed_key.len());
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(sealed_key);
        let bytes = Zeroizing::new(open_with(&kek, aad, &sealed)?);
        let bytes: [u8; DATA_KEY_LEN] = bytes.as_slice().try_into().map_err(|_| SealError::Tampered)?;
        Ok(DataKey::from_bytes(Zeroizing::new(bytes)))
    }
}

/// HKDF-SHA256: the encapsulation's shared secret as input, its ciphertext as salt, and the
/// place the key belongs as info.
fn key_encryption_key(shared: &[u8], kem_ciphertext: &[u8], aad: &Aad) -> Result<Aes256Gcm, SealError> {
    let mut info = b"conclave key wrap v1".to_vec();
    info.extend_from_slice(aad.as_bytes());
    let mut okm = Zeroizing::new([0u8; DATA_KEY_LEN]);
    Hkdf::<Sha256>::new(Some(kem_ciphertext), shared).expand(&info, &mut *okm).map_err(|_| SealError::TooLarge)?;
    Ok(Aes256Gcm::new(&(*okm).into()))
}

/// What [`Vault::rewrap`] made of a wrapped data key.
#[derive(Debug, PartialEq, Eq)]
pub enum Rewrapped {
    /// Wrapped for the new key pair: store this.
    Now(Vec<u8>),
    /// The new key pair opens it already.
    Already,
}

/// The server key and the data keys it has unwrapped, by scope (a room id). Shared by every
/// task of one server; a data key is unwrapped once and then served from memory.
pub struct Vault {
    server: ServerKey,
    keys: Mutex<HashMap<String, Arc<DataKey>>>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").field("server", &self.server).finish_non_exhaustive()
    }
}

impl Vault {
    pub fn new(server: ServerKey) -> Self {
        Self { server, keys: Mutex::new(HashMap::new()) }
    }

    /// The place a scope's wrapped key is bound to.
    fn key_aad(scope: &str) -> Aad {
        Aad::new("data-key").part(scope)
    }

    /// A new data key for `scope`: the key, and its wrapped form to store.
    pub fn create_key(&self, scope: &str) -> Result<(Arc<DataKey>, Vec<u8>), SealError> {
        let key = Arc::new(DataKey::generate());
        let wrapped = self.server.wrap(&key, &Self::key_aad(scope))?;
        self.remember(scope, Arc::clone(&key));
        Ok((key, wrapped))
    }

    /// The data key of `scope`, if it was unwrapped before.
    pub fn cached(&self, scope: &str) -> Option<Arc<DataKey>> {
        self.keys.lock().ok()?.get(scope).cloned()
    }

    /// The data key of `scope`: from memory, or unwrapped from `wrapped` and remembered.
    pub fn key(&self, scope: &str, wrapped: &[u8]) -> Result<Arc<DataKey>, SealError> {
        if let Some(key) = self.cached(scope) {
            return Ok(key);
        }
        let key = Arc::new(self.server.unwrap_key(wrapped, &Self::key_aad(scope))?);
        self.remember(scope, Arc::clone(&key));
        Ok(key)
    }

    /// `scope`'s wrapped data key, unwrapped with `from` and wrapped again for `to` (a key
    /// rotation). A key `to` already opens is [`Rewrapped::Already`], so a rotation that was
    /// interrupted goes on where it stopped; one that neither opens is an error.
    pub fn rewrap(from: &ServerKey, to: &ServerKey, scope: &str, wrapped: &[u8]) -> Result<Rewrapped, SealError> {
        let aad = Self::key_aad(scope);
        if to.unwrap_key(wrapped, &aad).is_ok() {
            return Ok(Rewrapped::Already);
        }
        let key = from.unwrap_key(wrapped, &aad)?;
        Ok(Rewrapped::Now(to.wrap(&key, &aad)?))
    }

    /// Drops the key of a scope that no longer exists (a deleted room).
    pub fn forget(&self, scope: &str) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.remove(scope);
        }
    }

    fn remember(&self, scope: &str, key: Arc<DataKey>) {
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= CACHE_CAPACITY
                && let Some(evicted) = keys.keys().next().cloned()
            {
                keys.remove(&evicted);
            }
            keys.insert(scope.to_owned(), key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_aad(room: &str, message: &str) -> Aad {
        Aad::new("message").part(room).part(message)
    }

    // R-SEC-2: a sealed body opens with its key and place, and shows no plaintext.
    #[test]
    fn sealed_values_open_only_where_they_were_sealed() {
        let key = DataKey::generate();
        let aad = message_aad("r1", "m1");
        let sealed = key.seal(&aad, b"meet at noon").expect("seal");
        assert_eq!(sealed.len(), b"meet at noon".len() + SEAL_OVERHEAD);
        assert!(!sealed.windows(4).any(|w| w == b"meet"));
        assert_eq!(key.open(&aad, &sealed).expect("open"), b"meet at noon");
        // Moved to another message or room, or opened with another key: refused.
        assert_eq!(key.open(&message_aad("r1", "m2"), &sealed), Err(SealError::Tampered));
        assert_eq!(key.open(&message_aad("r2", "m1"), &sealed), Err(SealError::Tampered));
        assert_eq!(DataKey::generate().open(&aad, &sealed), Err(SealError::Tampered));
        // Two seals of one value differ (random nonces).
        assert_ne!(key.seal(&aad, b"meet at noon").expect("seal"), sealed);
    }

    // R-SEC-2: any changed byte is detected, never returned as text.
    #[test]
    fn every_flipped_byte_is_detected() {
        let key = DataKey::generate();
        let aad = message_aad("r1", "m1");
        let sealed = key.seal(&aad, b"hello").expect("seal");
        for index in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[index] ^= 0x01;
            assert!(key.open(&aad, &changed).is_err(), "byte {index} flipped went unnoticed");
        }
        assert_eq!(key.open(&aad, &sealed[..sealed.len() - 1]), Err(SealError::Tampered));
        assert_eq!(key.open(&aad, &[]), Err(SealError::Tampered));
        assert_eq!(key.open(&aad, &[FORMAT_V1]), Err(SealError::Tampered));
        assert_eq!(key.open(&aad, &[9, 0, 0]), Err(SealError::UnknownFormat));
    }

    // Aad parts are length-prefixed: ("ab", "c") and ("a", "bc") are different places.
    #[test]
    fn aad_parts_cannot_be_shifted() {
        assert_ne!(Aad::new("m").part("ab").part("c"), Aad::new("m").part("a").part("bc"));
    }

    // R-SEC-2: data keys are wrapped with ML-KEM-768 to the server key and unwrap only there.
    #[test]
    fn wrapped_keys_unwrap_with_the_server_key_only() {
        let server = ServerKey::generate();
        let key = DataKey::generate();
        let aad = Aad::new("data-key").part("r1");
        let wrapped = server.wrap(&key, &aad).expect("wrap");
        assert_eq!(wrapped.len(), WRAPPED_KEY_LEN);
        let unwrapped = server.unwrap_key(&wrapped, &aad).expect("unwrap");
        let sealed = key.seal(&message_aad("r1", "m1"), b"x").expect("seal");
        assert_eq!(unwrapped.open(&message_aad("r1", "m1"), &sealed).expect("open"), b"x");

        assert_eq!(
            ServerKey::generate().unwrap_key(&wrapped, &aad).map(|_| ()),
            Err(SealError::Tampered),
            "another server key"
        );
        assert_eq!(
            server.unwrap_key(&wrapped, &Aad::new("data-key").part("r2")).map(|_| ()),
            Err(SealError::Tampered),
            "another room"
        );
        for index in [1, 500, KEM_CIPHERTEXT_LEN, WRAPPED_KEY_LEN - 1] {
            let mut changed = wrapped.clone();
            changed[index] ^= 0x80;
            assert_eq!(server.unwrap_key(&changed, &aad).map(|_| ()), Err(SealError::Tampered), "byte {index}");
        }
        assert_eq!(server.unwrap_key(&wrapped[..100], &aad).map(|_| ()), Err(SealError::Tampered));
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600_and_checked() {
        let dir = tempfile_dir();
        let path = dir.join("server.key");
        let first = ServerKey::load_or_create(&path).expect("create");
        let second = ServerKey::load_or_create(&path).expect("read");
        let (key, aad) = (DataKey::generate(), Aad::new("data-key").part("r"));
        let wrapped = first.wrap(&key, &aad).expect("wrap");
        assert!(second.unwrap_key(&wrapped, &aad).is_ok(), "the same key pair after a restart");
        let loaded = ServerKey::load(&path).expect("load");
        assert!(loaded.unwrap_key(&wrapped, &aad).is_ok(), "load reads the same key pair");
        assert!(matches!(ServerKey::load(&dir.join("absent.key")), Err(KeyFileError::File(_))), "load creates none");
        assert!(!dir.join("absent.key").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::write(&path, [7u8; 64]).expect("write");
        assert!(matches!(ServerKey::load_or_create(&path), Err(KeyFileError::NotAKeyFile(_))));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// R-OPS-7: a rotation re-wraps a data key for the new key pair, which then opens the
    /// same key; the old one no longer does; a second pass finds it done; a key neither opens
    /// is refused.
    #[test]
    fn rewrap_moves_a_data_key_to_the_new_key_pair_once() {
        let (old, new) = (ServerKey::generate(), ServerKey::generate());
        let vault = Vault::new(ServerKey::generate());
        let (key, _) = vault.create_key("r1").expect("create");
        let wrapped = old.wrap(&key, &Vault::key_aad("r1")).expect("wrap");
        let Rewrapped::Now(moved) = Vault::rewrap(&old, &new, "r1", &wrapped).expect("rewrap") else {
            panic!("the first pass re-wraps")
        };
        let opened = new.unwrap_key(&moved, &Vault::key_aad("r1")).expect("the new key opens it");
        let aad = Aad::new("message body").part("r1");
        assert_eq!(opened.open(&aad, &key.seal(&aad, b"hello").expect("seal")).expect("open"), b"hello");
        assert!(old.unwrap_key(&moved, &Vault::key_aad("r1")).is_err(), "the old key pair does not");
        assert_eq!(Vault::rewrap(&old, &new, "r1", &moved), Ok(Rewrapped::Already));
        assert!(Vault::rewrap(&old, &new, "r2", &wrapped).is_err(), "bound to its scope");
        let stranger = ServerKey::generate().wrap(&key, &Vault::key_aad("r1")).expect("wrap");
        assert_eq!(Vault::rewrap(&old, &new, "r1", &stranger), Err(SealError::Tampered));
    }

    #[test]
    fn the_vault_unwraps_once_and_forgets_deleted_scopes() {
        let vault = Vault::new(ServerKey::generate());
        let (key, wrapped) = vault.create_key("r1").expect("create");
        assert!(vault.cached("r1").is_some());
        vault.forget("r1");
        assert!(vault.cached("r1").is_none());
        let again = vault.key("r1", &wrapped).expect("unwrap");
        let sealed = key.seal(&message_aad("r1", "m"), b"y").expect("seal");
        assert_eq!(again.open(&message_aad("r1", "m"), &sealed).expect("open"), b"y");
        assert!(vault.key("r2", &wrapped).is_err(), "a key wrapped for r1 is not r2's");
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("conclave-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }
}
