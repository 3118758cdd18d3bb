//! Reading rounds: the list and one round.

use actix_web::{get, web};

use super::{Round, find_round};
use crate::api::problems::{NotFound, Unauthorized};
use crate::api::with_conn;
use crate::auth::Principal;
use crate::db::rounds as store;
use crate::error::AppResult;
use crate::state::AppState;

/// Rounds, oldest window first.
#[utoipa::path(operation_id = "listRounds", tag = "rounds", params(crate::api::reads::CursorQuery), security(("bearer" = [])), responses(
    (status = 200, description = "Every round, oldest window first (a page with `limit`)", body = Vec<Round>, headers(("Link" = String, description = "The next page (`rel=\"next\"`) when `limit` cut the list"))),
    (status = 422, response = crate::api::problems::Unprocessable),
    (status = 401, response = Unauthorized),
))]
#[get("/rounds")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    _who: Principal,
    page: web::Query<crate::api::reads::CursorQuery>,
) -> AppResult<actix_web::HttpResponse> {
    let rows = with_conn(&state, |c| Ok(store::list(c)?)).await?;
    let items: Vec<Round> = rows.into_iter().map(Round::from).collect();
    crate::api::reads::array_page(&req, &items, &page, |i| items[i].key.clone())
}

/// One round.
#[utoipa::path(operation_id = "getRound", tag = "rounds", params(("key" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The round", body = Round),
    (status = 401, response = Unauthorized),
    (status = 404, response = NotFound),
))]
#[get("/rounds/{key}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    _who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<Round>> {
    let key = path.into_inner();
    let row = with_conn(&state, move |c| find_round(c, &key)).await?;
    Ok(web::Json(row.into()))
}
