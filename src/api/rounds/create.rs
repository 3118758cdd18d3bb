//! Creating a round on a published framework (admin); it starts `planned`.

use actix_web::{HttpResponse, post, web};

use super::{NewRound, Round};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, PayloadTooLarge, RequestTimeout, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::api::{validated, with_conn};
use crate::auth::Principal;
use crate::db::audit::{self, Actor, NewAuditEvent};
use crate::db::rounds::{self as store, RoundRow};
use crate::db::{DbConnection, frameworks, now};
use crate::domain::lifecycle::RoundStatus;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

/// Create a round on a published framework (admin); it starts `planned`.
#[utoipa::path(operation_id = "createRound", tag = "rounds", request_body = NewRound, security(("bearer" = [])), responses(
    (status = 201, description = "The round as created, `planned`", body = Round),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 409, response = Conflict),
    (status = 408, response = RequestTimeout),
    (status = 413, response = PayloadTooLarge),
    (status = 415, response = UnsupportedMediaType),
    (status = 422, response = Unprocessable),
))]
#[post("/rounds")]
pub(super) async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let input: NewRound = validated(body.parse()?)?;
    let row = with_conn(&state, move |c| create_round(c, &who.actor(), &input)).await?;
    Ok(HttpResponse::Created().json(Round::from(row)))
}

/// Creates a round after checking its framework and dates, with its audit event.
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
                serde_json::to_value(input).map_err(AppError::internal)?,
            ),
        )?;
        Ok(row)
    })
}
