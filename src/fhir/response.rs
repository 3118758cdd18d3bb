//! Returns as `QuestionnaireResponse`s, both ways.
//!
//! Written: the items follow the Questionnaire's tree (pillar and domain groups, implicit ones left
//! out), one item per answered question, evidence as an extension on the answer, every calculated
//! total filled with the service's own figure, and the stored scores in the `scores` extension.
//!
//! Read: every item is found by `linkId`; codings match an option on `system` + `code`, or on
//! `code` alone when the response leaves `system` out and the code names one option; totals in
//! the response are recomputed, and a figure that differs is reported as a warning.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use fhir_model::r4b::codes::QuestionnaireResponseStatus;
use fhir_model::r4b::resources::{
    QuestionnaireResponse, QuestionnaireResponseItem, QuestionnaireResponseItemAnswer,
    QuestionnaireResponseItemAnswerValue as V,
};
use fhir_model::r4b::types::{Coding, Extension, ExtensionValue, Identifier, Meta, Reference};

use super::{Built, Issue, ODS_SYSTEM, complex, ext, extension, values};
use crate::domain::answers::{
    Answer, AnswerValue, Answers, Applicability, MAX_EVIDENCE_CHARS, check_answer,
};
use crate::domain::framework::{Framework, OptionValueType, Question, QuestionType};
use crate::domain::organisation::OrgType;
use crate::domain::scoring::{Scores, total};

/// A return's status as FHIR names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A draft (`in-progress`).
    InProgress,
    /// Submitted (`completed`).
    Completed,
    /// Submitted again after it was re-opened (`amended`).
    Amended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in-progress",
            Status::Completed => "completed",
            Status::Amended => "amended",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        [Status::InProgress, Status::Completed, Status::Amended]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Everything a QuestionnaireResponse shows about one return.
pub struct ReturnView<'a> {
    pub id: &'a str,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub framework: &'a Framework,
    /// `url|version` of the framework's Questionnaire.
    pub questionnaire: String,
    pub round: &'a str,
    pub ods: &'a str,
    pub organisation_name: &'a str,
    pub org_type: OrgType,
    pub status: Status,
    pub answers: &'a Answers,
    pub scores: Option<&'a Scores>,
    /// Warnings about the response as received (shown in `meta`).
    pub warnings: &'a [Issue],
}

/// The return as a QuestionnaireResponse.
pub fn export(view: &ReturnView<'_>) -> Built<QuestionnaireResponse> {
    let framework = view.framework;
    let applicability = Applicability::new(framework, view.org_type, view.answers);
    let mut items = Vec::new();
    for pillar in framework.pillars_for(view.org_type) {
        let mut pillar_items = Vec::new();
        for domain in pillar.domains_for(view.org_type) {
            let domain_items = nested_items(view, &applicability, &domain.questions)?;
            if domain.implicit {
                pillar_items.extend(domain_items);
            } else if !domain_items.is_empty() {
                pillar_items.push(Some(group(&domain.key, &domain.title, domain_items)?));
            }
        }
        if pillar.implicit {
            items.extend(pillar_items);
        } else if !pillar_items.is_empty() {
            items.push(Some(group(&pillar.key, &pillar.title, pillar_items)?));
        }
    }
    let mut extensions = vec![extension(
        ext::ROUND,
        ExtensionValue::String(view.round.to_owned()),
    )];
    if let Some(scores) = view.scores {
        extensions.push(scores_extension(scores));
    }
    let identifier = Identifier::builder()
        .system(ODS_SYSTEM.to_owned())
        .value(view.ods.to_owned())
        .build()?;
    let subject = Reference::builder()
        .r#type("Organization".to_owned())
        .identifier(identifier)
        .display(view.organisation_name.to_owned())
        .build()?;
    let mut meta = Meta::builder()
        .version_id(view.version.to_string())
        .extension(
            view.warnings
                .iter()
                .map(|w| {
                    extension(
                        ext::WARNING,
                        ExtensionValue::String(format!(
                            "{}: {}",
                            w.expression.as_deref().unwrap_or("QuestionnaireResponse"),
                            w.diagnostics
                        )),
                    )
                })
                .collect(),
        )
        .build()?;
    meta.last_updated = serde_json::from_value(serde_json::Value::String(
        view.updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ))
    .ok();
    let mut qr = QuestionnaireResponse::builder()
        .id(view.id.to_owned())
        .meta(meta)
        .extension(extensions)
        .questionnaire(view.questionnaire.clone())
        .status(match view.status {
            Status::InProgress => QuestionnaireResponseStatus::InProgress,
            Status::Completed => QuestionnaireResponseStatus::Completed,
            Status::Amended => QuestionnaireResponseStatus::Amended,
        })
        .subject(subject)
        .item(items)
        .build()?;
    qr.authored = serde_json::from_value(serde_json::Value::String(
        view.updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ))
    .ok();
    Ok(qr)
}

/// The items of a domain's answered questions (and totals), each nested item under its parent:
/// inside a group's item, or inside the parent question's first answer (FHIR's `answer.item`);
/// beside its parent when that question has no answer to hold it.
fn nested_items(
    view: &ReturnView<'_>,
    applicability: &Applicability<'_>,
    questions: &[Question],
) -> Built<Vec<Option<QuestionnaireResponseItem>>> {
    let mut built: Vec<(&Question, Option<QuestionnaireResponseItem>)> = questions
        .iter()
        .map(|q| {
            let item = if q.kind == QuestionType::Group {
                None
            } else {
                question_item(view, applicability, q)?
            };
            Ok((q, item))
        })
        .collect::<Built<_>>()?;
    for i in (0..built.len()).rev() {
        let Some(parent) = built[i].0.parent.as_deref() else {
            continue;
        };
        let Some(p) = built[..i].iter().rposition(|(q, _)| q.key == parent) else {
            continue;
        };
        let Some(child) = built[i].1.take() else {
            continue;
        };
        let parent_question = built[p].0;
        if parent_question.kind == QuestionType::Group {
            if built[p].1.is_none() {
                built[p].1 = Some(group(
                    &parent_question.key,
                    &parent_question.text,
                    Vec::new(),
                )?);
            }
            if let Some(holder) = built[p].1.as_mut() {
                holder.item.insert(0, Some(child));
            }
        } else {
            match built[p]
                .1
                .as_mut()
                .and_then(|item| item.answer.first_mut())
                .and_then(Option::as_mut)
            {
                Some(answer) => answer.item.insert(0, Some(child)),
                None => built[i].1 = Some(child),
            }
        }
    }
    Ok(built
        .into_iter()
        .filter_map(|(_, item)| item.map(Some))
        .collect())
}

fn group(
    key: &str,
    title: &str,
    items: Vec<Option<QuestionnaireResponseItem>>,
) -> Built<QuestionnaireResponseItem> {
    let mut item = QuestionnaireResponseItem::builder()
        .link_id(key.to_owned())
        .item(items)
        .build()?;
    item.text = (!title.is_empty()).then(|| title.to_owned());
    Ok(item)
}

fn question_item(
    view: &ReturnView<'_>,
    applicability: &Applicability<'_>,
    q: &Question,
) -> Built<Option<QuestionnaireResponseItem>> {
    let mut answers = Vec::new();
    if q.total.is_some() {
        if let Some(sum) = total(view.framework, applicability, q) {
            let value = if q.kind == QuestionType::Integer && sum.fract() == 0.0 {
                V::Integer(sum as i32)
            } else {
                V::Decimal(sum)
            };
            answers.push(Some(
                QuestionnaireResponseItemAnswer::builder()
                    .value(value)
                    .build()?,
            ));
        }
    } else if let Some(answer) = view.answers.get(&q.key) {
        let values = answer_values(q, &answer.value)?;
        for (i, value) in values.into_iter().enumerate() {
            let mut a = QuestionnaireResponseItemAnswer::builder()
                .value(value)
                .build()?;
            if i == 0
                && let Some(evidence) = &answer.evidence
            {
                a.extension = vec![extension(
                    ext::EVIDENCE,
                    ExtensionValue::String(evidence.clone()),
                )];
            }
            answers.push(Some(a));
        }
    }
    if answers.is_empty() {
        return Ok(None);
    }
    let mut item = QuestionnaireResponseItem::builder()
        .link_id(q.key.clone())
        .answer(answers)
        .build()?;
    item.text = (!q.text.is_empty()).then(|| q.text.clone());
    Ok(Some(item))
}

/// The FHIR values of one stored answer (several for a multiple choice).
fn answer_values(q: &Question, value: &AnswerValue) -> Built<Vec<V>> {
    let coded = |code: &str| -> Built<V> {
        match q.option(code) {
            Some(o) => match o.value_type {
                Some(OptionValueType::Integer) => Ok(code
                    .parse::<i32>()
                    .map(V::Integer)
                    .unwrap_or_else(|_| V::String(code.to_owned()))),
                Some(OptionValueType::String) => Ok(V::String(code.to_owned())),
                Some(OptionValueType::Date) => Ok(temporal(code, V::Date)),
                Some(OptionValueType::Time) => Ok(temporal(code, V::Time)),
                None => {
                    let mut coding = Coding::builder()
                        .code(code.to_owned())
                        .display(o.label.clone())
                        .build()?;
                    coding.system = o.system.clone();
                    Ok(V::Coding(coding))
                }
            },
            None if q.kind == QuestionType::OpenChoice => Ok(V::String(code.to_owned())),
            None => Ok(V::Coding(Coding::builder().code(code.to_owned()).build()?)),
        }
    };
    Ok(match (q.kind, value) {
        (_, AnswerValue::Bool(b)) => vec![V::Boolean(*b)],
        (QuestionType::Integer, AnswerValue::Number(n)) => vec![V::Integer(*n as i32)],
        (_, AnswerValue::Number(n)) => vec![V::Decimal(*n)],
        (_, AnswerValue::Choices(codes)) => codes.iter().map(|c| coded(c)).collect::<Built<_>>()?,
        (kind, AnswerValue::Text(code)) if kind.takes_options() => vec![coded(code)?],
        (QuestionType::Url, AnswerValue::Text(t)) => vec![V::Uri(t.clone())],
        (QuestionType::Date, AnswerValue::Text(t)) => vec![temporal(t, V::Date)],
        (QuestionType::DateTime, AnswerValue::Text(t)) => vec![temporal(t, V::DateTime)],
        (QuestionType::Time, AnswerValue::Text(t)) => vec![temporal(t, V::Time)],
        (_, AnswerValue::Text(t)) => vec![V::String(t.clone())],
    })
}

/// A date, date-time or time value from its text (as a string if it does not read as one).
fn temporal<T: serde::de::DeserializeOwned>(text: &str, wrap: impl Fn(T) -> V) -> V {
    match serde_json::from_value(serde_json::Value::String(text.to_owned())) {
        Ok(v) => wrap(v),
        Err(_) => V::String(text.to_owned()),
    }
}

fn scores_extension(scores: &Scores) -> Extension {
    let figure = |name: &str, v: f64| extension(name, ExtensionValue::Decimal(v));
    let mut parts = Vec::new();
    if let Some(s) = scores.score {
        parts.push(figure("score", s));
    }
    parts.push(figure("coverage", scores.coverage));
    for p in &scores.pillars {
        let mut pillar = vec![extension("key", ExtensionValue::String(p.pillar.clone()))];
        if let Some(s) = p.score {
            pillar.push(figure("score", s));
        }
        pillar.push(figure("coverage", p.coverage));
        for d in &p.domains {
            let mut domain = vec![extension("key", ExtensionValue::String(d.domain.clone()))];
            if let Some(s) = d.score {
                domain.push(figure("score", s));
            }
            domain.push(figure("coverage", d.coverage));
            pillar.push(complex("domain", domain));
        }
        parts.push(complex("pillar", pillar));
    }
    complex(ext::SCORES, parts)
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The answers of a QuestionnaireResponse, checked against the framework for one organisation
/// type, with warnings (totals that were not the service's figure).
#[derive(Debug)]
pub struct Received {
    pub answers: Answers,
    pub warnings: Vec<Issue>,
}

/// Reads the answers of `qr` for an organisation of `org_type`. Every problem is reported at
/// once, each with the FHIRPath of its item.
pub fn read_answers(
    qr: &QuestionnaireResponse,
    framework: &Framework,
    org_type: OrgType,
) -> Result<Received, Vec<Issue>> {
    let mut index = HashMap::new();
    for (_, _, q) in framework.questions() {
        index.entry(q.key.as_str()).or_insert(q);
    }
    let mut reader = AnswerReader {
        framework,
        index,
        org_type,
        groups: framework
            .pillars
            .iter()
            .filter(|p| !p.implicit)
            .map(|p| p.key.as_str())
            .chain(
                framework
                    .pillars
                    .iter()
                    .flat_map(|p| &p.domains)
                    .filter(|d| !d.implicit)
                    .map(|d| d.key.as_str()),
            )
            .collect(),
        answers: Answers::new(),
        given_totals: HashMap::new(),
        problems: Vec::new(),
    };
    reader.items(&qr.item, "QuestionnaireResponse");
    if !reader.problems.is_empty() {
        return Err(reader.problems);
    }
    let applicability = Applicability::new(framework, org_type, &reader.answers);
    let mut warnings = Vec::new();
    for (_, _, q) in framework.questions() {
        let Some((given, path)) = reader.given_totals.get(q.key.as_str()) else {
            continue;
        };
        let own = total(framework, &applicability, q).unwrap_or(0.0);
        if (own - given).abs() > 1e-9 {
            warnings.push(Issue::warning(
                "business-rule",
                path.clone(),
                format!(
                    "the total `{}` was sent as {given}; the service's figure from the answers is {own}, and that is what is kept",
                    q.key
                ),
            ));
        }
    }
    Ok(Received {
        answers: reader.answers,
        warnings,
    })
}

struct AnswerReader<'a> {
    framework: &'a Framework,
    /// Every question by key, built once (a response may name thousands of items).
    index: HashMap<&'a str, &'a Question>,
    org_type: OrgType,
    groups: std::collections::HashSet<&'a str>,
    answers: Answers,
    given_totals: HashMap<String, (f64, String)>,
    problems: Vec<Issue>,
}

impl AnswerReader<'_> {
    fn refuse(&mut self, code: &'static str, path: String, message: impl Into<String>) {
        self.problems.push(Issue::error(code, path, message));
    }

    fn items(&mut self, items: &[Option<QuestionnaireResponseItem>], parent: &str) {
        for (i, item) in items.iter().enumerate() {
            let Some(item) = item else { continue };
            let path = format!("{parent}.item[{i}]");
            if self.groups.contains(item.link_id.as_str()) {
                if !item.answer.is_empty() {
                    self.refuse(
                        "structure",
                        format!("{path}.answer"),
                        "a group has no answer",
                    );
                }
                self.items(&item.item, &path);
                continue;
            }
            let found = self.index.get(item.link_id.as_str()).copied();
            let nested_group = found.is_some_and(|q| q.kind == QuestionType::Group);
            if nested_group {
                if !item.answer.is_empty() {
                    self.refuse(
                        "structure",
                        format!("{path}.answer"),
                        "a group has no answer",
                    );
                }
                self.items(&item.item, &path);
                continue;
            }
            let Some(question) = found else {
                self.refuse(
                    "not-found",
                    format!("{path}.linkId"),
                    format!(
                        "no item of this questionnaire has linkId `{}`",
                        item.link_id
                    ),
                );
                continue;
            };
            self.question(question, item, &path);
            // Items nested under a question (a Questionnaire's child items).
            self.items(&item.item, &path);
        }
    }

    fn question(&mut self, q: &Question, item: &QuestionnaireResponseItem, path: &str) {
        if self.answers.contains_key(&q.key) || self.given_totals.contains_key(&q.key) {
            self.refuse(
                "structure",
                format!("{path}.linkId"),
                format!("`{}` appears more than once", q.key),
            );
            return;
        }
        let answers: Vec<(usize, &QuestionnaireResponseItemAnswer)> = item
            .answer
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.as_ref().map(|a| (i, a)))
            .collect();
        if answers.is_empty() {
            return;
        }
        if q.total.is_some() {
            let given = answers[0].1.value.as_ref().and_then(|v| match v {
                V::Decimal(d) => Some(*d),
                V::Integer(n) => Some(f64::from(*n)),
                _ => None,
            });
            if let Some(given) = given {
                self.given_totals
                    .insert(q.key.clone(), (given, format!("{path}.answer[0]")));
            }
            return;
        }
        let repeats = matches!(q.kind, QuestionType::MultipleChoice);
        if answers.len() > 1 && !repeats {
            self.refuse(
                "structure",
                format!("{path}.answer"),
                format!("`{}` takes one answer, not {}", q.key, answers.len()),
            );
            return;
        }
        let mut evidence = None;
        let mut texts = Vec::new();
        let mut single = None;
        for (i, a) in &answers {
            let answer_path = format!("{path}.answer[{i}]");
            // Items nested under the answer (FHIR's `answer.item`).
            self.items(&a.item, &answer_path);
            if evidence.is_none() {
                // As a save keeps it: blank text is no evidence; at most MAX_EVIDENCE_CHARS.
                evidence = values(&a.extension, ext::EVIDENCE)
                    .find_map(|v| match v {
                        ExtensionValue::String(s) | ExtensionValue::Markdown(s) => Some(s.clone()),
                        _ => None,
                    })
                    .filter(|e| !e.trim().is_empty());
                if evidence
                    .as_ref()
                    .is_some_and(|e| e.chars().count() > MAX_EVIDENCE_CHARS)
                {
                    self.refuse(
                        "too-long",
                        format!("{answer_path}.extension"),
                        format!("evidence is limited to {MAX_EVIDENCE_CHARS} characters"),
                    );
                    evidence = None;
                }
            }
            let Some(value) = &a.value else {
                self.refuse(
                    "required",
                    format!("{answer_path}.value[x]"),
                    "an answer needs a value",
                );
                continue;
            };
            match self.value(q, value, &answer_path) {
                Some(AnswerValue::Text(code)) if repeats => texts.push(code),
                Some(v) => single = Some(v),
                None => {}
            }
        }
        let value = if repeats {
            Some(AnswerValue::Choices(texts))
        } else {
            single
        };
        let Some(value) = value else { return };
        if let Err(problem) = check_answer(self.framework, self.org_type, &q.key, &value) {
            self.refuse("value", format!("{path}.answer"), problem.message);
            return;
        }
        self.answers
            .insert(q.key.clone(), Answer { value, evidence });
    }

    /// One FHIR value as the service's answer value (a code for a choice).
    fn value(&mut self, q: &Question, value: &V, path: &str) -> Option<AnswerValue> {
        let text = |v: &V| -> Option<String> {
            match serde_json::to_value(v).ok()? {
                serde_json::Value::Object(map) => {
                    map.into_iter().next().and_then(|(_, v)| match v {
                        serde_json::Value::String(s) => Some(s),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                }
                _ => None,
            }
        };
        let wrong = |this: &mut Self, wanted: &str| {
            this.refuse(
                "value",
                path.to_owned(),
                format!(
                    "`{}` is a {} question: answer it with {wanted}",
                    q.key,
                    q.kind.as_str()
                ),
            );
            None
        };
        match (q.kind, value) {
            (kind, V::Coding(coding)) if kind.takes_options() => {
                let Some(code) = coding.code.as_deref() else {
                    self.refuse(
                        "required",
                        format!("{path}.valueCoding.code"),
                        "a coding needs a code",
                    );
                    return None;
                };
                if q.options.is_empty() {
                    return Some(AnswerValue::Text(code.to_owned()));
                }
                let matching: Vec<_> = q
                    .options
                    .iter()
                    .filter(|o| o.code == code && o.value_type.is_none())
                    .filter(|o| coding.system.is_none() || o.system == coding.system)
                    .collect();
                match matching.as_slice() {
                    [one] => Some(AnswerValue::Text(one.code.clone())),
                    [] => {
                        self.refuse(
                            "code-invalid",
                            format!("{path}.valueCoding"),
                            format!(
                                "`{}{code}` is not an option of `{}`",
                                coding
                                    .system
                                    .as_deref()
                                    .map(|s| format!("{s}|"))
                                    .unwrap_or_default(),
                                q.key
                            ),
                        );
                        None
                    }
                    _ => {
                        self.refuse(
                            "code-invalid",
                            format!("{path}.valueCoding.system"),
                            format!(
                                "`{code}` names more than one option of `{}`: send its system",
                                q.key
                            ),
                        );
                        None
                    }
                }
            }
            (kind, V::String(_) | V::Integer(_) | V::Date(_) | V::Time(_))
                if kind.takes_options() =>
            {
                let code = text(value)?;
                let listed = q.option(&code).is_some();
                if listed || kind == QuestionType::OpenChoice || q.options.is_empty() {
                    Some(AnswerValue::Text(code))
                } else {
                    self.refuse(
                        "code-invalid",
                        path.to_owned(),
                        format!("`{code}` is not an option of `{}`", q.key),
                    );
                    None
                }
            }
            (kind, _) if kind.takes_options() => wrong(self, "a coding (valueCoding)"),
            (QuestionType::Boolean, V::Boolean(b)) => Some(AnswerValue::Bool(*b)),
            (QuestionType::Boolean, _) => wrong(self, "valueBoolean"),
            (kind, V::Decimal(d)) if kind.is_numeric() => Some(AnswerValue::Number(*d)),
            (kind, V::Integer(n)) if kind.is_numeric() => Some(AnswerValue::Number(f64::from(*n))),
            (QuestionType::Integer, _) => wrong(self, "valueInteger"),
            (kind, _) if kind.is_numeric() => wrong(self, "valueDecimal"),
            (QuestionType::Date, V::Date(_))
            | (QuestionType::DateTime, V::DateTime(_) | V::Date(_))
            | (QuestionType::Time, V::Time(_)) => text(value).map(AnswerValue::Text),
            (QuestionType::Date, _) => wrong(self, "valueDate"),
            (QuestionType::DateTime, _) => wrong(self, "valueDateTime"),
            (QuestionType::Time, _) => wrong(self, "valueTime"),
            (QuestionType::Url, V::Uri(u) | V::String(u)) => Some(AnswerValue::Text(u.clone())),
            (QuestionType::Text | QuestionType::String, V::String(s)) => {
                Some(AnswerValue::Text(s.clone()))
            }
            (QuestionType::Display, _) => {
                self.refuse(
                    "structure",
                    path.to_owned(),
                    "a display item takes no answer",
                );
                None
            }
            _ => wrong(self, "valueString"),
        }
    }
}
