//! The questionnaire of one return as the person filling it in sees it: the framework's pillars,
//! domains and questions asked of the organisation's type, in framework order, each question with
//! whether it is asked now given the answers so far and its current answer, and the answered /
//! applicable / missing-mandatory counts per domain, pillar and overall. The web form renders this
//! same view, so the form, the API and the scoring share one set of rules
//! (`domain::answers::progress`).

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Context, authorise, etag, load, parse_answers};
use crate::api::problems::{Forbidden, NotFound, Unauthorized};
use crate::api::with_conn;
use crate::auth::Principal;
use crate::domain::answers::{Answer, Answers, Counts, progress};
use crate::domain::framework::{
    AnswerOption, Band, EnableBehavior, EnableWhen, Method, Question, QuestionType, Scale,
};
use crate::domain::lifecycle::AssessmentStatus;
use crate::error::AppResult;
use crate::state::AppState;

/// One return's questionnaire: what is asked, what is answered, what is still missing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionnaireView {
    pub round: String,
    pub ods_code: String,
    pub organisation_name: String,
    pub org_type: String,
    pub framework: QuestionnaireFramework,
    /// `not_started`, `draft`, `submitted` or `reopened`.
    pub status: AssessmentStatus,
    /// Whether the caller may save answers now (the return is not submitted and the round is
    /// open, or it was re-opened before publication; and the caller may write it).
    pub editable: bool,
    /// The return's version; the `ETag` is this number in quotes, for `If-Match` on saves.
    pub version: i32,
    /// Applicable questions with a valid answer.
    pub answered: u32,
    /// Questions asked now that take an answer.
    pub applicable: u32,
    /// Applicable mandatory questions without a valid answer.
    pub missing_mandatory: u32,
    /// Their keys, in framework order: what stands between this return and submission.
    pub missing: Vec<String>,
    /// The pillars with at least one domain asked of the organisation type, in framework order.
    pub pillars: Vec<QuestionnairePillar>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionnaireFramework {
    pub key: String,
    pub title: String,
    pub version: String,
    pub method: Method,
    pub scale: Scale,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionnairePillar {
    pub key: String,
    pub title: String,
    pub description: Option<String>,
    /// Whether any of its domains is asked now.
    pub enabled: bool,
    pub answered: u32,
    pub applicable: u32,
    pub missing_mandatory: u32,
    /// The domains asked of the organisation type, in framework order.
    pub domains: Vec<QuestionnaireDomain>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionnaireDomain {
    pub key: String,
    pub title: String,
    pub description: Option<String>,
    /// Whether the domain is asked now (its own and its pillar's conditions hold).
    pub enabled: bool,
    pub answered: u32,
    pub applicable: u32,
    pub missing_mandatory: u32,
    pub questions: Vec<QuestionnaireQuestion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionnaireQuestion {
    #[schema(example = "WL-STR-3b")]
    pub key: String,
    pub text: String,
    pub help: Option<String>,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    pub mandatory: bool,
    /// Whether it takes an answer (display items, groups and calculated totals do not).
    pub answerable: bool,
    /// Staged method: the level this question is a criterion for.
    pub level: Option<u32>,
    /// The item this one is nested under, when it is.
    pub parent: Option<String>,
    /// The options to choose from (choice questions), code and label.
    pub options: Vec<QuestionOption>,
    /// Numeric questions: the accepted ranges.
    pub bands: Vec<Band>,
    /// When the question is asked only if earlier answers say so; `null` when always asked.
    pub condition: Option<QuestionCondition>,
    /// Whether the question is asked now, given the answers so far.
    pub enabled: bool,
    /// The current answer with its evidence; `null` when unanswered.
    pub answer: Option<Answer>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionOption {
    pub code: String,
    pub label: String,
}

/// The conditions under which a question is asked, and how they combine.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionCondition {
    pub behavior: EnableBehavior,
    pub conditions: Vec<EnableWhen>,
}

fn option(o: &AnswerOption) -> QuestionOption {
    QuestionOption {
        code: o.code.clone(),
        label: o.label.clone(),
    }
}

fn question(q: &Question, enabled: bool, answers: &Answers) -> QuestionnaireQuestion {
    let (conditions, behavior) = q.conditions();
    QuestionnaireQuestion {
        key: q.key.clone(),
        text: q.text.clone(),
        help: q.help.clone(),
        kind: q.kind,
        mandatory: q.mandatory,
        answerable: q.is_answerable(),
        level: q.level,
        parent: q.parent.clone(),
        options: q.options.iter().map(option).collect(),
        bands: q.bands.clone(),
        condition: (!conditions.is_empty()).then(|| QuestionCondition {
            behavior,
            conditions: conditions.to_vec(),
        }),
        enabled,
        answer: answers.get(&q.key).cloned(),
    }
}

/// The questionnaire of the return `ctx` holds, with `answers` (its answers, already parsed).
pub(crate) fn questionnaire_of(ctx: &Context, answers: &Answers) -> QuestionnaireView {
    let f = &ctx.framework;
    let p = progress(f, ctx.org_type, answers);
    let counts = |c: Counts| (c.answered, c.applicable, c.missing_mandatory);
    let pillars = p
        .pillars
        .iter()
        .map(|pp| {
            let pillar = &f.pillars[pp.pillar];
            let (answered, applicable, missing_mandatory) = counts(pp.counts);
            QuestionnairePillar {
                key: pillar.key.clone(),
                title: pillar.title.clone(),
                description: pillar.description.clone(),
                enabled: pp.enabled,
                answered,
                applicable,
                missing_mandatory,
                domains: pp
                    .domains
                    .iter()
                    .map(|dp| {
                        let domain = &pillar.domains[dp.domain];
                        let (answered, applicable, missing_mandatory) = counts(dp.counts);
                        QuestionnaireDomain {
                            key: domain.key.clone(),
                            title: domain.title.clone(),
                            description: domain.description.clone(),
                            enabled: dp.enabled,
                            answered,
                            applicable,
                            missing_mandatory,
                            questions: domain
                                .questions
                                .iter()
                                .zip(&dp.questions)
                                .map(|(q, s)| question(q, s.enabled, answers))
                                .collect(),
                        }
                    })
                    .collect(),
            }
        })
        .collect::<Vec<_>>();
    let missing = pillars
        .iter()
        .flat_map(|p| &p.domains)
        .zip(p.pillars.iter().flat_map(|pp| &pp.domains))
        .flat_map(|(d, dp)| d.questions.iter().zip(&dp.questions))
        .filter(|(_, s)| s.missing)
        .map(|(q, _)| q.key.clone())
        .collect();
    let (answered, applicable, missing_mandatory) = counts(p.counts);
    QuestionnaireView {
        round: ctx.round.key.clone(),
        ods_code: ctx.org.ods_code.clone(),
        organisation_name: ctx.org.name.clone(),
        org_type: ctx.org.org_type.clone(),
        framework: QuestionnaireFramework {
            key: f.key.clone(),
            title: f.title.clone(),
            version: f.version.clone(),
            method: f.method,
            scale: f.scale,
        },
        status: ctx.status(),
        editable: ctx.status().editable(ctx.round.status).is_ok(),
        version: ctx.assessment.as_ref().map_or(0, |a| a.version),
        answered,
        applicable,
        missing_mandatory,
        missing,
        pillars,
    }
}

/// The questionnaire of the return `ctx` holds, its answers read from the stored row.
pub(crate) fn questionnaire(ctx: &Context) -> AppResult<(QuestionnaireView, Answers)> {
    let answers = match &ctx.assessment {
        Some(a) => parse_answers(a)?,
        None => Answers::new(),
    };
    Ok((questionnaire_of(ctx, &answers), answers))
}

/// The questionnaire of one organisation's return: the pillars, domains and questions asked of
/// its type in framework order, each question with its options, condition, whether it is asked
/// now given the answers so far, and its current answer and evidence; answered / applicable /
/// missing-mandatory counts per domain, pillar and overall; the return's status. The `ETag` is
/// the return's (as for `getAssessment`), to send as `If-Match` when saving.
#[utoipa::path(operation_id = "getQuestionnaire", tag = "assessments", params(("round" = String, Path, description = "Round key", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), ("ods" = String, Path, description = "ODS code", pattern = "^[A-Z0-9]{3,6}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The questionnaire with the answers so far; `ETag` names the return's version", body = QuestionnaireView, headers(("ETag" = String))),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
))]
#[get("/rounds/{round}/assessments/{ods}/questionnaire")]
pub(super) async fn get_questionnaire(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (round, ods) = path.into_inner();
    authorise(&who, &ods, false)?;
    let frameworks = state.frameworks.clone();
    let view = with_conn(&state, move |c| {
        let ctx = load(c, &frameworks, &round, &ods)?;
        Ok(questionnaire(&ctx)?.0)
    })
    .await?;
    // Editable by this caller: analysts read returns but never change them.
    let view = QuestionnaireView {
        editable: view.editable && authorise(&who, &view.ods_code, true).is_ok(),
        ..view
    };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(view.version)))
        .json(view))
}
