//! Engine configuration with the spec B9 defaults, its validation and its reproducibility hash.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How p is computed from the robust z (B6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PMethod {
    /// Student t with ν = n_R − 1 (the default).
    T,
    /// Standard normal (Fingertips-like).
    Normal,
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
        }
    }
}

impl Options {
    /// Every problem with these options, as sentences; empty when they are usable.
    /// [`crate::domain::divergence::analyse`] never panics on bad options, but its figures are only
    /// meaningful for options that pass this check.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut need = |ok: bool, msg: &str| {
            if !ok {
                problems.push(msg.to_owned());
            }
        };
        need(
            (0.0..=1.0).contains(&self.min_coverage),
            "min_coverage must be between 0 and 1",
        );
        need(self.min_ref_n >= 2, "min_ref_n must be at least 2");
        for (name, v) in [
            ("s_min_level", self.s_min_level),
            ("s_min_change", self.s_min_change),
            ("s_min_slope", self.s_min_slope),
            ("delta_level", self.delta_level),
            ("delta_change", self.delta_change),
            ("delta_slope", self.delta_slope),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                problems.push(format!("{name} must be a finite number ≥ 0"));
            }
        }
        let mut need = |ok: bool, msg: &str| {
            if !ok {
                problems.push(msg.to_owned());
            }
        };
        need(
            self.alpha_fdr > 0.0 && self.alpha_fdr < 1.0,
            "alpha_fdr must be strictly between 0 and 1",
        );
        need(
            self.tier_alarm > 0.0 && self.tier_alarm <= self.tier_alert && self.tier_alert < 1.0,
            "tiers must satisfy 0 < tier_alarm ≤ tier_alert < 1",
        );
        need(
            self.trend_max_rounds >= 3,
            "trend_max_rounds must be at least 3",
        );
        need(
            self.scale_factor.is_finite() && self.scale_factor > 0.0,
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
        let json = serde_json::to_string(self).unwrap_or_default();
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
    pub(super) fn delta_level(&self) -> f64 {
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
