//! The ranges of dates and times the service accepts on input (and so can ever store or publish):
//! a timestamp outside them is a typing slip (year 0000, −0001), not a collection window. The
//! wire types' OpenAPI descriptions repeat these bounds in words; a test keeps them in step.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Years a round may open or close in, and that audit filters (`since`, `until`) may name: every
/// accepted instant `t` has `2000-01-01T00:00:00Z <= t < 2101-01-01T00:00:00Z`.
pub const TIMESTAMP_YEARS: (i32, i32) = (2000, 2100);

/// Years an organisation may have opened or closed in (the oldest NHS bodies predate 2000).
pub const ORGANISATION_DATE_YEARS: (i32, i32) = (1900, 2100);

/// Whether an instant lies within [`TIMESTAMP_YEARS`].
pub fn timestamp_in_range(t: &DateTime<Utc>) -> bool {
    (TIMESTAMP_YEARS.0..=TIMESTAMP_YEARS.1).contains(&t.year())
}

/// Whether a calendar date lies within [`ORGANISATION_DATE_YEARS`].
pub fn organisation_date_in_range(d: &NaiveDate) -> bool {
    (ORGANISATION_DATE_YEARS.0..=ORGANISATION_DATE_YEARS.1).contains(&d.year())
}

/// The refusal message for a timestamp out of range.
pub fn timestamp_range_message() -> String {
    format!(
        "must be from {}-01-01T00:00:00Z up to (not including) {}-01-01T00:00:00Z",
        TIMESTAMP_YEARS.0,
        TIMESTAMP_YEARS.1 + 1
    )
}

/// The refusal message for an organisation date out of range.
pub fn organisation_date_range_message() -> String {
    format!(
        "must be a date from {}-01-01 to {}-12-31",
        ORGANISATION_DATE_YEARS.0, ORGANISATION_DATE_YEARS.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn timestamps_are_bounded_by_whole_years() {
        assert!(timestamp_in_range(&at("2000-01-01T00:00:00Z")));
        assert!(timestamp_in_range(&at("2026-04-01T00:00:00Z")));
        assert!(timestamp_in_range(&at("2100-12-31T23:59:59.999Z")));
        assert!(!timestamp_in_range(&at("1999-12-31T23:59:59Z")));
        assert!(!timestamp_in_range(&at("2101-01-01T00:00:00Z")));
        assert!(!timestamp_in_range(&at("0000-01-01T00:00:00Z")));
        // Offsets count in UTC: this is 1999-12-31T23:00:00Z.
        assert!(!timestamp_in_range(&at("2000-01-01T00:00:00+01:00")));
    }

    #[test]
    fn organisation_dates_reach_back_before_2000() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert!(organisation_date_in_range(&d(1948, 7, 5)));
        assert!(organisation_date_in_range(&d(2100, 12, 31)));
        assert!(!organisation_date_in_range(&d(1899, 12, 31)));
        assert!(!organisation_date_in_range(&d(2101, 1, 1)));
        assert!(!organisation_date_in_range(&d(0, 1, 1)));
    }
}
