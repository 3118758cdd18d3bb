//! Builds the engine's input from storage: the comparable chain of rounds up to the focal one,
//! stored pillar scores of submitted returns, the register with merger lineage, the reference
//! group, item-matched change when the framework changed, and the options.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::rounds::round_framework;
use crate::db::assessments::{self as store, AssessmentRow};
use crate::db::organisations::{self, NamedOrganisation};
use crate::db::rounds::RoundRow;
use crate::db::{DbConnection, peer_groups, rounds};
use crate::domain::answers::Answers;
use crate::domain::divergence::{
    ChangedItemSet, EngineInput, ItemMatched, MatchedChange, Options, OrgInfo, PillarObservation,
    Reference,
};
use crate::domain::framework::Framework;
use crate::domain::organisation::OrgType;
use crate::domain::scoring::score_subset;
use crate::error::{AppError, AppResult, FieldError};

/// Whether change can be measured between rounds on these two frameworks: the same framework,
/// or one declares questions carried over from the other.
pub fn comparable(a: &Framework, b: &Framework) -> bool {
    a.key == b.key
        || a.carries_over
            .as_ref()
            .is_some_and(|c| c.framework == b.key)
        || b.carries_over
            .as_ref()
            .is_some_and(|c| c.framework == a.key)
}

/// The focal round, the comparable rounds before it (oldest first) and their frameworks.
pub struct Chain {
    pub rounds: Vec<(RoundRow, Framework)>,
    pub previous: Option<usize>,
}

impl Chain {
    pub fn focal(&self) -> &(RoundRow, Framework) {
        &self.rounds[self.rounds.len() - 1]
    }
}

pub fn chain(conn: &mut DbConnection, focal: RoundRow, previous: Option<&str>) -> AppResult<Chain> {
    let focal_fw = round_framework(conn, &focal)?;
    let mut list = Vec::new();
    for r in rounds::list(conn)? {
        if r.key == focal.key || r.opens_at >= focal.opens_at {
            continue;
        }
        let fw = round_framework(conn, &r)?;
        if comparable(&focal_fw, &fw) {
            list.push((r, fw));
        } else if previous == Some(r.key.as_str()) {
            return Err(AppError::field(
                "previous_round",
                format!(
                    "round `{}` uses framework `{}`, which cannot be compared with `{}`",
                    r.key, fw.key, focal_fw.key
                ),
            ));
        }
    }
    let previous = match previous {
        None => list.len().checked_sub(1),
        Some(key) => Some(list.iter().position(|(r, _)| r.key == key).ok_or_else(|| {
            AppError::field(
                "previous_round",
                format!("`{key}` is not a round before `{}`", focal.key),
            )
        })?),
    };
    list.push((focal, focal_fw));
    Ok(Chain {
        rounds: list,
        previous,
    })
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
    let infos = rows
        .iter()
        .filter_map(|n| {
            let o = &n.row;
            Some(OrgInfo {
                ods: o.ods_code.clone(),
                name: Some(o.name.clone()),
                org_type: OrgType::parse(&o.org_type)?,
                region: o.region_code.clone(),
                icb: o.icb_code.clone(),
                icb_name: n.icb_name.clone(),
                predecessors: preds.remove(&o.ods_code).unwrap_or_default(),
            })
        })
        .collect();
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
        out.extend(store::submitted_pillar_scores(conn, &r.key)?);
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

fn answers_by_org(rows: Vec<AssessmentRow>) -> BTreeMap<String, Answers> {
    rows.into_iter()
        .filter_map(|a| Some((a.ods_code, serde_json::from_str(&a.answers).ok()?)))
        .collect()
}

/// Item-matched pillar scores when the focal framework differs from the previous round's: both
/// returns are re-scored on the questions the new framework declares carried over.
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
    if cur_fw.key == prev_fw.key {
        return Ok(None);
    }
    // new key → old key, whichever framework declares it.
    let map: BTreeMap<String, String> = match (&cur_fw.carries_over, &prev_fw.carries_over) {
        (Some(c), _) if c.framework == prev_fw.key => c.questions.clone(),
        (_, Some(c)) if c.framework == cur_fw.key => c
            .questions
            .iter()
            .map(|(n, o)| (o.clone(), n.clone()))
            .collect(),
        _ => return Ok(None),
    };
    let new_keys: BTreeSet<&str> = map.keys().map(String::as_str).collect();
    let old_keys: BTreeSet<&str> = map.values().map(String::as_str).collect();
    let cur = answers_by_org(store::submitted_of_round(conn, &cur_round.key)?);
    let prev = answers_by_org(store::submitted_of_round(conn, &prev_round.key)?);
    let mut rows = Vec::new();
    for org in orgs {
        let (Some(a_cur), Some(a_prev)) = (cur.get(&org.ods), prev.get(&org.ods)) else {
            continue;
        };
        let now = score_subset(cur_fw, org.org_type, a_cur, |k| new_keys.contains(k));
        let before = score_subset(prev_fw, org.org_type, a_prev, |k| old_keys.contains(k));
        for p in &now.pillars {
            let old = before.pillars.iter().find(|b| b.pillar == p.pillar);
            if let (Some(c), Some(o)) = (p.score, old.and_then(|b| b.score)) {
                rows.push(MatchedChange {
                    ods: org.ods.clone(),
                    pillar: p.pillar.clone(),
                    previous_score: o,
                    current_score: c,
                });
            }
        }
    }
    Ok(Some(ItemMatched {
        rows,
        changed_item_sets: changed_item_sets(cur_fw, prev_fw, &map),
    }))
}

/// B2: per organisation type and pillar, the matched items are the focal round's questions whose
/// carried-over key is among the previous round's questions of that type and pillar; the set has
/// changed when it is smaller than either round's full set.
fn changed_item_sets(
    cur_fw: &Framework,
    prev_fw: &Framework,
    map: &BTreeMap<String, String>,
) -> Vec<ChangedItemSet> {
    let asked = |fw: &Framework, pillar: &str, t: OrgType| -> BTreeSet<String> {
        fw.pillars
            .iter()
            .filter(|p| p.key == pillar)
            .flat_map(|p| p.domains_for(t))
            .flat_map(|d| &d.questions)
            .map(|q| q.key.clone())
            .collect()
    };
    let pillars: BTreeSet<&str> = cur_fw
        .pillars
        .iter()
        .chain(&prev_fw.pillars)
        .map(|p| p.key.as_str())
        .collect();
    let mut out = Vec::new();
    for t in OrgType::ALL {
        for &pillar in &pillars {
            let (now, before) = (asked(cur_fw, pillar, t), asked(prev_fw, pillar, t));
            let matched = now
                .iter()
                .filter(|q| map.get(*q).is_some_and(|old| before.contains(old)))
                .count();
            if matched < now.len() || matched < before.len() {
                out.push(ChangedItemSet {
                    org_type: t,
                    pillar: pillar.to_owned(),
                });
            }
        }
    }
    out
}

/// Threshold overrides from the query, applied over the defaults; δ and s_min follow the scale.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OptionOverrides {
    /// Minimum coverage for a score to count (default 0.8).
    pub min_coverage: Option<f64>,
    /// Minimum reference size for inference (default 5).
    pub min_ref_n: Option<usize>,
    /// `t` (default) or `normal`.
    pub p_method: Option<String>,
    /// Benjamini–Hochberg false discovery rate (default 0.05).
    pub alpha_fdr: Option<f64>,
    /// Materiality of a level gap on a 1–5 scale (default 0.5).
    pub delta_level: Option<f64>,
    /// Materiality of excess progress (default 0.25).
    pub delta_change: Option<f64>,
    /// Materiality of a slope difference per round (default 0.15).
    pub delta_slope: Option<f64>,
    /// 95% tier p threshold (default 0.05).
    pub tier_alert: Option<f64>,
    /// 99.8% tier p threshold (default 0.002).
    pub tier_alarm: Option<f64>,
}

pub fn options(o: &OptionOverrides, framework: &Framework) -> AppResult<Options> {
    let mut opts = Options::default();
    if let Some(v) = o.min_coverage {
        opts.min_coverage = v;
    }
    if let Some(v) = o.min_ref_n {
        opts.min_ref_n = v;
    }
    if let Some(v) = o.alpha_fdr {
        opts.alpha_fdr = v;
    }
    if let Some(v) = o.delta_level {
        opts.delta_level = v;
    }
    if let Some(v) = o.delta_change {
        opts.delta_change = v;
    }
    if let Some(v) = o.delta_slope {
        opts.delta_slope = v;
    }
    if let Some(v) = o.tier_alert {
        opts.tier_alert = v;
    }
    if let Some(v) = o.tier_alarm {
        opts.tier_alarm = v;
    }
    opts.p_method = match o.p_method.as_deref() {
        None | Some("t") => crate::domain::divergence::PMethod::T,
        Some("normal") => crate::domain::divergence::PMethod::Normal,
        Some(other) => {
            return Err(AppError::field(
                "p_method",
                format!("`{other}` is not t or normal"),
            ));
        }
    };
    opts.scale_factor = (framework.scale.max - framework.scale.min) / 4.0;
    let problems = opts.validate();
    if problems.is_empty() {
        Ok(opts)
    } else {
        Err(AppError::unprocessable(
            "the threshold overrides are not valid",
            problems
                .into_iter()
                .map(|m| {
                    let field = m.split_whitespace().next().unwrap_or("options").to_owned();
                    FieldError::new(field, m)
                })
                .collect(),
        ))
    }
}

/// Everything an analysis needs, loaded in one go.
pub struct Loaded {
    pub input: EngineInput,
    pub chain: Chain,
    /// The register with region and ICB names, by ODS code.
    pub register: BTreeMap<String, NamedOrganisation>,
}

pub fn load(
    conn: &mut DbConnection,
    focal: RoundRow,
    previous: Option<&str>,
    reference_raw: Option<&str>,
    overrides: &OptionOverrides,
) -> AppResult<Loaded> {
    let chain = chain(conn, focal, previous)?;
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
    let input = EngineInput {
        rounds: chain.rounds.iter().map(|(r, _)| r.key.clone()).collect(),
        previous_round: chain.previous.map(|i| chain.rounds[i].0.key.clone()),
        orgs,
        scores,
        reference,
        item_matched,
        options,
        pillar_titles,
    };
    Ok(Loaded {
        input,
        chain,
        register,
    })
}
