//! Who is calling: JWT verification (service-issued HS256 tokens and, when configured, externally
//! issued RS256/ES256 tokens), the `Principal` extractor, role checks, token minting, and the
//! argon2 hashing of API client secrets.

use std::future::{Ready, ready};
use std::path::Path;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::config::{Config, ExternalAlgorithm, Secret};
use crate::db::audit::Actor;
use crate::error::AppError;

/// Issuer and audience of the tokens this service signs.
pub const SERVICE_ISSUER: &str = "dma";
pub const SERVICE_AUDIENCE: &str = "dma-api";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Maintains organisations, frameworks, rounds, peer groups and clients; re-opens returns.
    Admin,
    /// Reads everything national; changes nothing.
    Analyst,
    /// Acts only for the organisations listed in its token.
    Submitter,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Submitter => "submitter",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        [Role::Admin, Role::Analyst, Role::Submitter]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

/// Claims of every accepted token. External identity providers must carry `role` (and `orgs`
/// for submitters) in the same names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default)]
    pub orgs: Vec<String>,
    /// Optional for external tokens; `nbf` is checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    pub iss: String,
    pub aud: Audience,
    /// The API client the token was issued to (RFC 9068 `client_id`); service tokens from
    /// `/api/v1/auth/token` carry it, CLI tokens do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The authorised party: identity providers name the client here when they omit `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
}

/// `aud` as one string or, as many identity providers send it, a list (RFC 7519 §4.1.3).
/// Which audience must be present is checked by the verifier, not here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The verified caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub orgs: Vec<String>,
    /// The API client the token was issued to, when the token says.
    pub client_id: Option<String>,
    /// The id of the request being served (set by the extractor; none outside a request).
    pub request_id: Option<String>,
}

impl Principal {
    /// Who this caller is, as the audit trail records it.
    pub fn actor(&self) -> Actor {
        Actor {
            subject: self.subject.clone(),
            client_id: self.client_id.clone(),
            request_id: self.request_id.clone(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admins and analysts read everything national.
    pub fn is_national_reader(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Analyst)
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "this action needs the admin role".into(),
            ))
        }
    }

    pub fn require_national_reader(&self) -> Result<(), AppError> {
        if self.is_national_reader() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "this view needs the analyst or admin role".into(),
            ))
        }
    }

    /// A submitter acts only for the organisations in its token.
    pub fn acts_for(&self, ods: &str) -> bool {
        self.role == Role::Submitter && self.orgs.iter().any(|o| o == ods)
    }

    /// Reading one organisation's return or scores: national readers, or a submitter for its own.
    pub fn may_read_org(&self, ods: &str) -> bool {
        self.is_national_reader() || self.acts_for(ods)
    }
}

/// Keys and rules for signing and verifying tokens, built once at start-up.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    service_validation: Validation,
    external: Option<(DecodingKey, Validation)>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or create the signing secret at {0}: {1}")]
    SecretFile(String, std::io::Error),
    #[error("DMA_JWT_PUBLIC_KEY is not a valid {0} public key PEM: {1}")]
    PublicKey(&'static str, jsonwebtoken::errors::Error),
    #[error(
        "no token signing secret: DMA_JWT_SECRET is not set and {0} does not exist. Tokens must be \
         signed with the server's secret: run this where the server runs, or set DMA_DATA_DIR (or \
         DATABASE_URL) or DMA_JWT_SECRET as the server has them; start the server once to create one"
    )]
    NoSecret(String),
}

/// Whether a missing signing secret may be created (the server) or is an error (the CLI, whose
/// tokens are useless unless signed with the secret the server already uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingSecret {
    Create,
    Refuse,
}

impl TokenKeys {
    /// The server's keys: the configured secret, or the one kept in the data directory (created
    /// there on first start).
    pub fn from_config(config: &Config) -> Result<Self, KeyError> {
        Self::load(config, MissingSecret::Create)
    }

    /// Keys from the same place as [`TokenKeys::from_config`]; `missing` says what happens when
    /// no secret is configured and none is kept yet.
    pub fn load(config: &Config, missing: MissingSecret) -> Result<Self, KeyError> {
        let secret = match (&config.jwt_secret, missing) {
            (Some(s), _) => s.clone(),
            (None, MissingSecret::Create) => load_or_create_secret(&config.data_dir)?,
            (None, MissingSecret::Refuse) => read_secret(&config.data_dir)?.ok_or_else(|| {
                let path = secret_path(&config.data_dir);
                let shown = std::path::absolute(&path).unwrap_or(path);
                KeyError::NoSecret(shown.display().to_string())
            })?,
        };
        let mut keys = Self::from_secret(&secret);
        if let Some(ext) = &config.external_jwt {
            let (alg, key) = match ext.algorithm {
                ExternalAlgorithm::Rs256 => (
                    Algorithm::RS256,
                    DecodingKey::from_rsa_pem(ext.public_key_pem.as_bytes())
                        .map_err(|e| KeyError::PublicKey("RSA", e))?,
                ),
                ExternalAlgorithm::Es256 => (
                    Algorithm::ES256,
                    DecodingKey::from_ec_pem(ext.public_key_pem.as_bytes())
                        .map_err(|e| KeyError::PublicKey("EC", e))?,
                ),
            };
            keys.external = Some((key, validation(alg, &ext.issuer, &ext.audience)));
        }
        Ok(keys)
    }

    pub fn from_secret(secret: &Secret) -> Self {
        let bytes = secret.expose().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            service_validation: validation(Algorithm::HS256, SERVICE_ISSUER, SERVICE_AUDIENCE),
            external: None,
        }
    }

    /// Signs a service token valid for `ttl_seconds`.
    pub fn mint(
        &self,
        subject: &str,
        client_id: Option<&str>,
        role: Role,
        orgs: Vec<String>,
        ttl_seconds: i64,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            orgs,
            iat: Some(now),
            nbf: Some(now),
            exp: now + ttl_seconds,
            iss: SERVICE_ISSUER.into(),
            aud: Audience::One(SERVICE_AUDIENCE.into()),
            client_id: client_id.map(str::to_owned),
            azp: None,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// Verifies a bearer token. The algorithm in the token header only selects which configured
    /// key to try; each key accepts exactly one algorithm, so `none` and HS/RS confusion fail.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        let refused = || AppError::Unauthorized("the bearer token is not valid".into());
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused())?;
        let (key, validation) = match header.alg {
            Algorithm::HS256 => (&self.decoding, &self.service_validation),
            _ => match &self.external {
                Some((key, v)) if v.algorithms.contains(&header.alg) => (key, v),
                _ => return Err(refused()),
            },
        };
        let data = jsonwebtoken::decode::<Claims>(token, key, validation).map_err(|e| {
            tracing::debug!(error = %e, "token refused");
            refused()
        })?;
        let c = data.claims;
        Ok(Principal {
            subject: c.sub,
            role: c.role,
            orgs: c.orgs,
            client_id: c.client_id.or(c.azp),
            request_id: None,
        })
    }
}

fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = 30;
    v.validate_nbf = true;
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v
}

/// Reads the generated signing secret from the data directory, creating it (owner-only) on first use.
fn secret_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("jwt-secret")
}

/// The secret kept in the data directory, if there is a usable one (32 characters or more).
fn read_secret(data_dir: &Path) -> Result<Option<Secret>, KeyError> {
    let path = secret_path(data_dir);
    let err = |e| KeyError::SecretFile(path.display().to_string(), e);
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim().len() >= 32 => {
            restrict_to_owner(&path).map_err(err)?;
            Ok(Some(Secret::new(existing.trim().to_owned())))
        }
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err(e)),
    }
}

fn load_or_create_secret(data_dir: &Path) -> Result<Secret, KeyError> {
    if let Some(existing) = read_secret(data_dir)? {
        return Ok(existing);
    }
    let path = secret_path(data_dir);
    let err = |e| KeyError::SecretFile(path.display().to_string(), e);
    std::fs::create_dir_all(data_dir).map_err(err)?;
    let mut bytes = [0u8; 48];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    let secret = hex::encode(bytes);
    write_owner_only(&path, &secret).map_err(err)?;
    tracing::info!(path = %path.display(), "generated a new token signing secret");
    Ok(Secret::new(secret))
}

/// Keeps an existing secret file readable by its owner only, whoever created it.
#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "token signing secret was readable by others; now owner-only");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn write_owner_only(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_owner_only(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req))
    }
}

fn principal_of(req: &HttpRequest) -> Result<Principal, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthorized("a bearer token is required".into()))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?;
    let mut principal = state.keys.verify(token)?;
    principal.request_id = req
        .extensions()
        .get::<crate::telemetry::RequestId>()
        .map(|id| id.0.clone());
    Ok(principal)
}

/// Hashes a client secret with argon2 (a fresh salt each time).
pub fn hash_secret(secret: &str) -> Result<String, AppError> {
    argon2::Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new random client secret (48 hex characters).
pub fn new_client_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::from_secret(&Secret::new("k".repeat(40)))
    }

    #[test]
    fn a_minted_token_verifies() {
        let k = keys();
        let t = k
            .mint("alice", None, Role::Submitter, vec!["RJ1".into()], 60)
            .unwrap();
        let p = k.verify(&t).unwrap();
        assert_eq!(p.role, Role::Submitter);
        assert!(p.acts_for("RJ1"));
        assert!(!p.acts_for("RA7"));
        assert!(p.may_read_org("RJ1") && !p.may_read_org("RA7"));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let k = keys();
        let expired = k.mint("a", None, Role::Admin, vec![], -3600).unwrap();
        assert!(k.verify(&expired).is_err());
        let good = k.mint("a", None, Role::Analyst, vec![], 60).unwrap();
        let mut tampered = good.clone();
        tampered.pop();
        tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert!(k.verify(&tampered).is_err());
        let other = TokenKeys::from_secret(&Secret::new("z".repeat(40)));
        assert!(other.verify(&good).is_err());
        // An unsigned token (`alg: none`).
        let none = format!(
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
            good.split('.').nth(1).unwrap()
        );
        assert!(k.verify(&none).is_err());
    }

    #[test]
    fn secrets_hash_and_verify() {
        let h = hash_secret("s3cret").unwrap();
        assert!(h.starts_with("$argon2"));
        assert!(!h.contains("s3cret"));
        assert!(verify_secret("s3cret", &h));
        assert!(!verify_secret("other", &h));
        assert!(!verify_secret("s3cret", "not a hash"));
    }

    #[test]
    fn the_generated_secret_is_kept_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_secret(dir.path()).unwrap();
        let b = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(a.expose(), b.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt-secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
