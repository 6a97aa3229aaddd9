//! # reports: what a person reads
//!
//! Renders a [`models::Results`] document — fresh from a run or loaded
//! from a saved `results.json` — for people. For now: the terminal summary
//! table ([`summary`]); SVG charts and the HTML report build on the same
//! input.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod table;

pub use table::summary;
