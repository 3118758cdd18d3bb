//! The caller's identity (`Principal` from the bearer token) and extractor configurations that
//! route query, path and form errors through `AppError` (JSON bodies go through
//! [`super::body::JsonBody`]),
//! so malformed input gets a problem document (400, 413, 415 or 422), never actix's plain text.

use actix_web::error::{PathError, QueryPayloadError, UrlencodedError};
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

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

/// Handlers name a [`Principal`] argument to require a valid bearer token.
impl FromRequest for Principal {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req))
    }
}

/// The caller, from its bearer token (401 without a valid one), with the request's id for the
/// audit trail. A token the rate limiter has already verified (`fair_use`) is not verified again.
fn principal_of(req: &HttpRequest) -> Result<Principal, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?;
    let verified = req.extensions().get::<Principal>().cloned();
    let mut principal = match verified {
        Some(p) => p,
        None => {
            if !req
                .headers()
                .contains_key(actix_web::http::header::AUTHORIZATION)
            {
                return Err(AppError::Unauthorized("a bearer token is required".into()));
            }
            let token = super::fair_use::bearer_token(req.headers()).ok_or_else(|| {
                AppError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
            state.keys.verify(token)?
        }
    };
    if let Some(client) = &principal.client_id
        && state.revoked.contains(client)
    {
        return Err(AppError::Unauthorized(
            "the client this token was issued to has been revoked".into(),
        ));
    }
    principal.request_id = req
        .extensions()
        .get::<crate::telemetry::RequestId>()
        .map(|id| id.0.clone());
    Ok(principal)
}
