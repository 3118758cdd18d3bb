//! Structural validation: one test per kind of problem, each checking the reported path.

use crate::domain::fixtures::{scored, staged};
use crate::domain::framework::*;
use serde_json::json;

pub(super) fn problems(f: &Framework) -> Vec<Problem> {
    f.validate().err().unwrap_or_default()
}

/// Asserts that validation reports a problem at `path` whose message contains `fragment`.
#[track_caller]
pub(super) fn assert_problem(f: &Framework, path: &str, fragment: &str) {
    let found = problems(f);
    assert!(
        found
            .iter()
            .any(|p| p.path == path && p.message.contains(fragment)),
        "expected a problem at {path} containing {fragment:?}; got {found:#?}"
    );
}

pub(super) fn q(f: &mut Framework, pillar: usize, domain: usize, question: usize) -> &mut Question {
    &mut f.pillars[pillar].domains[domain].questions[question]
}

pub(super) const Q00: &str = "pillars[0].domains[0].questions[0]";

#[test]
fn reports_every_problem_at_once() {
    let mut f = scored();
    f.key = String::new();
    f.title = " ".into();
    f.pillars[1].domains[0].applies_to = vec!["hospital".into()];
    let found = problems(&f);
    assert_eq!(found.len(), 3, "{found:#?}");
    let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["key", "title", "pillars[1].domains[0].applies_to[0]"]
    );
    assert_eq!(found[0].to_string(), "key: must not be empty");
}

#[test]
fn header_problems() {
    let mut f = scored();
    f.key = "WGLL 2025".into();
    assert_problem(&f, "key", "may contain only lower-case letters");
    f.key = "a".repeat(65);
    assert_problem(&f, "key", "at most 64");
    f.key = "wgll-2025.v1_x".into();
    f.version = String::new();
    assert_problem(&f, "version", "must not be empty");
    assert_eq!(problems(&f).len(), 1);
}

#[test]
fn scale_problems() {
    let mut f = scored();
    f.scale = Scale { min: 5.0, max: 5.0 };
    assert_problem(&f, "scale", "must be below max");
    f.scale = Scale {
        min: 0.0,
        max: f64::INFINITY,
    };
    assert_problem(&f, "scale", "finite");
    let mut f = staged();
    f.scale = Scale { min: 1.0, max: 5.5 };
    assert_problem(&f, "scale", "whole-number levels");
    f.scale = Scale {
        min: -1.0,
        max: 5.0,
    };
    assert_problem(&f, "scale", "whole-number levels");
}

#[test]
fn tree_shape_problems() {
    let mut f = scored();
    f.pillars.clear();
    assert_problem(&f, "pillars", "at least one pillar");

    let mut f = scored();
    f.pillars[1].domains.clear();
    assert_problem(&f, "pillars[1].domains", "at least one domain");

    let mut f = scored();
    f.pillars[0].domains[1].questions.clear();
    assert_problem(
        &f,
        "pillars[0].domains[1].questions",
        "at least one question",
    );

    let mut f = scored();
    f.pillars[0].domains[0].applies_to.clear();
    assert_problem(
        &f,
        "pillars[0].domains[0].applies_to",
        "at least one organisation type",
    );
}

#[test]
fn key_and_title_problems() {
    let mut f = scored();
    f.pillars[1].key = "readiness".into();
    f.pillars[0].title = String::new();
    f.pillars[1].domains[0].key = "strategy".into();
    f.pillars[0].domains[1].title = String::new();
    f.pillars[1].domains[0].questions[2].key = "R-01".into();
    q(&mut f, 0, 0, 1).key = "R\u{7}02".into();
    q(&mut f, 0, 0, 2).key = "R".repeat(256);
    assert_problem(
        &f,
        "pillars[1].key",
        "pillar key `readiness` is used more than once",
    );
    assert_problem(&f, "pillars[0].title", "must not be empty");
    assert_problem(
        &f,
        "pillars[1].domains[0].key",
        "domain key `strategy` is used more than once",
    );
    assert_problem(&f, "pillars[0].domains[1].title", "must not be empty");
    assert_problem(
        &f,
        "pillars[1].domains[0].questions[2].key",
        "question key `R-01` is used more than once",
    );
    assert_problem(
        &f,
        "pillars[0].domains[0].questions[1].key",
        "must not contain control characters",
    );
    assert_problem(&f, "pillars[0].domains[0].questions[2].key", "at most 255");
    // A question's text may be empty (FHIR items need none).
    assert!(
        !problems(&f)
            .iter()
            .any(|p| p.path.ends_with(".text") && p.path.contains("questions"))
    );

    let mut f = scored();
    f.pillars[0].domains[0].key = String::new();
    f.pillars[0].key = "Read.iness_1-A".into(); // item keys may use upper case
    assert_eq!(problems(&f).len(), 1);
    assert_problem(&f, "pillars[0].domains[0].key", "must not be empty");
}

#[test]
fn applies_to_problems() {
    let mut f = scored();
    f.pillars[0].domains[0].applies_to = vec!["acute".into(), "trust".into(), "acute".into()];
    assert_problem(
        &f,
        "pillars[0].domains[0].applies_to[1]",
        "unknown organisation type `trust`",
    );
    assert_problem(
        &f,
        "pillars[0].domains[0].applies_to[2]",
        "listed more than once",
    );
}

#[test]
fn weight_problems() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut f = scored();
        q(&mut f, 0, 0, 0).weight = bad;
        assert_problem(&f, &format!("{Q00}.weight"), "positive");
    }
}

#[test]
fn option_problems() {
    let mut f = scored();
    q(&mut f, 0, 0, 0).options.clear();
    assert_problem(
        &f,
        &format!("{Q00}.options"),
        "single_choice question needs at least one option",
    );

    let mut f = scored();
    q(&mut f, 1, 0, 0).options[2].code = "x".into();
    q(&mut f, 1, 0, 0).options[1].code = String::new();
    q(&mut f, 1, 0, 0).options[0].label = String::new();
    let path = "pillars[1].domains[0].questions[0].options";
    assert_problem(
        &f,
        &format!("{path}[2].code"),
        "option code `x` is used more than once",
    );
    assert_problem(&f, &format!("{path}[1].code"), "must not be empty");
    assert_problem(&f, &format!("{path}[0].label"), "must not be empty");

    let mut f = scored();
    let extra = q(&mut f, 0, 0, 0).options[0].clone();
    q(&mut f, 0, 0, 1).options.push(extra);
    assert_problem(
        &f,
        "pillars[0].domains[0].questions[1].options",
        "boolean question takes no options",
    );

    let mut f = scored();
    let option = q(&mut f, 0, 0, 0).options[0].clone();
    q(&mut f, 0, 0, 0).options = (0..=MAX_OPTIONS)
        .map(|i| AnswerOption {
            code: format!("o{i}"),
            ..option.clone()
        })
        .collect();
    assert_problem(&f, &format!("{Q00}.options"), "at most 100 options");
}

#[test]
fn band_problems() {
    let r04 = "pillars[0].domains[1].questions[0]";
    let r05 = "pillars[0].domains[1].questions[1]";
    let mut f = scored();
    q(&mut f, 0, 1, 0).bands.clear();
    assert_problem(
        &f,
        &format!("{r04}.bands"),
        "percentage question needs at least one band",
    );

    let mut f = scored();
    q(&mut f, 0, 1, 0).bands[0] = Band {
        from: -5.0,
        to: 20.0,
        score: Some(0.0),
    };
    q(&mut f, 0, 1, 0).bands[2] = Band {
        from: 50.0,
        to: 101.0,
        score: Some(100.0),
    };
    q(&mut f, 0, 1, 1).bands[0] = Band {
        from: 10.0,
        to: 0.0,
        score: Some(25.0),
    };
    q(&mut f, 0, 1, 1).bands[1] = Band {
        from: f64::NEG_INFINITY,
        to: 0.0,
        score: Some(25.0),
    };
    assert_problem(&f, &format!("{r04}.bands[0]"), "within 0 to 100");
    assert_problem(&f, &format!("{r04}.bands[2]"), "within 0 to 100");
    assert_problem(
        &f,
        &format!("{r05}.bands[0]"),
        "from (10) must not exceed to (0)",
    );
    assert_problem(&f, &format!("{r05}.bands[1]"), "finite");

    let mut f = scored();
    q(&mut f, 0, 0, 2).bands.push(Band {
        from: 0.0,
        to: 1.0,
        score: Some(0.0),
    });
    assert_problem(
        &f,
        "pillars[0].domains[0].questions[2].bands",
        "text question takes no bands",
    );

    let mut f = scored();
    q(&mut f, 0, 1, 1).bands = vec![
        Band {
            from: 0.0,
            to: 1.0,
            score: Some(0.0)
        };
        MAX_BANDS + 1
    ];
    assert_problem(&f, &format!("{r05}.bands"), "at most 100 bands");
}

#[test]
fn scored_method_needs_scores_inside_the_scale() {
    let mut f = scored();
    q(&mut f, 0, 0, 0).options[0].score = None;
    q(&mut f, 0, 0, 0).options[2].score = Some(101.0);
    q(&mut f, 0, 1, 0).bands[1].score = None;
    q(&mut f, 0, 1, 1).bands[0].score = Some(-1.0);
    assert_problem(&f, &format!("{Q00}.options[0].score"), "needs a score");
    assert_problem(
        &f,
        &format!("{Q00}.options[2].score"),
        "101 lies outside the scale 0 to 100",
    );
    assert_problem(
        &f,
        "pillars[0].domains[1].questions[0].bands[1].score",
        "needs a score",
    );
    assert_problem(
        &f,
        "pillars[0].domains[1].questions[1].bands[0].score",
        "outside the scale",
    );
    assert_eq!(problems(&f).len(), 4);
}

#[test]
fn scored_method_allows_no_level() {
    let mut f = scored();
    q(&mut f, 0, 0, 1).level = Some(2);
    assert_problem(
        &f,
        "pillars[0].domains[0].questions[1].level",
        "belongs to the staged method",
    );
}

#[test]
fn staged_method_ignores_scores_and_checks_levels() {
    let mut f = staged();
    q(&mut f, 0, 0, 1).options[0].score = Some(1000.0);
    assert_eq!(f.validate(), Ok(()));
    for bad in [0, 1, 6] {
        q(&mut f, 0, 0, 0).level = Some(bad);
        assert_problem(&f, &format!("{Q00}.level"), "must be a level from 2 to 5");
    }
    q(&mut f, 0, 0, 0).level = Some(5);
    assert_eq!(f.validate(), Ok(()));
}

#[test]
fn staged_criteria_must_be_met_able() {
    let mut f = staged();
    q(&mut f, 0, 0, 1).options[0].meets = false;
    assert_problem(
        &f,
        "pillars[0].domains[0].questions[1].options",
        "at least one option with `meets: true`",
    );
    let mut f = staged();
    q(&mut f, 0, 0, 4).level = Some(3); // free text
    q(&mut f, 1, 0, 0).level = Some(2); // percentage
    assert_problem(
        &f,
        "pillars[0].domains[0].questions[4].type",
        "must be boolean or a choice, not text",
    );
    assert_problem(
        &f,
        "pillars[1].domains[0].questions[0].type",
        "not percentage",
    );
}

#[test]
fn size_is_bounded() {
    let mut f = scored();
    let question = q(&mut f, 0, 0, 1).clone();
    f.pillars[0].domains[0].questions = (0..MAX_QUESTIONS)
        .map(|i| Question {
            key: format!("Q{i}"),
            ..question.clone()
        })
        .collect();
    assert_problem(&f, "pillars", "at most 5000 questions, not 5005");
}

#[test]
fn fhir_shaped_problems() {
    let f = |q: serde_json::Value| -> Framework {
        serde_json::from_value(json!({
            "key": "f", "title": "F", "version": "1", "method": "scored", "scale": {"min": 0, "max": 3},
            "pillars": [{"key": "p", "title": "P", "domains": [{"key": "d", "title": "D",
                "applies_to": ["acute"], "questions": [
                    {"key": "a/b c", "text": "Pick", "type": "single_choice", "options": [
                        {"code": "x", "label": "X", "score": 1}]},
                    q]}]}]
        }))
        .unwrap()
    };
    // Any characters but control characters in a key (a FHIR linkId).
    assert_eq!(
        f(json!({"key": "é 1", "text": "t", "type": "boolean"})).validate(),
        Ok(())
    );
    // Not scored: no scores, no bands needed.
    assert_eq!(
        f(json!({"key": "n", "text": "t", "type": "number", "scored": false})).validate(),
        Ok(())
    );
    assert_problem(
        &f(
            json!({"key": "n", "text": "t", "type": "single_choice", "scored": false,
                  "options": [{"code": "y", "label": "Y", "score": 2}]}),
        ),
        "pillars[0].domains[0].questions[1].options[0].score",
        "earns no points",
    );
    // A choice over an external value set lists no options; scored, it would need them.
    assert_eq!(
        f(
            json!({"key": "v", "text": "t", "type": "single_choice", "scored": false,
                 "answer_value_set": "http://example.org/vs"})
        )
        .validate(),
        Ok(())
    );
    // A total is a number or an integer.
    assert_problem(
        &f(json!({"key": "s", "text": "t", "type": "text", "total": {"of": "domain"}})),
        "pillars[0].domains[0].questions[1].type",
        "calculated total",
    );
    // Conditions: dates order, a coded condition with a system may name a code not listed.
    assert_eq!(
        f(
            json!({"key": "q", "text": "t", "type": "boolean", "enable_when": [
            {"question": "a/b c", "operator": "=", "answer": "zz", "system": "http://example.org"},
            {"question": "a/b c", "operator": "exists", "answer": true}], "enable_behavior": "any"})
        )
        .validate(),
        Ok(())
    );
    assert_problem(
        &f(json!({"key": "q", "text": "t", "type": "boolean",
                  "enable_when": [{"question": "a/b c", "operator": "=", "answer": "zz"}]})),
        "pillars[0].domains[0].questions[1].enable_when.answer",
        "not an option",
    );
}

#[test]
fn nesting_is_bounded() {
    let chain: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            let mut q = json!({"key": format!("g{i}"), "text": "t", "type": "group"});
            if i > 0 {
                q["parent"] = json!(format!("g{}", i - 1));
            }
            q
        })
        .chain([
            json!({"key": "q", "text": "t", "type": "boolean", "scored": false, "parent": "g11"}),
        ])
        .collect();
    let f: Framework = serde_json::from_value(json!({
        "key": "f", "title": "F", "version": "1", "method": "scored", "scale": {"min": 0, "max": 1},
        "pillars": [{"key": "p", "title": "P", "domains": [{"key": "d", "title": "D",
            "applies_to": ["acute"], "questions": chain}]}]
    }))
    .unwrap();
    assert_problem(
        &f,
        "pillars[0].domains[0].questions[8].parent",
        "nest at most 8 deep",
    );
    let mut later = f.clone();
    later.pillars[0].domains[0].questions[1].parent = Some("q".into());
    assert_problem(
        &later,
        "pillars[0].domains[0].questions[1].parent",
        "not an earlier item",
    );
}
