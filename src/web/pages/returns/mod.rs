//! A trust's return, filled in through the browser (`/app/returns/{round}/{ods}`): an overview with
//! progress, the questions still to answer, the scores once submitted and, once the round is
//! published, how the organisation compares with its peers; one form page per pillar; checking and
//! submitting; an admin's re-opening and the return's history. Every page reads the API's
//! questionnaire view (`api::assessments::questionnaire`) and writes through the API's own save,
//! submit and re-open functions, so the rules (who may, which questions are asked, what counts as
//! answered, when a return may change) are the API's.

mod answers;
mod form;
mod history;
mod list;
mod overview;
mod submit;

use std::sync::Arc;

use actix_web::web;

use crate::api::assessments::{self, Context, QuestionnaireView};
use crate::auth::Principal;
use crate::domain::answers::Answers;
use crate::domain::framework::Framework;
use crate::state::AppState;
use crate::web::WebResult;
use crate::web::layout::{Crumb, crumb};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/rounds/{round}/returns", web::get().to(list::page))
        .route("/returns/{round}/{ods}", web::get().to(overview::page))
        .route(
            "/returns/{round}/{ods}/submit",
            web::get().to(submit::confirm),
        )
        .route(
            "/returns/{round}/{ods}/submit",
            web::post().to(submit::submit),
        )
        .route(
            "/returns/{round}/{ods}/reopen",
            web::post().to(submit::reopen),
        )
        .route(
            "/returns/{round}/{ods}/history",
            web::get().to(history::page),
        )
        .route("/returns/{round}/{ods}/{pillar}", web::get().to(form::page))
        .route(
            "/returns/{round}/{ods}/{pillar}",
            web::post().to(form::save),
        );
}

/// One return as a page needs it: the API's context, its questionnaire view and its answers.
pub(crate) struct Loaded {
    pub(crate) ctx: Context,
    pub q: QuestionnaireView,
    pub answers: Answers,
}

impl Loaded {
    pub fn framework(&self) -> &Arc<Framework> {
        &self.ctx.framework
    }

    pub fn base(&self) -> String {
        base(&self.q.round, &self.q.ods_code)
    }

    /// The pillar pages' keys in order.
    pub fn pillar_index(&self, key: &str) -> Option<usize> {
        self.q.pillars.iter().position(|p| p.key == key)
    }

    pub fn crumbs(&self) -> Vec<Crumb> {
        vec![
            crumb("Home", "/app"),
            crumb(
                format!("{} return, {}", self.q.organisation_name, self.q.round),
                self.base(),
            ),
        ]
    }
}

pub fn base(round: &str, ods: &str) -> String {
    format!("/app/returns/{round}/{ods}")
}

/// Loads a return for `who` after the API's access rule (`write`: to change it).
pub(crate) async fn load(
    state: &web::Data<AppState>,
    who: &Principal,
    round: &str,
    ods: &str,
    write: bool,
) -> WebResult<Loaded> {
    assessments::authorise(who, ods, write)?;
    let (frameworks, round, ods) = (state.frameworks.clone(), round.to_owned(), ods.to_owned());
    Ok(crate::api::with_conn(state, move |c| {
        let ctx = assessments::load(c, &frameworks, &round, &ods)?;
        let (q, answers) = assessments::questionnaire(&ctx)?;
        Ok(Loaded { ctx, q, answers })
    })
    .await?)
}

/// The tag class and words of a return's status.
pub fn status_tag(status: &str) -> (&'static str, &'static str) {
    match status {
        "submitted" => ("nhsuk-tag nhsuk-tag--green", "Submitted"),
        "reopened" => ("nhsuk-tag nhsuk-tag--orange", "Re-opened"),
        "draft" => ("nhsuk-tag nhsuk-tag--blue", "In progress"),
        _ => ("nhsuk-tag nhsuk-tag--grey", "Not started"),
    }
}
