//! The completion view of a round: who has and has not submitted, with counts by status, type
//! and region.

use std::collections::BTreeMap;

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{cached_round_framework, find_round};
use crate::api::problems::{Forbidden, NotFound, Unauthorized};
use crate::api::with_heavy_conn;
use crate::auth::Principal;
use crate::db::frameworks::FrameworkCache;
use crate::db::{DbConnection, assessments, organisations};
use crate::domain::lifecycle::AssessmentStatus;
use crate::domain::organisation::OrgType;
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct StatusCounts {
    pub total: usize,
    pub not_started: usize,
    pub draft: usize,
    pub submitted: usize,
    pub reopened: usize,
}

impl StatusCounts {
    fn add(&mut self, status: AssessmentStatus) {
        self.total += 1;
        match status {
            AssessmentStatus::NotStarted => self.not_started += 1,
            AssessmentStatus::Draft => self.draft += 1,
            AssessmentStatus::Submitted => self.submitted += 1,
            AssessmentStatus::Reopened => self.reopened += 1,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CompletionEntry {
    pub ods_code: String,
    pub name: String,
    pub org_type: String,
    pub region_code: Option<String>,
    pub icb_code: Option<String>,
    /// `not_started`, `draft`, `submitted` or `reopened`.
    pub status: AssessmentStatus,
    pub updated_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Completion {
    pub round: String,
    pub counts: StatusCounts,
    pub by_type: BTreeMap<String, StatusCounts>,
    /// Keyed by region code (`national` for organisations without a region).
    pub by_region: BTreeMap<String, StatusCounts>,
    pub organisations: Vec<CompletionEntry>,
}

/// Every in-scope organisation with its return's status, and counts by status, type and region
/// (analysts and admins). In scope: open on the round's `opens_at` and of a type some domain applies to.
#[utoipa::path(operation_id = "getRoundCompletion", tag = "rounds", params(("key" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")), security(("bearer" = [])), responses(
    (status = 200, description = "Every in-scope organisation with its return's status, and counts", body = Completion),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
))]
#[get("/rounds/{key}/completion")]
pub(super) async fn completion(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Completion>> {
    who.require_national_reader()?;
    let key = path.into_inner();
    let cache = state.frameworks.clone();
    let report = with_heavy_conn(&state, who.subject.clone(), move |c| {
        completion_of(c, &cache, &key)
    })
    .await?;
    Ok(web::Json(report))
}

pub fn completion_of(
    conn: &mut DbConnection,
    cache: &FrameworkCache,
    key: &str,
) -> AppResult<Completion> {
    let round = find_round(conn, key)?;
    let framework = cached_round_framework(conn, cache, &round)?;
    let day = round.opens_at.date();
    let returns: BTreeMap<String, _> = assessments::for_round(conn, key)?
        .into_iter()
        .map(|a| (a.ods_code.clone(), a))
        .collect();
    let mut report = Completion {
        round: key.to_owned(),
        counts: StatusCounts::default(),
        by_type: BTreeMap::new(),
        by_region: BTreeMap::new(),
        organisations: Vec::new(),
    };
    for org in organisations::all(conn)? {
        let in_scope = org.is_open_on(day)
            && OrgType::parse(&org.org_type).is_some_and(|t| framework.applies_to_type(t));
        if !in_scope {
            continue;
        }
        let a = returns.get(&org.ods_code);
        let status = AssessmentStatus::of(a.map(|a| a.status));
        report.counts.add(status);
        report
            .by_type
            .entry(org.org_type.clone())
            .or_default()
            .add(status);
        let region = org.region_code.clone().unwrap_or_else(|| "national".into());
        report.by_region.entry(region).or_default().add(status);
        report.organisations.push(CompletionEntry {
            ods_code: org.ods_code,
            name: org.name,
            org_type: org.org_type,
            region_code: org.region_code,
            icb_code: org.icb_code,
            status,
            updated_at: a.map(|a| a.updated_at.and_utc()),
            submitted_at: a.and_then(|a| a.submitted_at.map(|t| t.and_utc())),
        });
    }
    Ok(report)
}
