//! Synthetic assessment returns for demonstrations: a pure, deterministic generator of realistic
//! staged-framework answers for a list of rounds of organisations. No I/O: the caller reads the
//! seed files, calls [`generate`] and stores the returns.
//!
//! The model, on the framework's 1–5 level scale:
//! - Each organisation has a latent maturity per pillar: a type-dependent mean (acute 2.6, acute
//!   specialist 2.9, mental health 2.4, community 2.2, ambulance 2.3, ICB 2.3), an organisation
//!   effect (a peaked mixture, sd ≈ 0.40) and a pillar offset (uniform ±0.25).
//! - Each round, every pillar moves by the organisation's own growth (uniform 0.10–0.25) plus noise.
//!   A few organisations, chosen by [`designated`], instead fall behind (start below their type's
//!   median, slip 0.25 a round and collapse to the floor in the latest round, in one or two
//!   pillars) or pull ahead (start ~0.5 above the type mean, gain 0.4 a round and leap 1.8 in the
//!   latest round), so that the divergence engine's LEVEL / PROGRESS / PRIORITY flags appear with
//!   its default method (`divergence-v2`), whose detectable gaps are large. The figures are in
//!   `latent`.
//! - A merged organisation that is new in a round starts from the mean of its predecessors'
//!   latent maturity (predecessors absent from that round; all of them if none is); an
//!   existing organisation that absorbs another keeps its own.
//! - Per domain, the target is the pillar's latent value plus a persistent domain offset and a
//!   little round noise; the whole levels of a pillar's domains are allocated by largest
//!   remainder, so the pillar score tracks the latent value. Levels become answers in `fill`.
//! - About [`DRAFT_SHARE`] of each round's returns (never a designated organisation's) stay drafts
//!   with only the first part of their answers; every other return is complete.
//!
//! Randomness comes from SplitMix64 streams keyed by the seed and labels (organisation, round,
//! purpose; see `rng`), so the same input always gives the same output, on every platform.

mod fill;
mod latent;
pub mod national;
mod rng;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_model;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::domain::answers::Answers;
use crate::domain::framework::Framework;
use crate::domain::organisation::OrgType;
use latent::{Latent, Role, advance, domain_targets, initial, mean_latent};
use rng::Rng;

/// The seed of the shipped demo data set.
pub const DEMO_SEED: u64 = 0x0D4A_2025_5EED_0001;

/// Role of a designated organisation that falls behind its peers.
pub const ROLE_FALLS_BEHIND: &str = "falls_behind";
/// Role of a designated organisation that pulls ahead of its peers.
pub const ROLE_PULLS_AHEAD: &str = "pulls_ahead";

/// Share of each round's returns left as drafts.
pub const DRAFT_SHARE: f64 = 0.05;
/// How many organisations of which type get which role.
const QUOTAS: [(&str, OrgType, usize); 7] = [
    (ROLE_FALLS_BEHIND, OrgType::Acute, 3),
    (ROLE_FALLS_BEHIND, OrgType::MentalHealth, 2),
    (ROLE_FALLS_BEHIND, OrgType::Community, 1),
    (ROLE_FALLS_BEHIND, OrgType::Icb, 1),
    (ROLE_PULLS_AHEAD, OrgType::Acute, 2),
    (ROLE_PULLS_AHEAD, OrgType::MentalHealth, 1),
    (ROLE_PULLS_AHEAD, OrgType::AcuteSpecialist, 1),
];

/// An organisation taking part in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOrg {
    pub ods: String,
    pub org_type: OrgType,
}

/// One assessment round; rounds are passed in chronological order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoRound {
    pub key: String,
    pub orgs: Vec<DemoOrg>,
}

/// One generated return.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoReturn {
    pub round: String,
    pub ods: String,
    pub answers: Answers,
    /// `false` for a draft: only part of the questions are answered.
    pub submitted: bool,
}

/// A designated organisation with the pillars its role applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Designation {
    pub ods: String,
    pub org_type: OrgType,
    /// [`ROLE_FALLS_BEHIND`] or [`ROLE_PULLS_AHEAD`].
    pub role: &'static str,
    /// Keys of the pillars that fall or rise, in framework order.
    pub pillars: Vec<String>,
}

/// The organisations that deliberately fall behind or pull ahead, with their role: for each quota
/// (3 acute, 2 mental health, 1 community and 1 ICB falling behind; 2 acute, 1 mental health and 1
/// acute specialist pulling ahead), organisations of that type present with that type in every
/// round, in an order drawn from `seed`. A type with too few candidates gets fewer.
pub fn designated(rounds: &[DemoRound], seed: u64) -> Vec<(String, &'static str)> {
    let Some((first, rest)) = rounds.split_first() else {
        return Vec::new();
    };
    let later: Vec<HashSet<(&str, OrgType)>> = rest
        .iter()
        .map(|r| {
            r.orgs
                .iter()
                .map(|o| (o.ods.as_str(), o.org_type))
                .collect()
        })
        .collect();
    let mut taken: HashSet<&str> = HashSet::new();
    let mut chosen = Vec::new();
    for (role, org_type, count) in QUOTAS {
        let mut candidates: Vec<(u64, &str)> = first
            .orgs
            .iter()
            .filter(|o| o.org_type == org_type && !taken.contains(o.ods.as_str()))
            .filter(|o| {
                later
                    .iter()
                    .all(|r| r.contains(&(o.ods.as_str(), org_type)))
            })
            .map(|o| {
                let key = Rng::stream(seed, &["designate", &o.ods]).next_u64();
                (key, o.ods.as_str())
            })
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        for (_, ods) in candidates.into_iter().take(count) {
            taken.insert(ods);
            chosen.push((ods.to_owned(), role));
        }
    }
    chosen
}

/// [`designated`] with each organisation's type and the one or two pillars (of those asked of its
/// type) that fall or rise.
pub fn designations(framework: &Framework, rounds: &[DemoRound], seed: u64) -> Vec<Designation> {
    indexed_designations(framework, rounds, seed)
        .into_iter()
        .map(|(ods, org_type, role, pillars)| Designation {
            ods,
            org_type,
            role,
            pillars: pillars
                .iter()
                .map(|&p| framework.pillars[p].key.clone())
                .collect(),
        })
        .collect()
}

type Indexed = (String, OrgType, &'static str, Vec<usize>);

fn indexed_designations(framework: &Framework, rounds: &[DemoRound], seed: u64) -> Vec<Indexed> {
    let type_of: HashMap<&str, OrgType> = rounds
        .first()
        .map(|r| {
            r.orgs
                .iter()
                .map(|o| (o.ods.as_str(), o.org_type))
                .collect()
        })
        .unwrap_or_default();
    designated(rounds, seed)
        .into_iter()
        .filter_map(|(ods, role)| {
            let org_type = *type_of.get(ods.as_str())?;
            // Pillars with many domains asked of the type (so that changes are not too lumpy):
            // at least four, or at least three when fewer than two have four.
            let domains = |p: usize| framework.pillars[p].domains_for(org_type).count();
            let asked = |min: usize| -> Vec<usize> {
                (0..framework.pillars.len())
                    .filter(|&p| domains(p) >= min)
                    .collect()
            };
            let mut pool = asked(4);
            if pool.len() < 2 {
                pool = asked(3);
            }
            if pool.is_empty() {
                pool = asked(1);
            }
            let mut rng = Rng::stream(seed, &["pillars", &ods]);
            let count = if rng.unit() < 0.7 { 2 } else { 1 }.min(pool.len());
            let mut pillars: Vec<usize> = (0..count)
                .map(|_| pool.remove(rng.below(pool.len())))
                .collect();
            pillars.sort_unstable();
            Some((ods, org_type, role, pillars))
        })
        .collect()
}

/// Generates one return per organisation and round, for the organisations whose type the
/// framework is asked of (duplicates within a round are skipped), in round then input order.
/// `lineage` holds `(predecessor, successor)` ODS pairs. The same input gives the same output.
pub fn generate(
    framework: &Framework,
    rounds: &[DemoRound],
    lineage: &[(String, String)],
    seed: u64,
) -> Vec<DemoReturn> {
    let designations = indexed_designations(framework, rounds, seed);
    let roles: HashMap<&str, Role> = designations
        .iter()
        .map(|(ods, _, role, pillars)| (ods.as_str(), (*role, pillars.as_slice())))
        .collect();
    let mut predecessors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (predecessor, successor) in lineage {
        let list = predecessors.entry(successor.as_str()).or_default();
        list.push(predecessor.as_str());
    }
    for list in predecessors.values_mut() {
        list.sort_unstable(); // the mean does not depend on the order of `lineage`
        list.dedup();
    }
    let n_pillars = framework.pillars.len();
    let mut states: HashMap<String, Latent> = HashMap::new();
    let mut returns = Vec::new();
    for (k, round) in rounds.iter().enumerate() {
        let mut present: HashSet<&str> = HashSet::new();
        let orgs: Vec<&DemoOrg> = round
            .orgs
            .iter()
            .filter(|o| framework.applies_to_type(o.org_type) && present.insert(&o.ods))
            .collect();
        let before = states.clone();
        for org in &orgs {
            let role = roles.get(org.ods.as_str()).copied();
            let start = before.get(&org.ods).cloned().or_else(|| {
                let preds = predecessors.get(org.ods.as_str())?;
                let known: Vec<(&str, &Latent)> = preds
                    .iter()
                    .filter_map(|p| Some((*p, before.get(*p)?)))
                    .collect();
                let gone: Vec<&Latent> = known
                    .iter()
                    .filter(|(p, _)| !present.contains(p))
                    .map(|(_, l)| *l)
                    .collect();
                let all: Vec<&Latent> = known.iter().map(|(_, l)| *l).collect();
                mean_latent(if gone.is_empty() { &all } else { &gone })
            });
            let mut latent =
                start.unwrap_or_else(|| initial(seed, org, role, n_pillars, rounds.len()));
            for later in rounds.get(latent.round + 1..=k).unwrap_or(&[]) {
                let last = rounds.last().is_some_and(|r| r.key == later.key);
                advance(&mut latent, seed, &org.ods, &later.key, role, last);
            }
            latent.round = k;
            states.insert(org.ods.clone(), latent);
        }
        let drafts = choose_drafts(&orgs, &roles, seed, &round.key);
        for org in &orgs {
            let Some(latent) = states.get(&org.ods) else {
                continue;
            };
            let targets = domain_targets(framework, org, latent, seed, &round.key);
            let mut rng = Rng::stream(seed, &["answers", &org.ods, &round.key]);
            let mut answers = fill::fill(framework, &targets, &mut rng);
            let submitted = !drafts.contains(org.ods.as_str());
            if !submitted {
                answers = truncate(framework, answers, &mut rng);
            }
            returns.push(DemoReturn {
                round: round.key.clone(),
                ods: org.ods.clone(),
                answers,
                submitted,
            });
        }
    }
    returns
}

/// The organisations of a round whose return stays a draft: [`DRAFT_SHARE`] of the round, never
/// a designated organisation, in an order drawn from the seed and round.
fn choose_drafts<'a>(
    orgs: &[&'a DemoOrg],
    roles: &HashMap<&str, Role>,
    seed: u64,
    round: &str,
) -> HashSet<&'a str> {
    let count = (orgs.len() as f64 * DRAFT_SHARE).round() as usize;
    let mut candidates: Vec<(u64, &str)> = orgs
        .iter()
        .filter(|o| !roles.contains_key(o.ods.as_str()))
        .map(|o| {
            (
                Rng::stream(seed, &["draft", round, &o.ods]).next_u64(),
                o.ods.as_str(),
            )
        })
        .collect();
    candidates.sort_unstable();
    candidates
        .into_iter()
        .take(count)
        .map(|(_, ods)| ods)
        .collect()
}

/// A draft keeps the first 20–80% of its answers, in framework order.
fn truncate(framework: &Framework, mut answers: Answers, rng: &mut Rng) -> Answers {
    let answered: Vec<&str> = framework
        .questions()
        .map(|(_, _, q)| q.key.as_str())
        .filter(|key| answers.contains_key(*key))
        .collect();
    let keep = (answered.len() as f64 * rng.uniform(0.2, 0.8)) as usize;
    let dropped: Vec<String> = answered[keep.min(answered.len())..]
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
    for key in dropped {
        answers.remove(&key);
    }
    answers
}
