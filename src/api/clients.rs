//! API clients (admin): create (the secret is shown once), list, revoke.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::reads::{CursorQuery, array_page};
use super::{validated, with_conn};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, RequestTimeout, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::auth::Principal;
use crate::db::clients;
use crate::error::AppResult;
pub use crate::service::clients::{Client, CreatedClient, NewClient};
use crate::service::clients::{create_client, revoke_client};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(revoke);
}

/// Create an API client (admin). The secret is in this response only.
#[utoipa::path(
    operation_id = "createClient",
    tag = "clients",
    request_body = NewClient,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new client with its secret, shown in this response only", body = CreatedClient),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 408, response = RequestTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/clients")]
async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let input: NewClient = validated(body.parse()?)?;
    let created = with_conn(&state, move |c| create_client(c, &who.actor(), &input)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// List API clients (admin); secrets are never shown.
#[utoipa::path(
    operation_id = "listClients",
    tag = "clients",
    params(CursorQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every API client, without secrets (a page with `limit`)", body = Vec<Client>, headers(("Link" = String, description = "The next page (`rel=\"next\"`) when `limit` cut the list"))),
        (status = 422, response = Unprocessable),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/clients")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    page: web::Query<CursorQuery>,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let rows = with_conn(&state, |c| Ok(clients::list(c)?)).await?;
    let items: Vec<Client> = rows
        .into_iter()
        .map(Client::try_from)
        .collect::<Result<_, _>>()?;
    array_page(&req, &items, &page, |i| items[i].client_id.clone())
}

/// Revoke an API client (admin).
#[utoipa::path(
    operation_id = "revokeClient",
    tag = "clients",
    params(("id" = String, Path, description = "client id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The client, now revoked", body = Client),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[post("/clients/{id}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Client>> {
    who.require_admin()?;
    let id = path.into_inner();
    let revoked = state.revoked.clone();
    let client = with_conn(&state, move |c| {
        let client = revoke_client(c, &who.actor(), &id)?;
        // Before the response: the client's tokens are refused from the next request on.
        revoked.insert(&id);
        Ok(client)
    })
    .await?;
    Ok(web::Json(client))
}
