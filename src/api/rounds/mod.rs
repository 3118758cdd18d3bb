//! Rounds: collection windows on a published framework (planned → open → closed → published).
//! Here: the wire types, the route table and the lookups other resources share (a round, its
//! framework). Reading is in `read`, creation in `create`, status moves in `transition`, the
//! completion view in `completion`.

mod completion;
mod create;
mod read;
mod transition;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::not_found;
use crate::db::DbConnection;
use crate::db::rounds::{self as store, RoundRow};
use crate::domain::dates;
use crate::domain::lifecycle::RoundStatus;
use crate::error::AppResult;

pub use completion::{Completion, CompletionEntry, StatusCounts, completion_of};
pub use create::create_round;
pub use transition::transition;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(read::list)
        .service(read::get_one)
        .service(create::create)
        .service(transition::open)
        .service(transition::close)
        .service(transition::publish)
        .service(completion::completion);
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Round {
    #[schema(example = "2025-26")]
    pub key: String,
    pub title: String,
    /// The published framework the round collects.
    pub framework: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// `planned`, `open`, `closed` or `published`.
    pub status: RoundStatus,
    /// Synthetic (demonstration) data, not a real collection.
    pub synthetic: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<RoundRow> for Round {
    fn from(r: RoundRow) -> Self {
        Self {
            key: r.key,
            title: r.title,
            framework: r.framework_key,
            opens_at: r.opens_at.and_utc(),
            closes_at: r.closes_at.and_utc(),
            status: r.status,
            synthetic: r.synthetic,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

fn valid_round_key(key: &str) -> Result<(), validator::ValidationError> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("key").with_message(
            "a round key is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit".into(),
        ))
    }
}

fn within_timestamp_range(t: &DateTime<Utc>) -> Result<(), validator::ValidationError> {
    if dates::timestamp_in_range(t) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("range")
            .with_message(dates::timestamp_range_message().into()))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRound {
    #[validate(custom(function = valid_round_key))]
    #[schema(example = "2025-26", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub key: String,
    #[validate(length(min = 1, max = 200, message = "title must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Key of a published framework (422 otherwise).
    #[schema(pattern = "^[a-z0-9._-]{1,64}$", example = "wgll-2025")]
    pub framework: String,
    /// When the round opens: from 2000-01-01T00:00:00Z up to (not including)
    /// 2101-01-01T00:00:00Z, i.e. in the years 2000–2100.
    #[validate(custom(function = within_timestamp_range))]
    pub opens_at: DateTime<Utc>,
    /// When the round closes, after `opens_at` (422 otherwise): from 2000-01-01T00:00:00Z up to (not including)
    /// 2101-01-01T00:00:00Z, i.e. in the years 2000–2100.
    #[validate(custom(function = within_timestamp_range))]
    pub closes_at: DateTime<Utc>,
    #[serde(default)]
    pub synthetic: bool,
}

pub fn find_round(conn: &mut DbConnection, key: &str) -> AppResult<RoundRow> {
    store::find(conn, key)?.ok_or_else(|| not_found("round", key))
}

/// The round's status, re-read inside a write transaction with the round held (see
/// [`store::locked_status`]): every write whose rule depends on the round's status checks the
/// rule against this, in the transaction that writes, so that no status change can slip between
/// the check and the write.
pub fn locked_round_status(
    conn: &mut DbConnection,
    key: &str,
    lock: store::RoundLock,
) -> AppResult<RoundStatus> {
    store::locked_status(conn, key, lock)?.ok_or_else(|| not_found("round", key))
}

/// The framework of a round, parsed once per process (a round's framework is published).
pub use crate::service::divergence::load::round_framework as cached_round_framework;
