//! Resolution (`divergence-v2`, C2): the grid step a compared value lives on, as an exact rational
//! in units of 10⁻⁶ points, so that greatest common divisors are exact; and the grid of each
//! (organisation type, pillar) of a framework.
//!
//! Decisions (repeated in `docs/divergence-v2.md` C2):
//! - Staged method: a domain that holds at least one criterion (a question with a `level`) has a
//!   whole-number level; the pillar is the mean of D such domains, so its step is 1/D.
//! - Scored method: a domain whose scored questions all have one weight and whose every possible
//!   point value (option and band scores, the scale's minimum and maximum) is a whole multiple of
//!   10⁻⁶ within 10⁻⁹ has step g/lcm(1…M) (g the gcd of those points, M the scored questions); the
//!   pillar's step is the gcd of its domains' steps over D. Anything else is continuous (step 0).
//! - A denominator above 10¹² (or any overflow) is continuous: such a grid is finer than any
//!   spread it could stop from collapsing.

use serde::{Deserialize, Serialize};

use crate::domain::framework::{Framework, Method, Question, QuestionType, Scale};
use crate::domain::organisation::OrgType;

/// Points per grid unit: steps are counted in millionths of a point.
const UNITS_PER_POINT: f64 = 1e6;
const MAX_DEN: u128 = 1_000_000_000_000;

/// A grid step `num/den` millionths of a point; `num == 0` is continuous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grid {
    pub num: u64,
    pub den: u64,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    // the same Euclid in u64 when both fit: u128 remainders are library calls
    if let (Ok(mut x), Ok(mut y)) = (u64::try_from(a), u64::try_from(b)) {
        while y != 0 {
            (x, y) = (y, x % y);
        }
        return u128::from(x);
    }
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn lcm(a: u128, b: u128) -> Option<u128> {
    if a == 0 || b == 0 {
        return Some(0);
    }
    (a / gcd(a, b)).checked_mul(b)
}

impl Grid {
    /// Effectively continuous values.
    pub const CONTINUOUS: Grid = Grid { num: 0, den: 1 };

    /// One point divided by `parts` (staged pillar of `parts` domains: 1/D).
    pub fn per_point(parts: u64) -> Grid {
        Grid::ratio(UNITS_PER_POINT as u128, u128::from(parts))
    }

    /// `num/den` units, reduced; continuous when zero, or the denominator is too large.
    fn ratio(num: u128, den: u128) -> Grid {
        if num == 0 || den == 0 {
            return Grid::CONTINUOUS;
        }
        let g = gcd(num, den);
        let (n, d) = (num / g, den / g);
        match (u64::try_from(n), u64::try_from(d)) {
            (Ok(num), Ok(den)) if d <= MAX_DEN => Grid { num, den },
            _ => Grid::CONTINUOUS,
        }
    }

    pub fn is_continuous(self) -> bool {
        self.num == 0
    }

    /// The step in points (0 when continuous).
    pub fn step(self) -> f64 {
        if self.is_continuous() {
            0.0
        } else {
            self.num as f64 / self.den as f64 / UNITS_PER_POINT
        }
    }

    /// The grid both values lie on: gcd(a/b, c/d) = gcd(a·d, c·b)/(b·d).
    pub fn gcd(self, other: Grid) -> Grid {
        if self.is_continuous() || other.is_continuous() {
            return Grid::CONTINUOUS;
        }
        let (a, b) = (u128::from(self.num), u128::from(self.den));
        let (c, d) = (u128::from(other.num), u128::from(other.den));
        Grid::ratio(gcd(a * d, c * b), b * d)
    }

    /// The gcd of several grids; continuous for none.
    pub fn gcd_all(grids: impl IntoIterator<Item = Grid>) -> Grid {
        grids
            .into_iter()
            .reduce(Grid::gcd)
            .unwrap_or(Grid::CONTINUOUS)
    }

    /// This step times `num/den`.
    pub fn times(self, num: u64, den: u64) -> Grid {
        if self.is_continuous() {
            return Grid::CONTINUOUS;
        }
        Grid::ratio(
            u128::from(self.num) * u128::from(num),
            u128::from(self.den) * u128::from(den),
        )
    }

    /// The grid of a mean of `n` values on this grid.
    pub fn mean_of(self, n: usize) -> Grid {
        self.times(1, n as u64)
    }
}

/// The step of an OLS slope over the ordinals `xs` of values on `grid`: grid × G/B with
/// G = gcd |K·x_i − Σx| and B = K·Σx² − (Σx)² (C2.5).
pub fn slope_grid(grid: Grid, xs: &[u64]) -> Grid {
    let k = xs.len() as i128;
    let sx: i128 = xs.iter().map(|&x| i128::from(x)).sum();
    let sxx: i128 = xs.iter().map(|&x| i128::from(x) * i128::from(x)).sum();
    let b = k * sxx - sx * sx;
    let g = xs
        .iter()
        .map(|&x| (k * i128::from(x) - sx).unsigned_abs())
        .fold(0u128, gcd);
    match (u64::try_from(g), u64::try_from(b)) {
        (Ok(g), Ok(b)) if g > 0 && b > 0 => grid.times(g, b),
        _ => Grid::CONTINUOUS,
    }
}

/// A value in whole millionths of a point, if it is one within 10⁻⁹ points.
fn units(v: f64) -> Option<u128> {
    let u = (v.abs() * UNITS_PER_POINT).round();
    ((v.abs() * UNITS_PER_POINT - u).abs() <= 1e-3 && u < 1e30).then_some(u as u128)
}

/// Whether a scored-method question can give points.
fn is_scored(q: &Question) -> bool {
    if !q.scored || !q.is_answerable() {
        return false;
    }
    match q.kind {
        QuestionType::Boolean => true,
        kind if kind.takes_options() => q.options.iter().any(|o| o.score.is_some()),
        kind if kind.is_numeric() => q.bands.iter().any(|b| b.score.is_some()),
        _ => false,
    }
}

/// The step of a scored domain made of `questions` (C2.1), `None` when it has no scored question.
fn scored_domain_grid<'q>(
    scale: Scale,
    questions: impl Iterator<Item = &'q Question>,
) -> Option<Grid> {
    let scored: Vec<&Question> = questions.filter(|q| is_scored(q)).collect();
    let first = scored.first()?;
    if scored.iter().any(|q| q.weight != first.weight) {
        return Some(Grid::CONTINUOUS);
    }
    let points = scored
        .iter()
        .flat_map(|q| {
            q.options
                .iter()
                .filter_map(|o| o.score)
                .chain(q.bands.iter().filter_map(|b| b.score))
        })
        .chain([scale.min, scale.max]);
    let mut g = 0u128;
    for p in points {
        match units(p) {
            Some(u) => g = gcd(g, u),
            None => return Some(Grid::CONTINUOUS),
        }
    }
    let mut l = 1u128;
    for m in 2..=scored.len() as u128 {
        match lcm(l, m) {
            Some(v) if v <= MAX_DEN => l = v,
            _ => return Some(Grid::CONTINUOUS),
        }
    }
    Some(Grid::ratio(g, l))
}

/// The grid of pillar `pillar` of `framework` for organisation type `t`, counting only the
/// questions `include` keeps (all of them, or the carried-over ones for item matching); `None`
/// when no domain of it can have a score.
pub fn pillar_grid(
    framework: &Framework,
    t: OrgType,
    pillar: &str,
    include: impl Fn(&str) -> bool,
) -> Option<Grid> {
    let p = framework.pillars.iter().find(|p| p.key == pillar)?;
    let mut domains = Vec::new();
    for d in p.domains_for(t) {
        let qs = d.questions.iter().filter(|q| include(&q.key));
        let grid = match framework.method {
            Method::Staged => qs
                .into_iter()
                .any(|q| q.level.is_some())
                .then(|| Grid::per_point(1)),
            Method::Scored => scored_domain_grid(framework.scale, qs),
        };
        domains.extend(grid);
    }
    (!domains.is_empty()).then(|| {
        let n = domains.len();
        Grid::gcd_all(domains).mean_of(n)
    })
}

/// The grid of every (type, pillar) of a framework that some type is asked.
pub fn framework_grids(framework: &Framework) -> Vec<(OrgType, String, Grid)> {
    let mut out = Vec::new();
    for t in OrgType::ALL {
        for p in framework.pillars_for(t) {
            if let Some(g) = pillar_grid(framework, t, &p.key, |_| true) {
                out.push((t, p.key.clone(), g));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{scored, staged};

    #[test]
    fn staged_pillars_of_d_domains_step_by_one_over_d() {
        assert_eq!(Grid::per_point(5).step(), 0.2);
        assert_eq!(Grid::per_point(4).gcd(Grid::per_point(5)).step(), 0.05);
        assert!((Grid::per_point(5).mean_of(3).step() - 1.0 / 15.0).abs() < 1e-15);
    }

    #[test]
    fn slopes_of_three_consecutive_rounds_step_by_half_a_grid_and_of_four_or_five_by_a_tenth() {
        let g = Grid::per_point(5);
        assert!((slope_grid(g, &[1, 2, 3]).step() - 0.1).abs() < 1e-15);
        assert!((slope_grid(g, &[1, 2, 3, 4]).step() - 0.02).abs() < 1e-15);
        assert!((slope_grid(g, &[1, 2, 3, 4, 5]).step() - 0.02).abs() < 1e-15);
        // rounds 1, 2 and 4: a = (3·1−7, 3·2−7, 3·4−7) = (−4, −1, 5), B = 3·21 − 49 = 14
        assert!((slope_grid(g, &[1, 2, 4]).step() - 0.2 / 14.0).abs() < 1e-15);
    }

    #[test]
    fn continuous_absorbs_and_huge_denominators_are_continuous() {
        assert!(Grid::CONTINUOUS.gcd(Grid::per_point(5)).is_continuous());
        assert!(
            Grid::per_point(1)
                .times(1, 1_000_000_000_000_000_001)
                .is_continuous()
        );
        assert_eq!(Grid::CONTINUOUS.step(), 0.0);
    }

    #[test]
    fn framework_grids_follow_the_method() {
        let find = |f: &Framework, t: OrgType, p: &str| {
            framework_grids(f)
                .into_iter()
                .find(|(gt, gp, _)| *gt == t && gp == p)
                .map(|(_, _, g)| g.step())
        };
        let s = scored();
        // strategy weighs its questions 2 and 1: continuous
        assert_eq!(find(&s, OrgType::Acute, "readiness"), Some(0.0));
        // records: points 40, 0, 100 (and the scale's 0, 100) share 20; three questions: 20/6
        let records = find(&s, OrgType::Acute, "capabilities").expect("grid");
        assert!((records - 20.0 / 6.0).abs() < 1e-12);
        let st = staged();
        assert_eq!(find(&st, OrgType::Acute, "well_led"), Some(0.5));
        assert_eq!(find(&st, OrgType::MentalHealth, "well_led"), Some(1.0));
        assert_eq!(find(&st, OrgType::Acute, "foundations"), Some(1.0));
        // item matching keeps WL-01 and WL-10 only: both domains still hold a criterion
        let kept = |k: &str| k == "WL-01" || k == "WL-10";
        assert_eq!(
            pillar_grid(&st, OrgType::Acute, "well_led", kept).map(Grid::step),
            Some(0.5)
        );
        let none = |k: &str| k == "WL-05";
        assert_eq!(pillar_grid(&st, OrgType::Acute, "well_led", none), None);
    }
}
