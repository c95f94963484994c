//! Conclave's cryptography, all of it from well-kept crates: Argon2id password hashing
//! (`argon2`), access tokens (`jsonwebtoken`, HS256 pinned), refresh tokens (random 256-bit
//! values stored as SHA-256 digests), the secret file that keys the tokens, and encryption at
//! rest (ML-KEM-768 key wrapping, HKDF-SHA256, AES-256-GCM).

pub mod at_rest;
pub mod passwords;
pub mod secrets;
pub mod tokens;

pub use at_rest::{Aad, DataKey, KeyFileError, Rewrapped, SealError, ServerKey, Vault};
pub use passwords::{PasswordError, PasswordHasher};
pub use secrets::{SecretError, load_or_create_secret};
pub use tokens::{AccessClaims, AccessTokens, IssuedAccessToken, RefreshToken, TokenError};
