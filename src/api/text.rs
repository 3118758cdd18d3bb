//! Text hygiene at the edge: no control character (U+0000–U+001F, U+007F–U+009F) reaches a
//! handler through the path, the query string or a form body, and none reaches the database
//! through a JSON body except tab, CR and LF inside string values (free text keeps its lines).
//! PostgreSQL refuses NUL in text where SQLite stores it; refusing here keeps both backends alike.
//! Percent-decoded bytes must also be UTF-8.

use crate::error::{AppError, AppResult};

/// The first control character of `text`, if any; `free_text` lets tab, CR and LF through.
pub fn first_control(text: &str, free_text: bool) -> Option<char> {
    text.chars()
        .find(|c| c.is_control() && !(free_text && matches!(c, '\t' | '\r' | '\n')))
}

/// Why a text with control character `c` is refused (for `errors[].message`).
pub fn control_message(c: char) -> String {
    format!(
        "contains the control character U+{:04X}, which is not accepted",
        u32::from(c)
    )
}

/// A name that may itself hold control characters, printable in a problem document.
pub fn printable(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Percent-decodes `raw` (and `+` as a space when `plus_is_space`, as forms and query strings
/// have it). A `%` not followed by two hex digits stays as it is.
pub fn percent_decode(raw: &[u8], plus_is_space: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` text (a query string or a form body) into its
/// pairs, refusing with 400 a name or value that is not UTF-8 or holds a control character; the
/// problem names the field (`what` says which kind: "query parameter", "form field").
pub fn form_pairs(raw: &[u8], what: &str) -> AppResult<Vec<(String, String)>> {
    checked_pairs(raw, what, |_| true)
}

/// As [`form_pairs`], but only the fields named in `known` are checked and returned; any other is
/// skipped unread (a token endpoint ignores parameters it does not know, RFC 6749 §3.2).
pub fn known_form_fields(
    raw: &[u8],
    what: &str,
    known: &[&str],
) -> AppResult<Vec<(String, String)>> {
    checked_pairs(raw, what, |name| {
        known
            .iter()
            .any(|k| k.as_bytes() == percent_decode(name, true))
    })
}

fn checked_pairs(
    raw: &[u8],
    what: &str,
    wanted: impl Fn(&[u8]) -> bool,
) -> AppResult<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for piece in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|b| *b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        if !wanted(name) {
            continue;
        }
        let raw_name = String::from_utf8_lossy(name).into_owned();
        let name = String::from_utf8(percent_decode(name, true)).map_err(|_| {
            AppError::bad_field(
                raw_name.clone(),
                format!("the {what} name is not UTF-8 once percent-decoded"),
            )
        })?;
        if let Some(c) = first_control(&name, false) {
            return Err(AppError::bad_field(
                printable(&name),
                format!("the {what} name {}", control_message(c)),
            ));
        }
        let value = String::from_utf8(percent_decode(value, true)).map_err(|_| {
            AppError::bad_field(
                name.clone(),
                format!("the {what} `{name}` is not UTF-8 once percent-decoded"),
            )
        })?;
        if let Some(c) = first_control(&value, false) {
            return Err(AppError::bad_field(
                name.clone(),
                format!("the {what} `{name}` {}", control_message(c)),
            ));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> (u16, String) {
        let p = form_pairs(raw.as_bytes(), "query parameter")
            .unwrap_err()
            .problem();
        (p.status, p.errors[0].field.clone())
    }

    #[test]
    fn pairs_decode_like_forms() {
        let pairs = form_pairs(b"a=b+c&d%5B%5D=%C3%A9&flag&&e=", "form field").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "b c".into()),
                ("d[]".into(), "é".into()),
                ("flag".into(), String::new()),
                ("e".into(), String::new()),
            ]
        );
        // A stray percent sign is kept, not an error.
        assert_eq!(form_pairs(b"q=100%", "q").unwrap()[0].1, "100%");
        assert_eq!(form_pairs(b"q=%4", "q").unwrap()[0].1, "%4");
    }

    #[test]
    fn control_characters_and_bad_utf8_are_refused_by_name() {
        assert_eq!(refused("region=Y6%002"), (400, "region".into()));
        assert_eq!(refused("ok=1&region=%1F"), (400, "region".into()));
        assert_eq!(refused("region=%7F"), (400, "region".into()));
        assert_eq!(refused("region=%C2%85"), (400, "region".into()));
        assert_eq!(refused("reg%00ion=Y62"), (400, "reg\\u{0}ion".into()));
        assert_eq!(refused("region=%FF"), (400, "region".into()));
        assert_eq!(refused("re%FFgion=1"), (400, "re%FFgion".into()));
        // In a query string even a tab is refused: free text travels in bodies.
        assert_eq!(refused("q=a%09b"), (400, "q".into()));
    }

    #[test]
    fn free_text_keeps_tab_cr_lf_only() {
        assert_eq!(first_control("a\tb\r\nc", true), None);
        assert_eq!(first_control("a\tb", false), Some('\t'));
        assert_eq!(first_control("a\u{0}b", true), Some('\u{0}'));
        assert_eq!(first_control("a\u{1b}b", true), Some('\u{1b}'));
        assert_eq!(first_control("a\u{9f}b", true), Some('\u{9f}'));
        assert_eq!(first_control("café – ok", false), None);
    }
}

/// A text cell for CSV that a spreadsheet will not run as a formula: text starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice for CSV injection).
/// Keys and titles from imported frameworks may hold any characters.
pub fn csv_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod csv_tests {
    use super::csv_text;

    #[test]
    fn csv_text_keeps_formulas_from_running() {
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for lead in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_text(lead).starts_with('\''), "{lead:?}");
        }
        assert_eq!(csv_text("well_led"), "well_led");
        assert_eq!(csv_text(""), "");
    }
}
