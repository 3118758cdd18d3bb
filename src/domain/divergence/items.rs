//! Item matching between framework versions (B2): which questions a new framework carries over
//! from the previous round's, both returns re-scored on those questions only, and the
//! (organisation type, pillar) pairs whose matched set is smaller than either round's full set.
//! Loading the returns is the caller's.
//!
//! Decisions:
//! - Rounds on the same framework need no matching ([`carried_over`] is `None`), nor do rounds
//!   whose frameworks declare nothing carried over between them.
//! - The mapping may be declared by either framework (new → old by the newer one, or old → new
//!   by the older one); it is always used as new key → old key.
//! - A pillar gets a matched change only when both re-scored returns have a score in it.

use std::collections::{BTreeMap, BTreeSet};

use super::grid::pillar_grid;
use super::{ChangedItemSet, ItemMatched, MatchedChange, MatchedGrid, OrgInfo};
use crate::domain::answers::Answers;
use crate::domain::framework::Framework;
use crate::domain::organisation::OrgType;
use crate::domain::scoring::score_subset;

/// The carried-over questions between the focal round's framework `cur` and the previous
/// round's `prev`, as focal question key → previous question key, whichever framework declares
/// them; `None` when the frameworks are the same or neither declares the other.
pub fn carried_over(cur: &Framework, prev: &Framework) -> Option<BTreeMap<String, String>> {
    if cur.key == prev.key {
        return None;
    }
    match (&cur.carries_over, &prev.carries_over) {
        (Some(c), _) if c.framework == prev.key => Some(c.questions.clone()),
        (_, Some(c)) if c.framework == cur.key => Some(
            c.questions
                .iter()
                .map(|(n, o)| (o.clone(), n.clone()))
                .collect(),
        ),
        _ => None,
    }
}

/// Item-matched pillar scores: for each organisation with a return in both rounds, both returns
/// re-scored on the carried-over questions (`map`, from [`carried_over`]), and the changed item
/// sets of the two frameworks.
pub fn item_matched<'a>(
    cur: &Framework,
    prev: &Framework,
    map: &BTreeMap<String, String>,
    returns: impl IntoIterator<Item = (&'a OrgInfo, &'a Answers, &'a Answers)>,
) -> ItemMatched {
    let new_keys: BTreeSet<&str> = map.keys().map(String::as_str).collect();
    let old_keys: BTreeSet<&str> = map.values().map(String::as_str).collect();
    let mut rows = Vec::new();
    for (org, a_cur, a_prev) in returns {
        let now = score_subset(cur, org.org_type, a_cur, |k| new_keys.contains(k));
        let before = score_subset(prev, org.org_type, a_prev, |k| old_keys.contains(k));
        for p in &now.pillars {
            let old = before.pillars.iter().find(|b| b.pillar == p.pillar);
            if let (Some(c), Some(o)) = (p.score, old.and_then(|b| b.score)) {
                rows.push(MatchedChange {
                    ods: org.ods.clone(),
                    pillar: p.pillar.clone(),
                    previous_score: o,
                    current_score: c,
                });
            }
        }
    }
    ItemMatched {
        rows,
        changed_item_sets: changed_item_sets(cur, prev, map),
        grids: matched_grids(cur, prev, &new_keys, &old_keys),
    }
}

/// v2 (C2.2): the grid of the matched values of each (type, pillar) both frameworks can score on
/// the carried-over questions.
pub fn matched_grids(
    cur: &Framework,
    prev: &Framework,
    new_keys: &BTreeSet<&str>,
    old_keys: &BTreeSet<&str>,
) -> Vec<MatchedGrid> {
    let mut out = Vec::new();
    for t in OrgType::ALL {
        for p in cur.pillars_for(t) {
            let now = pillar_grid(cur, t, &p.key, |k| new_keys.contains(k));
            let before = pillar_grid(prev, t, &p.key, |k| old_keys.contains(k));
            if let (Some(current), Some(previous)) = (now, before) {
                out.push(MatchedGrid {
                    org_type: t,
                    pillar: p.key.clone(),
                    previous,
                    current,
                });
            }
        }
    }
    out
}

/// B2: per organisation type and pillar, the matched items are the focal round's questions whose
/// carried-over key is among the previous round's questions of that type and pillar; the set has
/// changed when it is smaller than either round's full set.
pub fn changed_item_sets(
    cur: &Framework,
    prev: &Framework,
    map: &BTreeMap<String, String>,
) -> Vec<ChangedItemSet> {
    let asked = |fw: &Framework, pillar: &str, t: OrgType| -> BTreeSet<String> {
        fw.pillars
            .iter()
            .filter(|p| p.key == pillar)
            .flat_map(|p| p.domains_for(t))
            .flat_map(|d| &d.questions)
            .map(|q| q.key.clone())
            .collect()
    };
    let pillars: BTreeSet<&str> = cur
        .pillars
        .iter()
        .chain(&prev.pillars)
        .map(|p| p.key.as_str())
        .collect();
    let mut out = Vec::new();
    for t in OrgType::ALL {
        for &pillar in &pillars {
            let (now, before) = (asked(cur, pillar, t), asked(prev, pillar, t));
            let matched = now
                .iter()
                .filter(|q| map.get(*q).is_some_and(|old| before.contains(old)))
                .count();
            if matched < now.len() || matched < before.len() {
                out.push(ChangedItemSet {
                    org_type: t,
                    pillar: pillar.to_owned(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{answers, scored, yes};
    use crate::domain::framework::CarriesOver;
    use crate::domain::organisation::OrgType::{Acute, Community, MentalHealth};
    use proptest::prelude::*;

    /// `scored()` renamed to `key`, with `R-02` renamed to `R-02b`; carries over every question
    /// (R-02 as R-02b) from the original `dma-2016`.
    fn renamed(key: &str) -> Framework {
        let mut f = scored();
        f.key = key.to_owned();
        for p in &mut f.pillars {
            for d in &mut p.domains {
                for q in &mut d.questions {
                    if q.key == "R-02" {
                        q.key = "R-02b".into();
                    }
                }
            }
        }
        let questions = f
            .questions()
            .map(|(_, _, q)| (q.key.clone(), q.key.replace("R-02b", "R-02")))
            .collect();
        f.carries_over = Some(CarriesOver {
            framework: "dma-2016".into(),
            questions,
        });
        f
    }

    fn info(ods: &str, t: OrgType) -> OrgInfo {
        super::super::tests::org(ods, t)
    }

    #[test]
    fn the_same_framework_or_an_unrelated_one_needs_no_matching() {
        let f = scored();
        assert_eq!(carried_over(&f, &f), None);
        let mut other = scored();
        other.key = "other".into();
        assert_eq!(carried_over(&other, &f), None);
    }

    #[test]
    fn the_mapping_is_new_to_old_whichever_framework_declares_it() {
        let (old, new) = (scored(), renamed("dma-2017"));
        let forward = carried_over(&new, &old).expect("declared by the new framework");
        assert_eq!(forward.get("R-02b").map(String::as_str), Some("R-02"));
        // The older framework declaring the newer one's questions: the map is inverted.
        let mut declared_back = scored();
        declared_back.carries_over = Some(CarriesOver {
            framework: "dma-2017".into(),
            questions: [("R-02".to_owned(), "R-02b".to_owned())].into(),
        });
        let mut newer = renamed("dma-2017");
        newer.carries_over = None;
        let back = carried_over(&newer, &declared_back).expect("declared by the old framework");
        assert_eq!(back, [("R-02b".to_owned(), "R-02".to_owned())].into());
    }

    #[test]
    fn a_full_mapping_changes_no_item_set_and_a_dropped_question_changes_its_pillar() {
        let (old, new) = (scored(), renamed("dma-2017"));
        let mut map = carried_over(&new, &old).expect("map");
        assert_eq!(changed_item_sets(&new, &old, &map), Vec::new());
        map.remove("R-02b");
        let changed = changed_item_sets(&new, &old, &map);
        // R-02 (readiness / strategy) is asked of acute and mental-health trusts only.
        assert_eq!(
            changed,
            vec![
                ChangedItemSet {
                    org_type: Acute,
                    pillar: "readiness".into()
                },
                ChangedItemSet {
                    org_type: MentalHealth,
                    pillar: "readiness".into()
                },
            ]
        );
    }

    #[test]
    fn returns_are_rescored_on_the_carried_over_questions() {
        let (old, new) = (scored(), renamed("dma-2017"));
        let mut map = carried_over(&new, &old).expect("map");
        map.retain(|k, _| k == "R-02b" || k == "C-02");
        let a_prev = answers([("R-02", yes()), ("C-02", yes())]);
        let a_cur = answers([("R-02b", yes()), ("C-02", yes())]);
        let (a, c) = (info("A", Acute), info("C", Community));
        let out = item_matched(
            &new,
            &old,
            &map,
            [(&a, &a_cur, &a_prev), (&c, &a_cur, &a_prev)],
        );
        let got: Vec<(&str, &str, f64, f64)> = out
            .rows
            .iter()
            .map(|r| {
                (
                    r.ods.as_str(),
                    r.pillar.as_str(),
                    r.previous_score,
                    r.current_score,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("A", "readiness", 100.0, 100.0),
                ("A", "capabilities", 100.0, 100.0),
                ("C", "capabilities", 100.0, 100.0),
            ]
        );
        assert!(!out.changed_item_sets.is_empty());
    }

    proptest! {
        /// Dropping questions from the mapping never un-changes an item set.
        #[test]
        fn a_smaller_mapping_changes_at_least_as_many_item_sets(keep in proptest::collection::vec(any::<bool>(), 9)) {
            let (old, new) = (scored(), renamed("dma-2017"));
            let full = carried_over(&new, &old).expect("map");
            let partial: BTreeMap<String, String> = full
                .iter()
                .zip(keep.iter().cycle())
                .filter(|(_, k)| **k)
                .map(|((n, o), _)| (n.clone(), o.clone()))
                .collect();
            let all = changed_item_sets(&new, &old, &full);
            let some = changed_item_sets(&new, &old, &partial);
            prop_assert!(all.iter().all(|c| some.contains(c)));
            prop_assert_eq!(some.is_empty(), partial.len() == full.len());
        }
    }
}
