//! One organisation (`/app/organisations/{ods}?round=`): each pillar's score across every round
//! against its peers' median and interquartile band, its merger lineage where it was used, every
//! flag with its plain-English reason, and its domain scores with titles. The print stylesheet
//! turns it into a one-page board summary. A submitter sees only its own organisations, only in
//! published rounds, and its peers only as the API's disclosure rules allow (quartiles, never
//! another organisation's score).

use actix_web::{HttpResponse, web};
use maud::{PreEscaped, html};
use serde::Deserialize;

use super::common::{flag_label, tier_name};
use crate::api::divergence::{AnalysisQuery, OrganisationDivergence, organisation_report};
use crate::api::scores::organisation_history;
use crate::db::rounds;
use crate::domain::divergence::OVERALL;
use crate::domain::lifecycle::RoundStatus;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::charts::{RoundFigure, history};
use crate::web::layout::{Page, crumb, num, raw, signed};
use crate::web::session::Viewer;
use crate::web::{WebError, WebResult};

#[derive(Debug, Deserialize)]
pub struct RoundQuery {
    round: Option<String>,
}

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    q: web::Query<RoundQuery>,
) -> WebResult<HttpResponse> {
    let ods = path.into_inner();
    if !viewer.who.may_read_org(&ods) {
        return Err(WebError::Forbidden(
            "You can see only your own organisation's pages.".into(),
        ));
    }
    let national = viewer.who.is_national_reader();
    let (cache, code) = (state.frameworks.clone(), ods.clone());
    let (all_rounds, scores) = crate::api::with_conn(&state, move |c| {
        let rs = rounds::list(c)?;
        let history = organisation_history(c, &cache, &code)?;
        Ok((rs, history))
    })
    .await?;
    // Rounds this person may see results of: published ones, and for national readers any
    // round that has started.
    let visible: Vec<_> = all_rounds
        .iter()
        .filter(|r| {
            r.status == RoundStatus::Published || (national && r.status != RoundStatus::Planned)
        })
        .collect();
    let focal_key = match q.into_inner().round {
        Some(r) => {
            if !visible.iter().any(|v| v.key == r) {
                // The API's rule: a round's results are the nation's before they are published.
                return Err(if all_rounds.iter().any(|a| a.key == r) {
                    WebError::Forbidden(format!(
                        "The results of round `{r}` are not yet published."
                    ))
                } else {
                    WebError::NotFound(format!("There is no round `{r}`."))
                });
            }
            r
        }
        None => visible
            .iter()
            .rev()
            .find(|r| scores.rounds.iter().any(|s| s.round == r.key))
            .or(visible.last())
            .map(|r| r.key.clone())
            .ok_or_else(|| WebError::NotFound("No results have been published yet.".into()))?,
    };
    let focal = organisation_report(
        &state,
        &viewer.who,
        &focal_key,
        &ods,
        &AnalysisQuery::default(),
    )
    .await?;
    // The same view of every earlier visible round the organisation has results in.
    let mut past: Vec<(String, OrganisationDivergence)> = Vec::new();
    for r in &visible {
        if r.key == focal_key {
            break;
        }
        if !scores.rounds.iter().any(|s| s.round == r.key) {
            continue;
        }
        match organisation_report(&state, &viewer.who, &r.key, &ods, &AnalysisQuery::default())
            .await
        {
            Ok(rep) => past.push((r.key.clone(), rep)),
            // A round whose framework cannot be analysed with this one is left out.
            Err(AppError::Unprocessable { .. } | AppError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut timeline: Vec<(&str, &OrganisationDivergence)> =
        past.iter().map(|(k, r)| (k.as_str(), r)).collect();
    timeline.push((focal_key.as_str(), &focal));

    // One chart per pillar (and overall), all on the same scale.
    let pillar_keys: Vec<(String, String)> = focal
        .rows
        .iter()
        .map(|r| (r.pillar.to_string(), r.pillar_title.to_string()))
        .collect();
    let figures = |key: &str| -> Vec<RoundFigure> {
        timeline
            .iter()
            .map(|(round, rep)| {
                let d = rep.distributions.iter().find(|d| d.pillar == key);
                let row = rep.rows.iter().find(|r| &*r.pillar == key);
                RoundFigure {
                    round: (*round).to_owned(),
                    score: row.and_then(|r| r.level.score),
                    q1: d.and_then(|d| d.q1),
                    median: d.and_then(|d| d.median),
                    q3: d.and_then(|d| d.q3),
                }
            })
            .collect()
    };
    let all_figures: Vec<(String, String, Vec<RoundFigure>)> = pillar_keys
        .iter()
        .map(|(k, t)| (k.clone(), t.clone(), figures(k)))
        .collect();
    let (lo, hi) = all_figures
        .iter()
        .flat_map(|(_, _, fs)| fs.iter().flat_map(|f| [f.score, f.q1, f.q3, f.median]))
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let scale = if lo.is_finite() && hi > lo {
        let pad = (hi - lo) * 0.1;
        (lo - pad, hi + pad)
    } else {
        (0.0, 5.0)
    };
    let mut charts = Vec::new();
    for (i, (key, title, figs)) in all_figures.iter().enumerate() {
        let svg = history(
            &format!("history-{i}"),
            &format!("{title}: score by round against peers' median and middle 50 %"),
            figs,
            scale,
        )
        .map_err(AppError::Internal)?;
        charts.push((key, title, svg));
    }
    let focal_scores = scores.rounds.iter().find(|s| s.round == focal_key);
    let org = &focal.organisation;
    let merged_rounds: Vec<String> = {
        let mut v: Vec<String> = focal
            .rows
            .iter()
            .filter_map(|r| r.lineage.as_ref())
            .flat_map(|l| l.merged_rounds.iter().cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let title = format!("{} ({})", org.name, org.ods_code);
    let mut crumbs = vec![crumb("Home", "/app")];
    if national {
        crumbs.push(crumb(focal_key.clone(), format!("/app/rounds/{focal_key}")));
    }
    let page = Page {
        title: &title,
        viewer: Some(&viewer),
        crumbs,
        body_class: "app-print-board",
    };
    Ok(page.render(html! {
        span class="nhsuk-caption-l" { "Round " (focal_key) }
        h1 { (org.name) }
        dl class="nhsuk-summary-list app-summary-compact" {
            div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "ODS code" } dd class="nhsuk-summary-list__value" { (org.ods_code) } }
            div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "Type" } dd class="nhsuk-summary-list__value" { (org.org_type.replace('_', " ")) } }
            div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "Region" } dd class="nhsuk-summary-list__value" { (org.region_name.as_deref().unwrap_or("–")) } }
            div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "ICB" } dd class="nhsuk-summary-list__value" { (org.icb_name.as_deref().unwrap_or("–")) } }
            div class="nhsuk-summary-list__row" {
                dt class="nhsuk-summary-list__key" { "Compared with" }
                dd class="nhsuk-summary-list__value" {
                    @if let Some(r) = focal.rows.first() { "peers of the same " (if r.reference.key.starts_with("peer_group") || r.reference.key.contains(':') { "peer group" } else { "type" }) " (" (r.reference.key) "), " (focal.method.version) } @else { "–" }
                    @if let Some(p) = &focal.previous_round { "; change since " (p) }
                }
            }
        }
        @if !focal.predecessors.is_empty() {
            div class="nhsuk-inset-text" id="lineage" {
                span class="nhsuk-u-visually-hidden" { "Information: " }
                p {
                    "Formed from "
                    @for (i, p) in focal.predecessors.iter().enumerate() {
                        @if i > 0 { ", " }
                        (p.name) " (" (p.ods_code) ")"
                        @if let Some(d) = p.merged_on { " on " (d) }
                    }
                    "."
                    @if !merged_rounds.is_empty() {
                        " Scores for " (merged_rounds.join(", ")) " are the predecessors' mean, used for change and trend."
                    }
                }
            }
        }
        div class="app-no-print" {
            p { a data-download="organisation" href={ "/app/rounds/" (focal_key) "/divergence.csv?ods=" (org.ods_code) } { "Download these rows as CSV" } }
            @if visible.len() > 1 {
                form method="get" action={ "/app/organisations/" (org.ods_code) } class="app-inline-form" {
                    div class="nhsuk-form-group" {
                        label class="nhsuk-label" for="f-round" { "Round" }
                        select class="nhsuk-select" id="f-round" name="round" {
                            @for r in visible.iter().rev() {
                                option value=(r.key) selected[r.key == focal_key] { (r.title) }
                            }
                        }
                    }
                    button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { "Show round" }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "Flags" }
        @let flagged: Vec<_> = focal.rows.iter().filter(|r| !r.flags.is_empty()).collect();
        @if flagged.is_empty() {
            p id="org-flags" { "No flags: in every pillar this organisation is within the range expected of its peers." }
        } @else {
            ul class="nhsuk-list" id="org-flags" {
                @for r in &flagged {
                    li {
                        strong { (r.pillar_title) ": " }
                        @for fl in &r.flags { strong class=(flag_tag(fl.as_str())) { (flag_label(fl.as_str())) } " " }
                        @for reason in &r.reasons { br; (reason) }
                    }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "Pillars against peers" }
        table class="nhsuk-table app-table-compact" id="org-rows" {
            caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Each pillar's score against its peers" }
            thead {
                tr {
                    th scope="col" { "Pillar" }
                    th scope="col" class="app-numeric" { "Score" }
                    th scope="col" class="app-numeric" { "Peers" }
                    th scope="col" class="app-numeric" { "Peers' median" }
                    th scope="col" class="app-numeric" { "Peers' middle 50 %" }
                    th scope="col" class="app-numeric" { "Robust z" }
                    th scope="col" class="app-numeric" { "Change" }
                    th scope="col" class="app-numeric" { "Peers' change" }
                }
            }
            tbody {
                @for r in &focal.rows {
                    @let d = focal.distributions.iter().find(|d| d.pillar == *r.pillar);
                    tr data-pillar=(r.pillar) data-score=(raw(r.level.score)) data-z=(raw(r.level.robust_z))
                        data-tier=(tier_name(r.level.tier)) data-flags=(r.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")) {
                        th scope="row" { @if &*r.pillar == OVERALL { strong { (r.pillar_title) } } @else { (r.pillar_title) } }
                        td class="app-numeric" { (num(r.level.score)) }
                        td class="app-numeric" { (r.reference.n) }
                        td class="app-numeric" { (num(d.and_then(|d| d.median))) }
                        td class="app-numeric" { (num(d.and_then(|d| d.q1))) " to " (num(d.and_then(|d| d.q3))) }
                        td class="app-numeric" { (num(r.level.robust_z)) }
                        td class="app-numeric" { (signed(r.change.as_ref().and_then(|c| c.delta))) }
                        td class="app-numeric" { (signed(r.change.as_ref().and_then(|c| c.peer_median_delta))) }
                    }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "Each pillar across rounds" }
        p class="nhsuk-body-s" { "Blue: this organisation's score. Grey line: its peers' median; grey band: their middle 50 %." }
        div class="app-small-multiples" id="pillar-history" {
            @for (_, title, svg) in &charts {
                figure class="app-figure app-small-multiple" {
                    figcaption class="nhsuk-body-s" { strong { (title) } }
                    (PreEscaped(svg))
                }
            }
        }
        details class="nhsuk-details app-no-print" {
            summary class="nhsuk-details__summary" { span class="nhsuk-details__summary-text" { "The figures in these charts" } }
            div class="nhsuk-details__text" {
                table class="nhsuk-table app-table-compact" id="history-table" {
                    caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Score and peers' quartiles by pillar and round" }
                    thead { tr { th scope="col" { "Pillar" } th scope="col" { "Round" } th scope="col" class="app-numeric" { "Score" } th scope="col" class="app-numeric" { "Peers' lower quartile" } th scope="col" class="app-numeric" { "Median" } th scope="col" class="app-numeric" { "Upper quartile" } } }
                    tbody {
                        @for (_, title, figs) in &all_figures {
                            @for fg in figs {
                                tr { th scope="row" { (title) } td { (fg.round) } td class="app-numeric" { (num(fg.score)) } td class="app-numeric" { (num(fg.q1)) } td class="app-numeric" { (num(fg.median)) } td class="app-numeric" { (num(fg.q3)) } }
                            }
                        }
                    }
                }
            }
        }
        h2 class="nhsuk-heading-m app-print-break" { "Domain scores" }
        @if let Some(s) = focal_scores {
            table class="nhsuk-table app-table-compact" id="org-scores" {
                caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Scores by pillar and domain" }
                thead { tr { th scope="col" { "Pillar" } th scope="col" { "Domain" } th scope="col" class="app-numeric" { "Score" } th scope="col" class="app-numeric" { "Coverage" } } }
                tbody {
                    @for p in &s.pillars {
                        @for d in &p.domains {
                            tr data-domain=(d.domain) data-score=(raw(d.score)) {
                                td { (p.pillar_title) }
                                td { (d.domain_title) }
                                td class="app-numeric" { (num(d.score)) }
                                td class="app-numeric" { (format!("{:.0} %", d.coverage * 100.0)) }
                            }
                        }
                    }
                }
            }
        } @else {
            p id="org-scores" { "No return was submitted in this round." }
        }
    }))
}

fn flag_tag(code: &str) -> &'static str {
    if code.contains("BELOW") || code.contains("BEHIND") {
        "nhsuk-tag nhsuk-tag--red"
    } else {
        "nhsuk-tag nhsuk-tag--blue"
    }
}
