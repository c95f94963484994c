//! Argon2id off the async threads, at most one computation per core at a time: each takes
//! 19 MiB and tens of milliseconds, so letting every request hash at once would exhaust memory
//! and starve the blocking pool.

use crate::app::error::{ApiError, ApiResult};
use conclave_crypto::PasswordHasher;
use tokio::sync::Semaphore;

pub struct Passwords {
    hasher: PasswordHasher,
    permits: Semaphore,
}

impl Passwords {
    pub fn new(hasher: PasswordHasher) -> Self {
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
        Self { hasher, permits: Semaphore::new(cores) }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce(PasswordHasher) -> T + Send + 'static) -> ApiResult<T> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let hasher = self.hasher.clone();
        tokio::task::spawn_blocking(move || job(hasher)).await.map_err(ApiError::internal)
    }

    /// A PHC string with a fresh salt.
    pub async fn hash(&self, password: String) -> ApiResult<String> {
        Ok(self.run(move |hasher| hasher.hash(&password)).await??)
    }

    /// Whether `password` matches `phc`; without a stored hash, spends the same time and says no.
    pub async fn verify(&self, password: String, phc: Option<String>) -> ApiResult<bool> {
        self.run(move |hasher| match phc {
            Some(phc) => hasher.verify(&password, &phc),
            None => hasher.verify_decoy(&password),
        })
        .await
    }
}
