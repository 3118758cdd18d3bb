//! Sessions of people signed in to the web front end, and the single-use sign-in links that start
//! them. Only SHA-256 hashes of session ids and link tokens are stored: a copy of the database
//! cannot be used to sign in.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{login_links, web_sessions};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub subject: String,
    pub role: String,
    /// JSON array of ODS codes.
    pub organisations: String,
    pub csrf_token: String,
    pub method: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl SessionRow {
    /// The stored ODS codes; a value that does not parse is an error, never an empty list.
    pub fn organisation_codes(&self) -> QueryResult<Vec<String>> {
        super::parse_stored_json(&self.organisations, "web_sessions.organisations")
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_links)]
pub struct LinkRow {
    pub token_hash: String,
    pub subject: String,
    pub role: String,
    pub organisations: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl LinkRow {
    pub fn organisation_codes(&self) -> QueryResult<Vec<String>> {
        super::parse_stored_json(&self.organisations, "login_links.organisations")
    }
}

pub fn insert_session(conn: &mut DbConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(web_sessions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The session with this id hash, if it has not expired at `now`.
pub fn find_session(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<SessionRow>> {
    web_sessions::table
        .find(id_hash)
        .filter(web_sessions::expires_at.gt(now))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Ends a session; returns how many rows went (0 when it had already ended).
pub fn delete_session(conn: &mut DbConnection, id_hash: &str) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.find(id_hash)).execute(conn)
}

/// Removes expired sessions and links (spent or not) older than `before`.
pub fn purge_expired(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let sessions = diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(before)))
        .execute(conn)?;
    let links = diesel::delete(login_links::table.filter(login_links::expires_at.le(before)))
        .execute(conn)?;
    Ok(sessions + links)
}

pub fn insert_link(conn: &mut DbConnection, row: &LinkRow) -> QueryResult<()> {
    diesel::insert_into(login_links::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Spends a link: marks it used if it exists, is unused and has not expired at `now`, in one
/// statement, so two browsers racing with the same link cannot both succeed. Returns the link
/// when this call spent it.
pub fn redeem_link(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<LinkRow>> {
    let spent = diesel::update(
        login_links::table
            .find(token_hash)
            .filter(login_links::used_at.is_null())
            .filter(login_links::expires_at.gt(now)),
    )
    .set(login_links::used_at.eq(Some(now)))
    .execute(conn)?;
    if spent != 1 {
        return Ok(None);
    }
    login_links::table
        .find(token_hash)
        .select(LinkRow::as_select())
        .first(conn)
        .optional()
}
