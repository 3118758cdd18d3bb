//! The stored scores of assessments. How a score tree is kept as rows of `scores` is this
//! module's business alone: callers store a [`Scores`] and get back [`Scores`] (or the divergence
//! engine's [`PillarObservation`]s); the `scope` column and its `""` placeholders never leave
//! this file. Assessment rows themselves are in `db::assessments`.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{assessments, scores};
use crate::domain::divergence::PillarObservation;
use crate::domain::lifecycle::AssessmentStatus;
use crate::domain::scoring::{DomainScore, PillarScore, Scores};

/// One node of a stored score tree. Private: see the module note.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scores)]
struct ScoreRow {
    assessment_id: String,
    round_key: String,
    ods_code: String,
    /// A [`Scope`].
    scope: String,
    /// [`NONE`] for the overall row.
    pillar: String,
    /// [`NONE`] for pillar and overall rows.
    domain: String,
    score: Option<f64>,
    coverage: f64,
    answered: i32,
    applicable: i32,
}

/// Which node of the tree a row holds, stored as text in `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Overall,
    Pillar,
    Domain,
}

impl Scope {
    const fn as_str(self) -> &'static str {
        match self {
            Scope::Overall => "overall",
            Scope::Pillar => "pillar",
            Scope::Domain => "domain",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Scope::Overall, Scope::Pillar, Scope::Domain]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The `pillar` of the overall row and the `domain` of overall and pillar rows (both columns are
/// part of the primary key, so not NULL).
const NONE: &str = "";

/// Replaces the stored scores of an assessment with `tree`: one row per node, written in one
/// multi-row insert. Call it inside the caller's transaction (submit, seeding).
pub fn store_scores(
    conn: &mut DbConnection,
    assessment_id: &str,
    round: &str,
    ods: &str,
    tree: &Scores,
) -> QueryResult<()> {
    let rows = encode(assessment_id, round, ods, tree);
    diesel::delete(scores::table.filter(scores::assessment_id.eq(assessment_id))).execute(conn)?;
    // The shared connection cannot batch-insert; each backend's own connection can. Chunks stay
    // well below either backend's limit on bound parameters (10 per row).
    for chunk in rows.chunks(1000) {
        let insert = diesel::insert_into(scores::table).values(chunk);
        match conn {
            DbConnection::Postgresql(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// The stored score tree of an assessment (pillars and domains in key order); `None` when it has
/// none (it was never submitted).
pub fn scores_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Option<Scores>> {
    let rows = scores::table
        .filter(scores::assessment_id.eq(assessment_id))
        .order((scores::pillar.asc(), scores::domain.asc()))
        .select(ScoreRow::as_select())
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    decode(rows).map(Some)
}

/// The stored score trees of the submitted returns of a round, by ODS code; pillars and domains
/// in key order (as the database sorts them).
pub fn submitted_scores_of_round(
    conn: &mut DbConnection,
    round: &str,
) -> QueryResult<BTreeMap<String, Scores>> {
    trees(submitted_rows(conn, round, true)?, |r| &r.ods_code)
}

/// The stored score trees of one organisation's submitted returns, by round key; pillars and
/// domains in key order (as the database sorts them).
pub fn submitted_scores_of_org(
    conn: &mut DbConnection,
    ods: &str,
) -> QueryResult<BTreeMap<String, Scores>> {
    trees(submitted_rows_of_org(conn, ods)?, |r| &r.round_key)
}

/// The pillar scores of the submitted returns of a round, as the divergence engine takes them;
/// by ODS code, then pillar. Only the four columns the engine reads, from the pillar-rows index
/// alone (`scores_pillar_rows_idx`): at national scale this is 200,000 rows a round.
pub fn submitted_pillar_scores(
    conn: &mut DbConnection,
    round: &str,
) -> QueryResult<Vec<PillarObservation>> {
    let rows: Vec<(String, String, Option<f64>, f64)> = scores::table
        .inner_join(assessments::table)
        .filter(scores::round_key.eq(round))
        .filter(assessments::status.eq(AssessmentStatus::Submitted))
        // Literals, not bound parameters: only then can either planner prove the predicate of
        // the partial index and read pillar rows alone.
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "scores.scope <> 'domain' AND scores.scope = 'pillar'",
        ))
        .order((scores::ods_code.asc(), scores::pillar.asc()))
        .select((
            scores::ods_code,
            scores::pillar,
            scores::score,
            scores::coverage,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(ods, pillar, score, coverage)| PillarObservation {
            ods,
            round: round.to_owned(),
            pillar,
            score,
            coverage,
        })
        .collect())
}

/// Stored score rows (pillar and overall rows; domain rows too when `with_domains`) of the
/// submitted returns of a round.
fn submitted_rows(
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
        // A literal, not a bound parameter: only then can either planner prove the predicate of
        // the partial index `scores_pillar_rows_idx` and read pillar rows alone.
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "scores.scope <> 'domain'",
        ));
    }
    q.order((
        scores::ods_code.asc(),
        scores::pillar.asc(),
        scores::domain.asc(),
    ))
    .select(ScoreRow::as_select())
    .load(conn)
}

/// Stored score rows of the submitted returns of one organisation across rounds.
fn submitted_rows_of_org(conn: &mut DbConnection, ods: &str) -> QueryResult<Vec<ScoreRow>> {
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

/// One row per node: the overall row, then each pillar followed by its domains.
fn encode(assessment_id: &str, round: &str, ods: &str, tree: &Scores) -> Vec<ScoreRow> {
    let row = |scope: Scope,
               pillar: &str,
               domain: &str,
               score: Option<f64>,
               coverage: f64,
               answered: u32,
               applicable: u32| ScoreRow {
        assessment_id: assessment_id.to_owned(),
        round_key: round.to_owned(),
        ods_code: ods.to_owned(),
        scope: scope.as_str().to_owned(),
        pillar: pillar.to_owned(),
        domain: domain.to_owned(),
        score,
        coverage,
        answered: i32::try_from(answered).unwrap_or(i32::MAX),
        applicable: i32::try_from(applicable).unwrap_or(i32::MAX),
    };
    let mut rows = vec![row(
        Scope::Overall,
        NONE,
        NONE,
        tree.score,
        tree.coverage,
        tree.answered,
        tree.applicable,
    )];
    for p in &tree.pillars {
        rows.push(row(
            Scope::Pillar,
            &p.pillar,
            NONE,
            p.score,
            p.coverage,
            p.answered,
            p.applicable,
        ));
        for d in &p.domains {
            rows.push(row(
                Scope::Domain,
                &p.pillar,
                &d.domain,
                d.score,
                d.coverage,
                d.answered,
                d.applicable,
            ));
        }
    }
    rows
}

/// Groups rows by `key` (rows of one key are one assessment's) and rebuilds each tree.
fn trees(
    rows: Vec<ScoreRow>,
    key: impl Fn(&ScoreRow) -> &String,
) -> QueryResult<BTreeMap<String, Scores>> {
    let mut groups: BTreeMap<String, Vec<ScoreRow>> = BTreeMap::new();
    for r in rows {
        groups.entry(key(&r).clone()).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(k, rows)| Ok((k, decode(rows)?)))
        .collect()
}

/// Rebuilds one assessment's tree from its rows (any order); pillars and domains keep the order
/// of their rows. Rows that do not make one tree (no overall row, a domain without its pillar, an
/// unknown scope) are an error, never a partial tree.
fn decode(rows: Vec<ScoreRow>) -> QueryResult<Scores> {
    let mut overall = None;
    let mut pillars: Vec<PillarScore> = Vec::new();
    let mut domains = Vec::new();
    for r in rows {
        match (Scope::parse(&r.scope), r.pillar.as_str(), r.domain.as_str()) {
            (Some(Scope::Overall), NONE, NONE) if overall.is_none() => overall = Some(r),
            (Some(Scope::Pillar), p, NONE) if p != NONE => pillars.push(PillarScore {
                score: r.score,
                coverage: r.coverage,
                answered: count(r.answered)?,
                applicable: count(r.applicable)?,
                domains: Vec::new(),
                pillar: r.pillar,
            }),
            (Some(Scope::Domain), p, d) if p != NONE && d != NONE => domains.push(r),
            _ => return Err(corrupt(&r, "does not fit the score tree")),
        }
    }
    for r in domains {
        let Some(p) = pillars.iter_mut().find(|p| p.pillar == r.pillar) else {
            return Err(corrupt(&r, "has no pillar row"));
        };
        p.domains.push(DomainScore {
            score: r.score,
            coverage: r.coverage,
            answered: count(r.answered)?,
            applicable: count(r.applicable)?,
            pillar: r.pillar,
            domain: r.domain,
        });
    }
    let Some(o) = overall else {
        return Err(diesel::result::Error::DeserializationError(
            "stored scores without an overall row".into(),
        ));
    };
    Ok(Scores {
        score: o.score,
        coverage: o.coverage,
        answered: count(o.answered)?,
        applicable: count(o.applicable)?,
        pillars,
    })
}

fn count(n: i32) -> QueryResult<u32> {
    u32::try_from(n).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

fn corrupt(r: &ScoreRow, what: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(
        format!(
            "stored score row ({}, `{}`, `{}`, `{}`) {what}",
            r.assessment_id, r.scope, r.pillar, r.domain
        )
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{answers, choices, num, scored, text, yes};
    use crate::domain::organisation::OrgType;
    use crate::domain::scoring::score;

    fn tree() -> Scores {
        let given = answers([
            ("R-01", text("b")),
            ("R-04", num(35.0)),
            ("C-01", choices(&["x", "z"])),
            ("C-02", yes()),
        ]);
        score(&scored(), OrgType::Acute, &given)
    }

    fn rows() -> Vec<ScoreRow> {
        encode("a1", "2026-27", "RA7", &tree())
    }

    #[test]
    fn a_tree_becomes_one_row_per_node_and_comes_back_whole() {
        let rows = rows();
        let t = tree();
        assert_eq!(rows.len(), 1 + t.pillars.len() + t.domains().count());
        assert_eq!(decode(rows).unwrap(), t);
    }

    #[test]
    fn row_order_does_not_matter_beyond_the_order_of_pillars_and_domains() {
        let mut rows = rows();
        rows.reverse();
        let back = decode(rows).unwrap();
        assert_ne!(back, tree());
        assert_eq!(back.in_framework_order(&scored(), OrgType::Acute), tree());
    }

    #[test]
    fn rows_that_do_not_make_one_tree_are_an_error() {
        let broken: [fn(&mut Vec<ScoreRow>); 4] = [
            |rows| rows.retain(|r| r.scope != Scope::Overall.as_str()),
            |rows| rows.retain(|r| r.scope != Scope::Pillar.as_str()),
            |rows| rows[1].scope = "region".into(),
            |rows| rows[0].pillar = "readiness".into(),
        ];
        for (i, breaks) in broken.iter().enumerate() {
            let mut rows = rows();
            breaks(&mut rows);
            assert!(
                matches!(
                    decode(rows),
                    Err(diesel::result::Error::DeserializationError(_))
                ),
                "case {i}"
            );
        }
    }
}
