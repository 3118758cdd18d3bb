//! The state shared by every worker: configuration, the database pool, signing keys, metrics, the
//! token endpoint's bounds, the fair-use limits and the cache of published frameworks. Handlers, extractors and the
//! command line read it; it depends on none of them.

use std::sync::Arc;

use crate::auth::TokenKeys;
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::limits::{HeavyWork, RateLimits};
use crate::service::clients::RevokedClients;
use crate::telemetry::Metrics;

/// How many bytes of response bodies are kept for revalidation-free repeats.
const BODY_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Everything a handler may need, shared by all workers.
pub struct AppState {
    pub config: Config,
    pub pool: DbPool,
    /// The read replica's pool (`DATABASE_READ_URL`), if one is configured.
    pub read_pool: Option<DbPool>,
    /// Divergence analyses by key and data stamp (`service::divergence`).
    pub divergence: crate::service::divergence::ResultCache,
    /// Response bodies of analysts' reads by entity tag (`service::bodies`).
    pub bodies: crate::service::bodies::BodyCache,
    pub keys: TokenKeys,
    /// Request counts and latencies, also registered on its own for the request middleware.
    pub metrics: Arc<Metrics>,
    /// An argon2 hash of a random secret, verified against when a client id is unknown so that
    /// the token endpoint takes as long for unknown ids as for wrong secrets.
    pub unknown_client_hash: String,
    /// Bounds the argon2 verifications running at once (one per core): each costs tens of
    /// milliseconds of CPU and memory, and must never hold a database connection.
    pub secret_checks: tokio::sync::Semaphore,
    /// Requests per second per token subject and per client address (`api::fair_use`).
    pub rate_limits: RateLimits,
    /// Expensive computations running at once, per caller and in all (`api::with_heavy_conn`).
    pub heavy: HeavyWork,
    /// Parsed published frameworks, so a request does not re-parse the round's framework.
    pub frameworks: db::frameworks::FrameworkCache,
    /// Revoked API clients: their tokens are refused at once.
    pub revoked: Arc<RevokedClients>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] db::DbSetupError),
    #[error(transparent)]
    Keys(#[from] crate::auth::KeyError),
    #[error("cannot prepare the token endpoint: {0}")]
    Hash(String),
    #[error("cannot read the revoked clients: {0}")]
    Revocations(String),
}

impl AppState {
    /// Opens the pool, applies migrations and loads the signing keys.
    pub fn init(config: Config) -> Result<Self, StartupError> {
        let pool = db::build_pool(&config.database_url, config.pool_size)?;
        let revoked = Arc::new(RevokedClients::default());
        {
            let mut conn = pool.get().map_err(db::DbSetupError::Pool)?;
            let applied = db::run_migrations(&mut conn)?;
            if applied > 0 {
                tracing::info!(applied, "database migrations applied");
            }
            revoked
                .refresh(&mut conn)
                .map_err(|e| StartupError::Revocations(e.to_string()))?;
        }
        let keys = TokenKeys::from_config(&config)?;
        // The replica is never migrated: it follows the primary's schema.
        let read_pool = match &config.database_read_url {
            Some(url) => Some(db::build_pool(url, config.pool_size)?),
            None => None,
        };
        Ok(Self {
            read_pool,
            divergence: crate::service::divergence::ResultCache::new(
                config.divergence_cache_entries,
            ),
            bodies: crate::service::bodies::BodyCache::new(BODY_CACHE_BYTES),
            rate_limits: RateLimits::new(&config.fair_use),
            heavy: HeavyWork::new(&config.fair_use),
            config,
            pool,
            keys,
            metrics: Arc::new(Metrics::default()),
            unknown_client_hash: crate::auth::hash_secret(&crate::auth::new_client_secret())
                .map_err(|e| StartupError::Hash(e.to_string()))?,
            secret_checks: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
            frameworks: db::frameworks::FrameworkCache::default(),
            revoked,
        })
    }
}
