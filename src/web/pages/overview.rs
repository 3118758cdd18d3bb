//! The round overview (`/app/rounds/{round}`): completion by type and region, the number of
//! organisations flagged by pillar and flag, the organisations behind and falling further
//! behind, and links into every other page with the filters kept.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpResponse, web};
use maud::html;

use super::common::{flag_label, pillars, region_name, regions};
use super::{Filters, filter_form, round_nav};
use crate::api::divergence::{analysis, visible_rows};
use crate::api::rounds::{StatusCounts, completion_of, find_round};
use crate::domain::divergence::{Flag, OVERALL, OptionsPatch};
use crate::domain::lifecycle::RoundStatus;
use crate::state::AppState;
use crate::web::WebResult;
use crate::web::layout::{Page, crumb};
use crate::web::pages::home::status_tag;
use crate::web::session::Viewer;

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    filters: web::Query<Filters>,
) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    let round = path.into_inner();
    let f = filters.into_inner().cleaned()?;
    let (cache, key) = (state.frameworks.clone(), round.clone());
    let (row, completion) = crate::api::with_conn(&state, move |c| {
        let row = find_round(c, &key)?;
        let completion = completion_of(c, &cache, &key)?;
        Ok((row, completion))
    })
    .await?;
    let computed = analysis(
        &state,
        &viewer.who,
        &round,
        &f.analysis(),
        &OptionsPatch::default(),
    )
    .await?;
    let pillar_list = pillars(&computed);
    f.check_pillar(&pillar_list)?;
    let rows = visible_rows(&computed, &f.rows(f.pillar.as_deref()), &viewer.who)?;

    // Completion, after the type, region and ICB filters.
    let mut by_type: BTreeMap<String, StatusCounts> = BTreeMap::new();
    let mut by_region: BTreeMap<String, StatusCounts> = BTreeMap::new();
    for e in &completion.organisations {
        let keep = f.org_type.as_deref().is_none_or(|t| t == e.org_type)
            && f.region
                .as_deref()
                .is_none_or(|r| e.region_code.as_deref() == Some(r))
            && f.icb
                .as_deref()
                .is_none_or(|i| e.icb_code.as_deref() == Some(i));
        if !keep {
            continue;
        }
        for (map, k) in [
            (&mut by_type, e.org_type.clone()),
            (
                &mut by_region,
                e.region_code.clone().unwrap_or_else(|| "national".into()),
            ),
        ] {
            let c = map.entry(k).or_default();
            c.total += 1;
            match e.status {
                crate::domain::lifecycle::AssessmentStatus::NotStarted => c.not_started += 1,
                crate::domain::lifecycle::AssessmentStatus::Draft => c.draft += 1,
                crate::domain::lifecycle::AssessmentStatus::Submitted => c.submitted += 1,
                crate::domain::lifecycle::AssessmentStatus::Reopened => c.reopened += 1,
            }
        }
    }

    // Distinct organisations per (pillar, flag).
    let mut flagged: BTreeMap<(String, Flag), BTreeSet<&str>> = BTreeMap::new();
    for r in &rows {
        for fl in &r.flags {
            flagged
                .entry((r.pillar.to_string(), *fl))
                .or_default()
                .insert(&r.org_id);
        }
    }
    let mut columns: Vec<(String, String)> = pillar_list.clone();
    columns.push((OVERALL.to_owned(), "Overall".to_owned()));
    if let Some(p) = &f.pillar {
        columns.retain(|(k, _)| k == p);
    }
    let count = |p: &str, fl: Flag| flagged.get(&(p.to_owned(), fl)).map_or(0, BTreeSet::len);

    // Organisations behind and falling further behind, worst first.
    let mut priority: Vec<_> = rows
        .iter()
        .filter(|r| r.flags.contains(&Flag::PriorityFallingBehind))
        .collect();
    priority.sort_by(|a, b| {
        a.level
            .robust_z
            .unwrap_or(0.0)
            .total_cmp(&b.level.robust_z.unwrap_or(0.0))
    });
    let mut level_below: Vec<_> = rows
        .iter()
        .filter(|r| {
            r.flags.contains(&Flag::LevelBelowPeers)
                && !r.flags.contains(&Flag::PriorityFallingBehind)
        })
        .collect();
    level_below.sort_by(|a, b| {
        a.level
            .robust_z
            .unwrap_or(0.0)
            .total_cmp(&b.level.robust_z.unwrap_or(0.0))
    });
    let n_orgs: BTreeSet<&str> = rows.iter().map(|r| &*r.org_id).collect();
    let n_flagged: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.flags.iter().any(|f| f.is_tested()))
        .map(|r| &*r.org_id)
        .collect();

    let base = format!("/app/rounds/{round}");
    let page = Page {
        title: &row.title,
        viewer: Some(&viewer),
        crumbs: vec![crumb("Home", "/app")],
        body_class: "",
    };
    Ok(page.render(html! {
        span class="nhsuk-caption-l" { "Round overview" }
        h1 { (row.title) " " strong class=(status_tag(row.status)) { (format!("{:?}", row.status)) } }
        @if row.status != RoundStatus::Published {
            div class="nhsuk-warning-callout" {
                h2 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "Not yet published" } }
                p { "Returns in this round can still change; only analysts and administrators see these results." }
            }
        }
        (round_nav(&round, &f, "overview"))
        (filter_form(&base, &f, &pillar_list, &regions(), html! {}))
        p class="nhsuk-body" {
            strong { (n_flagged.len()) } " of " (n_orgs.len()) " organisations shown have at least one flag from a test "
            "(" (computed.analysis.version) ", " (computed.loaded.input.rounds.len()) " rounds used"
            @if let Some(p) = &computed.loaded.input.previous_round { ", change against " (p) }
            ")."
        }
        h2 class="nhsuk-heading-m" id="priority" { "Behind and falling further behind" }
        @if priority.is_empty() && level_below.is_empty() {
            p { "No organisation shown is flagged below its peers." }
        } @else {
            ul class="nhsuk-list nhsuk-list--bullet" id="flagged-orgs" {
                @for r in priority.iter().chain(level_below.iter()) {
                    li {
                        a href={ "/app/organisations/" (r.org_id) "?round=" (round) } {
                            (r.org_name.as_deref().unwrap_or(&r.org_id)) " (" (r.org_id) ")"
                        }
                        " – " (r.pillar_title) ": "
                        @for (i, fl) in r.flags.iter().filter(|f| f.is_tested()).enumerate() {
                            @if i > 0 { ", " }
                            (flag_label(fl.as_str()))
                        }
                    }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "Organisations flagged, by pillar and flag" }
        div class="app-table-scroll" tabindex="0" role="region" aria-label="Flags by pillar (scrolls sideways)" {
            table class="nhsuk-table app-table-compact" id="flags-by-pillar" {
                caption class="nhsuk-table__caption" { "Number of organisations with each flag" }
                thead class="nhsuk-table__head" {
                    tr {
                        th scope="col" { "Pillar" }
                        @for fl in Flag::ALL { th scope="col" class="app-numeric" { (flag_label(fl.as_str())) } }
                    }
                }
                tbody class="nhsuk-table__body" {
                    @for (key, title) in &columns {
                        tr {
                            th scope="row" { a href={ (base) "/heatmap" (f.query(&[])) } { (title) } }
                            @for fl in Flag::ALL {
                                td class="app-numeric" data-pillar=(key) data-flag=(fl.as_str()) data-count=(count(key, fl)) { (count(key, fl)) }
                            }
                        }
                    }
                }
            }
        }
        p { a data-download="divergence" href={ (base) "/divergence.csv" (f.query(&[])) } { "Download every organisation × pillar row as CSV" } }
        div class="nhsuk-grid-row" {
            div class="nhsuk-grid-column-one-half" {
                h2 class="nhsuk-heading-m" { "Completion by type" }
                table class="nhsuk-table app-table-compact" id="completion-by-type" {
                    caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Completion by organisation type" }
                    thead { tr { th scope="col" { "Type" } th scope="col" class="app-numeric" { "Submitted" } th scope="col" class="app-numeric" { "In scope" } } }
                    tbody {
                        @for (t, c) in &by_type {
                            tr data-type=(t) data-submitted=(c.submitted) data-total=(c.total) {
                                th scope="row" { (t.replace('_', " ")) }
                                td class="app-numeric" { (c.submitted) }
                                td class="app-numeric" { (c.total) }
                            }
                        }
                    }
                }
            }
            div class="nhsuk-grid-column-one-half" {
                h2 class="nhsuk-heading-m" { "Completion by region" }
                table class="nhsuk-table app-table-compact" id="completion-by-region" {
                    caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Completion by region" }
                    thead { tr { th scope="col" { "Region" } th scope="col" class="app-numeric" { "Submitted" } th scope="col" class="app-numeric" { "In scope" } } }
                    tbody {
                        @for (r, c) in &by_region {
                            tr data-region=(r) data-submitted=(c.submitted) data-total=(c.total) {
                                th scope="row" { (if r == "national" { "National organisations" } else { region_name(r) }) }
                                td class="app-numeric" { (c.submitted) }
                                td class="app-numeric" { (c.total) }
                            }
                        }
                    }
                }
            }
        }
        p { a data-download="completion" href={ (base) "/completion.csv" } { "Download completion as CSV" } }
    }))
}
