//! Which rows a reader asked for, by their flags. Applied to finished rows (organisation or
//! aggregate), so a filter never changes a figure: q-values come from the whole round.
//!
//! Decisions:
//! - `flagged_only`: at least one flag, descriptive GAP_WIDENING_* included (B12).
//! - `tested_only`: at least one flag from a hypothesis test ([`Flag::is_tested`]: LEVEL_*,
//!   PROGRESS_*, TREND_* and PRIORITY_FALLING_BEHIND, which is made of them); a row whose only
//!   flags are GAP_WIDENING_* is left out. Statuses are caveats, never flags, and never count.
//! - `any_of`: at least one of the listed flags. An empty list asks for nothing in particular
//!   and keeps every row (as an absent one does).
//! - The three combine with "and".

use super::types::Flag;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagFilter {
    pub flagged_only: bool,
    pub tested_only: bool,
    pub any_of: Vec<Flag>,
}

impl FlagFilter {
    /// Parses comma-separated flag codes (`LEVEL_BELOW_PEERS,TREND_BELOW_PEERS`); spaces around
    /// codes and empty items are ignored (exactly what the `flags` parameter's pattern in the
    /// OpenAPI document allows). The error names the first unknown code.
    pub fn parse_codes(raw: &str) -> Result<Vec<Flag>, String> {
        let mut out = Vec::new();
        for code in raw
            .split(',')
            .map(|c| c.trim_matches(' '))
            .filter(|c| !c.is_empty())
        {
            let flag = Flag::parse(code).ok_or_else(|| {
                let known: Vec<&str> = Flag::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown flag code `{code}` (one of {})", known.join(", "))
            })?;
            if !out.contains(&flag) {
                out.push(flag);
            }
        }
        Ok(out)
    }

    pub fn keeps(&self, flags: &[Flag]) -> bool {
        (!self.flagged_only || !flags.is_empty())
            && (!self.tested_only || flags.iter().any(|f| f.is_tested()))
            && (self.any_of.is_empty() || flags.iter().any(|f| self.any_of.contains(f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Flag::*;

    #[test]
    fn codes_parse_and_unknown_ones_are_named() {
        assert_eq!(
            FlagFilter::parse_codes("LEVEL_BELOW_PEERS, TREND_ABOVE_PEERS,,LEVEL_BELOW_PEERS"),
            Ok(vec![LevelBelowPeers, TrendAbovePeers])
        );
        assert_eq!(FlagFilter::parse_codes(""), Ok(vec![]));
        let e = FlagFilter::parse_codes("LEVEL_BELOW_PEERS,NOPE").unwrap_err();
        assert!(e.contains("`NOPE`"), "{e}");
        assert!(FlagFilter::parse_codes("level_below_peers").is_err());
        for f in Flag::ALL {
            assert_eq!(Flag::parse(f.as_str()), Some(f));
            assert_eq!(
                serde_json::to_value(f).unwrap(),
                serde_json::json!(f.as_str())
            );
        }
    }

    #[test]
    fn tested_flags_are_the_test_outcomes() {
        let tested: Vec<Flag> = Flag::ALL.into_iter().filter(|f| f.is_tested()).collect();
        assert_eq!(
            tested,
            [
                LevelBelowPeers,
                LevelAbovePeers,
                ProgressBelowPeers,
                ProgressAbovePeers,
                TrendBelowPeers,
                TrendAbovePeers,
                PriorityFallingBehind
            ]
        );
    }

    #[test]
    fn filters_combine_with_and() {
        let widening_only = [GapWideningBehind];
        let tested = [LevelBelowPeers, GapWideningBehind];
        let none: [Flag; 0] = [];
        let all = FlagFilter::default();
        assert!(all.keeps(&none) && all.keeps(&widening_only));
        let flagged = FlagFilter {
            flagged_only: true,
            ..Default::default()
        };
        assert!(!flagged.keeps(&none) && flagged.keeps(&widening_only));
        let t = FlagFilter {
            tested_only: true,
            ..Default::default()
        };
        assert!(!t.keeps(&none) && !t.keeps(&widening_only) && t.keeps(&tested));
        let any = FlagFilter {
            any_of: vec![GapWideningBehind, TrendBelowPeers],
            ..Default::default()
        };
        assert!(any.keeps(&widening_only) && any.keeps(&tested) && !any.keeps(&none));
        let both = FlagFilter {
            tested_only: true,
            ..any
        };
        assert!(!both.keeps(&widening_only) && both.keeps(&tested));
    }
}
