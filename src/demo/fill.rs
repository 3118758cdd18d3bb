//! Turning whole target levels into answers, one domain at a time in framework order.
//!
//! For a domain with target level L (staged method): every applicable criterion of a level ≤ L is
//! met; criteria of level L + 1 are met with probability [`ISLAND_NEXT`] and higher ones with
//! [`ISLAND_HIGHER`] (realistic "islands" of maturity above the level reached), but at least one
//! applicable criterion of the lowest level above L stays unmet, so the domain scores exactly L
//! whenever the framework allows it. Applicability (`enable_when`) is evaluated as
//! `answers::Applicability` does, on the answers built so far: conditional questions whose
//! condition fails are left unanswered. Questions without a level are answered at random.

use std::collections::HashMap;

use super::rng::Rng;
use crate::domain::answers::{Answer, AnswerValue, Answers, check_value, conditions_hold};
use crate::domain::framework::{Domain, Framework, Question, QuestionType, Scale};
use crate::domain::scoring::domain_level;

/// Chance that a criterion one level above the target is met anyway.
const ISLAND_NEXT: f64 = 0.35;
/// Chance that a criterion two or more levels above the target is met anyway.
const ISLAND_HIGHER: f64 = 0.12;

/// What is known about a question so far: whether it is asked and its answer.
type Slot = (bool, Option<AnswerValue>);

/// Answers for one return: `targets[p][d]` is the target level of domain `d` of pillar `p`, `None`
/// when the domain is not asked of the organisation.
pub(super) fn fill(framework: &Framework, targets: &[Vec<Option<u32>>], rng: &mut Rng) -> Answers {
    let mut seen: HashMap<&str, Slot> = HashMap::new();
    let mut answers = Answers::new();
    for (p, pillar) in framework.pillars.iter().enumerate() {
        for (d, domain) in pillar.domains.iter().enumerate() {
            let target = targets.get(p).and_then(|t| t.get(d)).copied().flatten();
            let slots = match target {
                Some(level) => fill_domain(framework.scale, domain, level, &seen, rng),
                None => vec![(false, None); domain.questions.len()],
            };
            for (question, (asked, value)) in domain.questions.iter().zip(slots) {
                if seen.contains_key(question.key.as_str()) {
                    continue; // a duplicate key (invalid framework): the first one wins
                }
                if let Some(value) = &value {
                    answers.insert(
                        question.key.clone(),
                        Answer {
                            value: value.clone(),
                            evidence: None,
                        },
                    );
                }
                seen.insert(&question.key, (asked, value));
            }
        }
    }
    answers
}

/// One domain's slots, in question order.
fn fill_domain(
    scale: Scale,
    domain: &Domain,
    target: u32,
    seen: &HashMap<&str, Slot>,
    rng: &mut Rng,
) -> Vec<Slot> {
    let draws: Vec<(f64, usize)> = domain
        .questions
        .iter()
        .map(|_| (rng.unit(), rng.below(1 << 20)))
        .collect();
    let mut forced_unmet = vec![false; domain.questions.len()];
    loop {
        let slots = pass(domain, target, seen, &draws, &forced_unmet);
        let asked: Vec<(&Question, Option<&AnswerValue>)> = domain
            .questions
            .iter()
            .zip(&slots)
            .filter(|(_, (applicable, _))| *applicable)
            .map(|(q, (_, value))| (q, value.as_ref()))
            .collect();
        let reached = domain_level(scale, &asked).unwrap_or(scale.min);
        if reached <= f64::from(target) {
            return slots;
        }
        // Every applicable criterion up to `reached` is met: force one of the lowest level above
        // the target to stay unmet, then redo the pass (this may disable dependent questions).
        let candidates: Vec<usize> = domain
            .questions
            .iter()
            .enumerate()
            .filter(|(i, q)| {
                slots[*i].0 && !forced_unmet[*i] && q.level.is_some_and(|l| l > target)
            })
            .map(|(i, _)| i)
            .collect();
        let lowest = candidates
            .iter()
            .filter_map(|&i| domain.questions[i].level)
            .min();
        let lowest: Vec<usize> = candidates
            .into_iter()
            .filter(|&i| domain.questions[i].level == lowest)
            .collect();
        if lowest.is_empty() {
            return slots; // nothing left to force (e.g. a criterion that cannot be unmet)
        }
        forced_unmet[lowest[rng.below(lowest.len())]] = true;
    }
}

/// One pass over the domain's questions with fixed random draws.
fn pass(
    domain: &Domain,
    target: u32,
    seen: &HashMap<&str, Slot>,
    draws: &[(f64, usize)],
    forced_unmet: &[bool],
) -> Vec<Slot> {
    let mut slots: Vec<Slot> = Vec::with_capacity(domain.questions.len());
    for (i, question) in domain.questions.iter().enumerate() {
        let (conditions, behavior) = question.conditions();
        let enabled = conditions_hold(conditions, behavior, |key| {
            seen.get(key)
                .or_else(|| {
                    domain.questions[..i]
                        .iter()
                        .position(|q| q.key == key)
                        .map(|j| &slots[j])
                })
                .map(|(applicable, answer)| (*applicable, answer.as_ref()))
        });
        if !enabled {
            slots.push((false, None));
            continue;
        }
        let (roll, pick) = draws[i];
        let met = match question.level {
            Some(level) if level <= target => true,
            Some(_) if forced_unmet[i] => false,
            Some(level) if level == target + 1 => roll < ISLAND_NEXT,
            Some(_) => roll < ISLAND_HIGHER,
            None => roll < 0.5,
        };
        slots.push((true, answer_for(question, met, pick)));
    }
    slots
}

/// A valid answer meeting (or not) the question's criterion; `None` when the question cannot be
/// answered validly (a number question without bands).
fn answer_for(question: &Question, met: bool, pick: usize) -> Option<AnswerValue> {
    let code = |meets: bool| {
        let pool: Vec<&str> = question
            .options
            .iter()
            .filter(|o| o.meets == meets)
            .map(|o| o.code.as_str())
            .collect();
        (!pool.is_empty()).then(|| pool[pick % pool.len()].to_owned())
    };
    let value = match question.kind {
        QuestionType::Boolean => AnswerValue::Bool(met),
        QuestionType::SingleChoice => {
            let any = || {
                let n = question.options.len();
                (n > 0).then(|| question.options[pick % n].code.clone())
            };
            AnswerValue::Text(code(met).or_else(any)?)
        }
        // Choosing nothing is a valid "none of these" and meets nothing.
        QuestionType::MultipleChoice => AnswerValue::Choices(code(met).into_iter().collect()),
        QuestionType::Number | QuestionType::Percentage | QuestionType::Integer => {
            let n = question.bands.len();
            let band = question.bands.get(pick % n.max(1))?;
            let middle = (band.from + band.to) / 2.0;
            AnswerValue::Number(if question.kind == QuestionType::Integer {
                middle.floor()
            } else {
                middle
            })
        }
        QuestionType::Text | QuestionType::String | QuestionType::OpenChoice => {
            AnswerValue::Text("Synthetic demo return.".to_owned())
        }
        QuestionType::Url => AnswerValue::Text("https://example.org/evidence".to_owned()),
        QuestionType::Date | QuestionType::DateTime => AnswerValue::Text("2026-04-01".to_owned()),
        QuestionType::Time => AnswerValue::Text("09:00:00".to_owned()),
        QuestionType::Display | QuestionType::Group => return None,
    };
    check_value(question, &value).is_ok().then_some(value)
}
