//! Returns as QuestionnaireResponses: read, search, and create (a save, or a save and submit).
//! Authorisation is the API's own (`assessments::authorise`): analysts read, submitters read and
//! write only their own organisations, admins everything.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::Connection;
use fhir_model::r4b::resources::{QuestionnaireResponse, Resource};
use fhir_model::r4b::types::{ExtensionValue, Reference};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::questionnaires::{canonical_of, next_link, page_bounds, self_link, url_of, within};
use super::{base_url, fhir_json, outcome_response, parse_resource};
use crate::api::assessments::{
    AUDIT_EVIDENCE_CHARS, Context, audit_answer, authorise, entity_key, if_match, if_match_header,
    load, parse_answers,
};
use crate::api::body::RawBody;
use crate::api::rounds::locked_round_status;
use crate::api::{not_found, with_conn};
use crate::auth::Principal;
use crate::db::assessments::{self as store, AssessmentRow, ReturnFilter};
use crate::db::audit::{self, NewAuditEvent};
use crate::db::frameworks as frameworks_store;
use crate::db::rounds::RoundLock;
use crate::db::scores as stored_scores;
use crate::db::{DbConnection, now};
use crate::domain::answers::{Answers, missing_mandatory};
use crate::domain::framework::Framework;
use crate::domain::lifecycle::{AssessmentStatus, RoundStatus};
use crate::domain::scoring::{Scores, score};
use crate::error::{AppError, AppResult, FieldError};
use crate::fhir::response::{ReturnView, Status, export, read_answers};
use crate::fhir::{Issue, ODS_SYSTEM, ext, values};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(search).service(read).service(create);
}

/// The FHIR status of a stored return: a submitted one that was ever re-opened is `amended`.
fn status_of(row: &AssessmentRow, reopened: bool) -> Status {
    match row.status {
        AssessmentStatus::Submitted if reopened => Status::Amended,
        AssessmentStatus::Submitted => Status::Completed,
        _ => Status::InProgress,
    }
}

/// The QuestionnaireResponse of a stored return.
fn response_of(
    ctx: &Context,
    row: &AssessmentRow,
    scores: Option<&Scores>,
    reopened: bool,
    warnings: &[Issue],
) -> AppResult<QuestionnaireResponse> {
    let answers = parse_answers(row)?;
    let scores = scores.map(|s| s.in_framework_order(&ctx.framework, ctx.org_type));
    export(&ReturnView {
        id: &row.id,
        version: row.version,
        updated_at: row.updated_at.and_utc(),
        framework: &ctx.framework,
        questionnaire: canonical_of(&ctx.framework),
        round: &ctx.round.key,
        ods: &ctx.org.ods_code,
        organisation_name: &ctx.org.name,
        org_type: ctx.org_type,
        status: status_of(row, reopened),
        answers: &answers,
        scores: scores.as_ref(),
        warnings,
    })
    .map_err(AppError::internal)
}

fn stored_scores_of(conn: &mut DbConnection, row: &AssessmentRow) -> AppResult<Option<Scores>> {
    Ok(match row.status {
        AssessmentStatus::Submitted => stored_scores::scores_of(conn, &row.id)?,
        _ => None,
    })
}

/// One return as a QuestionnaireResponse (id: the return's id).
#[utoipa::path(operation_id = "fhirReadQuestionnaireResponse", tag = "fhir",
    params(("id" = String, Path, description = "The return's id", pattern = "^[A-Za-z0-9.-]{1,64}$")),
    security(("bearer" = [])), responses(
    (status = 200, description = "The QuestionnaireResponse", body = Object, content_type = "application/fhir+json", headers(("ETag" = String))),
    (status = "default", description = "An OperationOutcome (401, 403, 404, …)", body = Object, content_type = "application/fhir+json"),
))]
#[get("/QuestionnaireResponse/{id}")]
async fn read(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let frameworks = state.frameworks.clone();
    let (qr, version) = with_conn(&state, move |c| {
        // A return the caller may not read is answered as one that does not exist: its id says
        // nothing about whose it is.
        let row = store::find_by_id(c, &id)?
            .filter(|row| authorise(&who, &row.ods_code, false).is_ok())
            .ok_or_else(|| not_found("QuestionnaireResponse", &id))?;
        let ctx = load(c, &frameworks, &row.round_key, &row.ods_code)?;
        let scores = stored_scores_of(c, &row)?;
        let reopened = audit::reopened(c)?.contains(&entity_key(&row.round_key, &row.ods_code));
        Ok((
            response_of(&ctx, &row, scores.as_ref(), reopened, &[])?,
            row.version,
        ))
    })
    .await?;
    let mut res = fhir_json(StatusCode::OK, &qr)?;
    if let Ok(v) = header::HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResponseSearch {
    /// The Questionnaire's canonical `url|version` (or `url`).
    #[param(max_length = 2000)]
    pub questionnaire: Option<String>,
    /// The organisation: an ODS code, `Organization/<ODS>` or `<system>|<ODS>`.
    #[param(max_length = 200)]
    pub subject: Option<String>,
    /// The organisation by identifier: `https://fhir.nhs.uk/Id/ods-organization-code|<ODS>`.
    #[serde(rename = "subject:identifier")]
    #[param(rename = "subject:identifier", max_length = 200)]
    pub subject_identifier: Option<String>,
    /// `in-progress`, `completed` or `amended`.
    #[param(pattern = "^(in-progress|completed|amended)$")]
    pub status: Option<String>,
    /// Page size (1 to 500, default 50).
    #[serde(rename = "_count")]
    #[param(rename = "_count", minimum = 1, maximum = 500)]
    pub count: Option<u32>,
    /// Entries to skip.
    #[serde(rename = "_offset")]
    #[param(rename = "_offset", minimum = 0, maximum = 100000)]
    pub offset: Option<u32>,
}

/// An ODS code from a search value: `X`, `Organization/X` or `<ODS system>|X`; `None` for an
/// identifier in another system (it names no organisation here).
fn ods_of(raw: &str) -> Option<String> {
    let code = match raw.split_once('|') {
        Some((system, code)) if system.is_empty() || system == ODS_SYSTEM => code,
        Some(_) => return None,
        None => raw.strip_prefix("Organization/").unwrap_or(raw),
    };
    Some(code.trim().to_ascii_uppercase())
}

/// The frameworks a `questionnaire` value (`url|version` or `url`) names.
fn frameworks_named(conn: &mut DbConnection, canonical: &str) -> AppResult<Vec<Framework>> {
    let (url, version) = match canonical.split_once('|') {
        Some((u, v)) => (u, Some(v)),
        None => (canonical, None),
    };
    let mut found = Vec::new();
    for row in frameworks_store::list(conn)? {
        let f = row.framework().map_err(AppError::internal)?;
        if url_of(&f) == url && version.is_none_or(|v| f.version == v) {
            found.push(f);
        }
    }
    Ok(found)
}

/// Returns as a searchset Bundle, by `questionnaire`, `subject` and `status`. A submitter sees
/// only its own organisations' returns.
#[utoipa::path(operation_id = "fhirSearchQuestionnaireResponses", tag = "fhir", params(ResponseSearch),
    security(("bearer" = [])), responses(
    (status = 200, description = "A searchset Bundle of QuestionnaireResponses", body = Object, content_type = "application/fhir+json"),
    (status = "default", description = "An OperationOutcome (400, 401, …)", body = Object, content_type = "application/fhir+json"),
))]
#[get("/QuestionnaireResponse")]
async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    query: web::Query<ResponseSearch>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    within("questionnaire", &query.questionnaire, 2000)?;
    within("subject", &query.subject, 200)?;
    within("subject:identifier", &query.subject_identifier, 200)?;
    let (count, offset) = page_bounds(query.count, query.offset)?;
    let wanted = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(Status::parse(raw).ok_or_else(|| {
            AppError::bad_field(
                "status",
                "`status` is `in-progress`, `completed` or `amended`",
            )
        })?),
    };
    let mut organisations: Option<Vec<String>> = None;
    for raw in [&query.subject, &query.subject_identifier]
        .into_iter()
        .flatten()
    {
        organisations = Some(match (ods_of(raw), organisations) {
            (Some(ods), Some(list)) if list.contains(&ods) => vec![ods],
            (Some(ods), None) => vec![ods],
            _ => Vec::new(),
        });
    }
    if !who.is_national_reader() {
        let own = who.orgs.clone();
        organisations = Some(match organisations {
            Some(list) => list.into_iter().filter(|o| own.contains(o)).collect(),
            None => own,
        });
    }
    let frameworks = state.frameworks.clone();
    let base = base_url(&req);
    let (entries, total) = with_conn(&state, move |c| {
        let rounds = match &query.questionnaire {
            None => None,
            Some(canonical) => {
                let keys: Vec<String> = frameworks_named(c, canonical)?
                    .into_iter()
                    .map(|f| f.key)
                    .collect();
                Some(
                    crate::db::rounds::list(c)?
                        .into_iter()
                        .filter(|r| keys.contains(&r.framework_key))
                        .map(|r| r.key)
                        .collect(),
                )
            }
        };
        let statuses = wanted.map(|s| match s {
            Status::InProgress => vec![AssessmentStatus::Draft, AssessmentStatus::Reopened],
            Status::Completed | Status::Amended => vec![AssessmentStatus::Submitted],
        });
        let filter = ReturnFilter {
            rounds,
            organisations,
            statuses,
        };
        let reopened = audit::reopened(c)?;
        let keys: Vec<_> = store::search_keys(c, &filter)?
            .into_iter()
            .filter(|(_, round, ods, status)| match wanted {
                Some(Status::Completed) => !reopened.contains(&entity_key(round, ods)),
                Some(Status::Amended) => {
                    *status == AssessmentStatus::Submitted
                        && reopened.contains(&entity_key(round, ods))
                }
                _ => true,
            })
            .collect();
        let total = keys.len();
        let page: Vec<String> = keys
            .iter()
            .skip(offset)
            .take(count)
            .map(|(id, ..)| id.clone())
            .collect();
        let mut rows: HashMap<String, AssessmentRow> = store::by_ids(c, &page)?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        let mut contexts: HashMap<(String, String), Context> = HashMap::new();
        let mut entries = Vec::new();
        for id in &page {
            let Some(row) = rows.remove(id) else { continue };
            let key = (row.round_key.clone(), row.ods_code.clone());
            if !contexts.contains_key(&key) {
                contexts.insert(
                    key.clone(),
                    load(c, &frameworks, &row.round_key, &row.ods_code)?,
                );
            }
            let Some(ctx) = contexts.get(&key) else {
                continue;
            };
            let scores = stored_scores_of(c, &row)?;
            let was_reopened = reopened.contains(&entity_key(&row.round_key, &row.ods_code));
            let qr = response_of(ctx, &row, scores.as_ref(), was_reopened, &[])?;
            entries.push((
                format!("{base}/QuestionnaireResponse/{id}"),
                Resource::QuestionnaireResponse(qr),
            ));
        }
        Ok((entries, total))
    })
    .await?;
    let bundle = crate::fhir::searchset(
        entries,
        total,
        self_link(&req),
        next_link(&req, total, count, offset),
    )
    .map_err(AppError::internal)?;
    fhir_json(StatusCode::OK, &bundle)
}

/// The ODS code a response's `subject` (else `author`) names: an identifier in the ODS system,
/// or a reference `Organization/<ODS>`.
fn ods_named(qr: &QuestionnaireResponse) -> Result<String, Issue> {
    let from = |r: &Reference, path: &str| -> Option<Result<String, Issue>> {
        if let Some(id) = &r.identifier {
            if id.system.as_deref().is_some_and(|s| s != ODS_SYSTEM) {
                return Some(Err(Issue::error(
                    "value",
                    format!("{path}.identifier.system"),
                    format!("organisations are identified in `{ODS_SYSTEM}`"),
                )));
            }
            if let Some(v) = &id.value {
                return Some(Ok(v.trim().to_ascii_uppercase()));
            }
        }
        let reference = r.reference.as_deref()?;
        reference
            .strip_prefix("Organization/")
            .map(|code| Ok(code.trim().to_ascii_uppercase()))
    };
    qr.subject
        .as_ref()
        .and_then(|r| from(r, "QuestionnaireResponse.subject"))
        .or_else(|| {
            qr.author
                .as_ref()
                .and_then(|r| from(r, "QuestionnaireResponse.author"))
        })
        .unwrap_or_else(|| {
            Err(Issue::error(
                "required",
                "QuestionnaireResponse.subject",
                format!("name the organisation: subject.identifier in `{ODS_SYSTEM}` (or author)"),
            ))
        })
}

/// The framework and round a response is for: the framework its `questionnaire` names, and the
/// round its `round` extension names or else the one open round on that framework.
fn framework_and_round(
    conn: &mut DbConnection,
    qr: &QuestionnaireResponse,
) -> AppResult<Result<String, Issue>> {
    let Some(canonical) = qr.questionnaire.as_deref() else {
        return Ok(Err(Issue::error(
            "required",
            "QuestionnaireResponse.questionnaire",
            "name the Questionnaire answered (`url|version`)",
        )));
    };
    let named = frameworks_named(conn, canonical)?;
    let framework = match named.as_slice() {
        [one] => one,
        [] => {
            return Ok(Err(Issue::error(
                "not-found",
                "QuestionnaireResponse.questionnaire",
                format!("no Questionnaire here is `{canonical}`"),
            )));
        }
        _ => {
            return Ok(Err(Issue::error(
                "business-rule",
                "QuestionnaireResponse.questionnaire",
                format!("several versions answer to `{canonical}`: name one as `url|version`"),
            )));
        }
    };
    let asked = values(&qr.extension, ext::ROUND).find_map(|v| match v {
        ExtensionValue::String(s) | ExtensionValue::Code(s) | ExtensionValue::Id(s) => {
            Some(s.clone())
        }
        _ => None,
    });
    let rounds = crate::db::rounds::list(conn)?;
    if let Some(round) = asked {
        return Ok(match rounds.iter().find(|r| r.key == round) {
            Some(r) if r.framework_key == framework.key => Ok(r.key.clone()),
            Some(_) => Err(Issue::error(
                "business-rule",
                "QuestionnaireResponse.extension",
                format!("round `{round}` does not use `{canonical}`"),
            )),
            None => Err(Issue::error(
                "not-found",
                "QuestionnaireResponse.extension",
                format!("no round `{round}`"),
            )),
        });
    }
    let open: Vec<&str> = rounds
        .iter()
        .filter(|r| r.framework_key == framework.key && r.status == RoundStatus::Open)
        .map(|r| r.key.as_str())
        .collect();
    Ok(match open.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(Issue::error(
            "business-rule",
            "QuestionnaireResponse.questionnaire",
            format!("no round using `{canonical}` is open"),
        )),
        several => Err(Issue::error(
            "business-rule",
            "QuestionnaireResponse.extension",
            format!(
                "rounds {} are open on `{canonical}`: name one with the extension {}",
                several.join(", "),
                ext::ROUND
            ),
        )),
    })
}

/// Save a return from a QuestionnaireResponse, and with `completed` (or `amended`) submit it, in
/// one transaction: the response is the whole return (answers it leaves out are removed). Totals
/// are recomputed; a different figure in the response is reported as a warning. With
/// `If-Match`, the return must still be at that version (412).
#[utoipa::path(operation_id = "fhirCreateQuestionnaireResponse", tag = "fhir",
    params(("If-Match" = Option<String>, Header, description = "ETag (version) of the return being replaced")),
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 QuestionnaireResponse"),
    security(("bearer" = [])), responses(
    (status = 201, description = "The return as stored, as a QuestionnaireResponse (scores and totals the service's own)", body = Object, content_type = "application/fhir+json", headers(("Location" = String), ("ETag" = String))),
    (status = "default", description = "An OperationOutcome (400, 401, 403, 409, 412, 415, 422, …)", body = Object, content_type = "application/fhir+json"),
))]
#[post("/QuestionnaireResponse")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    body: RawBody,
) -> AppResult<HttpResponse> {
    let qr: QuestionnaireResponse = parse_resource(&body, "QuestionnaireResponse", &req)?;
    let submit = match qr.status.as_ref() {
        "in-progress" => false,
        "completed" | "amended" => true,
        other => {
            return outcome_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &[Issue::error(
                    "not-supported",
                    "QuestionnaireResponse.status",
                    format!(
                        "`{other}` is not taken: send `in-progress` to save or `completed` to submit"
                    ),
                )],
            );
        }
    };
    let ods = match ods_named(&qr) {
        Ok(ods) => ods,
        Err(issue) => return outcome_response(StatusCode::UNPROCESSABLE_ENTITY, &[issue]),
    };
    authorise(&who, &ods, true)?;
    let raw_if_match = if_match_header(&req);
    let frameworks = state.frameworks.clone();
    let outcome = with_conn(&state, move |c| {
        let round = match framework_and_round(c, &qr)? {
            Ok(round) => round,
            Err(issue) => return Ok(Err(vec![issue])),
        };
        let mut ctx = load(c, &frameworks, &round, &ods)?;
        let received = match read_answers(&qr, &ctx.framework, ctx.org_type) {
            Ok(r) => r,
            Err(issues) => return Ok(Err(issues)),
        };
        let expected = if_match(
            raw_if_match.as_deref(),
            ctx.assessment.as_ref().map(|a| a.version),
        )?;
        let created = ctx.assessment.is_none();
        // Without If-Match a lost race is tried again on the fresh version (the response is the
        // whole return either way); with it, the client named that version, so it is a 412.
        let mut attempts = 0;
        let row = loop {
            match store_return(c, &who, &mut ctx, &received.answers, submit, expected) {
                Err(AppError::PreconditionFailed(_)) if expected.is_none() && attempts < 5 => {
                    attempts += 1;
                    ctx.reload_assessment(c)?;
                }
                Err(AppError::PreconditionFailed(_)) if expected.is_none() => {
                    return Err(AppError::Conflict(
                        "the return is being edited concurrently; try again".into(),
                    ));
                }
                other => break other?,
            }
        };
        let scores = stored_scores_of(c, &row)?;
        let reopened = audit::reopened(c)?.contains(&entity_key(&row.round_key, &row.ods_code));
        let response = response_of(&ctx, &row, scores.as_ref(), reopened, &received.warnings)?;
        Ok(Ok((response, row, created)))
    })
    .await?;
    let (response, row, created) = match outcome {
        Ok(done) => done,
        Err(issues) => return outcome_response(StatusCode::UNPROCESSABLE_ENTITY, &issues),
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut res = fhir_json(status, &response)?;
    if let Ok(v) =
        header::HeaderValue::from_str(&format!("/fhir/r4/QuestionnaireResponse/{}", row.id))
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&format!("\"{}\"", row.version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

/// Replaces the return's answers (and submits it when `submit`), all in one transaction with the
/// round held, by compare-and-set on the version read; returns the row as stored.
fn store_return(
    conn: &mut DbConnection,
    who: &Principal,
    ctx: &mut Context,
    answers: &Answers,
    submit: bool,
    expected: Option<i32>,
) -> AppResult<AssessmentRow> {
    let round = ctx.round.key.clone();
    let ods = ctx.org.ods_code.clone();
    let before = ctx.status();
    before
        .editable(ctx.round.status)
        .map_err(|e| AppError::lifecycle(&round, e))?;
    if let (Some(v), Some(a)) = (expected, &ctx.assessment)
        && v != a.version
    {
        return Err(AppError::PreconditionFailed(
            "the return has changed; reload it and try again".into(),
        ));
    }
    let scores = if submit {
        let missing = missing_mandatory(&ctx.framework, ctx.org_type, answers);
        if !missing.is_empty() {
            let errors = missing
                .iter()
                .map(|k| FieldError::new(k, format!("`{k}` is mandatory and not answered")))
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
        Some(score(&ctx.framework, ctx.org_type, answers))
    } else {
        None
    };
    let previous: Answers = match &ctx.assessment {
        Some(a) => parse_answers(a)?,
        None => Answers::new(),
    };
    let changes: Vec<serde_json::Value> = previous
        .keys()
        .chain(answers.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| previous.get(*k) != answers.get(*k))
        .map(|k| {
            serde_json::json!({
                "question": k,
                "before": audit_answer(previous.get(k)),
                "after": audit_answer(answers.get(k)),
            })
        })
        .collect();
    let document = serde_json::to_string(answers).map_err(AppError::internal)?;
    let t = now();
    let key = entity_key(&round, &ods);
    crate::db::write_transaction(conn, |c| {
        let round_now = locked_round_status(c, &round, RoundLock::Share)?;
        before
            .editable(round_now)
            .map_err(|e| AppError::lifecycle(&round, e))?;
        let (id, mut version) = match &ctx.assessment {
            Some(a) => {
                if store::save_answers(c, &a.id, a.version, &document, t)? == 0 {
                    return Err(AppError::PreconditionFailed(
                        "the return changed while saving; reload it and try again".into(),
                    ));
                }
                (a.id.clone(), a.version + 1)
            }
            None => {
                let row = AssessmentRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    round_key: round.clone(),
                    ods_code: ods.clone(),
                    status: AssessmentStatus::Draft,
                    version: 1,
                    answers: document.clone(),
                    created_at: t,
                    updated_at: t,
                    submitted_at: None,
                    submitted_by: None,
                };
                match c.transaction(|c| store::insert(c, &row)) {
                    Ok(()) => {}
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => {
                        return Err(AppError::PreconditionFailed(
                            "the return was created by someone else meanwhile".into(),
                        ));
                    }
                    Err(e) => return Err(AppError::from(e)),
                }
                (row.id, 1)
            }
        };
        let summary = serde_json::json!({
            "changes": changes,
            "version": version,
            "evidence_truncated_at": AUDIT_EVIDENCE_CHARS,
            "via": "fhir",
        });
        audit::record(
            c,
            &NewAuditEvent::new(&who.actor(), "save_answers", "assessment", &key, summary),
        )?;
        if let Some(scores) = &scores {
            let saved = if before == AssessmentStatus::NotStarted {
                AssessmentStatus::Draft
            } else {
                before
            };
            saved
                .submittable(round_now)
                .map_err(|e| AppError::lifecycle(&round, e))?;
            let submitted = Some((t, who.subject.clone()));
            if store::set_status(c, &id, version, AssessmentStatus::Submitted, submitted, t)? == 0 {
                return Err(AppError::PreconditionFailed(
                    "the return changed while submitting; reload it and try again".into(),
                ));
            }
            version += 1;
            stored_scores::store_scores(c, &id, &round, &ods, scores)?;
            let summary = serde_json::json!({ "version": version, "overall": scores.score, "coverage": scores.coverage, "via": "fhir" });
            audit::record(
                c,
                &NewAuditEvent::new(&who.actor(), "submit", "assessment", &key, summary),
            )?;
        }
        Ok::<_, AppError>(())
    })?;
    ctx.reload_assessment(conn)?;
    ctx.assessment
        .clone()
        .ok_or_else(|| AppError::internal("a return just written is not found"))
}
