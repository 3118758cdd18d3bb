//! HL7 FHIR R4 (4.0.1) exchange: frameworks as `Questionnaire`s and returns as
//! `QuestionnaireResponse`s, with the SDC extensions for scores, conditions and totals. Pure
//! translation between the `fhir-model` crate's types (R4B, wire-compatible with R4 for every
//! resource used here) and the domain; HTTP lives in `api::fhir`.
//!
//! The extensions the service defines all live under [`BASE`]; the README lists them.

pub mod capability;
pub mod outcome;
pub mod questionnaire;
pub mod response;
#[cfg(test)]
mod tests;

use fhir_model::r4b::types::{Extension, ExtensionInner, ExtensionValue};

pub use outcome::Issue;

/// Building a FHIR value fails only when a required element is missing: a bug, reported as one.
pub type Built<T> = Result<T, fhir_model::BuilderError>;

/// The FHIR version served.
pub const FHIR_VERSION: &str = "4.0.1";
/// The media type of FHIR JSON.
pub const FHIR_JSON: &str = "application/fhir+json";
/// Canonical base of everything the service defines (extensions, its own questionnaires).
pub const BASE: &str = "https://fhir.dma.nhs.uk";
/// NHS ODS organisation codes.
pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

/// HL7 extensions read and written.
pub mod hl7 {
    /// R4 core: the score of an answer option (or of a coding).
    pub const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
    /// SDC: the weight (score) of an answer option or coding.
    pub const ITEM_WEIGHT: &str = "http://hl7.org/fhir/StructureDefinition/itemWeight";
    /// Older names for the same score, read only.
    pub const ORDINAL_ALIASES: [&str; 2] = [
        "http://hl7.org/fhir/StructureDefinition/valueset-ordinalValue",
        "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value",
    ];
    /// SDC: a value calculated from other answers.
    pub const CALCULATED_EXPRESSION: &str =
        "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression";
    /// R4 core: how an item is rendered (`help` marks help text).
    pub const ITEM_CONTROL: &str =
        "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl";
    pub const ITEM_CONTROL_SYSTEM: &str = "http://hl7.org/fhir/questionnaire-item-control";
    /// R4 core: the unit of a numeric item (`%` marks a percentage).
    pub const UNIT: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit";
    pub const UCUM: &str = "http://unitsofmeasure.org";
}

/// The extensions the service defines, each `BASE/StructureDefinition/<name>`.
pub mod ext {
    /// Questionnaire: the score range (`min`, `max`, decimals).
    pub const SCALE: &str = "https://fhir.dma.nhs.uk/StructureDefinition/scale";
    /// Item: the level a staged criterion evidences (integer); its presence makes a framework staged.
    pub const STAGED_LEVEL: &str = "https://fhir.dma.nhs.uk/StructureDefinition/staged-level";
    /// Answer option: choosing it meets the staged criterion (boolean).
    pub const MEETS_CRITERION: &str = "https://fhir.dma.nhs.uk/StructureDefinition/meets-criterion";
    /// Group (or questionnaire): an organisation type it is asked of (code, repeated).
    pub const APPLIES_TO: &str = "https://fhir.dma.nhs.uk/StructureDefinition/applies-to";
    /// Item: the question's weight in its domain's mean (decimal).
    pub const QUESTION_WEIGHT: &str = "https://fhir.dma.nhs.uk/StructureDefinition/question-weight";
    /// Item: a score band of a numeric question (`from`, `to`, `score`).
    pub const SCORE_BAND: &str = "https://fhir.dma.nhs.uk/StructureDefinition/score-band";
    /// Item: whether the answer earns points, where it cannot be read from scores (boolean).
    pub const SCORED: &str = "https://fhir.dma.nhs.uk/StructureDefinition/scored";
    /// Item: what a calculated total sums (`group`, `domain`, `pillar` or `framework`); without it,
    /// the items of the group it stands in (the whole questionnaire at the top level).
    pub const TOTAL_OF: &str = "https://fhir.dma.nhs.uk/StructureDefinition/total-of";
    /// Group: the pillar's or domain's description (markdown).
    pub const DESCRIPTION: &str = "https://fhir.dma.nhs.uk/StructureDefinition/description";
    /// QuestionnaireResponse answer: the evidence note or link (string).
    pub const EVIDENCE: &str = "https://fhir.dma.nhs.uk/StructureDefinition/evidence";
    /// QuestionnaireResponse: the assessment round (string: the round key).
    pub const ROUND: &str = "https://fhir.dma.nhs.uk/StructureDefinition/round";
    /// QuestionnaireResponse: the scores the service stored (`score`, `coverage`, `pillar`,
    /// `domain`, `key`).
    pub const SCORES: &str = "https://fhir.dma.nhs.uk/StructureDefinition/scores";
    /// QuestionnaireResponse `meta`: a warning about the response as received (string).
    pub const WARNING: &str = "https://fhir.dma.nhs.uk/StructureDefinition/warning";

    /// Every extension the service defines, for the CapabilityStatement and the README.
    pub const ALL: [(&str, &str); 14] = [
        (SCALE, "Questionnaire: score range (min, max)"),
        (STAGED_LEVEL, "item: the level a staged criterion evidences"),
        (
            MEETS_CRITERION,
            "answerOption: choosing it meets the criterion",
        ),
        (APPLIES_TO, "group: an organisation type it is asked of"),
        (QUESTION_WEIGHT, "item: weight in the domain's mean"),
        (SCORE_BAND, "item: a score band (from, to, score)"),
        (SCORED, "item: whether the answer earns points"),
        (TOTAL_OF, "item: what a calculated total sums"),
        (DESCRIPTION, "group: description"),
        (EVIDENCE, "QuestionnaireResponse answer: evidence"),
        (ROUND, "QuestionnaireResponse: the assessment round"),
        (SCORES, "QuestionnaireResponse: the stored scores"),
        (
            WARNING,
            "QuestionnaireResponse meta: a warning about what was received",
        ),
        (
            "https://fhir.dma.nhs.uk/StructureDefinition/questionnaire",
            "canonical base of the service's own questionnaires",
        ),
    ];
}

/// The canonical URL of a framework without one of its own.
pub fn canonical(key: &str) -> String {
    format!("{BASE}/Questionnaire/{key}")
}

/// An extension with a value.
pub(crate) fn extension(url: &str, value: ExtensionValue) -> Extension {
    Extension::from(ExtensionInner {
        id: None,
        extension: Vec::new(),
        url: url.to_owned(),
        value: Some(value),
        value_ext: None,
    })
}

/// A complex extension (sub-extensions only).
pub(crate) fn complex(url: &str, parts: Vec<Extension>) -> Extension {
    Extension::from(ExtensionInner {
        id: None,
        extension: parts,
        url: url.to_owned(),
        value: None,
        value_ext: None,
    })
}

/// The values of the extensions with this URL.
pub(crate) fn values<'a>(
    extensions: &'a [Extension],
    url: &'a str,
) -> impl Iterator<Item = &'a ExtensionValue> + 'a {
    extensions
        .iter()
        .filter(move |e| e.url == url)
        .filter_map(|e| e.value.as_ref())
}

/// The first extension with this URL.
pub(crate) fn find<'a>(extensions: &'a [Extension], url: &str) -> Option<&'a Extension> {
    extensions.iter().find(|e| e.url == url)
}

/// A number carried as a decimal or an integer.
pub(crate) fn number(value: &ExtensionValue) -> Option<f64> {
    match value {
        ExtensionValue::Decimal(d) => Some(*d),
        ExtensionValue::Integer(i) => Some(f64::from(*i)),
        ExtensionValue::UnsignedInt(i) => Some(f64::from(*i)),
        ExtensionValue::PositiveInt(i) => Some(f64::from(i.get())),
        _ => None,
    }
}

/// A `searchset` Bundle: the page of matches with their full URLs, the total, and `self`/`next`
/// links.
pub fn searchset(
    entries: Vec<(String, fhir_model::r4b::resources::Resource)>,
    total: usize,
    self_url: String,
    next_url: Option<String>,
) -> Built<fhir_model::r4b::resources::Bundle> {
    use fhir_model::r4b::codes::{BundleType, SearchEntryMode};
    use fhir_model::r4b::resources::{Bundle, BundleEntry, BundleEntrySearch, BundleLink};
    let mut links = vec![Some(
        BundleLink::builder()
            .relation("self".to_owned())
            .url(self_url)
            .build()?,
    )];
    if let Some(next) = next_url {
        links.push(Some(
            BundleLink::builder()
                .relation("next".to_owned())
                .url(next)
                .build()?,
        ));
    }
    let entries = entries
        .into_iter()
        .map(|(full_url, resource)| {
            let search = BundleEntrySearch::builder()
                .mode(SearchEntryMode::Match)
                .build()?;
            BundleEntry::builder()
                .full_url(full_url)
                .resource(resource)
                .search(search)
                .build()
                .map(Some)
        })
        .collect::<Built<Vec<_>>>()?;
    Bundle::builder()
        .r#type(BundleType::Searchset)
        .total(u32::try_from(total).unwrap_or(u32::MAX))
        .link(links)
        .entry(entries)
        .build()
}
