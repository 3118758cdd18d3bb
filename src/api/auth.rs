//! The client-credentials token endpoint: API client id and secret in, a short-lived JWT out.

use actix_web::http::header;
use actix_web::{HttpRequest, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::{Media, RawBody, parse_json};
use super::text::{control_message, first_control, known_form_fields};

/// The token request's form fields that the service reads.
const TOKEN_FORM_FIELDS: &[&str] = &["grant_type", "client_id", "client_secret"];
use super::with_conn;
use crate::api::problems::{
    BadRequest, PayloadTooLarge, RequestTimeout, ServiceUnavailable, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::auth::{Role, verify_secret};
use crate::db::clients;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(token);
}

/// Client credentials, as JSON or as an OAuth 2 form (`grant_type=client_credentials`).
/// The id and secret may instead come in an HTTP Basic `Authorization` header.
///
/// A JSON body (`application/json`, optionally `; charset=utf-8`) is parsed strictly like every
/// other (an unknown field or a control character is a 422); a form body
/// (`application/x-www-form-urlencoded`, optionally `; charset=utf-8`) ignores parameters it does
/// not know, unread, as RFC 6749 §3.2 requires of a token endpoint, and refuses a control character
/// in a field it reads with a 400 naming it. Any other content type is a 415.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials` (optional in JSON); any other grant is refused (400).
    #[schema(value_type = String, pattern = "^client_credentials$")]
    pub grant_type: Option<String>,
    /// Required here unless the id and secret come in a Basic `Authorization` header (400
    /// without either).
    #[schema(value_type = String, required = true)]
    pub client_id: Option<String>,
    /// Required here unless the id and secret come in a Basic `Authorization` header (400
    /// without either).
    #[schema(value_type = String, required = true)]
    pub client_secret: Option<String>,
}

/// The JSON form of [`TokenRequest`], which refuses unknown fields (documented as its own schema,
/// with `additionalProperties: false`; the form-encoded body takes any other parameter).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequestJson {
    /// `client_credentials` (optional); any other grant is refused (400).
    #[schema(value_type = String, pattern = "^client_credentials$")]
    grant_type: Option<String>,
    /// Required here unless the id and secret come in a Basic `Authorization` header (400
    /// without either).
    #[schema(value_type = String, required = true)]
    client_id: Option<String>,
    /// Required here unless the id and secret come in a Basic `Authorization` header (400
    /// without either).
    #[schema(value_type = String, required = true)]
    client_secret: Option<String>,
}

impl From<TokenRequestJson> for TokenRequest {
    fn from(r: TokenRequestJson) -> Self {
        Self {
            grant_type: r.grant_type,
            client_id: r.client_id,
            client_secret: r.client_secret,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: i64,
}

/// Exchange an API client's id and secret for a bearer token.
#[utoipa::path(
    operation_id = "issueToken",
    tag = "auth",
    request_body(content(
        (TokenRequestJson = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "A bearer token for the client, with its lifetime", body = TokenResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 408, response = RequestTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = ServiceUnavailable),
    )
)]
#[post("/auth/token")]
async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
) -> AppResult<web::Json<TokenResponse>> {
    let mut request = parse_request(&body)?;
    if let Some((id, secret)) = basic_credentials(&req)? {
        request.client_id.get_or_insert(id);
        request.client_secret.get_or_insert(secret);
    }
    if let Some(g) = &request.grant_type
        && g != "client_credentials"
    {
        return Err(AppError::BadRequest(format!(
            "unsupported grant_type `{g}`: only client_credentials"
        )));
    }
    let (Some(id), Some(secret)) = (request.client_id, request.client_secret) else {
        return Err(AppError::BadRequest(
            "client_id and client_secret are required".into(),
        ));
    };
    // Look the client up and give the connection back before hashing: verification is slow by
    // design and must not let unauthenticated callers drain the pool.
    let found = with_conn(&state, move |c| Ok(clients::find(c, &id)?)).await?;
    // Verify against a throwaway hash when the id is unknown, so timing does not tell.
    let hash = found.as_ref().map_or_else(
        || state.unknown_client_hash.clone(),
        |cl| cl.secret_hash.clone(),
    );
    let ok = verify_bounded(&state, secret, hash).await?;
    let client = match found {
        Some(cl) if ok && cl.revoked_at.is_none() => cl,
        _ => {
            return Err(AppError::Unauthorized(
                "unknown client, wrong secret or revoked client".into(),
            ));
        }
    };
    let role =
        Role::parse(&client.role).ok_or_else(|| AppError::internal("stored role invalid"))?;
    let ttl = state.config.token_ttl_seconds;
    let access_token = state.keys.mint(
        &client.id,
        Some(&client.id),
        role,
        client.organisation_codes()?,
        ttl,
    )?;
    Ok(web::Json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: ttl,
    }))
}

/// How long a token request waits for a free verification slot before it is turned away.
const VERIFY_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs one argon2 verification on the blocking pool, at most one per core at a time; when the
/// queue does not move within [`VERIFY_QUEUE_WAIT`] the caller gets a 503 to retry later.
async fn verify_bounded(state: &AppState, secret: String, hash: String) -> AppResult<bool> {
    let _permit = tokio::time::timeout(VERIFY_QUEUE_WAIT, state.secret_checks.acquire())
        .await
        .map_err(|_| {
            AppError::Unavailable("too many token requests at once; retry shortly".into())
        })?
        .map_err(AppError::internal)?;
    Ok(web::block(move || verify_secret(&secret, &hash)).await?)
}

fn parse_request(body: &RawBody) -> AppResult<TokenRequest> {
    if body.bytes.is_empty() {
        return Ok(TokenRequest::default());
    }
    match body.media {
        Media::Form => {
            // The fields it reads are checked before anything is looked up; others are ignored
            // unread, as RFC 6749 §3.2 requires.
            known_form_fields(&body.bytes, "form field", TOKEN_FORM_FIELDS)?;
            serde_urlencoded::from_bytes(&body.bytes)
                .map_err(|e| AppError::BadRequest(format!("invalid form body: {e}")))
        }
        Media::Json => parse_json::<TokenRequestJson>(&body.bytes).map(TokenRequest::from),
        Media::Absent | Media::Other => Err(AppError::UnsupportedMediaType(
            "send `application/json` or `application/x-www-form-urlencoded` (optionally with \
             `; charset=utf-8`)"
                .into(),
        )),
    }
}

/// The id and secret of an HTTP Basic `Authorization` header, if it holds any; a control
/// character in either is a 400 naming it.
fn basic_credentials(req: &HttpRequest) -> AppResult<Option<(String, String)>> {
    let Some((id, secret)) = basic_pair(req) else {
        return Ok(None);
    };
    for (field, text) in [("client_id", &id), ("client_secret", &secret)] {
        if let Some(c) = first_control(text, false) {
            return Err(AppError::bad_field(
                field,
                format!("the Basic credentials' {field} {}", control_message(c)),
            ));
        }
    }
    Ok(Some((id, secret)))
}

fn basic_pair(req: &HttpRequest) -> Option<(String, String)> {
    use base64_decode as b64;
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = b64::decode(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Standard base64 decoding for HTTP Basic credentials (twenty lines; no crate needed).
mod base64_decode {
    pub fn decode(input: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(input.len() * 3 / 4);
        let mut buf = 0u32;
        let mut bits = 0;
        for c in input.bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => break,
                _ => return None,
            };
            buf = (buf << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buf >> bits) as u8);
                buf &= (1 << bits) - 1;
            }
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn decodes_basic_credentials() {
            assert_eq!(super::decode("dXNlcjpwYXNz").unwrap(), b"user:pass");
            assert_eq!(super::decode("YQ==").unwrap(), b"a");
            assert!(super::decode("***").is_none());
        }
    }
}
