//! The organisation register: list with filters, one organisation with its lineage, admin create
//! and update.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::{Page, Pagination, not_found, validated, with_conn};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
};
use crate::auth::Principal;
use crate::db::audit::{self, NewAuditEvent};
use crate::db::organisations::{self as orgs, OrganisationFilter, OrganisationRow, PredecessorRow};
use crate::db::{DbConnection, now};
use crate::domain::organisation::{OdsCode, OrgType, region_name};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update);
}

/// An organisation of the register.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    #[schema(example = "RA7")]
    pub ods_code: String,
    pub name: String,
    #[schema(example = "acute")]
    pub org_type: String,
    #[schema(example = "Y58")]
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    #[schema(example = "QUY")]
    pub icb_code: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    /// Open today.
    pub active: bool,
    /// The organisation this one merged into, if it closed by merger.
    pub successor_code: Option<String>,
}

impl From<OrganisationRow> for Organisation {
    fn from(r: OrganisationRow) -> Self {
        let active = r.is_open_on(chrono::Utc::now().date_naive());
        Self {
            region_name: r
                .region_code
                .as_deref()
                .and_then(region_name)
                .map(str::to_owned),
            ods_code: r.ods_code,
            name: r.name,
            org_type: r.org_type,
            region_code: r.region_code,
            icb_code: r.icb_code,
            opened_on: r.opened_on,
            closed_on: r.closed_on,
            active,
            successor_code: r.successor_code,
        }
    }
}

/// A merger link.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LineageLink {
    pub ods_code: String,
    pub name: String,
    pub merged_on: Option<NaiveDate>,
}

/// One organisation with its merger lineage.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganisationDetail {
    #[serde(flatten)]
    pub organisation: Organisation,
    /// Organisations that merged into this one.
    pub predecessors: Vec<LineageLink>,
    /// The organisation this one merged into.
    pub successor: Option<LineageLink>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationQuery {
    /// Organisation type (care setting), e.g. `acute`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub org_type: Option<String>,
    /// NHS England region code, e.g. `Y62`.
    pub region: Option<String>,
    /// ICB ODS code, e.g. `QOP`.
    pub icb: Option<String>,
    /// Name or ODS code contains this (case-insensitive).
    pub q: Option<String>,
    /// `true` (default): open today; `false`: closed.
    pub active: Option<bool>,
}

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
async fn list(
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

/// Checks an optional `type` filter names a known organisation type.
pub fn parse_type_filter(raw: Option<String>) -> AppResult<Option<String>> {
    match raw {
        Some(t) if OrgType::parse(&t).is_none() => Err(AppError::field(
            "type",
            format!("unknown organisation type `{t}`"),
        )),
        other => Ok(other),
    }
}

/// Checks an optional `region` filter is one of the seven region codes.
pub fn parse_region_filter(raw: Option<String>) -> AppResult<Option<String>> {
    match raw {
        Some(r) if region_name(&r).is_none() => Err(AppError::field(
            "region",
            format!("unknown region code `{r}` (Y56, Y58–Y63)"),
        )),
        other => Ok(other),
    }
}

/// One organisation with its predecessors and successor.
#[utoipa::path(
    operation_id = "getOrganisation",
    tag = "organisations",
    params(("ods" = String, Path, description = "ODS code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation with its predecessors and successor", body = OrganisationDetail),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
#[get("/organisations/{ods}")]
async fn get_one(
    state: web::Data<AppState>,
    _who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<OrganisationDetail>> {
    let ods = path.into_inner();
    let detail = with_conn(&state, move |c| detail(c, &ods)).await?;
    Ok(web::Json(detail))
}

fn detail(conn: &mut DbConnection, ods: &str) -> AppResult<OrganisationDetail> {
    let row = orgs::find(conn, ods)?.ok_or_else(|| not_found("organisation", ods))?;
    let predecessors = orgs::predecessors(conn, ods)?
        .into_iter()
        .map(|(edge, name)| LineageLink {
            ods_code: edge.predecessor_code,
            name,
            merged_on: edge.merged_on,
        })
        .collect();
    let successor = match &row.successor_code {
        Some(code) => match orgs::find(conn, code)? {
            Some(s) => Some(LineageLink {
                merged_on: orgs::predecessors(conn, code)?
                    .into_iter()
                    .find(|(e, _)| e.predecessor_code == ods)
                    .and_then(|(e, _)| e.merged_on),
                ods_code: s.ods_code,
                name: s.name,
            }),
            None => None,
        },
        None => None,
    };
    Ok(OrganisationDetail {
        organisation: row.into(),
        predecessors,
        successor,
    })
}

/// The editable fields of an organisation.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationFields {
    #[validate(length(min = 1, max = 200, message = "name must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// One of acute, acute_specialist, mental_health, community, ambulance, online, icb,
    /// gp_practice, social_care.
    pub org_type: String,
    /// Region code (Y56, Y58–Y63); null for national organisations.
    pub region_code: Option<String>,
    /// The ODS code of the organisation's ICB (an organisation of type `icb`).
    pub icb_code: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    /// When the organisation closed by merging into another.
    pub successor_code: Option<String>,
}

/// A new organisation: its ODS code and the editable fields (spelled out rather than flattened,
/// so that an unknown field is refused).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// 3 to 6 upper-case letters or digits.
    #[schema(example = "RXX1", pattern = "^[A-Z0-9]{3,6}$")]
    pub ods_code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// One of acute, acute_specialist, mental_health, community, ambulance, online, icb,
    /// gp_practice, social_care.
    pub org_type: String,
    /// Region code (Y56, Y58–Y63); null for national organisations.
    pub region_code: Option<String>,
    /// The ODS code of the organisation's ICB (an organisation of type `icb`).
    pub icb_code: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    /// When the organisation closed by merging into another.
    pub successor_code: Option<String>,
}

impl NewOrganisation {
    /// The ODS code as sent, and the editable fields.
    fn into_parts(self) -> (String, OrganisationFields) {
        let fields = OrganisationFields {
            name: self.name,
            org_type: self.org_type,
            region_code: self.region_code,
            icb_code: self.icb_code,
            opened_on: self.opened_on,
            closed_on: self.closed_on,
            successor_code: self.successor_code,
        };
        (self.ods_code, fields)
    }
}

/// Register an organisation (admin).
#[utoipa::path(
    operation_id = "createOrganisation",
    tag = "organisations",
    request_body = NewOrganisation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The organisation as registered", body = OrganisationDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/organisations")]
async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let input: NewOrganisation = body.parse()?;
    let (ods_code, fields) = input.clone().into_parts();
    let fields = validated(fields)?;
    let ods = OdsCode::parse(&ods_code).map_err(|m| AppError::field("ods_code", m))?;
    let detail = with_conn(&state, move |c| {
        crate::db::write_transaction(c, |c| {
            if orgs::exists(c, ods.as_str())? {
                return Err(AppError::Conflict(format!(
                    "organisation `{ods}` already exists"
                )));
            }
            let row = checked_row(c, ods.as_str(), &fields, None)?;
            orgs::insert(c, &row)?;
            link_successor(c, &row)?;
            audit::record(
                c,
                &NewAuditEvent::new(
                    &who.actor(),
                    "create",
                    "organisation",
                    ods.as_str(),
                    serde_json::json!({ "after": input }),
                ),
            )?;
            detail(c, ods.as_str())
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(detail))
}

/// Update an organisation (admin).
#[utoipa::path(
    operation_id = "updateOrganisation",
    tag = "organisations",
    params(("ods" = String, Path, description = "ODS code")),
    request_body = OrganisationFields,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation as updated", body = OrganisationDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Unprocessable),
    )
)]
#[put("/organisations/{ods}")]
async fn update(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    body: JsonBody,
) -> AppResult<web::Json<OrganisationDetail>> {
    who.require_admin()?;
    let ods = path.into_inner();
    let fields: OrganisationFields = validated(body.parse()?)?;
    let detail = with_conn(&state, move |c| {
        crate::db::write_transaction(c, |c| {
            let before = orgs::find(c, &ods)?.ok_or_else(|| not_found("organisation", &ods))?;
            let row = checked_row(c, &ods, &fields, Some(&before))?;
            orgs::update(c, &row)?;
            link_successor(c, &row)?;
            let before_out = Organisation::from(before);
            audit::record(
                c,
                &NewAuditEvent::new(
                    &who.actor(),
                    "update",
                    "organisation",
                    &ods,
                    serde_json::json!({ "before": before_out, "after": fields }),
                ),
            )?;
            detail(c, &ods)
        })
    })
    .await?;
    Ok(web::Json(detail))
}

/// Checks the fields against the register (type, region, ICB, successor) and builds the row.
fn checked_row(
    conn: &mut DbConnection,
    ods: &str,
    f: &OrganisationFields,
    before: Option<&OrganisationRow>,
) -> AppResult<OrganisationRow> {
    let mut errors = Vec::new();
    let org_type = OrgType::parse(&f.org_type);
    if org_type.is_none() {
        errors.push(FieldError::new(
            "org_type",
            format!("unknown organisation type `{}`", f.org_type),
        ));
    }
    if let Some(r) = &f.region_code
        && region_name(r).is_none()
    {
        errors.push(FieldError::new(
            "region_code",
            format!("unknown region code `{r}`"),
        ));
    }
    if let Some(icb) = &f.icb_code {
        if org_type == Some(OrgType::Icb) {
            errors.push(FieldError::new(
                "icb_code",
                "an ICB does not belong to an ICB",
            ));
        } else {
            match orgs::find(conn, icb)? {
                Some(i) if i.org_type == OrgType::Icb.as_str() => {}
                _ => errors.push(FieldError::new("icb_code", format!("unknown ICB `{icb}`"))),
            }
        }
    }
    if let Some(s) = &f.successor_code {
        if s == ods {
            errors.push(FieldError::new(
                "successor_code",
                "an organisation cannot succeed itself",
            ));
        } else if !orgs::exists(conn, s)? {
            errors.push(FieldError::new(
                "successor_code",
                format!("unknown organisation `{s}`"),
            ));
        }
        if f.closed_on.is_none() {
            errors.push(FieldError::new(
                "closed_on",
                "a successor needs a close date",
            ));
        }
    }
    if let (Some(o), Some(c)) = (f.opened_on, f.closed_on)
        && c < o
    {
        errors.push(FieldError::new("closed_on", "closes before it opens"));
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable(
            "the organisation is not valid",
            errors,
        ));
    }
    let t = now();
    Ok(OrganisationRow {
        ods_code: ods.to_owned(),
        name: f.name.trim().to_owned(),
        org_type: f.org_type.clone(),
        region_code: f.region_code.clone(),
        icb_code: f.icb_code.clone(),
        opened_on: f.opened_on,
        closed_on: f.closed_on,
        successor_code: f.successor_code.clone(),
        created_at: before.map_or(t, |b| b.created_at),
        updated_at: t,
    })
}

/// Keeps the lineage table in step with `successor_code`.
fn link_successor(conn: &mut DbConnection, row: &OrganisationRow) -> AppResult<()> {
    orgs::unlink_other_successors(conn, &row.ods_code, row.successor_code.as_deref())?;
    if let Some(s) = &row.successor_code {
        orgs::link_predecessor(
            conn,
            &PredecessorRow {
                successor_code: s.clone(),
                predecessor_code: row.ods_code.clone(),
                merged_on: row.closed_on.and_then(|d| d.succ_opt()),
            },
        )?;
    }
    Ok(())
}
