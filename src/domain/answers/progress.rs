//! How far a return has got, as the person filling it in sees it: per question whether it is asked
//! now, and per domain, pillar and the whole return how many applicable questions are answered and
//! how many mandatory ones are still missing. The counts are the scoring's own (`answered` and
//! `applicable` equal those of `domain::scoring::score`), so a form and the scores never disagree.

use super::{Answers, Applicability};
use crate::domain::framework::Framework;
use crate::domain::organisation::OrgType;

/// Answered, applicable and missing-mandatory counts of a part of a return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Applicable questions with a valid answer.
    pub answered: u32,
    /// Applicable questions that take an answer (display items, groups and totals excluded).
    pub applicable: u32,
    /// Applicable mandatory questions without a valid answer.
    pub missing_mandatory: u32,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.answered += other.answered;
        self.applicable += other.applicable;
        self.missing_mandatory += other.missing_mandatory;
    }
}

/// The state of one question for the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuestionState {
    /// Whether it is asked now: its domain applies and its conditions (and its parent's) hold.
    pub enabled: bool,
    /// Enabled and answered validly.
    pub answered: bool,
    /// Enabled, mandatory, takes an answer, and has none.
    pub missing: bool,
}

/// A domain asked of the organisation type, with its questions' states in framework order.
#[derive(Debug, Clone)]
pub struct DomainProgress {
    pub pillar: usize,
    pub domain: usize,
    /// Whether the domain's own conditions (and its pillar's) hold.
    pub enabled: bool,
    pub counts: Counts,
    pub questions: Vec<QuestionState>,
}

/// A pillar with at least one domain asked of the organisation type.
#[derive(Debug, Clone)]
pub struct PillarProgress {
    pub pillar: usize,
    pub enabled: bool,
    pub counts: Counts,
    pub domains: Vec<DomainProgress>,
}

/// The whole return's progress: pillars (indexes into `framework.pillars`) in framework order.
#[derive(Debug, Clone)]
pub struct Progress {
    pub counts: Counts,
    pub pillars: Vec<PillarProgress>,
}

/// The progress of `answers` for an organisation of type `org_type`.
pub fn progress(framework: &Framework, org_type: OrgType, answers: &Answers) -> Progress {
    let applicability = Applicability::new(framework, org_type, answers);
    let mut total = Counts::default();
    let mut pillars = Vec::new();
    for (pi, pillar) in framework.pillars.iter().enumerate() {
        let mut pillar_counts = Counts::default();
        let mut domains = Vec::new();
        for (di, domain) in pillar.domains.iter().enumerate() {
            if !domain.applies_to_type(org_type) {
                continue;
            }
            let mut counts = Counts::default();
            let questions: Vec<QuestionState> = domain
                .questions
                .iter()
                .map(|q| {
                    let enabled = applicability.is_applicable(&q.key);
                    let counted = enabled && q.is_answerable();
                    let answered = counted && applicability.is_answered(&q.key);
                    let missing = counted && q.mandatory && !answered;
                    if counted {
                        counts.applicable += 1;
                        counts.answered += u32::from(answered);
                        counts.missing_mandatory += u32::from(missing);
                    }
                    QuestionState {
                        enabled,
                        answered,
                        missing,
                    }
                })
                .collect();
            pillar_counts.add(counts);
            domains.push(DomainProgress {
                pillar: pi,
                domain: di,
                enabled: applicability.domain_enabled(&domain.key),
                counts,
                questions,
            });
        }
        if domains.is_empty() {
            continue;
        }
        total.add(pillar_counts);
        pillars.push(PillarProgress {
            pillar: pi,
            enabled: domains.iter().any(|d| d.enabled),
            counts: pillar_counts,
            domains,
        });
    }
    Progress {
        counts: total,
        pillars,
    }
}
