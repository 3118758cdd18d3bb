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

/// How a write transaction holds a round's row while it re-checks the round's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundLock {
    /// Writes that depend on the status without changing it (save, submit, re-open): they may
    /// run side by side, but no status change commits until they have.
    Share,
    /// Status changes (open, close, publish): one at a time, after every shared holder.
    Update,
}

/// The round's status as it is now, read inside a write transaction so that the status cannot
/// change before the transaction commits. On PostgreSQL the row is locked (`FOR SHARE` or
/// `FOR UPDATE`) and the read sees the latest committed status after any wait; on SQLite the
/// transaction already holds the database's write lock (see [`super::write_transaction`]), so a
/// plain read is enough. `None` when the round does not exist.
pub fn locked_status(
    conn: &mut DbConnection,
    key: &str,
    lock: RoundLock,
) -> QueryResult<Option<RoundStatus>> {
    let query = rounds::table.find(key).select(rounds::status);
    match (conn, lock) {
        (DbConnection::Postgresql(pg), RoundLock::Share) => query.for_share().first(pg),
        (DbConnection::Postgresql(pg), RoundLock::Update) => query.for_update().first(pg),
        (DbConnection::Sqlite(lite), _) => query.first(lite),
    }
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
