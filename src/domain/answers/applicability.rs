//! Which questions are asked of an organisation, given its type and its current answers:
//! the domain's `applies_to` and the question's `enable_when`, followed through chains.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::{AnswerValue, Answers, check_value};
use crate::domain::framework::{EnableBehavior, EnableWhen, Framework, Operator};
use crate::domain::organisation::OrgType;

/// The applicability of every question of a framework for one organisation type and one set of
/// answers, computed once in framework order.
///
/// A question is applicable when its domain applies to the organisation type and, if it has an
/// `enable_when`, the question it refers to is itself applicable and the condition holds on that
/// question's answer (see [`condition_holds`]). Because a condition may only refer to an earlier
/// question, one pass settles chains; a condition referring to an unknown or later question (an
/// invalid framework) is treated as not holding.
///
/// Only valid answers count (see [`super::check_value`]): an answer that no longer fits its
/// question is treated as no answer, here and in scoring and completeness.
#[derive(Debug, Clone)]
pub struct Applicability<'a> {
    states: HashMap<&'a str, State<'a>>,
    /// Per domain key: whether the domain applies to the type and its (and its pillar's)
    /// conditions hold.
    domains: HashMap<&'a str, bool>,
}

#[derive(Debug, Clone, Copy)]
struct State<'a> {
    applicable: bool,
    answer: Option<&'a AnswerValue>,
}

impl<'a> Applicability<'a> {
    pub fn new(framework: &'a Framework, org_type: OrgType, answers: &'a Answers) -> Self {
        let mut states: HashMap<&'a str, State<'a>> = HashMap::new();
        let mut domains: HashMap<&'a str, bool> = HashMap::new();
        for pillar in &framework.pillars {
            // A group's conditions refer to questions before it, so they are settled on entry.
            let pillar_on = holds(pillar.conditions(), &states);
            for domain in &pillar.domains {
                let domain_on = pillar_on
                    && domain.applies_to_type(org_type)
                    && holds(domain.conditions(), &states);
                domains.entry(domain.key.as_str()).or_insert(domain_on);
                for question in &domain.questions {
                    if states.contains_key(question.key.as_str()) {
                        continue; // duplicate key in an invalid framework: the first one wins
                    }
                    // A nested item is asked only when the item it is nested under is.
                    let parent_on = question
                        .parent
                        .as_deref()
                        .is_none_or(|p| states.get(p).is_some_and(|s| s.applicable));
                    let applicable =
                        domain_on && parent_on && holds(question.conditions(), &states);
                    let answer = answers
                        .get(&question.key)
                        .map(|a| &a.value)
                        .filter(|value| check_value(question, value).is_ok());
                    states.insert(&question.key, State { applicable, answer });
                }
            }
        }
        Applicability { states, domains }
    }

    /// Whether a domain is asked now: it applies to the organisation type and its own and its
    /// pillar's conditions hold.
    pub fn domain_enabled(&self, domain_key: &str) -> bool {
        self.domains.get(domain_key).copied().unwrap_or(false)
    }

    /// Whether the question is asked of this organisation now. Unknown keys are not applicable.
    pub fn is_applicable(&self, key: &str) -> bool {
        self.states.get(key).is_some_and(|s| s.applicable)
    }

    /// The valid answer of an applicable question, if it has one.
    pub fn answer(&self, key: &str) -> Option<&'a AnswerValue> {
        self.states
            .get(key)
            .filter(|s| s.applicable)
            .and_then(|s| s.answer)
    }

    /// Whether an applicable question has a valid answer.
    pub fn is_answered(&self, key: &str) -> bool {
        self.answer(key).is_some()
    }
}

/// Whether a list of conditions holds, each on its question's state so far: no condition holds
/// trivially; otherwise every one (`all`) or at least one (`any`) holds, and a condition on a
/// question that is not applicable (or unknown) does not hold.
fn holds(
    (conditions, behavior): (&[EnableWhen], EnableBehavior),
    states: &HashMap<&str, State<'_>>,
) -> bool {
    conditions_hold(conditions, behavior, |key| {
        states
            .get(key)
            .map(|state| (state.applicable, state.answer))
    })
}

/// Whether `conditions` combined by `behavior` hold, given a look-up from a question key to
/// (applicable, valid answer) for the questions settled so far. An empty list holds.
pub fn conditions_hold<'v>(
    conditions: &[EnableWhen],
    behavior: EnableBehavior,
    state: impl Fn(&str) -> Option<(bool, Option<&'v AnswerValue>)>,
) -> bool {
    if conditions.is_empty() {
        return true;
    }
    let one = |condition: &EnableWhen| match state(condition.question.as_str()) {
        Some((true, answer)) => condition_holds(condition, answer),
        // A condition on a question that is not asked (or unknown) does not hold.
        _ => false,
    };
    match behavior {
        EnableBehavior::All => conditions.iter().all(one),
        EnableBehavior::Any => conditions.iter().any(one),
    }
}

/// Whether `condition` holds given the (valid) answer of the question it refers to, `None` when
/// that question is unanswered.
///
/// - `exists`: with answer `true` (the default) the question has an answer; with `false` it has
///   none. This is the only operator that can hold for an unanswered question.
/// - `=`: boolean to boolean, number to number, string to a single-choice code or free text
///   (exact, case-sensitive); against a multiple-choice answer, the chosen codes contain the string.
/// - `!=`: the values are comparable as for `=` and not equal (multiple choice: the code is not
///   chosen).
/// - `>`, `<`, `>=`, `<=`: the answer is a number and compares so with the condition's number.
///
/// Anything else (unanswered, values of different types, an unknown operator, a missing condition
/// answer) does not hold.
pub fn condition_holds(condition: &EnableWhen, answer: Option<&AnswerValue>) -> bool {
    let Some(operator) = condition.operator() else {
        return false;
    };
    if operator == Operator::Exists {
        let wanted = match &condition.answer {
            None | Some(AnswerValue::Bool(true)) => true,
            Some(AnswerValue::Bool(false)) => false,
            Some(_) => return false,
        };
        return answer.is_some() == wanted;
    }
    let (Some(actual), Some(expected)) = (answer, &condition.answer) else {
        return false;
    };
    match operator {
        Operator::Eq => equals(actual, expected) == Some(true),
        Operator::Ne => equals(actual, expected) == Some(false),
        Operator::Gt | Operator::Lt | Operator::Ge | Operator::Le => {
            let order = match (actual, expected) {
                (AnswerValue::Number(a), AnswerValue::Number(e)) => a.partial_cmp(e),
                // A choice compared with a number: its code read as one.
                (AnswerValue::Text(code), AnswerValue::Number(e)) => code
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(|a| a.partial_cmp(e)),
                // Dates and times in ISO form order as they read.
                (AnswerValue::Text(a), AnswerValue::Text(e)) => Some(a.as_str().cmp(e.as_str())),
                _ => None,
            };
            match order {
                None => false,
                Some(order) => match operator {
                    Operator::Gt => order == Ordering::Greater,
                    Operator::Lt => order == Ordering::Less,
                    Operator::Ge => order != Ordering::Less,
                    _ => order != Ordering::Greater,
                },
            }
        }
        Operator::Exists => false, // handled above
    }
}

/// `Some(equal)` when the two values are comparable, `None` otherwise.
fn equals(actual: &AnswerValue, expected: &AnswerValue) -> Option<bool> {
    match (actual, expected) {
        (AnswerValue::Bool(a), AnswerValue::Bool(e)) => Some(a == e),
        (AnswerValue::Number(a), AnswerValue::Number(e)) => Some(a == e),
        (AnswerValue::Text(a), AnswerValue::Text(e)) => Some(a == e),
        (AnswerValue::Choices(chosen), AnswerValue::Text(code)) => Some(chosen.contains(code)),
        (AnswerValue::Text(code), AnswerValue::Number(e)) => {
            code.trim().parse::<f64>().ok().map(|a| a == *e)
        }
        (AnswerValue::Choices(chosen), AnswerValue::Number(e)) => Some(
            chosen
                .iter()
                .any(|code| code.trim().parse::<f64>().ok() == Some(*e)),
        ),
        _ => None,
    }
}

/// Whether one question is applicable for this organisation type and these answers.
/// (To ask about many questions, build an [`Applicability`] once.)
pub fn is_applicable(
    framework: &Framework,
    org_type: OrgType,
    answers: &Answers,
    question_key: &str,
) -> bool {
    Applicability::new(framework, org_type, answers).is_applicable(question_key)
}

/// Keys of the applicable mandatory questions without a valid answer, in framework order.
/// A return may be submitted only when this is empty.
pub fn missing_mandatory(
    framework: &Framework,
    org_type: OrgType,
    answers: &Answers,
) -> Vec<String> {
    let applicability = Applicability::new(framework, org_type, answers);
    framework
        .questions()
        .filter(|(_, _, q)| {
            q.mandatory
                && q.is_answerable()
                && applicability.is_applicable(&q.key)
                && !applicability.is_answered(&q.key)
        })
        .map(|(_, _, q)| q.key.clone())
        .collect()
}
