//! Between a question's form fields and its answer: reading what a person entered (with messages
//! worded for them), showing an answer back in the fields, and as text on read-only pages. The
//! checks themselves are the domain's (`domain::answers::check_answer`).

use std::collections::HashMap;

use crate::domain::answers::{
    Answer, AnswerProblemKind, AnswerValue, MAX_EVIDENCE_CHARS, MAX_TEXT_CHARS, check_answer,
};
use crate::domain::framework::{Framework, Question, QuestionType};
use crate::domain::organisation::OrgType;

/// What a question's fields show: the chosen or typed values and the evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shown {
    pub values: Vec<String>,
    pub evidence: String,
}

/// A posted form: every field with all its values, in order.
#[derive(Debug, Default)]
pub struct Posted {
    fields: HashMap<String, Vec<String>>,
}

impl Posted {
    pub fn parse(body: &[u8]) -> Option<Posted> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
        let mut fields: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            fields.entry(k).or_default().push(v);
        }
        Some(Posted { fields })
    }

    pub fn one(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.fields.get(name).map_or(&[], Vec::as_slice)
    }

    /// What the person entered for one question (present only when the form carried it).
    pub fn shown(&self, key: &str) -> Option<Shown> {
        self.one(&format!("present.{key}"))?;
        Some(Shown {
            values: self
                .all(&format!("answer.{key}"))
                .iter()
                .filter(|v| !v.trim().is_empty())
                .cloned()
                .collect(),
            evidence: self
                .one(&format!("evidence.{key}"))
                .unwrap_or("")
                .to_owned(),
        })
    }

    /// The answer the page was rendered with (`orig.{key}`), `Err` when the field is missing or
    /// not one this service wrote.
    pub fn original(&self, key: &str) -> Result<Option<Answer>, ()> {
        let raw = self.one(&format!("orig.{key}")).ok_or(())?;
        serde_json::from_str(raw).map_err(|_| ())
    }
}

/// The hidden `orig.{key}` value of an answer.
pub fn encode(answer: Option<&Answer>) -> String {
    serde_json::to_string(&answer).unwrap_or_else(|_| "null".into())
}

/// An answer as its fields show it.
pub fn shown_of(answer: Option<&Answer>) -> Shown {
    let Some(a) = answer else {
        return Shown::default();
    };
    let values = match &a.value {
        AnswerValue::Bool(true) => vec!["yes".to_owned()],
        AnswerValue::Bool(false) => vec!["no".to_owned()],
        AnswerValue::Number(n) => vec![format!("{n}")],
        AnswerValue::Text(t) => vec![t.clone()],
        AnswerValue::Choices(c) => c.clone(),
    };
    Shown {
        values,
        evidence: a.evidence.clone().unwrap_or_default(),
    }
}

/// Which field of a question a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Answer,
    Evidence,
}

impl Field {
    /// The id of the field's element on the page (what an error summary links to).
    pub fn id(self, key: &str) -> String {
        match self {
            Field::Answer => format!("answer-{key}"),
            Field::Evidence => format!("evidence-{key}"),
        }
    }
}

/// Text as a browser posts it, as the service keeps it: line breaks as `\n`, no surrounding
/// spaces.
fn clean(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_owned()
}

/// Reads one question's fields into an answer (`None`: no answer), or says what is wrong (and
/// with which field) in words for the person filling in.
pub fn read(
    framework: &Framework,
    org_type: OrgType,
    q: &Question,
    shown: &Shown,
) -> Result<Option<Answer>, (Field, String)> {
    let evidence = clean(&shown.evidence);
    if evidence.chars().count() > MAX_EVIDENCE_CHARS {
        return Err((
            Field::Evidence,
            format!(
                "Evidence must be {} characters or fewer",
                thousands(MAX_EVIDENCE_CHARS)
            ),
        ));
    }
    let control = |t: &str| crate::api::text::first_control(t, true).is_some();
    if control(&evidence) {
        return Err((
            Field::Evidence,
            "Evidence must not contain special control characters".into(),
        ));
    }
    if shown.values.iter().any(|v| control(v)) {
        return Err((
            Field::Answer,
            "Your answer must not contain special control characters".into(),
        ));
    }
    let first = shown.values.first().map(|v| clean(v));
    let value = match (q.kind, first) {
        (_, None) => None,
        (QuestionType::Boolean, Some(v)) => match v.as_str() {
            "yes" => Some(AnswerValue::Bool(true)),
            "no" => Some(AnswerValue::Bool(false)),
            _ => return Err((Field::Answer, "Select yes or no".into())),
        },
        (QuestionType::MultipleChoice, Some(_)) => Some(AnswerValue::Choices(
            shown.values.iter().map(|v| v.trim().to_owned()).collect(),
        )),
        (QuestionType::Integer, Some(v)) => match v.replace(',', "").parse::<i64>() {
            Ok(n) => Some(AnswerValue::Number(n as f64)),
            Err(_) => return Err((Field::Answer, "Enter a whole number, like 12".into())),
        },
        (kind, Some(v)) if kind.is_numeric() => {
            match v
                .trim_end_matches('%')
                .trim()
                .replace(',', "")
                .parse::<f64>()
            {
                Ok(n) if n.is_finite() => Some(AnswerValue::Number(n)),
                _ => {
                    return Err((
                        Field::Answer,
                        if kind == QuestionType::Percentage {
                            "Enter a percentage as a number, like 75".into()
                        } else {
                            "Enter a number, like 75".into()
                        },
                    ));
                }
            }
        }
        // An open choice: one answer per line; several make a repeated answer.
        (QuestionType::OpenChoice, Some(_)) => {
            let lines: Vec<String> = shown
                .values
                .iter()
                .flat_map(|v| v.lines())
                .map(clean)
                .filter(|l| !l.is_empty())
                .collect();
            match lines.len() {
                0 => None,
                1 => Some(AnswerValue::Text(lines[0].clone())),
                _ => Some(AnswerValue::Choices(lines)),
            }
        }
        (_, Some(v)) => Some(AnswerValue::Text(v)),
    };
    let Some(value) = value else {
        if !evidence.is_empty() {
            return Err((
                Field::Evidence,
                "Answer the question before adding evidence, or remove the evidence".into(),
            ));
        }
        return Ok(None);
    };
    if let Err(p) = check_answer(framework, org_type, &q.key, &value) {
        return Err((Field::Answer, person_message(q, p.kind, &p.message)));
    }
    Ok(Some(Answer {
        value,
        evidence: (!evidence.is_empty()).then_some(evidence),
    }))
}

fn person_message(q: &Question, kind: AnswerProblemKind, detail: &str) -> String {
    match kind {
        AnswerProblemKind::OptionNotOffered | AnswerProblemKind::RepeatedOption => {
            "Select one of the options shown".into()
        }
        AnswerProblemKind::OutOfRange if q.kind == QuestionType::Percentage => {
            "Enter a percentage from 0 to 100".into()
        }
        AnswerProblemKind::OutOfRange => match (
            q.bands.iter().map(|b| b.from).reduce(f64::min),
            q.bands.iter().map(|b| b.to).reduce(f64::max),
        ) {
            (Some(lo), Some(hi)) => format!("Enter a number from {lo} to {hi}"),
            _ => "Enter a number in the range this question asks for".into(),
        },
        AnswerProblemKind::TooLong => format!(
            "Your answer must be {} characters or fewer",
            thousands(MAX_TEXT_CHARS)
        ),
        AnswerProblemKind::BadFormat => match q.kind {
            QuestionType::Date => "Enter a date like 2026-03-31".into(),
            QuestionType::DateTime => "Enter a date and time like 2026-03-31T14:30:00Z".into(),
            _ => "Enter a time like 14:30:00".into(),
        },
        AnswerProblemKind::WrongType if q.kind == QuestionType::Integer => {
            "Enter a whole number, like 12".into()
        }
        AnswerProblemKind::WrongType if q.kind.is_numeric() => "Enter a number, like 75".into(),
        AnswerProblemKind::NotApplicable => {
            "This question is not asked of your organisation type".into()
        }
        _ => {
            let mut s = detail.to_owned();
            if let Some(c) = s.get(..1) {
                s = c.to_uppercase() + &s[1..];
            }
            s
        }
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An answer as text for a person: option labels, Yes/No, the number or text.
pub fn text_of(q: &Question, value: &AnswerValue) -> String {
    let label = |code: &str| {
        q.option(code)
            .map_or_else(|| code.to_owned(), |o| o.label.clone())
    };
    match value {
        AnswerValue::Bool(true) => "Yes".into(),
        AnswerValue::Bool(false) => "No".into(),
        AnswerValue::Number(n) if q.kind == QuestionType::Percentage => format!("{n} %"),
        AnswerValue::Number(n) => format!("{n}"),
        AnswerValue::Text(t) if q.kind.takes_options() => label(t),
        AnswerValue::Text(t) => t.clone(),
        AnswerValue::Choices(c) => c.iter().map(|c| label(c)).collect::<Vec<_>>().join("; "),
    }
}

/// An optional answer as text (`Not answered` for none).
pub fn answer_text(q: &Question, a: Option<&Answer>) -> String {
    a.map_or_else(|| "Not answered".to_owned(), |a| text_of(q, &a.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::staged;

    fn shown(values: &[&str], evidence: &str) -> Shown {
        Shown {
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            evidence: evidence.into(),
        }
    }

    #[test]
    fn reads_fields_into_answers_with_person_worded_problems() {
        let f = staged();
        let q = |k: &str| f.question(k).unwrap().2;
        let yes = read(
            &f,
            OrgType::Acute,
            q("WL-01"),
            &shown(&["yes"], " minutes "),
        )
        .unwrap();
        assert_eq!(
            yes,
            Some(Answer {
                value: AnswerValue::Bool(true),
                evidence: Some("minutes".into())
            })
        );
        assert_eq!(
            read(&f, OrgType::Acute, q("WL-01"), &shown(&[], "")),
            Ok(None)
        );
        assert_eq!(
            read(&f, OrgType::Acute, q("WL-01"), &shown(&[], "a note")),
            Err((
                Field::Evidence,
                "Answer the question before adding evidence, or remove the evidence".into()
            ))
        );
        assert_eq!(
            read(&f, OrgType::Acute, q("WL-02"), &shown(&["zz"], "")),
            Err((Field::Answer, "Select one of the options shown".into()))
        );
        assert_eq!(
            read(&f, OrgType::Acute, q("SF-01"), &shown(&["120"], "")),
            Err((Field::Answer, "Enter a percentage from 0 to 100".into()))
        );
        assert_eq!(
            read(&f, OrgType::Acute, q("SF-01"), &shown(&["lots"], "")),
            Err((
                Field::Answer,
                "Enter a percentage as a number, like 75".into()
            ))
        );
        let many = read(&f, OrgType::Acute, q("WL-03"), &shown(&["x", "y"], "")).unwrap();
        assert_eq!(
            many.map(|a| a.value),
            Some(AnswerValue::Choices(vec!["x".into(), "y".into()]))
        );
        let long = "e".repeat(MAX_EVIDENCE_CHARS + 1);
        assert_eq!(
            read(&f, OrgType::Acute, q("WL-01"), &shown(&["no"], &long)),
            Err((
                Field::Evidence,
                "Evidence must be 4,000 characters or fewer".into()
            ))
        );
    }

    #[test]
    fn posted_text_is_kept_as_the_api_keeps_it() {
        let f = staged();
        let q = f.question("WL-01").unwrap().2;
        let a = read(
            &f,
            OrgType::Acute,
            q,
            &shown(&["yes"], " line one\r\nline two "),
        )
        .unwrap();
        assert_eq!(a.unwrap().evidence.as_deref(), Some("line one\nline two"));
        assert_eq!(
            read(&f, OrgType::Acute, q, &shown(&["yes"], "bad\u{1b}[31m"))
                .unwrap_err()
                .0,
            Field::Evidence
        );
    }

    #[test]
    fn an_answer_round_trips_through_its_fields_and_its_hidden_copy() {
        let f = staged();
        for (key, value) in [
            ("WL-01", AnswerValue::Bool(false)),
            ("WL-02", AnswerValue::Text("a".into())),
            ("WL-03", AnswerValue::Choices(vec!["x".into(), "z".into()])),
            ("SF-01", AnswerValue::Number(62.5)),
        ] {
            let a = Answer {
                value,
                evidence: Some("board paper".into()),
            };
            let q = f.question(key).unwrap().2;
            assert_eq!(
                read(&f, OrgType::Acute, q, &shown_of(Some(&a))),
                Ok(Some(a.clone()))
            );
            let decoded: Option<Answer> = serde_json::from_str(&encode(Some(&a))).unwrap();
            assert_eq!(decoded, Some(a));
        }
        assert_eq!(
            text_of(
                f.question("WL-02").unwrap().2,
                &AnswerValue::Text("a".into())
            ),
            "Recurrent budget"
        );
    }
}
