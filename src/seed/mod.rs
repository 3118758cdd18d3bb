//! Reference data loaded idempotently from `seeds/` (embedded in the binary, so it runs from any
//! directory): the 42 ICBs, the 202 trusts of 2026, the 11 trusts of 2023 since merged or closed,
//! and merger lineage. The synthetic demo rounds are in `demo`.

pub mod demo;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::db::audit::{self, Actor, NewAuditEvent};
use crate::db::frameworks::{self, FrameworkRow};
use crate::db::organisations::{self as orgs, OrganisationRow, PredecessorRow};
use crate::db::{DbConnection, now};
use crate::domain::framework::Framework;
use crate::domain::lifecycle::FrameworkStatus;
use crate::error::{AppError, AppResult};

const ICBS: &str = include_str!("../../seeds/organisations/icbs_2023.csv");
const TRUSTS_2026: &str = include_str!("../../seeds/organisations/trusts_2026.csv");
const CLOSURES: &str = include_str!("../../seeds/organisations/closures.csv");
const OPENED: &str = include_str!("../../seeds/organisations/opened.csv");
/// Key of the seeded framework.
pub const WGLL_FRAMEWORK_KEY: &str = "wgll-2025";

/// The seeded What-Good-Looks-Like framework (staged, 7 pillars), published on load.
pub const WGLL_FRAMEWORK: &str = include_str!("../../seeds/frameworks/wgll-2025.json");

/// The Nov 2023 trust population (used by the demo rounds).
pub const TRUSTS_2023: &str = include_str!("../../seeds/organisations/trusts_2023.csv");

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub organisations_added: usize,
    pub lineage_links_added: usize,
    pub frameworks_added: usize,
}

#[derive(Deserialize)]
struct IcbRecord {
    icb_code: String,
    name: String,
    region_code: String,
}

#[derive(Deserialize)]
struct TrustRecord {
    ods_code: String,
    name: String,
    trust_type: String,
    region_code: String,
    icb_code: String,
    predecessor_codes: String,
    merger_date: String,
}

#[derive(Deserialize)]
struct ClosureRecord {
    ods_code: String,
    name: String,
    trust_type: String,
    region_code: String,
    icb_code: String,
    close_date: String,
    successor_code: String,
    merger_date: String,
}

#[derive(Deserialize)]
struct OpenedRecord {
    ods_code: String,
    opened_on: String,
}

fn records<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> AppResult<Vec<T>> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|e| AppError::internal(format!("seed file {name}: {e}")))
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn date(s: &str) -> AppResult<Option<NaiveDate>> {
    match opt(s) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map(Some)
            .map_err(|e| AppError::internal(format!("seed date `{d}`: {e}"))),
    }
}

fn row(
    ods: &str,
    name: &str,
    org_type: &str,
    region: &str,
    icb: Option<String>,
) -> OrganisationRow {
    let t = now();
    OrganisationRow {
        ods_code: ods.trim().to_owned(),
        name: name.trim().to_owned(),
        org_type: org_type.trim().to_owned(),
        region_code: opt(region),
        icb_code: icb,
        opened_on: None,
        closed_on: None,
        successor_code: None,
        created_at: t,
        updated_at: t,
    }
}

/// Loads the organisation register; rows already present are left as they are.
pub fn load_reference_data(conn: &mut DbConnection) -> AppResult<SeedReport> {
    let icbs: Vec<IcbRecord> = records("icbs_2023.csv", ICBS)?;
    let trusts: Vec<TrustRecord> = records("trusts_2026.csv", TRUSTS_2026)?;
    let closures: Vec<ClosureRecord> = records("closures.csv", CLOSURES)?;
    let opened: Vec<OpenedRecord> = records("opened.csv", OPENED)?;
    crate::db::write_transaction(conn, |c| {
        let mut report = SeedReport::default();
        for i in &icbs {
            let r = row(&i.icb_code, &i.name, "icb", &i.region_code, None);
            report.organisations_added += usize::from(orgs::insert_if_missing(c, &r)?);
        }
        for t in &trusts {
            let mut r = row(
                &t.ods_code,
                &t.name,
                &t.trust_type,
                &t.region_code,
                opt(&t.icb_code),
            );
            r.opened_on = opened
                .iter()
                .find(|o| o.ods_code == t.ods_code)
                .map(|o| date(&o.opened_on))
                .transpose()?
                .flatten();
            report.organisations_added += usize::from(orgs::insert_if_missing(c, &r)?);
        }
        for x in &closures {
            let mut r = row(
                &x.ods_code,
                &x.name,
                &x.trust_type,
                &x.region_code,
                opt(&x.icb_code),
            );
            r.closed_on = date(&x.close_date)?;
            r.successor_code = opt(&x.successor_code);
            report.organisations_added += usize::from(orgs::insert_if_missing(c, &r)?);
            if let Some(s) = opt(&x.successor_code) {
                let edge = PredecessorRow {
                    successor_code: s,
                    predecessor_code: x.ods_code.clone(),
                    merged_on: date(&x.merger_date)?,
                };
                report.lineage_links_added += usize::from(orgs::link_predecessor(c, &edge)?);
            }
        }
        for t in &trusts {
            for p in t
                .predecessor_codes
                .split([';', ' ', '|'])
                .filter(|p| !p.is_empty())
            {
                let edge = PredecessorRow {
                    successor_code: t.ods_code.clone(),
                    predecessor_code: p.to_owned(),
                    merged_on: date(&t.merger_date)?,
                };
                report.lineage_links_added += usize::from(orgs::link_predecessor(c, &edge)?);
            }
        }
        report.frameworks_added = load_framework(c, WGLL_FRAMEWORK)?;
        Ok::<_, AppError>(report)
    })
    .and_then(|report| {
        // Fresh statistics after a bulk load; nothing to refresh when nothing was added.
        if report != SeedReport::default() {
            crate::db::analyze(conn)?;
        }
        Ok(report)
    })
}

/// Stores a seeded framework as published unless its key exists; returns 1 when added.
fn load_framework(conn: &mut DbConnection, document: &str) -> AppResult<usize> {
    let framework: Framework = serde_json::from_str(document)
        .map_err(|e| AppError::internal(format!("seeded framework: {e}")))?;
    if let Err(problems) = framework.validate() {
        let first = problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(AppError::internal(format!(
            "seeded framework invalid: {first}"
        )));
    }
    if frameworks::find(conn, &framework.key)?.is_some() {
        return Ok(0);
    }
    let t = now();
    let mut row = FrameworkRow::new(
        &framework,
        serde_json::to_string(&framework).map_err(AppError::internal)?,
        t,
    );
    row.status = FrameworkStatus::Published;
    row.published_at = Some(t);
    frameworks::insert(conn, &row)?;
    let summary = serde_json::json!({ "seeded": true, "questions": framework.question_count() });
    audit::record(
        conn,
        &NewAuditEvent::new(
            &Actor::system("seed"),
            "create",
            "framework",
            &framework.key,
            summary,
        ),
    )?;
    Ok(1)
}
