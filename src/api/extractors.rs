//! Extractor configurations that route query, path and form errors through `AppError` (JSON bodies
//! go through [`super::body::JsonBody`]),
//! so malformed input gets a problem document (400, 413, 415 or 422), never actix's plain text.

use actix_web::error::{PathError, QueryPayloadError, UrlencodedError};
use actix_web::web;

use crate::error::AppError;

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
