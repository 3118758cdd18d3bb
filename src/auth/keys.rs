//! Signing and verifying tokens: service-issued HS256 tokens and, when configured, externally issued
//! RS256/ES256 tokens; the signing secret kept in the data directory.

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use super::{Audience, Claims, Principal, Role};
use crate::config::{Config, ExternalAlgorithm, Secret};
use crate::error::AppError;

/// Issuer and audience of the tokens this service signs.
pub const SERVICE_ISSUER: &str = "dma";
pub const SERVICE_AUDIENCE: &str = "dma-api";

/// Keys and rules for signing and verifying tokens, built once at start-up.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    service_validation: Validation,
    external: Option<(DecodingKey, Validation)>,
    /// The key of the web front end's session cookies (signing and encryption), derived from the
    /// same secret with its own label, so it never equals the token key.
    cookie_key: [u8; 64],
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
            cookie_key: derive_cookie_key(bytes),
        }
    }

    /// 64 bytes for the session cookie's signing and encryption keys.
    pub fn cookie_key(&self) -> &[u8; 64] {
        &self.cookie_key
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
        // jsonwebtoken checks `exp` and `nbf` but not `iat`: a token claiming to be issued later
        // than now (beyond the leeway) was minted by a wrong clock or a forger.
        if c.iat.is_some_and(|iat| {
            iat > jsonwebtoken::get_current_timestamp() as i64 + LEEWAY_SECONDS as i64
        }) {
            tracing::debug!("token refused: issued in the future");
            return Err(refused());
        }
        // Claims become audit actors and organisation filters: a control character in one (an
        // external issuer's odd `sub`) is refused like one in any other input, on both backends.
        let texts = [Some(&c.sub), c.client_id.as_ref(), c.azp.as_ref()];
        if texts
            .into_iter()
            .flatten()
            .chain(c.orgs.iter())
            .any(|t| t.chars().any(char::is_control))
        {
            return Err(AppError::Unauthorized(
                "the bearer token's claims hold a control character".into(),
            ));
        }
        Ok(Principal {
            subject: c.sub,
            role: c.role,
            orgs: c.orgs,
            client_id: c.client_id.or(c.azp),
            request_id: None,
        })
    }
}

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECONDS: u64 = 30;

fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECONDS;
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
/// SHA-512 of a fixed label and the secret: a key for the web session cookie that is not the JWT
/// key itself (a leaked cookie key cannot sign tokens, nor the reverse).
fn derive_cookie_key(secret: &[u8]) -> [u8; 64] {
    use sha2::{Digest, Sha512};
    let mut h = Sha512::new();
    h.update(b"dma web session cookie key v1\0");
    h.update(secret);
    h.finalize().into()
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
    fn claims_with_control_characters_are_refused() {
        let k = keys();
        let t = k.mint("a\u{0}b", None, Role::Admin, vec![], 60).unwrap();
        assert_eq!(k.verify(&t).unwrap_err().problem().status, 401);
        let t = k.mint("a", Some("c\n"), Role::Admin, vec![], 60).unwrap();
        assert_eq!(k.verify(&t).unwrap_err().problem().status, 401);
        let t = k
            .mint("a", None, Role::Submitter, vec!["RA\u{7f}".into()], 60)
            .unwrap();
        assert_eq!(k.verify(&t).unwrap_err().problem().status, 401);
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
