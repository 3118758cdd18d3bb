//! Benchmark of the divergence engine on deterministic synthetic data: N organisations × 7 pillars
//! × 3 rounds, with type and pillar effects, lumpy pillar means, some low coverage and some
//! organisations missing a round. Goal: 25,000 organisations in under 250 ms single-threaded.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dma::domain::divergence::*;
use dma::domain::organisation::OrgType;
use std::hint::black_box;

/// A 64-bit linear congruential generator (Knuth MMIX constants): deterministic, no crate.
struct Lcg(u64);

impl Lcg {
    fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }
    fn uniform(&mut self) -> f64 {
        f64::from(self.next_u32()) / f64::from(u32::MAX)
    }
    /// Approximately standard normal (Irwin–Hall with 12 uniforms).
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

const PILLARS: [&str; 7] = [
    "well_led",
    "smart_foundations",
    "safe_practice",
    "workforce",
    "people",
    "care",
    "population_health",
];

/// Type mix of a large synthetic estate, with a (mean level, spread) per type.
const TYPES: [(OrgType, f64, f64, f64); 9] = [
    (OrgType::GpPractice, 0.55, 2.6, 0.55),
    (OrgType::SocialCare, 0.25, 2.3, 0.60),
    (OrgType::Acute, 0.06, 3.1, 0.40),
    (OrgType::MentalHealth, 0.03, 3.0, 0.40),
    (OrgType::Community, 0.03, 2.9, 0.45),
    (OrgType::Icb, 0.04, 3.2, 0.35),
    (OrgType::Ambulance, 0.02, 3.0, 0.35),
    (OrgType::AcuteSpecialist, 0.01, 3.3, 0.35),
    (OrgType::Online, 0.01, 3.4, 0.50),
];

fn synthetic(n: usize, seed: u64) -> EngineInput {
    let mut rng = Lcg(seed);
    let rounds: Vec<String> = ["2023", "2024", "2025"].map(String::from).to_vec();
    let mut orgs = Vec::with_capacity(n);
    let mut scores = Vec::with_capacity(n * PILLARS.len() * rounds.len());
    let pillar_offset: Vec<f64> = PILLARS.iter().map(|_| 0.3 * rng.normal()).collect();
    for i in 0..n {
        let u = rng.uniform();
        let mut acc = 0.0;
        let &(org_type, _, mean, spread) = TYPES
            .iter()
            .find(|t| {
                acc += t.1;
                u < acc
            })
            .unwrap_or(&TYPES[0]);
        let ods = format!("S{i:05}");
        // a few outliers in level and in progress, so that flags occur
        let outlier = match rng.next_u32() % 100 {
            0 | 1 => -1.5,
            2 => 1.5,
            _ => 0.0,
        };
        let org_effect = spread * rng.normal() + outlier;
        let faller = if rng.next_u32().is_multiple_of(50) {
            -0.6
        } else {
            0.0
        };
        let org_slope = 0.15 + 0.12 * rng.normal() + faller;
        let missing_round = (rng.uniform() < 0.05).then(|| (rng.next_u32() % 2) as usize);
        for (r, round) in rounds.iter().enumerate() {
            if missing_round == Some(r) {
                continue;
            }
            for (p, pillar) in PILLARS.iter().enumerate() {
                let raw = mean
                    + pillar_offset[p]
                    + org_effect
                    + org_slope * r as f64
                    + 0.3 * rng.normal();
                // pillar means of whole-number domain scores: multiples of 1/6
                let score = ((raw.clamp(1.0, 5.0) * 6.0).round()) / 6.0;
                let coverage = if rng.uniform() < 0.04 { 0.6 } else { 1.0 };
                let answered = rng.uniform() > 0.005;
                scores.push(PillarObservation {
                    ods: ods.clone(),
                    round: round.clone(),
                    pillar: (*pillar).to_owned(),
                    score: answered.then_some(score),
                    coverage: if answered { coverage } else { 0.0 },
                });
            }
        }
        orgs.push(OrgInfo {
            name: Some(format!("Synthetic trust {ods}")),
            ods,
            org_type,
            region: Some(format!("Y{}", 56 + i % 7)),
            icb: Some(format!("Q{:02}", i % 42)),
            icb_name: Some(format!("Synthetic ICB {}", i % 42)),
            predecessors: Vec::new(),
        });
    }
    EngineInput {
        previous_round: Some(rounds[1].clone()),
        rounds,
        orgs,
        scores,
        reference: Reference::TypeNational,
        item_matched: None,
        options: Options::default(),
        pillar_titles: Default::default(),
        // multiples of 1/6: six domains a pillar (divergence-v2's resolution)
        grids: grids_of_sixths(&["2023", "2024", "2025"]),
    }
}

fn grids_of_sixths(rounds: &[&str]) -> Vec<PillarGrid> {
    let mut out = Vec::new();
    for round in rounds {
        for (t, ..) in TYPES {
            for pillar in PILLARS {
                out.push(PillarGrid {
                    round: (*round).to_owned(),
                    org_type: t,
                    pillar: pillar.to_owned(),
                    grid: Grid::per_point(6),
                });
            }
        }
    }
    out
}

fn bench_analyse(c: &mut Criterion) {
    let mut group = c.benchmark_group("analyse");
    group.sample_size(10);
    for n in [200, 2_000, 25_000] {
        let input = synthetic(n, 42);
        group.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| {
            b.iter(|| analyse(black_box(input)))
        });
    }
    group.finish();
    // The two methods side by side on the same input (v2 adds the resolution and one family).
    let mut methods = c.benchmark_group("method");
    methods.sample_size(10);
    let mut input = synthetic(25_000, 42);
    for method in [MethodVersion::V1, MethodVersion::V2] {
        input.options.method = method;
        methods.bench_with_input(BenchmarkId::new(method.as_str(), 25_000), &input, |b, i| {
            b.iter(|| analyse(black_box(i)))
        });
    }
    methods.finish();
    let input = synthetic(25_000, 42);
    let analysis = analyse(&input);
    c.bench_function("aggregate_icb/25000", |b| {
        b.iter(|| aggregate(black_box(&input), black_box(&analysis), AggregateBy::Icb))
    });
}

criterion_group!(benches, bench_analyse);
criterion_main!(benches);
