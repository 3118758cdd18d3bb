//! Configuration from environment variables, parsed and validated once at start-up.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
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
    /// A read replica of `database_url` (`DATABASE_READ_URL`) for divergence, scores and exports;
    /// used only while it has caught up with the primary's data stamp.
    pub database_read_url: Option<String>,
    /// How many divergence analyses (round × previous round × reference × options) each process
    /// keeps (`DMA_DIVERGENCE_CACHE_ENTRIES`).
    pub divergence_cache_entries: usize,
    /// How long an analysis nobody asks for is kept (`DMA_DIVERGENCE_CACHE_IDLE_SECONDS`).
    pub divergence_cache_idle_seconds: u64,
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
    pub fair_use: FairUse,
    pub server: ServerLimits,
    /// Where people reach the service (`DMA_PUBLIC_URL`, default `http://{DMA_BIND}`): sign-in
    /// links and the OpenID Connect redirect are built on it, and session cookies are `Secure`
    /// when it is https.
    pub public_url: String,
    /// Sign-in for people with OpenID Connect, when `DMA_OIDC_ISSUER` is set.
    pub oidc: Option<OidcConfig>,
}

/// An OpenID provider for the web front end (authorisation code flow with PKCE).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `DMA_OIDC_ISSUER`: the issuer URL; its discovery document is read at start.
    pub issuer: String,
    /// `DMA_OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `DMA_OIDC_CLIENT_SECRET` (none for a public client, which then relies on PKCE alone).
    pub client_secret: Option<Secret>,
    /// `DMA_OIDC_ROLE_CLAIM` (default `role`): the ID token or userinfo claim holding the role
    /// (`admin`, `analyst` or `submitter`).
    pub role_claim: String,
    /// `DMA_OIDC_ORGS_CLAIM` (default `orgs`): the claim holding the ODS codes a submitter acts
    /// for (a list, or one code).
    pub orgs_claim: String,
    /// `DMA_OIDC_SCOPES` (default `openid profile`), space-separated; `openid` is always asked.
    pub scopes: Vec<String>,
}

/// A token bucket: `per_second` requests refilled each second, up to `burst` at once; `None` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// How much of the service one caller may take (see `limits`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FairUse {
    /// Per token subject (`DMA_RATE_LIMIT_PER_SECOND`, `DMA_RATE_LIMIT_BURST`).
    pub per_subject: Option<RateLimit>,
    /// Per client IP for requests without a valid token (`DMA_ANON_RATE_LIMIT_*`).
    pub per_ip: Option<RateLimit>,
    /// Peers whose `X-Forwarded-For` is believed (`DMA_TRUSTED_PROXIES`, comma-separated IPs).
    pub trusted_proxies: Vec<IpAddr>,
    /// Expensive computations (divergence, round scores and completion) one subject may run at
    /// once (`DMA_HEAVY_PER_CALLER`).
    pub heavy_per_caller: u32,
    /// Expensive computations running at once in all (`DMA_HEAVY_TOTAL`, default pool size − 2).
    pub heavy_total: u32,
    /// How long an expensive request waits for a free slot in the total before a 503
    /// (`DMA_HEAVY_WAIT_MS`).
    pub heavy_wait_ms: u64,
    /// How long a 429 is held back before it is sent (`DMA_RATE_LIMIT_DELAY_MS`): a caller that
    /// ignores `Retry-After` and floods then waits on its own connections instead of costing the
    /// service CPU for every refusal.
    pub refusal_delay_ms: u64,
}

/// Bounds on the HTTP server's connections (see `app::serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time to receive a request's head (`DMA_HEADER_TIMEOUT_MS`); 0 disables it.
    pub header_timeout_ms: u64,
    /// Time to close a connection after the response (`DMA_DISCONNECT_TIMEOUT_MS`).
    pub disconnect_timeout_ms: u64,
    /// Idle keep-alive (`DMA_KEEP_ALIVE_SECONDS`); 0 closes after each response.
    pub keep_alive_seconds: u64,
    /// Open connections per worker (`DMA_MAX_CONNECTIONS`); beyond it, new ones wait in the backlog.
    pub max_connections: usize,
    /// The listen socket's backlog (`DMA_BACKLOG`).
    pub backlog: u32,
    /// After SIGTERM/SIGINT, how long in-flight requests may take to finish
    /// (`DMA_SHUTDOWN_GRACE_SECONDS`); the server stops at once when nothing is in flight.
    pub shutdown_grace_seconds: u64,
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
        let fair_use = fair_use(&non_empty, pool_size)?;
        let server = server_limits(&non_empty)?;
        let database_read_url = non_empty("DATABASE_READ_URL");
        if let Some(read) = &database_read_url
            && is_postgres_url(read) != is_postgres_url(&database_url)
        {
            return Err(ConfigError(
                "DATABASE_READ_URL must use the same backend as DATABASE_URL".into(),
            ));
        }
        let divergence_cache_entries =
            parse_num(&non_empty, "DMA_DIVERGENCE_CACHE_ENTRIES", 8usize)?;
        if !(1..=256).contains(&divergence_cache_entries) {
            return Err(ConfigError(
                "DMA_DIVERGENCE_CACHE_ENTRIES must be between 1 and 256".into(),
            ));
        }
        let divergence_cache_idle_seconds =
            parse_num(&non_empty, "DMA_DIVERGENCE_CACHE_IDLE_SECONDS", 300u64)?;
        if !(1..=86_400).contains(&divergence_cache_idle_seconds) {
            return Err(ConfigError(
                "DMA_DIVERGENCE_CACHE_IDLE_SECONDS must be between 1 and 86400".into(),
            ));
        }
        let public_url = non_empty("DMA_PUBLIC_URL")
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| {
                let host = if bind.ip().is_unspecified() {
                    "127.0.0.1".to_owned()
                } else {
                    bind.ip().to_string()
                };
                format!("http://{host}:{}", bind.port())
            });
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError(
                "DMA_PUBLIC_URL must start with http:// or https://".into(),
            ));
        }
        let oidc = match non_empty("DMA_OIDC_ISSUER") {
            None => None,
            Some(issuer) => Some(OidcConfig {
                // Kept exactly as given: the discovery document's issuer must equal it.
                issuer,
                client_id: non_empty("DMA_OIDC_CLIENT_ID").ok_or_else(|| {
                    ConfigError("DMA_OIDC_CLIENT_ID is needed with DMA_OIDC_ISSUER".into())
                })?,
                client_secret: non_empty("DMA_OIDC_CLIENT_SECRET").map(Secret::new),
                role_claim: non_empty("DMA_OIDC_ROLE_CLAIM").unwrap_or_else(|| "role".into()),
                orgs_claim: non_empty("DMA_OIDC_ORGS_CLAIM").unwrap_or_else(|| "orgs".into()),
                scopes: non_empty("DMA_OIDC_SCOPES")
                    .unwrap_or_else(|| "openid profile".into())
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            }),
        };
        Ok(Self {
            public_url,
            oidc,
            database_url,
            database_read_url,
            divergence_cache_entries,
            divergence_cache_idle_seconds,
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
            fair_use,
            server,
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

/// A rate limit from `{prefix}_PER_SECOND` (0 = off) and `{prefix}_BURST`.
fn rate_limit(
    get: &impl Fn(&str) -> Option<String>,
    prefix: &str,
    (per_second, burst): (u32, u32),
) -> Result<Option<RateLimit>, ConfigError> {
    let per_second = parse_num(get, &format!("{prefix}_PER_SECOND"), per_second)?;
    let burst = parse_num(get, &format!("{prefix}_BURST"), burst)?;
    if per_second == 0 {
        return Ok(None);
    }
    if burst < per_second {
        return Err(ConfigError(format!(
            "{prefix}_BURST ({burst}) must be at least {prefix}_PER_SECOND ({per_second})"
        )));
    }
    Ok(Some(RateLimit { per_second, burst }))
}

fn fair_use(get: &impl Fn(&str) -> Option<String>, pool_size: u32) -> Result<FairUse, ConfigError> {
    let per_subject = rate_limit(get, "DMA_RATE_LIMIT", (50, 200))?;
    let per_ip = rate_limit(get, "DMA_ANON_RATE_LIMIT", (20, 200))?;
    let trusted_proxies = match get("DMA_TRUSTED_PROXIES") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpAddr>().map_err(|_| {
                    ConfigError(format!(
                        "DMA_TRUSTED_PROXIES must list IP addresses, not `{s}`"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let heavy_per_caller = parse_num(get, "DMA_HEAVY_PER_CALLER", 1u32)?;
    // Leave two connections for cheap reads and writes, whatever the expensive work does.
    let heavy_total = parse_num(get, "DMA_HEAVY_TOTAL", pool_size.saturating_sub(2).max(1))?;
    if heavy_per_caller == 0 || heavy_total == 0 {
        return Err(ConfigError(
            "DMA_HEAVY_PER_CALLER and DMA_HEAVY_TOTAL must be at least 1".into(),
        ));
    }
    let heavy_wait_ms = parse_num(get, "DMA_HEAVY_WAIT_MS", 2_000u64)?;
    if heavy_wait_ms > 60_000 {
        return Err(ConfigError(
            "DMA_HEAVY_WAIT_MS must be at most 60000".into(),
        ));
    }
    let refusal_delay_ms = parse_num(get, "DMA_RATE_LIMIT_DELAY_MS", 1_000u64)?;
    if refusal_delay_ms > 10_000 {
        return Err(ConfigError(
            "DMA_RATE_LIMIT_DELAY_MS must be at most 10000".into(),
        ));
    }
    Ok(FairUse {
        per_subject,
        per_ip,
        trusted_proxies,
        heavy_per_caller,
        heavy_total,
        heavy_wait_ms,
        refusal_delay_ms,
    })
}

fn server_limits(get: &impl Fn(&str) -> Option<String>) -> Result<ServerLimits, ConfigError> {
    let limits = ServerLimits {
        header_timeout_ms: parse_num(get, "DMA_HEADER_TIMEOUT_MS", 5_000u64)?,
        disconnect_timeout_ms: parse_num(get, "DMA_DISCONNECT_TIMEOUT_MS", 1_000u64)?,
        keep_alive_seconds: parse_num(get, "DMA_KEEP_ALIVE_SECONDS", 5u64)?,
        max_connections: parse_num(get, "DMA_MAX_CONNECTIONS", 1_024usize)?,
        backlog: parse_num(get, "DMA_BACKLOG", 1_024u32)?,
        shutdown_grace_seconds: parse_num(get, "DMA_SHUTDOWN_GRACE_SECONDS", 10u64)?,
    };
    if limits.max_connections == 0 || limits.backlog == 0 {
        return Err(ConfigError(
            "DMA_MAX_CONNECTIONS and DMA_BACKLOG must be at least 1".into(),
        ));
    }
    if limits.header_timeout_ms > 600_000 || limits.keep_alive_seconds > 3_600 {
        return Err(ConfigError(
            "DMA_HEADER_TIMEOUT_MS must be at most 600000 and DMA_KEEP_ALIVE_SECONDS at most 3600"
                .into(),
        ));
    }
    if limits.shutdown_grace_seconds > 3_600 {
        return Err(ConfigError(
            "DMA_SHUTDOWN_GRACE_SECONDS must be at most 3600".into(),
        ));
    }
    Ok(limits)
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
        assert_eq!(c.server.shutdown_grace_seconds, 10);
    }

    #[test]
    fn the_shutdown_grace_period_is_configurable_and_bounded() {
        let c = config(&[("DMA_SHUTDOWN_GRACE_SECONDS", "0")]).unwrap();
        assert_eq!(c.server.shutdown_grace_seconds, 0);
        let e = config(&[("DMA_SHUTDOWN_GRACE_SECONDS", "3601")]).unwrap_err();
        assert!(e.to_string().contains("DMA_SHUTDOWN_GRACE_SECONDS"));
        let e = config(&[("DMA_SHUTDOWN_GRACE_SECONDS", "soon")]).unwrap_err();
        assert!(e.to_string().contains("DMA_SHUTDOWN_GRACE_SECONDS"));
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
    fn fair_use_defaults_and_switches() {
        let c = config(&[]).unwrap();
        assert_eq!(
            c.fair_use.per_subject,
            Some(RateLimit {
                per_second: 50,
                burst: 200
            })
        );
        assert_eq!(c.fair_use.heavy_total, 6, "pool of 8 less 2");
        assert_eq!(c.fair_use.heavy_per_caller, 1);
        assert!(c.fair_use.trusted_proxies.is_empty());
        assert_eq!(c.server.header_timeout_ms, 5_000);
        let c = config(&[
            ("DMA_RATE_LIMIT_PER_SECOND", "0"),
            ("DMA_POOL_SIZE", "2"),
            ("DMA_TRUSTED_PROXIES", "10.0.0.1, ::1"),
        ])
        .unwrap();
        assert_eq!(c.fair_use.per_subject, None);
        assert!(c.fair_use.per_ip.is_some());
        assert_eq!(c.fair_use.heavy_total, 1, "never below one");
        assert_eq!(c.fair_use.trusted_proxies.len(), 2);
    }

    #[test]
    fn malformed_fair_use_values_are_clear_errors() {
        for (k, v, says) in [
            ("DMA_RATE_LIMIT_BURST", "1", "DMA_RATE_LIMIT_BURST"),
            (
                "DMA_ANON_RATE_LIMIT_PER_SECOND",
                "-3",
                "DMA_ANON_RATE_LIMIT_PER_SECOND",
            ),
            ("DMA_TRUSTED_PROXIES", "proxy.local", "DMA_TRUSTED_PROXIES"),
            ("DMA_HEAVY_PER_CALLER", "0", "DMA_HEAVY_PER_CALLER"),
            ("DMA_MAX_CONNECTIONS", "0", "DMA_MAX_CONNECTIONS"),
            ("DMA_HEADER_TIMEOUT_MS", "soon", "DMA_HEADER_TIMEOUT_MS"),
        ] {
            let e = config(&[(k, v)]).unwrap_err();
            assert!(e.to_string().contains(says), "{k}={v}: {e}");
        }
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
