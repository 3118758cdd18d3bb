//! Operations: liveness, readiness (the database answers) and Prometheus metrics.

use actix_web::{HttpResponse, get, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::problems::ServiceUnavailable;
use crate::error::AppResult;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(live).service(ready).service(metrics);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    pub status: String,
    /// `sqlite` or `postgresql` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// The process is up.
#[utoipa::path(operation_id = "getLiveness", tag = "operations", responses((status = 200, description = "The process is up", body = Health)))]
#[get("/health/live")]
async fn live() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
        database: None,
    })
}

/// The service can reach its database (503 when it cannot; it recovers by itself).
#[utoipa::path(operation_id = "getReadiness", tag = "operations", responses(
    (status = 200, description = "The service reaches its database and can take requests", body = Health),
    (status = 503, response = ServiceUnavailable),
))]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> AppResult<web::Json<Health>> {
    let database = if state.config.is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    super::with_conn(&state, |conn| {
        conn.batch_execute("SELECT 1").map_err(|e| {
            // The cause goes to the log only: it can name hosts, users or files.
            tracing::warn!(error = %e, "readiness check failed");
            crate::error::AppError::Unavailable("the database check failed".into())
        })
    })
    .await?;
    Ok(web::Json(Health {
        status: "ok".into(),
        database: Some(database.into()),
    }))
}

/// Request counts and latency by route and status, in Prometheus text format.
#[utoipa::path(operation_id = "getMetrics", tag = "operations", responses((status = 200, description = "Request counts and latencies in Prometheus text exposition format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
