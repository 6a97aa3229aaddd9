//! The run page's summary: headline cards and the request ledger.

use std::fmt::Write as _;

use models::Results;

use crate::fmt::{int, money, ms, pct};
use crate::html::page::{card, escape};
use crate::shared::{ledger, verdict_counts};

/// Headline figures of the run and the ledger of every request.
pub(crate) fn summary(r: &Results) -> String {
    let t = &r.totals;
    let o = &r.overall;
    let mut b = String::from("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
    card(
        &mut b,
        int(t.generated),
        "requests generated (whole run)",
        "",
    );
    card(
        &mut b,
        format!("{:.0}/s", o.throughput_rps),
        "ok responses, measured period",
        "",
    );
    card(
        &mut b,
        pct(o.error_rate),
        "errors (timeouts, rejections, failures in flight)",
        if o.errors > 0 { "bad" } else { "" },
    );
    card(
        &mut b,
        format!("{} ms", ms(o.latency.p99_ms)),
        "p99 latency, all endpoints",
        "",
    );
    card(&mut b, money(r.cost.per_hour), "cost per hour", "");
    if !r.objectives.is_empty() {
        let [holds, fails, _] = verdict_counts(&r.objectives);
        card(
            &mut b,
            format!("{holds} / {}", r.objectives.len()),
            "objectives hold on this run",
            if fails > 0 { "bad" } else { "good" },
        );
    }
    b.push_str("</div>\n");
    let _ = write!(
        b,
        "<p class=\"note\">Every request of the run: {}.</p>\n</section>\n",
        escape(&ledger(t))
    );
    b
}
