//! Saving answers: partial, repeatable, merged with earlier answers, conditional on `If-Match`,
//! and a compare-and-set on the stored version so that concurrent saves never overwrite silently.

use actix_web::{HttpRequest, HttpResponse, put, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{
    AssessmentView, Context, authorise, entity_key, if_match, if_match_header, load, parse_answers,
    respond, view_of,
};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, RequestTimeout,
    Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::api::rounds::locked_round_status;
use crate::api::{validated, with_conn};
use crate::auth::Principal;
use crate::db::assessments::{self as store, AssessmentRow};
use crate::db::audit::{self, NewAuditEvent};
use crate::db::rounds::RoundLock;
use crate::db::{DbConnection, now};
use crate::domain::answers::{Answer, AnswerValue, Answers, check_answer};
use crate::domain::lifecycle::AssessmentStatus;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

/// One answer to change, with JSON merge-patch semantics per member: `value` and `evidence` are
/// independent; a member that is absent leaves what is stored as it was, `null` clears it.
/// Clearing the `value` removes the answer, and with it its evidence (evidence is kept only for an
/// answer); evidence alone updates the evidence of an answer already stored.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// The question key.
    #[schema(example = "WL-STR-2a")]
    pub question: String,
    /// `string | [string] | number | bool`; `null` clears the answer; absent keeps it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<AnswerValue>)]
    pub value: Option<serde_json::Value>,
    /// Free text supporting the answer; `null` clears it; absent keeps what is stored.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub evidence: Option<Option<String>>,
}

/// A member that is present (even `null`) is `Some`; serde's `default` makes an absent one `None`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Evidence is limited to this many characters.
const EVIDENCE_MAX_CHARS: usize = crate::domain::answers::MAX_EVIDENCE_CHARS;

/// The audit trail keeps this many characters of each evidence text (marked when cut).
pub(crate) const AUDIT_EVIDENCE_CHARS: usize = 500;

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAnswers {
    #[validate(length(min = 1, max = 2000, message = "send 1 to 2000 answers"))]
    #[schema(min_items = 1, max_items = 2000)]
    pub answers: Vec<AnswerInput>,
}

/// Whether answers may change now (the rule: [`AssessmentStatus::editable`]).
pub(crate) fn ensure_editable(ctx: &Context) -> AppResult<()> {
    ctx.status()
        .editable(ctx.round.status)
        .map_err(|e| AppError::lifecycle(&ctx.round.key, e))
}

/// Parses the raw JSON value of one answer (`None` = clear).
fn parse_value(question: &str, raw: &serde_json::Value) -> Result<Option<AnswerValue>, FieldError> {
    use serde_json::Value;
    match raw {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(AnswerValue::Bool(*b))),
        Value::Number(n) => n
            .as_f64()
            .map(|f| Some(AnswerValue::Number(f)))
            .ok_or_else(|| FieldError::new(question, "the number is out of range")),
        Value::String(s) => Ok(Some(AnswerValue::Text(s.clone()))),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|v| Some(AnswerValue::Choices(v)))
            .ok_or_else(|| {
                FieldError::new(question, "an array answer holds option codes (strings)")
            }),
        Value::Object(_) => Err(FieldError::new(
            question,
            "a value is a string, an array of strings, a number, a boolean or null",
        )),
    }
}

/// One answer as the audit trail shows it: its value and (possibly truncated) evidence.
pub(crate) fn audit_answer(answer: Option<&Answer>) -> serde_json::Value {
    match answer {
        None => serde_json::Value::Null,
        Some(a) => serde_json::json!({
            "value": a.value,
            "evidence": a.evidence.as_deref().map(truncate_for_audit),
        }),
    }
}

fn truncate_for_audit(text: &str) -> String {
    match text.char_indices().nth(AUDIT_EVIDENCE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Evidence as stored: blank text is no evidence.
fn clean_evidence(e: Option<String>) -> Option<String> {
    e.filter(|e| !e.trim().is_empty())
}

/// Applies the changes to `current` after checking every one against its question; all problems
/// at once, each naming its question. Returns, per question that changed, its answer before and
/// after (for the audit trail), in request order.
fn apply(
    ctx: &Context,
    current: &mut Answers,
    input: &SaveAnswers,
) -> AppResult<Vec<serde_json::Value>> {
    let mut errors = Vec::new();
    let mut next = current.clone();
    let mut seen = std::collections::HashSet::new();
    for a in &input.answers {
        // Problems with an answer's content name its question, as they always have; problems
        // with the body's shape (unknown or mistyped members) name a JSON path instead.
        let key = a.question.as_str();
        if !seen.insert(a.question.as_str()) {
            errors.push(FieldError::new(
                key,
                format!("`{}` is answered twice in one request", a.question),
            ));
            continue;
        }
        if ctx.framework.question(&a.question).is_none() {
            errors.push(FieldError::new(
                key,
                format!("`{}` is not a question of this framework", a.question),
            ));
            continue;
        }
        if let Some(Some(e)) = &a.evidence
            && e.chars().count() > EVIDENCE_MAX_CHARS
        {
            errors.push(FieldError::new(
                key,
                format!("evidence is limited to {EVIDENCE_MAX_CHARS} characters"),
            ));
            continue;
        }
        let stored = next.get(&a.question).cloned();
        match (&a.value, &a.evidence) {
            (None, None) => errors.push(FieldError::new(
                key,
                format!(
                    "nothing to change for `{}`: send `value`, `evidence` or both",
                    a.question
                ),
            )),
            (Some(serde_json::Value::Null), Some(Some(_))) => errors.push(FieldError::new(
                key,
                "evidence cannot be kept for an answer that is being cleared",
            )),
            (Some(serde_json::Value::Null), _) => {
                next.remove(&a.question);
            }
            (Some(raw), evidence) => match parse_value(&a.question, raw)
                .and_then(|v| v.ok_or_else(|| FieldError::new(&a.question, "no value")))
            {
                Err(e) => errors.push(FieldError::new(key, e.message)),
                Ok(v) => match check_answer(&ctx.framework, ctx.org_type, &a.question, &v) {
                    Err(p) => errors.push(FieldError::new(key, p.message)),
                    Ok(()) => {
                        let evidence = match evidence {
                            None => stored.and_then(|s| s.evidence),
                            Some(e) => clean_evidence(e.clone()),
                        };
                        next.insert(a.question.clone(), Answer { value: v, evidence });
                    }
                },
            },
            (None, Some(evidence)) => match next.get_mut(&a.question) {
                Some(answer) => answer.evidence = clean_evidence(evidence.clone()),
                None => errors.push(FieldError::new(
                    key,
                    format!(
                        "`{}` has no answer to hold evidence; send its `value` too",
                        a.question
                    ),
                )),
            },
        }
    }
    if !errors.is_empty() {
        let keys: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        return Err(AppError::unprocessable(
            format!("answers refused at: {}", keys.join(", ")),
            errors,
        ));
    }
    let mut changes = Vec::new();
    for a in &input.answers {
        let (before, after) = (current.get(&a.question), next.get(&a.question));
        if before != after {
            changes.push(serde_json::json!({
                "question": a.question,
                "before": audit_answer(before),
                "after": audit_answer(after),
            }));
        }
    }
    *current = next;
    Ok(changes)
}

enum Outcome {
    Saved(Box<AssessmentView>),
    LostRace,
}

/// One attempt at the compare-and-set write, against the return as `ctx` holds it. On success
/// `ctx` holds the return as written.
fn try_save(
    conn: &mut DbConnection,
    who: &Principal,
    ctx: &mut Context,
    input: &SaveAnswers,
) -> AppResult<Outcome> {
    ensure_editable(ctx)?;
    // `expected` was read from this same `ctx` (and a lost race with it is a 412 before any
    // retry), so the version written against is the one the client named; the compare-and-set
    // below catches anyone who wrote in between.
    let (round, ods) = (ctx.round.key.clone(), ctx.org.ods_code.clone());
    let mut answers = match &ctx.assessment {
        Some(a) => parse_answers(a)?,
        None => Answers::new(),
    };
    let changes = apply(ctx, &mut answers, input)?;
    let document = serde_json::to_string(&answers).map_err(AppError::internal)?;
    let t = now();
    let key = entity_key(&round, &ods);
    let written = crate::db::write_transaction(conn, |c| {
        // The round's status again, held until commit: a close that committed since `ctx` was
        // read is seen here, and one that comes later waits for this save.
        let round_now = locked_round_status(c, &round, RoundLock::Share)?;
        ctx.status()
            .editable(round_now)
            .map_err(|e| AppError::lifecycle(&round, e))?;
        let (changed, version) = match &ctx.assessment {
            Some(a) => (
                store::save_answers(c, &a.id, a.version, &document, t)? == 1,
                a.version + 1,
            ),
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
                // In a savepoint: on PostgreSQL a failed statement would otherwise abort the
                // whole transaction.
                match c.transaction(|c| store::insert(c, &row)) {
                    Ok(()) => (true, 1),
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => (false, 0),
                    Err(e) => return Err(AppError::from(e)),
                }
            }
        };
        if changed {
            let summary = serde_json::json!({
                "changes": changes,
                "version": version,
                "evidence_truncated_at": AUDIT_EVIDENCE_CHARS,
            });
            audit::record(
                c,
                &NewAuditEvent::new(&who.actor(), "save_answers", "assessment", &key, summary),
            )?;
        }
        Ok::<_, AppError>(changed)
    });
    match written {
        Ok(true) => {
            // The row as written, without reading it back.
            let row = match ctx.assessment.take() {
                Some(a) => AssessmentRow {
                    version: a.version + 1,
                    answers: document,
                    updated_at: t,
                    ..a
                },
                None => store::find(conn, &round, &ods)?
                    .ok_or_else(|| AppError::internal("a return just inserted is not found"))?,
            };
            ctx.assessment = Some(row);
            Ok(Outcome::Saved(Box::new(view_of(ctx, answers, None))))
        }
        Ok(false) => Ok(Outcome::LostRace),
        Err(e) => Err(e),
    }
}

/// Saves `input` only if the stored return is still at `expected` (the web form's conditional
/// save): `Ok(None)` when it has moved on (before or during the write), so the caller can show
/// the person what changed; the same checks, merge and audit as `PUT …/answers` otherwise.
pub(crate) fn save_at(
    conn: &mut DbConnection,
    who: &Principal,
    ctx: &mut Context,
    input: &SaveAnswers,
    expected: i32,
) -> AppResult<Option<AssessmentView>> {
    if ctx.assessment.as_ref().map_or(0, |a| a.version) != expected {
        return Ok(None);
    }
    input.validate()?;
    match try_save(conn, who, ctx, input)? {
        Outcome::Saved(v) => Ok(Some(*v)),
        Outcome::LostRace => Ok(None),
    }
}

/// Save a partial draft, with JSON merge-patch semantics per answer: only the listed questions
/// change; in each, `value` and `evidence` are independent, an absent member keeps what is stored
/// and `null` clears it (a `null` value removes the answer with its evidence). Unknown members are
/// refused (422). With `If-Match` and a stale ETag nothing changes (412). The round must be open (409).
#[utoipa::path(operation_id = "saveAnswers", tag = "assessments",
    params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being edited")),
    request_body = SaveAnswers, security(("bearer" = [])), responses(
    (status = 200, description = "The return with the answers merged in; `ETag` names the new version", body = AssessmentView, headers(("ETag" = String))),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
    (status = 412, response = PreconditionFailed),
    (status = 408, response = RequestTimeout),
    (status = 413, response = PayloadTooLarge),
    (status = 415, response = UnsupportedMediaType),
    (status = 422, response = Unprocessable),
))]
#[put("/rounds/{round}/assessments/{ods}/answers")]
pub(super) async fn save_answers(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    authorise(&who, &ods, true)?;
    let input: SaveAnswers = validated(body.parse()?)?;
    let raw_if_match = if_match_header(&req);
    let frameworks = state.frameworks.clone();
    let view = with_conn(&state, move |c| {
        let mut ctx = load(c, &frameworks, &round, &ods)?;
        let expected = if_match(
            raw_if_match.as_deref(),
            ctx.assessment.as_ref().map(|a| a.version),
        )?;
        // Without If-Match a lost race is retried on the fresh version (answers merge);
        // with it, the client asked for exactly that version, so a lost race is a 412.
        for _ in 0..5 {
            match try_save(c, &who, &mut ctx, &input)? {
                Outcome::Saved(v) => return Ok(*v),
                Outcome::LostRace if expected.is_some() => {
                    return Err(AppError::PreconditionFailed(
                        "the return changed while saving; reload it and try again".into(),
                    ));
                }
                // The round, organisation and framework stand; only the return moved on.
                Outcome::LostRace => ctx.reload_assessment(c)?,
            }
        }
        Err(AppError::Conflict(
            "the return is being edited concurrently; try again".into(),
        ))
    })
    .await?;
    Ok(respond(view))
}
