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
    /// Canonical URL (FHIR `Questionnaire.url`); the service's own canonical when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "https://example.org/fhir/Questionnaire/phq-9")]
    pub url: Option<String>,
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
    #[schema(example = "well_led", pattern = "^[^\\x00-\\x1f\\x7f]{1,255}$")]
    pub key: String,
    #[schema(example = "Well led")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Asked only when these conditions hold (FHIR `enableWhen` on a group); see `Question`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "conditions::serialize",
        deserialize_with = "conditions::deserialize"
    )]
    #[schema(value_type = Option<Conditions>)]
    pub enable_when: Vec<EnableWhen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_behavior: Option<EnableBehavior>,
    /// FHIR `required` on the group, kept for exchange; completeness is decided per question.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Made on FHIR import for items that stood outside a group; exported without a group.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implicit: bool,
    pub domains: Vec<Domain>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    #[schema(example = "leadership", pattern = "^[^\\x00-\\x1f\\x7f]{1,255}$")]
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
    /// Asked only when these conditions hold (FHIR `enableWhen` on a group); see `Question`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "conditions::serialize",
        deserialize_with = "conditions::deserialize"
    )]
    #[schema(value_type = Option<Conditions>)]
    pub enable_when: Vec<EnableWhen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_behavior: Option<EnableBehavior>,
    /// FHIR `required` on the group, kept for exchange; completeness is decided per question.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Made on FHIR import for items that stood outside a group; exported without a group.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implicit: bool,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable key (FHIR `linkId`): any characters but control characters; at most 255.
    #[schema(example = "WL-01", pattern = "^[^\\x00-\\x1f\\x7f]{1,255}$")]
    pub key: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    /// A return counts only when every applicable mandatory question is answered.
    #[serde(default = "default_true")]
    pub mandatory: bool,
    /// Scored method: whether the answer earns points. A question that is not scored is recorded
    /// and counts for coverage; its options carry no score and a number needs no bands.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub scored: bool,
    /// Weight in the domain's weighted mean (scored method); positive.
    #[serde(default = "default_weight")]
    #[schema(exclusive_minimum = 0, example = 1.0)]
    pub weight: f64,
    /// Answer options of choice questions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<AnswerOption>,
    /// A choice answered from a value set the framework does not list (FHIR `answerValueSet`):
    /// any code is accepted and none is scored. Ignored when `options` are listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_value_set: Option<String>,
    /// Score bands of number and percentage questions; the first band containing the value wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<Band>,
    /// Staged method: the level this criterion evidences (2 ..= scale max).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 2, example = 3)]
    pub level: Option<u32>,
    /// Asked only when conditions on earlier answers hold (FHIR `enableWhen`): one condition
    /// object, or a list combined by `enable_behavior`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "conditions::serialize",
        deserialize_with = "conditions::deserialize"
    )]
    #[schema(value_type = Option<Conditions>)]
    pub enable_when: Vec<EnableWhen>,
    /// How several conditions combine (FHIR `enableBehavior`): `all` (the default) or `any`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_behavior: Option<EnableBehavior>,
    /// A total the service calculates (FHIR SDC `calculatedExpression`): never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Total>,
    /// The earlier item of the same domain this one is nested under (FHIR: a question's child
    /// items, or the items of a group below the domain): asked only when that item is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// `enable_when` on the wire: one condition object (the canonical form when there is one) or a
/// list of them.
mod conditions {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::EnableWhen;

    pub fn serialize<S: Serializer>(list: &[EnableWhen], s: S) -> Result<S::Ok, S::Error> {
        match list {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EnableWhen>, D::Error> {
        Ok(match Option::<super::Conditions>::deserialize(d)? {
            None => Vec::new(),
            Some(super::Conditions::One(condition)) => vec![condition],
            Some(super::Conditions::Many(list)) => list,
        })
    }
}

/// One condition, or several combined by `enable_behavior`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Conditions {
    One(EnableWhen),
    Many(Vec<EnableWhen>),
}

/// How several conditions combine (FHIR `enableBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnableBehavior {
    /// Every condition holds.
    #[default]
    All,
    /// At least one condition holds.
    Any,
}

impl EnableBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            EnableBehavior::All => "all",
            EnableBehavior::Any => "any",
        }
    }
}

/// A total calculated by the service from the chosen options' scores (FHIR SDC
/// `calculatedExpression` summing `ordinal()` or `weight()`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Total {
    /// What is summed: the questions of this domain, this pillar or the whole framework.
    pub of: TotalOf,
    /// The FHIRPath expression as exchanged; the service evaluates `of` itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "%resource.item.answer.value.ordinal().sum()")]
    pub expression: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TotalOf {
    /// The items nested (at any depth) under the total's own `parent`.
    Group,
    Domain,
    Pillar,
    Framework,
}

fn default_true() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
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
    /// Free text over several lines.
    Text,
    /// A whole number (FHIR `integer`).
    Integer,
    /// Free text on one line (FHIR `string`).
    String,
    /// A web address (FHIR `url`).
    Url,
    /// A date, `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (FHIR `date`).
    Date,
    /// A date with a time, RFC 3339 (FHIR `dateTime`).
    DateTime,
    /// A time of day, `hh:mm:ss` (FHIR `time`).
    Time,
    /// An option code or free text (FHIR `open-choice`); `repeats` in `multiple`.
    OpenChoice,
    /// Text shown to the person filling in; never answered (FHIR `display`).
    Display,
    /// A group of items within a domain (a FHIR `group` nested below pillar and domain): never
    /// answered; the items naming it as `parent` are asked only when it is.
    Group,
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
            QuestionType::Integer => "integer",
            QuestionType::String => "string",
            QuestionType::Url => "url",
            QuestionType::Date => "date",
            QuestionType::DateTime => "date_time",
            QuestionType::Time => "time",
            QuestionType::OpenChoice => "open_choice",
            QuestionType::Display => "display",
            QuestionType::Group => "group",
        }
    }

    /// Single or multiple choice: answered with option codes.
    pub fn is_choice(self) -> bool {
        matches!(
            self,
            QuestionType::SingleChoice | QuestionType::MultipleChoice
        )
    }

    /// Number, percentage or integer: answered with a number, scored through bands.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            QuestionType::Number | QuestionType::Percentage | QuestionType::Integer
        )
    }

    /// Date, date-time or time: answered with ISO text that orders as it reads.
    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            QuestionType::Date | QuestionType::DateTime | QuestionType::Time
        )
    }

    /// Answered with free text (of any kind but a choice).
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            QuestionType::Text | QuestionType::String | QuestionType::Url
        ) || self.is_temporal()
    }

    /// Whether the question can hold options (choice and open choice).
    pub fn takes_options(self) -> bool {
        self.is_choice() || self == QuestionType::OpenChoice
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    #[schema(example = "a")]
    pub code: String,
    /// The code system of `code` (FHIR `Coding.system`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "http://loinc.org")]
    pub system: Option<String>,
    /// How FHIR carries the option when not as a coding: `integer`, `date`, `time` or `string`;
    /// `code` then holds the value as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_type: Option<OptionValueType>,
    pub label: String,
    /// Points for this option (scored method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 25)]
    pub score: Option<f64>,
    /// Whether choosing this option meets the question's criterion (staged method).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub meets: bool,
}

/// How FHIR carries an option that is not a coding (`answerOption.value[x]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptionValueType {
    Integer,
    Date,
    Time,
    String,
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
    /// The code system of a coded answer (FHIR `answerCoding.system`). A condition with a system
    /// may name a code that the question does not list; it then never holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The FHIR type of `answer` (`answerInteger`, `answerDate`, …), kept for exchange; derived
    /// from the question when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_type: Option<ConditionAnswerType>,
}

/// FHIR `enableWhen.answer[x]` types the service holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionAnswerType {
    Boolean,
    Decimal,
    Integer,
    Date,
    DateTime,
    Time,
    String,
    Coding,
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
    /// The pillar's conditions with how they combine.
    pub fn conditions(&self) -> (&[EnableWhen], EnableBehavior) {
        (&self.enable_when, self.enable_behavior.unwrap_or_default())
    }

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
    /// The domain's conditions with how they combine.
    pub fn conditions(&self) -> (&[EnableWhen], EnableBehavior) {
        (&self.enable_when, self.enable_behavior.unwrap_or_default())
    }

    pub fn applies_to_type(&self, org_type: OrgType) -> bool {
        self.applies_to.iter().any(|t| t == org_type.as_str())
    }
}

impl Question {
    /// The question's conditions with how they combine.
    pub fn conditions(&self) -> (&[EnableWhen], EnableBehavior) {
        (&self.enable_when, self.enable_behavior.unwrap_or_default())
    }

    /// Whether the question takes an answer: not a display item or a group, not a calculated total.
    pub fn is_answerable(&self) -> bool {
        !matches!(self.kind, QuestionType::Display | QuestionType::Group) && self.total.is_none()
    }

    /// The offered option with this code.
    pub fn option(&self, code: &str) -> Option<&AnswerOption> {
        self.options.iter().find(|o| o.code == code)
    }

    /// The first band containing `value` (bands are checked in order).
    pub fn band_for(&self, value: f64) -> Option<&Band> {
        self.bands.iter().find(|b| b.contains(value))
    }
}
