//! The organisation register. Here: the wire types, the route table, the lookup of one
//! organisation with its lineage, and the `type`/`region` filter checks other resources share.
//! Listing and reading are in `read`, admin create and update in `write`.

mod read;
mod write;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::not_found;
use crate::db::DbConnection;
use crate::db::organisations::{self as orgs, OrganisationRow};
use crate::domain::organisation::{OrgType, region_name};
use crate::error::{AppError, AppResult};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(read::list)
        .service(read::get_one)
        .service(write::create)
        .service(write::update);
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
    #[param(rename = "type", value_type = Option<OrgType>)]
    pub org_type: Option<String>,
    /// NHS England region code, e.g. `Y62`.
    #[param(value_type = Option<RegionCode>)]
    pub region: Option<String>,
    /// ICB ODS code, e.g. `QOP`.
    pub icb: Option<String>,
    /// Name or ODS code contains this (case-insensitive).
    pub q: Option<String>,
    /// `true` (default): open today; `false`: closed.
    pub active: Option<bool>,
}

/// An NHS England region code, as the `region` filters and `region_code` take it (documentation of
/// the values [`parse_region_filter`] and the register accept: `domain::organisation::REGIONS`).
#[derive(Debug, Clone, Copy, ToSchema)]
pub enum RegionCode {
    Y56,
    Y58,
    Y59,
    Y60,
    Y61,
    Y62,
    Y63,
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

/// One organisation with its predecessors and successor (read, and the answer to writes).
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
    #[schema(value_type = OrgType)]
    pub org_type: String,
    /// Region code (Y56, Y58–Y63); null for national organisations.
    #[schema(value_type = Option<RegionCode>)]
    pub region_code: Option<String>,
    /// The ODS code of the organisation's ICB (a registered organisation of type `icb`, else 422).
    #[schema(pattern = "^[A-Z0-9]{3,6}$")]
    pub icb_code: Option<String>,
    /// A date in the years 1900–2100.
    pub opened_on: Option<NaiveDate>,
    /// A date in the years 1900–2100, not before `opened_on` (422 otherwise).
    pub closed_on: Option<NaiveDate>,
    /// When the organisation closed by merging into another: that organisation's ODS code (a
    /// registered organisation, else 422).
    #[schema(pattern = "^[A-Z0-9]{3,6}$")]
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
    #[schema(value_type = OrgType)]
    pub org_type: String,
    /// Region code (Y56, Y58–Y63); null for national organisations.
    #[schema(value_type = Option<RegionCode>)]
    pub region_code: Option<String>,
    /// The ODS code of the organisation's ICB (a registered organisation of type `icb`, else 422).
    #[schema(pattern = "^[A-Z0-9]{3,6}$")]
    pub icb_code: Option<String>,
    /// A date in the years 1900–2100.
    pub opened_on: Option<NaiveDate>,
    /// A date in the years 1900–2100, not before `opened_on` (422 otherwise).
    pub closed_on: Option<NaiveDate>,
    /// When the organisation closed by merging into another: that organisation's ODS code (a
    /// registered organisation, else 422).
    #[schema(pattern = "^[A-Z0-9]{3,6}$")]
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
