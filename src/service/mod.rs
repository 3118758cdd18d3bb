//! Operations shared by the HTTP handlers, the command line and the seeders: checks, the database
//! writes and their audit events in one transaction. Nothing here knows HTTP; handlers translate
//! requests into these calls, and `cli` and `seed` call them directly, never a handler's module.

pub mod bodies;
pub mod clients;
pub mod divergence;
