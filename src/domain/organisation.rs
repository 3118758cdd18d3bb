//! Organisation value types: ODS codes, organisation types (care settings) and NHS England regions.
//! Pure parsing rules only; storage lives in `db::organisations`.

use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// An ODS code: 3 to 6 upper-case ASCII letters or digits (e.g. `RJ1`, `G6V2S`).
/// Only a valid code can be constructed ("parse, don't validate").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OdsCode(String);

impl OdsCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (3..=6).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "`{raw}` is not an ODS code: 3 to 6 upper-case letters or digits expected"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OdsCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        OdsCode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The care setting of an organisation: the natural peer group. Surveys are tailored per type
/// and types are never pooled in comparisons.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrgType {
    Acute,
    AcuteSpecialist,
    MentalHealth,
    Community,
    Ambulance,
    Online,
    Icb,
    GpPractice,
    SocialCare,
}

impl OrgType {
    pub const ALL: [OrgType; 9] = [
        OrgType::Acute,
        OrgType::AcuteSpecialist,
        OrgType::MentalHealth,
        OrgType::Community,
        OrgType::Ambulance,
        OrgType::Online,
        OrgType::Icb,
        OrgType::GpPractice,
        OrgType::SocialCare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgType::Acute => "acute",
            OrgType::AcuteSpecialist => "acute_specialist",
            OrgType::MentalHealth => "mental_health",
            OrgType::Community => "community",
            OrgType::Ambulance => "ambulance",
            OrgType::Online => "online",
            OrgType::Icb => "icb",
            OrgType::GpPractice => "gp_practice",
            OrgType::SocialCare => "social_care",
        }
    }

    pub fn parse(raw: &str) -> Option<OrgType> {
        OrgType::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// Human label used in reasons and CSV ("acute specialist").
    pub fn label(self) -> String {
        self.as_str().replace('_', " ")
    }
}

impl fmt::Display for OrgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The seven NHS England regions, by code.
pub const REGIONS: [(&str, &str); 7] = [
    ("Y56", "London"),
    ("Y58", "South West"),
    ("Y59", "South East"),
    ("Y60", "Midlands"),
    ("Y61", "East of England"),
    ("Y62", "North West"),
    ("Y63", "North East and Yorkshire"),
];

/// The name of a region code, if the code is one of the seven.
pub fn region_name(code: &str) -> Option<&'static str> {
    REGIONS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ods_codes_follow_the_format() {
        for ok in ["RJ1", "G6V2S", "QE1", "K0N6A", "ABCDEF"] {
            assert!(OdsCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "R1", "rj1", "RJ1-", "ABCDEFG", "R J1"] {
            assert!(OdsCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn org_types_round_trip() {
        for t in OrgType::ALL {
            assert_eq!(OrgType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(OrgType::parse("hospital"), None);
    }

    #[test]
    fn regions_are_the_seven() {
        assert_eq!(region_name("Y62"), Some("North West"));
        assert_eq!(region_name("Y99"), None);
    }
}
