//! Extractor configurations that route JSON, query, path and form errors through `AppError`,
//! so malformed input gets a problem document (400, 413, 415 or 422), never actix's plain text.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::{HttpRequest, web};

use crate::error::{AppError, FieldError};

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> AppError {
    match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            AppError::PayloadTooLarge(format!("the request body is over the {limit}-byte limit"))
        }
        JsonPayloadError::ContentType => {
            AppError::BadRequest("the request body must be `application/json`".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => AppError::unprocessable(
            "the request body does not have the expected shape",
            vec![FieldError::new(
                format!("line {} column {}", e.line(), e.column()),
                e.to_string(),
            )],
        ),
        JsonPayloadError::Deserialize(e) => {
            AppError::BadRequest(format!("the request body is not valid JSON: {e}"))
        }
        other => AppError::BadRequest(format!("the request body could not be read: {other}")),
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let detail = match err {
            QueryPayloadError::Deserialize(e) => format!("invalid query string: {e}"),
            other => format!("invalid query string: {other}"),
        };
        AppError::BadRequest(detail).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let detail = match err {
            PathError::Deserialize(e) => format!("invalid path parameter: {e}"),
            other => format!("invalid path: {other}"),
        };
        AppError::BadRequest(detail).into()
    })
}

pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            match err {
                UrlencodedError::Overflow { limit, .. } => AppError::PayloadTooLarge(format!(
                    "the request body is over the {limit}-byte limit"
                )),
                other => AppError::BadRequest(format!("invalid form body: {other}")),
            }
            .into()
        })
}
