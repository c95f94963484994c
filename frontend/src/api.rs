//! The REST API, with the types of `conclave-protocol`. Every failure becomes a sentence for
//! people (SPEC R-UI-2): the server's own message when it sent one.

use conclave_protocol::ErrorBody;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What went wrong, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server could not be reached at all.
    Unreachable,
    /// The server answered with an error.
    Server { status: u16, code: String, message: String },
}

impl ApiError {
    pub fn message(&self) -> String {
        match self {
            ApiError::Unreachable => {
                "The server cannot be reached. Check your connection; Conclave retries by itself.".into()
            }
            ApiError::Server { message, .. } => message.clone(),
        }
    }

    pub fn is_auth(&self) -> bool {
        matches!(self, ApiError::Server { status: 401, .. })
    }
}

fn with_token(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    }
}

async fn answer<T: DeserializeOwned>(response: Result<Response, gloo_net::Error>) -> Result<T, ApiError> {
    let response = response.map_err(|_| ApiError::Unreachable)?;
    let status = response.status();
    if (200..300).contains(&status) {
        let text = response.text().await.map_err(|_| ApiError::Unreachable)?;
        let text = if text.is_empty() { "null".to_owned() } else { text };
        return serde_json::from_str(&text).map_err(|e| ApiError::Server {
            status,
            code: "unexpected_answer".into(),
            message: format!("The server's answer could not be read: {e}"),
        });
    }
    match response.json::<ErrorBody>().await {
        Ok(body) => {
            let mut message = body.error.message;
            if let Some(serde_json::Value::Object(fields)) = body.error.details
                && body.error.code == conclave_protocol::ErrorCode::ValidationFailed
            {
                let problems: Vec<String> = fields
                    .iter()
                    .map(|(field, problem)| format!("{}: {}", field.replace('_', " "), problem.as_str().unwrap_or("")))
                    .collect();
                message = problems.join("; ");
            }
            Err(ApiError::Server { status, code: body.error.code.as_str().to_owned(), message })
        }
        Err(_) => {
            Err(ApiError::Server { status, code: "http".into(), message: format!("The server answered {status}.") })
        }
    }
}

pub async fn get<T: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<T, ApiError> {
    answer(with_token(Request::get(path), token).send().await).await
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B, token: Option<&str>) -> Result<T, ApiError> {
    let request = with_token(Request::post(path), token).json(body).map_err(|_| ApiError::Unreachable)?;
    answer(request.send().await).await
}

/// A POST whose answer has no body worth reading (204s, or answers the caller ignores).
pub async fn post_empty<B: Serialize>(path: &str, body: &B, token: Option<&str>) -> Result<(), ApiError> {
    post::<B, serde_json::Value>(path, body, token).await.map(|_| ())
}
