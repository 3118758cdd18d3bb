//! One organisation's divergence, ready to be read out in a meeting: every pillar and metric,
//! its merger lineage and where it sits in its peers' distribution.

use serde::Serialize;
use utoipa::ToSchema;

use super::{MethodBlock, method_block};
use crate::api::organisations::LineageLink;
use crate::db::DbConnection;
use crate::db::organisations::{self, NamedOrganisation};
use crate::domain::divergence::disclosure::{self, Audience, Distribution};
use crate::domain::divergence::{Analysis, DivergenceRow};
use crate::error::AppResult;
use crate::service::divergence::Loaded;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationSummary {
    pub ods_code: String,
    pub name: String,
    pub org_type: String,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub icb_code: Option<String>,
    pub icb_name: Option<String>,
}

/// The level scores of the reference group the pillar's row used (the peer group, or the national
/// type reference it fell back to). Analysts and admins get the (anonymous, sorted) values and
/// extremes; submitters get n and the quartiles only, and the quartiles only from five values
/// on, so a small group never gives away another organisation's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct PillarDistribution {
    pub pillar: String,
    pub n: usize,
    pub min: Option<f64>,
    pub q1: Option<f64>,
    pub median: Option<f64>,
    pub q3: Option<f64>,
    pub max: Option<f64>,
    pub values: Vec<f64>,
    /// This organisation's score.
    pub score: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationDivergence {
    pub round: String,
    pub previous_round: Option<String>,
    pub organisation: OrganisationSummary,
    pub predecessors: Vec<LineageLink>,
    pub method: MethodBlock,
    /// Every pillar, then `overall`.
    pub rows: Vec<DivergenceRow>,
    pub distributions: Vec<PillarDistribution>,
    /// Every flag of every row, once each.
    pub flags: Vec<String>,
}

impl From<Distribution> for PillarDistribution {
    fn from(d: Distribution) -> Self {
        Self {
            pillar: d.pillar,
            n: d.n,
            min: d.min,
            q1: d.q1,
            median: d.median,
            q3: d.q3,
            max: d.max,
            values: d.values,
            score: d.score,
        }
    }
}

pub fn organisation(
    conn: &mut DbConnection,
    loaded: &Loaded,
    analysis: &Analysis,
    named: NamedOrganisation,
    audience: Audience,
) -> AppResult<OrganisationDivergence> {
    let org = &named.row;
    let region_name = named.region_name.clone();
    let icb_name = named.icb_name.clone();
    let method = method_block(analysis);
    let own: Vec<&DivergenceRow> = analysis
        .rows
        .iter()
        .filter(|r| r.org_id.as_str() == org.ods_code)
        .collect();
    // Each row's distribution is that of the reference the row used (a peer group that fell
    // back is shown as the national type reference), as this reader may see it.
    let distributions = own
        .iter()
        .map(|row| {
            disclosure::distribution(&analysis.rows, row, &loaded.input.reference, audience).into()
        })
        .collect();
    let mut flags: Vec<&str> = own
        .iter()
        .flat_map(|r| r.flags.iter().map(|f| f.as_str()))
        .collect();
    flags.sort_unstable();
    flags.dedup();
    let flags = flags.into_iter().map(str::to_owned).collect();
    let predecessors = organisations::predecessors(conn, &org.ods_code)?
        .into_iter()
        .map(|(e, name)| LineageLink {
            ods_code: e.predecessor_code,
            name,
            merged_on: e.merged_on,
        })
        .collect();
    let rows: Vec<DivergenceRow> = own.into_iter().cloned().collect();
    Ok(OrganisationDivergence {
        round: loaded.chain.focal().0.key.clone(),
        previous_round: loaded.input.previous_round.clone(),
        organisation: OrganisationSummary {
            region_name,
            icb_name,
            ods_code: named.row.ods_code,
            name: named.row.name,
            org_type: named.row.org_type,
            region_code: named.row.region_code,
            icb_code: named.row.icb_code,
        },
        predecessors,
        method,
        rows,
        distributions,
        flags,
    })
}
