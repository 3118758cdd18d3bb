//! The full simulation of `docs/divergence-v2.md` ("Simulation"): null false-flag rates of v1
//! and v2 on the real 2026 trust population (400 rounds each, with the Monte-Carlo standard
//! error), and detection rates of planted divergences of 2, 4 and 6 peer standard deviations in
//! level and change at 10, 30 and 120 peers. Deterministic; prints Markdown tables.
//!
//! `cargo bench --bench divergence_sim` (optionally `-- <null rounds> <replicates per cell>`).

use dma::domain::divergence::MethodVersion;
use dma::domain::divergence::simulate::*;
use dma::domain::organisation::OrgType;
use std::time::Instant;

fn trusts() -> Vec<(String, OrgType)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/seeds/organisations/trusts_2026.csv"
    );
    let mut r = csv::Reader::from_path(path).expect("trusts csv");
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            (rec[0].to_owned(), OrgType::parse(&rec[2]).expect("type"))
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; numbers after it are ours.
    let nums: Vec<u64> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let null_rounds = nums.first().copied().unwrap_or(400);
    let reps = nums.get(1).copied().unwrap_or(200);
    let started = Instant::now();
    let pop = trusts();
    println!(
        "Population: {} trusts of 2026 (seeds/organisations/trusts_2026.csv); 3 rounds; \
         focal round 3 against round 2; default options.\n",
        pop.len()
    );
    println!("### Null rounds (no divergence): share of rounds with any tested flag\n");
    println!(
        "| scores | method | rounds | share with a tested flag | MC s.e. | tested flags a round | tests a round |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (model, name) in [
        (Model::dma(), "pillar means of 5–8 levels"),
        (Model::whole_numbers(), "whole numbers (one level a pillar)"),
    ] {
        let sim = Simulation::new(&pop, &model, 2026);
        for method in [MethodVersion::V1, MethodVersion::V2] {
            let r = null_rate(&sim, method, null_rounds);
            println!(
                "| {name} | {} | {} | {:.3} | {:.3} | {:.2} | {:.0} |",
                method.as_str(),
                r.rounds,
                r.share(),
                r.standard_error(),
                r.flags_per_round(),
                r.mean_tests
            );
        }
    }
    println!(
        "\n### Detection of one planted divergence (v2, pillar means; one acute trust, one pillar)\n"
    );
    println!(
        "Share of {reps} replicates in which the planted trust gets LEVEL_BELOW_PEERS (level) or"
    );
    println!(
        "PROGRESS_BELOW_PEERS (change) in the planted pillar; in brackets the mean realised gap in"
    );
    println!("peer SDs (after rounding to levels and clamping to 1–5).\n");
    println!("| peers (acute type size) | metric | peer SD | 2 SD | 4 SD | 6 SD |");
    println!("|---|---|---|---|---|---|");
    let model = Model::dma();
    for n in [10usize, 30, 120] {
        let sized = with_type_size(&pop, OrgType::Acute, n);
        let sim = Simulation::new(&sized, &model, 2026 + n as u64);
        let pillar = 2;
        let (sd_level, sd_change) = peer_sds(&sim, OrgType::Acute, pillar, 50);
        for (metric, sd, name) in [
            (PlantMetric::Level, sd_level, "level"),
            (PlantMetric::Change, sd_change, "change"),
        ] {
            let mut cells = Vec::new();
            for k in [2.0, 4.0, 6.0] {
                let plant = Plant {
                    org: 0,
                    pillar,
                    metric,
                    shift: k * sd,
                };
                let (rate, gap) = detection_rate(&sim, &plant, reps);
                cells.push(format!("{rate:.2} ({:.1})", gap / sd));
            }
            println!("| {n} | {name} | {sd:.3} | {} |", cells.join(" | "));
        }
    }
    eprintln!("elapsed {:.1} s", started.elapsed().as_secs_f64());
}
