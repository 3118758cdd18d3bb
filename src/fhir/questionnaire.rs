//! Frameworks as FHIR `Questionnaire`s, both ways.
//!
//! Export: pillars and domains become nested `group` items (an `implicit` one made on import is
//! left out, its items standing where they stood), questions keep their key as `linkId`, options
//! become `answerOption` with their score as `ordinalValue` and `itemWeight`, conditions
//! `enableWhen`/`enableBehavior`, help a `display` child with the `help` item control, totals an
//! SDC `calculatedExpression`; what FHIR has no element for travels in the service's extensions.
//! Items with a `parent` (groups below the domain, items under a question) go back under it.
//!
//! Import: the inverse. Groups below pillar and domain become `group` items of the domain and
//! items under a question stay under it (both by `parent`); display items are kept as non-scored
//! items. Refused, with every offending element's path: repeating groups,
//! `attachment`/`reference`/`quantity` items, repeating non-choice items, a `calculatedExpression`
//! other than a sum of answer weights, an `answerValueSet` naming a contained ValueSet that is not
//! there, duplicate linkIds.

use std::collections::HashSet;

use fhir_model::r4b::codes::{
    EnableWhenBehavior, ExpressionLanguage, PublicationStatus, QuestionnaireItemOperator,
    QuestionnaireItemType,
};
use fhir_model::r4b::resources::{
    Questionnaire, QuestionnaireItem, QuestionnaireItemAnswerOption,
    QuestionnaireItemAnswerOptionValue, QuestionnaireItemEnableWhen,
    QuestionnaireItemEnableWhenAnswer, Resource, ValueSet,
};
use fhir_model::r4b::types::{Coding, Expression, Extension, ExtensionValue};

use super::{Built, Issue, canonical, complex, ext, extension, find, hl7, number, values};
use crate::domain::answers::AnswerValue;
use crate::domain::framework::{
    AnswerOption, Band, ConditionAnswerType, Domain, EnableBehavior, EnableWhen, Framework, Method,
    OptionValueType, Pillar, Question, QuestionType, Scale, Total, TotalOf,
};
use crate::domain::organisation::OrgType;

/// The framework as a Questionnaire; `published` gives `status: active`, else `draft`.
pub fn export(framework: &Framework, published: bool) -> Built<Questionnaire> {
    let mut items = Vec::new();
    for pillar in &framework.pillars {
        if pillar.implicit {
            for domain in &pillar.domains {
                domain_items(framework, domain, &mut items)?;
            }
        } else {
            let mut children = Vec::new();
            for domain in &pillar.domains {
                domain_items(framework, domain, &mut children)?;
            }
            let mut extensions = description(pillar.description.as_deref());
            // An implicit domain's organisation types stand on its pillar's group.
            if let Some(d) = pillar.domains.iter().find(|d| d.implicit) {
                extensions.extend(applies_to(&d.applies_to));
            }
            items.push(Some(group(
                &pillar.key,
                &pillar.title,
                extensions,
                (&pillar.enable_when, pillar.enable_behavior),
                pillar.required,
                framework,
                children,
            )?));
        }
    }
    let mut root_extensions = vec![complex(
        ext::SCALE,
        vec![
            extension("min", ExtensionValue::Decimal(framework.scale.min)),
            extension("max", ExtensionValue::Decimal(framework.scale.max)),
        ],
    )];
    if let Some(d) = framework
        .pillars
        .iter()
        .filter(|p| p.implicit)
        .flat_map(|p| &p.domains)
        .next()
    {
        root_extensions.extend(applies_to(&d.applies_to));
    }
    let mut q = Questionnaire::builder()
        .id(fhir_id(&framework.key))
        .url(
            framework
                .url
                .clone()
                .unwrap_or_else(|| canonical(&framework.key)),
        )
        .version(framework.version.clone())
        .title(framework.title.clone())
        .status(if published {
            PublicationStatus::Active
        } else {
            PublicationStatus::Draft
        })
        .extension(root_extensions)
        .item(items)
        .build()?;
    q.description = framework.description.clone();
    Ok(q)
}

/// A framework key as a FHIR id (the same characters, but `_` is not allowed in an id).
pub fn fhir_id(key: &str) -> String {
    key.replace('_', "-")
}

fn description(text: Option<&str>) -> Vec<Extension> {
    text.map(|t| extension(ext::DESCRIPTION, ExtensionValue::Markdown(t.to_owned())))
        .into_iter()
        .collect()
}

/// `applies-to` extensions, none when the domain is asked of every organisation type.
fn applies_to(types: &[String]) -> Vec<Extension> {
    if types.len() == OrgType::ALL.len() {
        return Vec::new();
    }
    types
        .iter()
        .map(|t| extension(ext::APPLIES_TO, ExtensionValue::Code(t.clone())))
        .collect()
}

fn domain_items(
    framework: &Framework,
    domain: &Domain,
    out: &mut Vec<Option<QuestionnaireItem>>,
) -> Built<()> {
    let questions = nest(framework, &domain.questions)?;
    if domain.implicit {
        out.extend(questions);
        return Ok(());
    }
    let mut extensions = applies_to(&domain.applies_to);
    extensions.extend(description(domain.description.as_deref()));
    out.push(Some(group(
        &domain.key,
        &domain.title,
        extensions,
        (&domain.enable_when, domain.enable_behavior),
        domain.required,
        framework,
        questions,
    )?));
    Ok(())
}

/// A domain's questions as items, each nested item moved under the item it names as `parent`.
fn nest(framework: &Framework, questions: &[Question]) -> Built<Vec<Option<QuestionnaireItem>>> {
    let mut built: Vec<(String, Option<String>, QuestionnaireItem, usize)> = questions
        .iter()
        .map(|q| {
            let item = question_item(framework, q)?;
            // Nested items stand after the question's own help text.
            let after = usize::from(q.help.is_some());
            Ok((q.key.clone(), q.parent.clone(), item, after))
        })
        .collect::<Built<_>>()?;
    // Last first: each child is put first among its parent's children, so siblings keep their
    // order, and a grandchild is already inside its parent when that parent moves.
    let mut i = built.len();
    while i > 0 {
        i -= 1;
        let Some(parent) = built[i].1.clone() else {
            continue;
        };
        if let Some(p) = built[..i].iter().rposition(|(key, ..)| *key == parent) {
            let (_, _, child, _) = built.remove(i);
            let at = built[p].3.min(built[p].2.item.len());
            built[p].2.item.insert(at, Some(child));
        }
    }
    Ok(built
        .into_iter()
        .map(|(_, _, item, _)| Some(item))
        .collect())
}

fn group(
    key: &str,
    title: &str,
    extensions: Vec<Extension>,
    (conditions, behavior): (&[EnableWhen], Option<EnableBehavior>),
    required: bool,
    framework: &Framework,
    children: Vec<Option<QuestionnaireItem>>,
) -> Built<QuestionnaireItem> {
    let mut item = QuestionnaireItem::builder()
        .link_id(key.to_owned())
        .text(title.to_owned())
        .r#type(QuestionnaireItemType::Group)
        .extension(extensions)
        .item(children)
        .build()?;
    item.enable_when = enable_when(framework, conditions)?;
    item.enable_behavior = behavior_for(conditions, behavior);
    item.required = required.then_some(true);
    Ok(item)
}

/// `enableBehavior` as FHIR needs it: required with more than one condition (que-12), where the
/// service's default is `all`.
fn behavior_for(
    conditions: &[EnableWhen],
    behavior: Option<EnableBehavior>,
) -> Option<EnableWhenBehavior> {
    match behavior {
        Some(b) => Some(fhir_behavior(b)),
        None if conditions.len() > 1 => Some(EnableWhenBehavior::All),
        None => None,
    }
}

fn fhir_behavior(b: EnableBehavior) -> EnableWhenBehavior {
    match b {
        EnableBehavior::All => EnableWhenBehavior::All,
        EnableBehavior::Any => EnableWhenBehavior::Any,
    }
}

fn item_type(kind: QuestionType) -> QuestionnaireItemType {
    match kind {
        QuestionType::SingleChoice | QuestionType::MultipleChoice => QuestionnaireItemType::Choice,
        QuestionType::Number | QuestionType::Percentage => QuestionnaireItemType::Decimal,
        QuestionType::Boolean => QuestionnaireItemType::Boolean,
        QuestionType::Text => QuestionnaireItemType::Text,
        QuestionType::Integer => QuestionnaireItemType::Integer,
        QuestionType::String => QuestionnaireItemType::String,
        QuestionType::Url => QuestionnaireItemType::Url,
        QuestionType::Date => QuestionnaireItemType::Date,
        QuestionType::DateTime => QuestionnaireItemType::DateTime,
        QuestionType::Time => QuestionnaireItemType::Time,
        QuestionType::OpenChoice => QuestionnaireItemType::OpenChoice,
        QuestionType::Display => QuestionnaireItemType::Display,
        QuestionType::Group => QuestionnaireItemType::Group,
    }
}

/// Whether a question's `scored` flag can be read back from what FHIR carries anyway.
fn inferred_scored(q: &Question) -> bool {
    match q.kind {
        kind if kind.takes_options() => q.options.iter().any(|o| o.score.is_some()),
        kind if kind.is_numeric() => !q.bands.is_empty(),
        _ => false,
    }
}

fn question_item(framework: &Framework, q: &Question) -> Built<QuestionnaireItem> {
    let mut extensions = Vec::new();
    if let Some(level) = q.level {
        extensions.push(extension(
            ext::STAGED_LEVEL,
            ExtensionValue::Integer(i32::try_from(level).unwrap_or(i32::MAX)),
        ));
    }
    if q.weight != 1.0 {
        extensions.push(extension(
            ext::QUESTION_WEIGHT,
            ExtensionValue::Decimal(q.weight),
        ));
    }
    for band in &q.bands {
        let mut parts = vec![
            extension("from", ExtensionValue::Decimal(band.from)),
            extension("to", ExtensionValue::Decimal(band.to)),
        ];
        if let Some(score) = band.score {
            parts.push(extension("score", ExtensionValue::Decimal(score)));
        }
        extensions.push(complex(ext::SCORE_BAND, parts));
    }
    let answerable = q.is_answerable();
    if answerable && framework.method == Method::Scored && q.scored != inferred_scored(q) {
        extensions.push(extension(ext::SCORED, ExtensionValue::Boolean(q.scored)));
    }
    if q.kind == QuestionType::Percentage {
        let coding = Coding::builder()
            .system(hl7::UCUM.to_owned())
            .code("%".to_owned())
            .display("%".to_owned())
            .build()?;
        extensions.push(extension(hl7::UNIT, ExtensionValue::Coding(coding)));
    }
    if let Some(total) = &q.total {
        let expression = Expression::builder()
            .language(ExpressionLanguage::TextFhirpath)
            .expression(
                total
                    .expression
                    .clone()
                    .unwrap_or_else(|| default_expression(total.of)),
            )
            .build()?;
        extensions.push(extension(
            hl7::CALCULATED_EXPRESSION,
            ExtensionValue::Expression(expression),
        ));
        extensions.push(extension(
            ext::TOTAL_OF,
            ExtensionValue::Code(total_of_code(total.of).to_owned()),
        ));
    }
    let mut children = Vec::new();
    if let Some(help) = &q.help {
        children.push(Some(help_item(&q.key, help)?));
    }
    let mut item = QuestionnaireItem::builder()
        .link_id(q.key.clone())
        .r#type(item_type(q.kind))
        .extension(extensions)
        .item(children)
        .build()?;
    item.text = (!q.text.is_empty()).then(|| q.text.clone());
    item.required = (answerable && q.mandatory).then_some(true);
    item.repeats = (q.kind == QuestionType::MultipleChoice).then_some(true);
    item.read_only = q.total.is_some().then_some(true);
    item.answer_option = q
        .options
        .iter()
        .map(|o| answer_option(o).map(Some))
        .collect::<Built<_>>()?;
    if q.options.is_empty() {
        item.answer_value_set = q.answer_value_set.clone();
    }
    item.enable_when = enable_when(framework, &q.enable_when)?;
    item.enable_behavior = behavior_for(&q.enable_when, q.enable_behavior);
    Ok(item)
}

fn total_of_code(of: TotalOf) -> &'static str {
    match of {
        TotalOf::Group => "group",
        TotalOf::Domain => "domain",
        TotalOf::Pillar => "pillar",
        TotalOf::Framework => "framework",
    }
}

fn default_expression(of: TotalOf) -> String {
    match of {
        TotalOf::Framework => "%resource.repeat(item).answer.value.ordinal().sum()",
        TotalOf::Group | TotalOf::Pillar | TotalOf::Domain => {
            "%context.parent().repeat(item).answer.value.ordinal().sum()"
        }
    }
    .to_owned()
}

fn help_item(key: &str, help: &str) -> Built<QuestionnaireItem> {
    let control = Coding::builder()
        .system(hl7::ITEM_CONTROL_SYSTEM.to_owned())
        .code("help".to_owned())
        .display("Help-Button".to_owned())
        .build()?;
    let concept = fhir_model::r4b::types::CodeableConcept::builder()
        .coding(vec![Some(control)])
        .build()?;
    let mut item = QuestionnaireItem::builder()
        .link_id(format!("{key}-help"))
        .r#type(QuestionnaireItemType::Display)
        .extension(vec![extension(
            hl7::ITEM_CONTROL,
            ExtensionValue::CodeableConcept(concept),
        )])
        .build()?;
    item.text = Some(help.to_owned());
    Ok(item)
}

fn answer_option(o: &AnswerOption) -> Built<QuestionnaireItemAnswerOption> {
    let value = match o.value_type {
        Some(OptionValueType::Integer) => match o.code.parse::<i32>() {
            Ok(i) => QuestionnaireItemAnswerOptionValue::Integer(i),
            Err(_) => QuestionnaireItemAnswerOptionValue::String(o.code.clone()),
        },
        Some(OptionValueType::String) => QuestionnaireItemAnswerOptionValue::String(o.code.clone()),
        Some(OptionValueType::Date) => {
            match serde_json::from_value(serde_json::Value::String(o.code.clone())) {
                Ok(d) => QuestionnaireItemAnswerOptionValue::Date(d),
                Err(_) => QuestionnaireItemAnswerOptionValue::String(o.code.clone()),
            }
        }
        Some(OptionValueType::Time) => {
            match serde_json::from_value(serde_json::Value::String(o.code.clone())) {
                Ok(t) => QuestionnaireItemAnswerOptionValue::Time(t),
                Err(_) => QuestionnaireItemAnswerOptionValue::String(o.code.clone()),
            }
        }
        None => {
            let mut coding = Coding::builder()
                .code(o.code.clone())
                .display(o.label.clone())
                .build()?;
            coding.system = o.system.clone();
            QuestionnaireItemAnswerOptionValue::Coding(coding)
        }
    };
    let mut extensions = Vec::new();
    if let Some(score) = o.score {
        extensions.push(extension(
            hl7::ORDINAL_VALUE,
            ExtensionValue::Decimal(score),
        ));
        extensions.push(extension(hl7::ITEM_WEIGHT, ExtensionValue::Decimal(score)));
    }
    if o.meets {
        extensions.push(extension(
            ext::MEETS_CRITERION,
            ExtensionValue::Boolean(true),
        ));
    }
    QuestionnaireItemAnswerOption::builder()
        .value(value)
        .extension(extensions)
        .build()
}

fn enable_when(
    framework: &Framework,
    conditions: &[EnableWhen],
) -> Built<Vec<Option<QuestionnaireItemEnableWhen>>> {
    conditions
        .iter()
        .filter_map(|c| {
            let operator = c.operator.parse::<QuestionnaireItemOperator>().ok()?;
            let answer = condition_answer(framework, c)?;
            Some(
                QuestionnaireItemEnableWhen::builder()
                    .question(c.question.clone())
                    .operator(operator)
                    .answer(answer)
                    .build()
                    .map(Some),
            )
        })
        .collect()
}

/// The typed `answer[x]` of a condition: its own `answer_type`, else the one its question implies.
fn condition_answer(
    framework: &Framework,
    c: &EnableWhen,
) -> Option<QuestionnaireItemEnableWhenAnswer> {
    use QuestionnaireItemEnableWhenAnswer as A;
    let target = framework.question(&c.question).map(|(_, _, q)| q);
    let kind = c
        .answer_type
        .unwrap_or_else(|| derived_answer_type(target.map(|q| q.kind), c.answer.as_ref()));
    let text = |v: &AnswerValue| match v {
        AnswerValue::Text(t) => Some(t.clone()),
        AnswerValue::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let parsed =
        |v: &AnswerValue| -> Option<serde_json::Value> { text(v).map(serde_json::Value::String) };
    Some(match (kind, &c.answer) {
        // `exists` compares with a boolean (true when absent).
        (_, None) => A::Boolean(true),
        (ConditionAnswerType::Boolean, Some(AnswerValue::Bool(b))) => A::Boolean(*b),
        (ConditionAnswerType::Integer, Some(AnswerValue::Number(n)))
            if n.fract() == 0.0 && n.abs() <= f64::from(i32::MAX) =>
        {
            A::Integer(*n as i32)
        }
        (
            ConditionAnswerType::Decimal | ConditionAnswerType::Integer,
            Some(AnswerValue::Number(n)),
        ) => A::Decimal(*n),
        // A date or time that FHIR cannot read goes as the text it is, never dropped.
        (ConditionAnswerType::Date, Some(v)) => match serde_json::from_value(parsed(v)?) {
            Ok(d) => A::Date(d),
            Err(_) => A::String(text(v)?),
        },
        (ConditionAnswerType::DateTime, Some(v)) => match serde_json::from_value(parsed(v)?) {
            Ok(d) => A::DateTime(d),
            Err(_) => A::String(text(v)?),
        },
        (ConditionAnswerType::Time, Some(v)) => match serde_json::from_value(parsed(v)?) {
            Ok(t) => A::Time(t),
            Err(_) => A::String(text(v)?),
        },
        (ConditionAnswerType::Coding, Some(v)) => {
            let code = text(v)?;
            let system = c.system.clone().or_else(|| {
                target
                    .and_then(|q| q.option(&code))
                    .and_then(|o| o.system.clone())
            });
            let mut coding = Coding::builder().code(code).build().ok()?;
            coding.system = system;
            A::Coding(coding)
        }
        (_, Some(AnswerValue::Bool(b))) => A::Boolean(*b),
        (_, Some(v)) => A::String(text(v)?),
    })
}

/// The FHIR type a condition's answer takes when the condition does not name one.
fn derived_answer_type(
    target: Option<QuestionType>,
    answer: Option<&AnswerValue>,
) -> ConditionAnswerType {
    match (target, answer) {
        (_, None | Some(AnswerValue::Bool(_))) => ConditionAnswerType::Boolean,
        (Some(QuestionType::Integer), _) => ConditionAnswerType::Integer,
        (Some(QuestionType::Date), _) => ConditionAnswerType::Date,
        (Some(QuestionType::DateTime), _) => ConditionAnswerType::DateTime,
        (Some(QuestionType::Time), _) => ConditionAnswerType::Time,
        (Some(k), Some(AnswerValue::Text(_))) if k.takes_options() => ConditionAnswerType::Coding,
        (_, Some(AnswerValue::Number(_))) => ConditionAnswerType::Decimal,
        _ => ConditionAnswerType::String,
    }
}

/// Drops what the framework would derive anyway, so that a framework exported and imported
/// again is the framework it was: condition answer types the question implies, and `scored`
/// flags of a staged framework (where points play no part).
fn settle(framework: &mut Framework) {
    let kinds: std::collections::HashMap<String, QuestionType> = framework
        .questions()
        .map(|(_, _, q)| (q.key.clone(), q.kind))
        .collect();
    let staged = framework.method == Method::Staged;
    let settle_all = |conditions: &mut Vec<EnableWhen>| {
        for c in conditions {
            let derived = derived_answer_type(kinds.get(&c.question).copied(), c.answer.as_ref());
            if c.answer_type == Some(derived) {
                c.answer_type = None;
            }
        }
    };
    for pillar in &mut framework.pillars {
        settle_all(&mut pillar.enable_when);
        for domain in &mut pillar.domains {
            settle_all(&mut domain.enable_when);
            for q in &mut domain.questions {
                settle_all(&mut q.enable_when);
                if staged {
                    q.scored = true;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Import

/// A framework read from a Questionnaire, with warnings about what was left behind.
#[derive(Debug)]
pub struct Imported {
    pub framework: Framework,
    pub warnings: Vec<Issue>,
}

/// Reads a Questionnaire as a draft framework. Every element the model cannot hold is reported,
/// each with its FHIRPath; then the framework's own rules are checked, their problems reported
/// at the items they concern.
pub fn import(q: &Questionnaire) -> Result<Imported, Vec<Issue>> {
    let mut reader = Reader {
        q,
        problems: Vec::new(),
        warnings: Vec::new(),
        paths: Vec::new(),
        generated: 0,
        link_ids: HashSet::new(),
    };
    let mut framework = reader.framework();
    settle(&mut framework);
    if !reader.problems.is_empty() {
        return Err(reader.problems);
    }
    if let Err(problems) = framework.validate() {
        return Err(problems
            .into_iter()
            .map(|p| {
                let (expression, field) = reader.fhir_path(&p.path);
                Issue::error(
                    "business-rule",
                    expression,
                    format!("{} ({field})", p.message),
                )
            })
            .collect());
    }
    Ok(Imported {
        framework,
        warnings: reader.warnings,
    })
}

/// Where each pillar, domain and question of the framework being built came from.
struct Origin {
    pillar: usize,
    domain: Option<usize>,
    question: Option<usize>,
    path: String,
}

struct Reader<'a> {
    q: &'a Questionnaire,
    problems: Vec<Issue>,
    warnings: Vec<Issue>,
    paths: Vec<Origin>,
    generated: usize,
    link_ids: HashSet<String>,
}

/// Items of one level in runs: a group, or consecutive non-group items.
enum Run<'a> {
    Group(usize, &'a QuestionnaireItem),
    Loose(Vec<(usize, &'a QuestionnaireItem)>),
}

fn runs(items: &[Option<QuestionnaireItem>]) -> Vec<Run<'_>> {
    let mut out: Vec<Run<'_>> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(item) = item else { continue };
        if item.r#type == QuestionnaireItemType::Group {
            out.push(Run::Group(i, item));
        } else if let Some(Run::Loose(list)) = out.last_mut() {
            list.push((i, item));
        } else {
            out.push(Run::Loose(vec![(i, item)]));
        }
    }
    out
}

impl<'a> Reader<'a> {
    fn refuse(&mut self, code: &'static str, path: &str, message: impl Into<String>) {
        self.problems.push(Issue::error(code, path, message));
    }

    fn framework(&mut self) -> Framework {
        let q = self.q;
        let key = framework_key(q);
        let root_types = self.types(&q.extension, None, "Questionnaire");
        let mut pillars = Vec::new();
        for run in runs(&q.item) {
            let index = pillars.len();
            match run {
                Run::Group(i, item) => {
                    let path = format!("Questionnaire.item[{i}]");
                    pillars.push(self.pillar(index, item, &path, &root_types));
                }
                Run::Loose(list) => {
                    let key = self.generated_key("items");
                    self.paths.push(Origin {
                        pillar: index,
                        domain: None,
                        question: None,
                        path: format!("Questionnaire.item[{}]", list[0].0),
                    });
                    let domain = self.loose_domain(
                        index,
                        0,
                        &list,
                        "Questionnaire",
                        &root_types,
                        TotalOf::Framework,
                    );
                    pillars.push(Pillar {
                        key,
                        title: q.title.clone().unwrap_or_else(|| "Questions".into()),
                        description: None,
                        enable_when: Vec::new(),
                        enable_behavior: None,
                        required: false,
                        implicit: true,
                        domains: vec![domain],
                    });
                }
            }
        }
        if pillars.is_empty() {
            self.refuse(
                "required",
                "Questionnaire.item",
                "a questionnaire needs at least one item",
            );
        }
        let staged = pillars
            .iter()
            .flat_map(|p| &p.domains)
            .flat_map(|d| &d.questions)
            .any(|q| q.level.is_some());
        let scale = self.scale(&pillars, staged);
        Framework {
            key,
            title: q
                .title
                .clone()
                .or_else(|| q.name.clone())
                .unwrap_or_else(|| framework_key(q)),
            version: q.version.clone().unwrap_or_else(|| "1".into()),
            url: q.url.clone(),
            description: q.description.clone(),
            method: if staged {
                Method::Staged
            } else {
                Method::Scored
            },
            scale,
            carries_over: None,
            pillars,
        }
    }

    fn generated_key(&mut self, stem: &str) -> String {
        loop {
            self.generated += 1;
            let key = format!("{stem}-{}", self.generated);
            if !self.all_link_ids().contains(&key) {
                return key;
            }
        }
    }

    fn all_link_ids(&self) -> HashSet<String> {
        fn walk(items: &[Option<QuestionnaireItem>], out: &mut HashSet<String>) {
            for item in items.iter().flatten() {
                out.insert(item.link_id.clone());
                walk(&item.item, out);
            }
        }
        let mut out = HashSet::new();
        walk(&self.q.item, &mut out);
        out
    }

    /// The score range: the service's `scale` extension, else the range of every score given
    /// (0 to 1 when there is none), else for the staged method 1 to the highest level.
    fn scale(&mut self, pillars: &[Pillar], staged: bool) -> Scale {
        if let Some(e) = find(&self.q.extension, ext::SCALE) {
            let part = |name: &str| values(&e.extension, name).find_map(number);
            if let (Some(min), Some(max)) = (part("min"), part("max")) {
                return Scale { min, max };
            }
            self.refuse(
                "invalid",
                "Questionnaire.extension",
                "the scale extension needs `min` and `max` numbers",
            );
        }
        let questions = pillars
            .iter()
            .flat_map(|p| &p.domains)
            .flat_map(|d| &d.questions);
        if staged {
            let top = questions.filter_map(|q| q.level).max().unwrap_or(2);
            return Scale {
                min: 1.0,
                max: f64::from(top),
            };
        }
        let scores: Vec<f64> = questions
            .flat_map(|q| {
                q.options
                    .iter()
                    .filter_map(|o| o.score)
                    .chain(q.bands.iter().filter_map(|b| b.score))
            })
            .collect();
        let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if scores.is_empty() {
            Scale { min: 0.0, max: 1.0 }
        } else if min < max {
            Scale { min, max }
        } else {
            Scale {
                min,
                max: min + 1.0,
            }
        }
    }

    /// Organisation types from `applies-to` extensions; `inherited` (or every type) without any.
    fn types(
        &mut self,
        extensions: &[Extension],
        inherited: Option<&[String]>,
        path: &str,
    ) -> Vec<String> {
        let mut types = Vec::new();
        for value in values(extensions, ext::APPLIES_TO) {
            match value {
                ExtensionValue::Code(code) | ExtensionValue::String(code) => {
                    types.push(code.clone())
                }
                _ => self.refuse(
                    "invalid",
                    &format!("{path}.extension"),
                    "applies-to holds an organisation type code",
                ),
            }
        }
        if types.is_empty() {
            inherited.map_or_else(
                || OrgType::ALL.iter().map(|t| t.as_str().to_owned()).collect(),
                <[String]>::to_vec,
            )
        } else {
            types
        }
    }

    fn check_link_id(&mut self, item: &QuestionnaireItem, path: &str) {
        if !self.link_ids.insert(item.link_id.clone()) {
            self.refuse(
                "invalid",
                &format!("{path}.linkId"),
                format!("linkId `{}` is used more than once", item.link_id),
            );
        }
    }

    fn group_common(
        &mut self,
        item: &QuestionnaireItem,
        path: &str,
    ) -> (Vec<EnableWhen>, Option<EnableBehavior>) {
        self.check_link_id(item, path);
        if item.repeats == Some(true) {
            self.refuse(
                "not-supported",
                &format!("{path}.repeats"),
                "repeating groups cannot be held: a return answers each question once",
            );
        }
        let conditions = self.conditions(item, path);
        (conditions, item.enable_behavior.map(behavior))
    }

    fn pillar(
        &mut self,
        index: usize,
        item: &QuestionnaireItem,
        path: &str,
        root_types: &[String],
    ) -> Pillar {
        let (enable_when, enable_behavior) = self.group_common(item, path);
        self.paths.push(Origin {
            pillar: index,
            domain: None,
            question: None,
            path: path.to_owned(),
        });
        let types = self.types(&item.extension, Some(root_types), path);
        let mut domains = Vec::new();
        for run in runs(&item.item) {
            let d = domains.len();
            match run {
                Run::Group(i, child) => {
                    let child_path = format!("{path}.item[{i}]");
                    domains.push(self.domain(index, d, child, &child_path, &types));
                }
                Run::Loose(list) => {
                    domains.push(self.loose_domain(index, d, &list, path, &types, TotalOf::Pillar));
                }
            }
        }
        Pillar {
            key: item.link_id.clone(),
            title: item.text.clone().unwrap_or_else(|| item.link_id.clone()),
            description: description_of(&item.extension),
            enable_when,
            enable_behavior,
            required: item.required == Some(true),
            implicit: false,
            domains,
        }
    }

    fn domain(
        &mut self,
        pillar: usize,
        index: usize,
        item: &QuestionnaireItem,
        path: &str,
        inherited: &[String],
    ) -> Domain {
        let (enable_when, enable_behavior) = self.group_common(item, path);
        self.paths.push(Origin {
            pillar,
            domain: Some(index),
            question: None,
            path: path.to_owned(),
        });
        let applies_to = self.types(&item.extension, Some(inherited), path);
        let children: Vec<(usize, &QuestionnaireItem)> = item
            .item
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
            .collect();
        let mut questions = Vec::new();
        self.nested(
            (pillar, index),
            &children,
            path,
            None,
            TotalOf::Domain,
            &mut questions,
        );
        Domain {
            key: item.link_id.clone(),
            title: item.text.clone().unwrap_or_else(|| item.link_id.clone()),
            description: description_of(&item.extension),
            applies_to,
            enable_when,
            enable_behavior,
            required: item.required == Some(true),
            implicit: false,
            questions,
        }
    }

    fn loose_domain(
        &mut self,
        pillar: usize,
        index: usize,
        list: &[(usize, &QuestionnaireItem)],
        parent: &str,
        types: &[String],
        scope: TotalOf,
    ) -> Domain {
        let key = self.generated_key("domain");
        self.paths.push(Origin {
            pillar,
            domain: Some(index),
            question: None,
            path: format!("{parent}.item[{}]", list[0].0),
        });
        let mut questions = Vec::new();
        self.nested((pillar, index), list, parent, None, scope, &mut questions);
        Domain {
            key: key.clone(),
            title: key,
            description: None,
            applies_to: types.to_vec(),
            enable_when: Vec::new(),
            enable_behavior: None,
            required: false,
            implicit: true,
            questions,
        }
    }

    /// Reads `items` (children of `parent_path`) as questions of one domain, in order, each item
    /// nested under a question or a group below the domain naming it as its `parent`.
    fn nested(
        &mut self,
        (pillar, domain): (usize, usize),
        items: &[(usize, &QuestionnaireItem)],
        parent_path: &str,
        parent: Option<&str>,
        scope: TotalOf,
        out: &mut Vec<Question>,
    ) {
        for (i, child) in items {
            let path = format!("{parent_path}.item[{i}]");
            self.paths.push(Origin {
                pillar,
                domain: Some(domain),
                question: Some(out.len()),
                path: path.clone(),
            });
            let question = if child.r#type == QuestionnaireItemType::Group {
                self.group_item(child, &path)
            } else {
                self.question(child, &path, scope)
            };
            let Some(mut question) = question else {
                self.paths.pop();
                continue;
            };
            question.parent = parent.map(str::to_owned);
            let key = question.key.clone();
            let help_taken = question.help.is_some();
            out.push(question);
            // A question's help text is its own; every other child is an item nested under it.
            let mut skipped_help = false;
            let children: Vec<(usize, &QuestionnaireItem)> = child
                .item
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
                .filter(|(_, c)| {
                    let is_own_help = help_taken
                        && !skipped_help
                        && child.r#type != QuestionnaireItemType::Group
                        && c.r#type == QuestionnaireItemType::Display
                        && is_help(c);
                    if is_own_help {
                        skipped_help = true;
                    }
                    !is_own_help
                })
                .collect();
            self.nested(
                (pillar, domain),
                &children,
                &path,
                Some(&key),
                TotalOf::Group,
                out,
            );
        }
    }

    /// A group below pillar and domain, as a `group` item of the domain.
    fn group_item(&mut self, item: &QuestionnaireItem, path: &str) -> Option<Question> {
        let (enable_when, enable_behavior) = self.group_common(item, path);
        Some(Question {
            key: item.link_id.clone(),
            text: item.text.clone().unwrap_or_default(),
            help: None,
            kind: QuestionType::Group,
            mandatory: false,
            scored: true,
            weight: 1.0,
            options: Vec::new(),
            answer_value_set: None,
            bands: Vec::new(),
            level: None,
            enable_when,
            enable_behavior,
            total: None,
            parent: None,
        })
    }

    fn question(
        &mut self,
        item: &QuestionnaireItem,
        path: &str,
        scope: TotalOf,
    ) -> Option<Question> {
        self.check_link_id(item, path);
        use QuestionnaireItemType as T;
        let repeats = item.repeats == Some(true);
        let unit_is_percent = values(&item.extension, hl7::UNIT).any(|v| match v {
            ExtensionValue::Coding(c) => c.code.as_deref() == Some("%"),
            _ => false,
        });
        let kind = match item.r#type {
            T::Choice if repeats => QuestionType::MultipleChoice,
            T::Choice => QuestionType::SingleChoice,
            T::OpenChoice => QuestionType::OpenChoice,
            T::Decimal if unit_is_percent => QuestionType::Percentage,
            T::Decimal => QuestionType::Number,
            T::Integer => QuestionType::Integer,
            T::Boolean => QuestionType::Boolean,
            T::Text => QuestionType::Text,
            T::String => QuestionType::String,
            T::Url => QuestionType::Url,
            T::Date => QuestionType::Date,
            T::DateTime => QuestionType::DateTime,
            T::Time => QuestionType::Time,
            T::Display => QuestionType::Display,
            other => {
                self.refuse(
                    "not-supported",
                    &format!("{path}.type"),
                    format!("items of type `{}` cannot be held (a return holds choices, numbers, booleans, text, dates and times)", other.as_ref()),
                );
                return None;
            }
        };
        if repeats && !matches!(item.r#type, T::Choice) {
            self.refuse(
                "not-supported",
                &format!("{path}.repeats"),
                format!(
                    "only choice items may repeat here, not `{}`",
                    item.r#type.as_ref()
                ),
            );
        }
        // The first help display among the children is the question's help; the caller reads
        // the other children as items nested under the question.
        let mut help = None;
        for (i, child) in item.item.iter().enumerate() {
            let Some(child) = child else { continue };
            if child.r#type == T::Display && is_help(child) {
                self.check_link_id(child, &format!("{path}.item[{i}]"));
                help = child.text.clone();
                break;
            }
        }
        let options = self.options(item, path);
        let bands = self.bands(item, path);
        let level = values(&item.extension, ext::STAGED_LEVEL)
            .find_map(number)
            .and_then(|n| (n.fract() == 0.0 && n >= 0.0).then_some(n as u32));
        let weight = values(&item.extension, ext::QUESTION_WEIGHT)
            .find_map(number)
            .unwrap_or(1.0);
        let total = self.total(item, path, scope);
        let mut question = Question {
            key: item.link_id.clone(),
            text: item.text.clone().unwrap_or_default(),
            help,
            kind,
            mandatory: item.required == Some(true)
                && kind != QuestionType::Display
                && total.is_none(),
            scored: true,
            weight,
            options,
            answer_value_set: None,
            bands,
            level,
            enable_when: self.conditions(item, path),
            enable_behavior: item.enable_behavior.map(behavior),
            total,
            parent: None,
        };
        if question.options.is_empty() && kind.takes_options() {
            question.answer_value_set = item.answer_value_set.clone();
        }
        question.scored = values(&item.extension, ext::SCORED)
            .find_map(|v| match v {
                ExtensionValue::Boolean(b) => Some(*b),
                _ => None,
            })
            .unwrap_or_else(|| inferred_scored(&question));
        if kind == QuestionType::Display && question.text.is_empty() {
            question.text = item.link_id.clone();
        }
        Some(question)
    }

    fn total(&mut self, item: &QuestionnaireItem, path: &str, scope: TotalOf) -> Option<Total> {
        let value = values(&item.extension, hl7::CALCULATED_EXPRESSION).next()?;
        let expression = match value {
            ExtensionValue::Expression(e) => e.expression.clone().unwrap_or_default(),
            _ => String::new(),
        };
        let compact: String = expression.chars().filter(|c| !c.is_whitespace()).collect();
        let sums = [".sum()", ".aggregate($this+$total,0)"];
        let weights = [".ordinal()", ".weight()"];
        let is_sum = weights
            .iter()
            .any(|w| sums.iter().any(|s| compact.ends_with(&format!("{w}{s}"))));
        // What is summed: the service's `total-of` when present, else where the item stands.
        let of = values(&item.extension, ext::TOTAL_OF)
            .find_map(|v| match v {
                ExtensionValue::Code(code) => [
                    TotalOf::Group,
                    TotalOf::Domain,
                    TotalOf::Pillar,
                    TotalOf::Framework,
                ]
                .into_iter()
                .find(|of| total_of_code(*of) == code),
                _ => None,
            })
            .unwrap_or(scope);
        if is_sum {
            Some(Total {
                of,
                expression: Some(expression),
            })
        } else {
            self.refuse(
                "not-supported",
                &format!("{path}.extension"),
                format!("only a sum of answer weights (`….ordinal().sum()` or `….weight().sum()`) is calculated here, not `{expression}`"),
            );
            None
        }
    }

    fn options(&mut self, item: &QuestionnaireItem, path: &str) -> Vec<AnswerOption> {
        let mut options = Vec::new();
        for (i, option) in item.answer_option.iter().enumerate() {
            let Some(option) = option else { continue };
            let option_path = format!("{path}.answerOption[{i}]");
            let meets = values(&option.extension, ext::MEETS_CRITERION)
                .any(|v| matches!(v, ExtensionValue::Boolean(true)));
            let mut score = score_of(&option.extension);
            let (code, label, system, value_type) = match &option.value {
                QuestionnaireItemAnswerOptionValue::Coding(c) => {
                    score = score.or_else(|| score_of(&c.extension));
                    let Some(code) = c.code.clone() else {
                        self.refuse(
                            "required",
                            &format!("{option_path}.valueCoding.code"),
                            "an option's coding needs a code",
                        );
                        continue;
                    };
                    (
                        code.clone(),
                        c.display.clone().unwrap_or(code),
                        c.system.clone(),
                        None,
                    )
                }
                QuestionnaireItemAnswerOptionValue::Integer(n) => (
                    n.to_string(),
                    n.to_string(),
                    None,
                    Some(OptionValueType::Integer),
                ),
                QuestionnaireItemAnswerOptionValue::String(s) => {
                    (s.clone(), s.clone(), None, Some(OptionValueType::String))
                }
                QuestionnaireItemAnswerOptionValue::Date(d) => {
                    let text = json_text(d);
                    (text.clone(), text, None, Some(OptionValueType::Date))
                }
                QuestionnaireItemAnswerOptionValue::Time(t) => {
                    let text = json_text(t);
                    (text.clone(), text, None, Some(OptionValueType::Time))
                }
                _ => {
                    self.refuse(
                        "not-supported",
                        &option_path,
                        "reference options cannot be held",
                    );
                    continue;
                }
            };
            options.push(AnswerOption {
                code,
                system,
                value_type,
                label,
                score,
                meets,
            });
        }
        if let Some(reference) = item.answer_value_set.as_deref()
            && let Some(id) = reference.strip_prefix('#')
        {
            let contained = self.q.contained.iter().find_map(|r| match r {
                Resource::ValueSet(vs) if vs.id.as_deref() == Some(id) => Some(vs),
                _ => None,
            });
            match contained {
                Some(vs) => options.extend(value_set_options(vs)),
                None => self.refuse(
                    "not-found",
                    &format!("{path}.answerValueSet"),
                    format!("no contained ValueSet has id `{id}`"),
                ),
            }
        }
        options
    }

    fn bands(&mut self, item: &QuestionnaireItem, path: &str) -> Vec<Band> {
        let mut bands = Vec::new();
        for e in item.extension.iter().filter(|e| e.url == ext::SCORE_BAND) {
            let part = |name: &str| values(&e.extension, name).find_map(number);
            match (part("from"), part("to")) {
                (Some(from), Some(to)) => bands.push(Band {
                    from,
                    to,
                    score: part("score"),
                }),
                _ => self.refuse(
                    "invalid",
                    &format!("{path}.extension"),
                    "a score band needs `from` and `to` numbers",
                ),
            }
        }
        bands
    }

    fn conditions(&mut self, item: &QuestionnaireItem, path: &str) -> Vec<EnableWhen> {
        use QuestionnaireItemEnableWhenAnswer as A;
        let mut out = Vec::new();
        for (i, c) in item.enable_when.iter().enumerate() {
            let Some(c) = c else { continue };
            let c_path = format!("{path}.enableWhen[{i}]");
            let (answer, system, answer_type) = match &c.answer {
                A::Boolean(b) => (AnswerValue::Bool(*b), None, ConditionAnswerType::Boolean),
                A::Decimal(d) => (AnswerValue::Number(*d), None, ConditionAnswerType::Decimal),
                A::Integer(n) => (
                    AnswerValue::Number(f64::from(*n)),
                    None,
                    ConditionAnswerType::Integer,
                ),
                A::Date(d) => (
                    AnswerValue::Text(json_text(d)),
                    None,
                    ConditionAnswerType::Date,
                ),
                A::DateTime(d) => (
                    AnswerValue::Text(json_text(d)),
                    None,
                    ConditionAnswerType::DateTime,
                ),
                A::Time(t) => (
                    AnswerValue::Text(json_text(t)),
                    None,
                    ConditionAnswerType::Time,
                ),
                A::String(s) => (
                    AnswerValue::Text(s.clone()),
                    None,
                    ConditionAnswerType::String,
                ),
                A::Coding(coding) => match &coding.code {
                    Some(code) => (
                        AnswerValue::Text(code.clone()),
                        coding.system.clone(),
                        ConditionAnswerType::Coding,
                    ),
                    None => {
                        self.refuse(
                            "required",
                            &format!("{c_path}.answerCoding.code"),
                            "a condition's coding needs a code",
                        );
                        continue;
                    }
                },
                _ => {
                    self.refuse(
                        "not-supported",
                        &c_path,
                        "conditions on quantities or references cannot be held",
                    );
                    continue;
                }
            };
            let operator = c.operator.as_ref().to_owned();
            let exists = operator == "exists";
            out.push(EnableWhen {
                question: c.question.clone(),
                operator,
                answer: Some(answer),
                system,
                answer_type: (!exists).then_some(answer_type),
            });
        }
        out
    }

    /// The FHIRPath of a framework validation path (`pillars[0].domains[1].questions[2].options`),
    /// with the framework field it names.
    fn fhir_path(&self, native: &str) -> (String, String) {
        let index = |name: &str| -> Option<usize> {
            let start = native.find(&format!("{name}["))? + name.len() + 1;
            native[start..].split(']').next()?.parse().ok()
        };
        let (p, d, q) = (index("pillars"), index("domains"), index("questions"));
        let found = self
            .paths
            .iter()
            .rev()
            .find(|o| Some(o.pillar) == p && o.domain == d && o.question == q);
        match found {
            Some(o) => (o.path.clone(), native.to_owned()),
            None => ("Questionnaire".to_owned(), native.to_owned()),
        }
    }
}

fn behavior(b: EnableWhenBehavior) -> EnableBehavior {
    match b {
        EnableWhenBehavior::All => EnableBehavior::All,
        EnableWhenBehavior::Any => EnableBehavior::Any,
    }
}

/// A FHIR date or time as the text it was written as.
fn json_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn description_of(extensions: &[Extension]) -> Option<String> {
    values(extensions, ext::DESCRIPTION).find_map(|v| match v {
        ExtensionValue::Markdown(s) | ExtensionValue::String(s) => Some(s.clone()),
        _ => None,
    })
}

fn is_help(item: &QuestionnaireItem) -> bool {
    values(&item.extension, hl7::ITEM_CONTROL).any(|v| match v {
        ExtensionValue::CodeableConcept(cc) => cc
            .coding
            .iter()
            .flatten()
            .any(|c| c.code.as_deref() == Some("help")),
        _ => false,
    })
}

/// A score from `ordinalValue`, `itemWeight` or an older alias.
fn score_of(extensions: &[Extension]) -> Option<f64> {
    [hl7::ORDINAL_VALUE, hl7::ITEM_WEIGHT]
        .into_iter()
        .chain(hl7::ORDINAL_ALIASES)
        .find_map(|url| values(extensions, url).find_map(number))
}

/// The concepts of a contained ValueSet (its expansion, else its compose), as options.
fn value_set_options(vs: &ValueSet) -> Vec<AnswerOption> {
    let mut options = Vec::new();
    if let Some(expansion) = &vs.expansion {
        for c in expansion.contains.iter().flatten() {
            if let Some(code) = &c.code {
                options.push(AnswerOption {
                    code: code.clone(),
                    system: c.system.clone(),
                    value_type: None,
                    label: c.display.clone().unwrap_or_else(|| code.clone()),
                    score: score_of(&c.extension),
                    meets: false,
                });
            }
        }
    }
    if options.is_empty()
        && let Some(compose) = &vs.compose
    {
        for include in compose.include.iter().flatten() {
            for c in include.concept.iter().flatten() {
                options.push(AnswerOption {
                    code: c.code.clone(),
                    system: include.system.clone(),
                    value_type: None,
                    label: c.display.clone().unwrap_or_else(|| c.code.clone()),
                    score: score_of(&c.extension),
                    meets: values(&c.extension, ext::MEETS_CRITERION)
                        .any(|v| matches!(v, ExtensionValue::Boolean(true))),
                });
            }
        }
    }
    options
}

/// A framework key from the Questionnaire's id (else name, else title): lower case, characters
/// other than letters, digits, `.` and `-` as `-` (so the key is a FHIR id too), at most 64.
pub fn framework_key(q: &Questionnaire) -> String {
    let source =
        q.id.clone()
            .or_else(|| q.name.clone())
            .or_else(|| q.title.clone())
            .unwrap_or_else(|| "questionnaire".into());
    let mut key: String = source
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if key.trim_matches('-').is_empty() {
        key = "questionnaire".into();
    }
    key
}
