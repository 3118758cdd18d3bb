//! Builds the engine's input from storage: the comparable chain of rounds up to the focal one,
//! stored pillar scores of submitted returns, the register with merger lineage, the reference
//! group, item-matched change when the framework changed, and the options.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::db::assessments::{self as store, AssessmentRow};
use crate::db::frameworks::FrameworkCache;
use crate::db::organisations::{self, NamedOrganisation};
use crate::db::rounds::RoundRow;
use crate::db::scores as stored_scores;
use crate::db::{DbConnection, peer_groups, rounds};
use crate::domain::answers::Answers;
use crate::domain::divergence::rounds::{comparable_chain, precedes};
use crate::domain::divergence::{
    EngineInput, ItemMatched, OptionError, Options, OptionsPatch, OrgInfo, PillarGrid,
    PillarObservation, Reference, grid, items,
};
use crate::domain::framework::Framework;
use crate::domain::organisation::OrgType;
use crate::error::{AppError, AppResult, FieldError};

/// The focal round, the comparable rounds before it (oldest first) and their frameworks (shared
/// from the cache of published frameworks).
pub type Chain = crate::domain::divergence::rounds::Chain<RoundRow, Arc<Framework>>;

/// The framework of a round, parsed once per process (a round's framework is published).
pub fn round_framework(
    conn: &mut DbConnection,
    cache: &FrameworkCache,
    round: &RoundRow,
) -> AppResult<Arc<Framework>> {
    cache
        .get(conn, &round.framework_key)?
        .ok_or_else(|| AppError::internal("round without framework"))
}

/// The chain of `focal`: every earlier round with its framework, kept when comparable
/// (`domain::divergence::rounds`); `previous` names the round change is measured against.
pub fn chain(
    conn: &mut DbConnection,
    cache: &FrameworkCache,
    focal: RoundRow,
    previous: Option<&str>,
) -> AppResult<Chain> {
    let focal_fw = round_framework(conn, cache, &focal)?;
    let mut earlier = Vec::new();
    for r in rounds::list(conn)? {
        if precedes((&r.key, r.opens_at), (&focal.key, focal.opens_at)) {
            let fw = round_framework(conn, cache, &r)?;
            earlier.push((r, fw));
        }
    }
    comparable_chain((focal, focal_fw), earlier, |r| r.key.as_str(), previous)
        .map_err(|e| AppError::field("previous_round", e.to_string()))
}

/// Organisations with their names and merger lineage, and the register rows by code.
pub fn organisations(
    conn: &mut DbConnection,
) -> AppResult<(Vec<OrgInfo>, BTreeMap<String, NamedOrganisation>)> {
    let mut preds: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in organisations::all_predecessors(conn)? {
        preds
            .entry(e.successor_code)
            .or_default()
            .push(e.predecessor_code);
    }
    let rows = organisations::all_named(conn)?;
    let mut infos = Vec::with_capacity(rows.len());
    for n in &rows {
        let o = &n.row;
        let org_type = OrgType::parse(&o.org_type).ok_or_else(|| {
            AppError::internal(format!(
                "organisation `{}` has the unknown stored type `{}`",
                o.ods_code, o.org_type
            ))
        })?;
        infos.push(OrgInfo {
            ods: o.ods_code.clone(),
            name: Some(o.name.clone()),
            org_type,
            region: o.region_code.clone(),
            icb: o.icb_code.clone(),
            icb_name: n.icb_name.clone(),
            predecessors: preds.remove(&o.ods_code).unwrap_or_default(),
        });
    }
    Ok((
        infos,
        rows.into_iter()
            .map(|n| (n.row.ods_code.clone(), n))
            .collect(),
    ))
}

/// Stored pillar scores of the submitted returns of every round of the chain.
pub fn scores(conn: &mut DbConnection, chain: &Chain) -> AppResult<Vec<PillarObservation>> {
    let mut out = Vec::new();
    for (r, _) in &chain.rounds {
        out.extend(stored_scores::submitted_pillar_scores(conn, &r.key)?);
    }
    Ok(out)
}

/// `type` (default) or `peer_group:{key}`.
pub fn reference(conn: &mut DbConnection, raw: Option<&str>) -> AppResult<Reference> {
    match raw {
        None | Some("type") | Some("type_national") => Ok(Reference::TypeNational),
        Some(other) => {
            let key = other
                .strip_prefix("peer_group:")
                .ok_or_else(|| AppError::field("reference", "use `type` or `peer_group:{key}`"))?;
            let group = peer_groups::find(conn, key)?.ok_or_else(|| {
                AppError::field("reference", format!("unknown peer group `{key}`"))
            })?;
            let org_type = OrgType::parse(&group.org_type)
                .ok_or_else(|| AppError::internal("peer group type"))?;
            Ok(Reference::PeerGroup {
                key: group.key.clone(),
                org_type,
                members: group.member_codes()?,
            })
        }
    }
}

/// The stored answers of each return, by organisation; a return whose answers do not parse is
/// an internal error (logged), never skipped.
fn answers_by_org(rows: Vec<AssessmentRow>) -> AppResult<BTreeMap<String, Answers>> {
    rows.into_iter()
        .map(|a| {
            let answers = serde_json::from_str(&a.answers).map_err(|e| {
                AppError::internal(format!(
                    "stored answers of `{}` in round `{}` do not parse: {e}",
                    a.ods_code, a.round_key
                ))
            })?;
            Ok((a.ods_code, answers))
        })
        .collect()
}

/// Item-matched pillar scores when the focal framework differs from the previous round's: both
/// returns are re-scored on the questions the new framework declares carried over
/// (`domain::divergence::items`).
pub fn item_matched(
    conn: &mut DbConnection,
    chain: &Chain,
    orgs: &[OrgInfo],
) -> AppResult<Option<ItemMatched>> {
    let Some(prev_idx) = chain.previous else {
        return Ok(None);
    };
    let (cur_round, cur_fw) = chain.focal();
    let (prev_round, prev_fw) = &chain.rounds[prev_idx];
    let Some(map) = items::carried_over(cur_fw, prev_fw) else {
        return Ok(None);
    };
    let cur = answers_by_org(store::submitted_of_round(conn, &cur_round.key)?)?;
    let prev = answers_by_org(store::submitted_of_round(conn, &prev_round.key)?)?;
    let returns = orgs
        .iter()
        .filter_map(|o| Some((o, cur.get(&o.ods)?, prev.get(&o.ods)?)));
    Ok(Some(items::item_matched(cur_fw, prev_fw, &map, returns)))
}

/// The options of an analysis: the defaults on the focal framework's scale with the reader's
/// overrides; each problem is a 422 naming the parameter it concerns.
pub fn options(patch: &OptionsPatch, framework: &Framework) -> AppResult<Options> {
    Options::for_scale(framework.scale)
        .with(patch)
        .map_err(|problems| {
            AppError::unprocessable(
                "the threshold overrides are not valid",
                problems
                    .into_iter()
                    .map(|OptionError { field, message }| FieldError::new(field, message))
                    .collect(),
            )
        })
}

/// Everything an analysis needs, loaded in one go.
pub struct Loaded {
    pub input: EngineInput,
    pub chain: Chain,
    /// The register with region and ICB names, by ODS code (not kept once an analysis is stored:
    /// `Computed::new`).
    pub register: BTreeMap<String, NamedOrganisation>,
}

pub fn load(
    conn: &mut DbConnection,
    cache: &FrameworkCache,
    focal: RoundRow,
    previous: Option<&str>,
    reference_raw: Option<&str>,
    overrides: &OptionsPatch,
) -> AppResult<Loaded> {
    let chain = chain(conn, cache, focal, previous)?;
    let options = options(overrides, &chain.focal().1)?;
    let reference = reference(conn, reference_raw)?;
    let (orgs, register) = organisations(conn)?;
    let scores = scores(conn, &chain)?;
    let item_matched = item_matched(conn, &chain, &orgs)?;
    let pillar_titles = chain
        .focal()
        .1
        .pillars
        .iter()
        .map(|p| (p.key.clone(), p.title.clone()))
        .collect();
    let grids = chain
        .rounds
        .iter()
        .flat_map(|(r, fw)| {
            grid::framework_grids(fw)
                .into_iter()
                .map(|(org_type, pillar, grid)| PillarGrid {
                    round: r.key.clone(),
                    org_type,
                    pillar,
                    grid,
                })
        })
        .collect();
    let input = EngineInput {
        rounds: chain.rounds.iter().map(|(r, _)| r.key.clone()).collect(),
        previous_round: chain.previous.map(|i| chain.rounds[i].0.key.clone()),
        orgs,
        scores,
        reference,
        item_matched,
        options,
        pillar_titles,
        grids,
    };
    Ok(Loaded {
        input,
        chain,
        register,
    })
}
