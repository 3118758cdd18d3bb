//! Divergence computed once per data state, not per request. A result is stored per (round,
//! previous round, reference, options) with the data stamp (`db::stamp`) it was computed at; a
//! request whose stamp is current reads it, a stale one recomputes it once: concurrent callers of
//! the same key wait for that one computation and share it. The stamp lives in the database, so
//! several API processes (and replicas) agree on what is current; each process keeps its own
//! results.

pub mod index;
pub mod load;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::domain::divergence::{AggregateBy, AggregateRow, Analysis, aggregate};
pub use index::{RowIndex, RowQuery};
pub use load::Loaded;

/// One analysis, as computed from the data at `stamp`. The engine's bulky inputs (score
/// observations, item-matched values, grids) are dropped once it has run; the register and the
/// chain stay for the views.
pub struct Computed {
    pub stamp: i64,
    pub loaded: Loaded,
    pub analysis: Analysis,
    /// The rows' filterable fields, for pages and exports.
    pub index: RowIndex,
    /// Each ICB's region (the aggregates' region filter); the register itself is not kept.
    pub icb_regions: HashMap<String, String>,
    icbs: OnceLock<Vec<AggregateRow>>,
    regions: OnceLock<Vec<AggregateRow>>,
}

impl Computed {
    pub fn new(stamp: i64, mut loaded: Loaded, analysis: Analysis) -> Self {
        loaded.input.scores = Vec::new();
        loaded.input.item_matched = None;
        loaded.input.grids = Vec::new();
        // 25,000 register rows are about 16 MB; the views read an organisation from the
        // database instead, and the aggregates need only each ICB's region.
        let icb_regions = std::mem::take(&mut loaded.register)
            .into_values()
            .filter(|n| n.row.org_type == "icb")
            .filter_map(|n| Some((n.row.ods_code, n.row.region_code?)))
            .collect();
        Self {
            stamp,
            loaded,
            index: RowIndex::new(&analysis.rows),
            icb_regions,
            analysis,
            icbs: OnceLock::new(),
            regions: OnceLock::new(),
        }
    }

    /// The ICB or region aggregate of this analysis, computed on first use.
    pub fn aggregate(&self, by: AggregateBy) -> &[AggregateRow] {
        let cell = match by {
            AggregateBy::Icb => &self.icbs,
            AggregateBy::Region => &self.regions,
        };
        cell.get_or_init(|| aggregate(&self.loaded.input, &self.analysis, by))
    }
}

/// What a result is stored under: the round and everything that changes the analysis (the
/// previous round and reference as asked, and the option overrides in a canonical form).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub round: String,
    pub previous_round: Option<String>,
    pub reference: Option<String>,
    pub options: String,
}

/// A stored value that knows the data stamp it was computed at.
pub trait Stamped {
    fn stamp(&self) -> i64;
}

impl Stamped for Computed {
    fn stamp(&self) -> i64 {
        self.stamp
    }
}

type Slot<V> = Arc<Mutex<Option<Arc<V>>>>;

/// A key's slot, when it was last used (a tick of the cache's clock, for LRU) and at what time.
type Used<V> = (Slot<V>, u64, Instant);

/// Results by key, at most `capacity` of them (least recently used dropped first); a result whose
/// stamp is behind the newest stamp seen is dropped as soon as that stamp is seen, so stale
/// analyses do not hold memory. Shared by all workers.
pub struct ResultCache<V = Computed> {
    slots: Mutex<HashMap<Key, Used<V>>>,
    capacity: usize,
    clock: AtomicU64,
    computations: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic during a computation leaves the slot empty (it is emptied before computing), so
    // a poisoned lock still guards a consistent value.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<V: Stamped> ResultCache<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            clock: AtomicU64::new(0),
            computations: AtomicU64::new(0),
        }
    }

    /// How many analyses this cache has computed (for tests and metrics).
    pub fn computations(&self) -> u64 {
        self.computations.load(Ordering::Relaxed)
    }

    fn slot(&self, key: &Key, stamp: i64) -> Slot<V> {
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = lock(&self.slots);
        // Free the results the data has moved past (a slot being computed is busy: skip it).
        for (slot, _, _) in slots.values() {
            if let Ok(mut entry) = slot.try_lock()
                && entry.as_ref().is_some_and(|c| c.stamp() < stamp)
            {
                *entry = None;
            }
        }
        let slot = match slots.get_mut(key) {
            Some((slot, used, at)) => {
                *used = tick;
                *at = Instant::now();
                Arc::clone(slot)
            }
            None => {
                let slot: Slot<V> = Arc::new(Mutex::new(None));
                slots.insert(key.clone(), (Arc::clone(&slot), tick, Instant::now()));
                slot
            }
        };
        while slots.len() > self.capacity {
            let Some(oldest) = slots
                .iter()
                .filter(|(k, _)| *k != key)
                .min_by_key(|(_, (_, used, _))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            slots.remove(&oldest);
        }
        slot
    }

    /// The stored result for `key` if it is current at `stamp` (computed at `stamp` or later);
    /// never waits for a computation in progress.
    pub fn current(&self, key: &Key, stamp: i64) -> Option<Arc<V>> {
        let slot = {
            let mut slots = lock(&self.slots);
            let (slot, used, at) = slots.get_mut(key)?;
            *used = self.clock.fetch_add(1, Ordering::Relaxed);
            *at = Instant::now();
            Arc::clone(slot)
        };
        let entry = slot.try_lock().ok()?;
        entry.as_ref().filter(|c| c.stamp() >= stamp).cloned()
    }

    /// Drops the results nobody has asked for in `idle` (a computation in progress stays), so a
    /// process that served a national analysis gives its memory back when analysts go home.
    /// Returns how many were dropped.
    pub fn evict_idle(&self, idle: Duration) -> usize {
        let mut slots = lock(&self.slots);
        let before = slots.len();
        slots.retain(|_, (slot, _, at)| at.elapsed() < idle || slot.try_lock().is_err());
        before - slots.len()
    }

    /// The result for `key` current at `stamp`: the stored one, or one computed by `compute`.
    /// Concurrent callers of one key wait for a single computation; an error is not stored.
    pub fn get_or_compute<E>(
        &self,
        key: &Key,
        stamp: i64,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        let slot = self.slot(key, stamp);
        let mut entry = lock(&slot);
        if let Some(c) = entry.as_ref().filter(|c| c.stamp() >= stamp) {
            return Ok(Arc::clone(c));
        }
        // The stale result goes before the new one is built: at most one per key in memory.
        *entry = None;
        let fresh = Arc::new(compute()?);
        self.computations.fetch_add(1, Ordering::Relaxed);
        *entry = Some(Arc::clone(&fresh));
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests;
