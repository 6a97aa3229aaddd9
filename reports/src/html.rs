//! (being written)

use models::Results;
use models::sweeps::{PlanResult, SweepResult};

use crate::chart::Chart;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// (being written)
pub fn run_page(r: &Results, _charts: &[Chart]) -> String {
    escape(&r.scenario.name)
}

/// (being written)
pub fn sweep_page(s: &SweepResult, _charts: &[Chart]) -> String {
    escape(&s.identity.scenario)
}

/// (being written)
pub fn plan_page(p: &PlanResult, _charts: &[Chart]) -> String {
    escape(&p.identity.scenario)
}
