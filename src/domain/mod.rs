//! Pure rules and value types: no actix, no diesel, no I/O. (`utoipa` derives appear on a few
//! wire-visible value types so the published schema is generated from the one definition.)

pub mod organisation;
