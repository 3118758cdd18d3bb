//! The start page: sign-in for visitors; rounds for analysts and admins; a submitter's own
//! organisations.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use crate::db::{organisations, rounds};
use crate::domain::lifecycle::RoundStatus;
use crate::state::AppState;
use crate::web::WebResult;
use crate::web::layout::Page;
use crate::web::session;

pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> WebResult<HttpResponse> {
    let Some(viewer) = session::current(&req).await? else {
        return Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, "/app/sign-in"))
            .finish());
    };
    let who = viewer.who.clone();
    let (all_rounds, orgs) = crate::api::with_conn(&state, move |c| {
        let rs = rounds::list(c)?;
        let mut named = Vec::new();
        for o in &who.orgs {
            if let Some(n) = organisations::find_named(c, o)? {
                named.push(n);
            }
        }
        Ok((rs, named))
    })
    .await?;
    let national = viewer.who.is_national_reader();
    let page = Page {
        title: "Start",
        viewer: Some(&viewer),
        crumbs: vec![],
        body_class: "",
    };
    Ok(page.render(html! {
        h1 { "Digital maturity of NHS organisations" }
        @if national {
            p class="nhsuk-lede-text" {
                "Where each organisation stands against like-for-like peers, round by round, "
                "and where its level or progress is diverging from them."
            }
            h2 class="nhsuk-heading-m" { "Rounds" }
            table class="nhsuk-table" {
                caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Assessment rounds" }
                thead class="nhsuk-table__head" {
                    tr { th scope="col" { "Round" } th scope="col" { "Framework" } th scope="col" { "Status" } th scope="col" { "Returns" } }
                }
                tbody class="nhsuk-table__body" {
                    @for r in all_rounds.iter().rev() {
                        tr class="nhsuk-table__row" {
                            td class="nhsuk-table__cell" {
                                @if r.status == RoundStatus::Planned {
                                    (r.title)
                                } @else {
                                    a href={ "/app/rounds/" (r.key) } { (r.title) }
                                }
                            }
                            td class="nhsuk-table__cell" { (r.framework_key) }
                            td class="nhsuk-table__cell" { strong class=(status_tag(r.status)) { (format!("{:?}", r.status)) } }
                            td class="nhsuk-table__cell" {
                                @if r.status != RoundStatus::Planned {
                                    a href={ "/app/rounds/" (r.key) "/returns" } { "Returns" span class="nhsuk-u-visually-hidden" { " of " (r.title) } }
                                }
                            }
                        }
                    }
                }
            }
        } @else {
            p class="nhsuk-lede-text" { "Fill in your organisation's digital maturity return, and see its results against its peers." }
            h2 class="nhsuk-heading-m" { "Your returns" }
            ul class="nhsuk-list" id="your-returns" {
                @for r in all_rounds.iter().rev().filter(|r| r.status != RoundStatus::Planned) {
                    @for o in &orgs {
                        li {
                            a href={ "/app/returns/" (r.key) "/" (o.row.ods_code) } { (o.row.name) ": " (r.title) }
                            " " strong class=(status_tag(r.status)) { (if r.status == RoundStatus::Open { "Open" } else if r.status == RoundStatus::Published { "Published" } else { "Closed" }) }
                        }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "Your organisations' results" }
            ul class="nhsuk-list" {
                @for o in &orgs {
                    li { a href={ "/app/organisations/" (o.row.ods_code) } { (o.row.name) " (" (o.row.ods_code) ")" } }
                }
            }
        }
    }))
}

pub fn status_tag(s: RoundStatus) -> &'static str {
    match s {
        RoundStatus::Planned => "nhsuk-tag nhsuk-tag--grey",
        RoundStatus::Open => "nhsuk-tag nhsuk-tag--blue",
        RoundStatus::Closed => "nhsuk-tag nhsuk-tag--orange",
        RoundStatus::Published => "nhsuk-tag nhsuk-tag--green",
    }
}
