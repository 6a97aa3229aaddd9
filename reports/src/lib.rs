//! # reports: what a person reads
//!
//! Renders the documents capsim writes — a run's [`models::Results`], a
//! sweep's [`SweepResult`], a plan's [`PlanResult`], a check's
//! [`CheckReport`] — fresh or loaded from a saved file, for people: the
//! terminal summaries ([`terminal`]; a run's is [`summary`]), SVG charts
//! drawn with plotters' SVG backend (no system font library), and an
//! `index.html` that works offline ([`html`]). Numbers and values are
//! written by one formatter of each kind ([`fmt`]), the same in the
//! terminal and on the pages. Every string that comes from a scenario
//! file is escaped, in HTML and in SVG.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod axes;
pub mod chart;
pub mod charts;
pub mod fmt;
pub mod html;
mod objectives;
mod shared;
pub mod terminal;

pub use chart::{Chart, ChartError};
use models::{CheckReport, PlanResult, SweepResult};
pub use terminal::run::summary;

/// A file of a report: its name in the output folder and its content.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFile {
    /// File name (no folders).
    pub name: String,
    /// Content.
    pub bytes: Vec<u8>,
}

fn files(charts: Vec<Chart>, page: String) -> Vec<ReportFile> {
    let mut out: Vec<ReportFile> = charts
        .into_iter()
        .map(|c| ReportFile {
            name: c.file,
            bytes: c.svg.into_bytes(),
        })
        .collect();
    out.push(ReportFile {
        name: "index.html".into(),
        bytes: page.into_bytes(),
    });
    out
}

/// Every chart of one run's report, in reading order.
pub fn run_charts(r: &models::Results) -> Result<Vec<Chart>, ChartError> {
    let mut out = Vec::new();
    out.extend(charts::topology(r)?);
    out.extend(charts::latency_over_time(r)?);
    out.extend(charts::throughput_over_time(r)?);
    out.extend(charts::utilisation_over_time(r)?);
    out.extend(charts::pods_over_time(r)?);
    out.extend(charts::shard_heatmaps(r)?);
    out.extend(charts::cache_hit_ratio(r)?);
    out.extend(charts::queue_lag(r)?);
    out.extend(charts::latency_cdf(r)?);
    Ok(out)
}

/// The files of a run's report: its charts and `index.html`.
pub fn run_report(r: &models::Results) -> Result<Vec<ReportFile>, ChartError> {
    let charts = run_charts(r)?;
    let page = html::run_page(r, &charts);
    Ok(files(charts, page))
}

/// The files of a sweep's report.
pub fn sweep_report(s: &SweepResult) -> Result<Vec<ReportFile>, ChartError> {
    let charts = charts::sweep_charts(s)?;
    let page = html::sweep_page(s, &charts);
    Ok(files(charts, page))
}

/// The files of a plan's report.
pub fn plan_report(p: &PlanResult) -> Result<Vec<ReportFile>, ChartError> {
    let charts = charts::plan_charts(p)?;
    let page = html::plan_page(p, &charts);
    Ok(files(charts, page))
}

/// The files of a check's report (`index.html` beside `check.json`): the
/// outcome, every objective against its limit and its baseline, and the
/// chart of them all. Each scenario's own run report, in its
/// `report_dir`, is [`run_report`]'s.
pub fn check_report(c: &CheckReport) -> Result<Vec<ReportFile>, ChartError> {
    let charts = charts::check_charts(c)?;
    let page = html::check_page(c, &charts);
    Ok(files(charts, page))
}
