//! Checking and submitting a return (`/app/returns/{round}/{ods}/submit`), and an admin's
//! re-opening of a submitted one. Both go through the API's own functions
//! (`submit_return`, `reopen_return`), with the version the person checked as `If-Match`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::html;

use super::answers::{Posted, answer_text};
use super::{base, load};
use crate::api::assessments::{self as api, Reopen, etag, reopen_return, submit_return};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::layout::Page;
use crate::web::session::Viewer;
use crate::web::{WebError, WebResult};

pub async fn confirm(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> WebResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    let l = load(&state, &viewer.who, &round, &ods, true).await?;
    let q = &l.q;
    let f = l.framework();
    let b = l.base();
    let page = Page {
        title: "Check your answers before submitting",
        viewer: Some(&viewer),
        crumbs: l.crumbs(),
        body_class: "",
    };
    let missing: Vec<(&str, &str, &str)> = q
        .pillars
        .iter()
        .flat_map(|p| {
            p.domains
                .iter()
                .flat_map(|d| &d.questions)
                .filter(|x| q.missing.contains(&x.key))
                .map(move |x| (p.key.as_str(), x.key.as_str(), x.text.as_str()))
        })
        .collect();
    Ok(page.render(html! {
        @if !missing.is_empty() {
            div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" data-module="nhsuk-error-summary" {
                h2 class="nhsuk-error-summary__title" id="error-summary-title" { "There is a problem" }
                div class="nhsuk-error-summary__body" {
                    p { "The return cannot be submitted until these questions are answered:" }
                    ul class="nhsuk-list nhsuk-error-summary__list" role="list" {
                        @for (pillar, key, text) in &missing {
                            li { a href={ (b) "/" (pillar) "#q-" (key) } data-question=(key) { "Answer: " (text) } }
                        }
                    }
                }
            }
        }
        span class="nhsuk-caption-l" { (q.organisation_name) ", " (q.round) " return" }
        h1 { "Check your answers before submitting" }
        @if !q.editable {
            div class="nhsuk-inset-text" { span class="nhsuk-u-visually-hidden" { "Information: " } p { "This return cannot be submitted now: it is already submitted, or the round is not open." } }
        }
        div id="submit-summary" {
            @for p in &q.pillars {
                h2 class="nhsuk-heading-m" { (p.title) }
                @for d in &p.domains {
                    h3 class="nhsuk-heading-s" { (d.title) }
                    dl class="nhsuk-summary-list" {
                        @for x in d.questions.iter().filter(|x| x.enabled && x.answerable) {
                            @if let Some((_, _, fq)) = f.question(&x.key) {
                                div class="nhsuk-summary-list__row" {
                                    dt class="nhsuk-summary-list__key" { (x.text) }
                                    dd class="nhsuk-summary-list__value" data-question=[x.answer.as_ref().map(|_| x.key.as_str())] {
                                        (answer_text(fq, x.answer.as_ref()))
                                        @if let Some(e) = x.answer.as_ref().and_then(|a| a.evidence.as_ref()) { br; span class="nhsuk-body-s" { "Evidence: " (e) } }
                                    }
                                    dd class="nhsuk-summary-list__actions" {
                                        a href={ (b) "/" (p.key) "#q-" (x.key) } { "Change" span class="nhsuk-u-visually-hidden" { " the answer to: " (x.text) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if missing.is_empty() && q.editable {
            h2 class="nhsuk-heading-m" { "Now submit your return" }
            div class="nhsuk-warning-callout" {
                h3 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "Important" } }
                p { "Once submitted, the return cannot be changed unless a national administrator re-opens it. Your scores are worked out from these answers when you submit." }
            }
            form id="submit-form" method="post" action={ (b) "/submit" } novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf);
                input type="hidden" name="version" value=(q.version);
                button class="nhsuk-button" id="confirm-submit" type="submit" data-module="nhsuk-button" { "Submit return" }
            }
        }
        p { a href=(b) { "Back to the return overview" } }
    }))
}

pub async fn submit(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> WebResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    let posted = Posted::parse(&body)
        .ok_or_else(|| WebError::BadRequest("The form could not be read.".into()))?;
    viewer.check_csrf(posted.one("csrf_token").unwrap_or(""))?;
    api::authorise(&viewer.who, &ods, true)?;
    let version: i32 = posted
        .one("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| WebError::BadRequest("The form has no version.".into()))?;
    let (frameworks, who, r, o) = (
        state.frameworks.clone(),
        viewer.who.clone(),
        round.clone(),
        ods.clone(),
    );
    let done = crate::api::with_conn(&state, move |c| {
        submit_return(c, &frameworks, &who, &r, &o, Some(&etag(version)))
    })
    .await;
    let to = match done {
        Ok(_) => format!("{}?submitted=1", base(&round, &ods)),
        // Something is still missing: the check page lists it.
        Err(AppError::Unprocessable { .. }) => format!("{}/submit", base(&round, &ods)),
        Err(AppError::PreconditionFailed(_)) => {
            return Err(WebError::App(AppError::Conflict(
                "The return changed after you checked it. Check your answers again before submitting.".into(),
            )));
        }
        // Submitted already (a second press of the button): the overview says so.
        Err(AppError::Conflict(_))
            if load(&state, &viewer.who, &round, &ods, false)
                .await
                .is_ok_and(|l| l.q.status.as_str() == "submitted") =>
        {
            base(&round, &ods)
        }
        Err(e) => return Err(e.into()),
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish())
}

pub async fn reopen(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> WebResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    let posted = Posted::parse(&body)
        .ok_or_else(|| WebError::BadRequest("The form could not be read.".into()))?;
    viewer.check_csrf(posted.one("csrf_token").unwrap_or(""))?;
    viewer.who.require_admin().map_err(|_| {
        WebError::Forbidden("Only national administrators can re-open a return.".into())
    })?;
    let reason = posted.one("reason").unwrap_or("").trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 2000 {
        let message = if reason.is_empty() {
            "Enter why the return is being re-opened"
        } else {
            "The reason must be 2,000 characters or fewer"
        };
        return super::overview::render(&state, &viewer, &round, &ods, None, Some(message)).await;
    }
    let (frameworks, who, r, o) = (
        state.frameworks.clone(),
        viewer.who.clone(),
        round.clone(),
        ods.clone(),
    );
    crate::api::with_conn(&state, move |c| {
        reopen_return(c, &frameworks, &who, &r, &o, &Reopen { reason })
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{}?reopened=1", base(&round, &ods)),
        ))
        .finish())
}
