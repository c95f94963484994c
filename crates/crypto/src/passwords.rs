//! Argon2id password hashing (SPEC R-ACC-2): salted, parameters kept in the PHC string.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Hashes and verifies passwords with Argon2id.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    /// A hash of nothing in particular, verified against when a user does not exist, so that
    /// a login for an unknown user takes as long as one with a wrong password.
    decoy: String,
}

impl PasswordHasher {
    /// Argon2id with OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
    pub fn new() -> Result<Self, PasswordError> {
        let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Self { argon, decoy: String::new() };
        hasher.decoy = hasher.hash("decoy password for unknown users")?;
        Ok(hasher)
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    }

    /// Whether `password` matches `phc`. A malformed stored hash never matches.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => self.argon.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the time of a verification without a user, and answers `false`.
    pub fn verify_decoy(&self, password: &str) -> bool {
        let _ = self.verify(password, &self.decoy);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-ACC-2: Argon2id, salted, parameters in the PHC string, plain text nowhere.
    #[test]
    fn r_acc_2_argon2id_phc_strings() {
        let hasher = PasswordHasher::new().expect("hasher");
        let a = hasher.hash("correct horse battery staple").expect("hash");
        let b = hasher.hash("correct horse battery staple").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("horse"));
        assert!(hasher.verify("correct horse battery staple", &a));
        assert!(!hasher.verify("correct horse battery stapler", &a));
        assert!(!hasher.verify("anything", "not a phc string"));
        assert!(!hasher.verify_decoy("decoy password for unknown users"));
    }
}
