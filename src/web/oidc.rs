//! Sign-in with OpenID Connect (authorisation code flow with PKCE), when `DMA_OIDC_ISSUER` is set.
//!
//! `/app/oidc/start` sends the browser to the identity provider with a fresh PKCE challenge
//! (S256), `state` and `nonce`; what is needed to finish (the verifier, state, nonce and the page
//! to return to) waits in the encrypted session cookie. `/app/oidc/callback` takes it out whatever
//! happens (one use only), checks `state`, exchanges the code (with the client secret, as HTTP
//! Basic, when one is configured), verifies the ID token (signature against the provider's keys,
//! issuer, audience, expiry, nonce, and the access token's hash when given) and reads the role and
//! organisations from it, or from the userinfo endpoint when the ID token does not carry them.
//! Only then does a session start. Any failure is an error page and changes nothing.
//!
//! The provider's discovery document and keys are fetched on first use and kept for an hour (or
//! until an ID token is signed with a key they do not have), so a provider that is down makes
//! sign-in answer 503 but never stops the service from starting; the next attempt tries again.
//!
//! People who sign in this way are `oidc:{sub}` in the service's records. Their role comes from
//! the role claim (`admin`, `analyst` or `submitter`); a submitter needs at least one ODS code
//! in the organisations claim (a list, or one code); analysts and administrators act for none.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::session::{self, Identity, safe_next};
use super::{WebError, WebResult};
use crate::auth::Role;
use crate::config::OidcConfig;
use crate::domain::organisation::OdsCode;
use crate::error::AppError;
use crate::state::AppState;

/// The session key under which a sign-in waits for the provider's answer.
const PENDING: &str = "oidc_pending";
/// How long a person has at the provider before the sign-in must start again.
const PENDING_MINUTES: i64 = 10;
/// How long the provider's discovery document and keys are kept.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// How long any one call to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many organisations are taken from one person's claim.
const MAX_ORGS: usize = 100;
/// Subjects longer than this are stored as a hash of the provider's `sub`.
const MAX_SUBJECT: usize = 128;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/oidc/start", web::get().to(start))
        .route("/oidc/callback", web::get().to(callback));
}

/// Whether signing out also ends the session at the identity provider. Not done: signing out
/// ends the session on this service only, and the provider's own session lasts as it decides.
pub fn signs_out_upstream(_state: &AppState) -> bool {
    false
}

/// Every claim of an ID token or userinfo answer beyond the standard ones, by name: the role and
/// organisations claims are named by configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct OtherClaims(HashMap<String, serde_json::Value>);

impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenAnswer = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A sign-in waiting for the provider's answer, kept in the encrypted session cookie.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    /// Unix seconds when the sign-in started.
    started: i64,
}

struct Discovered {
    issuer: String,
    fetched: Instant,
    metadata: CoreProviderMetadata,
}

/// The provider's discovery document and keys, process-wide.
static PROVIDER: Mutex<Option<Discovered>> = Mutex::new(None);
/// The HTTP client for the provider: no redirects followed (a provider never needs them, and
/// following them would let a discovery document point the service elsewhere).
static HTTP: OnceLock<openidconnect::reqwest::Client> = OnceLock::new();

fn config(state: &AppState) -> WebResult<&OidcConfig> {
    state.config.oidc.as_ref().ok_or_else(|| {
        WebError::NotFound(
            "Sign-in with an NHS account is not set up on this service. Use a sign-in link.".into(),
        )
    })
}

fn unavailable() -> WebError {
    WebError::App(AppError::Unavailable(
        "The NHS sign-in service cannot be reached just now. Try again in a few minutes, or use \
         a sign-in link."
            .into(),
    ))
}

fn refused(why: &str) -> WebError {
    WebError::Forbidden(format!(
        "You could not be signed in: {why} Ask your administrator to check your access to this \
         service."
    ))
}

fn start_again() -> WebError {
    WebError::Forbidden(
        "This sign-in has already been used, has expired or was started in another window. Go \
         to the sign-in page and start again."
            .into(),
    )
}

fn http_client() -> WebResult<&'static openidconnect::reqwest::Client> {
    if let Some(c) = HTTP.get() {
        return Ok(c);
    }
    let built = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .connect_timeout(PROVIDER_TIMEOUT)
        .build()
        .map_err(|e| AppError::Internal(format!("cannot build the OpenID Connect client: {e}")))?;
    Ok(HTTP.get_or_init(|| built))
}

fn cached_metadata(issuer: &str) -> Option<CoreProviderMetadata> {
    let guard = PROVIDER.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .as_ref()
        .filter(|d| d.issuer == issuer && d.fetched.elapsed() < METADATA_TTL)
        .map(|d| d.metadata.clone())
}

/// Forgets the provider's document and keys, so the next sign-in fetches them again.
fn forget_metadata() {
    *PROVIDER.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// The provider's discovery document and keys: kept, or fetched now.
async fn metadata(cfg: &OidcConfig) -> WebResult<CoreProviderMetadata> {
    if let Some(m) = cached_metadata(&cfg.issuer) {
        return Ok(m);
    }
    let issuer = IssuerUrl::new(cfg.issuer.clone())
        .map_err(|e| AppError::Internal(format!("DMA_OIDC_ISSUER is not a URL: {e}")))?;
    let fetched = CoreProviderMetadata::discover_async(issuer, http_client()?)
        .await
        .map_err(|e| {
            tracing::warn!(issuer = %cfg.issuer, error = %e, "OpenID provider discovery failed");
            unavailable()
        })?;
    *PROVIDER.lock().unwrap_or_else(|p| p.into_inner()) = Some(Discovered {
        issuer: cfg.issuer.clone(),
        fetched: Instant::now(),
        metadata: fetched.clone(),
    });
    Ok(fetched)
}

fn client(
    state: &AppState,
    cfg: &OidcConfig,
    metadata: CoreProviderMetadata,
) -> WebResult<OidcClient> {
    let redirect = RedirectUrl::new(format!("{}/app/oidc/callback", state.config.public_url))
        .map_err(|e| AppError::Internal(format!("redirect URI: {e}")))?;
    Ok(OidcClient::from_provider_metadata(
        metadata,
        ClientId::new(cfg.client_id.clone()),
        cfg.client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose().to_owned())),
    )
    .set_redirect_uri(redirect))
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    next: Option<String>,
}

/// Starts a sign-in: remembers what is needed to finish it and sends the browser to the provider.
async fn start(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
) -> WebResult<HttpResponse> {
    let cfg = config(&state)?;
    let q: StartQuery = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| WebError::BadRequest("This sign-in address is not valid.".into()))?;
    let client = client(&state, cfg, metadata(cfg).await?)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut auth = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for s in cfg.scopes.iter().filter(|s| s.as_str() != "openid") {
        auth = auth.add_scope(Scope::new(s.clone()));
    }
    let (url, csrf, nonce) = auth.set_pkce_challenge(challenge).url();
    let pending = Pending {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: safe_next(q.next.as_deref()),
        started: chrono::Utc::now().timestamp(),
    };
    session
        .insert(PENDING, pending)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url.to_string()))
        .finish())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    /// The issuer of the answer (RFC 9207), when the provider names it.
    iss: Option<String>,
}

fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Finishes a sign-in: the provider's answer becomes a session, or an error page.
async fn callback(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
) -> WebResult<HttpResponse> {
    let cfg = config(&state)?;
    // One use only, whatever happens below.
    let pending = session.remove_as::<Pending>(PENDING);
    let q: CallbackQuery = serde_urlencoded::from_str(req.query_string()).map_err(|_| {
        WebError::BadRequest("The answer from the NHS sign-in service was not readable.".into())
    })?;
    let Some(Ok(pending)) = pending else {
        return Err(start_again());
    };
    let Some(sent_state) = q.state.as_deref() else {
        return Err(WebError::BadRequest(
            "The answer from the NHS sign-in service was incomplete. Start again.".into(),
        ));
    };
    if !same(sent_state, &pending.state) {
        return Err(start_again());
    }
    if chrono::Utc::now().timestamp() - pending.started > PENDING_MINUTES * 60 {
        return Err(start_again());
    }
    if let Some(error) = q.error.as_deref() {
        return Err(provider_error(error));
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return Err(WebError::BadRequest(
            "The answer from the NHS sign-in service had no authorisation code. Start again."
                .into(),
        ));
    };
    let metadata = metadata(cfg).await?;
    if let Some(iss) = q.iss.as_deref()
        && iss != metadata.issuer().as_str()
    {
        return Err(refused("the answer came from another sign-in service."));
    }
    let client = client(&state, cfg, metadata)?;
    let http = http_client()?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| AppError::Internal(format!("token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => {
                tracing::warn!(error = %r, "OpenID provider refused the authorisation code");
                refused("the NHS sign-in service did not accept this sign-in. Start again.")
            }
            other => {
                tracing::warn!(error = %other, "OpenID provider token request failed");
                unavailable()
            }
        })?;
    let Some(id_token) = tokens.id_token() else {
        return Err(refused("the NHS sign-in service sent no ID token."));
    };
    let verifier = client.id_token_verifier();
    let nonce = Nonce::new(pending.nonce);
    let claims = match id_token.claims(&verifier, &nonce) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "ID token refused");
            if matches!(
                e,
                openidconnect::ClaimsVerificationError::SignatureVerification(_)
            ) {
                // Perhaps the provider has new keys: fetch them on the next sign-in.
                forget_metadata();
            }
            return Err(refused(
                "the NHS sign-in service's answer could not be verified.",
            ));
        }
    };
    if let Some(expected) = claims.access_token_hash() {
        let matches = match (id_token.signing_alg(), id_token.signing_key(&verifier)) {
            (Ok(alg), Ok(key)) => AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .is_ok_and(|h| h == *expected),
            _ => false,
        };
        if !matches {
            return Err(refused(
                "the NHS sign-in service's answer could not be verified.",
            ));
        }
    }
    let sub = claims.subject().as_str().to_owned();
    let mut found = claims.additional_claims().0.clone();
    if !(found.contains_key(&cfg.role_claim) && found.contains_key(&cfg.orgs_claim))
        && let Ok(request) = client.user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
    {
        let info: openidconnect::UserInfoClaims<OtherClaims, CoreGenderClaim> =
            request.request_async(http).await.map_err(|e| {
                tracing::warn!(error = %e, "OpenID provider userinfo request failed");
                unavailable()
            })?;
        for (k, v) in info.additional_claims().0.clone() {
            found.entry(k).or_insert(v);
        }
    }
    let id = identity(cfg, &sub, &found).map_err(|why| refused(&why))?;
    session::start(&state, &session, id).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, pending.next))
        .finish())
}

/// The page for an error the provider sent back instead of a code. Only known error codes are
/// named (the rest of the answer is whatever the address says, so it is not shown).
fn provider_error(error: &str) -> WebError {
    match error {
        "access_denied" | "login_required" | "consent_required" | "interaction_required" => {
            WebError::Forbidden(
                "The sign-in was cancelled or refused at the NHS sign-in service. Go to the \
                 sign-in page to try again."
                    .into(),
            )
        }
        "temporarily_unavailable" | "server_error" => unavailable(),
        _ => WebError::BadRequest(
            "The NHS sign-in service could not sign you in. Go to the sign-in page to try again."
                .into(),
        ),
    }
}

/// Who the claims say the person is, or why they may not sign in.
fn identity(
    cfg: &OidcConfig,
    sub: &str,
    claims: &HashMap<String, serde_json::Value>,
) -> Result<Identity, String> {
    if sub.is_empty() || sub.chars().any(char::is_control) {
        return Err("your account has no usable identifier.".into());
    }
    let role = match claims.get(&cfg.role_claim) {
        Some(serde_json::Value::String(r)) => Role::parse(r).ok_or_else(|| {
            "your account's role does not give access to this service.".to_owned()
        })?,
        _ => return Err("your account has no role for this service.".into()),
    };
    let orgs = match role {
        Role::Admin | Role::Analyst => Vec::new(),
        Role::Submitter => {
            let raw: Vec<&str> = match claims.get(&cfg.orgs_claim) {
                Some(serde_json::Value::String(o)) => vec![o.as_str()],
                Some(serde_json::Value::Array(list)) => list
                    .iter()
                    .map(|v| {
                        v.as_str().ok_or_else(|| {
                            "your account's organisations are not readable.".to_owned()
                        })
                    })
                    .collect::<Result<_, _>>()?,
                _ => Vec::new(),
            };
            if raw.is_empty() {
                return Err("your account does not name the organisation you submit for.".into());
            }
            if raw.len() > MAX_ORGS {
                return Err("your account names too many organisations.".into());
            }
            let mut codes = Vec::new();
            for o in raw {
                let code = OdsCode::parse(o).map_err(|_| {
                    "your account names an organisation that is not an ODS code.".to_owned()
                })?;
                if !codes.contains(&code.as_str().to_owned()) {
                    codes.push(code.as_str().to_owned());
                }
            }
            codes
        }
    };
    let subject = if "oidc:".len() + sub.len() <= MAX_SUBJECT {
        format!("oidc:{sub}")
    } else {
        format!("oidc:sha256:{}", session::hash(sub))
    };
    Ok(Identity {
        subject,
        role,
        orgs,
        method: "oidc",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg() -> OidcConfig {
        OidcConfig {
            issuer: "https://idp.example".into(),
            client_id: "dma".into(),
            client_secret: None,
            role_claim: "role".into(),
            orgs_claim: "orgs".into(),
            scopes: vec!["openid".into()],
        }
    }

    fn claims(v: serde_json::Value) -> HashMap<String, serde_json::Value> {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn analysts_and_admins_act_for_no_organisation() {
        for role in ["analyst", "admin"] {
            let id = identity(
                &cfg(),
                "a1",
                &claims(json!({"role": role, "orgs": ["RGT"]})),
            );
            let id = id.map_err(|e| e.to_string());
            assert!(
                matches!(&id, Ok(i) if i.orgs.is_empty() && i.subject == "oidc:a1"),
                "{id:?}"
            );
        }
    }

    #[test]
    fn submitters_need_ods_codes_as_a_list_or_one_code() {
        let one = identity(
            &cfg(),
            "s",
            &claims(json!({"role": "submitter", "orgs": "RGT"})),
        );
        assert!(matches!(one, Ok(ref i) if i.orgs == ["RGT"]));
        let list = identity(
            &cfg(),
            "s",
            &claims(json!({"role": "submitter", "orgs": ["RGT", "R0A", "RGT"]})),
        );
        assert!(matches!(list, Ok(ref i) if i.orgs == ["RGT", "R0A"]));
        for bad in [
            json!(null),
            json!([]),
            json!(["rgt"]),
            json!([1]),
            json!({"a": "RGT"}),
        ] {
            let r = identity(
                &cfg(),
                "s",
                &claims(json!({"role": "submitter", "orgs": bad})),
            );
            assert!(r.is_err(), "{bad}");
        }
        assert!(identity(&cfg(), "s", &claims(json!({"role": "submitter"}))).is_err());
    }

    #[test]
    fn a_missing_or_unknown_role_is_refused() {
        for c in [
            json!({}),
            json!({"role": "root"}),
            json!({"role": ["analyst"]}),
        ] {
            assert!(identity(&cfg(), "x", &claims(c)).is_err());
        }
    }

    #[test]
    fn claim_names_come_from_configuration() {
        let mut c = cfg();
        c.role_claim = "dma_role".into();
        c.orgs_claim = "ods".into();
        let id = identity(
            &c,
            "s",
            &claims(json!({"dma_role": "submitter", "ods": ["RGT"]})),
        );
        assert!(matches!(id, Ok(ref i) if i.orgs == ["RGT"]));
    }

    #[test]
    fn long_subjects_are_hashed_to_fit() {
        let long = "x".repeat(300);
        let id = identity(&cfg(), &long, &claims(json!({"role": "analyst"})));
        assert!(
            matches!(id, Ok(ref i) if i.subject.len() <= MAX_SUBJECT && i.subject.starts_with("oidc:sha256:"))
        );
        assert!(identity(&cfg(), "a\nb", &claims(json!({"role": "analyst"}))).is_err());
    }

    #[test]
    fn states_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
