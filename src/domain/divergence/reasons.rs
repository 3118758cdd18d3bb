//! Plain-English reasons (B8): one sentence per flag and one per status, with the numbers needed
//! to recompute it. Negative numbers use the minus sign U+2212, as in the spec's example.
//!
//! Decisions: scores and gaps have 2 decimals; robust z 2 decimals; q 2 significant digits
//! ("<0.001" below 0.001). Wording follows the sign: where a word carries the direction ("rose",
//! "fell", "above", "below", "ahead of", "behind") the number after it is a magnitude without a
//! sign, so a fall is never written "Improved −0.60" (the spec's example sentence) but "fell 0.60";
//! a figure that rounds to 0.00 gets a neutral word ("did not change", "level with"). Signs stay
//! on figures read as values (robust z, a standardised gap). Identical sentences (a status on
//! several blocks) are given once.

use super::options::Options;
use super::types::{DivergenceRow, Flag, RefKind, ReferenceSummary, Status, Tier};
use crate::domain::organisation::OrgType;
use std::fmt;

pub struct ReasonCtx<'a> {
    pub opts: &'a Options,
    /// The requested peer group (key, type), if any.
    pub peer_group: Option<(&'a str, OrgType)>,
    /// Overall rows with MISSING_PILLAR: the pillars that are missing or below coverage.
    pub missing_pillars: &'a [&'a str],
}

/// A number with a minus sign (U+2212) for negatives that do not round to zero. Display
/// wrappers, so a sentence is written into one `String` without intermediate allocations.
pub struct Num(f64, usize, bool);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Num {
    /// What `Display` writes, into any writer (a `String` directly, without `format!`).
    fn write_to(&self, f: &mut impl fmt::Write) -> fmt::Result {
        let Num(x, dp, plus) = *self;
        let negative = x < 0.0 && (x.abs() * 10f64.powi(dp as i32)).round() >= 1.0;
        if negative {
            f.write_str("−")?;
        } else if plus {
            f.write_str("+")?;
        }
        fixed(f, x.abs(), dp)
    }
}

/// Writes `x` with `dp` decimals exactly as `format!("{:.*}", dp, x)` does (the exact decimal
/// value of the binary `x`, rounded half to even), without the general float formatter: integer
/// arithmetic on the mantissa for non-negative finite `x` below 1e15 and `dp` ≤ 6, the standard
/// formatter otherwise. Reasons format about two figures a row, so this is a hot path.
pub fn fixed(f: &mut impl fmt::Write, x: f64, dp: usize) -> fmt::Result {
    const POW10: [u128; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
    if !(x.is_finite() && x.is_sign_positive() && x < 1e15) || dp >= POW10.len() {
        return write!(f, "{:.*}", dp, x);
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    let scale = POW10[dp];
    // x · 10^dp = m · 10^dp · 2^e, with m < 2^53 and 10^dp < 2^20: no overflow in u128
    let n = u128::from(m) * scale;
    let units = if e >= 0 {
        n << e
    } else {
        let s = e.unsigned_abs();
        if s >= 127 {
            0 // below 2^-54: rounds to zero
        } else {
            let q = n >> s;
            let r = n & ((1u128 << s) - 1);
            let half = 1u128 << (s - 1);
            if r > half || (r == half && q & 1 == 1) {
                q + 1
            } else {
                q
            }
        }
    };
    // below 1e15 · 10^6 < 2^70; u64 division is much cheaper than u128 where it fits
    let (whole, part) = match (u64::try_from(units), u64::try_from(scale)) {
        (Ok(u), Ok(sc)) => (u128::from(u / sc), u128::from(u % sc)),
        _ => (units / scale, units % scale),
    };
    let mut buf = itoa_u128(whole);
    if dp > 0 {
        buf.push(b'.');
        let start = buf.len();
        buf.resize(start + dp, b'0');
        let mut p = part as u64; // below 10^6
        for i in (start..start + dp).rev() {
            buf[i] = b'0' + (p % 10) as u8;
            p /= 10;
        }
    }
    // only ASCII digits and '.' were written
    f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
}

/// The decimal digits of `v` in a small stack buffer.
fn itoa_u128(v: u128) -> SmallBuf {
    let Ok(mut v) = u64::try_from(v) else {
        return itoa_wide(v);
    };
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut out = SmallBuf::default();
    out.extend_from_slice(&digits[i..]);
    out
}

fn itoa_wide(mut v: u128) -> SmallBuf {
    let mut digits = [0u8; 40];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut out = SmallBuf::default();
    out.extend_from_slice(&digits[i..]);
    out
}

/// A byte buffer on the stack, big enough for any number [`fixed`] writes itself.
#[derive(Default)]
struct SmallBuf {
    bytes: [u8; 32],
    len: usize,
}

impl SmallBuf {
    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }
    fn extend_from_slice(&mut self, s: &[u8]) {
        self.bytes[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }
    fn resize(&mut self, len: usize, b: u8) {
        self.bytes[self.len..len].fill(b);
        self.len = len;
    }
    fn len(&self) -> usize {
        self.len
    }
}

impl std::ops::Deref for SmallBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::ops::DerefMut for SmallBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }
}

pub fn num(x: f64, dp: usize) -> Num {
    Num(x, dp, false)
}

/// A number with an explicit sign (+ or −).
pub fn signed(x: f64, dp: usize) -> Num {
    Num(x, dp, true)
}

/// q with two significant digits, "<0.001" below 0.001.
pub struct QText(f64);

impl fmt::Display for QText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = self.0;
        if q < 0.001 {
            return f.write_str("<0.001");
        }
        let dp = (1 - q.log10().floor() as i32).max(0) as usize;
        fixed(f, q, dp)
    }
}

pub fn q_text(q: f64) -> QText {
    QText(q)
}

pub fn tier_text(t: Tier) -> &'static str {
    match t {
        Tier::Alarm => ", 99.8% tier",
        Tier::Alert => ", 95% tier",
        Tier::None => "",
    }
}

/// "acute" or "peer group X" (as in "the acute median").
struct RefLabel<'a>(&'a ReferenceSummary, OrgType);

impl fmt::Display for RefLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.kind {
            RefKind::PeerGroup => write!(f, "peer group {}", self.0.key),
            RefKind::TypeNational => self
                .1
                .as_str()
                .chars()
                .try_for_each(|c| fmt::Write::write_char(f, if c == '_' { ' ' } else { c })),
            RefKind::AllUnits => f.write_str(&self.0.key),
        }
    }
}

fn ref_label(r: &ReferenceSummary, t: OrgType) -> RefLabel<'_> {
    RefLabel(r, t)
}

/// A share as a whole percentage.
struct Pct(f64);

impl fmt::Display for Pct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fixed(f, 100.0 * self.0, 0)?;
        f.write_str("%")
    }
}

fn pct(x: f64) -> Pct {
    Pct(x)
}

/// The direction of a figure as printed with `dp` decimals: one that rounds to zero has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Level,
}

pub fn direction(x: f64, dp: usize) -> Direction {
    if (x.abs() * 10f64.powi(dp as i32)).round() < 1.0 {
        Direction::Level
    } else if x > 0.0 {
        Direction::Up
    } else {
        Direction::Down
    }
}

/// "rose 0.45", "fell 0.45" or "did not change" (with " a round" for slopes): the verb carries
/// the direction, the number is a magnitude.
pub struct Moved(f64, &'static str);

impl fmt::Display for Moved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Moved(x, unit) = *self;
        match direction(x, 2) {
            Direction::Up => write!(f, "rose {}{unit}", num(x.abs(), 2)),
            Direction::Down => write!(f, "fell {}{unit}", num(x.abs(), 2)),
            Direction::Level => f.write_str("did not change"),
        }
    }
}

/// "0.40 behind", "0.40 ahead of" or "level with" (followed by what is compared with).
pub struct Relative(f64);

impl fmt::Display for Relative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match direction(self.0, 2) {
            Direction::Up => write!(f, "{} ahead of", num(self.0.abs(), 2)),
            Direction::Down => write!(f, "{} behind", num(self.0.abs(), 2)),
            Direction::Level => f.write_str("level with"),
        }
    }
}

/// "1.80 below", "1.80 above" or "level with".
pub struct Side(f64);

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match direction(self.0, 2) {
            Direction::Up => write!(f, "{} above", num(self.0.abs(), 2)),
            Direction::Down => write!(f, "{} below", num(self.0.abs(), 2)),
            Direction::Level => f.write_str("level with"),
        }
    }
}

pub fn side(x: f64) -> Side {
    Side(x)
}

/// The test figures closing a sentence: robust z, q and the tier.
#[derive(Debug, Clone, Copy)]
pub struct Test(pub Option<f64>, pub Option<f64>, pub Tier);

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Test(z, q, tier) = *self;
        write!(
            f,
            "robust z {}, q {}{}",
            num(z.unwrap_or(0.0), 2),
            q_text(q.unwrap_or(1.0)),
            tier_text(tier)
        )
    }
}

/// LEVEL_*: "Score 1.40 is 1.80 below the acute median 3.20 (robust z −6.07, q 0.011, 99.8% tier)".
pub fn level_sentence(
    score: f64,
    gap: f64,
    reference: &dyn fmt::Display,
    median: f64,
    test: Test,
) -> String {
    format!(
        "Score {} is {} the {reference} median {} ({test})",
        num(score, 2),
        side(gap),
        num(median, 2),
    )
}

/// PROGRESS_*: "Score fell 0.60 while the peer median rose 0.45: 1.05 behind peers' progress
/// (robust z −4.72, q 0.031, 95% tier)".
pub fn progress_sentence(delta: f64, peer_median: f64, excess: f64, test: Test) -> String {
    format!(
        "Score {} while the peer median {}: {} peers' progress ({test})",
        Moved(delta, ""),
        Moved(peer_median, ""),
        Relative(excess),
    )
}

/// TREND_*: "Over 3 rounds the score fell 0.30 a round while the peer median rose 0.10 a round:
/// 0.40 a round behind peers (robust z −3.10, q 0.020, 95% tier)".
pub fn trend_sentence(
    slope: f64,
    rounds: usize,
    peer_median: f64,
    excess: f64,
    test: Test,
) -> String {
    let relative = match direction(excess, 2) {
        Direction::Up => format!("{} a round ahead of", num(excess.abs(), 2)),
        Direction::Down => format!("{} a round behind", num(excess.abs(), 2)),
        Direction::Level => "level with".to_owned(),
    };
    format!(
        "Over {rounds} rounds the score {} while the peer median {}: {relative} peers ({test})",
        Moved(slope, " a round"),
        Moved(peer_median, " a round"),
    )
}

/// GAP_WIDENING_*: "Gap behind the acute median widened from 0.75 to 1.80" (or "Lead over …").
/// Both gaps have the same sign (the flag's rule), so magnitudes are printed.
pub fn widening_sentence(gap_prev: f64, gap: f64, reference: &dyn fmt::Display) -> String {
    let what = if gap < 0.0 { "Gap behind" } else { "Lead over" };
    format!(
        "{what} the {reference} median widened from {} to {}",
        num(gap_prev.abs(), 2),
        num(gap.abs(), 2)
    )
}

pub fn for_row(row: &DivergenceRow, ctx: &ReasonCtx) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let t = row.org_type;
    let l = &row.level;
    for flag in &row.flags {
        let s = match flag {
            Flag::LevelBelowPeers | Flag::LevelAbovePeers => {
                let (Some(score), Some(g), Some(med)) = (l.score, l.gap, row.reference.median)
                else {
                    continue;
                };
                level_sentence(
                    score,
                    g,
                    &ref_label(&row.reference, t),
                    med,
                    Test(l.robust_z, l.q, l.tier),
                )
            }
            Flag::ProgressBelowPeers | Flag::ProgressAbovePeers => {
                let Some(c) = &row.change else { continue };
                let (Some(d), Some(m), Some(e)) = (c.delta, c.peer_median_delta, c.excess) else {
                    continue;
                };
                progress_sentence(d, m, e, Test(c.robust_z, c.q, c.tier))
            }
            Flag::TrendBelowPeers | Flag::TrendAbovePeers => {
                let Some(tr) = &row.trend else { continue };
                let (Some(m), Some(e)) = (tr.peer_median_slope, tr.excess) else {
                    continue;
                };
                trend_sentence(tr.slope, tr.rounds, m, e, Test(tr.robust_z, tr.q, tr.tier))
            }
            Flag::GapWideningBehind | Flag::GapWideningAhead => {
                let (Some(gp), Some(g)) = (l.gap_prev, l.gap) else {
                    continue;
                };
                widening_sentence(gp, g, &ref_label(&row.reference, t))
            }
            Flag::PriorityFallingBehind => {
                "Priority: below peers on level and falling further behind".to_owned()
            }
        };
        out.push(s);
    }
    let statuses = row.statuses.iter().map(|s| ("", *s));
    let level = l.statuses.iter().map(|s| ("level", *s));
    let change = row
        .change
        .iter()
        .flat_map(|c| c.statuses.iter().map(|s| ("change", *s)));
    let trend = row
        .trend
        .iter()
        .flat_map(|c| c.statuses.iter().map(|s| ("trend", *s)));
    for (block, status) in statuses.chain(level).chain(change).chain(trend) {
        let s = status_sentence(row, block, status, ctx);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn status_sentence(row: &DivergenceRow, block: &str, status: Status, ctx: &ReasonCtx) -> String {
    let o = ctx.opts;
    let reference = match block {
        "change" => row.change.as_ref().map(|c| &c.reference),
        "trend" => row.trend.as_ref().map(|t| &t.reference),
        _ => Some(&row.reference),
    }
    .unwrap_or(&row.reference);
    match status {
        Status::InsufficientCoverage if block == "change" => format!(
            "Change not compared with peers: coverage is below {} in this or the previous round",
            pct(o.min_coverage)
        ),
        Status::InsufficientCoverage => match row.level.score {
            Some(_) => format!(
                "Coverage {} is below the {} minimum: the score is shown but not compared with peers",
                pct(row.level.coverage),
                pct(o.min_coverage)
            ),
            None => "Nothing was answered in this pillar: no score to compare".to_owned(),
        },
        Status::InsufficientPeers => format!(
            "Only {} organisations in the {block} reference ({}; minimum {}): median and gap shown, no test",
            reference.n, reference.key, o.min_ref_n
        ),
        Status::ReferenceFallback => match ctx.peer_group {
            Some((key, gt)) if gt != row.org_type => format!(
                "Peer group {key} is for {} organisations: compared with all {} organisations",
                gt.label(),
                row.org_type.label()
            ),
            Some((key, _)) => format!(
                "Peer group {key} has fewer than {} valid members for {block}: compared with all {} organisations",
                o.min_ref_n,
                row.org_type.label()
            ),
            None => format!("Compared with all {} organisations", row.org_type.label()),
        },
        Status::ScaleFloorApplied => format!(
            "Peers' {block} values are very close together: the minimum scale {} was used",
            num(reference.scale.unwrap_or(0.0), 2)
        ),
        Status::ItemSetChanged => {
            "The question set changed between rounds: change uses only the questions common to both"
                .to_owned()
        }
        Status::NoPreviousRound => match &row.previous_round {
            Some(r) => format!("No score in the previous round {r}: change not computed"),
            None => "No previous round: change not computed".to_owned(),
        },
        Status::MissingPillar if block == "change" => {
            "Overall change not computed: a pillar was missing or below coverage in this or the previous round"
                .to_owned()
        }
        Status::MissingPillar => format!(
            "Overall score not computed: missing or below-coverage pillar(s) {}",
            ctx.missing_pillars.join(", ")
        ),
        Status::Watch => {
            let (gap, detectable) = match block {
                "change" => row
                    .change
                    .as_ref()
                    .map_or((None, None), |c| (c.excess, c.detectable_gap)),
                "trend" => row
                    .trend
                    .as_ref()
                    .map_or((None, None), |t| (t.excess, t.detectable_gap)),
                _ => (row.level.gap, row.level.detectable_gap),
            };
            let g = gap.unwrap_or(0.0);
            let side = if g < 0.0 { "below" } else { "above" };
            // The most frequent reason by far (a material gap is common in a large round):
            // written piece by piece, as `format!` would, without the formatting machinery.
            let mut s = String::with_capacity(192);
            s.push_str("Watch: a ");
            s.push_str(block);
            s.push_str(" gap of ");
            let _ = num(g.abs(), 2).write_to(&mut s);
            s.push(' ');
            s.push_str(side);
            s.push_str(
                " the peer median is material but not significant \
                 among the round's tests; a gap of at least ",
            );
            let _ = num(detectable.unwrap_or(0.0), 2).write_to(&mut s);
            s.push_str(" would have been flagged");
            s
        }
        Status::LineageMerged => {
            let lin = row.lineage.as_ref();
            format!(
                "Earlier scores ({}) are the mean of the merged predecessors {}",
                lin.map(|l| l.merged_rounds.join(", ")).unwrap_or_default(),
                lin.map(|l| l.predecessors.join(", ")).unwrap_or_default()
            )
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use proptest::prelude::*;

    const UP: [&str; 4] = ["rose", "above", "ahead", "Lead"];
    const DOWN: [&str; 3] = ["fell", "below", "behind"];

    /// Checks a sentence never pairs a direction word with a signed number: after "rose"/"fell"
    /// and before "above"/"below"/"ahead of"/"behind" comes a magnitude. Also refuses the old
    /// "Improved" wording.
    pub fn wording_ok(sentence: &str) -> Result<(), String> {
        if sentence.contains("Improved") {
            return Err(format!("`Improved` in {sentence:?}"));
        }
        let words: Vec<&str> = sentence
            .split(|c: char| c.is_whitespace() || c == '(' || c == ',' || c == ':')
            .filter(|w| !w.is_empty())
            .collect();
        let signed = |w: &str| w.starts_with(['−', '-', '+']);
        for (i, w) in words.iter().enumerate() {
            let directional = UP.contains(w) || DOWN.contains(w);
            if !directional {
                continue;
            }
            let neighbour = match *w {
                "rose" | "fell" => words.get(i + 1),
                _ => i.checked_sub(1).and_then(|j| words.get(j)),
            };
            if let Some(n) = neighbour
                && signed(n)
            {
                return Err(format!("`{w}` next to the signed `{n}` in {sentence:?}"));
            }
        }
        Ok(())
    }

    /// The word expected for a figure's direction.
    fn expect(x: f64, up: &str, down: &str, level: &str) -> String {
        match direction(x, 2) {
            Direction::Up => format!("{up} {}", num(x.abs(), 2)),
            Direction::Down => format!("{down} {}", num(x.abs(), 2)),
            Direction::Level => level.to_owned(),
        }
    }

    fn test_figures() -> Test {
        Test(Some(-2.5), Some(0.01), Tier::Alert)
    }

    #[test]
    fn the_worked_example_reads_as_a_fall() {
        let s = progress_sentence(
            -0.6,
            0.45,
            -1.05,
            Test(Some(-4.7214), Some(0.03142), Tier::Alert),
        );
        assert_eq!(
            s,
            "Score fell 0.60 while the peer median rose 0.45: 1.05 behind peers' progress \
             (robust z −4.72, q 0.031, 95% tier)"
        );
        let s = trend_sentence(-0.3, 3, 0.1, -0.4, test_figures());
        assert_eq!(
            s,
            "Over 3 rounds the score fell 0.30 a round while the peer median rose 0.10 a round: \
             0.40 a round behind peers (robust z −2.50, q 0.010, 95% tier)"
        );
        assert_eq!(
            level_sentence(3.2, 0.0, &"acute", 3.2, test_figures()),
            "Score 3.20 is level with the acute median 3.20 (robust z −2.50, q 0.010, 95% tier)"
        );
        assert_eq!(
            progress_sentence(0.001, -0.004, 0.003, test_figures()),
            "Score did not change while the peer median did not change: level with peers' \
             progress (robust z −2.50, q 0.010, 95% tier)"
        );
        assert_eq!(
            widening_sentence(-0.75, -1.8, &"acute"),
            "Gap behind the acute median widened from 0.75 to 1.80"
        );
        assert!(wording_ok("Score rose −0.50").is_err());
        assert!(wording_ok("Improved −0.60 vs peer median +0.45").is_err());
        assert!(wording_ok("Score is −1.80 below the median").is_err());
    }

    fn fixed_string(x: f64, dp: usize) -> String {
        let mut s = String::new();
        fixed(&mut s, x, dp).expect("write");
        s
    }

    #[test]
    fn fixed_matches_the_standard_formatter() {
        let mut special = vec![
            0.0,
            -0.0,
            0.005,
            0.015,
            0.025,
            0.125,
            0.375,
            0.5,
            1.5,
            2.5,
            1.005,
            2.675,
            0.045,
            1e-300,
            5e-324,
            0.0049999999999999,
            0.995,
            9.995,
            99.995,
            999_999.995,
            1e14,
            9.99e14,
            1e15,
            1e16,
            1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            -1.25,
        ];
        // every tie and near-tie on the grids of halves of a unit in the last place shown
        for k in 0..20_000u32 {
            let v = f64::from(k) / 8.0;
            special.extend([v, v / 10.0, v / 100.0, v / 1000.0]);
            special.extend([
                f64::from(k) * 0.005,
                f64::from(k) * 0.0005,
                f64::from(k) / 6.0,
            ]);
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bits = state >> 1;
            special.push(f64::from_bits(bits));
            special.push(f64::from((state >> 40) as u32) / 65_536.0);
        }
        for &x in &special {
            for dp in 0..8 {
                assert_eq!(fixed_string(x, dp), format!("{:.*}", dp, x), "{x:e} {dp}");
                let y = x.next_up();
                assert_eq!(fixed_string(y, dp), format!("{:.*}", dp, y), "{y:e} {dp}");
                let y = x.next_down();
                assert_eq!(fixed_string(y, dp), format!("{:.*}", dp, y), "{y:e} {dp}");
            }
        }
    }

    fn figure() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            -0.004f64..0.004,
            -3.0f64..3.0,
            (1u32..400).prop_map(|k| f64::from(k) * 0.005),
            (1u32..400).prop_map(|k| -f64::from(k) * 0.005),
        ]
    }

    proptest! {
        #[test]
        fn wording_follows_the_sign(
            d in figure(), m in figure(), e in figure(), slope in figure(),
            score in 1.0f64..5.0, gap in figure(), gap_prev in figure(), rounds in 3usize..6,
        ) {
            let t = test_figures();
            let progress = progress_sentence(d, m, e, t);
            prop_assert!(wording_ok(&progress).is_ok(), "{}", progress);
            let moved = expect(d, "rose", "fell", "did not change");
            prop_assert!(progress.starts_with(&format!("Score {moved} while")), "{}", progress);
            let peer = expect(m, "rose", "fell", "did not change");
            prop_assert!(progress.contains(&format!("the peer median {peer}:")), "{}", progress);
            let rel = match direction(e, 2) {
                Direction::Up => format!("{} ahead of peers'", num(e.abs(), 2)),
                Direction::Down => format!("{} behind peers'", num(e.abs(), 2)),
                Direction::Level => "level with peers'".to_owned(),
            };
            prop_assert!(progress.contains(&rel), "{}", progress);

            let trend = trend_sentence(slope, rounds, m, e, t);
            prop_assert!(wording_ok(&trend).is_ok(), "{}", trend);
            let moved = match direction(slope, 2) {
                Direction::Level => "did not change".to_owned(),
                _ => format!("{} a round", expect(slope, "rose", "fell", "")),
            };
            prop_assert!(trend.contains(&format!("the score {moved} while")), "{}", trend);

            let level = level_sentence(score, gap, &"acute", score - gap, t);
            prop_assert!(wording_ok(&level).is_ok(), "{}", level);
            let side = expect(gap, "", "", "level with");
            let side = match direction(gap, 2) {
                Direction::Up => format!("{} above", side.trim()),
                Direction::Down => format!("{} below", side.trim()),
                Direction::Level => side,
            };
            prop_assert!(level.contains(&format!("is {side} the acute median")), "{}", level);

            if gap != 0.0 && gap_prev != 0.0 && (gap < 0.0) == (gap_prev < 0.0) {
                let w = widening_sentence(gap_prev, gap, &"acute");
                prop_assert!(wording_ok(&w).is_ok(), "{}", w);
                prop_assert!(!w.contains('−') && !w.contains('+'), "{}", w);
                prop_assert_eq!(w.starts_with("Gap behind"), gap < 0.0);
            }
        }
    }
}
