//! How framework, round and return statuses are stored: as their text spelling (`published`,
//! `open`, `submitted`, …) in a
//! `TEXT` column, on both backends and through the shared `DbConnection`. This is the one mapping
//! between the stored text and `domain::lifecycle`'s enums; a stored value that does not parse is
//! a deserialisation error (an internal error), never a default.
//!
//! The `AsExpression`/`FromSqlRow` derives cannot sit on the domain types (the domain stays free of
//! the database crate), so they are derived here on stand-ins with `foreign_derive`, which makes
//! them implement the traits for the domain types. `FromSql`/`ToSql` are written once, generic over
//! the backend: they go through `String`/`str`, which every backend implements — `Sqlite`, `Pg` and
//! the `MultiBackend` the `MultiConnection` derive generates (which dispatches to the other two).

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::lifecycle::{AssessmentStatus, FrameworkStatus, RoundStatus};

#[derive(AsExpression, FromSqlRow)]
#[diesel(foreign_derive, sql_type = Text)]
#[allow(dead_code)]
struct FrameworkStatusColumn(FrameworkStatus);

#[derive(AsExpression, FromSqlRow)]
#[diesel(foreign_derive, sql_type = Text)]
#[allow(dead_code)]
struct RoundStatusColumn(RoundStatus);

#[derive(AsExpression, FromSqlRow)]
#[diesel(foreign_derive, sql_type = Text)]
#[allow(dead_code)]
struct AssessmentStatusColumn(AssessmentStatus);

impl<DB> FromSql<Text, DB> for FrameworkStatus
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(<String as FromSql<Text, DB>>::from_sql(bytes)?.parse()?)
    }
}

impl<DB> ToSql<Text, DB> for FrameworkStatus
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
    }
}

impl<DB> FromSql<Text, DB> for RoundStatus
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(<String as FromSql<Text, DB>>::from_sql(bytes)?.parse()?)
    }
}

impl<DB> ToSql<Text, DB> for RoundStatus
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
    }
}

impl<DB> FromSql<Text, DB> for AssessmentStatus
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(<String as FromSql<Text, DB>>::from_sql(bytes)?.parse()?)
    }
}

impl<DB> ToSql<Text, DB> for AssessmentStatus
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        if *self == AssessmentStatus::NotStarted {
            // `not_started` means "no row"; a row holding it would be a bug.
            return Err("`not_started` is never stored".into());
        }
        <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use crate::db::assessments::{self, AssessmentRow};
    use crate::db::frameworks::{self, FrameworkRow};
    use crate::db::rounds::{self, RoundRow};
    use crate::db::{DbConnection, now, run_migrations};
    use crate::domain::lifecycle::{AssessmentStatus, FrameworkStatus, RoundStatus};

    /// An in-memory SQLite database through the shared connection type, foreign keys off (these
    /// rows need no framework or organisation). The same mapping runs on PostgreSQL in the API
    /// suite.
    fn conn() -> DbConnection {
        let mut c = DbConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        run_migrations(&mut c).unwrap();
        c.batch_execute("PRAGMA foreign_keys = OFF").unwrap();
        c
    }

    fn round(key: &str, status: RoundStatus) -> RoundRow {
        let t = now();
        RoundRow {
            key: key.into(),
            title: key.into(),
            framework_key: "f".into(),
            opens_at: t,
            closes_at: t,
            status,
            synthetic: false,
            created_at: t,
            updated_at: t,
        }
    }

    fn assessment(id: &str, status: AssessmentStatus) -> AssessmentRow {
        let t = now();
        AssessmentRow {
            id: id.into(),
            round_key: "r".into(),
            ods_code: id.into(),
            status,
            version: 1,
            answers: "{}".into(),
            created_at: t,
            updated_at: t,
            submitted_at: None,
            submitted_by: None,
        }
    }

    #[test]
    fn round_statuses_are_stored_as_their_spelling_and_read_back() {
        let mut c = conn();
        for s in RoundStatus::ALL {
            rounds::insert(&mut c, &round(s.as_str(), s)).unwrap();
            assert_eq!(rounds::find(&mut c, s.as_str()).unwrap().unwrap().status, s);
            let stored: String = crate::db::schema::rounds::table
                .find(s.as_str())
                .select(crate::db::schema::rounds::status)
                .first(&mut c)
                .unwrap();
            assert_eq!(stored, s.as_str());
        }
        let moved = rounds::transition(
            &mut c,
            "planned",
            RoundStatus::Planned,
            RoundStatus::Open,
            now(),
        )
        .unwrap();
        assert_eq!(moved, 1);
        assert_eq!(
            rounds::find(&mut c, "planned").unwrap().unwrap().status,
            RoundStatus::Open
        );
    }

    #[test]
    fn assessment_statuses_filter_and_not_started_is_never_stored() {
        let mut c = conn();
        assessments::insert(&mut c, &assessment("A", AssessmentStatus::Draft)).unwrap();
        assessments::insert(&mut c, &assessment("B", AssessmentStatus::Reopened)).unwrap();
        assessments::insert(&mut c, &assessment("C", AssessmentStatus::Reopened)).unwrap();
        assert_eq!(
            assessments::count_in_status(&mut c, "r", AssessmentStatus::Reopened).unwrap(),
            2
        );
        let saved =
            assessments::set_status(&mut c, "A", 1, AssessmentStatus::Submitted, None, now());
        assert_eq!(saved.unwrap(), 1);
        assert_eq!(
            assessments::find(&mut c, "r", "A").unwrap().unwrap().status,
            AssessmentStatus::Submitted
        );
        assert_eq!(
            assessments::submitted_of_round(&mut c, "r").unwrap().len(),
            1
        );
        let refused = assessments::insert(&mut c, &assessment("D", AssessmentStatus::NotStarted));
        assert!(matches!(
            refused,
            Err(diesel::result::Error::SerializationError(_))
        ));
    }

    #[test]
    fn framework_statuses_are_stored_as_their_spelling_and_publishing_is_compare_and_set() {
        let mut c = conn();
        let framework = crate::domain::fixtures::scored();
        let row = FrameworkRow::new(&framework, "{}".into(), now());
        frameworks::insert(&mut c, &row).unwrap();
        let stored = |c: &mut DbConnection| -> String {
            crate::db::schema::frameworks::table
                .find(&row.key)
                .select(crate::db::schema::frameworks::status)
                .first(c)
                .unwrap()
        };
        assert_eq!(stored(&mut c), FrameworkStatus::Draft.as_str());
        assert_eq!(frameworks::publish(&mut c, &row.key, now()).unwrap(), 1);
        assert_eq!(frameworks::publish(&mut c, &row.key, now()).unwrap(), 0);
        assert_eq!(stored(&mut c), FrameworkStatus::Published.as_str());
        let back = frameworks::find(&mut c, &row.key).unwrap().unwrap();
        assert_eq!(back.status, FrameworkStatus::Published);
        c.batch_execute("UPDATE frameworks SET status = 'retired'")
            .unwrap();
        assert!(matches!(
            frameworks::find(&mut c, &row.key),
            Err(diesel::result::Error::DeserializationError(_))
        ));
    }

    #[test]
    fn an_unknown_stored_status_is_an_error_not_a_default() {
        let mut c = conn();
        rounds::insert(&mut c, &round("r", RoundStatus::Open)).unwrap();
        c.batch_execute("UPDATE rounds SET status = 'paused'")
            .unwrap();
        assert!(matches!(
            rounds::find(&mut c, "r"),
            Err(diesel::result::Error::DeserializationError(_))
        ));
    }
}
