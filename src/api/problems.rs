//! The problem responses shared by every path, published once under `components.responses` and
//! referenced from each operation (`(status = 404, response = NotFound)`). Each wraps the RFC 9457
//! [`Problem`] body that `AppError` renders; what turns an error into one of these is `error.rs`.

use utoipa::openapi::Ref;
use utoipa::{Modify, ToResponse};

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

/// The request URI (path and query) is longer than the service reads (8,192 bytes).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UriTooLong(pub Problem);

/// The request headers are larger than the service reads.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct HeaderFieldsTooLarge(pub Problem);

/// The request is well formed but not valid; `errors` names each field with its problem.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(pub Problem);

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

/// The caller is over its request rate, or already has as many expensive computations (divergence,
/// round scores, completion) running as it may; retry after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))
)]
pub struct TooManyRequests(pub Problem);

/// The service cannot answer now (its database is unreachable, it is at its bound on expensive
/// computations, or too many requests wait for the same resource); retry shortly, after
/// `Retry-After` seconds when it is sent.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait before trying again, when known"))
)]
pub struct Unavailable(pub Problem);

/// The former name of [`Unavailable`] (the same component, `#/components/responses/Unavailable`).
pub type ServiceUnavailable = Unavailable;

/// The responses any operation may give whatever it does, added to every operation of the
/// document by [`CommonResponses`]: a request that cannot be read (400), a body not received in
/// time (408), a body over the limit
/// (413), a URI or headers too long (414, 431), a body of the wrong content type (415), a caller
/// over its rate (429), a service too busy or without its database (503).
pub const COMMON: [(&str, &str); 8] = [
    ("400", "BadRequest"),
    ("408", "RequestTimeout"),
    ("413", "PayloadTooLarge"),
    ("414", "UriTooLong"),
    ("415", "UnsupportedMediaType"),
    ("431", "HeaderFieldsTooLarge"),
    ("429", "TooManyRequests"),
    ("503", "Unavailable"),
];

/// Adds the [`COMMON`] responses, as `$ref`s to the shared components, to every operation that does
/// not declare that status itself. Applied once to the assembled document (`app::openapi`), after
/// the routes are collected, so no handler has to list them.
pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            // The FHIR facade documents its own errors (OperationOutcomes, `default`).
            if path.starts_with("/fhir/") {
                continue;
            }
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                for (status, component) in COMMON {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| Ref::from_response_name(component).into());
                }
            }
        }
    }
}
