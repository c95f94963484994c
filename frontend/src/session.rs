//! Who is logged in (SPEC R-ACC-3, R-ACC-4): the access token lives in memory only; the refresh
//! token is the HttpOnly cookie, used to restore the session and to refresh before expiry.

use crate::api::{self, ApiError};
use conclave_protocol::{LoginRequest, RefreshRequest, TokenResponse, User};
use leptos::prelude::*;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct Signed {
    pub user: User,
    pub token: String,
}

/// The session, shared through the context.
#[derive(Clone, Copy)]
pub struct Session {
    pub current: RwSignal<Option<Signed>>,
    /// False until the first refresh attempt answered: guards wait for it.
    pub checked: RwSignal<bool>,
    generation: RwSignal<u64>,
}

impl Session {
    pub fn new() -> Self {
        Self { current: RwSignal::new(None), checked: RwSignal::new(false), generation: RwSignal::new(0) }
    }

    pub fn token(&self) -> Option<String> {
        self.current.with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    }

    fn accept(&self, answer: TokenResponse) {
        self.current.set(Some(Signed { user: answer.user, token: answer.access_token }));
        self.schedule_refresh(answer.expires_in);
    }

    /// Refreshes a minute before the access token expires, for as long as this login lasts.
    fn schedule_refresh(&self, expires_in: u64) {
        let session = *self;
        let generation = self.generation.get_untracked() + 1;
        self.generation.set(generation);
        let wait = Duration::from_secs(expires_in.saturating_sub(60).max(10));
        leptos::task::spawn_local(async move {
            gloo_timers::future::sleep(wait).await;
            if session.generation.get_untracked() == generation && session.current.with_untracked(Option::is_some) {
                let _ = session.refresh().await;
            }
        });
    }

    pub async fn login(&self, username: String, password: String) -> Result<(), ApiError> {
        let answer: TokenResponse = api::post("/api/auth/login", &LoginRequest { username, password }, None).await?;
        self.accept(answer);
        Ok(())
    }

    /// Trades the refresh cookie for a new access token; on failure the user is logged out.
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let outcome = api::post::<_, TokenResponse>("/api/auth/refresh", &RefreshRequest::default(), None).await;
        self.checked.set(true);
        match outcome {
            Ok(answer) => {
                self.accept(answer);
                Ok(())
            }
            Err(error) => {
                if error.is_auth() {
                    self.current.set(None);
                }
                Err(error)
            }
        }
    }

    pub async fn logout(&self) {
        let _ = api::post_empty("/api/auth/logout", &RefreshRequest::default(), None).await;
        self.generation.update(|g| *g += 1);
        self.current.set(None);
    }
}
