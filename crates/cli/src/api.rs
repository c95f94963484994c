//! The REST API through the protocol's endpoint table: one typed call per operation, with the
//! session's access token, refreshed by itself (before it expires, and once more when the
//! server refuses it).

use crate::error::{CliError, CliResult};
use crate::session::{Session, Sessions};
use chrono::Utc;
use conclave_protocol::endpoints::{self, Endpoint};
use conclave_protocol::{ErrorBody, Page, RefreshRequest, TokenResponse};
use reqwest::header::CONTENT_TYPE;

/// Seconds of life an access token must have left to be used (else it is refreshed first).
const MARGIN_SECS: i64 = 30;

/// A client of one server, logged in or not.
pub struct Api {
    http: reqwest::Client,
    server: String,
    sessions: Sessions,
    session: Option<Session>,
}

/// A request's body: JSON, or a file's bytes with its type.
pub enum Body<'a, T> {
    None,
    Json(&'a T),
    File { bytes: Vec<u8>, content_type: String },
}

impl Api {
    /// `server` is the base address (`http://host:port`, no trailing slash needed).
    pub fn new(server: &str, sessions: Sessions) -> CliResult<Self> {
        let server = server.trim_end_matches('/').to_owned();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(CliError::Usage(format!("--server must start with http:// or https://, not {server:?}")));
        }
        let session = sessions.get(&server)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("conclave-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::Usage(format!("cannot make an HTTP client: {e}")))?;
        Ok(Api { http, server, sessions, session })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// The session, or a sentence saying there is none.
    pub fn session(&self) -> CliResult<&Session> {
        self.session.as_ref().ok_or_else(|| CliError::NotLoggedIn(format!("not logged in to {}", self.server)))
    }

    /// Keeps `tokens` as this server's session (after a login or a sign-up's login).
    pub fn save_login(&mut self, tokens: &TokenResponse) -> CliResult<()> {
        let session = session_of(tokens);
        let held = self.sessions.lock()?;
        self.sessions.put(&held, &self.server, Some(&session))?;
        self.session = Some(session);
        Ok(())
    }

    /// Forgets this server's session.
    pub fn forget(&mut self) -> CliResult<()> {
        let held = self.sessions.lock()?;
        self.sessions.put(&held, &self.server, None)?;
        self.session = None;
        Ok(())
    }

    /// Calls an operation without a session (sign-up, login).
    pub async fn call_anonymous<E: Endpoint>(&self, endpoint: &E, body: Option<&E::Body>) -> CliResult<E::Answer> {
        let body = body.map_or(Body::None, Body::Json);
        self.send(endpoint, body, None).await
    }

    /// Calls an operation as the logged-in user.
    pub async fn call<E: Endpoint>(&mut self, endpoint: &E, body: Option<&E::Body>) -> CliResult<E::Answer> {
        let body = || body.map_or(Body::None, Body::Json);
        self.call_with(endpoint, body).await
    }

    /// Every item of a paged list: `page(cursor)` is the call for one page, from the first
    /// (`None`) on.
    pub async fn every<T, E>(&mut self, page: impl Fn(Option<String>) -> E) -> CliResult<Vec<T>>
    where
        E: Endpoint<Body = endpoints::NoBody, Answer = Page<T>>,
    {
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let fetched = self.call(&page(cursor), None).await?;
            items.extend(fetched.items);
            match fetched.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// Uploads a file's bytes to an operation that takes them (an attachment).
    pub async fn upload<E: Endpoint>(
        &mut self,
        endpoint: &E,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> CliResult<E::Answer> {
        let body = || Body::File { bytes: bytes.clone(), content_type: content_type.to_owned() };
        self.call_with(endpoint, body).await
    }

    async fn call_with<'a, E: Endpoint<Body: 'a>>(
        &mut self,
        endpoint: &E,
        body: impl Fn() -> Body<'a, E::Body>,
    ) -> CliResult<E::Answer> {
        let token = self.access_token().await?;
        match self.send(endpoint, body(), Some(&token)).await {
            Err(CliError::Refused { code: Some(code), .. }) if code.refuses_access_token() => {
                // Expired early (a server clock ahead, a new secret): one refresh, one more try.
                self.refresh().await?;
                let token = self.session()?.access_token.clone();
                self.send(endpoint, body(), Some(&token)).await
            }
            other => other,
        }
    }

    /// Takes the access token as expired (the server refused it): the next call refreshes.
    pub fn expire(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.access_expires_at = chrono::DateTime::<Utc>::UNIX_EPOCH;
        }
    }

    /// An access token with some life left, refreshed first when it has too little.
    pub async fn access_token(&mut self) -> CliResult<String> {
        let session = self.session()?;
        if !session.fresh(Utc::now(), MARGIN_SECS) {
            self.refresh().await?;
        }
        Ok(self.session()?.access_token.clone())
    }

    /// Rotates the refresh token, under the sessions' lock, starting from the session as saved:
    /// another command may have rotated it meanwhile (the token this one read is then spent),
    /// and when that left an access token with life in it, it is taken as it is.
    async fn refresh(&mut self) -> CliResult<()> {
        let held = self.sessions.lock()?;
        let Some(saved) = self.sessions.get(&self.server)? else {
            self.session = None;
            return Err(CliError::NotLoggedIn(format!("logged out of {}", self.server)));
        };
        let mine = self.session()?.refresh_token.clone();
        if saved.refresh_token != mine && saved.fresh(Utc::now(), 0) {
            self.session = Some(saved);
            return Ok(());
        }
        let request = RefreshRequest { refresh_token: Some(saved.refresh_token) };
        match self.send(&endpoints::Refresh {}, Body::Json(&request), None).await {
            Ok(tokens) => {
                let session = session_of(&tokens);
                self.sessions.put(&held, &self.server, Some(&session))?;
                self.session = Some(session);
                Ok(())
            }
            Err(CliError::Refused { status: 401, .. }) => {
                self.sessions.put(&held, &self.server, None)?;
                self.session = None;
                Err(CliError::NotLoggedIn("your session has expired".into()))
            }
            Err(other) => Err(other),
        }
    }

    async fn send<E: Endpoint>(
        &self,
        endpoint: &E,
        body: Body<'_, E::Body>,
        token: Option<&str>,
    ) -> CliResult<E::Answer> {
        let method = match E::METHOD {
            endpoints::Method::Get => reqwest::Method::GET,
            endpoints::Method::Post => reqwest::Method::POST,
            endpoints::Method::Put => reqwest::Method::PUT,
            endpoints::Method::Patch => reqwest::Method::PATCH,
            endpoints::Method::Delete => reqwest::Method::DELETE,
        };
        let path = endpoint.path();
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.server));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = match body {
            Body::None => request,
            Body::Json(body) => request.json(body),
            Body::File { bytes, content_type } => request.header(CONTENT_TYPE, content_type).body(bytes),
        };
        let what = format!("{method} {}", E::TEMPLATE);
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        if (200..300).contains(&status) {
            let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(text).map_err(|e| CliError::Protocol { what, reason: e.to_string() });
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => CliError::Refused {
                status,
                code: Some(body.error.code),
                message: sentence(&body.error.message, body.error.details.as_ref()),
            },
            Err(_) => CliError::Refused {
                status,
                code: None,
                message: format!("{what} answered {status}: {}", String::from_utf8_lossy(&bytes).trim()),
            },
        })
    }

    fn unreachable(&self, error: &reqwest::Error) -> CliError {
        // The innermost cause says most ("Connection refused").
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason = cause.to_string();
            source = cause.source();
        }
        CliError::Unreachable { server: self.server.clone(), reason }
    }
}

/// The server's sentence, with what its details say (which field is wrong and why, how long
/// to wait).
fn sentence(message: &str, details: Option<&serde_json::Value>) -> String {
    let Some(serde_json::Value::Object(details)) = details else {
        return message.to_owned();
    };
    let said: Vec<String> = details
        .iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => format!("{key}: {text}"),
            other => format!("{key}: {other}"),
        })
        .collect();
    if said.is_empty() { message.to_owned() } else { format!("{message} ({})", said.join("; ")) }
}

fn session_of(tokens: &TokenResponse) -> Session {
    let life = i64::try_from(tokens.expires_in).unwrap_or(i64::MAX / 2);
    Session {
        user_id: tokens.user.id.clone(),
        username: tokens.user.username.clone(),
        refresh_token: tokens.refresh_token.clone(),
        access_token: tokens.access_token.clone(),
        access_expires_at: Utc::now() + chrono::Duration::seconds(life.min(86_400 * 365)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_what_their_details_say() {
        let details = serde_json::json!({"limit": "must be at most 100", "retry_after_secs": 3});
        assert_eq!(
            sentence("some fields are invalid", Some(&details)),
            "some fields are invalid (limit: must be at most 100; retry_after_secs: 3)"
        );
        assert_eq!(sentence("no such room", None), "no such room");
    }
}
