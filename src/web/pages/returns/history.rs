//! A return's history (`/app/returns/{round}/{ods}/history`): every save, submission and
//! re-opening from the audit trail, with who did it, when, and each answer before and after.
//! National readers only (the organisation sees its own answers, not an audit of its staff).

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde_json::Value;

use super::answers::text_of;
use super::load;
use crate::api::assessments::history_events;
use crate::domain::answers::AnswerValue;
use crate::state::AppState;
use crate::web::WebResult;
use crate::web::layout::Page;
use crate::web::session::Viewer;

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> WebResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    viewer.require_national()?;
    let l = load(&state, &viewer.who, &round, &ods, false).await?;
    let (frameworks, r, o) = (state.frameworks.clone(), round.clone(), ods.clone());
    let events =
        crate::api::with_conn(&state, move |c| history_events(c, &frameworks, &r, &o)).await?;
    let f = l.framework().clone();
    // An answer as the audit kept it, in words (option labels) where the question is known.
    let answer = |key: &str, v: &Value| -> Markup {
        if v.is_null() {
            return html! { "No answer" };
        }
        let value = &v["value"];
        let known = f.question(key).and_then(|(_, _, q)| {
            serde_json::from_value::<AnswerValue>(value.clone())
                .ok()
                .map(|a| text_of(q, &a))
        });
        let text = known.unwrap_or_else(|| match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        html! {
            (text)
            @if let Some(e) = v["evidence"].as_str() { br; span class="nhsuk-body-s" { "Evidence: " (e) } }
        }
    };
    let page = Page {
        title: "History of this return",
        viewer: Some(&viewer),
        crumbs: l.crumbs(),
        body_class: "",
    };
    Ok(page.render(html! {
        span class="nhsuk-caption-l" { (l.q.organisation_name) ", " (l.q.round) " return" }
        h1 { "History of this return" }
        p { "Every change, oldest first, as the audit trail keeps it (evidence is cut at 500 characters)." }
        table class="nhsuk-table app-table-compact" id="history" {
            caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "Changes to this return" }
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Question" } th scope="col" { "Before" } th scope="col" { "After" } } }
            tbody {
                @for (id, e) in &events {
                    @let when = e.occurred_at.format("%-d %b %Y %H:%M:%S").to_string();
                    @match e.action.as_str() {
                        "save_answers" => {
                            @let changes = e.summary["changes"].as_array().cloned().unwrap_or_default();
                            @for (i, ch) in changes.iter().enumerate() {
                                @let key = ch["question"].as_str().unwrap_or("");
                                tr data-action="save_answers" data-event=(id) data-question=(key) {
                                    td { @if i == 0 { (when) } }
                                    td { @if i == 0 { (e.actor) } }
                                    td { @if i == 0 { "Saved (version " (e.summary["version"]) ")" } }
                                    td { (key) @if let Some((_, _, q)) = f.question(key) { ": " (q.text) } }
                                    td class="app-before" { (answer(key, &ch["before"])) }
                                    td class="app-after" { (answer(key, &ch["after"])) }
                                }
                            }
                        }
                        "submit" => {
                            tr data-action="submit" data-event=(id) {
                                td { (when) } td { (e.actor) } td { "Submitted (version " (e.summary["version"]) ")" }
                                td colspan="3" { "Overall score " (e.summary["overall"]) }
                            }
                        }
                        "reopen" => {
                            tr data-action="reopen" data-event=(id) {
                                td { (when) } td { (e.actor) } td { "Re-opened (version " (e.summary["version"]) ")" }
                                td colspan="3" class="app-reason" { "Reason: " (e.summary["reason"].as_str().unwrap_or("")) }
                            }
                        }
                        other => {
                            tr data-action=(other) data-event=(id) { td { (when) } td { (e.actor) } td { (other) } td colspan="3" {} }
                        }
                    }
                }
            }
        }
        p { a href=(l.base()) { "Back to the return" } }
    }))
}
