//! The queues table: partitions, consumers, lag and end-to-end latency.

use models::Results;

use crate::fmt::{int, ms, pct};
use crate::html::page::{Html, escape, n, t};

/// One row per queue.
pub(crate) fn queues(r: &Results) -> String {
    if r.queues.is_empty() {
        return String::new();
    }
    let mut tb = Html::new(&[
        ("queue", false),
        ("partitions", true),
        ("consumers", true),
        ("consumers busy", true),
        ("published", true),
        ("consumed", true),
        ("dropped", true),
        ("lag mean", true),
        ("lag max", true),
        ("lag at end", true),
        ("e2e p50 ms", true),
        ("e2e p99 ms", true),
    ]);
    for q in &r.queues {
        tb.row(
            "",
            &[
                t(escape(&q.name)),
                n(q.partitions.to_string()),
                n(format!("{} ({} active)", q.consumers, q.active_consumers)),
                n(pct(q.consumer_utilisation)),
                n(int(q.published)),
                n(int(q.consumed)),
                n(if q.dropped > 0 {
                    format!("<span class=\"bad\">{}</span>", int(q.dropped))
                } else {
                    "0".into()
                }),
                n(format!("{:.1}", q.lag_mean)),
                n(format!("{:.0}", q.lag_max)),
                n(int(q.lag_at_end)),
                n(ms(q.end_to_end.p50_ms)),
                n(ms(q.end_to_end.p99_ms)),
            ],
        );
    }
    format!(
        "<section id=\"queues\">\n<h2>Queues</h2>\n<p class=\"note\">Lag = messages published and not yet processed. e2e = end-to-end latency of a message, publish to processed. Consumers: in the group (those owning a partition); busy = mean busy fraction of the active ones.</p>\n{}</section>\n",
        tb.finish()
    )
}
