//! Writing the register (admin): create and update, with the checks against the register and
//! the lineage kept in step with `successor_code`.

use actix_web::{HttpResponse, post, put, web};

use super::{NewOrganisation, Organisation, OrganisationDetail, OrganisationFields, detail};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, RequestTimeout, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::api::{not_found, validated, with_conn};
use crate::auth::Principal;
use crate::db::audit::{self, NewAuditEvent};
use crate::db::organisations::{self as orgs, OrganisationRow, PredecessorRow};
use crate::db::{DbConnection, now};
use crate::domain::dates;
use crate::domain::organisation::{OdsCode, OrgType, region_name};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

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
        (status = 408, response = RequestTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/organisations")]
pub(super) async fn create(
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
    params(("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$")),
    request_body = OrganisationFields,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation as updated", body = OrganisationDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 408, response = RequestTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
#[put("/organisations/{ods}")]
pub(super) async fn update(
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
    for (name, d) in [("opened_on", &f.opened_on), ("closed_on", &f.closed_on)] {
        if let Some(d) = d
            && !dates::organisation_date_in_range(d)
        {
            errors.push(FieldError::new(
                name,
                dates::organisation_date_range_message(),
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
