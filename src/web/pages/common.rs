//! What several dashboard pages share: the round's pillars, the regions, a row's flag codes and
//! the heatmap's colour bins.

use crate::domain::divergence::{DivergenceRow, Tier};
use crate::domain::organisation::REGIONS;
use crate::service::divergence::Computed;

/// The round's pillars (key, title) in framework order, without `overall`.
pub fn pillars(c: &Computed) -> Vec<(String, String)> {
    c.loaded
        .chain
        .focal()
        .1
        .pillars
        .iter()
        .map(|p| (p.key.clone(), p.title.clone()))
        .collect()
}

/// The seven NHS England regions (code, name).
pub fn regions() -> Vec<(String, String)> {
    REGIONS
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect()
}

pub fn region_name(code: &str) -> &str {
    REGIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, n)| n)
}

pub fn flag_codes(r: &DivergenceRow) -> Vec<&'static str> {
    r.flags.iter().map(|f| f.as_str()).collect()
}

pub fn tier_name(t: Tier) -> &'static str {
    match t {
        Tier::None => "none",
        Tier::Alert => "alert",
        Tier::Alarm => "alarm",
    }
}

/// The colour bin of a robust z on the diverging scale: `n3` (≤ −3) … `0` … `p3` (≥ 3).
pub fn z_bin(z: Option<f64>) -> &'static str {
    match z {
        None => "app-z-none",
        Some(z) if z <= -3.0 => "app-z-n3",
        Some(z) if z <= -2.0 => "app-z-n2",
        Some(z) if z <= -1.0 => "app-z-n1",
        Some(z) if z < 1.0 => "app-z-0",
        Some(z) if z < 2.0 => "app-z-p1",
        Some(z) if z < 3.0 => "app-z-p2",
        Some(_) => "app-z-p3",
    }
}

/// The direction of a row's level flag: -1 below peers, +1 above, 0 none.
pub fn level_direction(r: &DivergenceRow) -> i8 {
    use crate::domain::divergence::Flag;
    if r.flags.contains(&Flag::LevelBelowPeers) {
        -1
    } else if r.flags.contains(&Flag::LevelAbovePeers) {
        1
    } else {
        0
    }
}

/// A plain-English name of a flag code.
pub fn flag_label(code: &str) -> &'static str {
    match code {
        "LEVEL_BELOW_PEERS" => "Level below peers",
        "LEVEL_ABOVE_PEERS" => "Level above peers",
        "PROGRESS_BELOW_PEERS" => "Progress below peers",
        "PROGRESS_ABOVE_PEERS" => "Progress above peers",
        "TREND_BELOW_PEERS" => "Trend below peers",
        "TREND_ABOVE_PEERS" => "Trend above peers",
        "GAP_WIDENING_BEHIND" => "Gap widening (behind)",
        "GAP_WIDENING_AHEAD" => "Gap widening (ahead)",
        "PRIORITY_FALLING_BEHIND" => "Behind and falling further behind",
        _ => "Other",
    }
}
