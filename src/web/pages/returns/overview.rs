//! A return's overview (`/app/returns/{round}/{ods}`): status, progress per pillar, the questions
//! still to answer, and once submitted its scores with what each domain's next level needs; once
//! the round is published, how the organisation compares with its peers (the API's disclosure:
//! quartiles and medians, never another organisation's score). Admins re-open it here. The print
//! stylesheet turns it into a board summary.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::answers::answer_text;
use super::{Loaded, load, status_tag};
use crate::api::divergence::{AnalysisQuery, OrganisationDivergence, organisation_report};
use crate::db::scores as stored_scores;
use crate::domain::divergence::OVERALL;
use crate::domain::framework::Method;
use crate::domain::lifecycle::{AssessmentStatus, RoundStatus};
use crate::domain::scoring::{Scores, next_levels};
use crate::state::AppState;
use crate::web::WebResult;
use crate::web::layout::{Page, num, raw, signed};
use crate::web::pages::common::flag_label;
use crate::web::session::Viewer;

#[derive(Debug, serde::Deserialize)]
pub struct Notice {
    saved: Option<String>,
    submitted: Option<String>,
    reopened: Option<String>,
}

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    notice: web::Query<Notice>,
) -> WebResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    let n = notice.into_inner();
    let banner = if n.submitted.is_some() {
        Some("Your return has been submitted")
    } else if n.reopened.is_some() {
        Some("The return has been re-opened")
    } else if n.saved.is_some() {
        Some("Your answers have been saved")
    } else {
        None
    };
    render(&state, &viewer, &round, &ods, banner, None).await
}

/// The overview, with a notification `banner` or a problem with the re-open form.
pub async fn render(
    state: &web::Data<AppState>,
    viewer: &Viewer,
    round: &str,
    ods: &str,
    banner: Option<&str>,
    reopen_error: Option<&str>,
) -> WebResult<HttpResponse> {
    let l = load(state, &viewer.who, round, ods, false).await?;
    let submitted = l.q.status == AssessmentStatus::Submitted;
    let scores = if submitted {
        let id = l.ctx.assessment.as_ref().map(|a| a.id.clone());
        let (framework, org_type) = (l.ctx.framework.clone(), l.ctx.org_type);
        crate::api::with_conn(state, move |c| {
            Ok(match id {
                Some(id) => stored_scores::scores_of(c, &id)?
                    .map(|s| s.in_framework_order(&framework, org_type)),
                None => None,
            })
        })
        .await?
    } else {
        None
    };
    // How the organisation compares: once the round is published and the return counted.
    let compare = if l.ctx.round.status == RoundStatus::Published && submitted {
        match organisation_report(state, &viewer.who, round, ods, &AnalysisQuery::default()).await {
            Ok(r) => Some(r),
            // Busy or not comparable: the rest of the page still shows (and says so).
            Err(e) => {
                tracing::info!(error = %e, "comparison with peers not shown");
                None
            }
        }
    } else {
        None
    };
    let page = Page {
        title: &l.q.organisation_name,
        viewer: Some(viewer),
        crumbs: vec![crate::web::layout::crumb("Home", "/app")],
        body_class: "app-print-board app-print-return",
    };
    let mut res = page.render(body(
        &l,
        viewer,
        scores.as_ref(),
        compare.as_ref(),
        banner,
        reopen_error,
    ));
    if reopen_error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

fn body(
    l: &Loaded,
    viewer: &Viewer,
    scores: Option<&Scores>,
    compare: Option<&OrganisationDivergence>,
    banner: Option<&str>,
    reopen_error: Option<&str>,
) -> Markup {
    let q = &l.q;
    let f = l.framework();
    let base = l.base();
    let (tag, words) = status_tag(q.status.as_str());
    let admin = viewer.who.is_admin();
    let submitted = q.status == AssessmentStatus::Submitted;
    let may_edit =
        q.editable && crate::api::assessments::authorise(&viewer.who, &q.ods_code, true).is_ok();
    let reopenable = admin
        && q.status == AssessmentStatus::Submitted
        && q.status.reopenable(l.ctx.round.status).is_ok();
    let pillar_title = |key: &str| {
        f.pillars
            .iter()
            .find(|p| p.key == key)
            .map_or(key.to_owned(), |p| p.title.clone())
    };
    let domain_title = |key: &str| {
        f.pillars
            .iter()
            .flat_map(|p| &p.domains)
            .find(|d| d.key == key)
            .map_or(key.to_owned(), |d| d.title.clone())
    };
    let missing_by_pillar: Vec<(
        &str,
        &str,
        Vec<&crate::api::assessments::QuestionnaireQuestion>,
    )> = q
        .pillars
        .iter()
        .map(|p| {
            (
                p.key.as_str(),
                p.title.as_str(),
                p.domains
                    .iter()
                    .flat_map(|d| &d.questions)
                    .filter(|x| q.missing.contains(&x.key))
                    .collect(),
            )
        })
        .filter(|(_, _, qs): &(_, _, Vec<_>)| !qs.is_empty())
        .collect();
    let staged = f.method == Method::Staged;
    let next = if staged && scores.is_some() {
        next_levels(f, l.ctx.org_type, &l.answers)
    } else {
        Vec::new()
    };
    html! {
        @if let Some(e) = reopen_error {
            div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" data-module="nhsuk-error-summary" {
                h2 class="nhsuk-error-summary__title" id="error-summary-title" { "There is a problem" }
                div class="nhsuk-error-summary__body" {
                    ul class="nhsuk-list nhsuk-error-summary__list" role="list" { li { a href="#reopen-reason" { (e) } } }
                }
            }
        }
        @if let Some(b) = banner {
            div class="nhsuk-notification-banner nhsuk-notification-banner--success app-no-print" role="alert" aria-labelledby="banner-title" data-module="nhsuk-notification-banner" {
                div class="nhsuk-notification-banner__header" { h2 class="nhsuk-notification-banner__title" id="banner-title" { "Success" } }
                div class="nhsuk-notification-banner__content" { p class="nhsuk-notification-banner__heading" { (b) } }
            }
        }
        span class="nhsuk-caption-l" { "Digital maturity return, round " (q.round) }
        h1 { (q.organisation_name) }
        dl class="nhsuk-summary-list app-summary-compact" {
            div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "Status" } dd class="nhsuk-summary-list__value" { strong class=(tag) id="return-status" data-status=(q.status.as_str()) { (words) } } }
            div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "ODS code and type" } dd class="nhsuk-summary-list__value" { (q.ods_code) ", " (q.org_type.replace('_', " ")) } }
            div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "Framework" } dd class="nhsuk-summary-list__value" { (q.framework.title) " (" (q.framework.version) ")" } }
            @if let Some(a) = &l.ctx.assessment {
                div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "Last saved" } dd class="nhsuk-summary-list__value" { (a.updated_at.format("%-d %B %Y at %H:%M")) } }
                @if let (Some(at), Some(by)) = (a.submitted_at, &a.submitted_by) {
                    @if submitted { div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "Submitted" } dd class="nhsuk-summary-list__value" { (at.format("%-d %B %Y at %H:%M")) " by " (by) } } }
                }
            }
        }
        @if may_edit {
            p class="app-no-print" { "Answer the questions of each pillar below. Your answers are saved as you go, and you can come back to them at any time until you submit." }
        }
        div class="app-no-print" {
            h2 class="nhsuk-heading-m" { "Progress" }
            table class="nhsuk-table app-table-compact" id="return-progress" data-answered=(q.answered) data-applicable=(q.applicable) data-missing=(q.missing_mandatory) {
                caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Questions answered per pillar" }
                thead { tr { th scope="col" { "Pillar" } th scope="col" class="app-numeric" { "Answered" } th scope="col" class="app-numeric" { "Still to answer" } th scope="col" { "Status" } } }
                tbody {
                    @for p in &q.pillars {
                        tr data-pillar=(p.key) data-answered=(p.answered) data-applicable=(p.applicable) data-missing=(p.missing_mandatory) {
                            th scope="row" { a href={ (base) "/" (p.key) } { (p.title) } }
                            td class="app-numeric" { (p.answered) " of " (p.applicable) }
                            td class="app-numeric" { (p.missing_mandatory) }
                            td {
                                @if p.missing_mandatory == 0 && p.applicable > 0 { strong class="nhsuk-tag nhsuk-tag--green" { "Complete" } }
                                @else if p.answered > 0 { strong class="nhsuk-tag nhsuk-tag--blue" { "In progress" } }
                                @else { strong class="nhsuk-tag nhsuk-tag--grey" { "Not started" } }
                            }
                        }
                    }
                    tr {
                        th scope="row" { strong { "All pillars" } }
                        td class="app-numeric" { strong { (q.answered) " of " (q.applicable) } }
                        td class="app-numeric" { strong { (q.missing_mandatory) } }
                        td {}
                    }
                }
            }
            @if !submitted {
                section id="still-to-answer" aria-labelledby="still-title" {
                    h2 class="nhsuk-heading-m" id="still-title" { "Questions still to answer" }
                    @if missing_by_pillar.is_empty() {
                        p { "Every question that must be answered has an answer." }
                    } @else {
                        p { (q.missing_mandatory) " questions that must be answered have no answer yet." }
                        @for (key, title, qs) in &missing_by_pillar {
                            h3 class="nhsuk-heading-s" { (title) }
                            ul class="nhsuk-list nhsuk-list--bullet" {
                                @for x in qs {
                                    li { a href={ (base) "/" (key) "#q-" (x.key) } data-question=(x.key) { (x.text) } }
                                }
                            }
                        }
                    }
                }
                @if may_edit {
                    a class="nhsuk-button" id="check-and-submit" href={ (base) "/submit" } data-module="nhsuk-button" role="button" draggable="false" { "Check and submit" }
                }
            }
        }
        @if let Some(s) = scores {
            section id="scores" aria-labelledby="scores-title" {
                h2 class="nhsuk-heading-m" id="scores-title" { "Scores" }
                p class="nhsuk-body-s" {
                    @if staged {
                        "Each domain is at a level from " (q.framework.scale.min) " to " (q.framework.scale.max)
                        ": it reaches a level when every criterion of that level and the levels below it is met. A pillar's score is the mean of its domains' levels; the overall score is the mean of the pillars'."
                    } @else {
                        "Points from " (q.framework.scale.min) " to " (q.framework.scale.max) ". A pillar's score is the mean of its domains'; the overall score is the mean of the pillars'."
                    }
                }
                table class="nhsuk-table app-table-compact" id="return-scores" data-overall=(raw(s.score)) {
                    caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Scores by pillar and domain" }
                    thead { tr { th scope="col" { "Pillar or domain" } th scope="col" class="app-numeric" { (if staged { "Level" } else { "Score" }) } th scope="col" class="app-numeric" { "Answered" } } }
                    tbody {
                        tr class="app-row-total" { th scope="row" { strong { "Overall" } } td class="app-numeric" { strong { (num(s.score)) } } td class="app-numeric" { (s.answered) " of " (s.applicable) } }
                        @for p in &s.pillars {
                            tr class="app-row-pillar" data-pillar=(p.pillar) data-score=(raw(p.score)) {
                                th scope="row" { strong { (pillar_title(&p.pillar)) } }
                                td class="app-numeric" { strong { (num(p.score)) } }
                                td class="app-numeric" { (p.answered) " of " (p.applicable) }
                            }
                            @for d in &p.domains {
                                tr data-domain=(d.domain) data-score=(raw(d.score)) {
                                    th scope="row" class="app-domain-name" { (domain_title(&d.domain)) }
                                    td class="app-numeric" { (if staged { d.score.map_or("–".to_owned(), |v| format!("{v:.0}")) } else { num(d.score) }) }
                                    td class="app-numeric" { (d.answered) " of " (d.applicable) }
                                }
                            }
                        }
                    }
                }
            }
            @if staged {
                section id="next-level" aria-labelledby="next-title" {
                    h2 class="nhsuk-heading-m" id="next-title" { "What the next level needs" }
                    @if next.is_empty() {
                        p { "Every domain is at the top level." }
                    } @else {
                        p class="nhsuk-body-s" { "For each domain below the top level: the criteria not yet met that stand between it and the next level." }
                        ul class="nhsuk-list app-next-level" {
                            @for (key, n) in &next {
                                li data-domain=(key) data-level=(n.level) data-next=(n.next) {
                                    strong { (domain_title(key)) ": level " (n.level) " → " (n.next) }
                                    ul class="nhsuk-list nhsuk-list--bullet" {
                                        @for c in &n.unmet {
                                            li data-question=(c.key) {
                                                (c.text)
                                                span class="app-no-print" { " (now: " (answer_text(c, l.answers.get(&c.key))) ")" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(r) = compare {
            (how_we_compare(r))
        } @else if submitted && l.ctx.round.status != RoundStatus::Published {
            p class="nhsuk-inset-text" id="compare-later" { "How this organisation compares with its peers is shown here once the round's results are published." }
        } @else if submitted {
            p class="nhsuk-inset-text" id="compare-unavailable" { "The comparison with peers cannot be shown just now. Try again in a few minutes." }
        }
        div class="app-no-print" {
            @if submitted {
                p { "To print a board summary of this return, use your browser's print command: the printed page leaves out the forms and keeps the scores, the comparison with peers and what the next level needs." }
            }
            ul class="nhsuk-list" {
                @for p in &q.pillars {
                    @if !may_edit { li { a href={ (base) "/" (p.key) } { "Answers: " (p.title) } } }
                }
                @if viewer.who.is_national_reader() {
                    li { a id="history-link" href={ (base) "/history" } { "History of this return (who saved what)" } }
                }
            }
            @if reopenable {
                form id="reopen-form" method="post" action={ (base) "/reopen" } novalidate {
                    input type="hidden" name="csrf_token" value=(viewer.csrf);
                    div class=(if reopen_error.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                        h2 class="nhsuk-label-wrapper" { label class="nhsuk-label nhsuk-label--m" for="reopen-reason" { "Re-open this return" } }
                        div class="nhsuk-hint" id="reopen-hint" { "The organisation can then change its answers and submit again. Say why: the reason is kept in the return's history." }
                        @if let Some(e) = reopen_error { span class="nhsuk-error-message" id="reopen-error" { span class="nhsuk-u-visually-hidden" { "Error: " } (e) } }
                        textarea class="nhsuk-textarea" id="reopen-reason" name="reason" rows="3" aria-describedby=(if reopen_error.is_some() { "reopen-hint reopen-error" } else { "reopen-hint" }) {}
                    }
                    button class="nhsuk-button nhsuk-button--warning" id="reopen-button" type="submit" { "Re-open return" }
                }
            }
        }
    }
}

/// The organisation against its peers, as the API's organisation view discloses it.
fn how_we_compare(r: &OrganisationDivergence) -> Markup {
    let flagged: Vec<_> = r.rows.iter().filter(|x| !x.flags.is_empty()).collect();
    html! {
        section id="how-we-compare" aria-labelledby="compare-title" {
            h2 class="nhsuk-heading-m" id="compare-title" { "How we compare" }
            p class="nhsuk-body-s" {
                "Against " (r.rows.first().map_or(0, |x| x.reference.n)) " peers of the same "
                (if r.rows.first().is_some_and(|x| x.reference.key.contains(':')) { "peer group" } else { "type" })
                @if let Some(p) = &r.previous_round { "; change since " (p) }
                ". Peers are shown only as their median and middle half (the range of the middle 50 % of scores)."
            }
            table class="nhsuk-table app-table-compact" id="compare-rows" {
                caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Each pillar against peers" }
                thead { tr {
                    th scope="col" { "Pillar" }
                    th scope="col" class="app-numeric" { "Our score" }
                    th scope="col" class="app-numeric" { "Peers' median" }
                    th scope="col" class="app-numeric" { "Peers' middle half" }
                    th scope="col" class="app-numeric" { "Our change" }
                    th scope="col" class="app-numeric" { "Peers' change" }
                } }
                tbody {
                    @for x in &r.rows {
                        @let d = r.distributions.iter().find(|d| d.pillar == *x.pillar);
                        @let change = x.change.as_ref();
                        tr data-pillar=(x.pillar) data-score=(raw(x.level.score)) data-median=(raw(d.and_then(|d| d.median)))
                           data-q1=(raw(d.and_then(|d| d.q1))) data-q3=(raw(d.and_then(|d| d.q3)))
                           data-change=(raw(change.and_then(|c| c.delta))) data-peer-change=(raw(change.and_then(|c| c.peer_median_delta))) {
                            th scope="row" { @if &*x.pillar == OVERALL { strong { (x.pillar_title) } } @else { (x.pillar_title) } }
                            td class="app-numeric" { (num(x.level.score)) }
                            td class="app-numeric" { (num(d.and_then(|d| d.median))) }
                            td class="app-numeric" { (num(d.and_then(|d| d.q1))) " to " (num(d.and_then(|d| d.q3))) }
                            td class="app-numeric" { (signed(change.and_then(|c| c.delta))) }
                            td class="app-numeric" { (signed(change.and_then(|c| c.peer_median_delta))) }
                        }
                    }
                }
            }
            h3 class="nhsuk-heading-s" { "Where we diverge from peers" }
            @if flagged.is_empty() {
                p id="compare-flags" { "In every pillar this organisation is within the range expected of its peers." }
            } @else {
                ul class="nhsuk-list" id="compare-flags" {
                    @for x in &flagged {
                        li {
                            strong { (x.pillar_title) ": " }
                            (x.flags.iter().map(|fl| flag_label(fl.as_str())).collect::<Vec<_>>().join(", "))
                            @for reason in &x.reasons { br; (reason) }
                        }
                    }
                }
            }
        }
    }
}
