//! The one place that turns database, validation, token and domain errors into HTTP problems
//! (RFC 9457 `application/problem+json`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client is asked to wait (`Retry-After`) when the database is unavailable.
const UNAVAILABLE_RETRY_AFTER: &str = "2";

/// One problem with one field of the request (422 responses).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// The field or JSON path the problem concerns (`answers[2].value`, `pillars[0].key`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document: the body of every non-2xx response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem (`/problems/validation`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Per-field problems: every 422, and a 400 that is about one named query or path parameter or
    /// form field (a control character, text that is not UTF-8, a time out of range).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    /// A 400 about named parameters or form fields (`errors[].field`).
    #[error("{detail}")]
    BadInput {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    HeaderFieldsTooLarge(String),
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unavailable(String),
    /// The caller is over its rate limit or its share of expensive work; `retry_after` is in
    /// whole seconds (sent as `Retry-After`).
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    /// The service as a whole is at its bound on expensive work: retry after `retry_after` seconds.
    #[error("{detail}")]
    Overloaded { detail: String, retry_after: u64 },
    /// The cause is logged, never shown to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A lifecycle rule's refusal (a conflict with the current state), naming the round (or the
    /// framework) by its key.
    pub fn lifecycle(key: &str, e: crate::domain::lifecycle::LifecycleError) -> Self {
        AppError::Conflict(e.describe(key))
    }

    pub fn unprocessable(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        AppError::Unprocessable {
            detail: detail.into(),
            errors,
        }
    }

    /// A 422 about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let e = FieldError::new(field, message);
        AppError::Unprocessable {
            detail: e.message.clone(),
            errors: vec![e],
        }
    }

    /// A 400 about one query or path parameter or form field.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let e = FieldError::new(field, message);
        AppError::BadInput {
            detail: e.message.clone(),
            errors: vec![e],
        }
    }

    /// 404 for a missing record, named (`organisation \`RXX\` does not exist`).
    pub fn not_found(what: &str, key: &str) -> Self {
        AppError::NotFound(format!("{what} `{key}` does not exist"))
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            AppError::BadRequest(_) | AppError::BadInput { .. } => ("bad-request", "Bad request"),
            AppError::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            AppError::Forbidden(_) => ("forbidden", "Forbidden"),
            AppError::NotFound(_) => ("not-found", "Not found"),
            AppError::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            AppError::Conflict(_) => ("conflict", "Conflict"),
            AppError::PreconditionFailed(_) => ("precondition-failed", "Precondition failed"),
            AppError::RequestTimeout(_) => ("request-timeout", "Request timeout"),
            AppError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            AppError::UriTooLong(_) => ("uri-too-long", "URI too long"),
            AppError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            AppError::HeaderFieldsTooLarge(_) => (
                "request-header-fields-too-large",
                "Request header fields too large",
            ),
            AppError::Unprocessable { .. } => ("validation", "Validation failed"),
            AppError::Unavailable(_) => ("unavailable", "Service unavailable"),
            AppError::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            AppError::Overloaded { .. } => ("overloaded", "Service overloaded"),
            AppError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let (detail, errors) = match self {
            AppError::Internal(_) => (
                "The server could not complete the request; it has been logged.".to_string(),
                Vec::new(),
            ),
            AppError::Unprocessable { detail, errors } | AppError::BadInput { detail, errors } => {
                (detail.clone(), errors.clone())
            }
            other => (other.to_string(), Vec::new()),
        };
        Problem {
            kind: format!("/problems/{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            errors,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) | AppError::BadInput { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::HeaderFieldsTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(PROBLEM_JSON);
        match self {
            AppError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            AppError::Unavailable(_) => {
                res.insert_header((
                    header::RETRY_AFTER,
                    HeaderValue::from_static(UNAVAILABLE_RETRY_AFTER),
                ));
            }
            _ => {}
        }
        if matches!(self, AppError::RequestTimeout(_)) {
            // The rest of a slow body may still be on its way: the connection is not reused.
            res.force_close();
        }
        if let AppError::TooManyRequests { retry_after, .. }
        | AppError::Overloaded { retry_after, .. } = self
        {
            res.insert_header((header::RETRY_AFTER, retry_after.max(&1).to_string()));
        }
        res.json(self.problem())
    }
}

/// The message of the database's own refusal to change a published round's returns or scores
/// (the `published_immutable` triggers of both backends raise it).
const PUBLISHED_IMMUTABLE: &str = "published results cannot change";

/// Whether a database error means the database could not be reached or the connection broke
/// (rather than that the statement was wrong): the request may succeed if tried again.
pub fn is_database_unavailable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure,
            _,
        ) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            // SQLite: another writer held the lock past the busy timeout; the file went away.
            message.contains("database is locked")
                || message.contains("database is busy")
                || message.contains("unable to open database file")
                || message.contains("disk I/O error")
                // PostgreSQL: the server is stopping or restarting, or dropped the session.
                || message.contains("terminating connection")
                || message.contains("the database system is")
                || message.contains("server closed the connection")
                || message.contains("closed unexpectedly")
                || message.contains("no connection to the server")
                || message.contains("could not receive data from server")
        }
        Error::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => is_database_unavailable(rollback_error) || is_database_unavailable(commit_error),
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if is_database_unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return AppError::Unavailable(
                "the database is not reachable or busy; try again shortly".into(),
            );
        }
        match e {
            Error::NotFound => AppError::NotFound("no such record".into()),
            Error::DatabaseError(_, ref info) if info.message().contains(PUBLISHED_IMMUTABLE) => {
                AppError::Conflict(
                    "the round's results are published: its returns and scores cannot change"
                        .into(),
                )
            }
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::Conflict("a record with this key already exists".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                AppError::unprocessable("a referenced record does not exist", Vec::new())
            }
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        tracing::warn!(error = %e, "database pool unavailable");
        AppError::Unavailable("the database is not reachable; try again shortly".into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(format!("blocking task: {e}"))
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(e: validator::ValidationErrors) -> Self {
        let mut errors = Vec::new();
        collect_validation(&e, String::new(), &mut errors);
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        AppError::unprocessable("the request body is not valid", errors)
    }
}

fn collect_validation(e: &validator::ValidationErrors, prefix: String, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind;
    for (field, kind) in e.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for fe in list {
                    let message = fe
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| format!("failed the `{}` check", fe.code));
                    out.push(FieldError::new(path.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_validation(inner, path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect_validation(inner, format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let p = AppError::internal("password=hunter2 at db.rs:12").problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("hunter2"));
    }

    #[test]
    fn database_faults_that_may_pass_are_503_and_others_stay_internal() {
        use diesel::result::{DatabaseErrorKind, Error};
        let db = |kind, message: &str| Error::DatabaseError(kind, Box::new(message.to_owned()));
        for unavailable in [
            db(
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection",
            ),
            db(
                DatabaseErrorKind::UnableToSendCommand,
                "no connection to the server",
            ),
            db(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access",
            ),
            db(DatabaseErrorKind::Unknown, "database is locked"),
            db(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            db(
                DatabaseErrorKind::Unknown,
                "FATAL: the database system is shutting down",
            ),
            Error::BrokenTransactionManager,
        ] {
            assert_eq!(AppError::from(unavailable).problem().status, 503);
        }
        for internal in [
            db(DatabaseErrorKind::Unknown, "syntax error at or near"),
            db(DatabaseErrorKind::NotNullViolation, "null value in column"),
        ] {
            assert_eq!(AppError::from(internal).problem().status, 500);
        }
        let published = db(
            DatabaseErrorKind::CheckViolation,
            "published results cannot change (round x)",
        );
        assert_eq!(AppError::from(published).problem().status, 409);
    }

    #[test]
    fn each_variant_has_its_status() {
        assert_eq!(AppError::NotFound("x".into()).problem().status, 404);
        assert_eq!(AppError::Conflict("x".into()).problem().status, 409);
        assert_eq!(
            AppError::PreconditionFailed("x".into()).problem().status,
            412
        );
        assert_eq!(AppError::field("a", "b").problem().status, 422);
        assert_eq!(AppError::field("a", "b").problem().errors.len(), 1);
        assert_eq!(
            AppError::Unavailable("x".into()).problem().kind,
            "/problems/unavailable"
        );
        let p = AppError::bad_field("since", "out of range").problem();
        assert_eq!((p.status, p.errors.len()), (400, 1));
        assert_eq!(p.errors[0].field, "since");
        let p = AppError::UnsupportedMediaType("x".into()).problem();
        assert_eq!(
            (p.status, p.kind.as_str()),
            (415, "/problems/unsupported-media-type")
        );
        assert_eq!(AppError::RequestTimeout("x".into()).problem().status, 408);
        assert_eq!(AppError::UriTooLong("x".into()).problem().status, 414);
        assert_eq!(
            AppError::HeaderFieldsTooLarge("x".into()).problem().status,
            431
        );
        let busy = AppError::TooManyRequests {
            detail: "x".into(),
            retry_after: 3,
        };
        assert_eq!(busy.problem().status, 429);
        assert_eq!(busy.problem().kind, "/problems/too-many-requests");
        assert_eq!(
            busy.error_response().headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from_static("3"))
        );
        let overloaded = AppError::Overloaded {
            detail: "x".into(),
            retry_after: 0,
        };
        assert_eq!(overloaded.problem().status, 503);
        // Never `Retry-After: 0`, which invites an immediate retry storm.
        assert_eq!(
            overloaded
                .error_response()
                .headers()
                .get(header::RETRY_AFTER),
            Some(&HeaderValue::from_static("1"))
        );
    }
}
