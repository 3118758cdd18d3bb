//! Storage: the diesel schema, row structs and query functions over SQLite or PostgreSQL.
//! Functions take `&mut DbConnection` first and return `diesel::QueryResult`; nothing here knows HTTP.
//! Backend differences are confined to this module.

pub mod assessments;
pub mod audit;
pub mod clients;
pub mod frameworks;
pub mod lifecycle;
pub mod organisations;
pub mod peer_groups;
pub mod rounds;
pub mod schema;
pub mod scores;
pub mod stamp;
pub mod web_sessions;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

use crate::config::{is_postgres_url, sqlite_path};

/// One connection type over both backends; the backend is chosen by the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager>;
pub type PooledConn = PooledConnection<ConnectionManager>;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// An r2d2 manager that picks the backend from the URL scheme (the derived `establish` tries each
/// backend in turn and hides the real PostgreSQL error).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
}

impl ConnectionManager {
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] ConnectionError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        if is_postgres_url(&self.url) {
            Ok(DbConnection::Postgresql(diesel::PgConnection::establish(
                &self.url,
            )?))
        } else {
            Ok(DbConnection::Sqlite(diesel::SqliteConnection::establish(
                sqlite_path(&self.url),
            )?))
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1").map_err(ConnectError::Query)
    }

    /// A connection is dropped from the pool when a panic interrupted its use or its backend
    /// reports it broken (a lost PostgreSQL session, a transaction left open).
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        std::thread::panicking() || conn.is_broken()
    }
}

/// Whether the connection still answers a trivial query (after an unexpected error: a lost
/// session or a broken transaction answers no).
pub fn answers(conn: &mut DbConnection) -> bool {
    use diesel::r2d2::R2D2Connection;
    !conn.is_broken() && conn.batch_execute("SELECT 1").is_ok()
}

/// Parses a JSON document stored in a text column. A value that does not parse is corrupt data:
/// a deserialisation error (an internal error, logged with its cause), never a default.
pub fn parse_stored_json<T: serde::de::DeserializeOwned>(
    raw: &str,
    column: &str,
) -> QueryResult<T> {
    serde_json::from_str(raw)
        .map_err(|e| diesel::result::Error::DeserializationError(format!("{column}: {e}").into()))
}

/// A transaction that reads and then writes. On SQLite it takes the write lock before anything
/// is read (see the `write_lock` migration), so concurrent writers queue under the busy timeout
/// instead of failing; on PostgreSQL it is an ordinary transaction.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|c| {
        if matches!(c, DbConnection::Sqlite(_)) {
            c.batch_execute("DELETE FROM write_lock")?;
        }
        work(c)
    })
}

/// As [`analyze`] after loading whole rounds, and on PostgreSQL also `VACUUM`, which marks the
/// pages all-visible so that the pillar-rows index (`scores_pillar_rows_idx`) is read without
/// visiting the table (an index-only scan). Outside any transaction.
pub fn vacuum_analyze(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Postgresql(c) => c.batch_execute("VACUUM (ANALYZE)"),
        DbConnection::Sqlite(c) => c.batch_execute("ANALYZE"),
    }
}

/// For a bulk load inside the current transaction on PostgreSQL: plan with indexes. Tables filled
/// in the same transaction (scores, assessments) still have the statistics of when they were
/// empty, so the planner (and the foreign-key checks' cached plans) pick sequential scans that
/// grow with every row added: quadratic, minutes instead of seconds for 25,000 returns. No-op on
/// SQLite, whose planner uses the indexes anyway.
pub fn plan_for_bulk_load(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Postgresql(c) => c.batch_execute("SET LOCAL enable_seqscan = off"),
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// SQLite settings every pooled connection needs (WAL is set once, at pool creation).
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, ConnectError> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot create the data directory {0}: {1}")]
    Directory(String, std::io::Error),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("cannot open the database: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migrations failed: {0}")]
    Migrations(String),
}

/// Builds the pool; for SQLite creates the file's directory and switches the file to WAL once.
pub fn build_pool(url: &str, size: u32) -> Result<DbPool, DbSetupError> {
    let manager = ConnectionManager::new(url);
    if !is_postgres_url(url) {
        let path = sqlite_path(url);
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbSetupError::Directory(dir.display().to_string(), e))?;
        }
        let mut conn = manager.connect()?;
        conn.batch_execute("PRAGMA journal_mode = WAL;")
            .map_err(ConnectError::Query)?;
    }
    let pool = Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(5))
        .connection_customizer(Box::new(SqlitePragmas))
        .build(manager)?;
    Ok(pool)
}

/// Applies the embedded migrations of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, DbSetupError> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| DbSetupError::Migrations(e.to_string()))
}

/// The current time, truncated to microseconds so both backends store the same value.
/// Refreshes the query planner's statistics after a bulk load (seed, demo, synthetic data):
/// PostgreSQL here runs without autovacuum, and a planner without statistics can pick a nested
/// loop that turns a 70 ms query into 700 ms. SQLite's planner uses them too.
pub fn analyze(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    match conn {
        DbConnection::Postgresql(c) => diesel::sql_query("ANALYZE").execute(c).map(drop),
        DbConnection::Sqlite(c) => diesel::sql_query("ANALYZE").execute(c).map(drop),
    }
}

pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(t, chrono::TimeDelta::microseconds(1)).unwrap_or(t)
}
