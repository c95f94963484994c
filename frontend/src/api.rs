//! The REST API, with the types of `conclave-protocol`. Every failure becomes a sentence for
//! people (SPEC R-UI-2): the server's own message when it sent one.

use conclave_protocol::{ErrorBody, ErrorCode};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What went wrong, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server could not be reached at all.
    Unreachable,
    /// The server answered with an error; `code` is the SPEC's code when it sent one.
    Server { status: u16, code: Option<ErrorCode>, message: String },
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

    /// The server refused the credentials presented (401): a refresh cookie that is unknown,
    /// expired or revoked means the session is over.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Server { status: 401, .. })
    }

    /// The SPEC error code the server sent, when it sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Server { code, .. } => *code,
            ApiError::Unreachable => None,
        }
    }

    /// The access token was refused: refreshing it may help.
    pub fn is_auth(&self) -> bool {
        matches!(self, ApiError::Server { code: Some(code), .. } if code.refuses_access_token())
    }
}

pub use conclave_protocol::endpoints::Method;
use conclave_protocol::endpoints::{Endpoint, FileBody, FileBytes};

fn builder(method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
    let request = match method {
        Method::Get => Request::get(path),
        Method::Post => Request::post(path),
        Method::Put => Request::put(path),
        Method::Patch => Request::patch(path),
        Method::Delete => Request::delete(path),
    };
    match token {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    }
}

/// Calls one endpoint of the protocol's table; a body of `None` sends none.
pub async fn request<E: Endpoint>(
    endpoint: &E,
    body: Option<&E::Body>,
    token: Option<&str>,
) -> Result<E::Answer, ApiError> {
    send(E::METHOD, &endpoint.path(), body, token).await
}

/// Sends one request; a body of `None` sends none. 204 and empty answers read as JSON `null`.
pub(crate) async fn send<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&B>,
    token: Option<&str>,
) -> Result<T, ApiError> {
    let request = builder(method, path, token);
    let response = match body {
        Some(body) => request.json(body).map_err(|_| ApiError::Unreachable)?.send().await,
        None => request.send().await,
    };
    answer(response).await
}

async fn answer<T: DeserializeOwned>(response: Result<Response, gloo_net::Error>) -> Result<T, ApiError> {
    let response = response.map_err(|_| ApiError::Unreachable)?;
    let status = response.status();
    if (200..300).contains(&status) {
        let text = response.text().await.map_err(|_| ApiError::Unreachable)?;
        let text = if text.is_empty() { "null".to_owned() } else { text };
        return serde_json::from_str(&text).map_err(|e| ApiError::Server {
            status,
            code: None,
            message: format!("The server's answer could not be read: {e}"),
        });
    }
    match response.json::<ErrorBody>().await {
        Ok(body) => {
            let mut message = body.error.message;
            if let Some(serde_json::Value::Object(fields)) = body.error.details
                && body.error.code == ErrorCode::ValidationFailed
            {
                let problems: Vec<String> = fields
                    .iter()
                    .map(|(field, problem)| format!("{}: {}", field.replace('_', " "), problem.as_str().unwrap_or("")))
                    .collect();
                message = problems.join("; ");
            }
            Err(ApiError::Server { status, code: Some(body.error.code), message: sentence(message) })
        }
        // A proxy's or a crashed server's page: no JSON to read.
        Err(_) if status >= 500 => Err(ApiError::Unreachable),
        Err(_) => Err(ApiError::Server { status, code: None, message: format!("The server answered {status}.") }),
    }
}

/// The server's messages are terse lower-case phrases; people read sentences.
fn sentence(message: String) -> String {
    let mut chars = message.chars();
    let Some(first) = chars.next() else { return message };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Uploads `file` (a file or any blob) as the request body of an endpoint that takes one, with
/// its own type as `Content-Type`.
pub async fn upload<E: Endpoint<Body = FileBody>>(
    endpoint: &E,
    file: &web_sys::Blob,
    token: Option<&str>,
) -> Result<E::Answer, ApiError> {
    let path = endpoint.path();
    let content_type = file.type_();
    let content_type = if content_type.is_empty() { "application/octet-stream".to_owned() } else { content_type };
    let request = builder(E::METHOD, &path, token).header("Content-Type", &content_type);
    let response =
        request.body(wasm_bindgen::JsValue::from(file.clone())).map_err(|_| ApiError::Unreachable)?.send().await;
    answer(response).await
}

/// Downloads a file and hands back a `blob:` URL for it (an `<img>` source, a download link),
/// since a page cannot put its bearer token on a plain link.
pub async fn blob_url<E: Endpoint<Answer = FileBytes>>(
    endpoint: &E,
    content_type: &str,
    token: Option<&str>,
) -> Result<String, ApiError> {
    let response = builder(E::METHOD, &endpoint.path(), token).send().await.map_err(|_| ApiError::Unreachable)?;
    if !(200..300).contains(&response.status()) {
        return answer::<serde_json::Value>(Ok(response)).await.map(|_| String::new());
    }
    let bytes = response.binary().await.map_err(|_| ApiError::Unreachable)?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|_| ApiError::Unreachable)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| ApiError::Unreachable)
}

/// Percent-encodes a query value or path segment.
pub fn encode(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.~".contains(c) {
                c.to_string()
            } else {
                let mut buffer = [0u8; 4];
                c.encode_utf8(&mut buffer).bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect()
}
