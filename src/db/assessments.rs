//! Assessments: one per organisation per round (a database constraint). Writes are
//! compare-and-set on `version`, so concurrent edits never silently overwrite. Their stored score
//! trees are `db::scores`'s business.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::assessments;
use crate::domain::lifecycle::AssessmentStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assessments)]
pub struct AssessmentRow {
    pub id: String,
    pub round_key: String,
    pub ods_code: String,
    pub status: AssessmentStatus,
    pub version: i32,
    /// JSON object: question key → `{value, evidence}`.
    pub answers: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub submitted_by: Option<String>,
}

pub fn find(conn: &mut DbConnection, round: &str, ods: &str) -> QueryResult<Option<AssessmentRow>> {
    assessments::table
        .filter(assessments::round_key.eq(round))
        .filter(assessments::ods_code.eq(ods))
        .select(AssessmentRow::as_select())
        .first(conn)
        .optional()
}

pub fn for_round(conn: &mut DbConnection, round: &str) -> QueryResult<Vec<AssessmentRow>> {
    assessments::table
        .filter(assessments::round_key.eq(round))
        .order(assessments::ods_code.asc())
        .select(AssessmentRow::as_select())
        .load(conn)
}

/// How many returns of a round are in this status.
pub fn count_in_status(
    conn: &mut DbConnection,
    round: &str,
    status: AssessmentStatus,
) -> QueryResult<i64> {
    assessments::table
        .filter(assessments::round_key.eq(round))
        .filter(assessments::status.eq(status))
        .count()
        .get_result(conn)
}

pub fn insert(conn: &mut DbConnection, row: &AssessmentRow) -> QueryResult<()> {
    diesel::insert_into(assessments::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Saves answers if the stored version is still `expected`; returns the rows changed (0 = lost race).
pub fn save_answers(
    conn: &mut DbConnection,
    id: &str,
    expected: i32,
    answers: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        assessments::table
            .find(id)
            .filter(assessments::version.eq(expected)),
    )
    .set((
        assessments::answers.eq(answers),
        assessments::version.eq(expected + 1),
        assessments::updated_at.eq(at),
    ))
    .execute(conn)
}

/// Changes status if the stored version is still `expected`; returns the rows changed.
pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    expected: i32,
    status: AssessmentStatus,
    submitted: Option<(NaiveDateTime, String)>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let (submitted_at, submitted_by) = submitted.unzip();
    diesel::update(
        assessments::table
            .find(id)
            .filter(assessments::version.eq(expected)),
    )
    .set((
        assessments::status.eq(status),
        assessments::version.eq(expected + 1),
        assessments::updated_at.eq(at),
        assessments::submitted_at.eq(submitted_at),
        assessments::submitted_by.eq(submitted_by),
    ))
    .execute(conn)
}

/// Submitted assessments of a round (with their answers, for item-matched recomputation).
pub fn submitted_of_round(conn: &mut DbConnection, round: &str) -> QueryResult<Vec<AssessmentRow>> {
    assessments::table
        .filter(assessments::round_key.eq(round))
        .filter(assessments::status.eq(AssessmentStatus::Submitted))
        .select(AssessmentRow::as_select())
        .load(conn)
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AssessmentRow>> {
    assessments::table
        .find(id)
        .select(AssessmentRow::as_select())
        .first(conn)
        .optional()
}

/// Which returns a search asks for: each list, when given, restricts to its members.
#[derive(Debug, Default)]
pub struct ReturnFilter {
    pub rounds: Option<Vec<String>>,
    pub organisations: Option<Vec<String>>,
    pub statuses: Option<Vec<AssessmentStatus>>,
}

/// (id, round, ODS code, status) of the returns the filter selects, by round then ODS code: light
/// enough to count and page a national search before loading any answers.
pub fn search_keys(
    conn: &mut DbConnection,
    filter: &ReturnFilter,
) -> QueryResult<Vec<(String, String, String, AssessmentStatus)>> {
    let mut query = assessments::table
        .select((
            assessments::id,
            assessments::round_key,
            assessments::ods_code,
            assessments::status,
        ))
        .order((assessments::round_key.asc(), assessments::ods_code.asc()))
        .into_boxed();
    if let Some(rounds) = &filter.rounds {
        query = query.filter(assessments::round_key.eq_any(rounds.clone()));
    }
    if let Some(orgs) = &filter.organisations {
        query = query.filter(assessments::ods_code.eq_any(orgs.clone()));
    }
    if let Some(statuses) = &filter.statuses {
        query = query.filter(assessments::status.eq_any(statuses.clone()));
    }
    query.load(conn)
}

pub fn by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<AssessmentRow>> {
    assessments::table
        .filter(assessments::id.eq_any(ids))
        .select(AssessmentRow::as_select())
        .load(conn)
}
