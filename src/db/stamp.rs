//! The data stamp (migration `data_stamp`): one number, bumped by triggers whenever anything a
//! divergence or score response is computed from changes. Cached results carry the stamp they
//! were computed at; a result is current only while the stamp is unchanged.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::DbConnection;

#[derive(QueryableByName)]
struct StampRow {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// The current data stamp.
pub fn current(conn: &mut DbConnection) -> QueryResult<i64> {
    diesel::sql_query("SELECT version FROM data_stamp WHERE id = 1")
        .get_result::<StampRow>(conn)
        .map(|r| r.version)
}

/// Runs `work` on one consistent snapshot of the database, read only where the backend allows:
/// on PostgreSQL a `REPEATABLE READ READ ONLY` transaction, on SQLite a read transaction (WAL
/// gives it a snapshot from its first read). A stamp read inside `work` then describes exactly
/// the data `work` read, whatever commits meanwhile.
pub fn snapshot<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::SimpleConnection;
    conn.transaction(|c| {
        if let DbConnection::Postgresql(pg) = c {
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        work(c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;

    fn conn() -> DbConnection {
        let mut c = DbConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        crate::db::run_migrations(&mut c).unwrap();
        c
    }

    #[test]
    fn the_stamp_moves_with_returns_status_and_registers_but_not_with_draft_saves() {
        let mut c = conn();
        let start = current(&mut c).unwrap();
        c.batch_execute(
            "INSERT INTO organisations (ods_code, name, org_type, created_at, updated_at)
             VALUES ('RAA', 'A trust', 'acute', '2026-01-01', '2026-01-01')",
        )
        .unwrap();
        let after_org = current(&mut c).unwrap();
        assert!(after_org > start, "an organisation added moves the stamp");

        let fw: crate::domain::framework::Framework =
            serde_json::from_str(crate::seed::WGLL_FRAMEWORK).unwrap();
        let mut row = crate::db::frameworks::FrameworkRow::new(
            &fw,
            crate::seed::WGLL_FRAMEWORK.into(),
            crate::db::now(),
        );
        row.status = crate::domain::lifecycle::FrameworkStatus::Published;
        crate::db::frameworks::insert(&mut c, &row).unwrap();
        c.batch_execute(&format!(
            "INSERT INTO rounds (key, title, framework_key, opens_at, closes_at, status, synthetic, created_at, updated_at)
             VALUES ('r1', 'Round', '{}', '2026-01-01', '2027-01-01', 'open', 0, '2026-01-01', '2026-01-01');
             INSERT INTO assessments (id, round_key, ods_code, status, version, answers, created_at, updated_at)
             VALUES ('a1', 'r1', 'RAA', 'draft', 1, '{{}}', '2026-01-01', '2026-01-01');",
            row.key
        ))
        .unwrap();
        let before_save = current(&mut c).unwrap();
        c.batch_execute(
            "UPDATE assessments SET answers = '{\"q\":1}', version = 2 WHERE id = 'a1'",
        )
        .unwrap();
        assert_eq!(
            current(&mut c).unwrap(),
            before_save,
            "a draft save does not"
        );
        c.batch_execute("UPDATE assessments SET status = 'submitted' WHERE id = 'a1'")
            .unwrap();
        let submitted = current(&mut c).unwrap();
        assert!(submitted > before_save, "a submit does");
        c.batch_execute("UPDATE assessments SET status = 'reopened' WHERE id = 'a1'")
            .unwrap();
        assert!(current(&mut c).unwrap() > submitted, "a re-open does");
    }
}
