//! Named peer groups: a list of organisations of one type to compare against.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::peer_groups;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = peer_groups)]
pub struct PeerGroupRow {
    pub key: String,
    pub title: String,
    pub org_type: String,
    /// JSON array of ODS codes.
    pub members: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PeerGroupRow {
    /// The stored ODS codes; a value that does not parse is an error, never an empty list.
    pub fn member_codes(&self) -> QueryResult<Vec<String>> {
        super::parse_stored_json(&self.members, "peer_groups.members")
    }
}

pub fn find(conn: &mut DbConnection, key: &str) -> QueryResult<Option<PeerGroupRow>> {
    peer_groups::table
        .find(key)
        .select(PeerGroupRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<PeerGroupRow>> {
    peer_groups::table
        .order(peer_groups::key.asc())
        .select(PeerGroupRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConnection, row: &PeerGroupRow) -> QueryResult<()> {
    diesel::insert_into(peer_groups::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn update(conn: &mut DbConnection, row: &PeerGroupRow) -> QueryResult<usize> {
    diesel::update(peer_groups::table.find(&row.key))
        .set(row)
        .execute(conn)
}

pub fn delete(conn: &mut DbConnection, key: &str) -> QueryResult<usize> {
    diesel::delete(peer_groups::table.find(key)).execute(conn)
}
