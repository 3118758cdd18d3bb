//! The FHIR R4 facade at `/fhir/r4`: the CapabilityStatement, frameworks as Questionnaires and
//! returns as QuestionnaireResponses (mapping in `crate::fhir`). Same tokens and roles as
//! `/api/v1`; every error on this facade is an `OperationOutcome` with the status the rest of the
//! API would give (see [`outcomes`]).

mod questionnaires;
mod responses;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, get};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::body::{RawBody, parse_json};
use crate::error::{AppError, AppResult, FieldError, PROBLEM_JSON, Problem};
use crate::fhir::outcome::{Severity, operation_outcome};
use crate::fhir::{FHIR_JSON, Issue};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/fhir/r4")
            .service(metadata)
            .configure(questionnaires::configure)
            .configure(responses::configure),
    );
}

/// A FHIR resource as the response body, `application/fhir+json`.
pub(crate) fn fhir_json<T: Serialize>(status: StatusCode, resource: &T) -> AppResult<HttpResponse> {
    let body = serde_json::to_vec(resource).map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, FHIR_JSON))
        .body(body))
}

/// Most issues listed in one OperationOutcome; past it, one more issue says how many were left out.
const MAX_ISSUES: usize = 200;

/// An `OperationOutcome` response with these issues (at most [`MAX_ISSUES`] of them).
pub(crate) fn outcome_response(status: StatusCode, issues: &[Issue]) -> AppResult<HttpResponse> {
    let mut shown: Vec<Issue> = issues.iter().take(MAX_ISSUES).cloned().collect();
    if issues.len() > MAX_ISSUES {
        shown.push(Issue {
            severity: Severity::Error,
            code: "too-costly",
            expression: None,
            diagnostics: format!(
                "{} more issues are not listed; correct these and send it again",
                issues.len() - MAX_ISSUES
            ),
        });
    }
    let outcome = operation_outcome(&shown).map_err(AppError::internal)?;
    fhir_json(status, &outcome)
}

/// The absolute base of this facade as the request reached it (for `fullUrl`s and links).
pub(crate) fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/fhir/r4", info.scheme(), info.host())
}

/// Reads a request body as a FHIR resource of `kind`: `application/fhir+json` or
/// `application/json` (415 otherwise), JSON (400), naming `resourceType` `kind`, and of the
/// resource's shape (422 naming the element, as `Kind.path`).
pub(crate) fn parse_resource<T: DeserializeOwned>(
    raw: &RawBody,
    kind: &str,
    req: &HttpRequest,
) -> AppResult<T> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or(""));
    let accepted = content_type.is_some_and(|v| {
        let essence = v
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        essence == FHIR_JSON || essence == "application/json"
    });
    if !accepted {
        if content_type.is_none() && raw.bytes.is_empty() {
            return Err(AppError::BadRequest(format!(
                "a {kind} resource is required as the body"
            )));
        }
        return Err(AppError::UnsupportedMediaType(format!(
            "send the {kind} as `{FHIR_JSON}` (or `application/json`)"
        )));
    }
    let tree: serde_json::Value = serde_json::from_slice(&raw.bytes)
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    if tree.get("resourceType").and_then(|v| v.as_str()) != Some(kind) {
        return Err(AppError::unprocessable(
            format!("the body must be a {kind}"),
            vec![FieldError::new(
                format!("{kind}.resourceType"),
                format!("`resourceType` must be `{kind}`"),
            )],
        ));
    }
    parse_json::<T>(&raw.bytes).map_err(|e| match e {
        AppError::Unprocessable { detail, errors } => AppError::Unprocessable {
            detail,
            errors: errors
                .into_iter()
                .map(|f| {
                    let field = if f.field.is_empty() || f.field == "." {
                        kind.to_owned()
                    } else {
                        format!("{kind}.{}", f.field.trim_start_matches('.'))
                    };
                    FieldError::new(field, f.message)
                })
                .collect(),
        },
        other => other,
    })
}

/// The service's capabilities: both resources, their interactions and search parameters, and
/// every extension it reads and writes. No token needed.
#[utoipa::path(operation_id = "fhirMetadata", tag = "fhir", responses(
    (status = 200, description = "The CapabilityStatement", body = Object, content_type = "application/fhir+json"),
    (status = "default", description = "An OperationOutcome", body = Object, content_type = "application/fhir+json"),
))]
#[get("/metadata")]
async fn metadata(req: HttpRequest) -> AppResult<HttpResponse> {
    let statement = crate::fhir::capability::capability_statement(&base_url(&req))
        .map_err(AppError::internal)?;
    fhir_json(StatusCode::OK, &statement)
}

/// Turns every problem document answered under `/fhir/` (from a handler, an extractor, the edge
/// checks or the rate limiter) into an `OperationOutcome`, keeping its status and headers: each
/// named field becomes an issue whose `expression` is that field.
pub async fn outcomes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let on_facade = req.path().starts_with("/fhir/");
    let res = next.call(req).await?.map_into_boxed_body();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !on_facade || !is_problem {
        return Ok(res);
    }
    let status = res.status();
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let problem: Option<Problem> = serde_json::from_slice(&bytes).ok();
    let code = issue_code(status);
    let issues: Vec<Issue> = match problem {
        Some(p) if !p.errors.is_empty() => p
            .errors
            .into_iter()
            .map(|e| Issue {
                severity: Severity::Error,
                code,
                expression: Some(e.field),
                diagnostics: e.message,
            })
            .collect(),
        Some(p) => vec![Issue {
            severity: Severity::Error,
            code,
            expression: None,
            diagnostics: p.detail,
        }],
        None => vec![Issue {
            severity: Severity::Error,
            code,
            expression: None,
            diagnostics: status.canonical_reason().unwrap_or("error").to_owned(),
        }],
    };
    let body = operation_outcome(&issues)
        .ok()
        .and_then(|o| serde_json::to_vec(&o).ok())
        .unwrap_or_default();
    let mut new = HttpResponse::with_body(status, BoxBody::new(body));
    for (k, v) in head.headers() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            new.headers_mut().append(k.clone(), v.clone());
        }
    }
    new.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    Ok(ServiceResponse::new(req, new))
}

/// The FHIR issue type for an HTTP status.
fn issue_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "structure",
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        405 | 415 => "not-supported",
        408 => "timeout",
        409 | 412 => "conflict",
        413 | 414 | 431 => "too-long",
        422 => "invalid",
        429 => "throttled",
        503 => "transient",
        _ => "exception",
    }
}
