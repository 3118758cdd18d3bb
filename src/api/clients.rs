//! API clients (admin): create (the secret is shown once), list, revoke.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::{db, not_found, validated};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
};
use crate::app::AppState;
use crate::auth::{Principal, Role, hash_secret, new_client_secret};
use crate::db::audit::{self, Actor, NewAuditEvent};
use crate::db::clients::{self, ClientRow};
use crate::db::{DbConnection, now, organisations};
use crate::error::{AppError, AppResult, FieldError};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(revoke);
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    #[validate(length(min = 1, max = 200, message = "name must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: Role,
    /// ODS codes a submitter may act for (required for submitters, empty otherwise).
    #[serde(default)]
    #[validate(length(max = 500, message = "at most 500 organisations"))]
    pub organisations: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub role: String,
    pub organisations: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ClientRow> for Client {
    type Error = diesel::result::Error;

    fn try_from(r: ClientRow) -> Result<Self, Self::Error> {
        Ok(Self {
            organisations: r.organisation_codes()?,
            client_id: r.id,
            name: r.name,
            role: r.role,
            created_at: r.created_at.and_utc(),
            revoked_at: r.revoked_at.map(|t| t.and_utc()),
        })
    }
}

/// A newly created client, with its secret: shown this once, stored only as a hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: Client,
    pub client_secret: String,
}

/// Creates a client and records it in the audit trail (used by the endpoint and `dma clients create`).
pub fn create_client(
    conn: &mut DbConnection,
    actor: &Actor,
    input: &NewClient,
) -> AppResult<CreatedClient> {
    let mut errors = Vec::new();
    match input.role {
        Role::Submitter if input.organisations.is_empty() => errors.push(FieldError::new(
            "organisations",
            "a submitter needs at least one organisation",
        )),
        Role::Admin | Role::Analyst if !input.organisations.is_empty() => errors.push(
            FieldError::new("organisations", "only submitters act for organisations"),
        ),
        _ => {}
    }
    for (i, ods) in input.organisations.iter().enumerate() {
        if !organisations::exists(conn, ods)? {
            errors.push(FieldError::new(
                format!("organisations[{i}]"),
                format!("unknown organisation `{ods}`"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable("the client is not valid", errors));
    }
    let secret = new_client_secret();
    let row = ClientRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: input.name.trim().to_owned(),
        role: input.role.as_str().to_owned(),
        organisations: serde_json::to_string(&input.organisations).map_err(AppError::internal)?,
        secret_hash: hash_secret(&secret)?,
        created_at: now(),
        revoked_at: None,
    };
    crate::db::write_transaction(conn, |c| {
        clients::insert(c, &row)?;
        audit::record(
            c,
            &NewAuditEvent::new(
                actor,
                "create",
                "client",
                &row.id,
                serde_json::json!({ "after": input }),
            ),
        )?;
        Ok::<_, AppError>(())
    })?;
    Ok(CreatedClient {
        client: Client::try_from(row)?,
        client_secret: secret,
    })
}

/// Revokes a client: it gets no new tokens.
pub fn revoke_client(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<Client> {
    crate::db::write_transaction(conn, |c| {
        clients::find(c, id)?.ok_or_else(|| not_found("client", id))?;
        if clients::revoke(c, id, now())? > 0 {
            audit::record(
                c,
                &NewAuditEvent::new(actor, "revoke", "client", id, serde_json::json!({})),
            )?;
        }
        let row = clients::find(c, id)?.ok_or_else(|| not_found("client", id))?;
        Ok(Client::try_from(row)?)
    })
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
        (status = 413, response = PayloadTooLarge),
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
    let created = db(&state, move |c| create_client(c, &who.actor(), &input)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// List API clients (admin); secrets are never shown.
#[utoipa::path(
    operation_id = "listClients",
    tag = "clients",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every API client, without secrets", body = Vec<Client>),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/clients")]
async fn list(state: web::Data<AppState>, who: Principal) -> AppResult<web::Json<Vec<Client>>> {
    who.require_admin()?;
    let rows = db(&state, |c| Ok(clients::list(c)?)).await?;
    Ok(web::Json(
        rows.into_iter()
            .map(Client::try_from)
            .collect::<Result<_, _>>()?,
    ))
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
    let client = db(&state, move |c| revoke_client(c, &who.actor(), &id)).await?;
    Ok(web::Json(client))
}
