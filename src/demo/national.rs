//! The synthetic organisations of a national-scale data set (`dma seed --synthetic`): GP practices
//! and adult social care providers, in the real ICBs and their regions, added to the register so
//! that the demo generator can give them returns. Pure: the caller reads the ICBs and stores the
//! result.
//!
//! England has about 6,300 GP practices and about 18,000 CQC-registered adult social care
//! providers; the synthetic population keeps that ratio. Codes are six characters, `X` + five
//! digits for practices and `W` + five digits for care providers (no trust or ICB code has that
//! shape), and every name starts with "Synthetic", so nobody mistakes them for real ones.

use super::rng::Rng;
use crate::domain::organisation::OrgType;

/// Share of GP practices among the synthetic organisations (6,300 of 24,300).
pub const GP_SHARE: f64 = 6_300.0 / 24_300.0;

/// The most synthetic organisations of one type the code shapes allow.
pub const MAX_PER_TYPE: usize = 99_999;

/// One synthetic organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticOrg {
    pub ods: String,
    pub name: String,
    pub org_type: OrgType,
    pub icb: String,
    pub region: Option<String>,
}

/// `count` synthetic organisations spread over `icbs` (code, region), deterministically from
/// `seed`; `None` when `count` needs more codes than one type has, or there is no ICB.
pub fn synthetic_organisations(
    icbs: &[(String, Option<String>)],
    count: usize,
    seed: u64,
) -> Option<Vec<SyntheticOrg>> {
    let practices = (count as f64 * GP_SHARE).round() as usize;
    let providers = count - practices;
    if icbs.is_empty() || practices > MAX_PER_TYPE || providers > MAX_PER_TYPE {
        return None;
    }
    let mut rng = Rng::stream(seed, &["national-register"]);
    let mut out = Vec::with_capacity(count);
    for (kind, n) in [
        (OrgType::GpPractice, practices),
        (OrgType::SocialCare, providers),
    ] {
        for i in 1..=n {
            let (icb, region) = &icbs[rng.below(icbs.len())];
            let (ods, name) = match kind {
                OrgType::GpPractice => {
                    (format!("X{i:05}"), format!("Synthetic GP practice {i:05}"))
                }
                _ => (
                    format!("W{i:05}"),
                    format!("Synthetic care provider {i:05}"),
                ),
            };
            out.push(SyntheticOrg {
                ods,
                name,
                org_type: kind,
                icb: icb.clone(),
                region: region.clone(),
            });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::organisation::OdsCode;

    fn icbs() -> Vec<(String, Option<String>)> {
        vec![
            ("QOP".into(), Some("Y62".into())),
            ("QMJ".into(), Some("Y56".into())),
        ]
    }

    #[test]
    fn the_ratio_codes_and_icbs_are_as_documented() {
        let orgs = synthetic_organisations(&icbs(), 1_000, 7).expect("orgs");
        assert_eq!(orgs.len(), 1_000);
        let gp = orgs
            .iter()
            .filter(|o| o.org_type == OrgType::GpPractice)
            .count();
        assert_eq!(gp, 259);
        for o in &orgs {
            assert!(OdsCode::parse(&o.ods).is_ok(), "{}", o.ods);
            assert!(o.name.starts_with("Synthetic"));
            let region = icbs()
                .into_iter()
                .find(|(c, _)| *c == o.icb)
                .map(|(_, r)| r);
            assert_eq!(region, Some(o.region.clone()), "region follows the ICB");
        }
        let codes: std::collections::HashSet<&str> = orgs.iter().map(|o| o.ods.as_str()).collect();
        assert_eq!(codes.len(), orgs.len(), "codes are unique");
        assert!(orgs.iter().any(|o| o.icb == "QOP") && orgs.iter().any(|o| o.icb == "QMJ"));
    }

    #[test]
    fn the_same_seed_gives_the_same_population_and_limits_hold() {
        assert_eq!(
            synthetic_organisations(&icbs(), 300, 1),
            synthetic_organisations(&icbs(), 300, 1)
        );
        assert_ne!(
            synthetic_organisations(&icbs(), 300, 1),
            synthetic_organisations(&icbs(), 300, 2)
        );
        assert!(synthetic_organisations(&[], 10, 1).is_none());
        assert!(synthetic_organisations(&icbs(), 200_000, 1).is_none());
    }
}
