//! Submitting a return (completeness check, scores computed and stored in the same transaction)
//! and re-opening it (admin, with a reason).

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::save::ensure_editable;
use super::{
    authorise, entity_key, if_match, if_match_header, load, parse_answers, respond, view, view_of,
};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, RequestTimeout,
    Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::api::rounds::locked_round_status;
use crate::api::{validated, with_conn};
use crate::auth::Principal;
use crate::db::assessments as store;
use crate::db::assessments::AssessmentRow;
use crate::db::audit::{self, NewAuditEvent};
use crate::db::now;
use crate::db::rounds::RoundLock;
use crate::db::scores as stored_scores;
use crate::domain::answers::missing_mandatory;
use crate::domain::lifecycle::AssessmentStatus;
use crate::domain::scoring::score;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

/// Submit a return: every applicable mandatory question must be answered (422 listing the
/// missing keys); scores are computed and stored with it; the return becomes read-only.
#[utoipa::path(operation_id = "submitAssessment", tag = "assessments",
    params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being submitted")),
    security(("bearer" = [])), responses(
    (status = 200, description = "The submitted return, its scores now stored; `ETag` names the new version", body = super::AssessmentView, headers(("ETag" = String))),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
    (status = 412, response = PreconditionFailed),
    (status = 422, response = Unprocessable),
))]
#[post("/rounds/{round}/assessments/{ods}/submit")]
pub(super) async fn submit(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    authorise(&who, &ods, true)?;
    let raw_if_match = if_match_header(&req);
    let frameworks = state.frameworks.clone();
    let view = with_conn(&state, move |c| {
        submit_return(c, &frameworks, &who, &round, &ods, raw_if_match.as_deref())
    })
    .await?;
    Ok(respond(view))
}

/// Submits one return (the rules of `POST …/submit`): `if_match` is the raw `If-Match` value, if
/// any. Shared with the web form.
pub(crate) fn submit_return(
    c: &mut crate::db::DbConnection,
    frameworks: &crate::db::frameworks::FrameworkCache,
    who: &Principal,
    round: &str,
    ods: &str,
    raw_if_match: Option<&str>,
) -> crate::error::AppResult<super::AssessmentView> {
    let (round, ods) = (round.to_owned(), ods.to_owned());
    let mut ctx = load(c, frameworks, &round, &ods)?;
    ensure_editable(&ctx)?;
    if_match(raw_if_match, ctx.assessment.as_ref().map(|a| a.version))?;
    let answers = match &ctx.assessment {
        Some(a) => parse_answers(a)?,
        None => Default::default(),
    };
    let missing = missing_mandatory(&ctx.framework, ctx.org_type, &answers);
    if !missing.is_empty() {
        let errors = missing
            .iter()
            .map(|k| FieldError::new(k, "mandatory and not answered"))
            .collect();
        return Err(AppError::unprocessable(
            format!(
                "{} mandatory question(s) unanswered: {}",
                missing.len(),
                missing.join(", ")
            ),
            errors,
        ));
    }
    ctx.status()
        .submittable(ctx.round.status)
        .map_err(|e| AppError::lifecycle(&round, e))?;
    let Some(a) = &ctx.assessment else {
        return Err(AppError::internal("a submittable return has a stored row"));
    };
    let scores = score(&ctx.framework, ctx.org_type, &answers);
    let t = now();
    crate::db::write_transaction(c, |c| {
        // Checked again with the round held until commit (a close may have committed since).
        let round_now = locked_round_status(c, &round, RoundLock::Share)?;
        ctx.status()
            .submittable(round_now)
            .map_err(|e| AppError::lifecycle(&round, e))?;
        let submitted = Some((t, who.subject.clone()));
        if store::set_status(
            c,
            &a.id,
            a.version,
            AssessmentStatus::Submitted,
            submitted,
            t,
        )? == 0
        {
            return Err(AppError::PreconditionFailed(
                "the return changed while submitting; reload it and try again".into(),
            ));
        }
        stored_scores::store_scores(c, &a.id, &round, &ods, &scores)?;
        let summary = serde_json::json!({ "version": a.version + 1, "overall": scores.score, "coverage": scores.coverage });
        audit::record(
            c,
            &NewAuditEvent::new(
                &who.actor(),
                "submit",
                "assessment",
                &entity_key(&round, &ods),
                summary,
            ),
        )?;
        Ok::<_, AppError>(())
    })?;
    // The row as written, without reading it back.
    if let Some(a) = ctx.assessment.take() {
        ctx.assessment = Some(AssessmentRow {
            status: AssessmentStatus::Submitted,
            version: a.version + 1,
            updated_at: t,
            submitted_at: Some(t),
            submitted_by: Some(who.subject.clone()),
            ..a
        });
    }
    Ok(view_of(&ctx, answers, Some(&scores)))
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reopen {
    /// Why the return is re-opened (kept in the audit trail).
    #[validate(length(
        min = 1,
        max = 2000,
        message = "a reason of 1 to 2000 characters is required"
    ))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Re-open a submitted return (admin, with a reason): it becomes editable again; scores are
/// replaced when it is submitted again.
#[utoipa::path(operation_id = "reopenAssessment", tag = "assessments", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$")),
    request_body = Reopen, security(("bearer" = [])), responses(
    (status = 200, description = "The return, re-opened and editable again; `ETag` names the new version", body = super::AssessmentView, headers(("ETag" = String))),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
    (status = 408, response = RequestTimeout),
    (status = 413, response = PayloadTooLarge),
    (status = 415, response = UnsupportedMediaType),
    (status = 422, response = Unprocessable),
))]
#[post("/rounds/{round}/assessments/{ods}/reopen")]
pub(super) async fn reopen(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    who.require_admin()?;
    let input: Reopen = validated(body.parse()?)?;
    let frameworks = state.frameworks.clone();
    let view = with_conn(&state, move |c| {
        reopen_return(c, &frameworks, &who, &round, &ods, &input)
    })
    .await?;
    Ok(respond(view))
}

/// Re-opens one submitted return (admin; the rules of `POST …/reopen`). Shared with the web.
pub(crate) fn reopen_return(
    c: &mut crate::db::DbConnection,
    frameworks: &crate::db::frameworks::FrameworkCache,
    who: &Principal,
    round: &str,
    ods: &str,
    input: &Reopen,
) -> crate::error::AppResult<super::AssessmentView> {
    who.require_admin()?;
    input.validate()?;
    let (round, ods) = (round.to_owned(), ods.to_owned());
    let mut ctx = load(c, frameworks, &round, &ods)?;
    ctx.status()
        .reopenable(ctx.round.status)
        .map_err(|e| AppError::lifecycle(&round, e))?;
    let Some(a) = &ctx.assessment else {
        return Err(AppError::internal("a re-openable return has a stored row"));
    };
    let t = now();
    crate::db::write_transaction(c, |c| {
        // Checked again with the round held until commit: a publish that committed since is
        // seen here, and one that comes later waits and then counts this re-opened return.
        let round_now = locked_round_status(c, &round, RoundLock::Share)?;
        ctx.status()
            .reopenable(round_now)
            .map_err(|e| AppError::lifecycle(&round, e))?;
        if store::set_status(c, &a.id, a.version, AssessmentStatus::Reopened, None, t)? == 0 {
            return Err(AppError::Conflict(
                "the return changed meanwhile; try again".into(),
            ));
        }
        let summary = serde_json::json!({ "reason": input.reason, "version": a.version + 1 });
        audit::record(
            c,
            &NewAuditEvent::new(
                &who.actor(),
                "reopen",
                "assessment",
                &entity_key(&round, &ods),
                summary,
            ),
        )?;
        Ok::<_, AppError>(())
    })?;
    ctx.reload_assessment(c)?;
    view(c, &ctx)
}
