//! Access tokens (JWT, HS256 pinned) and refresh tokens (SPEC R-ACC-3, R-ACC-4).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// A unique token id.
    pub jti: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
    #[error("the access token could not be signed")]
    Signing,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct IssuedAccessToken {
    pub token: String,
    pub expires_in: u64,
}

/// Issues and verifies access tokens with one HS256 key.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

impl AccessTokens {
    /// `secret` keys HS256; `ttl_secs` is the lifetime (15 minutes in production).
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    /// Issues a token for `user_id` at `now` (seconds since the epoch).
    pub fn issue(&self, user_id: &str, now: i64) -> Result<IssuedAccessToken, TokenError> {
        let ttl = i64::try_from(self.ttl_secs).map_err(|_| TokenError::Signing)?;
        let claims =
            AccessClaims { sub: user_id.to_owned(), iat: now, exp: now + ttl, jti: uuid::Uuid::new_v4().to_string() };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|_| TokenError::Signing)?;
        Ok(IssuedAccessToken { token, expires_in: self.ttl_secs })
    }

    /// Verifies signature, algorithm and expiry; `iat` and `jti` must be present.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        match decode::<AccessClaims>(token, &self.decoding, &self.validation) {
            Ok(data) if !data.claims.sub.is_empty() && !data.claims.jti.is_empty() => Ok(data.claims),
            Ok(_) => Err(TokenError::Invalid),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

/// A refresh token: 256 random bits, shown to the client once, stored only as its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// What the client holds (base64url, 43 chars).
    pub secret: String,
    /// What the store keeps (hex SHA-256 of `secret`).
    pub digest: String,
}

impl RefreshToken {
    pub fn generate() -> Self {
        let secret = URL_SAFE_NO_PAD.encode(crate::secrets::random_bytes::<32>());
        let digest = Self::digest_of(&secret);
        Self { secret, digest }
    }

    /// The digest under which the store finds the token a client presents.
    pub fn digest_of(secret: &str) -> String {
        let hash = Sha256::digest(secret.as_bytes());
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

    fn current() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or_default()
    }

    /// R-ACC-3: tokens carry sub, exp, iat and jti and last the configured time.
    #[test]
    fn r_acc_3_issue_and_verify() {
        let tokens = AccessTokens::new(SECRET, 900);
        let issued = tokens.issue("user-1", current()).expect("issue");
        assert_eq!(issued.expires_in, 900);
        let claims = tokens.verify(&issued.token).expect("valid");
        assert_eq!(claims.sub, "user-1");
        assert_eq!(claims.exp - claims.iat, 900);
        assert!(!claims.jti.is_empty());
    }

    /// R-ACC-4: expired, tampered, `alg: none` and wrong-key tokens are refused.
    #[test]
    fn r_acc_4_token_attacks() {
        let tokens = AccessTokens::new(SECRET, 900);
        let expired = tokens.issue("user-1", current() - 10_000).expect("issue");
        assert_eq!(tokens.verify(&expired.token), Err(TokenError::Expired));

        let good = tokens.issue("user-1", current()).expect("issue").token;
        let parts: Vec<&str> = good.split('.').collect();
        let claims = URL_SAFE_NO_PAD.decode(parts[1]).expect("b64");
        let forged = String::from_utf8(claims).expect("utf8").replace("user-1", "user-2");
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged), parts[2]);
        assert_eq!(tokens.verify(&tampered), Err(TokenError::Invalid));

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let alg_none = format!("{none_header}.{}.", parts[1]);
        assert_eq!(tokens.verify(&alg_none), Err(TokenError::Invalid));

        let other = AccessTokens::new(b"another-secret-another-secret-another-secret", 900);
        let wrong_key = other.issue("user-1", current()).expect("issue").token;
        assert_eq!(tokens.verify(&wrong_key), Err(TokenError::Invalid));

        assert_eq!(tokens.verify("not a token"), Err(TokenError::Invalid));
        assert_eq!(tokens.verify(""), Err(TokenError::Invalid));
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_as_digests() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 43);
        assert_eq!(a.digest.len(), 64);
        assert_eq!(RefreshToken::digest_of(&a.secret), a.digest);
        assert_ne!(a.digest, a.secret);
    }
}
