//! The integration suite: drives the app in-process through `app::build`, each test on its own
//! fresh database (SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set).

mod assessments;
mod audit;
mod auth;
mod contract;
mod demo;
mod divergence;
mod divergence_v2;
mod edge;
mod fair_use;
mod fhir;
mod fixtures;
mod frameworks;
mod harness;
mod operations;
mod organisations;
mod peer_groups;
mod races;
mod scale;
mod scores;
mod web;
mod web_returns;
