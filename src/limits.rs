//! Fair use: per-caller rate limits (by token subject, or by client address for requests without a
//! valid token) and the bound on expensive computations running at once, per caller and in all.
//! Reading who the caller is and answering 429/503 over HTTP is `api::fair_use`'s business.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{FairUse, RateLimit};
use crate::error::AppError;

/// Whom a request counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A valid bearer token's subject (`sub`).
    Subject(String),
    /// No valid token: the client's address (`None` when the peer address is unknown).
    Address(Option<IpAddr>),
}

/// How often (in checks) idle keys are dropped from the limiters, so a stream of new addresses
/// cannot grow them without bound.
const PRUNE_EVERY: u64 = 4_096;

/// What a caller over its share is told to wait before retrying expensive work, in seconds.
const HEAVY_RETRY_AFTER: u64 = 2;

/// The request-rate limits: a token bucket (GCRA) per subject and per client address.
pub struct RateLimits {
    per_subject: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<Option<IpAddr>>>,
    checks: AtomicU64,
}

fn keyed<K: Hash + Eq + Clone>(limit: RateLimit) -> DefaultKeyedRateLimiter<K> {
    // `Config` refuses zero (0 means "off" and gives no limiter at all).
    let per_second = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limit.burst).unwrap_or(per_second);
    RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
}

impl RateLimits {
    pub fn new(config: &FairUse) -> Self {
        Self {
            per_subject: config.per_subject.map(keyed),
            per_address: config.per_ip.map(keyed),
            checks: AtomicU64::new(0),
        }
    }

    /// Whether any limit is on (when none is, callers need not be identified at all).
    pub fn enabled(&self) -> bool {
        self.per_subject.is_some() || self.per_address.is_some()
    }

    /// Counts one request against `caller`: a 429 with the seconds until the next one is allowed
    /// when it is over its limit.
    pub fn check(&self, caller: &Caller) -> Result<(), AppError> {
        self.prune_now_and_then();
        let outcome = match caller {
            Caller::Subject(sub) => match &self.per_subject {
                Some(limiter) => limiter.check_key(sub),
                None => return Ok(()),
            },
            Caller::Address(ip) => match &self.per_address {
                Some(limiter) => limiter.check_key(ip),
                None => return Ok(()),
            },
        };
        outcome.map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::TooManyRequests {
                detail: match caller {
                    Caller::Subject(_) => "this token is over its request rate; slow down".into(),
                    Caller::Address(_) => {
                        "this address is over its request rate without a valid token; slow down"
                            .into()
                    }
                },
                retry_after: whole_seconds(wait),
            }
        })
    }

    fn prune_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY != PRUNE_EVERY - 1 {
            return;
        }
        if let Some(l) = &self.per_subject {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_address {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// A wait rounded up to whole seconds, at least one (`Retry-After: 0` invites a retry storm).
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The bound on expensive computations (those that load and analyse whole rounds): at most
/// `per_caller` at once for one subject (beyond: 429 at once) and `total` in all (beyond: wait up
/// to `wait`, then 503), so that one caller cannot take the database pool from everyone else.
pub struct HeavyWork {
    total: Arc<Semaphore>,
    per_caller: u32,
    running: Arc<Mutex<HashMap<String, u32>>>,
    wait: Duration,
}

/// A slot for one expensive computation; dropping it frees the slot (also when the request is
/// abandoned: the permit lives as long as the work that holds it).
#[must_use = "the slot is freed when the permit is dropped"]
pub struct HeavyPermit {
    _total: OwnedSemaphorePermit,
    _caller: CallerSlot,
}

struct CallerSlot {
    running: Arc<Mutex<HashMap<String, u32>>>,
    subject: String,
}

impl Drop for CallerSlot {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = running.get_mut(&self.subject) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                running.remove(&self.subject);
            }
        }
    }
}

impl HeavyWork {
    pub fn new(config: &FairUse) -> Self {
        Self {
            total: Arc::new(Semaphore::new(config.heavy_total as usize)),
            per_caller: config.heavy_per_caller,
            running: Arc::default(),
            wait: Duration::from_millis(config.heavy_wait_ms),
        }
    }

    /// A slot for `subject`'s next expensive computation.
    pub async fn acquire(&self, subject: &str) -> Result<HeavyPermit, AppError> {
        let caller = self.take_caller_slot(subject)?;
        let total = match self.total.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout(self.wait, self.total.clone().acquire_owned())
                .await
                .map_err(|_| AppError::Overloaded {
                    detail: "the service is at its bound on expensive computations (divergence, \
                             round scores, completion); retry shortly"
                        .into(),
                    retry_after: HEAVY_RETRY_AFTER,
                })?
                .map_err(|_| AppError::internal("the expensive-work semaphore is closed"))?,
        };
        Ok(HeavyPermit {
            _total: total,
            _caller: caller,
        })
    }

    /// How many expensive computations `subject` has running.
    pub fn running_for(&self, subject: &str) -> u32 {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.get(subject).copied().unwrap_or(0)
    }

    fn take_caller_slot(&self, subject: &str) -> Result<CallerSlot, AppError> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let n = running.entry(subject.to_owned()).or_insert(0);
        if *n >= self.per_caller {
            return Err(AppError::TooManyRequests {
                detail: format!(
                    "this token already has {n} expensive computation{} running (divergence, \
                     round scores, completion); wait for {} to finish",
                    if *n == 1 { "" } else { "s" },
                    if *n == 1 { "it" } else { "one" }
                ),
                retry_after: HEAVY_RETRY_AFTER,
            });
        }
        *n += 1;
        Ok(CallerSlot {
            running: self.running.clone(),
            subject: subject.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fair_use(per_caller: u32, total: u32) -> FairUse {
        FairUse {
            per_subject: Some(RateLimit {
                per_second: 1,
                burst: 2,
            }),
            per_ip: None,
            trusted_proxies: Vec::new(),
            heavy_per_caller: per_caller,
            heavy_total: total,
            heavy_wait_ms: 0,
            refusal_delay_ms: 0,
        }
    }

    #[test]
    fn a_subject_over_its_burst_is_refused_with_a_whole_second_wait() {
        let limits = RateLimits::new(&fair_use(1, 1));
        let a = Caller::Subject("a".into());
        assert!(limits.check(&a).is_ok());
        assert!(limits.check(&a).is_ok());
        match limits.check(&a) {
            Err(AppError::TooManyRequests { retry_after, .. }) => assert_eq!(retry_after, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limits.check(&Caller::Subject("b".into())).is_ok());
        // Addresses are not limited in this configuration.
        for _ in 0..10 {
            assert!(limits.check(&Caller::Address(None)).is_ok());
        }
    }

    #[test]
    fn whole_seconds_round_up_and_never_say_zero() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(2_001)), 3);
    }

    #[actix_web::test]
    async fn each_caller_has_its_share_and_slots_come_back_on_drop() {
        let heavy = HeavyWork::new(&fair_use(1, 2));
        let first = heavy.acquire("a").await.expect("a's first");
        assert!(matches!(
            heavy.acquire("a").await,
            Err(AppError::TooManyRequests { .. })
        ));
        let b = heavy.acquire("b").await.expect("b's first");
        // Both total slots are held: a third caller waits (here: not at all) and gets 503.
        assert!(matches!(
            heavy.acquire("c").await,
            Err(AppError::Overloaded { .. })
        ));
        assert_eq!(heavy.running_for("c"), 0, "a refused caller holds nothing");
        drop(first);
        assert_eq!(heavy.running_for("a"), 0);
        let again = heavy
            .acquire("a")
            .await
            .expect("a again after its first ended");
        drop((again, b));
        assert!(heavy.running.lock().unwrap().is_empty());
    }
}
