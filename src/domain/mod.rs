//! Pure rules and value types: no web framework, no database, no I/O. (`utoipa` derives appear on a few
//! wire-visible value types so the published schema is generated from the one definition.)

pub mod answers;
pub mod dates;
pub mod divergence;
pub mod figures;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod framework;
pub mod lifecycle;
pub mod organisation;
pub mod scoring;
pub mod value;
