//! Frameworks as Questionnaires: read, search, and import (admin) as a draft framework.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use fhir_model::r4b::resources::{Questionnaire, Resource};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{base_url, fhir_json, outcome_response, parse_resource};
use crate::api::body::RawBody;
use crate::api::frameworks::check;
use crate::api::{not_found, with_conn};
use crate::auth::Principal;
use crate::db::audit::{self, NewAuditEvent};
use crate::db::frameworks::{self as store, FrameworkRow};
use crate::db::{DbConnection, now};
use crate::domain::framework::Framework;
use crate::error::{AppError, AppResult};
use crate::fhir::questionnaire::{export, fhir_id, import};
use crate::fhir::{Issue, canonical};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(search).service(read).service(create);
}

/// The framework whose Questionnaire id is `id` (its key, `_` written `-`).
fn find_by_id(conn: &mut DbConnection, id: &str) -> AppResult<(FrameworkRow, Framework)> {
    let row = match store::find(conn, id)? {
        Some(row) => Some(row),
        None => store::list(conn)?
            .into_iter()
            .find(|r| fhir_id(&r.key) == id),
    }
    .ok_or_else(|| not_found("Questionnaire", id))?;
    let framework = row.framework().map_err(AppError::internal)?;
    Ok((row, framework))
}

/// The canonical URL a framework answers to.
pub(crate) fn url_of(framework: &Framework) -> String {
    framework
        .url
        .clone()
        .unwrap_or_else(|| canonical(&framework.key))
}

/// `url|version`: how a QuestionnaireResponse names the framework it answers.
pub(crate) fn canonical_of(framework: &Framework) -> String {
    format!("{}|{}", url_of(framework), framework.version)
}

/// One framework as a Questionnaire (id: the framework key).
#[utoipa::path(operation_id = "fhirReadQuestionnaire", tag = "fhir",
    params(("id" = String, Path, description = "Questionnaire id: the framework key", pattern = "^[A-Za-z0-9.-]{1,64}$")),
    security(("bearer" = [])), responses(
    (status = 200, description = "The Questionnaire", body = Object, content_type = "application/fhir+json"),
    (status = "default", description = "An OperationOutcome (401, 404, …)", body = Object, content_type = "application/fhir+json"),
))]
#[get("/Questionnaire/{id}")]
async fn read(
    state: web::Data<AppState>,
    _who: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (row, framework) = with_conn(&state, move |c| find_by_id(c, &id)).await?;
    let q = export(&framework, row.is_published()).map_err(AppError::internal)?;
    fhir_json(StatusCode::OK, &q)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuestionnaireSearch {
    /// Canonical URL.
    #[param(max_length = 2000)]
    pub url: Option<String>,
    #[param(max_length = 200)]
    pub version: Option<String>,
    /// `active` (published) or `draft`.
    #[param(pattern = "^(active|draft)$")]
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

/// Refuses (400) a search value longer than the document says it may be.
pub(crate) fn within(name: &str, value: &Option<String>, max: usize) -> AppResult<()> {
    match value {
        Some(v) if v.chars().count() > max => Err(AppError::bad_field(
            name,
            format!("`{name}` is at most {max} characters"),
        )),
        _ => Ok(()),
    }
}

/// Page bounds of a search: (`_count`, `_offset`).
pub(crate) fn page_bounds(count: Option<u32>, offset: Option<u32>) -> AppResult<(usize, usize)> {
    let count = count.unwrap_or(50);
    if !(1..=500).contains(&count) {
        return Err(AppError::bad_field("_count", "`_count` is 1 to 500"));
    }
    let offset = offset.unwrap_or(0);
    if offset > 100_000 {
        return Err(AppError::bad_field("_offset", "`_offset` is 0 to 100000"));
    }
    Ok((count as usize, offset as usize))
}

/// The `next` link of a page, when there are more matches.
pub(crate) fn next_link(
    req: &HttpRequest,
    total: usize,
    count: usize,
    offset: usize,
) -> Option<String> {
    (offset + count < total).then(|| {
        let kept: Vec<(String, String)> =
            serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| k != "_offset" && k != "_count")
                .chain([
                    ("_count".to_owned(), count.to_string()),
                    ("_offset".to_owned(), (offset + count).to_string()),
                ])
                .collect();
        format!(
            "{}{}?{}",
            base_url(req).trim_end_matches("/fhir/r4"),
            req.path(),
            serde_urlencoded::to_string(kept).unwrap_or_default()
        )
    })
}

/// The absolute URL of this request (the Bundle's `self` link).
pub(crate) fn self_link(req: &HttpRequest) -> String {
    let base = base_url(req);
    let origin = base.trim_end_matches("/fhir/r4");
    match req.query_string() {
        "" => format!("{origin}{}", req.path()),
        q => format!("{origin}{}?{q}", req.path()),
    }
}

/// Frameworks as a searchset Bundle, by `url`, `version` and `status`.
#[utoipa::path(operation_id = "fhirSearchQuestionnaires", tag = "fhir", params(QuestionnaireSearch),
    security(("bearer" = [])), responses(
    (status = 200, description = "A searchset Bundle of Questionnaires", body = Object, content_type = "application/fhir+json"),
    (status = "default", description = "An OperationOutcome (400, 401, …)", body = Object, content_type = "application/fhir+json"),
))]
#[get("/Questionnaire")]
async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
    _who: Principal,
    query: web::Query<QuestionnaireSearch>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    within("url", &query.url, 2000)?;
    within("version", &query.version, 200)?;
    let (count, offset) = page_bounds(query.count, query.offset)?;
    let published = match query.status.as_deref() {
        None => None,
        Some("active") => Some(true),
        Some("draft") => Some(false),
        Some(_) => {
            return Err(AppError::bad_field(
                "status",
                "`status` is `active` or `draft`",
            ));
        }
    };
    let rows = with_conn(&state, |c| Ok(store::list(c)?)).await?;
    let mut matches = Vec::new();
    for row in rows {
        let framework = row.framework().map_err(AppError::internal)?;
        let keep = query.url.as_deref().is_none_or(|u| url_of(&framework) == u)
            && query
                .version
                .as_deref()
                .is_none_or(|v| framework.version == v)
            && published.is_none_or(|p| row.is_published() == p);
        if keep {
            matches.push((row, framework));
        }
    }
    let base = base_url(&req);
    let entries = matches
        .iter()
        .skip(offset)
        .take(count)
        .map(|(row, f)| {
            let q = export(f, row.is_published()).map_err(AppError::internal)?;
            Ok((
                format!("{base}/Questionnaire/{}", fhir_id(&f.key)),
                Resource::Questionnaire(q),
            ))
        })
        .collect::<AppResult<Vec<_>>>()?;
    let bundle = crate::fhir::searchset(
        entries,
        matches.len(),
        self_link(&req),
        next_link(&req, matches.len(), count, offset),
    )
    .map_err(AppError::internal)?;
    fhir_json(StatusCode::OK, &bundle)
}

/// Import a Questionnaire as a draft framework (admin). Its `url` and `version` are kept; the
/// framework key comes from its `id` (else `name`, else `title`), with `-2`, `-3`… when taken.
/// What the model cannot hold is refused (422) with every element's path; nothing is stored then.
#[utoipa::path(operation_id = "fhirCreateQuestionnaire", tag = "fhir",
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 Questionnaire"),
    security(("bearer" = [])), responses(
    (status = 201, description = "The draft framework as a Questionnaire", body = Object, content_type = "application/fhir+json", headers(("Location" = String))),
    (status = "default", description = "An OperationOutcome (400, 401, 403, 409, 415, 422, …)", body = Object, content_type = "application/fhir+json"),
))]
#[post("/Questionnaire")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    body: RawBody,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let questionnaire: Questionnaire = parse_resource(&body, "Questionnaire", &req)?;
    let imported = match import(&questionnaire) {
        Ok(imported) => imported,
        Err(issues) => return outcome_response(StatusCode::UNPROCESSABLE_ENTITY, &issues),
    };
    let mut framework = imported.framework;
    let result = with_conn(&state, move |c| {
        crate::db::write_transaction(c, |c| {
            let rows = store::list(c)?;
            if let Some(url) = &framework.url {
                for row in &rows {
                    let existing = row.framework().map_err(AppError::internal)?;
                    if url_of(&existing) == *url && existing.version == framework.version {
                        return Err(AppError::Conflict(format!(
                            "framework `{}` already holds {url}|{}",
                            row.key, framework.version
                        )));
                    }
                }
            }
            let stem = framework.key.clone();
            let mut n = 1;
            while rows.iter().any(|r| r.key == framework.key) {
                n += 1;
                let suffix = format!("-{n}");
                framework.key = format!("{}{suffix}", &stem[..stem.len().min(64 - suffix.len())]);
            }
            check(c, &framework)?;
            let document = serde_json::to_string(&framework).map_err(AppError::internal)?;
            let row = FrameworkRow::new(&framework, document, now());
            store::insert(c, &row)?;
            let summary = serde_json::json!({
                "title": row.title, "version": row.version, "questions": framework.question_count(),
                "from": "fhir", "url": framework.url,
            });
            audit::record(
                c,
                &NewAuditEvent::new(&who.actor(), "import", "framework", &row.key, summary),
            )?;
            Ok(framework)
        })
    })
    .await;
    let framework = match result {
        Ok(f) => f,
        // Framework rules the mapping could not foresee (e.g. a score outside the scale given).
        Err(AppError::Unprocessable { errors, .. }) => {
            let issues: Vec<Issue> = errors
                .into_iter()
                .map(|e| {
                    Issue::error(
                        "business-rule",
                        "Questionnaire",
                        format!("{}: {}", e.field, e.message),
                    )
                })
                .collect();
            return outcome_response(StatusCode::UNPROCESSABLE_ENTITY, &issues);
        }
        Err(e) => return Err(e),
    };
    let q = export(&framework, false).map_err(AppError::internal)?;
    let mut res = fhir_json(StatusCode::CREATED, &q)?;
    if let Ok(v) = header::HeaderValue::from_str(&format!(
        "/fhir/r4/Questionnaire/{}",
        fhir_id(&framework.key)
    )) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}
