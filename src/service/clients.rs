//! API clients: creating one (its secret returned once, stored only as an argon2 hash) and
//! revoking one, each recorded in the audit trail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Role, hash_secret, new_client_secret};
use crate::db::audit::{self, Actor, NewAuditEvent};
use crate::db::clients::{self, ClientRow};
use crate::db::{DbConnection, now, organisations};
use crate::error::{AppError, AppResult, FieldError};

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
    #[schema(max_items = 500)]
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

/// The ids of revoked API clients, held in memory so that every request's token is checked
/// against them without a query: loaded at start, updated at once when this process revokes a
/// client, and refreshed from the database every few seconds for revocations made elsewhere
/// (the command line, another instance). The database's `revoked_at` is the record, so a
/// revocation survives a restart.
#[derive(Debug, Default)]
pub struct RevokedClients {
    ids: std::sync::RwLock<std::collections::HashSet<String>>,
}

impl RevokedClients {
    /// Replaces the set with what the database holds.
    pub fn refresh(&self, conn: &mut DbConnection) -> AppResult<()> {
        let ids = clients::revoked_ids(conn)?;
        let mut held = self
            .ids
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *held = ids.into_iter().collect();
        Ok(())
    }

    pub fn insert(&self, id: &str) {
        self.ids
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.to_owned());
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(id)
    }
}

/// Revokes a client: it gets no new tokens, and the tokens it holds are refused from now on
/// (see [`RevokedClients`]).
pub fn revoke_client(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<Client> {
    crate::db::write_transaction(conn, |c| {
        clients::find(c, id)?.ok_or_else(|| AppError::not_found("client", id))?;
        if clients::revoke(c, id, now())? > 0 {
            audit::record(
                c,
                &NewAuditEvent::new(actor, "revoke", "client", id, serde_json::json!({})),
            )?;
        }
        let row = clients::find(c, id)?.ok_or_else(|| AppError::not_found("client", id))?;
        Ok(Client::try_from(row)?)
    })
}
