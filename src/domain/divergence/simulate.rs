//! Simulated rounds for checking the method's properties (`docs/divergence-v2.md`, section
//! "Simulation"): realistic discrete staged scores on a given population, with no divergence at
//! all (null) or with one planted divergence, and the share of rounds that raise a tested flag.
//! Deterministic from a seed. Used by the unit tests (a small run) and by
//! `cargo bench --bench divergence_sim` (the full run); never by the service.
//!
//! The model, per organisation o of type t, pillar p, domain d (D_p domains), round r = 0, 1, 2:
//! a latent maturity
//! `base + τ_t + π_p + η_pd + θ_o + φ_op + ψ_opd + progress·r + γ_or + ε_opdr`
//! (type, pillar and domain effects fixed for a simulation; organisation, organisation × pillar
//! and organisation × domain effects drawn per replicate and kept across rounds; organisation ×
//! round and domain × round noise drawn per round), rounded to a whole level and clamped to 1–5.
//! A pillar score is the mean of its D_p levels (grid 1/D_p). Within a type every organisation
//! is drawn from the same distribution: nothing diverges unless planted.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::grid::Grid;
use super::{EngineInput, Flag, MethodVersion, Options, OrgInfo, PillarGrid, PillarObservation};
use super::{Reference, analyse};
use crate::domain::organisation::OrgType;

/// The rounds of a simulated analysis, oldest first (the last is focal).
pub const ROUNDS: [&str; 3] = ["sim-1", "sim-2", "sim-3"];

/// Effect sizes of the model (standard deviations, in levels).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// D_p, the number of domains of each pillar.
    pub domains: Vec<usize>,
    pub base: f64,
    pub progress: f64,
    pub sd_type: f64,
    pub sd_pillar: f64,
    pub sd_domain: f64,
    pub sd_org: f64,
    pub sd_org_pillar: f64,
    pub sd_org_domain: f64,
    pub sd_org_round: f64,
    pub sd_noise: f64,
}

impl Model {
    /// Seven pillars of 5–8 whole-number domain levels, as the DMA.
    pub fn dma() -> Self {
        Self {
            domains: vec![5, 6, 7, 8, 5, 6, 7],
            base: 2.6,
            progress: 0.15,
            sd_type: 0.2,
            sd_pillar: 0.25,
            sd_domain: 0.3,
            sd_org: 0.3,
            sd_org_pillar: 0.15,
            sd_org_domain: 0.35,
            sd_org_round: 0.05,
            sd_noise: 0.3,
        }
    }

    /// The same with every pillar a single whole-number level.
    pub fn whole_numbers() -> Self {
        Self {
            domains: vec![1; 7],
            ..Self::dma()
        }
    }

    fn pillar_key(p: usize) -> String {
        format!("pillar{}", p + 1)
    }
}

/// Which metric a planted divergence moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlantMetric {
    /// The organisation sits lower in every round (a persistent level gap).
    Level,
    /// The organisation falls back in the focal round only (a change gap).
    Change,
}

/// One organisation made to diverge downwards by `shift` levels of latent maturity in one pillar.
#[derive(Debug, Clone, PartialEq)]
pub struct Plant {
    pub org: usize,
    pub pillar: usize,
    pub metric: PlantMetric,
    pub shift: f64,
}

impl Plant {
    /// The flag that detects this plant.
    pub fn flag(&self) -> Flag {
        match self.metric {
            PlantMetric::Level => Flag::LevelBelowPeers,
            PlantMetric::Change => Flag::ProgressBelowPeers,
        }
    }
}

/// Standard normal by Box–Muller (two uniforms per draw; simple and deterministic).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The effects fixed for a whole simulation (type, pillar, domain).
struct Structure {
    tau: Vec<f64>,
    pi: Vec<f64>,
    eta: Vec<Vec<f64>>,
}

impl Structure {
    fn new(model: &Model, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5151_7e57);
        Self {
            tau: OrgType::ALL
                .iter()
                .map(|_| model.sd_type * normal(&mut rng))
                .collect(),
            pi: model
                .domains
                .iter()
                .map(|_| model.sd_pillar * normal(&mut rng))
                .collect(),
            eta: model
                .domains
                .iter()
                .map(|&d| (0..d).map(|_| model.sd_domain * normal(&mut rng)).collect())
                .collect(),
        }
    }
}

/// A population: organisations with their types.
pub type Population = [(String, OrgType)];

/// A simulation on one population and model: draw replicates with [`Simulation::round_set`].
pub struct Simulation<'a> {
    pub population: &'a Population,
    pub model: &'a Model,
    structure: Structure,
    seed: u64,
}

impl<'a> Simulation<'a> {
    pub fn new(population: &'a Population, model: &'a Model, seed: u64) -> Self {
        Self {
            population,
            model,
            structure: Structure::new(model, seed),
            seed,
        }
    }

    /// Replicate `rep`: three rounds of scores for every organisation, with an optional plant,
    /// as engine input with the given method's default options.
    pub fn round_set(&self, rep: u64, plant: Option<&Plant>, method: MethodVersion) -> EngineInput {
        let m = self.model;
        let mut rng = StdRng::seed_from_u64(self.seed.wrapping_mul(1_000_003).wrapping_add(rep));
        let mut scores = Vec::with_capacity(self.population.len() * m.domains.len() * 3);
        for (o, (ods, t)) in self.population.iter().enumerate() {
            let theta = m.sd_org * normal(&mut rng);
            let phi: Vec<f64> = m
                .domains
                .iter()
                .map(|_| m.sd_org_pillar * normal(&mut rng))
                .collect();
            let psi: Vec<Vec<f64>> = m
                .domains
                .iter()
                .map(|&d| (0..d).map(|_| m.sd_org_domain * normal(&mut rng)).collect())
                .collect();
            for (r, round) in ROUNDS.iter().enumerate() {
                let gamma = m.sd_org_round * normal(&mut rng);
                for (p, &d) in m.domains.iter().enumerate() {
                    let shift = match plant {
                        Some(pl) if pl.org == o && pl.pillar == p => match pl.metric {
                            PlantMetric::Level => pl.shift,
                            PlantMetric::Change if r == ROUNDS.len() - 1 => pl.shift,
                            PlantMetric::Change => 0.0,
                        },
                        _ => 0.0,
                    };
                    let mut sum = 0.0;
                    for (eta, psi) in self.structure.eta[p].iter().zip(&psi[p]) {
                        let latent = m.base
                            + self.structure.tau[*t as usize]
                            + self.structure.pi[p]
                            + eta
                            + theta
                            + phi[p]
                            + psi
                            + m.progress * r as f64
                            + gamma
                            + m.sd_noise * normal(&mut rng)
                            - shift;
                        sum += latent.round().clamp(1.0, 5.0);
                    }
                    scores.push(PillarObservation {
                        ods: ods.clone(),
                        round: (*round).to_owned(),
                        pillar: Model::pillar_key(p),
                        score: Some(sum / d as f64),
                        coverage: 1.0,
                    });
                }
            }
        }
        let mut grids = Vec::new();
        for round in ROUNDS {
            for t in OrgType::ALL {
                for (p, &d) in m.domains.iter().enumerate() {
                    grids.push(PillarGrid {
                        round: round.to_owned(),
                        org_type: t,
                        pillar: Model::pillar_key(p),
                        grid: Grid::per_point(d as u64),
                    });
                }
            }
        }
        EngineInput {
            rounds: ROUNDS.iter().map(|r| (*r).to_owned()).collect(),
            previous_round: Some(ROUNDS[1].to_owned()),
            orgs: self
                .population
                .iter()
                .map(|(ods, t)| OrgInfo {
                    ods: ods.clone(),
                    name: None,
                    org_type: *t,
                    region: None,
                    icb: None,
                    icb_name: None,
                    predecessors: Vec::new(),
                })
                .collect(),
            scores,
            reference: Reference::TypeNational,
            item_matched: None,
            options: Options {
                method,
                ..Options::default()
            },
            pillar_titles: Default::default(),
            grids,
        }
    }
}

/// The share of null rounds with at least one tested flag, and the false flags per round.
#[derive(Debug, Clone, PartialEq)]
pub struct NullRate {
    pub rounds: usize,
    pub rounds_with_tested_flag: usize,
    pub tested_flags: usize,
    /// Tests in the round (the v2 family size), averaged.
    pub mean_tests: f64,
}

impl NullRate {
    pub fn share(&self) -> f64 {
        self.rounds_with_tested_flag as f64 / self.rounds as f64
    }

    /// Monte-Carlo standard error of [`NullRate::share`]: √(p(1 − p)/N).
    pub fn standard_error(&self) -> f64 {
        let p = self.share();
        (p * (1.0 - p) / self.rounds as f64).sqrt()
    }

    pub fn flags_per_round(&self) -> f64 {
        self.tested_flags as f64 / self.rounds as f64
    }
}

/// Runs `rounds` null replicates and counts tested flags (LEVEL_, PROGRESS_, TREND_, PRIORITY_).
pub fn null_rate(sim: &Simulation, method: MethodVersion, rounds: u64) -> NullRate {
    let (mut with_flag, mut flags, mut tests) = (0, 0, 0usize);
    for rep in 0..rounds {
        let a = analyse(&sim.round_set(rep, None, method));
        let n = a
            .rows
            .iter()
            .flat_map(|r| &r.flags)
            .filter(|f| f.is_tested())
            .count();
        with_flag += usize::from(n > 0);
        flags += n;
        tests += a.family_sizes.round;
    }
    NullRate {
        rounds: rounds as usize,
        rounds_with_tested_flag: with_flag,
        tested_flags: flags,
        mean_tests: tests as f64 / rounds.max(1) as f64,
    }
}

fn sd(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// The peer standard deviations of one pillar among the organisations of type `t` in null data,
/// averaged over `reps` replicates: (level in the focal round, change from the previous round).
pub fn peer_sds(sim: &Simulation, t: OrgType, pillar: usize, reps: u64) -> (f64, f64) {
    let key = Model::pillar_key(pillar);
    let (mut level, mut change) = (0.0, 0.0);
    for rep in 0..reps {
        // replicates beyond those used for null rates and detection
        let input = sim.round_set(1_000_000 + rep, None, MethodVersion::V2);
        let of = |round: &str| -> Vec<(String, f64)> {
            input
                .scores
                .iter()
                .filter(|s| s.round == round && s.pillar == key)
                .filter(|s| sim.population.iter().any(|(o, ot)| *o == s.ods && *ot == t))
                .map(|s| (s.ods.clone(), s.score.unwrap_or(f64::NAN)))
                .collect()
        };
        let (cur, prev) = (of(ROUNDS[2]), of(ROUNDS[1]));
        let levels: Vec<f64> = cur.iter().map(|(_, v)| *v).collect();
        let deltas: Vec<f64> = cur
            .iter()
            .zip(&prev)
            .map(|((_, c), (_, p))| c - p)
            .collect();
        level += sd(&levels);
        change += sd(&deltas);
    }
    (level / reps as f64, change / reps as f64)
}

/// The share of `reps` replicates in which the planted organisation gets the plant's flag in the
/// planted pillar, with the mean realised gap (the planted organisation's value minus the peer
/// median, after rounding and clamping) over those replicates.
pub fn detection_rate(sim: &Simulation, plant: &Plant, reps: u64) -> (f64, f64) {
    let (ods, _) = &sim.population[plant.org];
    let key = Model::pillar_key(plant.pillar);
    let (mut hits, mut gaps) = (0usize, 0.0);
    for rep in 0..reps {
        let a = analyse(&sim.round_set(rep, Some(plant), MethodVersion::V2));
        if let Some(row) = a
            .rows
            .iter()
            .find(|r| r.org_id == ods.as_str() && r.pillar == key.as_str())
        {
            hits += usize::from(row.flags.contains(&plant.flag()));
            gaps += match plant.metric {
                PlantMetric::Level => row.level.gap.unwrap_or(0.0),
                PlantMetric::Change => row.change.as_ref().and_then(|c| c.excess).unwrap_or(0.0),
            };
        }
    }
    (hits as f64 / reps as f64, gaps / reps as f64)
}

/// `population` with exactly `n` organisations of type `t` (the first ones kept, more added as
/// `SIMnnnn` when it has fewer); the first of them is the one to plant.
pub fn with_type_size(population: &Population, t: OrgType, n: usize) -> Vec<(String, OrgType)> {
    let mut of_type: Vec<(String, OrgType)> = population
        .iter()
        .filter(|(_, ot)| *ot == t)
        .take(n)
        .cloned()
        .collect();
    let mut k = 0;
    while of_type.len() < n {
        of_type.push((format!("SIM{k:04}"), t));
        k += 1;
    }
    of_type
        .into_iter()
        .chain(population.iter().filter(|(_, ot)| *ot != t).cloned())
        .collect()
}
