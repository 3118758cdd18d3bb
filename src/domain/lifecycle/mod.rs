//! The lifecycle of frameworks, rounds and returns: their statuses (with the wire and stored
//! spellings) and the rules that say what may happen in each. Storage of the statuses lives in `db::lifecycle`; the
//! HTTP problem each refusal becomes lives in `error.rs`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Where a round (a collection window) stands: `planned → open → closed → published`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Created, not yet taking returns.
    Planned,
    /// Taking returns.
    Open,
    /// No longer taking returns; re-opened returns may still change.
    Closed,
    /// Results published: every return is final.
    Published,
}

impl RoundStatus {
    pub const ALL: [RoundStatus; 4] = [
        RoundStatus::Planned,
        RoundStatus::Open,
        RoundStatus::Closed,
        RoundStatus::Published,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoundStatus::Planned => "planned",
            RoundStatus::Open => "open",
            RoundStatus::Closed => "closed",
            RoundStatus::Published => "published",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether a round's results may be published now: it is closed and no return of it is
    /// re-opened (those must be submitted again first).
    pub fn publishable(self, reopened_returns: u64) -> Result<(), LifecycleError> {
        if reopened_returns > 0 {
            return Err(LifecycleError::ReturnsReopened(reopened_returns));
        }
        RoundTransition::Publish.check(self).map(drop)
    }
}

/// An admin's move of a round to its next status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoundTransition {
    Open,
    Close,
    Publish,
}

impl RoundTransition {
    /// The only status this move starts from.
    pub fn from(self) -> RoundStatus {
        match self {
            RoundTransition::Open => RoundStatus::Planned,
            RoundTransition::Close => RoundStatus::Open,
            RoundTransition::Publish => RoundStatus::Closed,
        }
    }

    /// The status the round has after the move.
    pub fn to(self) -> RoundStatus {
        match self {
            RoundTransition::Open => RoundStatus::Open,
            RoundTransition::Close => RoundStatus::Closed,
            RoundTransition::Publish => RoundStatus::Published,
        }
    }

    /// The round's next status if it may make this move from `current`.
    pub fn check(self, current: RoundStatus) -> Result<RoundStatus, LifecycleError> {
        if current == self.from() {
            Ok(self.to())
        } else {
            Err(LifecycleError::WrongRoundStatus {
                current,
                from: self.from(),
                to: self.to(),
            })
        }
    }
}

/// Where one organisation's return for a round stands. `not_started` means no return is stored
/// yet; it is shown, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentStatus {
    /// Nothing saved yet (never stored).
    NotStarted,
    /// Saved, not submitted.
    Draft,
    /// Submitted: read-only, scores stored.
    Submitted,
    /// Submitted, then re-opened by an admin: editable until the round is published.
    Reopened,
}

impl AssessmentStatus {
    pub const ALL: [AssessmentStatus; 4] = [
        AssessmentStatus::NotStarted,
        AssessmentStatus::Draft,
        AssessmentStatus::Submitted,
        AssessmentStatus::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentStatus::NotStarted => "not_started",
            AssessmentStatus::Draft => "draft",
            AssessmentStatus::Submitted => "submitted",
            AssessmentStatus::Reopened => "reopened",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The status of a return that may not be stored (`None` → `not_started`).
    pub fn of(stored: Option<AssessmentStatus>) -> Self {
        stored.unwrap_or(AssessmentStatus::NotStarted)
    }

    /// Whether answers may change now: never once submitted; otherwise while the round is open,
    /// or, for a return an admin re-opened, until the round's results are published.
    pub fn editable(self, round: RoundStatus) -> Result<(), LifecycleError> {
        if self == AssessmentStatus::Submitted {
            return Err(LifecycleError::ReadOnly);
        }
        let round_open = round == RoundStatus::Open;
        let reopened_late = self == AssessmentStatus::Reopened && round != RoundStatus::Published;
        if round_open || reopened_late {
            Ok(())
        } else {
            Err(LifecycleError::RoundNotOpen(round))
        }
    }

    /// Whether the return may be submitted (its completeness is checked apart): it is editable
    /// and something has been saved.
    pub fn submittable(self, round: RoundStatus) -> Result<(), LifecycleError> {
        self.editable(round)?;
        if self == AssessmentStatus::NotStarted {
            return Err(LifecycleError::NothingSaved);
        }
        Ok(())
    }

    /// Whether an admin may re-open the return: only a submitted one, and only until the round's
    /// results are published.
    pub fn reopenable(self, round: RoundStatus) -> Result<(), LifecycleError> {
        if self != AssessmentStatus::Submitted {
            return Err(LifecycleError::NotSubmitted);
        }
        if round == RoundStatus::Published {
            return Err(LifecycleError::ResultsPublished);
        }
        Ok(())
    }
}

/// Where a framework stands: `draft → published`. A draft may be replaced; a published
/// framework is immutable and rounds may collect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrameworkStatus {
    /// Being written: may be replaced, not yet usable by a round.
    Draft,
    /// Immutable; rounds may collect it.
    Published,
}

impl FrameworkStatus {
    pub const ALL: [FrameworkStatus; 2] = [FrameworkStatus::Draft, FrameworkStatus::Published];

    pub fn as_str(self) -> &'static str {
        match self {
            FrameworkStatus::Draft => "draft",
            FrameworkStatus::Published => "published",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the framework may change: only while it is a draft.
    pub fn editable(self) -> Result<(), LifecycleError> {
        match self {
            FrameworkStatus::Draft => Ok(()),
            FrameworkStatus::Published => Err(LifecycleError::FrameworkPublished),
        }
    }
}

/// Why a lifecycle rule refuses (each is a conflict with the current state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleError {
    /// The return is submitted and read-only.
    ReadOnly,
    /// The round is not open (and the return was not re-opened late).
    RoundNotOpen(RoundStatus),
    /// Nothing has been saved for the return.
    NothingSaved,
    /// Only a submitted return can be re-opened.
    NotSubmitted,
    /// The round's results are published; returns are final.
    ResultsPublished,
    /// This many returns of the round are re-opened.
    ReturnsReopened(u64),
    /// The round is not in the status the move starts from.
    WrongRoundStatus {
        current: RoundStatus,
        from: RoundStatus,
        to: RoundStatus,
    },
    /// The framework is published and immutable.
    FrameworkPublished,
}

impl LifecycleError {
    /// The explanation shown to the client, naming the round (or, for a framework's refusal, the
    /// framework) by its key.
    pub fn describe(&self, key: &str) -> String {
        match self {
            LifecycleError::ReadOnly => {
                "this return is submitted and read-only; a national admin can re-open it".into()
            }
            LifecycleError::RoundNotOpen(status) => {
                format!("round `{key}` is {status}, not open")
            }
            LifecycleError::NothingSaved => "nothing has been saved for this return yet".into(),
            LifecycleError::NotSubmitted => "only a submitted return can be re-opened".into(),
            LifecycleError::ResultsPublished => {
                "the round's results are published; returns are final".into()
            }
            LifecycleError::ReturnsReopened(n) => format!(
                "round `{key}` has {n} re-opened return(s); they must be submitted again \
                 before its results are published"
            ),
            LifecycleError::WrongRoundStatus { current, from, to } => {
                format!("round `{key}` is {current}; only a {from} round can become {to}")
            }
            LifecycleError::FrameworkPublished => {
                format!("framework `{key}` is published and cannot change; create a new version")
            }
        }
    }
}

/// A stored or sent status that is not one of the known spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown status `{}`", self.0)
    }
}

impl std::error::Error for UnknownStatus {}

impl fmt::Display for RoundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AssessmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for FrameworkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoundStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl FromStr for AssessmentStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl FromStr for FrameworkStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests;
