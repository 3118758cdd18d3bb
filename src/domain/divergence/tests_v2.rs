//! `divergence-v2` against its worked example (`docs/divergence-v2.md`), whose figures come from
//! an independent script (`docs/divergence_v2_example.py`), not from this engine.

use super::tests::org;
use super::*;
use crate::domain::organisation::OrgType;
use serde_json::Value;

const EXAMPLE: &str = include_str!("../../../docs/divergence_v2_example.json");

fn example() -> (Value, EngineInput) {
    let doc: Value = serde_json::from_str(EXAMPLE).expect("example json");
    let inp = &doc["input"];
    let rounds: Vec<String> = inp["rounds"]
        .as_array()
        .expect("rounds")
        .iter()
        .map(|r| r.as_str().expect("round").to_owned())
        .collect();
    let mut orgs = Vec::new();
    let mut scores = Vec::new();
    for o in inp["orgs"].as_array().expect("orgs") {
        let ods = o["ods"].as_str().expect("ods");
        orgs.push(org(ods, OrgType::Acute));
        for (round, pillars) in o["scores"].as_object().expect("scores") {
            for (pillar, v) in pillars.as_object().expect("pillars") {
                scores.push(PillarObservation {
                    ods: ods.to_owned(),
                    round: round.clone(),
                    pillar: pillar.clone(),
                    score: v.as_f64(),
                    coverage: 1.0,
                });
            }
        }
    }
    let mut grids = Vec::new();
    for r in &rounds {
        for (pillar, d) in inp["pillars"].as_object().expect("pillar sizes") {
            grids.push(PillarGrid {
                round: r.clone(),
                org_type: OrgType::Acute,
                pillar: pillar.clone(),
                grid: Grid::per_point(d.as_u64().expect("D")),
            });
        }
    }
    let input = EngineInput {
        previous_round: inp["previous_round"].as_str().map(str::to_owned),
        rounds,
        orgs,
        scores,
        reference: Reference::TypeNational,
        item_matched: None,
        options: Options::default(),
        pillar_titles: Default::default(),
        grids,
    };
    (doc, input)
}

/// Every number of `expected` equals the same field of `actual` within 1e-4 relative (1e-9
/// absolute near zero); strings, arrays and nulls exactly. Returns how many numbers were checked.
fn compare(path: &str, expected: &Value, actual: &Value) -> usize {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().expect("f64"), a.as_f64().expect("f64"));
            let tol = (1e-4 * e.abs()).max(1e-9);
            assert!((e - a).abs() <= tol, "{path}: expected {e}, engine {a}");
            1
        }
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .map(|(k, v)| {
                let got = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} missing from the engine's row"));
                compare(&format!("{path}.{k}"), v, got)
            })
            .sum(),
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{path}: {expected} vs {actual}");
            e.iter()
                .zip(a)
                .enumerate()
                .map(|(i, (x, y))| compare(&format!("{path}[{i}]"), x, y))
                .sum()
        }
        _ => {
            assert_eq!(expected, actual, "{path}");
            0
        }
    }
}

#[test]
fn the_worked_example_matches_the_independent_script_field_by_field() {
    let (doc, input) = example();
    let analysis = analyse(&input);
    let expected = doc["rows"].as_array().expect("rows");
    assert_eq!(analysis.rows.len(), expected.len());
    let mut checked = 0;
    for e in expected {
        let (ods, pillar) = (
            e["org_id"].as_str().expect("org"),
            e["pillar"].as_str().expect("pillar"),
        );
        let row = analysis
            .rows
            .iter()
            .find(|r| r.org_id == ods && r.pillar == pillar)
            .unwrap_or_else(|| panic!("no row {ods}/{pillar}"));
        let actual = serde_json::to_value(row).expect("row json");
        checked += compare(&format!("{ods}/{pillar}"), e, &actual);
    }
    assert!(checked > 500, "only {checked} figures compared");
    assert_eq!(analysis.family_sizes.round, 72);
    assert_eq!(analysis.version, "divergence-v2");
}

#[test]
fn v1_on_the_same_example_flags_the_change_v2_only_watches() {
    let (_, mut input) = example();
    let v2 = analyse(&input);
    input.options.method = MethodVersion::V1;
    let v1 = analyse(&input);
    let flags = |a: &Analysis, ods: &str, pillar: &str| {
        a.rows
            .iter()
            .find(|r| r.org_id == ods && r.pillar == pillar)
            .map(|r| r.flags.clone())
            .expect("row")
    };
    assert!(flags(&v1, "G", "beta").contains(&Flag::ProgressAbovePeers));
    assert!(!flags(&v2, "G", "beta").contains(&Flag::ProgressAbovePeers));
    let g = v2
        .rows
        .iter()
        .find(|r| r.org_id == "G" && r.pillar == "beta")
        .expect("row");
    let change = g.change.as_deref().expect("change");
    assert!(change.statuses.contains(&Status::Watch));
    assert_eq!(change.reference.scale_method, Some(ScaleMethod::Resolution));
    assert!(
        g.reasons
            .iter()
            .any(|r| r.starts_with("Watch: a change gap"))
    );
    // v1 blocks carry no v2 fields
    let v1_row = &v1.rows[0];
    assert_eq!(v1_row.level.detectable_gap, None);
    assert_eq!(v1_row.reference.resolution, None);
}
