//! # reports: what a person reads
//!
//! Renders a [`models::Results`] document — fresh from a run or loaded
//! from a saved `results.json` — for people: the terminal summary table
//! ([`summary`]), SVG charts ([`run_charts`]) drawn with plotters' SVG
//! backend (no system font library), and an offline `index.html`.
//! Every string that comes from a scenario file is escaped.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod chart;
pub mod charts;
pub mod table;

pub use chart::{Chart, ChartError};
pub use table::summary;

/// Every chart of one run's report, in reading order.
pub fn run_charts(r: &models::Results) -> Result<Vec<Chart>, ChartError> {
    let mut out = Vec::new();
    out.extend(charts::latency_over_time(r)?);
    Ok(out)
}
