//! The `CapabilityStatement` served at `/fhir/r4/metadata`: the two resources, their interactions
//! and search parameters, and every extension the service reads and writes.

use fhir_model::r4b::resources::CapabilityStatement;
use serde_json::json;

use super::{FHIR_JSON, FHIR_VERSION, ext, hl7};

/// The statement, built from its JSON and read through the FHIR model (so it is well-formed).
/// `date` is when this version of the service was built into its statement (the crate version).
pub fn capability_statement(base_url: &str) -> Result<CapabilityStatement, serde_json::Error> {
    let reads: Vec<serde_json::Value> = ext::ALL
        .iter()
        .chain(&[
            (
                hl7::ORDINAL_VALUE,
                "answerOption/Coding: score (read and written)",
            ),
            (
                hl7::ITEM_WEIGHT,
                "answerOption/Coding: score (read and written)",
            ),
            (
                hl7::CALCULATED_EXPRESSION,
                "item: a total, `….ordinal().sum()` or `….weight().sum()`",
            ),
            (
                hl7::ITEM_CONTROL,
                "display item: `help` becomes the question's help",
            ),
            (hl7::UNIT, "decimal item: `%` makes a percentage"),
        ])
        .map(|(url, what)| json!({ "url": url, "valueString": what }))
        .collect();
    let documentation = |text: &str| json!(text);
    serde_json::from_value(json!({
        "resourceType": "CapabilityStatement",
        "url": format!("{}/CapabilityStatement/dma", super::BASE),
        "version": env!("CARGO_PKG_VERSION"),
        "name": "DigitalMaturityAssessment",
        "title": "NHS digital maturity assessment service: FHIR R4 facade",
        "status": "active",
        "date": "2026-12-07",
        "publisher": "NHS digital maturity assessment service",
        "kind": "instance",
        "software": { "name": "dma", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "Frameworks as Questionnaires, returns as QuestionnaireResponses", "url": base_url },
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "extension": [{
            "url": format!("{}/StructureDefinition/extensions-used", super::BASE),
            "extension": reads
        }],
        "rest": [{
            "mode": "server",
            "documentation": "Bearer tokens as for /api/v1 (analysts read; submitters read and write their own organisations; admins everything).",
            "security": {
                "cors": false,
                "description": "OAuth2-style bearer token in the Authorization header; the same roles as /api/v1"
            },
            "resource": [
                {
                    "type": "Questionnaire",
                    "documentation": documentation("A framework: pillars and domains as groups, questions by key. Import makes a draft framework (admin)."),
                    "interaction": [
                        { "code": "read" },
                        { "code": "search-type" },
                        { "code": "create", "documentation": "admin: imports a draft framework" }
                    ],
                    "searchParam": [
                        { "name": "url", "type": "uri", "documentation": "canonical URL" },
                        { "name": "version", "type": "token" },
                        { "name": "status", "type": "token", "documentation": "active (published) or draft" },
                        { "name": "_count", "type": "number" },
                        { "name": "_offset", "type": "number" }
                    ]
                },
                {
                    "type": "QuestionnaireResponse",
                    "documentation": documentation("One organisation's return for a round; in-progress saves, completed saves and submits. Totals are recomputed, never trusted."),
                    "interaction": [
                        { "code": "read" },
                        { "code": "search-type" },
                        { "code": "create", "documentation": "saves (in-progress) or saves and submits (completed) a return, as the saving user may" }
                    ],
                    "searchParam": [
                        { "name": "questionnaire", "type": "reference", "documentation": "canonical url|version (or url)" },
                        { "name": "subject", "type": "reference", "documentation": "ODS code, Organization/ODS, or system|ODS" },
                        { "name": "subject:identifier", "type": "token", "documentation": "https://fhir.nhs.uk/Id/ods-organization-code|ODS" },
                        { "name": "status", "type": "token", "documentation": "in-progress, completed or amended" },
                        { "name": "_count", "type": "number" },
                        { "name": "_offset", "type": "number" }
                    ]
                }
            ]
        }]
    }))
}
