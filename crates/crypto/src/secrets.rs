//! Secret files: created once with random content and mode 0600, read on every start.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use std::fs;
use std::io::Write;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or write the secret file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the secret file {0} is too short (at least 32 bytes are needed)")]
    TooShort(String),
}

/// Reads the secret at `path`, or creates it with 64 random bytes (mode 0600) when absent.
pub fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, SecretError> {
    let io = |source| SecretError::Io { path: path.display().to_string(), source };
    match fs::read(path) {
        Ok(bytes) if bytes.len() >= 32 => return Ok(bytes),
        Ok(_) => return Err(SecretError::TooShort(path.display().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let secret = random_bytes::<64>().to_vec();
    write_new_secret_file(path, &secret)?;
    Ok(secret)
}

/// Writes `contents` to a new file at `path` that only its owner can read (mode 0600).
/// Fails when the file exists: a secret is never overwritten.
pub(crate) fn write_new_secret_file(path: &Path, contents: &[u8]) -> Result<(), SecretError> {
    let io = |source| SecretError::Io { path: path.display().to_string(), source };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_file_is_created_once_with_mode_0600() {
        let dir = std::env::temp_dir().join(format!("conclave-secret-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("jwt.secret");
        let first = load_or_create_secret(&path).expect("create");
        let second = load_or_create_secret(&path).expect("read");
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        fs::write(&path, b"short").expect("write");
        assert!(matches!(load_or_create_secret(&path), Err(SecretError::TooShort(_))));
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
