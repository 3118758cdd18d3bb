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

/// The service cannot answer now (its database is unreachable, or too many requests wait for the
/// same resource); retry shortly.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct ServiceUnavailable(pub Problem);

/// Reading the request body took longer than the configured limit (`DMA_BODY_READ_TIMEOUT_SECS`);
/// the connection is closed after this response.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct RequestTimeout(pub Problem);

/// The request body's `Content-Type` is not one this operation reads: JSON bodies must be
/// `application/json`, optionally with `charset=utf-8` (the token endpoint also reads
/// `application/x-www-form-urlencoded`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(pub Problem);
