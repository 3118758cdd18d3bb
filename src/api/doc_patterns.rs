//! The text rules of [`super::text`] and the date ranges of `domain::dates`, stated in the OpenAPI
//! document as JSON Schema `pattern`s, so that a schema-driven client (or a property-based tester)
//! never builds a request the server must refuse for a reason the document could have said.
//! Applied once to the assembled document, like [`super::problems::CommonResponses`].

use utoipa::Modify;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, Schema, SchemaFormat, SchemaType, Type,
};

/// Parameters (path and query): no control character at all.
pub const NO_CONTROL: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

/// Body strings: no control character except tab, LF and CR (free text keeps its lines).
pub const NO_CONTROL_BUT_LINES: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Timestamps (`date-time`): the years 2001–2099. The server accepts 2000-01-01T00:00:00Z up to
/// (not including) 2101-01-01T00:00:00Z (`domain::dates::TIMESTAMP_YEARS`) in UTC; a pattern sees
/// the local year of an offset time, so it states the years that are inside whatever the offset.
pub const TIMESTAMP: &str = r"^(200[1-9]|20[1-9][0-9])-";

/// Calendar dates (`date`, organisations' `opened_on`/`closed_on`): the years 1900–2100
/// (`domain::dates::ORGANISATION_DATE_YEARS`).
pub const DATE: &str = r"^(19[0-9]{2}|20[0-9]{2}|2100)-";

/// Adds the patterns to every string schema that has no pattern, enum or other format of its own.
pub struct TextPatterns;

impl Modify for TextPatterns {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut form_schemas = Vec::new();
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                for p in op.parameters.iter_mut().flatten() {
                    if let RefOr::T(p) = p
                        && let Some(schema) = p.schema.as_mut()
                    {
                        add_patterns(schema, NO_CONTROL);
                    }
                }
                if let Some(RefOr::T(body)) = op.request_body.as_mut() {
                    for (media, content) in body.content.iter_mut() {
                        // Form fields, like parameters, take no control character at all.
                        if media.starts_with("application/x-www-form-urlencoded")
                            && let RefOr::T(content) = content
                            && let Some(RefOr::Ref(r)) = content.schema.as_ref()
                        {
                            form_schemas
                                .push(r.ref_location.rsplit('/').next().unwrap_or("").to_owned());
                        }
                    }
                    for content in body.content.values_mut() {
                        if let RefOr::T(content) = content
                            && let Some(schema) = content.schema.as_mut()
                        {
                            add_patterns(schema, NO_CONTROL_BUT_LINES);
                        }
                    }
                }
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            for (name, schema) in components.schemas.iter_mut() {
                let text = if form_schemas.contains(name) {
                    NO_CONTROL
                } else {
                    NO_CONTROL_BUT_LINES
                };
                add_patterns(schema, text);
            }
        }
    }
}

fn is_string(t: &SchemaType) -> bool {
    match t {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        SchemaType::AnyValue => false,
    }
}

/// Walks one schema (its properties, items and alternatives) adding `text` to plain strings and
/// the date patterns to dates.
fn add_patterns(schema: &mut RefOr<Schema>, text: &str) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(obj) => {
            if is_string(&obj.schema_type) && obj.pattern.is_none() && obj.enum_values.is_none() {
                let pattern = match &obj.format {
                    None => Some(text),
                    Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)) => Some(TIMESTAMP),
                    Some(SchemaFormat::KnownFormat(KnownFormat::Date)) => Some(DATE),
                    Some(_) => None,
                };
                obj.pattern = pattern.map(str::to_owned);
            }
            for p in obj.properties.values_mut() {
                add_patterns(p, text);
            }
            if let Some(extra) = obj.additional_properties.as_deref_mut()
                && let AdditionalProperties::RefOr(inner) = extra
            {
                add_patterns(inner, text);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                add_patterns(items, text);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(|s| add_patterns(s, text)),
        Schema::AllOf(all) => all.items.iter_mut().for_each(|s| add_patterns(s, text)),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(|s| add_patterns(s, text)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::text::first_control;

    /// The patterns say what the server does (checked with the `regex` engine schema tools use
    /// an equivalent of): a text matches exactly when the edge would let it through.
    #[test]
    fn the_patterns_agree_with_the_edge_rules() {
        let line = regex::Regex::new(NO_CONTROL).unwrap();
        let free = regex::Regex::new(NO_CONTROL_BUT_LINES).unwrap();
        for c in (0u32..0x2100).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            assert_eq!(
                line.is_match(&text),
                first_control(&text, false).is_none(),
                "{c:?}"
            );
            assert_eq!(
                free.is_match(&text),
                first_control(&text, true).is_none(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn the_date_patterns_state_years_the_server_accepts() {
        use chrono::{DateTime, NaiveDate, Utc};
        let ts = regex::Regex::new(TIMESTAMP).unwrap();
        let date = regex::Regex::new(DATE).unwrap();
        for year in 1890..2110 {
            for offset in ["Z", "+14:00", "-12:00"] {
                let text = format!("{year:04}-01-01T00:00:00{offset}");
                if ts.is_match(&text) {
                    let t: DateTime<Utc> = text.parse().unwrap();
                    assert!(crate::domain::dates::timestamp_in_range(&t), "{text}");
                }
            }
            let d = format!("{year:04}-06-30");
            let accepted = crate::domain::dates::organisation_date_in_range(
                &NaiveDate::parse_from_str(&d, "%Y-%m-%d").unwrap(),
            );
            assert_eq!(date.is_match(&d), accepted, "{d}");
        }
        assert!(ts.is_match("2026-12-07T04:45:57Z") && !ts.is_match("0628-08-08T17:28:57Z"));
    }
}
