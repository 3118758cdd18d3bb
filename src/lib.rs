//! NHS digital maturity assessment service: library crate. `main.rs` only parses the command line;
//! everything it runs lives here so the tests drive exactly what production runs.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod fhir;
pub mod limits;
pub mod seed;
pub mod service;
pub mod state;
pub mod telemetry;
pub mod web;
