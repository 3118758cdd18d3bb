//! HTTP resources: one module per resource, each holding its wire types (`ToSchema`) and its
//! handlers (`#[utoipa::path]`). Handlers read: extract → authorise → parse/validate → db/domain → respond.

pub mod assessments;
pub mod audit;
pub mod auth;
pub mod body;
pub mod clients;
pub mod divergence;
pub mod doc_patterns;
pub mod extractors;
pub mod fair_use;
pub mod fhir;
pub mod frameworks;
pub mod health;
pub mod organisations;
pub mod peer_groups;
pub mod problems;
pub mod reads;
pub mod rounds;
pub mod scores;
pub mod text;

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use crate::db::DbConnection;
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "NHS digital maturity assessment API"),
    modifiers(&BearerAuth),
    components(
        schemas(
            Problem,
            crate::domain::organisation::OrgType,
            organisations::RegionCode,
            Format,
            divergence::DivergenceFormat
        ),
        responses(
            problems::BadRequest,
            problems::Unauthorized,
            problems::Forbidden,
            problems::NotFound,
            problems::Conflict,
            problems::PreconditionFailed,
            problems::RequestTimeout,
            problems::PayloadTooLarge,
            problems::UriTooLong,
            problems::HeaderFieldsTooLarge,
            problems::UnsupportedMediaType,
            problems::Unprocessable,
            problems::UnsupportedMediaType,
            problems::TooManyRequests,
            problems::Unavailable,
        )
    ),
    tags(
        (name = "organisations", description = "The register of NHS organisations assessed, with merger lineage"),
        (name = "auth", description = "Bearer tokens for API clients (client credentials)"),
        (name = "clients", description = "API clients and their secrets (admin)"),
        (name = "frameworks", description = "Versioned questionnaires: pillars → domains → questions"),
        (name = "rounds", description = "Collection windows and completion"),
        (name = "assessments", description = "One organisation's return for one round"),
        (name = "scores", description = "Scores stored at submission"),
        (name = "peer-groups", description = "Named lists of organisations of one type, usable as the divergence reference (`reference=peer_group:{key}`)"),
        (name = "divergence", description = "Where an organisation's level or progress diverges from its peers (method divergence-v1)"),
        (name = "audit", description = "The append-only audit trail"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Registers every documented route.
pub fn configure(cfg: &mut ServiceConfig) {
    health::configure(cfg);
    cfg.service(
        utoipa_actix_web::scope("/api/v1")
            .configure(auth::configure)
            .configure(clients::configure)
            .configure(organisations::configure)
            .configure(frameworks::configure)
            .configure(rounds::configure)
            .configure(assessments::configure)
            .configure(scores::configure)
            .configure(audit::configure)
            .configure(peer_groups::configure)
            .configure(divergence::configure),
    );
    fhir::configure(cfg);
}

/// Runs blocking database work off the actix workers, on a pooled connection.
pub async fn with_conn<T, F>(state: &AppState, work: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        match work(&mut conn) {
            // An unexpected database error on a connection that no longer answers is the
            // database going away mid-request (whatever form the error took): 503, and the
            // pool drops the connection (see `ConnectionManager::has_broken`).
            Err(AppError::Internal(cause)) if !crate::db::answers(&mut conn) => {
                tracing::warn!(cause = %cause, "database connection lost during a request");
                Err(AppError::Unavailable(
                    "the database is not reachable; try again shortly".into(),
                ))
            }
            other => other,
        }
    })
    .await?
}

/// [`with_conn`] for an expensive computation (one that loads and analyses a whole round): first
/// a slot within the caller's share and the service's bound (`limits::HeavyWork`; 429 or 503
/// when there is none), so one caller cannot hold the pool. The slot moves into the blocking
/// task and is freed when the work ends, even if the client has gone away before.
/// `subject` is the caller's (`Principal::subject`).
pub async fn with_heavy_conn<T, F>(state: &AppState, subject: String, work: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let permit = state.heavy.acquire(&subject).await?;
    let pool = state.pool.clone();
    web::block(move || {
        let _permit = permit;
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await?
}

/// Pagination parameters shared by list endpoints.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// Page number, from 1 (to 1000000).
    #[validate(range(
        min = 1,
        max = 1_000_000,
        message = "page must be between 1 and 1000000"
    ))]
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 500.
    #[validate(range(min = 1, max = 500, message = "per_page must be between 1 and 500"))]
    #[param(minimum = 1, maximum = 500, default = 100)]
    pub per_page: Option<i64>,
    /// Items per page, 1 to 5000, as every list of the API takes it; wins over `per_page`.
    #[validate(range(min = 1, max = 5000, message = "limit must be between 1 and 5000"))]
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<i64>,
}

impl Pagination {
    pub fn resolve(&self) -> AppResult<(i64, i64)> {
        self.validate()?;
        Ok((
            self.page.unwrap_or(1),
            self.limit.or(self.per_page).unwrap_or(100),
        ))
    }
}

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Parses a JSON body shape with `validator`, turning failures into a 422.
pub fn validated<T: Validate>(body: T) -> AppResult<T> {
    body.validate()?;
    Ok(body)
}

/// The `format` query parameter of the endpoints that offer CSV (documentation of the values
/// [`wants_csv`] accepts).
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

/// Whether a `format` query parameter asks for CSV: `json` (or none) and `csv` are offered by the
/// endpoints that declare `format`; anything else is a 400 (content is chosen by this parameter,
/// not by `Accept`).
pub fn wants_csv(format: Option<&str>) -> AppResult<bool> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(AppError::BadRequest(format!(
            "format `{other}` is not offered here: use `json` or `csv`"
        ))),
    }
}

/// 404 for a missing record, named.
pub fn not_found(what: &str, key: &str) -> AppError {
    AppError::not_found(what, key)
}
