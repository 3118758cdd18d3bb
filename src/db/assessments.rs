//! Assessments (one per organisation per round, a database constraint) and their stored scores.
//! Writes are compare-and-set on `version`, so concurrent edits never silently overwrite.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{assessments, scores};
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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scores)]
pub struct ScoreRow {
    pub assessment_id: String,
    pub round_key: String,
    pub ods_code: String,
    /// `overall`, `pillar` or `domain`.
    pub scope: String,
    /// Empty for the overall row.
    pub pillar: String,
    /// Empty for pillar and overall rows.
    pub domain: String,
    pub score: Option<f64>,
    pub coverage: f64,
    pub answered: i32,
    pub applicable: i32,
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

/// Replaces the stored scores of an assessment (row by row: the shared connection has no batch insert).
pub fn replace_scores(conn: &mut DbConnection, id: &str, rows: &[ScoreRow]) -> QueryResult<()> {
    diesel::delete(scores::table.filter(scores::assessment_id.eq(id))).execute(conn)?;
    for row in rows {
        diesel::insert_into(scores::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn scores_of(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<ScoreRow>> {
    scores::table
        .filter(scores::assessment_id.eq(id))
        .select(ScoreRow::as_select())
        .load(conn)
}

/// Stored scores (pillar and overall rows; domain rows too when `with_domains`) of the submitted
/// returns of a round.
pub fn submitted_scores(
    conn: &mut DbConnection,
    round: &str,
    with_domains: bool,
) -> QueryResult<Vec<ScoreRow>> {
    let mut q = scores::table
        .inner_join(assessments::table)
        .filter(scores::round_key.eq(round))
        .filter(assessments::status.eq(AssessmentStatus::Submitted))
        .into_boxed();
    if !with_domains {
        q = q.filter(scores::scope.ne("domain"));
    }
    q.order((
        scores::ods_code.asc(),
        scores::pillar.asc(),
        scores::domain.asc(),
    ))
    .select(ScoreRow::as_select())
    .load(conn)
}

/// Submitted returns of one organisation across rounds with their stored scores.
pub fn submitted_scores_of_org(conn: &mut DbConnection, ods: &str) -> QueryResult<Vec<ScoreRow>> {
    scores::table
        .inner_join(assessments::table)
        .filter(scores::ods_code.eq(ods))
        .filter(assessments::status.eq(AssessmentStatus::Submitted))
        .order((
            scores::round_key.asc(),
            scores::pillar.asc(),
            scores::domain.asc(),
        ))
        .select(ScoreRow::as_select())
        .load(conn)
}

/// Submitted assessments of a round (with their answers, for item-matched recomputation).
pub fn submitted_of_round(conn: &mut DbConnection, round: &str) -> QueryResult<Vec<AssessmentRow>> {
    assessments::table
        .filter(assessments::round_key.eq(round))
        .filter(assessments::status.eq(AssessmentStatus::Submitted))
        .select(AssessmentRow::as_select())
        .load(conn)
}
