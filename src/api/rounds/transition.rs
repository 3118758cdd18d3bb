//! Moving a round through its lifecycle: open, close and publish (admin); illegal moves are 409.

use actix_web::{post, web};

use super::{Round, find_round, locked_round_status};
use crate::api::problems::{Conflict, Forbidden, NotFound, Unauthorized};
use crate::api::with_conn;
use crate::auth::Principal;
use crate::db::audit::{self, Actor, NewAuditEvent};
use crate::db::rounds::{self as store, RoundLock, RoundRow};
use crate::db::{DbConnection, assessments, now};
use crate::domain::lifecycle::{AssessmentStatus, LifecycleError, RoundTransition};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Applies a status transition; illegal transitions are 409.
pub fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    key: &str,
    action: RoundTransition,
) -> AppResult<RoundRow> {
    let (from, to) = (action.from(), action.to());
    crate::db::write_transaction(conn, |c| {
        // Held until commit: saves, submissions and re-openings of this round's returns that
        // are in flight finish first, and none starts until this move has committed.
        locked_round_status(c, key, RoundLock::Update)?;
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
#[utoipa::path(operation_id = "openRound", tag = "rounds", params(("key" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The round, now open for returns", body = Round),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
))]
#[post("/rounds/{key}/open")]
pub(super) async fn open(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Round>> {
    respond_transition(&state, who, path.into_inner(), RoundTransition::Open).await
}

/// Close an open round (admin).
#[utoipa::path(operation_id = "closeRound", tag = "rounds", params(("key" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The round, now closed", body = Round),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
))]
#[post("/rounds/{key}/close")]
pub(super) async fn close(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Round>> {
    respond_transition(&state, who, path.into_inner(), RoundTransition::Close).await
}

/// Publish a closed round's results (admin).
#[utoipa::path(operation_id = "publishRound", tag = "rounds", params(("key" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The round, its results now published", body = Round),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
))]
#[post("/rounds/{key}/publish")]
pub(super) async fn publish(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Round>> {
    respond_transition(&state, who, path.into_inner(), RoundTransition::Publish).await
}
