//! Who is logged in (SPEC R-ACC-3, R-ACC-4): the access token lives in memory only; the refresh
//! token is the HttpOnly cookie, used to restore the session and to refresh before expiry.
//! Every authenticated call goes through here, so an expired token is refreshed once and the
//! call retried, wherever it was made.

use crate::api::{self, ApiError, Method};
use conclave_protocol::endpoints::{ChangePassword, Endpoint, FileBody, FileBytes, Login, Logout, Refresh};
use conclave_protocol::{ChangePasswordRequest, LoginRequest, RefreshRequest, TokenResponse, User};
use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use leptos::prelude::*;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
struct Signed {
    user: User,
    token: String,
}

/// The session, shared through the context.
#[derive(Clone, Copy)]
pub struct Session {
    current: RwSignal<Option<Signed>>,
    /// False until the first refresh attempt answered: guards wait for it.
    pub checked: RwSignal<bool>,
    /// The logged-in user; unchanged by token refreshes, so pages do not redraw for them.
    pub user: Memo<Option<User>>,
    generation: RwSignal<u64>,
    /// The refresh under way: callers share it, because refresh tokens rotate and the server
    /// revokes the whole session when one is presented twice (R-ACC-3).
    refreshing: StoredValue<Option<Refreshing>, LocalStorage>,
}

type Refreshing = Shared<LocalBoxFuture<'static, Result<(), ApiError>>>;

impl Session {
    pub fn new() -> Self {
        let current = RwSignal::new(None::<Signed>);
        Self {
            current,
            checked: RwSignal::new(false),
            user: Memo::new(move |_| current.with(|s| s.as_ref().map(|s| s.user.clone()))),
            generation: RwSignal::new(0),
            refreshing: StoredValue::new_local(None),
        }
    }

    pub fn token(&self) -> Option<String> {
        self.current.with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    }

    /// The token, tracked: for the gateway, which waits for a login.
    pub fn token_tracked(&self) -> Option<String> {
        self.current.with(|s| s.as_ref().map(|s| s.token.clone()))
    }

    /// Changes the password (R-ACC-7): the server ends every other session and hands this one
    /// new tokens, which replace the old.
    pub async fn change_password(&self, request: ChangePasswordRequest) -> Result<(), ApiError> {
        let answer = self.request(&ChangePassword {}, Some(&request)).await?;
        self.accept(answer);
        Ok(())
    }

    /// The logged-in user's record changed (their names): pages showing it follow.
    pub fn updated(&self, user: User) {
        self.current.update(|current| {
            if let Some(signed) = current {
                signed.user = user;
            }
        });
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
                // Unreachable now: the next call or the gateway refreshes once the server is back.
                session.refresh().await.ok();
            }
        });
    }

    pub async fn login(&self, username: String, password: String) -> Result<(), ApiError> {
        let request = LoginRequest { username, password };
        let answer = api::request(&Login {}, Some(&request), None).await?;
        self.accept(answer);
        Ok(())
    }

    /// Trades the refresh cookie for a new access token; if the server refuses the cookie, the
    /// user is logged out. Concurrent callers wait for the same exchange.
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let running = self.refreshing.get_value();
        let exchange = match running {
            Some(exchange) => exchange,
            None => {
                let session = *self;
                let exchange = async move {
                    let outcome = session.exchange().await;
                    session.refreshing.set_value(None);
                    outcome
                }
                .boxed_local()
                .shared();
                self.refreshing.set_value(Some(exchange.clone()));
                exchange
            }
        };
        exchange.await
    }

    async fn exchange(&self) -> Result<(), ApiError> {
        let request = RefreshRequest::default();
        let outcome = api::request(&Refresh {}, Some(&request), None).await;
        self.checked.set(true);
        match outcome {
            Ok(answer) => {
                self.accept(answer);
                Ok(())
            }
            Err(error) => {
                // Only a refused cookie ends the session; an outage or a busy server does not.
                if error.is_unauthorized() {
                    self.current.set(None);
                }
                Err(error)
            }
        }
    }

    pub async fn logout(&self) {
        let request = RefreshRequest::default();
        // Logged out here whatever the server says: the cookie goes with the answer, or expires.
        api::request(&Logout {}, Some(&request), None).await.ok();
        self.generation.update(|g| *g += 1);
        self.current.set(None);
    }

    /// Runs `attempt` with the access token; a refused token is refreshed once and `attempt`
    /// run again.
    async fn authed<T, F, Fut>(&self, attempt: F) -> Result<T, ApiError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let used = self.token();
        match attempt(used.clone()).await {
            Err(error) if error.is_auth() => {
                // Another call may have refreshed meanwhile; then its token is the one to use.
                if self.token() == used {
                    self.refresh().await?;
                }
                attempt(self.token()).await
            }
            other => other,
        }
    }

    /// An authenticated call of one endpoint of the protocol's table. A refused token is
    /// refreshed once and the call repeated.
    pub async fn request<E: Endpoint>(&self, endpoint: &E, body: Option<&E::Body>) -> Result<E::Answer, ApiError> {
        let path = endpoint.path();
        let path = path.as_str();
        self.authed(|token| async move { api::send(E::METHOD, path, body, token.as_deref()).await }).await
    }

    /// Runs a call prepared earlier (a button's), discarding its answer.
    pub async fn run(&self, prepared: &Prepared) -> Result<(), ApiError> {
        let Prepared { method, path, body } = prepared;
        self.authed(|token| async move {
            api::send::<_, serde_json::Value>(*method, path, body.as_ref(), token.as_deref()).await
        })
        .await
        .map(|_| ())
    }

    /// Uploads a file as the body of a POST (attachments).
    pub async fn upload<E: Endpoint<Body = FileBody>>(
        &self,
        endpoint: &E,
        file: &web_sys::Blob,
    ) -> Result<E::Answer, ApiError> {
        self.authed(|token| async move { api::upload(endpoint, file, token.as_deref()).await }).await
    }

    /// A `blob:` URL for a file the API serves (attachments, avatars).
    pub async fn blob_url<E: Endpoint<Answer = FileBytes>>(
        &self,
        endpoint: &E,
        content_type: &str,
    ) -> Result<String, ApiError> {
        self.authed(|token| async move { api::blob_url(endpoint, content_type, token.as_deref()).await }).await
    }
}

/// A call of the endpoint table prepared now and run later, when its answer is not needed
/// (a moderation button, marking a notification read).
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
}

impl Prepared {
    pub fn new<E: Endpoint>(endpoint: &E, body: Option<&E::Body>) -> Self {
        Self { method: E::METHOD, path: endpoint.path(), body: body.and_then(|b| serde_json::to_value(b).ok()) }
    }
}
