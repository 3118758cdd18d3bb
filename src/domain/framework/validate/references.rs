//! Validation of references between questions: `enable_when` conditions (an earlier question, a
//! known operator, an answer that fits) and `carries_over` (questions of this framework).

use std::collections::BTreeMap;

use super::{Validator, framework_key_problem};
use crate::domain::framework::{EnableWhen, Operator, Question, QuestionType};
use crate::domain::value::AnswerValue;

impl Validator<'_> {
    pub(super) fn enable_when(&mut self, path: &str, condition: &EnableWhen, position: usize) {
        let target = match self.positions.get(condition.question.as_str()) {
            None => {
                self.push(
                    format!("{path}.question"),
                    format!(
                        "`{}` is not a question of this framework",
                        condition.question
                    ),
                );
                None
            }
            Some(&(p, _)) if p == position => {
                self.push(
                    format!("{path}.question"),
                    "a question cannot depend on itself",
                );
                None
            }
            Some(&(p, _)) if p > position => {
                self.push(
                    format!("{path}.question"),
                    format!(
                        "`{}` comes later; a condition must refer to an earlier question",
                        condition.question
                    ),
                );
                None
            }
            Some(&(_, q)) => Some(q),
        };
        let Some(operator) = condition.operator() else {
            let known: Vec<&str> = Operator::ALL.iter().map(|o| o.as_str()).collect();
            self.push(
                format!("{path}.operator"),
                format!(
                    "unknown operator `{}`; expected one of {}",
                    condition.operator,
                    known.join(", ")
                ),
            );
            return;
        };
        let answer_path = format!("{path}.answer");
        let answer = match (operator, &condition.answer) {
            (Operator::Exists, None | Some(AnswerValue::Bool(_))) => return,
            (Operator::Exists, Some(_)) => {
                self.push(answer_path, "with `exists` the answer is true or false");
                return;
            }
            (_, None) => {
                self.push(
                    answer_path,
                    format!(
                        "operator `{}` needs an answer to compare with",
                        operator.as_str()
                    ),
                );
                return;
            }
            (_, Some(answer)) => answer,
        };
        let Some(target) = target else { return };
        let orderable = target.kind.is_numeric()
            || target.kind.is_temporal()
            || (target.kind.takes_options() && matches!(answer, AnswerValue::Number(_)));
        if operator.is_ordering() && !orderable {
            self.push(
                format!("{path}.operator"),
                format!(
                    "`{}` compares numbers, dates and times; `{}` is a {} question",
                    operator.as_str(),
                    target.key,
                    target.kind.as_str()
                ),
            );
            return;
        }
        if let Some(message) = comparable_problem(target, condition, answer) {
            self.push(answer_path, message);
        }
    }

    pub(super) fn carries_over(&mut self) {
        let Some(carried) = &self.framework.carries_over else {
            return;
        };
        if let Some(message) = framework_key_problem(&carried.framework) {
            self.push("carries_over.framework", message);
        }
        let mut sources: BTreeMap<&str, &str> = BTreeMap::new();
        for (new_key, old_key) in &carried.questions {
            let path = format!("carries_over.questions[\"{new_key}\"]");
            if !self.positions.contains_key(new_key.as_str()) {
                self.push(
                    path,
                    format!("`{new_key}` is not a question of this framework"),
                );
            } else if old_key.trim().is_empty() {
                self.push(path, "must name the question of the earlier framework");
            } else if let Some(first) = sources.insert(old_key, new_key) {
                self.push(
                    path,
                    format!("`{old_key}` is already carried over as `{first}`"),
                );
            }
        }
    }
}

/// Why `answer` cannot be compared (`=`, `!=`, or ordering) with answers to `target`, if it cannot.
///
/// A choice compares with an option code; a code the question does not list is refused unless
/// the condition names its code system (a coding from a larger system, as FHIR allows: it then
/// never holds) or the question lists no options (a value set). A choice also compares with a
/// number, read from its codes.
fn comparable_problem(
    target: &Question,
    condition: &EnableWhen,
    answer: &AnswerValue,
) -> Option<String> {
    let fits = match (target.kind, answer) {
        (QuestionType::Boolean, AnswerValue::Bool(_)) => true,
        (kind, AnswerValue::Number(n)) if kind.is_numeric() || kind.takes_options() => {
            n.is_finite()
        }
        (kind, AnswerValue::Text(_)) if kind.is_textual() => true,
        (kind, AnswerValue::Text(code)) if kind.takes_options() => {
            let free = condition.system.is_some()
                || target.options.is_empty()
                || kind == QuestionType::OpenChoice;
            if !free && target.option(code).is_none() {
                return Some(format!("`{code}` is not an option of `{}`", target.key));
            }
            true
        }
        _ => false,
    };
    (!fits).then(|| {
        let wanted = match target.kind {
            QuestionType::Boolean => "true or false",
            kind if kind.is_numeric() => "a number",
            kind if kind.takes_options() => "an option code",
            QuestionType::Display => "nothing: a display item has no answer",
            _ => "a string",
        };
        format!(
            "`{}` is a {} question: compare it with {wanted}",
            target.key,
            target.kind.as_str()
        )
    })
}
