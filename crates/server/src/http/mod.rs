//! The REST API: routes, JSON errors for unknown routes and methods, and the OpenAPI document.

pub mod accounts;
pub mod audit;
pub mod client;
pub mod cursor;
pub mod dms;
pub mod extract;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod ops;
pub mod rooms;
pub mod views;

use crate::error::ApiError;
use actix_web::{HttpResponse, ResponseError, web};
use conclave_protocol::ErrorCode;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Registers every route of the API. A known path asked with another method answers 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(ops::healthz)));
    cfg.service(resource("/readyz").route(web::get().to(ops::readyz)));
    cfg.service(resource("/api/docs").route(web::get().to(docs_redirect)));
    cfg.service(resource("/ws").route(web::get().to(crate::gateway::upgrade)));
    cfg.service(
        web::scope("/api")
            .service(resource("/auth/signup").route(web::post().to(accounts::signup)))
            .service(resource("/auth/login").route(web::post().to(accounts::login)))
            .service(resource("/auth/refresh").route(web::post().to(accounts::refresh)))
            .service(resource("/auth/logout").route(web::post().to(accounts::logout)))
            .service(resource("/users/me").route(web::get().to(accounts::me)))
            .service(resource("/users/me/audit").route(web::get().to(audit::mine)))
            .service(resource("/users").route(web::get().to(accounts::search)))
            .service(resource("/users/{username}").route(web::get().to(accounts::profile)))
            .service(resource("/rooms").route(web::post().to(rooms::create)).route(web::get().to(rooms::search)))
            .service(resource("/rooms/mine").route(web::get().to(rooms::mine)))
            .service(resource("/rooms/history").route(web::get().to(rooms::history)))
            .service(
                resource("/rooms/{room_id}")
                    .route(web::get().to(rooms::get))
                    .route(web::patch().to(rooms::update))
                    .route(web::delete().to(rooms::delete)),
            )
            .service(resource("/rooms/{room_id}/join").route(web::post().to(rooms::join)))
            .service(resource("/rooms/{room_id}/leave").route(web::post().to(rooms::leave)))
            .service(resource("/rooms/{room_id}/members").route(web::get().to(rooms::members)))
            .service(resource("/rooms/{room_id}/read").route(web::post().to(rooms::mark_read)))
            .service(resource("/rooms/{room_id}/audit").route(web::get().to(audit::room)))
            .service(resource("/rooms/{room_id}/invites").route(web::post().to(moderation::invite)))
            .service(resource("/rooms/{room_id}/requests").route(web::get().to(moderation::requests)))
            .service(resource("/rooms/{room_id}/requests/{user_id}/accept").route(web::post().to(moderation::accept)))
            .service(resource("/rooms/{room_id}/requests/{user_id}/decline").route(web::post().to(moderation::decline)))
            .service(resource("/rooms/{room_id}/members/{user_id}/kick").route(web::post().to(moderation::kick)))
            .service(resource("/rooms/{room_id}/members/{user_id}/role").route(web::put().to(moderation::set_role)))
            .service(
                resource("/rooms/{room_id}/bans")
                    .route(web::post().to(moderation::ban))
                    .route(web::get().to(moderation::bans)),
            )
            .service(resource("/rooms/{room_id}/bans/{user_id}").route(web::delete().to(moderation::unban)))
            .service(
                resource("/rooms/{room_id}/messages")
                    .route(web::get().to(messages::list))
                    .route(web::post().to(messages::send)),
            )
            .service(
                resource("/rooms/{room_id}/messages/{message_id}")
                    .route(web::patch().to(messages::edit))
                    .route(web::delete().to(messages::delete)),
            )
            .service(resource("/dms").route(web::post().to(dms::open)))
            .service(resource("/notifications").route(web::get().to(notifications::list)))
            .service(resource("/notifications/read-all").route(web::post().to(notifications::mark_all_read)))
            .service(resource("/notifications/{id}/read").route(web::post().to(notifications::mark_read)))
            .service(resource("/notifications/{id}").route(web::delete().to(notifications::delete))),
    );
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// The API viewer lives under `/api/docs/`.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((actix_web::http::header::LOCATION, "/api/docs/")).finish()
}

/// Unknown routes answer in the error shape of R-OPS-5.
pub async fn not_found() -> HttpResponse {
    ApiError::new(ErrorCode::NotFound, "no such route").error_response()
}

/// A query or path parameter that does not parse (R-SEC-3).
pub fn invalid_query(error: impl std::fmt::Display) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidQuery, format!("a query or path parameter is invalid: {error}")).into()
}

/// A known path asked with a method it does not take.
pub async fn method_not_allowed() -> HttpResponse {
    ApiError::new(ErrorCode::MethodNotAllowed, "this route does not take that method").error_response()
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The OpenAPI document of the REST API, generated from the handlers and the protocol types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conclave API",
        description = "Secure real-time chat. JSON everywhere, snake_case fields, RFC 3339 UTC timestamps. \
Errors: `{\"error\": {\"code\", \"message\", \"details\"}}`. Lists: `{\"items\", \"next_cursor\"}` with `limit` and `cursor`. \
Authenticate with `Authorization: Bearer <access_token>` from `/api/auth/login`.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        ops::healthz, ops::readyz,
        accounts::signup, accounts::login, accounts::refresh, accounts::logout,
        accounts::me, accounts::search, accounts::profile,
        rooms::create, rooms::search, rooms::mine, rooms::history, rooms::get, rooms::update, rooms::delete,
        rooms::join, rooms::leave, rooms::members, rooms::mark_read, audit::room, audit::mine,
        moderation::invite, moderation::requests, moderation::accept, moderation::decline, moderation::kick,
        moderation::set_role, moderation::ban, moderation::bans, moderation::unban,
        messages::list, messages::send, messages::edit, messages::delete, dms::open,
        notifications::list, notifications::mark_all_read, notifications::mark_read, notifications::delete,
        crate::gateway::upgrade,
    ),
    components(schemas(conclave_protocol::ErrorCode, conclave_protocol::ClientFrame, conclave_protocol::ServerFrame)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign up, log in, refresh and log out"),
        (name = "users", description = "The user directory"),
        (name = "rooms", description = "Rooms and membership"),
        (name = "moderation", description = "Invites, join requests, kicks, bans and roles"),
        (name = "messages", description = "Messages and direct conversations"),
        (name = "notifications", description = "Persisted notifications"),
        (name = "gateway", description = "The WebSocket gateway: live events, sending, resume"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

/// The document as checked in under `api-spec/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
