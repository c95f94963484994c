//! The web client: its files from the client folder, and `index.html` for every client route,
//! so that deep links such as `/u/{username}/rooms/{room_id}` open the app (SPEC R-UI-3).
//! API and gateway paths never fall back to the app: unknown ones stay JSON 404s.

use super::not_found;
use actix_files::{Files, NamedFile};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, guard};
use std::path::{Path, PathBuf};

/// Whether `req` asks for a page of the app rather than for the API or the gateway.
fn is_client_route(req: &HttpRequest) -> bool {
    let path = req.path();
    matches!(*req.method(), Method::GET | Method::HEAD)
        && !(path == "/api" || path.starts_with("/api/") || path == "/ws" || path.starts_with("/ws/"))
}

/// Serves the client folder; paths that are not files get `index.html` (client routes) or a
/// JSON 404 (everything else).
pub fn files(dir: &Path) -> Files {
    let index = dir.join("index.html");
    // Other methods skip the files entirely and get the API's JSON 404.
    let read_only = guard::Any(guard::Get()).or(guard::Head());
    Files::new("/", dir).index_file("index.html").guard(read_only).default_handler(fn_service(
        move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let response = app_or_not_found(&req, &index).await;
                Ok(ServiceResponse::new(req, response))
            }
        },
    ))
}

async fn app_or_not_found(req: &HttpRequest, index: &PathBuf) -> HttpResponse {
    if !is_client_route(req) {
        return not_found().await;
    }
    match NamedFile::open(index) {
        Ok(file) => file.into_response(req),
        Err(_) => client_missing(),
    }
}

/// The default service when no client folder exists: client routes explain how to build the
/// client, everything else is a JSON 404.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    if is_client_route(&req) { client_missing() } else { not_found().await }
}

fn client_missing() -> HttpResponse {
    HttpResponse::ServiceUnavailable().content_type("text/html; charset=utf-8").body(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Conclave</title></head>\
         <body><h1>Conclave</h1><p>The web client is not built on this server, so there is no page \
         to show here. The API is up: see <a href=\"/api/docs/\">/api/docs/</a>.</p>\
         <p>To include the client, start the server with <code>./scripts/run.sh</code>, or set \
         <code>CONCLAVE_CLIENT_DIR</code> to a built client folder.</p></body></html>",
    )
}
