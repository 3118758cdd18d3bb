//! The value of one answer: shared by the framework (conditions compare against a value) and by
//! answers (what a return holds), so that neither module depends on the other for it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The value of one answer. On the wire: `true` (boolean), `42.5` (number, percentage), `"b"`
/// (single-choice option code, or free text) or `["a", "c"]` (multiple-choice option codes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AnswerValue {
    Bool(bool),
    Number(f64),
    Text(String),
    Choices(Vec<String>),
}

impl AnswerValue {
    /// What kind of JSON value this is, for messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            AnswerValue::Bool(_) => "a boolean",
            AnswerValue::Number(_) => "a number",
            AnswerValue::Text(_) => "a string",
            AnswerValue::Choices(_) => "an array",
        }
    }
}
