//! Questionnaire frameworks: pillars → domains → questions, as published by national bodies, with
//! look-ups over the tree. Structural validation lives in `validate`; answers and scoring elsewhere.

#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::organisation::OrgType;
use crate::domain::value::AnswerValue;

pub use validate::{MAX_BANDS, MAX_OPTIONS, MAX_QUESTIONS, Problem};

/// One version of a questionnaire (e.g. "WGLL DMA 2025"). The JSON field names are a contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Stable key: lower-case letters, digits, `-`, `.`, `_`; at most 64 characters.
    #[schema(example = "wgll-2025", pattern = "^[a-z0-9._-]{1,64}$")]
    pub key: String,
    #[schema(example = "What Good Looks Like DMA 2025")]
    pub title: String,
    #[schema(example = "2025.1")]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub method: Method,
    pub scale: Scale,
    /// Questions carried over unchanged from an earlier framework, for like-for-like comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carries_over: Option<CarriesOver>,
    pub pillars: Vec<Pillar>,
}

/// How answers become domain scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Cumulative levels: a domain is at level n when every criterion of levels up to n is met.
    Staged,
    /// Points per answer, weighted mean per domain.
    Scored,
}

/// The range of scores (scored method) or levels (staged method), inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    #[schema(example = 1)]
    pub min: f64,
    #[schema(example = 5)]
    pub max: f64,
}

/// Which questions of this framework repeat, unchanged, a question of an earlier framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarriesOver {
    /// Key of the earlier framework.
    #[schema(example = "wgll-2024")]
    pub framework: String,
    /// New question key → question key in the earlier framework.
    pub questions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pillar {
    #[schema(example = "well_led", pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub key: String,
    #[schema(example = "Well led")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub domains: Vec<Domain>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    #[schema(example = "leadership", pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub key: String,
    #[schema(example = "Leadership")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Organisation types (`acute`, `mental_health`, …) this domain is asked of; an unknown type is
    /// reported by framework validation.
    // Strings rather than `OrgType`, so that an unknown type is a validation problem with a path.
    #[schema(example = json!(["acute", "mental_health"]))]
    pub applies_to: Vec<String>,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable key (FHIR `linkId`): letters, digits, `-`, `_`, `.`; at most 64 characters.
    #[schema(example = "WL-01", pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub key: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    /// A return counts only when every applicable mandatory question is answered.
    #[serde(default = "default_true")]
    pub mandatory: bool,
    /// Weight in the domain's weighted mean (scored method); positive.
    #[serde(default = "default_weight")]
    #[schema(exclusive_minimum = 0, example = 1.0)]
    pub weight: f64,
    /// Answer options of choice questions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<AnswerOption>,
    /// Score bands of number and percentage questions; the first band containing the value wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<Band>,
    /// Staged method: the level this criterion evidences (2 ..= scale max).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 2, example = 3)]
    pub level: Option<u32>,
    /// Asked only when this condition on an earlier answer holds (FHIR `enableWhen`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "one_condition"
    )]
    pub enable_when: Option<EnableWhen>,
}

/// Reads `enable_when` as one condition object (the canonical form, always written) or, for
/// FHIR-shaped documents, an array holding exactly one condition.
fn one_condition<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<EnableWhen>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrList {
        One(EnableWhen),
        List(Vec<EnableWhen>),
    }
    match Option::<OneOrList>::deserialize(d)? {
        None => Ok(None),
        Some(OneOrList::One(condition)) => Ok(Some(condition)),
        Some(OneOrList::List(list)) => match <[EnableWhen; 1]>::try_from(list) {
            Ok([condition]) => Ok(Some(condition)),
            Err(list) => Err(serde::de::Error::custom(format!(
                "enable_when holds one condition, not {}",
                list.len()
            ))),
        },
    }
}

fn default_true() -> bool {
    true
}

fn default_weight() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    SingleChoice,
    MultipleChoice,
    Number,
    Percentage,
    Boolean,
    Text,
}

impl QuestionType {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionType::SingleChoice => "single_choice",
            QuestionType::MultipleChoice => "multiple_choice",
            QuestionType::Number => "number",
            QuestionType::Percentage => "percentage",
            QuestionType::Boolean => "boolean",
            QuestionType::Text => "text",
        }
    }

    /// Single or multiple choice: answered with option codes.
    pub fn is_choice(self) -> bool {
        matches!(
            self,
            QuestionType::SingleChoice | QuestionType::MultipleChoice
        )
    }

    /// Number or percentage: answered with a number, scored through bands.
    pub fn is_numeric(self) -> bool {
        matches!(self, QuestionType::Number | QuestionType::Percentage)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    #[schema(example = "a")]
    pub code: String,
    pub label: String,
    /// Points for this option (scored method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 25)]
    pub score: Option<f64>,
    /// Whether choosing this option meets the question's criterion (staged method).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub meets: bool,
}

/// A numeric range `from <= value <= to` with its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[schema(example = 0)]
    pub from: f64,
    #[schema(example = 50)]
    pub to: f64,
    /// Points for a value in this band (required by the scored method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 0)]
    pub score: Option<f64>,
}

impl Band {
    pub fn contains(&self, value: f64) -> bool {
        self.from <= value && value <= self.to
    }
}

/// A condition on the answer to an earlier question: the question is asked only when it holds.
/// `exists` tests whether that question is answered (`answer: false`: unanswered); `=` and `!=`
/// compare booleans, numbers, option codes or text (for a multiple choice, `=` means the code is
/// chosen); `>`, `<`, `>=`, `<=` compare numbers. An unanswered question satisfies no operator but
/// `exists` with `false`. Full semantics: `answers::condition_holds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableWhen {
    /// Key of an earlier question.
    pub question: String,
    /// One of `=`, `!=`, `>`, `<`, `>=`, `<=`, `exists`.
    // A string rather than `Operator`, so that an unknown operator is a validation problem with a
    // path; read it with `EnableWhen::operator()`.
    #[schema(value_type = Operator)]
    pub operator: String,
    /// The value compared with; for `exists`, a boolean (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerValue>,
}

impl EnableWhen {
    /// The parsed operator, or `None` if it is not one of the seven.
    pub fn operator(&self) -> Option<Operator> {
        Operator::parse(&self.operator)
    }
}

/// Comparison operators of `enable_when` (FHIR `enableWhen.operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Operator {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "exists")]
    Exists,
}

impl Operator {
    pub const ALL: [Operator; 7] = [
        Operator::Eq,
        Operator::Ne,
        Operator::Gt,
        Operator::Lt,
        Operator::Ge,
        Operator::Le,
        Operator::Exists,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Gt => ">",
            Operator::Lt => "<",
            Operator::Ge => ">=",
            Operator::Le => "<=",
            Operator::Exists => "exists",
        }
    }

    pub fn parse(raw: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.as_str() == raw)
    }

    /// `>`, `<`, `>=`, `<=`: only meaningful against number and percentage questions.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Gt | Operator::Lt | Operator::Ge | Operator::Le
        )
    }
}

impl Framework {
    /// Every question in framework order, with its pillar and domain.
    pub fn questions(&self) -> impl Iterator<Item = (&Pillar, &Domain, &Question)> {
        self.pillars.iter().flat_map(|p| {
            p.domains
                .iter()
                .flat_map(move |d| d.questions.iter().map(move |q| (p, d, q)))
        })
    }

    /// The question with this key, with its pillar and domain.
    pub fn question(&self, key: &str) -> Option<(&Pillar, &Domain, &Question)> {
        self.questions().find(|(_, _, q)| q.key == key)
    }

    /// Number of questions in the whole framework.
    pub fn question_count(&self) -> usize {
        self.pillars
            .iter()
            .flat_map(|p| &p.domains)
            .map(|d| d.questions.len())
            .sum()
    }

    /// Whether any domain is asked of this organisation type.
    pub fn applies_to_type(&self, org_type: OrgType) -> bool {
        self.pillars_for(org_type).next().is_some()
    }

    /// The pillars with at least one domain asked of this organisation type, in order.
    pub fn pillars_for(&self, org_type: OrgType) -> impl Iterator<Item = &Pillar> {
        self.pillars
            .iter()
            .filter(move |p| p.applies_to_type(org_type))
    }

    /// Whether questions of this framework are criteria for levels (staged method only).
    pub fn is_staged(&self) -> bool {
        self.method == Method::Staged
    }
}

impl Pillar {
    pub fn applies_to_type(&self, org_type: OrgType) -> bool {
        self.domains.iter().any(|d| d.applies_to_type(org_type))
    }

    /// The domains asked of this organisation type, in order.
    pub fn domains_for(&self, org_type: OrgType) -> impl Iterator<Item = &Domain> {
        self.domains
            .iter()
            .filter(move |d| d.applies_to_type(org_type))
    }
}

impl Domain {
    pub fn applies_to_type(&self, org_type: OrgType) -> bool {
        self.applies_to.iter().any(|t| t == org_type.as_str())
    }
}

impl Question {
    /// The offered option with this code.
    pub fn option(&self, code: &str) -> Option<&AnswerOption> {
        self.options.iter().find(|o| o.code == code)
    }

    /// The first band containing `value` (bands are checked in order).
    pub fn band_for(&self, value: f64) -> Option<&Band> {
        self.bands.iter().find(|b| b.contains(value))
    }
}
