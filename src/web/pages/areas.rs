//! ICBs and regions (`/app/rounds/{round}/areas?by=icb|region&pillar=`): each area's
//! indirectly standardised gap (the mean of its members' gaps to their own type's median, so the
//! mix of organisation types does not decide) with its 95 % interval, as a ranked dot chart with
//! the type mix beside it: never a bare league table.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use maud::{PreEscaped, html};
use serde::Deserialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::common::{pillars, region_name, regions};
use super::{Filters, filter_form, round_nav};
use crate::api::divergence::{aggregate_rows, analysis, visible_rows};
use crate::domain::divergence::{AggregateBy, AggregateRow, Flag, OVERALL, OptionsPatch};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::charts::{Ranked, ranked_dots};
use crate::web::layout::{Page, crumb, raw, signed};
use crate::web::session::Viewer;
use crate::web::{WebError, WebResult};

#[derive(Debug, Deserialize)]
pub struct By {
    by: Option<String>,
}

/// The mean of the members' gaps with its Student-t 95 % interval (PHE `phe_mean`).
fn interval(gaps: &[f64]) -> Option<(f64, f64, f64)> {
    let n = gaps.len();
    if n < 2 {
        return None;
    }
    let mean = gaps.iter().sum::<f64>() / n as f64;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .ok()?
        .inverse_cdf(0.975);
    let half = t * var.sqrt() / (n as f64).sqrt();
    Some((mean, mean - half, mean + half))
}

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    filters: web::Query<Filters>,
    by: web::Query<By>,
) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    let round = path.into_inner();
    let mut f = filters.into_inner().cleaned()?;
    let by_key = by.into_inner().by.unwrap_or_else(|| "icb".to_owned());
    let unit = match by_key.as_str() {
        "icb" => AggregateBy::Icb,
        "region" => AggregateBy::Region,
        _ => return Err(WebError::BadRequest("Compare ICBs or regions.".into())),
    };
    let pillar = f.pillar.clone().unwrap_or_else(|| OVERALL.to_owned());
    f.pillar = Some(pillar.clone());
    // Areas are compared over every organisation type, and each area over all its members: the
    // type and ICB filters do not apply here.
    f.org_type = None;
    f.icb = None;
    let computed = analysis(
        &state,
        &viewer.who,
        &round,
        &f.analysis(),
        &OptionsPatch::default(),
    )
    .await?;
    let pillar_list = pillars(&computed);
    if pillar != OVERALL && !pillar_list.iter().any(|(k, _)| *k == pillar) {
        return Err(WebError::BadRequest(format!(
            "`{pillar}` is not a pillar of this round."
        )));
    }
    let all = aggregate_rows(&computed, &viewer.who, unit)?;
    let mut areas: Vec<&AggregateRow> = all
        .iter()
        .filter(|a| a.pillar == pillar)
        .filter(|a| match (&f.region, unit) {
            (None, _) => true,
            (Some(r), AggregateBy::Region) => &a.code == r,
            (Some(r), AggregateBy::Icb) => computed.icb_regions.get(&a.code) == Some(r),
        })
        .collect();
    areas.sort_by(
        |a, b| match (a.level.standardised_gap, b.level.standardised_gap) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.code.cmp(&b.code),
        },
    );
    // Members' gaps by area, for the intervals (the type reference only: with a peer group the
    // rows' gaps are to the group, not to the type, and no interval is drawn).
    let rows = visible_rows(&computed, &f.rows(Some(&pillar)), &viewer.who)?;
    let mut gaps: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    if f.reference.as_deref().is_none_or(|r| r == "type") {
        for r in &rows {
            let code = match unit {
                AggregateBy::Icb => r.icb_code.as_deref(),
                AggregateBy::Region => r.region_code.as_deref(),
            };
            if let (Some(code), true, Some(g)) = (code, r.level.valid, r.level.gap) {
                gaps.entry(code).or_default().push(g);
            }
        }
    }
    let intervals: BTreeMap<&str, (f64, f64)> = areas
        .iter()
        .filter_map(|a| {
            let (mean, lo, hi) = interval(gaps.get(a.code.as_str())?)?;
            // Shown only when it is the interval of the API's own figure.
            let same = a
                .level
                .standardised_gap
                .is_some_and(|s| (s - mean).abs() < 1e-9);
            same.then_some((a.code.as_str(), (lo, hi)))
        })
        .collect();
    let name_of = |a: &AggregateRow| match unit {
        AggregateBy::Region => a
            .name
            .clone()
            .unwrap_or_else(|| region_name(&a.code).to_owned()),
        AggregateBy::Icb => a.name.clone().unwrap_or_else(|| a.code.clone()),
    };
    let direction = |a: &AggregateRow| {
        if a.flags.contains(&Flag::LevelBelowPeers) {
            -1
        } else if a.flags.contains(&Flag::LevelAbovePeers) {
            1
        } else {
            0
        }
    };
    let ranked: Vec<Ranked> = areas
        .iter()
        .filter_map(|a| {
            Some(Ranked {
                label: name_of(a),
                value: a.level.standardised_gap?,
                interval: intervals.get(a.code.as_str()).copied(),
                direction: direction(a),
            })
        })
        .collect();
    let what = if unit == AggregateBy::Icb {
        "ICBs"
    } else {
        "Regions"
    };
    let chart_label = format!("{what} ranked by standardised gap, with 95 % intervals");
    let chart = ranked_dots("areas-chart", &chart_label, &ranked).map_err(AppError::Internal)?;
    let base = format!("/app/rounds/{round}/areas");
    let title = format!("{what}: {round}");
    let page = Page {
        title: &title,
        viewer: Some(&viewer),
        crumbs: vec![
            crumb("Home", "/app"),
            crumb(round.clone(), format!("/app/rounds/{round}")),
        ],
        body_class: "",
    };
    let by_select = html! {
        div class="nhsuk-form-group" {
            label class="nhsuk-label" for="f-by" { "Compare" }
            select class="nhsuk-select" id="f-by" name="by" {
                option value="icb" selected[unit == AggregateBy::Icb] { "ICBs" }
                option value="region" selected[unit == AggregateBy::Region] { "Regions" }
            }
        }
    };
    Ok(page.render(html! {
        span class="nhsuk-caption-l" { (round) }
        h1 { (what) " compared" }
        (round_nav(&round, &f, "areas"))
        (filter_form(&base, &f, &pillar_list, &regions(), by_select))
        p {
            "Each area's standardised gap is the mean of its organisations' gaps to the median "
            "of their own type, so an area is not ahead or behind just because of its mix of "
            "trusts. The line through a dot is its 95 % interval (Student t over its members), "
            "a description of how spread its members are: it is not the test behind a flag. "
            "Red dots are areas flagged below the others, blue above: an area's gap is "
            "compared with every other area's by robust z, with the false discovery rate "
            "controlled across all areas, as for organisations. The type mix of each area is "
            "in the table."
        }
        div class="nhsuk-grid-row" {
            div class="nhsuk-grid-column-two-thirds" {
                figure class="app-figure" {
                    (PreEscaped(chart))
                    figcaption class="nhsuk-body-s" { (chart_label) "." }
                }
            }
        }
        p { a data-download="areas" href={ "/app/rounds/" (round) "/areas.csv" (f.query(&[("by", Some(&by_key))])) } { "Download this table as CSV" } }
        div class="app-table-scroll" tabindex="0" role="region" aria-label="Areas table (scrolls sideways)" {
            table class="nhsuk-table app-table-compact" id="areas-table" {
                caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { (chart_label) }
                thead {
                    tr {
                        th scope="col" { "Area" }
                        th scope="col" class="app-numeric" { "Standardised gap" }
                        th scope="col" class="app-numeric" { "95 % interval" }
                        th scope="col" class="app-numeric" { "Members" }
                        th scope="col" { "Type mix" }
                        th scope="col" { "Flags" }
                    }
                }
                tbody {
                    @for a in &areas {
                        tr data-code=(a.code) data-standardised-gap=(raw(a.level.standardised_gap)) data-n=(a.n_members) {
                            th scope="row" { (name_of(a)) " (" (a.code) ")" }
                            td class="app-numeric" { (signed(a.level.standardised_gap)) }
                            td class="app-numeric" {
                                @if let Some((lo, hi)) = intervals.get(a.code.as_str()) {
                                    (signed(Some(*lo))) " to " (signed(Some(*hi)))
                                } @else { "–" }
                            }
                            td class="app-numeric" { (a.n_members) }
                            td {
                                @for (i, (t, n)) in a.type_mix.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (t.label()) " " (n)
                                }
                            }
                            td { (a.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            }
        }
    }))
}
