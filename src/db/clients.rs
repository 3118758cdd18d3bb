//! API clients: machine identities whose secrets are stored only as argon2 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::api_clients;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub role: String,
    /// JSON array of ODS codes.
    pub organisations: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl ClientRow {
    /// The stored ODS codes; a value that does not parse is an error, never an empty list.
    pub fn organisation_codes(&self) -> QueryResult<Vec<String>> {
        super::parse_stored_json(&self.organisations, "api_clients.organisations")
    }
}

pub fn insert(conn: &mut DbConnection, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(api_clients::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ClientRow>> {
    api_clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ClientRow>> {
    api_clients::table
        .order(api_clients::created_at.asc())
        .select(ClientRow::as_select())
        .load(conn)
}

/// Marks the client revoked (idempotent: the first revocation time is kept).
pub fn revoke(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_clients::table
            .find(id)
            .filter(api_clients::revoked_at.is_null()),
    )
    .set(api_clients::revoked_at.eq(Some(at)))
    .execute(conn)
}

/// The ids of every revoked client.
pub fn revoked_ids(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    api_clients::table
        .filter(api_clients::revoked_at.is_not_null())
        .select(api_clients::id)
        .load(conn)
}
