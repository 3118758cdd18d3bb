//! The heatmap (`/app/rounds/{round}/heatmap`): organisations (rows) × pillars and overall
//! (columns), each cell coloured by the robust z of the level on a diverging, colour-blind-safe
//! scale and marked with its tier and flags; sortable by any column, grouped by region or ICB.
//! The table is the chart: every figure is in it as text.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::common::{flag_codes, pillars, region_name, regions, tier_name, z_bin};
use super::{Filters, filter_form, round_nav};
use crate::api::divergence::{analysis, visible_rows};
use crate::domain::divergence::{DivergenceRow, OVERALL, OptionsPatch, Tier};
use crate::state::AppState;
use crate::web::layout::{Page, crumb, num, raw};
use crate::web::session::Viewer;
use crate::web::{WebError, WebResult};

#[derive(Debug, Deserialize)]
pub struct View {
    /// `name`, `ods`, or a column key (pillar or `overall`): sort by its robust z.
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    dir: Option<String>,
    /// `region` (default), `icb` or `none`.
    group: Option<String>,
}

struct OrgRow<'a> {
    ods: &'a str,
    name: &'a str,
    group_key: String,
    group_name: String,
    cells: BTreeMap<&'a str, &'a DivergenceRow>,
}

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    filters: web::Query<Filters>,
    view: web::Query<View>,
) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    let round = path.into_inner();
    let f = filters.into_inner().cleaned()?;
    let view = view.into_inner();
    let computed = analysis(
        &state,
        &viewer.who,
        &round,
        &f.analysis(),
        &OptionsPatch::default(),
    )
    .await?;
    let pillar_list = pillars(&computed);
    let mut columns: Vec<(String, String)> = pillar_list.clone();
    columns.push((OVERALL.to_owned(), "Overall".to_owned()));
    if let Some(p) = &f.pillar {
        columns.retain(|(k, _)| k == p);
        if columns.is_empty() {
            return Err(WebError::BadRequest(format!(
                "`{p}` is not a pillar of this round's framework."
            )));
        }
    }
    let group = view.group.as_deref().unwrap_or("region");
    if !matches!(group, "region" | "icb" | "none") {
        return Err(WebError::BadRequest("Group by region, ICB or none.".into()));
    }
    // By default, the shown column that summarises most: overall, or the one pillar filtered.
    let sort = view.sort.clone().unwrap_or_else(|| {
        columns
            .last()
            .map_or_else(|| OVERALL.to_owned(), |(k, _)| k.clone())
    });
    if !matches!(sort.as_str(), "name" | "ods") && !columns.iter().any(|(k, _)| *k == sort) {
        return Err(WebError::BadRequest(format!("Cannot sort by `{sort}`.")));
    }
    let desc = view.dir.as_deref() == Some("desc");

    let rows = visible_rows(&computed, &f.rows(None), &viewer.who)?;
    let mut orgs: Vec<OrgRow> = Vec::new();
    for r in &rows {
        if orgs.last().is_none_or(|o| o.ods != &*r.org_id) {
            let (group_key, group_name) = match group {
                "icb" => (
                    r.icb_code.as_deref().unwrap_or("").to_owned(),
                    r.icb_name
                        .as_deref()
                        .map_or_else(|| "No ICB".to_owned(), str::to_owned),
                ),
                "region" => {
                    let code = r.region_code.as_deref().unwrap_or("");
                    (
                        code.to_owned(),
                        if code.is_empty() {
                            "National organisations".to_owned()
                        } else {
                            region_name(code).to_owned()
                        },
                    )
                }
                _ => (String::new(), String::new()),
            };
            orgs.push(OrgRow {
                ods: &r.org_id,
                name: r.org_name.as_deref().unwrap_or(&r.org_id),
                group_key,
                group_name,
                cells: BTreeMap::new(),
            });
        }
        if let Some(o) = orgs.last_mut() {
            o.cells.insert(&r.pillar, r);
        }
    }
    let z_of = |o: &OrgRow| o.cells.get(sort.as_str()).and_then(|r| r.level.robust_z);
    orgs.sort_by(|a, b| {
        let by_group = a.group_name.cmp(&b.group_name);
        let within = match sort.as_str() {
            "name" => a.name.cmp(b.name),
            "ods" => a.ods.cmp(b.ods),
            // Organisations without a z go last either way.
            _ => match (z_of(a), z_of(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => a.ods.cmp(b.ods),
            },
        };
        let within = if desc { within.reverse() } else { within };
        by_group.then(within)
    });

    let base = format!("/app/rounds/{round}/heatmap");
    let sort_link = |key: &str| -> String {
        let dir = if sort == key && !desc { "desc" } else { "asc" };
        format!(
            "{base}{}",
            f.query(&[
                ("sort", Some(key)),
                ("dir", Some(dir)),
                ("group", Some(group))
            ])
        )
    };
    let aria_sort = |key: &str| -> &'static str {
        if sort == key {
            if desc { "descending" } else { "ascending" }
        } else {
            "none"
        }
    };
    let mut groups: Vec<(&str, Vec<&OrgRow>)> = Vec::new();
    for o in &orgs {
        match groups.last_mut() {
            Some((name, list)) if *name == o.group_name => list.push(o),
            _ => groups.push((&o.group_name, vec![o])),
        }
    }
    let title = format!("Heatmap: {}", round);
    let page = Page {
        title: &title,
        viewer: Some(&viewer),
        crumbs: vec![
            crumb("Home", "/app"),
            crumb(round.clone(), format!("/app/rounds/{round}")),
        ],
        body_class: "app-wide",
    };
    let group_select = html! {
        div class="nhsuk-form-group" {
            label class="nhsuk-label" for="f-group" { "Group rows by" }
            select class="nhsuk-select" id="f-group" name="group" {
                option value="region" selected[group == "region"] { "Region" }
                option value="icb" selected[group == "icb"] { "ICB" }
                option value="none" selected[group == "none"] { "No grouping" }
            }
        }
        input type="hidden" name="sort" value=(sort);
        input type="hidden" name="dir" value=(if desc { "desc" } else { "asc" });
    };
    Ok(page.render(html! {
        span class="nhsuk-caption-l" { (round) }
        h1 { "Heatmap of levels against peers" }
        (round_nav(&round, &f, "heatmap"))
        (filter_form(&base, &f, &pillar_list, &regions(), group_select))
        (legend())
        p class="nhsuk-body-s" {
            (orgs.len()) " organisations. Each cell is the organisation's score in that pillar against "
            "the median of its peers (" (f.reference.as_deref().unwrap_or("same type nationally")) "), "
            "as a robust z. Select a column heading to sort; select a cell to open the organisation."
        }
        p { a data-download="heatmap" href={ "/app/rounds/" (round) "/divergence.csv" (f.query(&[])) } { "Download this table's rows as CSV" } }
        div class="app-table-scroll" tabindex="0" role="region" aria-label="Heatmap (scrolls sideways)" {
            table class="app-heatmap" id="heatmap" {
                caption class="nhsuk-u-visually-hidden" { "Robust z of each organisation's level, by pillar" }
                thead {
                    tr {
                        th scope="col" aria-sort=(aria_sort("name")) { a href=(sort_link("name")) { "Organisation" } }
                        th scope="col" aria-sort=(aria_sort("ods")) { a href=(sort_link("ods")) { "ODS" } }
                        @for (key, title) in &columns {
                            th scope="col" class="app-numeric" aria-sort=(aria_sort(key)) { a href=(sort_link(key)) { (title) } }
                        }
                    }
                }
                @for (name, list) in &groups {
                    tbody {
                        @if group != "none" {
                            tr class="app-heatmap__group" { th scope="colgroup" colspan=(columns.len() + 2) { (name) " (" (list.len()) ")" } }
                        }
                        @for o in list {
                            tr data-ods=(o.ods) data-group=(o.group_key) {
                                th scope="row" { (o.name) }
                                td { (o.ods) }
                                @for (key, title) in &columns {
                                    (cell(&round, o, key, title))
                                }
                            }
                        }
                    }
                }
            }
        }
    }))
}

fn cell(round: &str, o: &OrgRow, key: &str, title: &str) -> Markup {
    let Some(r) = o.cells.get(key) else {
        return html! { td class="app-z-none" data-pillar=(key) data-z="" data-tier="none" data-flags="" { "–" } };
    };
    let z = r.level.robust_z;
    let flags = flag_codes(r);
    let level_flag = flags
        .iter()
        .any(|c| *c == "LEVEL_BELOW_PEERS" || *c == "LEVEL_ABOVE_PEERS");
    let mark = match r.level.tier {
        Tier::Alarm => "!!",
        Tier::Alert => "!",
        Tier::None => "",
    };
    let label = format!(
        ": {} {}: score {}, robust z {}, {} tier{}",
        o.name,
        title,
        num(r.level.score),
        num(z),
        tier_name(r.level.tier),
        if flags.is_empty() {
            String::new()
        } else {
            format!(", flags {}", flags.join(", "))
        }
    );
    html! {
        td class={ (z_bin(z)) @if level_flag { " app-flagged" } }
            data-pillar=(key) data-z=(raw(z)) data-tier=(tier_name(r.level.tier)) data-flags=(flags.join(",")) {
            a href={ "/app/organisations/" (o.ods) "?round=" (round) } title=(label.trim_start_matches(": ")) {
                (z1(z))
                @if !mark.is_empty() { span class="app-tier" { (mark) } }
                span class="nhsuk-u-visually-hidden" { (label) }
            }
        }
    }
}

fn legend() -> Markup {
    let bins = [
        ("app-z-n3", "z ≤ −3"),
        ("app-z-n2", "−3 to −2"),
        ("app-z-n1", "−2 to −1"),
        ("app-z-0", "−1 to 1"),
        ("app-z-p1", "1 to 2"),
        ("app-z-p2", "2 to 3"),
        ("app-z-p3", "z ≥ 3"),
    ];
    html! {
        div class="app-legend" {
            p class="nhsuk-body-s" { strong { "Key: " } "below peers (red) … level with peers (grey) … above peers (blue)." }
            ul class="app-legend__scale" {
                @for (class, text) in bins { li class=(class) { (text) } }
            }
            p class="nhsuk-body-s" {
                strong { "!" } " alert tier (p < 0.05), " strong { "!!" } " alarm tier (p < 0.002); "
                "a thick border marks a level flag (after the false discovery rate control and "
                "the materiality rule). A dash: no score, or too few peers to compare."
            }
        }
    }
}

/// A z with one decimal (the cell's text; the exact figure is in `data-z` and the label).
fn z1(z: Option<f64>) -> String {
    match z {
        Some(z) if z.is_finite() => {
            let s = format!("{z:.1}");
            if s == "-0.0" {
                "0.0".into()
            } else {
                s.replace('-', "−")
            }
        }
        _ => "–".into(),
    }
}
