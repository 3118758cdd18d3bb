//! Response bodies kept by entity tag (`api::reads`), so a page asked for again at the same data
//! stamp is sent without being built again. Bytes only: nothing here knows HTTP.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Response bodies by entity tag, so a page asked for again at the same data stamp is sent
/// without being built again. Tags embed the stamp, so a body of older data is never found once
/// the data has moved on; the oldest bodies go first beyond `budget` bytes.
pub struct BodyCache {
    inner: Mutex<BodyCacheInner>,
    budget: usize,
}

#[derive(Default)]
struct BodyCacheInner {
    bodies: HashMap<String, CachedBody>,
    order: VecDeque<String>,
    bytes: usize,
}

/// A stored body and the `Link` header that went with it.
#[derive(Clone)]
pub struct CachedBody {
    pub body: Arc<[u8]>,
    pub link: Option<String>,
}

impl BodyCache {
    /// Bodies larger than this are not kept (a page is at most a few megabytes).
    const LARGEST: usize = 8 * 1024 * 1024;

    pub fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(BodyCacheInner::default()),
            budget,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BodyCacheInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops every stored body (when the service has been idle: see `app::sweep_caches`).
    pub fn clear(&self) {
        *self.lock() = BodyCacheInner::default();
    }

    pub fn get(&self, tag: &str) -> Option<CachedBody> {
        self.lock().bodies.get(tag).cloned()
    }

    pub fn put(&self, tag: &str, body: CachedBody) {
        let size = body.body.len();
        if size > Self::LARGEST.min(self.budget) {
            return;
        }
        let mut inner = self.lock();
        if let Some(old) = inner.bodies.insert(tag.to_owned(), body) {
            inner.bytes -= old.body.len();
        } else {
            inner.order.push_back(tag.to_owned());
        }
        inner.bytes += size;
        while inner.bytes > self.budget {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.bodies.remove(&oldest) {
                inner.bytes -= gone.body.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: usize) -> CachedBody {
        CachedBody {
            body: vec![b'x'; n].into(),
            link: None,
        }
    }

    #[test]
    fn the_oldest_bodies_go_beyond_the_budget_and_oversized_ones_are_not_kept() {
        let cache = BodyCache::new(100);
        cache.put("a", body(40));
        cache.put("b", body(40));
        cache.put("c", body(40));
        assert!(cache.get("a").is_none(), "a was the oldest");
        assert!(cache.get("b").is_some() && cache.get("c").is_some());
        cache.put("big", body(101));
        assert!(cache.get("big").is_none());
        cache.clear();
        assert!(cache.get("b").is_none());
    }
}
