//! Request bodies read before they are understood: a handler extracts a [`JsonBody`], authorises
//! the caller, and only then parses it, so a caller without the role learns nothing of the
//! expected shape. Parsing is strict: an unknown field anywhere is a 422 naming its JSON path.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult, FieldError};

/// The raw bytes of a request body and whether it was declared as JSON; parsed on demand.
pub struct JsonBody {
    bytes: web::Bytes,
    is_json: bool,
}

impl FromRequest for JsonBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime_type::Essence>().ok())
            .is_some_and(|m| m.is_json());
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            Ok(JsonBody { bytes, is_json })
        })
    }
}

impl JsonBody {
    /// Parses the body as `T`, refusing a wrong content type (400), malformed JSON (400) and a
    /// body of another shape (422, the offending JSON path in `errors[].field`).
    pub fn parse<T: DeserializeOwned>(&self) -> AppResult<T> {
        if !self.is_json {
            return Err(AppError::BadRequest(
                "the request body must be `application/json`".into(),
            ));
        }
        parse_json(&self.bytes)
    }
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
        let message = inner.to_string();
        let field = field_of(&path);
        AppError::unprocessable(
            format!("the request body does not have the expected shape at `{field}`"),
            vec![FieldError::new(field, strip_position(&message))],
        )
    })?;
    de.end()
        .map_err(|e| AppError::BadRequest(format!("the request body is not valid JSON: {e}")))?;
    Ok(parsed)
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

mod mime_type {
    /// The `type/subtype` of a `Content-Type`, without parameters.
    pub struct Essence(String);

    impl std::str::FromStr for Essence {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let essence = s
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if essence.contains('/') {
                Ok(Essence(essence))
            } else {
                Err(())
            }
        }
    }

    impl Essence {
        /// `application/json` or any `+json` type.
        pub fn is_json(&self) -> bool {
            self.0 == "application/json"
                || (self.0.starts_with("application/") && self.0.ends_with("+json"))
        }
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
}
