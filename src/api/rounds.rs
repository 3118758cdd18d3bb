//! Rounds: collection windows on a published framework (planned → open → closed → published),
//! and the completion view of who has and has not submitted.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::{not_found, validated, with_conn};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
};
use crate::auth::Principal;
use crate::db::audit::{self, Actor, NewAuditEvent};
use crate::db::frameworks::FrameworkCache;
use crate::db::rounds::{self as store, RoundRow};
use crate::db::{DbConnection, assessments, frameworks, now, organisations};
use crate::domain::framework::Framework;
use crate::domain::lifecycle::{AssessmentStatus, LifecycleError, RoundStatus, RoundTransition};
use crate::domain::organisation::OrgType;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(open)
        .service(close)
        .service(publish)
        .service(completion);
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

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRound {
    #[validate(custom(function = valid_round_key))]
    #[schema(example = "2025-26", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub key: String,
    #[validate(length(min = 1, max = 200, message = "title must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Key of a published framework.
    pub framework: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    #[serde(default)]
    pub synthetic: bool,
}

/// Rounds, oldest window first.
#[utoipa::path(operation_id = "listRounds", tag = "rounds", security(("bearer" = [])), responses(
    (status = 200, description = "Every round, oldest window first", body = Vec<Round>),
    (status = 401, response = Unauthorized),
))]
#[get("/rounds")]
async fn list(state: web::Data<AppState>, _who: Principal) -> AppResult<web::Json<Vec<Round>>> {
    let rows = with_conn(&state, |c| Ok(store::list(c)?)).await?;
    Ok(web::Json(rows.into_iter().map(Round::from).collect()))
}

/// One round.
#[utoipa::path(operation_id = "getRound", tag = "rounds", params(("key" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "The round", body = Round),
    (status = 401, response = Unauthorized),
    (status = 404, response = NotFound),
))]
#[get("/rounds/{key}")]
async fn get_one(
    state: web::Data<AppState>,
    _who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Round>> {
    let key = path.into_inner();
    let row = with_conn(&state, move |c| find_round(c, &key)).await?;
    Ok(web::Json(row.into()))
}

pub fn find_round(conn: &mut DbConnection, key: &str) -> AppResult<RoundRow> {
    store::find(conn, key)?.ok_or_else(|| not_found("round", key))
}

/// The framework of a round (stored documents were validated when saved).
pub fn round_framework(conn: &mut DbConnection, round: &RoundRow) -> AppResult<Framework> {
    frameworks::find(conn, &round.framework_key)?
        .ok_or_else(|| AppError::internal("round without framework"))?
        .framework()
        .map_err(AppError::internal)
}

/// The framework of a round, parsed once per process (a round's framework is published).
pub fn cached_round_framework(
    conn: &mut DbConnection,
    cache: &FrameworkCache,
    round: &RoundRow,
) -> AppResult<Arc<Framework>> {
    cache
        .get(conn, &round.framework_key)?
        .ok_or_else(|| AppError::internal("round without framework"))
}

/// Create a round on a published framework (admin); it starts `planned`.
#[utoipa::path(operation_id = "createRound", tag = "rounds", request_body = NewRound, security(("bearer" = [])), responses(
    (status = 201, description = "The round as created, `planned`", body = Round),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 409, response = Conflict),
    (status = 413, response = PayloadTooLarge),
    (status = 422, response = Unprocessable),
))]
#[post("/rounds")]
async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let input: NewRound = validated(body.parse()?)?;
    let row = with_conn(&state, move |c| create_round(c, &who.actor(), &input)).await?;
    Ok(HttpResponse::Created().json(Round::from(row)))
}

/// Creates a round (the endpoint and the demo loader).
pub fn create_round(
    conn: &mut DbConnection,
    actor: &Actor,
    input: &NewRound,
) -> AppResult<RoundRow> {
    let mut errors = Vec::new();
    match frameworks::find(conn, &input.framework)? {
        Some(f) if f.is_published() => {}
        Some(_) => errors.push(FieldError::new(
            "framework",
            format!("framework `{}` is not published", input.framework),
        )),
        None => errors.push(FieldError::new(
            "framework",
            format!("unknown framework `{}`", input.framework),
        )),
    }
    if input.closes_at <= input.opens_at {
        errors.push(FieldError::new(
            "closes_at",
            "a round closes after it opens",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable("the round is not valid", errors));
    }
    let t = now();
    let row = RoundRow {
        key: input.key.clone(),
        title: input.title.trim().to_owned(),
        framework_key: input.framework.clone(),
        opens_at: input.opens_at.naive_utc(),
        closes_at: input.closes_at.naive_utc(),
        status: RoundStatus::Planned,
        synthetic: input.synthetic,
        created_at: t,
        updated_at: t,
    };
    crate::db::write_transaction(conn, |c| {
        if store::find(c, &row.key)?.is_some() {
            return Err(AppError::Conflict(format!(
                "round `{}` already exists",
                row.key
            )));
        }
        store::insert(c, &row)?;
        audit::record(
            c,
            &NewAuditEvent::new(
                actor,
                "create",
                "round",
                &row.key,
                serde_json::to_value(input).unwrap_or_default(),
            ),
        )?;
        Ok(row)
    })
}

/// Applies a status transition; illegal transitions are 409.
pub fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    key: &str,
    action: RoundTransition,
) -> AppResult<RoundRow> {
    let (from, to) = (action.from(), action.to());
    crate::db::write_transaction(conn, |c| {
        let round = find_round(c, key)?;
        let refused = |e| AppError::lifecycle(key, e);
        if action == RoundTransition::Publish {
            let reopened = assessments::count_in_status(c, key, AssessmentStatus::Reopened)?;
            round
                .status
                .publishable(u64::try_from(reopened).unwrap_or(0))
                .map_err(refused)?;
        }
        action.check(round.status).map_err(refused)?;
        // Compare-and-set: a concurrent move between the read and this write is refused too.
        if store::transition(c, key, from, to, now())? == 0 {
            return Err(refused(LifecycleError::WrongRoundStatus {
                current: round.status,
                from,
                to,
            }));
        }
        audit::record(
            c,
            &NewAuditEvent::new(
                actor,
                to.as_str(),
                "round",
                key,
                serde_json::json!({ "before": from, "after": to }),
            ),
        )?;
        find_round(c, key)
    })
}

async fn respond_transition(
    state: &AppState,
    who: Principal,
    key: String,
    action: RoundTransition,
) -> AppResult<web::Json<Round>> {
    who.require_admin()?;
    let row = with_conn(state, move |c| transition(c, &who.actor(), &key, action)).await?;
    Ok(web::Json(row.into()))
}

/// Open a planned round for returns (admin).
#[utoipa::path(operation_id = "openRound", tag = "rounds", params(("key" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "The round, now open for returns", body = Round),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
))]
#[post("/rounds/{key}/open")]
async fn open(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Round>> {
    respond_transition(&state, who, path.into_inner(), RoundTransition::Open).await
}

/// Close an open round (admin).
#[utoipa::path(operation_id = "closeRound", tag = "rounds", params(("key" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "The round, now closed", body = Round),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
))]
#[post("/rounds/{key}/close")]
async fn close(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Round>> {
    respond_transition(&state, who, path.into_inner(), RoundTransition::Close).await
}

/// Publish a closed round's results (admin).
#[utoipa::path(operation_id = "publishRound", tag = "rounds", params(("key" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "The round, its results now published", body = Round),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
))]
#[post("/rounds/{key}/publish")]
async fn publish(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Round>> {
    respond_transition(&state, who, path.into_inner(), RoundTransition::Publish).await
}

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
#[utoipa::path(operation_id = "getRoundCompletion", tag = "rounds", params(("key" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "Every in-scope organisation with its return's status, and counts", body = Completion),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
))]
#[get("/rounds/{key}/completion")]
async fn completion(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Completion>> {
    who.require_national_reader()?;
    let key = path.into_inner();
    let cache = state.frameworks.clone();
    let report = with_conn(&state, move |c| completion_of(c, &cache, &key)).await?;
    Ok(web::Json(report))
}

fn completion_of(
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
