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

/// An answer as the question's fields on the form hold it, and so what they post back when the
/// person leaves them alone: the offered options ticked, in the page's order (radios and
/// checkboxes post in the order drawn); one line in a one-line input (browsers drop line breaks
/// from those); a text area's lines as they are. Reading this back (`read`) gives the answer the
/// page stands for, which is what a save compares with (`as_drawn`).
pub fn shown_of(q: &Question, answer: Option<&Answer>) -> Shown {
    let Some(a) = answer else {
        return Shown::default();
    };
    let stored = match &a.value {
        AnswerValue::Bool(true) => vec!["yes".to_owned()],
        AnswerValue::Bool(false) => vec!["no".to_owned()],
        AnswerValue::Number(n) => vec![format!("{n}")],
        AnswerValue::Text(t) => vec![t.clone()],
        AnswerValue::Choices(c) => c.clone(),
    };
    let values = match field_kind(q) {
        FieldKind::Choices => choice_codes(q)
            .into_iter()
            .filter(|code| stored.iter().any(|v| v == code))
            .collect(),
        FieldKind::Lines => stored,
        FieldKind::TextArea => stored.into_iter().take(1).collect(),
        FieldKind::Line => stored
            .into_iter()
            .take(1)
            .map(|v| v.chars().filter(|c| !matches!(c, '\r' | '\n')).collect())
            .collect(),
    };
    Shown {
        values,
        evidence: a.evidence.clone().unwrap_or_default(),
    }
}

/// The answer a question's fields stand for when drawn with `answer` and left alone (`None`
/// when they stand for none); an answer the fields cannot hold at all stays as it is.
pub fn as_drawn(
    framework: &Framework,
    org_type: OrgType,
    q: &Question,
    answer: Option<&Answer>,
) -> Option<Answer> {
    read(framework, org_type, q, &shown_of(q, answer)).unwrap_or_else(|_| answer.cloned())
}

/// How a question is drawn on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Radios or checkboxes, one per offered option (yes and no for a yes/no question).
    Choices,
    /// A text area, one answer per line (open choices; choices from a value set).
    Lines,
    /// A text area holding one answer.
    TextArea,
    /// A one-line input.
    Line,
}

pub fn field_kind(q: &Question) -> FieldKind {
    match q.kind {
        QuestionType::Boolean => FieldKind::Choices,
        QuestionType::SingleChoice | QuestionType::MultipleChoice if !q.options.is_empty() => {
            FieldKind::Choices
        }
        QuestionType::OpenChoice | QuestionType::MultipleChoice => FieldKind::Lines,
        QuestionType::Text => FieldKind::TextArea,
        _ => FieldKind::Line,
    }
}

/// The values of a question's radios or checkboxes, in the order drawn.
pub fn choice_codes(q: &Question) -> Vec<String> {
    if q.kind == QuestionType::Boolean {
        vec!["yes".into(), "no".into()]
    } else {
        q.options.iter().map(|o| o.code.clone()).collect()
    }
}

/// A number as a person in England writes it: `1,500.5` (commas only between groups of three
/// digits), `75`, `-3.2`; `None` when commas stand anywhere else (`1,5` is not read as 15).
fn without_grouping(v: &str) -> Option<String> {
    if !v.contains(',') {
        return Some(v.to_owned());
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    let whole = digits.split('.').next().unwrap_or("");
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or("");
    let grouped = (1..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()));
    grouped.then(|| v.replace(',', ""))
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

/// The non-empty lines of a question's fields (several checkboxes, or a text area's lines).
fn lines_of(shown: &Shown) -> Vec<String> {
    shown
        .values
        .iter()
        .flat_map(|v| v.lines())
        .map(clean)
        .filter(|l| !l.is_empty())
        .collect()
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
        // Checkboxes post one code each; a value set's codes come one per line.
        (QuestionType::MultipleChoice, Some(_)) => {
            let codes = lines_of(shown);
            (!codes.is_empty()).then_some(AnswerValue::Choices(codes))
        }
        (QuestionType::Integer, Some(v)) => {
            match without_grouping(&v).and_then(|v| v.parse::<i64>().ok()) {
                Some(n) => Some(AnswerValue::Number(n as f64)),
                None => return Err((Field::Answer, "Enter a whole number, like 12".into())),
            }
        }
        (kind, Some(v)) if kind.is_numeric() => {
            match without_grouping(v.trim_end_matches('%').trim()).map(|v| v.parse::<f64>()) {
                Some(Ok(n)) if n.is_finite() => Some(AnswerValue::Number(n)),
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
            let lines = lines_of(shown);
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
                read(&f, OrgType::Acute, q, &shown_of(q, Some(&a))),
                Ok(Some(a.clone()))
            );
            assert_eq!(as_drawn(&f, OrgType::Acute, q, Some(&a)), Some(a.clone()));
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

    #[test]
    fn what_the_fields_post_back_untouched_is_what_a_save_compares_with() {
        let f = staged();
        let q = |k: &str| f.question(k).unwrap().2;
        // Checkboxes post in the order drawn: a stored order is no change of answer.
        let zx = Answer {
            value: AnswerValue::Choices(vec!["z".into(), "x".into()]),
            evidence: None,
        };
        assert_eq!(shown_of(q("WL-03"), Some(&zx)).values, ["x", "z"]);
        assert_eq!(
            as_drawn(&f, OrgType::Acute, q("WL-03"), Some(&zx)).map(|a| a.value),
            Some(AnswerValue::Choices(vec!["x".into(), "z".into()]))
        );
        assert_eq!(field_kind(q("WL-03")), FieldKind::Choices);
        assert_eq!(field_kind(q("WL-01")), FieldKind::Choices);
        assert_eq!(field_kind(q("SF-01")), FieldKind::Line);
        assert_eq!(choice_codes(q("WL-01")), ["yes", "no"]);
        assert_eq!(as_drawn(&f, OrgType::Acute, q("WL-03"), None), None);
    }

    #[test]
    fn numbers_take_commas_only_between_groups_of_three() {
        let f = staged();
        let q = f.question("SF-01").unwrap().2;
        let value =
            |v: &str| read(&f, OrgType::Acute, q, &shown(&[v], "")).map(|a| a.map(|a| a.value));
        assert_eq!(value("62.5"), Ok(Some(AnswerValue::Number(62.5))));
        assert_eq!(value("1,5").unwrap_err().0, Field::Answer);
        assert_eq!(value("7,50").unwrap_err().0, Field::Answer);
        assert_eq!(without_grouping("1,500.25").as_deref(), Some("1500.25"));
        assert_eq!(
            without_grouping("-12,345,678").as_deref(),
            Some("-12345678")
        );
        assert_eq!(without_grouping("1,5"), None);
        assert_eq!(without_grouping("1234,567"), None);
        assert_eq!(without_grouping(",500"), None);
        assert_eq!(without_grouping("75").as_deref(), Some("75"));
    }
}
