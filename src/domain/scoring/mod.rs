//! Scoring one return: per domain, pillar and overall, by the framework's method (scored points or
//! staged levels), with coverage. Pure functions of a framework, an organisation type and answers;
//! storing scores at submit time is the caller's business.

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::answers::{AnswerValue, Answers, Applicability};
use crate::domain::framework::{Domain, Framework, Method, Question, QuestionType, Scale};
use crate::domain::organisation::OrgType;

/// The scores of one return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Scores {
    /// Mean of the pillar scores that have a score; `None` when no pillar has one.
    #[schema(example = 2.4)]
    pub score: Option<f64>,
    /// `answered / applicable` over the whole return; 1.0 when nothing is applicable.
    #[schema(minimum = 0, maximum = 1, example = 0.95)]
    pub coverage: f64,
    pub answered: u32,
    pub applicable: u32,
    /// The pillars with at least one domain asked of the organisation type, in framework order.
    pub pillars: Vec<PillarScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PillarScore {
    #[schema(example = "well_led")]
    pub pillar: String,
    /// Mean of the domain scores that have a score; `None` when no domain has one.
    #[schema(example = 2.5)]
    pub score: Option<f64>,
    #[schema(minimum = 0, maximum = 1, example = 1.0)]
    pub coverage: f64,
    pub answered: u32,
    pub applicable: u32,
    /// The domains asked of the organisation type, in framework order.
    pub domains: Vec<DomainScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DomainScore {
    #[schema(example = "well_led")]
    pub pillar: String,
    #[schema(example = "leadership")]
    pub domain: String,
    /// Scored method: weighted mean of the question scores. Staged method: the level reached (a
    /// whole number). `None` when nothing in the domain can be scored.
    #[schema(example = 3)]
    pub score: Option<f64>,
    /// `answered / applicable`; 1.0 when no question of the domain is applicable.
    #[schema(minimum = 0, maximum = 1, example = 1.0)]
    pub coverage: f64,
    /// Applicable questions with a valid answer.
    pub answered: u32,
    /// Applicable questions, free text included.
    pub applicable: u32,
}

impl Scores {
    /// Every domain score, in framework order.
    pub fn domains(&self) -> impl Iterator<Item = &DomainScore> {
        self.pillars.iter().flat_map(|p| &p.domains)
    }

    /// This tree (e.g. as stored, in storage order) restricted to the pillars and domains that
    /// `framework` asks of `org_type`, in framework order.
    pub fn in_framework_order(&self, framework: &Framework, org_type: OrgType) -> Scores {
        let pillars = framework
            .pillars_for(org_type)
            .filter_map(|fp| {
                let p = self.pillars.iter().find(|p| p.pillar == fp.key)?;
                let domains = fp
                    .domains_for(org_type)
                    .filter_map(|fd| p.domains.iter().find(|d| d.domain == fd.key).cloned())
                    .collect();
                Some(PillarScore {
                    domains,
                    ..p.clone()
                })
            })
            .collect();
        Scores {
            pillars,
            ..self.clone()
        }
    }
}

/// Scores a return. The rules (a contract):
///
/// - Only domains that apply to `org_type` appear, and only pillars with at least one of them.
///   Within them, a question counts only when it is applicable (see [`Applicability`]); an answer
///   that does not fit its question (see [`crate::domain::answers::check_value`]) counts as none.
/// - Coverage is answered / applicable questions (free text included), per domain, per pillar and
///   overall; 1.0 when no question is applicable.
/// - Scored method: see [`question_score`]; the domain score is the weight-weighted mean of the
///   scores of its applicable answered scored questions, `None` if there are none.
/// - Staged method: see [`domain_level`].
/// - Pillar score: the plain mean of its domain scores that are not `None`; overall: the plain
///   mean of the pillar scores that are not `None`.
///
/// The framework is assumed valid (`Framework::validate`); on an invalid one this never panics
/// but the numbers are unspecified.
pub fn score(framework: &Framework, org_type: OrgType, answers: &Answers) -> Scores {
    score_subset(framework, org_type, answers, |_| true)
}

/// [`score`] restricted to the questions whose key satisfies `include` (e.g. the keys a new
/// framework version carries over from an old one, for item-matched comparison). Applicability is
/// still decided on the whole framework (a condition may refer to an excluded question), then
/// excluded questions are ignored: they neither count for coverage nor score, and excluded staged
/// criteria do not block a level. Domains with no included question do not appear, nor do pillars
/// left without domains.
pub fn score_subset(
    framework: &Framework,
    org_type: OrgType,
    answers: &Answers,
    include: impl Fn(&str) -> bool,
) -> Scores {
    let applicability = Applicability::new(framework, org_type, answers);
    let mut pillars = Vec::new();
    for pillar in &framework.pillars {
        let domains: Vec<DomainScore> = pillar
            .domains_for(org_type)
            .filter_map(|domain| {
                let questions: Vec<&Question> = domain
                    .questions
                    .iter()
                    .filter(|q| include(&q.key))
                    .collect();
                (!questions.is_empty()).then(|| {
                    score_domain(framework, &pillar.key, domain, &questions, &applicability)
                })
            })
            .collect();
        if domains.is_empty() {
            continue;
        }
        let answered = domains.iter().map(|d| d.answered).sum();
        let applicable = domains.iter().map(|d| d.applicable).sum();
        pillars.push(PillarScore {
            pillar: pillar.key.clone(),
            score: mean(domains.iter().filter_map(|d| d.score)),
            coverage: coverage(answered, applicable),
            answered,
            applicable,
            domains,
        });
    }
    let answered = pillars.iter().map(|p| p.answered).sum();
    let applicable = pillars.iter().map(|p| p.applicable).sum();
    Scores {
        score: mean(pillars.iter().filter_map(|p| p.score)),
        coverage: coverage(answered, applicable),
        answered,
        applicable,
        pillars,
    }
}

fn score_domain(
    framework: &Framework,
    pillar: &str,
    domain: &Domain,
    questions: &[&Question],
    applicability: &Applicability<'_>,
) -> DomainScore {
    // Applicable questions with their valid answer, if any.
    let asked: Vec<(&Question, Option<&AnswerValue>)> = questions
        .iter()
        .filter(|q| q.is_answerable() && applicability.is_applicable(&q.key))
        .map(|q| (*q, applicability.answer(&q.key)))
        .collect();
    let applicable = count(asked.len());
    let answered = count(asked.iter().filter(|(_, a)| a.is_some()).count());
    let score = match framework.method {
        Method::Scored => weighted_mean(framework.scale, &asked),
        Method::Staged => domain_level(framework.scale, &asked),
    };
    DomainScore {
        pillar: pillar.to_owned(),
        domain: domain.key.clone(),
        score,
        coverage: coverage(answered, applicable),
        answered,
        applicable,
    }
}

/// Scored method: the points of one answer, `None` when the question is not scored (free text) or
/// the answer does not fit it.
///
/// - single choice: the chosen option's score;
/// - multiple choice: the sum of the chosen options' scores, clamped to the scale (no option
///   chosen: 0, clamped);
/// - boolean: the scale maximum for yes, the minimum for no;
/// - number, percentage, integer: the score of the first band containing the value;
/// - open choice: as a choice when the answer is a listed option, else not scored;
/// - free text, dates, times, and questions marked `scored: false`: not scored.
pub fn question_score(scale: Scale, question: &Question, value: &AnswerValue) -> Option<f64> {
    if !question.scored || !question.is_answerable() {
        return None;
    }
    match (question.kind, value) {
        (QuestionType::SingleChoice | QuestionType::OpenChoice, AnswerValue::Text(code)) => {
            question.option(code)?.score
        }
        (QuestionType::MultipleChoice | QuestionType::OpenChoice, AnswerValue::Choices(codes)) => {
            let sum: f64 = codes
                .iter()
                .filter_map(|code| question.option(code)?.score)
                .sum();
            Some(sum.max(scale.min).min(scale.max))
        }
        (QuestionType::Boolean, AnswerValue::Bool(yes)) => {
            Some(if *yes { scale.max } else { scale.min })
        }
        (kind, AnswerValue::Number(n)) if kind.is_numeric() => question.band_for(*n)?.score,
        _ => None,
    }
}

/// A calculated total (`Question::total`): the sum of the scores of the chosen options of the
/// applicable answered questions it covers (FHIR `answer.value.ordinal().sum()`), itself and
/// other totals excluded; a multiple choice adds every chosen option. `None` when `question` is
/// not a total. With nothing answered the total is 0.
pub fn total(
    framework: &Framework,
    applicability: &Applicability<'_>,
    question: &Question,
) -> Option<f64> {
    use crate::domain::framework::TotalOf;
    let spec = question.total.as_ref()?;
    let (pillar, domain, _) = framework.question(&question.key)?;
    // The items of the domain nested (at any depth) under `group`.
    let within = |q: &Question, group: &str| {
        let mut at = q.parent.as_deref();
        let mut steps = 0;
        while let Some(p) = at {
            if p == group {
                return true;
            }
            at = domain
                .questions
                .iter()
                .find(|x| x.key == p)
                .and_then(|x| x.parent.as_deref());
            steps += 1;
            if steps > domain.questions.len() {
                return false; // a cycle in an invalid framework
            }
        }
        false
    };
    let covered = framework.questions().filter(|(p, d, q)| match spec.of {
        TotalOf::Framework => true,
        TotalOf::Pillar => p.key == pillar.key,
        TotalOf::Domain => p.key == pillar.key && d.key == domain.key,
        TotalOf::Group => {
            p.key == pillar.key
                && d.key == domain.key
                && question.parent.as_deref().is_some_and(|g| within(q, g))
        }
    });
    let option_score = |q: &Question, code: &str| q.option(code).and_then(|o| o.score);
    let sum = covered
        .filter(|(_, _, q)| q.is_answerable())
        .filter_map(|(_, _, q)| Some((q, applicability.answer(&q.key)?)))
        .map(|(q, value)| match value {
            AnswerValue::Text(code) => option_score(q, code).unwrap_or(0.0),
            AnswerValue::Choices(codes) => codes.iter().filter_map(|c| option_score(q, c)).sum(),
            _ => 0.0,
        })
        .sum();
    Some(sum)
}

/// Staged method: whether an answer meets the criterion of its question: a boolean answered yes,
/// a single choice whose option is marked `meets`, or a multiple choice where ANY chosen option is
/// marked `meets` (choosing none meets nothing). Other answers do not meet.
pub fn criterion_met(question: &Question, value: &AnswerValue) -> bool {
    match (question.kind, value) {
        (QuestionType::Boolean, AnswerValue::Bool(yes)) => *yes,
        (QuestionType::SingleChoice, AnswerValue::Text(code)) => {
            question.option(code).is_some_and(|o| o.meets)
        }
        (QuestionType::MultipleChoice, AnswerValue::Choices(codes)) => codes
            .iter()
            .any(|code| question.option(code).is_some_and(|o| o.meets)),
        (QuestionType::OpenChoice, AnswerValue::Text(code)) => {
            question.option(code).is_some_and(|o| o.meets)
        }
        _ => false,
    }
}

fn weighted_mean(scale: Scale, asked: &[(&Question, Option<&AnswerValue>)]) -> Option<f64> {
    let (total, weights) = asked
        .iter()
        .filter_map(|(q, answer)| Some((question_score(scale, q, (*answer)?)?, q.weight)))
        .fold((0.0, 0.0), |(total, weights), (score, weight)| {
            (total + score * weight, weights + weight)
        });
    (weights > 0.0).then(|| total / weights)
}

/// Staged method: the level of a domain from its applicable questions and their answers.
///
/// Each question with a `level` is a criterion for that level; an unanswered criterion is not
/// met. The domain is at the highest level n (up to the scale maximum) such that every applicable
/// criterion of every level from `scale.min + 1` to n is met, and at `scale.min` (level 1) when
/// some level-2 criterion is not met. Levels without an applicable criterion do not block, so
/// the level is one below the lowest level with an unmet criterion, or the scale maximum when
/// every criterion is met. A domain with no applicable criterion at all has no level (`None`):
/// nothing in it evidences any level.
pub fn domain_level(scale: Scale, asked: &[(&Question, Option<&AnswerValue>)]) -> Option<f64> {
    let criteria: Vec<_> = asked.iter().filter(|(q, _)| q.level.is_some()).collect();
    if criteria.is_empty() {
        return None;
    }
    let lowest_unmet = criteria
        .iter()
        .filter(|(q, answer)| !answer.is_some_and(|a| criterion_met(q, a)))
        .filter_map(|(q, _)| q.level)
        .min();
    Some(match lowest_unmet {
        None => scale.max,
        Some(level) => (f64::from(level) - 1.0).max(scale.min).min(scale.max),
    })
}

/// Staged method: what a domain needs to reach its next level.
#[derive(Debug, Clone, PartialEq)]
pub struct NextLevel<'a> {
    /// The level the domain is at now.
    pub level: u32,
    /// The level above it.
    pub next: u32,
    /// The applicable criteria of levels up to `next` that are not met (unanswered ones
    /// included), in framework order: meeting all of them reaches `next`.
    pub unmet: Vec<&'a Question>,
}

/// Staged method: the criteria standing between each domain asked of `org_type` and its next
/// level, keyed by domain key, from the same applicability and rule as [`domain_level`]. A domain
/// at the top of the scale, or without criteria, has none.
pub fn next_levels<'a>(
    framework: &'a Framework,
    org_type: OrgType,
    answers: &'a Answers,
) -> Vec<(&'a str, NextLevel<'a>)> {
    if framework.method != Method::Staged {
        return Vec::new();
    }
    let applicability = Applicability::new(framework, org_type, answers);
    let scale = framework.scale;
    let mut out = Vec::new();
    for domain in framework
        .pillars
        .iter()
        .flat_map(|p| p.domains_for(org_type))
    {
        let asked: Vec<(&Question, Option<&AnswerValue>)> = domain
            .questions
            .iter()
            .filter(|q| q.is_answerable() && applicability.is_applicable(&q.key))
            .map(|q| (q, applicability.answer(&q.key)))
            .collect();
        let Some(level) = domain_level(scale, &asked) else {
            continue;
        };
        if level >= scale.max {
            continue;
        }
        // Levels are whole numbers on a staged scale.
        let level = level.round().max(0.0) as u32;
        let next = level + 1;
        let unmet: Vec<&Question> = asked
            .iter()
            .filter(|(q, answer)| {
                q.level.is_some_and(|l| l <= next) && !answer.is_some_and(|a| criterion_met(q, a))
            })
            .map(|(q, _)| *q)
            .collect();
        out.push((domain.key.as_str(), NextLevel { level, next, unmet }));
    }
    out
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(sum, n), v| (sum + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

fn coverage(answered: u32, applicable: u32) -> f64 {
    if applicable == 0 {
        1.0
    } else {
        f64::from(answered) / f64::from(applicable)
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
