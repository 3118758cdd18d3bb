//! Indexing of the input into a dense (round × organisation × pillar) table, merger lineage and
//! overall scores. Nothing statistical happens here.
//!
//! Decisions:
//! - Considered rounds are `input.rounds` plus `previous_round` when it is not listed (then it
//!   serves change only, not trend). `previous_round` equal to the focal round counts as absent.
//! - An organisation is "assessed" in a round when it has at least one stored pillar score there.
//! - Lineage (B2 "Mergers"): for a focal organisation not assessed in an earlier round, each
//!   pillar takes the mean of the values of its predecessors that have that pillar in that round;
//!   coverage is their minimum; a predecessor that was itself not assessed is resolved through its
//!   own predecessors (depth ≤ 8, cycles skipped). If any contributing predecessor has no score for
//!   the pillar, the merged score is null. Merged values serve change and trend of the successor
//!   only; they never enter another organisation's reference (the predecessors are already there).
//! - The merger date is not consulted: whether a predecessor stands in for the successor in a
//!   round is decided by who was assessed in it (the successor not, the predecessor yes), since a
//!   round covers a financial year and a merger part-way through it leaves one return either way.
//! - Overall (B2): in every round, the mean of the organisation's pillars in that round, only if all
//!   of them are valid; otherwise a null score whose coverage is the minimum pillar coverage.

use super::grid::Grid;
use super::{EngineInput, OVERALL, OrgInfo};
use crate::domain::organisation::OrgType;
use std::collections::HashMap;

/// One stored (or merged, or overall) value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub score: Option<f64>,
    pub coverage: f64,
    /// Taken from merger predecessors.
    pub merged: bool,
    /// The grid the score lies on (v2, C2); continuous when unknown.
    pub grid: Grid,
}

impl Cell {
    /// The score if it counts (present, coverage ≥ min_coverage with 1e-9 slack).
    pub fn valid(&self, min_coverage: f64) -> Option<f64> {
        if self.coverage >= min_coverage - super::stats::EPS {
            self.score
        } else {
            None
        }
    }
}

pub struct OrgEntry<'a> {
    pub ods: &'a str,
    pub info: Option<&'a OrgInfo>,
    /// Has at least one pillar score in the focal round (and an `OrgInfo`): gets rows.
    pub focal: bool,
}

pub struct Prepared<'a> {
    pub rounds: Vec<&'a str>,
    /// The first `n_listed` rounds are `input.rounds`; their ordinals drive the trend.
    pub n_listed: usize,
    pub focal: usize,
    pub prev: Option<usize>,
    /// Stored pillars, sorted; the overall value lives at index `pillars.len()`.
    pub pillars: Vec<&'a str>,
    /// Every ODS code seen, sorted.
    pub orgs: Vec<OrgEntry<'a>>,
    pub index: HashMap<&'a str, usize>,
    cells: Vec<Option<Cell>>,
    assessed: Vec<bool>,
    /// Per organisation, the rounds whose values came from predecessors.
    pub merged_rounds: Vec<Vec<usize>>,
    pub min_coverage: f64,
}

const MAX_LINEAGE_DEPTH: usize = 8;

impl<'a> Prepared<'a> {
    /// `None` when there is no focal round.
    pub fn new(input: &'a EngineInput) -> Option<Self> {
        let focal_key = input.rounds.last()?;
        let mut rounds: Vec<&str> = input.rounds.iter().map(String::as_str).collect();
        let n_listed = rounds.len();
        let focal = n_listed - 1;
        let prev = match input.previous_round.as_deref() {
            Some(k) if k != focal_key.as_str() => Some(match rounds.iter().position(|r| *r == k) {
                Some(i) => i,
                None => {
                    rounds.push(k);
                    rounds.len() - 1
                }
            }),
            _ => None,
        };
        // One pass to find organisations, pillars and each score's (round, pillar) slot. Input is
        // usually grouped by organisation with pillars in a repeating order, so each lookup first
        // tries the prediction from the previous score (this keeps 500,000 scores cheap).
        let mut ods: Vec<&str> = input.orgs.iter().map(|o| o.ods.as_str()).collect();
        let mut seen_pillars: Vec<&str> = Vec::new();
        // per score: (run of equal ODS codes, round, pillar in first-seen order)
        let mut slots: Vec<Option<(u32, u32, u32)>> = Vec::with_capacity(input.scores.len());
        let mut runs: Vec<&str> = Vec::new();
        let (mut last_r, mut last_p) = (0usize, 0usize);
        for s in &input.scores {
            let r = if rounds.get(last_r) == Some(&s.round.as_str()) {
                Some(last_r)
            } else {
                rounds.iter().position(|r| *r == s.round)
            };
            let (Some(r), false) = (r, s.pillar == OVERALL) else {
                slots.push(None);
                continue;
            };
            last_r = r;
            let next = if last_p + 1 < seen_pillars.len() {
                last_p + 1
            } else {
                0
            };
            let p = if seen_pillars.get(next) == Some(&s.pillar.as_str()) {
                next
            } else if let Some(p) = seen_pillars.iter().position(|p| *p == s.pillar) {
                p
            } else {
                seen_pillars.push(&s.pillar);
                seen_pillars.len() - 1
            };
            last_p = p;
            if runs.last() != Some(&s.ods.as_str()) {
                runs.push(&s.ods);
            }
            slots.push(Some((runs.len() as u32 - 1, r as u32, p as u32)));
        }
        ods.extend(&runs);
        ods.sort_unstable();
        ods.dedup();
        let mut pillars = seen_pillars.clone();
        pillars.sort_unstable();
        let sorted_of: Vec<usize> = seen_pillars
            .iter()
            .map(|p| pillars.binary_search(p).unwrap_or(0))
            .collect();
        let index: HashMap<&str, usize> = ods.iter().enumerate().map(|(i, o)| (*o, i)).collect();
        let mut infos: Vec<Option<&OrgInfo>> = vec![None; ods.len()];
        for info in &input.orgs {
            if let Some(&i) = index.get(info.ods.as_str()) {
                infos[i] = Some(info);
            }
        }

        let (n_r, n_o, n_p) = (rounds.len(), ods.len(), pillars.len() + 1);
        let grids: HashMap<(&str, _, &str), Grid> = input
            .grids
            .iter()
            .map(|g| ((g.round.as_str(), g.org_type, g.pillar.as_str()), g.grid))
            .collect();
        let mut cells = vec![None; n_r * n_o * n_p];
        let mut assessed = vec![false; n_r * n_o];
        let run_org: Vec<usize> = runs
            .iter()
            .map(|o| index.get(o).copied().unwrap_or(0))
            .collect();
        // The grid of (round, pillar slot, type), looked up by name once per combination: a
        // slot's round and pillar names are those of every score mapped to it.
        let n_types = OrgType::ALL.len();
        let mut grid_of: Vec<Option<Grid>> = vec![None; n_r * seen_pillars.len() * n_types];
        for (s, slot) in input.scores.iter().zip(&slots) {
            let Some((run, r, ps)) = *slot else {
                continue;
            };
            let (o, r, p) = (run_org[run as usize], r as usize, sorted_of[ps as usize]);
            let grid = infos[o].map_or(Grid::CONTINUOUS, |i| {
                let at = (r * seen_pillars.len() + ps as usize) * n_types + i.org_type as usize;
                *grid_of[at].get_or_insert_with(|| {
                    grids
                        .get(&(s.round.as_str(), i.org_type, s.pillar.as_str()))
                        .copied()
                        .unwrap_or(Grid::CONTINUOUS)
                })
            });
            cells[(r * n_o + o) * n_p + p] = Some(Cell {
                score: s.score.filter(|v| v.is_finite()),
                coverage: s.coverage,
                merged: false,
                grid,
            });
            assessed[r * n_o + o] = true;
        }

        let orgs: Vec<OrgEntry> = ods
            .iter()
            .zip(&infos)
            .enumerate()
            .map(|(o, (ods, info))| OrgEntry {
                ods,
                info: *info,
                focal: info.is_some() && assessed[focal * n_o + o],
            })
            .collect();
        let mut prepared = Self {
            rounds,
            n_listed,
            focal,
            prev,
            pillars,
            orgs,
            index,
            cells,
            assessed,
            merged_rounds: vec![Vec::new(); n_o],
            min_coverage: input.options.min_coverage,
        };
        prepared.apply_lineage();
        prepared.fill_overall();
        Some(prepared)
    }

    pub fn n_pillars(&self) -> usize {
        self.pillars.len()
    }

    fn at(&self, round: usize, org: usize, pillar: usize) -> usize {
        (round * self.orgs.len() + org) * (self.pillars.len() + 1) + pillar
    }

    /// The value of (round, org, pillar); pillar `n_pillars()` is the overall.
    pub fn cell(&self, round: usize, org: usize, pillar: usize) -> Option<Cell> {
        self.cells[self.at(round, org, pillar)]
    }

    /// Stored or merged pillar values of `org` in `round` (without the overall).
    fn resolve(
        &self,
        org: usize,
        round: usize,
        path: &mut Vec<usize>,
    ) -> Option<Vec<Option<Cell>>> {
        let n_p = self.pillars.len();
        if self.assessed[round * self.orgs.len() + org] {
            return Some((0..n_p).map(|p| self.cell(round, org, p)).collect());
        }
        let info = self.orgs[org].info?;
        if path.len() >= MAX_LINEAGE_DEPTH || info.predecessors.is_empty() {
            return None;
        }
        path.push(org);
        let mut parts = Vec::new();
        for pred in &info.predecessors {
            if let Some(&i) = self.index.get(pred.as_str())
                && !path.contains(&i)
                && let Some(values) = self.resolve(i, round, path)
            {
                parts.push(values);
            }
        }
        path.pop();
        if parts.is_empty() {
            return None;
        }
        let merged = (0..n_p)
            .map(|p| {
                let present: Vec<Cell> = parts.iter().filter_map(|v| v[p]).collect();
                if present.is_empty() {
                    return None;
                }
                let scores: Option<Vec<f64>> = present.iter().map(|c| c.score).collect();
                Some(Cell {
                    score: scores.map(|s| s.iter().sum::<f64>() / s.len() as f64),
                    coverage: present
                        .iter()
                        .map(|c| c.coverage)
                        .fold(f64::INFINITY, f64::min),
                    merged: true,
                    grid: Grid::gcd_all(present.iter().map(|c| c.grid)).mean_of(present.len()),
                })
            })
            .collect();
        Some(merged)
    }

    fn apply_lineage(&mut self) {
        let n_o = self.orgs.len();
        let mut fills = Vec::new();
        for o in 0..n_o {
            let entry = &self.orgs[o];
            if !entry.focal || entry.info.is_none_or(|i| i.predecessors.is_empty()) {
                continue;
            }
            for r in 0..self.rounds.len() {
                if r == self.focal || self.assessed[r * n_o + o] {
                    continue;
                }
                if let Some(values) = self.resolve(o, r, &mut Vec::new())
                    && values.iter().any(Option::is_some)
                {
                    fills.push((o, r, values));
                }
            }
        }
        for (o, r, values) in fills {
            for (p, c) in values.into_iter().enumerate() {
                let at = self.at(r, o, p);
                self.cells[at] = c;
            }
            self.merged_rounds[o].push(r);
        }
    }

    fn fill_overall(&mut self) {
        let n_p = self.pillars.len();
        for r in 0..self.rounds.len() {
            for o in 0..self.orgs.len() {
                let (mut sum, mut count, mut all_valid, mut min_cov, mut merged) =
                    (0.0, 0usize, true, f64::INFINITY, false);
                let mut grid: Option<Grid> = None;
                for p in 0..n_p {
                    if let Some(c) = self.cell(r, o, p) {
                        count += 1;
                        grid = Some(grid.map_or(c.grid, |g| g.gcd(c.grid)));
                        min_cov = min_cov.min(c.coverage);
                        merged |= c.merged;
                        match c.valid(self.min_coverage) {
                            Some(v) => sum += v,
                            None => all_valid = false,
                        }
                    }
                }
                if count > 0 {
                    let at = self.at(r, o, n_p);
                    self.cells[at] = Some(Cell {
                        score: all_valid.then(|| sum / count as f64),
                        coverage: min_cov,
                        merged,
                        grid: grid.unwrap_or(Grid::CONTINUOUS).mean_of(count),
                    });
                }
            }
        }
    }
}
