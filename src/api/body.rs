//! Request bodies read before they are understood: a handler extracts a [`JsonBody`], authorises
//! the caller, and only then parses it, so a caller without the role learns nothing of the
//! expected shape (nor whether its content type would do). Reading a body must finish within
//! `DMA_BODY_READ_TIMEOUT_SECS` (408 otherwise). Parsing is strict: only `application/json`
//! (optionally `; charset=utf-8`) is JSON (415 otherwise), an unknown field anywhere is a 422
//! naming its JSON path, and so is a control character in any string or key (see `text`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::text::{control_message, first_control, printable};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

/// What a request's `Content-Type` says its body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// No `Content-Type` header.
    Absent,
    /// `application/json`, optionally with `charset=utf-8`.
    Json,
    /// `application/x-www-form-urlencoded`, optionally with `charset=utf-8`.
    Form,
    /// Anything else, including JSON or form types with another charset or parameter.
    Other,
}

impl Media {
    /// Classifies a `Content-Type` value: type and parameter names are case-insensitive and
    /// whitespace around them is ignored; the only parameter accepted is `charset=utf-8`.
    pub fn of(content_type: Option<&str>) -> Self {
        let Some(value) = content_type else {
            return Media::Absent;
        };
        let mut parts = value.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let params_ok = parts.all(|p| {
            let p = p.trim();
            if p.is_empty() {
                return true;
            }
            let Some((name, v)) = p.split_once('=') else {
                return false;
            };
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            name.trim().eq_ignore_ascii_case("charset") && v.eq_ignore_ascii_case("utf-8")
        });
        match essence.as_str() {
            "application/json" if params_ok => Media::Json,
            "application/x-www-form-urlencoded" if params_ok => Media::Form,
            _ => Media::Other,
        }
    }

    fn of_request(req: &HttpRequest) -> Self {
        match req.headers().get(header::CONTENT_TYPE) {
            None => Media::Absent,
            Some(v) => Media::of(Some(v.to_str().unwrap_or("\u{fffd}"))),
        }
    }
}

/// How long reading a body may take when the application state does not say (tests of parts).
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The raw bytes of a request body, read within the configured time, and its declared media type.
pub struct RawBody {
    pub bytes: web::Bytes,
    pub media: Media,
}

impl FromRequest for RawBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media = Media::of_request(req);
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(DEFAULT_READ_TIMEOUT, |s| s.config.body_read_timeout);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = tokio::time::timeout(limit, bytes).await.map_err(|_| {
                AppError::RequestTimeout(format!(
                    "the request body was not received within {} s",
                    limit.as_secs()
                ))
            })??;
            Ok(RawBody { bytes, media })
        })
    }
}

/// A body that should be JSON, read but not yet parsed.
pub struct JsonBody(RawBody);

impl FromRequest for JsonBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawBody::from_request(req, payload);
        Box::pin(async move { Ok(JsonBody(raw.await?)) })
    }
}

impl JsonBody {
    /// Parses the body as `T`, refusing a content type other than JSON (415; an empty body
    /// without one is a 400), malformed JSON (400) and a body of another shape or with control
    /// characters in its text (422, the offending JSON path in `errors[].field`).
    pub fn parse<T: DeserializeOwned>(&self) -> AppResult<T> {
        match self.0.media {
            Media::Json => parse_json(&self.0.bytes),
            Media::Absent if self.0.bytes.is_empty() => Err(AppError::BadRequest(
                "a JSON request body (`application/json`) is required".into(),
            )),
            _ => Err(unsupported_json()),
        }
    }
}

/// The 415 for a body that is not `application/json`.
pub fn unsupported_json() -> AppError {
    AppError::UnsupportedMediaType(
        "the request body must be sent as `application/json` (optionally `; charset=utf-8`)".into(),
    )
}

/// Strict JSON parsing shared by every JSON body (and the JSON form of the token request).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if !inner.is_data() {
            return AppError::BadRequest(format!("the request body is not valid JSON: {inner}"));
        }
        // An unknown key is named as sent, so a control character in it is escaped here.
        let message = printable(&inner.to_string());
        let field = printable(&field_of(&path));
        AppError::unprocessable(
            format!("the request body does not have the expected shape at `{field}`"),
            vec![FieldError::new(field, strip_position(&message))],
        )
    })?;
    de.end()
        .map_err(|e| AppError::BadRequest(format!("the request body is not valid JSON: {e}")))?;
    // Escapes (`\u0000`) decode to control characters, so the decoded text is what is checked; a
    // second, untyped pass sees every string and key, including those `T` ignores or keeps raw.
    let tree: Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("the request body is not valid JSON: {e}")))?;
    if let Some((path, c)) = control_in(&tree, &mut String::new()) {
        let field = field_of(&path);
        return Err(AppError::unprocessable(
            format!("the request body has a control character at `{field}`"),
            vec![FieldError::new(field, control_message(c))],
        ));
    }
    Ok(parsed)
}

/// The JSON path (in serde_path_to_error's style: `answers[2].evidence`) and the character of the
/// first control character in a string value (tab, CR, LF allowed) or an object key (none allowed).
fn control_in(value: &Value, path: &mut String) -> Option<(String, char)> {
    match value {
        Value::String(s) => first_control(s, true).map(|c| (path.clone(), c)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = control_in(v, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&printable(k));
            let found = match first_control(k, false) {
                Some(c) => Some((path.clone(), c)),
                None => control_in(v, path),
            };
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

/// The JSON path a shape error is about (serde_path_to_error ends it with an unknown field's
/// own name); `$` for the document itself.
fn field_of(path: &str) -> String {
    if path == "." || path.is_empty() {
        "$".to_owned()
    } else {
        path.to_owned()
    }
}

/// serde_json appends "at line L column C"; the JSON path says more to a caller.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        question: String,
        evidence: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        answers: Vec<Inner>,
    }

    fn field(body: &str) -> (u16, String) {
        let p = parse_json::<Outer>(body.as_bytes()).unwrap_err().problem();
        (
            p.status,
            p.errors
                .first()
                .map(|e| e.field.clone())
                .unwrap_or_default(),
        )
    }

    #[test]
    fn unknown_fields_are_named_by_their_json_path() {
        assert_eq!(
            field(r#"{"answers":[{"question":"a"},{"question":"b","evidnce":"x"}]}"#),
            (422, "answers[1].evidnce".into())
        );
        assert_eq!(field(r#"{"answers":[],"extra":1}"#), (422, "extra".into()));
    }

    #[test]
    fn wrong_types_name_the_field_and_bad_json_is_400() {
        assert_eq!(
            field(r#"{"answers":[{"question":7}]}"#),
            (422, "answers[0].question".into())
        );
        assert_eq!(field(r#"{"answers":"#).0, 400);
        assert_eq!(field(r#"{"answers":[]} trailing"#).0, 400);
        assert_eq!(field(r#"{}"#), (422, "$".into()));
    }

    #[test]
    fn control_characters_in_strings_and_keys_are_named_by_their_json_path() {
        assert_eq!(
            field(r#"{"answers":[{"question":"a"},{"question":"b","evidence":"x\u0000y"}]}"#),
            (422, "answers[1].evidence".into())
        );
        assert_eq!(
            field(r#"{"answers":[{"question":"\u001b[31m"}]}"#),
            (422, "answers[0].question".into())
        );
        assert_eq!(
            field(r#"{"answers":[{"question":"\u0085"}]}"#),
            (422, "answers[0].question".into())
        );
        // Free text keeps its tabs and line breaks.
        assert!(
            parse_json::<Outer>(
                br#"{"answers":[{"question":"a","evidence":"one\ttwo\r\nthree\n"}]}"#
            )
            .is_ok()
        );
        // A raw (unescaped) control character is not JSON at all.
        assert_eq!(field("{\"answers\":[{\"question\":\"a\u{1}\"}]}").0, 400);
    }

    #[test]
    fn control_characters_in_keys_are_refused_even_where_values_are_free() {
        let e = parse_json::<serde_json::Value>(br#"{"notes":{"a\u0000b":"x"}}"#)
            .unwrap_err()
            .problem();
        assert_eq!(
            (e.status, e.errors[0].field.as_str()),
            (422, "notes.a\\u{0}b")
        );
        let e = parse_json::<serde_json::Value>(br#"{"a":{"b\tc":1}}"#)
            .unwrap_err()
            .problem();
        assert_eq!(e.errors[0].field, "a.b\\u{9}c");
        let e = parse_json::<serde_json::Value>(br#"["ok",["x\u0007"]]"#)
            .unwrap_err()
            .problem();
        assert_eq!(e.errors[0].field, "[1][0]");
    }

    #[test]
    fn only_json_with_an_optional_utf8_charset_is_json() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            " application/json ;  charset = \"utf-8\" ",
            "application/json;",
        ] {
            assert_eq!(Media::of(Some(ok)), Media::Json, "{ok}");
        }
        for other in [
            "text/json",
            "application/json; charset=latin1",
            "application/json; boundary=x",
            "application/problem+json",
            "application/jsonx",
            "application/x-www-form-urlencoded",
            "",
        ] {
            assert_ne!(Media::of(Some(other)), Media::Json, "{other}");
        }
        assert_eq!(
            Media::of(Some("application/x-www-form-urlencoded; charset=utf-8")),
            Media::Form
        );
        assert_eq!(
            Media::of(Some(
                "application/x-www-form-urlencoded; charset=iso-8859-1"
            )),
            Media::Other
        );
        assert_eq!(Media::of(None), Media::Absent);
    }
}
