//! Frameworks (versioned questionnaires) stored as JSON documents with their status.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::frameworks;
use crate::domain::framework::Framework;
use crate::domain::lifecycle::FrameworkStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = frameworks, treat_none_as_null = true)]
pub struct FrameworkRow {
    pub key: String,
    pub title: String,
    pub version: String,
    pub method: String,
    pub status: FrameworkStatus,
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
            status: FrameworkStatus::Draft,
            document,
            created_at: at,
            updated_at: at,
            published_at: None,
        }
    }

    pub fn is_published(&self) -> bool {
        self.status == FrameworkStatus::Published
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
            .filter(frameworks::status.eq(FrameworkStatus::Draft)),
    )
    .set(row)
    .execute(conn)
}

/// Publishes a draft; returns 0 when it was not a draft.
pub fn publish(conn: &mut DbConnection, key: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        frameworks::table
            .find(key)
            .filter(frameworks::status.eq(FrameworkStatus::Draft)),
    )
    .set((
        frameworks::status.eq(FrameworkStatus::Published),
        frameworks::published_at.eq(Some(at)),
        frameworks::updated_at.eq(at),
    ))
    .execute(conn)
}

/// Parsed published frameworks by key, shared by all workers (held in the application state).
/// A published framework never changes, so its parsed form can be kept for the life of the
/// process; drafts change and are always read and parsed afresh. Cloning shares the cache.
#[derive(Debug, Clone, Default)]
pub struct FrameworkCache {
    published: Arc<RwLock<HashMap<String, Arc<Framework>>>>,
}

impl FrameworkCache {
    /// The parsed framework `key` (`None` when there is none). A stored document that does not
    /// parse is a deserialisation error: it was validated when saved, so this is a fault.
    pub fn get(&self, conn: &mut DbConnection, key: &str) -> QueryResult<Option<Arc<Framework>>> {
        if let Some(hit) = self.read().get(key) {
            return Ok(Some(Arc::clone(hit)));
        }
        let Some(row) = find(conn, key)? else {
            return Ok(None);
        };
        let framework = Arc::new(
            row.framework()
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
        );
        if row.is_published() {
            self.published
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(row.key, Arc::clone(&framework));
        }
        Ok(Some(framework))
    }

    /// How many frameworks are held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Framework>>> {
        // A panic while holding the lock cannot leave the map half-written (one insert), so a
        // poisoned lock is still a good cache.
        self.published
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{WGLL_FRAMEWORK, WGLL_FRAMEWORK_KEY};

    fn conn() -> DbConnection {
        let mut c = DbConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        crate::db::run_migrations(&mut c).unwrap();
        c
    }

    #[test]
    fn published_frameworks_are_parsed_once_drafts_every_time() {
        let mut c = conn();
        let framework: Framework = serde_json::from_str(WGLL_FRAMEWORK).unwrap();
        let t = crate::db::now();
        let mut published = FrameworkRow::new(&framework, WGLL_FRAMEWORK.into(), t);
        published.status = FrameworkStatus::Published;
        insert(&mut c, &published).unwrap();
        let mut draft = FrameworkRow::new(&framework, WGLL_FRAMEWORK.into(), t);
        draft.key = "draft-copy".into();
        insert(&mut c, &draft).unwrap();

        let cache = FrameworkCache::default();
        let shared = cache.clone();
        let first = cache.get(&mut c, WGLL_FRAMEWORK_KEY).unwrap().unwrap();
        let again = shared.get(&mut c, WGLL_FRAMEWORK_KEY).unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &again), "one parse, shared by clones");
        assert!(cache.get(&mut c, "draft-copy").unwrap().is_some());
        assert!(cache.get(&mut c, "absent").unwrap().is_none());
        assert_eq!(cache.len(), 1, "drafts are never cached");
    }

    #[test]
    fn a_stored_document_that_does_not_parse_is_an_error() {
        let mut c = conn();
        let framework: Framework = serde_json::from_str(WGLL_FRAMEWORK).unwrap();
        let mut row = FrameworkRow::new(&framework, "{".into(), crate::db::now());
        row.status = FrameworkStatus::Published;
        insert(&mut c, &row).unwrap();
        let cache = FrameworkCache::default();
        assert!(matches!(
            cache.get(&mut c, WGLL_FRAMEWORK_KEY),
            Err(diesel::result::Error::DeserializationError(_))
        ));
        assert!(cache.is_empty());
    }
}
