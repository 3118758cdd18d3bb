//! Reading the register: the filtered, paginated list and one organisation with its lineage.

use actix_web::{get, web};

use super::{
    Organisation, OrganisationDetail, OrganisationQuery, detail, parse_region_filter,
    parse_type_filter,
};
use crate::api::problems::{BadRequest, NotFound, Unauthorized, Unprocessable};
use crate::api::{Page, Pagination, with_conn};
use crate::auth::Principal;
use crate::db::organisations::{self as orgs, OrganisationFilter};
use crate::error::AppResult;
use crate::state::AppState;

/// List organisations, ordered by ODS code.
#[utoipa::path(
    operation_id = "listOrganisations",
    tag = "organisations",
    params(OrganisationQuery, Pagination),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of organisations matching the filters", body = Page<Organisation>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable),
    )
)]
#[get("/organisations")]
pub(super) async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    query: web::Query<OrganisationQuery>,
    pagination: web::Query<Pagination>,
) -> AppResult<web::Json<Page<Organisation>>> {
    let query = query.into_inner();
    let (page, per_page) = pagination.resolve()?;
    let filter = OrganisationFilter {
        org_type: parse_type_filter(query.org_type)?,
        region: parse_region_filter(query.region)?,
        icb: query.icb,
        q: query.q.filter(|q| !q.trim().is_empty()),
        active: Some(query.active.unwrap_or(true)),
        today: Some(chrono::Utc::now().date_naive()),
    };
    let (rows, total) =
        with_conn(&state, move |c| Ok(orgs::list(c, &filter, page, per_page)?)).await?;
    Ok(web::Json(Page {
        items: rows.into_iter().map(Organisation::from).collect(),
        total,
        page,
        per_page,
    }))
}

/// One organisation with its predecessors and successor.
#[utoipa::path(
    operation_id = "getOrganisation",
    tag = "organisations",
    params(("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation with its predecessors and successor", body = OrganisationDetail),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
#[get("/organisations/{ods}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    _who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<OrganisationDetail>> {
    let ods = path.into_inner();
    let detail = with_conn(&state, move |c| detail(c, &ods)).await?;
    Ok(web::Json(detail))
}
