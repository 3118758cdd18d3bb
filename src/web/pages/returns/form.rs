//! One pillar's questions (`/app/returns/{round}/{ods}/{pillar}`): the form, and its save.
//!
//! A save sends only what the person changed since the page was drawn (each question carries the
//! answer it was drawn with, `orig.{key}`) at the version it was drawn at. When the return has
//! moved on and someone else changed a question of this page, nothing is written: the person sees
//! both versions and who changed what, and keeps theirs or takes the other; neither is ever
//! dropped silently. Changes elsewhere in the return merge (they touch nothing on this page).
//! Without JavaScript a save re-draws the page, so conditional questions appear and disappear;
//! with it the page saves itself after each change (`fetch`, answered in JSON) and shows or hides
//! questions as the server's rules say.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde_json::json;

use super::answers::{
    FieldKind, Posted, Shown, answer_text, as_drawn, encode, field_kind, read, shown_of,
};
use super::{Loaded, load};
use crate::api::assessments::{
    self as api, AnswerInput, HistoryEvent, SaveAnswers, history_events, questionnaire_of, save_at,
};
use crate::domain::answers::Answer;
use crate::domain::framework::{Framework, Question, QuestionType};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::layout::Page;
use crate::web::session::Viewer;
use crate::web::{WebError, WebResult};

#[derive(Debug, serde::Deserialize)]
pub struct Notice {
    saved: Option<String>,
    revealed: Option<String>,
    kept: Option<String>,
    taken: Option<String>,
    unchanged: Option<String>,
}

pub async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
    notice: web::Query<Notice>,
) -> WebResult<HttpResponse> {
    let (round, ods, pillar) = path.into_inner();
    let l = load(&state, &viewer.who, &round, &ods, false).await?;
    let index = pillar_of(&l, &pillar)?;
    let may_edit = l.q.editable && api::authorise(&viewer.who, &ods, true).is_ok();
    // Nothing posted: every question shows what is stored.
    let shown: HashMap<String, Shown> = HashMap::new();
    let origs = page_keys(&l, index)
        .map(|(_, q)| (q.key.clone(), encode(l.answers.get(&q.key))))
        .collect();
    let n = notice.into_inner();
    let banner = if n.kept.is_some() {
        Some("Your answers have been kept")
    } else if n.taken.is_some() {
        Some("The other version has been kept; your unsaved changes were discarded")
    } else if n.saved.is_some() {
        Some("Your answers have been saved")
    } else if n.unchanged.is_some() {
        Some("There were no changes to save")
    } else {
        None
    };
    let draw = Draw {
        l: &l,
        index,
        shown: &shown,
        origs: &origs,
        enabled: None,
        errors: &[],
        version: l.q.version,
        banner,
        revealed: n.revealed.is_some(),
        editable: may_edit,
    };
    Ok(draw.page(&viewer).render(draw.body(&viewer)))
}

fn pillar_of(l: &Loaded, key: &str) -> WebResult<usize> {
    l.pillar_index(key).ok_or_else(|| {
        WebError::NotFound(format!(
            "`{key}` is not a pillar of this return's questionnaire."
        ))
    })
}

/// The framework's questions of one pillar page that take an answer, with their domains' order.
fn page_keys(l: &Loaded, index: usize) -> impl Iterator<Item = (usize, &Question)> {
    let f: &Framework = l.framework();
    let pillar = &l.q.pillars[index];
    pillar.domains.iter().enumerate().flat_map(move |(di, d)| {
        d.questions
            .iter()
            .filter(|q| q.answerable)
            .filter_map(move |q| f.question(&q.key).map(|(_, _, fq)| (di, fq)))
    })
}

struct Draw<'a> {
    l: &'a Loaded,
    index: usize,
    shown: &'a HashMap<String, Shown>,
    origs: &'a HashMap<String, String>,
    /// Which questions are asked (default: the questionnaire's view).
    enabled: Option<&'a HashMap<String, bool>>,
    /// (question key, id of the field at fault, message).
    errors: &'a [(String, String, String)],
    version: i32,
    banner: Option<&'a str>,
    revealed: bool,
    editable: bool,
}

impl Draw<'_> {
    fn page<'v>(&'v self, viewer: &'v Viewer) -> Page<'v> {
        Page {
            title: &self.l.q.pillars[self.index].title,
            viewer: Some(viewer),
            crumbs: self.l.crumbs(),
            body_class: "",
        }
    }

    fn is_enabled(&self, key: &str, default: bool) -> bool {
        self.enabled
            .and_then(|m| m.get(key).copied())
            .unwrap_or(default)
    }

    fn body(&self, viewer: &Viewer) -> Markup {
        let l = self.l;
        let p = &l.q.pillars[self.index];
        let f = l.framework();
        let base = l.base();
        let next = l.q.pillars.get(self.index + 1);
        let error_of: HashMap<&str, &str> = self
            .errors
            .iter()
            .map(|(k, _, m)| (k.as_str(), m.as_str()))
            .collect();
        html! {
            @if !self.errors.is_empty() {
                div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" data-module="nhsuk-error-summary" {
                    h2 class="nhsuk-error-summary__title" id="error-summary-title" { "There is a problem" }
                    div class="nhsuk-error-summary__body" {
                        p { "Nothing on this page has been saved. Correct these answers and save again." }
                        ul class="nhsuk-list nhsuk-error-summary__list" role="list" {
                            @for (key, id, message) in self.errors {
                                li { a href={ "#" (id) } data-question=(key) { (message) } }
                            }
                        }
                    }
                }
            }
            @if let Some(b) = self.banner {
                div class="nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="banner-title" data-module="nhsuk-notification-banner" {
                    div class="nhsuk-notification-banner__header" {
                        h2 class="nhsuk-notification-banner__title" id="banner-title" { "Success" }
                    }
                    div class="nhsuk-notification-banner__content" {
                        p class="nhsuk-notification-banner__heading" { (b) }
                    }
                }
            }
            @if self.revealed {
                div class="nhsuk-inset-text" id="revealed" {
                    span class="nhsuk-u-visually-hidden" { "Information: " }
                    p { "Your answers mean more questions on this page now apply. They are marked below." }
                }
            }
            span class="nhsuk-caption-l" { (l.q.organisation_name) ", " (l.q.round) " return" }
            h1 { (p.title) }
            @if let Some(d) = &p.description { p class="nhsuk-body-l" { (d) } }
            p id="pillar-progress" data-answered=(p.answered) data-applicable=(p.applicable) data-missing=(p.missing_mandatory) {
                strong { (p.answered) " of " (p.applicable) } " questions on this page answered"
                @if p.missing_mandatory > 0 { "; " (p.missing_mandatory) " that must be answered still to do" }
                "."
            }
            @if self.editable {
                form id="return-form" method="post" action={ (base) "/" (p.key) } novalidate data-autosave="true" {
                    input type="hidden" name="csrf_token" value=(viewer.csrf);
                    input type="hidden" name="version" value=(self.version);
                    p class="app-autosave nhsuk-body-s" id="autosave-status" role="status" aria-live="polite" {}
                    @for d in &p.domains {
                        section class="app-domain" data-domain=(d.key) aria-labelledby={ "domain-" (d.key) } {
                            h2 class="nhsuk-heading-m" id={ "domain-" (d.key) } { (d.title) }
                            @if let Some(desc) = &d.description { p class="nhsuk-hint" { (desc) } }
                            @for qv in &d.questions {
                                @let on = self.is_enabled(&qv.key, qv.enabled);
                                @if !qv.answerable {
                                    // Display text and group headings take no answer.
                                    div class="app-display" id={ "q-" (qv.key) } data-question=(qv.key) data-type=(qv.kind.as_str()) data-enabled=(on) hidden[!on] {
                                        @if qv.kind == QuestionType::Group { h3 class="nhsuk-heading-s" { (qv.text) } } @else { p { (qv.text) } }
                                    }
                                } @else if let Some((_, _, q)) = f.question(&qv.key) {
                                    (self.question(q, on, error_of.get(q.key.as_str()).copied()))
                                }
                            }
                        }
                    }
                    div class="nhsuk-button-group app-button-group" {
                        button class="nhsuk-button" type="submit" id="save-continue" name="action" value="continue" data-module="nhsuk-button" {
                            "Save and continue"
                        }
                        button class="nhsuk-button nhsuk-button--secondary" type="submit" id="save" name="action" value="save" data-module="nhsuk-button" {
                            "Save"
                        }
                    }
                }
            } @else {
                @if l.q.status.as_str() == "submitted" {
                    div class="nhsuk-inset-text" { span class="nhsuk-u-visually-hidden" { "Information: " } p { "This return has been submitted and can no longer be changed." } }
                } @else if !l.q.editable {
                    div class="nhsuk-inset-text" { span class="nhsuk-u-visually-hidden" { "Information: " } p { "The round is not open, so this return cannot be changed." } }
                }
                @for d in &p.domains {
                    section class="app-domain" data-domain=(d.key) aria-labelledby={ "domain-" (d.key) } {
                        h2 class="nhsuk-heading-m" id={ "domain-" (d.key) } { (d.title) }
                        dl class="nhsuk-summary-list" {
                            @for qv in d.questions.iter().filter(|q| q.enabled && q.answerable) {
                                @if let Some((_, _, q)) = f.question(&qv.key) {
                                    div class="nhsuk-summary-list__row" id={ "q-" (q.key) } {
                                        dt class="nhsuk-summary-list__key" { (q.text) }
                                        dd class="nhsuk-summary-list__value" data-question=(q.key) {
                                            (answer_text(q, qv.answer.as_ref()))
                                            @if let Some(e) = qv.answer.as_ref().and_then(|a| a.evidence.as_ref()) {
                                                br; span class="nhsuk-body-s app-evidence" { "Evidence: " (e) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            nav class="app-pager" aria-label="Pillars of this return" {
                h2 class="nhsuk-heading-s" { "All pillars" }
                ul class="nhsuk-list" id="pillar-nav" {
                    @for (i, pp) in l.q.pillars.iter().enumerate() {
                        li data-pillar=(pp.key) {
                            @if i == self.index { strong aria-current="page" { (pp.title) } }
                            @else { a href={ (base) "/" (pp.key) } { (pp.title) } }
                            span class="nhsuk-body-s app-count" { ": " (pp.answered) " of " (pp.applicable) " answered" }
                        }
                    }
                }
                ul class="nhsuk-list app-inline-list" {
                    li { a href=(base) { "Return overview" } }
                    @if let Some(n) = next { li { a href={ (base) "/" (n.key) } { "Next: " (n.title) } } }
                }
            }
        }
    }

    fn question(&self, q: &Question, enabled: bool, error: Option<&str>) -> Markup {
        // A question the post did not carry shows what is stored.
        let shown = self
            .shown
            .get(&q.key)
            .cloned()
            .unwrap_or_else(|| shown_of(q, self.l.answers.get(&q.key)));
        let id = format!("answer-{}", q.key);
        let hint_id = format!("hint-{}", q.key);
        let error_id = format!("error-{}", q.key);
        let described = match (q.help.is_some() || q.level.is_some(), error.is_some()) {
            (true, true) => format!("{hint_id} {error_id}"),
            (true, false) => hint_id.clone(),
            (false, true) => error_id.clone(),
            (false, false) => String::new(),
        };
        let group_class = if error.is_some() {
            "nhsuk-form-group app-question nhsuk-form-group--error"
        } else {
            "nhsuk-form-group app-question"
        };
        let optional = if q.mandatory { "" } else { " (optional)" };
        let has = |v: &str| shown.values.iter().any(|s| s == v);
        let first = shown.values.first().cloned().unwrap_or_default();
        let hint = html! {
            @if q.help.is_some() || q.level.is_some() {
                div class="nhsuk-hint" id=(hint_id) {
                    @if let Some(h) = &q.help { (h) }
                    @if let Some(level) = q.level { @if q.help.is_some() { " " } "(A criterion for level " (level) ".)" }
                }
            }
            @if let Some(e) = error {
                span class="nhsuk-error-message" id=(error_id) { span class="nhsuk-u-visually-hidden" { "Error: " } (e) }
            }
        };
        let choices = |multiple: bool, options: Vec<(String, String)>| {
            let (wrap, item, input, label, kind) = if multiple {
                (
                    "nhsuk-checkboxes",
                    "nhsuk-checkboxes__item",
                    "nhsuk-checkboxes__input",
                    "nhsuk-label nhsuk-checkboxes__label",
                    "checkbox",
                )
            } else {
                (
                    "nhsuk-radios",
                    "nhsuk-radios__item",
                    "nhsuk-radios__input",
                    "nhsuk-label nhsuk-radios__label",
                    "radio",
                )
            };
            let inline = !multiple && q.kind == QuestionType::Boolean;
            html! {
                fieldset class="nhsuk-fieldset" aria-describedby=[(!described.is_empty()).then_some(described.as_str())] {
                    legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s" { (q.text) (optional) }
                    (hint)
                    div class=(if inline { format!("{wrap} {wrap}--inline") } else { wrap.to_owned() }) data-module=(if multiple { "nhsuk-checkboxes" } else { "nhsuk-radios" }) {
                        @for (i, (value, text)) in options.iter().enumerate() {
                            @let input_id = if i == 0 { id.clone() } else if q.kind == QuestionType::Boolean { format!("{id}-{value}") } else { format!("{id}-{}", i + 1) };
                            div class=(item) {
                                input class=(input) id=(input_id) name={ "answer." (q.key) } type=(kind) value=(value) checked[has(value)];
                                label class=(label) for=(input_id) { (text) }
                            }
                        }
                    }
                }
            }
        };
        let field = match q.kind {
            QuestionType::Boolean => choices(
                false,
                vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())],
            ),
            QuestionType::SingleChoice | QuestionType::MultipleChoice if !q.options.is_empty() => {
                choices(
                    q.kind == QuestionType::MultipleChoice,
                    q.options
                        .iter()
                        .map(|o| (o.code.clone(), o.label.clone()))
                        .collect(),
                )
            }
            _ => {
                let (input_type, width, mode) = match q.kind {
                    QuestionType::Number | QuestionType::Percentage => {
                        ("text", "nhsuk-input nhsuk-input--width-5", Some("decimal"))
                    }
                    QuestionType::Integer => {
                        ("text", "nhsuk-input nhsuk-input--width-5", Some("numeric"))
                    }
                    QuestionType::Url => ("url", "nhsuk-input", None),
                    QuestionType::Date => ("text", "nhsuk-input nhsuk-input--width-10", None),
                    _ => ("text", "nhsuk-input", None),
                };
                html! {
                    label class="nhsuk-label nhsuk-label--s" for=(id) { (q.text) (optional) }
                    (hint)
                    @if field_kind(q) == FieldKind::Lines {
                        @if q.kind == QuestionType::MultipleChoice {
                            div class="nhsuk-hint" { "One code per line." }
                        } @else if !q.options.is_empty() {
                            div class="nhsuk-hint" {
                                "One answer per line. Suggested answers: "
                                (q.options.iter().map(|o| format!("{} ({})", o.label, o.code)).collect::<Vec<_>>().join("; "))
                            }
                        }
                        textarea class="nhsuk-textarea" id=(id) name={ "answer." (q.key) } rows="3" aria-describedby=[(!described.is_empty()).then_some(described.as_str())] { (shown.values.join("\n")) }
                    } @else if q.kind == QuestionType::Text {
                        textarea class="nhsuk-textarea" id=(id) name={ "answer." (q.key) } rows="4" aria-describedby=[(!described.is_empty()).then_some(described.as_str())] { (first) }
                    } @else if q.kind == QuestionType::Percentage {
                        div class="nhsuk-input-wrapper" {
                            input class=(width) id=(id) name={ "answer." (q.key) } type=(input_type) inputmode=[mode] value=(first) aria-describedby=[(!described.is_empty()).then_some(described.as_str())];
                            div class="nhsuk-input__suffix" aria-hidden="true" { "%" }
                        }
                    } @else {
                        input class=(width) id=(id) name={ "answer." (q.key) } type=(input_type) inputmode=[mode] value=(first) aria-describedby=[(!described.is_empty()).then_some(described.as_str())];
                    }
                }
            }
        };
        html! {
            div class=(group_class) id={ "q-" (q.key) } data-question=(q.key) data-type=(q.kind.as_str()) data-enabled=(enabled) hidden[!enabled] {
                (field)
                div class="app-evidence-field" {
                    label class="nhsuk-label" for={ "evidence-" (q.key) } { "Evidence (optional)" }
                    textarea class="nhsuk-textarea app-evidence-input" id={ "evidence-" (q.key) } name={ "evidence." (q.key) } rows="2" { (shown.evidence) }
                }
                input type="hidden" name={ "present." (q.key) } value="1";
                input type="hidden" name={ "orig." (q.key) } value=(self.origs.get(&q.key).cloned().unwrap_or_else(|| encode(self.l.answers.get(&q.key))));
            }
        }
    }
}

/// What a save came to.
enum Outcome {
    /// Some answers did not read: nothing written.
    Invalid {
        l: Box<Loaded>,
        shown: HashMap<String, Shown>,
        origs: HashMap<String, String>,
        enabled: HashMap<String, bool>,
        errors: Vec<(String, String, String)>,
        version: i32,
    },
    /// Someone else changed questions of this page since it was drawn: nothing written.
    Conflict(Box<Conflict>),
    /// The person chose the other version, or had nothing to save.
    Unchanged { l: Box<Loaded> },
    /// Written.
    Saved {
        l: Box<Loaded>,
        revealed: Vec<String>,
    },
}

/// One question where the versions differ: its key, and its answer as drawn, as this person
/// has it, and as stored now.
type Differing = (String, Option<Answer>, Option<Answer>, Option<Answer>);

struct Conflict {
    l: Loaded,
    rows: Vec<Differing>,
    /// Saves since the page was drawn: (when, who, question keys of this page).
    changes: Vec<(String, String, Vec<String>)>,
    /// The posted fields, carried to the choice.
    mine: BTreeMap<String, Shown>,
    origs: BTreeMap<String, String>,
    action: String,
}

pub async fn save(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> WebResult<HttpResponse> {
    let (round, ods, pillar) = path.into_inner();
    let by_script = req
        .headers()
        .get("x-requested-with")
        .is_some_and(|v| v == "fetch");
    let posted = Posted::parse(&body)
        .ok_or_else(|| WebError::BadRequest("The form could not be read.".into()))?;
    viewer.check_csrf(posted.one("csrf_token").unwrap_or(""))?;
    api::authorise(&viewer.who, &ods, true)?;
    let version: i32 = posted
        .one("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| WebError::BadRequest("The form has no version.".into()))?;
    let action = posted.one("action").unwrap_or("save").to_owned();
    let resolve = posted.one("resolve").map(str::to_owned);
    let (frameworks, who) = (state.frameworks.clone(), viewer.who.clone());
    let (r2, o2) = (round.clone(), ods.clone());
    let (action_c, resolve_c) = (action.clone(), resolve.clone());
    let script = by_script;
    let outcome = crate::api::with_conn(&state, move |c| {
        let (action, resolve, by_script) = (action_c, resolve_c, script);
        let ctx = api::load(c, &frameworks, &r2, &o2)?;
        // A submitted return, or a round that is not open, takes no save at all.
        api::ensure_editable(&ctx)?;
        let (q, answers) = api::questionnaire(&ctx)?;
        let mut l = Loaded { ctx, q, answers };
        let Some(index) = l.pillar_index(&pillar) else {
            return Err(AppError::NotFound(format!(
                "`{pillar}` is not a pillar of this return's questionnaire"
            )));
        };
        let keys: Vec<Question> = page_keys(&l, index).map(|(_, q)| q.clone()).collect();
        let f = l.ctx.framework.clone();
        // What the person entered and what the page was drawn with.
        let mut shown = HashMap::new();
        let mut mine: HashMap<String, Option<Answer>> = HashMap::new();
        let mut drawn: HashMap<String, Option<Answer>> = HashMap::new();
        let mut origs = HashMap::new();
        let mut errors = Vec::new();
        for q in &keys {
            let Some(s) = posted.shown(&q.key) else {
                continue;
            };
            let Ok(orig) = posted.original(&q.key) else {
                return Err(AppError::BadRequest(
                    "the form is missing what it was drawn with; reload the page".into(),
                ));
            };
            origs.insert(q.key.clone(), encode(orig.as_ref()));
            match read(&f, l.ctx.org_type, q, &s) {
                Ok(a) => {
                    mine.insert(q.key.clone(), a);
                }
                Err((field, m)) => errors.push((q.key.clone(), field.id(&q.key), m)),
            }
            drawn.insert(q.key.clone(), orig);
            shown.insert(q.key.clone(), s);
        }
        if !errors.is_empty() {
            // Which questions are asked with the answers that did read.
            let mut merged = l.answers.clone();
            for (k, a) in &mine {
                match a {
                    Some(a) => merged.insert(k.clone(), a.clone()),
                    None => merged.remove(k),
                };
            }
            let enabled = enabled_of(&questionnaire_of(&l.ctx, &merged), index);
            return Ok(Outcome::Invalid {
                l: Box::new(l),
                shown,
                origs,
                enabled,
                errors,
                version,
            });
        }
        if resolve.as_deref() == Some("theirs") {
            return Ok(Outcome::Unchanged { l: Box::new(l) });
        }
        // Answers as the page's fields stand for them, so that what the fields cannot carry
        // (surrounding spaces, line breaks in a one-line input, the order of chosen options) is
        // no change: a question the person left alone is never written.
        let org_type = l.ctx.org_type;
        let norm = |q: &Question, a: Option<&Answer>| as_drawn(&f, org_type, q, a);
        let drawn: HashMap<String, Option<Answer>> = keys
            .iter()
            .filter_map(|q| {
                drawn
                    .get(&q.key)
                    .map(|d| (q.key.clone(), norm(q, d.as_ref())))
            })
            .collect();
        // What this person has seen of the stored answers: as drawn, or, choosing to keep
        // theirs after a conflict, the other version the conflict page showed.
        let mut seen = drawn.clone();
        if resolve.as_deref() == Some("mine") {
            for q in &keys {
                if let Some(Ok(a)) = posted
                    .one(&format!("seen.{}", q.key))
                    .map(serde_json::from_str::<Option<Answer>>)
                {
                    seen.insert(q.key.clone(), norm(q, a.as_ref()));
                }
            }
        }
        let before = enabled_of(&l.q, index);
        // A save lost to a concurrent one is tried again while nothing of this page moved.
        for _ in 0..3 {
            let stored = |q: &Question| norm(q, l.answers.get(&q.key));
            let changed: Vec<&Question> = keys
                .iter()
                .filter(|q| {
                    mine.get(&q.key)
                        .is_some_and(|m| Some(m) != drawn.get(&q.key) && *m != stored(q))
                })
                .collect();
            // Changed by someone else since this person saw it, to something other than this
            // person's answer (their own earlier autosave is not a conflict).
            let moved = keys.iter().any(|q| {
                seen.get(&q.key).is_some_and(|s| {
                    let now = stored(q);
                    now != *s && now != mine.get(&q.key).cloned().flatten()
                })
            });
            if moved && (!changed.is_empty() || by_script) {
                return conflict(
                    c,
                    &frameworks,
                    l,
                    &keys,
                    &drawn,
                    &mine,
                    shown,
                    origs,
                    version,
                    action,
                )
                .map(|x| Outcome::Conflict(Box::new(x)));
            }
            if changed.is_empty() {
                return Ok(Outcome::Unchanged { l: Box::new(l) });
            }
            let input = SaveAnswers {
                answers: changed
                    .iter()
                    .map(|q| match mine.get(&q.key).cloned().flatten() {
                        None => AnswerInput {
                            question: q.key.clone(),
                            value: Some(serde_json::Value::Null),
                            evidence: None,
                        },
                        Some(a) => AnswerInput {
                            question: q.key.clone(),
                            value: Some(serde_json::to_value(&a.value).unwrap_or_default()),
                            evidence: Some(a.evidence.clone()),
                        },
                    })
                    .collect(),
            };
            let at = l.q.version;
            if save_at(c, &who, &mut l.ctx, &input, at)?.is_some() {
                let (q, answers) = api::questionnaire(&l.ctx)?;
                let revealed = q.pillars[index]
                    .domains
                    .iter()
                    .flat_map(|d| &d.questions)
                    .filter(|x| x.enabled && x.answerable && x.answer.is_none())
                    .filter(|x| !before.get(&x.key).copied().unwrap_or(false))
                    .map(|x| x.key.clone())
                    .collect();
                l.q = q;
                l.answers = answers;
                return Ok(Outcome::Saved {
                    l: Box::new(l),
                    revealed,
                });
            }
            // Lost a race with another save: look again at what it changed.
            l.ctx.reload_assessment(c)?;
            let (q, answers) = api::questionnaire(&l.ctx)?;
            l.q = q;
            l.answers = answers;
        }
        Err(AppError::Conflict(
            "the return is being changed by several people at once; try again".into(),
        ))
    })
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) if by_script => return Ok(script_error(&e)),
        Err(e) => return Err(e.into()),
    };
    if by_script {
        return Ok(script_reply(outcome, &viewer));
    }
    Ok(match outcome {
        Outcome::Invalid {
            l,
            shown,
            origs,
            enabled,
            errors,
            version,
        } => {
            let index = pillar_index_of(&l, &req);
            let draw = Draw {
                l: &l,
                index,
                shown: &shown,
                origs: &origs,
                enabled: Some(&enabled),
                errors: &errors,
                version,
                banner: None,
                revealed: false,
                editable: true,
            };
            let mut res = draw.page(&viewer).render(draw.body(&viewer));
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
        Outcome::Conflict(c) => conflict_page(&viewer, &c, &req),
        Outcome::Unchanged { l } => {
            let index = pillar_index_of(&l, &req);
            let to = if resolve.as_deref() == Some("theirs") {
                format!("{}/{}?taken=1", l.base(), l.q.pillars[index].key)
            } else {
                next_url(&l, index, &action, &[], "unchanged")
            };
            see_other(&to)
        }
        Outcome::Saved { l, revealed } => {
            let index = pillar_index_of(&l, &req);
            let notice = if resolve.as_deref() == Some("mine") {
                "kept"
            } else {
                "saved"
            };
            see_other(&next_url(&l, index, &action, &revealed, notice))
        }
    })
}

fn pillar_index_of(l: &Loaded, req: &HttpRequest) -> usize {
    req.match_info()
        .get("pillar")
        .and_then(|p| l.pillar_index(p))
        .unwrap_or(0)
}

/// Where a save goes next: the next pillar (or the overview after the last) for "save and
/// continue", unless the save revealed questions on this page; else this page again, with a
/// `notice` (`saved`, `kept` or `unchanged`).
fn next_url(l: &Loaded, index: usize, action: &str, revealed: &[String], notice: &str) -> String {
    let base = l.base();
    let here = &l.q.pillars[index].key;
    if !revealed.is_empty() {
        return format!("{base}/{here}?{notice}=1&revealed=1#q-{}", revealed[0]);
    }
    if action == "continue" {
        return match l.q.pillars.get(index + 1) {
            Some(next) => format!("{base}/{}", next.key),
            None if notice == "unchanged" => base,
            None => format!("{base}?saved=1"),
        };
    }
    format!("{base}/{here}?{notice}=1")
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

fn enabled_of(
    q: &crate::api::assessments::QuestionnaireView,
    index: usize,
) -> HashMap<String, bool> {
    q.pillars[index]
        .domains
        .iter()
        .flat_map(|d| &d.questions)
        .map(|x| (x.key.clone(), x.enabled))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn conflict(
    c: &mut crate::db::DbConnection,
    frameworks: &crate::db::frameworks::FrameworkCache,
    l: Loaded,
    keys: &[Question],
    drawn: &HashMap<String, Option<Answer>>,
    mine: &HashMap<String, Option<Answer>>,
    shown: HashMap<String, Shown>,
    origs: HashMap<String, String>,
    version: i32,
    action: String,
) -> Result<Conflict, AppError> {
    let (f, org_type) = (l.ctx.framework.clone(), l.ctx.org_type);
    let mut moved: HashSet<&str> = HashSet::new();
    let rows = keys
        .iter()
        .filter(|q| drawn.contains_key(&q.key))
        .filter_map(|q| {
            let (d, m, t) = (
                drawn[&q.key].clone(),
                mine.get(&q.key).cloned().flatten(),
                l.answers.get(&q.key).cloned(),
            );
            let now = as_drawn(&f, org_type, q, t.as_ref());
            if now != d {
                moved.insert(q.key.as_str());
            }
            (m != d || now != d).then(|| (q.key.clone(), d, m, t))
        })
        .collect();
    // Who changed what: for each question changed since the page was drawn, its latest save
    // (when and by whom), and nothing else of the return's history, which is for national
    // readers (`history`).
    let events: Vec<(i64, HistoryEvent)> =
        history_events(c, frameworks, &l.q.round, &l.q.ods_code)?;
    let mut latest: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (_, e)) in events.iter().enumerate() {
        let after = e
            .summary
            .get("version")
            .and_then(serde_json::Value::as_i64)
            .is_some_and(|v| v > i64::from(version));
        if e.action != "save_answers" || !after {
            continue;
        }
        let touched = e
            .summary
            .get("changes")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| x.get("question").and_then(serde_json::Value::as_str));
        for k in touched {
            if let Some(k) = moved.get(k) {
                latest.insert(k, i);
            }
        }
    }
    let mut by_event: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (k, i) in latest {
        by_event.entry(i).or_default().push(k.to_owned());
    }
    let changes = by_event
        .into_iter()
        .map(|(i, questions)| {
            let e = &events[i].1;
            (
                e.occurred_at.format("%-d %B %Y at %H:%M:%S").to_string(),
                e.actor.clone(),
                questions,
            )
        })
        .collect();
    Ok(Conflict {
        l,
        rows,
        changes,
        mine: shown.into_iter().collect(),
        origs: origs.into_iter().collect(),
        action,
    })
}

fn conflict_page(viewer: &Viewer, c: &Conflict, req: &HttpRequest) -> HttpResponse {
    let l = &c.l;
    let index = pillar_index_of(l, req);
    let p = &l.q.pillars[index];
    let f = l.framework();
    let me = viewer.who.subject.clone();
    let text = |key: &str| {
        f.question(key)
            .map_or(key.to_owned(), |(_, _, q)| q.text.clone())
    };
    let show = |key: &str, a: &Option<Answer>| -> Markup {
        let Some((_, _, q)) = f.question(key) else {
            return html! {};
        };
        html! {
            (answer_text(q, a.as_ref()))
            @if let Some(e) = a.as_ref().and_then(|a| a.evidence.as_ref()) { br; span class="nhsuk-body-s" { "Evidence: " (e) } }
        }
    };
    let page = Page {
        title: "Someone else has changed this return",
        viewer: Some(viewer),
        crumbs: l.crumbs(),
        body_class: "",
    };
    let mut res = page.render(html! {
        span class="nhsuk-caption-l" { (l.q.organisation_name) ", " (p.title) }
        h1 id="conflict-title" { "Someone else has changed this return" }
        @if c.changes.is_empty() {
            p class="nhsuk-body-l" { "Your answers on this page have not been saved yet. Since you opened the page, the answers below were changed." }
        } @else {
            p class="nhsuk-body-l" { "Your answers on this page have not been saved yet. Since you opened the page, the return was changed:" }
            ul class="nhsuk-list nhsuk-list--bullet" id="conflict-changes" {
                @for (when, who, keys) in &c.changes {
                    li {
                        (if *who == me { "you, in another window or tab" } else { who.as_str() }) ", " (when) ": " (keys.join(", "))
                    }
                }
            }
        }
        table class="nhsuk-table app-table-compact" id="conflict" {
            caption class="nhsuk-table__caption" { "Answers that differ" }
            thead { tr { th scope="col" { "Question" } th scope="col" { "Your answer" } th scope="col" { "Their answer (saved now)" } th scope="col" { "When you opened the page" } } }
            tbody {
                @for (key, drawn, mine, theirs) in &c.rows {
                    tr data-question=(key) {
                        th scope="row" { (key) ": " (text(key)) }
                        td class="app-mine" { (show(key, mine)) }
                        td class="app-theirs" { (show(key, theirs)) }
                        td class="app-drawn" { (show(key, drawn)) }
                    }
                }
            }
        }
        form method="post" action={ (l.base()) "/" (p.key) } novalidate {
            input type="hidden" name="csrf_token" value=(viewer.csrf);
            input type="hidden" name="version" value=(l.q.version);
            input type="hidden" name="action" value=(c.action);
            @for (key, s) in &c.mine {
                input type="hidden" name={ "present." (key) } value="1";
                input type="hidden" name={ "orig." (key) } value=(c.origs.get(key).map_or("null", String::as_str));
                input type="hidden" name={ "seen." (key) } value=(encode(l.answers.get(key)));
                input type="hidden" name={ "evidence." (key) } value=(s.evidence);
                @for v in &s.values { input type="hidden" name={ "answer." (key) } value=(v); }
            }
            div class="nhsuk-button-group app-button-group" {
                button class="nhsuk-button" type="submit" id="keep-mine" name="resolve" value="mine" { "Keep my answers" }
                button class="nhsuk-button nhsuk-button--secondary" type="submit" id="take-theirs" name="resolve" value="theirs" { "Use their answers" }
            }
            p class="nhsuk-body-s" {
                "Keeping your answers saves every answer you changed on this page over theirs; "
                "their changes to questions you did not change stay. Using theirs discards your unsaved changes on this page."
            }
        }
    });
    *res.status_mut() = StatusCode::CONFLICT;
    res
}

/// A problem document (RFC 9457) for the page's own autosave, with the `outcome` it reads.
fn script_problem(
    status: StatusCode,
    title: &str,
    detail: &str,
    extra: serde_json::Value,
) -> HttpResponse {
    let mut body = json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    HttpResponse::build(status)
        .content_type(crate::error::PROBLEM_JSON)
        .body(body.to_string())
}

/// The JSON reply to the page's own autosave: `outcome` is `saved`, `invalid`, `conflict` or
/// `error` (the last three as problem documents).
fn script_reply(outcome: Outcome, _viewer: &Viewer) -> HttpResponse {
    match outcome {
        Outcome::Invalid { errors, .. } => script_problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Some answers cannot be saved",
            "Nothing on this page has been saved.",
            json!({
                "outcome": "invalid",
                "errors": errors.iter().map(|(k, _, m)| json!({"question": k, "message": m})).collect::<Vec<_>>(),
            }),
        ),
        Outcome::Conflict(c) => script_problem(
            StatusCode::CONFLICT,
            "Someone else has changed this return",
            "Someone else has changed this return. Select Save to compare your answers with theirs.",
            json!({ "outcome": "conflict", "version": c.l.q.version }),
        ),
        Outcome::Unchanged { l } | Outcome::Saved { l, .. } => {
            let mut enabled = serde_json::Map::new();
            let mut orig = serde_json::Map::new();
            for d in l.q.pillars.iter().flat_map(|p| &p.domains) {
                for x in &d.questions {
                    enabled.insert(x.key.clone(), json!(x.enabled));
                    orig.insert(x.key.clone(), json!(encode(l.answers.get(&x.key))));
                }
            }
            let pillars: Vec<_> = l
                .q
                .pillars
                .iter()
                .map(|p| json!({"key": p.key, "answered": p.answered, "applicable": p.applicable, "missing": p.missing_mandatory}))
                .collect();
            HttpResponse::Ok().json(json!({
                "outcome": "saved",
                "version": l.q.version,
                "saved_at": chrono::Utc::now().format("%H:%M:%S").to_string(),
                "enabled": enabled,
                "orig": orig,
                "pillars": pillars,
                "answered": l.q.answered,
                "applicable": l.q.applicable,
                "missing": l.q.missing_mandatory,
            }))
        }
    }
}

/// A failed autosave, worded as the API words it (an internal cause is logged, never shown).
fn script_error(e: &AppError) -> HttpResponse {
    use actix_web::ResponseError;
    if let AppError::Internal(cause) = e {
        tracing::error!(cause = %cause, "internal error");
    }
    script_problem(
        e.status_code(),
        "Not saved",
        &e.problem().detail,
        json!({ "outcome": "error" }),
    )
}
