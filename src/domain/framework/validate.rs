//! Structural validation of a framework: every problem is reported at once, each with the JSON path
//! of the offending field (`pillars[0].domains[2].questions[1].options`). Nothing here reads answers.

mod references;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_references;

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Band, Domain, EnableWhen, Framework, Method, Question, QuestionType};
use crate::domain::organisation::OrgType;

/// Most questions a framework may hold (the DMA has a few hundred per care setting).
pub const MAX_QUESTIONS: usize = 5000;
/// Most answer options per question.
pub const MAX_OPTIONS: usize = 100;
/// Most score bands per question.
pub const MAX_BANDS: usize = 100;
/// Deepest nesting of items within a domain (`parent` chains), as FHIR forms nest them.
pub const MAX_NESTING: usize = 8;
/// Longest framework key.
const MAX_KEY_CHARS: usize = 64;
/// Longest pillar, domain or question key (a FHIR `linkId` is kept as it is).
const MAX_ITEM_KEY_CHARS: usize = 255;

/// One thing wrong with a framework, at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[schema(example = "pillars[0].domains[2].questions[1].options")]
    pub path: String,
    #[schema(example = "a single_choice question needs at least one option")]
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl Framework {
    /// Checks every structural rule and returns all problems found, in document order.
    ///
    /// Rules beyond the obvious: keys are unique framework-wide (pillars, domains and questions each
    /// in their own namespace); options belong only to choice questions and bands only to number
    /// and percentage questions; in the scored method every option and band carries a score inside
    /// the scale and `level` is not allowed; in the staged method the scale is whole numbers
    /// (levels), `level` lies in `scale.min + 1 ..= scale.max` and a criterion is a boolean or a
    /// choice question with at least one option that `meets`; `enable_when` points at an earlier
    /// question and its answer fits that question's type.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut v = Validator {
            framework: self,
            problems: Vec::new(),
            positions: HashMap::new(),
        };
        v.run();
        if v.problems.is_empty() {
            Ok(())
        } else {
            Err(v.problems)
        }
    }
}

struct Validator<'a> {
    framework: &'a Framework,
    problems: Vec<Problem>,
    /// First occurrence of each question key: position in framework order and the question.
    positions: HashMap<&'a str, (usize, &'a Question)>,
}

impl<'a> Validator<'a> {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn run(&mut self) {
        let fw = self.framework;
        for (position, (_, _, q)) in fw.questions().enumerate() {
            self.positions
                .entry(q.key.as_str())
                .or_insert((position, q));
        }
        if let Some(message) = framework_key_problem(&fw.key) {
            self.push("key", message);
        }
        self.non_empty("title", &fw.title);
        self.non_empty("version", &fw.version);
        self.scale();
        if fw.pillars.is_empty() {
            self.push("pillars", "a framework needs at least one pillar");
        }
        let count = fw.question_count();
        if count > MAX_QUESTIONS {
            self.push(
                "pillars",
                format!("a framework may hold at most {MAX_QUESTIONS} questions, not {count}"),
            );
        }
        let mut pillar_keys = HashSet::new();
        let mut domain_keys = HashSet::new();
        let mut question_keys = HashSet::new();
        let mut position = 0;
        for (i, pillar) in fw.pillars.iter().enumerate() {
            let path = format!("pillars[{i}]");
            self.item_key(
                &format!("{path}.key"),
                &pillar.key,
                &mut pillar_keys,
                "pillar",
            );
            self.non_empty(&format!("{path}.title"), &pillar.title);
            self.conditions(&path, &pillar.enable_when, position);
            if pillar.domains.is_empty() {
                self.push(
                    format!("{path}.domains"),
                    "a pillar needs at least one domain",
                );
            }
            for (j, domain) in pillar.domains.iter().enumerate() {
                let path = format!("{path}.domains[{j}]");
                self.item_key(
                    &format!("{path}.key"),
                    &domain.key,
                    &mut domain_keys,
                    "domain",
                );
                self.non_empty(&format!("{path}.title"), &domain.title);
                self.applies_to(&path, domain);
                self.conditions(&path, &domain.enable_when, position);
                if domain.questions.is_empty() {
                    self.push(
                        format!("{path}.questions"),
                        "a domain needs at least one question",
                    );
                }
                for (k, question) in domain.questions.iter().enumerate() {
                    let path = format!("{path}.questions[{k}]");
                    self.parent(&path, domain, k);
                    self.item_key(
                        &format!("{path}.key"),
                        &question.key,
                        &mut question_keys,
                        "question",
                    );
                    self.question(&path, question, position);
                    position += 1;
                }
            }
        }
        self.carries_over();
    }

    fn non_empty(&mut self, path: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(path, "must not be empty");
        }
    }

    fn item_key(&mut self, path: &str, key: &'a str, seen: &mut HashSet<&'a str>, what: &str) {
        if let Some(message) = item_key_problem(key) {
            self.push(path, message);
        } else if !seen.insert(key) {
            self.push(path, format!("{what} key `{key}` is used more than once"));
        }
    }

    fn scale(&mut self) {
        let scale = self.framework.scale;
        if !scale.min.is_finite() || !scale.max.is_finite() {
            self.push("scale", "min and max must be finite numbers");
            return;
        }
        if scale.min >= scale.max {
            self.push(
                "scale",
                format!("min ({}) must be below max ({})", scale.min, scale.max),
            );
        }
        if self.framework.method == Method::Staged
            && (scale.min.fract() != 0.0 || scale.max.fract() != 0.0 || scale.min < 0.0)
        {
            self.push(
                "scale",
                "the staged method needs whole-number levels from 0 or more (e.g. 1 to 5)",
            );
        }
    }

    fn applies_to(&mut self, path: &str, domain: &Domain) {
        if domain.applies_to.is_empty() {
            self.push(
                format!("{path}.applies_to"),
                "must name at least one organisation type",
            );
        }
        let mut seen = HashSet::new();
        for (i, raw) in domain.applies_to.iter().enumerate() {
            if OrgType::parse(raw).is_none() {
                let known: Vec<&str> = OrgType::ALL.iter().map(|t| t.as_str()).collect();
                self.push(
                    format!("{path}.applies_to[{i}]"),
                    format!(
                        "unknown organisation type `{raw}`; expected one of {}",
                        known.join(", ")
                    ),
                );
            } else if !seen.insert(raw.as_str()) {
                self.push(
                    format!("{path}.applies_to[{i}]"),
                    format!("`{raw}` is listed more than once"),
                );
            }
        }
    }

    /// The conditions of the item at `path`, whose first question is at `position`.
    fn conditions(&mut self, path: &str, conditions: &[EnableWhen], position: usize) {
        match conditions {
            [] => {}
            [one] => self.enable_when(&format!("{path}.enable_when"), one, position),
            many => {
                for (i, condition) in many.iter().enumerate() {
                    self.enable_when(&format!("{path}.enable_when[{i}]"), condition, position);
                }
            }
        }
    }

    fn question(&mut self, path: &str, q: &Question, position: usize) {
        // Text may be empty: FHIR items need none (a coded question shows its code's name).
        if !(q.weight.is_finite() && q.weight > 0.0) {
            self.push(format!("{path}.weight"), "must be a positive number");
        }
        self.options(path, q);
        self.bands(path, q);
        self.level(path, q);
        self.total(path, q);
        self.conditions(path, &q.enable_when, position);
    }

    /// `parent` names an earlier item of the same domain.
    fn parent(&mut self, path: &str, domain: &Domain, index: usize) {
        let Some(parent) = &domain.questions[index].parent else {
            return;
        };
        if !domain.questions[..index].iter().any(|q| &q.key == parent) {
            self.push(
                format!("{path}.parent"),
                format!("`{parent}` is not an earlier item of this domain"),
            );
            return;
        }
        // Depth of the chain of parents (each earlier, so the walk ends).
        let mut depth = 1;
        let mut at = Some(parent.as_str());
        while let Some(key) = at {
            at = domain.questions[..index]
                .iter()
                .find(|q| q.key == key)
                .and_then(|q| q.parent.as_deref());
            depth += 1;
            if depth > MAX_NESTING {
                self.push(
                    format!("{path}.parent"),
                    format!("items nest at most {MAX_NESTING} deep within a domain"),
                );
                return;
            }
        }
    }

    /// A calculated total is a number or integer with nothing to answer from.
    fn total(&mut self, path: &str, q: &Question) {
        if q.total.is_none() {
            return;
        }
        if !matches!(q.kind, QuestionType::Number | QuestionType::Integer) {
            self.push(
                format!("{path}.type"),
                format!(
                    "a calculated total is a number or an integer, not {}",
                    q.kind.as_str()
                ),
            );
        }
        if !q.bands.is_empty() {
            self.push(format!("{path}.bands"), "a calculated total takes no bands");
        }
        if q.level.is_some() {
            self.push(
                format!("{path}.level"),
                "a calculated total is not a criterion",
            );
        }
    }

    /// Whether the question earns points: scored method, flagged scored, of a kind that can.
    fn earns_points(&self, q: &Question) -> bool {
        self.framework.method == Method::Scored
            && q.scored
            && q.total.is_none()
            && (q.kind.takes_options() || q.kind.is_numeric() || q.kind == QuestionType::Boolean)
    }

    fn options(&mut self, path: &str, q: &Question) {
        let kind = q.kind.as_str();
        if !q.kind.takes_options() {
            if !q.options.is_empty() {
                self.push(
                    format!("{path}.options"),
                    format!("a {kind} question takes no options"),
                );
            }
            return;
        }
        let listed_elsewhere = q.answer_value_set.is_some() || q.kind == QuestionType::OpenChoice;
        if q.options.is_empty() && !listed_elsewhere {
            self.push(
                format!("{path}.options"),
                format!("a {kind} question needs at least one option (or an answer_value_set)"),
            );
        }
        if q.options.is_empty() && self.earns_points(q) && q.kind.is_choice() {
            self.push(
                format!("{path}.options"),
                "a scored choice needs options with scores; mark it `scored: false` otherwise",
            );
        }
        if q.options.len() > MAX_OPTIONS {
            self.push(
                format!("{path}.options"),
                format!("at most {MAX_OPTIONS} options are allowed"),
            );
        }
        let mut codes = HashSet::new();
        for (i, option) in q.options.iter().enumerate() {
            let path = format!("{path}.options[{i}]");
            if option.code.trim().is_empty() {
                self.push(format!("{path}.code"), "must not be empty");
            } else if !codes.insert(option.code.as_str()) {
                self.push(
                    format!("{path}.code"),
                    format!("option code `{}` is used more than once", option.code),
                );
            }
            self.non_empty(&format!("{path}.label"), &option.label);
            self.score(&format!("{path}.score"), option.score, self.earns_points(q));
        }
    }

    fn bands(&mut self, path: &str, q: &Question) {
        let kind = q.kind.as_str();
        if !q.kind.is_numeric() {
            if !q.bands.is_empty() {
                self.push(
                    format!("{path}.bands"),
                    format!("a {kind} question takes no bands"),
                );
            }
            return;
        }
        let earns = self.earns_points(q);
        if q.bands.is_empty() && earns {
            self.push(
                format!("{path}.bands"),
                format!(
                    "a scored {kind} question needs at least one band; mark it `scored: false` otherwise"
                ),
            );
        }
        if q.bands.len() > MAX_BANDS {
            self.push(
                format!("{path}.bands"),
                format!("at most {MAX_BANDS} bands are allowed"),
            );
        }
        for (i, band) in q.bands.iter().enumerate() {
            let path = format!("{path}.bands[{i}]");
            self.band(&path, q.kind, band);
            self.score(&format!("{path}.score"), band.score, earns);
        }
    }

    fn band(&mut self, path: &str, kind: QuestionType, band: &Band) {
        let Band { from, to, .. } = *band;
        if !from.is_finite() || !to.is_finite() {
            self.push(path, "from and to must be finite numbers");
        } else if from > to {
            self.push(path, format!("from ({from}) must not exceed to ({to})"));
        } else if kind == QuestionType::Percentage && (from < 0.0 || to > 100.0) {
            self.push(path, "a percentage band must lie within 0 to 100");
        }
    }

    /// Scored method only: a question that earns points has a score here, inside the scale; one
    /// that does not has none.
    fn score(&mut self, path: &str, score: Option<f64>, earns_points: bool) {
        if self.framework.method != Method::Scored {
            return;
        }
        let scale = self.framework.scale;
        match score {
            None if earns_points => self.push(path, "the scored method needs a score here"),
            None => {}
            Some(_) if !earns_points => self.push(
                path,
                "this question earns no points (`scored: false`, or not scorable): no score here",
            ),
            Some(s) if !(s.is_finite() && scale.min <= s && s <= scale.max) => self.push(
                path,
                format!("{s} lies outside the scale {} to {}", scale.min, scale.max),
            ),
            Some(_) => {}
        }
    }

    fn level(&mut self, path: &str, q: &Question) {
        let Some(level) = q.level else { return };
        let scale = self.framework.scale;
        if self.framework.method == Method::Scored {
            self.push(
                format!("{path}.level"),
                "`level` belongs to the staged method; this framework is scored",
            );
            return;
        }
        let lowest = scale.min + 1.0;
        if !(f64::from(level) >= lowest && f64::from(level) <= scale.max) {
            self.push(
                format!("{path}.level"),
                format!("must be a level from {lowest} to {}", scale.max),
            );
        }
        match q.kind {
            QuestionType::Boolean => {}
            QuestionType::SingleChoice | QuestionType::MultipleChoice => {
                if !q.options.is_empty() && !q.options.iter().any(|o| o.meets) {
                    self.push(
                        format!("{path}.options"),
                        "a criterion needs at least one option with `meets: true`",
                    );
                }
            }
            _ => self.push(
                format!("{path}.type"),
                format!(
                    "a criterion (a question with a level) must be boolean or a choice, not {}",
                    q.kind.as_str()
                ),
            ),
        }
    }
}

fn framework_key_problem(key: &str) -> Option<String> {
    key_problem(key, "lower-case letters, digits, '-', '.' and '_'", |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_')
    })
}

fn item_key_problem(key: &str) -> Option<String> {
    if key.chars().count() > MAX_ITEM_KEY_CHARS {
        return Some(format!("must be at most {MAX_ITEM_KEY_CHARS} characters"));
    }
    if key.trim().is_empty() {
        return Some("must not be empty".to_owned());
    }
    key.chars()
        .any(char::is_control)
        .then(|| "must not contain control characters".to_owned())
}

fn key_problem(key: &str, described: &str, allowed: impl Fn(char) -> bool) -> Option<String> {
    if key.is_empty() {
        Some("must not be empty".to_owned())
    } else if key.chars().count() > MAX_KEY_CHARS {
        Some(format!("must be at most {MAX_KEY_CHARS} characters"))
    } else if !key.chars().all(allowed) {
        Some(format!("may contain only {described}"))
    } else {
        None
    }
}
