//! Output types of the engine (spec B8 and B12 field names). Serialisation only: these are
//! responses, never read back.

use super::options::{Options, PMethod};
use crate::domain::figures::ZeroNoise;
use crate::domain::organisation::OrgType;
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use utoipa::ToSchema;

/// An immutable shared string. The rows of one analysis share their ODS code, pillar and round
/// keys instead of allocating them per row (25,000 organisations give 200,000 rows). Serialises
/// as a plain JSON string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedStr(Arc<str>);

impl SharedStr {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A reference summary shared by every row (and block) compared with the same reference: the
/// rows of one (reference group, pillar, metric) hold one allocation instead of a copy each.
/// Serialises as the summary itself.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedRef(Arc<ReferenceSummary>);

impl SharedRef {
    pub fn new(summary: ReferenceSummary) -> Self {
        Self(Arc::new(summary))
    }

    /// The address of the shared summary, to tell distinct summaries apart.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl Deref for SharedRef {
    type Target = ReferenceSummary;
    fn deref(&self) -> &ReferenceSummary {
        &self.0
    }
}

impl Serialize for SharedRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Flag codes (B6). Flags are conclusions; statuses are caveats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Flag {
    LevelBelowPeers,
    LevelAbovePeers,
    ProgressBelowPeers,
    ProgressAbovePeers,
    TrendBelowPeers,
    TrendAbovePeers,
    GapWideningBehind,
    GapWideningAhead,
    PriorityFallingBehind,
}

impl Flag {
    pub const ALL: [Flag; 9] = [
        Flag::LevelBelowPeers,
        Flag::LevelAbovePeers,
        Flag::ProgressBelowPeers,
        Flag::ProgressAbovePeers,
        Flag::TrendBelowPeers,
        Flag::TrendAbovePeers,
        Flag::GapWideningBehind,
        Flag::GapWideningAhead,
        Flag::PriorityFallingBehind,
    ];

    /// The code as written in responses (`LEVEL_BELOW_PEERS`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::LevelBelowPeers => "LEVEL_BELOW_PEERS",
            Flag::LevelAbovePeers => "LEVEL_ABOVE_PEERS",
            Flag::ProgressBelowPeers => "PROGRESS_BELOW_PEERS",
            Flag::ProgressAbovePeers => "PROGRESS_ABOVE_PEERS",
            Flag::TrendBelowPeers => "TREND_BELOW_PEERS",
            Flag::TrendAbovePeers => "TREND_ABOVE_PEERS",
            Flag::GapWideningBehind => "GAP_WIDENING_BEHIND",
            Flag::GapWideningAhead => "GAP_WIDENING_AHEAD",
            Flag::PriorityFallingBehind => "PRIORITY_FALLING_BEHIND",
        }
    }

    /// A flag code, exactly as written in responses.
    pub fn parse(raw: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// Whether the flag is the outcome of a hypothesis test (B6: q ≤ α, a tier and materiality):
    /// the LEVEL_, PROGRESS_ and TREND_ flags, and PRIORITY_FALLING_BEHIND, which is made of
    /// them. GAP_WIDENING_* is descriptive (no test) and is not.
    pub fn is_tested(self) -> bool {
        !matches!(self, Flag::GapWideningBehind | Flag::GapWideningAhead)
    }
}

/// Status codes (B6, B12): caveats on the block (or object) they concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    InsufficientCoverage,
    InsufficientPeers,
    NoPreviousRound,
    ReferenceFallback,
    ItemSetChanged,
    ScaleFloorApplied,
    MissingPillar,
    LineageMerged,
    /// v2: a tested block whose gap is material but not significant (descriptive, not a flag).
    Watch,
}

/// Evidence tier from the unadjusted p (B6): `alarm` p < 0.002, `alert` p < 0.05.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    #[default]
    None,
    Alert,
    Alarm,
}

/// Confidence grade from the reference size n_R (B3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// n_R < min_ref_n: descriptive only.
    Insufficient,
    /// min_ref_n ≤ n_R ≤ 9.
    Low,
    /// 10 ≤ n_R ≤ 29.
    Moderate,
    /// n_R ≥ 30.
    High,
}

impl Confidence {
    pub fn from_n(n: usize, min_ref_n: usize) -> Self {
        match n {
            n if n < min_ref_n => Confidence::Insufficient,
            n if n < 10 => Confidence::Low,
            n if n < 30 => Confidence::Moderate,
            _ => Confidence::High,
        }
    }
}

/// How the robust scale was obtained (v1 B5; v2 C3: the term of the maximum that gave it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMethod {
    Mad,
    Meanad,
    /// v2: the resolution r of the values.
    Resolution,
    /// v2: the floor s_min.
    Floor,
}

/// How the tests of an analysis are grouped into Benjamini–Hochberg families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FamilyScheme {
    /// v1: one family per metric for pillar rows and one per metric for overall rows.
    MetricAndScope,
    /// v2: every tested block of the round in one family.
    Round,
}

/// Which reference a block was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    TypeNational,
    PeerGroup,
    /// Aggregates: every ICB (or region) with a valid standardised gap.
    AllUnits,
}

/// The three metrics of B4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Level,
    Change,
    Trend,
}

/// FNV-1a 64 hash of the options, serialised as 16 hex digits. `Copy`, so rows carry it for free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConfigHash(pub u64);

impl fmt::Display for ConfigHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for ConfigHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The distribution a block was compared with. `mad`, `scale` and `scale_method` are null when
/// n < min_ref_n (no scale is computed then); `median`, `q1`, `q3` are null only when n = 0.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReferenceSummary {
    pub kind: RefKind,
    /// The organisation type (`type_national`), the peer group key, or `icb`/`region`.
    #[schema(value_type = String)]
    pub key: Cow<'static, str>,
    pub n: usize,
    pub median: Option<f64>,
    pub q1: Option<f64>,
    pub q3: Option<f64>,
    pub mad: Option<f64>,
    pub scale: Option<f64>,
    pub scale_method: Option<ScaleMethod>,
    /// v2: the resolution r of the reference's values (C2); null for v1 and where no scale is
    /// computed.
    pub resolution: Option<f64>,
    pub confidence: Confidence,
}

/// Level block: the focal round's score against its reference (B4), plus the gap trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LevelBlock {
    pub score: Option<f64>,
    pub coverage: f64,
    /// Whether this score is part of its reference distribution (valid coverage).
    pub valid: bool,
    pub gap: Option<f64>,
    pub robust_z: Option<f64>,
    pub p: Option<f64>,
    pub q: Option<f64>,
    pub tier: Tier,
    /// v2: the smallest |gap| that would have been flagged at this reference size and scale, the
    /// rest of the round unchanged (C5); null without a test, and for v1.
    pub detectable_gap: Option<f64>,
    pub percentile_rank: Option<f64>,
    pub percentile_rank_prev: Option<f64>,
    pub pr_change: Option<f64>,
    pub gap_prev: Option<f64>,
    pub gap_change: Option<f64>,
    /// Median and size of the previous round's level reference (every valid organisation of
    /// that round, B12): `gap_prev = S_prev − median_prev`. Null when there is no previous round
    /// or the organisation has no score row there; given (with a null `gap_prev`) when that row
    /// has no usable score.
    pub median_prev: Option<f64>,
    pub n_prev: Option<usize>,
    pub family_size: usize,
    pub statuses: Vec<Status>,
}

/// Change block: Δ = S_r − S_prev (item-matched when given) against the paired panel.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChangeBlock {
    /// The previous round's whole pillar score (stored, or merged from predecessors). When
    /// `item_matched` is true, `delta` is computed over the carried-over questions only and so
    /// need not equal `score − previous_score`.
    pub previous_score: Option<f64>,
    pub previous_coverage: f64,
    pub delta: Option<f64>,
    pub item_matched: bool,
    pub valid: bool,
    pub peer_median_delta: Option<f64>,
    pub excess: Option<f64>,
    pub scale: Option<f64>,
    pub robust_z: Option<f64>,
    pub p: Option<f64>,
    pub q: Option<f64>,
    pub tier: Tier,
    /// v2: the smallest |excess| that would have been flagged (C5); null without a test or v1.
    pub detectable_gap: Option<f64>,
    #[schema(value_type = ReferenceSummary)]
    pub reference: SharedRef,
    pub family_size: usize,
    pub statuses: Vec<Status>,
}

/// Trend block (B12): OLS slope per round over the last K ≤ trend_max_rounds usable rounds.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TrendBlock {
    pub slope: f64,
    pub peer_median_slope: Option<f64>,
    pub excess: Option<f64>,
    pub scale: Option<f64>,
    pub robust_z: Option<f64>,
    pub p: Option<f64>,
    pub q: Option<f64>,
    pub tier: Tier,
    /// v2: the smallest |excess| that would have been flagged (C5); null without a test or v1.
    pub detectable_gap: Option<f64>,
    /// K, the number of rounds in the fit.
    pub rounds: usize,
    /// The round keys of the fit, oldest first.
    #[schema(value_type = Vec<String>)]
    pub round_keys: Vec<SharedStr>,
    /// K ≥ 4: whether every leave-one-round-out slope has the sign of `slope`; null for K = 3.
    pub consistent: Option<bool>,
    #[schema(value_type = ReferenceSummary)]
    pub reference: SharedRef,
    pub family_size: usize,
    pub statuses: Vec<Status>,
}

/// Merger lineage used for earlier rounds of this organisation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Lineage {
    pub predecessors: Vec<String>,
    /// The previous round's score is the predecessors' mean.
    pub merged_from_previous: bool,
    /// Every round (previous or trend) whose value came from the predecessors.
    pub merged_rounds: Vec<String>,
}

/// Method echo (B8).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MethodInfo {
    #[schema(value_type = String)]
    pub version: &'static str,
    pub p_method: PMethod,
    pub alpha_fdr: f64,
    /// The size of this row's level family (each block also carries its own `family_size`).
    pub family_size: usize,
    /// FNV-1a 64 hash of the options, 16 hex digits.
    #[schema(value_type = String)]
    pub config_hash: ConfigHash,
}

/// One object per (organisation, pillar), pillar `overall` for the overall score (B8).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DivergenceRow {
    /// The organisation's ODS code.
    #[schema(value_type = String)]
    pub org_id: SharedStr,
    /// The organisation's name (null only when the input gave none).
    #[schema(value_type = Option<String>)]
    pub org_name: Option<SharedStr>,
    pub org_type: OrgType,
    /// NHS England region code (`Y56`…`Y63`) and name; null for national organisations.
    #[schema(value_type = Option<String>)]
    pub region_code: Option<SharedStr>,
    #[schema(value_type = Option<String>)]
    pub region_name: Option<SharedStr>,
    /// The ICB's ODS code and name; null for organisations without one.
    #[schema(value_type = Option<String>)]
    pub icb_code: Option<SharedStr>,
    #[schema(value_type = Option<String>)]
    pub icb_name: Option<SharedStr>,
    /// Pillar key, `overall` for the overall score.
    #[schema(value_type = String)]
    pub pillar: SharedStr,
    /// The pillar's title in the focal round's framework (the key when the input names no
    /// title); `Overall` for the overall row.
    #[schema(value_type = String)]
    pub pillar_title: SharedStr,
    #[schema(value_type = String)]
    pub round: SharedStr,
    #[schema(value_type = Option<String>)]
    pub previous_round: Option<SharedStr>,
    /// The level reference.
    #[schema(value_type = ReferenceSummary)]
    pub reference: SharedRef,
    pub level: LevelBlock,
    // Boxed, as is `trend`, so rows stay small (a 25,000-organisation analysis has 200,000).
    /// Against the previous round; null (with `NO_PREVIOUS_ROUND` on the object) when the
    /// organisation has no score row there. When it has one without a usable score (nothing
    /// answered, below coverage, or an overall with a pillar missing), the block is present with
    /// `valid: false`, null figures and the status that says why.
    pub change: Option<Box<ChangeBlock>>,
    /// Slope over three or more usable rounds; null with fewer.
    pub trend: Option<Box<TrendBlock>>,
    pub flags: Vec<Flag>,
    pub reasons: Vec<String>,
    /// Statuses about the whole object (MISSING_PILLAR, LINEAGE_MERGED, NO_PREVIOUS_ROUND).
    pub statuses: Vec<Status>,
    pub lineage: Option<Lineage>,
    pub method: MethodInfo,
}

/// Tested blocks per metric and scope. v1: each is a BH family of its own; v2: together they
/// are the round's one family, of size `round`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct FamilySizes {
    pub level: usize,
    pub change: usize,
    pub trend: usize,
    pub overall_level: usize,
    pub overall_change: usize,
    pub overall_trend: usize,
    /// Every tested block of the analysis (the v2 family's m).
    pub round: usize,
}

/// The type-national median of one (type, pillar, metric): what aggregates standardise against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeReference {
    pub org_type: OrgType,
    pub pillar: String,
    pub metric: Metric,
    pub n: usize,
    pub median: f64,
}

/// The result of [`crate::domain::divergence::analyse`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub version: &'static str,
    pub round: Option<String>,
    pub previous_round: Option<String>,
    pub options: Options,
    pub config_hash: ConfigHash,
    pub family_sizes: FamilySizes,
    pub type_references: Vec<TypeReference>,
    pub rows: Vec<DivergenceRow>,
}

// The figure noise rule (`domain::figures`), applied once the analysis is complete: flags and
// reasons are decided on the unrounded figures, and what is written out has no ±1e-16 noise.
// A row's shared reference summaries are not covered by the row's rule: the engine applies it
// once per distinct summary that needs it ([`SharedRef::zero_noised`]) after every row is complete.

impl SharedRef {
    /// A new shared summary with the noise rule applied.
    pub fn zero_noised(&self) -> SharedRef {
        let mut z = ReferenceSummary::clone(&self.0);
        z.zero_noise();
        SharedRef::new(z)
    }

    /// Whether the noise rule would change any figure of the summary.
    pub fn is_noisy(&self) -> bool {
        let s = &*self.0;
        [s.median, s.q1, s.q3, s.mad, s.scale, s.resolution]
            .into_iter()
            .flatten()
            .any(|x| crate::domain::figures::zero_noise(x).to_bits() != x.to_bits())
    }
}

impl ZeroNoise for ReferenceSummary {
    fn zero_noise(&mut self) {
        self.median.zero_noise();
        self.q1.zero_noise();
        self.q3.zero_noise();
        self.mad.zero_noise();
        self.scale.zero_noise();
        self.resolution.zero_noise();
    }
}

impl ZeroNoise for LevelBlock {
    fn zero_noise(&mut self) {
        self.score.zero_noise();
        self.coverage.zero_noise();
        self.gap.zero_noise();
        self.robust_z.zero_noise();
        self.p.zero_noise();
        self.q.zero_noise();
        self.detectable_gap.zero_noise();
        self.percentile_rank.zero_noise();
        self.percentile_rank_prev.zero_noise();
        self.pr_change.zero_noise();
        self.gap_prev.zero_noise();
        self.gap_change.zero_noise();
        self.median_prev.zero_noise();
    }
}

impl ZeroNoise for ChangeBlock {
    fn zero_noise(&mut self) {
        self.previous_score.zero_noise();
        self.previous_coverage.zero_noise();
        self.delta.zero_noise();
        self.peer_median_delta.zero_noise();
        self.excess.zero_noise();
        self.scale.zero_noise();
        self.robust_z.zero_noise();
        self.p.zero_noise();
        self.q.zero_noise();
        self.detectable_gap.zero_noise();
    }
}

impl ZeroNoise for TrendBlock {
    fn zero_noise(&mut self) {
        self.slope.zero_noise();
        self.peer_median_slope.zero_noise();
        self.excess.zero_noise();
        self.scale.zero_noise();
        self.robust_z.zero_noise();
        self.p.zero_noise();
        self.q.zero_noise();
        self.detectable_gap.zero_noise();
    }
}

impl ZeroNoise for DivergenceRow {
    fn zero_noise(&mut self) {
        self.level.zero_noise();
        self.change.zero_noise();
        self.trend.zero_noise();
    }
}
