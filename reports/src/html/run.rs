//! The page of one run: the scenario, the sections of the results
//! document in reading order, then every chart.

use std::fmt::Write as _;

use models::Results;

use super::page::{charts_section, escape, figure, nav, page, warnings_box};
use super::sections;
use crate::chart::Chart;
use crate::fmt::{int, secs};

/// The page of one run: scenario, the topology, headline figures,
/// warnings, the tables of endpoints, services, databases, caches, queues
/// and cost, then every other chart.
pub fn run_page(r: &Results, charts: &[Chart]) -> String {
    // The topology comes first among the charts (`run_charts`).
    let first = charts
        .iter()
        .take_while(|c| c.file == crate::charts::TOPOLOGY_FILE)
        .count();
    let (topology, charts) = charts.split_at(first);
    let s = &r.scenario;
    let mut b = String::new();
    let _ = write!(
        b,
        "<header>\n<p class=\"kind\">capsim run report</p>\n<h1>{}</h1>\n<p class=\"desc\">{}</p>\n<p class=\"meta\">Seed {} · {} simulated · the first {} is warm-up, excluded from the tables (the charts show the whole run) · capsim {} · results format {}</p>\n</header>\n",
        escape(&s.name),
        escape(&s.description),
        s.seed,
        secs(s.duration_s),
        secs(s.warmup_s),
        escape(&r.capsim_version),
        r.format_version
    );
    let mut sections = Vec::new();
    if !topology.is_empty() {
        sections.push(("topology", "Topology"));
    }
    sections.push(("summary", "Summary"));
    if !r.objectives.is_empty() {
        sections.push(("objectives", "Objectives"));
    }
    sections.push(("endpoints", "Endpoints"));
    if !r.calls.is_empty() {
        sections.push(("calls", "Calls"));
    }
    if !r.services.is_empty() || !r.load_balancers.is_empty() {
        sections.push(("services", "Services"));
    }
    if !r.databases.is_empty() {
        sections.push(("databases", "Databases"));
    }
    if !r.caches.is_empty() || !r.cdns.is_empty() {
        sections.push(("caches", "Caches"));
    }
    if !r.queues.is_empty() {
        sections.push(("queues", "Queues"));
    }
    sections.push(("cost", "Cost"));
    b.push_str(&nav(&sections, charts));
    b.push_str(&warnings_box(&r.warnings));
    for c in topology {
        let _ = write!(
            b,
            "<section id=\"topology\">\n<h2>Topology</h2>\n{}</section>\n",
            figure(c)
        );
    }
    b.push_str(&sections::summary(r));
    b.push_str(&sections::objectives(r));
    b.push_str(&sections::endpoints(r));
    b.push_str(&sections::services(r));
    b.push_str(&sections::databases(r));
    b.push_str(&sections::caches(r));
    b.push_str(&sections::queues(r));
    b.push_str(&sections::cost(r));
    b.push_str(&charts_section(charts));
    let g = &r.engine;
    let _ = writeln!(
        b,
        "<footer>Engine: {} events in {:.2} s of wall time ({:.1} M events/s); the only figures that depend on the machine.</footer>",
        int(g.events),
        g.wall_time_s,
        g.events_per_sec / 1e6
    );
    page(&format!("{} — capsim run report", s.name), &b)
}
