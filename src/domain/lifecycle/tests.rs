//! The lifecycle rules, case by case.

use super::AssessmentStatus::{Draft, NotStarted, Reopened, Submitted};
use super::RoundStatus::{Closed, Open, Planned, Published};
use super::*;

#[test]
fn spellings_round_trip_and_match_serde() {
    for s in RoundStatus::ALL {
        assert_eq!(RoundStatus::parse(s.as_str()), Some(s));
        assert_eq!(s.to_string().parse::<RoundStatus>(), Ok(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for s in AssessmentStatus::ALL {
        assert_eq!(AssessmentStatus::parse(s.as_str()), Some(s));
        assert_eq!(s.to_string().parse::<AssessmentStatus>(), Ok(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for s in FrameworkStatus::ALL {
        assert_eq!(FrameworkStatus::parse(s.as_str()), Some(s));
        assert_eq!(s.to_string().parse::<FrameworkStatus>(), Ok(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert_eq!(
        serde_json::from_str::<AssessmentStatus>("\"not_started\"").unwrap(),
        NotStarted
    );
    assert!(RoundStatus::parse("Open").is_none());
    assert_eq!(
        "draftish".parse::<AssessmentStatus>(),
        Err(UnknownStatus("draftish".into()))
    );
}

#[test]
fn only_a_draft_framework_may_change() {
    assert_eq!(FrameworkStatus::Draft.editable(), Ok(()));
    assert_eq!(
        FrameworkStatus::Published.editable(),
        Err(LifecycleError::FrameworkPublished)
    );
    assert_eq!(
        LifecycleError::FrameworkPublished.describe("wgll-2025"),
        "framework `wgll-2025` is published and cannot change; create a new version"
    );
}

#[test]
fn a_missing_return_is_not_started() {
    assert_eq!(AssessmentStatus::of(None), NotStarted);
    assert_eq!(AssessmentStatus::of(Some(Reopened)), Reopened);
}

#[test]
fn editable_while_open_or_reopened_before_publication() {
    for a in [NotStarted, Draft, Reopened] {
        assert_eq!(a.editable(Open), Ok(()));
    }
    for r in RoundStatus::ALL {
        assert_eq!(Submitted.editable(r), Err(LifecycleError::ReadOnly));
    }
    for r in [Planned, Closed, Published] {
        assert_eq!(NotStarted.editable(r), Err(LifecycleError::RoundNotOpen(r)));
        assert_eq!(Draft.editable(r), Err(LifecycleError::RoundNotOpen(r)));
    }
    assert_eq!(Reopened.editable(Closed), Ok(()));
    assert_eq!(Reopened.editable(Planned), Ok(()));
    assert_eq!(
        Reopened.editable(Published),
        Err(LifecycleError::RoundNotOpen(Published))
    );
}

#[test]
fn submittable_when_editable_and_saved() {
    assert_eq!(Draft.submittable(Open), Ok(()));
    assert_eq!(Reopened.submittable(Closed), Ok(()));
    assert_eq!(
        NotStarted.submittable(Open),
        Err(LifecycleError::NothingSaved)
    );
    assert_eq!(
        NotStarted.submittable(Closed),
        Err(LifecycleError::RoundNotOpen(Closed))
    );
    assert_eq!(Submitted.submittable(Open), Err(LifecycleError::ReadOnly));
    assert_eq!(
        Draft.submittable(Published),
        Err(LifecycleError::RoundNotOpen(Published))
    );
}

#[test]
fn reopenable_only_when_submitted_and_unpublished() {
    for r in [Planned, Open, Closed] {
        assert_eq!(Submitted.reopenable(r), Ok(()));
    }
    assert_eq!(
        Submitted.reopenable(Published),
        Err(LifecycleError::ResultsPublished)
    );
    for a in [NotStarted, Draft, Reopened] {
        for r in RoundStatus::ALL {
            assert_eq!(a.reopenable(r), Err(LifecycleError::NotSubmitted));
        }
    }
}

#[test]
fn transitions_go_one_step_forward_only() {
    use RoundTransition as T;
    assert_eq!(T::Open.check(Planned), Ok(Open));
    assert_eq!(T::Close.check(Open), Ok(Closed));
    assert_eq!(T::Publish.check(Closed), Ok(Published));
    for t in [T::Open, T::Close, T::Publish] {
        for s in RoundStatus::ALL {
            if s != t.from() {
                assert_eq!(
                    t.check(s),
                    Err(LifecycleError::WrongRoundStatus {
                        current: s,
                        from: t.from(),
                        to: t.to()
                    })
                );
            }
        }
    }
}

#[test]
fn publishable_when_closed_and_nothing_reopened() {
    assert_eq!(Closed.publishable(0), Ok(()));
    assert_eq!(
        Closed.publishable(2),
        Err(LifecycleError::ReturnsReopened(2))
    );
    // The re-opened returns are named before the round's status.
    assert_eq!(Open.publishable(1), Err(LifecycleError::ReturnsReopened(1)));
    assert_eq!(
        Open.publishable(0),
        Err(LifecycleError::WrongRoundStatus {
            current: Open,
            from: Closed,
            to: Published
        })
    );
}

#[test]
fn refusals_read_as_before() {
    assert_eq!(
        LifecycleError::RoundNotOpen(Closed).describe("2025-26"),
        "round `2025-26` is closed, not open"
    );
    assert_eq!(
        LifecycleError::WrongRoundStatus {
            current: Planned,
            from: Open,
            to: Closed
        }
        .describe("r"),
        "round `r` is planned; only a open round can become closed"
    );
    assert!(
        LifecycleError::ReturnsReopened(3)
            .describe("r")
            .contains("has 3 re-opened return(s)")
    );
}
