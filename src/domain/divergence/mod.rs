//! The divergence engine, methods `divergence-v2` (default, `docs/divergence-v2.md`) and
//! `divergence-v1` (`docs/divergence-v1.md`): stored pillar scores
//! in, one explainable row per (organisation, pillar) out, with a level, change and trend block each
//! compared robustly with like-for-like peers and FDR-controlled. Pure computation: no I/O, no web
//! framework, no database; the caller loads scores and filters the rows afterwards.
//!
//! Layout: `options` (configuration, B9), input types (here), `types` (output), `prepare`
//! (indexing, merger lineage, overall scores), `stats` (B5–B6 numerics), `reference` (reference
//! groups, B3, and one value against its reference), `metrics` (per-pillar metric inputs),
//! `engine` (rows), `verdict` (BH families and flags), `reasons` (plain-English sentences),
//! `aggregate` (B7 ICB and region comparison), `filter` (which rows a reader asked for).
//! Preparing an analysis and reading it out: `rounds` (the comparable chain of rounds), `items`
//! (item matching between framework versions, B2), `disclosure` (what a submitter may see, and
//! the distribution of the reference a row used).
//!
//! Decisions where the spec leaves room (each is repeated where it is implemented):
//! - Rows exist for every organisation with an [`OrgInfo`] and at least one stored pillar score in
//!   the focal round; scores of organisations without an `OrgInfo` are used only as merger
//!   predecessors. A stored pillar literally named `overall` is ignored (the name is reserved).
//! - Rows are sorted by ODS code, then pillar name, with `overall` last, so the output does not
//!   depend on input order.
//! - A low-coverage score keeps a descriptive gap and percentile rank against the reference it is
//!   not part of; only z, p and q are withheld.
//! - Thresholds on the score scale (coverage, materiality, gap widening, percentile ties) use a
//!   1e-9 slack; probability thresholds (tiers, q ≤ α) are compared exactly.
//! - Percentile ranks are reported unrounded (B8 shows one decimal); the caller rounds for display.
//! - Figures within 1e-9 of zero are written as exactly 0 (`domain::figures`), once flags and
//!   reasons have been decided on the unrounded values; nothing else is rounded. This includes
//!   p and q: below 1e-9 they are beyond every tier and α, and the flags already carry them.
//! - Rows carry names beside codes (`org_name`, `region_name`, `icb_name`) and the pillar's
//!   title (`pillar_title`, `Overall` for the overall row), copied from the input; the engine
//!   never uses them.
//! - See the module docs of `prepare`, `reference`, `metrics`, `engine`, `verdict`, `reasons` and
//!   `aggregate` for the rest.

mod aggregate;
pub mod disclosure;
mod engine;
mod filter;
pub mod grid;
pub mod items;
mod metrics;
mod options;
mod prepare;
mod reasons;
mod reference;
pub mod rounds;
pub mod simulate;
mod stats;
mod types;
mod verdict;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_edge;
#[cfg(test)]
mod tests_props;
#[cfg(test)]
mod tests_sim;
#[cfg(test)]
mod tests_v2;

pub use aggregate::{AggregateBy, AggregateMetric, AggregateRow, aggregate};
pub use engine::analyse;
pub use filter::FlagFilter;
pub use grid::Grid;
pub use options::{MethodVersion, OptionError, Options, OptionsPatch, PMethod};
pub use stats::{bh_adjust, critical_z, percentile_rank, quantile_type7};
pub use types::{
    Analysis, ChangeBlock, Confidence, ConfigHash, DivergenceRow, FamilyScheme, FamilySizes, Flag,
    LevelBlock, Lineage, MethodInfo, Metric, RefKind, ReferenceSummary, ScaleMethod, SharedRef,
    SharedStr, Status, Tier, TrendBlock, TypeReference,
};

use crate::domain::organisation::OrgType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The pillar key of the overall score (mean of the pillars).
pub const OVERALL: &str = "overall";

/// The title of the overall rows (`pillar_title`).
pub const OVERALL_TITLE: &str = "Overall";

/// What each organisation is compared with (B3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reference {
    /// Every organisation of the same type with a valid value (the default).
    #[default]
    TypeNational,
    /// A named peer list. Members of another type than `org_type` are dropped; organisations of
    /// the group's type that are not members are compared with the members plus themselves
    /// (include-self); organisations of other types are compared type-nationally with
    /// `REFERENCE_FALLBACK`.
    PeerGroup {
        key: String,
        org_type: OrgType,
        members: Vec<String>,
    },
}

/// An organisation as the engine needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgInfo {
    pub ods: String,
    /// The organisation's name, copied into its rows (`org_name`).
    #[serde(default)]
    pub name: Option<String>,
    pub org_type: OrgType,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub icb: Option<String>,
    /// The ICB's name, copied into rows (`icb_name`) and ICB aggregates (`name`). Region names
    /// are not input: they are the seven NHS England regions of `domain::organisation`.
    #[serde(default)]
    pub icb_name: Option<String>,
    /// Merger lineage: the ODS codes this organisation absorbed.
    #[serde(default)]
    pub predecessors: Vec<String>,
}

/// One observation for the engine: the stored pillar score (the mean of its domain scores) of a
/// submitted return. Not to be confused with `scoring::PillarScore`, a pillar of a score tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarObservation {
    pub ods: String,
    pub round: String,
    pub pillar: String,
    /// `None` when nothing in the pillar was answered.
    pub score: Option<f64>,
    /// answered / expected, in [0, 1].
    pub coverage: f64,
}

/// One item-matched change (both rounds recomputed by the caller on the common items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedChange {
    pub ods: String,
    pub pillar: String,
    pub previous_score: f64,
    pub current_score: f64,
}

/// An (organisation type, pillar) whose matched items are fewer than either round's full item set
/// for that type (B2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedItemSet {
    pub org_type: OrgType,
    pub pillar: String,
}

/// The grids of the item-matched values of one (organisation type, pillar) (v2, C2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedGrid {
    pub org_type: OrgType,
    pub pillar: String,
    pub previous: Grid,
    pub current: Grid,
}

/// The grid of the stored pillar values of one (round, organisation type, pillar) (v2, C2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarGrid {
    pub round: String,
    pub org_type: OrgType,
    pub pillar: String,
    pub grid: Grid,
}

/// Item-matched scores for the change metric (B2), present when the two rounds use different
/// frameworks. `ITEM_SET_CHANGED` goes on the change blocks of the listed (type, pillar) pairs,
/// and on an overall change when any pillar of the organisation is listed for its type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemMatched {
    pub rows: Vec<MatchedChange>,
    pub changed_item_sets: Vec<ChangedItemSet>,
    /// v2: the grids of the matched values; a (type, pillar) not listed is continuous.
    #[serde(default)]
    pub grids: Vec<MatchedGrid>,
}

/// Everything one analysis needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineInput {
    /// Round keys, oldest first; the last is the focal round. Trend x values are the ordinals
    /// (1, 2, 3 …) of this list.
    pub rounds: Vec<String>,
    /// The round used for change; `None` gives null change blocks with `NO_PREVIOUS_ROUND`.
    #[serde(default)]
    pub previous_round: Option<String>,
    pub orgs: Vec<OrgInfo>,
    /// Pillar scores of submitted returns (any rounds; rounds not named above are ignored).
    pub scores: Vec<PillarObservation>,
    #[serde(default)]
    pub reference: Reference,
    #[serde(default)]
    pub item_matched: Option<ItemMatched>,
    #[serde(default)]
    pub options: Options,
    /// Pillar key → title in the focal round's framework, copied into rows (`pillar_title`);
    /// a pillar not listed is titled by its key.
    #[serde(default)]
    pub pillar_titles: BTreeMap<String, String>,
    /// v2: the grid of each (round, type, pillar) of the stored scores; a value whose triple is
    /// not listed is continuous.
    #[serde(default)]
    pub grids: Vec<PillarGrid>,
}
