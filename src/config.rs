//! Configuration from environment variables, parsed and validated once at start-up.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A secret value: `Debug` never prints it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Algorithm of externally issued tokens (an NHS identity provider's public key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalAlgorithm {
    Rs256,
    Es256,
}

#[derive(Debug, Clone)]
pub struct ExternalJwt {
    pub public_key_pem: String,
    pub algorithm: ExternalAlgorithm,
    pub issuer: String,
    pub audience: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub jwt_secret: Option<Secret>,
    pub external_jwt: Option<ExternalJwt>,
    pub token_ttl_seconds: i64,
    pub body_limit_bytes: usize,
    /// How long reading one request body may take (`DMA_BODY_READ_TIMEOUT_SECS`); slower is a 408.
    pub body_read_timeout: Duration,
    pub log_format: LogFormat,
    pub pool_size: u32,
    pub load_demo: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

pub const DEFAULT_SQLITE_PATH: &str = "./data/dma.sqlite";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (the environment in production, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let database_url = non_empty("DATABASE_URL").unwrap_or_else(|| DEFAULT_SQLITE_PATH.into());
        let data_dir = match non_empty("DMA_DATA_DIR") {
            Some(d) => PathBuf::from(d),
            None => default_data_dir(&database_url),
        };
        let bind = non_empty("DMA_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse::<SocketAddr>()
            .map_err(|e| ConfigError(format!("DMA_BIND must be host:port ({e})")))?;
        let jwt_secret = match non_empty("DMA_JWT_SECRET") {
            Some(s) if s.len() < 32 => {
                return Err(ConfigError(
                    "DMA_JWT_SECRET must be at least 32 characters".into(),
                ));
            }
            other => other.map(Secret::new),
        };
        let external_jwt = match non_empty("DMA_JWT_PUBLIC_KEY") {
            None => None,
            Some(key) => Some(external_jwt(key, &non_empty)?),
        };
        let token_ttl_seconds = parse_num(&non_empty, "DMA_TOKEN_TTL_SECONDS", 900i64)?;
        if !(60..=86_400).contains(&token_ttl_seconds) {
            return Err(ConfigError(
                "DMA_TOKEN_TTL_SECONDS must be between 60 and 86400".into(),
            ));
        }
        let body_limit_bytes = parse_num(&non_empty, "DMA_BODY_LIMIT_BYTES", 1_048_576usize)?;
        if body_limit_bytes < 1024 {
            return Err(ConfigError(
                "DMA_BODY_LIMIT_BYTES must be at least 1024".into(),
            ));
        }
        let body_read_timeout_secs = parse_num(&non_empty, "DMA_BODY_READ_TIMEOUT_SECS", 10u64)?;
        if !(1..=300).contains(&body_read_timeout_secs) {
            return Err(ConfigError(
                "DMA_BODY_READ_TIMEOUT_SECS must be between 1 and 300".into(),
            ));
        }
        let body_read_timeout = Duration::from_secs(body_read_timeout_secs);
        let log_format = match non_empty("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!(
                    "LOG_FORMAT must be `json` or `pretty`, not `{other}`"
                )));
            }
        };
        let pool_size = parse_num(&non_empty, "DMA_POOL_SIZE", 8u32)?;
        if !(1..=128).contains(&pool_size) {
            return Err(ConfigError(
                "DMA_POOL_SIZE must be between 1 and 128".into(),
            ));
        }
        let load_demo = match non_empty("DMA_DEMO").as_deref() {
            None | Some("1" | "true" | "yes" | "on") => true,
            Some("0" | "false" | "no" | "off") => false,
            Some(other) => {
                return Err(ConfigError(format!(
                    "DMA_DEMO must be true or false, not `{other}`"
                )));
            }
        };
        Ok(Self {
            database_url,
            data_dir,
            bind,
            jwt_secret,
            external_jwt,
            token_ttl_seconds,
            body_limit_bytes,
            body_read_timeout,
            log_format,
            pool_size,
            load_demo,
        })
    }

    pub fn is_postgres(&self) -> bool {
        is_postgres_url(&self.database_url)
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The SQLite file path of a `DATABASE_URL` (`sqlite://path`, `sqlite:path` or a bare path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

fn default_data_dir(database_url: &str) -> PathBuf {
    if is_postgres_url(database_url) {
        return PathBuf::from("./data");
    }
    PathBuf::from(sqlite_path(database_url))
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn parse_num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
) -> Result<T, ConfigError> {
    match get(key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{key} must be a whole number, not `{v}`"))),
    }
}

fn external_jwt(
    key: String,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<ExternalJwt, ConfigError> {
    let public_key_pem = if key.trim_start().starts_with("-----BEGIN") {
        key
    } else {
        std::fs::read_to_string(&key).map_err(|e| {
            ConfigError(format!(
                "DMA_JWT_PUBLIC_KEY is neither a PEM nor a readable file ({e})"
            ))
        })?
    };
    let algorithm = match get("DMA_JWT_ALGORITHM").as_deref() {
        None | Some("RS256") => ExternalAlgorithm::Rs256,
        Some("ES256") => ExternalAlgorithm::Es256,
        Some(other) => {
            return Err(ConfigError(format!(
                "DMA_JWT_ALGORITHM must be RS256 or ES256, not `{other}`"
            )));
        }
    };
    let issuer = get("DMA_JWT_ISSUER").ok_or_else(|| {
        ConfigError("DMA_JWT_ISSUER is required when DMA_JWT_PUBLIC_KEY is set".into())
    })?;
    let audience = get("DMA_JWT_AUDIENCE").ok_or_else(|| {
        ConfigError("DMA_JWT_AUDIENCE is required when DMA_JWT_PUBLIC_KEY is set".into())
    })?;
    Ok(ExternalJwt {
        public_key_pem,
        algorithm,
        issuer,
        audience,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_sqlite_database() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_SQLITE_PATH);
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(!c.is_postgres());
        assert_eq!(c.body_limit_bytes, 1_048_576);
        assert_eq!(c.body_read_timeout, Duration::from_secs(10));
        assert!(c.load_demo);
    }

    #[test]
    fn malformed_values_are_clear_errors() {
        let e = config(&[("DMA_BIND", "nowhere")]).unwrap_err();
        assert!(e.to_string().contains("DMA_BIND"));
        let e = config(&[("DMA_JWT_SECRET", "short")]).unwrap_err();
        assert!(e.to_string().contains("32"));
        let e = config(&[("LOG_FORMAT", "xml")]).unwrap_err();
        assert!(e.to_string().contains("LOG_FORMAT"));
        let e = config(&[("DMA_JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----")]).unwrap_err();
        assert!(e.to_string().contains("DMA_JWT_ISSUER"));
        for bad in ["0", "301", "soon", "-1"] {
            let e = config(&[("DMA_BODY_READ_TIMEOUT_SECS", bad)]).unwrap_err();
            assert!(
                e.to_string().contains("DMA_BODY_READ_TIMEOUT_SECS"),
                "{bad}"
            );
        }
        let c = config(&[("DMA_BODY_READ_TIMEOUT_SECS", "2")]).unwrap();
        assert_eq!(c.body_read_timeout, Duration::from_secs(2));
    }

    #[test]
    fn secrets_do_not_print() {
        let c = config(&[("DMA_JWT_SECRET", &"x".repeat(40))]).unwrap();
        assert!(!format!("{c:?}").contains("xxxx"));
    }

    #[test]
    fn sqlite_urls_name_a_path() {
        assert_eq!(sqlite_path("sqlite://./a/b.db"), "./a/b.db");
        assert_eq!(sqlite_path("/tmp/x.db"), "/tmp/x.db");
        let c = config(&[("DATABASE_URL", "sqlite:///var/lib/dma/dma.sqlite")]).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/dma"));
    }
}
