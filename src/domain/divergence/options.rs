//! Engine configuration with the spec B9 defaults, its validation and its reproducibility hash;
//! and the partial options a reader may override ([`OptionsPatch`], applied by [`Options::with`]).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::framework::Scale;

/// How p is computed from the robust z (B6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PMethod {
    /// Student t with ν = n_R − 1 (the default).
    T,
    /// Standard normal (Fingertips-like).
    Normal,
}

impl PMethod {
    /// `t` or `normal`, as written in the options.
    pub fn parse(raw: &str) -> Option<PMethod> {
        match raw {
            "t" => Some(PMethod::T),
            "normal" => Some(PMethod::Normal),
            _ => None,
        }
    }
}

/// The method version (`docs/divergence-v1.md`, `docs/divergence-v2.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum MethodVersion {
    /// The first method: MAD scale, six BH families. Kept so its figures can be reproduced.
    #[serde(rename = "divergence-v1")]
    V1,
    /// The default: the scale never below the values' resolution, one BH family per round,
    /// detectable gaps and WATCH.
    #[default]
    #[serde(rename = "divergence-v2")]
    V2,
}

impl MethodVersion {
    pub const ALL: [MethodVersion; 2] = [MethodVersion::V1, MethodVersion::V2];

    /// `divergence-v1` or `divergence-v2`, as written in requests and responses.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodVersion::V1 => "divergence-v1",
            MethodVersion::V2 => "divergence-v2",
        }
    }

    pub fn parse(raw: &str) -> Option<MethodVersion> {
        MethodVersion::ALL.into_iter().find(|m| m.as_str() == raw)
    }

    /// How this version groups its tests into BH families.
    pub fn families(self) -> super::FamilyScheme {
        match self {
            MethodVersion::V1 => super::FamilyScheme::MetricAndScope,
            MethodVersion::V2 => super::FamilyScheme::Round,
        }
    }

    /// What a flag can and cannot see, plainly (`docs/divergence-v2.md` C5).
    pub fn power_note(self) -> &'static str {
        match self {
            MethodVersion::V1 => {
                "divergence-v1 is kept to reproduce published figures: on discrete scores its \
                 scale can be too small and it raises false flags; use divergence-v2"
            }
            MethodVersion::V2 => {
                "A flag finds an organisation far from its peers, not every difference: with \
                 about 1,400 tests a round, a single organisation must be several peer standard \
                 deviations away to be flagged reliably. Each tested block's detectable_gap is \
                 the smallest gap it could have flagged; 'not flagged' means no gap that large \
                 was seen. WATCH marks material gaps that are not significant."
            }
        }
    }
}

/// Threshold overrides a reader may give (as query parameters), each applied over the defaults
/// by [`Options::with`]; δ and s_min follow the scale. The names are the API's parameter names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OptionsPatch {
    /// The method: `divergence-v2` (default) or `divergence-v1` (to reproduce v1 figures).
    #[param(value_type = Option<MethodVersion>)]
    pub method: Option<String>,
    /// Minimum coverage for a score to count, 0 to 1 (default 0.8).
    #[param(minimum = 0.0, maximum = 1.0)]
    pub min_coverage: Option<f64>,
    /// Minimum reference size for inference (default 5), at most 10000. The schema states the
    /// bound every caller may use, 5: analysts and admins may also go down to 2, but a submitter
    /// below 5 is refused (403), since smaller references would give away other organisations'
    /// scores.
    #[param(minimum = 5, maximum = 10000)]
    pub min_ref_n: Option<usize>,
    /// `t` (default) or `normal`.
    #[param(value_type = Option<PMethod>)]
    pub p_method: Option<String>,
    /// Benjamini–Hochberg false discovery rate, strictly between 0 and 1 (default 0.05).
    #[param(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub alpha_fdr: Option<f64>,
    /// Materiality of a level gap on a 1–5 scale, ≥ 0 (default 0.5).
    #[param(minimum = 0.0)]
    pub delta_level: Option<f64>,
    /// Materiality of excess progress, ≥ 0 (default 0.25).
    #[param(minimum = 0.0)]
    pub delta_change: Option<f64>,
    /// Materiality of a slope difference per round, ≥ 0 (default 0.15).
    #[param(minimum = 0.0)]
    pub delta_slope: Option<f64>,
    /// 95% tier p threshold, strictly between 0 and 1 and not below `tier_alarm` (default 0.05).
    #[param(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub tier_alert: Option<f64>,
    /// 99.8% tier p threshold, strictly between 0 and 1 and not above `tier_alert` (default
    /// 0.002).
    #[param(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub tier_alarm: Option<f64>,
}

/// The largest `min_ref_n` a reader may ask for (far above any organisation type's size).
pub const MAX_MIN_REF_N: usize = 10_000;

/// A problem with one option: the option's name (as in [`Options`] and [`OptionsPatch`]) and a
/// sentence saying what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    pub field: &'static str,
    pub message: String,
}

impl OptionError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Thresholds and switches; echoed in every response. Partial JSON fills the rest with defaults;
/// unknown fields are rejected so a mistyped override never passes silently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    pub min_coverage: f64,
    pub min_ref_n: usize,
    pub s_min_level: f64,
    pub s_min_change: f64,
    pub s_min_slope: f64,
    pub p_method: PMethod,
    pub tier_alert: f64,
    pub tier_alarm: f64,
    pub alpha_fdr: f64,
    pub delta_level: f64,
    pub delta_change: f64,
    pub delta_slope: f64,
    pub trend_max_rounds: usize,
    /// (max − min) / 4 of the framework's score range: 1 for 1–5, 25 for 0–100. Multiplies the
    /// `delta_*` and `s_min_*` values (B2 "Scale"), nothing else.
    pub scale_factor: f64,
    /// The method version; left out of the hashed text for v1, so v1 hashes are unchanged.
    pub method: MethodVersion,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            min_coverage: 0.8,
            min_ref_n: 5,
            s_min_level: 0.10,
            s_min_change: 0.10,
            s_min_slope: 0.05,
            p_method: PMethod::T,
            tier_alert: 0.05,
            tier_alarm: 0.002,
            alpha_fdr: 0.05,
            delta_level: 0.5,
            delta_change: 0.25,
            delta_slope: 0.15,
            trend_max_rounds: 5,
            scale_factor: 1.0,
            method: MethodVersion::V2,
        }
    }
}

impl Options {
    /// The defaults on a framework's score range: δ and s_min follow the scale (B2 "Scale").
    pub fn for_scale(scale: Scale) -> Self {
        Self {
            scale_factor: (scale.max - scale.min) / 4.0,
            ..Self::default()
        }
    }

    /// These options with the patch's overrides applied, if the result is usable; otherwise every
    /// problem, each naming the option it concerns.
    pub fn with(self, patch: &OptionsPatch) -> Result<Options, Vec<OptionError>> {
        let mut opts = self;
        let mut problems = Vec::new();
        let set = |slot: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut opts.min_coverage, patch.min_coverage);
        set(&mut opts.alpha_fdr, patch.alpha_fdr);
        set(&mut opts.delta_level, patch.delta_level);
        set(&mut opts.delta_change, patch.delta_change);
        set(&mut opts.delta_slope, patch.delta_slope);
        set(&mut opts.tier_alert, patch.tier_alert);
        set(&mut opts.tier_alarm, patch.tier_alarm);
        if let Some(n) = patch.min_ref_n {
            opts.min_ref_n = n;
        }
        if let Some(raw) = patch.method.as_deref() {
            match MethodVersion::parse(raw) {
                Some(m) => opts.method = m,
                None => problems.push(OptionError::new(
                    "method",
                    format!("`{raw}` is not divergence-v1 or divergence-v2"),
                )),
            }
        }
        if let Some(raw) = patch.p_method.as_deref() {
            match PMethod::parse(raw) {
                Some(m) => opts.p_method = m,
                None => problems.push(OptionError::new(
                    "p_method",
                    format!("`{raw}` is not t or normal"),
                )),
            }
        }
        for mut e in opts.problems() {
            // The tier order is broken by whichever of the two the reader set.
            if e.field == "tier_alarm" && patch.tier_alarm.is_none() && patch.tier_alert.is_some() {
                e.field = "tier_alert";
            }
            problems.push(e);
        }
        if problems.is_empty() {
            Ok(opts)
        } else {
            Err(problems)
        }
    }

    /// Every problem with these options, as sentences; empty when they are usable.
    /// [`crate::domain::divergence::analyse`] never panics on bad options, but its figures are only
    /// meaningful for options that pass this check.
    pub fn validate(&self) -> Vec<String> {
        self.problems().into_iter().map(|e| e.message).collect()
    }

    /// Every problem with these options, each with the option it concerns.
    pub fn problems(&self) -> Vec<OptionError> {
        let mut problems = Vec::new();
        let mut need = |ok: bool, field: &'static str, msg: &str| {
            if !ok {
                problems.push(OptionError::new(field, msg));
            }
        };
        need(
            (0.0..=1.0).contains(&self.min_coverage),
            "min_coverage",
            "min_coverage must be between 0 and 1",
        );
        need(
            (2..=MAX_MIN_REF_N).contains(&self.min_ref_n),
            "min_ref_n",
            &format!("min_ref_n must be between 2 and {MAX_MIN_REF_N}"),
        );
        for (name, v) in [
            ("s_min_level", self.s_min_level),
            ("s_min_change", self.s_min_change),
            ("s_min_slope", self.s_min_slope),
            ("delta_level", self.delta_level),
            ("delta_change", self.delta_change),
            ("delta_slope", self.delta_slope),
        ] {
            need(
                v.is_finite() && v >= 0.0,
                name,
                &format!("{name} must be a finite number ≥ 0"),
            );
        }
        need(
            self.alpha_fdr > 0.0 && self.alpha_fdr < 1.0,
            "alpha_fdr",
            "alpha_fdr must be strictly between 0 and 1",
        );
        // One rule over two options: blame tier_alert only when it alone is out of range.
        let alarm_ok = self.tier_alarm > 0.0 && self.tier_alarm <= self.tier_alert;
        need(
            alarm_ok && self.tier_alert < 1.0,
            if alarm_ok { "tier_alert" } else { "tier_alarm" },
            "tiers must satisfy 0 < tier_alarm ≤ tier_alert < 1",
        );
        need(
            self.trend_max_rounds >= 3,
            "trend_max_rounds",
            "trend_max_rounds must be at least 3",
        );
        need(
            self.scale_factor.is_finite() && self.scale_factor > 0.0,
            "scale_factor",
            "scale_factor must be a finite number > 0",
        );
        problems
    }

    /// FNV-1a 64 of the canonical JSON of these options (fields in declaration order), as 16
    /// lower-case hex digits: the same options always give the same hash.
    pub fn config_hash(&self) -> String {
        self.hash().to_string()
    }

    pub(super) fn hash(&self) -> super::ConfigHash {
        // Serialising a plain struct of numbers and an enum cannot fail; an empty string would
        // still hash deterministically.
        let mut json = serde_json::to_string(self).unwrap_or_default();
        if self.method == MethodVersion::V1 {
            // v1 hashes were taken before the method was an option: hash the same text.
            json = json.replace(r#","method":"divergence-v1""#, "");
        }
        super::ConfigHash(fnv1a64(json.as_bytes()))
    }

    pub(super) fn s_min_level(&self) -> f64 {
        self.s_min_level * self.scale_factor
    }
    pub(super) fn s_min_change(&self) -> f64 {
        self.s_min_change * self.scale_factor
    }
    pub(super) fn s_min_slope(&self) -> f64 {
        self.s_min_slope * self.scale_factor
    }
    /// The smallest level gap that can be flagged, on the framework's scale.
    pub fn delta_level(&self) -> f64 {
        self.delta_level * self.scale_factor
    }
    pub(super) fn delta_change(&self) -> f64 {
        self.delta_change * self.scale_factor
    }
    pub(super) fn delta_slope(&self) -> f64 {
        self.delta_slope * self.scale_factor
    }
}

/// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
pub(super) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(r: Result<Options, Vec<OptionError>>) -> Vec<&'static str> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn an_empty_patch_gives_the_defaults_on_the_scale() {
        let o = Options::for_scale(Scale {
            min: 0.0,
            max: 100.0,
        });
        assert_eq!(o.scale_factor, 25.0);
        assert_eq!(o.clone().with(&OptionsPatch::default()), Ok(o));
    }

    #[test]
    fn every_field_of_the_patch_is_applied() {
        let patch = OptionsPatch {
            method: Some("divergence-v1".into()),
            min_coverage: Some(0.5),
            min_ref_n: Some(3),
            p_method: Some("normal".into()),
            alpha_fdr: Some(0.1),
            delta_level: Some(0.4),
            delta_change: Some(0.3),
            delta_slope: Some(0.2),
            tier_alert: Some(0.04),
            tier_alarm: Some(0.001),
        };
        let o = Options::default().with(&patch).expect("valid");
        assert_eq!(
            o,
            Options {
                method: MethodVersion::V1,
                min_coverage: 0.5,
                min_ref_n: 3,
                p_method: PMethod::Normal,
                alpha_fdr: 0.1,
                delta_level: 0.4,
                delta_change: 0.3,
                delta_slope: 0.2,
                tier_alert: 0.04,
                tier_alarm: 0.001,
                ..Options::default()
            }
        );
    }

    #[test]
    fn each_problem_names_its_option() {
        let patch = OptionsPatch {
            min_coverage: Some(1.5),
            min_ref_n: Some(1),
            p_method: Some("bayes".into()),
            alpha_fdr: Some(2.0),
            delta_level: Some(-1.0),
            delta_change: Some(f64::NAN),
            delta_slope: Some(f64::INFINITY),
            ..OptionsPatch::default()
        };
        let problems = Options::default().with(&patch).unwrap_err();
        let got: Vec<&str> = problems.iter().map(|e| e.field).collect();
        assert_eq!(
            got,
            [
                "p_method",
                "min_coverage",
                "min_ref_n",
                "delta_level",
                "delta_change",
                "delta_slope",
                "alpha_fdr"
            ]
        );
        assert_eq!(problems[0].message, "`bayes` is not t or normal");
        assert!(problems[1..].iter().all(|e| e.message.contains(e.field)));
    }

    #[test]
    fn the_tier_order_is_blamed_on_the_tier_the_reader_set() {
        let only_alert = OptionsPatch {
            tier_alert: Some(0.001),
            ..OptionsPatch::default()
        };
        assert_eq!(fields(Options::default().with(&only_alert)), ["tier_alert"]);
        let only_alarm = OptionsPatch {
            tier_alarm: Some(0.1),
            ..OptionsPatch::default()
        };
        assert_eq!(fields(Options::default().with(&only_alarm)), ["tier_alarm"]);
        let alert_too_high = OptionsPatch {
            tier_alert: Some(1.0),
            ..OptionsPatch::default()
        };
        assert_eq!(
            fields(Options::default().with(&alert_too_high)),
            ["tier_alert"]
        );
        let alarm_zero = OptionsPatch {
            tier_alarm: Some(0.0),
            tier_alert: Some(0.5),
            ..OptionsPatch::default()
        };
        assert_eq!(fields(Options::default().with(&alarm_zero)), ["tier_alarm"]);
    }

    #[test]
    fn the_patch_deserialises_from_a_query_string_by_the_parameter_names() {
        let patch: OptionsPatch = serde_json::from_value(
            serde_json::json!({"alpha_fdr": 0.1, "p_method": "t", "min_ref_n": 7}),
        )
        .expect("patch");
        assert_eq!(patch.alpha_fdr, Some(0.1));
        assert_eq!(patch.min_ref_n, Some(7));
        assert_eq!(patch.p_method.as_deref(), Some("t"));
        assert_eq!(patch.tier_alarm, None);
    }

    proptest! {
        /// `with` accepts exactly the patches whose result passes `validate`, and then every
        /// field it was given is the field of the result.
        #[test]
        fn with_agrees_with_validate(
            alpha in -0.5f64..1.5,
            delta in -1.0f64..2.0,
            n in 0usize..8,
            alert in -0.1f64..1.1,
            alarm in -0.1f64..1.1,
            normal in any::<bool>(),
        ) {
            let patch = OptionsPatch {
                alpha_fdr: Some(alpha),
                delta_level: Some(delta),
                min_ref_n: Some(n),
                tier_alert: Some(alert),
                tier_alarm: Some(alarm),
                p_method: Some(if normal { "normal" } else { "t" }.into()),
                ..OptionsPatch::default()
            };
            let applied = Options {
                alpha_fdr: alpha,
                delta_level: delta,
                min_ref_n: n,
                tier_alert: alert,
                tier_alarm: alarm,
                p_method: if normal { PMethod::Normal } else { PMethod::T },
                ..Options::default()
            };
            match Options::default().with(&patch) {
                Ok(o) => {
                    prop_assert!(applied.validate().is_empty());
                    prop_assert_eq!(o, applied);
                }
                Err(problems) => {
                    let messages: Vec<String> = problems.into_iter().map(|e| e.message).collect();
                    prop_assert_eq!(messages, applied.validate());
                }
            }
        }
    }
}
