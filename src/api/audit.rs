//! The audit trail (admin): who did what to which record, when. Read-only; nothing edits or
//! deletes an event.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Page, Pagination, with_conn};
use crate::api::problems::{BadRequest, Forbidden, Unauthorized, Unprocessable};
use crate::auth::Principal;
use crate::db::audit::{self, AuditFilter};
use crate::domain::dates;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// The token subject that acted (`seed` and `cli` for the service itself).
    pub actor: String,
    /// The API client the token was issued to, when the token names one.
    pub client_id: Option<String>,
    /// The `x-request-id` of the request that made the change.
    pub request_id: Option<String>,
    pub action: String,
    /// `organisation`, `client`, `framework`, `round`, `assessment`, `peer_group`.
    pub entity: String,
    pub entity_key: String,
    /// What changed.
    pub summary: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entity type, e.g. `assessment`.
    pub entity: Option<String>,
    /// Entity key, e.g. `2025-26/RA7`.
    pub entity_key: Option<String>,
    pub actor: Option<String>,
    /// From this time (inclusive); from 2000-01-01T00:00:00Z up to (not including)
    /// 2101-01-01T00:00:00Z, i.e. in the years 2000–2100.
    pub since: Option<DateTime<Utc>>,
    /// Before this time; from 2000-01-01T00:00:00Z up to (not including) 2101-01-01T00:00:00Z,
    /// i.e. in the years 2000–2100.
    pub until: Option<DateTime<Utc>>,
}

/// Audit events, oldest first (admin).
#[utoipa::path(operation_id = "listAuditEvents", tag = "audit", params(AuditQuery, Pagination), security(("bearer" = [])), responses(
    (status = 200, description = "One page of audit events matching the filters, oldest first", body = Page<AuditEvent>),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 422, response = Unprocessable),
))]
#[get("/audit")]
async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: web::Query<AuditQuery>,
    pagination: web::Query<Pagination>,
) -> AppResult<web::Json<Page<AuditEvent>>> {
    who.require_admin()?;
    let (page, per_page) = pagination.resolve()?;
    let q = query.into_inner();
    for (name, t) in [("since", &q.since), ("until", &q.until)] {
        if let Some(t) = t
            && !dates::timestamp_in_range(t)
        {
            return Err(AppError::bad_field(
                name,
                format!("`{name}` {}", dates::timestamp_range_message()),
            ));
        }
    }
    let filter = AuditFilter {
        entity_type: q.entity,
        entity_key: q.entity_key,
        actor: q.actor,
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    let (rows, total) = with_conn(&state, move |c| {
        Ok(audit::list(c, &filter, page, per_page)?)
    })
    .await?;
    let items = rows
        .into_iter()
        .map(|e| {
            Ok(AuditEvent {
                summary: e.summary_json()?,
                id: e.id,
                occurred_at: e.occurred_at.and_utc(),
                actor: e.actor,
                client_id: e.client_id,
                request_id: e.request_id,
                action: e.action,
                entity: e.entity_type,
                entity_key: e.entity_key,
            })
        })
        .collect::<Result<_, diesel::result::Error>>()?;
    Ok(web::Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}
