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
use actix_web::http::Method;
use actix_web::{HttpResponse, ResponseError, web};
use conclave_protocol::{ErrorCode, text};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Registers every route of the API. A known path asked with another method answers 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(at("/healthz").get(ops::healthz));
    cfg.service(at("/readyz").get(ops::readyz));
    cfg.service(at("/metrics").get(ops::metrics));
    cfg.service(at("/api/docs").get(docs_redirect));
    cfg.service(at("/ws").get(crate::gateway::upgrade));
    cfg.service(
        web::scope("/api")
            .service(at("/auth/signup").post(accounts::signup))
            .service(at("/auth/login").post(accounts::login))
            .service(at("/auth/refresh").post(accounts::refresh))
            .service(at("/auth/logout").post(accounts::logout))
            .service(at("/users/me").get(accounts::me).patch(accounts::update_me).delete(accounts::delete_me))
            .service(at("/users/me/avatar").put(avatars::set).delete(avatars::remove))
            .service(at("/users/me/password").post(accounts::change_password))
            .service(at("/users/me/audit").get(audit::mine))
            .service(at("/users").get(accounts::search))
            .service(at("/users/{username}").get(accounts::profile))
            .service(at("/users/{username}/avatar").get(avatars::get))
            .service(at("/rooms").post(rooms::create).get(rooms::search))
            .service(at("/rooms/mine").get(rooms::mine))
            .service(at("/rooms/history").get(rooms::history))
            .service(at("/rooms/{room_id}").get(rooms::get).patch(rooms::update).delete(rooms::delete))
            .service(at("/rooms/{room_id}/join").post(rooms::join))
            .service(at("/rooms/{room_id}/leave").post(rooms::leave))
            .service(at("/rooms/{room_id}/members").get(rooms::members))
            .service(at("/rooms/{room_id}/read").post(rooms::mark_read))
            .service(at("/rooms/{room_id}/audit").get(audit::room))
            .service(at("/rooms/{room_id}/attachments").post(attachments::upload))
            .service(at("/rooms/{room_id}/attachments/{attachment_id}").get(attachments::download))
            .service(at("/rooms/{room_id}/invites").post(moderation::invite))
            .service(at("/rooms/{room_id}/invites/me").delete(rooms::decline_invitation))
            .service(at("/rooms/{room_id}/requests").get(moderation::requests))
            .service(at("/rooms/{room_id}/requests/{user_id}/accept").post(moderation::accept))
            .service(at("/rooms/{room_id}/requests/{user_id}/decline").post(moderation::decline))
            .service(at("/rooms/{room_id}/members/{user_id}/kick").post(moderation::kick))
            .service(at("/rooms/{room_id}/members/{user_id}/role").put(moderation::set_role))
            .service(at("/rooms/{room_id}/bans").post(moderation::ban).get(moderation::bans))
            .service(at("/rooms/{room_id}/bans/{user_id}").delete(moderation::unban))
            .service(at("/rooms/{room_id}/messages").get(messages::list).post(messages::send))
            // Before `{message_id}`, which would take `search` for an id.
            .service(at("/rooms/{room_id}/messages/search").get(search::in_room))
            .service(at("/search/messages").get(search::everywhere))
            .service(at("/rooms/{room_id}/messages/{message_id}").patch(messages::edit).delete(messages::delete))
            .service(
                at("/rooms/{room_id}/messages/{message_id}/reactions/{emoji}")
                    .put(messages::add_reaction)
                    .delete(messages::remove_reaction),
            )
            .service(at("/dms").post(dms::open))
            .service(at("/notifications").get(notifications::list))
            .service(at("/notifications/read-all").post(notifications::mark_all_read))
            .service(at("/notifications/{id}/read").post(notifications::mark_read))
            .service(at("/notifications/{id}").delete(notifications::delete)),
    );
}

/// The routes of one path. Any other method is answered 405 `method_not_allowed`, with the
/// `Allow` header naming the methods the path takes (RFC 9110).
struct Routes {
    path: &'static str,
    routes: Vec<(Method, actix_web::Route)>,
}

fn at(path: &'static str) -> Routes {
    Routes { path, routes: Vec::new() }
}

macro_rules! method_routes {
    ($($name:ident => $method:ident),*) => {
        impl Routes {
            $(
                fn $name<F, Args>(mut self, handler: F) -> Self
                where
                    F: actix_web::Handler<Args>,
                    Args: actix_web::FromRequest + 'static,
                    F::Output: actix_web::Responder + 'static,
                {
                    self.routes.push((Method::$method, web::route().method(Method::$method).to(handler)));
                    self
                }
            )*
        }
    };
}

method_routes!(get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE);

impl actix_web::dev::HttpServiceFactory for Routes {
    fn register(self, config: &mut actix_web::dev::AppService) {
        let allow = self.routes.iter().map(|(method, _)| method.as_str()).collect::<Vec<_>>().join(", ");
        let mut resource = web::resource(self.path);
        for (_, route) in self.routes {
            resource = resource.route(route);
        }
        resource.default_service(web::to(move || method_not_allowed(allow.clone()))).register(config);
    }
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

/// A known path asked with a method it does not take; `allow` names those it takes.
async fn method_not_allowed(allow: String) -> HttpResponse {
    let mut answer =
        ApiError::new(ErrorCode::MethodNotAllowed, "this route does not take that method").error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
        answer.headers_mut().insert(actix_web::http::header::ALLOW, value);
    }
    answer
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
    components(schemas(
        conclave_protocol::ErrorCode, conclave_protocol::ClientFrame, conclave_protocol::ServerFrame,
        text::Username, text::PersonName, text::RoomName, text::Topic, text::MessageBody, text::SearchText,
        text::SearchPrefix, text::Filename,
    )),
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
