//! The latent maturity model behind the demo returns: per organisation and pillar, a value on
//! the 1–5 level scale that starts near the type's mean and moves each round; per round, whole
//! target levels per domain whose mean per pillar tracks that value.

use super::rng::Rng;
use super::{DemoOrg, ROLE_FALLS_BEHIND};
use crate::domain::framework::Framework;
use crate::domain::organisation::OrgType;

/// Between-organisation spread of the latent maturity: a normal mixture, most organisations
/// near their type's centre (sd 0.28) and a fifth spread widely (sd 0.7), overall sd ≈ 0.40.
/// Self-assessed maturity is peaked with long tails; the peak keeps the robust (MAD) scale of
/// peers tight, so that true outliers are flagged.
const BETWEEN_ORG_SD: (f64, f64, f64) = (0.28, 0.7, 0.2);
/// Half-width of the uniform pillar offsets.
const PILLAR_OFFSET: f64 = 0.25;
const DOMAIN_OFFSET_SD: f64 = 0.35;
const DOMAIN_ROUND_SD: f64 = 0.15;
const PILLAR_ROUND_SD: f64 = 0.07;
const GROWTH: (f64, f64) = (0.10, 0.25);
/// Start of a designated organisation relative to its type mean, and the further shift of its
/// designated pillars. A falling pillar starts below the type mean, slips a little each round
/// and collapses to the floor (1) in the latest round; a rising one starts above, climbs and
/// leaps to near the top in the latest round. The last move is large on purpose: the demo's
/// diverging trusts must be beyond the detectable gap of `divergence-v2` (about 1.6–1.9 points for
/// level and 0.8–1.0 for change among the acute trusts, with some 5,000 tests in the round), so
/// that its flags show out of the box; smaller moves are real but are not what a flag can see.
const FALL_START: (f64, f64) = (-0.30, -0.15);
/// A falling pillar starts at least this far above the floor, whatever its type's mean.
const FALL_ROOM: f64 = 0.6;
const FALL_PER_ROUND: f64 = -0.25;
const FALL_LAST_ROUND: f64 = -2.5;
const PULL_START: (f64, f64) = (0.35, 0.15);
const PULL_PER_ROUND: f64 = 0.4;
const PULL_LAST_ROUND: f64 = 1.8;

fn type_mean(org_type: OrgType) -> f64 {
    match org_type {
        OrgType::Acute => 2.6,
        OrgType::AcuteSpecialist => 2.9,
        OrgType::MentalHealth => 2.4,
        OrgType::Ambulance | OrgType::Icb => 2.3,
        _ => 2.2,
    }
}

/// An organisation's latent maturity as of a round.
#[derive(Debug, Clone)]
pub(super) struct Latent {
    /// Per framework pillar (unused for pillars not asked of the type).
    pub(super) pillars: Vec<f64>,
    /// Per-round improvement.
    pub(super) growth: f64,
    /// Index of the round this state is for.
    pub(super) round: usize,
}

/// A designated role and its pillar indices.
pub(super) type Role<'a> = (&'static str, &'a [usize]);

/// The starting state of an organisation, as of round 0.
pub(super) fn initial(
    seed: u64,
    org: &DemoOrg,
    role: Option<Role>,
    n: usize,
    rounds: usize,
) -> Latent {
    let mean = type_mean(org.org_type);
    let mut rng = Rng::stream(seed, &["initial", &org.ods]);
    let (effect, extra) = match role {
        Some((ROLE_FALLS_BEHIND, _)) => FALL_START,
        Some(_) => PULL_START,
        None => {
            let (core, wide, share_wide) = BETWEEN_ORG_SD;
            let sd = if rng.unit() < share_wide { wide } else { core };
            (sd * rng.normal(), 0.0)
        }
    };
    let pillars = (0..n)
        .map(|p| {
            let offset = rng.uniform(-PILLAR_OFFSET, PILLAR_OFFSET);
            // A designated pillar starts at a fixed distance from the type mean.
            let designated = role.is_some_and(|(_, pillars)| pillars.contains(&p));
            let value = match role {
                Some((ROLE_FALLS_BEHIND, _)) if designated => {
                    let room = 1.0 + FALL_ROOM - FALL_PER_ROUND * rounds.saturating_sub(2) as f64;
                    (mean + effect + extra).max(room).min(mean - 0.35)
                }
                _ if designated => mean + effect + extra,
                _ => mean + effect + offset,
            };
            value.clamp(1.0, 5.0)
        })
        .collect();
    Latent {
        pillars,
        growth: rng.uniform(GROWTH.0, GROWTH.1),
        round: 0,
    }
}

/// One round's movement of every pillar; `last`: the round moved to is the latest of the demo.
pub(super) fn advance(
    latent: &mut Latent,
    seed: u64,
    ods: &str,
    round: &str,
    role: Option<Role>,
    last: bool,
) {
    let mut rng = Rng::stream(seed, &["advance", ods, round]);
    for (p, value) in latent.pillars.iter_mut().enumerate() {
        let noise = rng.normal();
        let delta = match role {
            Some((role, pillars)) if pillars.contains(&p) => {
                let per_round = match (role == ROLE_FALLS_BEHIND, last) {
                    (true, false) => FALL_PER_ROUND,
                    (true, true) => FALL_LAST_ROUND,
                    (false, false) => PULL_PER_ROUND,
                    (false, true) => PULL_LAST_ROUND,
                };
                per_round + 0.05 * noise
            }
            _ => latent.growth + PILLAR_ROUND_SD * noise,
        };
        *value = (*value + delta).clamp(1.0, 5.0);
    }
}

/// The element-wise mean of some states, as of the latest of their rounds.
pub(super) fn mean_latent(states: &[&Latent]) -> Option<Latent> {
    let first = states.first()?;
    let n = states.len() as f64;
    let pillars = (0..first.pillars.len())
        .map(|p| {
            states
                .iter()
                .map(|s| s.pillars.get(p).copied().unwrap_or(0.0))
                .sum::<f64>()
                / n
        })
        .collect();
    Some(Latent {
        pillars,
        growth: states.iter().map(|s| s.growth).sum::<f64>() / n,
        round: states.iter().map(|s| s.round).max().unwrap_or(0),
    })
}

/// Whole target levels per pillar and domain (`None`: domain not asked of the type).
pub(super) fn domain_targets(
    framework: &Framework,
    org: &DemoOrg,
    latent: &Latent,
    seed: u64,
    round: &str,
) -> Vec<Vec<Option<u32>>> {
    let (lo, hi) = (framework.scale.min.max(1.0), framework.scale.max.max(1.0));
    let mut rng = Rng::stream(seed, &["levels", &org.ods, round]);
    framework
        .pillars
        .iter()
        .enumerate()
        .map(|(p, pillar)| {
            let value = latent.pillars.get(p).copied().unwrap_or(lo);
            // Persistent domain offsets and this round's noise, both centred within the pillar so
            // that they move levels between domains without moving the pillar score.
            let mut shifts: Vec<Option<f64>> = pillar
                .domains
                .iter()
                .map(|domain| {
                    let noise = rng.normal();
                    domain.applies_to_type(org.org_type).then(|| {
                        let offset = Rng::stream(seed, &["domain", &org.ods, &domain.key]).normal();
                        DOMAIN_OFFSET_SD * offset + DOMAIN_ROUND_SD * noise
                    })
                })
                .collect();
            let asked: Vec<f64> = shifts.iter().flatten().copied().collect();
            let centre = asked.iter().sum::<f64>() / asked.len().max(1) as f64;
            for shift in shifts.iter_mut().flatten() {
                *shift = (value + *shift - centre).clamp(lo, hi);
            }
            allocate(&shifts)
        })
        .collect()
}

/// Whole levels whose sum is the rounded sum of `wanted`: floors, plus one for the largest
/// fractional parts (ties by position).
fn allocate(wanted: &[Option<f64>]) -> Vec<Option<u32>> {
    let values: Vec<f64> = wanted.iter().flatten().copied().collect();
    let mut extra = (values.iter().sum::<f64>().round()
        - values.iter().map(|v| v.floor()).sum::<f64>()) as usize;
    let mut order: Vec<(usize, f64)> = wanted
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v - v.floor())))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut bonus = vec![false; wanted.len()];
    for (i, fraction) in order {
        if extra == 0 || fraction <= 0.0 {
            break;
        }
        bonus[i] = true;
        extra -= 1;
    }
    wanted
        .iter()
        .zip(bonus)
        .map(|(v, up)| v.map(|v| v.floor() as u32 + u32::from(up)))
        .collect()
}
