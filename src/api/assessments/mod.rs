//! Assessments: one organisation's return for one round. Reading, the audit history, and the
//! shared pieces (access rule, ETag, the response view); saving is in `save`, submit and re-open
//! in `submit`.

mod questionnaire;
mod save;
mod submit;

pub(crate) use questionnaire::{
    QuestionnaireQuestion, QuestionnaireView, questionnaire, questionnaire_of,
};
pub(crate) use save::{
    AUDIT_EVIDENCE_CHARS, AnswerInput, SaveAnswers, audit_answer, ensure_editable, save_at,
};
pub(crate) use submit::{Reopen, reopen_return, submit_return};

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::rounds::{cached_round_framework, find_round};
use super::{not_found, with_conn};
use crate::api::problems::{Forbidden, NotFound, Unauthorized};
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::db::assessments::{self as store, AssessmentRow};
use crate::db::audit::{self, AuditFilter};
use crate::db::frameworks::FrameworkCache;
use crate::db::organisations::{self, OrganisationRow};
use crate::db::rounds::RoundRow;
use crate::db::scores as stored_scores;
use crate::domain::answers::{Answer, Answers, missing_mandatory};
use crate::domain::framework::Framework;
use crate::domain::lifecycle::AssessmentStatus;
use crate::domain::organisation::OrgType;
use crate::domain::scoring::Scores;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_one)
        .service(questionnaire::get_questionnaire)
        .service(history)
        .service(save::save_answers)
        .service(submit::submit)
        .service(submit::reopen);
}

/// One return as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssessmentView {
    pub round: String,
    pub ods_code: String,
    pub organisation_name: String,
    pub org_type: String,
    /// `not_started`, `draft`, `submitted` or `reopened`.
    pub status: AssessmentStatus,
    /// Increases with every change; the `ETag` is this number in quotes.
    pub version: i32,
    pub answers: BTreeMap<String, Answer>,
    /// Applicable mandatory questions not yet answered (what stands between a draft and submission).
    pub missing_mandatory: Vec<String>,
    /// Scores stored at submission; present only while the return is submitted.
    pub scores: Option<Scores>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_by: Option<String>,
}

/// Everything a request about one return needs, loaded once per request (the framework parsed
/// once per process: it is published). Only `assessment` is re-read, after a write or a lost race.
pub(crate) struct Context {
    pub round: RoundRow,
    pub framework: Arc<Framework>,
    pub org: OrganisationRow,
    pub org_type: OrgType,
    pub assessment: Option<AssessmentRow>,
}

/// Who may touch a return: admins everything; analysts read; submitters only their own
/// organisations. Checked before anything is looked up, so a refusal says nothing about existence.
pub(crate) fn authorise(who: &Principal, ods: &str, write: bool) -> AppResult<()> {
    let allowed = who.is_admin() || who.acts_for(ods) || (!write && who.is_national_reader());
    if allowed {
        Ok(())
    } else if write && who.is_national_reader() {
        Err(AppError::Forbidden("analysts cannot change returns".into()))
    } else {
        Err(AppError::Forbidden(format!(
            "this token does not act for `{ods}`"
        )))
    }
}

pub(crate) fn load(
    conn: &mut DbConnection,
    frameworks: &FrameworkCache,
    round: &str,
    ods: &str,
) -> AppResult<Context> {
    let round = find_round(conn, round)?;
    let framework = cached_round_framework(conn, frameworks, &round)?;
    let org = organisations::find(conn, ods)?.ok_or_else(|| not_found("organisation", ods))?;
    let org_type = OrgType::parse(&org.org_type)
        .ok_or_else(|| AppError::internal("stored organisation type invalid"))?;
    let assessment = store::find(conn, &round.key, ods)?;
    Ok(Context {
        round,
        framework,
        org,
        org_type,
        assessment,
    })
}

impl Context {
    /// The status of the return (`not_started` while nothing is stored).
    pub fn status(&self) -> AssessmentStatus {
        AssessmentStatus::of(self.assessment.as_ref().map(|a| a.status))
    }

    /// Re-reads the stored return (after a write, or after losing a race to another writer).
    pub fn reload_assessment(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        self.assessment = store::find(conn, &self.round.key, &self.org.ods_code)?;
        Ok(())
    }
}

pub(crate) fn parse_answers(row: &AssessmentRow) -> AppResult<Answers> {
    serde_json::from_str(&row.answers).map_err(AppError::internal)
}

pub(crate) fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header names (`None` without the header; `*` matches any existing
/// return). A malformed header is a 412: it cannot match.
pub(crate) fn if_match(raw: Option<&str>, current: Option<i32>) -> AppResult<Option<i32>> {
    let Some(raw) = raw.map(str::trim) else {
        return Ok(None);
    };
    let current_version = current.unwrap_or(0);
    if raw == "*" {
        return match current {
            Some(v) => Ok(Some(v)),
            None => Err(AppError::PreconditionFailed(
                "there is no return yet to match `*`".into(),
            )),
        };
    }
    let matches = raw
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag(current_version));
    if matches {
        Ok(Some(current_version))
    } else {
        Err(AppError::PreconditionFailed(format!(
            "the return has changed (current ETag {}); reload it and try again",
            etag(current_version)
        )))
    }
}

pub(crate) fn view(conn: &mut DbConnection, ctx: &Context) -> AppResult<AssessmentView> {
    let answers = match &ctx.assessment {
        Some(a) => parse_answers(a)?,
        None => Answers::new(),
    };
    let stored = match &ctx.assessment {
        Some(a) if a.status == AssessmentStatus::Submitted => {
            stored_scores::scores_of(conn, &a.id)?
        }
        _ => None,
    };
    Ok(view_of(ctx, answers, stored.as_ref()))
}

/// The view of the return `ctx` holds, from its answers (already parsed) and, for a submitted
/// return, its stored scores: what a write has just written, without reading it back.
pub(crate) fn view_of(ctx: &Context, answers: Answers, stored: Option<&Scores>) -> AssessmentView {
    let row = ctx.assessment.as_ref();
    let scores = match (row, stored) {
        // Put in framework order and restricted to what the organisation type is asked.
        (Some(a), Some(s)) if a.status == AssessmentStatus::Submitted => {
            Some(s.in_framework_order(&ctx.framework, ctx.org_type))
        }
        _ => None,
    };
    AssessmentView {
        round: ctx.round.key.clone(),
        ods_code: ctx.org.ods_code.clone(),
        organisation_name: ctx.org.name.clone(),
        org_type: ctx.org.org_type.clone(),
        status: ctx.status(),
        version: row.map_or(0, |a| a.version),
        missing_mandatory: missing_mandatory(&ctx.framework, ctx.org_type, &answers),
        answers,
        scores,
        created_at: row.map(|a| a.created_at.and_utc()),
        updated_at: row.map(|a| a.updated_at.and_utc()),
        submitted_at: row.and_then(|a| a.submitted_at.map(|t| t.and_utc())),
        submitted_by: row.and_then(|a| a.submitted_by.clone()),
    }
}

pub(crate) fn respond(view: AssessmentView) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Ok(v) = HeaderValue::from_str(&etag(view.version)) {
        res.insert_header((header::ETAG, v));
    }
    res.json(view)
}

/// The raw `If-Match` header, detached from the request so it can move to a blocking task.
pub(crate) fn if_match_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_owned())
}

pub(crate) fn entity_key(round: &str, ods: &str) -> String {
    format!("{round}/{ods}")
}

/// One organisation's return for a round, with an `ETag` for conditional saves.
#[utoipa::path(operation_id = "getAssessment", tag = "assessments", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The return with its answers and status; `ETag` names its version", body = AssessmentView, headers(("ETag" = String))),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
))]
#[get("/rounds/{round}/assessments/{ods}")]
async fn get_one(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    authorise(&who, &ods, false)?;
    let frameworks = state.frameworks.clone();
    let view = with_conn(&state, move |c| {
        let ctx = load(c, &frameworks, &round, &ods)?;
        view(c, &ctx)
    })
    .await?;
    Ok(respond(view))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEvent {
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub client_id: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub summary: serde_json::Value,
}

/// The audit trail of one return, oldest first, each event with its audit id (unique, increasing).
pub(crate) fn history_events(
    c: &mut DbConnection,
    frameworks: &FrameworkCache,
    round: &str,
    ods: &str,
) -> AppResult<Vec<(i64, HistoryEvent)>> {
    load(c, frameworks, round, ods)?;
    let filter = AuditFilter {
        entity_type: Some("assessment".into()),
        entity_key: Some(entity_key(round, ods)),
        ..Default::default()
    };
    let events = audit::list(c, &filter, 1, 10_000)?.0;
    Ok(events
        .into_iter()
        .map(|e| {
            Ok((
                e.id,
                HistoryEvent {
                    summary: e.summary_json()?,
                    occurred_at: e.occurred_at.and_utc(),
                    actor: e.actor,
                    client_id: e.client_id,
                    request_id: e.request_id,
                    action: e.action,
                },
            ))
        })
        .collect::<Result<_, diesel::result::Error>>()?)
}

/// The audit trail of one return, oldest first.
#[utoipa::path(operation_id = "getAssessmentHistory", tag = "assessments", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$"), crate::api::reads::CursorQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The return's audit trail, oldest first (a page with `limit`)", body = Vec<HistoryEvent>, headers(("Link" = String, description = "The next page (`rel=\"next\"`) when `limit` cut the list"))),
    (status = 422, response = crate::api::problems::Unprocessable),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
))]
#[get("/rounds/{round}/assessments/{ods}/history")]
async fn history(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<(String, String)>,
    page: web::Query<crate::api::reads::CursorQuery>,
) -> AppResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    authorise(&who, &ods, false)?;
    let frameworks = state.frameworks.clone();
    let items = with_conn(&state, move |c| {
        history_events(c, &frameworks, &round, &ods)
    })
    .await?;
    let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
    let events: Vec<HistoryEvent> = items.into_iter().map(|(_, e)| e).collect();
    // Events are keyed by their audit id (unique, increasing).
    crate::api::reads::array_page(&req, &events, &page, |i| ids[i].to_string())
}
