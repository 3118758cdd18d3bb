//! Test fixtures shared by the framework, answers and scoring tests (a leaf: it uses both, neither
//! uses it outside tests): one small scored framework
//! (0 to 100, in the style of the 2015/16 self-assessment) and one staged framework (levels 1 to 5).

use serde_json::json;

use crate::domain::answers::{Answer, AnswerValue, Answers};
use crate::domain::framework::Framework;

/// Parses a framework from JSON; panics (tests only) when it does not deserialize.
pub fn framework(value: serde_json::Value) -> Framework {
    serde_json::from_value(value).expect("fixture framework deserializes")
}

/// Answers from `(question key, value)` pairs.
pub fn answers<'a>(pairs: impl IntoIterator<Item = (&'a str, AnswerValue)>) -> Answers {
    pairs
        .into_iter()
        .map(|(key, value)| {
            (
                key.to_owned(),
                Answer {
                    value,
                    evidence: None,
                },
            )
        })
        .collect()
}

pub fn yes() -> AnswerValue {
    AnswerValue::Bool(true)
}

pub fn no() -> AnswerValue {
    AnswerValue::Bool(false)
}

pub fn num(n: f64) -> AnswerValue {
    AnswerValue::Number(n)
}

pub fn text(s: &str) -> AnswerValue {
    AnswerValue::Text(s.to_owned())
}

pub fn choices(codes: &[&str]) -> AnswerValue {
    AnswerValue::Choices(codes.iter().map(|c| (*c).to_owned()).collect())
}

/// Scored, scale 0..=100.
/// - readiness / strategy (acute, mental_health): R-01 single choice a=0 b=50 c=100 weight 2;
///   R-02 boolean; R-03 optional text.
/// - readiness / workforce (acute): R-04 percentage bands 0-20:0, 20-50:50, 50-100:100;
///   R-05 number bands 0-10:25, 10-1000:75.
/// - capabilities / records (acute, community): C-01 multiple choice x,y,z each 40;
///   C-02 boolean; C-03 single choice asked when C-02 = true (n=0, y=100).
pub fn scored() -> Framework {
    framework(json!({
        "key": "dma-2016", "title": "Digital maturity self-assessment", "version": "2016.1",
        "method": "scored", "scale": { "min": 0, "max": 100 },
        "pillars": [
            { "key": "readiness", "title": "Readiness", "domains": [
                { "key": "strategy", "title": "Strategy", "applies_to": ["acute", "mental_health"],
                  "questions": [
                    { "key": "R-01", "text": "Is there a board-approved digital strategy?",
                      "type": "single_choice", "weight": 2,
                      "options": [
                        { "code": "a", "label": "No", "score": 0 },
                        { "code": "b", "label": "In draft", "score": 50 },
                        { "code": "c", "label": "Approved", "score": 100 } ] },
                    { "key": "R-02", "text": "Is there a chief clinical information officer?",
                      "type": "boolean" },
                    { "key": "R-03", "text": "Anything to add?", "type": "text", "mandatory": false } ] },
                { "key": "workforce", "title": "Workforce", "applies_to": ["acute"],
                  "questions": [
                    { "key": "R-04", "text": "Share of staff with digital training", "type": "percentage",
                      "bands": [
                        { "from": 0, "to": 20, "score": 0 },
                        { "from": 20, "to": 50, "score": 50 },
                        { "from": 50, "to": 100, "score": 100 } ] },
                    { "key": "R-05", "text": "Digital staff (FTE)", "type": "number",
                      "bands": [
                        { "from": 0, "to": 10, "score": 25 },
                        { "from": 10, "to": 1000, "score": 75 } ] } ] } ] },
            { "key": "capabilities", "title": "Capabilities", "domains": [
                { "key": "records", "title": "Records", "applies_to": ["acute", "community"],
                  "questions": [
                    { "key": "C-01", "text": "Which records are digital?", "type": "multiple_choice",
                      "options": [
                        { "code": "x", "label": "Observations", "score": 40 },
                        { "code": "y", "label": "Prescriptions", "score": 40 },
                        { "code": "z", "label": "Letters", "score": 40 } ] },
                    { "key": "C-02", "text": "Is e-prescribing in use?", "type": "boolean" },
                    { "key": "C-03", "text": "On every ward?", "type": "single_choice",
                      "enable_when": { "question": "C-02", "operator": "=", "answer": true },
                      "options": [
                        { "code": "n", "label": "Some wards", "score": 0 },
                        { "code": "y", "label": "Every ward", "score": 100 } ] } ] } ] }
        ]
    }))
}

/// Staged, levels 1..=5.
/// - well_led / leadership (acute, mental_health): WL-01 boolean level 2; WL-02 single choice
///   level 3 (a meets, b not); WL-03 multiple choice level 4 (x meets; y, z not); WL-04 boolean
///   level 5; WL-05 optional text (no level).
/// - well_led / governance (acute): WL-10 boolean level 2; WL-11 boolean level 4 (no level 3
///   criterion unless WL-13 applies); WL-12 boolean (no level); WL-13 boolean level 3 asked when
///   WL-12 = true.
/// - foundations / infrastructure (acute, community): SF-01 percentage (one band 0-100, no level);
///   SF-02 boolean level 2 asked when SF-01 >= 50.
pub fn staged() -> Framework {
    framework(json!({
        "key": "wgll-2025", "title": "What Good Looks Like DMA", "version": "2025.1",
        "method": "staged", "scale": { "min": 1, "max": 5 },
        "carries_over": { "framework": "wgll-2024", "questions": { "WL-01": "WL-1", "WL-10": "GV-1" } },
        "pillars": [
            { "key": "well_led", "title": "Well led", "domains": [
                { "key": "leadership", "title": "Leadership", "applies_to": ["acute", "mental_health"],
                  "questions": [
                    { "key": "WL-01", "text": "Is there a digital strategy?", "type": "boolean", "level": 2 },
                    { "key": "WL-02", "text": "How is it funded?", "type": "single_choice", "level": 3,
                      "options": [
                        { "code": "a", "label": "Recurrent budget", "meets": true },
                        { "code": "b", "label": "Not funded" } ] },
                    { "key": "WL-03", "text": "Who reviews progress?", "type": "multiple_choice", "level": 4,
                      "options": [
                        { "code": "x", "label": "The board", "meets": true },
                        { "code": "y", "label": "A sub-committee" },
                        { "code": "z", "label": "Nobody" } ] },
                    { "key": "WL-04", "text": "Is it co-produced with patients?", "type": "boolean", "level": 5 },
                    { "key": "WL-05", "text": "Comments", "type": "text", "mandatory": false } ] },
                { "key": "governance", "title": "Governance", "applies_to": ["acute"],
                  "questions": [
                    { "key": "WL-10", "text": "Is there a digital committee?", "type": "boolean", "level": 2 },
                    { "key": "WL-11", "text": "Are risks reviewed monthly?", "type": "boolean", "level": 4 },
                    { "key": "WL-12", "text": "Do you share an EPR with partners?", "type": "boolean" },
                    { "key": "WL-13", "text": "Is shared governance agreed?", "type": "boolean", "level": 3,
                      "enable_when": { "question": "WL-12", "operator": "=", "answer": true } } ] } ] },
            { "key": "foundations", "title": "Ensure smart foundations", "domains": [
                { "key": "infrastructure", "title": "Infrastructure", "applies_to": ["acute", "community"],
                  "questions": [
                    { "key": "SF-01", "text": "Share of sites with wifi", "type": "percentage",
                      "bands": [ { "from": 0, "to": 100 } ] },
                    { "key": "SF-02", "text": "Is wifi monitored?", "type": "boolean", "level": 2,
                      "enable_when": { "question": "SF-01", "operator": ">=", "answer": 50 } } ] } ] }
        ]
    }))
}
