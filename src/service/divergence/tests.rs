use super::*;
use std::sync::Barrier;
use std::time::Duration;

struct Value {
    stamp: i64,
    made_by: usize,
}

impl Stamped for Value {
    fn stamp(&self) -> i64 {
        self.stamp
    }
}

fn key(round: &str) -> Key {
    Key {
        round: round.into(),
        previous_round: None,
        reference: None,
        options: String::new(),
    }
}

#[test]
fn a_current_result_is_reused_and_a_newer_stamp_recomputes() {
    let cache = ResultCache::new(4);
    let first = cache
        .get_or_compute(&key("r"), 5, || {
            Ok::<_, ()>(Value {
                stamp: 5,
                made_by: 1,
            })
        })
        .unwrap();
    let again = cache
        .get_or_compute(&key("r"), 5, || {
            Ok::<_, ()>(Value {
                stamp: 5,
                made_by: 2,
            })
        })
        .unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(cache.computations(), 1);
    assert!(cache.current(&key("r"), 5).is_some());
    assert!(
        cache.current(&key("r"), 6).is_none(),
        "stale once the stamp moves"
    );
    let fresh = cache
        .get_or_compute(&key("r"), 6, || {
            Ok::<_, ()>(Value {
                stamp: 6,
                made_by: 3,
            })
        })
        .unwrap();
    assert_eq!(fresh.made_by, 3);
    assert_eq!(cache.computations(), 2);
}

#[test]
fn a_result_computed_from_newer_data_than_asked_is_current() {
    let cache = ResultCache::new(4);
    cache
        .get_or_compute(&key("r"), 5, || {
            Ok::<_, ()>(Value {
                stamp: 7,
                made_by: 1,
            })
        })
        .unwrap();
    assert!(cache.current(&key("r"), 6).is_some());
    assert!(cache.current(&key("r"), 8).is_none());
}

#[test]
fn errors_are_not_stored() {
    let cache: ResultCache<Value> = ResultCache::new(4);
    assert!(cache.get_or_compute(&key("r"), 1, || Err("no")).is_err());
    let v = cache
        .get_or_compute(&key("r"), 1, || {
            Ok::<_, &str>(Value {
                stamp: 1,
                made_by: 9,
            })
        })
        .unwrap();
    assert_eq!(v.made_by, 9);
}

#[test]
fn concurrent_callers_of_a_stale_key_share_one_computation() {
    let cache = Arc::new(ResultCache::new(4));
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (cache, barrier) = (Arc::clone(&cache), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                cache
                    .get_or_compute(&key("r"), 3, || {
                        std::thread::sleep(Duration::from_millis(50));
                        Ok::<_, ()>(Value {
                            stamp: 3,
                            made_by: i,
                        })
                    })
                    .unwrap()
                    .made_by
            })
        })
        .collect();
    let makers: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(cache.computations(), 1);
    assert!(makers.iter().all(|m| *m == makers[0]), "{makers:?}");
}

#[test]
fn the_least_recently_used_key_goes_beyond_capacity_and_stale_results_are_freed() {
    let cache = ResultCache::new(2);
    for r in ["a", "b"] {
        cache
            .get_or_compute(&key(r), 1, || {
                Ok::<_, ()>(Value {
                    stamp: 1,
                    made_by: 0,
                })
            })
            .unwrap();
    }
    assert!(cache.current(&key("a"), 1).is_some()); // "a" used after "b"
    cache
        .get_or_compute(&key("c"), 1, || {
            Ok::<_, ()>(Value {
                stamp: 1,
                made_by: 0,
            })
        })
        .unwrap();
    assert!(
        cache.current(&key("b"), 1).is_none(),
        "b was least recently used"
    );
    assert!(cache.current(&key("a"), 1).is_some());
}

#[test]
fn seeing_a_newer_stamp_frees_the_results_it_made_stale() {
    let cache = ResultCache::new(8);
    let old = cache
        .get_or_compute(&key("a"), 1, || {
            Ok::<_, ()>(Value {
                stamp: 1,
                made_by: 0,
            })
        })
        .unwrap();
    let weak = Arc::downgrade(&old);
    drop(old);
    cache
        .get_or_compute(&key("b"), 2, || {
            Ok::<_, ()>(Value {
                stamp: 2,
                made_by: 0,
            })
        })
        .unwrap();
    assert!(
        weak.upgrade().is_none(),
        "the stale result of `a` was dropped"
    );
    assert!(cache.current(&key("b"), 2).is_some());
}

#[test]
fn results_idle_for_long_enough_are_dropped() {
    let cache = ResultCache::new(8);
    let held = cache
        .get_or_compute(&key("a"), 1, || {
            Ok::<_, ()>(Value {
                stamp: 1,
                made_by: 0,
            })
        })
        .unwrap();
    let weak = Arc::downgrade(&held);
    drop(held);
    assert_eq!(
        cache.evict_idle(Duration::from_secs(60)),
        0,
        "used just now"
    );
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(cache.evict_idle(Duration::from_millis(10)), 1);
    assert!(weak.upgrade().is_none());
    assert!(cache.current(&key("a"), 1).is_none());
}
