//! Validation of `enable_when` and `carries_over` references.

use serde_json::json;

use super::tests::{assert_problem, problems, q};
use crate::domain::fixtures::{scored, staged};
use crate::domain::framework::*;

fn condition(question: &str, operator: &str, answer: serde_json::Value) -> Vec<EnableWhen> {
    vec![EnableWhen {
        question: question.into(),
        operator: operator.into(),
        answer: serde_json::from_value(answer).unwrap(),
        system: None,
        answer_type: None,
    }]
}

#[test]
fn enable_when_must_point_backwards_at_a_known_question() {
    let c03 = "pillars[1].domains[0].questions[2].enable_when";
    let mut f = scored();
    q(&mut f, 1, 0, 2).enable_when = condition("C-99", "=", json!(true));
    assert_problem(
        &f,
        &format!("{c03}.question"),
        "`C-99` is not a question of this framework",
    );
    q(&mut f, 1, 0, 2).enable_when = condition("C-03", "exists", json!(null));
    assert_problem(&f, &format!("{c03}.question"), "cannot depend on itself");
    let mut f = scored();
    q(&mut f, 0, 0, 1).enable_when = condition("C-02", "=", json!(true));
    assert_problem(
        &f,
        "pillars[0].domains[0].questions[1].enable_when.question",
        "`C-02` comes later",
    );
}

#[test]
fn enable_when_operator_and_answer() {
    let c03 = "pillars[1].domains[0].questions[2].enable_when";
    let cases: [(&str, &str, serde_json::Value, &str, &str); 10] = [
        (
            "C-02",
            "~=",
            json!(true),
            "operator",
            "unknown operator `~=`",
        ),
        (
            "C-02",
            "=",
            json!(null),
            "answer",
            "operator `=` needs an answer",
        ),
        (
            "C-02",
            "!=",
            json!(null),
            "answer",
            "operator `!=` needs an answer",
        ),
        (
            "C-02",
            "exists",
            json!("yes"),
            "answer",
            "with `exists` the answer is true or false",
        ),
        (
            "C-02",
            ">",
            json!(1),
            "operator",
            "`>` compares numbers, dates and times; `C-02` is a boolean question",
        ),
        (
            "C-01",
            "<=",
            json!("x"),
            "operator",
            "multiple_choice question",
        ),
        (
            "C-02",
            "=",
            json!(1),
            "answer",
            "compare it with true or false",
        ),
        (
            "C-01",
            "=",
            json!("w"),
            "answer",
            "`w` is not an option of `C-01`",
        ),
        (
            "C-01",
            "=",
            json!(["x"]),
            "answer",
            "compare it with an option code",
        ),
        (
            "R-04",
            ">=",
            json!("50"),
            "answer",
            "compare it with a number",
        ),
    ];
    for (target, operator, answer, field, fragment) in cases {
        let mut f = scored();
        q(&mut f, 1, 0, 2).enable_when = condition(target, operator, answer);
        assert_problem(&f, &format!("{c03}.{field}"), fragment);
        assert_eq!(problems(&f).len(), 1, "{target} {operator}");
    }
    let fine = [
        ("C-02", "exists", json!(null)),
        ("C-02", "exists", json!(false)),
        ("C-02", "!=", json!(false)),
        ("C-01", "=", json!("x")),
        ("R-01", "!=", json!("a")),
        ("R-03", "=", json!("none")),
        ("R-04", ">", json!(50)),
        ("R-05", "<", json!(3.5)),
        ("R-05", "=", json!(3)),
        // a choice compared with a number reads its codes as numbers (FHIR forms do)
        ("C-01", "<=", json!(1)),
    ];
    for (target, operator, answer) in fine {
        let mut f = scored();
        q(&mut f, 1, 0, 2).enable_when = condition(target, operator, answer);
        assert_eq!(f.validate(), Ok(()), "{target} {operator}");
    }
}

#[test]
fn carries_over_problems() {
    let mut f = staged();
    let carried = f.carries_over.as_mut().unwrap();
    carried.framework = "WGLL 2024".into();
    carried.questions.insert("XX-01".into(), "X-1".into());
    carried.questions.insert("WL-02".into(), String::new());
    carried.questions.insert("WL-11".into(), "GV-1".into());
    assert_problem(&f, "carries_over.framework", "may contain only lower-case");
    assert_problem(
        &f,
        "carries_over.questions[\"XX-01\"]",
        "not a question of this framework",
    );
    assert_problem(
        &f,
        "carries_over.questions[\"WL-02\"]",
        "must name the question",
    );
    assert_problem(
        &f,
        "carries_over.questions[\"WL-11\"]",
        "`GV-1` is already carried over as `WL-10`",
    );
    assert_eq!(problems(&f).len(), 4);
}
