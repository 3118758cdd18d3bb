//! Answers to framework questions: the value types, checking one answer against its question, and
//! applicability (care setting and `enable_when`). Scoring lives in `domain::scoring`.

mod applicability;
mod progress;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::framework::{Domain, Framework, Question, QuestionType};
use crate::domain::organisation::OrgType;

pub use crate::domain::value::AnswerValue;
pub use applicability::{
    Applicability, condition_holds, conditions_hold, is_applicable, missing_mandatory,
};
pub use progress::{Counts, DomainProgress, PillarProgress, Progress, QuestionState, progress};

/// Longest free-text answer, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest evidence note or link, in characters.
pub const MAX_EVIDENCE_CHARS: usize = 4_000;

/// One answer with an optional evidence note or link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Answer {
    pub value: AnswerValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// The answers of one assessment, keyed by question key.
pub type Answers = BTreeMap<String, Answer>;

/// Why an answer cannot be accepted for a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnswerProblem {
    /// The question key the answer was given for.
    #[schema(example = "WL-01")]
    pub question: String,
    pub kind: AnswerProblemKind,
    #[schema(example = "`z` is not an option of this question")]
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerProblemKind {
    /// No question has this key.
    UnknownQuestion,
    /// The question's domain is not asked of this organisation type.
    NotApplicable,
    /// The JSON type does not fit the question type.
    WrongType,
    /// An option code the question does not offer.
    OptionNotOffered,
    /// A multiple-choice answer names the same option twice.
    RepeatedOption,
    /// A number outside 0..=100 (percentage) or outside every band.
    OutOfRange,
    /// Free text longer than `MAX_TEXT_CHARS`.
    TooLong,
    /// A display item or a calculated total: the service fills these, nobody answers them.
    NotAnswerable,
    /// A date, date-time or time that does not read as one.
    BadFormat,
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.question, self.message)
    }
}

impl std::error::Error for AnswerProblem {}

/// Checks one answer of an organisation of type `org_type` to question `question_key`.
///
/// `enable_when` is deliberately not checked: a conditional answer may be saved before its
/// condition holds; it is then simply not applicable when scoring.
pub fn check_answer(
    framework: &Framework,
    org_type: OrgType,
    question_key: &str,
    value: &AnswerValue,
) -> Result<(), AnswerProblem> {
    let found = framework.question(question_key).map(|(_, d, q)| (d, q));
    check_indexed(found, org_type, question_key, value)
}

fn check_indexed(
    found: Option<(&Domain, &Question)>,
    org_type: OrgType,
    question_key: &str,
    value: &AnswerValue,
) -> Result<(), AnswerProblem> {
    let problem = |kind, message: String| AnswerProblem {
        question: question_key.to_owned(),
        kind,
        message,
    };
    let Some((domain, question)) = found else {
        return Err(problem(
            AnswerProblemKind::UnknownQuestion,
            "no question of this framework has this key".to_owned(),
        ));
    };
    if !domain.applies_to_type(org_type) {
        return Err(problem(
            AnswerProblemKind::NotApplicable,
            format!(
                "domain `{}` is not asked of {} organisations",
                domain.key,
                org_type.label()
            ),
        ));
    }
    check_value(question, value)
}

/// Checks a batch of answers (e.g. one save) and returns every problem, in key order. Same rules
/// as [`check_answer`], with the question look-up built once.
pub fn check_answers(
    framework: &Framework,
    org_type: OrgType,
    answers: &Answers,
) -> Result<(), Vec<AnswerProblem>> {
    let mut index: HashMap<&str, (&Domain, &Question)> = HashMap::new();
    for (_, domain, question) in framework.questions() {
        index
            .entry(question.key.as_str())
            .or_insert((domain, question));
    }
    let problems: Vec<AnswerProblem> = answers
        .iter()
        .filter_map(|(key, answer)| {
            check_indexed(
                index.get(key.as_str()).copied(),
                org_type,
                key,
                &answer.value,
            )
            .err()
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Checks that `value` is a valid answer to `question`, whatever the organisation: the JSON type
/// fits the question type, option codes are offered (and distinct), numbers are finite and fall in
/// a band (percentages also in 0..=100), and text is at most `MAX_TEXT_CHARS` characters.
/// A multiple-choice answer may be an empty array ("none of these").
pub fn check_value(question: &Question, value: &AnswerValue) -> Result<(), AnswerProblem> {
    let problem = |kind, message: String| AnswerProblem {
        question: question.key.clone(),
        kind,
        message,
    };
    let wrong_type = |wanted: &str| {
        problem(
            AnswerProblemKind::WrongType,
            format!(
                "a {} question is answered with {wanted}, not {}",
                question.kind.as_str(),
                value.describe()
            ),
        )
    };
    let offered = |code: &str| {
        if question.option(code).is_some() {
            Ok(())
        } else {
            Err(problem(
                AnswerProblemKind::OptionNotOffered,
                format!("`{code}` is not an option of this question"),
            ))
        }
    };
    let text = |text: &str| {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(problem(
                AnswerProblemKind::TooLong,
                format!("free text is limited to {MAX_TEXT_CHARS} characters, not {chars}"),
            ));
        }
        Ok(())
    };
    if !question.is_answerable() {
        return Err(problem(
            AnswerProblemKind::NotAnswerable,
            if question.total.is_some() {
                "this total is calculated by the service from the other answers".to_owned()
            } else {
                format!("a {} item takes no answer", question.kind.as_str())
            },
        ));
    }
    // Listed options are the only codes; a choice over a value set takes any code.
    let any_code = question.options.is_empty();
    match (question.kind, value) {
        (QuestionType::SingleChoice, AnswerValue::Text(code)) if any_code => non_empty_code(code)
            .map_err(|message| problem(AnswerProblemKind::OptionNotOffered, message)),
        (QuestionType::SingleChoice, AnswerValue::Text(code)) => offered(code),
        (QuestionType::SingleChoice, _) => Err(wrong_type("an option code (a string)")),
        (QuestionType::MultipleChoice, AnswerValue::Choices(codes)) => {
            for (i, code) in codes.iter().enumerate() {
                if any_code {
                    non_empty_code(code)
                        .map_err(|message| problem(AnswerProblemKind::OptionNotOffered, message))?;
                } else {
                    offered(code)?;
                }
                if codes[..i].contains(code) {
                    return Err(problem(
                        AnswerProblemKind::RepeatedOption,
                        format!("`{code}` is chosen more than once"),
                    ));
                }
            }
            Ok(())
        }
        (QuestionType::MultipleChoice, _) => Err(wrong_type("an array of option codes")),
        (QuestionType::OpenChoice, AnswerValue::Text(value)) => text(value),
        (QuestionType::OpenChoice, AnswerValue::Choices(values)) => {
            for (i, value) in values.iter().enumerate() {
                text(value)?;
                if values[..i].contains(value) {
                    return Err(problem(
                        AnswerProblemKind::RepeatedOption,
                        format!("`{value}` is given more than once"),
                    ));
                }
            }
            Ok(())
        }
        (QuestionType::OpenChoice, _) => Err(wrong_type("an option code or free text")),
        (kind, AnswerValue::Number(n)) if kind.is_numeric() => {
            if !n.is_finite() {
                return Err(wrong_type("a finite number"));
            }
            if kind == QuestionType::Integer && (n.fract() != 0.0 || n.abs() > f64::from(i32::MAX))
            {
                return Err(wrong_type("a whole number"));
            }
            if kind == QuestionType::Percentage && !(0.0..=100.0).contains(n) {
                return Err(problem(
                    AnswerProblemKind::OutOfRange,
                    format!("a percentage lies between 0 and 100, not {n}"),
                ));
            }
            if !question.bands.is_empty() && question.band_for(*n).is_none() {
                return Err(problem(
                    AnswerProblemKind::OutOfRange,
                    format!("{n} lies outside every band of this question"),
                ));
            }
            Ok(())
        }
        (kind, _) if kind.is_numeric() => Err(wrong_type("a number")),
        (QuestionType::Boolean, AnswerValue::Bool(_)) => Ok(()),
        (QuestionType::Boolean, _) => Err(wrong_type("true or false")),
        (kind, AnswerValue::Text(value)) if kind.is_temporal() => {
            if temporal_ok(kind, value) {
                Ok(())
            } else {
                Err(problem(
                    AnswerProblemKind::BadFormat,
                    format!(
                        "`{value}` is not a {}",
                        match kind {
                            QuestionType::Date => "date (YYYY, YYYY-MM or YYYY-MM-DD)",
                            QuestionType::DateTime => "date-time (RFC 3339, or a date)",
                            _ => "time (hh:mm:ss)",
                        }
                    ),
                ))
            }
        }
        (_, AnswerValue::Text(value)) => text(value),
        _ => Err(wrong_type("a string")),
    }
}

fn non_empty_code(code: &str) -> Result<(), String> {
    if code.trim().is_empty() || code.chars().count() > MAX_TEXT_CHARS {
        Err("an option code is a non-empty string".to_owned())
    } else {
        Ok(())
    }
}

/// Whether `value` reads as the date, date-time or time that `kind` asks for (FHIR's formats:
/// a date may be partial, a date-time may be a date alone).
fn temporal_ok(kind: QuestionType, value: &str) -> bool {
    use chrono::{NaiveDate, NaiveTime};
    let date = |v: &str| match v.len() {
        4 => v.chars().all(|c| c.is_ascii_digit()),
        7 => NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").is_ok(),
        10 => NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok(),
        _ => false,
    };
    match kind {
        QuestionType::Date => date(value),
        QuestionType::DateTime => {
            date(value) || chrono::DateTime::parse_from_rfc3339(value).is_ok()
        }
        QuestionType::Time => {
            NaiveTime::parse_from_str(value, "%H:%M:%S").is_ok()
                || NaiveTime::parse_from_str(value, "%H:%M:%S%.f").is_ok()
        }
        _ => false,
    }
}
