//! Frameworks (versioned questionnaires) stored as JSON documents with their status.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::frameworks;
use crate::domain::framework::Framework;

pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = frameworks, treat_none_as_null = true)]
pub struct FrameworkRow {
    pub key: String,
    pub title: String,
    pub version: String,
    pub method: String,
    pub status: String,
    pub document: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
}

impl FrameworkRow {
    pub fn new(framework: &Framework, document: String, at: NaiveDateTime) -> Self {
        Self {
            key: framework.key.clone(),
            title: framework.title.clone(),
            version: framework.version.clone(),
            method: if framework.is_staged() {
                "staged"
            } else {
                "scored"
            }
            .into(),
            status: DRAFT.into(),
            document,
            created_at: at,
            updated_at: at,
            published_at: None,
        }
    }

    pub fn is_published(&self) -> bool {
        self.status == PUBLISHED
    }

    /// The stored document; it was validated before it was saved.
    pub fn framework(&self) -> Result<Framework, serde_json::Error> {
        serde_json::from_str(&self.document)
    }
}

pub fn find(conn: &mut DbConnection, key: &str) -> QueryResult<Option<FrameworkRow>> {
    frameworks::table
        .find(key)
        .select(FrameworkRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<FrameworkRow>> {
    frameworks::table
        .order(frameworks::key.asc())
        .select(FrameworkRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConnection, row: &FrameworkRow) -> QueryResult<()> {
    diesel::insert_into(frameworks::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Replaces a draft; returns 0 when the framework is no longer a draft.
pub fn update_draft(conn: &mut DbConnection, row: &FrameworkRow) -> QueryResult<usize> {
    diesel::update(
        frameworks::table
            .find(&row.key)
            .filter(frameworks::status.eq(DRAFT)),
    )
    .set(row)
    .execute(conn)
}

/// Publishes a draft; returns 0 when it was not a draft.
pub fn publish(conn: &mut DbConnection, key: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        frameworks::table
            .find(key)
            .filter(frameworks::status.eq(DRAFT)),
    )
    .set((
        frameworks::status.eq(PUBLISHED),
        frameworks::published_at.eq(Some(at)),
        frameworks::updated_at.eq(at),
    ))
    .execute(conn)
}
