//! Which rounds an analysis spans (B1 `previous_round`, B4 trend): the focal round and the
//! earlier rounds on comparable frameworks, oldest first. Loading the rounds is the caller's.
//!
//! Decisions:
//! - Two frameworks are comparable when they are the same framework or one declares questions
//!   carried over from the other; comparability is not transitive (every round of the chain is
//!   compared with the focal round's framework).
//! - The previous round defaults to the latest comparable earlier round; a named one must be an
//!   earlier round on a comparable framework.

use std::borrow::Borrow;
use std::fmt;

use chrono::NaiveDateTime;

use crate::domain::framework::Framework;

/// Whether change can be measured between rounds on these two frameworks: the same framework,
/// or one declares questions carried over from the other.
pub fn comparable(a: &Framework, b: &Framework) -> bool {
    let carries = |from: &Framework, to: &Framework| {
        from.carries_over
            .as_ref()
            .is_some_and(|c| c.framework == to.key)
    };
    a.key == b.key || carries(a, b) || carries(b, a)
}

/// Whether a round (key, opening time) comes before the focal one: it opens strictly earlier and
/// is not the focal round itself.
pub fn precedes(round: (&str, NaiveDateTime), focal: (&str, NaiveDateTime)) -> bool {
    round.0 != focal.0 && round.1 < focal.1
}

/// The focal round, the comparable rounds before it (oldest first) and their frameworks; `R` is
/// whatever the caller knows a round by, `F` however it holds a framework (owned, or shared from
/// a cache).
#[derive(Debug, Clone, PartialEq)]
pub struct Chain<R, F = Framework> {
    pub rounds: Vec<(R, F)>,
    /// Index into `rounds` of the round change is measured against.
    pub previous: Option<usize>,
}

impl<R, F> Chain<R, F> {
    /// The focal round: the last of `rounds`.
    pub fn focal(&self) -> &(R, F) {
        &self.rounds[self.rounds.len() - 1]
    }
}

/// Why a requested previous round cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// The round is earlier but its framework cannot be compared with the focal round's.
    NotComparable {
        round: String,
        framework: String,
        focal_framework: String,
    },
    /// No earlier round has this key.
    NotEarlier { round: String, focal: String },
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::NotComparable {
                round,
                framework,
                focal_framework,
            } => write!(
                f,
                "round `{round}` uses framework `{framework}`, which cannot be compared with `{focal_framework}`"
            ),
            ChainError::NotEarlier { round, focal } => {
                write!(f, "`{round}` is not a round before `{focal}`")
            }
        }
    }
}

impl std::error::Error for ChainError {}

/// The chain of `focal` over `earlier` (the rounds that [`precede`](precedes) it, oldest first):
/// the comparable ones are kept, and `previous` names the round to measure change against
/// (default: the latest comparable one).
pub fn comparable_chain<R, F: Borrow<Framework>>(
    focal: (R, F),
    earlier: Vec<(R, F)>,
    key: impl Fn(&R) -> &str,
    previous: Option<&str>,
) -> Result<Chain<R, F>, ChainError> {
    let mut rounds = Vec::new();
    for (r, fw) in earlier {
        if comparable(focal.1.borrow(), fw.borrow()) {
            rounds.push((r, fw));
        } else if previous == Some(key(&r)) {
            return Err(ChainError::NotComparable {
                round: key(&r).to_owned(),
                framework: fw.borrow().key.clone(),
                focal_framework: focal.1.borrow().key.clone(),
            });
        }
    }
    let previous = match previous {
        None => rounds.len().checked_sub(1),
        Some(wanted) => Some(
            rounds
                .iter()
                .position(|(r, _)| key(r) == wanted)
                .ok_or_else(|| ChainError::NotEarlier {
                    round: wanted.to_owned(),
                    focal: key(&focal.0).to_owned(),
                })?,
        ),
    };
    rounds.push(focal);
    Ok(Chain { rounds, previous })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::scored;
    use proptest::prelude::*;

    fn fw(key: &str, carries_from: Option<&str>) -> Framework {
        let mut f = scored();
        f.key = key.to_owned();
        f.carries_over = carries_from.map(|from| crate::domain::framework::CarriesOver {
            framework: from.to_owned(),
            questions: Default::default(),
        });
        f
    }

    fn key<'a>(r: &'a &'static str) -> &'a str {
        r
    }

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2025, 1, day)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("a date")
    }

    #[test]
    fn frameworks_are_comparable_when_the_same_or_carried_over_either_way() {
        let (a, b, c) = (fw("a", None), fw("b", Some("a")), fw("c", Some("b")));
        assert!(comparable(&a, &a));
        assert!(comparable(&a, &b) && comparable(&b, &a));
        assert!(!comparable(&a, &c) && !comparable(&c, &a), "not transitive");
        assert!(!comparable(&a, &fw("d", None)));
    }

    #[test]
    fn precedes_means_strictly_earlier_and_not_itself() {
        assert!(precedes(("2024", at(1)), ("2025", at(2))));
        assert!(!precedes(("2024", at(2)), ("2025", at(2))));
        assert!(!precedes(("2026", at(3)), ("2025", at(2))));
        assert!(!precedes(("2025", at(1)), ("2025", at(2))));
    }

    #[test]
    fn the_chain_keeps_comparable_rounds_and_defaults_to_the_latest() {
        let earlier = vec![
            ("2022", fw("old", None)),
            ("2023", fw("a", None)),
            ("2024", fw("b", Some("a"))),
        ];
        let chain =
            comparable_chain(("2025", fw("b", Some("a"))), earlier, key, None).expect("chain");
        let keys: Vec<&str> = chain.rounds.iter().map(|(r, _)| *r).collect();
        assert_eq!(keys, ["2023", "2024", "2025"]);
        assert_eq!(chain.previous, Some(1));
        assert_eq!(chain.focal().0, "2025");
    }

    #[test]
    fn a_named_previous_round_must_be_earlier_and_comparable() {
        let earlier = || vec![("2023", fw("old", None)), ("2024", fw("a", None))];
        let focal = || ("2025", fw("a", None));
        let c = comparable_chain(focal(), earlier(), key, Some("2024")).expect("chain");
        assert_eq!(c.previous, Some(0));
        let e = comparable_chain(focal(), earlier(), key, Some("2023")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "round `2023` uses framework `old`, which cannot be compared with `a`"
        );
        let e = comparable_chain(focal(), earlier(), key, Some("2026")).unwrap_err();
        assert_eq!(e.to_string(), "`2026` is not a round before `2025`");
    }

    #[test]
    fn no_earlier_round_gives_no_previous_round() {
        let c = comparable_chain(("2025", fw("a", None)), Vec::new(), key, None).expect("chain");
        assert_eq!(c.rounds.len(), 1);
        assert_eq!(c.previous, None);
    }

    const KEYS: [&str; 6] = ["r0", "r1", "r2", "r3", "r4", "r5"];

    proptest! {
        /// Whatever the frameworks, the chain keeps exactly the comparable rounds in their order,
        /// ends with the focal round, and its previous round is the last comparable one.
        #[test]
        fn the_chain_is_the_comparable_rounds_in_order(kinds in proptest::collection::vec(0u8..3, 0..6)) {
            let frameworks = [fw("a", None), fw("b", Some("a")), fw("z", None)];
            let earlier: Vec<(&'static str, Framework)> = kinds
                .iter()
                .enumerate()
                .map(|(i, k)| (KEYS[i], frameworks[*k as usize].clone()))
                .collect();
            let expected: Vec<&str> = kinds
                .iter()
                .enumerate()
                .filter(|(_, k)| **k != 2)
                .map(|(i, _)| KEYS[i])
                .collect();
            let chain = comparable_chain(("focal", fw("a", None)), earlier, key, None).expect("chain");
            let keys: Vec<&str> = chain.rounds.iter().map(|(r, _)| *r).collect();
            prop_assert_eq!(&keys[..keys.len() - 1], &expected[..]);
            prop_assert_eq!(*keys.last().expect("focal"), "focal");
            prop_assert_eq!(chain.previous, expected.len().checked_sub(1));
        }
    }
}
