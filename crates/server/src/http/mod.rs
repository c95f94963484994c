//! The REST API: routes, JSON errors for unknown routes and methods, and the OpenAPI document.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod avatars;
pub mod client;
pub mod cursor;
pub mod dms;
pub mod error;
pub mod extract;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod ops;
pub mod rooms;
pub mod search;

use crate::app::error::ApiError;
use actix_web::{HttpResponse, ResponseError, web};
use conclave_protocol::ErrorCode;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Registers every route of the API. A known path asked with another method answers 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(ops::healthz)));
    cfg.service(resource("/readyz").route(web::get().to(ops::readyz)));
    cfg.service(resource("/metrics").route(web::get().to(ops::metrics)));
    cfg.service(resource("/api/docs").route(web::get().to(docs_redirect)));
    cfg.service(resource("/ws").route(web::get().to(crate::gateway::upgrade)));
    cfg.service(
        web::scope("/api")
            .service(resource("/auth/signup").route(web::post().to(accounts::signup)))
            .service(resource("/auth/login").route(web::post().to(accounts::login)))
            .service(resource("/auth/refresh").route(web::post().to(accounts::refresh)))
            .service(resource("/auth/logout").route(web::post().to(accounts::logout)))
            .service(
                resource("/users/me")
                    .route(web::get().to(accounts::me))
                    .route(web::patch().to(accounts::update_me))
                    .route(web::delete().to(accounts::delete_me)),
            )
            .service(
                resource("/users/me/avatar")
                    .route(web::put().to(avatars::set))
                    .route(web::delete().to(avatars::remove)),
            )
            .service(resource("/users/me/password").route(web::post().to(accounts::change_password)))
            .service(resource("/users/me/audit").route(web::get().to(audit::mine)))
            .service(resource("/users").route(web::get().to(accounts::search)))
            .service(resource("/users/{username}").route(web::get().to(accounts::profile)))
            .service(resource("/users/{username}/avatar").route(web::get().to(avatars::get)))
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
            .service(resource("/rooms/{room_id}/attachments").route(web::post().to(attachments::upload)))
            .service(
                resource("/rooms/{room_id}/attachments/{attachment_id}").route(web::get().to(attachments::download)),
            )
            .service(resource("/rooms/{room_id}/invites").route(web::post().to(moderation::invite)))
            .service(resource("/rooms/{room_id}/invites/me").route(web::delete().to(rooms::decline_invitation)))
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
            // Before `{message_id}`, which would take `search` for an id.
            .service(resource("/rooms/{room_id}/messages/search").route(web::get().to(search::in_room)))
            .service(resource("/search/messages").route(web::get().to(search::everywhere)))
            .service(
                resource("/rooms/{room_id}/messages/{message_id}")
                    .route(web::patch().to(messages::edit))
                    .route(web::delete().to(messages::delete)),
            )
            .service(
                resource("/rooms/{room_id}/messages/{message_id}/reactions/{emoji}")
                    .route(web::put().to(messages::add_reaction))
                    .route(web::delete().to(messages::remove_reaction)),
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

/// Documents, on every operation, the error answers that the extractors and the edge give
/// whatever the handler: 400 (malformed JSON, query or path), 401 (when it needs a token),
/// 404 (when its path names something), 413/415/422 (when it takes a body or a query), 500 and
/// 503. A handler's own `responses` stay as they are.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                    )
                    .build(),
            )
        };
        let add = |operation: &mut Operation, status: &str, description: &str| {
            operation.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                let has_query =
                    parameters.iter().any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query)));
                let has_path = path.contains('{');
                let has_body = operation.request_body.is_some();
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                add(operation, "400", "malformed_json, invalid_query: the request cannot be read");
                if secured {
                    add(operation, "401", "token_missing, token_invalid, token_expired");
                }
                if has_path {
                    add(operation, "404", "what the path names does not exist");
                }
                if has_body {
                    add(operation, "413", "payload_too_large");
                    add(operation, "415", "unsupported_media_type: send application/json");
                }
                if has_body || has_query {
                    add(operation, "422", "validation_failed: one entry per invalid field in details");
                }
                add(operation, "500", "internal, data_corrupted");
                add(operation, "503", "unavailable: the store does not answer; try again shortly");
            }
        }
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
        ops::healthz, ops::readyz, ops::metrics,
        accounts::signup, accounts::login, accounts::refresh, accounts::logout,
        accounts::me, accounts::update_me, accounts::change_password, accounts::delete_me, accounts::search, accounts::profile,
        avatars::set, avatars::remove, avatars::get,
        rooms::create, rooms::search, rooms::mine, rooms::history, rooms::get, rooms::update, rooms::delete,
        rooms::join, rooms::decline_invitation, rooms::leave, rooms::members, rooms::mark_read, audit::room, audit::mine,
        moderation::invite, moderation::requests, moderation::accept, moderation::decline, moderation::kick,
        moderation::set_role, moderation::ban, moderation::bans, moderation::unban,
        messages::list, messages::send, messages::edit, messages::delete,
        messages::add_reaction, messages::remove_reaction, search::in_room, search::everywhere, dms::open,
        attachments::upload, attachments::download,
        notifications::list, notifications::mark_all_read, notifications::mark_read, notifications::delete,
        crate::gateway::upgrade,
    ),
    components(schemas(conclave_protocol::ErrorCode, conclave_protocol::ClientFrame, conclave_protocol::ServerFrame)),
    modifiers(&BearerAuth, &CommonErrors),
    tags(
        (name = "auth", description = "Sign up, log in, refresh and log out"),
        (name = "users", description = "The user directory"),
        (name = "rooms", description = "Rooms and membership"),
        (name = "moderation", description = "Invites, join requests, kicks, bans and roles"),
        (name = "messages", description = "Messages and direct conversations"),
        (name = "notifications", description = "Persisted notifications"),
        (name = "gateway", description = "The WebSocket gateway: live events, sending, resume"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The document as checked in under `api-spec/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
