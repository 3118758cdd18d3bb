//! Every organisation's return in a round (`/app/rounds/{round}/returns`), for national readers:
//! status and progress, each linked to the return's own pages.

use actix_web::{HttpResponse, web};
use maud::html;

use super::{base, status_tag};
use crate::api::rounds::find_round;
use crate::db::{assessments, organisations};
use crate::state::AppState;
use crate::web::WebResult;
use crate::web::layout::{Page, crumb};
use crate::web::session::Viewer;

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> WebResult<HttpResponse> {
    let round = path.into_inner();
    viewer.require_national()?;
    let r = round.clone();
    let (round_row, rows) = crate::api::with_conn(&state, move |c| {
        let round_row = find_round(c, &r)?;
        let returns: std::collections::HashMap<String, _> = assessments::for_round(c, &r)?
            .into_iter()
            .map(|a| (a.ods_code.clone(), a))
            .collect();
        let day = round_row.opens_at.date();
        let mut rows: Vec<_> = organisations::all(c)?
            .into_iter()
            .filter(|o| o.is_open_on(day) || returns.contains_key(&o.ods_code))
            .map(|o| {
                let a = returns.get(&o.ods_code);
                (
                    o.ods_code,
                    o.name,
                    o.org_type,
                    a.map_or("not_started".to_owned(), |a| a.status.as_str().to_owned()),
                    a.map(|a| a.updated_at),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.1.cmp(&b.1));
        Ok((round_row, rows))
    })
    .await?;
    let page = Page {
        title: "Returns",
        viewer: Some(&viewer),
        crumbs: vec![
            crumb("Home", "/app"),
            crumb(round_row.title.clone(), format!("/app/rounds/{round}")),
        ],
        body_class: "",
    };
    Ok(page.render(html! {
        span class="nhsuk-caption-l" { (round_row.title) }
        h1 { "Returns" }
        p { (rows.iter().filter(|r| r.3 == "submitted").count()) " of " (rows.len()) " organisations have submitted." }
        div class="app-table-scroll" tabindex="0" role="region" aria-label="Returns, scrollable" {
            table class="nhsuk-table app-table-compact" id="returns" {
                caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Every organisation's return" }
                thead { tr { th scope="col" { "Organisation" } th scope="col" { "ODS code" } th scope="col" { "Type" } th scope="col" { "Status" } th scope="col" { "Last saved" } } }
                tbody {
                    @for (ods, name, kind, status, updated) in &rows {
                        @let (tag, words) = status_tag(status);
                        tr data-ods=(ods) data-status=(status) {
                            td { a href=(base(&round, ods)) { (name) } }
                            td { (ods) }
                            td { (kind.replace('_', " ")) }
                            td { strong class=(tag) { (words) } }
                            td { @if let Some(u) = updated { (u.format("%-d %b %Y %H:%M")) } }
                        }
                    }
                }
            }
        }
    }))
}
