//! `OperationOutcome`: what went wrong (or what to know), each issue pointing at the element
//! concerned with a FHIRPath `expression`.

use fhir_model::r4b::codes::{IssueSeverity, IssueType};
use fhir_model::r4b::resources::{OperationOutcome, OperationOutcomeIssue};

use super::Built;

/// One issue about a resource received or a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    /// FHIR issue type code (`invalid`, `structure`, `required`, `not-supported`, `business-rule`, …).
    pub code: &'static str,
    /// FHIRPath of the element concerned (`Questionnaire.item[2].type`), when there is one.
    pub expression: Option<String>,
    pub diagnostics: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Information,
}

impl Issue {
    pub fn error(
        code: &'static str,
        expression: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            severity: Severity::Error,
            code,
            expression: Some(expression.into()),
            diagnostics: message.into(),
        }
    }

    pub fn warning(
        code: &'static str,
        expression: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            severity: Severity::Warning,
            code,
            expression: Some(expression.into()),
            diagnostics: message.into(),
        }
    }
}

/// An `OperationOutcome` holding these issues (at least one: an empty list becomes an
/// informational "all is well").
pub fn operation_outcome(issues: &[Issue]) -> Built<OperationOutcome> {
    let mut list: Vec<Option<OperationOutcomeIssue>> = issues
        .iter()
        .map(|i| issue(i).map(Some))
        .collect::<Built<_>>()?;
    if list.is_empty() {
        list.push(Some(issue(&Issue {
            severity: Severity::Information,
            code: "informational",
            expression: None,
            diagnostics: "all is well".into(),
        })?));
    }
    OperationOutcome::builder().issue(list).build()
}

fn issue(i: &Issue) -> Built<OperationOutcomeIssue> {
    OperationOutcomeIssue::builder()
        .severity(match i.severity {
            Severity::Error => IssueSeverity::Error,
            Severity::Warning => IssueSeverity::Warning,
            Severity::Information => IssueSeverity::Information,
        })
        .code(i.code.parse().unwrap_or(IssueType::Processing))
        .diagnostics(i.diagnostics.clone())
        .expression(i.expression.iter().map(|e| Some(e.clone())).collect())
        .build()
}
