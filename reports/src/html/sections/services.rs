//! The services table, with a row per load balancer and the notes on
//! pods, sessions, health checks and rate limits under it.

use models::Results;

use crate::fmt::{int, ms, pct};
use crate::html::page::{Html, escape, n, t};
use crate::shared::component_notes;

/// One row per service and per load balancer, then the notes.
pub(crate) fn services(r: &Results) -> String {
    if r.services.is_empty() && r.load_balancers.is_empty() {
        return String::new();
    }
    let mut tb = Html::new(&[
        ("service", false),
        ("pods × workers", true),
        ("utilisation", true),
        ("queue mean", true),
        ("queue max", true),
        ("wait mean ms", true),
        ("rejected", true),
    ]);
    for s in &r.services {
        tb.row(
            "",
            &[
                t(escape(&s.name)),
                n(format!("{} × {}", s.replicas, s.concurrency)),
                n(pct(s.utilisation)),
                n(format!("{:.2}", s.queue_length_mean)),
                n(format!("{:.0}", s.queue_length_max)),
                n(ms(s.queue_wait_mean_ms)),
                n(if s.rejected > 0 {
                    format!("<span class=\"bad\">{}</span>", int(s.rejected))
                } else {
                    "0".into()
                }),
            ],
        );
    }
    for l in &r.load_balancers {
        tb.row(
            "",
            &[
                t(format!(
                    "{} <span class=\"note\">(load balancer, {})</span>",
                    escape(&l.name),
                    escape(&l.policy)
                )),
                n("-"),
                n("-"),
                n(format!("{:.2} in flight", l.in_flight_mean)),
                n(format!("{:.0} in flight", l.in_flight_max)),
                n("-"),
                n(if l.rejected > 0 {
                    format!("<span class=\"bad\">{}</span>", int(l.rejected))
                } else {
                    "0".into()
                }),
            ],
        );
    }
    let notes: String = component_notes(r)
        .iter()
        .map(|l| format!("<li>{}</li>\n", escape(l)))
        .collect();
    format!(
        "<section id=\"services\">\n<h2>Services</h2>\n<p class=\"note\">Utilisation = busy workers / all workers. Queue = requests waiting for a worker, all pods (time-average and largest). Wait = mean wait for a worker over every request that got one.</p>\n{}{}</section>\n",
        tb.finish(),
        if notes.is_empty() {
            String::new()
        } else {
            format!("<ul>\n{notes}</ul>\n")
        }
    )
}
