//! Loads the synthetic demonstration rounds: 2023/24 on the Nov 2023 trust population, 2024/25
//! and 2025/26 on today's, with the real mergers between them, on the seeded WGLL framework.
//! Returns come from the deterministic generator in `crate::demo` and are scored by the same code
//! as real submissions. Every demo round is titled and flagged as synthetic.
//!
//! The national-scale variant ([`load_synthetic`], `dma seed --synthetic --organisations N`) makes
//! the same three rounds with synthetic GP practices and adult social care providers added to the
//! register (`crate::demo::national`) until N organisations are open, every one of them with a
//! return in every round.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::{TRUSTS_2023, WGLL_FRAMEWORK_KEY};
use crate::db::assessments::{self, AssessmentRow};
use crate::db::audit::{self, Actor, NewAuditEvent};
use crate::db::rounds::{self, RoundRow};
use crate::db::scores as stored_scores;
use crate::db::{DbConnection, frameworks, now, organisations};
use crate::demo::national::synthetic_organisations;
use crate::demo::{DEMO_SEED, DemoOrg, DemoRound, designations, generate};
use crate::domain::lifecycle::{AssessmentStatus, RoundStatus};
use crate::domain::organisation::OrgType;
use crate::domain::scoring::score;
use crate::error::{AppError, AppResult};

/// The demo rounds: key, title, opening day, closing day, population ("2023" or "2026").
const ROUNDS: [(&str, &str, &str, &str, &str); 3] = [
    (
        "2023-24",
        "DMA 2023/24 (synthetic demo data)",
        "2023-11-01",
        "2024-01-31",
        "2023",
    ),
    (
        "2024-25",
        "DMA 2024/25 (synthetic demo data)",
        "2024-11-01",
        "2025-01-31",
        "2026",
    ),
    (
        "2025-26",
        "DMA 2025/26 (synthetic demo data)",
        "2025-11-01",
        "2026-01-31",
        "2026",
    ),
];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub rounds_added: usize,
    pub returns_added: usize,
    pub submitted: usize,
    /// `(ods, role)` of the organisations deliberately falling behind or pulling ahead.
    pub designated: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Code {
    ods_code: String,
}

fn day(s: &str) -> AppResult<NaiveDateTime> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(AppError::internal)?
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| AppError::internal("date"))
}

/// The organisations of a demo round: the 2023 trust list or today's open trusts, plus the ICBs,
/// each with its type from the register.
fn population(conn: &mut DbConnection, which: &str) -> AppResult<Vec<DemoOrg>> {
    let register = organisations::all(conn)?;
    let types: BTreeMap<&str, OrgType> = register
        .iter()
        .filter_map(|o| Some((o.ods_code.as_str(), OrgType::parse(&o.org_type)?)))
        .collect();
    let codes: Vec<String> = if which == "2023" {
        let trusts: Vec<Code> = csv::Reader::from_reader(TRUSTS_2023.as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()
            .map_err(AppError::internal)?;
        trusts
            .into_iter()
            .map(|c| c.ods_code)
            .chain(
                register
                    .iter()
                    .filter(|o| o.org_type == "icb")
                    .map(|o| o.ods_code.clone()),
            )
            .collect()
    } else {
        register
            .iter()
            .filter(|o| o.closed_on.is_none())
            .map(|o| o.ods_code.clone())
            .collect()
    };
    Ok(codes
        .into_iter()
        .filter_map(|ods| {
            let org_type = *types.get(ods.as_str())?;
            Some(DemoOrg { ods, org_type })
        })
        .collect())
}

/// Loads the demo rounds unless the first of them already exists (idempotent).
pub fn load_demo(conn: &mut DbConnection) -> AppResult<DemoReport> {
    if rounds::find(conn, ROUNDS[0].0)?.is_some() {
        return Ok(DemoReport::default());
    }
    load_rounds(conn, &[], DEMO_SEED, None)
}

/// The national-scale synthetic data set: synthetic GP practices and social care providers added
/// to the register (in the real ICBs and regions) until `organisations` are open, then the three
/// demo rounds with a return for every one of them, generated from `seed`. Refused (409) when the
/// demo rounds exist already, since published rounds cannot take more returns: make it on a
/// database started with `DMA_DEMO=false`.
pub fn load_synthetic(
    conn: &mut DbConnection,
    organisations: usize,
    seed: u64,
) -> AppResult<DemoReport> {
    if rounds::find(conn, ROUNDS[0].0)?.is_some() {
        return Err(AppError::Conflict(
            "the demo rounds exist already and are published: make the national data set on a \
             database without them (start with DMA_DEMO=false, then `dma seed --synthetic`)"
                .into(),
        ));
    }
    let register = organisations::all(conn)?;
    let open = register.iter().filter(|o| o.closed_on.is_none()).count();
    let icbs: Vec<(String, Option<String>)> = register
        .iter()
        .filter(|o| o.org_type == OrgType::Icb.as_str() && o.closed_on.is_none())
        .map(|o| (o.ods_code.clone(), o.region_code.clone()))
        .collect();
    let known: std::collections::HashSet<&str> =
        register.iter().map(|o| o.ods_code.as_str()).collect();
    let added = synthetic_organisations(&icbs, organisations.saturating_sub(open), seed)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "{organisations} organisations need more synthetic codes than there are (at most \
                 {} of each type) or an ICB in the register",
                crate::demo::national::MAX_PER_TYPE
            ))
        })?;
    crate::db::write_transaction(conn, |c| {
        let t = now();
        for o in added.iter().filter(|o| !known.contains(o.ods.as_str())) {
            organisations::insert(
                c,
                &organisations::OrganisationRow {
                    ods_code: o.ods.clone(),
                    name: o.name.clone(),
                    org_type: o.org_type.as_str().to_owned(),
                    region_code: o.region.clone(),
                    icb_code: Some(o.icb.clone()),
                    opened_on: None,
                    closed_on: None,
                    successor_code: None,
                    created_at: t,
                    updated_at: t,
                },
            )?;
        }
        Ok::<_, AppError>(())
    })?;
    crate::db::analyze(conn)?;
    let extra: Vec<DemoOrg> = added
        .into_iter()
        .map(|o| DemoOrg {
            ods: o.ods,
            org_type: o.org_type,
        })
        .collect();
    load_rounds(conn, &extra, seed, Some(organisations))
}

/// The three rounds, on the demo populations plus `extra` organisations in every round.
/// `national` is the size of a national data set (it goes into the titles).
fn load_rounds(
    conn: &mut DbConnection,
    extra: &[DemoOrg],
    seed: u64,
    national: Option<usize>,
) -> AppResult<DemoReport> {
    let framework = frameworks::find(conn, WGLL_FRAMEWORK_KEY)?
        .ok_or_else(|| {
            AppError::internal("the seeded framework is missing; load reference data first")
        })?
        .framework()
        .map_err(AppError::internal)?;
    let mut demo_rounds = Vec::new();
    for (key, _, _, _, pop) in ROUNDS {
        let mut orgs = population(conn, pop)?;
        // Today's population already holds the synthetic organisations (they are open in the
        // register); the 2023 one does not.
        let present: std::collections::HashSet<String> =
            orgs.iter().map(|o| o.ods.clone()).collect();
        orgs.extend(extra.iter().filter(|o| !present.contains(&o.ods)).cloned());
        demo_rounds.push(DemoRound {
            key: key.into(),
            orgs,
        });
    }
    let lineage: Vec<(String, String)> = organisations::all_predecessors(conn)?
        .into_iter()
        .map(|e| (e.predecessor_code, e.successor_code))
        .collect();
    let returns = generate(&framework, &demo_rounds, &lineage, seed);
    let types: BTreeMap<&str, OrgType> = demo_rounds
        .iter()
        .flat_map(|r| r.orgs.iter().map(|o| (o.ods.as_str(), o.org_type)))
        .collect();
    let mut report = DemoReport {
        designated: designations(&framework, &demo_rounds, seed)
            .into_iter()
            .map(|d| (d.ods, d.role.to_owned()))
            .collect(),
        ..Default::default()
    };
    for (key, demo_title, opens, closes, _) in ROUNDS {
        let (opens_at, closes_at) = (day(opens)?, day(closes)?);
        let title = match national {
            Some(n) => demo_title.replace(
                "(synthetic demo data)",
                &format!("(synthetic national data, {n} organisations)"),
            ),
            None => demo_title.to_owned(),
        };
        let round_returns: Vec<_> = returns.iter().filter(|r| r.round == key).collect();
        crate::db::write_transaction(conn, |c| {
            crate::db::plan_for_bulk_load(c)?;
            let t = now();
            rounds::insert(
                c,
                &RoundRow {
                    key: key.into(),
                    title: title.clone(),
                    framework_key: framework.key.clone(),
                    opens_at,
                    closes_at,
                    // Closed while its returns go in, then published: a published round's
                    // returns cannot change (the database refuses it).
                    status: RoundStatus::Closed,
                    synthetic: true,
                    created_at: t,
                    updated_at: t,
                },
            )?;
            for r in &round_returns {
                let Some(org_type) = types.get(r.ods.as_str()).copied() else {
                    continue;
                };
                let id = uuid::Uuid::new_v4().to_string();
                let submitted_at = closes_at - chrono::TimeDelta::days(7);
                assessments::insert(
                    c,
                    &AssessmentRow {
                        id: id.clone(),
                        round_key: key.into(),
                        ods_code: r.ods.clone(),
                        status: if r.submitted {
                            AssessmentStatus::Submitted
                        } else {
                            AssessmentStatus::Draft
                        },
                        version: if r.submitted { 2 } else { 1 },
                        answers: serde_json::to_string(&r.answers).map_err(AppError::internal)?,
                        created_at: opens_at,
                        updated_at: if r.submitted { submitted_at } else { opens_at },
                        submitted_at: r.submitted.then_some(submitted_at),
                        submitted_by: r.submitted.then(|| "demo".to_owned()),
                    },
                )?;
                if r.submitted {
                    let scores = score(&framework, org_type, &r.answers);
                    stored_scores::store_scores(c, &id, key, &r.ods, &scores)?;
                    report.submitted += 1;
                }
                report.returns_added += 1;
            }
            rounds::transition(c, key, RoundStatus::Closed, RoundStatus::Published, t)?;
            let summary = serde_json::json!({ "synthetic": true, "returns": round_returns.len(), "seed": seed, "national": national });
            audit::record(
                c,
                &NewAuditEvent::new(&Actor::system("seed"), "create_demo", "round", key, summary),
            )?;
            Ok::<_, AppError>(())
        })?;
        report.rounds_added += 1;
    }
    crate::db::vacuum_analyze(conn)?;
    Ok(report)
}
