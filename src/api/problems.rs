//! The problem responses shared by every path, published once under `components.responses` and
//! referenced from each operation (`(status = 404, response = NotFound)`). Each wraps the RFC 9457
//! [`Problem`] body that `AppError` renders; what turns an error into one of these is `error.rs`.

use utoipa::ToResponse;

use crate::error::Problem;

/// The request could not be read: a malformed JSON body, the wrong content type, or a query string
/// or path parameter that does not parse.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(pub Problem);

/// No valid bearer token was sent (or, at the token endpoint, the client credentials are wrong).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`"))
)]
pub struct Unauthorized(pub Problem);

/// The token is valid but its role or organisations do not allow this request.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(pub Problem);

/// A resource named in the path does not exist.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// The request conflicts with the current state: the key already exists, or the resource's status
/// does not allow the change.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(pub Problem);

/// The `If-Match` ETag does not match the current version: reload and try again.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PreconditionFailed(pub Problem);

/// The request body is over the configured size limit.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(pub Problem);

/// The request is well formed but not valid; `errors` names each field with its problem.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(pub Problem);

/// The caller is over its request rate, or already has as many expensive computations (divergence,
/// round scores, completion) running as it may; retry after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))
)]
pub struct TooManyRequests(pub Problem);

/// The service cannot answer now (its database is unreachable, it is at its bound on expensive
/// computations, or too many requests wait for the same resource); retry shortly, after
/// `Retry-After` seconds when it is sent.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying, when known"))
)]
pub struct ServiceUnavailable(pub Problem);
