//! A compact index of an analysis's rows, so that filtering a page reads 16 bytes a row instead
//! of the rows themselves (a national analysis has 200,000 rows of several hundred bytes each;
//! scanning them for one page of flagged rows cost milliseconds in cache misses alone).

use std::collections::{HashMap, HashSet};

use crate::domain::divergence::{DivergenceRow, Flag, FlagFilter};
use crate::domain::organisation::OrgType;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Bit i set: the row has `Flag::ALL[i]`.
    flags: u16,
    org_type: OrgType,
    pillar: u16,
    /// 0 for none, else 1 + the index in `regions`/`icbs`.
    region: u16,
    icb: u16,
    org: u32,
}

/// Names interned to small numbers.
#[derive(Debug, Default)]
struct Names(HashMap<String, u32>);

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(name.to_owned()).or_insert(next)
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.0.get(name).copied()
    }
}

fn mask(flags: impl IntoIterator<Item = Flag>) -> u16 {
    flags
        .into_iter()
        .filter_map(|f| Flag::ALL.iter().position(|x| *x == f))
        .fold(0, |m, i| m | (1 << i))
}

/// The rows' filterable fields, row by row, in the rows' order.
#[derive(Debug, Default)]
pub struct RowIndex {
    entries: Vec<Entry>,
    orgs: Names,
    pillars: Names,
    regions: Names,
    icbs: Names,
}

/// What a reader asked for (each `None` is no filter) and may see (`orgs`: `None` for national
/// readers, else the organisations the caller acts for).
#[derive(Debug, Clone, Copy, Default)]
pub struct RowQuery<'a> {
    pub pillar: Option<&'a str>,
    pub org_type: Option<OrgType>,
    pub region: Option<&'a str>,
    pub icb: Option<&'a str>,
    pub ods: Option<&'a str>,
    pub orgs: Option<&'a [String]>,
    pub flags: Option<&'a FlagFilter>,
}

/// A [`RowQuery`] with its names resolved against one index: `Some(None)` is a filter on a name
/// no row has, which keeps nothing.
#[derive(Debug)]
pub struct Matcher {
    pillar: Option<Option<u16>>,
    org_type: Option<OrgType>,
    region: Option<Option<u16>>,
    icb: Option<Option<u16>>,
    ods: Option<Option<u32>>,
    orgs: Option<HashSet<u32>>,
    flagged_only: bool,
    tested: Option<u16>,
    any_of: Option<u16>,
}

impl RowIndex {
    pub fn new(rows: &[DivergenceRow]) -> Self {
        let mut ix = RowIndex::default();
        ix.entries = rows
            .iter()
            .map(|r| Entry {
                flags: mask(r.flags.iter().copied()),
                org_type: r.org_type,
                pillar: ix.pillars.id(&r.pillar) as u16,
                region: r
                    .region_code
                    .as_deref()
                    .map_or(0, |c| ix.regions.id(c) as u16 + 1),
                icb: r
                    .icb_code
                    .as_deref()
                    .map_or(0, |c| ix.icbs.id(c) as u16 + 1),
                org: ix.orgs.id(&r.org_id),
            })
            .collect();
        ix
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn matcher(&self, q: &RowQuery) -> Matcher {
        let small = |names: &Names, v: &str| names.get(v).map(|id| id as u16);
        let coded = |names: &Names, v: &str| names.get(v).map(|id| id as u16 + 1);
        Matcher {
            pillar: q.pillar.map(|p| small(&self.pillars, p)),
            org_type: q.org_type,
            region: q.region.map(|r| coded(&self.regions, r)),
            icb: q.icb.map(|i| coded(&self.icbs, i)),
            ods: q.ods.map(|o| self.orgs.get(o)),
            orgs: q
                .orgs
                .map(|own| own.iter().filter_map(|o| self.orgs.get(o)).collect()),
            flagged_only: q.flags.is_some_and(|f| f.flagged_only),
            tested: q
                .flags
                .filter(|f| f.tested_only)
                .map(|_| mask(Flag::ALL.into_iter().filter(|f| f.is_tested()))),
            any_of: q
                .flags
                .filter(|f| !f.any_of.is_empty())
                .map(|f| mask(f.any_of.iter().copied())),
        }
    }

    /// Whether row `i` is kept by `m` (a matcher of this index).
    pub fn keeps(&self, m: &Matcher, i: usize) -> bool {
        let e = self.entries[i];
        // Flags first: most rows have none, so flag filters decide most rows at once.
        (!m.flagged_only || e.flags != 0)
            && m.tested.is_none_or(|t| e.flags & t != 0)
            && m.any_of.is_none_or(|a| e.flags & a != 0)
            && m.pillar.is_none_or(|p| p == Some(e.pillar))
            && m.org_type.is_none_or(|t| t == e.org_type)
            && m.region.is_none_or(|r| r == Some(e.region))
            && m.icb.is_none_or(|c| c == Some(e.icb))
            && m.ods.is_none_or(|o| o == Some(e.org))
            && m.orgs.as_ref().is_none_or(|own| own.contains(&e.org))
    }
}
