//! Rounds: collection windows bound to one published framework, with their status.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::rounds;
use crate::domain::lifecycle::RoundStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rounds)]
pub struct RoundRow {
    pub key: String,
    pub title: String,
    pub framework_key: String,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub status: RoundStatus,
    pub synthetic: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, key: &str) -> QueryResult<Option<RoundRow>> {
    rounds::table
        .find(key)
        .select(RoundRow::as_select())
        .first(conn)
        .optional()
}

/// Every round, oldest window first.
pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<RoundRow>> {
    rounds::table
        .order((rounds::opens_at.asc(), rounds::key.asc()))
        .select(RoundRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConnection, row: &RoundRow) -> QueryResult<()> {
    diesel::insert_into(rounds::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Moves a round from `from` to `to`; returns 0 when it was not in `from` (a compare-and-set).
pub fn transition(
    conn: &mut DbConnection,
    key: &str,
    from: RoundStatus,
    to: RoundStatus,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(rounds::table.find(key).filter(rounds::status.eq(from)))
        .set((rounds::status.eq(to), rounds::updated_at.eq(at)))
        .execute(conn)
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    rounds::table.count().get_result(conn)
}
