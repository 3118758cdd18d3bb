//! The round view as CSV: one line per (organisation, pillar), the organisation's name, region and
//! ICB beside their codes, the pillar's title beside its key, every figure needed to recompute a
//! flag, flags and statuses (of the object and every block) `;`-separated, reasons ` | `-separated. Figures are the rows' own
//! (noise within 1e-9 of zero already written as 0), at full precision.

use serde::Serialize;

use crate::domain::divergence::{DivergenceRow, SharedStr};
use crate::error::{AppError, AppResult};

/// Full precision (the shortest decimal that reads back as the same f64), so small p and q
/// values keep their significant digits.
fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// A unit enum's wire name (`LEVEL_BELOW_PEERS`, `alert`): its JSON string without the quotes.
fn label<T: Serialize>(t: &T) -> String {
    match serde_json::to_string(t) {
        Ok(s) if s.len() >= 2 && s.starts_with('"') => s[1..s.len() - 1].to_owned(),
        _ => String::new(),
    }
}

fn join<T: Serialize>(items: &[T], sep: &str) -> String {
    items.iter().map(label).collect::<Vec<_>>().join(sep)
}

const HEADER: [&str; 40] = [
    "ods_code",
    "org_name",
    "org_type",
    "region_code",
    "region_name",
    "icb_code",
    "icb_name",
    "pillar",
    "pillar_title",
    "round",
    "previous_round",
    "reference_kind",
    "reference_n",
    "reference_median",
    "reference_q1",
    "reference_q3",
    "reference_mad",
    "reference_scale",
    "score",
    "coverage",
    "gap",
    "robust_z",
    "p",
    "q",
    "tier",
    "percentile_rank",
    "gap_prev",
    "gap_change",
    "delta",
    "peer_median_delta",
    "excess",
    "change_z",
    "change_p",
    "change_q",
    "change_tier",
    "slope",
    "trend_excess",
    "trend_q",
    "flags",
    "reasons",
];

/// The header line's fields.
pub fn header() -> Vec<&'static str> {
    let mut header: Vec<&str> = HEADER.to_vec();
    header.extend(["statuses", "config_hash"]);
    // Added with divergence-v2, after the v1 columns so their positions do not move.
    header.extend([
        "method",
        "reference_scale_method",
        "reference_resolution",
        "level_detectable_gap",
        "change_scale",
        "change_detectable_gap",
        "trend_scale",
        "trend_detectable_gap",
    ]);
    header
}

/// One row's record, in the order of [`header`].
pub fn write_row<W: std::io::Write>(w: &mut csv::Writer<W>, r: &DivergenceRow) -> AppResult<()> {
    {
        let c = r.change.as_deref();
        let t = r.trend.as_deref();
        let mut statuses: Vec<String> = r.statuses.iter().map(label).collect();
        statuses.extend(r.level.statuses.iter().map(label));
        if let Some(c) = c {
            statuses.extend(c.statuses.iter().map(label));
        }
        if let Some(t) = t {
            statuses.extend(t.statuses.iter().map(label));
        }
        statuses.sort();
        statuses.dedup();
        let text = |v: &Option<SharedStr>| v.as_ref().map(|x| x.as_str().to_owned());
        let record = vec![
            r.org_id.as_str().to_owned(),
            text(&r.org_name).unwrap_or_default(),
            r.org_type.as_str().to_owned(),
            text(&r.region_code).unwrap_or_default(),
            text(&r.region_name).unwrap_or_default(),
            text(&r.icb_code).unwrap_or_default(),
            text(&r.icb_name).unwrap_or_default(),
            crate::api::text::csv_text(r.pillar.as_str()),
            crate::api::text::csv_text(r.pillar_title.as_str()),
            r.round.as_str().to_owned(),
            r.previous_round
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            label(&r.reference.kind),
            r.reference.n.to_string(),
            num(r.reference.median),
            num(r.reference.q1),
            num(r.reference.q3),
            num(r.reference.mad),
            num(r.reference.scale),
            num(r.level.score),
            num(Some(r.level.coverage)),
            num(r.level.gap),
            num(r.level.robust_z),
            num(r.level.p),
            num(r.level.q),
            label(&r.level.tier),
            num(r.level.percentile_rank),
            num(r.level.gap_prev),
            num(r.level.gap_change),
            num(c.and_then(|c| c.delta)),
            num(c.and_then(|c| c.peer_median_delta)),
            num(c.and_then(|c| c.excess)),
            num(c.and_then(|c| c.robust_z)),
            num(c.and_then(|c| c.p)),
            num(c.and_then(|c| c.q)),
            c.map(|c| label(&c.tier)).unwrap_or_default(),
            num(t.map(|t| t.slope)),
            num(t.and_then(|t| t.excess)),
            num(t.and_then(|t| t.q)),
            join(&r.flags, ";"),
            r.reasons.join(" | "),
            statuses.join(";"),
            r.method.config_hash.to_string(),
            r.method.version.to_owned(),
            r.reference
                .scale_method
                .as_ref()
                .map(label)
                .unwrap_or_default(),
            num(r.reference.resolution),
            num(r.level.detectable_gap),
            num(c.and_then(|c| c.scale)),
            num(c.and_then(|c| c.detectable_gap)),
            num(t.and_then(|t| t.scale)),
            num(t.and_then(|t| t.detectable_gap)),
        ];
        w.write_record(&record).map_err(AppError::internal)
    }
}
