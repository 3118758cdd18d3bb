//! One organisation's divergence, ready to be read out in a meeting: every pillar and metric,
//! its merger lineage and where it sits in its peers' distribution.

use serde::Serialize;
use utoipa::ToSchema;

use super::load::Loaded;
use super::{DISCLOSURE_MIN_N, MethodBlock, method_block};
use crate::api::organisations::LineageLink;
use crate::db::DbConnection;
use crate::db::organisations::{self, NamedOrganisation};
use crate::domain::divergence::{Analysis, DivergenceRow, RefKind, Reference, quantile_type7};
use crate::domain::figures::zero_noise;
use crate::error::AppResult;

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

fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    (!sorted.is_empty()).then(|| quantile_type7(sorted, p))
}

fn label<T: Serialize>(t: &T) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn organisation(
    conn: &mut DbConnection,
    loaded: &Loaded,
    analysis: Analysis,
    named: NamedOrganisation,
    detailed: bool,
) -> AppResult<OrganisationDivergence> {
    let org = &named.row;
    let region_name = named.region_name.clone();
    let icb_name = named.icb_name.clone();
    let method = method_block(&analysis);
    let members: Option<&Vec<String>> = match &loaded.input.reference {
        Reference::PeerGroup {
            members, org_type, ..
        } if org_type.as_str() == org.org_type => Some(members),
        _ => None,
    };
    let mut distributions = Vec::new();
    let own: Vec<&DivergenceRow> = analysis
        .rows
        .iter()
        .filter(|r| r.org_id.as_str() == org.ods_code)
        .collect();
    for row in &own {
        // The reference the row actually used: a peer group that fell back to the national
        // type reference (too few members) is shown as that type reference.
        let group = members.filter(|_| row.reference.kind == RefKind::PeerGroup);
        let mut values: Vec<f64> = analysis
            .rows
            .iter()
            .filter(|r| {
                r.pillar.as_str() == row.pillar.as_str()
                    && r.org_type.as_str() == org.org_type
                    && r.level.valid
            })
            .filter(|r| {
                group.is_none_or(|m| {
                    m.iter().any(|x| x == r.org_id.as_str()) || r.org_id.as_str() == org.ods_code
                })
            })
            .filter_map(|r| r.level.score)
            .collect();
        values.sort_by(f64::total_cmp);
        let shown = detailed || values.len() >= DISCLOSURE_MIN_N;
        let q = |p: f64| quantile(&values, p).filter(|_| shown).map(zero_noise);
        distributions.push(PillarDistribution {
            pillar: row.pillar.as_str().to_owned(),
            n: values.len(),
            min: values.first().copied().filter(|_| detailed),
            q1: q(0.25),
            median: q(0.5),
            q3: q(0.75),
            max: values.last().copied().filter(|_| detailed),
            score: row.level.score,
            values: if detailed { values } else { Vec::new() },
        });
    }
    let mut flags: Vec<String> = own.iter().flat_map(|r| r.flags.iter().map(label)).collect();
    flags.sort();
    flags.dedup();
    let predecessors = organisations::predecessors(conn, &org.ods_code)?
        .into_iter()
        .map(|(e, name)| LineageLink {
            ods_code: e.predecessor_code,
            name,
            merged_on: e.merged_on,
        })
        .collect();
    let rows: Vec<DivergenceRow> = analysis
        .rows
        .into_iter()
        .filter(|r| r.org_id.as_str() == org.ods_code)
        .collect();
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
